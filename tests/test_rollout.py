"""Batched rollouts: auto-reset, the trajectory record, exact replay, sharding."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_envs import HighCard, MatchingPennies

import htjax
from htjax.core import rollouts as rollout_mod
from htjax.core.keys import episode_key_for, key_data

N, T = 8, 24


@pytest.fixture(scope="module")
def toy_rollout():
    env = HighCard()
    return env, htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), N, T)


def test_trajectory_shapes(toy_rollout):
    env, r = toy_rollout
    tr = r.trajectory
    assert tr.action.shape == (T, N) and tr.action.dtype == jnp.int32
    assert tr.rewards.shape == (T, N, env.num_players)
    assert tr.episode_key.shape == (T, N, 2) and tr.episode_key.dtype == jnp.uint32
    assert tr.observation.shape == (T, N) + env.observation_shape
    assert tr.final_observation.shape == (T, N) + env.observation_shape
    assert tr.legal_action_mask.shape == (T, N, env.num_actions)


def test_auto_reset_starts_the_next_episode_of_the_world(toy_rollout):
    env, r = toy_rollout
    tr = jax.device_get(r.trajectory)
    done = tr.terminated | tr.truncated
    assert done.any(), "no episode ended"
    for t in range(T - 1):
        for w in range(N):
            if done[t, w]:
                assert tr.step_index[t + 1, w] == 0
                assert tr.episode_index[t + 1, w] == tr.episode_index[t, w] + 1
            else:
                assert tr.step_index[t + 1, w] == tr.step_index[t, w] + 1
                assert np.array_equal(tr.episode_key[t + 1, w], tr.episode_key[t, w])
    # final observation only where an episode ended
    assert np.all(tr.final_observation[~done] == 0)


def test_episode_keys_follow_the_world_key_stream(toy_rollout):
    _, r = toy_rollout
    tr = jax.device_get(r.trajectory)
    for w in range(N):
        for e in np.unique(tr.episode_index[:, w]):
            t = np.flatnonzero(tr.episode_index[:, w] == e)[0]
            expected = episode_key_for(r.carry.world_key[w], int(e))
            assert np.array_equal(tr.episode_key[t, w], np.asarray(key_data(expected)))


def test_every_recorded_episode_replays_exactly(toy_rollout):
    env, r = toy_rollout
    tr = jax.device_get(r.trajectory)
    replay = jax.jit(htjax.replay_episode, static_argnums=0)
    for w in range(N):
        for e in np.unique(tr.episode_index[:, w]):
            steps = np.flatnonzero(tr.episode_index[:, w] == e)
            actions = np.zeros(T, np.int32)
            actions[: len(steps)] = tr.action[steps, w]
            states = replay(env, tr.episode_key[steps[0], w], jnp.asarray(actions), len(steps))
            for i, t in enumerate(steps):
                np.testing.assert_array_equal(states.observation[i], tr.observation[t, w])
                np.testing.assert_array_equal(states.rewards[i + 1], tr.rewards[t, w])
                assert bool(states.terminated[i + 1]) == bool(tr.terminated[t, w])
            if tr.terminated[steps[-1], w]:
                np.testing.assert_array_equal(
                    states.observation[len(steps)], tr.final_observation[steps[-1], w]
                )


def test_select_and_cond_autoreset_agree():
    env = HighCard()
    a = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(1), N, T, autoreset="select")
    b = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(1), N, T, autoreset="cond")
    chex.assert_trees_all_equal(a.trajectory, b.trajectory)
    chex.assert_trees_all_equal(a.carry, b.carry)


def test_continuing_from_a_carry_equals_one_long_rollout():
    env = HighCard()
    whole = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(2), N, 2 * T)
    first = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(2), N, T)
    second = htjax.rollout(env, htjax.random_policy, None, N, T, carry=first.carry)
    joined = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), first.trajectory, second.trajectory)
    chex.assert_trees_all_equal(joined, whole.trajectory)


def test_params_are_traced_not_static():
    env = HighCard()

    def threshold_policy(params, obs, mask, key):
        return jnp.where((obs[0] < params) & mask[0], 0, 1).astype(jnp.int32)

    fn = rollout_mod._compiled_steps(
        env, threshold_policy, T, "select", True, None, None
    )  # one device, no tiles
    for p in (0.2, 0.5, 0.9):
        htjax.rollout(env, threshold_policy, jax.random.PRNGKey(3), N, T, jnp.float32(p))
    assert fn._cache_size() == 1


def test_simultaneous_env_rollout():
    env = MatchingPennies(rounds=3)
    r = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(4), N, 9)
    tr = jax.device_get(r.trajectory)
    assert tr.action.shape == (9, N, 2)
    assert np.all((tr.action >= 0) & (tr.action < 2)), "the masked action 2 was chosen"
    assert np.all(tr.truncated[2::3]) and not tr.truncated[0::3].any()
    np.testing.assert_array_equal(tr.rewards.sum(-1), 0)


def test_world_tiles_change_no_value():
    """Stepping the worlds tile by tile (``world_tile``) is only a different order of the work:
    every world keeps its keys, so trajectory and carry equal the one-loop rollout's."""
    env = HighCard()
    whole = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(6), N, T)
    for tile in (1, 2, N):
        tiled = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(6), N, T, world_tile=tile)
        chex.assert_trees_all_equal(tiled.trajectory, whole.trajectory)
        chex.assert_trees_all_equal(tiled.carry, whole.carry)
    more = htjax.rollout(env, htjax.random_policy, None, N, T, carry=whole.carry, world_tile=4)
    chex.assert_trees_all_equal(
        more.trajectory, htjax.rollout(env, htjax.random_policy, None, N, T, carry=whole.carry).trajectory
    )


