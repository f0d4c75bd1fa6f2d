"""Batched re-execution of episodes: ``vmap`` of :func:`htjax.core.rollouts.replay_episode`.

Shapes are padded to buckets (episodes to a power of two, steps to a multiple of
:data:`STEP_BUCKET`) so that replaying batches of different sizes reuses a few compiled
executables instead of compiling for every size.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State
from htjax.core.rollouts import replay_episode

__all__ = ["STEP_BUCKET", "replay_batch", "ReplayBatch"]

STEP_BUCKET = 32


@functools.lru_cache(maxsize=32)
def _replay_fn(env: Env):
    from htjax import program_cache  # traced once per machine when the CLI turns it on

    return program_cache.jit(jax.vmap(functools.partial(replay_episode, env)), name="replay", env=env,
                             out_tree=lambda args: jax.tree_util.tree_structure(initial_state_shape(env)))


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


def replay_batch(env: Env, keys: np.ndarray, actions: list[np.ndarray]) -> ReplayBatch:
    """Replay episodes of one env from their keys and actions.

    Args:
      env: the env.
      keys: ``uint32[E, 2]`` episode keys.
      actions: ``E`` arrays ``int32[L_e]`` (``int32[L_e, P]`` when simultaneous).

    Returns:
      a :class:`ReplayBatch`; episode ``e``'s state after ``t`` actions is at ``[e, t]``.
    """
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
    states = _replay_fn(env)(jnp.asarray(padded_keys), jnp.asarray(acts), jnp.asarray(lengths))
    return ReplayBatch(states, n)


def initial_state_shape(env: Env) -> Any:
    """Abstract shape of one state (no compile): used for field paths."""
    return jax.eval_shape(env.init, jax.ShapeDtypeStruct((2,), jnp.uint32))
