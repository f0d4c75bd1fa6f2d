#!/usr/bin/env python
"""Blackjack throughput: htjax against Gymnasium's Blackjack-v1 and pgx's leduc_holdem, one run.

Measured, each in a fresh subprocess (so peak memory and compile time belong to that
measurement alone), on the same machine in the same run:

* Gymnasium ``Blackjack-v1`` single-env loop (``gymnasium.make`` with the rules of htjax's
  ``gymnasium`` preset, which are ``gym.make("Blackjack-v1")``'s defaults; random actions), and
  ``SyncVectorEnv`` of it.
* htjax's Gymnasium adapters (``HtjaxGymEnv`` loop, ``HtjaxVectorEnv``) on the ``gymnasium``
  preset, stepped from Python exactly like Blackjack-v1 (what a Gymnasium user gets).
* htjax ``blackjack`` ``gymnasium`` preset and casino rules (the default config), random legal
  actions via :func:`htjax.bench.measure_throughput` (``rollout_steps`` with auto-reset,
  ``record_observations=False``, ``block_until_ready``; compile timed apart).
* pgx ``leduc_holdem`` (``pip install pgx``): ``jit(vmap(auto_reset(step, init)))`` in a
  ``lax.scan``, timed the same way, with the SAME policy as htjax (the hashed-score argmax over
  legal actions of :func:`htjax.random_policy`, keys derived like htjax's) and per-world env keys
  hashed like htjax's step keys: like for like (``scripts/benchlib.py``).
* Compile seconds of plain ``jit(init)`` + ``jit(step)`` of one world, per system.

Writes ``docs/bench/blackjack.json``, ``docs/bench/blackjack.png`` and the ``bench_blackjack``
section of ``docs/benchmarks.md``. ``--quick`` runs a small sweep (to check the script works).

    python scripts/bench_blackjack.py            # full sweep, 1 .. 65536 worlds
    python scripts/bench_blackjack.py --quick    # 1, 64, 4096 worlds, short timings
    python scripts/bench_blackjack.py --sizes 8192 --only htjax --only pgx --no-docs   # a spot check
    python scripts/bench_blackjack.py --sizes 1 --only gym --only adapter --no-docs    # one env from Python
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import benchlib
from benchlib import ROOT, compile_seconds, hashed_legal_actions, hashed_world_keys, write_results

FULL_SIZES = (1, 8, 64, 512, 4096, 8192, 65536)
QUICK_SIZES = (1, 64, 4096)
FULL_SYNC_SIZES = (1, 8, 64, 512)
QUICK_SYNC_SIZES = (1, 8, 64)
ADAPTER_SIZES = (1, 64, 4096)  # htjax's Gymnasium adapters stepped from Python
SHARDED_SIZES = (8192, 65536)  # worlds sharded over one XLA host device per core
# Large batches also run in tiles (world_tile), htjax and pgx alike: one device (both cores) in
# tiles of TILE worlds, each of several host devices (one core each) in tiles of SHARDED_TILE of
# its own worlds (the best sizes of scripts/bench_world_tiles.py on this machine, docs/performance.md)
TILE = 8192
SHARDED_TILE = 2048


def gymnasium_rules() -> dict:
    """``natural``/``sab`` of htjax's ``gymnasium`` preset (``gym.make("Blackjack-v1")``'s defaults)."""
    sys.path.insert(0, str(ROOT))
    import htjax

    config = htjax.make("blackjack", preset="gymnasium").config
    return {"natural": config.natural, "sab": config.sab}


MAX_SECONDS = 10.0  # timed seconds per measurement at most (slow systems run fewer chunks)
TARGET_GYM_RATIO = 300.0
TARGET_COMPILE_SECONDS = 3.0
TARGET_SINGLE_ENV_RATIO = 0.5  # one HtjaxGymEnv stepped from Python against Blackjack-v1's loop


# --------------------------------------------------------------------------- workers (subprocess)
def _steps_for(num_envs: int, budget: int) -> int:
    """Steps per world so that one measurement is about ``budget`` env steps (at least 20)."""
    return int(max(20, min(2000, budget // num_envs)))


def work_gym_loop(seconds: float) -> dict:
    import gymnasium
    import numpy as np

    from htjax.bench import peak_memory

    env = gymnasium.make("Blackjack-v1", **gymnasium_rules())
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    steps = episodes = 0
    start = time.perf_counter()
    while True:
        for a in rng.integers(0, 2, size=1000):
            _, _, terminated, truncated, _ = env.step(int(a))
            if terminated or truncated:
                env.reset()
                episodes += 1
        steps += 1000
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    peak, source = peak_memory()
    return dict(
        system="gymnasium Blackjack-v1 loop",
        num_envs=1,
        env_steps=steps,
        seconds=elapsed,
        steps_per_second=steps / elapsed,
        compile_seconds=0.0,
        episodes=episodes,
        peak_memory_bytes=peak,
        peak_memory_source=source,
    )


def work_gym_sync(num_envs: int, seconds: float) -> dict:
    import gymnasium
    import numpy as np

    from htjax.bench import peak_memory

    envs = gymnasium.make_vec(
        "Blackjack-v1", num_envs=num_envs, vectorization_mode="sync", **gymnasium_rules()
    )
    rng = np.random.default_rng(0)
    envs.reset(seed=0)
    calls = 0
    start = time.perf_counter()
    while True:
        for _ in range(50):
            envs.step(rng.integers(0, 2, size=num_envs))
        calls += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    peak, source = peak_memory()
    return dict(
        system="gymnasium SyncVectorEnv",
        num_envs=num_envs,
        env_steps=calls * num_envs,
        seconds=elapsed,
        steps_per_second=calls * num_envs / elapsed,
        compile_seconds=0.0,
        episodes=None,
        peak_memory_bytes=peak,
        peak_memory_source=source,
    )


def work_adapter(num_envs: int, seconds: float) -> dict:
    """htjax's own Gymnasium adapters on the ``gymnasium`` preset, driven from Python like Blackjack-v1."""
    import gymnasium
    import numpy as np

    import htjax  # noqa: F401 - registers the ids
    from htjax.bench import peak_memory

    gym_id = "htjax/BlackjackGymnasium-v0"
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    if num_envs == 1:
        env = gymnasium.make(gym_id)
        env.reset(seed=0)
        env.step(0)  # compile reset and step before timing
        compile_seconds = time.perf_counter() - t0
        steps = 0
        start = time.perf_counter()
        while True:
            for a in rng.integers(0, 2, size=200):
                _, _, terminated, truncated, _ = env.step(int(a))
                if terminated or truncated:
                    env.reset()
            steps += 200
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        system = "htjax HtjaxGymEnv loop (gymnasium)"
    else:
        envs = gymnasium.make_vec(gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
        envs.reset(seed=0)
        envs.step(np.zeros(num_envs, np.int64))
        compile_seconds = time.perf_counter() - t0
        calls = 0
        start = time.perf_counter()
        while True:
            for _ in range(20):
                envs.step(rng.integers(0, 2, size=num_envs))
            calls += 20
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        steps = calls * num_envs
        system = "htjax HtjaxVectorEnv (gymnasium)"
    peak, source = peak_memory()
    return dict(
        system=system,
        num_envs=num_envs,
        env_steps=steps,
        seconds=elapsed,
        steps_per_second=steps / elapsed,
        compile_seconds=compile_seconds,
        episodes=None,
        peak_memory_bytes=peak,
        peak_memory_source=source,
    )


def _sharded_label(host_devices: int, world_tile: int | None = None) -> str:
    tiles = f", tiles of {world_tile:,}" if world_tile else ""
    return (f", {host_devices} host devices" if host_devices > 1 else "") + tiles


def work_htjax(
    rules: str, num_envs: int, budget: int, host_devices: int = 1, world_tile: int | None = None
) -> dict:
    import htjax
    from htjax.bench import measure_throughput

    env = htjax.make("blackjack", preset=None if rules == "casino" else rules)
    r = measure_throughput(
        env,
        num_envs,
        _steps_for(num_envs, budget),
        rules=rules,
        max_seconds=MAX_SECONDS,
        devices="all" if host_devices > 1 else None,
        world_tile=world_tile,
    )
    out = r.to_dict()
    out["system"] = f"htjax blackjack ({rules}){_sharded_label(host_devices, world_tile)}"
    out["world_tile"] = world_tile
    return out


def work_compile(system: str) -> dict:
    """Compile seconds of plain ``jit(init)`` + ``jit(step)`` of one world (the compile target)."""
    if system == "pgx":
        import pgx

        env, name = pgx.make("leduc_holdem"), "pgx leduc_holdem"
    else:
        import htjax

        env = htjax.make("blackjack", preset=None if system == "casino" else system)
        name = f"htjax blackjack ({system})"
    from htjax.bench import init_step_compile_seconds

    seconds = init_step_compile_seconds(env)
    return {
        "system": name,
        "init_seconds": seconds["init"],
        "step_seconds": seconds["step"],
        "compile_seconds": seconds["total"],
    }


def work_pgx(num_envs: int, budget: int, host_devices: int = 1, world_tile: int | None = None) -> dict:
    import jax
    import jax.numpy as jnp
    import pgx
    from pgx.experimental import auto_reset

    from htjax.bench import device_description, peak_memory
    from htjax.core.tiles import map_tiles

    env = pgx.make("leduc_holdem")
    steps = _steps_for(num_envs, budget)
    chunks = 10
    chunk = -(-steps // chunks)
    v_init = jax.vmap(env.init)
    v_step = jax.vmap(auto_reset(env.step, env.init))

    def run_worlds(state, roots, t, first_world=0):
        # the same policy and key costs as htjax's rollout: hashed policy keys, the hashed-score
        # argmax over legal actions, hashed per-world env keys (benchlib)
        policy_root, env_root = roots
        n = state.legal_action_mask.shape[0]

        def body(c, _):
            state, t = c
            action = hashed_legal_actions(state.legal_action_mask, policy_root, t, n, first_world)
            state = v_step(state, action, hashed_world_keys(env_root, t, n, first_world))
            return (state, t + 1), state.terminated

        # episodes are counted once per chunk, like htjax's measure_throughput: a count per step
        # would be one cross-device all-reduce per step when sharded, a cost htjax does not pay
        (state, t), done = jax.lax.scan(body, (state, t), None, length=chunk)
        return state, t, done.sum()

    def run(state, roots, t, first_world=0):
        n = state.legal_action_mask.shape[0]
        if not world_tile or world_tile == n:
            return run_worlds(state, roots, t, first_world)

        # the worlds in tiles, one after another, with htjax's own tiling (world_tile)
        def one(tile, first):
            tile, _, done = run_worlds(tile, roots, t, first)
            return tile, done

        state, done = map_tiles(one, state, world_tile, first_world)
        return state, t + chunk, done.sum()

    key = jax.random.PRNGKey(0)
    keys = jax.random.split(key, num_envs)
    roots = tuple(jax.random.split(jax.random.PRNGKey(1)))
    t = jnp.int32(0)
    init_jit, run_jit = jax.jit(v_init), jax.jit(run)
    if host_devices > 1:
        # shard the worlds exactly like htjax's devices="all": every state leaf split by world,
        # the loop under shard_map (each device steps its own worlds with their global keys,
        # nothing communicated inside the loop), episodes summed once per chunk
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        mesh = Mesh(jax.devices(), ("worlds",))
        share = num_envs // mesh.size
        W, R = PartitionSpec("worlds"), PartitionSpec()

        def local(state, roots, t):
            state, t, done = run(state, roots, t, jax.lax.axis_index("worlds") * share)
            return state, t, done[None]

        per_device = jax.shard_map(local, mesh=mesh, in_specs=(W, R, R), out_specs=(W, R, W), check_vma=False)

        def run_sharded(state, roots, t):
            state, t, done = per_device(state, roots, t)
            return state, t, done.sum()

        worlds, replicated = (
            NamedSharding(mesh, PartitionSpec("worlds")),
            NamedSharding(mesh, PartitionSpec()),
        )
        keys, roots, t = (
            jax.device_put(keys, worlds),
            jax.device_put(roots, replicated),
            jax.device_put(t, replicated),
        )
        init_jit = jax.jit(v_init, in_shardings=worlds, out_shardings=worlds)
        run_jit = jax.jit(
            run_sharded,
            in_shardings=(worlds, replicated, replicated),
            out_shardings=(worlds, replicated, replicated),
        )
    init, init_compile = compile_seconds(init_jit, keys)
    state = init(keys)
    step, step_compile = compile_seconds(run_jit, state, roots, t)
    state, t, _ = step(state, roots, t)
    jax.block_until_ready(state)
    elapsed = 0.0
    episodes = done_chunks = 0
    while done_chunks < chunks and (done_chunks == 0 or elapsed < MAX_SECONDS):
        t0 = time.perf_counter()
        state, t, n = step(state, roots, t)
        jax.block_until_ready((state, n))
        elapsed += time.perf_counter() - t0
        episodes += int(n)
        done_chunks += 1
    env_steps = done_chunks * chunk * num_envs
    peak, source = peak_memory()
    return dict(
        system=f"pgx leduc_holdem{_sharded_label(host_devices, world_tile)}",
        world_tile=world_tile,
        num_envs=num_envs,
        env_steps=env_steps,
        seconds=elapsed,
        steps_per_second=env_steps / elapsed,
        compile_seconds=init_compile + step_compile,
        init_compile_seconds=init_compile,
        step_compile_seconds=step_compile,
        episodes=episodes,
        peak_memory_bytes=peak,
        peak_memory_source=source,
        device=device_description(),
    )


def worker(spec: dict) -> dict:
    kind = spec["kind"]
    if kind == "gym_loop":
        return work_gym_loop(spec["seconds"])
    if kind == "gym_sync":
        return work_gym_sync(spec["num_envs"], spec["seconds"])
    if kind == "adapter":
        return work_adapter(spec["num_envs"], spec["seconds"])
    if kind == "htjax":
        return work_htjax(
            spec["rules"],
            spec["num_envs"],
            spec["budget"],
            spec.get("host_devices", 1),
            spec.get("world_tile"),
        )
    if kind == "pgx":
        return work_pgx(spec["num_envs"], spec["budget"], spec.get("host_devices", 1), spec.get("world_tile"))
    if kind == "compile":
        return work_compile(spec["system"])
    raise ValueError(f"unknown measurement kind {kind!r}")


# --------------------------------------------------------------------------- driver
def run_isolated(spec: dict, timeout: float) -> dict:
    """One measurement in a fresh process (:func:`benchlib.run_isolated` of this script)."""
    return benchlib.run_isolated(pathlib.Path(__file__).resolve(), spec, timeout)


def plan(quick: bool, sizes: tuple[int, ...] | None = None) -> list[dict]:
    """The measurements of one run; ``sizes`` replaces the sweep of world counts."""
    sync_sizes = QUICK_SYNC_SIZES if quick else FULL_SYNC_SIZES
    adapter_sizes = ADAPTER_SIZES
    if sizes:  # the Gymnasium sweeps keep only the sizes asked for (--sizes 1: the single-env loops)
        sync_sizes = tuple(n for n in sync_sizes if n in sizes)
        adapter_sizes = tuple(n for n in adapter_sizes if n in sizes)
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    seconds = 1.0 if quick else 5.0
    budget = 200_000 if quick else 4_000_000
    specs = [{"kind": "gym_loop", "seconds": seconds}]
    specs += [{"kind": "gym_sync", "num_envs": n, "seconds": seconds} for n in sync_sizes]
    specs += [{"kind": "adapter", "num_envs": n, "seconds": seconds} for n in adapter_sizes]
    for rules in ("gymnasium", "casino"):
        specs += [{"kind": "htjax", "rules": rules, "num_envs": n, "budget": budget} for n in sizes]
    specs += [{"kind": "pgx", "num_envs": n, "budget": budget} for n in sizes]
    for n in (n for n in sizes if n > TILE and n % TILE == 0):  # a large batch in cache-sized tiles
        specs += [{"kind": "htjax", "rules": "casino", "num_envs": n, "budget": budget, "world_tile": TILE}]
        specs += [{"kind": "pgx", "num_envs": n, "budget": budget, "world_tile": TILE}]
    cores = os.cpu_count() or 1
    if cores > 1:  # the same worlds sharded over one host device per core, htjax and pgx alike
        for n in sizes[-1:] if quick else (SHARDED_SIZES if sizes == FULL_SIZES else sizes):
            specs += [
                {"kind": "htjax", "rules": r, "num_envs": n, "budget": budget, "host_devices": cores}
                for r in ("gymnasium", "casino")
            ]
            specs += [{"kind": "pgx", "num_envs": n, "budget": budget, "host_devices": cores}]
            if n // cores > SHARDED_TILE and (n // cores) % SHARDED_TILE == 0:
                tiled = {"num_envs": n, "budget": budget, "host_devices": cores, "world_tile": SHARDED_TILE}
                specs += [{"kind": "htjax", "rules": "casino", **tiled}, {"kind": "pgx", **tiled}]
    specs += [{"kind": "compile", "system": system} for system in ("gymnasium", "casino", "pgx")]
    return specs


def _fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _series(results: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in results:
        if "error" not in r and r.get("kind") != "compile":
            out.setdefault(r["system"], []).append(r)
    return out


def _loops(results: list[dict], system: str, num_envs: int, host_devices: int) -> tuple:
    """``(one loop, faster of one loop and world tiles)`` steps/s of ``system`` at ``num_envs``
    worlds on ``host_devices`` devices (``None`` where not measured)."""
    base = system + _sharded_label(host_devices)
    rows = [
        r
        for r in results
        if "error" not in r
        and r.get("num_envs") == num_envs
        and (r.get("system") == base or str(r.get("system", "")).startswith(base + ", tiles of "))
    ]
    one = next((r["steps_per_second"] for r in rows if r["system"] == base), None)
    return one, max((r["steps_per_second"] for r in rows), default=None)


def summarise(results: list[dict]) -> dict:
    """Ratios against the Gymnasium single loop and the performance targets."""
    series = _series(results)
    loop = series.get("gymnasium Blackjack-v1 loop", [{}])[0].get("steps_per_second")
    best = {name: max(rows, key=lambda r: r["steps_per_second"]) for name, rows in series.items()}
    gym_preset = best.get("htjax blackjack (gymnasium)")
    casino = best.get("htjax blackjack (casino)")
    leduc = best.get("pgx leduc_holdem")
    compile_max = max(
        (
            r["compile_seconds"]
            for r in results
            if r.get("kind") == "compile" and "error" not in r and r["system"].startswith("htjax")
        ),
        default=None,
    )
    targets = {
        "gymnasium_preset_vs_gym_loop": {
            "target": f">= {TARGET_GYM_RATIO:.0f}x",
            "value": None if not (gym_preset and loop) else gym_preset["steps_per_second"] / loop,
        },
        "casino_vs_pgx_leduc": {
            "target": ">= 1x (best of each sweep)",
            "value": None
            if not (casino and leduc)
            else casino["steps_per_second"] / leduc["steps_per_second"],
        },
        "htjax_init_plus_step_compile_seconds": {
            "target": f"< {TARGET_COMPILE_SECONDS:.0f} s (worst preset)",
            "value": compile_max,
        },
    }
    # the per-size targets, one device and sharded: each system at its faster loop (one
    # loop, or its world tiles), so tiling is counted for pgx exactly as for htjax; the one-loop
    # ratio is reported beside it
    devices = sorted({r.get("host_devices") or 1 for r in results if "error" not in r})
    for cores in devices:
        for n, want in ((8192, 1.2 if cores == 1 else 1.0), (65536, 1.0)):
            where = f"{n:,} worlds" + (f", {cores} host devices" if cores > 1 else ", one device")
            c_one, c_best = _loops(results, "htjax blackjack (casino)", n, cores)
            p_one, p_best = _loops(results, "pgx leduc_holdem", n, cores)
            for name, c, p in (
                (f"at {where}, faster loop of each", c_best, p_best),
                (f"at {where}, one loop", c_one, p_one),
            ):
                value = None if not (c and p) else c / p
                targets[f"casino_vs_pgx_leduc {name}"] = {
                    "target": f">= {want}x",
                    "value": value,
                    "met": value is not None and value >= want,
                }
    single = series.get("htjax HtjaxGymEnv loop (gymnasium)", [{}])[0].get("steps_per_second")
    sv = None if not (single and loop) else single / loop
    targets["single_gym_env_vs_gym_loop"] = {
        "target": f">= {TARGET_SINGLE_ENV_RATIO}x",
        "value": sv,
        "met": sv is not None and sv >= TARGET_SINGLE_ENV_RATIO,
    }
    sharded = sorted({r.get("host_devices", 1) for r in results if r.get("host_devices", 1) > 1})
    sizes = {r["num_envs"] for r in results if "num_envs" in r}
    for n in sharded:
        label = _sharded_label(n)
        g = best.get(f"htjax blackjack (gymnasium){label}")
        # best of each sweep, one loop or world tiles alike for both systems
        c = max((_loops(results, "htjax blackjack (casino)", m, n)[1] or 0 for m in sizes), default=0)
        p = max((_loops(results, "pgx leduc_holdem", m, n)[1] or 0 for m in sizes), default=0)
        gv = None if not (g and loop) else g["steps_per_second"] / loop
        cv = None if not (c and p) else c / p
        targets[f"gymnasium_preset_vs_gym_loop ({n} host devices)"] = {
            "target": f">= {TARGET_GYM_RATIO:.0f}x",
            "value": gv,
            "met": gv is not None and gv >= TARGET_GYM_RATIO,
        }
        targets[f"casino_vs_pgx_leduc (both on {n} host devices)"] = {
            "target": ">= 1x (best of each sweep)",
            "value": cv,
            "met": cv is not None and cv >= 1.0,
        }
    targets["gymnasium_preset_vs_gym_loop"]["met"] = (
        targets["gymnasium_preset_vs_gym_loop"]["value"] is not None
        and targets["gymnasium_preset_vs_gym_loop"]["value"] >= TARGET_GYM_RATIO
    )
    targets["casino_vs_pgx_leduc"]["met"] = (
        targets["casino_vs_pgx_leduc"]["value"] is not None and targets["casino_vs_pgx_leduc"]["value"] >= 1.0
    )
    targets["htjax_init_plus_step_compile_seconds"]["met"] = (
        compile_max is not None and compile_max < TARGET_COMPILE_SECONDS
    )
    return {"gym_loop_steps_per_second": loop, "targets": targets}


def markdown(report: dict, plot_name: str | None) -> str:
    m = report["machine"]
    loop = report["summary"]["gym_loop_steps_per_second"]
    lines = [
        "## Blackjack throughput (`scripts/bench_blackjack.py`)",
        "",
        f"Run {report['date']}{' (--quick)' if report['quick'] else ''} on {m['cpu']}, {m['cores']} cores, "
        f"device {m['device']}, JAX {m['jax']}, Python {m['python']}. Each row is a fresh process. "
        "Env steps/s = worlds x steps / timed seconds; compile seconds (init + step) are measured apart "
        "and not in the timing. Random legal actions everywhere; htjax and pgx act with the same policy "
        "(the hashed-score argmax over legal actions of `htjax.random_policy`, keys derived alike) and "
        "both auto-reset finished worlds. "
        'Rows marked "host devices" split the CPU into one XLA host device per core '
        "(`--xla_force_host_platform_device_count`) and shard the worlds over them: htjax with "
        '`devices="all"`, pgx\'s loop under the same `shard_map` (each device steps its own worlds with '
        'their global keys; episodes counted once per chunk). Rows marked "tiles" step the worlds '
        "(each device's share) in tiles of that many, one tile after another (`world_tile`), htjax and "
        "pgx alike.",
        "",
        "| system | worlds | env steps/s | x Gymnasium loop | compile s | peak memory MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        if r.get("kind") == "compile":
            continue
        name = r.get("system") or f"{r['kind']} {r.get('rules', '')}".strip()
        if "error" in r:
            lines.append(f"| {name} | {r.get('num_envs', 1)} | error: {r['error']} | | | |")
            continue
        ratio = f"{r['steps_per_second'] / loop:,.1f}" if loop else "-"
        mem = r["peak_memory_bytes"] / 2**20
        lines.append(
            f"| {name} | {r['num_envs']:,} | {_fmt_rate(r['steps_per_second'])} | {ratio} | "
            f"{r['compile_seconds']:.2f} | {mem:,.0f} |"
        )
    compiles = [r for r in report["results"] if r.get("kind") == "compile"]
    if compiles:
        lines += [
            "",
            "Compile seconds of plain `jax.jit(env.init)` and `jax.jit(env.step)` for one world, "
            "each in a fresh process (the table above compiles a whole rollout chunk: init, step, "
            "policy and auto-reset):",
            "",
            "| system | init s | step s | init + step s |",
            "|---|---:|---:|---:|",
        ]
        for r in compiles:
            if "error" in r:
                lines.append(f"| {r['system']} | error: {r['error']} | | |")
            else:
                seconds = (r["init_seconds"], r["step_seconds"], r["compile_seconds"])
                lines.append(f"| {r['system']} | " + " | ".join(f"{x:.2f}" for x in seconds) + " |")
    lines += [
        "",
        "Targets (best size of each sweep):",
        "",
        "| target | wanted | measured | met |",
        "|---|---|---:|---|",
    ]
    for name, t in report["summary"]["targets"].items():
        value = "-" if t["value"] is None else f"{t['value']:,.2f}"
        lines.append(f"| {name} | {t['target']} | {value} | {'yes' if t['met'] else 'no'} |")
    source = next((r["peak_memory_source"] for r in report["results"] if "peak_memory_source" in r), "?")
    lines += [
        "",
        f"Peak memory: {source} of the measuring process (it includes Python, JAX and the runtime).",
    ]
    if plot_name:
        lines += ["", f"![env steps/s against worlds]({plot_name})"]
    return "\n".join(lines)


def plot(report: dict, path: pathlib.Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, rows in _series(report["results"]).items():
        rows = sorted(rows, key=lambda r: r["num_envs"])
        if len(rows) == 1 and rows[0]["num_envs"] == 1 and "loop" in name:
            ax.axhline(rows[0]["steps_per_second"], linestyle="--", color="gray", label=name)
            continue
        ax.plot([r["num_envs"] for r in rows], [r["steps_per_second"] for r in rows], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("worlds (num_envs)")
    ax.set_ylabel("env steps / s")
    ax.set_title(f"Blackjack throughput on {report['machine']['device']}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sweep and short timings")
    parser.add_argument("--json-out", default=str(ROOT / "docs/bench/blackjack.json"))
    parser.add_argument("--plot-out", default=str(ROOT / "docs/bench/blackjack.png"))
    parser.add_argument("--markdown", default=str(ROOT / "docs/benchmarks.md"))
    parser.add_argument("--no-docs", action="store_true", help="print results only; write nothing")
    parser.add_argument(
        "--only",
        choices=["gym", "adapter", "htjax", "pgx", "compile"],
        action="append",
        help="measure only these",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per measurement")
    parser.add_argument(
        "--sizes", help="comma-separated world counts instead of the sweep (e.g. 8192 for a spot check)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    sys.path.insert(0, str(ROOT))
    from htjax.bench import machine_info

    try:
        sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else None
    except ValueError:
        parser.error(f"--sizes must be comma-separated world counts, got {args.sizes!r}")
    if sizes and any(n < 1 for n in sizes):
        parser.error("--sizes must be positive world counts")
    if not 0 < args.timeout < float("inf"):  # also refuses nan
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    specs = plan(args.quick, sizes)
    if args.only:
        specs = [s for s in specs if s["kind"].split("_")[0] in args.only]
    results = []
    for i, spec in enumerate(specs, 1):
        label = " ".join(f"{k}={v}" for k, v in spec.items())
        print(f"[{i}/{len(specs)}] {label} ...", end=" ", flush=True, file=sys.stderr)
        r = run_isolated(spec, args.timeout)
        if "error" in r:
            outcome = r["error"]
        elif spec["kind"] == "compile":
            outcome = f"init + step compile {r['compile_seconds']:.2f} s"
        else:
            outcome = f"{r['steps_per_second']:,.0f} steps/s"
        print(outcome, file=sys.stderr)
        results.append(r)

    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "quick": args.quick,
        "machine": machine_info(),
        "results": results,
    }
    report["summary"] = summarise(results)
    for name, t in report["summary"]["targets"].items():
        value = "-" if t["value"] is None else f"{t['value']:,.2f}"
        print(f"{name}: {value} (target {t['target']}) {'MET' if t['met'] else 'NOT MET'}")
    if args.no_docs:
        print(json.dumps(report, indent=1))
        return 0
    plot_path = pathlib.Path(args.plot_out)
    md_path = pathlib.Path(args.markdown)
    plot_name = os.path.relpath(plot_path, md_path.parent) if plot(report, plot_path) else None
    written = write_results(
        "blackjack",
        report,
        markdown(report, plot_name),
        json_out=pathlib.Path(args.json_out),
        markdown_path=md_path,
    )
    print(f"wrote {', '.join(map(str, written))}, {plot_path if plot_name else '(no plot)'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
