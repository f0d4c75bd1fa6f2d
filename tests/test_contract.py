"""The env contract: the public conformance kit over every registered env and preset, and the
kit itself (it must fail on broken games and work on a user's own registered game)."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_envs import HighCard, MatchingPennies

import htjax
import htjax.testing
from htjax.envs import env_class

CONFIGS = [(env_id, None) for env_id in htjax.available_envs()] + [
    (env_id, preset)
    for env_id in htjax.available_envs()
    for preset in sorted(env_class(env_id).config_class.PRESETS)
]


@pytest.mark.parametrize("env_id,preset", CONFIGS, ids=[f"{e}-{p or 'config'}" for e, p in CONFIGS])
def test_check_env__every_registered_env_and_preset(env_id, preset):
    # eager execution compiles op by op (slow): compare it with jit once per game
    report = htjax.testing.check_env(htjax.make(env_id, preset=preset), eager=preset is None)
    assert "illegal_never_pays" in report.passed and "replay" in report.passed


@pytest.mark.parametrize("env", [HighCard(), MatchingPennies(), HighCard(stake=2.5)], ids=repr)
def test_check_env__toy_envs(env):
    htjax.testing.check_env(env)


def test_check_env__with_explicit_rule_parameters():
    env = HighCard()
    htjax.testing.check_env(env, env.params(stake=7.0))


def test_check_env__a_users_registered_game_runs_through_make():
    htjax.register("my_high_card", HighCard)
    env = htjax.make("my_high_card", max_draws=2)
    assert "my_high_card" in htjax.available_envs()
    report = htjax.testing.check_env(env)
    assert len(report.passed) == 14


class _NoForfeit(MatchingPennies):
    """Broken: an illegal action costs only the penalty, but legal play can lose every round."""

    def _forfeit(self, state, offenders, params):
        return jnp.zeros(2, jnp.float32)


class _LeakyBounds(HighCard):
    """Broken: declares bounds its observations leave, and moves state on illegal actions."""

    @property
    def observation_bounds(self):
        low, high = super().observation_bounds
        return np.zeros_like(low), np.full_like(high, 0.01)


def test_check_env__fails_a_game_whose_illegal_action_pays():
    with pytest.raises(htjax.testing.ConformanceError, match="illegal_never_pays"):
        htjax.testing.check_env(_NoForfeit(rounds=5))


def test_check_env__fails_observations_outside_the_bounds():
    with pytest.raises(htjax.testing.ConformanceError, match="bounds") as err:
        htjax.testing.check_env(_LeakyBounds())
    assert isinstance(err.value, AssertionError) and isinstance(err.value, htjax.HtjaxError)


# ---------------------------------------------------------------------------- rule parameters
def test_params__validated_through_the_config():
    env = HighCard()
    assert float(env.default_params["stake"]) == 1.0
    assert float(env.params(stake=3.0)["stake"]) == 3.0
    with pytest.raises(htjax.ConfigError, match="stake"):
        env.params(stake=-1.0)
    with pytest.raises(htjax.ConfigError, match="max_draws"):
        env.params(max_draws=3)  # structural: not a rule parameter
    with pytest.raises(htjax.ConfigError, match="world 1"):
        env.batch_params([{"stake": 1.0}, {"stake": np.ones(2)}])
    batch = env.batch_params([{"stake": 1.0}, {}, {"stake": 4.0}])
    np.testing.assert_array_equal(batch["stake"], [1.0, 1.0, 4.0])


def test_params__rollout_mixing_four_settings_equals_separate_envs_and_traces_once():
    base = HighCard()
    stakes = [0.5, 1.0, 2.0, 8.0]
    n = 8
    env_params = base.batch_params([{"stake": stakes[i % 4]} for i in range(n)])
    chex.clear_trace_counter()
    traced = []

    def policy(params, obs, mask, key):
        traced.append(1)
        return htjax.random_policy(params, obs, mask, key)

    key = jax.random.PRNGKey(3)
    mixed = htjax.rollout(base, policy, key, num_envs=n, num_steps=12, env_params=env_params)
    again = htjax.rollout(
        base, policy, jax.random.PRNGKey(4), num_envs=n, num_steps=12, env_params=env_params
    )
    assert len(traced) == 1 and again.trajectory.rewards.shape == mixed.trajectory.rewards.shape
    for stake in stakes:
        alone = htjax.rollout(HighCard(stake=stake), htjax.random_policy, key, num_envs=n, num_steps=12)
        worlds = [i for i in range(n) if stakes[i % 4] == stake]
        np.testing.assert_array_equal(
            np.asarray(mixed.trajectory.rewards)[:, worlds], np.asarray(alone.trajectory.rewards)[:, worlds]
        )
        np.testing.assert_array_equal(
            np.asarray(mixed.trajectory.action)[:, worlds], np.asarray(alone.trajectory.action)[:, worlds]
        )


def test_params__replay_with_the_worlds_parameters_is_exact():
    env = HighCard()
    p = env.params(stake=3.0)
    r = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(1), num_envs=2, num_steps=6, env_params=p)
    t = r.trajectory
    ends = np.flatnonzero(np.asarray(t.done)[:, 0])
    assert ends.size, "no episode ended in world 0"
    end = int(ends[0])
    states = htjax.replay_episode(env, t.episode_key[0, 0], t.action[: end + 1, 0], env_params=p)
    np.testing.assert_array_equal(np.asarray(states.rewards[-1]), np.asarray(t.rewards[end, 0]))
    assert abs(float(np.abs(np.asarray(states.rewards[-1])).max())) in (0.0, 3.0)


def test_replay_refuses_float_actions():
    env = HighCard()
    with pytest.raises(htjax.InvalidActionError, match="integers"):
        htjax.replay_episode(env, jax.random.PRNGKey(0), np.zeros(3, np.float32))


def test_rollout_refuses_env_params_with_the_wrong_batch():
    env = HighCard()
    with pytest.raises(htjax.ConfigError, match="shape"):
        htjax.rollout(
            env,
            htjax.random_policy,
            jax.random.PRNGKey(0),
            num_envs=4,
            num_steps=2,
            env_params=env.batch_params([{"stake": 1.0}] * 3),
        )


# ---------------------------------------------------------------------------- registry and config
def test_unknown_env_id_names_the_available_ones():
    with pytest.raises(htjax.UnknownEnvError) as err:
        htjax.make("blackjak")
    for env_id in htjax.available_envs():
        assert env_id in str(err.value)


def test_bad_config_field_is_named():
    with pytest.raises(htjax.ConfigError, match="max_draws"):
        HighCard(max_draws=0)
    with pytest.raises(htjax.ConfigError, match="no_such_field"):
        HighCard(no_such_field=1)
    with pytest.raises(htjax.ConfigError, match="preset"):
        HighCard(preset="nope")
    assert issubclass(htjax.ConfigError, htjax.HtjaxError) and issubclass(htjax.ConfigError, ValueError)


def test_env_is_hashable_by_config():
    assert HighCard() == HighCard() and hash(HighCard()) == hash(HighCard())
    assert HighCard(max_draws=3) != HighCard()
    assert htjax.describe(HighCard())["config"] == {"max_draws": 4, "stake": 1.0}


def test_observe_under_jit_gives_a_seat_that_does_not_exist_no_view():
    env = HighCard()
    s = env.init(jax.random.PRNGKey(0))
    for seat in (7, -1):
        out = jax.jit(env.observe)(s, jnp.int32(seat))
        assert out.shape == env.observation_shape and not np.asarray(out).any()
    assert np.asarray(jax.jit(env.observe)(s, jnp.int32(1))).any()  # a real seat still sees its card
