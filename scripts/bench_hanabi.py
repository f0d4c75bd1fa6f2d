"""Benchmark: Hanabi steps/s, htjax vs JaxMARL's JAX Hanabi, PettingZoo ``hanabi_v5`` and
OpenSpiel's C++ ``hanabi``; and htjax's compile seconds.

Each measurement runs in its own fresh Python process (``benchlib.run_isolated``), so compile
caches and memory do not leak between systems. A step is one decision of the seat to act.

* htjax: ``htjax.bench.measure_throughput`` (``htjax.rollout``'s compiled ``lax.scan`` of
  jit + vmap steps with auto-reset) of ``hanabi`` with ``htjax.random_policy``.
* JaxMARL ``HanabiEnv`` (0.2.0): the same loop shape, ``jit(vmap(env.step))`` (auto-reset
  included, as JaxMARL's ``step`` does) inside a ``lax.scan``, actions from
  ``env.get_legal_moves`` by ``benchlib.hashed_legal_actions`` (the same policy and key costs as
  htjax). JaxMARL builds every seat's observation and legal moves each step (its API); htjax
  builds the acting seat's (its contract: ``observe(state, seat)`` gives any other). JaxMARL
  pins ``gymnasium==1.3`` and would downgrade the shared install, so it is installed apart
  (``pip install --no-deps --target DIR jaxmarl==0.2.0``) and found through ``--jaxmarl-path``.
* PettingZoo ``hanabi_v5``: its AEC loop (``agent_iter``/``last``/``step``), random legal actions.
* OpenSpiel ``hanabi`` (C++, via ``pyspiel``): a Python loop; chance deals sampled with
  ``random.choices``. Two rows: the RL loop (the acting seat's ``observation_tensor`` and
  ``legal_actions`` every decision, what a learner needs) and decisions only.

Usage::

    python scripts/bench_hanabi.py --quick                  # small sizes, a few seconds each
    python scripts/bench_hanabi.py --jaxmarl-path /tmp/jaxmarl_pkg --write-docs

JSON goes to ``docs/bench/hanabi.json``; ``--write-docs`` replaces the ``bench_hanabi`` block of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import sys
import time

from benchlib import ROOT, hashed_legal_actions, run_isolated, write_results

SCRIPT = pathlib.Path(__file__).resolve()


# ---------------------------------------------------------------------------- workers
def work_compile(spec: dict) -> dict:
    import jax

    # cold: a fresh process (nothing compiled in memory) and no persistent compilation cache,
    # even if JAX_COMPILATION_CACHE_DIR is set in the environment
    jax.config.update("jax_enable_compilation_cache", False)
    import htjax
    from htjax.bench import init_step_compile_seconds

    env = htjax.make("hanabi", num_players=spec["players"])
    cpu = time.process_time()
    seconds = init_step_compile_seconds(env, spec["num_envs"])
    return {
        "init_s": seconds["init"],
        "step_s": seconds["step"],
        "total_s": seconds["total"],
        "total_cpu_s": time.process_time() - cpu,  # the better estimate on a loaded machine
    }


def work_htjax(spec: dict) -> dict:
    import htjax
    from htjax.bench import measure_throughput

    env = htjax.make("hanabi", num_players=spec["players"])
    r = measure_throughput(env, spec["num_envs"], spec["num_steps"], max_seconds=spec["seconds"])
    return {"steps_per_s": r.steps_per_second, "seconds": r.seconds, "episodes": r.episodes}


def work_jaxmarl(spec: dict) -> dict:
    sys.path.insert(0, spec["jaxmarl_path"])
    import jax
    import jax.numpy as jnp
    from benchlib import hashed_world_keys
    from jaxmarl.environments.hanabi.hanabi import HanabiEnv

    env = HanabiEnv(num_agents=spec["players"])
    n, chunk = spec["num_envs"], max(1, spec["num_steps"] // 10)
    agents = env.agents

    def run(state, roots, t):
        policy_root, env_root = roots

        def body(c, _):
            state, t = c
            legal = jax.vmap(env.get_legal_moves)(state)
            actions = {a: hashed_legal_actions(legal[a], policy_root, t, n) for a in agents}
            keys = hashed_world_keys(env_root, t, n)
            _, state, _, dones, _ = jax.vmap(env.step)(keys, state, actions)
            return (state, t + 1), dones["__all__"].sum()

        (state, t), done = jax.lax.scan(body, (state, t), None, length=chunk)
        return state, t, done.sum()

    keys = jax.random.split(jax.random.PRNGKey(0), n)
    _, state = jax.jit(jax.vmap(env.reset))(keys)
    roots = tuple(jax.random.split(jax.random.PRNGKey(1)))
    t0 = time.perf_counter()
    step = jax.jit(run).lower(state, roots, jnp.int32(0)).compile()
    compile_s = time.perf_counter() - t0
    state, t, _ = step(state, roots, jnp.int32(0))
    jax.block_until_ready(state)
    elapsed, steps = 0.0, 0
    while elapsed < spec["seconds"] or steps == 0:
        t0 = time.perf_counter()
        state, t, _ = step(state, roots, t)
        jax.block_until_ready(state)
        elapsed += time.perf_counter() - t0
        steps += n * chunk
    return {"steps_per_s": steps / elapsed, "seconds": elapsed, "step_compile_s": compile_s}


def work_pettingzoo(spec: dict) -> dict:
    import numpy as np
    from pettingzoo.classic import hanabi_v5

    p = spec["players"]
    env = hanabi_v5.env(players=p, hand_size=5 if p < 4 else 4)
    rng = np.random.default_rng(0)
    steps, elapsed = 0, 0.0
    while elapsed < spec["seconds"]:
        t0 = time.perf_counter()
        env.reset(seed=int(rng.integers(2**31)))
        for agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.step(None)
                continue
            env.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
            steps += 1
        elapsed += time.perf_counter() - t0
    return {"steps_per_s": steps / elapsed, "seconds": elapsed}


def work_openspiel(spec: dict) -> dict:
    import pyspiel

    p = spec["players"]
    game = pyspiel.load_game("hanabi", {"players": p, "hand_size": 5 if p < 4 else 4})
    rng = random.Random(0)
    observe = spec["observe"]
    steps, elapsed = 0, 0.0
    while elapsed < spec["seconds"]:
        t0 = time.perf_counter()
        state = game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, probs = zip(*state.chance_outcomes())
                state.apply_action(rng.choices(outcomes, probs)[0])
                continue
            seat = state.current_player()
            legal = state.legal_actions(seat)
            if observe:
                state.observation_tensor(seat)
            state.apply_action(rng.choice(legal))
            steps += 1
        elapsed += time.perf_counter() - t0
    return {"steps_per_s": steps / elapsed, "seconds": elapsed}


WORKERS = {
    "compile": work_compile,
    "htjax": work_htjax,
    "jaxmarl": work_jaxmarl,
    "pettingzoo": work_pettingzoo,
    "openspiel": work_openspiel,
}


def worker(spec: dict) -> dict:
    return WORKERS[spec["system"]](spec)


# ---------------------------------------------------------------------------- driver
def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def measure(spec: dict, timeout: float) -> dict:
    before = load_average()
    out = run_isolated(SCRIPT, spec, timeout)
    out["load_before"], out["load_after"] = before, load_average()
    what = {k: v for k, v in spec.items() if k in ("system", "players", "num_envs", "observe")}
    rate = out.get("steps_per_s")
    shown = f"{rate:,.0f} steps/s" if rate else out.get("total_s", out.get("error"))
    print(f"  {what}: {shown}  (load {before:.1f} -> {out['load_after']:.1f})", flush=True)
    return out


def markdown(report: dict) -> str:
    m = report["machine"]
    rows = [
        "## Hanabi",
        "",
        f"`{report['command']}` ({m['cpu']}, {m['cores']} cores, JAX {m['jax']} on {m['device']}, "
        f"{report['date']}; JSON: `docs/bench/hanabi.json`). Every row runs in a fresh process; a step is "
        "one decision; random legal moves. **This machine is shared**: the 1-minute load average "
        f"was {report['load_min']:.1f} to {report['load_max']:.1f} during the run (2 cores), so absolute "
        "rates are low and noisy; the ratios compare systems measured minutes apart under that load. "
        "htjax and JaxMARL act with the same hashed random policy (`benchlib.hashed_legal_actions`); "
        "JaxMARL builds every seat's observation and legal moves each step (its API), htjax the acting "
        "seat's (its contract). JaxMARL 0.2.0 pins gymnasium 1.3, so it is installed apart "
        "(`pip install --no-deps --target DIR jaxmarl==0.2.0`). OpenSpiel's RL-loop row reads the acting "
        "seat's `observation_tensor` and `legal_actions` at every decision, as a learner must.",
        "",
        "| system | seats | worlds | steps/s | load |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        if r["system"] == "compile" or not r.get("steps_per_s"):
            continue
        name = {
            "htjax": "htjax `hanabi` (`htjax.rollout`)",
            "jaxmarl": "JaxMARL `HanabiEnv` 0.2.0 (scan of `vmap(step)`)",
            "pettingzoo": "PettingZoo `hanabi_v5` (AEC loop)",
            "openspiel": "OpenSpiel `hanabi` (C++), "
            + ("observation + legal moves per decision" if r.get("observe") else "decisions only"),
        }[r["system"]]
        load = r.get("load_after")
        rows.append(
            f"| {name} | {r['players']} | {r.get('num_envs', 1):,} | {r['steps_per_s']:,.0f} | {load:.1f} |"
        )
    for r in report["runs"]:
        if r.get("error"):
            rows.append(
                f"| {r['system']} | {r.get('players')} | {r.get('num_envs', 1)} | not run: {r['error']} | |"
            )
    rows.append("")
    for name, ratio in report["ratios"].items():
        rows.append(f"- htjax at {report['worlds']:,} worlds (2 seats) vs {name}: **{ratio:,.1f}x**")
    for r in report["runs"]:
        if r["system"] == "compile" and "total_s" in r:
            rows.append(
                f"- jit compile of vmapped `init` + `step` ({r['num_envs']:,} worlds, {r['players']} seats): "
                f"**{r['total_s']:.2f} s** wall, {r['total_cpu_s']:.2f} s CPU (init {r['init_s']:.2f} s, "
                f"step {r['step_s']:.2f} s wall; target < 5 s)"
            )
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings")
    parser.add_argument("--seconds", type=float, default=None, help="timed seconds per measurement")
    parser.add_argument("--jaxmarl-path", default=None, help="folder holding a --no-deps install of jaxmarl")
    parser.add_argument("--write-docs", action="store_true", help="write docs/bench + docs/benchmarks.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    sys.path.insert(0, str(ROOT))
    from htjax.bench import machine_info

    seconds = args.seconds or (2.0 if args.quick else 8.0)
    worlds = 1024 if args.quick else 8192
    sizes = [64, worlds] if args.quick else [1, 64, 1024, worlds]
    num_steps = 64 if args.quick else 200
    timeout = 900.0
    runs = [measure({"system": "compile", "players": p, "num_envs": worlds}, timeout) for p in (2, 3, 4, 5)]
    for n in sizes:
        runs.append(
            measure(
                {"system": "htjax", "players": 2, "num_envs": n, "num_steps": num_steps, "seconds": seconds},
                timeout,
            )
        )
    if not args.quick:
        for p in (3, 4, 5):
            spec = {
                "system": "htjax",
                "players": p,
                "num_envs": worlds,
                "num_steps": num_steps,
                "seconds": seconds,
            }
            runs.append(measure(spec, timeout))
    if args.jaxmarl_path:
        for n in sorted({1024, worlds}):
            spec = {
                "system": "jaxmarl",
                "players": 2,
                "num_envs": n,
                "num_steps": num_steps,
                "seconds": seconds,
            }
            runs.append(measure({**spec, "jaxmarl_path": args.jaxmarl_path}, timeout))
    runs.append(measure({"system": "pettingzoo", "players": 2, "seconds": seconds}, timeout))
    for observe in (True, False):
        runs.append(
            measure({"system": "openspiel", "players": 2, "observe": observe, "seconds": seconds}, timeout)
        )

    def rate(system: str, **match) -> float | None:
        for r in runs:
            if (
                r["system"] == system
                and all(r.get(k) == v for k, v in match.items())
                and r.get("steps_per_s")
            ):
                return r["steps_per_s"]
        return None

    ours = rate("htjax", players=2, num_envs=worlds)
    ratios = {}
    for name, theirs in [
        (f"JaxMARL at {worlds:,} worlds", rate("jaxmarl", num_envs=worlds)),
        ("OpenSpiel C++ (observation + legal moves)", rate("openspiel", observe=True)),
        ("OpenSpiel C++ (decisions only)", rate("openspiel", observe=False)),
        ("PettingZoo hanabi_v5", rate("pettingzoo")),
    ]:
        if ours and theirs:
            ratios[name] = ours / theirs
    loads = [x for r in runs for x in (r.get("load_before"), r.get("load_after")) if x is not None]
    report = {
        "command": "python scripts/bench_hanabi.py"
        + (" --quick" if args.quick else "")
        + (" --jaxmarl-path DIR" if args.jaxmarl_path else ""),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_info(),
        "worlds": worlds,
        "load_min": min(loads),
        "load_max": max(loads),
        "runs": runs,
        "ratios": ratios,
    }
    for name, ratio in ratios.items():
        print(f"htjax vs {name}: {ratio:,.1f}x")
    if args.write_docs:
        for path in write_results("hanabi", report, markdown(report)):
            print(f"wrote {path}")
    else:
        print(json.dumps(report["ratios"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
