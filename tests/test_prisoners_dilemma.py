"""Iterated prisoner's dilemma env: rules, noise, continuation, observation, bad input."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax.envs
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
    assert env.config.rounds == 7 and env.simultaneous and env.version == "v0"
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
