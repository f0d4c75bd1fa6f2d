"""Errors of htjax.train name the cause; the ONNX inference module needs only onnxruntime and numpy."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from onnx_helpers import fresh_policy

import htjax
from htjax.core.env import HtjaxError
from htjax.train.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from htjax.train.errors import CheckpointError, EnvMismatchError, OnnxModelError
from htjax.train.onnx_policy import OnnxPolicy

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    d = tmp_path_factory.mktemp("policies")
    return {
        "flat_bet": fresh_policy(htjax.make("blackjack", betting=False), d, "flat_bet"),
        "heads_up": fresh_policy(htjax.make("holdem"), d, "heads_up"),
    }


# ------------------------------------------------------------------ mismatches name the rules
def test_onnx_policy__trained_without_betting_used_with_betting_names_the_betting_field(policies):
    with pytest.raises(EnvMismatchError) as err:
        OnnxPolicy.load(policies["flat_bet"], htjax.make("blackjack", betting=True))
    message = str(err.value)
    assert "rules config differs in ['betting']" in message
    assert "trained with betting=False, but the env has betting=True" in message
    assert "number of actions 7 differs from the env's 12" in message  # the consequence, after the cause
    assert err.value.differences["betting"] == (False, True)
    assert err.value.differences["num_actions"] == (7, 12)


def test_onnx_policy__heads_up_policy_at_a_six_seat_table_names_num_players(policies):
    with pytest.raises(EnvMismatchError) as err:
        OnnxPolicy.load(policies["heads_up"], htjax.make("holdem", num_players=6))
    message = str(err.value)
    assert "with num_players=2, but the env has num_players=6" in message
    assert "number of seats 2 differs from the env's 6" in message
    assert set(err.value.differences) >= {"num_players", "observation_shape"}


def test_onnx_policy__other_env_or_version_is_named_first(policies, monkeypatch):
    with pytest.raises(EnvMismatchError, match="made for env id 'holdem', but the env id is 'blackjack'"):
        OnnxPolicy.load(policies["heads_up"], htjax.make("blackjack"))
    env = htjax.make("holdem")
    monkeypatch.setattr(type(env), "version", "v999")
    with pytest.raises(
        EnvMismatchError, match="holdem version 'v.*', but this htjax has holdem version 'v999'"
    ):
        OnnxPolicy.load(policies["heads_up"], env)


def test_onnx_policy__a_checkpoint_given_as_a_policy_says_so(policies, tmp_path):
    env = htjax.make("blackjack", betting=False)
    ckpt = load_checkpoint(policies["flat_bet"].with_suffix(".npz"), env)
    with pytest.raises(OnnxModelError, match="zip/.npz archive .*htjax export"):
        OnnxPolicy.load(ckpt.path)
    (tmp_path / "d.onnx").mkdir()
    with pytest.raises(OnnxModelError, match="is a directory"):
        OnnxPolicy.load(tmp_path / "d.onnx")


# ------------------------------------------------------------------ junk checkpoints say what they are
def _junk_files(tmp_path: pathlib.Path, policies) -> dict[str, tuple[pathlib.Path, str]]:
    def put(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    real = policies["flat_bet"].with_suffix(".npz").read_bytes()
    np.save(tmp_path / "array.npy", np.zeros(3))
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    future = tmp_path / "future.npz"
    np.savez(
        future,
        **{"header.json": np.frombuffer(json.dumps({"format": "htjax-checkpoint-9"}).encode(), np.uint8)},
    )
    objects = tmp_path / "objects.npz"
    np.savez(objects, thing=np.array([{"a": 1}], dtype=object))
    return {
        "empty": (put("empty.npz", b""), "is not an htjax checkpoint: the file is empty"),
        "pickle": (
            put("model.pkl", b"\x80\x04\x95\x10\x00"),
            "is not an htjax checkpoint: it is a Python pickle",
        ),
        "npy": (put("array.npz", (tmp_path / "array.npy").read_bytes()), "single NumPy array"),
        "onnx": (policies["flat_bet"], "looks like an ONNX model"),
        "json": (put("config.npz", b'{"betting": false}'), "JSON or text file"),
        "binary": (put("noise.npz", bytes(range(200, 256)) * 3), "not a zip/.npz archive"),
        "other npz": (
            tmp_path / "other.npz",
            "without the htjax header .header.json.; it holds 1 entries .weights.",
        ),
        "future": (future, "format 'htjax-checkpoint-9', which this htjax cannot read"),
        "objects": (objects, "its entry 'thing' holds Python objects"),
        "truncated": (put("truncated.npz", real[: len(real) // 2]), "damaged zip/.npz archive"),
    }


def test_load_checkpoint__junk_files_say_what_they_are_and_never_suggest_allow_pickle(policies, tmp_path):
    for kind, (path, expected) in _junk_files(tmp_path, policies).items():
        with pytest.raises(CheckpointError, match=expected) as err:
            load_checkpoint(path)
        assert "allow_pickle" not in str(err.value), kind
        assert isinstance(err.value, HtjaxError)
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path)


def test_load_checkpoint__damaged_header_fields_are_named(tmp_path):
    env = htjax.make("prisoners_dilemma")
    header = {"format": FORMAT, "env": {"id": "prisoners_dilemma"}}
    path = tmp_path / "no_network.npz"
    np.savez(path, **{"header.json": np.frombuffer(json.dumps(header).encode(), np.uint8)})
    with pytest.raises(CheckpointError, match=r"lacks the field\(s\) \['network'\]"):
        load_checkpoint(path, env)
    assert zipfile.is_zipfile(path)


def test_save_checkpoint__refuses_a_wrong_suffix_with_an_htjax_error(tmp_path):
    from htjax.train import networks as nets
    from htjax.train.errors import OutputPathError

    env = htjax.make("prisoners_dilemma")
    spec = nets.NetworkSpec(obs_shape=env.observation_shape, num_actions=env.num_actions, hidden=(4,))
    with pytest.raises(OutputPathError, match="must end in .npz"):
        save_checkpoint(tmp_path / "c.pt", None, env, spec)


# ------------------------------------------------------------------ imports
_INFERENCE_ONLY = """
import json, sys
import htjax
env = htjax.make("holdem")  # the user's env: building it (and its lazily traced sizes) is not the policy's doing
htjax.describe(env)
base = set(sys.modules)
import numpy, onnxruntime
runtime = set(sys.modules) - base
import htjax.train.onnx_policy as m
after_import = sorted(set(sys.modules) - base - runtime)
policy = m.OnnxPolicy.load(sys.argv[1], env)
obs = numpy.zeros((3,) + policy.observation_shape, numpy.float32)
probs, value = policy.evaluate(obs, numpy.ones((3, policy.num_actions), bool))
after_use = sorted(set(sys.modules) - base - runtime)
print(json.dumps({"after_import": after_import, "after_use": after_use, "shape": list(probs.shape),
                  "stdlib": sorted(sys.stdlib_module_names)}))
