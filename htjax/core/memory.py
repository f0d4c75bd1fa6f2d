"""Memory budgets: estimate what a batch needs before allocating it, refuse what cannot fit.

Every public batch API (``htjax.rollout``, ``htjax.evaluate``, the bench, the CLI's ``record``,
``bench``, ``tournament`` and ``demo``) calls :func:`check_fits` with an estimate before it
allocates, so a size that cannot fit fails at once with a :class:`MemoryBudgetError` naming the
estimate, the free memory and the largest size that fits, instead of growing until the kernel
kills the process.

The estimate of a rollout (:func:`rollout_bytes`) adds up

* the carry: one world's state (``jax.eval_shape(env.init, key)``, no compiling) plus its keys
  and counters (20 bytes), times the worlds;
* the trajectory: bytes per world and step (:func:`trajectory_step_bytes`; observations, masks
  and final observations included when recorded), times steps and worlds;
* XLA's working memory: the step computes the stepped state, a fresh ``init`` for auto-reset
  and their selection, each as large as the carry, and the compiled rollout holds its argument
  and its result at once. :data:`CARRY_COPIES` is the number of carry-sized buffers alive at the
  peak, measured (not guessed): ``scripts/measure_memory_factor.py`` reads XLA's
  ``memory_analysis()`` of the compiled rollout of every registered env and preset (at most 4.0
  carry copies beside the trajectory: blackjack casino; hold'em 3.8, the IPD 3.6), and the
  process's peak RSS of real rollouts came to at most 4.6 (hold'em, 100,000 worlds x 8 steps with
  observations). See :data:`CARRY_COPIES`.

Free memory (:func:`available_memory`) is, in order: ``HTJAX_MEMORY_LIMIT`` (bytes, or with a
``K``/``M``/``G``/``T`` suffix) when set; the device's ``bytes_limit - bytes_in_use`` on a GPU or
TPU; otherwise the smaller of ``MemAvailable`` in ``/proc/meminfo`` and the cgroup's limit less
its usage; ``psutil`` where ``/proc`` is missing; and ``os.sysconf`` as the last resort. Only
:data:`HEADROOM` of it is budgeted, the rest is left to the Python process and the OS.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env
from htjax.core.errors import InvalidArgumentError, MemoryBudgetError

__all__ = [
    "CARRY_COPIES",
    "HEADROOM",
    "FreeMemory",
    "available_memory",
    "check_fits",
    "check_rollout_fits",
    "format_bytes",
    "rollout_bytes",
    "state_bytes",
    "trajectory_step_bytes",
]

CARRY_COPIES = 6
"""Carry-sized buffers alive at the peak of a compiled rollout chunk (argument, result and XLA
temporaries). Measured on a 2-core CPU with jax 0.10.2: XLA's ``memory_analysis()`` gives at most
4.0 over every registered env and preset (1,024 worlds x 8 steps); the peak RSS of real rollouts
gave at most 4.6 (hold'em, 100,000 worlds x 8 steps, observations recorded: 14,741 bytes per
world against an estimate of 16,014). Rounded up to leave room for host-side copies."""

HEADROOM = 0.9
"""Fraction of the free memory a batch may plan to use."""

CARRY_EXTRA_BYTES = 20
"""Per world, beside the state: world key and episode key (uint32[2] each), episode index (int32)."""

_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclasses.dataclass(frozen=True)
class FreeMemory:
    """Bytes free now and where the number came from (``"MemAvailable"``, ``"cuda:0"``, ...)."""

    bytes: int
    source: str


def format_bytes(n: float) -> str:
    """``1536 -> "1.5 KiB"``; binary units up to TiB."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def _parse_limit(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([BKMGT]?)(?:i?B)?\s*", text, re.I)
    if m is None:
        raise InvalidArgumentError(
            f"HTJAX_MEMORY_LIMIT must be a number of bytes such as 2000000000 or 2G, got {text!r}"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    """cgroup v2 ``memory.max - memory.current`` of this process's group (containers)."""
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as f:
            return max(0, int(limit) - int(f.read().strip()))
    except (OSError, ValueError):
        return None


def _device_available() -> FreeMemory | None:
    device = jax.devices()[0]
    if device.platform == "cpu":
        return None
    try:
        stats = device.memory_stats() or {}
    except Exception:  # backends without memory stats raise
        return None
    if "bytes_limit" not in stats:
        return None
    return FreeMemory(
        int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0)), f"{device.platform}:{device.id}"
    )


