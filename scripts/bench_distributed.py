"""Rollout steps/s over 2 processes x 2 host devices (jax.distributed, gloo on loopback) beside
one process with 4 host devices, same worlds, same steps, same machine.

    python scripts/bench_distributed.py [--env blackjack] [--num-envs 8192] [--steps 200] [--repeats 3]

Each measurement is a fresh set of processes (``--child`` runs one of them): ``measure_throughput``
with ``devices="all"`` (random policy, chunks of one compiled scan, compile excluded); the runs of
the two layouts alternate and the median of ``--repeats`` is reported. Writes
docs/bench/distributed.json and the ``bench_distributed`` block of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT_S = 900


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    from htjax.core.distributed import initialize

    if args.num_processes > 1:
        initialize(args.coordinator, args.num_processes, args.process_id, timeout_s=120)
    import jax

    import htjax
    from htjax.bench import measure_throughput

    env = htjax.make(args.env)
    r = measure_throughput(env, args.num_envs, args.steps, key=jax.random.PRNGKey(0), devices="all")
    if jax.process_index() == 0:
        print(
            "RESULT "
            + json.dumps({**r.to_dict(), "processes": jax.process_count(), "devices": jax.device_count()})
        )


def launch(args, processes: int, devices_each: int) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices_each}"
    )
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    common = [
        sys.executable,
        __file__,
        "--child",
        "--env",
        args.env,
        "--num-envs",
        str(args.num_envs),
        "--steps",
        str(args.steps),
        "--num-processes",
        str(processes),
        "--coordinator",
        f"127.0.0.1:{port}",
    ]
    procs = [
        subprocess.Popen(
            common + ["--process-id", str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=TIMEOUT_S))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outs):
        if p.returncode:
            raise SystemExit(f"a benchmark process failed ({p.returncode}):\n{err[-3000:]}")
    line = next(ln for ln in outs[0][0].splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def markdown(report: dict) -> list[str]:
    """The ``bench_distributed`` block of docs/benchmarks.md from a report."""
    median = report["median_steps_per_second"]
    one, two = median["1 process x 4 devices"], median["2 processes x 2 devices"]

    def spread(name: str) -> str:
        values = [r["steps_per_second"] for r in report["runs"][name]]
        return f"{min(values):,.0f} to {max(values):,.0f}"

    return [
        "## Several processes (jax.distributed)",
        "",
        f"Random-policy rollout of {report['env']} ({report['num_envs']:,} worlds, {report['steps']} steps, "
        '`devices="all"`) split over 4 host devices of this machine: one process with 4, and 2 processes x 2 '
        "joined with `jax.distributed` (gloo collectives on loopback). Median of "
        f"{report['repeats']} alternating runs, compile excluded; `python scripts/bench_distributed.py`.",
        "",
        "| layout | env steps/s (median) | runs |",
        "|---|---|---|",
        f"| 1 process x 4 devices | {one:,.0f} | {spread('1 process x 4 devices')} |",
        f"| 2 processes x 2 devices | {two:,.0f} | {spread('2 processes x 2 devices')} |",
        f"| ratio (2x2 / 1x4) | {two / one:.2f}x | |",
        "",
        "The rollout loop has no collective (each device steps its own worlds), so the processes only meet to "
        "start, and neither layout is slower by design. The machine (2 cores) was shared with other jobs while "
        "this ran, so single runs spread widely (the runs column); the 4 devices of either layout contend for "
        "the same 2 cores.",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", default="blackjack")
    ap.add_argument("--num-envs", type=int, default=8192)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--rewrite", action="store_true", help="rewrite the markdown block from docs/bench/distributed.json"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--num-processes", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--process-id", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--coordinator", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.rewrite:
        sys.path.insert(0, str(ROOT / "scripts"))
        from benchlib import write_results

        report = json.loads((ROOT / "docs" / "bench" / "distributed.json").read_text())
        write_results("distributed", report, "\n".join(markdown(report)))
        return

    layouts = {"1 process x 4 devices": (1, 4), "2 processes x 2 devices": (2, 2)}
    runs: dict[str, list[dict]] = {name: [] for name in layouts}
    for _ in range(args.repeats):
        for name, (procs, devs) in layouts.items():
            r = launch(args, procs, devs)
            runs[name].append(r)
            print(
                f"{name}: {r['steps_per_second']:,.0f} steps/s (compile {r['compile_seconds']:.1f} s)",
                flush=True,
            )
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT))
    from benchlib import write_results

    from htjax.bench import machine_info

    median = {name: statistics.median(r["steps_per_second"] for r in rs) for name, rs in runs.items()}
    report = {
        "env": args.env,
        "num_envs": args.num_envs,
        "steps": args.steps,
        "repeats": args.repeats,
        "machine": machine_info(),
        "median_steps_per_second": median,
        "runs": runs,
    }
    lines = markdown(report)
    print("\n".join(lines))
    if not args.no_write:
        for path in write_results("distributed", report, "\n".join(lines)):
            print("wrote", path)


if __name__ == "__main__":
    main()