"""

LIGHT = {"htjax.train.onnx_policy", "htjax.train.envmatch", "htjax.train.errors", "htjax.train.onnx_format"}


def test_onnx_policy__inference_imports_only_onnxruntime_numpy_and_light_htjax_modules(policies):
    res = subprocess.run(
        [sys.executable, "-c", _INFERENCE_ONLY, str(policies["heads_up"])],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["shape"] == [3, 9]
    stdlib = set(out["stdlib"])
    for stage in ("after_import", "after_use"):
        heavy = [
            name
            for name in out[stage]
            if name not in LIGHT and name.split(".")[0] not in stdlib and name != "htjax.train"
        ]
        assert heavy == [], (stage, heavy)
        assert "onnx" not in out[stage] and "htjax.train.checkpoint" not in out[stage]


def test_onnx_export__reads_the_version_without_importing_the_package_cycle():
    source = (ROOT / "htjax" / "train" / "onnx_export.py").read_text()
    tree = ast.parse(source)
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert "htjax" not in imported and "htjax._version" in imported
    from htjax import __version__
    from htjax._version import __version__ as version

    assert __version__ == version


# ------------------------------------------------------------------ no bare built-in errors
_BUILTIN = {
    "ValueError",
    "TypeError",
    "RuntimeError",
    "KeyError",
    "FileNotFoundError",
    "OSError",
    "Exception",
}
_ALLOWED = {
    ("envmatch.py", "json_default"),
    ("run.py", "_plain"),
}  # json.dumps' default= protocol wants TypeError
_GAME_HELPERS = {"basic_strategy.py", "holdem_opponents.py", "ipd_opponents.py"}  # moving to htjax/agents


def test_train_modules__raise_htjax_errors_only():
    found = []
    for path in sorted((ROOT / "htjax" / "train").glob("*.py")):
        if path.name in _GAME_HELPERS:
            continue
        tree = ast.parse(path.read_text())
        for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(func):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                    name = getattr(node.exc.func, "id", None)
                    if name in _BUILTIN and (path.name, func.name) not in _ALLOWED:
                        found.append(f"{path.name}:{node.lineno} {func.name} raises {name}")
    assert found == []
