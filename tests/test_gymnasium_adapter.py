"""Gymnasium adapters: check_env, vector env vs single env, autoreset modes, masks, seeds, errors."""

from __future__ import annotations

import warnings

import chex
import gymnasium
import jax
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from toy_envs import HighCard
from toy_solo import SoloDraw

import htjax
from htjax.adapters.gymnasium import (
    GYM_IDS,
    HtjaxGymEnv,
    HtjaxOpponentsEnv,
    HtjaxVectorEnv,
    register_gymnasium_envs,
    seed_key,
)
from htjax.core.env import HtjaxError, InvalidActionError, UnknownEnvError
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import episode_key_for

N = 4
SOLO = SoloDraw(max_steps=4)


def _check_env_quietly(env):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env)


@pytest.fixture(scope="module")
def solo():
    return HtjaxGymEnv(SOLO, render_mode="ansi")


# --------------------------------------------------------------------------- single env
def test_check_env__passes_for_a_toy_env(solo):
    _check_env_quietly(solo)


def test_spaces__box_and_discrete_from_the_env(solo):
    assert solo.action_space == gymnasium.spaces.Discrete(3)
    assert solo.observation_space.shape == (2,)
    assert solo.observation_space.dtype == np.float32


def test_reset__same_seed_same_episode_and_next_reset_continues_the_stream(solo):
    first, _ = solo.reset(seed=7)
    key0 = solo.episode_key
    second, _ = solo.reset()
    key1 = solo.episode_key
    again, _ = solo.reset(seed=7)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(key0, solo.episode_key)
    world = seed_key(7)
    np.testing.assert_array_equal(key0, np.asarray(episode_key_for(world, 0)))
    np.testing.assert_array_equal(key1, np.asarray(episode_key_for(world, 1)))
    assert not np.array_equal(key0, key1)


def test_seed_key__matches_prng_key_and_rejects_bad_seeds():
    for seed in (0, 1, 123, 2**32 - 1):
        np.testing.assert_array_equal(seed_key(seed), np.asarray(jax.random.PRNGKey(seed)))
    np.testing.assert_array_equal(seed_key(2**32 + 5), [1, 5])
    for bad in (-1, 2**64, 1.5, "3", True):
        with pytest.raises(InvalidArgumentError, match=r"seed must be an int in \[0, 2\*\*64\)"):
            seed_key(bad)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "3", True])
def test_reset__bad_seed_is_the_same_error_in_every_adapter(solo, seed):
    from htjax.adapters.pettingzoo import aec_env

    for env in (solo, HtjaxVectorEnv(2, SOLO), aec_env(HighCard())):
        with pytest.raises(InvalidArgumentError, match=r"seed must be an int in \[0, 2\*\*64\)"):
            env.reset(seed=seed)


def test_step__episode_replays_exactly_from_its_key(solo):
    solo.reset(seed=11)
    key = solo.episode_key
    actions = [2, 0, 0, 1]
    rewards = []
    for a in actions:
        _, r, term, trunc, _ = solo.step(a)
        rewards.append(r)
        if term or trunc:
            break
    states = htjax.replay_episode(SOLO, key, np.array(actions[: len(rewards)]))
    np.testing.assert_allclose(np.asarray(states.rewards[1:, 0]), rewards)
    np.testing.assert_array_equal(np.asarray(states.observation[-1]), np.asarray(solo.state.observation))


def test_info__action_mask_follows_the_state(solo):
    _, info = solo.reset(seed=0)
    np.testing.assert_array_equal(info["action_mask"], [1, 1, 1])
    assert info["action_mask"].dtype == np.int8
    _, _, _, _, info = solo.step(0)
    np.testing.assert_array_equal(info["action_mask"], [1, 1, 0])
    np.testing.assert_array_equal(solo.action_masks(), [True, True, False])
    # The mask is usable directly with Gymnasium's masked sampling.
    assert solo.action_space.sample(mask=info["action_mask"]) in (0, 1)


def test_step__masked_action_follows_the_illegal_action_rule(solo):
    solo.reset(seed=0)
    solo.step(0)  # now "peek" (2) is masked
    before = jax.device_get(solo.state)
    obs, reward, terminated, truncated, info = solo.step(2)
    assert (reward, terminated, truncated, info["illegal_action"]) == (-1.0, True, False, True)
    after = jax.device_get(solo.state)
    np.testing.assert_array_equal(after.card, before.card)
    np.testing.assert_array_equal(info["action_mask"], [1, 1, 1])


