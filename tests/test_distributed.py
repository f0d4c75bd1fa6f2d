"""Multi-process runs (htjax.core.distributed): two local processes x 2 host devices joined with
jax.distributed over gloo on loopback equal one process with 4 devices; a process that cannot
join fails fast with a clear error; processes with different settings are named."""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "distributed_worker.py"
TIMEOUT = 420


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("JAX_COORDINATOR_ADDRESS", "SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE"):
        env.pop(name, None)  # no cluster auto-detection from the test's surroundings
    return env


def _start(args: list[str], devices: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        cwd=ROOT,
        env=_env(devices),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen], timeout: float) -> list[tuple[int, str, str]]:
    deadline = time.monotonic() + timeout
    out = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=max(deadline - time.monotonic(), 1))
            out.append((p.returncode, stdout, stderr))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return out


def _pair(
    port: int, extra: tuple[list[str], list[str]] = ([], []), timeout: str = "60"
) -> list[subprocess.Popen]:
    common = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--timeout", timeout]
    return [_start(common + ["--process-id", str(i), *extra[i]], devices=2) for i in range(2)]


def test_two_processes_equal_one_process_with_four_devices(tmp_path):
    port = _free_port()
    ref_out, mp_out = tmp_path / "one.npz", tmp_path / "two.npz"
    procs = [_start(["--out", str(ref_out)], devices=4)]
    procs += _pair(port, ([f"--out={mp_out}"], []))
    results = _finish(procs, TIMEOUT)
    for code, stdout, stderr in results:
        assert code == 0, stderr[-3000:]
        assert "worker done" in stdout
    assert "2 processes, 4 devices" in results[1][1]
    assert "1 processes, 4 devices" in results[0][1]
    one, two = np.load(ref_out), np.load(mp_out)
    assert sorted(one) == sorted(two)
    traj = [k for k in one if k.startswith("traj_")]
    assert "traj_action" in traj and one["traj_action"].shape == (12, 8)
    for k in traj:  # identical trajectories
        np.testing.assert_array_equal(one[k], two[k], err_msg=k)
    params = [k for k in one if k.startswith("param_")]
    assert len(params) == 8  # actor and critic: 2 layers each, w and b
    for k in params:
        np.testing.assert_allclose(one[k], two[k], rtol=0, atol=1e-6, err_msg=k)
    # three updates moved the parameters away from their start (the comparison is not vacuous)
    assert float(one["metric_episodes"]) > 0


@pytest.mark.parametrize("process_id", [0, 1])
def test_a_process_whose_peer_never_joins_fails_fast_and_clearly(process_id):
    port = _free_port()  # nobody else joins (and for process 1, nobody serves)
    common = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--timeout", "3"]
    t0 = time.monotonic()
    ((code, _, stderr),) = _finish([_start(common + ["--process-id", str(process_id)], devices=1)], 120)
    elapsed = time.monotonic() - t0
    assert code == 3, stderr[-3000:]
    assert f"DistributedError: process {process_id} of 2 could not join" in stderr
    assert f"127.0.0.1:{port}" in stderr and "within 3 s" in stderr
    assert elapsed < 60  # bounded: the 3 s wait plus start-up, not jax's own deadline


def test_processes_with_different_settings_are_named():
    results = _finish(_pair(_free_port(), ([], ["--num-envs", "16"])), 180)
    for code, _, stderr in results:
        assert code == 3, stderr[-3000:]
        assert "disagree on num_envs (process 0: 8, process 1: 16)" in stderr
        assert "seed" not in stderr.split("disagree on", 1)[1].split(".")[0]  # only what differs


def test_bad_arguments_are_refused_before_joining():
    from htjax.core.distributed import initialize, settings_from_env
    from htjax.core.errors import InvalidArgumentError

    for kwargs, word in [
        (dict(coordinator="nohost"), "coordinator"),
        (dict(coordinator="h:0"), "coordinator"),
        (dict(num_processes=0), "num_processes"),
        (dict(num_processes=2, process_id=2), "process_id"),
        (dict(process_id=-1), "process_id"),
        (dict(timeout_s=0), "timeout_s"),
    ]:
        with pytest.raises(InvalidArgumentError, match=word):
            initialize(**kwargs)
    assert settings_from_env({"HTJAX_COORDINATOR": "h:1", "HTJAX_NUM_PROCESSES": "2"}) == {
        "coordinator": "h:1",
        "num_processes": 2,
        "process_id": None,
        "timeout_s": None,
    }
    with pytest.raises(InvalidArgumentError, match="HTJAX_PROCESS_ID"):
        settings_from_env({"HTJAX_PROCESS_ID": "one"})


def test_cli_bench_distributed_over_two_processes():
    port = _free_port()
    env = _env(2)
    env.update(HTJAX_COORDINATOR=f"127.0.0.1:{port}", HTJAX_NUM_PROCESSES="2", HTJAX_JOIN_TIMEOUT="60")
    cmd = [
        sys.executable,
        "-m",
        "htjax",
        "bench",
        "blackjack",
        "-n",
        "8",
        "-t",
        "4",
        "--distributed",
        "--json",
    ]
    procs = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**env, "HTJAX_PROCESS_ID": str(i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    (c0, out0, err0), (c1, out1, err1) = _finish(procs, 300)
    assert c0 == 0 and c1 == 0, (err0[-2000:], err1[-2000:])
    import json

    result = json.loads(out0)
    assert result["processes"] == 2 and result["devices"] == 4 and result["env_steps"] == 32
    assert out1.strip() == ""  # process 0 reports


def test_cli_refuses_a_malformed_coordinator_before_joining():
    from typer.testing import CliRunner

    from htjax.cli import app

    out = CliRunner().invoke(app, ["bench", "blackjack", "--distributed", "--coordinator", "nohost"])
    assert out.exit_code != 0
    assert "coordinator must be 'host:port'" in out.output
