"""Pinned Gymnasium-adapter trajectories: the same seed gives the same episodes, release after release.

The digests below were recorded with the adapter as it stood before its fast path (one packed
state buffer per world, see ``htjax.adapters.programs``) and must never change unless the
env's rules or the key schedule do (then ``KEY_SCHEDULE`` or the env version changes too, and
the digests are re-recorded on purpose). Each run resets with a seed, plays a fixed action
stream (legal actions picked from a seeded numpy generator), resets without a seed when an
episode ends (the world's episode stream) and steps a finished episode once to pin that too.

A second test checks the blackjack runs against the core env itself: every episode replays
from its episode key with :func:`htjax.replay_episode`, so the pinned values are the rules'
values, not only the adapter's.
"""

from __future__ import annotations

import hashlib

import gymnasium
import jax
import numpy as np
import pytest

import htjax

STEPS = 40

# gym id -> (make kwargs, seed, sha256 of the run, rewards of the run); recorded before the fast path.
# fmt: off
PINNED = {
    "htjax/BlackjackGymnasium-v0": (
        {}, 2024,
        "0b3e48eb41d71f11a9cd52ab1eb3c96d04cd9967f35de15855cb6d2bd71ab9e1",
        [
            -1.0, 0.0, 0.0, 1.0, -1.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, -1.0, 1.0, 1.0,
            -1.0, 0.0, 0.0, 0.0, -1.0, -1.0, 1.0, -1.0, 0.0, -1.0, 0.0, 1.0, -1.0, 1.0,
            -1.0, 0.0, -1.0, -1.0, 1.0, -1.0, 0.0, -1.0, 0.0, 1.0, -1.0, 1.0,
        ],
    ),
    "htjax/Blackjack-v0": (
        {}, 7,
        "54560ff1723694561126780039395a377b28f201e4e30dbac93efa6359d5914c",
        [
            0.0, 10.0, 0.0, -4.0, 0.0, -1.0, 15.0, 0.0, -10.0, 0.0, 25.0, 0.0, 0.0, -2.0,
            0.0, 0.0, -2.0, 0.0, -1.0, 0.0, -10.0, 0.0, 0.0, 0.0, -4.0, 0.0, -1.0, 0.0,
            0.0, -2.0, 0.0, 0.0, -25.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.5, 0.0,
        ],
    ),
    "htjax/IPD-TitForTat-v0": (
        {"rounds": 12, "noise": 0.1}, 11,
        "152800a78bc9d05627cfeb37d232e67db0217912fe5084c1d8ec7da44f8b64f6",
        [
            3.0, 5.0, 1.0, 1.0, 0.0, 0.0, 3.0, 3.0, 5.0, 0.0, 3.0, 3.0, 3.0, 5.0,
            1.0, 0.0, 3.0, 5.0, 0.0, 5.0, 1.0, 0.0, 5.0, 1.0, 3.0, 3.0, 5.0, 0.0,
            3.0, 0.0, 3.0, 3.0, 5.0, 0.0, 5.0, 1.0, 3.0, 5.0, 1.0, 0.0,
        ],
    ),
    "htjax/HoldemHeadsUp-v0": (
        {}, 5,
        "c56cfcd2a54a11591c3ff24068ca6abb2703ba37e718f0f05b72b622e9a40a9a",
        [
            0.0, 0.0, 0.0, -45.0, 50.0, 0.0, 0.0, 0.0, 32.0, 50.0, 0.0, 0.0, 0.0, -36.0,
            0.0, 0.0, 0.0, -50.0, 0.0, 0.0, 0.0, -6.0, 50.0, 0.0, 0.0, 0.0, 50.0, -50.0,
            0.0, 0.0, 0.0, 50.0, 0.0, 0.0, 0.0, -6.5, 0.0, 0.0, 0.0, -45.0,
        ],
    ),
}
# fmt: on


def _run(gym_id: str, kwargs: dict, seed: int, steps: int = STEPS):
    """Play ``steps`` steps; returns (digest, rewards, episodes) where episodes holds
    ``(episode_key, actions, rewards, observations)`` per finished episode."""
    env = gymnasium.make(gym_id, **kwargs).unwrapped
    rng = np.random.default_rng(seed + 1)
    digest = hashlib.sha256()

    def feed(*values):
        for v in values:
            digest.update(np.ascontiguousarray(np.asarray(v)).tobytes())
            digest.update(repr(type(v)).encode())

    obs, info = env.reset(seed=seed)
    feed(obs if not isinstance(obs, tuple) else np.asarray(obs), info["action_mask"], env.episode_key)
    rewards, episodes = [], []
    actions, ep_rewards, observations = [], [], [obs]
    stepped_finished = False
    for _ in range(steps):
        legal = np.flatnonzero(info["action_mask"])
        action = int(rng.choice(legal))
        obs, reward, terminated, truncated, info = env.step(action)
        feed(obs if not isinstance(obs, tuple) else np.asarray(obs), reward, terminated, truncated)
        feed(info["action_mask"], info["illegal_action"])
        rewards.append(float(reward))
        actions.append(action)
        ep_rewards.append(float(reward))
        observations.append(obs)
        if terminated or truncated:
            if not stepped_finished:  # a finished episode ignores the step: reward 0, same flags
                again = env.step(0)
                feed(np.asarray(again[0]) if isinstance(again[0], tuple) else again[0], *again[1:4])
                assert again[1] == 0.0 and again[2:4] == (terminated, truncated)
                stepped_finished = True
            episodes.append((env.episode_key, actions, ep_rewards, observations))
            obs, info = env.reset()
            feed(obs if not isinstance(obs, tuple) else np.asarray(obs), info["action_mask"], env.episode_key)
            actions, ep_rewards, observations = [], [], [obs]
    return digest.hexdigest(), rewards, episodes


@pytest.mark.parametrize("gym_id", sorted(PINNED))
def test_seeded_runs__are_the_pinned_trajectories(gym_id):
    kwargs, seed, pinned_digest, pinned_rewards = PINNED[gym_id]
    digest, rewards, _ = _run(gym_id, kwargs, seed)
    assert rewards == pinned_rewards
    assert digest == pinned_digest


@pytest.mark.parametrize("gym_id", ["htjax/BlackjackGymnasium-v0", "htjax/Blackjack-v0"])
def test_seeded_runs__every_episode_replays_from_its_key_in_the_core_env(gym_id):
    kwargs, seed = PINNED[gym_id][:2]
    _, _, episodes = _run(gym_id, kwargs, seed)
    env = gymnasium.make(gym_id).unwrapped
    core = env.htjax_env
    assert len(episodes) >= 5
    # one jitted replay for every episode: actions padded to the longest, steps past ``length``
    # leave the state as it is (replay_episode's padding rule); the states are read on the host
    replay = jax.jit(lambda key, actions, length: htjax.replay_episode(core, key, actions, length))
    classic = jax.jit(core.classic_observation)
    longest = max(len(actions) for _, actions, _, _ in episodes)
    for key, actions, rewards, observations in episodes:
        n = len(actions)
        padded = np.zeros(longest, np.int32)
        padded[:n] = actions
        replayed = replay(key, padded, n)
        states = jax.device_get(replayed)
        np.testing.assert_allclose(states.rewards[1 : n + 1, 0], rewards)
        views = np.asarray(classic(replayed))  # int32[longest + 1, 3]
        for t, obs in enumerate(observations):
            if isinstance(obs, tuple):
                assert obs == tuple(int(v) for v in views[t])
            else:
                np.testing.assert_array_equal(obs, states.observation[t])