@pytest.mark.parametrize(
    "action, message",
    [
        (3, r"out of range \[0, 3\)"),
        (-1, r"out of range \[0, 3\)"),
        (1.0, "must be an integer"),
        (True, "must be an integer"),
        (np.array([0, 1]), r"must have shape \(\)"),
        ("stop", "must be an integer"),
    ],
)
def test_step__bad_action_raises_before_anything_runs(solo, action, message):
    solo.reset(seed=3)
    buffers = solo._buffers
    with pytest.raises(InvalidActionError, match=message):
        solo.step(action)
    assert solo._buffers is buffers


@pytest.mark.parametrize("action", [3, -1, 1.0, True, "stop"])
def test_step__the_same_mistake_is_the_same_error_in_both_adapters(solo, action):
    """One check (Env.validate_action) behind both adapters: same type, same core message."""
    from htjax.adapters.pettingzoo import aec_env

    solo.reset(seed=3)
    with pytest.raises(InvalidActionError) as gym_err:
        solo.step(action)
    pz = aec_env(SoloDraw(max_steps=4))
    pz.reset(seed=3)
    with pytest.raises(InvalidActionError) as pz_err:
        pz.step(action)
    core_message = str(gym_err.value).split(": ", 1)[1]
    assert core_message in str(pz_err.value)


def test_step__truncation_is_reported(solo):
    solo.reset(seed=5)
    flags = [solo.step(0)[2:4] for _ in range(4)]
    assert flags[-1] == (False, True)
    assert all(f == (False, False) for f in flags[:-1])


def test_render__ansi_text_is_the_env_render_text(solo):
    solo.reset(seed=0)
    text = solo.render()
    assert text == SOLO.render_text(jax.device_get(solo.state)) and "toy_solo_draw" in text


def test_render__unsupported_mode_warns_as_gymnasium_does():
    with pytest.warns(UserWarning, match="render_mode='rgb_array' is accepted"):
        env = HtjaxGymEnv(SOLO, render_mode="rgb_array")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match=r"render\(\) called with render_mode='rgb_array'"):
        assert env.render() is None


def test_errors__unknown_env_multi_seat_unknown_view_options():
    with pytest.raises(UnknownEnvError, match="available envs"):
        HtjaxGymEnv("no_such_game")
    with pytest.raises(InvalidArgumentError, match="single-agent.*HtjaxOpponentsEnv"):
        HtjaxGymEnv(HighCard())
    with pytest.raises(InvalidArgumentError, match="HtjaxOpponentsEnv"):
        HtjaxGymEnv(HighCard(), opponents={1: "random"})
    with pytest.raises(InvalidArgumentError, match="single-agent"):
        HtjaxVectorEnv(2, HighCard())
    with pytest.raises(InvalidArgumentError, match="observation view"):
        HtjaxGymEnv(SOLO, observation="pixels")
    with pytest.raises(InvalidArgumentError, match="classic"):
        HtjaxGymEnv(SOLO, observation="classic")
    with pytest.raises(InvalidArgumentError, match="render_mode must be None or a string"):
        HtjaxGymEnv(SOLO, render_mode=1)
    with pytest.raises(InvalidArgumentError, match="num_envs"):
        HtjaxVectorEnv(0, SOLO)
    with pytest.raises(InvalidArgumentError, match="autoreset_mode"):
        HtjaxVectorEnv(2, SOLO, autoreset_mode="Disabled")
    with pytest.raises(InvalidArgumentError, match="reset option"):
        HtjaxGymEnv(SOLO).reset(seed=0, options={"deal": 1})
    with pytest.raises(InvalidArgumentError, match="reset options must be a dict"):
        HtjaxGymEnv(SOLO).reset(seed=0, options=[1])
    with pytest.raises(HtjaxError, match="reset"):
        HtjaxGymEnv(SOLO).step(0)
    with pytest.raises(gymnasium.error.Error):
        gymnasium.make("htjax/NoSuchGame-v0")


