"""ONNX export, OnnxPolicy, parity with JAX, and the shipped policies in policies/."""

from __future__ import annotations

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from toy_envs import HighCard, MatchingPennies

import htjax
from htjax.train import networks as nets
from htjax.train.checkpoint import Checkpoint, EnvMismatchError, load_checkpoint, save_checkpoint
from htjax.train.onnx_export import OPSET, build_model, export_checkpoint
from htjax.train.onnx_policy import OnnxModelError, OnnxPolicy
from htjax.train.parity import compare, random_masks, recorded_parity

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "policies").glob("*.onnx"))


def _params(spec, seed):
    params = nets.init_params(spec, jax.random.PRNGKey(seed))
    # an untrained policy head is nearly uniform; scale it up so the comparison is not trivial
    params["actor"][-1]["w"] = params["actor"][-1]["w"] * 300.0
    return params


@pytest.fixture(scope="module", params=["tanh", "relu"])
def exported(request, tmp_path_factory):
    env = HighCard()
    spec = nets.NetworkSpec(obs_shape=env.observation_shape, num_actions=env.num_actions, hidden=(16, 8),
                            activation=request.param)
    params = _params(spec, 0)
    d = tmp_path_factory.mktemp(request.param)
    path = save_checkpoint(d / "hc.npz", params, env, spec, command="pytest", env_steps=123)
    ckpt = load_checkpoint(path, env)
    onnx_path = export_checkpoint(ckpt, d / "hc.onnx")
    return env, ckpt, onnx_path, OnnxPolicy.load(onnx_path, env)


def test_export__model_is_opset_17_with_dynamic_batch_and_metadata(exported):
    env, ckpt, path, policy = exported
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import if o.domain == ""] == [OPSET]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["htjax.env_id"] == "toy_high_card"
    assert json.loads(meta["htjax.action_labels"]) == ["draw", "stand"]
    assert meta["htjax.observation_layout_hash"] == ckpt.header["observation_layout_hash"]
    assert meta["htjax.training_command"] == "pytest" and meta["htjax.training_steps"] == "123"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["env"]["id"] == "toy_high_card" and len(card["sha256"]) == 64


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 300))
def test_parity__onnxruntime_matches_jax_on_random_inputs(exported, seed, batch):
    env, ckpt, path, policy = exported
    rng = np.random.default_rng(seed)
    obs = (rng.standard_normal((batch, 3)) * 3).astype(np.float32)
    report = compare(ckpt.params, ckpt.spec, policy, obs, random_masks(rng, batch, 2))
    assert report["max_abs_diff_probabilities"] <= 1e-5
    assert report["max_abs_diff_value"] <= 1e-5 * max(1.0, float(np.abs(policy.evaluate(obs, np.ones((batch, 2), bool))[1]).max()))
    assert report["masked_zero_onnx"] and report["masked_zero_jax"]


def test_masked_probabilities_are_exactly_zero_even_for_huge_logits():
    spec = nets.NetworkSpec(obs_shape=(4,), num_actions=6, hidden=(8,))
    params = _params(spec, 1)
    params["actor"][-1]["b"] = jnp.array([1e6, -1e6, 3e4, 0.0, 50.0, -50.0])
    model = build_model(params, spec)
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    mask = np.array([[False, True, True, False, True, False], [True, False, False, False, False, False]])
    obs = np.ones((2, 4), np.float32)
    probs, value = sess.run(None, {"observation": obs, "action_mask": mask})
    assert (probs[~mask] == 0.0).all()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)
    assert value.shape == (2,)


def test_onnx_policy__act_only_picks_legal_actions(exported):
    env, ckpt, path, policy = exported
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((500, 3)).astype(np.float32)
    mask = random_masks(rng, 500, 2)
    for greedy in (False, True):
        actions = policy.act(obs, mask, rng, greedy=greedy)
        assert mask[np.arange(500), actions].all()


