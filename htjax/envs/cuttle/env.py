"""The Cuttle env: the rules of :mod:`htjax.envs.cuttle.rules` and :mod:`~htjax.envs.cuttle.moves`
under the env contract (seats, rewards, observations, the fixed action table).

See :mod:`htjax.envs.cuttle` for the summary and ``docs/envs/cuttle.md`` for the rules text.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, Params, State
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import random_words
from htjax.core.layout import ObservationLayout
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import moves, views
from htjax.envs.cuttle import rules as R
from htjax.envs.cuttle.config import CuttleConfig
from htjax.envs.cuttle.observation import observation_layout, observe

__all__ = ["Cuttle", "CuttleState"]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class CuttleState(State):
    """Contract fields plus ``board`` (:class:`htjax.envs.cuttle.rules.Board`)."""

    board: R.Board


Cards = Sequence[str | int]


@functools.lru_cache(maxsize=8)
def _start_program(env: Cuttle):
    """The jitted start of a hand-built board, cached per env (outside the env, so it pickles)."""
    return jax.jit(lambda b: env._finish(env._from_board(b, jnp.int32(0), 0)))


class Cuttle(Env[CuttleState, CuttleConfig]):
    """Cuttle for 2 (classic, standard) or 3 (cutthroat) seats; see :mod:`htjax.envs.cuttle`.

    ``num_actions`` is 1457 in every variant (:mod:`htjax.envs.cuttle.actions`); the observation
    is ``float32[226 + 330 * P]`` (:func:`~htjax.envs.cuttle.observation.observation_layout`).
    Rewards: +1 to the winner and -1 to every other seat on the winning step, 0 to all in a
    drawn (three passes) or truncated game.
    """

    id = "cuttle"
    version = "v2"  # v2: cutthroat jokers steal any royal (1,457 ids); standard one-off checks
    config_class = CuttleConfig
    keep_by_branch = True

    def __init__(self, config: CuttleConfig | None = None, /, *, preset: str | None = None, **overrides: Any):
        super().__init__(config, preset=preset, **overrides)
        self.rules = self.config.rules
        self.zero_sum = self.rules.num_players == 2

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        return self.rules.num_players

    @property
    def num_actions(self) -> int:
        return A.NUM_ACTIONS

    @property
    def action_labels(self) -> tuple[str, ...]:
        return A.LABELS

    @property
    def observation_layout(self) -> ObservationLayout:
        return observation_layout(self.num_players)

    @property
    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``, ``float64[226 + 330 * P]``, from the observation layout."""
        return self.observation_layout.bounds()

    # ------------------------------------------------------------------ contract hooks
    def _init(self, key: jax.Array, params: Params) -> CuttleState:
        n = self.rules.num_cards
        words = random_words(key, n)

        def swap(k, slot):  # Fisher-Yates on places: swap place i with a uniform place j <= i
            i = n - 1 - k
            j = (words[i] % (i + 1).astype(jnp.uint32)).astype(jnp.int32)
            return jnp.where(slot == i, j, jnp.where(slot == j, i, slot))

        # elementwise swaps in a loop: a vmapped argsort of the words cost 10x more on CPU
        slot = jax.lax.fori_loop(0, n - 1, swap, jnp.arange(n, dtype=jnp.int32))
        slot = jnp.concatenate([slot, jnp.full(R.N - n, -1, jnp.int32)])
        return self._from_board(R.deal(self.rules, slot), jnp.int32(0), 0)

    def _step(self, state: CuttleState, action: jax.Array, key: jax.Array, params: Params) -> CuttleState:
        board = moves.act(self.rules, state.board, action)
        return self._from_board(board, state.step_count, state.step_count + 1)

    def _from_board(self, board: R.Board, step_count: jax.Array, steps_done: Any) -> CuttleState:
        p = self.num_players
        won = jnp.arange(p) == board.winner
        rewards = jnp.where(board.winner >= 0, jnp.where(won, 1.0, -1.0), 0.0)
        rewards = jnp.where(board.over, rewards, 0.0).astype(jnp.float32)
        truncated = ~board.over & (steps_done >= self.config.max_steps)
        return CuttleState(
            current_player=board.actor,
            observation=jnp.zeros(self.observation_layout.size, jnp.float32),
            rewards=rewards,
            terminated=board.over,
            truncated=jnp.asarray(truncated),
            legal_action_mask=R.legal_mask(self.rules, board),
            step_count=step_count,
            board=board,
        )

    def _observe(self, state: CuttleState, player: jax.Array, params: Params) -> jax.Array:
        return observe(self.rules, self.observation_layout, state.board, player)

    def _forfeit(self, state: CuttleState, offenders: jax.Array, params: Params) -> jax.Array:
        """An offender loses the game (-1); in a two-seat game the other seat wins it (+1), with
        three seats the others get 0. The penalty comes on top."""
        loss = -offenders.astype(jnp.float32)
        if self.num_players == 2:
            return loss + offenders[::-1].astype(jnp.float32)
        return loss

    # ------------------------------------------------------------------ positions
    def position(
        self,
        *,
        hands: Sequence[Cards],
        points: Mapping[int, Cards] | None = None,
        royals: Mapping[int, Cards] | None = None,
        attached: Sequence[tuple[str | int, str | int, int]] = (),
        scrap: Cards = (),
        deck: Cards = (),
        turn: int = 0,
        frozen: Mapping[int, str | int] | None = None,
    ) -> CuttleState:
        """A hand-built position at the start of ``turn``'s main phase.

        Args:
          hands: the cards of each seat's hand.
          points: ``{seat: cards}`` point cards each seat played.
          royals: ``{seat: cards}`` glasses eights, queens and kings on each seat's field.
          attached: ``(card, onto, seat)``: a jack (or joker) played by ``seat`` onto ``onto``, in
            order (later ones on top).
          scrap: the scrap pile.
          deck: the top of the deck, top first; the cards not named anywhere follow in id order.
          turn: the seat to move.
          frozen: ``{seat: card}`` a card a 9 returned to that seat this turn.

        Raises:
          InvalidArgumentError: a card named twice, a card outside the variant, a wrong seat.
        """
        r = self.rules
        if len(hands) != r.num_players or not 0 <= turn < r.num_players:
            raise InvalidArgumentError(
                f"position needs {r.num_players} hands and a turn seat, got {hands!r}, {turn}"
            )
        zone = np.full(R.N, R.OUT, np.int32)
        owner = np.full(R.N, -1, np.int32)
        attach_to = np.full(R.N, -1, np.int32)
        stamp = np.zeros(R.N, np.int32)
        seen: set[int] = set()

        def place(card, z, seat):
            c = A.parse_card(card) if isinstance(card, str) else int(card)
            if not 0 <= c < r.num_cards or c in seen:
                raise InvalidArgumentError(
                    f"card {card!r} is not in the {self.config.variant} deck or named twice"
                )
            seen.add(c)
            zone[c], owner[c] = z, seat
            return c

        for seat, cs in enumerate(hands):
            for c in cs:
                place(c, R.HAND, seat)
        for z, by_seat in ((R.POINT, points or {}), (R.ROYAL, royals or {})):
            for seat, cs in by_seat.items():
                for c in cs:
                    place(c, z, seat)
        for i, (c, onto, seat) in enumerate(attached):
            c = place(c, R.ATTACHED, seat)
            attach_to[c] = A.parse_card(onto) if isinstance(onto, str) else int(onto)
            stamp[c] = i
        for c in scrap:
            place(c, R.SCRAP, -1)
        top = [place(c, R.DECK, -1) for c in deck]
        rest = [c for c in range(r.num_cards) if c not in seen]
        zone[rest] = R.DECK
        order = [c for c in range(r.num_cards) if zone[c] != R.DECK] + top + rest  # the deck last
        slot = np.full(R.N, -1, np.int32)
        slot[order] = np.arange(r.num_cards)
        pos = r.num_cards - len(top) - len(rest)
        frz = np.full(r.num_players, -1, np.int32)
        for seat, c in (frozen or {}).items():
            frz[seat] = A.parse_card(c) if isinstance(c, str) else int(c)
        board = R.deal(r, jnp.asarray(slot)).replace(
            zone=jnp.asarray(zone),
            owner=jnp.asarray(owner),
            attach_to=jnp.asarray(attach_to),
            stamp=jnp.asarray(stamp),
            clock=jnp.int32(len(attached)),
            slot=jnp.asarray(slot),
            pos=jnp.int32(pos),
            frozen=jnp.asarray(frz),
            turn=jnp.int32(turn),
            actor=jnp.int32(turn),
        )
        return self._start_from(board)

    def _start_from(self, board: R.Board) -> CuttleState:
        """The state of a hand-built board (jitted once per env)."""
        return _start_program(self)(board)

    # ------------------------------------------------------------------ people
    def render_text(self, state: CuttleState, seat: int | None = None) -> str:
        """The table as text (:func:`htjax.envs.cuttle.views.render_text`)."""
        return views.render_text(self, state, seat)

    def public_view(self, state: CuttleState) -> dict[str, Any]:
        """What a spectator sees (:func:`htjax.envs.cuttle.views.public_view`)."""
        return views.public_view(self, state)
