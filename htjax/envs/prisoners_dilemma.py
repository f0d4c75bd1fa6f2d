"""Iterated prisoner's dilemma: two seats move simultaneously, ``rounds`` times.

Rules
-----
Each round both seats choose ``COOPERATE`` (0) or ``DEFECT`` (1) at once
(``action: int32[2]``). With ``noise > 0`` each seat's chosen move is flipped independently
with probability ``noise`` *after* choosing (axelrod's noise model); the flipped moves are what
is scored and what both seats observe. Each seat's reward for the round is its payoff:

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
  ``rounds`` is then only a safety cap, and reaching it sets ``truncated`` (the real game would
  have gone on).

Observation (per seat, ``float32[5 * window + 3]``; ``W = window``)
------------------------------------------------------------------
================  ==========================================================================
index             meaning
================  ==========================================================================
``5i + 0``        1 if round ``t - 1 - i`` has been played (``i = 0`` is the latest round)
``5i + 1 .. 2``   this seat's move in that round, one-hot ``[C, D]`` (zeros if not played)
``5i + 3 .. 4``   the opponent's move in that round, one-hot ``[C, D]``
``5W + 0``        rounds played / ``rounds``
``5W + 1``        this seat's score / (``T * rounds``)
``5W + 2``        the opponent's score / (``T * rounds``)
================  ==========================================================================

Memory
------
The game-private state is one :class:`MatchMemory` per seat (its own view of the match):
the last 32 moves of each side as bit registers and the counts from which scores follow. The
same structure, and the same :func:`update_memory` and :func:`observation_from_memory`, drive
the strategies in :mod:`htjax.envs.ipd_strategies` and the vmapped round-robin in
:mod:`htjax.envs.ipd_tournament`, so a trained policy sees identical observations in a
rollout and in a tournament.
"""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.config import ConfigError, EnvConfig, check_float, check_int
from htjax.core.env import SIMULTANEOUS, Env, State

__all__ = [
    "COOPERATE",
    "DEFECT",
    "IPDConfig",
    "MatchMemory",
    "IPDState",
    "IteratedPrisonersDilemma",
    "new_memory",
    "update_memory",
    "observation_from_memory",
    "public_view",
    "uniform_from_bits",
    "tournament",
]

COOPERATE = 0
DEFECT = 1
MAX_WINDOW = 32  # bits in a move register


