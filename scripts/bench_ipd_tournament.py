#!/usr/bin/env python
"""The 14-strategy IPD tournament: htjax's vmapped round robin against axelrod's ``Tournament``.

Both play the same line-up (the 14 classic strategies, 105 matches including self-matches),
100 turns per match, in the same process on the same machine. htjax plays 1,000 repetitions;
axelrod's serial ``Tournament.play()`` (``processes=None``) plays fewer (``--axelrod-repetitions``,
default 20) and its rate is taken per round, so the comparison is rounds per second
(matches x repetitions x turns / wall seconds). Both sides reuse deterministic matches across
repetitions when there is no noise (axelrod's ``DeterministicCache``), so a second scenario
with noise 0.05, where neither can, is measured too.

axelrod is timed twice: ``play()`` as users call it (builds the ``ResultSet`` with the ranking)
and ``play(build_results=False)`` (matches only, written to a CSV). htjax's time includes its
ranking and score matrix (host-side numpy). Compile time is the first call minus a warm call.

Writes ``docs/bench/ipd_tournament.json`` and the ``bench_ipd_tournament`` section of
``docs/benchmarks.md``.

    python scripts/bench_ipd_tournament.py            # 1,000 htjax / 20 axelrod repetitions
    python scripts/bench_ipd_tournament.py --quick    # 100 / 5 (a smoke run)
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TURNS = 100


def time_htjax(repetitions: int, noise: float, runs: int) -> dict:
    from htjax.agents.ipd.tournament import tournament

    start = time.perf_counter()
    first = tournament(turns=TURNS, repetitions=repetitions, noise=noise, seed=0)
    first_s = time.perf_counter() - start
    warm = []
    for seed in range(1, runs + 1):
        start = time.perf_counter()
        result = tournament(turns=TURNS, repetitions=repetitions, noise=noise, seed=seed)
        warm.append(time.perf_counter() - start)
    run_s = statistics.median(warm)
    return {
        "repetitions": repetitions,
        "rounds": result.rounds_played,
        "seconds": run_s,
        "seconds_all_runs": warm,
        "compile_seconds": max(first_s - run_s, 0.0),
        "rounds_per_second": result.rounds_played / run_s,
        "ranking": list(result.ranked_names),
        "first_ranking": list(first.ranked_names),
    }


def time_axelrod(repetitions: int, noise: float, build_results: bool) -> dict:
    import axelrod as axl

    from htjax.agents.ipd.strategies import CLASSIC_14

    players = [getattr(axl, s.axelrod_name)() for s in CLASSIC_14]
    tourn = axl.Tournament(players, turns=TURNS, repetitions=repetitions, noise=noise, seed=0)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        if build_results:
            result = tourn.play(progress_bar=False)
        else:
            result = tourn.play(progress_bar=False, build_results=False, filename=f"{tmp}/interactions.csv")
        seconds = time.perf_counter() - start
    rounds = len(players) * (len(players) + 1) // 2 * repetitions * TURNS
    out = {
        "repetitions": repetitions,
        "rounds": rounds,
        "seconds": seconds,
        "rounds_per_second": rounds / seconds,
        "build_results": build_results,
    }
    if result is not None:
        out["ranking"] = list(result.ranked_names)
    return out


def measure(htjax_reps: int, axelrod_reps: int, runs: int) -> dict:
    import axelrod
    import jax

    from htjax.bench import machine_info

    scenarios = []
    for noise in (0.0, 0.05):
        ours = time_htjax(htjax_reps, noise, runs)
        theirs = time_axelrod(axelrod_reps, noise, build_results=True)
        theirs_play = time_axelrod(axelrod_reps, noise, build_results=False)
        row = {
            "noise": noise,
            "turns": TURNS,
            "htjax": ours,
            "axelrod": theirs,
            "axelrod_matches_only": theirs_play,
            "speedup": ours["rounds_per_second"] / theirs["rounds_per_second"],
            "speedup_vs_matches_only": ours["rounds_per_second"] / theirs_play["rounds_per_second"],
        }
        scenarios.append(row)
        print(
            f"noise {noise}: htjax {ours['rounds_per_second']:,.0f} rounds/s "
            f"({ours['seconds']:.3f} s for {htjax_reps} reps, compile {ours['compile_seconds']:.2f} s); "
            f"axelrod {theirs['rounds_per_second']:,.0f} rounds/s "
            f"({theirs['seconds']:.2f} s for {axelrod_reps} reps), "
            f"matches only {theirs_play['rounds_per_second']:,.0f}; "
            f"ratio {row['speedup']:,.0f}x ({row['speedup_vs_matches_only']:,.0f}x)",
            file=sys.stderr,
        )
    return {
        "machine": machine_info(),
        "jax_backend": jax.default_backend(),
        "axelrod_version": axelrod.__version__,
        "players": 14,
        "matches_per_repetition": 105,
        "scenarios": scenarios,
    }


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "## Prisoner's dilemma tournament",
        "",
        "The 14 classic strategies in a round robin (105 matches with self-matches, 100 turns), "
        "htjax's vmapped `tournament` against axelrod's serial `Tournament.play()` "
        f"(axelrod {report['axelrod_version']}), same process, same machine: "
        f"{m['cpu']}, {m['cores']} cores, "
        f"JAX {m['jax']} on {report['jax_backend']}. Rounds per second = matches x repetitions x turns / "
        "wall seconds. axelrod plays fewer repetitions and its rate is per round. Without noise both sides "
        "play each deterministic match once and reuse it (axelrod's deterministic cache), so the noisy "
        "scenario, where neither can, is shown too. "
        '"matches only" is axelrod\'s `play(build_results=False)`.',
        "",
        "| noise | htjax reps | htjax s | htjax rounds/s | compile s | axelrod reps | axelrod s | "
        "axelrod rounds/s | speed-up | axelrod matches only rounds/s | speed-up vs matches only |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["scenarios"]:
        h, a, p = row["htjax"], row["axelrod"], row["axelrod_matches_only"]
        lines.append(
            f"| {row['noise']} | {h['repetitions']:,} | {h['seconds']:.3f} | "
            f"{h['rounds_per_second']:,.0f} | {h['compile_seconds']:.2f} | {a['repetitions']} | "
            f"{a['seconds']:.2f} | {a['rounds_per_second']:,.0f} | **{row['speedup']:,.0f}x** | "
            f"{p['rounds_per_second']:,.0f} | {row['speedup_vs_matches_only']:,.0f}x |"
        )
    lines += [
        "",
        "Reproduce: `python scripts/bench_ipd_tournament.py` (JSON in `docs/bench/ipd_tournament.json`).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=1000, help="htjax repetitions (default 1000)")
    parser.add_argument(
        "--axelrod-repetitions", type=int, default=20, help="axelrod repetitions (default 20)"
    )
    parser.add_argument("--runs", type=int, default=3, help="warm htjax runs; the median is reported")
    parser.add_argument("--quick", action="store_true", help="100 htjax / 5 axelrod repetitions, 1 warm run")
    parser.add_argument("--json", default=str(ROOT / "docs" / "bench" / "ipd_tournament.json"))
    parser.add_argument("--markdown", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print only; write neither JSON nor markdown")
    args = parser.parse_args()
    if args.quick:
        args.repetitions, args.axelrod_repetitions, args.runs = 100, 5, 1

    report = measure(args.repetitions, args.axelrod_repetitions, args.runs)
    text = markdown(report)
    print(text)
    if args.no_write:
        return
    from htjax.bench import update_markdown_section

    path = pathlib.Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    update_markdown_section(args.markdown, "bench_ipd_tournament", text)


if __name__ == "__main__":
    main()
