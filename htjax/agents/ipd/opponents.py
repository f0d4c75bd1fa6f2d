"""The 14 classic IPD strategies as opponents that read the env state (:mod:`htjax.agents.ipd.strategies`).

An opponent function sees the whole env state, so a strategy reads its seat's
:class:`~htjax.envs.prisoners_dilemma.rules.MatchMemory` straight from ``state.memory``: the full
match so far (counts, and the last 32 moves of each side), not just the observation window.

Gradual and Prober also keep a small private memory across rounds (their counters) that the env
state does not carry. :func:`rebuild_private` recomputes it each round from the seat's memory,
using what the strategy's own past moves reveal:

* **Prober** plays D, C, C, then defects forever iff the opponent cooperated in rounds 2 and 3.
  Its only cooperations before that test are rounds 2 and 3, and once it defects forever it
  never cooperates again, so the test passed iff no round so far was "Prober C, opponent D":
  ``probe = sucker_count == 0``. Exact (without noise).
* **Gradual** answers a defection with ``n`` defections in a row (``n`` = the opponent's
  defections so far), then cooperates twice. Its current run of defections (the trailing ones of
  its move register) dates the trigger round, the opponent's defections since then give ``n``,
  and two cooperations follow every run. Exact while the current punishment is shorter than
  32 rounds (the register's length); a longer run is taken to have begun 32 rounds ago, which
  ends it at most ``n`` rounds late. Runs that long need an opponent who has already defected
  32 times or more.

``tests/test_ipd_opponents.py`` plays both rebuilt strategies against the tournament's own (which carry
their private memory) and checks every move. :func:`htjax.train.ipd_opponents.classic_opponents`
wraps :func:`classic_opponent_fns` as training :class:`~htjax.train.selfplay.Opponents`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from htjax.agents.ipd.strategies import CLASSIC_14, STRATEGIES, Strategy, get_strategy
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import key_word
from htjax.envs.prisoners_dilemma.config import MAX_WINDOW
from htjax.envs.prisoners_dilemma.env import IteratedPrisonersDilemma
from htjax.envs.prisoners_dilemma.rules import MatchMemory, uniform_from_bits

__all__ = ["TRAINABLE", "classic_opponent_fns", "rebuild_private", "strategy_opponent"]

TRAINABLE: tuple[Strategy, ...] = CLASSIC_14
"""The strategies :func:`classic_opponent_fns` plays: all 14 classic strategies."""


def _trailing_ones(register: jax.Array) -> jax.Array:
    """``int32`` number of consecutive 1 bits from bit 0 of a ``uint32`` register (0..32)."""
    x = register.astype(jnp.uint32)
    low = jax.lax.population_count(x ^ (x + jnp.uint32(1))).astype(jnp.int32) - 1
    return jnp.where(x == jnp.uint32(0xFFFFFFFF), MAX_WINDOW, low)


def _gradual_private(memory: MatchMemory) -> jax.Array:
    """``int32[*B, 2]`` Gradual's ``[punish_count, calm_count]`` before its move in round ``t``."""
    run = jnp.minimum(_trailing_ones(memory.my_moves), jnp.minimum(memory.t, MAX_WINDOW))
    full = run >= MAX_WINDOW
    # Opponent defections during the run so far: n (at the trigger) = the total minus those.
    window = (jnp.uint32(1) << jnp.minimum(run, MAX_WINDOW - 1).astype(jnp.uint32)) - jnp.uint32(1)
    window = jnp.where(full, jnp.uint32(0xFFFFFFFF), window)
    n = memory.opp_defections - jax.lax.population_count(memory.opp_moves & window).astype(jnp.int32)
    # A run as long as the register: take every defection of Gradual's as part of it (the
    # earliest start it can have), and the opponent as defecting in every round of the run that
    # the register forgot. Both make the estimate of what is left lower, so the run still ends.
    longest = memory.my_defections
    n = jnp.where(full, n - (longest - MAX_WINDOW), n)
    run = jnp.where(full, longest, run)
    punishing = run > 0
    after_run = (memory.t >= 2) & (memory.my_move_ago(1) == 0) & (memory.my_move_ago(2) == 1)
    punish = jnp.where(punishing, jnp.maximum(n - run, 0), 0)
    calm = jnp.where(punishing, 2, jnp.where(after_run, 1, 0))
    return jnp.stack([punish, calm], axis=-1).astype(jnp.int32)


def _prober_private(memory: MatchMemory) -> jax.Array:
    """``int32[*B, 1]`` Prober's test result (1 = defect forever); read only after round 3."""
    return (memory.sucker_count == 0).astype(jnp.int32)[..., None]


_REBUILD = {"Gradual": _gradual_private, "Prober": _prober_private}


def rebuild_private(strategy: str | Strategy, memory: MatchMemory) -> jax.Array:
    """The private memory ``int32[*B, private_size]`` that ``strategy`` holds at ``memory.t``.

    Derived from the seat's :class:`MatchMemory` alone (see the module docstring for when it is
    exact). Strategies without private memory get ``int32[*B, 0]``.

    Raises:
      InvalidArgumentError: a strategy with private memory this module cannot rebuild.
    """
    strategy = get_strategy(strategy)
    if not strategy.private_size:
        return strategy.initial_private(jnp.shape(memory.my_defections))
    return _rebuilder(strategy)(memory)


def _rebuilder(strategy: Strategy):
    known = STRATEGIES.get(strategy.name)
    if strategy.name not in _REBUILD or known is None or strategy.act is not known.act:
        raise InvalidArgumentError(
            f"cannot rebuild the private memory of strategy {strategy.name!r} from the env state"
        )
    return _REBUILD[strategy.name]


def strategy_opponent(env: IteratedPrisonersDilemma, strategy: str | Strategy):
    """``opponent(params, state, seat, key) -> int32[]`` playing ``strategy`` from the seat's memory.

    ``params`` is the opponent's own (unused by scripted strategies); the payoffs GTFT and
    Adaptive read are the env config's (the rule parameters of a world are not in its state).
    Its one uniform draw is hashed from ``key`` (:func:`htjax.core.keys.key_word`).
    """
    strategy = get_strategy(strategy)
    if strategy.private_size:
        _rebuilder(strategy)  # fail here, not when tracing
    payoffs = env.config.payoffs

    def opponent(params, state, seat, key):
        memory = jax.tree_util.tree_map(lambda x: x[seat], state.memory)
        u = uniform_from_bits(key_word(key))
        action, _ = strategy.act(memory, rebuild_private(strategy, memory), u, payoffs)
        return jnp.asarray(action, jnp.int32)

    opponent.__name__ = f"{strategy.name}_opponent"
    return opponent


def classic_opponent_fns(env: IteratedPrisonersDilemma) -> tuple[tuple, tuple[str, ...]]:
    """Opponent functions of the 14 classic strategies (:data:`TRAINABLE`) and their names, in
    tournament order.

    Raises:
      InvalidArgumentError: ``env`` is not the prisoner's dilemma.
    """
    if env.id != "prisoners_dilemma":
        raise InvalidArgumentError(f"IPD strategies play prisoners_dilemma, not {env.id!r}")
    return tuple(strategy_opponent(env, s) for s in TRAINABLE), tuple(s.name for s in TRAINABLE)
