"""ObservationLayout.pack: the feature-major batched concatenation gives the plain one's values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from htjax.core.errors import InvalidArgumentError
from htjax.core.layout import Field, ObservationLayout

LAYOUT = ObservationLayout(
    (
        Field("total", 1, 0, 31, "hand total / 31"),
        Field("dealer", 3, 0, 1, "one-hot"),
        Field("flag", 1, 0, 1, "a flag"),
        Field("scale", 1, 0, 1, "a constant"),
    )
)


def _parts(x):
    """One world's parts from ``x`` (``float32[5]``); ``scale`` does not depend on ``x``."""
    return {"total": x[0], "dealer": x[1:4], "flag": x[4] > 0, "scale": jnp.float32(0.5)}


@pytest.mark.parametrize("feature_major", [False, True])
def test_pack_one_world(feature_major):
    x = jnp.arange(5, dtype=jnp.float32) - 1
    out = LAYOUT.pack(_parts(x), feature_major=feature_major)
    np.testing.assert_array_equal(np.asarray(out), [-1, 0, 1, 2, 1, 0.5])


def test_feature_major_matches_plain_under_vmap_and_jit():
    xs = jax.random.normal(jax.random.PRNGKey(0), (7, 5))

    def f(major):
        return jax.jit(jax.vmap(lambda x: LAYOUT.pack(_parts(x), feature_major=major)))

    plain, major = f(False)(xs), f(True)(xs)
    assert major.shape == (7, LAYOUT.size) and major.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(major), np.asarray(plain))
    # nested batches (worlds x seats), as simultaneous games observe every seat
    nested = xs.reshape(7, 1, 5)
    g = jax.vmap(jax.vmap(lambda x: LAYOUT.pack(_parts(x), feature_major=True)))
    np.testing.assert_array_equal(np.asarray(g(nested))[:, 0], np.asarray(plain))


def test_feature_major_checks_sizes():
    parts = _parts(jnp.zeros(5)) | {"dealer": jnp.zeros(2)}
    with pytest.raises(InvalidArgumentError, match="dealer"):
        LAYOUT.pack(parts, feature_major=True)
