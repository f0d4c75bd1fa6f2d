"""PPO, self-play, checkpoints and the blackjack basic-strategy reference agent."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toy_envs import HighCard, MatchingPennies
from toy_solo import SoloDraw

import htjax
from htjax.core.config import ConfigError
from htjax.core.rollouts import random_policy
from htjax.train import networks as nets
from htjax.train.checkpoint import (
    CheckpointError,
    EnvMismatchError,
    load_checkpoint,
    observation_layout_hash,
    save_checkpoint,
)
from htjax.train.evaluate import evaluate_policy
from htjax.train.ppo import PPOConfig, gae_for_seat, make_train
from htjax.train.selfplay import Opponents, learner_seats

SMALL = PPOConfig(num_envs=32, num_steps=16, learning_rate=3e-3, hidden=(32, 32))


@pytest.fixture(scope="module")
def solo_trainer():
    return make_train(SoloDraw(), SMALL)


@pytest.fixture(scope="module")
def solo_trained(solo_trainer):
    rs = solo_trainer.init(jax.random.PRNGKey(0))
    for _ in range(25):
        rs, metrics = solo_trainer.train_step(rs)
    return rs, metrics


# ------------------------------------------------------------------ config
@pytest.mark.parametrize(
    "field, value",
    [
        ("num_envs", 0),
        ("learning_rate", -1.0),
        ("gamma", 1.5),
        ("activation", "gelu"),
        ("hidden", ()),
        ("num_minibatches", 7),
        ("ent_anneal_to", 1.5),
        ("ent_anneal_to", -0.1),
        ("actor_init_scale", -0.5),
    ],
)
def test_ppo_config__rejects_bad_field_naming_it(field, value):
    with pytest.raises(ConfigError, match=field):
        PPOConfig(**{field: value})


def test_ppo_config__round_trips_through_dict():
    cfg = PPOConfig(hidden=(8, 4), snapshot_pool=3)
    assert PPOConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ConfigError, match="bogus"):
        PPOConfig.from_dict({"bogus": 1})


def test_ppo__actor_init_scale_is_the_policy_heads_orthogonal_gain():
    key = jax.random.PRNGKey(3)
    runs = {
        g: make_train(SoloDraw(), SMALL.replace(actor_init_scale=g)).init(key).params for g in (0.01, 1.0)
    }
    for g, params in runs.items():
        w = np.asarray(params["actor"][-1]["w"])  # float32[32, A]: orthonormal columns times the gain
        np.testing.assert_allclose(w.T @ w, g * g * np.eye(w.shape[1]), atol=1e-5 * max(g * g, 1e-2))
    # everything else is drawn from the same keys, so it is identical
    same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))  # noqa: E731
    assert same(runs[0.01]["critic"], runs[1.0]["critic"])
    assert same(runs[0.01]["actor"][:-1], runs[1.0]["actor"][:-1])


def test_ppo__entropy_coefficient_anneals_linearly_then_stays():
    trainer = make_train(SoloDraw(), SMALL.replace(ent_coef=0.02, ent_anneal_to=0.25, anneal_updates=4))
    got = [float(trainer.ent_coef_at(jnp.int32(u))) for u in range(7)]
    np.testing.assert_allclose(got, [0.02, 0.01625, 0.0125, 0.00875, 0.005, 0.005, 0.005], rtol=1e-6)
    constant = make_train(SoloDraw(), SMALL.replace(ent_coef=0.02, anneal_updates=4))  # ent_anneal_to=1
    assert [float(constant.ent_coef_at(jnp.int32(u))) for u in (0, 3, 9)] == pytest.approx([0.02] * 3)
    no_schedule = make_train(SoloDraw(), SMALL.replace(ent_coef=0.02, ent_anneal_to=0.0))  # anneal_updates=0
    assert float(no_schedule.ent_coef_at(jnp.int32(5))) == pytest.approx(0.02)
    # the coefficient in force is the one the update used, and it reaches the loss
    rs = trainer.init(jax.random.PRNGKey(0))
    coefs = []
    for _ in range(5):
        rs, metrics = trainer.train_step(rs)
        coefs.append(float(metrics["ent_coef"]))
    np.testing.assert_allclose(coefs, got[:5], rtol=1e-6)
    zero = make_train(SoloDraw(), SMALL.replace(ent_coef=0.5, ent_anneal_to=0.0, anneal_updates=1))
    high = make_train(SoloDraw(), SMALL.replace(ent_coef=0.5))
    r0, r1 = zero.init(jax.random.PRNGKey(0)), high.init(jax.random.PRNGKey(0))
    for _ in range(2):
        r0, _ = zero.train_step(r0)
        r1, _ = high.train_step(r1)
    assert not np.array_equal(r0.params["actor"][0]["w"], r1.params["actor"][0]["w"])


def test_train__checkpoint_records_wall_time_and_metrics(tmp_path):
    from htjax.train.run import train

    result = train(
        SoloDraw(), SMALL, updates=2, seed=0, out=tmp_path / "solo.npz", command="pytest", progress=False
    )
    header = load_checkpoint(tmp_path / "solo.npz").header
    m = header["metrics"]
    assert m["wall_s"] == round(result.wall_s, 1) and 0 <= m["compile_s"] <= m["wall_s"]
    assert m["return_per_episode"] == result.metrics[-1]["return_per_episode"]
    run = json.loads((tmp_path / "solo.metrics.json").read_text())["run"]
    assert run["wall_s"] == result.wall_s and run["ppo"]["ent_anneal_to"] == 1.0


def test_trainer__refuses_opponents_in_a_one_seat_game():
    with pytest.raises(ConfigError, match="one seat"):
        make_train(SoloDraw(), SMALL.replace(snapshot_pool=2))


# ------------------------------------------------------------------ learning
def test_ppo__learns_solo_draw_beyond_random(solo_trainer, solo_trained):
    rs, metrics = solo_trained
    env = SoloDraw()
    learned = evaluate_policy(
        env, solo_trainer.policy(greedy=True), rs.params, episodes=2000, num_envs=64, chunk_steps=32
    )
    rand = evaluate_policy(env, random_policy, None, episodes=2000, num_envs=64, chunk_steps=32)
    assert learned.mean > rand.mean + 0.15, (learned, rand)
    assert np.isfinite([float(v) for v in metrics.values()]).all()


def test_ppo__same_seed_gives_identical_params(solo_trainer, solo_trained):
    rs = solo_trainer.init(jax.random.PRNGKey(0))
    for _ in range(25):
        rs, _ = solo_trainer.train_step(rs)
    chex_equal = jax.tree_util.tree_map(
        lambda a, b: bool(jnp.array_equal(a, b)), rs.params, solo_trained[0].params
    )
    assert all(jax.tree_util.tree_leaves(chex_equal))
    other = solo_trainer.init(jax.random.PRNGKey(1))
    assert not np.array_equal(other.params["actor"][0]["w"], rs.params["actor"][0]["w"])


def test_ppo__train_step_compiles_once(solo_trainer, solo_trained):
    rs = solo_trained[0]
    before = solo_trainer.train_step._cache_size()
    rs, _ = solo_trainer.train_step(rs)
    rs, _ = solo_trainer.train_step(rs)
    assert solo_trainer.train_step._cache_size() == before


def test_ppo__turn_based_against_random_opponent_improves():
    env = HighCard()
    trainer = make_train(env, SMALL, Opponents.from_policies(env, [random_policy], ["random"]))
    rs = trainer.init(jax.random.PRNGKey(3))
    returns = []
    for _ in range(30):
        rs, m = trainer.train_step(rs)
        returns.append(float(m["return_per_episode"]))
    assert np.mean(returns[-5:]) > np.mean(returns[:3]) + 0.1, returns


def test_ppo__simultaneous_snapshot_pool_never_plays_masked_action():
    env = MatchingPennies()
    trainer = make_train(env, SMALL.replace(snapshot_pool=3, snapshot_every=1))
    rs = trainer.init(jax.random.PRNGKey(0))
    for _ in range(4):
        rs, m = trainer.train_step(rs)
    assert int(rs.pool_count) == 5
    # the pool's slots are past snapshots, not all the initial params any more
    assert not np.array_equal(rs.pool["actor"][0]["w"][1], rs.pool["actor"][0]["w"][0])
    traj = htjax.rollout(env, trainer.policy(), jax.random.PRNGKey(1), 16, 8, rs.params).trajectory
    assert not np.any(np.asarray(traj.action) == 2)
    assert np.isfinite(float(m["policy_loss"]))


def test_learner_seats__alternate_in_turn_based_and_seat0_in_simultaneous():
    seats = np.asarray(learner_seats(HighCard(), 4, all_seats=False))
    assert seats.tolist() == [[True, False], [False, True], [True, False], [False, True]]
    assert np.asarray(learner_seats(MatchingPennies(), 3, all_seats=False))[:, 0].all()
    assert np.asarray(learner_seats(HighCard(), 3, all_seats=True)).all()


# ------------------------------------------------------------------ GAE per acting seat
def test_gae_for_seat__rewards_at_other_seats_steps_reach_the_seat_decision():
    # one world; seat 0 decides at t=0 and t=2; seat 1 at t=1 and t=3; the episode ends at t=3
    # paying seat 0 +1 (a reward that arrives on seat 1's step); a new episode starts at t=4.
    rewards0 = jnp.array([[0.0], [0.0], [0.0], [1.0], [0.0]])
    decision0 = jnp.array([[True], [False], [True], [False], [True]])
    value = jnp.array([[0.1], [9.0], [0.2], [9.0], [0.3]])  # seat 1's values must not leak in
    done = jnp.array([[False], [False], [False], [True], [False]])
    end = jnp.zeros_like(rewards0)
    last = jnp.array([0.5])
    g, lam = 0.9, 0.8
    adv = np.asarray(gae_for_seat(rewards0, decision0, value, done, end, last, g, lam))[:, 0]
    a4 = 0.0 + g * 0.5 - 0.3
    a2 = 1.0 + g * 0.0 - 0.2  # terminal: no bootstrap past the end of the episode
    a0 = 0.0 + g * 0.2 - 0.1 + g * lam * a2
    np.testing.assert_allclose(adv, [a0, 0.0, a2, 0.0, a4], rtol=1e-6)


def test_gae_for_seat__one_seat_matches_textbook_gae():
    rng = np.random.default_rng(0)
    T = 6
    r = rng.standard_normal((T, 1)).astype(np.float32)
    v = rng.standard_normal((T, 1)).astype(np.float32)
    d = np.array([[False], [False], [True], [False], [False], [False]])
    last = np.array([0.7], np.float32)
    adv = np.asarray(gae_for_seat(r, np.ones_like(d), v, d, np.zeros_like(r), last, 0.99, 0.95))
    expected = np.zeros(T)
    next_v, next_a = last[0], 0.0
    for t in reversed(range(T)):
        nonterm = 0.0 if d[t, 0] else 1.0
        delta = r[t, 0] + 0.99 * next_v * nonterm - v[t, 0]
        next_a = delta + 0.99 * 0.95 * nonterm * next_a
        expected[t] = next_a
        next_v = v[t, 0]
    np.testing.assert_allclose(adv[:, 0], expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ masking
@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=5, max_size=5).filter(any), st.integers(0, 2**31 - 1))
def test_masked_logits__sampling_never_picks_a_masked_action(mask_list, seed):
    spec = nets.NetworkSpec(obs_shape=(3,), num_actions=5, hidden=(8,))
    params = nets.init_params(spec, jax.random.PRNGKey(seed % 7))
    mask = jnp.array(mask_list)
    obs = jax.random.normal(jax.random.PRNGKey(seed), (64, 3)) * 10
    logits, _ = nets.apply(spec, params, obs, jnp.broadcast_to(mask, (64, 5)))
    actions = np.asarray(jax.vmap(nets.sample_action)(logits, jax.random.split(jax.random.PRNGKey(seed), 64)))
    assert np.asarray(mask)[actions].all()
    probs = np.asarray(nets.action_probabilities(spec, params, obs, jnp.broadcast_to(mask, (64, 5))))
    assert (probs[:, ~np.asarray(mask)] == 0.0).all()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


# ------------------------------------------------------------------ checkpoints
def test_checkpoint__round_trip_keeps_params_and_header(solo_trainer, solo_trained, tmp_path):
    env = SoloDraw()
    params = solo_trained[0].params
    path = save_checkpoint(
        tmp_path / "c.npz",
        params,
        env,
        solo_trainer.spec,
        ppo_config=SMALL.to_dict(),
        command="test",
        env_steps=12800,
        updates=25,
        seed=0,
    )
    ckpt = load_checkpoint(path, env)
    for a, b in zip(jax.tree_util.tree_leaves(ckpt.params), jax.tree_util.tree_leaves(params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert ckpt.spec == solo_trainer.spec
    assert ckpt.header["training"]["env_steps"] == 12800
    assert ckpt.header["observation_layout_hash"] == observation_layout_hash(env)


def test_checkpoint__refuses_another_env_or_layout_naming_the_mismatch(solo_trainer, solo_trained, tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", solo_trained[0].params, SoloDraw(), solo_trainer.spec)
    with pytest.raises(EnvMismatchError, match="env id 'toy_solo_draw'.*'toy_high_card'"):
        load_checkpoint(path, HighCard())
    with pytest.raises(EnvMismatchError, match="with max_steps=.*, but the env has max_steps=7"):
        load_checkpoint(path, SoloDraw(max_steps=7))


def test_checkpoint__corrupt_or_foreign_files_raise_checkpoint_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(CheckpointError, match="not an htjax checkpoint: it is a text file") as err:
        load_checkpoint(bad)
    assert "allow_pickle" not in str(err.value)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    with pytest.raises(CheckpointError, match="without the htjax header"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "missing.npz")


def test_observation_layout_hash__is_stable_and_config_sensitive():
    assert observation_layout_hash(HighCard()) == observation_layout_hash(HighCard())
    assert observation_layout_hash(HighCard()) != observation_layout_hash(HighCard(max_draws=2))
    assert len(observation_layout_hash(HighCard())) == 16


# ------------------------------------------------------------------ basic strategy
def _bj_obs(env, *, total, soft=False, pair=False, up=10, phase="play"):
    from htjax.envs import blackjack as bj

    names = [n for n, _ in bj.OBSERVATION_LAYOUT]
    obs = np.zeros(len(names), np.float32)
    obs[names.index("phase_" + phase)] = 1
    obs[names.index("hand_total")] = total / 21
    obs[names.index("soft")] = soft
    obs[names.index("pair")] = pair
    obs[names.index("dealer_up")] = (1 if up == 11 else up) / 10
    return jnp.asarray(obs)


@pytest.mark.parametrize(
    "hand, up, legal, expected",
    [
        (dict(total=16), 10, "stand hit double", "hit"),
        (dict(total=16), 6, "stand hit double", "stand"),
        (dict(total=11), 6, "stand hit double", "double"),
        (dict(total=11), 6, "stand hit", "hit"),  # three cards: no double
        (dict(total=12, soft=True, pair=True), 10, "stand hit double split", "split"),
        (dict(total=16, pair=True), 11, "stand hit double split", "split"),
        (dict(total=20, pair=True), 6, "stand hit double split", "stand"),
        (dict(total=18, soft=True), 9, "stand hit double", "hit"),
        (dict(total=18, soft=True), 5, "stand hit", "stand"),  # Ds without double: stand
        (dict(total=13), 2, "stand hit double", "stand"),
        (dict(total=9), 2, "stand hit double", "hit"),
        (dict(total=15, phase="insurance"), 11, "insurance no_insurance", "no_insurance"),
    ],
)
def test_basic_strategy__textbook_decisions(hand, up, legal, expected):
    from htjax.agents.blackjack import basic_strategy_policy

    env = htjax.make("blackjack", betting=False)
    labels = list(env.action_labels)
    mask = jnp.array([label in legal.split() for label in labels])
    action = basic_strategy_policy(env)(None, _bj_obs(env, up=up, **hand), mask, jax.random.PRNGKey(0))
    assert labels[int(action)] == expected


def test_basic_strategy__surrender_and_h17_tables():
    from htjax.agents.blackjack import strategy_tables

    s17 = strategy_tables(False, True)
    h17 = strategy_tables(True, True)
    no_ls = strategy_tables(False, False)
    up_ace, up_ten = 9, 8
    assert s17["hard"][16, up_ten] == 5  # Rh
    assert no_ls["hard"][16, up_ten] == 0  # H
    assert s17["hard"][11, up_ace] == 0 and h17["hard"][11, up_ace] == 2  # H vs D
    assert h17["hard"][17, up_ace] == 6  # Rs


# ------------------------------------------------------------------ hold'em baselines
def _holdem_decisions(num_envs=64, num_steps=40):
    """Observations and masks of random play (auto-reset: every recorded state is a decision)."""
    env = htjax.make("holdem")
    traj = htjax.rollout(env, random_policy, jax.random.PRNGKey(11), num_envs, num_steps).trajectory
    obs = np.asarray(traj.observation).reshape(-1, env.observation_size)
    mask = np.asarray(traj.legal_action_mask).reshape(-1, env.num_actions)
    return env, obs, mask


def test_holdem_call_station__always_checks_or_calls_and_falls_back_to_a_legal_action():
    from htjax.agents.holdem import CHECK_CALL, call_station_policy

    _, obs, mask = _holdem_decisions()
    act = jax.vmap(call_station_policy, in_axes=(None, 0, 0, None))
    actions = np.asarray(act(None, obs, mask, jax.random.PRNGKey(0)))
    assert mask[:, CHECK_CALL].all() and (actions == CHECK_CALL).all()
    only_raise = np.zeros((2, 9), bool)
    only_raise[0, 5] = only_raise[1, [0, 8]] = True
    assert np.asarray(act(None, obs[:2], only_raise, jax.random.PRNGKey(0))).tolist() == [5, 0]


def test_holdem_maniac__shoves_when_raising_is_open_else_checks_or_calls():
    from htjax.agents.holdem import maniac_policy

    _, obs, mask = _holdem_decisions()
    actions = np.asarray(
        jax.vmap(maniac_policy, in_axes=(None, 0, 0, None))(None, obs, mask, jax.random.PRNGKey(0))
    )
    expected = [max(i for i in range(2, 9) if m[i]) if m[2:].any() else 1 for m in mask]
    np.testing.assert_array_equal(actions, expected)
    assert (actions[mask[:, 8]] == 8).all()
    sized_only = np.zeros((2, 9), bool)
    sized_only[0, [0, 1, 2, 3, 4]] = True  # all-in not legal: the biggest sized raise
    sized_only[1, [0, 1]] = True  # raising closed: call
    assert np.asarray(maniac_policy(None, obs[0], sized_only[0], None)) == 4
    assert np.asarray(maniac_policy(None, obs[1], sized_only[1], None)) == 1


def test_opponents_for__holdem_baselines_and_refuses_other_envs():
    from htjax.train.commands import OPPONENT_CHOICES, opponents_for
    from htjax.train.holdem_opponents import holdem_opponents

    opp, extra = opponents_for(htjax.make("holdem"), "holdem-baselines")
    assert "holdem-baselines" in OPPONENT_CHOICES and extra == {}
    assert opp.names == ("call_station", "call_station", "random", "maniac")
    with pytest.raises(ValueError, match="play holdem"):
        opponents_for(htjax.make("blackjack"), "holdem-baselines")
    with pytest.raises(ValueError, match="unknown hold'em baseline"):
        holdem_opponents(htjax.make("holdem"), ("call_station", "nit"))


def test_heads_up_match__duplicate_pairs_mirror_and_seats_are_balanced():
    from htjax.agents.holdem import call_station_policy, heads_up_match

    env = htjax.make("holdem")
    same = heads_up_match(
        env, call_station_policy, None, call_station_policy, hands=500, num_envs=16, chunk_steps=16
    )
    # identical agents in a duplicate pair play the same hand from both seats: results mirror exactly
    assert same.hands == 16 * 32 and same.results.shape == (16, 32)
    np.testing.assert_array_equal(same.results[0::2], -same.results[1::2])
    assert same.bb_per_100 == 0.0 and np.abs(same.results).max() > 0
    vs_random = heads_up_match(
        env, random_policy, None, call_station_policy, hands=500, num_envs=16, chunk_steps=16
    )
    assert not np.array_equal(np.abs(vs_random.results[0::2]), np.abs(vs_random.results[1::2]))
    assert np.isfinite(vs_random.stderr_bb_per_100) and vs_random.stderr_bb_per_100 > 0
    again = heads_up_match(
        env, random_policy, None, call_station_policy, hands=500, num_envs=16, chunk_steps=16
    )
    np.testing.assert_array_equal(vs_random.results, again.results)


@pytest.mark.parametrize(
    "env_id, kwargs, message",
    [
        ("holdem", {"hands": 0}, "hands"),
        ("holdem", {"hands": 10, "num_envs": 7}, "even"),
        ("blackjack", {"hands": 10}, "two-seat"),
    ],
)
def test_heads_up_match__rejects_bad_arguments(env_id, kwargs, message):
    from htjax.agents.holdem import call_station_policy, heads_up_match

    with pytest.raises(ValueError, match=message):
        heads_up_match(htjax.make(env_id), call_station_policy, None, call_station_policy, **kwargs)
