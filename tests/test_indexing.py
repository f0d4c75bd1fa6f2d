"""``htjax.core.indexing.pick``: ``values[index]`` as selects (short axes) or a gather (long)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from htjax.core.indexing import SELECT_CHAIN_MAX, pick


@pytest.mark.parametrize("n", [1, 4, SELECT_CHAIN_MAX, SELECT_CHAIN_MAX + 1, 28])
@pytest.mark.parametrize("rest", [(), (3,), (2, 5)])
def test_pick_equals_indexing_and_reads_zeros_outside(n, rest):
    rng = np.random.default_rng(n)
    values = rng.integers(-50, 50, size=(n, *rest)).astype(np.int8)
    index = np.array([[-3, -1, 0], [n - 1, n, n + 7]], np.int32)
    if n > 1:
        index[0, 2] = n // 2
    got = np.asarray(pick(jnp.asarray(values), jnp.asarray(index)))
    want = np.zeros(index.shape + rest, np.int8)
    inside = (index >= 0) & (index < n)
    want[inside] = values[index[inside]]
    assert got.dtype == values.dtype and got.shape == index.shape + rest
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [4, 28])
def test_pick_under_vmap_and_jit_with_a_scalar_index(n):
    values = jnp.arange(n * 2, dtype=jnp.float32).reshape(n, 2)
    index = jnp.array([0, n - 1, 2, -1, n], jnp.int32)
    got = jax.jit(jax.vmap(pick, in_axes=(None, 0)))(values, index)
    want = np.stack(
        [np.asarray(values)[i] if 0 <= i < n else np.zeros(2, np.float32) for i in index.tolist()]
    )
    np.testing.assert_array_equal(np.asarray(got), want)