def test_compiled_once__instances_share_the_jitted_functions():
    a, b = HtjaxGymEnv(SOLO), HtjaxGymEnv(SoloDraw(max_steps=4))
    assert a._program is b._program
    for env in (a, b):
        env.reset(seed=1)
        env.step(0)
    assert a._program.step._cache_size() == 1
    va, vb = HtjaxVectorEnv(N, SOLO), HtjaxVectorEnv(N, SOLO)
    assert va._step_fn is vb._step_fn


# --------------------------------------------------------------------------- vector env
def _single_run(seed: int, actions: list[int]):
    """A single env driven like one sub-env of a NEXT_STEP vector env."""
    env = HtjaxGymEnv(SOLO)
    obs, info = env.reset(seed=seed)
    out = [(obs, 0.0, False, False, info["action_mask"])]
    needs_reset = False
    for a in actions:
        if needs_reset:
            obs, info = env.reset()
            r, term, trunc = 0.0, False, False
        else:
            obs, r, term, trunc, info = env.step(a)
        needs_reset = term or trunc
        out.append((obs, r, term, trunc, info["action_mask"]))
    return out


def _vector_actions(steps: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(steps, N))


def test_vector__matches_single_envs_seeded_s_plus_i():
    actions = _vector_actions(14)
    venv = HtjaxVectorEnv(N, SOLO)
    obs, info = venv.reset(seed=100)
    vec = [(obs, np.zeros(N), np.zeros(N, bool), np.zeros(N, bool), info["action_mask"])]
    for a in actions:
        o, r, term, trunc, info = venv.step(a)
        vec.append((o, r, term, trunc, info["action_mask"]))
    assert any(v[2].any() for v in vec) and any(v[3].any() for v in vec), "run should end episodes both ways"
    for i in range(N):
        single = _single_run(100 + i, list(actions[:, i]))
        for t, (s, v) in enumerate(zip(single, vec)):
            np.testing.assert_array_equal(s[0], v[0][i], err_msg=f"obs world {i} t {t}")
            assert s[1] == pytest.approx(v[1][i]) and s[2] == v[2][i] and s[3] == v[3][i]
            np.testing.assert_array_equal(s[4], v[4][i])


def test_vector__next_step_autoreset_ignores_the_action_and_starts_next_episode():
    venv = HtjaxVectorEnv(N, SOLO)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    venv.reset(seed=3)
    keys0 = venv.episode_keys
    _, r, term, _, _ = venv.step(np.ones(N, np.int64))  # everyone stops: all terminate
    assert term.all() and (r >= 0).all()
    results = []
    for action in (0, 1):
        probe = HtjaxVectorEnv(N, SOLO)
        probe.reset(seed=3)
        probe.step(np.ones(N, np.int64))
        results.append(probe.step(np.full(N, action)))
    for a, b in zip(results[0], results[1]):
        if isinstance(a, dict):
            np.testing.assert_array_equal(a["action_mask"], b["action_mask"])
        else:
            np.testing.assert_array_equal(a, b)
    obs, r, term, trunc, info = results[0]
    assert not term.any() and not trunc.any() and (r == 0).all()
    np.testing.assert_array_equal(info["action_mask"], np.ones((N, 3)))
    np.testing.assert_array_equal(obs[:, 1], 0.0)  # step count 0: a fresh episode
    probe_keys = np.asarray(
        jax.vmap(episode_key_for)(np.stack([seed_key(3 + i) for i in range(N)]), np.ones(N, np.int32))
    )
    venv.step(np.zeros(N, np.int64))
    np.testing.assert_array_equal(venv.episode_keys, probe_keys)
    assert not np.array_equal(keys0, probe_keys)


def _single_run_same_step(seed: int, actions: list[int]):
    """A single env driven like one sub-env of a SAME_STEP vector env."""
    env = HtjaxGymEnv(SOLO)
    obs, info = env.reset(seed=seed)
    out = [(obs, 0.0, False, False, info["action_mask"], None)]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        final = None
        if term or trunc:
            final = obs
            obs, info = env.reset()
        out.append((obs, r, term, trunc, info["action_mask"], final))
    return out


