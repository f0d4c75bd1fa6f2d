"""Every `htjax` command with hostile arguments: one `error:` line, the documented exit status, no traceback.

User errors exit 2 (docs/cli.md); they are caught before any work runs (nothing is compiled,
so this module is fast). Most cases run in-process with typer's CliRunner; a few run the real
``python -m htjax`` in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)
from typer.testing import CliRunner

from htjax.cli import app

runner = CliRunner()
HUGE_SEED = "18446744073709551616"  # 2**64
BILLION = str(10**9)

COMMANDS = (
    "envs",
    "mcp",
    "play",
    "bench",
    "train",
    "export",
    "demo",
    "tournament",
    "record",
    "replay",
    "inspect",
    "fork",
    "merge",
    "whatif",
    "relay",
    "serve",
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    text = d / "notes.txt"
    text.write_text("not what you think\n")
    for name in ("junk.automerge", "junk.onnx", "junk.npz", "junk.json"):
        (d / name).write_text("plain text, not the file type its name says\n")
    existing = d / "exists.automerge"
    existing.write_bytes(b"already here")
    (d / "folder").mkdir()
    result = runner.invoke(app, ["record", "toy_high_card", "-n", "2", "-t", "4", "-o", str(d / "episodes")])
    assert result.exit_code == 0, result.output
    episode = sorted((d / "episodes").glob("*.automerge"))[0]
    return {
        "dir": d,
        "text": text,
        "existing": existing,
        "folder": d / "folder",
        "episode": episode,
        "junk_automerge": d / "junk.automerge",
        "junk_onnx": d / "junk.onnx",
        "junk_npz": d / "junk.npz",
        "junk_json": d / "junk.json",
        "missing": d / "missing" / "x.automerge",
        "unwritable": "/proc/htjax-out",
    }


def _cases(f):
    ep, d = str(f["episode"]), f["dir"]
    seeds = [
        (cmd, "--seed", s)
        for s in ("-5", HUGE_SEED)
        for cmd in (
            ["play", "blackjack"],
            ["bench", "blackjack"],
            ["record", "blackjack"],
            ["demo"],
            ["tournament"],
            ["train", "blackjack"],
            ["whatif", ep, "--step", "0"],
        )
    ]
    cases = [(*cmd, opt, s) for cmd, opt, s in seeds]
    cases += [
        # sizes
        ("bench", "blackjack", "-n", "0"),
        ("bench", "blackjack", "-n", "-1"),
        ("bench", "blackjack", "-t", "0"),
        ("bench", "blackjack", "--world-tile", "0"),
        ("bench", "blackjack", "-n", "8", "--world-tile", "3"),
        ("record", "blackjack", "-n", "0"),
        ("record", "blackjack", "-t", "-3"),
        ("demo", "-n", "0"),
        ("tournament", "--turns", "0"),
        ("tournament", "-r", "-1"),
        ("tournament", "--noise", "2"),
        ("train", "blackjack", "--steps", "0"),
        ("train", "blackjack", "--num-envs", "0"),
        ("play", "blackjack", "--games", "0"),
        ("play", "blackjack", "--seat", "5"),
        ("play", "blackjack", "--seat", "-1"),
        ("whatif", ep, "--step", "0", "--rollouts", "0"),
        ("whatif", ep, "--step", "999"),
        ("fork", ep, "--step", "999", "-o", str(d / "f.automerge")),
        ("bench", "blackjack", "-n", "1" + "0" * 30),
        # worlds
        ("record", "blackjack", "-w", "1,1"),
        ("record", "blackjack", "-w", "0-3,2"),
        ("record", "blackjack", "-w", "x"),
        ("record", "blackjack", "-n", "2", "-w", "5"),
        ("record", "blackjack", "-w", "-4"),
        # paths
        ("record", "blackjack", "-o", str(f["existing"])),
        ("record", "blackjack", "-o", f["unwritable"]),
        ("record", "blackjack", "-o", str(f["text"] / "sub")),
        ("replay", str(f["missing"])),
        ("replay", str(f["folder"])),
        ("replay", str(f["junk_automerge"])),
        ("replay", ep, "--svg", str(f["text"])),
        ("replay", ep, "--svg", f["unwritable"] + "/pics"),
        ("replay", ep, "--svg", str(f["text"] / "pics")),
        ("replay", ep, "--html", str(d / "nowhere" / "r.html")),
        ("replay", ep, "--html", str(f["folder"])),
        ("replay", ep, "--seat", "-1"),
        ("mcp", "--episodes", str(f["text"])),
        ("mcp", "--episodes", f["unwritable"] + "/episodes"),
        ("replay", ep, "--html", f["unwritable"] + "/r.html"),
        ("inspect", str(f["missing"])),
        ("inspect", str(f["folder"])),
        ("inspect", str(f["text"])),
        ("play", "holdem", "--opponent", str(f["junk_onnx"])),
        ("play", "holdem", "--opponent", str(f["missing"])),
        ("tournament", "--policy", str(f["folder"])),
        ("tournament", "--policy", str(f["junk_onnx"]), "-r", "1"),
        ("export", str(f["junk_npz"]), "--out", str(d / "x.onnx")),
        ("export", str(f["missing"]), "--out", str(d / "x.onnx")),
        ("export", str(f["junk_npz"]), "--out", str(d / "nowhere" / "x.onnx")),
        ("export", str(f["junk_npz"]), "--out", str(f["folder"])),
        ("train", "blackjack", "--out", f["unwritable"] + "/p.npz"),
        ("train", "blackjack", "--out", str(f["folder"])),
        ("train", "blackjack", "--out", str(f["text"] / "p.npz")),
        ("fork", ep, "--step", "1", "-o", str(f["existing"])),
        ("fork", ep, "--step", "1", "-o", str(f["folder"])),
        ("fork", str(f["junk_automerge"]), "--step", "1", "-o", str(d / "f2.automerge")),
        ("merge", ep, "-o", str(d / "m.automerge")),
        ("merge", ep, str(f["missing"]), "-o", str(d / "m.automerge")),
        ("merge", ep, ep, "-o", str(f["existing"])),
        ("merge", ep, str(f["junk_automerge"]), "-o", str(d / "m.automerge")),
        ("whatif", str(f["missing"]), "--step", "0"),
        ("whatif", str(f["text"]), "--step", "0"),
        # env ids, presets, configs
        ("bench", "no_such_game"),
        ("play", "no_such_game"),
        ("record", "no_such_game"),
        ("train", "no_such_game"),
        ("play", "blackjack", "--rules", "vegas"),
        ("record", "blackjack", "--rules", "vegas"),
        ("bench", "blackjack", "--config", "{junk"),
        ("bench", "blackjack", "--config", "[1, 2]"),
        ("play", "blackjack", "--config", str(f["missing"])),
        ("bench", "blackjack", "--config", str(f["folder"])),
        ("bench", "blackjack", "--config", str(f["junk_json"])),
        ("record", "blackjack", "--config", '{"num_decks": 0}'),
        ("bench", "blackjack", "--config", '{"no_such_field": 1}'),
        ("tournament", "--players", "Nobody"),
        ("tournament", "--players", ","),
        ("bench", "blackjack", "--autoreset", "maybe"),
        ("record", "blackjack", "--policy", "clever"),
        ("export", str(f["junk_npz"]), "--out", "x.onnx", "--backend", "x"),
        ("relay",),  # --storage is required
        ("relay", "--storage", str(f["text"])),  # a file, not a folder
        ("relay", "--storage", str(f["dir"])),  # junk.automerge: not a document id, not a document
        ("relay", "--storage", str(f["folder"]), "--port", "70000"),
        ("relay", "--storage", str(f["folder"]), "--rate", "0"),
        ("serve", "--port", "70000"),
        ("serve", "--host", "nosuchhost.invalid", "--port", "0"),
        ("serve", "--port", "0", "--episodes", str(f["text"])),  # a file, not a folder
        ("serve", "--port", "0", "--episodes", f["unwritable"] + "/games"),
        # the command line itself
        ("no_such_command",),
        ("bench",),
        ("bench", "blackjack", "--no-such-option"),
        ("fork", ep),
    ]
    return cases


def _assert_one_error_line(result, args, code=2):
    out = result.output + result.stderr
    assert "Traceback" not in out, (args, out)
    assert result.exit_code == code, (args, result.exit_code, out, result.exception)
    assert isinstance(result.exception, SystemExit), (args, repr(result.exception))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
    assert len(lines[0]) > len("error: ") + 10, (args, lines)


def test_every_command_is_covered(files):
    import typer

    assert set(typer.main.get_command(app).commands) == set(COMMANDS)
    covered = {case[0] for case in _cases(files)}
    assert set(COMMANDS) - {"envs"} <= covered  # `envs` takes no arguments: only an unknown option
    _assert_one_error_line(runner.invoke(app, ["envs", "--bogus"]), ["envs", "--bogus"])


def test_hostile_arguments__one_error_line_and_exit_2(files):
    failures = []
    for args in _cases(files):
        t0 = time.perf_counter()
        result = runner.invoke(app, list(args))
        try:
            _assert_one_error_line(result, args)
            assert time.perf_counter() - t0 < 20, (args, "user errors are caught before the work")
        except AssertionError as err:
            failures.append(str(err))
    assert not failures, "\n".join(failures)


def test_outputs_are_checked_before_the_rollout_runs(files, monkeypatch):
    import htjax.sync.commands as commands

    def never(*a, **k):  # the rollout must not start
        raise AssertionError("the rollout ran before the output folder was checked")

    monkeypatch.setattr(commands, "rollout_worlds", never)
    for out in (str(files["existing"]), files["unwritable"]):
        result = runner.invoke(app, ["record", "toy_high_card", "-o", out])
        _assert_one_error_line(result, out)


@pytest.mark.parametrize(
    "args, what",
    [
        (("bench", "blackjack", "-n", BILLION), "worlds"),
        (("demo", "-n", BILLION, "--no-train"), "worlds"),
        (("tournament", "-r", BILLION), "repetitions"),
        (("record", "blackjack", "-n", BILLION, "-w", f"0-{10**9 - 1}"), "worlds fit"),
        (("record", "blackjack", "-n", BILLION, "-t", str(10**12)), "steps"),
    ],
)
def test_memory_refusals_at_a_billion_are_immediate(args, what):
    runner.invoke(app, ["bench", "blackjack", "-n", BILLION])  # warm: imports, env construction, eval_shape
    t0 = time.perf_counter()
    result = runner.invoke(app, list(args))
    elapsed = time.perf_counter() - t0
    _assert_one_error_line(result, args)
    assert "free" in result.stderr and what in result.stderr
    assert elapsed < 1.0, (args, elapsed)


def test_replay_mismatch_is_exit_1_and_one_line(files, tmp_path):
    import automerge.core as am
    from automerge.core import ScalarType as S

    from htjax.sync import schema

    raw = am.Document.load(files["episode"].read_bytes())
    with raw.transaction() as tx:
        tx.put(tx.get(schema.list_id(tx, "checkpoints"), 0)[1], "digest", S.Str, "f" * 32)
    bad = tmp_path / "tampered.automerge"
    bad.write_bytes(raw.save())
    result = runner.invoke(app, ["replay", str(bad)])
    _assert_one_error_line(result, "tampered", code=1)


def test_internal_errors_are_one_line_too(monkeypatch):
    import htjax.cli

    def broken(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(htjax.cli, "load_env", broken)
    result = runner.invoke(app, ["bench", "blackjack"])
    _assert_one_error_line(result, "bug", code=1)
    assert "internal error (ZeroDivisionError: a bug)" in result.stderr and "HTJAX_DEBUG=1" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("bench", "blackjack", "--seed", "-5"),
        ("record", "blackjack", "-o", "/proc/htjax-out"),
        ("play", "blackjack", "--config", "missing.json"),
    ],
)
def test_subprocess__no_traceback_and_exit_2(args, tmp_path):
    env = {**os.environ, "COLUMNS": "60", "HTJAX_NO_COMPILE_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "htjax", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    if "missing.json" in args:
        assert "no such file 'missing.json'" in lines[0]
