"""One player's observation of the iterated prisoner's dilemma, defined once as a layout table.

:func:`observation_layout` is the table (``htjax.core.layout.ObservationLayout``) from which
the observation (:func:`observation_from_memory` packs it), ``observation_bounds``, the docs
table on ``docs/envs/prisoners_dilemma.md`` and the layout hash all follow. With ``W = window``:

* ``history`` (``5 * W`` entries): for ``i = 0 .. W - 1`` (``i = 0`` is the latest round), the
  five entries ``5i .. 5i + 4`` are: 1 if the round ``i + 1`` rounds ago has been played; this
  player's move in it, one-hot ``[C, D]``; the opponent's move, one-hot ``[C, D]`` (all zero if
  not played);
* ``progress``: rounds played / ``rounds``;
* ``my_score``, ``opp_score``: each side's total payoff / (``rounds * max(|T|, |S|)``), so in
  ``[-1, 1]`` for every valid payoff table (``T * rounds`` at the default payoffs, where
  ``T >= |S|``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from htjax.core.layout import Field, ObservationLayout
from htjax.envs.prisoners_dilemma.config import IPDConfig
from htjax.envs.prisoners_dilemma.rules import MatchMemory, payoff_scale

__all__ = ["observation_from_memory", "observation_layout", "observation_of"]


@functools.cache
def observation_layout(window: int) -> ObservationLayout:
    """The observation table for a ``window`` of recent rounds (``5 * window + 3`` entries)."""
    return ObservationLayout(
        (
            Field(
                "history",
                5 * window,
                0,
                1,
                f"the last {window} rounds, latest first, 5 entries each: played, own move one-hot [C, D], "
                "opponent's move one-hot [C, D]",
            ),
            Field("progress", 1, 0, 1, "rounds played / `rounds`"),
            Field("my_score", 1, -1, 1, "this seat's score / (`rounds` * max(abs(T), abs(S)))"),
            Field("opp_score", 1, -1, 1, "the opponent's score / (`rounds` * max(abs(T), abs(S)))"),
        )
    )


def observation_of(memory: MatchMemory, config: IPDConfig, payoffs) -> jax.Array:
    """Observation ``float32[5 * window + 3]`` of one memory (scalar fields) under ``payoffs``."""
    window, rounds = config.window, config.rounds
    lags = jnp.arange(window, dtype=jnp.uint32)
    valid = (lags.astype(jnp.int32) < memory.t).astype(jnp.float32)
    mine = ((memory.my_moves >> lags) & 1).astype(jnp.float32) * valid
    theirs = ((memory.opp_moves >> lags) & 1).astype(jnp.float32) * valid
    history = jnp.stack([valid, valid - mine, mine, valid - theirs, theirs], axis=-1)
    scale = payoff_scale(payoffs) * jnp.float32(rounds)
    return observation_layout(window).pack(
        {
            "history": history,
            "progress": memory.t.astype(jnp.float32) / rounds,
            "my_score": memory.my_score(payoffs) / scale,
            "opp_score": memory.opp_score(payoffs) / scale,
        }
    )


def observation_from_memory(memory: MatchMemory, config: IPDConfig, payoffs=None) -> jax.Array:
    """A player's observation ``float32[5 * window + 3]`` (see the module docstring).

    ``memory`` fields may have any (broadcastable) batch shape ``B``: the result is
    ``float32[*B, 5 * window + 3]``. ``payoffs`` (``(T, R, P, S)``, scalars) default to the
    config's.
    """
    payoffs = config.payoffs if payoffs is None else payoffs
    fields = jax.tree_util.tree_leaves(memory)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in fields))
    memory = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, shape).reshape(-1), memory)
    out = jax.vmap(lambda m: observation_of(m, config, payoffs))(memory)
    return out.reshape(shape + out.shape[-1:])