@dataclasses.dataclass(frozen=True)
class IPDConfig(EnvConfig):
    """Rules of the iterated prisoner's dilemma.

    Attributes:
      temptation, reward, punishment, sucker: payoffs ``T, R, P, S``; ``T > R > P > S`` and
        ``2R >= T + S`` (equality admitted for OpenSpiel's ``10, 5, 1, 0``).
      rounds: number of rounds (fixed horizon), or the cap when ``continuation_probability < 1``.
      noise: probability that each seat's chosen move is flipped, in ``[0, 1]``.
      continuation_probability: probability that another round follows each round, in
        ``(0, 1]``; ``1`` means a fixed horizon of ``rounds``.
      window: number of recent rounds in the observation, ``1 .. 32``.
    """

    temptation: float = 5.0
    reward: float = 3.0
    punishment: float = 1.0
    sucker: float = 0.0
    rounds: int = 100
    noise: float = 0.0
    continuation_probability: float = 1.0
    window: int = 5

    PRESETS = {
        # OpenSpiel's python_iterated_prisoners_dilemma: payoff [[5, 0], [10, 1]], each round ends
        # the game with probability 0.125, max_game_length 9999.
        "openspiel": dict(
            temptation=10.0,
            reward=5.0,
            punishment=1.0,
            sucker=0.0,
            rounds=9999,
            continuation_probability=0.875,
        ),
    }

    def validate(self) -> None:
        for name in ("temptation", "reward", "punishment", "sucker"):
            check_float(name, getattr(self, name), -1e6, 1e6)
        t, r, p, s = self.payoffs
        if not t > r:
            raise ConfigError(f"config field 'temptation' must exceed 'reward' (T > R), got T={t}, R={r}")
        if not r > p:
            raise ConfigError(f"config field 'reward' must exceed 'punishment' (R > P), got R={r}, P={p}")
        if not p > s:
            raise ConfigError(f"config field 'punishment' must exceed 'sucker' (P > S), got P={p}, S={s}")
        if not 2 * r >= t + s:
            raise ConfigError(
                f"config field 'reward' must satisfy 2R >= T + S (mutual cooperation pays best), "
                f"got R={r}, T={t}, S={s}"
            )
        check_int("rounds", self.rounds, 1, 1_000_000)
        check_float("noise", self.noise, 0.0, 1.0)
        check_float("continuation_probability", self.continuation_probability, 0.0, 1.0)
        if self.continuation_probability == 0.0:
            raise ConfigError("config field 'continuation_probability' must be in (0, 1], got 0.0")
        check_int("window", self.window, 1, MAX_WINDOW)

    @property
    def payoffs(self) -> tuple[float, float, float, float]:
        """``(T, R, P, S)``."""
        return (float(self.temptation), float(self.reward), float(self.punishment), float(self.sucker))

    @property
    def fixed_horizon(self) -> bool:
        return self.continuation_probability == 1.0


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class MatchMemory:
    """One seat's view of a match so far; every field has the same (broadcastable) shape.

    Attributes:
      t: ``int32`` rounds played.
      my_moves, opp_moves: ``uint32`` move registers: bit ``i`` is the move (1 = defect) of
        ``i + 1`` rounds ago, for the last 32 rounds.
      my_defections, opp_defections: ``int32`` total defections of each side.
      sucker_count: ``int32`` rounds in which this seat cooperated and the opponent defected.
    """

    t: jax.Array
    my_moves: jax.Array
    opp_moves: jax.Array
    my_defections: jax.Array
    opp_defections: jax.Array
    sucker_count: jax.Array

    # -------------------------------------------------------------- derived views
    def my_move_ago(self, i: int) -> jax.Array:
        """``int32`` this seat's move ``i`` rounds ago (``1`` = latest); meaningful when ``t >= i``."""
        return ((self.my_moves >> (i - 1)) & 1).astype(jnp.int32)

    def opp_move_ago(self, i: int) -> jax.Array:
        """``int32`` the opponent's move ``i`` rounds ago (``1`` = latest); meaningful when ``t >= i``."""
        return ((self.opp_moves >> (i - 1)) & 1).astype(jnp.int32)

    def opp_cooperations(self) -> jax.Array:
        return self.t - self.opp_defections

    def outcome_counts(self) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """``int32`` counts of rounds (mine, theirs) = ``(CC, CD, DC, DD)``."""
        cd = self.sucker_count
        dd = self.opp_defections - cd
        dc = self.my_defections - dd
        cc = self.t - self.my_defections - cd
        return cc, cd, dc, dd

    def scores_by_my_move(self, payoffs) -> tuple[jax.Array, jax.Array]:
        """``float32`` total payoff earned in rounds where this seat cooperated, and defected."""
        t, r, p, s = payoffs
        cc, cd, dc, dd = self.outcome_counts()
        f = jnp.float32
        return r * cc.astype(f) + s * cd.astype(f), t * dc.astype(f) + p * dd.astype(f)

    def my_score(self, payoffs) -> jax.Array:
        with_c, with_d = self.scores_by_my_move(payoffs)
        return with_c + with_d

    def opp_score(self, payoffs) -> jax.Array:
        t, r, p, s = payoffs
        cc, cd, dc, dd = self.outcome_counts()
        f = jnp.float32
        return r * cc.astype(f) + t * cd.astype(f) + s * dc.astype(f) + p * dd.astype(f)


def new_memory(shape: tuple[int, ...] = ()) -> MatchMemory:
    """Memory of a match not yet started, with fields of ``shape``."""
    zi = jnp.zeros(shape, jnp.int32)
    zu = jnp.zeros(shape, jnp.uint32)
    return MatchMemory(t=zi, my_moves=zu, opp_moves=zu, my_defections=zi, opp_defections=zi, sucker_count=zi)


