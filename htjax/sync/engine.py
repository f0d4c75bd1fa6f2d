"""Batched re-execution of episodes: ``vmap`` of :func:`htjax.core.rollouts.replay_episode`.

Shapes are padded to buckets (episodes to a power of two, steps to a multiple of
:data:`STEP_BUCKET`) so that replaying batches of different sizes reuses a few compiled
executables instead of compiling for every size.

Rule parameters: episodes played with the env's config replay with ``env_params=None`` (the
config's values are compile-time constants, as in a rollout without ``env_params``); the others
replay in a second program with their parameters traced, and the two batches are joined.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State
from htjax.core.rollouts import replay_episode
from htjax.sync.params import default_plain, stack_params

__all__ = ["STEP_BUCKET", "ReplayBatch", "replay_batch"]

STEP_BUCKET = 32


@functools.lru_cache(maxsize=32)
def _replay_fn(env: Env):
    from htjax import program_cache  # traced once per machine when the CLI turns it on

    return program_cache.jit(
        jax.vmap(functools.partial(replay_episode, env)),
        name="replay",
        env=env,
        out_tree=lambda args: jax.tree_util.tree_structure(initial_state_shape(env)),
    )


@functools.lru_cache(maxsize=32)
def _replay_params_fn(env: Env):
    return jax.jit(jax.vmap(lambda k, a, n, p: replay_episode(env, k, a, n, env_params=p)))


def _bucket_episodes(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _bucket_steps(n: int) -> int:
    return max(STEP_BUCKET, -(-n // STEP_BUCKET) * STEP_BUCKET)


class ReplayBatch:
    """States of ``E`` replayed episodes: device pytree ``states`` with leaves ``[E_pad, L_pad + 1, ...]``.

    ``leaves`` are the same leaves on the host (numpy), fetched once, for checks, digests and slicing.
    """

    def __init__(self, states: State, num_episodes: int):
        self.states = states
        self.num_episodes = num_episodes
        self._leaves: list[np.ndarray] | None = None
        self._fields: dict[str, np.ndarray] = {}

    @property
    def leaves(self) -> list[np.ndarray]:
        if self._leaves is None:
            self._leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(self.states)]
        return self._leaves

    def field(self, name: str) -> np.ndarray:
        """Host array of a public field, e.g. ``"current_player"``: ``[E_pad, L_pad + 1, ...]``."""
        if name not in self._fields:
            self._fields[name] = np.asarray(getattr(self.states, name))
        return self._fields[name]

    def episode(self, i: int, length: int) -> State:
        """States ``[length + 1]`` of episode ``i``, as numpy leaves (slicing on the host compiles nothing)."""
        treedef = jax.tree_util.tree_structure(self.states)
        return jax.tree_util.tree_unflatten(treedef, [leaf[i, : length + 1] for leaf in self.leaves])


def replay_batch(
    env: Env,
    keys: np.ndarray,
    actions: list[np.ndarray],
    params: Sequence[Mapping[str, Any] | None] | None = None,
) -> ReplayBatch:
    """Replay episodes of one env from their keys and actions.

    Args:
      env: the env.
      keys: ``uint32[E, 2]`` episode keys.
      actions: ``E`` arrays ``int32[L_e]`` (``int32[L_e, P]`` when simultaneous).
      params: ``E`` validated plain rule parameters (:mod:`htjax.sync.params`) or None (the
        env's config), or None for all.

    Returns:
      a :class:`ReplayBatch`; episode ``e``'s state after ``t`` actions is at ``[e, t]``.
    """
    defaults = default_plain(env)
    rows = [None if p is None or dict(p) == defaults else dict(p) for p in (params or [None] * len(actions))]
    custom = [i for i, p in enumerate(rows) if p is not None]
    if not custom:
        return _replay(env, keys, actions, None)
    if len(custom) == len(rows):
        return _replay(env, keys, actions, rows)
    plain = [i for i, p in enumerate(rows) if p is None]
    a = _replay(env, keys[plain], [actions[i] for i in plain], None)
    b = _replay(env, keys[custom], [actions[i] for i in custom], [rows[i] for i in custom])
    where = np.empty(len(rows), np.int64)
    where[plain] = np.arange(len(plain))
    where[custom] = a.states.step_count.shape[0] + np.arange(len(custom))
    # leaves padded to the same step bucket before joining: [E_a + E_b, L_pad + 1, ...]
    steps = max(a.states.step_count.shape[1], b.states.step_count.shape[1])
    pad = lambda x: jnp.pad(x, [(0, 0), (0, steps - x.shape[1])] + [(0, 0)] * (x.ndim - 2), mode="edge")
    joined = jax.tree_util.tree_map(
        lambda x, y: jnp.concatenate([pad(x), pad(y)])[jnp.asarray(where)], a.states, b.states
    )
    return ReplayBatch(joined, len(rows))


def _replay(env: Env, keys: np.ndarray, actions: list[np.ndarray], rows: list[dict] | None) -> ReplayBatch:
    n = len(actions)
    longest = max((len(a) for a in actions), default=0)
    e_pad, l_pad = _bucket_episodes(max(n, 1)), _bucket_steps(longest)
    tail = (env.num_players,) if env.simultaneous else ()
    acts = np.zeros((e_pad, l_pad) + tail, np.int32)
    lengths = np.zeros(e_pad, np.int32)
    padded_keys = np.zeros((e_pad, 2), np.uint32)
    padded_keys[:n] = keys
    for i, a in enumerate(actions):
        acts[i, : len(a)] = a
        lengths[i] = len(a)
    args = (padded_keys, acts, lengths)  # numpy: jit transfers them (an eager jnp.asarray compiles)
    if rows is None:
        states = _replay_fn(env)(*args)
    else:  # padding rows replay under the first episode's (valid) parameters
        states = _replay_params_fn(env)(*args, stack_params(env, rows + [rows[0]] * (e_pad - n)))
    return ReplayBatch(states, n)


def initial_state_shape(env: Env) -> Any:
    """Abstract shape of one state (no compile): used for field paths.

    Remembered by :func:`htjax.program_cache.eval_shape` (on disk when the CLI turns the cache on).
    """
    from htjax import program_cache

    return program_cache.eval_shape(
        env.init, jax.ShapeDtypeStruct((2,), jnp.uint32), name="init-shape", env=env
    )
