"""Throughput measurement shared by ``htjax bench``, ``htjax demo`` and ``scripts/bench_*.py``.

:func:`measure_throughput` runs ``num_envs`` worlds of an env with :func:`htjax.rollout_steps`
(auto-reset on, observations not recorded) and reports steps per second of the timed part,
compile seconds (measured apart: ``init`` and the step chunk are lowered and compiled before
anything is timed), peak memory and the device.

Peak memory is the device's ``memory_stats()["peak_bytes_in_use"]`` where the backend reports
it (GPUs, TPUs), else the process's peak resident set size from ``resource.getrusage``
(CPU); ``peak_memory_source`` says which.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import sys
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env
from htjax.core.keys import key_data
from htjax.core.rollouts import (
    AUTORESET_MODES,
    Policy,
    carry_mesh,
    check_world_tile,
    random_policy,
    rollout_start,
    sharded_rollout_steps,
)

__all__ = [
    "BenchResult",
    "EpisodeReturns",
    "check_memory",
    "init_step_compile_seconds",
    "measure_throughput",
    "peak_memory",
    "device_description",
    "machine_info",
    "update_markdown_section",
]


@dataclasses.dataclass(frozen=True)
class BenchResult:
    """One throughput measurement (plain values, ``dataclasses.asdict`` gives the JSON object)."""

    env: str
    rules: str
    num_envs: int
    num_steps: int
    env_steps: int
    seconds: float
    steps_per_second: float
    compile_seconds: float
    init_compile_seconds: float
    step_compile_seconds: float
    episodes: int
    peak_memory_bytes: int
    peak_memory_source: str
    device: str
    autoreset: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def device_description(device: jax.Device | None = None) -> str:
    """``"cpu (2 cores)"`` or ``"gpu: NVIDIA H100 80GB HBM3"``."""
    device = device or jax.devices()[0]
    if device.platform == "cpu":
        return f"cpu ({os.cpu_count()} cores)"
    return f"{device.platform}: {device.device_kind}"


def peak_memory(device: jax.Device | None = None) -> tuple[int, str]:
    """``(bytes, source)``: device peak bytes in use when reported, else process peak RSS."""
    device = device or jax.devices()[0]
    stats = None
    try:
        stats = device.memory_stats()
    except Exception:  # backends without memory stats raise rather than return None
        stats = None
    if stats and "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"]), f"{device.platform} peak_bytes_in_use"
    import resource  # Unix only; imported here so the module imports everywhere

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return int(rss if sys.platform == "darwin" else rss * 1024), "process peak RSS"


def machine_info() -> dict[str, Any]:
    """CPU, core count, Python/JAX versions and the default device, for benchmark reports."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "device": device_description(),
        "platform": platform.platform(),
    }


@functools.lru_cache(maxsize=32)
def _start_fn(env: Env, num_envs: int, devices=None):
    return jax.jit(lambda key: rollout_start(env, key, num_envs, devices=devices))


@functools.lru_cache(maxsize=32)
def _chunk_fn(
    env: Env,
    policy: Policy,
    chunk: int,
    autoreset: str,
    reduce: Callable | None,
    mesh=None,
    world_tile: int | None = None,
):
    steps = sharded_rollout_steps(
        env,
        policy,
        mesh,
        num_steps=chunk,
        autoreset=autoreset,
        record_observations=False,
        world_tile=world_tile,
    )

    def run(carry, params):
        carry, traj = steps(carry, params)
        episodes = jnp.sum(traj.done.astype(jnp.int32))
        extra = None if reduce is None else reduce(traj)
        return carry, episodes, extra

    return jax.jit(run)


