"""Running one program over several processes: ``jax.distributed`` set-up and the world mesh.

A multi-process (multi-host) run is SPMD: every process runs the same Python program, calls
:func:`initialize` first, then builds the same rollout or trainer with ``devices="all"``. The
worlds are split over every device of every process (a 1-D ``"worlds"`` mesh over
``jax.devices()``), each process builds and steps only the worlds on its own devices, and world
``w`` draws the keys it has in the whole batch, so the results equal a one-process run on as
many devices with the same key (see ``docs/scale.md``).

* :func:`initialize` wraps ``jax.distributed.initialize`` (explicit coordinator address, process
  count and id, or a cluster's auto-detection: SLURM, Open MPI, TPU pods, ...), selects gloo
  collectives for CPU devices, and bounds the wait: a process whose peers do not all join within
  ``timeout_s`` gets a :class:`DistributedError` naming the coordinator, its id and the timeout
  (the wait inside jax, which would abort the process, is given a longer deadline).
* :func:`check_same_across_processes` all-gathers a digest of named settings (env id, config,
  batch, seed) and raises :class:`DistributedError` naming every setting that differs, with each
  process's value: processes that disagree would otherwise run different programs and hang or
  silently mix two experiments.
* :func:`world_mesh`, :func:`global_array` and :func:`replicated` place values on the global
  mesh; :func:`gather` fetches a sharded result to every process.

Pure jax and numpy: no I/O, so the core may use it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from htjax.core.errors import HtjaxError, InvalidArgumentError

__all__ = [
    "DistributedError",
    "ProcessInfo",
    "DEFAULT_TIMEOUT_S",
    "ENV_COORDINATOR",
    "ENV_NUM_PROCESSES",
    "ENV_PROCESS_ID",
    "ENV_TIMEOUT",
    "initialize",
    "settings_from_env",
    "process_info",
    "world_mesh",
    "global_array",
    "replicated",
    "gather",
    "check_same_across_processes",
]

DEFAULT_TIMEOUT_S = 120.0
"""Seconds a process waits for all processes to join before :func:`initialize` gives up."""

ENV_COORDINATOR = "HTJAX_COORDINATOR"
ENV_NUM_PROCESSES = "HTJAX_NUM_PROCESSES"
ENV_PROCESS_ID = "HTJAX_PROCESS_ID"
ENV_TIMEOUT = "HTJAX_JOIN_TIMEOUT"

# jax's own deadline is longer than ours, so our clear error comes first; past it jax aborts.
_JAX_DEADLINE_MARGIN_S = 60
_SLOTS = 32  # settings compared by check_same_across_processes
_SLOT_BYTES = 96  # digest (8 bytes) + "name=value" text (88 bytes) per setting


class DistributedError(HtjaxError, RuntimeError):
    """A multi-process run could not start or its processes disagree (see :mod:`htjax.core.distributed`)."""


@dataclasses.dataclass(frozen=True)
class ProcessInfo:
    """Where this process stands: ``process_id`` of ``num_processes``, and device counts."""

    process_id: int
    num_processes: int
    local_devices: int
    global_devices: int


def process_info() -> ProcessInfo:
    """This process's :class:`ProcessInfo` (one process: id 0 of 1)."""
    return ProcessInfo(jax.process_index(), jax.process_count(), jax.local_device_count(), jax.device_count())


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{coordinator, num_processes, process_id, timeout_s}`` from the ``HTJAX_*`` variables
    (``None`` where unset); ints and floats are checked, a bad value raises
    :class:`InvalidArgumentError` naming the variable."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {"coordinator": environ.get(ENV_COORDINATOR) or None}
    for key, name, kind in (
        ("num_processes", ENV_NUM_PROCESSES, int),
        ("process_id", ENV_PROCESS_ID, int),
        ("timeout_s", ENV_TIMEOUT, float),
    ):
        raw = environ.get(name)
        if raw in (None, ""):
            out[key] = None
            continue
        try:
            out[key] = kind(raw)
        except ValueError:
            raise InvalidArgumentError(
                f"{name} must be a{'n int' if kind is int else ' number'}, got {raw!r}"
            ) from None
    return out


