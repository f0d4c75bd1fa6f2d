"""htjax.bench (used by `htjax bench`, the demo and scripts/bench_*.py) and the scripts' reporting."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import jax
import numpy as np
import pytest
from toy_solo import SoloDraw

import htjax
from htjax.bench import (
    EpisodeReturns,
    init_step_compile_seconds,
    machine_info,
    measure_throughput,
    peak_memory,
    update_markdown_section,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV = SoloDraw(max_steps=3)


def _load_script(name: str):
    if str(ROOT / "scripts") not in sys.path:  # as when run: the script's folder (benchlib) on the path
        sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_throughput__counts_match_a_plain_rollout():
    key = jax.random.PRNGKey(4)
    returns = EpisodeReturns(8)
    seen = []
    r = measure_throughput(
        ENV,
        8,
        30,
        key=key,
        chunks=3,
        reduce=lambda traj: (traj.rewards[..., 0], traj.done),
        on_chunk=lambda extra: returns.add(*jax.device_get(extra)),
        progress=seen.append,
    )
    assert (r.num_envs, r.num_steps, r.env_steps) == (8, 30, 240)
    assert seen == [80, 160, 240]
    assert r.steps_per_second > 0 and r.compile_seconds > 0 and r.peak_memory_bytes > 0
    # The timed chunks follow one untimed warm-up chunk of the same length from the same start.
    plain = htjax.rollout(ENV, htjax.random_policy, key, 8, 40, record_observations=False)
    tr = jax.device_get(plain.trajectory)
    assert r.episodes == int(tr.done[10:].sum()) == returns.episodes


def test_measure_throughput__world_tiles_count_the_same_episodes():
    key = jax.random.PRNGKey(4)
    flat = measure_throughput(ENV, 8, 20, key=key, chunks=2)
    tiled = measure_throughput(ENV, 8, 20, key=key, chunks=2, world_tile=2)
    assert tiled.episodes == flat.episodes > 0 and tiled.env_steps == flat.env_steps
    for tile in (0, 3, 1.5):
        with pytest.raises(htjax.InvalidArgumentError, match="world_tile"):
            measure_throughput(ENV, 8, 20, world_tile=tile)


def test_measure_throughput__max_seconds_stops_after_the_chunk_that_passes_it():
    r = measure_throughput(ENV, 8, 30, chunks=3, max_seconds=0.0)
    assert (r.num_steps, r.env_steps) == (10, 80)


def test_measure_throughput__rejects_bad_sizes():
    for kwargs, message in (
        ({"num_envs": 0, "num_steps": 5}, "num_envs"),
        ({"num_envs": 2, "num_steps": 0}, "num_steps"),
    ):
        with pytest.raises(ValueError, match=message):
            measure_throughput(ENV, **kwargs)
    with pytest.raises(ValueError, match="autoreset"):
        measure_throughput(ENV, 2, 2, autoreset="never")


def test_episode_returns__exact_over_chunks():
    acc = EpisodeReturns(2)
    # world 0: episodes (1 + 2) and (4); world 1: (5) then an unfinished (7)
    acc.add(np.array([[1.0, 5.0], [2.0, 7.0]]), np.array([[False, True], [True, False]]))
    acc.add(np.array([[4.0, 0.0]]), np.array([[True, False]]))
    assert acc.episodes == 3 and acc.total == pytest.approx(3 + 4 + 5)
    assert acc.mean == pytest.approx(4.0)
    assert np.isnan(EpisodeReturns(1).mean)


def test_init_step_compile_seconds__single_and_batched():
    for n in (None, 4):
        seconds = init_step_compile_seconds(ENV, n)
        assert seconds["init"] > 0 and seconds["step"] > 0
        assert seconds["total"] == pytest.approx(seconds["init"] + seconds["step"])


def test_peak_memory_and_machine_info():
    nbytes, source = peak_memory()
    assert nbytes > 10 * 2**20
    assert source == "process peak RSS" or source.endswith("peak_bytes_in_use")
    info = machine_info()
    assert info["jax"] == jax.__version__ and info["cores"] >= 1


def test_update_markdown_section__replaces_only_its_own_block(tmp_path):
    page = tmp_path / "benchmarks.md"
    update_markdown_section(page, "a", "first A")
    update_markdown_section(page, "b", "only B")
    update_markdown_section(page, "a", "second A")
    text = page.read_text()
    assert text.startswith("# Benchmarks")
    assert "second A" in text and "first A" not in text and "only B" in text
    assert text.index("second A") < text.index("only B")
    assert text.count("<!-- a:start -->") == 1


def _row(system, n, sps, compile_s=1.0):
    return {
        "system": system,
        "num_envs": n,
        "steps_per_second": sps,
        "compile_seconds": compile_s,
        "peak_memory_bytes": 2**20,
        "peak_memory_source": "process peak RSS",
        "kind": "x",
    }


def test_bench_blackjack_script__targets_and_markdown():
    script = _load_script("bench_blackjack")
    results = [
        _row("gymnasium Blackjack-v1 loop", 1, 1000.0, 0.0),
        _row("htjax blackjack (gymnasium)", 64, 200_000.0),
        _row("htjax blackjack (gymnasium)", 4096, 400_000.0, 2.5),
        _row("htjax blackjack (casino)", 4096, 90_000.0),
        _row("pgx leduc_holdem", 4096, 100_000.0),
        {**_row("htjax blackjack (gymnasium), 2 host devices", 8192, 700_000.0), "host_devices": 2},
        {**_row("htjax blackjack (casino), 2 host devices", 8192, 150_000.0), "host_devices": 2},
        {**_row("pgx leduc_holdem, 2 host devices", 8192, 120_000.0), "host_devices": 2},
        {"kind": "pgx", "num_envs": 65536, "error": "timed out after 600 s"},
        {
            "kind": "compile",
            "system": "htjax blackjack (gymnasium)",
            "init_seconds": 0.5,
            "step_seconds": 1.0,
            "compile_seconds": 1.5,
        },
        {
            "kind": "compile",
            "system": "htjax blackjack (casino)",
            "init_seconds": 1.0,
            "step_seconds": 1.5,
            "compile_seconds": 2.5,
        },
        {
            "kind": "compile",
            "system": "pgx leduc_holdem",
            "init_seconds": 1.0,
            "step_seconds": 9.0,
            "compile_seconds": 10.0,
        },
    ]
    summary = script.summarise(results)
    t = summary["targets"]
    assert (
        t["gymnasium_preset_vs_gym_loop"]["value"] == pytest.approx(400.0)
        and t["gymnasium_preset_vs_gym_loop"]["met"]
    )
    assert t["casino_vs_pgx_leduc"]["value"] == pytest.approx(0.9) and not t["casino_vs_pgx_leduc"]["met"]
    sharded_gym = t["gymnasium_preset_vs_gym_loop (2 host devices)"]
    assert sharded_gym["value"] == pytest.approx(700.0) and sharded_gym["met"]
    sharded_casino = t["casino_vs_pgx_leduc (both on 2 host devices)"]
    assert sharded_casino["value"] == pytest.approx(1.25) and sharded_casino["met"]
    compile_target = t["htjax_init_plus_step_compile_seconds"]
    assert compile_target["value"] == 2.5 and compile_target["met"]  # pgx's compile time is not ours
    report = {
        "date": "today",
        "quick": True,
        "machine": machine_info(),
        "results": results,
        "summary": summary,
    }
    md = script.markdown(report, "bench/blackjack.png")
    assert "| htjax blackjack (gymnasium) | 4,096 | 400,000 | 400.0 |" in md
    assert "error: timed out" in md and "![env steps/s against worlds](bench/blackjack.png)" in md
    assert "| htjax blackjack (casino) | 1.00 | 1.50 | 2.50 |" in md
    per_size = [
        _row("htjax blackjack (casino)", 8192, 300.0),
        _row("pgx leduc_holdem", 8192, 200.0),
        _row("htjax blackjack (casino)", 65536, 190.0),
        _row("pgx leduc_holdem", 65536, 200.0),
        _row("htjax blackjack (casino), tiles of 8,192", 65536, 330.0),
        _row("pgx leduc_holdem, tiles of 8,192", 65536, 220.0),
    ]
    t = script.summarise(per_size)["targets"]
    one = t["casino_vs_pgx_leduc at 8,192 worlds, one device, one loop"]
    assert one["value"] == pytest.approx(1.5) and one["met"]
    flat = t["casino_vs_pgx_leduc at 65,536 worlds, one device, one loop"]
    assert flat["value"] == pytest.approx(0.95) and not flat["met"]
    # each system at its faster loop: htjax's tiles (330) against pgx's tiles (220)
    tiled = t["casino_vs_pgx_leduc at 65,536 worlds, one device, faster loop of each"]
    assert tiled["value"] == pytest.approx(1.5) and tiled["met"]
    # the one-device best of each sweep compares one-loop rows only
    assert t["casino_vs_pgx_leduc"]["value"] == pytest.approx(1.5)
    # pgx's faster loop counts even where it is one loop: tiles do not flatter htjax
    slow_tiles = [
        r if "pgx" not in r["system"] or "tiles" not in r["system"] else {**r, "steps_per_second": 100.0}
        for r in per_size
    ]
    slow_tiles = [
        r if r["system"] != "pgx leduc_holdem" or r["num_envs"] != 65536 else {**r, "steps_per_second": 400.0}
        for r in slow_tiles
    ]
    t = script.summarise(slow_tiles)["targets"]
    assert t["casino_vs_pgx_leduc at 65,536 worlds, one device, faster loop of each"][
        "value"
    ] == pytest.approx(330 / 400)
    big = script.plan(quick=False, sizes=(8192, 65536))
    tiled_specs = [(s["kind"], s["num_envs"]) for s in big if s.get("world_tile") and "host_devices" not in s]
    assert tiled_specs == [("htjax", 65536), ("pgx", 65536)]
    cores = __import__("os").cpu_count() or 1
    sharded_tiled = [
        (s["kind"], s["host_devices"]) for s in big if s.get("world_tile") and "host_devices" in s
    ]
    # each device's worlds are tiled when they make more than one tile
    tiled_sizes = [n for n in (8192, 65536) if cores > 1 and n // cores > script.SHARDED_TILE]
    assert sharded_tiled == [(kind, cores) for n in tiled_sizes for kind in ("htjax", "pgx")]
    two = [
        {**_row("htjax blackjack (casino), 2 host devices", 8192, 90.0), "host_devices": 2},
        {**_row("pgx leduc_holdem, 2 host devices", 8192, 100.0), "host_devices": 2},
        {**_row("htjax blackjack (casino), 2 host devices, tiles of 8,192", 65536, 120.0), "host_devices": 2},
        {**_row("pgx leduc_holdem, 2 host devices, tiles of 8,192", 65536, 100.0), "host_devices": 2},
    ]
    t = script.summarise(two)["targets"]
    assert t["casino_vs_pgx_leduc at 8,192 worlds, 2 host devices, one loop"]["value"] == pytest.approx(0.9)
    assert not t["casino_vs_pgx_leduc at 8,192 worlds, 2 host devices, faster loop of each"]["met"]
    assert t["casino_vs_pgx_leduc at 65,536 worlds, 2 host devices, faster loop of each"]["met"]
    assert t["casino_vs_pgx_leduc at 65,536 worlds, 2 host devices, one loop"]["value"] is None
    # best of each sweep on 2 devices: tiled rows count for both (120 against 100)
    assert t["casino_vs_pgx_leduc (both on 2 host devices)"]["value"] == pytest.approx(1.2)
    plan = script.plan(quick=True)
    sharded = [s for s in plan if s.get("host_devices", 1) > 1]
    assert [s["kind"] for s in plan].count("htjax") == 2 * len(script.QUICK_SIZES) + 2 * (len(sharded) // 3)
    assert all(s["host_devices"] == __import__("os").cpu_count() for s in sharded)


def test_bench_blackjack_script__single_env_target_and_sizes_for_the_gymnasium_sweeps():
    script = _load_script("bench_blackjack")
    loop = _row("gymnasium Blackjack-v1 loop", 1, 1000.0, 0.0)
    for single, met in ((600.0, True), (400.0, False)):
        t = script.summarise([loop, _row("htjax HtjaxGymEnv loop (gymnasium)", 1, single)])["targets"]
        target = t["single_gym_env_vs_gym_loop"]
        assert target["value"] == pytest.approx(single / 1000.0) and target["met"] is met
    assert script.summarise([loop])["targets"]["single_gym_env_vs_gym_loop"]["met"] is False
    one = [
        s for s in script.plan(quick=False, sizes=(1,)) if s["kind"] in ("gym_loop", "gym_sync", "adapter")
    ]
    assert [(s["kind"], s.get("num_envs")) for s in one] == [
        ("gym_loop", None),
        ("gym_sync", 1),
        ("adapter", 1),
    ]
    full = script.plan(quick=False)
    assert [s["num_envs"] for s in full if s["kind"] == "adapter"] == list(script.ADAPTER_SIZES)


def test_bench_blackjack_script__driver_writes_json_plot_and_markdown(tmp_path, monkeypatch):
    script = _load_script("bench_blackjack")

    def fake(spec, timeout):
        if spec["kind"] == "compile":
            return {
                **spec,
                "system": f"htjax blackjack ({spec['system']})",
                "init_seconds": 0.5,
                "step_seconds": 1.0,
                "compile_seconds": 1.5,
            }
        if spec["kind"] == "pgx" and spec["num_envs"] == 64:
            return {**spec, "error": "exit 1"}
        name = {
            "gym_loop": "gymnasium Blackjack-v1 loop",
            "gym_sync": "gymnasium SyncVectorEnv",
            "pgx": "pgx leduc_holdem",
        }.get(spec["kind"]) or f"htjax blackjack ({spec.get('rules')})"
        name += script._sharded_label(spec.get("host_devices", 1))
        return {**spec, **_row(name, spec.get("num_envs", 1), 1000.0 * spec.get("num_envs", 1))}

    monkeypatch.setattr(script, "run_isolated", fake)
    md = tmp_path / "benchmarks.md"
    args = [
        "--quick",
        "--json-out",
        str(tmp_path / "b.json"),
        "--plot-out",
        str(tmp_path / "b.png"),
        "--markdown",
        str(md),
    ]
    assert script.main(args) == 0
    report = __import__("json").loads((tmp_path / "b.json").read_text())
    assert len(report["results"]) == len(script.plan(quick=True))
    assert report["summary"]["targets"]["gymnasium_preset_vs_gym_loop"]["value"] == pytest.approx(4096.0)
    assert "<!-- bench_blackjack:start -->" in md.read_text() and "error: exit 1" in md.read_text()
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_bench_autoreset_script__markdown_pairs_the_two_forms():
    script = _load_script("bench_autoreset")

    def row(mode, sps):
        return {
            "env": "toy",
            "num_envs": 64,
            "autoreset": mode,
            "episodes": 32,
            "env_steps": 64,
            "steps_per_second": sps,
        }

    report = {
        "date": "today",
        "quick": True,
        "machine": machine_info(),
        "results": [row("select", 1000.0), row("cond", 500.0)],
    }
    md = script.markdown(report)
    assert "| toy | 64 | 0.500 | 5.42e-20 | 1,000 | 500 | 0.50 |" in md


def test_benchlib__peers_act_with_exactly_htjaxs_rollout_policy():
    """Like for like: the actions a peer's loop picks (benchlib.hashed_legal_actions) are the
    actions htjax's rollout picks with random_policy for the same masks, root key and step."""
    _load_script("bench_blackjack")  # puts scripts/ on the path
    import benchlib

    env = SoloDraw()
    n = 16
    start = htjax.rollout_start(env, jax.random.PRNGKey(5), n)
    out = htjax.rollout(env, htjax.random_policy, None, n, 3, carry=start)
    state, t = start.state, start.t
    for step in range(3):
        peer = benchlib.hashed_legal_actions(state.legal_action_mask, start.policy_key, t, n)
        np.testing.assert_array_equal(np.asarray(peer), np.asarray(out.trajectory.action[step]))
        nxt = htjax.rollout(env, htjax.random_policy, None, n, step + 1, carry=start)
        state, t = nxt.carry.state, nxt.carry.t


