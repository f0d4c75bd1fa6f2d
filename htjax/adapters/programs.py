"""The jitted programs behind the one-world adapters, compiled once per env config and shared.

* :func:`seats_program`: one world stepped with **every seat's view** (the PettingZoo adapters
  and Gymnasium's opponents env).
* :func:`program`: the same with any outputs (the Gymnasium env's observation view).

The fast path (what one Python-side ``step`` costs)
---------------------------------------------------
A Gymnasium user who steps one env from Python pays JAX's per-call overhead, not the rules: a
blackjack step computes in a few microseconds inside XLA, but a Python-side ``step`` (with its
share of resets) cost about 250 us of CPU before this design (measured on a loaded 2-core
machine, where Gymnasium's own ``Blackjack-v1`` takes about 35 us). Where the time went, and what each part does
about it (numbers: CPU per blackjack step call, same machine):

* **The hand-off to a worker thread** (about 40 us). JAX's CPU client runs every program that
  XLA's cost model does not call trivial (under 1,000 flops) on a worker thread and wakes the
  caller when it is done. The programs here run on :func:`program_device`: the one device of a
  private, *synchronous* XLA:CPU client, so a call runs to completion in the calling thread.
  Nothing changes for the user's own JAX code (``jax.devices()``, the default backend and
  ``jax_cpu_enable_async_dispatch`` stay as they are).
* **XLA's thread pool inside a program** (40-60 us). XLA:CPU runs a program's kernels one after
  another only while every buffer they touch is at most 512 bytes; otherwise it schedules them
  on its thread pool. So the packed buffers are chunks of at most :data:`CHUNK_BYTES`.
* **Arguments and results** (about 1-2 us each; a blackjack state has about 30 leaves, 60 us
  as leaves in and out against 22 us packed). The world's whole state, its episode key, world
  key and episode index travel as one ``uint8`` buffer per 512 bytes (:class:`Layout`: each
  leaf's bytes at an aligned offset, bitcast in and out inside the compiled function), and
  everything the host needs after a call (observation, rewards, flags, legal mask, episode
  key) comes back the same way, read with one ``np.asarray`` per chunk and sliced with numpy
  views (:meth:`Layout.read`). The host never flattens or rebuilds a pytree per step;
  :meth:`Program.unpack` rebuilds the ``State`` only when asked (``env.state``, ``render``).
* **Keys and actions from the host.** ``step(state, action)`` derives ``step_key(episode_key,
  t)`` from the key stored in the state, ``next_episode(state)`` starts episode ``index + 1``
  of the same world with ``episode_key_for(world_key, index + 1)``: the core key schedule
  (:mod:`htjax.core.keys`), computed in the compiled function. :meth:`Program.action` hands
  out one cached device scalar per action id. So a step sends nothing from the host.

A blackjack ``step`` is then one jitted call with two arguments (state, action) and two
results (state, outputs): about 22 us of CPU, of which about 8 us is the floor of any jitted
call with that signature. AOT compilation (``jit(f).lower(...).compile()``) was measured and
gave nothing over ``jax.jit``'s C++ dispatch path, so the programs are plain ``jax.jit``
functions (which keeps ``jax.clear_caches`` and the persistent compilation cache working).

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


CHUNK_BYTES = 512
"""Largest packed buffer. XLA:CPU runs a program's kernels one after another in the calling
thread only while every buffer they touch is at most 512 bytes (``ThunkExecutor``'s
``execute_sequential_buffer_threshold``); past that it schedules them on its thread pool, which
costs a single small world about three times its step (measured: a blackjack step packed in
one 568-byte buffer took 62-89 us of CPU against 22 us in one 284-byte buffer)."""


class Layout:
    """Named arrays packed into a few flat ``uint8`` buffers (chunks), inside ``jit``; read on the host.

    Fields are placed first-fit, largest first, into chunks of at most :data:`CHUNK_BYTES`
    bytes (a field larger than that gets a chunk of its own), each at an offset aligned to its
    item size; a chunk holds the arrays' exact bytes (booleans as one byte 0/1). ``pack`` and
    ``unpack`` are traceable; :meth:`read` is a numpy view of a host copy of a chunk.

    Args:
      fields: ``[(name, shape, dtype), ...]``.
      chunk_bytes: the largest chunk.

    Attributes:
      sizes: bytes of each chunk; ``place[name] = (chunk, slice of its bytes)``.
    """

    def __init__(self, fields: list[tuple[str, tuple[int, ...], Any]], chunk_bytes: int = CHUNK_BYTES):
        self.names = [name for name, _, _ in fields]
        self.shapes = {name: tuple(int(d) for d in shape) for name, shape, _ in fields}
        self.dtypes = {name: np.dtype(dtype) for name, _, dtype in fields}
        nbytes = {
            name: int(np.prod(self.shapes[name], dtype=np.int64)) * self.dtypes[name].itemsize
            for name in self.names
        }
        self.sizes: list[int] = []
        self.place: dict[str, tuple[int, slice]] = {}
        members: list[list[str]] = []
        for name in sorted(self.names, key=lambda n: (-nbytes[n], self.names.index(n))):
            item = self.dtypes[name].itemsize
            for chunk, used in enumerate(self.sizes):
                offset = -(-used // item) * item  # aligned to the item size
                if offset + nbytes[name] <= chunk_bytes:
                    break
            else:
                chunk, offset = len(self.sizes), 0
                self.sizes.append(0)
                members.append([])
            self.place[name] = (chunk, slice(offset, offset + nbytes[name]))
            self.sizes[chunk] = offset + nbytes[name]
            members[chunk].append(name)
        self.sizes = [max(size, 1) for size in self.sizes] or [1]
        self._members = [sorted(m, key=lambda n: self.place[n][1].start) for m in members] or [[]]

    @classmethod
    def of(cls, named: dict[str, Any]) -> Layout:
        """The layout of a dict of arrays or ``ShapeDtypeStruct``s."""
        return cls([(name, tuple(x.shape), x.dtype) for name, x in named.items()])

    def pack(self, named: dict[str, jax.Array]) -> tuple[jax.Array, ...]:
        """``(uint8[sizes[0]], ...)`` holding every field of ``named`` (traced)."""
        chunks = []
        for size, members in zip(self.sizes, self._members):
            pieces, end = [], 0
            for name in members:
                x, where = jnp.asarray(named[name]), self.place[name][1]
                if x.dtype != self.dtypes[name] or x.shape != self.shapes[name]:
                    raise TypeError(
                        f"Layout.pack: {name!r} is {x.dtype}{list(x.shape)}, the layout says "
                        f"{self.dtypes[name]}{list(self.shapes[name])}"
                    )
                if where.start > end:
                    pieces.append(jnp.zeros(where.start - end, jnp.uint8))
                raw = (
                    x.astype(jnp.uint8)
                    if x.dtype == jnp.bool_
                    else jax.lax.bitcast_convert_type(x, jnp.uint8)
                )
                pieces.append(raw.reshape(-1))
                end = where.stop
            if end < size:
                pieces.append(jnp.zeros(size - end, jnp.uint8))
            chunks.append(jnp.concatenate(pieces) if len(pieces) > 1 else pieces[0])
        return tuple(chunks)

    def unpack(self, chunks: tuple[jax.Array, ...]) -> dict[str, jax.Array]:
        """Every field of packed ``chunks``, by name (traced)."""
        out = {}
        for name in self.names:
            chunk, where = self.place[name]
            raw, shape, dtype = chunks[chunk][where], self.shapes[name], self.dtypes[name]
            if dtype == np.bool_:
                out[name] = (raw != 0).reshape(shape)
            elif dtype.itemsize == 1:
                out[name] = jax.lax.bitcast_convert_type(raw, dtype).reshape(shape)
            else:
                out[name] = jax.lax.bitcast_convert_type(raw.reshape(*shape, dtype.itemsize), dtype)
        return out

    def read(self, hosts: list[np.ndarray] | tuple[np.ndarray, ...], name: str) -> np.ndarray:
        """Field ``name`` from host copies (``np.uint8``) of the chunks: a read-only view."""
        chunk, where = self.place[name]
        return hosts[chunk][where].view(self.dtypes[name]).reshape(self.shapes[name])


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

    The state is ``state_layout``'s chunks (one ``uint8`` buffer for a small state), the
    outputs ``out_layout``'s; every function returns ``(state chunks, output chunks)``. The
    outputs are ``outputs(env, state)`` plus ``episode_key`` (``uint32[2]``), read on the host
    with ``out_layout.read([np.asarray(c) for c in out], name)``.

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
        self._leaf_names = [f"leaf{i}" for i in range(len(leaves))]
        self.state_layout = Layout(
            [(name, leaf.shape, leaf.dtype) for name, leaf in zip(self._leaf_names, leaves)]
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
        fields = dict(zip(self._leaf_names, jax.tree_util.tree_leaves(state)))
        fields.update(
            episode_key=episode_key, world_key=world_key, episode_index=jnp.asarray(episode_index, jnp.int32)
        )
        return self.state_layout.pack(fields), self.out_layout.pack(named)

    def _split(self, state_buf):
        fields = self.state_layout.unpack(state_buf)
        state = jax.tree_util.tree_unflatten(self._treedef, [fields[name] for name in self._leaf_names])
        return state, fields["episode_key"], fields["world_key"], fields["episode_index"]

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
    @staticmethod
    def host(chunks) -> list[np.ndarray]:
        """Host copies (``np.uint8``) of packed chunks: one transfer per chunk, for :meth:`Layout.read`."""
        return [np.asarray(chunk) for chunk in chunks]

    def unpack(self, state_buf) -> State:
        """The htjax ``State`` of a packed state, on JAX's default device (not :attr:`device`)."""
        return self._unpack_jit(tuple(np.asarray(chunk) for chunk in state_buf))

    def actions(self) -> tuple[jax.Array, ...]:
        """Every action id as an ``int32[]`` on :attr:`device` (made once, shared by instances)."""
        if self._actions is None:
            self._actions = tuple(
                jax.device_put(np.int32(a), self.device) for a in range(self._env.num_actions)
            )
        return self._actions

    def action(self, action: int) -> jax.Array:
        """Action id ``action`` (``0 <= action < num_actions``) as an ``int32[]`` on :attr:`device`."""
        return self.actions()[action]


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