def _check_args(coordinator, num_processes, process_id, timeout_s) -> None:
    if coordinator is not None:
        host, sep, port = str(coordinator).rpartition(":")
        if (
            not isinstance(coordinator, str)
            or not sep
            or not host
            or not port.isdigit()
            or not 0 < int(port) < 65536
        ):
            raise InvalidArgumentError(
                f"coordinator must be 'host:port' (port 1..65535), got {coordinator!r}"
            )
    if num_processes is not None and (
        isinstance(num_processes, bool) or not isinstance(num_processes, int) or num_processes < 1
    ):
        raise InvalidArgumentError(f"num_processes must be a positive int, got {num_processes!r}")
    if process_id is not None:
        if isinstance(process_id, bool) or not isinstance(process_id, int) or process_id < 0:
            raise InvalidArgumentError(f"process_id must be a non-negative int, got {process_id!r}")
        if num_processes is not None and process_id >= num_processes:
            raise InvalidArgumentError(f"process_id={process_id} must be below num_processes={num_processes}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
        raise InvalidArgumentError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    local_device_ids: Sequence[int] | None = None,
    cpu_collectives: str = "gloo",
) -> ProcessInfo:
    """Join this process to a multi-process JAX run; call it before anything else touches JAX.

    Args:
      coordinator: ``"host:port"`` of process 0 (it serves there); ``None`` lets jax read
        ``JAX_COORDINATOR_ADDRESS`` or detect the cluster (SLURM, Open MPI, TPU pods, ...).
      num_processes, process_id: the run's size and this process's id (``0 .. n - 1``);
        ``None`` = auto-detected.
      timeout_s: how long to wait for every process to join before raising.
      local_device_ids: the accelerators this process uses (``None``: all visible).
      cpu_collectives: cross-process collectives for CPU devices (``"gloo"``; ``"mpi"`` needs
        an MPI build; ``None`` leaves jax's setting). Harmless on GPU and TPU.

    Returns:
      :class:`ProcessInfo` of this process. Calling again after a successful join returns it.

    Raises:
      InvalidArgumentError: a malformed coordinator, count, id or timeout.
      DistributedError: jax was already in use in this process, the cluster could not be
        detected, or not every process joined within ``timeout_s`` (the message names the
        coordinator, this process and the timeout). JAX cannot retry a failed join in the same
        process: exit and start again.
    """
    _check_args(coordinator, num_processes, process_id, timeout_s)
    if jax.distributed.is_initialized():
        info = process_info()
        if (num_processes is not None and num_processes != info.num_processes) or (
            process_id is not None and process_id != info.process_id
        ):
            raise DistributedError(
                f"jax.distributed is already initialised as process {info.process_id} of {info.num_processes}, "
                f"not process {process_id} of {num_processes}"
            )
        return info
    if cpu_collectives is not None:
        try:
            jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
        except Exception as err:  # an unknown implementation name
            raise InvalidArgumentError(
                f"cpu_collectives={cpu_collectives!r} is not available: {err}"
            ) from None
    who = (
        f"process {process_id if process_id is not None else '?'} of "
        f"{num_processes if num_processes is not None else '?'}"
    )
    where = coordinator or os.environ.get("JAX_COORDINATOR_ADDRESS") or "the auto-detected coordinator"
    outcome: dict[str, BaseException] = {}

    def join() -> None:
        try:
            jax.distributed.initialize(
                coordinator_address=coordinator,
                num_processes=num_processes,
                process_id=process_id,
                local_device_ids=local_device_ids,
                initialization_timeout=int(timeout_s) + _JAX_DEADLINE_MARGIN_S,
            )
        except BaseException as err:  # handed to the caller's thread below
            outcome["error"] = err

    thread = threading.Thread(target=join, name="htjax-distributed-join", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        if process_id == 0:
            detail = f"it serves at {where} and not every process connected"
        else:
            detail = f"the coordinator at {where} did not answer or not every process connected"
        raise DistributedError(
            f"{who} could not join the distributed run within {timeout_s:g} s: {detail}. Start every process "
            f"with the same coordinator address and process count, each with its own process id, and check that "
            f"the coordinator's port is reachable; see docs/scale.md"
        )
    if "error" in outcome:
        err = outcome["error"]
        raise DistributedError(f"{who} could not join the distributed run at {where}: {err}") from err
    return process_info()


def world_mesh(devices: Sequence[jax.Device] | str | None = "all") -> jax.sharding.Mesh:
    """A 1-D ``"worlds"`` mesh over ``devices`` (``"all"``/``None``: every device of every process)."""
    if devices is None or isinstance(devices, str):
        if devices not in (None, "all"):
            raise InvalidArgumentError(f"devices must be 'all', None or a list of devices, got {devices!r}")
        devices = jax.devices()
    devices = list(devices)
    if not devices:
        raise InvalidArgumentError("devices must name at least one device")
    return jax.sharding.Mesh(np.asarray(devices), ("worlds",))


def global_array(value: Any, sharding: jax.sharding.Sharding) -> jax.Array:
    """``value`` (the whole array, the same in every process) as a global array with ``sharding``:
    each process copies only the slices its own devices hold (``jax.make_array_from_callback``)."""
    host = np.asarray(value)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def replicated(tree: Any, mesh: jax.sharding.Mesh) -> Any:
    """Every leaf of ``tree`` (the same in every process) replicated on every device of ``mesh``."""
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    return jax.tree_util.tree_map(lambda x: global_array(jax.device_get(x), sharding), tree)


def gather(tree: Any) -> Any:
    """Numpy copies of every leaf of ``tree``, whole, in every process (a collective: every
    process must call it). Leaves this process already holds whole are copied without communicating."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    def one(x):
        if not isinstance(x, jax.Array) or x.is_fully_addressable or x.is_fully_replicated:
            return np.asarray(jax.device_get(x))
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree_util.tree_map(one, tree)


def _slot(name: str, value: Any) -> np.ndarray:
    text = f"{name}={value!r}"
    digest = hashlib.sha256(text.encode()).digest()[:8]
    shown = text.encode("utf-8", "replace")[: _SLOT_BYTES - 8].ljust(_SLOT_BYTES - 8, b"\0")
    return np.frombuffer(digest + shown, np.uint8)


def check_same_across_processes(what: str, settings: Mapping[str, Any]) -> None:
    """Raise :class:`DistributedError` unless every process passes equal ``settings``.

    ``settings`` maps names to values compared by ``repr`` (env id, config dict, batch size,
    seed, ...); at most 32. Every process must call this at the same point (it is a collective).
    The error names each setting that differs and the value each process has (truncated).
    """
    if len(settings) > _SLOTS:
        raise InvalidArgumentError(
            f"check_same_across_processes compares at most {_SLOTS} settings, got {len(settings)}"
        )
    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    names = sorted(settings)
    table = np.zeros((_SLOTS + 1, _SLOT_BYTES), np.uint8)
    table[0] = _slot("names", names)
    for i, name in enumerate(names):
        table[i + 1] = _slot(name, settings[name])
    everyone = np.asarray(multihost_utils.process_allgather(table))  # [P, slots, bytes]
    if everyone.ndim != 3:
        everyone = everyone.reshape((-1,) + table.shape)
    if (everyone == everyone[:1]).all():
        return

    def shown(row: np.ndarray) -> str:
        return bytes(row[8:]).rstrip(b"\0").decode("utf-8", "replace").partition("=")[2]

    if not (everyone[:, 0] == everyone[0, 0]).all():
        differing = ["the set of settings compared"]
    else:
        differing = []
        for i, name in enumerate(names):
            rows = everyone[:, i + 1]
            if not (rows == rows[0]).all():
                values = ", ".join(f"process {p}: {shown(rows[p])}" for p in range(len(rows)))
                differing.append(f"{name} ({values})")
    raise DistributedError(
        f"{what}: the processes disagree on {'; '.join(differing)}. Every process must run the same "
        f"command with the same settings"
    )
