"""Iterated prisoner's dilemma env: rules, noise, continuation, observation, rule parameters per
world, the illegal-action forfeit, the text line and public view, bad input."""

from __future__ import annotations

import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
import htjax.envs
import htjax.testing
from htjax.core.config import ConfigError
from htjax.core.env import SIMULTANEOUS, InvalidActionError
from htjax.core.keys import step_key
from htjax.envs.prisoners_dilemma import IPDConfig, IteratedPrisonersDilemma

C, D = 0, 1


@pytest.fixture(scope="module")
def env():
    return IteratedPrisonersDilemma(rounds=4, window=3)


@pytest.fixture(scope="module")
def jit_step(env):
    return jax.jit(env.step)


def _play(env, step, moves, seed=0):
    key = jax.random.PRNGKey(seed)
    state = env.init(key)
    states = [state]
    for t, pair in enumerate(moves):
        state = step(state, jnp.asarray(pair, jnp.int32), step_key(key, t))
        states.append(state)
    return states


def test_registry__makes_the_env():
    env = htjax.envs.make("prisoners_dilemma", rounds=7)
    assert isinstance(env, IteratedPrisonersDilemma)
    assert env.config.rounds == 7 and env.simultaneous and env.version == "v1"
    assert env.action_labels == ("cooperate", "defect")
    assert env.observation_shape == (5 * 5 + 3,)


def test_init__simultaneous_all_legal(env):
    s = env.init(jax.random.PRNGKey(3))
    assert int(s.current_player) == SIMULTANEOUS
    assert s.legal_action_mask.shape == (2, 2) and bool(jnp.all(s.legal_action_mask))
    assert s.observation.shape == (2, 5 * 3 + 3)
    np.testing.assert_array_equal(np.asarray(s.observation), 0.0)


def test_step__payoffs_for_each_outcome(env, jit_step):
    states = _play(env, jit_step, [(C, C), (C, D), (D, C), (D, D)])
    rewards = [np.asarray(s.rewards).tolist() for s in states[1:]]
    assert rewards == [[3.0, 3.0], [0.0, 5.0], [5.0, 0.0], [1.0, 1.0]]
    np.testing.assert_array_equal(np.asarray(env.scores(states[-1])), [9.0, 9.0])


def test_step__custom_payoffs():
    env = IteratedPrisonersDilemma(temptation=4.0, reward=2.5, punishment=0.5, sucker=-1.0, rounds=2)
    s = _play(env, env.step, [(D, C)])[-1]
    np.testing.assert_array_equal(np.asarray(s.rewards), [4.0, -1.0])


def test_fixed_horizon__terminates_after_rounds(env, jit_step):
    states = _play(env, jit_step, [(C, C)] * 4)
    assert [bool(s.terminated) for s in states] == [False, False, False, False, True]
    assert not any(bool(s.truncated) for s in states)
    assert int(states[-1].step_count) == 4


def test_finished_world__is_a_no_op(env, jit_step):
    final = _play(env, jit_step, [(C, D)] * 4)[-1]
    again = jit_step(final, jnp.array([D, D], jnp.int32), jax.random.PRNGKey(9))
    np.testing.assert_array_equal(np.asarray(again.rewards), 0.0)
    assert int(again.step_count) == 4
    chex.assert_trees_all_equal(again.memory, final.memory)