def available_memory() -> FreeMemory:
    """Free memory for a batch now (see the module docstring for the sources, in order)."""
    limit = os.environ.get("HTJAX_MEMORY_LIMIT")
    if limit:
        return FreeMemory(_parse_limit(limit), "HTJAX_MEMORY_LIMIT")
    device = _device_available()
    if device is not None:
        return device
    found = [
        (b, s)
        for b, s in ((_meminfo_available(), "MemAvailable"), (_cgroup_available(), "cgroup limit"))
        if b is not None
    ]
    if found:
        b, s = min(found)
        return FreeMemory(b, s)
    try:
        import psutil

        return FreeMemory(int(psutil.virtual_memory().available), "psutil")
    except ImportError:
        pass
    try:
        return FreeMemory(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "sysconf")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return FreeMemory(2**63 - 1, "unknown (no limit applied)")


def check_fits(
    estimate_bytes: int,
    what: str,
    per_unit_bytes: float | None = None,
    unit_name: str = "worlds",
    *,
    fixed_bytes: int = 0,
    free: FreeMemory | None = None,
) -> None:
    """Raise :class:`MemoryBudgetError` unless ``estimate_bytes`` fits in :data:`HEADROOM` of the
    free memory.

    Args:
      estimate_bytes: what the work would need.
      what: the work, for the message (``"a rollout of 1,000,000,000 worlds x 10 steps"``).
      per_unit_bytes: bytes per unit of the size the user chose (per world, per step, per
        repetition); with ``fixed_bytes`` it gives the largest size that fits.
      unit_name: the unit's name in the message (``"worlds"``).
      fixed_bytes: the part of the estimate that does not scale with the units.
      free: the free memory (default :func:`available_memory`).
    """
    free = available_memory() if free is None else free
    budget = int(free.bytes * HEADROOM)
    if estimate_bytes <= budget:
        return
    message = (
        f"{what} needs about {format_bytes(estimate_bytes)} of memory, but only {format_bytes(free.bytes)} "
        f"is free ({free.source})"
    )
    if per_unit_bytes:
        largest = max(0, int((budget - fixed_bytes) // per_unit_bytes))
        message += f"; the largest that fits is about {largest:,} {unit_name}"
    raise MemoryBudgetError(message)


# --------------------------------------------------------------------------- estimates
def _tree_bytes(tree) -> int:
    return sum(math.prod(x.shape) * np.dtype(x.dtype).itemsize for x in jax.tree_util.tree_leaves(tree))


@functools.lru_cache(maxsize=64)
def _state_shape(env: Env):
    return jax.eval_shape(env.init, jax.ShapeDtypeStruct((2,), jnp.uint32))


def state_bytes(env: Env) -> int:
    """Bytes of one world's ``State`` (from ``jax.eval_shape(env.init, key)``: traced, not compiled)."""
    return _tree_bytes(_state_shape(env))


def trajectory_step_bytes(env: Env, record_observations: bool = True) -> int:
    """Bytes a rollout records per world and step (see :class:`htjax.Trajectory`).

    Always: action (``int32``, one per seat in simultaneous games), current player, rewards
    (``float32[P]``), terminated, truncated, episode key, episode index and step index; with
    ``record_observations`` also the observation, the legal mask and the final observation
    (each as large as the state's ``observation`` / ``legal_action_mask``).
    """
    s = _state_shape(env)
    actions = 4 * (env.num_players if env.simultaneous else 1)
    n = actions + 4 + _tree_bytes(s.rewards) + 1 + 1 + 8 + 4 + 4
    if record_observations:
        n += 2 * _tree_bytes(s.observation) + _tree_bytes(s.legal_action_mask)
    return n


def rollout_bytes(
    env: Env, num_envs: int, num_steps: int, *, record_observations: bool = True
) -> tuple[int, int]:
    """``(total bytes, bytes per world)`` of a rollout of ``num_envs`` worlds for ``num_steps`` steps."""
    carry = state_bytes(env) + CARRY_EXTRA_BYTES
    per_world = CARRY_COPIES * carry + num_steps * trajectory_step_bytes(env, record_observations)
    return per_world * num_envs, per_world


def check_rollout_fits(
    env: Env, num_envs: int, num_steps: int, *, record_observations: bool = True, what: str | None = None
) -> None:
    """:func:`check_fits` for :func:`rollout_bytes` (sizes that are not positive ints pass: the
    caller's own validation names them)."""
    if not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in (num_envs, num_steps)
    ):
        return
    total, per_world = rollout_bytes(
        env, int(num_envs), int(num_steps), record_observations=record_observations
    )
    what = what or f"a rollout of {env.id}: {num_envs:,} worlds x {num_steps:,} steps"
    check_fits(total, what, per_world, "worlds")
