"""The key schedule (htjax.core.keys): streams never repeat a key, stay apart, keep key kinds."""

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import keys


def _rows(a) -> set:
    return {tuple(r) for r in np.asarray(keys.key_data(a)).reshape(-1, 2).tolist()}


def test_step_keys_of_one_episode_are_distinct_and_differ_from_episode_keys():
    ekey = jax.random.PRNGKey(7)
    steps = jax.vmap(lambda t: keys.step_key(ekey, t))(jnp.arange(100_000, dtype=jnp.uint32))
    episodes = jax.vmap(lambda i: keys.episode_key_for(ekey, i))(jnp.arange(100_000, dtype=jnp.uint32))
    assert len(_rows(steps)) == 100_000
    assert len(_rows(episodes)) == 100_000
    assert not _rows(steps) & _rows(episodes)


def test_derived_words_are_uniform_bits():
    # every bit of the step keys of many episodes is 1 about half the time
    ekeys = jax.random.split(jax.random.PRNGKey(0), 512)
    data = jax.vmap(lambda k: jax.vmap(lambda t: keys.step_key(k, t))(jnp.arange(64)))(ekeys)
    bits = (np.asarray(data, np.uint64)[..., None] >> np.arange(32, dtype=np.uint64)) & 1
    freq = bits.reshape(-1, 2, 32).mean(axis=0)
    n = 512 * 64
    assert np.all(np.abs(freq - 0.5) < 5 * 0.5 / np.sqrt(n)), freq


def test_typed_keys_stay_typed_and_match_legacy_data():
    typed = jax.random.key(3)
    legacy = jax.random.PRNGKey(3)
    for fn in (
        lambda k: keys.step_key(k, 5),
        lambda k: keys.episode_key_for(k, 2),
        lambda k: keys.policy_keys(k, 4, 3),
    ):
        out = fn(typed)
        assert jnp.issubdtype(out.dtype, jax.dtypes.prng_key)
        np.testing.assert_array_equal(keys.key_data(out), fn(legacy))


def test_policy_keys_are_distinct_across_worlds_and_steps():
    root = jax.random.PRNGKey(1)
    grid = jax.vmap(lambda t: keys.policy_keys(root, t, 256))(jnp.arange(64))
    assert len(_rows(grid)) == 64 * 256


def test_random_words_and_key_word_from_derived_keys_are_uniform():
    ekey = jax.random.PRNGKey(11)
    words = jax.vmap(lambda t: keys.key_word(keys.step_key(ekey, t)))(jnp.arange(200_000))
    counts = np.bincount(np.asarray(words % 13), minlength=13)
    expected = 200_000 / 13
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 40.0, chi2  # 12 degrees of freedom: p < 1e-4 above 40


def _chi2_uniform(values: np.ndarray, buckets: int) -> float:
    counts = np.bincount(values, minlength=buckets)
    expected = len(values) / buckets
    return float(((counts - expected) ** 2 / expected).sum())


def test_random_words_of_hand_made_neighbouring_keys_are_uniform_and_independent():
    """random_words hashes (no threefry): sequential keys PRNGKey(0), PRNGKey(1), ... and
    neighbouring counters must still give uniform, balanced, mutually independent words."""
    n_keys, n_words = 20_000, 8
    seeds = jnp.arange(n_keys, dtype=jnp.uint32)
    data = jnp.stack([jnp.zeros_like(seeds), seeds], axis=-1)  # what PRNGKey(seed) holds
    words = np.asarray(jax.vmap(lambda k: keys.random_words(k, n_words))(data), np.uint64)
    # uniform: 256 buckets of the top byte, and of the bottom byte, over all words
    for values in (words >> 24, words & 0xFF):
        assert _chi2_uniform(values.reshape(-1).astype(np.int64), 256) < 340  # 255 dof, p ~ 3e-4
    # every bit balanced
    bits = (words[..., None] >> np.arange(32, dtype=np.uint64)) & 1
    freq = bits.reshape(-1, 32).mean(axis=0)
    assert np.all(np.abs(freq - 0.5) < 5 * 0.5 / np.sqrt(n_keys * n_words)), freq
    # independence: the pair (top 4 bits of word i, of the same word for the next key) and
    # (word i, word i + 1 of the same key) are uniform over 16 x 16 cells
    top = (words >> 28).astype(np.int64)
    for a, b in ((top[:-1, 0], top[1:, 0]), (top[:, 0], top[:, 1]), (top[:, 3], top[:, 4])):
        assert _chi2_uniform(a * 16 + b, 256) < 340


def test_random_words_of_one_step_are_distinct_and_keys_kinds_agree():
    data = jax.random.split(jax.random.PRNGKey(2), 2_000)
    words = np.asarray(jax.vmap(lambda k: keys.random_words(k, 64))(data))
    assert all(len(set(row.tolist())) == 64 for row in words)
    np.testing.assert_array_equal(
        keys.random_words(jax.random.key(9), 5), keys.random_words(jax.random.PRNGKey(9), 5)
    )
