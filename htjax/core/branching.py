"""``rare_cond``: a branch that stays a branch under ``vmap``.

Under ``jax.vmap`` a ``lax.cond`` whose predicate differs between worlds turns into a
``select`` that computes *both* branches for every world. For work that only a rare world
needs (a dealer drawing a seventh card), that means paying for it on every step.
:func:`rare_cond` keeps the per-world meaning of ``lax.cond`` exactly, but its batched form runs
the rare branch, for the whole batch, only on the steps where at least one world needs it::

    out = rare_cond(pred, rare_fn, common_fn, *operands)

* one world (no ``vmap``): ``lax.cond(pred, rare_fn, common_fn, *operands)``;
* a batch: ``lax.cond(any(pred), where(pred, vmap(rare_fn), vmap(common_fn)), vmap(common_fn))``.

Both give every world the same values, so a batched rollout and a one-world replay agree
bit for bit. Built on ``jax.custom_batching.custom_vmap``: it composes with ``jit``, ``scan``,
nested ``vmap`` and sharding (the ``any`` becomes one small all-reduce per call when the
batch is split over devices), not with automatic differentiation, which game rules never need.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

__all__ = ["rare_cond"]


def _broadcast(x: jax.Array, batched: bool, size: int) -> jax.Array:
    return x if batched else jnp.broadcast_to(x, (size,) + jnp.shape(x))


def rare_cond(
    pred: jax.Array, rare_fn: Callable[..., Any], common_fn: Callable[..., Any], *operands: Any
) -> Any:
    """``lax.cond(pred, rare_fn, common_fn, *operands)`` whose batched form skips ``rare_fn``
    on calls where no world's ``pred`` holds (see the module docstring).

    ``rare_fn`` and ``common_fn`` must be pure and return pytrees of the same structure, shapes
    and dtypes; ``pred`` is a ``bool[]`` per world.
    """

    @jax.custom_batching.custom_vmap
    def branch(p, *ops):
        return jax.lax.cond(p, rare_fn, common_fn, *ops)

    @branch.def_vmap
    def _batched(axis_size, in_batched, p, *ops):
        p = _broadcast(p, in_batched[0], axis_size)
        ops = jax.tree_util.tree_map(lambda x, b: _broadcast(x, b, axis_size), ops, tuple(in_batched[1:]))
        common = jax.vmap(common_fn)

        def with_rare(ops):
            rare, usual = jax.vmap(rare_fn)(*ops), common(*ops)
            return jax.tree_util.tree_map(
                lambda a, b: jnp.where(p.reshape(p.shape + (1,) * (a.ndim - 1)), a, b), rare, usual
            )

        out = jax.lax.cond(jnp.any(p), with_rare, lambda ops: common(*ops), ops)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    return branch(pred, *operands)
