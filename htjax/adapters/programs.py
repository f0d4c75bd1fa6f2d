"""The jitted programs behind the one-world adapters, compiled once per env config and shared.

* :func:`seats_program`: one world stepped with **every seat's view** (the PettingZoo adapters
  and Gymnasium's opponents env).
* :func:`program`: the same with any outputs (the Gymnasium env's observation view).

The fast path (what one Python-side ``step`` costs)
---------------------------------------------------
A Gymnasium user who steps one env from Python pays the per-call overhead of JAX, not the
rules: a blackjack step computes in microseconds, but every array that goes into or comes out
of a jitted call costs about a microsecond or more of dispatch, allocation and
device-to-host work, and a blackjack state has about thirty leaves. So every call here moves
as few buffers as possible:

* **One state buffer.** The world's whole state, the episode key, the world key and the
  episode index travel as ONE ``uint8`` buffer (:class:`Layout`: each leaf's bytes at an
  aligned offset, bitcast in and out inside the compiled function). The host never flattens
  or rebuilds a pytree per step; :attr:`Program.unpack` rebuilds the ``State`` only when
  someone asks for it (``env.state``, ``render``).
* **One output buffer.** Everything the host needs after a call (observation, rewards, flags,
  legal mask, episode key) comes back as ONE small ``uint8`` buffer, read with one
  ``np.asarray`` and sliced with numpy views (:meth:`Layout.read`).
* **Keys inside.** ``step(state, action)`` derives ``step_key(episode_key, t)`` from the key
  stored in the state; ``next_episode(state)`` starts episode ``index + 1`` of the same world
  with ``episode_key_for(world_key, index + 1)``: the core key schedule
  (:mod:`htjax.core.keys`), computed in the compiled function, so no key is split or sent from
  the host per step or per reset.
* **Actions already on the device.** :meth:`Program.action` hands out one cached device scalar
  per action id, so a step sends nothing from the host.

So a ``step`` is one jitted call with two inputs (state, action) and two outputs (state,
outputs), and a reset without a seed is one call with one input. AOT compilation
(``jit(f).lower(...).compile()``) was measured and gave nothing over ``jax.jit``'s C++
dispatch path on this JAX, so the programs are plain ``jax.jit`` functions (which also keeps
``jax.clear_caches`` and the persistent compilation cache working for them).

Every episode starts from ``(world_key, episode_index)`` with ``episode_key_for`` (or from an
explicit episode key) and steps with ``step_key(episode_key, t)``, so every adapter episode
replays with :func:`htjax.replay_episode`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State
from htjax.core.keys import episode_key_for, step_key

__all__ = ["Layout", "Program", "all_views", "program", "program_device", "seat_outputs", "seats_program"]


@functools.cache
def program_device() -> jax.Device:
    """The device every one-world program runs on (created once per process).

    On a CPU backend: the one device of a **private, synchronous** XLA:CPU client, so a call
    runs to completion in the calling thread. JAX's own CPU client dispatches every call that
    XLA does not deem trivial (a blackjack step is not) to a worker thread and wakes the
    caller when it is done; for one small world stepped from Python that hand-off costs about
    three times the step itself (measured: 62 us against 20 us of CPU per step, and far
    more wall time on a loaded machine). The private client changes nothing for the user's
    own JAX code: ``jax.devices()``, the default backend and ``jax_cpu_enable_async_dispatch``
    stay as they are, and the programs here are the only ones placed on it. If that client
    cannot be made (another jaxlib), or the default backend is not CPU, the programs run on the
    default device as before.
    """
    default = jax.local_devices()[0]
    if default.platform != "cpu":
        return default
    try:
        from jaxlib import xla_client

        return xla_client.make_cpu_client(asynchronous=False, num_devices=1).local_devices()[0]
    except Exception:  # noqa: BLE001 - an optimisation only: fall back to the default device
        return default


class Layout:
    """Named arrays in one flat ``uint8`` buffer, packed and unpacked inside ``jit``, read on the host.

    Each field ``name -> (shape, dtype)`` sits at an offset aligned to its item size; the buffer
    holds the arrays' exact bytes (booleans as one byte 0/1). ``pack``/``unpack`` are traceable;
    :meth:`read` is a numpy view of a host copy of the buffer (no copy, no JAX).

    Args:
      fields: ``[(name, shape, dtype), ...]`` in buffer order.
    """

    def __init__(self, fields: list[tuple[str, tuple[int, ...], Any]]):
        self.names = [name for name, _, _ in fields]
        self.shapes = [tuple(int(d) for d in shape) for _, shape, _ in fields]
        self.dtypes = [np.dtype(dtype) for _, _, dtype in fields]
        self.offsets, offset = [], 0
        for shape, dtype in zip(self.shapes, self.dtypes):
            offset = -(-offset // dtype.itemsize) * dtype.itemsize  # align to the item size
            self.offsets.append(offset)
            offset += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        self.nbytes = max(offset, 1)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.slices = {
            name: slice(o, o + int(np.prod(s, dtype=np.int64)) * d.itemsize)
            for name, o, s, d in zip(self.names, self.offsets, self.shapes, self.dtypes)
        }

    @classmethod
    def of(cls, named: dict[str, Any]) -> Layout:
        """The layout of a dict of arrays or ``ShapeDtypeStruct``s (in the dict's order)."""
        return cls([(name, tuple(x.shape), x.dtype) for name, x in named.items()])

    def pack(self, arrays: list[jax.Array]) -> jax.Array:
        """``uint8[nbytes]`` holding ``arrays`` (in field order; traced)."""
        pieces, end = [], 0
        for x, offset, dtype in zip(arrays, self.offsets, self.dtypes):
            x = jnp.asarray(x)
            if x.dtype != dtype:
                raise TypeError(f"Layout.pack: field has dtype {x.dtype}, layout says {dtype}")
            if offset > end:
                pieces.append(jnp.zeros(offset - end, jnp.uint8))
            raw = x.astype(jnp.uint8) if dtype == np.bool_ else jax.lax.bitcast_convert_type(x, jnp.uint8)
            pieces.append(raw.reshape(-1))
            end = offset + raw.size
        if end < self.nbytes:
            pieces.append(jnp.zeros(self.nbytes - end, jnp.uint8))
        return jnp.concatenate(pieces) if len(pieces) > 1 else pieces[0]

    def unpack(self, buffer: jax.Array) -> list[jax.Array]:
        """The fields of a ``uint8[nbytes]`` buffer, in field order (traced)."""
        out = []
        for name, shape, dtype in zip(self.names, self.shapes, self.dtypes):
            raw = buffer[self.slices[name]]
            if dtype == np.bool_:
                out.append((raw != 0).reshape(shape))
            elif dtype.itemsize == 1:
                out.append(jax.lax.bitcast_convert_type(raw, dtype).reshape(shape))
            else:
                words = raw.reshape(*shape, dtype.itemsize)
                out.append(jax.lax.bitcast_convert_type(words, dtype))
        return out

    def read(self, host: np.ndarray, name: str) -> np.ndarray:
        """Field ``name`` of a host copy (``np.uint8[nbytes]``) of the buffer: a read-only view."""
        i = self.index[name]
        return host[self.slices[name]].view(self.dtypes[i]).reshape(self.shapes[i])


def all_views(env: Env, state: State) -> jax.Array:
    """Every seat's view ``observation_dtype[num_players, *observation_shape]`` of one world."""
    if env.simultaneous:
        return state.observation
    seats = jnp.arange(env.num_players, dtype=jnp.int32)
    return jax.vmap(lambda p: env.observe(state, p))(seats)


def seat_outputs(env: Env, state: State) -> dict[str, jax.Array]:
    """Every seat's outputs of one world (traced).

    ``views``: ``obs_dtype[P, *obs_shape]``; ``rewards``: ``float32[P]``; ``terminated``,
    ``truncated``: ``bool[]``; ``current_player``: ``int32[]``; ``mask``: ``bool[A]``
    (turn-based) or ``bool[P, A]`` (simultaneous), as in the state.
    """
    return {
        "views": all_views(env, state),
        "rewards": state.rewards.astype(jnp.float32),
        "terminated": state.terminated,
        "truncated": state.truncated,
        "current_player": state.current_player.astype(jnp.int32),
        "mask": state.legal_action_mask,
    }


class Program:
    """Jitted functions of one world whose state and outputs travel as one buffer each.

    ``S = state_layout.nbytes``, ``O = out_layout.nbytes``; every function returns
    ``(state uint8[S], outputs uint8[O])``. The outputs are ``outputs(env, state)`` plus
    ``episode_key`` (``uint32[2]``), read on the host with ``out_layout.read(np.asarray(out), name)``.

    * ``init(world_key uint32[2], episode_index int32[])``: episode ``episode_index`` of the
      world's stream, ``episode_key_for(world_key, episode_index)``.
    * ``start(episode_key uint32[2])``: the episode of a given key (world key zero, index 0).
    * ``next_episode(state)``: episode ``index + 1`` of the state's world.
    * ``step(state, action)``: ``env.step`` with ``step_key(episode_key, t)``; ``action`` is
      ``int32[]`` (:meth:`action` gives it on the device) or ``int32[P]`` when simultaneous.
    * ``unpack(state) -> State``: the htjax state (jitted; for ``env.state`` and rendering).
    """

    def __init__(self, env: Env, outputs: Callable[[Env, State], dict[str, jax.Array]]):
        template = jax.eval_shape(env.init, jax.random.PRNGKey(0))
        leaves, self._treedef = jax.tree_util.tree_flatten(template)
        key = jax.ShapeDtypeStruct((2,), jnp.uint32)
        self.state_layout = Layout(
            [(f"leaf{i}", leaf.shape, leaf.dtype) for i, leaf in enumerate(leaves)]
            + [
                ("episode_key", (2,), jnp.uint32),
                ("world_key", (2,), jnp.uint32),
                ("episode_index", (), jnp.int32),
            ]
        )
        named = dict(jax.eval_shape(lambda s: outputs(env, s), template))
        if "episode_key" in named:
            raise ValueError("outputs may not define 'episode_key' (the program adds it)")
        named["episode_key"] = key
        self.out_layout = Layout.of(named)
        self._env, self._outputs = env, outputs
        self._num_leaves = len(leaves)
        self._actions: tuple[jax.Array, ...] | None = None
        self.device = program_device()
        on_device = jax.sharding.SingleDeviceSharding(self.device)
        placed = functools.partial(jax.jit, in_shardings=on_device, out_shardings=on_device)
        self.init = placed(self._init)
        self.start = placed(self._start)
        self.next_episode = placed(self._next_episode)
        self.step = placed(self._step)
        self._unpack_jit = jax.jit(self._unpack)

    # ------------------------------------------------------------------ traced
    def _pack(self, state: State, episode_key, world_key, episode_index):
        named = dict(self._outputs(self._env, state))
        named["episode_key"] = episode_key
        state_fields = [
            *jax.tree_util.tree_leaves(state),
            episode_key,
            world_key,
            jnp.asarray(episode_index, jnp.int32),
        ]
        out_fields = [named[name] for name in self.out_layout.names]
        return self.state_layout.pack(state_fields), self.out_layout.pack(out_fields)

    def _split(self, state_buf):
        fields = self.state_layout.unpack(state_buf)
        state = jax.tree_util.tree_unflatten(self._treedef, fields[: self._num_leaves])
        return state, *fields[self._num_leaves :]

    def _unpack(self, state_buf) -> State:
        return self._split(state_buf)[0]

    def _init(self, world_key, episode_index):
        world_key = jnp.asarray(world_key, jnp.uint32)
        episode_key = episode_key_for(world_key, episode_index)
        return self._pack(self._env.init(episode_key), episode_key, world_key, episode_index)

    def _start(self, episode_key):
        episode_key = jnp.asarray(episode_key, jnp.uint32)
        zero = jnp.zeros(2, jnp.uint32)
        return self._pack(self._env.init(episode_key), episode_key, zero, jnp.int32(0))

    def _next_episode(self, state_buf):
        _, _, world_key, episode_index = self._split(state_buf)
        return self._init(world_key, episode_index + 1)

    def _step(self, state_buf, action):
        state, episode_key, world_key, episode_index = self._split(state_buf)
        state = self._env.step(state, action, step_key(episode_key, state.step_count))
        return self._pack(state, episode_key, world_key, episode_index)

    # ------------------------------------------------------------------ host
    def unpack(self, state_buf) -> State:
        """The htjax ``State`` of a packed state, on JAX's default device (not :attr:`device`)."""
        return self._unpack_jit(np.asarray(state_buf))

    def action(self, action: int) -> jax.Array:
        """Action id ``action`` (``0 <= action < num_actions``) as an ``int32[]`` on :attr:`device`, cached."""
        if self._actions is None:
            self._actions = tuple(
                jax.device_put(np.int32(a), self.device) for a in range(self._env.num_actions)
            )
        return self._actions[action]


@functools.lru_cache(maxsize=64)
def program(env: Env, outputs: Callable[[Env, State], dict[str, jax.Array]]) -> Program:
    """The :class:`Program` of ``env`` whose calls also return ``outputs(env, state)``.

    ``outputs`` is a module-level function (the cache key) returning a dict of arrays, e.g.
    :func:`seat_outputs`; every adapter instance of the same env and outputs shares one
    compilation.
    """
    return Program(env, outputs)


def seats_program(env: Env) -> Program:
    """:func:`program` with every seat's views, rewards, flags and mask (:func:`seat_outputs`)."""
    return program(env, seat_outputs)
