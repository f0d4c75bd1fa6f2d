"""The iterated prisoner's dilemma as an htjax env: two seats move simultaneously, round after round.

The rules are in :mod:`~htjax.envs.prisoners_dilemma.rules` (pure functions of a
:class:`~htjax.envs.prisoners_dilemma.rules.MatchMemory`); this module adapts them to the
contract (seats, rewards, termination, rule parameters, the illegal-action forfeit).

Rules
-----
Each round both seats choose ``COOPERATE`` (0) or ``DEFECT`` (1) at once (``action: int32[2]``).
With ``noise > 0`` each chosen move is flipped independently with probability ``noise`` after
choosing (axelrod's noise model); the flipped moves are scored and observed by both seats. Each
seat's reward for the round is its payoff:

=========  ===========  ===========
seat 0     seat 1 C     seat 1 D
=========  ===========  ===========
C          R, R         S, T
D          T, S         P, P
=========  ===========  ===========

with ``T > R > P > S`` and ``2R >= T + S`` (default ``T, R, P, S = 5, 3, 1, 0``).

Episode end
-----------
* ``continuation_probability == 1`` (default): exactly ``rounds`` rounds; the last one sets
  ``terminated`` (the horizon is part of the rules, as in OpenSpiel and PettingZoo's classic
  games; a value function should not bootstrap past it).
* ``continuation_probability = c < 1``: after every round the game stops with probability
  ``1 - c`` (``terminated``), so the match length is geometric with mean ``1 / (1 - c)``; this is
  OpenSpiel's ``python_iterated_prisoners_dilemma`` (``c = 0.875``) and axelrod's ``prob_end``.
  ``rounds`` is then only a safety cap, and reaching it sets ``truncated``.

Rule parameters (per world): the payoffs, ``noise`` and ``continuation_probability``
(``IPDConfig.PARAM_FIELDS``); ``rounds`` and ``window`` are static (they size arrays).

Illegal actions
---------------
Both moves are always legal, so only an out-of-range move inside ``jit`` is illegal. Its
forfeit makes sure it never pays: the offender receives, for every round that could still be
played (``rounds - t``, so at most ``rounds``), the lowest payoff when it is negative,
``(rounds - t) * min(0, T, R, P, S)``, then the penalty; the other seat receives nothing (the
game is not zero-sum). With payoffs that are all ``>= 0`` (the default) nothing is at stake and
the forfeit is 0.

Randomness
----------
Three words hashed from the step key (:func:`htjax.core.keys.random_words`): the two noise
flips and the continuation draw (:func:`~htjax.envs.prisoners_dilemma.rules.round_words`).
"""

from __future__ import annotations

from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import SIMULTANEOUS, Env, Params, State
from htjax.envs.prisoners_dilemma.config import IPDConfig
from htjax.envs.prisoners_dilemma.observation import observation_layout, observation_of
from htjax.envs.prisoners_dilemma.rules import (
    CONTINUATION_WORD,
    NOISE_WORDS,
    MatchMemory,
    apply_noise,
    lowest_payoff,
    match_stops,
    new_memory,
    payoff_of,
    round_words,
    uniform_from_bits,
    update_memory,
)
from htjax.envs.prisoners_dilemma.views import match_view, status_line

__all__ = ["IPDState", "IteratedPrisonersDilemma", "payoffs_of"]


def payoffs_of(params: Params) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """``(T, R, P, S)`` of one world's rule parameters."""
    return (params["temptation"], params["reward"], params["punishment"], params["sucker"])


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class IPDState(State):
    """IPD state.

    Attributes:
      memory: each seat's :class:`MatchMemory` (fields ``[2]``, seat-major).
      score: ``float32[2]`` each seat's total payoff so far.
      last_payoff: ``float32[2]`` each seat's payoff in the latest round (0 before the first).
    """

    memory: MatchMemory
    score: jax.Array
    last_payoff: jax.Array