def test_bad_world_tiles_are_refused_by_name():
    env = HighCard()
    for tile in (0, -2, 3, 16, 2.0, True, "4"):
        with pytest.raises(htjax.InvalidArgumentError, match="world_tile"):
            htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), N, 2, world_tile=tile)


def test_bad_rollout_arguments():
    env = HighCard()
    with pytest.raises(ValueError, match="num_envs"):
        htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), 0, 5)
    with pytest.raises(ValueError, match="num_steps"):
        htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), 2, 0)
    with pytest.raises(ValueError, match="autoreset"):
        htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), 2, 2, autoreset="always")
    with pytest.raises(ValueError, match="divisible"):
        htjax.rollout_start(env, jax.random.PRNGKey(0), 3, devices=jax.local_devices() * 2)


def test_sharded_rollout_over_four_host_devices_matches_one_device():
    code = textwrap.dedent(
        """
        import sys; sys.path.insert(0, "tests")
        import jax, chex, htjax
        from toy_envs import HighCard
        assert jax.local_device_count() == 4, jax.local_devices()
        env = HighCard()
        a = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(5), 8, 12, devices="all")
        b = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(5), 8, 12)
        assert len(a.trajectory.action.sharding.device_set) == 4, a.trajectory.action.sharding
        # split by world, not a copy of every world on every device
        for leaf in jax.tree_util.tree_leaves((a.carry.state, a.carry.episode_key, a.trajectory.action)):
            assert not leaf.sharding.is_fully_replicated, leaf.sharding
        from htjax.core.rollouts import rollout_start
        started = jax.jit(lambda k: rollout_start(env, k, 8, devices="all"))(jax.random.PRNGKey(5))
        for leaf in jax.tree_util.tree_leaves(started.state):
            assert not leaf.sharding.is_fully_replicated, leaf.sharding  # also when started under jit
        chex.assert_trees_all_equal(jax.device_get(a.trajectory), jax.device_get(b.trajectory))
        # each device steps its own worlds (shard_map): blackjack's rare_cond `any` stays on the
        # device, so the compiled loop has no collective at all, and the values are unchanged
        from htjax.core import rollouts
        bj = htjax.make("blackjack", num_decks=1)
        c = htjax.rollout(bj, htjax.random_policy, jax.random.PRNGKey(2), 16, 30, devices="all")
        d = htjax.rollout(bj, htjax.random_policy, jax.random.PRNGKey(2), 16, 30)
        chex.assert_trees_all_equal(jax.device_get(c), jax.device_get(d))
        # tiles of each device's share: the same values again
        e = htjax.rollout(bj, htjax.random_policy, jax.random.PRNGKey(2), 16, 30, devices="all", world_tile=2)
        chex.assert_trees_all_equal(jax.device_get(e), jax.device_get(d))
        try:  # 4 worlds per device: a tile of 8 cannot divide a device's share
            htjax.rollout(bj, htjax.random_policy, jax.random.PRNGKey(2), 16, 3, devices="all", world_tile=8)
            raise AssertionError("a tile larger than a device's share was accepted")
        except htjax.InvalidArgumentError as e:
            assert "world_tile" in str(e), e
        start = rollouts.rollout_start(bj, jax.random.PRNGKey(2), 16, devices="all")
        fn = rollouts._compiled_steps(bj, htjax.random_policy, 30, "select", True, rollouts.carry_mesh(start))
        hlo = fn.lower(start, None).compile().as_text()
        assert "all-reduce" not in hlo and "all-gather" not in hlo, "collective in the sharded loop"
        print("sharded ok")
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sharded ok" in out.stdout


def test_random_policy_is_uniform_over_legal_actions():
    mask = jnp.array([False, True, False, True, True, False])
    keys = jax.random.split(jax.random.PRNGKey(6), 30_000)
    acts = np.asarray(
        jax.jit(jax.vmap(htjax.random_policy, in_axes=(None, None, None, 0)))(None, None, mask, keys)
    )
    counts = np.bincount(acts, minlength=6)
    assert counts[~np.asarray(mask)].sum() == 0
    assert np.all(np.abs(counts[np.asarray(mask)] / len(keys) - 1 / 3) < 0.015)


@pytest.mark.parametrize("env_id", ["blackjack", "holdem", "prisoners_dilemma"])
def test_observing_once_after_the_reset_select_changes_nothing(env_id):
    """Without recorded observations, the rollout observes each world once, after choosing
    between the stepped and the fresh state: the carry and the recorded outcome are the same.
    (``finish`` after the unobserved step/init equals step/init, compared jitted: op by op, one
    step of the larger games costs seconds of per-operation compiles.)"""
    env = htjax.make(env_id)
    key = jax.random.PRNGKey(5)
    seen = htjax.rollout(env, htjax.random_policy, key, 4, 12, record_observations=True)
    once = htjax.rollout(env, htjax.random_policy, key, 4, 12, record_observations=False)
    chex.assert_trees_all_equal(seen.carry, once.carry)
    for field in ("action", "rewards", "terminated", "truncated", "episode_key", "step_index"):
        chex.assert_trees_all_equal(getattr(seen.trajectory, field), getattr(once.trajectory, field))
    state = jax.tree_util.tree_map(lambda x: x[0], once.carry.state)
    k = htjax.step_key(key, 0)
    action = np.zeros(env.num_players, np.int32) if env.simultaneous else np.int32(0)
    finish_step = jax.jit(lambda s, a, k: env.finish(env.step_unobserved(s, a, k)))
    finish_init = jax.jit(lambda k: env.finish(env.init_unobserved(k)))
    chex.assert_trees_all_equal(finish_step(state, action, k), jax.jit(env.step)(state, action, k))
    chex.assert_trees_all_equal(finish_init(key), jax.jit(env.init)(key))
