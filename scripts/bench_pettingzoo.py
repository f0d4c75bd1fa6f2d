#!/usr/bin/env python
"""PettingZoo adapter cost: agent-steps per second of a Python agent loop, and compile sharing.

For each multi-agent game in the registry (plus the toy envs when ``--toy``), plays random legal
actions through ``aec_env`` (every game) and ``parallel_env`` (simultaneous games) for
``--seconds`` each and reports agent-steps/s (an AEC ``step`` call, dead steps included, or one
parallel ``step`` call), the time of a first episode (compiles ``reset`` and ``step``) and of a
second instance's first episode (shared jitted functions: no compile).

    python scripts/bench_pettingzoo.py                  # prints a table, writes docs/bench/pettingzoo.json
    python scripts/bench_pettingzoo.py --seconds 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys
import time

import numpy as np
from benchlib import write_results

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def cases(toy: bool) -> dict[str, tuple[str, dict]]:
    import htjax

    out: dict[str, tuple[str, dict]] = {}
    for env_id in htjax.available_envs():
        try:
            env = htjax.make(env_id)
        except ModuleNotFoundError:
            continue
        if env.num_players > 1:
            out[env_id] = (env_id, {})
    if "holdem" in out:
        out["holdem (3 players)"] = ("holdem", {"num_players": 3})
    try:
        htjax.make("blackjack", num_seats=2)
        out["blackjack (2 seats)"] = ("blackjack", {"num_seats": 2})
    except (ModuleNotFoundError, htjax.ConfigError):  # blackjack not in this tree, or no num_seats
        pass
    if toy:
        from toy_envs import HighCard, MatchingPennies

        htjax.register("toy_high_card", HighCard)
        htjax.register("toy_matching_pennies", MatchingPennies)
        out["toy HighCard"] = ("toy_high_card", {})
        out["toy MatchingPennies"] = ("toy_matching_pennies", {})
    return out


def aec_episode(env, seed: int, rng) -> int:
    """Play one episode with random legal actions; returns the number of ``step`` calls."""
    env.reset(seed=seed)
    steps = 0
    for _ in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else int(rng.choice(np.flatnonzero(obs["action_mask"]))))
        steps += 1
    return steps


def aec_rate(env, seconds: float, rng) -> float:
    steps, episode, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += aec_episode(env, episode, rng)
        episode += 1
    return steps / (time.perf_counter() - start)


def parallel_rate(env, seconds: float, rng) -> float:
    env.reset(seed=0)
    env.step({a: int(np.flatnonzero(env.observe(a)["action_mask"])[0]) for a in env.agents})  # compile
    steps, start = 0, time.perf_counter()
    episode = 0
    while time.perf_counter() - start < seconds:
        obs, _ = env.reset(seed=episode)
        episode += 1
        while env.agents:
            obs, *_ = env.step(
                {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
            )
            steps += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed play per game and form")
    parser.add_argument("--toy", action="store_true", help="also the toy envs of tests/toy_envs.py")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/bench/pettingzoo.json")
    args = parser.parse_args()

    import htjax
    from htjax.adapters.pettingzoo import aec_env, parallel_env

    rng = np.random.default_rng(0)
    rows = []
    for name, (env_id, cfg) in cases(args.toy).items():
        t0 = time.perf_counter()
        aec_episode(aec_env(env_id, **cfg), 0, rng)  # compiles reset and step
        first = time.perf_counter() - t0
        env = aec_env(env_id, **cfg)
        t0 = time.perf_counter()
        aec_episode(env, 0, rng)  # a second instance shares the compiled functions
        second = time.perf_counter() - t0
        row = {
            "game": name,
            "first_episode_s": round(first, 3),
            "second_instance_episode_s": round(second, 4),
            "aec_agent_steps_per_s": round(aec_rate(env, args.seconds, rng)),
        }
        if htjax.make(env_id, **cfg).simultaneous:
            row["parallel_steps_per_s"] = round(parallel_rate(parallel_env(env_id, **cfg), args.seconds, rng))
        rows.append(row)
        print(json.dumps(row))
    if not args.no_write:
        meta = {"machine": platform.machine(), "python": platform.python_version(), "seconds": args.seconds}
        (out,) = write_results("pettingzoo", {"meta": meta, "rows": rows}, None)
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