class IteratedPrisonersDilemma(Env[IPDState, IPDConfig]):
    """Iterated prisoner's dilemma (simultaneous moves; see the module docstring).

    * ``action``: ``int32[2]``, 0 = cooperate, 1 = defect, one per seat.
    * ``observation``: ``float32[2, 5 * window + 3]``, each seat's own view
      (:func:`~htjax.envs.prisoners_dilemma.observation.observation_layout`).
    * ``legal_action_mask``: ``bool[2, 2]``, always all-True (both moves are always legal).
    * ``rewards``: ``float32[2]``, the round's payoffs.
    * Randomness per step: ``uint32[3]`` hashed words (two noise flips, one continuation draw).

    >>> import jax, jax.numpy as jnp
    >>> env = IteratedPrisonersDilemma(rounds=3)
    >>> s = env.step(env.init(jax.random.PRNGKey(0)), jnp.array([0, 1]), jax.random.PRNGKey(1))
    >>> s.rewards.tolist()
    [0.0, 5.0]
    """

    id = "prisoners_dilemma"
    version = "v1"  # v1: hashed step words (noise, continuation), forfeit, per-world rule parameters
    config_class = IPDConfig
    simultaneous = True
    zero_sum = False
    keep_by_branch = True  # measured faster (see htjax.core.env.Env.keep_by_branch)

    num_players = 2
    num_actions = 2
    action_labels = ("cooperate", "defect")

    @property
    def layout(self):
        """The observation's :class:`~htjax.core.layout.ObservationLayout` (``5 * window + 3`` entries)."""
        return observation_layout(self.config.window)

    @property
    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``float64[5 * window + 3]`` bounds from the layout (they hold under any valid rule parameters)."""
        return self.layout.bounds()

    def _init(self, key: jax.Array, params: Params) -> IPDState:
        zeros = jnp.zeros(2, jnp.float32)
        return IPDState(
            current_player=jnp.int32(SIMULTANEOUS),
            observation=jnp.zeros((2, self.layout.size), jnp.float32),
            rewards=zeros,
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=jnp.ones((2, 2), jnp.bool_),
            step_count=jnp.int32(0),
            memory=new_memory((2,)),
            score=zeros,
            last_payoff=zeros,
        )

    def _step(self, state: IPDState, action: jax.Array, key: jax.Array, params: Params) -> IPDState:
        u = uniform_from_bits(round_words(key))
        moves = apply_noise(action, jnp.stack([u[i] for i in NOISE_WORDS]), params["noise"])
        opp = moves[::-1]
        memory = update_memory(state.memory, moves, opp)
        rewards = payoff_of(moves, opp, payoffs_of(params))
        c = params["continuation_probability"]
        at_cap = memory.t[0] >= self.config.rounds
        fixed = c >= 1.0
        terminated = match_stops(u[CONTINUATION_WORD], c) | (at_cap & fixed)
        truncated = at_cap & ~terminated
        return state.replace(
            memory=memory,
            score=state.score + rewards,
            last_payoff=rewards,
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
        )

    def _observe(self, state: IPDState, player: jax.Array, params: Params) -> jax.Array:
        seat_memory = jax.tree_util.tree_map(lambda x: x[player], state.memory)
        return observation_of(seat_memory, self.config, payoffs_of(params))

    def _forfeit(self, state: IPDState, offenders: jax.Array, params: Params) -> jax.Array:
        """Each offender gets ``(rounds - t) * min(0, lowest payoff)`` (see the module docstring)."""
        left = jnp.clip(self.config.rounds - state.memory.t[0], 0, self.config.rounds).astype(jnp.float32)
        worst = jnp.minimum(jnp.float32(0.0), lowest_payoff(payoffs_of(params)))
        return jnp.where(offenders, left * worst, jnp.float32(0.0))

    def scores(self, state: IPDState) -> jax.Array:
        """``float32[2]`` total payoff of each seat so far (leading batch axes allowed)."""
        return state.score

    def render_text(self, state: IPDState, seat: int | None = None) -> str:
        """One line for ``htjax play``: the round (``k of n``), both seats' last moves in words
        with their payoffs, and the scores so far (``seat`` is "you")."""
        return status_line(self.config, state, seat)

    def public_view(self, state: IPDState) -> dict[str, Any]:
        """What a spectator sees of one state, as plain values: ``round``, ``rounds``,
        ``last_moves`` (``["C", "D"]``, after noise), ``last_payoffs``, ``scores``, ``defections``,
        ``over`` and ``step`` (``docs/envs/prisoners_dilemma.md``, Public view)."""
        return match_view(self.config, state)
