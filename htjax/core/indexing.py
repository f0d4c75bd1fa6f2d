"""``pick``: ``values[index]`` along a short axis, as elementwise selects instead of a gather.

Under ``vmap`` an index that differs per world makes ``values[index]`` a gather, which XLA:CPU
runs as a scalar loop over the worlds; a chain of selects over the axis is elementwise code that
vectorises and fuses with its neighbours (measured in blackjack's hand reads and Cuttle's
per-seat reads, ``docs/performance.md``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["SELECT_CHAIN_MAX", "pick"]

SELECT_CHAIN_MAX = 8
"""Longest axis read as a chain of selects: 28 hand slots (blackjack with 7 seats) read 14%
slower as a chain than as a gather."""


def pick(values: jax.Array, index: jax.Array) -> jax.Array:
    """``values[index]`` along the first axis of ``values`` (``[n, *rest]``, ``n`` static) for an
    integer ``index`` of any shape: returns ``[*index.shape, *rest]``, zeros where ``index`` is
    outside ``[0, n)``. Axes longer than :data:`SELECT_CHAIN_MAX` are gathered."""
    index = jnp.asarray(index)
    rest = values.shape[1:]
    n = values.shape[0]
    if n > SELECT_CHAIN_MAX:
        inside = ((index >= 0) & (index < n)).reshape(index.shape + (1,) * len(rest))
        return jnp.where(inside, values[jnp.clip(index, 0, n - 1)], 0).astype(values.dtype)
    out = jnp.zeros(index.shape + rest, values.dtype)
    for k in range(n):
        hit = (index == k).reshape(index.shape + (1,) * len(rest))
        out = jnp.where(hit, values[k], out)
    return out