def test_vector__same_step_autoreset_matches_single_envs_and_reports_final_obs():
    actions = _vector_actions(10, seed=1)
    venv = HtjaxVectorEnv(N, SOLO, autoreset_mode="SameStep")
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = venv.reset(seed=9)
    vec = [(obs, np.zeros(N), np.zeros(N, bool), np.zeros(N, bool), info["action_mask"], None)]
    for a in actions:
        o, r, term, trunc, info = venv.step(a)
        finals = info.get("final_obs")
        if finals is not None:
            np.testing.assert_array_equal(info["_final_obs"], term | trunc)
        vec.append((o, r, term, trunc, info["action_mask"], finals))
    assert any(v[2].any() for v in vec[1:])
    for i in range(N):
        for t, (s, v) in enumerate(zip(_single_run_same_step(9 + i, list(actions[:, i])), vec)):
            np.testing.assert_array_equal(s[0], v[0][i], err_msg=f"obs world {i} t {t}")
            assert s[1] == pytest.approx(v[1][i]) and s[2] == v[2][i] and s[3] == v[3][i]
            np.testing.assert_array_equal(s[4], v[4][i])
            if s[5] is None:
                assert v[5] is None or v[5][i] is None
            else:
                np.testing.assert_array_equal(s[5], v[5][i])


def test_vector__bad_actions_raise_before_anything_runs():
    venv = HtjaxVectorEnv(N, SOLO)
    venv.reset(seed=0)
    state = venv.state
    for bad, message in (
        (np.zeros(N + 1, np.int64), r"must have shape \(4,\)"),
        (np.zeros(N, np.float32), "must be an integer"),
        (np.zeros(N, bool), "must be an integer"),
        (np.array([0, 1, 3, 0]), r"actions at world\(s\) \[2\]: .*out of range \[0, 3\)"),
        (np.array([0, -1, 0, 0]), r"actions at world\(s\) \[1\]: .*out of range"),
    ):
        with pytest.raises(InvalidActionError, match=message):
            venv.step(bad)
    chex.assert_trees_all_equal(venv.state, state)


def test_vector__info_masks_are_batched_and_illegal_actions_flagged():
    venv = HtjaxVectorEnv(N, SOLO)
    _, info = venv.reset(seed=0)
    assert info["action_mask"].shape == (N, 3) and info["action_mask"].dtype == np.int8
    _, _, _, _, info = venv.step(np.zeros(N, np.int64))
    np.testing.assert_array_equal(info["action_mask"], np.tile([1, 1, 0], (N, 1)))
    np.testing.assert_array_equal(venv.action_masks(), info["action_mask"].astype(bool))
    _, r, term, _, info = venv.step(np.array([2, 0, 0, 0]))  # world 0 peeks illegally
    assert info["illegal_action"].tolist() == [True, False, False, False]
    assert term[0] and r[0] == -1.0


def test_vector__seeding_determinism_and_seed_lists():
    a, b = HtjaxVectorEnv(N, SOLO), HtjaxVectorEnv(N, SOLO)
    oa, _ = a.reset(seed=21)
    ob, _ = b.reset(seed=[21, 22, 23, 24])
    np.testing.assert_array_equal(oa, ob)
    np.testing.assert_array_equal(a.episode_keys, b.episode_keys)
    oc, _ = b.reset()
    assert not np.array_equal(a.episode_keys, b.episode_keys)
    with pytest.raises(InvalidArgumentError, match="one per sub-env"):
        a.reset(seed=[1, 2])
    with pytest.raises(InvalidArgumentError, match="seed"):
        a.reset(seed=-3)


def test_vector__render_gives_one_text_per_world():
    venv = HtjaxVectorEnv(2, SOLO, render_mode="ansi")
    venv.reset(seed=0)
    frames = venv.render()
    assert len(frames) == 2 and all("toy_solo_draw" in f for f in frames)


def test_registration__ids_present_and_idempotent():
    register_gymnasium_envs()
    register_gymnasium_envs()
    for gym_id, kwargs in GYM_IDS.items():
        spec = gymnasium.spec(gym_id)
        assert spec.kwargs == kwargs
        if "opponents" in kwargs:
            assert spec.entry_point.endswith("HtjaxOpponentsEnv") and spec.vector_entry_point is None
        else:
            assert spec.vector_entry_point.endswith("HtjaxVectorEnv")
    assert {"htjax/HoldemHeadsUp-v0", "htjax/IPD-TitForTat-v0"} <= set(GYM_IDS)


