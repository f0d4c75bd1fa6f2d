"""Benchmark: Cuttle steps/s at 4,096 and 8,192 worlds, and the compile time of init + step.

Per variant (classic, standard, cutthroat): the jit compile of the vmapped ``init`` and ``step``
(wall and process CPU seconds; on a shared machine the CPU seconds are the better estimate of a
quiet machine's wall time), then ``htjax.bench.measure_throughput`` (jit + vmap + scan,
auto-reset) with uniformly random legal actions from one ``uint32`` per decision
(:func:`uniform_legal_policy`); steps/s = worlds * steps / time. There is no JAX peer to compare
with: HyperToken's Cuttle is TypeScript and steps one game per call.

Usage::

    python scripts/bench_cuttle.py                 # 4096 and 8192 worlds, every variant, writes JSON + docs
    python scripts/bench_cuttle.py --quick --no-docs
    python scripts/bench_cuttle.py --compile-only   # cold compile seconds only, nothing written

JSON goes to ``docs/bench/cuttle.json``; the ``bench_cuttle`` block of ``docs/benchmarks.md``
is replaced unless ``--no-docs``.
"""

from __future__ import annotations

import argparse
import datetime
import time

import jax
import jax.numpy as jnp
from benchlib import write_results

import htjax
from htjax.bench import machine_info, measure_throughput

VARIANTS = ("classic", "standard", "cutthroat")


def uniform_legal_policy(params, observation, legal_action_mask, key):
    """Uniformly random legal action from one ``uint32`` (the ``k``-th legal action)."""
    count = jnp.maximum(jnp.sum(legal_action_mask), 1).astype(jnp.uint32)
    k = (jax.random.bits(key, (), jnp.uint32) % count).astype(jnp.int32)
    return jnp.argmax(jnp.cumsum(legal_action_mask) > k).astype(jnp.int32)


def compile_times(env, num_envs: int) -> dict:
    """Cold compile of ``jit(vmap(init))`` and ``jit(vmap(step))`` (lowering included), wall and
    process CPU seconds; JAX's persistent compilation cache is off (see :func:`main`)."""
    keys = jax.random.split(jax.random.PRNGKey(0), num_envs)
    out = {}
    wall, cpu = time.perf_counter(), time.process_time()
    init = jax.jit(jax.vmap(env.init)).lower(keys).compile()
    out["init_s"], out["init_cpu_s"] = time.perf_counter() - wall, time.process_time() - cpu
    state = init(keys)
    actions = jnp.argmax(state.legal_action_mask, axis=-1).astype(jnp.int32)
    wall, cpu = time.perf_counter(), time.process_time()
    jax.jit(jax.vmap(env.step)).lower(state, actions, keys).compile()
    out["step_s"], out["step_cpu_s"] = time.perf_counter() - wall, time.process_time() - cpu
    out["init_plus_step_s"] = out["init_s"] + out["step_s"]
    out["init_plus_step_cpu_s"] = out["init_cpu_s"] + out["step_cpu_s"]
    return out


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "## Cuttle (`scripts/bench_cuttle.py`)",
        "",
        f"`python scripts/bench_cuttle.py` ({m['cpu']}, {m['cores']} cores, jax {m['jax']} on {m['device']}, "
        f"{report['date']}; JSON: `docs/bench/cuttle.json`). `htjax.bench.measure_throughput` (jit + vmap + "
        f"scan, auto-reset), uniformly random legal actions, {report['steps']} steps per world; a step is one "
        "decision (a counter, a discard and a choice are steps too). Compile: `jit(vmap(init))` plus "
        "`jit(vmap(step))` at 8,192 worlds in a fresh process, wall seconds (process CPU seconds in brackets: "
        "the machine is shared, so wall time includes waiting for a core).",
        "",
        "| variant | "
        + " | ".join(f"{n:,} worlds steps/s" for n in report["sizes"])
        + " | compile init + step, s |",
        "|---|" + "---:|" * (len(report["sizes"]) + 1),
    ]
    for v, r in report["variants"].items():
        rates = " | ".join(f"{r['steps_per_second'][str(n)]:,.0f}" for n in report["sizes"])
        c = r["compile"]
        lines.append(f"| {v} | {rates} | {c['init_plus_step_s']:.1f} ({c['init_plus_step_cpu_s']:.1f} CPU) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4096, 8192])
    parser.add_argument("--steps", type=int, default=64, help="steps per world in the timed run")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--quick", action="store_true", help="256 worlds, 16 steps")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--compile-only", action="store_true", help="print the compile times only")
    args = parser.parse_args()
    if any(n < 1 for n in args.sizes) or args.steps < 1:
        parser.error("--sizes and --steps must be positive")
    # a cold compile every time: never read (or fill) a persistent cache a caller turned on
    jax.config.update("jax_enable_compilation_cache", False)
    sizes, steps = ([256], 16) if args.quick else (args.sizes, args.steps)
    report = {
        "machine": machine_info(),
        "date": datetime.date.today().isoformat(),
        "sizes": sizes,
        "steps": steps,
        "variants": {},
    }
    for variant in args.variants:
        env = htjax.make("cuttle", preset=variant)
        comp = compile_times(env, 8192 if not args.quick else 256)
        print(
            f"{variant}: compile init {comp['init_s']:.1f} s + step {comp['step_s']:.1f} s "
            f"= {comp['init_plus_step_s']:.1f} s ({comp['init_plus_step_cpu_s']:.1f} s CPU)",
            flush=True,
        )
        if args.compile_only:
            continue
        rates = {}
        for n in sizes:
            r = measure_throughput(env, n, steps, policy=uniform_legal_policy, chunks=4)
            rates[str(n)] = r.steps_per_second
            print(f"  {n:>5} worlds: {r.steps_per_second:>12,.0f} steps/s", flush=True)
        report["variants"][variant] = {"compile": comp, "steps_per_second": rates}
    if args.compile_only:
        return
    for path in write_results("cuttle", report, None if args.no_docs else markdown(report)):
        print("wrote", path)


if __name__ == "__main__":
    main()
