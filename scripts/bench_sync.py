#!/usr/bin/env python
"""Sync layer costs: record, save, load and batched replay of 1,000 episodes of 100 steps.

The episodes are iterated prisoner's dilemma matches (``prisoners_dilemma``, ``rounds=100``,
random policy): every episode lasts exactly 100 steps, and each step logs one entry per seat
(2 entries per step). Timings are wall seconds after a warm-up call that compiles the
replay (the compile time is reported separately).

Writes ``docs/bench/sync.json`` and the ``bench_sync`` section (``## Sync``) of
``docs/benchmarks.md``.

    python scripts/bench_sync.py             # 1,000 episodes
    python scripts/bench_sync.py --quick     # 100 episodes
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
from benchlib import timed, write_results  # noqa: E402

import htjax  # noqa: E402
import htjax.sync as sync  # noqa: E402

STEPS = 100


CPU: dict[str, float] = {}


def _timed(fn, name=None):
    """``(result, wall seconds)``, keeping the CPU seconds under ``CPU[name]`` (:func:`benchlib.timed`)."""
    return timed(fn, CPU, name)


def run(num_episodes: int) -> dict:
    env = htjax.make("prisoners_dilemma", rounds=STEPS)
    out = htjax.rollout(
        env, htjax.random_policy, jax.random.PRNGKey(0), num_episodes, STEPS, record_observations=False
    )
    jax.block_until_ready(out.trajectory.action)
    worlds = list(range(num_episodes))
    _, record_first = _timed(lambda: sync.record(env, out.trajectory, worlds))  # compiles the replay
    docs, record_s = _timed(lambda: sync.record(env, out.trajectory, worlds), "record")
    assert len(docs) == num_episodes and all(d.outcome().length == STEPS for d in docs)
    blobs, save_s = _timed(lambda: [d.to_bytes() for d in docs], "save")
    loaded, load_s = _timed(lambda: [sync.EpisodeDoc.from_bytes(b) for b in blobs], "load")
    _, replay_first = _timed(lambda: sync.replay_many(loaded))
    replays, replay_s = _timed(lambda: sync.replay_many(loaded), "replay")
    assert all(r.length == STEPS and r.verified[-1] == STEPS for r in replays)
    total_bytes = sum(len(b) for b in blobs)
    entries = sum(len(d.entries()) for d in loaded[:10]) * num_episodes // min(10, num_episodes)
    empty = sync.Recorder.start(env, jax.random.PRNGKey(0)).doc.to_bytes()
    return {
        "env": f"{env.id} {env.version} rounds={STEPS}",
        "episodes": num_episodes,
        "steps_per_episode": STEPS,
        "log_entries": entries,
        "record_s": record_s,
        "record_first_call_s": record_first,
        "save_s": save_s,
        "load_s": load_s,
        "replay_s": replay_s,
        "replay_first_call_s": replay_first,
        "cpu_s": dict(CPU),
        "load_avg_1min": __import__("os").getloadavg()[0],
        "bytes_total": total_bytes,
        "bytes_per_episode": total_bytes / num_episodes,
        "bytes_per_step": total_bytes / (num_episodes * STEPS),
        "bytes_per_log_entry": total_bytes / entries,
        "bytes_header_only": len(empty),
        "bytes_per_log_entry_without_header": (total_bytes - num_episodes * len(empty)) / entries,
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": __import__("os").cpu_count(),
            "jax": jax.__version__,
            "device": jax.devices()[0].platform,
            "automerge": __import__("importlib.metadata").metadata.version("automerge"),
        },
    }


def markdown(r: dict) -> str:
    m, c = r["machine"], r["cpu_s"]
    return f"""## Sync

Episode logs as Automerge documents (`htjax.sync`, see `docs/sync.md`): {r["episodes"]:,} episodes of {r["steps_per_episode"]} steps
of `{r["env"]}` (random policy; {r["log_entries"]:,} log entries, one per seat and step), one document per
episode, default checkpoints (a state digest every 16 steps and at the end). Machine: {m["cpu"]}, {m["cores"]} cores,
JAX {m["jax"]} on {m["device"]}, automerge {m["automerge"]}, 1-minute load average {r["load_avg_1min"]:.1f} during the run.
Wall seconds after a warm-up call; CPU seconds of the process (the better estimate on a busy machine).

| what | value |
|---|---|
| record {r["episodes"]:,} episodes (batched replay for digests + one Automerge transaction per document) | **{r["record_s"]:.2f} s** wall, {c["record"]:.2f} s CPU (first call, with compile: {r["record_first_call_s"]:.2f} s) |
| save (bytes of every document) | {r["save_s"]:.2f} s wall, {c["save"]:.2f} s CPU |
| load ({r["episodes"]:,} documents from bytes) | {r["load_s"]:.2f} s wall, {c["load"]:.2f} s CPU |
| batched replay + verify all digests, after compile | **{r["replay_s"]:.2f} s** wall, {c["replay"]:.2f} s CPU (first call: {r["replay_first_call_s"]:.2f} s) |
| bytes per episode | {r["bytes_per_episode"]:,.0f} |
| bytes per step / per log entry | {r["bytes_per_step"]:.1f} / {r["bytes_per_log_entry"]:.1f} |
| of which the header (env, config, seats, field list) | {r["bytes_header_only"]:,} bytes per document |
| bytes per log entry beyond the header (entries, checkpoints, outcome) | {r["bytes_per_log_entry_without_header"]:.1f} |

Reproduce: `python scripts/bench_sync.py` (JSON in `docs/bench/sync.json`)."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100 episodes instead of 1,000")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ as it is")
    args = parser.parse_args()
    result = run(100 if args.quick else 1000)
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_results("sync", result, markdown(result))


if __name__ == "__main__":
    main()
