"""The `htjax` command line: envs, play (scripted via stdin), bench --json, demo, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import htjax
from htjax.cli import app
from htjax.play import parse_action

runner = CliRunner()

BENCH_KEYS = {"env", "num_envs", "steps_per_second", "compile_seconds", "peak_memory_bytes", "device"}


def _run(*args: str, input: str | None = None, columns: int = 160):
    return runner.invoke(app, list(args), input=input, env={"COLUMNS": str(columns)})


def test_envs__table_lists_every_registered_env_with_presets():
    result = _run("envs")
    assert result.exit_code == 0, result.output
    for env_id in htjax.available_envs():
        assert env_id in result.stdout
    assert "casino, gymnasium" in result.stdout
    narrow = _run("envs", columns=80)  # ids never wrap in a narrow terminal
    assert narrow.exit_code == 0 and all(env_id in narrow.stdout for env_id in htjax.available_envs())


def test_play__scripted_gymnasium_rules_round_until_end_of_input():
    # Blackjack-v1 rules: "stick" ends the round at once, so three sticks are three rounds.
    result = _run(
        "play", "blackjack", "--rules", "gymnasium", "--seed", "0", input="stick\n1\nSTICK\nstick\n"
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Dealer:" in out and "hand 1:" in out
    assert out.count("over:") >= 2
    assert "games finished" in out


def test_play__casino_rules_bets_refuses_illegal_and_unknown_actions_and_quits():
    # After the bet the round may offer insurance, be played, or be settled at once; the script
    # covers every branch (words that are not legal now are refused and the next one is read).
    script = "hit\nxyzzy\nbet_1\n?\nno_insurance\nstand\nstand\nq\n"
    result = _run("play", "blackjack", "--seed", "0", input=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "hit is not legal now" in out
    assert "unknown action 'xyzzy'" in out
    assert "you play bet_1" in out and "bet 1" in out
    assert "game 1 over" in out
    assert "1 game finished" in out


def test_play__same_seed_same_deal():
    a = _run("play", "blackjack", "--rules", "gymnasium", "--seed", "5", "--games", "1", input="stick\n")
    b = _run("play", "blackjack", "--rules", "gymnasium", "--seed", "5", "--games", "1", input="stick\n")
    assert a.exit_code == 0 and a.stdout == b.stdout


def test_parse_action__numbers_labels_prefixes_and_errors():
    labels = ("stand", "hit", "double", "split", "surrender")
    legal = np.array([True, True, False, True, True])
    assert parse_action("1", labels, legal) == 1
    assert parse_action("HIT", labels, legal) == 1
    assert parse_action("st", labels, legal) == 0  # "stand" is the only legal "st..."
    assert parse_action("sp", labels, legal) == 3
    with pytest.raises(ValueError, match="ambiguous"):
        parse_action("s", labels, legal)
    with pytest.raises(ValueError, match="not legal"):
        parse_action("double", labels, legal)
    with pytest.raises(ValueError, match="no action number 9"):
        parse_action("9", labels, legal)
    with pytest.raises(ValueError, match="unknown action"):
        parse_action("fold", labels, legal)


def test_bench__json_prints_exactly_one_object_and_the_table_mode_agrees():
    args = ("bench", "blackjack", "--rules", "gymnasium", "--config", '{"sab": true}', "-n", "8", "-t", "20")
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert BENCH_KEYS <= set(record)
    assert record["env"] == "blackjack" and record["num_envs"] == 8 and record["num_steps"] == 20
    assert record["rules"] == 'gymnasium + {"sab": true}'
    assert record["steps_per_second"] > 0 and record["compile_seconds"] > 0
    assert record["peak_memory_bytes"] > 0 and record["peak_memory_source"]
    table = _run(*args)  # same env and sizes: compiled already
    assert table.exit_code == 0, table.output
    assert "env steps/s" in table.stdout and "peak memory" in table.stdout and '"sab": true' in table.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("bench", "no_such_game", "--json"), "available envs"),
        (("bench", "blackjack", "--rules", "vegas"), "unknown preset 'vegas'"),
        (("bench", "blackjack", "--config", "{not json"), "--config"),
        (("bench", "blackjack", "--config", '{"num_decks": 0}'), "num_decks"),
        (("bench", "blackjack", "--autoreset", "maybe", "-n", "2", "-t", "2"), "autoreset"),
        (("play", "no_such_game"), "available envs"),
    ],
)
def test_errors__clear_message_and_exit_code_2(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_demo__small_run_prints_summary(monkeypatch):
    import htjax.demo

    # Only the batched-worlds stage: later stages (recording, training) are tested by their owners.
    monkeypatch.setattr(htjax.demo, "STAGES", [htjax.demo.stage_batched_blackjack])
    result = _run("demo", "--num-envs", "16", "--steps", "60")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "random" in out and "fixed strategy" in out
    assert "mean return" in out and "Compile" in out
    assert out.rstrip().splitlines()[-1].startswith("Play in your browser: run htjax serve")


def test_demo__rows_report_what_ran_and_the_strategy_beats_random():
    import io

    from rich.console import Console

    from htjax.demo import run_demo, stage_batched_blackjack

    ctx = run_demo(Console(file=io.StringIO()), num_envs=16, steps=60, stages=[stage_batched_blackjack])
    random_row, fixed_row = ctx.rows
    assert [random_row["policy"], fixed_row["policy"]] == ["random", "fixed strategy"]
    for row in ctx.rows:
        assert row["env steps"] == 16 * 60 and row["episodes"] > 100 and row["env steps/s"] > 0
    # Random bets average 8.6 units and play badly; the fixed strategy bets 1 unit.
    assert random_row["mean return"] < -1.0 < fixed_row["mean return"]


# ------------------------------------------------------------------ ONNX policies in play and tournament
@pytest.fixture(scope="module")
def small_policies(tmp_path_factory):
    from onnx_helpers import fresh_policy

    d = tmp_path_factory.mktemp("policies")
    return {
        "ipd": fresh_policy(htjax.make("prisoners_dilemma", rounds=3), d, "ipd3"),
        "holdem": fresh_policy(htjax.make("holdem"), d, "hu"),
    }


def test_tournament__policy_joins_the_round_robin(small_policies):
    path = str(small_policies["ipd"])
    result = _run(
        "tournament", "--policy", path, "--turns", "3", "--players", "TitForTat,Defector", "-r", "2", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["names"] == ["TitForTat", "Defector", "ipd3.onnx"] and len(data["ranking"]) == 3
    table = _run("tournament", "--policy", path, "--turns", "3", "-r", "2")
    assert table.exit_code == 0 and "ipd3.onnx" in table.stdout and "Gradual" in table.stdout


def test_tournament__policy_errors_are_clear(small_policies):
    wrong_length = _run("tournament", "--policy", str(small_policies["ipd"]), "-r", "2")
    assert wrong_length.exit_code == 2 and "trained for 3-round matches" in " ".join(
        wrong_length.stderr.split()
    )
    wrong_env = _run("tournament", "--policy", str(small_policies["holdem"]), "-r", "2")
    assert wrong_env.exit_code == 2 and "only prisoners_dilemma policies" in " ".join(
        wrong_env.stderr.split()
    )
    missing = _run("tournament", "--policy", "nowhere.onnx")
    assert missing.exit_code == 2 and "--policy: no ONNX file at 'nowhere.onnx'" in missing.stderr


def test_play__prisoners_dilemma_against_an_onnx_policy(small_policies):
    args = (
        "play",
        "prisoners_dilemma",
        "--config",
        '{"rounds": 3}',
        "--opponent",
        str(small_policies["ipd"]),
        "--games",
        "2",
    )
    result = _run(*args, "--greedy", input="c\nd\nhelp\n1\n0\n0\n0\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("ipd3.onnx (seat 1) plays") == 6 and out.count("you play") == 6
    assert "you play cooperate; ipd3.onnx (seat 1) plays" in out and "2 games finished" in out
    again = _run(*args, "--greedy", input="c\nd\nhelp\n1\n0\n0\n0\n")
    assert again.stdout == out  # greedy and seeded: the same session


def test_play__holdem_person_in_seat_1_against_an_onnx_policy(small_policies):
    # check/call whenever it is our turn: hands end by showdown or the policy folding
    result = _run(
        "play",
        "holdem",
        "--opponent",
        str(small_policies["holdem"]),
        "--seat",
        "1",
        "--games",
        "2",
        "--seed",
        "3",
        input="check/call\n" * 40,
    )
    assert result.exit_code == 0, result.output
    assert "hu.onnx (seat 0) plays" in result.stdout and "2 games finished" in result.stdout


def test_play__refuses_a_policy_made_for_another_env_or_rules(small_policies):
    other_env = _run("play", "holdem", "--opponent", str(small_policies["ipd"]))
    assert other_env.exit_code == 2 and "env id 'prisoners_dilemma'" in " ".join(other_env.stderr.split())
    other_rules = _run("play", "prisoners_dilemma", "--opponent", str(small_policies["ipd"]))
    assert other_rules.exit_code == 2 and "rules config differs in ['rounds']" in " ".join(
        other_rules.stderr.split()
    )
    assert other_rules.stdout == ""


# ------------------------------------------------------------------ smaller items: parsing, version, entry points
def test_parse_action__h_is_hit_and_label_alternatives_answer():
    from htjax.play import HELP_WORDS

    blackjack = ("stand", "hit", "double")
    assert parse_action("h", blackjack, np.array([True, True, True])) == 1
    assert "h" not in HELP_WORDS and {"?", "help"} <= set(HELP_WORDS)
    holdem = ("fold", "check/call", "raise_min", "all_in")
    legal = np.array([True, True, True, True])
    for word in ("call", "CHECK", "check/call", "cal", "1"):
        assert parse_action(word, holdem, legal) == 1
    assert parse_action("f", holdem, legal) == 0
    with pytest.raises(ValueError, match="ambiguous"):
        parse_action("c", ("check/call", "cancel"), np.array([True, True]))


def test_play__h_hits_and_help_lists_the_actions():
    # Blackjack-v1 rules: no betting; `h` hits, `help` and `?` list the actions, `q` quits.
    result = _run("play", "blackjack", "--rules", "gymnasium", "--seed", "1", input="help\n?\nh\nq\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("type a number or a label") == 2
    assert "you play hit" in result.stdout


def test_version_option():
    result = _run("--version")
    assert result.exit_code == 0 and result.stdout.startswith(f"htjax {htjax.__version__} (jax ")


def test_python_dash_m_htjax_runs_the_cli():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "htjax", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.startswith(f"htjax {htjax.__version__}")


def test_compile_cache__on_in_the_user_cache_folder_unless_switched_off(tmp_path):
    """In fresh processes (the cache folder is fixed once per process): on by default, off by option or env var."""
    import os
    import subprocess
    import sys

    code = (
        "import jax, sys; from htjax.cli import app; from typer.testing import CliRunner;"
        "r = CliRunner().invoke(app, sys.argv[1:]); print(r.exit_code, jax.config.jax_compilation_cache_dir)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JAX_COMPILATION_CACHE_DIR", "HTJAX_NO_COMPILE_CACHE")
    }
    env["XDG_CACHE_HOME"] = str(tmp_path)

    def folder(*args, **extra):
        out = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, **extra},
        )
        code_, cache = out.stdout.split()[-2:]
        assert code_ == "0", out.stderr
        return cache

    assert folder("envs") == str(tmp_path / "htjax" / "jax")
    assert folder("--no-compile-cache", "envs") == "None"
    assert folder("envs", HTJAX_NO_COMPILE_CACHE="1") == "None"


# ------------------------------------------------------------------ docs/cli.md is true
def _doc_command_lines():
    import pathlib
    import re
    import shlex

    page = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    for block in re.findall(r"^```bash\n(.*?)^```", page, re.S | re.M):
        for line in block.splitlines():
            for part in line.split(" | "):
                words = shlex.split(part, comments=True)
                if words[:3] == ["python", "-m", "htjax"]:
                    words = ["htjax", *words[3:]]
                if words and words[0] == "htjax":
                    yield words[1:]


def test_docs__every_command_has_a_section_and_every_example_parses():
    import typer

    group = typer.main.get_command(app)
    page_commands = {words[0] for words in _doc_command_lines() if words and not words[0].startswith("-")}
    assert page_commands == set(group.commands), "docs/cli.md examples must cover every command"
    examples = list(_doc_command_lines())
    assert len(examples) > 30
    for words in examples:
        if words == ["--version"]:  # eager: prints and exits (tested above)
            continue
        ctx = group.make_context("htjax", list(words), resilient_parsing=False)
        protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
        args = [*protected, *ctx.args]  # the command and its own arguments
        if args:  # parse the command's options and values (nothing runs)
            group.get_command(ctx, args[0]).make_context(args[0], args[1:], parent=ctx)
