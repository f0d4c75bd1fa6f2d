"""Batched running: many worlds, ``jit`` + ``vmap`` + ``lax.scan``, with auto-reset.

A *policy* is a pure function of one world's view::

    policy(params, observation, legal_action_mask, key) -> action   # int32[]

vmapped over worlds (and over seats in simultaneous games). Scripted strategies, trained
networks and random agents all have this shape; ``params`` is any pytree (``None`` for
scripted ones) passed as a traced argument, so new parameters never recompile.

Each world runs an endless stream of episodes. When a world finishes, the rollout starts its
next episode from ``episode_key_for(world_key, episode_index + 1)`` (see :mod:`htjax.core.keys`).
The :class:`Trajectory` records, for every step and world, the action, rewards, flags, the
``final_observation`` of an episode that just ended, and the episode key and step index in
force, so that any episode of any world can be replayed exactly with :func:`replay_episode`.

Auto-reset forms (``autoreset=``):

* ``"select"`` computes ``init`` for every world on every step and keeps it where a world
  finished (``jnp.where``). Branch-free; its cost is one ``init`` per world-step.
* ``"cond"`` wraps that in ``lax.cond(any(done), ...)``, so steps on which no world finished
  skip ``init`` entirely; under ``vmap`` a per-world ``cond`` would run both branches anyway,
  which is why the condition is taken over the whole batch.

htjax envs keep ``init`` cheap (a shoe is reshuffled by resetting a counter, see
:mod:`htjax.core.cards`), so ``"select"`` is the default; ``docs/benchmarks.md`` has the
measured comparison (``scripts/bench_autoreset.py``).

Devices: ``devices="all"`` (or a list of devices) shards the world axis over a 1-D mesh, so
the same code runs on one CPU, one GPU or every accelerator of a host. For several processes
(hosts), call :func:`htjax.core.distributed.initialize` first: ``"all"`` is then every device of
every process, each process builds and steps only its own worlds; see ``docs/scale.md``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.distributed import global_array, replicated, world_mesh
from htjax.core.env import Env, Params, State
from htjax.core.errors import InvalidActionError, InvalidArgumentError
from htjax.core.keys import (
    _GOLDEN,
    episode_key_for,
    key_data,
    key_word,
    mix32,
    policy_keys,
    step_key,
    world_keys,
)
from htjax.core.tiles import check_world_tile, tiled_steps

__all__ = [
    "Policy",
    "Trajectory",
    "RolloutCarry",
    "Rollout",
    "random_policy",
    "first_legal_policy",
    "rollout_start",
    "rollout_steps",
    "rollout",
    "replay_episode",
    "world_sharding",
    "sharded_rollout_steps",
    "carry_mesh",
    "tiled_steps",
    "check_world_tile",
    "AUTORESET_MODES",
]

Policy = Callable[[Any, jax.Array, jax.Array, jax.Array], jax.Array]
AUTORESET_MODES = ("select", "cond")


def random_policy(
    params: Any, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """Uniformly random legal action: the legal action with the largest hashed score.

    Each action ``a`` scores ``mix(w ^ a * golden)`` for one word ``w`` hashed from the key
    (:func:`key_word`; the rollout's policy keys are already hashed per world and step, see
    :func:`htjax.core.keys.policy_keys`), and illegal actions score 0. For a fixed ``w`` the
    scores are distinct hash outputs, so the argmax is uniform over the legal actions up to a
    tie of two 31-bit scores (probability below ``A**2 / 2**32``). This is elementwise work
    plus one argmax, cheaper under ``vmap`` than a prefix sum over the mask, and much cheaper
    than a Gumbel ``categorical`` (one threefry float per action).
    """
    num_actions = legal_action_mask.shape[-1]
    scores = mix32(key_word(key) ^ (jnp.arange(num_actions, dtype=jnp.uint32) * jnp.uint32(_GOLDEN)))
    return jnp.argmax(jnp.where(legal_action_mask, (scores >> 1) + 1, 0)).astype(jnp.int32)


def first_legal_policy(
    params: Any, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """Lowest-numbered legal action (deterministic)."""
    return jnp.argmax(legal_action_mask).astype(jnp.int32)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Trajectory:
    """What a rollout records; leading axes ``[T, N]`` (steps, worlds).

    Attributes:
      action: ``int32[T, N]`` (``int32[T, N, P]`` in simultaneous games).
      current_player: ``int32[T, N]`` seat that acted.
      rewards: ``float32[T, N, P]`` rewards of every seat for the step.
      terminated, truncated: ``bool[T, N]`` the step ended the episode.
      episode_key: ``uint32[T, N, 2]`` key of the episode the step belongs to.
      episode_index: ``int32[T, N]`` 0, 1, ... count of episodes in the world.
      step_index: ``int32[T, N]`` index of the step within its episode (the ``t`` of ``step_key``).
      observation: ``[T, N, *obs]`` view the policy acted on (``None`` if not recorded).
      legal_action_mask: ``bool[T, N, A]`` mask the policy acted on (``None`` if not recorded).
      final_observation: ``[T, N, *obs]`` observation of the finished state where the step
        ended an episode, zeros elsewhere (``None`` if not recorded).
    """

    action: jax.Array
    current_player: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    episode_key: jax.Array
    episode_index: jax.Array
    step_index: jax.Array
    observation: jax.Array | None = None
    legal_action_mask: jax.Array | None = None
    final_observation: jax.Array | None = None

    @property
    def done(self) -> jax.Array:
        return self.terminated | self.truncated


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class RolloutCarry:
    """Everything needed to continue a batched rollout; leading axis ``N`` (worlds).

    Attributes:
      state: batched env state.
      world_key: ``uint32[N, 2]`` key of each world's episode stream.
      episode_index: ``int32[N]`` index of the running episode in each world.
      episode_key: ``uint32[N, 2]`` key of the running episode.
      policy_key: ``uint32[2]`` root of the policy's randomness.
      t: ``int32[]`` global step counter.
      env_params: each world's rule parameters (``{field: [N]}``, see :meth:`Env.params`), or
        ``None`` when every world plays the env's config.
    """

    state: State
    world_key: jax.Array
    episode_index: jax.Array
    episode_key: jax.Array
    policy_key: jax.Array
    t: jax.Array
    env_params: Any = None


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Rollout:
    carry: RolloutCarry
    trajectory: Trajectory


def world_sharding(devices: Sequence[jax.Device] | str | None, num_envs: int):
    """A ``NamedSharding`` splitting the world axis over ``devices`` (``"all"`` = every device of
    every process, see :mod:`htjax.core.distributed`), or ``None`` for ``devices=None``."""
    if devices is None:
        return None
    mesh = world_mesh(devices)
    if num_envs % mesh.size:
        raise InvalidArgumentError(
            f"num_envs={num_envs} must be divisible by the number of devices ({mesh.size})"
        )
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("worlds"))


@functools.lru_cache(maxsize=64)
def _sharded_start(env: Env, num_envs: int, sharding, with_params: bool):
    """``jit`` of a rollout's start whose per-world outputs are split by ``sharding``: every
    device computes only its own worlds' keys and states (the world keys are threefry splits,
    partitionable), so each process builds only its share of the initial state."""
    repl = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())

    def start(key, env_params):
        env_root, pol_root = jax.random.split(key)
        wkeys = jax.lax.with_sharding_constraint(world_keys(env_root, num_envs), sharding)
        ekeys = jax.vmap(lambda k: episode_key_for(k, 0))(wkeys)
        extra = (env_params,) if with_params else ()
        state = jax.vmap(env.init)(ekeys, *extra)
        return state, wkeys, jnp.zeros(num_envs, jnp.int32), ekeys, pol_root, jnp.int32(0), env_params

    shard = (sharding,) * 4 + (repl, repl, sharding if with_params else None)
    return jax.jit(start, out_shardings=shard)


@functools.lru_cache(maxsize=64)
def _batched_init(env: Env):
    return jax.jit(jax.vmap(env.init))


def world_params(env: Env, env_params: Params | None, num_envs: int) -> Params | None:
    """Per-world rule parameters ``{field: [num_envs]}`` from ``None`` (the env's config, kept as
    ``None``), one world's parameters (broadcast) or a batch (checked to hold ``num_envs``)."""
    if env_params is None:
        return None
    if not isinstance(env_params, dict):
        raise InvalidArgumentError(
            f"env_params must be a dict from env.params() or env.batch_params(), got {type(env_params).__name__}"
        )
    leaves = [v for v in env_params.values() if not isinstance(v, jax.core.Tracer)]
    batched = any(np.ndim(v) > 0 for v in env_params.values())
    if batched:
        checked = env.check_params(env_params, num_envs) if leaves else env_params
        return {k: jnp.asarray(v) for k, v in checked.items()}
    checked = env.check_params(env_params) if leaves else env_params
    return {k: jnp.broadcast_to(jnp.asarray(v), (num_envs,)) for k, v in checked.items()}


