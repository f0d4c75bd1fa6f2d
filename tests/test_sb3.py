"""The ecosystem drop-in, with no glue: Stable-Baselines3 and sb3-contrib train on registered htjax
ids, and Gymnasium's async vector env runs htjax envs in spawned worker processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import htjax

torch.set_num_threads(1)
PPO_ARGS = {"n_steps": 256, "batch_size": 128, "n_epochs": 2, "device": "cpu", "seed": 0, "verbose": 0}


@pytest.mark.parametrize("gym_id", ["htjax/Blackjack-v0", "htjax/HoldemHeadsUp-v0"])
def test_ppo__trains_on_a_registered_id_through_make_vec_env(gym_id):
    """``make_vec_env`` asks for ``render_mode="rgb_array"``: the env warns (as Gymnasium does) and builds."""
    with pytest.warns(UserWarning, match="render_mode='rgb_array'"):
        vec = make_vec_env(gym_id, n_envs=2, seed=0)
    model = PPO("MlpPolicy", vec, **PPO_ARGS)
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    episodes = [info["r"] for info in model.ep_info_buffer]
    assert episodes and all(np.isfinite(episodes))


def test_ppo__takes_the_id_string_itself():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rgb_array, warned as Gymnasium does
        model = PPO("MlpPolicy", "htjax/Blackjack-v0", **PPO_ARGS)
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512 and model.get_env().num_envs == 1


@pytest.mark.parametrize("gym_id", ["htjax/Blackjack-v0", "htjax/HoldemHeadsUp-v0"])
def test_maskable_ppo__trains_with_the_envs_action_masks_and_then_never_acts_illegally(gym_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = MaskablePPO("MlpPolicy", gym_id, **PPO_ARGS)
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    env = model.get_env()  # SB3's DummyVecEnv around Monitor around the htjax env: no wrapper of ours
    obs = env.reset()
    illegal = 0
    for _ in range(300):
        masks = np.stack(env.env_method("action_masks"))
        action, _ = model.predict(obs, action_masks=masks, deterministic=False)
        assert masks[0, action[0]]
        obs, _, _, infos = env.step(action)
        illegal += infos[0]["illegal_action"]
    assert illegal == 0


ASYNC_SCRIPT = textwrap.dedent(
    """
    import gymnasium as gym, numpy as np
    import htjax

    if __name__ == "__main__":
        kwargs = dict(num_envs=2, vectorization_mode="async")
        venv = gym.make_vec("htjax/Blackjack-v0", **kwargs)
        sync = gym.make_vec("htjax/Blackjack-v0", num_envs=2, vectorization_mode="sync")
        venv.reset_async(seed=7)
        obs, info = venv.reset_wait(timeout=120)
        sync_obs, sync_info = sync.reset(seed=7)
        assert np.array_equal(obs, sync_obs)
        for t in range(12):
            actions = np.array([np.flatnonzero(m)[t % int(m.sum())] for m in info["action_mask"]])
            venv.step_async(actions)
            obs, rewards, term, trunc, info = venv.step_wait(timeout=60)
            expected = sync.step(actions)
            assert np.array_equal(obs, expected[0]) and np.array_equal(rewards, expected[1])
        venv.close()
        print("ASYNC OK")
    """
)


def test_async_vector_env__two_spawned_workers_match_the_sync_vector_env(tmp_path):
    """A fresh program (no start method chosen) with 2 workers; a deadlock fails by timeout."""
    script = tmp_path / "async_htjax.py"
    script.write_text(ASYNC_SCRIPT)
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            check=False,
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired as err:  # pragma: no cover - the failure being guarded against
        pytest.fail(f"async vector env did not finish in 240 s (deadlock?): {err.stderr}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ASYNC OK" in done.stdout


# --------------------------------------------------------------------------- core envs pickle
@pytest.mark.parametrize("env_id", sorted(htjax.available_envs()))
def test_core_env__pickles_and_the_copy_steps_like_the_original(env_id):
    import pickle

    import jax

    env = htjax.make(env_id)
    step = jax.jit(env.step)
    key = jax.random.PRNGKey(3)
    state = env.init(key)
    state = step(
        state, jax.numpy.argmax(state.legal_action_mask, axis=-1).astype("int32"), htjax.step_key(key, 0)
    )
    copy = pickle.loads(pickle.dumps(env))
    assert copy == env and hash(copy) == hash(env) and copy.config == env.config
    action = jax.numpy.argmax(state.legal_action_mask, axis=-1).astype("int32")
    ours = jax.jit(copy.step)(pickle.loads(pickle.dumps(state)), action, htjax.step_key(key, 1))
    theirs = step(state, action, htjax.step_key(key, 1))
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# --------------------------------------------------------------------------- the fork guard
def test_fork_guard__an_env_built_in_a_process_forked_after_jax_ran_refuses_clearly():
    """A forked child of a process that ran an adapter program raises instead of deadlocking."""
    import os

    from htjax.adapters import common
    from htjax.adapters.gymnasium import HtjaxGymEnv

    HtjaxGymEnv("blackjack").reset(seed=0)  # JAX runs here
    common.check_not_forked()  # the parent itself is fine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # JAX's own warning about fork
        pid = os.fork()
    if pid == 0:  # the child touches no JAX: it only asks the guard, and always exits
        code = 1
        try:
            HtjaxGymEnv("blackjack")
        except htjax.HtjaxError as err:
            code = 0 if "'spawn'" in str(err) else 2
        finally:
            os._exit(code)
    for _ in range(300):  # a child that got past the guard would deadlock: fail, not hang
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not exit within 30 s")
    assert os.waitstatus_to_exitcode(status) == 0
