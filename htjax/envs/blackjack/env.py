"""The blackjack env: the contract's hooks over the rules (:mod:`~htjax.envs.blackjack.rules`).

Randomness: every step hashes the ``K`` words it may need from its key
(:func:`htjax.core.keys.random_words`, no threefry call); each card consumes one ``uint32``
(incremental Fisher-Yates, :mod:`htjax.core.cards`). A step pre-draws the cards its action may
take plus the dealer's first five hits into a draw plan and the rules take cards from a cursor
over it; the shoe is written once, with only the cards taken (the unused draws only reorder the
undealt part of the shoe, so later draws stay uniform and replay stays exact).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.env import Env, Params
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import random_words
from htjax.envs.blackjack import rules as R
from htjax.envs.blackjack.config import (
    PHASE_BET,
    PHASE_INSURANCE,
    PHASE_OVER,
    PHASE_PLAY,
    PHASE_SHOWDOWN,
    PLAY_LABELS,
    BlackjackConfig,
    cut_position,
)
from htjax.envs.blackjack.dealer import dealer_play
from htjax.envs.blackjack.observation import LAYOUT, OBS_SIZE, observe
from htjax.envs.blackjack.state import BlackjackState
from htjax.envs.blackjack.views import BlackjackViews

__all__ = ["Blackjack"]


class Blackjack(BlackjackViews, Env[BlackjackState, BlackjackConfig]):
    """Blackjack against a dealer for ``num_seats`` players sharing one shoe.

    * **Observation** ``float32[OBS_SIZE]`` for the seat observed; layout in
      :data:`~htjax.envs.blackjack.LAYOUT` and ``docs/envs/blackjack.md``.
    * **Actions** casino rules: ``STAND, HIT, DOUBLE, SPLIT, SURRENDER, INSURANCE,
      NO_INSURANCE`` then ``BET_BASE + i`` per ``bet_menu`` entry (when ``betting``); Gymnasium
      rules: exactly ``0 = stick, 1 = hit``. Illegal ones are masked; playing one anyway
      forfeits the most the seat could still lose (:func:`~htjax.envs.blackjack.rules.worst_loss`)
      plus the penalty.
    * **Reward** ``float32[num_seats]``: each seat's chip delta in bet units for the round
      (stakes lost or won, insurance included), on the step that settles the round; 0 otherwise.
    * **Episode** one round (``episode="round"``, a fresh shoe each time), a shoe
      (``"shoe"``: rounds until the cut card, or ``max_rounds`` = truncation) or a session
      (``"session"``: the shoe is reshuffled at the cut card; ends at ``max_rounds`` or when
      every seat is broke).
    * **Rule parameters** ``blackjack_payout`` and ``penetration`` (``env.params(...)``).

    Example::

        env = Blackjack(preset="gymnasium")
        state = env.init(jax.random.PRNGKey(0))
        state = env.step(state, HIT, jax.random.PRNGKey(1))
    """

    id = "blackjack"
    version = "v1"
    config_class = BlackjackConfig

    def __init__(
        self, config: BlackjackConfig | None = None, /, *, preset: str | None = None, **overrides: Any
    ):
        super().__init__(config, preset=preset, **overrides)
        cfg = self.config
        self.rules = R.Rules.from_config(cfg)
        # a finite shoe makes the state large enough for the branch to beat a select (Env docs)
        self.keep_by_branch = not cfg.infinite_deck
        n_action = 2 if cfg.max_hands > 1 else 1  # cards an action may take
        deal = self.rules.n_deal if cfg.betting else 0
        self._K_all = max(n_action + self.rules.M, deal)  # words a step's own draws may use
        self._K1 = max(n_action + self.rules.M_fast, deal)  # ... of which pre-drawn on every step
        self._K2 = self.rules.n_deal if (not cfg.betting and cfg.episode != "round") else 0
        gym = cfg.rules == "gymnasium"
        self._num_actions = 2 if gym else len(PLAY_LABELS) + (len(cfg.bet_menu) if cfg.betting else 0)

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        return self.rules.S

    @property
    def num_actions(self) -> int:
        return self._num_actions

    @property
    def action_labels(self) -> tuple[str, ...]:
        if self.rules.gym:
            return ("stick", "hit")
        if self.config.betting:
            return PLAY_LABELS + tuple(f"bet_{b}" for b in self.config.bet_menu)
        return PLAY_LABELS

    @property
    def hand_slots(self) -> int:
        """``C``: card slots per hand (the most cards a hand can hold under these rules)."""
        return self.rules.C

    @property
    def dealer_slots(self) -> int:
        """``D``: card slots of the dealer's hand."""
        return self.rules.D

    @property
    def cut_position(self) -> int:
        """Shoe position of the cut card under the config's ``penetration`` (0 when infinite)."""
        return 0 if self.config.infinite_deck else cut_position(self.rules.shoe_size, self.config.penetration)

    @property
    def observation_layout(self):
        """The observation's table of named slices (:data:`~htjax.envs.blackjack.LAYOUT`)."""
        return LAYOUT

    @property
    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``LAYOUT.bounds()``, with the bankroll's open upper bound closed at this config's
        most chips (:func:`~htjax.envs.blackjack.rules.most_chips`)."""
        low, high = LAYOUT.bounds()
        high[LAYOUT.slice("bankroll")] = R.most_chips(self.rules) / self.config.starting_bankroll
        return low, high

    # ------------------------------------------------------------------ episode start
    def init_with_deck(
        self, key: jax.Array, deck: cards.Deck, params: Params | None = None
    ) -> BlackjackState:
        """Start an episode on a given shoe, e.g. ``cards.stacked_deck([...], num_decks)``.

        The shoe must hold ``52 * num_decks`` cards; its ``position`` may be past 0 (cards
        already discarded). An infinite deck has no cards to stack: to replay a given card
        sequence under these rules, use the same config with ``infinite_deck=False`` (the
        rules do not depend on where cards come from).
        """
        size = self.rules.shoe_size
        if self.config.infinite_deck:
            raise InvalidArgumentError(
                "blackjack: an infinite deck cannot be stacked; use infinite_deck=False with num_decks=8 "
                "to replay a hand-built card sequence under the same rules"
            )
        if deck.cards.shape != (size,):
            raise InvalidArgumentError(
                f"blackjack: the shoe must hold {size} cards for this config, got {deck.cards.shape}"
            )
        if not isinstance(deck.position, jax.core.Tracer) and size - int(deck.position) < self.rules.n_deal:
            raise InvalidArgumentError(
                f"blackjack: the shoe has {size - int(deck.position)} cards left, "
                f"fewer than one deal needs ({self.rules.n_deal})"
            )
        deck = cards.Deck(
            cards=jnp.asarray(deck.cards, jnp.int8),
            position=jnp.asarray(deck.position, jnp.int32),
            stacked=jnp.asarray(deck.stacked, jnp.int32),
        )
        return self._finish(self._start(deck, key), params)

    def _init(self, key: jax.Array, params: Params) -> BlackjackState:
        deck = cards.infinite_deck() if self.config.infinite_deck else cards.new_deck(self.config.num_decks)
        return self._start(deck, key)

    def _start(self, deck: cards.Deck, key: jax.Array) -> BlackjackState:
        rules = self.rules
        S = rules.S
        t = BlackjackState(
            current_player=jnp.int32(0),
            observation=jnp.zeros(OBS_SIZE, jnp.float32),
            rewards=jnp.zeros(S, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=jnp.ones(self._num_actions, jnp.bool_),
            step_count=jnp.int32(0),
            **R.table_fields(rules, deck, jnp.full(S, float(self.config.starting_bankroll), jnp.float32)),
        )
        if not self.config.betting:
            t = R.post_bets(rules, t, jnp.bool_(True))
            plan = cards.predraw(t.deck, random_words(key, rules.n_deal))
            t, cursor = R.deal(rules, t, cards.Cursor(plan), jnp.bool_(True))
            t = t.replace(deck=cursor.commit(t.deck))
            t, over = R.open_round(rules, t, jnp.bool_(True))
            t = R.to_showdown(rules, t, over)
            t = t.replace(truncated=self._exhausted(t))
        return self._set_turn(t, t.current_player)

    # ------------------------------------------------------------------ step
    def _step(
        self, state: BlackjackState, action: jax.Array, key: jax.Array, params: Params
    ) -> BlackjackState:
        cfg, rules = self.config, self.rules
        start = cards.Cursor(cards.predraw(state.deck, random_words(key, self._K1)))
        phase0 = state.phase
        t = state
        # 1. the decision: a bet (the last one deals), insurance, or a play; a step either deals
        #    or plays a hand, never both, so both start from the first pre-drawn card
        open_now = peek_now = jnp.bool_(False)
        dealt = start
        if cfg.betting and not rules.gym:
            t, open_now = R.apply_bet(rules, t, action, phase0 == PHASE_BET)
            t, dealt = R.deal(rules, t, start, open_now)
        if cfg.insurance and not rules.gym:
            t, peek_now = R.apply_insurance(rules, t, action, phase0 == PHASE_INSURANCE)
        t, played, play_over = R.apply_play(rules, t, action, start, phase0 == PHASE_PLAY)
        cursor = cards.Cursor.choose(phase0 == PHASE_BET, dealt, played)
        # 2. the deal opens (insurance or peek), or insurance ends in the peek
        t, over_open = R.open_round(rules, t, open_now)
        t, over_peek = R.peek(rules, t, peek_now)
        round_over = play_over | over_open | over_peek | (phase0 == PHASE_SHOWDOWN)
        # 3. dealer and settlement
        t, deck = dealer_play(rules, t, cursor, round_over, key)
        t, rewards = R.settle(rules, t, round_over, params["blackjack_payout"])
        t = t.replace(deck=deck, rewards=rewards)
        exhausted = self._exhausted(t)
        # 4. end of episode, or the next round
        terminated, truncated = round_over, jnp.bool_(False)
        if cfg.episode != "round":
            broke = jnp.all(t.bankroll < rules.bets[0])
            if cfg.infinite_deck:
                cut = jnp.bool_(False)
            else:
                cut = deck.position >= cut_position(rules.shoe_size, params["penetration"])
            terminated = round_over & ((cut | broke) if cfg.episode == "shoe" else broke)
            truncated = round_over & ~terminated & (t.round_index >= cfg.max_rounds)
            nxt = round_over & ~terminated & ~truncated
            if cfg.episode == "session":
                # the shoe is reshuffled for the next round's deal; a session that ends here
                # keeps its final shoe as it is
                reshuffle = nxt & cut
                t = t.replace(
                    deck=R.where(reshuffle, cards.reshuffle(t.deck), t.deck),
                    running_count=jnp.where(reshuffle, 0, t.running_count),
                )
            t = R.clear_round(rules, t, nxt)
            if cfg.betting:
                _, first_s = R.first(t.bankroll >= rules.bets[0])
                t = t.replace(
                    phase=jnp.where(nxt, PHASE_BET, t.phase).astype(jnp.int32),
                    cursor=jnp.where(nxt, first_s, t.cursor),
                )
            else:
                plan = cards.predraw(t.deck, random_words(key, self._K2, start=self._K_all))
                t2 = R.post_bets(rules, t, nxt)
                t2, dealt2 = R.deal(rules, t2, cards.Cursor(plan), jnp.bool_(True))
                t2 = t2.replace(deck=dealt2.commit(t2.deck))
                t2, over2 = R.open_round(rules, t2, jnp.bool_(True))
                t2 = R.to_showdown(rules, t2, over2)
                t = R.where(nxt, t2, t)
        # a round that ran the shoe dry is void: stakes back, no reward, episode truncated
        if not cfg.infinite_deck:
            t = t.replace(
                bankroll=jnp.where(exhausted, R.chips(state), t.bankroll),
                rewards=jnp.where(exhausted, 0.0, t.rewards),
                deck=t.deck.replace(position=jnp.minimum(t.deck.position, rules.shoe_size)),
            )
            truncated = truncated | exhausted
            terminated = terminated & ~exhausted
        t = t.replace(terminated=terminated, truncated=truncated)
        return self._set_turn(t, state.current_player)

    def _exhausted(self, t: BlackjackState) -> jax.Array:
        """The step wanted more cards than the shoe held."""
        if self.config.infinite_deck:
            return jnp.bool_(False)
        return t.deck.position > self.rules.shoe_size

    def _set_turn(self, t: BlackjackState, actor: jax.Array) -> BlackjackState:
        phase = t.phase
        player = jnp.where(
            (phase == PHASE_BET) | (phase == PHASE_INSURANCE),
            t.cursor,
            jnp.where(phase == PHASE_OVER, actor, t.cursor // self.rules.H),
        ).astype(jnp.int32)
        return t.replace(current_player=player, legal_action_mask=R.legal_actions(self.rules, t))

    # ------------------------------------------------------------------ contract hooks
    def _observe(self, state: BlackjackState, player: jax.Array, params: Params) -> jax.Array:
        return observe(self.rules, state, player)

    def _forfeit(self, state: BlackjackState, offenders: jax.Array, params: Params) -> jax.Array:
        """An offender loses :func:`~htjax.envs.blackjack.rules.worst_loss`: at least every bet,
        double, split and insurance it could still put at stake in this episode."""
        return jnp.where(offenders, -R.worst_loss(self.rules, state), 0.0).astype(jnp.float32)