def rollout_start(
    env: Env, key: jax.Array, num_envs: int, *, devices=None, env_params: Params | None = None
) -> RolloutCarry:
    """First episode of ``num_envs`` worlds from one ``key``, under rule ``env_params`` (``None``:
    the env's config; one world's parameters, broadcast; or ``{field: [num_envs]}``)."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise InvalidArgumentError(f"num_envs must be a positive int, got {num_envs!r}")
    env_params = world_params(env, env_params, num_envs)
    key = key_data(key)
    sharding = world_sharding(devices, num_envs)
    if sharding is not None and not isinstance(key, jax.core.Tracer):
        placed = None
        if env_params is not None:
            placed = {k: global_array(jax.device_get(v), sharding) for k, v in env_params.items()}
        parts = _sharded_start(env, num_envs, sharding, placed is not None)(np.asarray(key), placed)
        state, wkeys, episode_index, ekeys, pol_root, t, placed = parts
        return RolloutCarry(
            state=state,
            world_key=wkeys,
            episode_index=episode_index,
            episode_key=ekeys,
            policy_key=pol_root,
            t=t,
            env_params=placed,
        )
    env_root, pol_root = jax.random.split(key)
    wkeys = world_keys(env_root, num_envs)
    ekeys = jax.vmap(lambda k: episode_key_for(k, 0))(wkeys)
    if sharding is not None:
        wkeys, ekeys, env_params = jax.device_put((wkeys, ekeys, env_params), sharding)
    if env_params is None:
        state = _batched_init(env)(ekeys)
    else:
        state = _batched_init(env)(ekeys, env_params)
    per_world = (state, wkeys, jnp.zeros(num_envs, jnp.int32), ekeys, env_params)
    if sharding is not None:
        # every per-world leaf split by world; also a constraint when this runs under jit, where
        # the keys' placement alone lets XLA replicate the state on every device
        per_world = jax.lax.with_sharding_constraint(per_world, sharding)
    state, wkeys, episode_index, ekeys, env_params = per_world
    return RolloutCarry(
        state=state,
        world_key=wkeys,
        episode_index=episode_index,
        episode_key=ekeys,
        policy_key=pol_root,
        t=jnp.int32(0),
        env_params=env_params,
    )


def _act(env: Env, policy: Policy, params, state: State, key: jax.Array) -> jax.Array:
    if env.simultaneous:
        keys = policy_keys(key, 0, env.num_players)  # one key per seat, hashed
        return jax.vmap(policy, in_axes=(None, 0, 0, 0))(
            params, state.observation, state.legal_action_mask, keys
        )
    return policy(params, state.observation, state.legal_action_mask, key)


def step_worlds(
    env: Env, carry: RolloutCarry, action: jax.Array, *, autoreset: str = "select", observe_next: bool = True
):
    """One batched step with the key schedule and auto-reset; the core of every rollout loop.

    Returns ``(next_state, new_carry)``: ``next_state`` is the stepped batch before any reset
    (its rewards, flags and ``observation`` are the step's outcome), ``new_carry`` holds the
    state after finished worlds restarted from their next episode key, with ``t`` advanced.

    With ``observe_next=False`` (and ``autoreset="select"``) the observation is built once per
    world, after choosing between the stepped and the reset state, instead of once for each:
    ``next_state.observation`` and ``.legal_action_mask`` are then stale (use its rewards and
    flags only). ``new_carry`` is the same either way.
    """
    step_fn = env.step if (observe_next or autoreset != "select") else env.step_unobserved
    # one world's rule parameters ride along as an extra vmapped argument; None keeps the
    # env's config as compile-time constants
    extra = () if carry.env_params is None else (carry.env_params,)
    nxt = jax.vmap(step_fn)(
        carry.state, action, jax.vmap(step_key)(carry.episode_key, carry.state.step_count), *extra
    )
    done = nxt.terminated | nxt.truncated
    next_index = carry.episode_index + done.astype(jnp.int32)
    next_ekey = jax.vmap(episode_key_for)(carry.world_key, next_index)

    def pick(fresh, s):
        return jax.tree_util.tree_map(
            lambda a, b: jnp.where(done.reshape(done.shape + (1,) * (a.ndim - 1)), a, b), fresh, s
        )

    if autoreset == "select" and not observe_next:
        fresh = jax.vmap(env.init_unobserved)(next_ekey, *extra)
        new_state = jax.vmap(env.finish)(pick(fresh, nxt), *extra)
    elif autoreset == "select":
        new_state = pick(jax.vmap(env.init)(next_ekey, *extra), nxt)
    else:
        new_state = jax.lax.cond(
            jnp.any(done), lambda s: pick(jax.vmap(env.init)(next_ekey, *extra), s), lambda s: s, nxt
        )
    new_carry = carry.replace(state=new_state, episode_index=next_index, episode_key=next_ekey, t=carry.t + 1)
    return nxt, new_carry


def rollout_steps(
    env: Env,
    policy: Policy,
    carry: RolloutCarry,
    params: Any = None,
    *,
    num_steps: int,
    autoreset: str = "select",
    record_observations: bool = True,
    first_world: jax.Array | int = 0,
    world_tile: int | None = None,
) -> tuple[RolloutCarry, Trajectory]:
    """Advance every world ``num_steps`` steps (pure; ``jit`` it, or use :func:`rollout`).

    ``first_world`` is the index of ``carry``'s first world in the whole batch (not 0 when
    ``carry`` is one device's share, see :func:`sharded_rollout_steps`): it picks the worlds'
    policy keys.

    ``world_tile`` (an int dividing the number of worlds, or ``None``): run the worlds in tiles
    of that many, each tile all ``num_steps`` steps before the next (:func:`tiled_steps`). The
    values are the same; on a CPU a tile whose state fits the cache avoids streaming a large
    batch's state through memory on every step (``docs/performance.md``).
    """
    if autoreset not in AUTORESET_MODES:
        raise InvalidArgumentError(f"autoreset must be one of {AUTORESET_MODES}, got {autoreset!r}")
    num_envs = carry.episode_index.shape[0]
    if world_tile is not None and world_tile != num_envs:
        check_world_tile(world_tile, num_envs)
        opts = dict(
            params=params, num_steps=num_steps, autoreset=autoreset, record_observations=record_observations
        )
        return tiled_steps(
            functools.partial(rollout_steps, env, policy, **opts), carry, world_tile, first_world
        )
    v_act = jax.vmap(functools.partial(_act, env, policy), in_axes=(None, 0, 0))

    def one_step(c: RolloutCarry, _):
        state = c.state
        pkeys = policy_keys(c.policy_key, c.t, num_envs, first_world)
        action = v_act(params, state, pkeys)
        nxt, new_carry = step_worlds(env, c, action, autoreset=autoreset, observe_next=record_observations)
        done = nxt.terminated | nxt.truncated

        record = dict(
            action=action,
            current_player=state.current_player,
            rewards=nxt.rewards,
            terminated=nxt.terminated,
            truncated=nxt.truncated,
            episode_key=c.episode_key,
            episode_index=c.episode_index,
            step_index=state.step_count,
        )
        if record_observations:
            mask_shape = done.shape + (1,) * (nxt.observation.ndim - 1)
            record.update(
                observation=state.observation,
                legal_action_mask=state.legal_action_mask,
                final_observation=jnp.where(done.reshape(mask_shape), nxt.observation, 0).astype(
                    nxt.observation.dtype
                ),
            )
        return new_carry, Trajectory(**record)

    return jax.lax.scan(one_step, carry, None, length=num_steps)


def sharded_rollout_steps(
    env: Env,
    policy: Policy,
    mesh: jax.sharding.Mesh | None,
    *,
    num_steps: int,
    autoreset: str = "select",
    record_observations: bool = True,
    world_tile: int | None = None,
) -> Callable[[RolloutCarry, Any], tuple[RolloutCarry, Trajectory]]:
    """``(carry, params) -> (carry, trajectory)`` of :func:`rollout_steps`, run per device.

    With a ``mesh`` (a 1-D mesh over the ``"worlds"`` axis, see :func:`world_sharding`), each
    device steps its own share of the worlds under ``jax.shard_map``, with no communication
    inside the loop: batch-level decisions such as :func:`htjax.core.branching.rare_cond`'s
    ``any`` stay on the device instead of becoming an all-reduce that makes every device wait
    for the slowest on every step. The values are the same as :func:`rollout_steps` on the
    whole batch (every world keeps its keys). Without a mesh this is :func:`rollout_steps`.
    ``world_tile`` tiles each device's share of the worlds (see :func:`rollout_steps`).
    """
    if mesh is None:
        return functools.partial(
            rollout_steps,
            env,
            policy,
            num_steps=num_steps,
            autoreset=autoreset,
            record_observations=record_observations,
            world_tile=world_tile,
        )
    from jax.sharding import PartitionSpec as P

    def local(carry: RolloutCarry, params):
        first = jax.lax.axis_index("worlds") * carry.episode_index.shape[0]
        return rollout_steps(
            env,
            policy,
            carry,
            params,
            num_steps=num_steps,
            autoreset=autoreset,
            record_observations=record_observations,
            first_world=first,
            world_tile=world_tile,
        )

    worlds = P("worlds")

    def run(carry: RolloutCarry, params):
        carry_spec = RolloutCarry(
            state=worlds,
            world_key=worlds,
            episode_index=worlds,
            episode_key=worlds,
            policy_key=P(),
            t=P(),
            env_params=None if carry.env_params is None else worlds,
        )
        return jax.shard_map(
            local,
            mesh=mesh,
            in_specs=(carry_spec, P()),
            out_specs=(carry_spec, P(None, "worlds")),
            check_vma=False,
        )(carry, params)

    return run


def carry_mesh(carry: RolloutCarry) -> jax.sharding.Mesh | None:
    """The 1-D ``"worlds"`` mesh a carry is split over (:func:`rollout_start` with devices), else ``None``."""
    sharding = getattr(carry.episode_index, "sharding", None)
    if (
        isinstance(sharding, jax.sharding.NamedSharding)
        and sharding.mesh.size > 1
        and tuple(sharding.mesh.axis_names) == ("worlds",)
        and tuple(sharding.spec) == ("worlds",)
    ):
        return sharding.mesh
    return None


@functools.lru_cache(maxsize=64)
def _compiled_steps(
    env: Env,
    policy: Policy,
    num_steps: int,
    autoreset: str,
    record_observations: bool,
    mesh=None,
    world_tile: int | None = None,
):
    return jax.jit(
        sharded_rollout_steps(
            env,
            policy,
            mesh,
            num_steps=num_steps,
            autoreset=autoreset,
            record_observations=record_observations,
            world_tile=world_tile,
        )
    )


def rollout(
    env: Env,
    policy: Policy,
    key: jax.Array,
    num_envs: int,
    num_steps: int,
    params: Any = None,
    *,
    autoreset: str = "select",
    record_observations: bool = True,
    devices=None,
    carry: RolloutCarry | None = None,
    env_params: Params | None = None,
    world_tile: int | None = None,
) -> Rollout:
    """Run ``num_envs`` worlds for ``num_steps`` steps with auto-reset.

    Args:
      env: the env.
      policy: ``policy(params, observation, legal_action_mask, key) -> action`` for one world.
      key: rollout key; world ``w``'s episode keys derive from it (see :mod:`htjax.core.keys`).
      num_envs, num_steps: batch size ``N`` and steps ``T``.
      params: policy parameters (any pytree), traced.
      autoreset: ``"select"`` or ``"cond"`` (see the module docstring).
      record_observations: also record ``observation``, ``legal_action_mask`` and
        ``final_observation`` (needed for training; not for replay).
      devices: ``None`` (default placement), ``"all"`` or a list: shard worlds over devices.
      carry: continue from an earlier :class:`Rollout`'s ``carry`` instead of starting anew.
      env_params: rule parameters (:meth:`Env.params`: one world's, broadcast to all; or
        :meth:`Env.batch_params`: one per world). ``None`` plays the env's config. A ``carry``
        keeps the parameters it was started with.
      world_tile: step the worlds in tiles of this many (it must divide each device's share of
        ``num_envs``), each tile all ``num_steps`` steps before the next: the same values, and
        on a CPU faster for large batches whose state outgrows the cache (``docs/performance.md``).

    Returns:
      :class:`Rollout` with the ``carry`` to continue from and the ``[T, N]`` ``trajectory``.

    Raises:
      htjax.core.errors.MemoryBudgetError: the batch would not fit in free memory (checked
        before anything is allocated; see :mod:`htjax.core.memory`).
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise InvalidArgumentError(f"num_steps must be a positive int, got {num_steps!r}")
    from htjax.core.memory import check_rollout_fits  # refuse a size that cannot fit, before allocating

    check_rollout_fits(env, num_envs, num_steps, record_observations=record_observations)
    if carry is None:
        carry = rollout_start(env, key, num_envs, devices=devices, env_params=env_params)
    elif carry.episode_index.shape[0] != num_envs:
        raise InvalidArgumentError(f"carry holds {carry.episode_index.shape[0]} worlds, num_envs={num_envs}")
    elif env_params is not None:
        raise InvalidArgumentError("pass env_params when starting a rollout; a carry keeps its own")
    mesh = carry_mesh(carry)
    if world_tile is not None:
        check_world_tile(world_tile, num_envs // (1 if mesh is None else mesh.size))  # per device
    if mesh is not None and jax.process_count() > 1 and params is not None:
        params = replicated(params, mesh)  # a global value: jit refuses process-local arrays here
    fn = _compiled_steps(env, policy, num_steps, autoreset, record_observations, mesh, world_tile)
    new_carry, traj = fn(carry, params)
    return Rollout(carry=new_carry, trajectory=traj)


def replay_episode(
    env: Env,
    episode_key: jax.Array,
    actions: jax.Array,
    length: int | None = None,
    env_params: Params | None = None,
) -> State:
    """Re-run one episode from its key and actions; returns states ``[len(actions) + 1]``.

    ``states[0]`` is ``init(episode_key, env_params)`` and ``states[t + 1]`` follows
    ``actions[t]`` with ``step_key(episode_key, t)``. Steps at index ``>= length`` (padding)
    leave the state as it is, so episodes of different lengths replay batched under ``vmap``.
    ``actions`` must be integers (``int[T]``, or ``int[T, num_players]`` when simultaneous), as
    :meth:`Env.step` requires; floats raise :class:`InvalidActionError`.
    """
    from htjax.core.keys import as_key

    ekey = as_key(episode_key)
    raw = actions if isinstance(actions, jax.Array) else np.asarray(actions)
    if not jnp.issubdtype(raw.dtype, jnp.integer) or raw.dtype == jnp.bool_:
        raise InvalidActionError(f"{env.id}: replayed actions must be integers, got dtype {raw.dtype}")
    actions = jnp.asarray(raw, jnp.int32)
    n = actions.shape[0]
    length = n if length is None else length
    first = env.init(ekey, env_params)

    def body(state, inp):
        t, a = inp
        nxt = env.step(state, a, step_key(ekey, t), env_params)
        nxt = jax.tree_util.tree_map(lambda x, y: jnp.where(t < length, x, y), nxt, state)
        return nxt, nxt

    _, states = jax.lax.scan(body, first, (jnp.arange(n, dtype=jnp.int32), actions))
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, states)
