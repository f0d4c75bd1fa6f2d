#!/usr/bin/env python
"""Where a rollout step's time goes: per-kernel times of one compiled rollout chunk.

Runs ``htjax.bench``'s timed chunk (``rollout_steps`` with random legal actions, observations
not recorded, auto-reset) under ``jax.profiler``, reads the trace, and prints each XLA kernel's
time per env step, how often it ran per step, its output shape and the JAX operation it came
from (``op_name``), then the same grouped by operation. The times include the profiler's own
overhead (roughly 1.5-2x on XLA:CPU), so read them as shares, and confirm a change with
``htjax bench`` or ``scripts/bench_blackjack.py``.

    python scripts/profile_rollout.py blackjack                      # casino rules, 8192 worlds
    python scripts/profile_rollout.py blackjack --preset gymnasium --top 20
    python scripts/profile_rollout.py holdem --num-envs 4096 --host-devices 2
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("env", help="env id, e.g. blackjack")
    parser.add_argument("--preset", default=None, help="rules preset, e.g. gymnasium")
    parser.add_argument("--config", default=None, help="config overrides as JSON")
    parser.add_argument("--num-envs", type=int, default=8192)
    parser.add_argument("--steps", type=int, default=10, help="steps per profiled chunk")
    parser.add_argument("--chunks", type=int, default=3, help="profiled chunks")
    parser.add_argument("--top", type=int, default=40, help="kernels to list")
    parser.add_argument(
        "--host-devices", type=int, default=1, help="split the CPU into this many XLA devices"
    )
    args = parser.parse_args(argv)
    if args.host_devices > 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={args.host_devices}"
        )

    import jax

    import htjax
    from htjax import bench
    from htjax.core.rollouts import carry_mesh, random_policy

    overrides = json.loads(args.config) if args.config else {}
    env = htjax.make(args.env, preset=args.preset, **overrides)
    devices = "all" if args.host_devices > 1 else None
    carry = bench._start_fn(env, args.num_envs, devices)(jax.random.PRNGKey(0))
    chunk = bench._chunk_fn(env, random_policy, args.steps, "select", None, carry_mesh(carry))
    compiled = chunk.lower(carry, None).compile()
    origin = _kernel_origins(compiled.as_text())
    carry, _, _ = compiled(carry, None)
    jax.block_until_ready(carry)

    with tempfile.TemporaryDirectory() as trace_dir:
        with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
            for _ in range(args.chunks):
                carry, _, _ = compiled(carry, None)
                jax.block_until_ready(carry)
        (path,) = glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True)
        events = [e for e in json.load(gzip.open(path))["traceEvents"] if e.get("ph") == "X"]

    steps = args.steps * args.chunks
    total, count = collections.Counter(), collections.Counter()
    for e in events:
        name = e["name"]
        if name.startswith("$") or "Execute" in name or "Pjit" in name:
            continue  # Python frames and the executor's own spans, not kernels
        total[name] += e["dur"]
        count[name] += 1
    print(
        f"{env.id} {args.preset or ''} {args.num_envs} worlds, {args.host_devices} device(s): "
        f"{sum(total.values()) / steps:,.0f} us of kernels per step (profiled), "
        f"{sum(count.values()) / steps:,.0f} kernels per step"
    )
    print(f"{'us/step':>9} {'n/step':>6}  {'kernel':32s} {'output':28s} op")
    for name, t in total.most_common(args.top):
        shape, op = origin.get(name, ("", ""))
        print(f"{t / steps:9.1f} {count[name] / steps:6.1f}  {name[:32]:32s} {shape[:28]:28s} {op[-80:]}")
    grouped, grouped_n = collections.Counter(), collections.Counter()
    for name, t in total.items():
        op = re.sub(r"^jit\(\w+\)/(shard_map/)?while/body/closed_call/", "", origin.get(name, ("", ""))[1])
        grouped[op or "(no op_name: copies, runtime)"] += t
        grouped_n[op or "(no op_name: copies, runtime)"] += count[name]
    print("\nby operation")
    for op, t in grouped.most_common(args.top):
        print(f"{t / steps:9.1f} {grouped_n[op] / steps:6.1f}  {op[-100:]}")
    return 0


def _kernel_origins(hlo_text: str) -> dict[str, tuple[str, str]]:
    """``kernel name -> (output shape, op_name)`` from the compiled HLO text."""
    origins = {}
    for line in hlo_text.splitlines():
        m = re.match(r"\s*(?:ROOT )?%(\S+) = (\S+)", line)
        if m:
            op = re.search(r'op_name="([^"]*)"', line)
            origins[m.group(1)] = (m.group(2), op.group(1) if op else "")
    return origins


if __name__ == "__main__":
    sys.exit(main())
