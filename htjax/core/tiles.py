"""World tiles: a batch of worlds stepped tile by tile (``world_tile`` of :func:`htjax.rollout`).

A batched step runs each kernel over every world before the next kernel starts, so on a CPU a
batch whose state outgrows the cache streams it through memory on every kernel. Stepping the
worlds in tiles, each tile all of a chunk's steps before the next, keeps a tile's state in cache;
every world keeps its keys, so the values are the same (``docs/rollout.md``).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.errors import InvalidArgumentError

__all__ = ["check_world_tile", "map_tiles", "tiled_steps"]


def check_world_tile(world_tile, num_envs: int) -> None:
    """Raise :class:`InvalidArgumentError` unless ``world_tile`` is a positive int dividing ``num_envs``."""
    if isinstance(world_tile, bool) or not isinstance(world_tile, (int, np.integer)) or world_tile < 1:
        raise InvalidArgumentError(f"world_tile must be a positive int, got {world_tile!r}")
    if num_envs % int(world_tile):
        raise InvalidArgumentError(f"world_tile={world_tile} must divide the {num_envs} worlds it tiles")


def map_tiles(
    fn: Callable[[Any, jax.Array], tuple[Any, Any]],
    worlds: Any,
    world_tile: int,
    first_world: jax.Array | int = 0,
) -> tuple[Any, Any]:
    """``fn(tile, first_world_of_tile) -> (tile_out, extra)`` over consecutive tiles of
    ``world_tile`` worlds (the leading axis of every leaf of ``worlds``), one tile after another
    (``lax.map``). Returns ``tile_out`` reassembled over all the worlds and ``extra`` stacked
    over tiles (``[tiles, ...]``)."""
    num_envs = jax.tree_util.tree_leaves(worlds)[0].shape[0]
    tiles = num_envs // world_tile

    def one(args):
        index, tile = args
        return fn(tile, first_world + index * world_tile)

    split = jax.tree_util.tree_map(lambda x: x.reshape((tiles, world_tile) + x.shape[1:]), worlds)
    out, extra = jax.lax.map(one, (jnp.arange(tiles, dtype=jnp.int32), split))
    return jax.tree_util.tree_map(lambda x: x.reshape((num_envs,) + x.shape[2:]), out), extra


def tiled_steps(
    run_tile: Callable[..., tuple[Any, Any]],
    carry: Any,
    world_tile: int,
    first_world: jax.Array | int = 0,
) -> tuple[Any, Any]:
    """``run_tile(carry, first_world=...)`` over consecutive tiles of ``world_tile`` worlds
    (:func:`map_tiles`), reassembled into one carry and one ``[T, N]`` trajectory.
    ``carry`` is a :class:`~htjax.core.rollouts.RolloutCarry` and ``run_tile`` returns one with
    its :class:`~htjax.core.rollouts.Trajectory`.

    Every world keeps its own keys (its policy keys come from its index in the whole batch), so
    the result equals one call over all the worlds: only the order of the work changes. A
    step over a large batch streams every world's state through memory once per kernel; a tile
    whose state fits the CPU cache stays there for all its steps."""

    def one(worlds, first):
        out, traj = run_tile(worlds.replace(policy_key=carry.policy_key, t=carry.t), first_world=first)
        return out.replace(policy_key=None, t=None), traj

    out, traj = map_tiles(one, carry.replace(policy_key=None, t=None), world_tile, first_world)
    steps, num_envs = traj.action.shape[1], carry.episode_index.shape[0]
    # [tiles, T, tile, ...] -> [T, N, ...]
    traj = jax.tree_util.tree_map(
        lambda x: jnp.moveaxis(x, 0, 1).reshape((steps, num_envs) + x.shape[3:]), traj
    )
    return out.replace(policy_key=carry.policy_key, t=carry.t + steps), traj
