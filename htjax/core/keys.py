"""The key schedule: the one place where htjax derives randomness.

An episode is fully determined by ``(env id, env version, config, episode_key, actions)``.
Every caller (rollout, replay, peers, the browser) derives keys with these functions and
nothing else, so the same episode key and actions always give the same states::

    episode_key = episode_key_for(world_key, episode_index)   # auto-reset stream of one world
    state       = env.init(episode_key)
    state       = env.step(state, action_t, step_key(episode_key, t))   # t = state.step_count

Keys may be legacy ``uint32[2]`` arrays (``jax.random.PRNGKey``) or typed keys
(``jax.random.key``); the default threefry implementation gives identical bits for both.
Recorded keys (trajectories, episode documents) are stored as raw ``uint32[2]`` key data.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = [
    "step_key",
    "episode_key_for",
    "world_keys",
    "policy_key",
    "key_data",
    "as_key",
    "mix32",
    "key_word",
    "random_words",
]

# Salt that separates the policy's randomness from the environment's, so a policy drawing
# keys can never correlate with the deck.
_POLICY_STREAM = 0x5EED


def step_key(episode_key: jax.Array, t: jax.Array | int) -> jax.Array:
    """Key for step ``t`` (0-based index within the episode) of the episode ``episode_key``."""
    return jax.random.fold_in(episode_key, jnp.asarray(t, jnp.uint32))


def episode_key_for(world_key: jax.Array, episode_index: jax.Array | int) -> jax.Array:
    """Key of episode ``episode_index`` (0, 1, ...) in the auto-reset stream of one world."""
    return jax.random.fold_in(world_key, jnp.asarray(episode_index, jnp.uint32))


def world_keys(key: jax.Array, num_envs: int) -> jax.Array:
    """Split a rollout key into one key per world: ``[num_envs]`` keys."""
    return jax.random.split(key, num_envs)


def policy_key(key: jax.Array, t: jax.Array | int) -> jax.Array:
    """Key handed to the policy at global rollout step ``t`` (not part of the env schedule)."""
    return jax.random.fold_in(jax.random.fold_in(key, _POLICY_STREAM), jnp.asarray(t, jnp.uint32))


def key_data(key: jax.Array) -> jax.Array:
    """Raw ``uint32[..., 2]`` data of a legacy or typed key (what recordings store)."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def as_key(data) -> jax.Array:
    """Inverse of :func:`key_data`: a legacy ``uint32[..., 2]`` key usable by ``jax.random``."""
    data = jnp.asarray(data)
    if jnp.issubdtype(data.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(data)
    if data.dtype != jnp.uint32 or data.shape[-1:] != (2,):
        raise ValueError(f"a recorded key must be uint32[..., 2], got {data.dtype}{list(data.shape)}")
    return data


_GOLDEN = 0x9E3779B9


def mix32(x: jax.Array) -> jax.Array:
    """The ``lowbias32`` integer hash (C. Wellons): a bijection of ``uint32`` with strong avalanche."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def key_word(key: jax.Array) -> jax.Array:
    """One ``uint32`` from a key's 64 bits of data, ``mix(s0 ^ mix(s1))``.

    A cheap stand-in for ``jax.random.bits(key, (), uint32)`` when ``key`` is itself threefry
    output (a ``split`` or ``fold_in`` result, as the rollout's policy keys are); hand-made keys
    like ``PRNGKey(s)`` are still spread by the hash.
    """
    data = key_data(key).reshape(-1)
    return mix32(data[0] ^ mix32(data[1]))


def random_words(key: jax.Array, n: int) -> jax.Array:
    """``uint32[n]`` random words from ``key``: one ``jax.random.bits`` draw of 64 bits, expanded.

    Word ``i`` is ``mix(mix(s0 ^ i * golden) ^ s1)`` for the 64 drawn bits ``(s0, s1)``: a
    counter-based generator keyed by fresh threefry output. It costs a few integer operations
    per word where a threefry block per word would dominate a card game's step.
    """
    seed = jax.random.bits(key, (2,), jnp.uint32)
    counter = jnp.arange(n, dtype=jnp.uint32) * jnp.uint32(_GOLDEN)
    return mix32(mix32(seed[0] ^ counter) ^ seed[1])