def test_observation__layout_and_seat_views(env, jit_step):
    states = _play(env, jit_step, [(C, D), (D, D)])
    obs = np.asarray(states[-1].observation)
    # seat 0: latest round (D, D), then (C, D), then nothing
    np.testing.assert_array_equal(obs[0, :15], [1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(obs[0, 15:], [2 / 4, 1 / 20, 6 / 20])
    # seat 1 sees the mirror image
    np.testing.assert_array_equal(obs[1, :15], [1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(obs[1, 15:], [2 / 4, 6 / 20, 1 / 20])
    np.testing.assert_array_equal(np.asarray(env.observe(states[-1], 1)), obs[1])


def test_observation__window_keeps_latest_rounds():
    env = IteratedPrisonersDilemma(rounds=50, window=2)
    moves = [(C, C)] * 40 + [(D, C), (C, D)]
    obs = np.asarray(_play(env, jax.jit(env.step), moves)[-1].observation[0])
    np.testing.assert_array_equal(obs[:10], [1, 1, 0, 0, 1, 1, 0, 1, 1, 0])


def test_observe__bad_seat_raises(env):
    s = env.init(jax.random.PRNGKey(0))
    with pytest.raises(InvalidActionError, match="player"):
        env.observe(s, 2)


@pytest.mark.parametrize(
    "action, match",
    [
        ([0, 2], "out of range"),
        ([-1, 0], "out of range"),
        ([0], "shape"),
        (0, "shape"),
        ([0.0, 1.0], "integer"),
    ],
)
def test_step__bad_action_raises_outside_jit(env, action, match):
    s = env.init(jax.random.PRNGKey(0))
    with pytest.raises(InvalidActionError, match=match):
        env.step(s, np.asarray(action), jax.random.PRNGKey(1))


def test_step__illegal_action_inside_jit_follows_the_rule(env, jit_step):
    s = _play(env, jit_step, [(C, D)])[-1]
    bad = jit_step(s, jnp.array([C, 5], jnp.int32), jax.random.PRNGKey(2))
    assert bool(bad.terminated)
    np.testing.assert_array_equal(np.asarray(bad.rewards), [0.0, -1.0])
    chex.assert_trees_all_equal(bad.memory, s.memory)
    assert bool(jnp.all(bad.legal_action_mask))


def test_step__compiles_once(env):
    step = jax.jit(chex.assert_max_traces(env.step, n=1))
    s = env.init(jax.random.PRNGKey(0))
    for t in range(3):
        s = step(s, jnp.array([t % 2, 1], jnp.int32), jax.random.PRNGKey(t))


@pytest.fixture(scope="module")
def batch_rounds():
    """One step of 4096 worlds for a given env, jitted per env."""

    def run(env, action, num=4096, steps=1):
        keys = jax.random.split(jax.random.PRNGKey(42), num)

        @jax.jit
        def go(keys):
            def one(key):
                state = env.init(key)

                def body(state, t):
                    nxt = env.step(state, jnp.asarray(action, jnp.int32), step_key(key, t))
                    return nxt, (nxt.rewards, nxt.terminated, nxt.truncated)

                return jax.lax.scan(body, state, jnp.arange(steps))[1]

            return jax.vmap(one)(keys)

        return jax.tree_util.tree_map(np.asarray, go(keys))

    return run


def test_noise__flips_each_move_with_probability_p(batch_rounds):
    env = IteratedPrisonersDilemma(rounds=10, noise=0.2)
    rewards, _, _ = batch_rounds(env, [C, C])
    r = rewards[:, 0]  # [N, 2]
    flipped0 = np.isin(r[:, 0], [5.0, 1.0])  # seat 0 defected
    flipped1 = np.isin(r[:, 1], [5.0, 1.0])
    n = len(r)
    sigma = np.sqrt(0.2 * 0.8 / n)
    assert abs(flipped0.mean() - 0.2) < 5 * sigma
    assert abs(flipped1.mean() - 0.2) < 5 * sigma
    # independent flips: both flipped with probability 0.04
    assert abs((flipped0 & flipped1).mean() - 0.04) < 5 * np.sqrt(0.04 * 0.96 / n)


def test_noise__zero_never_flips(batch_rounds):
    rewards, _, _ = batch_rounds(IteratedPrisonersDilemma(rounds=10), [C, D], num=256)
    np.testing.assert_array_equal(rewards[:, 0], np.tile([0.0, 5.0], (256, 1)))


def test_continuation__geometric_length_and_cap(batch_rounds):
    env = IteratedPrisonersDilemma(rounds=12, continuation_probability=0.875)
    _, terminated, truncated = batch_rounds(env, [C, C], num=2048, steps=12)
    done = terminated | truncated
    length = np.argmax(done, axis=1) + 1
    assert done.any(axis=1).all()
    # P(stop after round 1) = 0.125; mean of the geometric capped at 12
    n = len(length)
    assert abs((length == 1).mean() - 0.125) < 5 * np.sqrt(0.125 * 0.875 / n)
    q = 0.875
    expected_mean = sum(q**k for k in range(12))
    assert abs(length.mean() - expected_mean) < 0.3
    # reaching the cap without a stop is truncation, a stop is termination
    ended_at_cap = length == 12
    assert truncated[ended_at_cap, 11].any() and not truncated[~ended_at_cap].any()
    assert abs(truncated[:, 11].mean() - q**12) < 5 * np.sqrt(q**12 * (1 - q**12) / n)


def test_preset__openspiel():
    cfg = IPDConfig.from_options("openspiel")
    assert cfg.payoffs == (10.0, 5.0, 1.0, 0.0)
    assert cfg.continuation_probability == 0.875 and cfg.rounds == 9999


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(temptation=3.0), "temptation"),
        (dict(reward=0.5), "reward"),
        (dict(punishment=-1.0), "punishment"),
        (dict(temptation=7.0), "2R >= T \\+ S"),
        (dict(rounds=0), "rounds"),
        (dict(noise=1.5), "noise"),
        (dict(noise="0.1"), "noise"),
        (dict(continuation_probability=0.0), "continuation_probability"),
        (dict(continuation_probability=1.2), "continuation_probability"),
        (dict(window=0), "window"),
        (dict(window=33), "window"),
        (dict(rounds=True), "rounds"),
        (dict(payoff=3), "unknown config field"),
    ],
)
def test_config__bad_values_name_the_field(overrides, field):
    with pytest.raises(ConfigError, match=field):
        IteratedPrisonersDilemma(**overrides)


# ---------------------------------------------------------------------------- conformance kit
CHECKED = {
    "default": {},
    "openspiel": {"preset": "openspiel"},
    "noisy": {"rounds": 12, "noise": 0.1},
    "continuation": {"rounds": 30, "continuation_probability": 0.8},
    "negative_payoffs": {"rounds": 8, "temptation": 2.0, "reward": 1.0, "punishment": -1.0, "sucker": -6.0},
}


@pytest.mark.parametrize("name", list(CHECKED))
def test_check_env__passes(name):
    report = htjax.testing.check_env(htjax.make("prisoners_dilemma", **CHECKED[name]))
    assert {"illegal_never_pays", "bounds", "params", "replay"} <= set(report.passed)


def test_check_env__a_batch_row_of_per_world_parameters_passes():
    env = IteratedPrisonersDilemma(rounds=10)
    htjax.testing.check_env(env, env.params(sucker=-3.0, noise=0.2, continuation_probability=0.9))


# ---------------------------------------------------------------------------- illegal actions
def test_forfeit__negative_sucker_costs_every_remaining_round():
    env = IteratedPrisonersDilemma(rounds=10, temptation=2.0, reward=1.0, punishment=-1.0, sucker=-4.0)
    step = jax.jit(env.step)
    s = _play(env, step, [(C, C)] * 3)[-1]
    bad = step(s, jnp.array([9, C], jnp.int32), jax.random.PRNGKey(0))
    # 7 rounds left, each at worst -4, then the penalty; the other seat gets nothing
    np.testing.assert_array_equal(np.asarray(bad.rewards), [7 * -4.0 - 1.0, 0.0])
    both = step(s, jnp.array([9, 9], jnp.int32), jax.random.PRNGKey(0))
    np.testing.assert_array_equal(np.asarray(both.rewards), [-29.0, -29.0])
    # the worst legal continuation (always the sucker) earns exactly the forfeit: never better
    worst = _play(env, step, [(C, C)] * 3 + [(C, D)] * 7)
    assert sum(float(x.rewards[0]) for x in worst[4:]) == 7 * -4.0 > float(bad.rewards[0])


def test_forfeit__nothing_at_stake_with_non_negative_payoffs(env, jit_step):
    s = _play(env, jit_step, [(C, D)])[-1]
    np.testing.assert_array_equal(
        np.asarray(env._forfeit(s, jnp.array([True, True]), env.default_params)), [0.0, 0.0]
    )


def test_forfeit__follows_per_world_parameters():
    env = IteratedPrisonersDilemma(rounds=6)
    p = env.params(temptation=3.0, reward=1.0, punishment=-2.0, sucker=-5.0)
    s = env.init(jax.random.PRNGKey(0), p)
    bad = jax.jit(env.step)(s, jnp.array([3, 0], jnp.int32), jax.random.PRNGKey(1), p)
    np.testing.assert_array_equal(np.asarray(bad.rewards), [6 * -5.0 - 1.0, 0.0])


# ---------------------------------------------------------------------------- rule parameters
def test_params__payoff_orderings_are_validated_through_the_config():
    env = IteratedPrisonersDilemma()
    assert env.config_class.PARAM_FIELDS == (
        "temptation",
        "reward",
        "punishment",
        "sucker",
        "noise",
        "continuation_probability",
    )
    with pytest.raises(ConfigError, match="T > R"):
        env.params(temptation=2.0)
    with pytest.raises(ConfigError, match="2R >= T"):
        env.params(temptation=9.0)
    with pytest.raises(ConfigError, match="continuation_probability"):
        env.batch_params([{}, {"continuation_probability": 0.0}])
    with pytest.raises(ConfigError, match="window"):
        env.params(window=3)  # structural: sizes the observation
    with pytest.raises(ConfigError, match="rounds"):
        env.params(rounds=3)


def test_params__batch_mixing_settings_equals_separate_envs_and_traces_once():
    settings = [
        {},
        {"temptation": 4.0, "reward": 2.5, "punishment": 0.5, "sucker": -1.0},
        {"noise": 0.25},
        {"continuation_probability": 0.7},
        {
            "temptation": 10.0,
            "reward": 5.0,
            "punishment": 1.0,
            "sucker": 0.0,
            "noise": 0.1,
            "continuation_probability": 0.9,
        },
    ]
    base = IteratedPrisonersDilemma(rounds=6)
    n, steps = 10, 14
    env_params = base.batch_params([settings[i % len(settings)] for i in range(n)])
    traced = []
    chex.clear_trace_counter()

    @chex.assert_max_traces(n=1)
    def policy(params, obs, mask, key):
        traced.append(1)
        return htjax.random_policy(params, obs, mask, key)

    key = jax.random.PRNGKey(5)
    mixed = htjax.rollout(base, policy, key, num_envs=n, num_steps=steps, env_params=env_params)
    htjax.rollout(base, policy, jax.random.PRNGKey(6), num_envs=n, num_steps=steps, env_params=env_params)
    assert len(traced) == 1
    for k, overrides in enumerate(settings):
        alone = htjax.rollout(
            htjax.make("prisoners_dilemma", rounds=6, **overrides),
            htjax.random_policy,
            key,
            num_envs=n,
            num_steps=steps,
        )
        worlds = [i for i in range(n) if i % len(settings) == k]
        for field in ("rewards", "action", "terminated", "truncated", "observation"):
            np.testing.assert_array_equal(
                np.asarray(getattr(mixed.trajectory, field))[:, worlds],
                np.asarray(getattr(alone.trajectory, field))[:, worlds],
                err_msg=f"{overrides} {field}",
            )
    assert not np.array_equal(
        np.asarray(mixed.trajectory.rewards)[:, 0], np.asarray(mixed.trajectory.rewards)[:, 1]
    )


def test_params__one_program_traced_once_for_every_world_setting():
    env = IteratedPrisonersDilemma(rounds=4)
    chex.clear_trace_counter()
    step = jax.jit(chex.assert_max_traces(env.step, n=1))
    for overrides in ({}, {"sucker": -2.0}, {"noise": 0.5}, {"continuation_probability": 0.5}):
        p = jax.tree_util.tree_map(jnp.asarray, env.params(**overrides))
        s = env.init(jax.random.PRNGKey(0), p)
        s = step(s, jnp.array([0, 1], jnp.int32), jax.random.PRNGKey(1), p)
    assert float(s.rewards[1]) == 5.0 or bool(s.done)


# ---------------------------------------------------------------------------- randomness
def test_randomness__noise_and_continuation_come_from_hashed_step_words():
    from htjax.core.keys import random_words
    from htjax.envs.prisoners_dilemma.rules import uniform_from_bits

    env = IteratedPrisonersDilemma(rounds=50, noise=0.3, continuation_probability=0.9)
    key = jax.random.PRNGKey(11)
    step = jax.jit(env.step)
    s = env.init(key)
    for t in range(20):
        if bool(s.done):
            break
        u = np.asarray(uniform_from_bits(random_words(step_key(key, t), 3)))
        s = step(s, jnp.array([C, D], jnp.int32), step_key(key, t))
        played = [int(s.memory.my_move_ago(1)[0]), int(s.memory.my_move_ago(1)[1])]
        assert played == [C ^ int(u[0] < 0.3), D ^ int(u[1] < 0.3)]
        assert bool(s.terminated) == bool(u[2] >= 0.9)


# ---------------------------------------------------------------------------- layout, text, views
def test_layout__one_table_gives_the_observation_bounds_and_docs():
    import pathlib

    env = htjax.make("prisoners_dilemma")
    layout = env.layout
    assert layout.size == env.observation_shape[0] == 28
    assert layout.names == ("history", "progress", "my_score", "opp_score")
    low, high = env.observation_bounds
    assert low.dtype == np.float64 and low.shape == (28,)
    np.testing.assert_array_equal(low[25:], [0, -1, -1])
    np.testing.assert_array_equal(low[:25], 0)
    np.testing.assert_array_equal(high, 1)
    page = pathlib.Path(__file__).resolve().parent.parent / "docs" / "envs" / "prisoners_dilemma.md"
    assert layout.markdown_table() in page.read_text()


def test_layout__scores_stay_in_bounds_when_the_sucker_payoff_dominates():
    env = IteratedPrisonersDilemma(rounds=3, temptation=1.0, reward=0.5, punishment=-1.0, sucker=-9.0)
    s = _play(env, jax.jit(env.step), [(C, D)] * 3)[-1]
    obs = np.asarray(s.observation)
    np.testing.assert_allclose(obs[:, -2:], [[-1.0, 1 / 9], [1 / 9, -1.0]], rtol=1e-6)


def test_render_text__round_moves_in_words_and_scores(env, jit_step):
    states = _play(env, jit_step, [(C, D), (D, D), (C, C), (D, C)])
    assert env.render_text(states[0]) == "round 1 of 4 | no moves yet | score: seat 0 0, seat 1 0"
    assert env.render_text(states[1], 0) == (
        "round 2 of 4 | last round: you cooperated (+0), opponent defected (+5) | score: you 0, opponent 5"
    )
    assert env.render_text(states[1], 1) == (
        "round 2 of 4 | last round: you defected (+5), opponent cooperated (+0) | score: you 5, opponent 0"
    )
    assert env.render_text(states[4]).startswith("match over after 4 rounds | last round: seat 0 defected")
    assert env.render_text(states[4]).endswith("final score: seat 0 9, seat 1 9")


def test_render_text__continuation_and_early_end():
    env = IteratedPrisonersDilemma(rounds=5, continuation_probability=0.5)
    s = env.init(jax.random.PRNGKey(0))
    assert env.render_text(s).startswith("round 1 (another follows with probability 0.5, at most 5)")
    fixed = IteratedPrisonersDilemma(rounds=5)
    bad = fixed.step(fixed.init(jax.random.PRNGKey(0)), np.array([0, 1]), jax.random.PRNGKey(1))
    bad = jax.jit(fixed.step)(bad, jnp.array([0, 7], jnp.int32), jax.random.PRNGKey(2))
    assert fixed.render_text(bad).startswith("match ended early after 1 of 5 rounds")


def test_public_view__scores_and_payoffs_follow_per_world_parameters():
    env = IteratedPrisonersDilemma(rounds=3)
    p = env.params(temptation=7.0, reward=4.0, punishment=2.0, sucker=-1.0)
    s = env.init(jax.random.PRNGKey(0), p)
    assert env.public_view(s)["last_moves"] is None
    s = env.step(s, np.array([1, 0]), jax.random.PRNGKey(1), p)
    view = env.public_view(s)
    assert (
        view["last_moves"] == ["D", "C"]
        and view["last_payoffs"] == [7.0, -1.0]
        and view["scores"] == [7.0, -1.0]
    )
    assert json.loads(json.dumps(view)) == view
    with pytest.raises(htjax.HtjaxError, match="one world"):
        env.public_view(jax.vmap(env.init)(jax.random.split(jax.random.PRNGKey(0), 2)))