def check_memory(env: Env, num_envs: int, num_steps: int, chunks: int = 10) -> None:
    """Refuse (:class:`~htjax.core.errors.MemoryBudgetError`) a bench that cannot fit in memory:
    the carry of ``num_envs`` worlds plus one chunk of ``ceil(num_steps / chunks)`` steps without
    observations (see :func:`htjax.core.memory.rollout_bytes`)."""
    from htjax.core.memory import check_rollout_fits

    if not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (num_envs, num_steps, chunks)
    ):
        return
    chunk = -(-num_steps // min(chunks, num_steps))
    check_rollout_fits(
        env,
        num_envs,
        chunk,
        record_observations=False,
        what=f"{env.id} with {num_envs:,} worlds (steps in chunks of {chunk:,})",
    )


def measure_throughput(
    env: Env,
    num_envs: int,
    num_steps: int,
    *,
    policy: Policy = random_policy,
    params: Any = None,
    key: jax.Array | None = None,
    autoreset: str = "select",
    chunks: int = 10,
    rules: str = "default",
    progress: Callable[[int], None] | None = None,
    reduce: Callable | None = None,
    on_chunk: Callable[[Any], None] | None = None,
    max_seconds: float | None = None,
    devices=None,
    world_tile: int | None = None,
) -> BenchResult:
    """Time ``num_envs`` worlds for about ``num_steps`` steps each (env steps = worlds x steps).

    The steps run as ``chunks`` calls of one compiled ``lax.scan`` of ``ceil(num_steps / chunks)``
    steps (so a progress callback can advance); one extra chunk runs untimed after compiling.

    Args:
      env: the env (any number of seats: one env step moves one world).
      num_envs, num_steps: worlds ``N`` and steps per world ``T``.
      policy, params: what acts (default: uniformly random legal actions).
      key: rollout key (default ``PRNGKey(0)``).
      autoreset: ``"select"`` or ``"cond"`` (see :mod:`htjax.core.rollouts`).
      chunks: number of timed calls.
      rules: label of the rules for the report (preset name or ``"custom"``).
      progress: called with the number of env steps done after every timed chunk.
      reduce: optional traced ``reduce(trajectory) -> pytree`` computed per chunk inside jit;
        each chunk's value is handed to ``on_chunk`` (used by the demo for returns).
      max_seconds: stop after the first chunk that brings the timed seconds past this (slow
        envs in sweeps); the result counts only the chunks that ran.
      devices: shard the worlds over devices (``"all"`` or a list; see :func:`htjax.rollout`).
      world_tile: step the worlds in tiles of this many per device (see :func:`htjax.rollout`).

    Raises:
      MemoryBudgetError: the worlds would not fit in free memory (:func:`check_memory`, before
        anything is compiled or allocated).
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")
    if not isinstance(chunks, int) or chunks < 1:
        raise ValueError(f"chunks must be a positive int, got {chunks!r}")
    if autoreset not in AUTORESET_MODES:
        raise ValueError(f"autoreset must be one of {AUTORESET_MODES}, got {autoreset!r}")
    if world_tile is not None:
        check_world_tile(world_tile, num_envs)  # before compiling; per device when traced
    check_memory(env, num_envs, num_steps, chunks)
    chunks = min(chunks, num_steps)
    chunk = -(-num_steps // chunks)
    # host data: with devices over several processes, jit takes only global or numpy inputs
    key = np.asarray(key_data(jax.random.PRNGKey(0) if key is None else key))

    t0 = time.perf_counter()
    start = _start_fn(env, num_envs, devices).lower(key).compile()
    init_compile = time.perf_counter() - t0
    carry = start(key)
    jax.block_until_ready(carry)

    t0 = time.perf_counter()
    # a tile that does not divide a device's share is refused by rollout_steps while tracing
    run = (
        _chunk_fn(env, policy, chunk, autoreset, reduce, carry_mesh(carry), world_tile)
        .lower(carry, params)
        .compile()
    )
    step_compile = time.perf_counter() - t0

    carry, _, _ = run(carry, params)  # warm-up: first execution allocates buffers
    jax.block_until_ready(carry)

    episodes = 0
    elapsed = 0.0
    done_chunks = 0
    while done_chunks < chunks and (max_seconds is None or done_chunks == 0 or elapsed < max_seconds):
        t0 = time.perf_counter()
        carry, n_done, extra = run(carry, params)
        jax.block_until_ready((carry, n_done, extra))
        elapsed += time.perf_counter() - t0
        done_chunks += 1
        episodes += int(n_done)
        if on_chunk is not None:
            on_chunk(extra)
        if progress is not None:
            progress(done_chunks * chunk * num_envs)

    env_steps = done_chunks * chunk * num_envs
    peak, source = peak_memory()
    return BenchResult(
        env=env.id,
        rules=rules,
        num_envs=num_envs,
        num_steps=done_chunks * chunk,
        env_steps=env_steps,
        seconds=elapsed,
        steps_per_second=env_steps / elapsed if elapsed > 0 else float("inf"),
        compile_seconds=init_compile + step_compile,
        init_compile_seconds=init_compile,
        step_compile_seconds=step_compile,
        episodes=episodes,
        peak_memory_bytes=peak,
        peak_memory_source=source,
        device=device_description(),
        autoreset=autoreset,
    )


def init_step_compile_seconds(env: Env, num_envs: int | None = None) -> dict[str, float]:
    """Seconds to lower and compile ``jit(init)`` and ``jit(step)`` (vmapped when ``num_envs``).

    Run it in a fresh process for an honest number: JAX caches compilations in memory.
    """
    key = jax.random.PRNGKey(0)
    init, step = env.init, env.step
    if num_envs is not None:
        key = jax.random.split(key, num_envs)
        init, step = jax.vmap(init), jax.vmap(step)
    t0 = time.perf_counter()
    compiled_init = jax.jit(init).lower(key).compile()
    init_seconds = time.perf_counter() - t0
    state = compiled_init(key)
    action = jnp.argmax(state.legal_action_mask, axis=-1).astype(jnp.int32)
    t0 = time.perf_counter()
    jax.jit(step).lower(state, action, key).compile()
    step_seconds = time.perf_counter() - t0
    return {"init": init_seconds, "step": step_seconds, "total": init_seconds + step_seconds}


class EpisodeReturns:
    """Accumulates returns of completed episodes from chunks of ``[T, N]`` rewards and done flags.

    Rewards of an episode still running at the end of a chunk carry over to the next chunk,
    so :attr:`mean` is exact over the episodes that completed.
    """

    def __init__(self, num_envs: int):
        self._running = np.zeros(num_envs, np.float64)
        self.total = 0.0
        self.episodes = 0

    def add(self, rewards: np.ndarray, done: np.ndarray) -> None:
        """``rewards: float[T, N]`` (one seat), ``done: bool[T, N]``."""
        rewards = np.asarray(rewards, np.float64)
        done = np.asarray(done, np.bool_)
        for r, d in zip(rewards, done):
            self._running += r
            self.total += float(self._running[d].sum())
            self.episodes += int(d.sum())
            self._running[d] = 0.0

    @property
    def mean(self) -> float:
        """Mean return per completed episode (``nan`` before the first one)."""
        return self.total / self.episodes if self.episodes else float("nan")


def update_markdown_section(path, name: str, body: str, *, title: str = "# Benchmarks") -> None:
    """Replace (or append) the block between ``<!-- name:start -->`` and ``<!-- name:end -->``.

    Several scripts write into one page (``docs/benchmarks.md``); each owns its own block.
    """
    import pathlib

    path = pathlib.Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else f"{title}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
