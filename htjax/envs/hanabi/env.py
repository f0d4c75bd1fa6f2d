"""The Hanabi env: the rules of :mod:`htjax.envs.hanabi.rules` under the env contract (seats,
shared score-delta rewards, HLE's canonical observation, HLE's move ids and legal mask).

See :mod:`htjax.envs.hanabi` for the summary and ``docs/envs/hanabi.md`` for the rules text.
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
from htjax.core.keys import random_words
from htjax.core.layout import ObservationLayout
from htjax.envs.hanabi import rules as R
from htjax.envs.hanabi import views
from htjax.envs.hanabi.config import HanabiConfig, action_labels
from htjax.envs.hanabi.observation import observation_layout, observe

__all__ = ["Hanabi", "HanabiState"]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class HanabiState(State):
    """Contract fields plus ``board`` (:class:`htjax.envs.hanabi.rules.Board`)."""

    board: R.Board


class Hanabi(Env[HanabiState, HanabiConfig]):
    """Cooperative Hanabi for 2..5 seats, HLE rules, observation and move ids; see
    :mod:`htjax.envs.hanabi`."""

    id = "hanabi"
    version = "v1"
    config_class = HanabiConfig
    keep_by_branch = True  # a rollout's step skips the whole-state select (docs/envs/hanabi.md)

    def __init__(self, config: HanabiConfig | None = None, /, *, preset: str | None = None, **overrides: Any):
        super().__init__(config, preset=preset, **overrides)
        self.rules = R.Rules(self.config.num_players)
        self._labels = action_labels(self.config.num_players)

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def num_actions(self) -> int:
        return self.rules.num_moves

    @property
    def action_labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def hand_size(self) -> int:
        return self.rules.hand_size

    @property
    def observation_layout(self) -> ObservationLayout:
        """HLE's canonical encoding as a table (:mod:`htjax.envs.hanabi.observation`)."""
        return observation_layout(self.num_players)

    @property
    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``: every entry is a bit, in ``[0, 1]``."""
        return self.observation_layout.bounds()

    # ------------------------------------------------------------------ decks
    def stacked_deck(self, order: Sequence[str | int]) -> cards.Deck:
        """A deck dealing ``order`` first: seat 0's ``H`` cards, seat 1's, ..., then the draws in
        order; cards not given come at random. Cards are ``"R1"`` .. ``"B5"`` or ids 0..24.
        Raises :class:`~htjax.core.errors.InvalidArgumentError` for a card used too often."""
        return R.stacked_deck(order)

    def init_deal(self, key: jax.Array, deck: cards.Deck | None = None) -> HanabiState:
        """Start a game dealt from ``deck`` (default: the shuffled 50 cards; see :meth:`stacked_deck`).

        ``init(key) == init_deal(key)``; a stacked deck makes a game's deal and draws exact (as
        the reference replay and hand-built positions need)."""
        return self._finish(self._start(key, R.fresh_deck() if deck is None else deck))

    def state_from_board(self, board: R.Board, step_count: Any = 0) -> HanabiState:
        """The state of a hand-built :class:`~htjax.envs.hanabi.rules.Board` (puzzles, tests):
        seat to act, legal mask, end and observation derived from it; zero rewards."""
        state = self._from_board(board, jnp.zeros(self.num_players, jnp.float32), jnp.int32(step_count))
        return self._finish(state)

    def _start(self, key: jax.Array, deck: cards.Deck) -> HanabiState:
        n = self.num_players
        board = R.start(self.rules, deck, random_words(key, n * self.hand_size))
        return self._from_board(board, jnp.zeros(n, jnp.float32), jnp.int32(0))

    # ------------------------------------------------------------------ contract hooks
    def _init(self, key: jax.Array, params: Params) -> HanabiState:
        return self._start(key, R.fresh_deck())

    def _step(self, state: HanabiState, action: jax.Array, key: jax.Array, params: Params) -> HanabiState:
        board = R.act(self.rules, state.board, action, random_words(key, 1)[0])
        delta = (R.score(board) - R.score(state.board)).astype(jnp.float32)
        return self._from_board(board, jnp.full(self.num_players, delta), state.step_count)

    def _forfeit(self, state: HanabiState, offenders: jax.Array, params: Params) -> jax.Array:
        """The game is lost as if the last life went: every seat gives back the score so far
        (its return becomes 0, HLE's score of a lost game); the offender's penalty comes on top."""
        return jnp.full(self.num_players, -R.score(state.board).astype(jnp.float32))

    def _from_board(self, board: R.Board, rewards: jax.Array, step_count: jax.Array) -> HanabiState:
        return HanabiState(
            current_player=board.to_act,
            observation=jnp.zeros(self.observation_layout.size, jnp.bool_),
            rewards=rewards.astype(jnp.float32),
            terminated=R.is_over(board),
            truncated=jnp.bool_(False),
            legal_action_mask=R.legal_moves(self.rules, board),
            step_count=step_count,
            board=board,
        )

    def _observe(self, state: HanabiState, player: jax.Array, params: Params) -> jax.Array:
        # The barrier makes XLA materialise the board before encoding it: without it, XLA fuses
        # the step's hand updates (or the deal) into the observation's hundreds of entries and
        # recomputes them per entry (docs/envs/hanabi.md, Performance).
        board, player = jax.lax.optimization_barrier((state.board, player))
        return observe(self.observation_layout, board, player)

    # ------------------------------------------------------------------ people
    def score(self, state: HanabiState) -> jax.Array:
        """``int32[]``: the game's score (the fireworks' sum; 0 once every life is lost)."""
        return R.score(state.board)

    def render_text(self, state: HanabiState, seat: int | None = None) -> str:
        """The table as text (:func:`htjax.envs.hanabi.views.render_text`)."""
        return views.render_text(self, state, seat)

    def public_view(self, state: HanabiState) -> dict[str, Any]:
        """What every seat may see (:func:`htjax.envs.hanabi.views.public_view`)."""
        return views.public_view(self, state)
