"""Blackjack: HyperToken's casino rules for one to seven seats, and Gymnasium's ``Blackjack-v1``.

Rules (``rules="casino"``, the defaults; every field of :class:`BlackjackConfig` is described
in ``docs/envs/blackjack.md``): a 6-deck shoe, dealer stands on soft 17 (``dealer_hits_soft_17``
for H17), blackjack pays 3:2, insurance 2:1 when the dealer shows an ace, double on any first
two cards and after a split, split equal ranks up to 4 hands, optional late surrender, a bet
from a fixed menu before each deal, a bankroll, and a shoe that persists across rounds in the
``"shoe"`` and ``"session"`` episode modes, so counting cards pays. American rules: the dealer
takes a hole card and peeks for blackjack (after insurance) before any seat plays.

``rules="gymnasium"`` (preset ``"gymnasium"``) reproduces Gymnasium's ``Blackjack-v1``: an
infinite deck, stick (0) / hit (1), no peek, naturals not settled early, and its ``natural``
and ``sab`` flags.

Turn order: bets (seat 0, 1, ...), insurance decisions (dealer shows an ace), each seat plays
its hands in order, then the dealer plays out and the round settles inside the step that ends
the last decision. ``current_player`` is the seat to act. Rewards are chip deltas in bet units,
paid on the step that settles a round.

Randomness: every step hashes the ``K`` words it may need from its key
(:func:`htjax.core.keys.random_words`, no threefry call); each card consumes one ``uint32``
(incremental Fisher-Yates, :mod:`htjax.core.cards`). A step pre-draws the cards its action
may take plus the dealer's first five hits and keeps only as many as the rules use: the unused
draws only reorder the undealt part of the shoe, so later draws stay uniform and replay stays
exact. The dealer plays out from those cards in a short ``lax.scan``; the rare dealer that
needs more hits draws them in a :func:`~htjax.core.branching.rare_cond` branch, exactly as if
they had been pre-drawn (a batch runs it only when some world needs it).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.config import (
    ConfigError,
    EnvConfig,
    check_bool,
    check_choice,
    check_float,
    check_int,
)
from htjax.core.env import Env, InvalidActionError, State
from htjax.core.branching import rare_cond
from htjax.core.keys import key_data, random_words

__all__ = [
    "STAND",
    "STICK",
    "HIT",
    "DOUBLE",
    "SPLIT",
    "SURRENDER",
    "INSURANCE",
    "NO_INSURANCE",
    "BET_BASE",
    "PHASE_BET",
    "PHASE_INSURANCE",
    "PHASE_PLAY",
    "PHASE_SHOWDOWN",
    "PHASE_OVER",
    "PHASE_NAMES",
    "HAND_EMPTY",
    "HAND_PLAYING",
    "HAND_STOOD",
    "HAND_BUST",
    "HAND_SURRENDERED",
    "HAND_NATURAL",
    "OBS_SIZE",
    "OBSERVATION_LAYOUT",
    "BlackjackConfig",
    "BlackjackState",
    "Blackjack",
    "render_text",
    "classic_observation",
    "card_value",
    "hand_total",
]

# ---------------------------------------------------------------------------- action ids
STAND = 0
"""Stand (Gymnasium's ``stick``): the hand takes no more cards. Also the only action of a
``PHASE_SHOWDOWN`` turn."""
STICK = STAND
HIT = 1
DOUBLE = 2
SPLIT = 3
SURRENDER = 4
INSURANCE = 5
NO_INSURANCE = 6
BET_BASE = 7
"""Action ``BET_BASE + i`` bets ``bet_menu[i]`` units (casino rules with ``betting=True``)."""

_PLAY_LABELS = ("stand", "hit", "double", "split", "surrender", "insurance", "no_insurance")

# ---------------------------------------------------------------------------- phases
PHASE_BET = 0
"""Seat ``current_player`` chooses its bet; cards are dealt after the last seat's bet."""
PHASE_INSURANCE = 1
"""The dealer shows an ace; seat ``current_player`` takes or declines insurance."""
PHASE_PLAY = 2
"""Seat ``current_player`` plays its hand ``active_hand``."""
PHASE_SHOWDOWN = 3
"""A round dealt without a decision left (dealer blackjack, or only naturals), dealt where
no reward can be paid (at ``init`` or right after the previous round settled): its first seat's
only legal action is ``STAND``, which settles the round."""
PHASE_OVER = 4
"""The round is settled (the final state of an episode)."""
PHASE_NAMES = ("bet", "insurance", "play", "showdown", "over")

# ---------------------------------------------------------------------------- hand status
HAND_EMPTY = 0
HAND_PLAYING = 1
HAND_STOOD = 2
HAND_BUST = 3
HAND_SURRENDERED = 4
HAND_NATURAL = 5
_STATUS_NAMES = ("", "playing", "stood", "bust", "surrendered", "blackjack")

_ACE_RANK = 12
_DEALER_HITS_PREDRAWN = 5
_DOUBLE_RULES = ("any", "9-11", "10-11", "none")
_EPISODES = ("round", "shoe", "session")
_RULES = ("casino", "gymnasium")


# ============================================================================ config
@dataclasses.dataclass(frozen=True)
class BlackjackConfig(EnvConfig):
    """Rules of a blackjack table (frozen, hashable, validated at construction).

    See ``docs/envs/blackjack.md`` for every field. Money (``bet_menu``,
    ``starting_bankroll``, rewards) is in bet units.
    """

    PRESETS = {
        "casino": {},
        "gymnasium": {
            "rules": "gymnasium",
            "num_seats": 1,
            "infinite_deck": True,
            "insurance": False,
            "double_on": "none",
            "max_hands": 1,
            "late_surrender": False,
            "betting": False,
            "bet_menu": (1,),
        },
    }

    rules: str = "casino"
    num_seats: int = 1
    num_decks: int = 6
    infinite_deck: bool = False
    penetration: float = 0.75
    dealer_hits_soft_17: bool = False
    blackjack_payout: float = 1.5
    insurance: bool = True
    double_on: str = "any"
    double_after_split: bool = True
    max_hands: int = 4
    resplit_aces: bool = False
    hit_split_aces: bool = False
    split_any_tens: bool = False
    late_surrender: bool = False
    betting: bool = True
    bet_menu: tuple = (1, 2, 5, 10, 25)
    starting_bankroll: int = 100
    episode: str = "round"
    max_rounds: int = 100
    natural: bool = False
    sab: bool = False

    def validate(self) -> None:
        check_choice("rules", self.rules, _RULES)
        check_int("num_seats", self.num_seats, 1, 7)
        check_int("num_decks", self.num_decks, 1, 8)
        check_bool("infinite_deck", self.infinite_deck)
        check_float("penetration", self.penetration, 0.05, 1.0)
        check_bool("dealer_hits_soft_17", self.dealer_hits_soft_17)
        check_float("blackjack_payout", self.blackjack_payout, 0.0, 10.0)
        check_bool("insurance", self.insurance)
        check_choice("double_on", self.double_on, _DOUBLE_RULES)
        check_bool("double_after_split", self.double_after_split)
        check_int("max_hands", self.max_hands, 1, 4)
        check_bool("resplit_aces", self.resplit_aces)
        check_bool("hit_split_aces", self.hit_split_aces)
        check_bool("split_any_tens", self.split_any_tens)
        check_bool("late_surrender", self.late_surrender)
        check_bool("betting", self.betting)
        menu = self.bet_menu
        if not isinstance(menu, tuple) or not menu:
            raise ConfigError(f"config field 'bet_menu' must be a non-empty tuple of ints, got {menu!r}")
        for i, b in enumerate(menu):
            check_int(f"bet_menu[{i}]", b, 1, 1_000_000)
        if any(b >= c for b, c in zip(menu, menu[1:])):
            raise ConfigError(f"config field 'bet_menu' must be strictly increasing, got {menu!r}")
        if len(menu) > 32:
            raise ConfigError(f"config field 'bet_menu' may hold at most 32 bets, got {len(menu)}")
        check_int("starting_bankroll", self.starting_bankroll, 1, 1_000_000_000)
        if self.starting_bankroll < menu[0]:
            raise ConfigError(
                f"config field 'starting_bankroll' ({self.starting_bankroll}) must cover the smallest "
                f"bet bet_menu[0] = {menu[0]}"
            )
        check_choice("episode", self.episode, _EPISODES)
        check_int("max_rounds", self.max_rounds, 1, 10_000_000)
        check_bool("natural", self.natural)
        check_bool("sab", self.sab)
        if self.rules == "gymnasium":
            for name, ok_value in (
                ("insurance", False),
                ("double_on", "none"),
                ("max_hands", 1),
                ("late_surrender", False),
                ("betting", False),
            ):
                if getattr(self, name) != ok_value:
                    raise ConfigError(
                        f"config field {name!r} must be {ok_value!r} with rules='gymnasium' "
                        f"(Blackjack-v1 has only stick and hit), got {getattr(self, name)!r}"
                    )
        else:
            for name in ("natural", "sab"):
                if getattr(self, name):
                    raise ConfigError(
                        f"config field {name!r} is a Gymnasium Blackjack-v1 flag; it needs rules='gymnasium'"
                    )
        if not self.infinite_deck and self.episode != "round":
            shoe = 52 * self.num_decks
            if shoe - _cut_position(shoe, self.penetration) < 2 * (self.num_seats + 1):
                raise ConfigError(
                    f"config field 'penetration' ({self.penetration}) leaves fewer cards behind the cut "
                    f"card than one deal to {self.num_seats} seat(s) and the dealer needs"
                )


def _cut_position(shoe_size: int, penetration: float) -> int:
    return int(round(shoe_size * penetration))


# ============================================================================ state
@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class BlackjackState(State):
    """Blackjack state. ``S`` seats, ``H = max_hands``, ``NH = S * H`` hand slots (hand ``h`` of
    seat ``s`` is slot ``s * H + h``), ``C`` card slots per hand, ``D`` dealer card slots.

    Attributes:
      deck: the shoe (:class:`htjax.core.cards.Deck`); ``cards[:round_start]`` are discards,
        ``cards[round_start:position]`` are on the table (finite shoes).
      round_start: ``int32[]`` shoe position at this round's deal.
      phase: ``int32[]`` one of ``PHASE_*``.
      cursor: ``int32[]`` seat to act (bet, insurance) or hand slot to act (play, showdown).
      hand_cards: ``int8[NH, C]`` cards of each hand in order, ``NO_CARD`` past the end.
      hand_size: ``int32[NH]`` number of cards.
      hand_hard: ``int32[NH]`` total counting aces as 1.
      hand_ace: ``bool[NH]`` the hand holds an ace.
      hand_status: ``int32[NH]`` one of ``HAND_*``.
      hand_bet: ``float32[NH]`` stake on the hand (doubled after a double).
      hand_doubled: ``bool[NH]``.
      hand_split_ace: ``bool[NH]`` the hand began as a split ace.
      num_hands: ``int32[S]`` hands of each seat this round (0 = sitting out).
      seat_bet: ``float32[S]`` each seat's wager for the round (0 = sitting out).
      insurance: ``float32[S]`` insurance stake.
      bankroll: ``float32[S]`` chips not on the table.
      dealer_cards: ``int8[D]``; ``dealer_cards[1]`` is the hole card.
      dealer_size, dealer_hard: ``int32[]``; dealer_ace, dealer_revealed: ``bool[]``.
      running_count: ``int32[]`` Hi-Lo count of the cards seen face up since the last shuffle.
      round_index: ``int32[]`` rounds settled in this episode.
    """

    deck: cards.Deck
    round_start: jax.Array
    phase: jax.Array
    cursor: jax.Array
    hand_cards: jax.Array
    hand_size: jax.Array
    hand_hard: jax.Array
    hand_ace: jax.Array
    hand_status: jax.Array
    hand_bet: jax.Array
    hand_doubled: jax.Array
    hand_split_ace: jax.Array
    num_hands: jax.Array
    seat_bet: jax.Array
    insurance: jax.Array
    bankroll: jax.Array
    dealer_cards: jax.Array
    dealer_size: jax.Array
    dealer_hard: jax.Array
    dealer_ace: jax.Array
    dealer_revealed: jax.Array
    running_count: jax.Array
    round_index: jax.Array


# ============================================================================ card math
def card_value(card: jax.Array) -> jax.Array:
    """Blackjack value of ``card`` (``int32``): 2..10 for 2..K, 1 for an ace, 0 for ``NO_CARD``."""
    c = jnp.asarray(card).astype(jnp.int32)
    rank = c >> 2
    v = jnp.where(rank == _ACE_RANK, 1, jnp.minimum(rank + 2, 10))
    return jnp.where(c >= 0, v, 0)


def _is_ace(card: jax.Array) -> jax.Array:
    return jnp.asarray(card).astype(jnp.int32) >= _ACE_RANK * 4


def _hilo(card: jax.Array) -> jax.Array:
    """Hi-Lo tag: +1 for 2..6, 0 for 7..9, -1 for tens and aces, 0 for ``NO_CARD``."""
    c = jnp.asarray(card).astype(jnp.int32)
    rank = c >> 2
    tag = jnp.where(rank <= 4, 1, jnp.where(rank >= 8, -1, 0))
    return jnp.where(c >= 0, tag, 0)


def _best(hard: jax.Array, ace: jax.Array) -> jax.Array:
    return hard + jnp.where(ace & (hard <= 11), 10, 0)


def _soft(hard: jax.Array, ace: jax.Array) -> jax.Array:
    return ace & (hard <= 11)


def hand_total(hand: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(best total, soft)`` of ``int8[..., n]`` cards (``NO_CARD`` ignored)."""
    hard = jnp.sum(card_value(hand), axis=-1)
    ace = jnp.any(_is_ace(hand) & (jnp.asarray(hand) >= 0), axis=-1)
    return _best(hard, ace), _soft(hard, ace)


def _first(mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(any, index of the first True)`` of a bool vector."""
    return jnp.any(mask), jnp.argmax(mask).astype(jnp.int32)


def _at(arr: jax.Array, i: jax.Array) -> jax.Array:
    """``arr[i]`` along the first axis; a static index when that axis has length 1."""
    return arr[0] if arr.shape[0] == 1 else arr[i]


def _set(arr: jax.Array, i: jax.Array, value: jax.Array) -> jax.Array:
    """``arr.at[i].set(value)``; a plain broadcast when the first axis has length 1."""
    if arr.shape[0] == 1:
        return jnp.broadcast_to(jnp.asarray(value, arr.dtype), arr.shape[1:])[None]
    return arr.at[i].set(jnp.asarray(value, arr.dtype))


def _add(arr: jax.Array, i: jax.Array, value: jax.Array) -> jax.Array:
    return _set(arr, i, _at(arr, i) + value)


def _max_cards(num_decks: int, infinite: bool, can_draw) -> int:
    """Most cards one hand can ever hold, by exhaustive search over card values.

    ``can_draw(hard, ace, n)`` says whether a hand of ``n`` (capped at 2) cards may take another.
    """
    counts = (4 * num_decks,) * 9 + (16 * num_decks,)

    @functools.cache
    def most(hard: int, ace: bool, n: int, used: tuple) -> int:
        if not can_draw(hard, ace, n):
            return 0
        best = 0
        for v in range(1, 11):
            if not infinite and used[v - 1] >= counts[v - 1]:
                continue
            nxt = used if infinite else used[: v - 1] + (used[v - 1] + 1,) + used[v:]
            best = max(best, 1 + most(hard + v, ace or v == 1, min(n + 1, 2), nxt))
        return best

    return most(0, False, 0, (0,) * 10)


def _py_best(hard: int, ace: bool) -> int:
    return hard + 10 if ace and hard <= 11 else hard


# ============================================================================ env
class Blackjack(Env[BlackjackState, BlackjackConfig]):
    """Blackjack against a dealer for ``num_seats`` players sharing one shoe.

    * **Observation** ``float32[OBS_SIZE]`` for the seat observed; layout in
      :data:`OBSERVATION_LAYOUT` and ``docs/envs/blackjack.md``.
    * **Actions** casino rules: ``STAND, HIT, DOUBLE, SPLIT, SURRENDER, INSURANCE,
      NO_INSURANCE`` then ``BET_BASE + i`` per ``bet_menu`` entry (when ``betting``); Gymnasium
      rules: exactly ``0 = stick, 1 = hit``. Illegal ones are masked.
    * **Reward** ``float32[num_seats]``: each seat's chip delta in bet units for the round
      (stakes lost or won, insurance included), on the step that settles the round; 0 otherwise.
    * **Episode** one round (``episode="round"``, a fresh shoe each time), a shoe
      (``"shoe"``: rounds until the cut card, or ``max_rounds`` = truncation) or a session
      (``"session"``: the shoe is reshuffled at the cut card; ends at ``max_rounds`` or when
      every seat is broke).

    Example::

        env = Blackjack(preset="gymnasium")
        state = env.init(jax.random.PRNGKey(0))
        state = env.step(state, HIT, jax.random.PRNGKey(1))
    """

    id = "blackjack"
    version = "v0"
    config_class = BlackjackConfig

    def __init__(
        self, config: BlackjackConfig | None = None, /, *, preset: str | None = None, **overrides: Any
    ):
        super().__init__(config, preset=preset, **overrides)
        cfg = self.config
        self._gym = cfg.rules == "gymnasium"
        # a finite shoe makes the state large enough for the branch to beat a select (Env docs)
        self.keep_by_branch = not cfg.infinite_deck
        self._S = cfg.num_seats
        self._H = cfg.max_hands
        self._NH = self._S * self._H
        decks = 1 if cfg.infinite_deck else cfg.num_decks
        self._shoe_size = 0 if cfg.infinite_deck else 52 * cfg.num_decks
        self._cut = 0 if cfg.infinite_deck else _cut_position(self._shoe_size, cfg.penetration)
        gym, h17 = self._gym, cfg.dealer_hits_soft_17

        def player_rule(h: int, a: bool, n: int) -> bool:
            # Blackjack-v1 lets you hit a 21; at the casino table 21 stands
            return n < 2 or (h <= 21 if gym else _py_best(h, a) < 21)

        def dealer_rule(h: int, a: bool, n: int) -> bool:
            best = _py_best(h, a)
            return n < 2 or best < 17 or (h17 and a and h <= 11 and best == 17)

        self._C = _max_cards(decks, cfg.infinite_deck, player_rule)
        self._D = _max_cards(decks, cfg.infinite_deck, dealer_rule)
        self._M = self._D - 2  # most dealer hits
        # hits pre-drawn on every step; a play-out that needs more (about 2e-5 of them) draws
        # the rest in a rare branch (see _dealer_play)
        self._M_fast = min(self._M, _DEALER_HITS_PREDRAWN)
        self._n_deal = 2 * (self._S + 1)
        n_action = 2 if self._H > 1 else 1
        deal = self._n_deal if cfg.betting else 0
        self._K_all = max(n_action + self._M, deal)  # words a step's own draws may use
        self._K1 = max(n_action + self._M_fast, deal)  # ... of which pre-drawn on every step
        self._K2 = self._n_deal if (not cfg.betting and cfg.episode != "round") else 0
        self._bets = np.asarray(cfg.bet_menu, np.float32)
        self._num_actions = 2 if self._gym else len(_PLAY_LABELS) + (len(cfg.bet_menu) if cfg.betting else 0)

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        return self._S

    @property
    def num_actions(self) -> int:
        return self._num_actions

    @property
    def action_labels(self) -> tuple[str, ...]:
        if self._gym:
            return ("stick", "hit")
        labels = _PLAY_LABELS
        if self.config.betting:
            labels = labels + tuple(f"bet_{b}" for b in self.config.bet_menu)
        return labels

    @property
    def hand_slots(self) -> int:
        """``C``: card slots per hand (the most cards a hand can hold under these rules)."""
        return self._C

    @property
    def dealer_slots(self) -> int:
        """``D``: card slots of the dealer's hand."""
        return self._D

    @property
    def cut_position(self) -> int:
        """Shoe position of the cut card (``penetration * shoe size``; never reached when infinite)."""
        return self._cut

    # ------------------------------------------------------------------ episode start
    def init_with_deck(self, key: jax.Array, deck: cards.Deck) -> BlackjackState:
        """Start an episode on a given shoe, e.g. ``cards.stacked_deck([...], num_decks)``.

        The shoe must hold ``52 * num_decks`` cards; its ``position`` may be past 0 (cards
        already discarded). An infinite deck has no cards to stack: to replay a given card
        sequence under these rules, use the same config with ``infinite_deck=False`` (the
        rules do not depend on where cards come from).
        """
        if self.config.infinite_deck:
            raise ValueError(
                "blackjack: an infinite deck cannot be stacked; use infinite_deck=False with num_decks=8 "
                "to replay a hand-built card sequence under the same rules"
            )
        if deck.cards.shape != (self._shoe_size,):
            raise ValueError(
                f"blackjack: the shoe must hold {self._shoe_size} cards for this config, "
                f"got {deck.cards.shape}"
            )
        if not isinstance(deck.position, jax.core.Tracer):
            if self._shoe_size - int(deck.position) < self._n_deal:
                raise ValueError(
                    f"blackjack: the shoe has {self._shoe_size - int(deck.position)} cards left, "
                    f"fewer than one deal needs ({self._n_deal})"
                )
        deck = cards.Deck(
            cards=jnp.asarray(deck.cards, jnp.int8),
            position=jnp.asarray(deck.position, jnp.int32),
            stacked=jnp.asarray(deck.stacked, jnp.int32),
        )
        return self._finish(self._start(deck, key))

    def _init(self, key: jax.Array, params) -> BlackjackState:
        if self.config.infinite_deck:
            deck = cards.Deck(cards=jnp.zeros(0, jnp.int8), position=jnp.int32(0), stacked=jnp.int32(0))
        else:
            deck = cards.new_deck(self.config.num_decks)
        return self._start(deck, key)

    def _empty(self, deck: cards.Deck) -> BlackjackState:
        S, NH = self._S, self._NH
        zf = jnp.zeros(NH, jnp.float32)
        return BlackjackState(
            current_player=jnp.int32(0),
            observation=jnp.zeros(OBS_SIZE, jnp.float32),
            rewards=jnp.zeros(S, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=jnp.ones(self._num_actions, jnp.bool_),
            step_count=jnp.int32(0),
            deck=deck,
            round_start=deck.position,
            phase=jnp.int32(PHASE_BET),
            cursor=jnp.int32(0),
            hand_cards=jnp.full((NH, self._C), cards.NO_CARD, jnp.int8),
            hand_size=jnp.zeros(NH, jnp.int32),
            hand_hard=jnp.zeros(NH, jnp.int32),
            hand_ace=jnp.zeros(NH, jnp.bool_),
            hand_status=jnp.zeros(NH, jnp.int32),
            hand_bet=zf,
            hand_doubled=jnp.zeros(NH, jnp.bool_),
            hand_split_ace=jnp.zeros(NH, jnp.bool_),
            num_hands=jnp.zeros(S, jnp.int32),
            seat_bet=jnp.zeros(S, jnp.float32),
            insurance=jnp.zeros(S, jnp.float32),
            bankroll=jnp.full(S, float(self.config.starting_bankroll), jnp.float32),
            dealer_cards=jnp.full(self._D, cards.NO_CARD, jnp.int8),
            dealer_size=jnp.int32(0),
            dealer_hard=jnp.int32(0),
            dealer_ace=jnp.bool_(False),
            dealer_revealed=jnp.bool_(False),
            running_count=jnp.int32(0),
            round_index=jnp.int32(0),
        )

    def _start(self, deck: cards.Deck, key: jax.Array) -> BlackjackState:
        t = self._empty(deck)
        if self.config.betting:
            t = t.replace(phase=jnp.int32(PHASE_BET), cursor=jnp.int32(0))
        else:
            bits = random_words(key, self._n_deal)
            seq, plan = self._draw(t.deck, bits)
            t = self._post_bets(t, jnp.bool_(True))
            t, used = self._deal(t, seq, jnp.bool_(True))
            t = t.replace(
                deck=t.deck.replace(
                    cards=self._commit(t.deck.cards, plan, used), position=t.deck.position + used
                )
            )
            t, over = self._open(t, jnp.bool_(True))
            t = self._to_showdown(t, over)
            exhausted = self._exhausted(t)
            t = t.replace(truncated=exhausted)
        return self._set_turn(t, t.current_player)

    # ------------------------------------------------------------------ drawing
    def _draw(self, deck: cards.Deck, bits: jax.Array):
        """Pre-draw ``len(bits)`` cards from ``deck.position`` on (incremental Fisher-Yates).

        Returns ``(cards, plan)``: ``cards`` is ``int8[len(bits)]`` in draw order (``NO_CARD``
        past the end of a finite shoe) and ``_commit(deck.cards, plan, used)`` gives the shoe
        array after the swaps of the first ``used`` draws, i.e. exactly as if only those cards
        had been drawn; the caller advances ``position`` by ``used``. Draw ``k`` uses
        ``bits[k]`` and depends only on the draws before it, so drawing ``n`` cards and keeping
        ``u`` is the same as drawing ``u``, and a later draw from the committed shoe continues
        the same sequence.

        The swap targets depend only on the bits, so the shoe is read with two small gathers
        (the next ``n`` slots and the ``n`` swap targets), the swaps are resolved elementwise
        over pairs of draws, and the shoe is written with one scatter: no per-card pass over
        the whole shoe.
        """
        n = bits.shape[0]
        size = self._shoe_size
        if self.config.infinite_deck:  # with replacement: uniform over the 52 cards
            return (bits % jnp.uint32(cards.DECK_SIZE)).astype(jnp.int8), {}
        pos = deck.position
        k_idx = jnp.arange(n, dtype=jnp.int32)
        p = pos + k_idx
        live = p < size  # draws past the end find no card and swap nothing
        left = jnp.maximum(size - p, 1).astype(jnp.uint32)
        j = jnp.where(p < deck.stacked, p, p + (bits % left).astype(jnp.int32))
        jc = jnp.minimum(j, size - 1)
        d = jc - pos  # draw k swaps shoe offsets k and d[k] >= k (from the position on)
        window = deck.cards[jnp.minimum(p, size - 1)]  # the shoe's own cards at offsets 0..n-1
        far = deck.cards[jc]  # ... and at the swap targets
        # Only earlier draws' d-writes can land on offset k or on d[k]: the card at offset k when
        # draw k happens is the card that was at offset e when the last earlier draw e with
        # d[e] == k happened (else the shoe's own card), and the drawn card is likewise the card
        # at offset e for the last earlier e with d[e] == d[k]. The pairs (e < k) are unrolled
        # as elementwise selects, which XLA fuses into one pass: no loop over the draws, no
        # pass over the shoe, and about n^2 / 2 compares per draw batch.
        dk = [d[k] for k in range(n)]
        at_p: list[jax.Array] = []  # card at offset k when draw k happens
        drawn_list: list[jax.Array] = []
        next_j: list[jax.Array] = []  # next live draw after k aiming at d[k] (n if none)
        for k in range(n):
            a = window[k]
            c = far[k]
            for e in range(k):
                a = jnp.where(dk[e] == k, at_p[e], a)
                c = jnp.where(dk[e] == dk[k], at_p[e], c)
            at_p.append(a)
            drawn_list.append(c)
            nxt = jnp.int32(n)
            for e in range(n - 1, k, -1):
                nxt = jnp.where(live[e] & (dk[e] == dk[k]), e, nxt)
            next_j.append(nxt)
        drawn_card = jnp.stack(drawn_list)
        plan = dict(
            p=p, live=live, d=d, jc=jc, drawn=drawn_card, at_p=jnp.stack(at_p), next_j=jnp.stack(next_j)
        )
        return jnp.where(live, drawn_card, jnp.int8(cards.NO_CARD)).astype(jnp.int8), plan

    def _commit(self, shoe: jax.Array, plan: dict, used: jax.Array) -> jax.Array:
        """The shoe array ``shoe`` after the first ``used`` draws of ``plan`` (see :meth:`_draw`)."""
        if not plan:  # infinite deck: nothing to write
            return shoe
        n = plan["p"].shape[0]
        # After the first `used` draws, offset k < used holds drawn card k, and a target slot
        # beyond them holds what the last draw aiming at it put there; these writes never
        # collide, so one scatter of distinct positions suffices.
        active = (jnp.arange(n) < used) & plan["live"]
        moved = active & (plan["d"] >= used) & (plan["next_j"] >= used)
        off = self._shoe_size + jnp.arange(2 * n, dtype=jnp.int32)  # distinct out-of-range slots: dropped
        where = jnp.concatenate(
            [jnp.where(active, plan["p"], off[:n]), jnp.where(moved, plan["jc"], off[n:])]
        )
        values = jnp.concatenate([plan["drawn"], plan["at_p"]]).astype(jnp.int8)
        return shoe.at[where].set(values, mode="drop", unique_indices=True)

    def _exhausted(self, t: BlackjackState) -> jax.Array:
        if self.config.infinite_deck:
            return jnp.bool_(False)
        return t.deck.position > self._shoe_size

    # ------------------------------------------------------------------ stages
    def _post_bets(self, t: BlackjackState, on: jax.Array) -> BlackjackState:
        """Without betting: every seat that can afford ``bet_menu[0]`` stakes it."""
        if self.config.betting:
            return t
        bet0 = float(self.config.bet_menu[0])
        stake = jnp.where(on & (t.bankroll >= bet0), bet0, 0.0).astype(jnp.float32)
        return t.replace(seat_bet=jnp.where(on, stake, t.seat_bet), bankroll=t.bankroll - stake)

    def _deal(self, t: BlackjackState, seq: jax.Array, on: jax.Array):
        """Deal two cards to every seat with a bet and to the dealer (seat cards, up-card, seat
        cards, hole card), from ``seq[:n_deal]``. Returns ``(state, cards used)``."""
        S, H, NH = self._S, self._H, self._NH
        in_round = t.seat_bet > 0
        order = jnp.cumsum(in_round.astype(jnp.int32)) - 1
        n_in = jnp.sum(in_round.astype(jnp.int32))
        first = seq[: self._n_deal]
        if S == 1:  # a lone seat is always in the round when cards are dealt
            c1, up, c2, hole = first[0:1], first[1], first[2:3], first[3]
        else:
            c1 = first[jnp.clip(order, 0, S)]
            c2 = first[jnp.clip(n_in + 1 + order, 0, 2 * S + 1)]
            up = first[n_in]
            hole = first[2 * n_in + 1]
        slot_seat = jnp.arange(NH) // H
        is_first = (jnp.arange(NH) % H == 0) & in_round[slot_seat]
        h1 = jnp.where(is_first, jnp.repeat(c1, H, total_repeat_length=NH), cards.NO_CARD).astype(jnp.int8)
        h2 = jnp.where(is_first, jnp.repeat(c2, H, total_repeat_length=NH), cards.NO_CARD).astype(jnp.int8)
        rows = jnp.concatenate(
            [h1[:, None], h2[:, None], jnp.full((NH, self._C - 2), cards.NO_CARD, jnp.int8)], axis=1
        )
        hard = card_value(h1) + card_value(h2)
        ace = (_is_ace(h1) & (h1 >= 0)) | (_is_ace(h2) & (h2 >= 0))
        natural = (_best(hard, ace) == 21) & (not self._gym)
        status = jnp.where(is_first, jnp.where(natural, HAND_NATURAL, HAND_PLAYING), HAND_EMPTY)
        dealer = jnp.concatenate([jnp.stack([up, hole]), jnp.full(self._D - 2, cards.NO_CARD, jnp.int8)])
        seen = jnp.sum(jnp.where(in_round, _hilo(c1) + _hilo(c2), 0)) + _hilo(up)
        dealt = t.replace(
            round_start=t.deck.position,
            hand_cards=rows,
            hand_size=jnp.where(is_first, 2, 0).astype(jnp.int32),
            hand_hard=hard,
            hand_ace=ace,
            hand_status=status.astype(jnp.int32),
            hand_bet=jnp.where(is_first, jnp.repeat(t.seat_bet, H, total_repeat_length=NH), 0.0).astype(
                jnp.float32
            ),
            hand_doubled=jnp.zeros(NH, jnp.bool_),
            hand_split_ace=jnp.zeros(NH, jnp.bool_),
            num_hands=in_round.astype(jnp.int32),
            insurance=jnp.zeros(S, jnp.float32),
            dealer_cards=dealer,
            dealer_size=jnp.int32(2),
            dealer_hard=card_value(up) + card_value(hole),
            dealer_ace=_is_ace(up) | _is_ace(hole),
            dealer_revealed=jnp.bool_(False),
            running_count=t.running_count + jnp.where(self.config.infinite_deck, 0, seen),
        )
        return _where(on, dealt, t), jnp.where(on, 2 * n_in + 2, 0).astype(jnp.int32)

    def _insurance_eligible(self, t: BlackjackState) -> jax.Array:
        return (t.seat_bet > 0) & (t.bankroll >= 0.5 * t.seat_bet)

    def _open(self, t: BlackjackState, on: jax.Array):
        """After a deal: offer insurance, or peek. Returns ``(state, round_over)``."""
        if self.config.insurance and not self._gym:
            eligible = self._insurance_eligible(t)
            any_e, first_e = _first(eligible)
            offer = on & _is_ace(t.dealer_cards[0]) & any_e
            t = t.replace(
                phase=jnp.where(offer, PHASE_INSURANCE, t.phase).astype(jnp.int32),
                cursor=jnp.where(offer, first_e, t.cursor),
            )
            return self._peek(t, on & ~offer)
        return self._peek(t, on)

    def _peek(self, t: BlackjackState, on: jax.Array):
        """Dealer checks for blackjack (casino rules), then play starts. Returns
        ``(state, round_over)``: dealer blackjack, or no hand left to play."""
        dealer_bj = (t.dealer_size == 2) & (_best(t.dealer_hard, t.dealer_ace) == 21)
        bj = on & dealer_bj & (not self._gym)
        any_p, first_p = _first(t.hand_status == HAND_PLAYING)
        start_play = on & ~bj & any_p
        t = t.replace(
            phase=jnp.where(start_play, PHASE_PLAY, t.phase).astype(jnp.int32),
            cursor=jnp.where(start_play, first_p, t.cursor),
        )
        return t, on & ~start_play

    def _to_showdown(self, t: BlackjackState, over: jax.Array) -> BlackjackState:
        """A round with no decision left, dealt where no reward can be paid, waits for one STAND."""
        _, first_in = _first(t.seat_bet > 0)
        dealer_bj = (t.dealer_size == 2) & (_best(t.dealer_hard, t.dealer_ace) == 21)
        reveal = over & dealer_bj
        return t.replace(
            phase=jnp.where(over, PHASE_SHOWDOWN, t.phase).astype(jnp.int32),
            cursor=jnp.where(over, first_in * self._H, t.cursor),
            dealer_revealed=t.dealer_revealed | reveal,
            running_count=t.running_count
            + jnp.where(reveal & ~t.dealer_revealed, self._count(t.dealer_cards[1]), 0),
        )

    def _count(self, card: jax.Array) -> jax.Array:
        return jnp.int32(0) if self.config.infinite_deck else _hilo(card)

    def _apply_bet(self, t: BlackjackState, action: jax.Array, on: jax.Array):
        seat = t.cursor
        amount = jnp.asarray(self._bets)[jnp.clip(action - BET_BASE, 0, len(self._bets) - 1)]
        amount = jnp.where(on, amount, 0.0)
        bankroll = _add(t.bankroll, seat, -amount)
        seat_bet = _add(t.seat_bet, seat, amount)
        solvent = bankroll >= self._bets[0]
        more, nxt = _first(solvent & (jnp.arange(self._S) > seat))
        t = t.replace(bankroll=bankroll, seat_bet=seat_bet, cursor=jnp.where(on & more, nxt, t.cursor))
        return t, on & ~more

    def _apply_insurance(self, t: BlackjackState, action: jax.Array, on: jax.Array):
        seat = t.cursor
        take = on & (action == INSURANCE)
        stake = jnp.where(take, 0.5 * _at(t.seat_bet, seat), 0.0)
        more, nxt = _first(self._insurance_eligible(t) & (jnp.arange(self._S) > seat))
        t = t.replace(
            insurance=_add(t.insurance, seat, stake),
            bankroll=_add(t.bankroll, seat, -stake),
            cursor=jnp.where(on & more, nxt, t.cursor),
        )
        return t, on & ~more

    def _hand_options(self, t: BlackjackState, i: jax.Array):
        """``(hit, double, split, surrender)`` legality of hand slot ``i`` (``bool[]`` each)."""
        cfg = self.config
        seat = i // self._H
        playing = _at(t.hand_status, i) == HAND_PLAYING
        if self._gym:
            f = jnp.bool_(False)
            return playing, f, f, f
        size = _at(t.hand_size, i)
        two = size == 2
        split_hand = _at(t.num_hands, seat) > 1
        afford = _at(t.bankroll, seat) >= _at(t.hand_bet, i)
        one_card = _at(t.hand_split_ace, i) & (not cfg.hit_split_aces)
        hit = playing & ~one_card
        best = _best(_at(t.hand_hard, i), _at(t.hand_ace, i))
        if cfg.double_on == "any":
            dbl_rule = jnp.bool_(True)
        elif cfg.double_on == "9-11":
            dbl_rule = (best >= 9) & (best <= 11)
        elif cfg.double_on == "10-11":
            dbl_rule = (best >= 10) & (best <= 11)
        else:
            dbl_rule = jnp.bool_(False)
        das = jnp.bool_(cfg.double_after_split) | ~split_hand
        dbl = playing & two & dbl_rule & das & afford & ~one_card
        row = _at(t.hand_cards, i)
        c0, c1 = row[0], row[1]
        same = (c0 >> 2) == (c1 >> 2)
        if cfg.split_any_tens:
            same = same | ((card_value(c0) == 10) & (card_value(c1) == 10))
        resplit_ok = ~_at(t.hand_split_ace, i) | cfg.resplit_aces
        spl = playing & two & same & (_at(t.num_hands, seat) < self._H) & afford & resplit_ok
        sur = playing & two & ~split_hand & cfg.late_surrender
        return hit, dbl, spl, sur

    def _apply_play(self, t: BlackjackState, action: jax.Array, seq: jax.Array, on: jax.Array):
        """Apply STAND/HIT/DOUBLE/SPLIT/SURRENDER to hand ``cursor``. Returns ``(state, used, over)``."""
        H = self._H
        i = t.cursor
        seat = i // H
        c0, c1 = seq[0], seq[1]
        hit = on & (action == HIT)
        dbl = on & (action == DOUBLE)
        spl = on & (action == SPLIT)
        draw_one = hit | dbl
        row = _at(t.hand_cards, i)
        size = _at(t.hand_size, i)
        slot = jnp.arange(self._C)
        # hit / double: one card onto hand i
        hit_row = jnp.where(slot == size, c0, row)
        hit_hard = _at(t.hand_hard, i) + card_value(c0)
        hit_ace = _at(t.hand_ace, i) | _is_ace(c0)
        # split: hand i keeps its first card, hand j = the seat's next slot takes the second
        j = jnp.minimum(seat * H + _at(t.num_hands, seat), self._NH - 1)
        first_c, second_c = row[0], row[1]
        base = jnp.full(self._C, cards.NO_CARD, jnp.int8)
        split_row_i = jnp.concatenate([jnp.stack([first_c, c0]), base[2:]])
        split_row_j = jnp.concatenate([jnp.stack([second_c, c1]), base[2:]])
        split_hard_i = card_value(first_c) + card_value(c0)
        split_hard_j = card_value(second_c) + card_value(c1)
        split_ace_i = _is_ace(first_c) | _is_ace(c0)
        split_ace_j = _is_ace(second_c) | _is_ace(c1)
        aces = _is_ace(first_c)

        new_row = jnp.where(draw_one, hit_row, jnp.where(spl, split_row_i, row))
        new_hard = jnp.where(draw_one, hit_hard, jnp.where(spl, split_hard_i, _at(t.hand_hard, i)))
        new_ace = jnp.where(draw_one, hit_ace, jnp.where(spl, split_ace_i, _at(t.hand_ace, i)))
        new_size = jnp.where(draw_one, size + 1, size)
        best_i = _best(new_hard, new_ace)
        auto_stand = jnp.bool_(False) if self._gym else best_i == 21
        num_after = _at(t.num_hands, seat) + 1

        def split_status(best, new_card):
            one_card = aces & (not self.config.hit_split_aces)
            resplit = aces & _is_ace(new_card) & self.config.resplit_aces & (num_after < H)
            done = (best == 21) | (one_card & ~resplit)
            return jnp.where(done, HAND_STOOD, HAND_PLAYING)

        status_i = jnp.select(
            [action == STAND, action == SURRENDER, best_i > 21, dbl, spl, auto_stand],
            [
                jnp.int32(HAND_STOOD),
                jnp.int32(HAND_SURRENDERED),
                jnp.int32(HAND_BUST),
                jnp.int32(HAND_STOOD),
                split_status(best_i, c0),
                jnp.int32(HAND_STOOD),
            ],
            jnp.int32(HAND_PLAYING),
        )
        status_i = jnp.where(on, status_i, _at(t.hand_status, i))
        bet_i = _at(t.hand_bet, i)
        status_j = split_status(_best(split_hard_j, split_ace_j), c1)

        hand_cards = _set(t.hand_cards, i, jnp.where(on, new_row, row))
        hand_hard = _set(t.hand_hard, i, jnp.where(on, new_hard, _at(t.hand_hard, i)))
        hand_ace = _set(t.hand_ace, i, jnp.where(on, new_ace, _at(t.hand_ace, i)))
        hand_size = _set(t.hand_size, i, jnp.where(on, new_size, size))
        hand_status = _set(t.hand_status, i, status_i)
        hand_bet = _set(t.hand_bet, i, jnp.where(dbl, 2.0 * bet_i, bet_i))
        hand_split_ace = _set(t.hand_split_ace, i, _at(t.hand_split_ace, i) | (spl & aces))
        hand_doubled = _set(t.hand_doubled, i, _at(t.hand_doubled, i) | dbl)
        if H > 1:
            hand_cards = hand_cards.at[j].set(jnp.where(spl, split_row_j, hand_cards[j]))
            hand_hard = hand_hard.at[j].set(jnp.where(spl, split_hard_j, hand_hard[j]))
            hand_ace = hand_ace.at[j].set(jnp.where(spl, split_ace_j, hand_ace[j]))
            hand_size = hand_size.at[j].set(jnp.where(spl, 2, hand_size[j]))
            hand_status = hand_status.at[j].set(jnp.where(spl, status_j, hand_status[j]))
            hand_bet = hand_bet.at[j].set(jnp.where(spl, bet_i, hand_bet[j]))
            hand_split_ace = hand_split_ace.at[j].set(jnp.where(spl, aces, hand_split_ace[j]))
        bankroll = _add(t.bankroll, seat, jnp.where(dbl | spl, -bet_i, 0.0))
        num_hands = _add(t.num_hands, seat, jnp.where(spl, 1, 0))
        used = jnp.where(draw_one, 1, jnp.where(spl, 2, 0)).astype(jnp.int32)
        seen = jnp.where(draw_one, self._count(c0), 0) + jnp.where(spl, self._count(c0) + self._count(c1), 0)
        any_p, first_p = _first(hand_status == HAND_PLAYING)
        t = t.replace(
            hand_cards=hand_cards,
            hand_hard=hand_hard,
            hand_ace=hand_ace,
            hand_size=hand_size,
            hand_status=hand_status,
            hand_bet=hand_bet,
            hand_split_ace=hand_split_ace,
            hand_doubled=hand_doubled,
            bankroll=bankroll,
            num_hands=num_hands,
            running_count=t.running_count + seen,
            cursor=jnp.where(on & any_p, first_p, t.cursor),
        )
        return t, used, on & ~any_p

    def _dealer_play(
        self, t: BlackjackState, seq: jax.Array, used: jax.Array, on: jax.Array, key: jax.Array, plan: dict
    ):
        """Reveal the hole card and draw to 17 from the pre-drawn cards ``seq[used:]``.

        ``used`` is 0, 1 or 2 when the dealer can play (the cards the last action took), so the
        candidates are one of three static windows of the ``M_fast`` pre-drawn hits; a scan
        plays them out. A dealer still drawing after them (about 2e-5 of play-outs) continues
        in a :func:`~htjax.core.branching.rare_cond` branch: it commits those draws, draws the
        remaining ``M - M_fast`` candidates from the committed shoe with the next words of the
        step's stream, and scans on, exactly as if all ``M`` had been pre-drawn. A batch of worlds
        runs that branch only on steps where some world needs it.

        Returns ``(state, cards used by the step, shoe array after them)``."""
        M, Mf = self._M, self._M_fast
        cand = jnp.where(used == 1, seq[1 : 1 + Mf], jnp.where(used == 2, seq[2 : 2 + Mf], seq[:Mf]))
        live = jnp.any(t.hand_status == HAND_STOOD)
        # a scan (not an unrolled chain) so the result is computed once, not re-fused into
        # every consumer
        start = (
            t.dealer_hard,
            t.dealer_ace,
            on & live & self._dealer_hits(t.dealer_hard, t.dealer_ace),
            jnp.int32(0),
            jnp.int32(0),
        )
        carry, drawn = jax.lax.scan(self._dealer_hit, start, cand)
        hole_up = t.dealer_cards[:2]
        first = jnp.where(drawn, cand, t.dealer_cards[2 : 2 + Mf])
        rest = t.dealer_cards[2 + Mf :]
        operands = (carry, rest, t.deck, plan, used, key_data(key))
        if Mf == M:  # every possible hit was pre-drawn: no tail to branch to
            carry, rest, shoe = self._dealer_done(*operands)
        else:
            carry, rest, shoe = rare_cond(carry[2], self._dealer_tail, self._dealer_done, *operands)
        hard, ace, _, m, seen = carry
        newly = on & ~t.dealer_revealed
        seen = seen + jnp.where(newly, self._count(t.dealer_cards[1]), 0)
        t = t.replace(
            dealer_cards=jnp.concatenate([hole_up, first, rest]),
            dealer_size=t.dealer_size + m,
            dealer_hard=hard,
            dealer_ace=ace,
            dealer_revealed=t.dealer_revealed | on,
            running_count=t.running_count + seen,
        )
        return t, used + m, shoe

    def _dealer_hits(self, hard: jax.Array, ace: jax.Array) -> jax.Array:
        best = _best(hard, ace)
        more = best < 17
        if self.config.dealer_hits_soft_17:
            more = more | ((best == 17) & _soft(hard, ace))
        return more

    def _dealer_hit(self, carry, c):
        """One scan step of the dealer's play-out over candidate card ``c``."""
        hard, ace, going, m, seen = carry
        hard = hard + jnp.where(going, card_value(c), 0)
        ace = ace | (going & _is_ace(c))
        m = m + going.astype(jnp.int32)
        seen = seen + jnp.where(going, self._count(c), 0)
        return (hard, ace, going & self._dealer_hits(hard, ace), m, seen), going

    def _dealer_done(self, carry, rest, deck, plan, used, key):
        """The common branch: the pre-drawn hits sufficed; commit what the step used."""
        return carry, rest, self._commit(deck.cards, plan, used + carry[3])

    def _dealer_tail(self, carry, rest, deck, plan, used, key):
        """The rare branch: every pre-drawn hit was taken and the dealer still draws."""
        taken = used + self._M_fast
        shoe = self._commit(deck.cards, plan, taken)
        after = deck.replace(cards=shoe, position=deck.position + taken)
        seq, plan2 = self._draw(after, random_words(key, self._M - self._M_fast, start=taken))
        more = carry[3]
        carry, drawn = jax.lax.scan(self._dealer_hit, carry, seq)
        rest = jnp.where(drawn, seq, rest)
        return carry, rest, self._commit(shoe, plan2, carry[3] - more)

    def _settle(self, t: BlackjackState, on: jax.Array):
        """Pay every hand and insurance. Returns ``(state, rewards float32[S])``."""
        cfg = self.config
        S, H = self._S, self._H
        best = _best(t.hand_hard, t.hand_ace)
        d_best = _best(t.dealer_hard, t.dealer_ace)
        d_bust = d_best > 21
        d_bj = (t.dealer_size == 2) & (d_best == 21)
        bet = t.hand_bet
        status = t.hand_status
        slot_seat = jnp.arange(self._NH) // H
        if self._gym:
            score = jnp.where(best > 21, 0, best)
            d_score = jnp.where(d_bust, 0, d_best)
            outcome = jnp.sign(score - d_score).astype(jnp.float32)
            natural = (t.hand_size == 2) & (best == 21) & (t.num_hands[slot_seat] == 1)
            if cfg.sab:
                outcome = jnp.where(natural & ~d_bj, 1.0, outcome)
            elif cfg.natural:
                outcome = jnp.where(natural & (outcome == 1.0), cfg.blackjack_payout, outcome)
            stood = outcome * bet
        else:
            win = d_bust | (best > d_best)
            push = ~d_bust & (best == d_best)
            stood = jnp.where(d_bj, -bet, jnp.where(win, bet, jnp.where(push, 0.0, -bet)))
        net = jnp.select(
            [
                status == HAND_NATURAL,
                status == HAND_SURRENDERED,
                status == HAND_BUST,
                (status == HAND_STOOD) | (status == HAND_PLAYING),  # playing: ended by a dealer blackjack
            ],
            [jnp.where(d_bj, 0.0, cfg.blackjack_payout * bet), -0.5 * bet, -bet, stood],
            0.0,
        ).astype(jnp.float32)
        ins_net = jnp.where(d_bj, 2.0 * t.insurance, -t.insurance)
        seat_net = jnp.sum(net.reshape(S, H), axis=1) + ins_net
        returned = jnp.sum((bet + net).reshape(S, H), axis=1) + jnp.where(d_bj, 3.0 * t.insurance, 0.0)
        rewards = jnp.where(on, seat_net, 0.0).astype(jnp.float32)
        t = t.replace(
            bankroll=t.bankroll + jnp.where(on, returned, 0.0),
            phase=jnp.where(on, PHASE_OVER, t.phase).astype(jnp.int32),
            round_index=t.round_index + on.astype(jnp.int32),
        )
        return t, rewards

    def _clear_round(self, t: BlackjackState, on: jax.Array) -> BlackjackState:
        cleared = self._empty(t.deck).replace(
            bankroll=t.bankroll,
            running_count=t.running_count,
            round_index=t.round_index,
            round_start=t.deck.position,
            step_count=t.step_count,
            rewards=t.rewards,
            current_player=t.current_player,
        )
        return _where(on, cleared, t)

    def _set_turn(self, t: BlackjackState, actor: jax.Array) -> BlackjackState:
        phase = t.phase
        player = jnp.where(
            (phase == PHASE_BET) | (phase == PHASE_INSURANCE),
            t.cursor,
            jnp.where(phase == PHASE_OVER, actor, t.cursor // self._H),
        ).astype(jnp.int32)
        return t.replace(current_player=player, legal_action_mask=self._mask(t))

    def _mask(self, t: BlackjackState) -> jax.Array:
        phase = t.phase
        hit, dbl, spl, sur = self._hand_options(t, jnp.clip(t.cursor, 0, self._NH - 1))
        play = phase == PHASE_PLAY
        ins = phase == PHASE_INSURANCE
        stand_ok = play | (phase == PHASE_SHOWDOWN)
        parts = [stand_ok, play & hit]
        if not self._gym:
            parts += [play & dbl, play & spl, play & sur, ins, ins]
            mask = jnp.stack(parts)
            if self.config.betting:
                seat = jnp.clip(t.cursor, 0, self._S - 1)
                bets = (phase == PHASE_BET) & (jnp.asarray(self._bets) <= _at(t.bankroll, seat))
                mask = jnp.concatenate([mask, bets])
            return mask
        return jnp.stack(parts)

    # ------------------------------------------------------------------ step
    def _step(self, state: BlackjackState, action: jax.Array, key: jax.Array, params) -> BlackjackState:
        cfg = self.config
        seq, plan = self._draw(state.deck, random_words(key, self._K1))
        pad = jnp.full(self._M + self._n_deal + 2, cards.NO_CARD, jnp.int8)
        seq = jnp.concatenate([seq, pad])
        phase0 = state.phase
        t = state
        used = jnp.int32(0)

        # 1. the action
        open_now = jnp.bool_(False)
        if cfg.betting and not self._gym:
            t, bets_done = self._apply_bet(t, action, phase0 == PHASE_BET)
            t, used = self._deal(t, seq, bets_done)
            open_now = bets_done
        peek_now = jnp.bool_(False)
        if cfg.insurance and not self._gym:
            t, peek_now = self._apply_insurance(t, action, phase0 == PHASE_INSURANCE)
        t, used_play, play_over = self._apply_play(t, action, seq, phase0 == PHASE_PLAY)
        used = used + used_play
        # 2. the deal opens (insurance or peek), or insurance ends in the peek
        t, over_open = self._open(t, open_now)
        t, over_peek = self._peek(t, peek_now)
        round_over = play_over | over_open | over_peek | (phase0 == PHASE_SHOWDOWN)
        # 3. dealer and settlement
        t, used, shoe = self._dealer_play(t, seq, used, round_over, key, plan)
        t, rewards = self._settle(t, round_over)
        position = state.deck.position + used
        t = t.replace(deck=t.deck.replace(cards=shoe, position=position), rewards=rewards)
        exhausted = self._exhausted(t)
        # 4. end of episode, or the next round
        terminated, truncated = round_over, jnp.bool_(False)
        if cfg.episode != "round":
            broke = jnp.all(t.bankroll < self._bets[0])
            cut = jnp.bool_(False) if cfg.infinite_deck else position >= self._cut
            if cfg.episode == "shoe":
                terminated = round_over & (cut | broke)
            else:
                terminated = round_over & broke
            truncated = round_over & ~terminated & (t.round_index >= cfg.max_rounds)
            nxt = round_over & ~terminated & ~truncated
            if cfg.episode == "session":
                # the shoe is reshuffled for the next round's deal; a session that ends here
                # keeps its final shoe as it is
                reshuffle = nxt & cut
                t = t.replace(
                    deck=_where(reshuffle, cards.reshuffle(t.deck), t.deck),
                    running_count=jnp.where(reshuffle, 0, t.running_count),
                )
            t = self._clear_round(t, nxt)
            if cfg.betting:
                _, first_s = _first(t.bankroll >= self._bets[0])
                t = t.replace(
                    phase=jnp.where(nxt, PHASE_BET, t.phase).astype(jnp.int32),
                    cursor=jnp.where(nxt, first_s, t.cursor),
                )
            else:
                seq2, plan2 = self._draw(t.deck, random_words(key, self._K2, start=self._K_all))
                t = self._post_bets(t, nxt)
                t2, used2 = self._deal(t, seq2, jnp.bool_(True))
                t2 = t2.replace(
                    deck=t2.deck.replace(
                        cards=self._commit(t2.deck.cards, plan2, used2), position=t2.deck.position + used2
                    )
                )
                t2, over2 = self._open(t2, jnp.bool_(True))
                t2 = self._to_showdown(t2, over2)
                t = _where(nxt, t2, t)
        # a round that ran the shoe dry is void: stakes back, no reward, episode truncated
        if not cfg.infinite_deck:
            restored = state.bankroll + jnp.where(
                phase0 == PHASE_BET,
                state.seat_bet,
                jnp.sum(state.hand_bet.reshape(self._S, self._H), axis=1) + state.insurance,
            )
            t = t.replace(
                bankroll=jnp.where(exhausted, restored, t.bankroll),
                rewards=jnp.where(exhausted, 0.0, t.rewards),
                deck=t.deck.replace(position=jnp.minimum(t.deck.position, self._shoe_size)),
            )
            truncated = truncated | exhausted
            terminated = terminated & ~exhausted
        t = t.replace(terminated=terminated, truncated=truncated)
        return self._set_turn(t, state.current_player)

    # ------------------------------------------------------------------ observation
    def render_text(self, state, seat: int | None = None) -> str:
        return render_text(self, state, seat)

    def public_view(self, state) -> dict:
        return public_view(self, state)

    def classic_observation(self, state) -> jax.Array:
        return classic_observation(state)

    def _observe(self, state: BlackjackState, player: jax.Array, params) -> jax.Array:
        cfg = self.config
        H = self._H
        t = state
        if H == 1:
            h = jnp.int32(0)
        else:
            playing = _at(t.hand_status.reshape(self._S, H), player) == HAND_PLAYING
            any_p, first_p = _first(playing)
            h = jnp.where(any_p, first_p, 0)
        i = player * H + h
        hard, ace = _at(t.hand_hard, i), _at(t.hand_ace, i)
        best = _best(hard, ace)
        _, dbl, spl, sur = self._hand_options(t, i)
        row = _at(t.hand_cards, i)
        c0, c1 = row[0], row[1]
        up = t.dealer_cards[0]
        up_value = card_value(up)
        dealer_total = jnp.where(t.dealer_revealed, _best(t.dealer_hard, t.dealer_ace), 0)
        max_bet = float(self._bets[-1])
        phase = t.phase
        if cfg.infinite_deck:
            remaining = jnp.float32(1.0)
            running = jnp.float32(0.0)
            true_count = jnp.float32(0.0)
        else:
            left = jnp.maximum(self._shoe_size - t.deck.position, 0)
            remaining = left * (1.0 / self._shoe_size)
            running = t.running_count.astype(jnp.float32)
            true_count = running / jnp.maximum(left * (1.0 / 52), 0.5)
        rounds = jnp.float32(0.0) if cfg.episode == "round" else t.round_index * (1.0 / cfg.max_rounds)
        features = [
            phase == PHASE_BET,
            phase == PHASE_INSURANCE,
            phase == PHASE_PLAY,
            phase == PHASE_SHOWDOWN,
            phase == PHASE_OVER,
            t.current_player == player,
            best * _R21,
            _soft(hard, ace),
            _at(t.hand_size, i) * 0.1,
            (_at(t.hand_size, i) == 2) & ((c0 >> 2) == (c1 >> 2)),
            up_value * 0.1,
            _is_ace(up) & (up >= 0),
            dealer_total * _R21,
            t.dealer_revealed,
            dbl,
            spl,
            sur,
            (phase == PHASE_INSURANCE) & (t.cursor == player),
            h * (1.0 / H),
            _at(t.num_hands, player) * (1.0 / H),
            _at(t.hand_bet, i) * (1.0 / max_bet),
            _at(t.seat_bet, player) * (1.0 / max_bet),
            _at(t.bankroll, player) * (1.0 / cfg.starting_bankroll),
            _at(t.insurance, player) > 0,
            running * 0.1,
            true_count * 0.1,
            remaining,
            rounds,
            _at(t.hand_doubled, i),
            _at(t.num_hands, player) > 1,
            _at(t.seat_bet, player) > 0,
        ]
        return jnp.stack([jnp.asarray(f, jnp.float32) for f in features])


_R21 = 1.0 / 21.0


def _where(pred: jax.Array, on_true, on_false):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


# ============================================================================ observation layout
OBSERVATION_LAYOUT: tuple[tuple[str, str], ...] = (
    ("phase_bet", "1 in the betting phase"),
    ("phase_insurance", "1 while insurance is offered"),
    ("phase_play", "1 while hands are played"),
    ("phase_showdown", "1 in a forced showdown turn (round dealt with no decision left)"),
    ("phase_over", "1 once the round is settled (final state)"),
    ("my_turn", "1 if the observed seat is to act"),
    ("hand_total", "best total of the seat's hand / 21 (aces 11 where that does not bust)"),
    ("soft", "1 if the hand is soft (an ace counted as 11)"),
    ("hand_cards", "number of cards in the hand / 10"),
    ("pair", "1 if the hand is two cards of equal rank"),
    ("dealer_up", "dealer up-card value / 10 (ace = 1, so 0.1; 0 before the deal)"),
    ("dealer_up_ace", "1 if the dealer shows an ace"),
    ("dealer_total", "dealer's best total / 21 once the hole card is revealed, else 0"),
    ("dealer_revealed", "1 once the hole card is face up"),
    ("can_double", "1 if the hand may double now (the seat's view of its own options)"),
    ("can_split", "1 if the hand may split"),
    ("can_surrender", "1 if the hand may surrender"),
    ("can_insure", "1 if the seat is being offered insurance"),
    ("hand_index", "index of the hand among the seat's split hands / max_hands"),
    ("num_hands", "the seat's hands this round / max_hands"),
    ("hand_bet", "stake on the hand / largest bet in bet_menu"),
    ("seat_bet", "the seat's initial wager this round / largest bet"),
    ("bankroll", "chips not on the table / starting_bankroll"),
    ("insured", "1 if the seat took insurance"),
    ("running_count", "Hi-Lo running count of cards seen face up since the shuffle / 10 (0 if infinite)"),
    ("true_count", "running count / decks left (at least 0.5) / 10 (0 if infinite)"),
    ("shoe_left", "cards left in the shoe / shoe size (1 if infinite)"),
    ("rounds", "rounds settled / max_rounds (0 in round mode)"),
    ("doubled", "1 if the hand was doubled"),
    ("split_hand", "1 if the seat split this round"),
    ("in_round", "1 if the seat has a wager this round"),
)
OBS_SIZE = len(OBSERVATION_LAYOUT)


# ============================================================================ helpers for other modules
def classic_observation(state: BlackjackState) -> jax.Array:
    """``int32[3]`` = (player sum, dealer showing card 1..10 with ace = 1, usable ace 0/1) of seat
    0's first hand, exactly as Gymnasium's ``Blackjack-v1`` observes; batched states give
    ``int32[..., 3]``."""
    hard = state.hand_hard[..., 0]
    ace = state.hand_ace[..., 0]
    usable = _soft(hard, ace)
    return jnp.stack(
        [_best(hard, ace), card_value(state.dealer_cards[..., 0]), usable.astype(jnp.int32)], axis=-1
    ).astype(jnp.int32)


def render_text(env: Blackjack, state: BlackjackState, seat: int | None = None) -> str:
    """A readable table of one (unbatched) state.

    The dealer's hole card shows as ``??`` until revealed. ``seat`` marks that seat's row
    (``>``) as the viewer; every seat's cards are face up in blackjack, so nothing else hides.
    """
    s = jax.device_get(state)
    if np.asarray(s.phase).ndim != 0:
        raise InvalidActionError("render_text expects one world's state, not a batch")
    H = env._H
    phase = int(s.phase)
    lines = []
    dealer = [int(c) for c in np.asarray(s.dealer_cards) if c >= 0]
    revealed = bool(s.dealer_revealed)
    if not dealer:
        lines.append("Dealer: (no cards)")
    elif revealed:
        total, soft = hand_total(np.asarray(dealer, np.int8))
        lines.append(f"Dealer: {cards.cards_to_str(dealer)}  = {_total_str(int(total), bool(soft))}")
    else:
        up = dealer[0]
        lines.append(f"Dealer: {cards.card_to_str(up)} ??  (showing {int(card_value(up))})")
    for p in range(env.num_players):
        marker = ">" if seat == p else " "
        turn = (
            "  <- to act"
            if (int(s.current_player) == p and phase != PHASE_OVER and not bool(s.terminated | s.truncated))
            else ""
        )
        head = f"{marker}Seat {p}: bankroll {float(s.bankroll[p]):g}"
        if float(s.seat_bet[p]) > 0:
            head += f", bet {float(s.seat_bet[p]):g}"
        if float(s.insurance[p]) > 0:
            head += f", insurance {float(s.insurance[p]):g}"
        lines.append(head + turn)
        for h in range(max(int(s.num_hands[p]), 0)):
            i = p * H + h
            hand = [int(c) for c in np.asarray(s.hand_cards[i]) if c >= 0]
            total, soft = hand_total(np.asarray(hand, np.int8))
            status = _STATUS_NAMES[int(s.hand_status[i])]
            active = " *" if (phase == PHASE_PLAY and int(s.cursor) == i) else ""
            extra = ", doubled" if bool(s.hand_doubled[i]) else ""
            lines.append(
                f"    hand {h + 1}: {cards.cards_to_str(hand)}  = {_total_str(int(total), bool(soft))}"
                f"  [{status}{extra}, stake {float(s.hand_bet[i]):g}]{active}"
            )
    info = f"Phase: {PHASE_NAMES[phase]}, round {int(s.round_index) + (0 if phase == PHASE_OVER else 1)}"
    if not env.config.infinite_deck:
        left = env._shoe_size - int(s.deck.position)
        info += f", shoe {left}/{env._shoe_size} left, running count {int(s.running_count)}"
    lines.append(info)
    if bool(s.terminated | s.truncated):
        lines.append("Episode over" + (" (truncated)" if bool(s.truncated) else ""))
    rewards = np.asarray(s.rewards)
    if np.any(rewards != 0):
        lines.append("Last rewards: " + ", ".join(f"seat {p}: {r:+g}" for p, r in enumerate(rewards)))
    return "\n".join(lines)


def _total_str(total: int, soft: bool) -> str:
    if total > 21:
        return f"{total} bust"
    return f"soft {total}" if soft else str(total)


# ============================================================================ public view (sync hook)
def _best_total(hard: int, ace: bool) -> tuple[int, bool]:
    soft = bool(ace) and hard <= 11
    return hard + (10 if soft else 0), soft


def public_view(env: Blackjack, state: BlackjackState) -> dict:
    """What a spectator sees of one (unbatched) state, as plain values (the sync layer's hook).

    Seats' cards are face up in blackjack; the dealer's hole card (and the dealer's total)
    appear only once ``dealer_revealed``, and the shoe's undealt cards never do.
    Keys are listed in ``docs/envs/blackjack.md`` (Public view).
    """
    s = jax.tree_util.tree_map(np.asarray, jax.device_get(state))
    if s.phase.ndim != 0:
        raise ValueError("public_view expects one world's state, not a batch")
    H = env.config.max_hands
    phase = int(s.phase)
    over = bool(s.terminated | s.truncated)
    revealed = bool(s.dealer_revealed)
    dealer = [int(c) for c in s.dealer_cards if c >= 0]
    shown = dealer if revealed else dealer[:1]
    up = dealer[0] if dealer else -1
    dealer_total, dealer_soft = (
        _best_total(int(s.dealer_hard), bool(s.dealer_ace)) if revealed else (None, None)
    )
    seats = []
    for p in range(env.num_players):
        hands = []
        for h in range(max(int(s.num_hands[p]), 0)):
            i = p * H + h
            total, soft = _best_total(int(s.hand_hard[i]), bool(s.hand_ace[i]))
            hands.append(
                {
                    "cards": [cards.card_to_str(c) for c in s.hand_cards[i] if c >= 0],
                    "total": total,
                    "soft": soft,
                    "status": _STATUS_NAMES[int(s.hand_status[i])],
                    "stake": float(s.hand_bet[i]),
                    "doubled": bool(s.hand_doubled[i]),
                }
            )
        seats.append(
            {
                "bankroll": float(s.bankroll[p]),
                "bet": float(s.seat_bet[p]),
                "insurance": float(s.insurance[p]),
                "hands": hands,
            }
        )
    acting = phase in (PHASE_BET, PHASE_INSURANCE, PHASE_PLAY, PHASE_SHOWDOWN) and not over
    infinite = env.config.infinite_deck
    return {
        "phase": PHASE_NAMES[phase],
        "round": int(s.round_index),
        "to_act": int(s.current_player) if acting else None,
        "hand_to_act": int(s.cursor) % H if acting and phase == PHASE_PLAY else None,
        "dealer": {
            "cards": [cards.card_to_str(c) for c in shown],
            "up_value": (1 if up // 4 == _ACE_RANK else min(up // 4 + 2, 10)) if dealer else None,
            "hole_revealed": revealed,
            "total": dealer_total,
            "soft": dealer_soft,
        },
        "seats": seats,
        "rewards": [float(r) for r in s.rewards],
        "shoe_left": None if infinite else max(int(s.deck.cards.shape[-1]) - int(s.deck.position), 0),
        "running_count": None if infinite else int(s.running_count),
        "over": over,
        "step": int(s.step_count),
    }