def update_memory(memory: MatchMemory, my_move: jax.Array, opp_move: jax.Array) -> MatchMemory:
    """Record one round (``int32`` moves actually played, after noise) in a seat's memory."""
    mine = my_move.astype(jnp.int32)
    theirs = opp_move.astype(jnp.int32)
    return MatchMemory(
        t=memory.t + 1,
        my_moves=(memory.my_moves << 1) | mine.astype(jnp.uint32),
        opp_moves=(memory.opp_moves << 1) | theirs.astype(jnp.uint32),
        my_defections=memory.my_defections + mine,
        opp_defections=memory.opp_defections + theirs,
        sucker_count=memory.sucker_count + ((1 - mine) & theirs),
    )


def observation_from_memory(memory: MatchMemory, config: IPDConfig) -> jax.Array:
    """One seat's observation ``float32[5 * window + 3]`` (layout in the module docstring).

    Works on memories of any batch shape ``B``: returns ``float32[*B, 5 * window + 3]``.
    """
    fields = jax.tree_util.tree_leaves(memory)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in fields))
    memory = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, shape), memory)
    lags = jnp.arange(config.window, dtype=jnp.uint32)
    t = memory.t[..., None]
    valid = (lags.astype(jnp.int32) < t).astype(jnp.float32)
    mine = ((memory.my_moves[..., None] >> lags) & 1).astype(jnp.float32) * valid
    theirs = ((memory.opp_moves[..., None] >> lags) & 1).astype(jnp.float32) * valid
    recent = jnp.stack([valid, valid - mine, mine, valid - theirs, theirs], axis=-1)
    recent = recent.reshape(recent.shape[:-2] + (5 * config.window,))
    payoffs = config.payoffs
    scale = jnp.float32(payoffs[0] * config.rounds)
    tail = jnp.stack(
        [
            memory.t.astype(jnp.float32) / config.rounds,
            memory.my_score(payoffs) / scale,
            memory.opp_score(payoffs) / scale,
        ],
        axis=-1,
    )
    return jnp.concatenate([recent, tail], axis=-1)


def uniform_from_bits(bits: jax.Array) -> jax.Array:
    """``float32`` uniform in ``[0, 1)`` from ``uint32`` random bits (24-bit resolution)."""
    return (bits >> 8).astype(jnp.float32) * jnp.float32(1.0 / (1 << 24))


def payoff_of(my_move: jax.Array, opp_move: jax.Array, payoffs) -> jax.Array:
    """``float32`` payoff of ``my_move`` against ``opp_move`` (0 = C, 1 = D)."""
    t, r, p, s = payoffs
    table = jnp.array([[r, s], [t, p]], jnp.float32)
    return table[my_move, opp_move]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class IPDState(State):
    """IPD state. ``memory`` holds each seat's :class:`MatchMemory` (fields ``[2]``, seat-major)."""

    memory: MatchMemory


