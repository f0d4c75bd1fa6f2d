"""`htjax record` streams chosen worlds; `htjax fork`, `merge` and `whatif` over episode files."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)
from typer.testing import CliRunner

import htjax
import htjax.sync as sync
from htjax.cli import app
from htjax.core.keys import world_keys
from htjax.sync.commands import rollout_worlds, world_keys_at

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_world_keys_at__rows_of_split_whatever_the_batch_size():
    key = jax.random.PRNGKey(11)
    ids = np.array([0, 3, 17, 999])
    for n in (1000, 4096):
        np.testing.assert_array_equal(
            np.asarray(world_keys_at(key, ids)), np.asarray(world_keys(key, n))[ids]
        )


@pytest.mark.parametrize("env_id", ["toy_high_card", "toy_matching_pennies"])
def test_rollout_worlds__are_the_columns_of_the_whole_batch(env_id):
    env = htjax.make(env_id)
    key = jax.random.PRNGKey(5)
    full = htjax.rollout(env, htjax.random_policy, key, 40, 9, record_observations=False).trajectory
    ids = [37, 2, 11]
    part = rollout_worlds(env, htjax.random_policy, key, ids, 9)
    for name in (
        "action",
        "current_player",
        "rewards",
        "terminated",
        "truncated",
        "episode_key",
        "episode_index",
        "step_index",
    ):
        np.testing.assert_array_equal(
            np.asarray(getattr(part, name)), np.asarray(getattr(full, name))[:, ids], name
        )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("episodes")
    result = _run("record", "toy_high_card", "-n", "100000", "-t", "10", "-w", "3-5,99999", "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_record__streams_worlds_of_a_large_batch_and_refuses_to_overwrite(recorded):
    docs = [sync.load(p) for p in sorted(recorded.glob("*.automerge"))]
    assert {d.header.world for d in docs} == {3, 4, 5, 99999}
    # the same episodes as recording those worlds from the whole rollout
    env = htjax.make("toy_high_card")
    traj = htjax.rollout(
        env, htjax.random_policy, jax.random.PRNGKey(0), 6, 10, record_observations=False
    ).trajectory
    direct = sync.record(env, traj, [3, 4, 5], policy="random")
    by_key = {(d.header.world, d.header.episode_index): d for d in docs}
    for d in direct:
        mine = by_key[(d.header.world, d.header.episode_index)]
        assert mine.header.episode_key == d.header.episode_key
        assert [e.action for e in mine.entries()] == [e.action for e in d.entries()]
    again = _run("record", "toy_high_card", "-n", "100000", "-t", "10", "-w", "5", "-o", recorded)
    assert again.exit_code == 2 and "--force" in again.stderr
    forced = _run("record", "toy_high_card", "-n", "100000", "-t", "10", "-w", "5", "-o", recorded, "--force")
    assert forced.exit_code == 0, forced.output


def test_record__chunks_give_the_same_files_as_one_batch(tmp_path):
    from rich.console import Console

    from htjax.sync.commands import record_command

    env = htjax.make("toy_high_card")
    quiet = Console(file=open("/dev/null", "w"))
    a = record_command(
        quiet, env, num_envs=50, num_steps=8, worlds=[1, 7, 8, 30, 49], out_dir=tmp_path / "a", chunk=2
    )
    b = record_command(
        quiet, env, num_envs=50, num_steps=8, worlds=[1, 7, 8, 30, 49], out_dir=tmp_path / "b", chunk=64
    )
    assert [p.name for p in a] == [p.name for p in b]
    for x, y in zip(a, b):
        dx, dy = sync.load(x), sync.load(y)
        assert dx.header.episode_key == dy.header.episode_key
        assert [e.action for e in dx.entries()] == [e.action for e in dy.entries()]


def _longest(folder):
    return max(sorted(folder.glob("*.automerge")), key=lambda p: sync.load(p).outcome().length)


def test_fork__keeps_the_first_steps_and_refuses_an_existing_file(recorded, tmp_path):
    src = _longest(recorded)
    out = tmp_path / "fork.automerge"
    result = _run("fork", src, "--step", "1", "-o", out)
    assert result.exit_code == 0, result.output
    branch = sync.load(out)
    assert branch.fork_info()["at_step"] == 1 and sync.derive(branch).length == 1
    assert _run("fork", src, "--step", "1", "-o", out).exit_code == 2
    assert _run("fork", src, "--step", "0", "-o", out, "--force").exit_code == 0


def test_merge__two_copies_of_one_episode(recorded, tmp_path):
    src = _longest(recorded)
    doc = sync.load(src)
    a, b = tmp_path / "a.automerge", tmp_path / "b.automerge"
    sync.save(doc.copy(), a)
    sync.save(doc.copy(), b)
    out = tmp_path / "merged.automerge"
    result = _run("merge", a, b, "-o", out)
    assert result.exit_code == 0, result.output
    merged = sync.load(out)
    assert sync.replay(merged).length == sync.replay(doc).length
    assert [e.action for e in merged.entries()] == [e.action for e in doc.entries()]


def test_whatif__every_legal_action_with_standard_errors(recorded):
    src = _longest(recorded)
    result = _run("whatif", src, "--step", "0", "-n", "16", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    doc = sync.load(src)
    state0 = sync.derive(doc).batch.episode(0, 0)
    legal = np.flatnonzero(np.asarray(state0.legal_action_mask)[0]).tolist()
    assert [r["action"] for r in data["rows"]] == legal
    for r in data["rows"]:
        assert r["rollouts"] == 16 and len(r["mean_return"]) == 2
        assert all(se >= 0 for se in r["stderr_return"])
    table = _run("whatif", src, "--step", "0", "-n", "16", "--seed", "3")
    assert table.exit_code == 0 and "std. error" in table.stdout
