"""ONNX export, OnnxPolicy, parity with JAX, and the shipped policies (htjax.policies, package data)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import pathlib
import re
import sys

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
import htjax.policies
from htjax.train import networks as nets
from htjax.train.checkpoint import EnvMismatchError, load_checkpoint, save_checkpoint
from htjax.train.onnx_export import (
    ONNX_FORMAT,
    OPSET,
    ExporterUnavailableError,
    build_model,
    env_metadata,
    export_checkpoint,
    jax2onnx_model,
)
from htjax.train.onnx_policy import OnnxModelError, OnnxPolicy
from htjax.train.parity import compare, random_masks, recorded_parity

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = [htjax.policies.path(name) for name in htjax.policies.names()]


def _params(spec, seed):
    params = nets.init_params(spec, jax.random.PRNGKey(seed))
    # an untrained policy head is nearly uniform; scale it up so the comparison is not trivial
    params["actor"][-1]["w"] = params["actor"][-1]["w"] * 300.0
    return params


@pytest.fixture(scope="module", params=["tanh", "relu"])
def exported(request, tmp_path_factory):
    env = HighCard()
    spec = nets.NetworkSpec(
        obs_shape=env.observation_shape, num_actions=env.num_actions, hidden=(16, 8), activation=request.param
    )
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
    assert report["max_abs_diff_value"] <= 1e-5 * max(
        1.0, float(np.abs(policy.evaluate(obs, np.ones((batch, 2), bool))[1]).max())
    )
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
    jax_greedy = htjax.rollout(
        env, nets.network_policy(ckpt.spec, greedy=True), jax.random.PRNGKey(0), 8, 12, ckpt.params
    ).trajectory
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
    with pytest.raises(EnvMismatchError, match="max_draws=4, but the env has max_draws=9") as err:
        OnnxPolicy.load(path, HighCard(max_draws=9))
    assert err.value.differences["max_draws"] == (4, 9)


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
    plain = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
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
    res = runner.invoke(
        app, ["train", "toy_high_card", "--steps", "512", "--num-envs", "16", "--out", str(ckpt)]
    )
    assert res.exit_code == 0, res.output
    assert (
        ckpt.is_file()
        and (tmp_path / "hc.metrics.csv").is_file()
        and (tmp_path / "hc.metrics.json").is_file()
    )
    res = runner.invoke(app, ["export", str(ckpt), "--out", str(tmp_path / "hc.onnx")])
    assert res.exit_code == 0, res.output
    assert "masked probabilities 0: True" in " ".join(res.output.split())
    (tmp_path / "bad.npz").write_bytes(b"junk")
    res = runner.invoke(app, ["export", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "x.onnx")])
    assert res.exit_code == 2 and "not an htjax checkpoint" in " ".join(res.output.split())


# ------------------------------------------------------------------ jax2onnx backend
HAS_JAX2ONNX = importlib.util.find_spec("jax2onnx") is not None
needs_jax2onnx = pytest.mark.skipif(
    not HAS_JAX2ONNX, reason='jax2onnx is not installed (it is in the test extra: pip install -e ".[test]")'
)


@pytest.fixture(scope="module")
def blackjack_jax2onnx(tmp_path_factory):
    if not HAS_JAX2ONNX:
        pytest.skip('jax2onnx is not installed (it is in the test extra: pip install -e ".[test]")')
    env = htjax.make("blackjack")
    spec = nets.NetworkSpec(
        obs_shape=env.observation_shape, num_actions=env.num_actions, hidden=(32, 16), activation="relu"
    )
    d = tmp_path_factory.mktemp("jax2onnx")
    path = save_checkpoint(d / "bj.npz", _params(spec, 3), env, spec, command="pytest", env_steps=77)
    ckpt = load_checkpoint(path, env)
    converted = export_checkpoint(ckpt, d / "bj.onnx", backend="jax2onnx")
    return env, ckpt, converted, export_checkpoint(ckpt, d / "bj_builder.onnx")


@needs_jax2onnx
def test_jax2onnx_export__same_interface_opset_metadata_and_card_as_the_builder(blackjack_jax2onnx):
    _, _, path, builder_path = blackjack_jax2onnx
    model, reference = onnx.load(str(path)), onnx.load(str(builder_path))
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import if o.domain == ""] == [OPSET]
    assert model.ir_version == reference.ir_version == 8
    assert model.producer_name == "jax2onnx"
    for ours, theirs in zip(
        [*model.graph.input, *model.graph.output], [*reference.graph.input, *reference.graph.output]
    ):
        assert (
            ours.name == theirs.name and ours.type == theirs.type
        )  # names, dtypes, dims, the "batch" dim_param
    meta = {p.key: p.value for p in model.metadata_props}
    ref_meta = {p.key: p.value for p in reference.metadata_props}
    assert meta["htjax.exporter"] == "jax2onnx" and ref_meta["htjax.exporter"] == "builder"
    assert meta["htjax.exporter_version"] == importlib.metadata.version("jax2onnx")
    drop = ("htjax.exporter", "htjax.exporter_version")
    assert {k: v for k, v in meta.items() if k not in drop} == {
        k: v for k, v in ref_meta.items() if k not in drop
    }
    assert model.doc_string == reference.doc_string and "blackjack" in model.doc_string
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["exporter"] == {"backend": "jax2onnx", "version": meta["htjax.exporter_version"]}
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["env"]["id"] == "blackjack" and card["training"]["command"] == "pytest"
    assert json.loads(builder_path.with_suffix(".json").read_text())["exporter"]["backend"] == "builder"


@needs_jax2onnx
def test_jax2onnx_export__parity_with_jax_and_the_builder_on_recorded_play_and_any_batch(blackjack_jax2onnx):
    env, ckpt, path, builder_path = blackjack_jax2onnx
    policy = OnnxPolicy.load(path, env)
    traj = htjax.rollout(
        env, nets.network_policy(ckpt.spec), jax.random.PRNGKey(5), 64, 40, ckpt.params
    ).trajectory
    report = recorded_parity(ckpt.params, ckpt.spec, policy, traj)
    assert report["samples"] == 64 * 40
    assert report["max_abs_diff_probabilities"] <= 1e-5 and report["max_abs_diff_value"] <= 1e-4
    assert report["masked_zero_onnx"] and report["masked_zero_jax"]
    builder = OnnxPolicy.load(builder_path, env)
    rng = np.random.default_rng(11)
    for batch in (1, 2, 257):
        obs = (rng.standard_normal((batch, *ckpt.spec.obs_shape)) * 4).astype(np.float32)
        mask = random_masks(rng, batch, ckpt.spec.num_actions)
        p, v = policy.evaluate(obs, mask)
        q, w = builder.evaluate(obs, mask)
        assert p.shape == (batch, ckpt.spec.num_actions) and v.shape == (batch,)
        np.testing.assert_allclose(p, q, atol=1e-5)
        np.testing.assert_allclose(v, w, atol=1e-4, rtol=1e-5)
        assert (p[~mask] == 0.0).all()
        np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)


@needs_jax2onnx
def test_jax2onnx_export__to_params_refuses_with_a_clear_error(blackjack_jax2onnx):
    _, _, path, _ = blackjack_jax2onnx
    with pytest.raises(OnnxModelError, match="cannot be read back.*'jax2onnx'"):
        OnnxPolicy.load(path).to_params()


@needs_jax2onnx
def test_jax2onnx_model__converts_an_architecture_the_builder_does_not_cover(tmp_path):
    # a residual block with layer norm: outside build_model's Gemm + activation MLPs
    obs_shape, actions = (31,), 12  # blackjack's
    keys = jax.random.split(jax.random.PRNGKey(2), 4)
    w_in = jax.random.normal(keys[0], (31, 32)) * 0.3
    w_res = jax.random.normal(keys[1], (32, 32)) * 0.3
    w_pi = jax.random.normal(keys[2], (32, actions)) * 2.0
    w_v = jax.random.normal(keys[3], (32,))

    def fn(observation, action_mask):
        h = jnp.tanh(observation.reshape(observation.shape[0], -1) @ w_in)
        h = h + jax.nn.gelu(h @ w_res)
        h = (h - h.mean(-1, keepdims=True)) / jnp.sqrt(h.var(-1, keepdims=True) + 1e-5)
        logits = nets.masked_logits(h @ w_pi, action_mask)
        return jax.nn.softmax(logits, axis=-1) * action_mask, jnp.max(h, axis=-1) * (h @ w_v)

    env = htjax.make("blackjack")
    model = jax2onnx_model(fn, obs_shape, actions, env_metadata(env), doc="residual policy")
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["htjax.format"] == ONNX_FORMAT and meta["htjax.env_id"] == "blackjack"
    path = tmp_path / "residual.onnx"
    onnx.save_model(model, str(path))
    policy = OnnxPolicy.load(path, env)  # a custom architecture is a full htjax policy
    with pytest.raises(OnnxModelError, match="cannot be read back"):
        policy.to_params()
    with pytest.raises(EnvMismatchError, match="num_decks=6, but the env has num_decks=2"):
        OnnxPolicy.load(path, htjax.make("blackjack", num_decks=2))
    rng = np.random.default_rng(4)
    obs = rng.standard_normal((300, *obs_shape)).astype(np.float32)
    mask = random_masks(rng, 300, actions)
    probs, value = policy.evaluate(obs, mask)
    want_p, want_v = fn(jnp.asarray(obs), jnp.asarray(mask))
    np.testing.assert_allclose(probs, np.asarray(want_p), atol=1e-5)
    np.testing.assert_allclose(value, np.asarray(want_v), atol=1e-4, rtol=1e-4)
    assert (probs[~mask] == 0.0).all()


@needs_jax2onnx
def test_jax2onnx_model__refuses_functions_with_the_wrong_outputs():
    with pytest.raises(
        ValueError, match=r"must return \(probabilities float32\[B, 3\], value float32\[B\]\)"
    ):
        jax2onnx_model(lambda o, m: (jnp.zeros((o.shape[0], 2)), o[:, 0]), (4,), 3)
    with pytest.raises(ValueError, match="must return"):
        jax2onnx_model(lambda o, m: jnp.zeros((o.shape[0], 3)), (4,), 3)
    with pytest.raises(ValueError, match="cannot be traced"):
        jax2onnx_model(lambda o, m: (o @ jnp.ones((7, 3)), o[:, 0]), (4,), 3)


def test_export__missing_jax2onnx_extra_and_unknown_backend_raise_clear_errors(
    exported, tmp_path, monkeypatch
):
    _, ckpt, _, _ = exported
    monkeypatch.setitem(sys.modules, "jax2onnx", None)  # import jax2onnx now raises ImportError
    with pytest.raises(ExporterUnavailableError, match=re.escape('pip install "htjax[jax2onnx]"')):
        export_checkpoint(ckpt, tmp_path / "x.onnx", backend="jax2onnx")
    assert not (tmp_path / "x.onnx").exists()
    with pytest.raises(
        ValueError, match=r"unknown ONNX export backend 'tf2onnx'; choose from \['builder', 'jax2onnx'\]"
    ):
        export_checkpoint(ckpt, tmp_path / "x.onnx", backend="tf2onnx")


def test_export_command__backend_option(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from htjax.cli import app

    env = HighCard()
    spec = nets.NetworkSpec(obs_shape=env.observation_shape, num_actions=env.num_actions, hidden=(8,))
    htjax.register("toy_high_card", HighCard)
    ckpt = save_checkpoint(tmp_path / "hc.npz", _params(spec, 5), env, spec, command="pytest", env_steps=1)
    runner = CliRunner()
    res = runner.invoke(
        app, ["export", str(ckpt), "--out", str(tmp_path / "hc.onnx"), "--backend", "tf2onnx"]
    )
    assert res.exit_code == 2 and "unknown --backend 'tf2onnx'" in " ".join(res.output.split())
    if HAS_JAX2ONNX:
        res = runner.invoke(
            app, ["export", str(ckpt), "--out", str(tmp_path / "hc.onnx"), "--backend", "jax2onnx"]
        )
        assert res.exit_code == 0, res.output
        out = " ".join(res.output.split())
        assert "(jax2onnx)" in out and "masked probabilities 0: True" in out
        meta = {p.key: p.value for p in onnx.load(str(tmp_path / "hc.onnx")).metadata_props}
        assert meta["htjax.exporter"] == "jax2onnx"
    monkeypatch.setitem(sys.modules, "jax2onnx", None)
    res = runner.invoke(
        app, ["export", str(ckpt), "--out", str(tmp_path / "no.onnx"), "--backend", "jax2onnx"]
    )
    assert res.exit_code == 2 and "htjax[jax2onnx]" in " ".join(res.output.split())


# ------------------------------------------------------------------ shipped policies
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policy__parity_on_10000_recorded_observations(path):
    policy = OnnxPolicy.load(path)
    env = policy.make_env()
    OnnxPolicy.load(path, env)  # metadata agrees with the env rebuilt from the registry
    params, spec = policy.to_params()
    worlds = 100
    steps = 100
    traj = htjax.rollout(
        env, nets.network_policy(spec), jax.random.PRNGKey(7), worlds, steps, params
    ).trajectory
    report = recorded_parity(params, spec, policy, traj)
    assert report["samples"] >= 10_000
    assert report["max_abs_diff_probabilities"] <= 1e-5
    assert report["max_abs_diff_value"] <= 1e-4
    assert report["masked_zero_onnx"] and report["masked_zero_jax"]
    card = htjax.policies.model_card(path.stem)
    assert card == json.loads(path.with_suffix(".json").read_text()) and card["file"] == path.name
    assert card["training"]["command"] and card["evaluation"]["passed"] in (True, False)


def test_shipped_policies_are_found():
    # the parity test above is parametrised over the shipped files; fail loudly if they moved
    assert {"blackjack", "holdem", "ipd"} <= set(htjax.policies.names())
    assert [p.name for p in SHIPPED] == [f"{name}.onnx" for name in htjax.policies.names()]


# ------------------------------------------------------------------ ONNX policies as IPD tournament players
@pytest.fixture(scope="module")
def ipd_policies(tmp_path_factory):
    from onnx_helpers import fresh_policy

    d = tmp_path_factory.mktemp("ipd")
    env = htjax.make("prisoners_dilemma", rounds=20)
    return env, fresh_policy(env, d, "ipd_a", seed=0), fresh_policy(env, d, "ipd_b", seed=1)


def test_tournament_agent__jax_weights_and_onnxruntime_play_the_same_moves(ipd_policies):
    from htjax.agents.ipd.tournament import Agent, play_matches

    env, path, _ = ipd_policies
    policy = OnnxPolicy.load(path, env)
    agent = policy.tournament_agent()
    assert agent.name == "ipd_a.onnx" and not agent.stochastic
    via_onnxruntime = Agent("ort", policy.jax_policy(greedy=True), stochastic=False)
    opponents = ["TitForTat", "Random", "Gradual", "Prober"]
    kwargs = dict(turns=20, repetitions=3, seed=1, game=env.config)
    a = play_matches([(agent, o) for o in opponents], **kwargs)
    b = play_matches([(via_onnxruntime, o) for o in opponents], **kwargs)
    np.testing.assert_array_equal(a, b)
    assert 0 < a[..., 0].mean() < 1  # the untrained network's moves depend on the match


def test_policy_tournament__policies_join_under_their_file_names(ipd_policies):
    from htjax.train.onnx_policy import policy_tournament

    env, a, b = ipd_policies
    result = policy_tournament([a, OnnxPolicy.load(b)], ["TitForTat", "Defector"], repetitions=2, seed=0)
    assert result.names == ("TitForTat", "Defector", "ipd_a.onnx", "ipd_b.onnx")
    assert result.turns == env.config.rounds == 20 and result.repetitions == 2


def test_policy_tournament__refuses_other_lengths_envs_and_mixed_rules(ipd_policies, exported, tmp_path):
    from onnx_helpers import fresh_policy

    from htjax.train.onnx_policy import policy_tournament

    _, a, _ = ipd_policies
    with pytest.raises(ValueError, match="trained for 20-round matches.*turns=20, not 100"):
        policy_tournament([a], turns=100)
    with pytest.raises(EnvMismatchError, match="only prisoners_dilemma policies"):
        policy_tournament([exported[2]])
    other = fresh_policy(htjax.make("prisoners_dilemma", rounds=20, window=3), tmp_path, "w3")
    with pytest.raises(EnvMismatchError, match="observation shape"):
        policy_tournament([a, other])
    with pytest.raises(ValueError, match="at least one"):
        policy_tournament([])


def test_shipped_ipd_policy__ranks_in_the_top_3_of_the_fourteen_strategy_tournament():
    from htjax.train.onnx_policy import policy_tournament

    result = policy_tournament([htjax.policies.path("ipd")], repetitions=200, seed=11)
    assert result.ranked_names.index("ipd.onnx") < 3
    card = htjax.policies.model_card("ipd")
    assert card["evaluation"]["passed"] and card["evaluation"]["matches_played"] >= 1_000_000
    assert {"Gradual", "Prober"} <= set(card["training"]["opponents"])


def test_shipped_holdem_policy__card_numbers_belong_to_this_file():
    """The hold'em card's evaluation is the shipped file's: hash, acceptance, and a fresh sample agrees."""
    import hashlib

    from htjax.agents.holdem import call_station_policy, heads_up_match
    from htjax.core.rollouts import random_policy

    path = htjax.policies.path("holdem")
    card = htjax.policies.model_card("holdem")
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    ev = card["evaluation"]
    assert ev["passed"] and ev["judged_opponents"] == ["call_station", "random"]
    assert all(ev["hands"][k] >= 1_000_000 and ev["bb_per_100"][k] >= 50.0 for k in ev["judged_opponents"])
    assert all(c["identical_hand_results"] for c in ev["onnxruntime_crosscheck"].values())
    policy = OnnxPolicy.load(path)
    env = policy.make_env()
    assert env.num_players == 2 and env.config == htjax.make("holdem").config
    params, spec = policy.to_params()
    greedy = nets.network_policy(spec, greedy=True)
    for name, opponent in (("call_station", call_station_policy), ("random", random_policy)):
        # a fresh seed: an independent sample of 20,000 hands must agree with the card within 5 SE
        r = heads_up_match(env, greedy, params, opponent, hands=20_000, num_envs=1024, seed=12345)
        se = np.hypot(r.stderr_bb_per_100, ev["stderr_bb_per_100"][name])
        assert abs(r.bb_per_100 - ev["bb_per_100"][name]) <= 5 * se, (name, r, ev["bb_per_100"][name])


def test_load_checked__weights_env_and_parity_of_a_shipped_policy():
    from htjax.train.parity import load_checked

    loaded = load_checked(htjax.policies.path("ipd"), seed=0, worlds=4, steps=10)
    assert (
        loaded.env.id == "prisoners_dilemma" and loaded.parity["samples"] == 4 * 10 * loaded.env.num_players
    )
    assert loaded.parity["max_abs_diff_probabilities"] <= 1e-5 and loaded.parity["masked_zero_jax"]
    obs = jnp.zeros(loaded.env.observation_shape, jnp.float32)
    mask = jnp.ones(loaded.env.num_actions, bool)
    assert int(loaded.greedy(loaded.params, obs, mask, jax.random.PRNGKey(0))) in (0, 1)