class IteratedPrisonersDilemma(Env[IPDState, IPDConfig]):
    """Iterated prisoner's dilemma (simultaneous moves; see the module docstring).

    * ``action``: ``int32[2]``, 0 = cooperate, 1 = defect, one per seat.
    * ``observation``: ``float32[2, 5 * window + 3]``, each seat's own view.
    * ``legal_action_mask``: ``bool[2, 2]``, always all-True (both moves are always legal).
    * ``rewards``: ``float32[2]``, the round's payoffs.
    * Randomness per step: ``uint32[3]`` bits (two noise flips, one continuation draw).

    >>> import jax, jax.numpy as jnp
    >>> env = IteratedPrisonersDilemma(rounds=3)
    >>> s = env.step(env.init(jax.random.PRNGKey(0)), jnp.array([0, 1]), jax.random.PRNGKey(1))
    >>> s.rewards.tolist()
    [0.0, 5.0]
    """

    id = "prisoners_dilemma"
    version = "v0"
    config_class = IPDConfig
    simultaneous = True
    keep_by_branch = True  # measured faster (see htjax.core.env.Env.keep_by_branch)

    num_players = 2
    num_actions = 2
    action_labels = ("cooperate", "defect")

    def _init(self, key: jax.Array, params) -> IPDState:
        obs_size = 5 * self.config.window + 3
        return IPDState(
            current_player=jnp.int32(SIMULTANEOUS),
            observation=jnp.zeros((2, obs_size), jnp.float32),
            rewards=jnp.zeros(2, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=jnp.ones((2, 2), jnp.bool_),
            step_count=jnp.int32(0),
            memory=new_memory((2,)),
        )

    def _step(self, state: IPDState, action: jax.Array, key: jax.Array, params) -> IPDState:
        cfg = self.config
        u = uniform_from_bits(jax.random.bits(key, (3,), jnp.uint32))
        flips = (u[:2] < cfg.noise).astype(jnp.int32)
        moves = action ^ flips
        opp = moves[::-1]
        memory = update_memory(state.memory, moves, opp)
        rewards = payoff_of(moves, opp, cfg.payoffs)
        at_cap = memory.t[0] >= cfg.rounds
        if cfg.fixed_horizon:
            terminated, truncated = at_cap, jnp.bool_(False)
        else:
            stop = u[2] >= cfg.continuation_probability
            terminated, truncated = stop, at_cap & ~stop
        return state.replace(memory=memory, rewards=rewards, terminated=terminated, truncated=truncated)

    def public_view(self, state) -> dict:
        return public_view(self, state)

    def _observe(self, state: IPDState, player: jax.Array, params) -> jax.Array:
        seat_memory = jax.tree_util.tree_map(lambda x: x[player], state.memory)
        return observation_from_memory(seat_memory, self.config)

    def scores(self, state: IPDState) -> jax.Array:
        """``float32[2]`` total payoff of each seat so far."""
        return state.memory.my_score(self.config.payoffs)


def tournament(*args, **kwargs):
    """Round-robin tournament; see :func:`htjax.envs.ipd_tournament.tournament`."""
    from htjax.envs.ipd_tournament import tournament as _tournament

    return _tournament(*args, **kwargs)


_MOVE_CHARS = ("C", "D")


def public_view(env: IteratedPrisonersDilemma, state: IPDState) -> dict:
    """What a spectator sees of one (unbatched) state, as plain values (the sync layer's hook).

    Both seats' moves are public once played (after noise: the moves that were scored).
    Keys are listed in ``docs/envs/prisoners_dilemma.md`` (Public view).
    """
    m = jax.tree_util.tree_map(lambda x: np.asarray(x), jax.device_get(state.memory))
    if m.t.ndim != 1:
        raise ValueError("public_view expects one world's state, not a batch")
    played = int(m.t[0])
    t, r, p, s = env.config.payoffs
    table = ((r, s), (t, p))
    last = [int(m.my_moves[seat]) & 1 for seat in range(2)] if played else None
    mine = [int(m.my_defections[seat]) for seat in range(2)]
    sucker = [int(m.sucker_count[seat]) for seat in range(2)]
    scores = []
    for seat in range(2):
        other = 1 - seat
        dd = mine[other] - sucker[seat]  # opponent defections = CD + DD
        dc = mine[seat] - dd
        cc = played - mine[seat] - sucker[seat]
        scores.append(float(r * cc + s * sucker[seat] + t * dc + p * dd))
    return {
        "round": played,
        "rounds": int(env.config.rounds),
        "last_moves": None if last is None else [_MOVE_CHARS[x] for x in last],
        "last_payoffs": None if last is None else [float(table[last[0]][last[1]]), float(table[last[1]][last[0]])],
        "scores": scores,
        "defections": mine,
        "over": bool(np.asarray(state.terminated) | np.asarray(state.truncated)),
        "step": int(np.asarray(state.step_count)),
    }