def test_bench_world_tiles_script__checks_values_and_refuses_bad_sizes(capsys):
    script = _load_script("bench_world_tiles")
    argv = ["--preset", "gymnasium", "--num-envs", "8", "--tiles", "2,4", "--steps", "3", "--reps", "1"]
    assert script.main(argv) == 0
    out = capsys.readouterr().out
    assert "one loop" in out and "tiles of 2" in out and "tiles of 4" in out
    for bad in (["--tiles", "3"], ["--tiles", "0"], ["--tiles", "x"], ["--reps", "0"]):
        with pytest.raises(SystemExit) as err:
            script.main(["--num-envs", "8", *bad])
        assert err.value.code == 2


@pytest.mark.parametrize(
    "args, error",
    [
        (["--sizes", "x"], "--sizes must be comma-separated"),
        (["--sizes", "0"], "--sizes must be positive"),
        (["--timeout", "-1"], "--timeout must be a positive number"),
        (["--timeout", "nan"], "--timeout must be a positive number"),
        (["--timeout", "inf"], "--timeout must be a positive number"),
    ],
)
def test_bench_blackjack_script__refuses_bad_arguments_before_measuring(args, error, capsys, monkeypatch):
    script = _load_script("bench_blackjack")
    monkeypatch.setattr(script, "run_isolated", lambda *a: pytest.fail("measured despite a bad argument"))
    with pytest.raises(SystemExit) as exc:
        script.main([*args, "--no-docs"])
    assert exc.value.code == 2 and error in capsys.readouterr().err
