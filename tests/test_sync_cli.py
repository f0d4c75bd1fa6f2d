"""``htjax record`` / ``replay`` / ``inspect`` end to end (typer's CliRunner, a toy env)."""

from __future__ import annotations

import automerge.core as am
import pytest
from automerge.core import ScalarType as S
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)
from typer.testing import CliRunner

import htjax.sync as sync
from htjax.cli import app
from htjax.sync import schema

runner = CliRunner()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("episodes")
    result = runner.invoke(
        app,
        [
            "record",
            "toy_high_card",
            "--num-envs",
            "4",
            "--steps",
            "12",
            "--worlds",
            "1,3",
            "--out",
            str(out),
            "--config",
            '{"max_draws": 6}',
            "--checkpoint-every",
            "2",
        ],
        env={"COLUMNS": "200"},  # rich wraps tables at COLUMNS: assert on whole words only
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_cli_record__writes_one_verified_file_per_episode(recorded):
    out, output = recorded
    files = sorted(out.glob("*.automerge"))
    assert files and all(f.name.startswith(("toy_high_card-w1-", "toy_high_card-w3-")) for f in files)
    assert "replay-verified" in output
    docs = [sync.load(f) for f in files]
    assert {d.header.world for d in docs} == {1, 3}
    config = sync.load(files[0]).env().config.to_dict()
    assert config["max_draws"] == 6 and all(d.header.config == config for d in docs)


def test_cli_replay__prints_steps_verification_and_renders(recorded, tmp_path):
    out, _ = recorded
    path = sorted(out.glob("*.automerge"))[0]
    svg, html = tmp_path / "pictures", tmp_path / "r.html"
    result = runner.invoke(
        app, ["replay", str(path), "--svg", str(svg), "--html", str(html)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "verified" in result.output and "random/seat" in result.output
    length = sync.load(path).outcome().length
    pictures = sorted(svg.glob("*.svg"))  # one SVG per state: step-0000.svg ... (htjax.render)
    assert [p.name for p in pictures] == [f"step-{t:04d}.svg" for t in range(length + 1)]
    assert all(p.read_text().startswith("<svg") for p in pictures)
    assert "step 0: seat 0 (random/seat0) plays" in pictures[1].read_text()
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == length + 1


def test_cli_replay__a_tampered_file_fails_naming_the_step(recorded, tmp_path):
    out, _ = recorded
    path = max(out.glob("*.automerge"), key=lambda p: sync.load(p).outcome().length)
    raw = am.Document.load(path.read_bytes())
    with raw.transaction() as tx:
        cps = schema.list_id(tx, "checkpoints")
        tx.put(tx.get(cps, 0)[1], "digest", S.Str, "f" * 32)
    bad = tmp_path / "bad.automerge"
    bad.write_bytes(raw.save())
    result = runner.invoke(app, ["replay", str(bad)])
    assert result.exit_code == 1
    assert "step 0" in result.output


def test_cli_inspect__shows_schema_actors_and_history(recorded):
    out, _ = recorded
    path = sorted(out.glob("*.automerge"))[0]
    result = runner.invoke(app, ["inspect", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in (
        f"htjax.episode version {sync.SCHEMA_VERSION}",
        "toy_high_card v0",
        "random/seat0",
        "History",
        "header",
    ):
        assert text in result.output


def test_cli__bad_files_and_arguments_are_clear_errors(tmp_path):
    junk = tmp_path / "junk.automerge"
    junk.write_bytes(b"\x00junk")
    for command in ("replay", "inspect"):
        result = runner.invoke(app, [command, str(junk)])
        assert (
            result.exit_code == 2 and "Automerge binding failed" in result.output
        )  # a bad input file: user error
    result = runner.invoke(
        app, ["record", "toy_high_card", "--worlds", "9", "--num-envs", "2", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--worlds must be in [0, 2)" in result.output
    result = runner.invoke(app, ["record", "no_such_game", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown env id" in result.output
