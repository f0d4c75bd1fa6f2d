"""htjax.evaluate: exactly N complete episodes per world, unbiased where a fixed-step rollout is not."""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
from htjax.core.config import EnvConfig
from htjax.core.env import Env, State
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import step_key

LONG = 4  # steps of a "long" episode


@dataclasses.dataclass(frozen=True)
class ShortOrLongConfig(EnvConfig):
    pass


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class ShortOrLongState(State):
    long: jax.Array  # bool[]: this episode plays on to LONG steps


class ShortOrLong(Env):
    """One seat. Step 0 offers ``quit`` (ends at once, reward +1) or ``play`` (the episode runs to
    ``LONG`` steps, only ``play`` legal, reward 0). A uniformly random policy's true mean return
    is 1/2, but short episodes (return 1) finish more often within a fixed number of steps."""

    id = "toy_short_or_long"
    version = "v0"
    config_class = ShortOrLongConfig
    num_players = 1
    num_actions = 2
    action_labels = ("quit", "play")

    def _init(self, key, params=None):
        return ShortOrLongState(
            current_player=jnp.int32(0),
            observation=jnp.zeros(1, jnp.float32),
            rewards=jnp.zeros(1, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=jnp.array([True, True]),
            step_count=jnp.int32(0),
            long=jnp.bool_(False),
        )

    def _step(self, state, action, key, params=None):
        first = state.step_count == 0
        long = jnp.where(first, action == 1, state.long)
        quit_now = first & (action == 0)
        over = quit_now | (long & (state.step_count + 1 >= LONG))
        return state.replace(
            long=long,
            terminated=over,
            rewards=jnp.where(quit_now, 1.0, 0.0)[None].astype(jnp.float32),
            legal_action_mask=jnp.array([False, True]),
        )

    def _observe(self, state, player, params=None):
        return state.step_count[None].astype(jnp.float32)


@pytest.fixture(scope="module")
def env():
    return ShortOrLong()


def _by_hand(env, key, num_envs, num_episodes):
    """The same episodes played one step at a time in Python: ``returns[w][k]``, ``lengths[w][k]``."""
    from htjax.core.keys import episode_key_for, key_data, policy_keys, world_keys

    env_root, pol_root = jax.random.split(key_data(key))
    wkeys = world_keys(env_root, num_envs)
    init, step = jax.jit(env.init), jax.jit(env.step)
    returns = [[] for _ in range(num_envs)]
    lengths = [[] for _ in range(num_envs)]
    states = [init(episode_key_for(wkeys[w], 0)) for w in range(num_envs)]
    index = [0] * num_envs
    run = [0.0] * num_envs
    t = 0
    while any(len(r) < num_episodes for r in returns):
        pkeys = policy_keys(pol_root, t, num_envs)
        for w in range(num_envs):
            if len(returns[w]) == num_episodes:
                continue
            s = states[w]
            a = htjax.random_policy(None, s.observation, s.legal_action_mask, pkeys[w])
            ekey = episode_key_for(wkeys[w], index[w])
            s = step(s, a, step_key(ekey, s.step_count))
            run[w] += float(s.rewards[0])
            if bool(s.terminated | s.truncated):
                returns[w].append(run[w])
                lengths[w].append(int(s.step_count))
                run[w], index[w] = 0.0, index[w] + 1
                s = init(episode_key_for(wkeys[w], index[w]))
            states[w] = s
        t += 1
    return np.array(returns), np.array(lengths)


def test_evaluate__plays_exactly_n_episodes_per_world_as_a_step_by_step_loop_does(env):
    key = jax.random.PRNGKey(7)
    result = htjax.evaluate(env, htjax.random_policy, 5, num_envs=6, key=key)
    returns, lengths = _by_hand(env, key, 6, 5)
    assert result.returns.shape == (6, 5, 1) and result.episodes == 30
    np.testing.assert_array_equal(result.returns[..., 0], returns)
    np.testing.assert_array_equal(result.lengths, lengths)
    assert set(np.unique(lengths)) <= {1, LONG}
    assert result.mean_return[0] == pytest.approx(returns.mean())
    assert result.stderr[0] == pytest.approx(returns.std(ddof=1) / np.sqrt(30))
    assert result.env_steps == lengths.sum()


def test_evaluate__unbiased_where_a_fixed_step_rollout_favours_short_episodes(env):
    # True mean 1/2. Rollout of 6 steps per world: a world that plays on first finishes one
    # episode (0); one that quits first goes on to finish more, short ones counting 1 each.
    n_worlds = 4096
    result = htjax.evaluate(env, htjax.random_policy, 3, num_envs=n_worlds, key=jax.random.PRNGKey(1))
    assert abs(result.mean_return[0] - 0.5) < 4 * result.stderr[0]
    assert result.stderr[0] == pytest.approx(0.5 / np.sqrt(3 * n_worlds), rel=0.05)
    traj = htjax.rollout(
        env, htjax.random_policy, jax.random.PRNGKey(1), n_worlds, 6, record_observations=False
    ).trajectory
    done = np.asarray(traj.done)
    fixed_mean = float(np.asarray(traj.rewards)[..., 0][done].mean())  # each finished episode's return
    assert fixed_mean > 0.5 + 10 * result.stderr[0]


def test_evaluate__argument_errors(env):
    with pytest.raises(InvalidArgumentError, match="num_episodes"):
        htjax.evaluate(env, htjax.random_policy, 0)
    with pytest.raises(InvalidArgumentError, match="num_envs"):
        htjax.evaluate(env, htjax.random_policy, 1, num_envs=-3)
