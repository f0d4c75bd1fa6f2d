"""The jitted programs behind the adapters, compiled once per env config and shared by instances.

* :func:`seats_program`: one world stepped with **every seat's view** (the PettingZoo adapters
  and Gymnasium's opponents env).
* :func:`program`: the same with any outputs (the Gymnasium env's observation view).

In both the state travels between calls packed (:class:`StatePacker`).

Both start an episode from ``(world_key, episode_index)`` with
``episode_key_for(world_key, episode_index)`` and step with ``step_key(episode_key, t)``, the
core key schedule, so every adapter episode replays with :func:`htjax.replay_episode`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State
from htjax.core.keys import episode_key_for, step_key

__all__ = ["Program", "StatePacker", "all_views", "program", "seat_outputs", "seats_program"]


class StatePacker:
    """Packs a state pytree into one flat buffer per dtype, and back (both traceable).

    A jitted call costs about a microsecond per argument and result leaf; a blackjack state has
    about 30 leaves, so passing it as a few buffers makes one Python-side ``step`` several times
    cheaper. The buffers hold exactly the state's values (no conversions).
    """

    def __init__(self, env: Env):
        template = jax.eval_shape(env.init, jax.random.PRNGKey(0))
        leaves, self.treedef = jax.tree_util.tree_flatten(template)
        self.shapes = [tuple(leaf.shape) for leaf in leaves]
        self.sizes = [int(np.prod(shape)) for shape in self.shapes]
        self.dtypes = sorted({str(leaf.dtype) for leaf in leaves})
        self.groups = [[i for i, leaf in enumerate(leaves) if str(leaf.dtype) == d] for d in self.dtypes]

    def pack(self, state: State) -> tuple[jax.Array, ...]:
        leaves = jax.tree_util.tree_leaves(state)
        return tuple(jnp.concatenate([jnp.ravel(leaves[i]) for i in group]) for group in self.groups)

    def unpack(self, buffers: tuple[jax.Array, ...]) -> State:
        leaves: list[Any] = [None] * len(self.shapes)
        for group, buffer in zip(self.groups, buffers):
            offset = 0
            for i in group:
                leaves[i] = buffer[offset : offset + self.sizes[i]].reshape(self.shapes[i])
                offset += self.sizes[i]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def all_views(env: Env, state: State) -> jax.Array:
    """Every seat's view ``observation_dtype[num_players, *observation_shape]`` of one world."""
    if env.simultaneous:
        return state.observation
    seats = jnp.arange(env.num_players, dtype=jnp.int32)
    return jax.vmap(lambda p: env.observe(state, p))(seats)


def seat_outputs(env: Env, state: State):
    """``(views [P, *obs], float32[P + 3] rewards/terminated/truncated/current player, mask)``.

    ``mask`` is ``bool[A]`` (turn-based) or ``bool[P, A]`` (simultaneous), as in the state.
    """
    flags = jnp.stack([state.terminated, state.truncated, state.current_player]).astype(jnp.float32)
    return (
        all_views(env, state),
        jnp.concatenate([state.rewards.astype(jnp.float32), flags]),
        state.legal_action_mask,
    )


class Program(NamedTuple):
    """Jitted functions of one world whose state travels packed (:class:`StatePacker`).

    * ``init(world_key, episode_index) -> (buffers, episode_key, outputs)``: episode
      ``episode_index`` of the world's stream (``episode_key_for(world_key, episode_index)``).
    * ``start(episode_key) -> (buffers, outputs)``: the episode of a given key.
    * ``step(buffers, action, episode_key) -> (buffers, outputs)``: with ``step_key(episode_key, t)``.
    * ``unpack(buffers) -> State``.
    """

    init: Callable
    start: Callable
    step: Callable
    unpack: Callable


@functools.lru_cache(maxsize=64)
def program(env: Env, outputs: Callable[[Env, State], Any]) -> Program:
    """The :class:`Program` of ``env`` whose calls also return ``outputs(env, state)``.

    ``outputs`` is a module-level function (the cache key), e.g. :func:`seat_outputs`; every
    adapter instance of the same env and outputs shares one compilation.
    """
    packer = StatePacker(env)

    def start(episode_key):
        state = env.init(episode_key)
        return packer.pack(state), outputs(env, state)

    def init(world_key, episode_index):
        episode_key = episode_key_for(world_key, episode_index)
        buffers, out = start(episode_key)
        return buffers, episode_key, out

    def step(buffers, action, episode_key):
        state = packer.unpack(buffers)
        state = env.step(state, action, step_key(episode_key, state.step_count))
        return packer.pack(state), outputs(env, state)

    return Program(jax.jit(init), jax.jit(start), jax.jit(step), jax.jit(packer.unpack))


def seats_program(env: Env) -> Program:
    """:func:`program` with every seat's view, rewards, flags and mask (:func:`seat_outputs`)."""
    return program(env, seat_outputs)
