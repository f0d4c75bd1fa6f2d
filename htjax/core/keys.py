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

Derived keys are hashed, not threefried. ``step_key``, ``episode_key_for`` and
``policy_keys`` map ``(key data, counter)`` to new key data with an integer hash (:func:`derive`):
a few multiply-xorshift rounds instead of one threefry block per world and step, which cost as
much as a card game's whole step. The hash is a bijection of the counter for a fixed key, so the
keys of one stream never repeat. Since key schedule 3 a game's per-step random words are hashed
from the step key too (:func:`random_words`), instead of one ``jax.random.bits`` threefry draw per
step: the chain is threefry (``world_keys``) -> hash (episode) -> hash (step) -> hash (words),
every hash a ``lowbias32`` bijection, and ``tests/test_keys.py`` checks the words for uniformity,
bit balance and independence across neighbouring keys and counters.
:data:`KEY_SCHEDULE` names this schedule; episode documents record it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from htjax.core.errors import InvalidArgumentError

__all__ = [
    "KEY_SCHEDULE",
    "derive",
    "step_key",
    "episode_key_for",
    "world_keys",
    "policy_key",
    "policy_keys",
    "key_data",
    "as_key",
    "mix32",
    "key_word",
    "random_words",
]

KEY_SCHEDULE = 3
"""Version of the key schedule below (1 used ``jax.random.fold_in``; 2 hashed the derived keys;
3 also hashes :func:`random_words` from the step key, see above)."""

# Salts of the derived streams: steps of an episode, episodes of a world, policy steps, and
# the worlds of one policy step. Distinct salts keep the streams apart when fed the same key.
_STEP_STREAM = 0x51E9C0DE
_EPISODE_STREAM = 0xE915ADE5
_POLICY_STREAM = 0x5EED
_WORLD_STREAM = 0x3D4C2B1A
_WORDS_SALT = 0x6A09E667


def derive(key: jax.Array, counter: jax.Array | int, salt: int) -> jax.Array:
    """New key data from ``key`` (legacy or typed; any leading batch shape) and a ``counter``.

    ``h0 = mix(k0 ^ mix(k1 + counter * golden + salt))`` and ``h1 = mix(k1 ^ mix(h0 ^ salt'))``:
    for a fixed key, ``counter -> h0`` is a bijection of ``uint32`` (so a stream never repeats a
    key), and both output words depend on every input bit. Returns a key of the same kind as
    ``key`` (typed keys stay typed).
    """
    data = key_data(key)
    k0, k1 = data[..., 0], data[..., 1]
    c = jnp.asarray(counter).astype(jnp.uint32)
    h0 = mix32(k0 ^ mix32(k1 + c * jnp.uint32(_GOLDEN) + jnp.uint32(salt)))
    h1 = mix32(k1 ^ mix32(h0 ^ jnp.uint32(salt ^ 0xA5A5A5A5)))
    out = jnp.stack([h0, h1], axis=-1)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.wrap_key_data(out, impl=jax.random.key_impl(key))
    return out


def step_key(episode_key: jax.Array, t: jax.Array | int) -> jax.Array:
    """Key for step ``t`` (0-based index within the episode) of the episode ``episode_key``."""
    return derive(episode_key, t, _STEP_STREAM)


def episode_key_for(world_key: jax.Array, episode_index: jax.Array | int) -> jax.Array:
    """Key of episode ``episode_index`` (0, 1, ...) in the auto-reset stream of one world."""
    return derive(world_key, episode_index, _EPISODE_STREAM)


def world_keys(key: jax.Array, num_envs: int) -> jax.Array:
    """Split a rollout key into one key per world: ``[num_envs]`` keys."""
    return jax.random.split(key, num_envs)


def policy_key(key: jax.Array, t: jax.Array | int) -> jax.Array:
    """Key handed to the policy at global rollout step ``t`` (not part of the env schedule)."""
    return derive(key, t, _POLICY_STREAM)


def policy_keys(
    key: jax.Array, t: jax.Array | int, num_envs: int, first_world: jax.Array | int = 0
) -> jax.Array:
    """``[num_envs]`` policy keys of global rollout step ``t``: one per world, hashed.

    Worlds ``first_world .. first_world + num_envs - 1`` (a device's share of a sharded batch
    gets the keys its worlds have in the whole batch). Replaces
    ``jax.random.split(policy_key(key, t), num_envs)`` (a threefry block per world).
    """
    step = key_data(policy_key(key, t))
    worlds = jnp.asarray(first_world).astype(jnp.uint32) + jnp.arange(num_envs, dtype=jnp.uint32)
    data = derive(jnp.broadcast_to(step, (num_envs, 2)), worlds, _WORLD_STREAM)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(key))
    return data


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
        raise InvalidArgumentError(
            f"a recorded key must be uint32[..., 2], got {data.dtype}{list(data.shape)}"
        )
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

    A cheap stand-in for ``jax.random.bits(key, (), uint32)`` when ``key`` is itself random
    (threefry or :func:`derive` output, as the rollout's policy keys are); hand-made keys like
    ``PRNGKey(s)`` are still spread by the hash.
    """
    data = key_data(key).reshape(-1)
    return mix32(data[0] ^ mix32(data[1]))


def random_words(key: jax.Array, n: int, start: jax.Array | int = 0) -> jax.Array:
    """``uint32[n]`` random words from ``key`` (legacy or typed), by hashing: no threefry call.

    Words ``start .. start + n - 1`` of the key's stream (``start`` may be traced), so a step can
    take more words later without changing the ones it already used.

    ``a = mix(k0 ^ mix(k1 + salt))`` mixes the key's 64 bits once, then word ``i`` is
    ``mix(mix(a ^ i * golden) ^ mix(k1 + salt))``: a bijection of ``i`` for a fixed key, so the
    ``n`` words of one step are distinct, and each depends on every key bit. A threefry draw
    here cost a third of a blackjack step (``docs/benchmarks.md``); the keys fed in are already
    hash or threefry output (:func:`step_key`), and hand-made keys such as ``PRNGKey(0)``,
    ``PRNGKey(1)`` are spread by the first mix.
    """
    data = key_data(key)
    k0, k1 = data[..., 0], data[..., 1]
    inner = mix32(k1 + jnp.uint32(_WORDS_SALT))
    a = mix32(k0 ^ inner)
    index = jnp.asarray(start).astype(jnp.uint32) + jnp.arange(n, dtype=jnp.uint32)
    counter = index * jnp.uint32(_GOLDEN)
    return mix32(mix32(a[..., None] ^ counter) ^ inner[..., None])
