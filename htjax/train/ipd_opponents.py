"""The classic IPD strategies as training opponents (see :mod:`htjax.envs.ipd_strategies`).

An opponent function sees the whole env state, so a strategy reads its seat's
:class:`~htjax.envs.prisoners_dilemma.MatchMemory` straight from ``state.memory``: the full
match, not just the observation window. Gradual and Prober also keep a private memory across
rounds that the env state does not carry; they are left out of training (they still play in
the evaluation tournament, which carries their memory).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from htjax.envs.ipd_strategies import CLASSIC_14, Strategy
from htjax.envs.prisoners_dilemma import IteratedPrisonersDilemma, uniform_from_bits
from htjax.train.selfplay import Opponents

__all__ = ["strategy_opponent", "classic_opponents", "TRAINABLE"]

TRAINABLE = tuple(s for s in CLASSIC_14 if s.private_size == 0)
"""The 12 classic strategies without private memory."""


def strategy_opponent(env: IteratedPrisonersDilemma, strategy: Strategy):
    """``opponent(params, state, seat, key) -> int32[]`` playing ``strategy`` from the seat's memory."""
    if strategy.private_size:
        raise ValueError(f"{strategy.name} keeps a private memory the env state does not hold")
    payoffs = env.config.payoffs

    def opponent(params, state, seat, key):
        memory = jax.tree_util.tree_map(lambda x: x[seat], state.memory)
        u = uniform_from_bits(jax.random.bits(key, (), jnp.uint32))
        action, _ = strategy.act(memory, strategy.initial_private(), u, payoffs)
        return jnp.asarray(action, jnp.int32)

    opponent.__name__ = f"{strategy.name}_opponent"
    return opponent


def classic_opponents(env: IteratedPrisonersDilemma) -> Opponents:
    """:class:`Opponents` of the 12 memory-free classic strategies."""
    if env.id != "prisoners_dilemma":
        raise ValueError(f"IPD strategies play prisoners_dilemma, not {env.id!r}")
    return Opponents(
        fns=tuple(strategy_opponent(env, s) for s in TRAINABLE), names=tuple(s.name for s in TRAINABLE)
    )
