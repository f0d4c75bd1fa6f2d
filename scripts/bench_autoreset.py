#!/usr/bin/env python
"""Auto-reset cost: the rollout's ``autoreset="select"`` against ``autoreset="cond"``.

``select`` computes ``init`` for every world on every step and keeps it where a world finished;
``cond`` skips ``init`` on steps where no world in the batch finished (see
:mod:`htjax.core.rollouts`). Measured on blackjack (``gymnasium`` preset and casino rules) and
on the two-seat toy env of the contract tests (``tests/toy_envs.py``: HighCard), for a few
batch sizes, with :func:`htjax.bench.measure_throughput` (random legal actions).

Writes ``docs/bench/autoreset.json`` and the ``bench_autoreset`` section of ``docs/benchmarks.md``.

    python scripts/bench_autoreset.py            # 1, 64, 4096, 65536 worlds
    python scripts/bench_autoreset.py --quick    # 1, 64, 4096 worlds, fewer steps
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

from benchlib import ROOT, write_results

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

FULL_SIZES = (1, 64, 4096, 65536)
QUICK_SIZES = (1, 64, 4096)


def envs():
    from toy_envs import HighCard

    import htjax

    return {
        "blackjack (gymnasium)": htjax.make("blackjack", preset="gymnasium"),
        "blackjack (casino)": htjax.make("blackjack"),
        "toy HighCard": HighCard(),
    }


def measure(quick: bool, repeats: int) -> list[dict]:
    """Both forms, alternating ``repeats`` times per (env, size); rows carry the median steps/s."""
    from htjax.bench import measure_throughput

    budget = 300_000 if quick else 2_000_000
    rows = []
    for name, env in envs().items():
        for n in QUICK_SIZES if quick else FULL_SIZES:
            steps = int(max(20, min(1000, budget // n)))
            runs: dict[str, list] = {"select": [], "cond": []}
            for _ in range(repeats):  # alternate, so drifting machine load hits both forms alike
                for mode in runs:
                    runs[mode].append(
                        measure_throughput(
                            env, n, steps, autoreset=mode, rules=name, chunks=5, max_seconds=5.0
                        )
                    )
            for mode, results in runs.items():
                rates = sorted(r.steps_per_second for r in results)
                row = {**results[0].to_dict(), "env": name, "samples_steps_per_second": rates}
                row["steps_per_second"] = statistics.median(rates)
                row["episodes"] = sum(r.episodes for r in results)
                row["env_steps"] = sum(r.env_steps for r in results)
                rows.append(row)
                print(
                    f"{name:24s} N={n:6d} {mode:6s} median {row['steps_per_second']:14,.0f} steps/s "
                    f"(of {len(rates)}; {row['episodes'] / row['env_steps']:.3f} episodes/step)",
                    file=sys.stderr,
                )
    return rows


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "## Auto-reset: `select` against `cond` (`scripts/bench_autoreset.py`)",
        "",
        f"Run {report['date']}{' (--quick)' if report['quick'] else ''} on {m['cpu']}, {m['cores']} cores, "
        f"device {m['device']}, JAX {m['jax']}. Random legal actions; env steps/s of `rollout_steps` "
        f"(observations not recorded), median of {report.get('repeats', 1)} runs per form, the two forms "
        "alternating.",
        "",
        "| env | worlds | episodes per env step p | steps `cond` can skip (1-p)^N "
        "| select steps/s | cond steps/s | cond / select |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_key: dict[tuple, dict] = {}
    for r in report["results"]:
        by_key.setdefault((r["env"], r["num_envs"]), {})[r["autoreset"]] = r
    for (env, n), modes in by_key.items():
        sel, cond = modes["select"], modes["cond"]
        p = sel["episodes"] / sel["env_steps"]
        lines.append(
            f"| {env} | {n:,} | {p:.3f} | {(1 - p) ** n:.3g} | {sel['steps_per_second']:,.0f} | "
            f"{cond['steps_per_second']:,.0f} | {cond['steps_per_second'] / sel['steps_per_second']:.2f} |"
        )
    lines += [
        "",
        "Reading it: `cond` skips `init` only on a step where no world of the batch finished, about "
        "(1-p)^N of the steps for N independent worlds that each finish with probability p per step. "
        "Card games end an episode every few steps, so beyond a handful of worlds `cond` runs `init` on "
        "practically every step, plus the branch. `select` also builds each world's observation once, "
        "after choosing between the stepped and the fresh state (`Env.step_unobserved` / `init_unobserved` "
        "/ `finish`, when observations are not recorded), where `cond` must observe the stepped batch "
        "before it knows whether any world restarts: that is the gap for the Gymnasium preset, whose "
        "step is small next to its observation. `select` is therefore the default of `htjax.rollout` "
        "(branch-free, no worse where it matters); `cond` pays off only for one or a few worlds whose "
        "`init` is expensive. "
        "The Gymnasium vector adapter restarts worlds with `cond`: there a restart "
        "follows a finished episode on the next call only, and batches are often small.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json-out", default=str(ROOT / "docs/bench/autoreset.json"))
    parser.add_argument("--markdown", default=str(ROOT / "docs/benchmarks.md"))
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each form (median kept)")
    args = parser.parse_args(argv)

    from htjax.bench import machine_info

    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "quick": args.quick, "machine": machine_info()}
    report["repeats"] = args.repeats
    report["results"] = measure(args.quick, args.repeats)
    if args.no_docs:
        print(json.dumps(report, indent=1))
        return 0
    written = write_results(
        "autoreset",
        report,
        markdown(report),
        json_out=pathlib.Path(args.json_out),
        markdown_path=pathlib.Path(args.markdown),
    )
    print(f"wrote {', '.join(map(str, written))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
