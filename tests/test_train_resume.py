"""Training keeps its work: output paths checked first, periodic and Ctrl-C checkpoints, bit-exact resume."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import shutil
import signal
import subprocess
import sys
import threading

import jax
import numpy as np
import pytest
from toy_envs import HighCard
from toy_solo import SoloDraw

import htjax
from htjax.core.config import ConfigError
from htjax.core.rollouts import random_policy
from htjax.train import run as run_module
from htjax.train.checkpoint import load_checkpoint, read_checkpoint_file, save_checkpoint
from htjax.train.errors import CheckpointError, OutputPathError, ResumeMismatchError
from htjax.train.ppo import PPOConfig
from htjax.train.run import train
from htjax.train.selfplay import Opponents

ROOT = pathlib.Path(__file__).resolve().parent.parent

# tiny and with every schedule switched on: learning rate and entropy annealing, snapshots
TINY = PPOConfig(
    num_envs=4,
    num_steps=4,
    num_minibatches=2,
    update_epochs=2,
    learning_rate=3e-3,
    hidden=(8,),
    anneal_updates=5,
    anneal_to=0.2,
    ent_coef=0.05,
    ent_anneal_to=0.0,
)


def _random_opponents(env):
    return Opponents.from_policies(env, [random_policy], ["random"])


CASES = {
    "one_seat": (SoloDraw, TINY, None),
    "snapshot_pool": (HighCard, TINY.replace(snapshot_pool=2, snapshot_every=2), None),
    "fixed_opponents": (HighCard, TINY, _random_opponents),
}


def _run(case, tmp, name, **kwargs):
    make_env, config, opponents = CASES[case]
    env = make_env()
    return train(
        env,
        config,
        seed=3,
        opponents=opponents(env) if opponents else None,
        out=tmp / f"{name}.npz",
        progress=False,
        **kwargs,
    )


def _without_wall(rows):
    return [{k: v for k, v in row.items() if k != "wall_s"} for row in rows]


def _assert_same_run(a, b):
    leaves_a, tree_a = jax.tree_util.tree_flatten(a.runner_state)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b.runner_state)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    assert _without_wall(a.metrics) == _without_wall(b.metrics)
    assert a.updates == b.updates and a.env_steps == b.env_steps


def _assert_same_files(path_a, path_b):
    _, arrays_a = read_checkpoint_file(path_a)
    _, arrays_b = read_checkpoint_file(path_b)
    assert sorted(arrays_a) == sorted(arrays_b)
    assert any(k.startswith("state/") for k in arrays_a)
    for k in arrays_a:
        assert arrays_a[k].dtype == arrays_b[k].dtype
        np.testing.assert_array_equal(arrays_a[k], arrays_b[k], err_msg=k)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """An uninterrupted 6-update run per case."""
    tmp = tmp_path_factory.mktemp("reference")
    return {case: (_run(case, tmp, case, updates=6), tmp / f"{case}.npz") for case in CASES}


# ------------------------------------------------------------------ bit-exact resume
@pytest.mark.parametrize("case", list(CASES))
def test_resume__n_updates_then_n_more_equals_2n_in_one_go(case, references, tmp_path):
    reference, reference_file = references[case]
    first = _run(case, tmp_path, "split", updates=3)
    assert first.updates == 3 and not first.interrupted
    second = _run(case, tmp_path, "split", updates=6, resume=tmp_path / "split.npz")
    _assert_same_run(second, reference)
    _assert_same_files(tmp_path / "split.npz", reference_file)
    # the whole run's metrics are on disk, not only the second half's
    rows = json.loads((tmp_path / "split.metrics.json").read_text())["metrics"]
    assert [r["update"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert _without_wall(rows) == _without_wall(reference.metrics)


def test_resume__from_a_periodic_checkpoint_mid_run_equals_the_uninterrupted_run(references, tmp_path):
    reference, _ = references["snapshot_pool"]
    copies = []

    def keep(path, updates):
        copies.append(updates)
        shutil.copy(path, tmp_path / f"at{updates}.npz")

    full = _run("snapshot_pool", tmp_path, "periodic", updates=6, checkpoint_every=2, on_checkpoint=keep)
    assert copies == [2, 4, 6]
    _assert_same_run(full, reference)  # writing checkpoints changes nothing
    assert load_checkpoint(tmp_path / "at4.npz").header["training"]["updates"] == 4
    resumed = train(
        HighCard(),
        CASES["snapshot_pool"][1],
        updates=6,
        seed=3,
        out=tmp_path / "at4.npz",
        resume=tmp_path / "at4.npz",
        progress=False,
    )
    _assert_same_run(resumed, reference)
    # a run resumed to more updates than it was started with
    longer = train(
        HighCard(),
        CASES["snapshot_pool"][1],
        updates=7,
        seed=3,
        out=tmp_path / "at6.npz",
        resume=tmp_path / "at6.npz",
        progress=False,
    )
    assert longer.updates == 7 and _without_wall(longer.metrics[:6]) == _without_wall(reference.metrics)


def test_ctrl_c__in_process_finishes_the_update_saves_and_resumes_exactly(references, tmp_path):
    reference, _ = references["one_seat"]

    def interrupt(u, row):
        if u == 1:
            os.kill(os.getpid(), signal.SIGINT)

    stopped = _run("one_seat", tmp_path, "stopped", updates=6, on_update=interrupt, checkpoint_every=0)
    assert stopped.interrupted and stopped.updates == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    assert load_checkpoint(tmp_path / "stopped.npz").header["training"]["updates"] == 2
    resumed = _run("one_seat", tmp_path, "stopped", updates=6, resume=tmp_path / "stopped.npz")
    _assert_same_run(resumed, reference)


# ------------------------------------------------------------------ refusals
def test_resume__refuses_other_env_rules_ppo_opponents_or_seed_naming_the_difference(references, tmp_path):
    _, solo = references["one_seat"]
    _, fixed = references["fixed_opponents"]
    with pytest.raises(ResumeMismatchError, match="max_steps=5, but the env has max_steps=7") as err:
        train(
            SoloDraw(max_steps=7),
            TINY,
            updates=9,
            seed=3,
            out=tmp_path / "a.npz",
            resume=solo,
            progress=False,
        )
    assert set(err.value.differences) >= {"max_steps"}
    with pytest.raises(ResumeMismatchError, match="env id 'toy_solo_draw'"):
        train(HighCard(), TINY, updates=9, seed=3, out=tmp_path / "a.npz", resume=solo, progress=False)
    with pytest.raises(ResumeMismatchError, match="learning_rate: 0.003 in the checkpoint, 0.01 now") as err:
        train(
            SoloDraw(),
            TINY.replace(learning_rate=0.01),
            updates=9,
            seed=3,
            out=tmp_path / "a.npz",
            resume=solo,
            progress=False,
        )
    assert list(err.value.differences) == ["learning_rate"]
    with pytest.raises(ResumeMismatchError, match="seed: 3 in the checkpoint, 4 now"):
        train(SoloDraw(), TINY, updates=9, seed=4, out=tmp_path / "a.npz", resume=solo, progress=False)
    with pytest.raises(
        ResumeMismatchError, match=r"opponents: \['random'\] in the checkpoint, \['self'\] now"
    ):
        train(HighCard(), TINY, updates=9, seed=3, out=tmp_path / "a.npz", resume=fixed, progress=False)
    with pytest.raises(ConfigError, match="already done 6 updates"):
        train(SoloDraw(), TINY, updates=6, seed=3, out=tmp_path / "a.npz", resume=solo, progress=False)


def test_resume__refuses_a_checkpoint_without_training_state_or_a_junk_file(references, tmp_path):
    ref, _ = references["one_seat"]
    plain = save_checkpoint(tmp_path / "plain.npz", ref.params, SoloDraw(), ref.spec)
    with pytest.raises(CheckpointError, match="no training state"):
        train(SoloDraw(), TINY, updates=9, seed=3, out=tmp_path / "plain.npz", resume=plain, progress=False)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x80\x04\x95 pickled")
    with pytest.raises(CheckpointError, match="not an htjax checkpoint: it is a Python pickle") as err:
        train(SoloDraw(), TINY, updates=9, seed=3, out=junk, resume=junk, progress=False)
    assert "allow_pickle" not in str(err.value)


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if training starts: output paths must be refused before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the output path was checked")

    monkeypatch.setattr(run_module, "make_train", refuse)


def test_output_paths__are_refused_before_training_starts(tmp_path, no_training):
    def go(out, **kwargs):
        train(SoloDraw(), TINY, updates=2, out=out, progress=False, **kwargs)

    with pytest.raises(OutputPathError, match="must end in .npz"):
        go(tmp_path / "model.pt")
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(OutputPathError, match="is a directory"):
        go(tmp_path / "folder.npz")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputPathError, match="is a file"):
        go(tmp_path / "afile" / "sub" / "c.npz")
    (tmp_path / "old.npz").write_bytes(b"old")
    with pytest.raises(OutputPathError, match="already exists.*--overwrite"):
        go(tmp_path / "old.npz")
    assert (tmp_path / "old.npz").read_bytes() == b"old"
    (tmp_path / "m.metrics.json").write_text("{}")
    with pytest.raises(OutputPathError, match="m.metrics.json' already exists"):
        go(tmp_path / "m.npz")
    with pytest.raises(OutputPathError, match="cannot write the checkpoint into"):
        go(pathlib.Path("/proc/self/htjax-test.npz"))
    with pytest.raises(ConfigError, match="checkpoint_every"):
        go(tmp_path / "new.npz", checkpoint_every=-1)
    with pytest.raises(ConfigError, match="updates"):
        train(SoloDraw(), TINY, updates=0, out=tmp_path / "new.npz", progress=False)


def test_output_paths__missing_folders_are_created_and_overwrite_replaces(tmp_path):
    out = tmp_path / "new" / "deeper" / "c.npz"
    result = train(SoloDraw(), TINY, updates=1, out=out, progress=False)
    assert result.checkpoint == out and out.is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary files left
    again = train(SoloDraw(), TINY, updates=2, out=out, overwrite=True, progress=False)
    assert load_checkpoint(out).header["training"]["updates"] == again.updates == 2


# ------------------------------------------------------------------ the CLI
def _cli_env():
    cache = os.environ.get("HTJAX_TEST_JAX_CACHE", str(ROOT / ".jax_cache"))
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "JAX_COMPILATION_CACHE_DIR": cache,
        "PYTHONPATH": str(ROOT),
    }


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "htjax.cli", *args],
        capture_output=True,
        text=True,
        env=_cli_env(),
        cwd=cwd,
        timeout=300,
    )


def test_cli_train__refuses_bad_outputs_and_junk_resumes_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from htjax.cli import app

    runner = CliRunner()
    (tmp_path / "c.npz").write_bytes(b"junk")
    res = runner.invoke(app, ["train", "prisoners_dilemma", "--out", str(tmp_path / "c.npz")])
    text = " ".join(res.output.split())
    assert (
        res.exit_code == 2 and "already exists" in text and "--overwrite" in text and "Traceback" not in text
    )
    res = runner.invoke(app, ["train", "prisoners_dilemma", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "must end in .npz" in " ".join(res.output.split())
    res = runner.invoke(app, ["train", "--resume", str(tmp_path / "c.npz")])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "not an htjax checkpoint" in text and "allow_pickle" not in text
    res = runner.invoke(app, ["train"])
    assert res.exit_code == 2 and "--resume" in res.output


PPO = {"num_envs": 4, "num_steps": 4, "num_minibatches": 2, "update_epochs": 1, "hidden": [8]}
TARGET = 300  # updates; the run is interrupted after its first checkpoint, long before the end


def test_cli_train__ctrl_c_saves_exits_130_and_resume_equals_the_uninterrupted_run(tmp_path):
    from htjax.train.commands import run_train

    out = tmp_path / "runs" / "ipd.npz"
    args = [
        "train",
        "prisoners_dilemma",
        "--ppo",
        json.dumps(PPO),
        "--steps",
        str(TARGET * 16),
        "--checkpoint-every",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "htjax.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli_env(),
        cwd=tmp_path,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen = []
    try:
        while not any(line.startswith("checkpoint") for line in seen):
            seen.append(lines.get(timeout=240))
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    while not lines.empty():
        seen.append(lines.get())
    text = " ".join("".join(seen).split())
    assert proc.returncode == 130, (text, proc.stderr.read())
    assert "interrupted after" in text and f"htjax train --resume {out}" in text
    done = load_checkpoint(out).header["training"]["updates"]
    assert 1 <= done < TARGET

    resumed = _cli("train", "--resume", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert load_checkpoint(out).header["training"]["updates"] == TARGET

    reference = tmp_path / "reference.npz"
    run_train(
        htjax.make("prisoners_dilemma"),
        env_steps=TARGET * 16,
        seed=None,
        out=str(reference),
        ppo=PPO,
        checkpoint_every=0,
        command="pytest",
    )
    _assert_same_files(out, reference)
    rows = json.loads(out.with_suffix(".metrics.json").read_text())["metrics"]
    reference_rows = json.loads(reference.with_suffix(".metrics.json").read_text())["metrics"]
    assert _without_wall(rows) == _without_wall(reference_rows)
