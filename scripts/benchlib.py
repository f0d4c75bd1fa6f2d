"""What every benchmark script shares: timing, compile timing, isolated runs, the peers' policy
and writing the results (``docs/bench/<name>.json`` plus a block of ``docs/benchmarks.md``).

Scripts import it as ``from benchlib import ...`` (Python puts a script's folder on the path).

Like for like: a peer that steps JAX worlds (pgx) acts with :func:`hashed_legal_actions`, the
same hashed-score argmax over legal actions that htjax's :func:`htjax.random_policy` computes,
from keys derived the same way (:func:`htjax.core.keys.policy_keys`), and its per-world env keys
come from the same hash too. So the policy and key costs are identical on both sides and the
ratio measures the environments alone.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any, Callable

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "docs" / "bench"
MARKDOWN = ROOT / "docs" / "benchmarks.md"

__all__ = [
    "ROOT",
    "BENCH_DIR",
    "MARKDOWN",
    "timed",
    "best_seconds",
    "compile_seconds",
    "run_isolated",
    "hashed_legal_actions",
    "hashed_world_keys",
    "write_results",
]


def timed(fn: Callable[[], Any], cpu: dict | None = None, name: str | None = None) -> tuple[Any, float]:
    """``(fn(), wall seconds)``; with ``cpu`` and ``name`` also stores the process CPU seconds
    (on a shared machine the better estimate of a quiet machine's wall time)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    out = fn()
    if cpu is not None and name:
        cpu[name] = time.process_time() - cpu_start
    return out, time.perf_counter() - start


def best_seconds(
    fn: Callable[[], Any], repeats: int, *, max_seconds: float = float("inf")
) -> tuple[float, int]:
    """Best wall seconds of ``repeats`` calls of ``fn`` (which must block until its work is done),
    stopping early once ``max_seconds`` have been spent; returns ``(best, calls made)``."""
    best, spent, calls = float("inf"), 0.0, 0
    while calls < repeats and (calls == 0 or spent < max_seconds):
        _, seconds = timed(fn)
        best, spent, calls = min(best, seconds), spent + seconds, calls + 1
    return best, calls


def compile_seconds(jitted, *args) -> tuple[Any, float]:
    """``(compiled, seconds)`` of ``jitted.lower(*args).compile()``: compile time apart from any run."""
    start = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - start


def run_isolated(script: pathlib.Path, spec: dict, timeout: float) -> dict:
    """Run ``script --worker SPEC`` in a fresh Python process and return its last JSON line
    merged into ``spec`` (or ``spec`` plus an ``error``). ``spec["host_devices"] > 1`` splits the
    CPU into that many XLA host devices before JAX starts."""
    cmd = [sys.executable, str(script), "--worker", json.dumps(spec)]
    env = dict(os.environ)
    if spec.get("host_devices", 1) > 1:
        env["XLA_FLAGS"] = (
            env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={spec['host_devices']}"
        ).strip()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()
        return {**spec, "error": tail[-1] if tail else f"exit {proc.returncode}"}
    return {**spec, **json.loads(proc.stdout.strip().splitlines()[-1])}


def hashed_legal_actions(legal_action_mask, root, t, num_envs: int, first_world=0):
    """``int32[num_envs]``: :func:`htjax.random_policy` for every world, keys as htjax's rollout
    derives them (``policy_keys(root, t, num_envs, first_world)``). For peers' loops."""
    import jax

    import htjax
    from htjax.core.keys import policy_keys

    keys = policy_keys(root, t, num_envs, first_world)
    return jax.vmap(htjax.random_policy, in_axes=(None, None, 0, 0))(None, None, legal_action_mask, keys)


def hashed_world_keys(root, t, num_envs: int, first_world=0):
    """``uint32[num_envs, 2]`` per-world keys for step ``t``, hashed like htjax's step keys (no
    threefry split per step), for peers whose ``step`` takes a key per world."""
    from htjax.core.keys import policy_keys

    return policy_keys(root, t, num_envs, first_world)


def write_results(
    name: str,
    report: dict,
    markdown: str | None,
    *,
    json_out: pathlib.Path | None = None,
    markdown_path: pathlib.Path = MARKDOWN,
) -> list[pathlib.Path]:
    """Write ``report`` as JSON (``docs/bench/<name>.json`` unless ``json_out``) and, with
    ``markdown``, replace the ``bench_<name>`` block of ``markdown_path`` (``docs/benchmarks.md``);
    returns the paths written."""
    sys.path.insert(0, str(ROOT))
    from htjax.bench import update_markdown_section

    path = pathlib.Path(json_out) if json_out else BENCH_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    written = [path]
    if markdown is not None:
        update_markdown_section(markdown_path, f"bench_{name}", markdown)
        written.append(pathlib.Path(markdown_path))
    return written