# --------------------------------------------------------------------------- every registered id
@pytest.mark.parametrize("gym_id", sorted(GYM_IDS))
def test_registered_ids__check_env_passes_without_warnings(gym_id):
    """Gymnasium's own checker, every warning an error: bounded spaces, seeding, determinism."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make(gym_id)
        check_env(env.unwrapped)
        env.close()
    space = env.unwrapped.observation_space
    if isinstance(space, gymnasium.spaces.Box):
        assert np.isfinite(space.low).all() and np.isfinite(space.high).all()
        low, high = env.unwrapped.htjax_env.observation_bounds
        np.testing.assert_array_equal(space.low, np.asarray(low, space.dtype))


@pytest.mark.parametrize("gym_id", ["htjax/Blackjack-v0", "htjax/HoldemHeadsUp-v0", "htjax/IPD-TitForTat-v0"])
def test_registered_ids__render_the_game_as_text(gym_id):
    env = gymnasium.make(gym_id, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    core = env.unwrapped.htjax_env
    assert text == core.render_text(
        jax.device_get(env.unwrapped.state), getattr(env.unwrapped, "learner_seat", None)
    )


def test_blackjack_gymnasium_id__is_a_drop_in_for_blackjack_v1():
    ours = gymnasium.make("htjax/BlackjackGymnasium-v0")
    theirs = gymnasium.make("Blackjack-v1")
    config = ours.unwrapped.htjax_env.config  # Blackjack-v1's registered defaults
    assert {k: getattr(config, k) for k in ("sab", "natural")} == gymnasium.spec("Blackjack-v1").kwargs
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space
    assert ours.unwrapped.htjax_env.action_labels == ("stick", "hit")
    obs, info = ours.reset(seed=0)
    assert isinstance(obs, tuple) and all(isinstance(v, int) for v in obs)
    player_sum, dealer, usable = obs
    assert 4 <= player_sum <= 21 and 1 <= dealer <= 10 and usable in (0, 1)
    # Sticking always ends a Blackjack-v1 round with a reward in {-1, 0, 1}.
    _, reward, terminated, truncated, _ = ours.step(0)
    assert terminated and not truncated and reward in (-1.0, 0.0, 1.0)


def test_blackjack_make_vec__vector_entry_point_matches_single_envs():
    venv = gymnasium.make_vec(
        "htjax/BlackjackGymnasium-v0", num_envs=N, vectorization_mode="vector_entry_point"
    )
    assert isinstance(venv.unwrapped, HtjaxVectorEnv) and isinstance(
        venv.unwrapped, gymnasium.vector.VectorEnv
    )
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert venv.single_observation_space == gymnasium.make("Blackjack-v1").observation_space
    actions = np.random.default_rng(2).integers(0, 2, size=(6, N))
    obs, _ = venv.reset(seed=50)
    vec = [obs]
    flags = []
    for a in actions:
        obs, r, term, trunc, info = venv.step(a)
        assert info["action_mask"].shape == (N, 2)
        vec.append(obs)
        flags.append((r, term, trunc))
    assert isinstance(vec[0], tuple) and vec[0][0].shape == (N,)
    for i in range(N):
        single = HtjaxGymEnv(**GYM_IDS["htjax/BlackjackGymnasium-v0"])
        got = [single.reset(seed=50 + i)[0]]
        needs_reset = False
        for t, a in enumerate(actions[:, i]):
            if needs_reset:
                o, r, term, trunc = single.reset()[0], 0.0, False, False
            else:
                o, r, term, trunc, _ = single.step(int(a))
            needs_reset = term or trunc
            got.append(o)
            assert (r, term, trunc) == (flags[t][0][i], flags[t][1][i], flags[t][2][i])
        assert got == [tuple(int(part[i]) for part in v) for v in vec]


def test_blackjack_casino_make_vec__batched_spaces_and_masks():
    venv = gymnasium.make_vec("htjax/Blackjack-v0", num_envs=N, vectorization_mode="vector_entry_point")
    env = venv.unwrapped.htjax_env
    obs, info = venv.reset(seed=0)
    assert obs.shape == (N, *env.observation_shape) and obs in venv.observation_space
    assert info["action_mask"].shape == (N, env.num_actions)
    for _ in range(8):
        actions = np.array([venv.single_action_space.sample(mask=m) for m in info["action_mask"]])
        obs, rewards, term, trunc, info = venv.step(actions)
        assert not info["illegal_action"].any()
        assert rewards.dtype == np.float64 and obs in venv.observation_space
    venv.close()


# --------------------------------------------------------------------------- multi-seat games against fixed opponents
def _always(action: int):
    return lambda observation, mask: action


def _first_legal(observation, mask):
    return int(np.flatnonzero(mask)[0])


def test_opponents__turn_based_toy_learner_seat_rewards_match_the_core_env():
    from toy_envs import HighCard

    core = HighCard()
    calls = []

    def opponent(observation, mask):
        calls.append((observation.copy(), mask.copy()))
        return _first_legal(observation, mask)

    env = HtjaxOpponentsEnv(core, opponents={0: opponent})
    assert env.learner_seat == 1 and env.observation_space.shape == core.observation_shape
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        # replay with the core env: seat 0 plays its first legal action, seat 1 stands
        key = env.episode_key
        state = core.init(key)
        adapter_return = core_return = 0.0
        t = 0
        while not bool(state.terminated | state.truncated):
            if int(state.current_player) == 1:
                np.testing.assert_allclose(obs, np.asarray(core.observe(state, 1)), rtol=1e-6)
                np.testing.assert_array_equal(
                    info["action_mask"], np.asarray(state.legal_action_mask, np.int8)
                )
                action = 1
                obs, reward, terminated, truncated, info = env.step(action)
                adapter_return += reward
            else:
                action = int(np.flatnonzero(np.asarray(state.legal_action_mask))[0])
            state = core.step(state, action, htjax.step_key(key, t))
            core_return += float(state.rewards[1])
            t += 1
        assert terminated and adapter_return == core_return != 0.0
    assert calls and all(mask.dtype == np.bool_ for _, mask in calls)


@pytest.fixture(scope="module")
def holdem_policy(tmp_path_factory):
    from onnx_helpers import fresh_policy

    return fresh_policy(htjax.make("holdem"), tmp_path_factory.mktemp("holdem"), "holdem")


def test_opponents__holdem_against_an_onnx_policy_passes_check_env_and_replays_by_seed(holdem_policy):
    _check_env_quietly(HtjaxOpponentsEnv("holdem", opponents={1: holdem_policy}))

    def run(seed):
        env = HtjaxOpponentsEnv("holdem", opponents={1: str(holdem_policy)})
        rng = np.random.default_rng(0)
        obs, info = env.reset(seed=seed)
        out = [obs]
        for _ in range(40):
            action = int(rng.choice(np.flatnonzero(info["action_mask"])))
            obs, reward, terminated, truncated, info = env.step(action)
            out += [obs, reward]
            if terminated or truncated:
                obs, info = env.reset()
                out.append(obs)
        return out

    a, b, c = run(3), run(3), run(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_opponents__episodes_over_before_the_learner_acts_are_skipped_and_reported():
    # the opponent folds whenever it may: on the button it folds first, the hand ends before seat 1 acts
    env = HtjaxOpponentsEnv("holdem", opponents={0: _first_legal})
    skipped = returns = 0
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        assert info["action_mask"].any() and int(env.state.current_player) == 1
        skipped += info["skipped_episodes"]
        returns += info["skipped_return"]
    assert skipped >= 1
    assert returns == pytest.approx(0.5 * skipped)  # each time the small blind folded to the big blind


def test_opponents__simultaneous_ipd_moves_together():
    env = HtjaxOpponentsEnv("prisoners_dilemma", rounds=5, opponents={1: _always(1)})  # the opponent defects
    obs, info = env.reset(seed=0)
    rewards = []
    for t in range(5):
        obs, reward, terminated, truncated, info = env.step(t % 2)  # C, D, C, D, C
        rewards.append(reward)
        assert obs[1:3].tolist() == ([1.0, 0.0] if t % 2 == 0 else [0.0, 1.0])  # my last move
        assert obs[3:5].tolist() == [0.0, 1.0]  # theirs: D
    assert rewards == [0.0, 1.0, 0.0, 1.0, 0.0] and terminated and not truncated


def test_opponents__bad_mappings_policies_and_actions_raise_clear_errors(holdem_policy):
    from htjax.train.checkpoint import EnvMismatchError

    with pytest.raises(InvalidArgumentError, match="one seat"):
        HtjaxOpponentsEnv(SOLO, opponents={1: _always(0)})
    with pytest.raises(HtjaxError, match="seats without one: \\[0, 1\\]"):
        HtjaxOpponentsEnv("holdem", num_players=3, opponents={2: _always(1)})
    with pytest.raises(HtjaxError, match="keys must be seats"):
        HtjaxOpponentsEnv("holdem", opponents={"player_1": _always(1)})
    with pytest.raises(HtjaxError, match="every seat of 'holdem' but one"):
        HtjaxOpponentsEnv("holdem", opponents={0: _always(1), 1: _always(1)})
    with pytest.raises(HtjaxError, match="callable"):
        HtjaxOpponentsEnv("holdem", opponents={1: 42})
    with pytest.raises(EnvMismatchError, match="env id 'holdem'"):
        HtjaxOpponentsEnv("prisoners_dilemma", opponents={1: holdem_policy})
    with pytest.raises(EnvMismatchError, match="observation shape"):
        HtjaxOpponentsEnv("holdem", num_players=3, opponents={1: holdem_policy, 2: holdem_policy})
    with pytest.raises(InvalidArgumentError, match="HtjaxOpponentsEnv"):
        HtjaxVectorEnv(2, "holdem", opponents={1: holdem_policy})
    with pytest.raises(InvalidArgumentError, match=r"built-in opponents for 'holdem' are \[.*'call_station'"):
        HtjaxOpponentsEnv("holdem", opponents={1: "no_such_policy.onnx"})
    env = HtjaxOpponentsEnv("prisoners_dilemma", opponents={1: _always(7)})
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="opponent at seat 1 returned 7"):
        env.step(0)


# --------------------------------------------------------------------------- pickling
def _drive(env, actions_fn, steps: int):
    """Outputs of ``steps`` steps (resetting after an episode ends), actions from ``actions_fn(info)``."""
    out = []
    info = env._last_info
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(actions_fn(info))
        out.append((np.asarray(obs).tolist(), np.asarray(reward).tolist(), np.asarray(terminated).tolist()))
        if np.all(np.asarray(terminated) | np.asarray(truncated)) and not isinstance(env, HtjaxVectorEnv):
            obs, info = env.reset()
            out.append(np.asarray(obs).tolist())
    env._last_info = info
    return out


def _first_legal_action(info):
    mask = info["action_mask"]
    return np.argmax(mask, axis=-1) if mask.ndim > 1 else int(np.argmax(mask))


@pytest.mark.parametrize(
    "make",
    [
        lambda: HtjaxGymEnv(SOLO),
        lambda: gymnasium.make("htjax/BlackjackGymnasium-v0"),
        lambda: HtjaxVectorEnv(3, "blackjack"),
        lambda: gymnasium.make("htjax/HoldemHeadsUp-v0"),
        lambda: HtjaxOpponentsEnv("prisoners_dilemma", opponents={1: "GTFT"}),
    ],
    ids=["toy", "blackjack-classic", "vector", "holdem-opponents", "ipd-stochastic-opponent"],
)
def test_pickle__round_trip_mid_episode_then_both_copies_play_the_same(make):
    import pickle

    env = make()
    _, env.unwrapped._last_info = env.reset(seed=4)
    env = env.unwrapped
    _drive(env, _first_legal_action, 3)
    copy = pickle.loads(pickle.dumps(env))
    assert copy._last_info is not None
    chex.assert_trees_all_equal(jax.device_get(copy.state), jax.device_get(env.state))
    assert _drive(copy, _first_legal_action, 12) == _drive(env, _first_legal_action, 12)
    fresh = pickle.loads(pickle.dumps(make()))  # never reset: pickles too, and starts like the original
    np.testing.assert_array_equal(
        np.asarray(fresh.reset(seed=1)[0], dtype=object), np.asarray(make().reset(seed=1)[0], dtype=object)
    )
