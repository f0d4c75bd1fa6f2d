"""The hold'em env: the rules of :mod:`htjax.envs.holdem.rules` under the env contract (seats,
rewards in big blinds, observations, action masks, rule parameters per world).

See :mod:`htjax.envs.holdem` for the summary and ``docs/envs/holdem.md`` for the rules text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.env import Env, Params, State
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import random_words
from htjax.core.layout import ObservationLayout
from htjax.envs.holdem import rules as R
from htjax.envs.holdem import views
from htjax.envs.holdem.config import MENUS, HoldemConfig
from htjax.envs.holdem.observation import observation_layout, observe

__all__ = ["Holdem", "HoldemState"]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class HoldemState(State):
    """Contract fields plus ``table`` (:class:`htjax.envs.holdem.rules.Table`)."""

    table: R.Table


class Holdem(Env[HoldemState, HoldemConfig]):
    """Texas hold'em, 2..6 seats, no-limit or fixed-limit; see :mod:`htjax.envs.holdem`.

    Rule parameters (:meth:`params`): ``small_blind``, ``big_blind`` and ``starting_stack`` may
    differ per world in one compiled program (``starting_stack`` within the static
    ``max_stack_bb``; a config with per-seat ``stacks`` plays those in every world).
    """

    id = "holdem"
    version = "v1"
    zero_sum = True
    config_class = HoldemConfig

    def __init__(self, config: HoldemConfig | None = None, /, *, preset: str | None = None, **overrides: Any):
        super().__init__(config, preset=preset, **overrides)
        cfg = self.config
        menu = MENUS[cfg.menu_name]
        self._labels = tuple(label for label, *_ in menu)
        self.rules = R.Rules(
            num_players=cfg.num_players,
            fixed_limit=cfg.betting == "fixed_limit",
            raise_cap=cfg.raise_cap,
            menu=tuple((kind, num, den) for _, kind, num, den in menu),
        )

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def num_actions(self) -> int:
        return len(self._labels)

    @property
    def action_labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def observation_layout(self) -> ObservationLayout:
        """The observation's table of named slices (:mod:`htjax.envs.holdem.observation`)."""
        return observation_layout(self.num_players, self.config.max_stack_bb)

    @property
    def observation_size(self) -> int:
        return self.observation_layout.size

    @property
    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``, ``float64[113 + 22 * P]``, from the observation layout."""
        return self.observation_layout.bounds()

    # ------------------------------------------------------------------ hands
    def stacked_deck(
        self, hole: Sequence[Sequence[str | int]], board: Sequence[str | int] = ()
    ) -> cards.Deck:
        """A deck that deals ``hole[seat]`` to each seat and then ``board`` (flop, turn, river).

        ``hole`` lists two cards for every seat; cards not given (the rest of the board) are
        dealt at random. Raises :class:`InvalidArgumentError` naming a wrong count or a repeated card.
        """
        n = self.num_players
        if len(hole) != n or any(len(h) != 2 for h in hole):
            raise InvalidArgumentError(f"hole must list 2 cards for each of the {n} seats, got {hole!r}")
        if len(board) > 5:
            raise InvalidArgumentError(f"board has at most 5 cards, got {len(board)}: {board!r}")
        order = [hole[seat][i] for i in range(2) for seat in range(n)] + list(board)
        try:
            return cards.stacked_deck(order)
        except ValueError as error:
            raise InvalidArgumentError(str(error)) from None

    def init_hand(
        self,
        key: jax.Array,
        *,
        deck: cards.Deck | None = None,
        stacks: Any = None,
        button: Any = None,
        params: Params | None = None,
    ) -> HoldemState:
        """Start a hand with an optional stacked ``deck``, ``stacks`` (``int32[P]``) and ``button``.

        Defaults come from the config and ``params`` (``button=-1`` draws the button from
        ``key``). Seats with 0 chips sit out. All arguments may be traced. If the blinds leave
        nobody a decision (a seat that cannot cover its blind), the returned hand is already
        finished.
        """
        params = self._resolve_params(params)
        state = self._start(
            key, deck, stacks, button, params["small_blind"], params["big_blind"], params, True
        )
        return self._finish(state, params)

    def _start(self, key, deck, stacks, button, small_blind, big_blind, params, settle: bool) -> HoldemState:
        n = self.num_players
        # hole cards, a possible run-out (only when settling), the button
        words = random_words(key, 2 * n + (6 if settle else 1))
        deck = cards.new_deck(1) if deck is None else deck
        if stacks is None:
            stacks = self.config.stacks or jnp.full(n, params["starting_stack"], jnp.int32)
        stacks = jnp.asarray(stacks, jnp.int32)
        if stacks.shape != (n,):
            raise InvalidArgumentError(f"stacks must have shape ({n},), got {stacks.shape}")
        if button is None:
            if self.config.button >= 0:
                button = self.config.button
            else:
                button = (words[-1] % jnp.uint32(n)).astype(jnp.int32)
        button = jnp.asarray(button, jnp.int32)
        table = R.start_hand(
            self.rules, deck, stacks, button, words[:-1], small_blind, big_blind, settle=settle
        )
        return self._from_table(table, jnp.zeros(n, jnp.float32), jnp.int32(0))

    def next_hand(self, state: HoldemState, key: jax.Array) -> HoldemState:
        """Deal the next hand of a session: stacks and blinds carry over, the button moves to the
        next seat with chips, seats with no chips sit out. With fewer than two seats holding chips
        the session is over: ``state`` comes back unchanged, with zero rewards.

        ``state`` must be a hand finished by the rules (``table.street == HAND_OVER``); a hand
        ended by an illegal action still has chips in the pot, which this does not return."""
        t = state.table
        has_chips = t.stack > 0
        button = jnp.maximum(R.next_seat(has_chips, t.button), 0)
        fresh = self._finish(self._start(key, None, t.stack, button, t.small_blind, t.big_blind, None, True))
        over = state.replace(terminated=jnp.bool_(True), rewards=jnp.zeros_like(state.rewards))
        return jax.tree_util.tree_map(lambda a, b: jnp.where(jnp.sum(has_chips) < 2, a, b), over, fresh)

    # ------------------------------------------------------------------ contract hooks
    def _init(self, key: jax.Array, params: Params) -> HoldemState:
        # stacks exceed the big blind (validated), so the blinds always leave a decision
        return self._start(key, None, None, None, params["small_blind"], params["big_blind"], params, False)

    def _step(self, state: HoldemState, action: jax.Array, key: jax.Array, params: Params) -> HoldemState:
        table = R.act(self.rules, state.table, action, random_words(key, 5))
        return self._from_table(table, state.rewards, state.step_count)

    def _forfeit(self, state: HoldemState, offenders: jax.Array, params: Params) -> jax.Array:
        """An offender forfeits its whole stack at hand start, paid to the other live seats as a
        fold would pay them (:func:`htjax.envs.holdem.rules.forfeit`); in big blinds."""
        chips = R.forfeit(state.table, offenders)
        return chips.astype(jnp.float32) / state.table.big_blind.astype(jnp.float32)

    def _from_table(self, table: R.Table, rewards: jax.Array, step_count: jax.Array) -> HoldemState:
        over = table.street == R.HAND_OVER
        result = (table.stack - table.start_stack).astype(jnp.float32) / table.big_blind.astype(jnp.float32)
        return HoldemState(
            current_player=table.to_act,
            observation=jnp.zeros(self.observation_size, jnp.float32),
            rewards=jnp.where(over, result, rewards).astype(jnp.float32),
            terminated=over,
            truncated=jnp.bool_(False),
            legal_action_mask=R.legal_actions(self.rules, table),
            step_count=step_count,
            table=table,
        )

    def _observe(self, state: HoldemState, player: jax.Array, params: Params) -> jax.Array:
        return observe(self.observation_layout, state.table, player)

    # ------------------------------------------------------------------ people
    def render_text(self, state: HoldemState, seat: int | None = None) -> str:
        """The table as text (:func:`htjax.envs.holdem.views.render_text`)."""
        return views.render_text(self, state, seat)

    def public_view(self, state: HoldemState) -> dict[str, Any]:
        """What a spectator sees (:func:`htjax.envs.holdem.views.public_view`)."""
        return views.public_view(self, state)