def test_onnx_policy__runs_inside_htjax_rollout_via_pure_callback(exported):
    env, ckpt, path, policy = exported
    greedy = htjax.rollout(env, policy.jax_policy(greedy=True), jax.random.PRNGKey(0), 8, 12).trajectory
    jax_greedy = htjax.rollout(env, nets.network_policy(ckpt.spec, greedy=True), jax.random.PRNGKey(0), 8, 12,
                               ckpt.params).trajectory
    np.testing.assert_array_equal(np.asarray(greedy.action), np.asarray(jax_greedy.action))
    sampled_a = htjax.rollout(env, policy.jax_policy(), jax.random.PRNGKey(1), 8, 12).trajectory
    sampled_b = htjax.rollout(env, policy.jax_policy(), jax.random.PRNGKey(1), 8, 12).trajectory
    np.testing.assert_array_equal(np.asarray(sampled_a.action), np.asarray(sampled_b.action))
    assert np.asarray(sampled_a.legal_action_mask)[
        np.arange(12)[:, None], np.arange(8)[None], np.asarray(sampled_a.action)
    ].all()


def test_onnx_policy__refuses_another_env_naming_the_mismatch(exported):
    env, ckpt, path, policy = exported
    with pytest.raises(EnvMismatchError, match="env id"):
        OnnxPolicy.load(path, MatchingPennies())
    with pytest.raises(EnvMismatchError, match="observation layout hash"):
        OnnxPolicy.load(path, HighCard(max_draws=9))


def test_onnx_policy__corrupt_truncated_or_foreign_files_raise_onnx_model_error(exported, tmp_path):
    env, ckpt, path, policy = exported
    data = path.read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(OnnxModelError, match="not a valid ONNX model"):
        OnnxPolicy.load(truncated)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(OnnxModelError):
        OnnxPolicy.load(garbage)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    plain = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    foreign = tmp_path / "foreign.onnx"
    onnx.save(plain, str(foreign))
    with pytest.raises(OnnxModelError, match="not an htjax policy"):
        OnnxPolicy.load(foreign)
    with pytest.raises(OnnxModelError, match="no ONNX file"):
        OnnxPolicy.load(tmp_path / "missing.onnx")


def test_onnx_policy__to_params_reads_back_the_exported_weights(exported):
    env, ckpt, path, policy = exported
    params, spec = policy.to_params()
    assert spec == ckpt.spec
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(ckpt.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_export_and_train_commands_from_the_cli(tmp_path):
    from typer.testing import CliRunner

    from htjax.cli import app

    htjax.register("toy_high_card", HighCard)
    runner = CliRunner()
    ckpt = tmp_path / "hc.npz"
    res = runner.invoke(app, ["train", "toy_high_card", "--steps", "512", "--num-envs", "16", "--out", str(ckpt)])
    assert res.exit_code == 0, res.output
    assert ckpt.is_file() and (tmp_path / "hc.metrics.csv").is_file() and (tmp_path / "hc.metrics.json").is_file()
    res = runner.invoke(app, ["export", str(ckpt), "--out", str(tmp_path / "hc.onnx")])
    assert res.exit_code == 0, res.output
    assert "masked probabilities 0: True" in " ".join(res.output.split())
    (tmp_path / "bad.npz").write_bytes(b"junk")
    res = runner.invoke(app, ["export", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "x.onnx")])
    assert res.exit_code == 2 and "not a readable" in res.output


# ------------------------------------------------------------------ shipped policies
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policy__parity_on_10000_recorded_observations(path):
    policy = OnnxPolicy.load(path)
    env = policy.make_env()
    OnnxPolicy.load(path, env)  # metadata agrees with the env rebuilt from the registry
    params, spec = policy.to_params()
    worlds = 100
    steps = 100
    traj = htjax.rollout(env, nets.network_policy(spec), jax.random.PRNGKey(7), worlds, steps, params).trajectory
    report = recorded_parity(params, spec, policy, traj)
    assert report["samples"] >= 10_000
    assert report["max_abs_diff_probabilities"] <= 1e-5
    assert report["max_abs_diff_value"] <= 1e-4
    assert report["masked_zero_onnx"] and report["masked_zero_jax"]
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["training"]["command"] and card["evaluation"]["passed"] in (True, False)


def test_policies_folder_is_checked():
    # the parity test above is parametrised over this folder; fail loudly if it moved
    assert (ROOT / "policies").is_dir()
