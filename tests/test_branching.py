"""rare_cond: lax.cond per world, a batch-level branch under vmap, same values either way."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.branching import rare_cond


def _rare(x, y):
    return {"v": x * 100 + y, "w": jnp.float32(1.5) * x}


def _common(x, y):
    return {"v": x + y, "w": -jnp.float32(1.0) * x}


def _one(p, x, y):
    return rare_cond(p, _rare, _common, x, y)


def test_one_world_is_lax_cond():
    for p in (True, False):
        chex.assert_trees_all_equal(_one(p, 2, 3), jax.lax.cond(p, _rare, _common, 2, 3))
        chex.assert_trees_all_equal(jax.jit(_one)(p, 2, 3), jax.lax.cond(p, _rare, _common, 2, 3))


def test_batched_equals_a_loop_over_worlds_including_unbatched_operands_and_nested_vmap():
    p = jnp.array([True, False, False, True])
    x = jnp.arange(4)
    y = jnp.full(4, 7)
    want = [_one(bool(p[i]), int(x[i]), 7) for i in range(4)]
    got = jax.jit(jax.vmap(_one))(p, x, y)
    for i in range(4):
        chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda a: a[i], got), want[i])
    chex.assert_trees_all_equal(jax.vmap(_one, in_axes=(0, 0, None))(p, x, 7), got)
    nested = jax.vmap(jax.vmap(_one))(jnp.stack([p, ~p]), jnp.stack([x, x]), jnp.stack([y, y]))
    chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda a: a[0], nested), got)
    flipped = jax.vmap(_one)(~p, x, y)
    chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda a: a[1], nested), flipped)


def test_batched_rare_branch_runs_only_when_some_world_needs_it():
    calls = []

    def rare(x):
        jax.debug.callback(lambda: calls.append(1))
        return x * 2

    run = jax.jit(jax.vmap(lambda p, x: rare_cond(p, rare, lambda x: x, x)))
    x = jnp.arange(8)
    np.testing.assert_array_equal(run(jnp.zeros(8, bool), x), x)
    jax.effects_barrier()
    assert calls == []  # a select would have run the rare branch anyway
    np.testing.assert_array_equal(run(x == 3, x), jnp.where(x == 3, 2 * x, x))
    jax.effects_barrier()
    assert len(calls) == 1  # once for the whole batch


def test_inside_scan_under_jit():
    def loop(c):
        def body(c, _):
            out = jax.vmap(_one)(c > 5, c, jnp.ones_like(c))["v"]
            return out % 7, out

        return jax.lax.scan(body, c, None, length=4)

    c0 = jnp.arange(9)
    carry, ys = jax.jit(loop)(c0)
    c = np.asarray(c0)
    for t in range(4):
        v = np.where(c > 5, c * 100 + 1, c + 1)
        np.testing.assert_array_equal(ys[t], v)
        c = v % 7
    np.testing.assert_array_equal(carry, c)
