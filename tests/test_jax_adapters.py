"""The gymnax and JaxMARL adapters: interface conformance (blackjack; hold'em and the IPD), exact
replay of their episodes, rule parameters as traced params, and rejax's PPO training on the
gymnax adapter unchanged (a small budget; scripts/train_rejax.py runs the full one)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
from htjax.adapters.gymnax import GymnaxEnv, GymnaxParams
from htjax.adapters.jaxmarl import JaxMARLEnv
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import episode_key_for, key_data

STEPS, WORLDS = 40, 8


# --------------------------------------------------------------------------- gymnax
@pytest.fixture(scope="module")
def bj():
    return GymnaxEnv(htjax.make("blackjack", preset="gymnasium"))


@pytest.fixture(scope="module")
def bj_run(bj):
    """WORLDS worlds x STEPS steps of random actions through jit(vmap(reset/step))."""
    reset = jax.jit(jax.vmap(bj.reset, in_axes=(0, None)))
    step = jax.jit(jax.vmap(bj.step, in_axes=(0, 0, 0, None)))
    params = bj.default_params
    obs, state = reset(jax.random.split(jax.random.PRNGKey(0), WORLDS), params)
    rows = []
    for t in range(STEPS):
        k_act, k_step = jax.random.split(jax.random.PRNGKey(100 + t))
        action = jax.random.randint(k_act, (WORLDS,), 0, bj.num_actions)
        step_keys = jax.random.split(k_step, WORLDS)
        nobs, nstate, reward, done, info = step(step_keys, state, action, params)
        rows.append(
            dict(
                obs=obs,
                state=state,
                action=action,
                key=step_keys,
                next_obs=nobs,
                next_state=nstate,
                reward=reward,
                done=done,
                info=info,
            )
        )
        obs, state = nobs, nstate
    return jax.device_get(rows), step


def test_gymnax_spaces_params_and_shapes(bj, bj_run):
    from gymnax.environments import spaces

    rows, _ = bj_run
    params = bj.default_params
    assert isinstance(params, GymnaxParams) and set(params.rules) == {"blackjack_payout", "penetration"}
    assert (
        isinstance(bj.action_space(params), spaces.Discrete)
        and bj.action_space(params).n == 2 == bj.num_actions
    )
    obs_space = bj.observation_space(params)
    assert isinstance(obs_space, spaces.Box) and obs_space.shape == (31,)
    r = rows[3]
    assert r["next_obs"].shape == (WORLDS, 31) and r["next_obs"].dtype == np.float32
    assert r["reward"].shape == (WORLDS,) and r["reward"].dtype == np.float32
    assert r["done"].dtype == np.bool_ and r["info"]["legal_action_mask"].shape == (WORLDS, 2)
    assert all(bool(obs_space.contains(o)) for row in rows for o in row["next_obs"])


def test_gymnax_auto_resets_as_gymnax_does_and_episodes_replay(bj, bj_run):
    rows, _ = bj_run
    dones = np.array([r["done"] for r in rows])
    assert dones.sum() >= WORLDS  # blackjack hands are short: many episodes ended
    for r in rows:
        for w in np.flatnonzero(r["done"]):
            # a fresh episode from the step's reset key, its first observation returned
            fresh = episode_key_for(key_data(jnp.asarray(r["key"][w])), 0)
            np.testing.assert_array_equal(r["next_state"].episode_key[w], fresh)
            assert r["next_state"].time[w] == 0
            assert r["info"]["final_observation"][w].shape == (31,)
    # world 0's first finished episode replays from its episode key and actions
    w = 0
    end = int(np.flatnonzero(dones[:, w])[0])
    ekey = rows[0]["state"].episode_key[w]
    actions = np.array([rows[t]["action"][w] for t in range(end + 1)])
    states = htjax.replay_episode(bj.env, ekey, actions)
    np.testing.assert_allclose(
        np.asarray(states.rewards[1:, 0]), [rows[t]["reward"][w] for t in range(end + 1)]
    )
    assert bool(states.terminated[-1])


def test_gymnax_params_are_traced_and_the_time_limit_truncates(bj, bj_run):
    _, step = bj_run
    obs, state = jax.vmap(bj.reset, in_axes=(0, None))(
        jax.random.split(jax.random.PRNGKey(1), 4), bj.default_params
    )
    keys = jax.random.split(jax.random.PRNGKey(2), 4)
    stick = jnp.zeros(4, jnp.int32)
    hit = jnp.ones(4, jnp.int32)
    _, _, _, done, info = step(keys, state, stick, bj.default_params)
    assert bool(jnp.all(info["terminated"])) and not bool(jnp.any(info["truncated"]))
    before = step._cache_size()
    limited = bj.params(max_steps_in_episode=1, blackjack_payout=2.0)
    _, s1, _, done, info = step(keys, state, hit, limited)
    assert step._cache_size() == before  # new values, same program
    assert bool(jnp.all(done))  # one step is the limit: every world ended
    np.testing.assert_array_equal(info["truncated"], ~info["terminated"])
    assert bool(jnp.all(s1.time == 0))
    assert float(limited.rules["blackjack_payout"]) == 2.0
    with pytest.raises(htjax.core.errors.ConfigError):
        bj.params(num_decks=2)  # structural: not a rule parameter
    with pytest.raises(InvalidArgumentError, match="single-agent"):
        GymnaxEnv(htjax.make("holdem"))


# --------------------------------------------------------------------------- JaxMARL
def _marl_run(menv: JaxMARLEnv, seed: int, steps: int):
    """``steps`` steps of uniformly random available actions in WORLDS worlds (jit + vmap)."""
    reset = jax.jit(jax.vmap(menv.reset))
    avail = jax.vmap(menv.get_avail_actions)

    def one(key, state):
        masks = menv.get_avail_actions(state)
        keys = jax.random.split(key, menv.num_agents + 1)
        actions = {
            a: jax.random.categorical(keys[i], jnp.where(masks[a], 0.0, -jnp.inf)).astype(jnp.int32)
            for i, a in enumerate(menv.agents)
        }
        return (actions, *menv.step(keys[-1], state, actions))

    step = jax.jit(jax.vmap(one))
    obs, state = reset(jax.random.split(jax.random.PRNGKey(seed), WORLDS))
    rows = []
    for t in range(steps):
        keys = jax.random.split(jax.random.PRNGKey(1000 * seed + t), WORLDS)
        masks = avail(state)
        actions, nobs, nstate, rewards, dones, infos = step(keys, state)
        rows.append(
            dict(
                obs=obs,
                state=state,
                masks=masks,
                actions=actions,
                next_state=nstate,
                next_obs=nobs,
                rewards=rewards,
                dones=dones,
                infos=infos,
                key=keys,
            )
        )
        obs, state = nobs, nstate
    return jax.device_get(rows)


@pytest.fixture(scope="module", params=["holdem", "prisoners_dilemma"])
def marl(request):
    config = {"prisoners_dilemma": dict(continuation_probability=0.9)}.get(request.param, {})
    menv = JaxMARLEnv(htjax.make(request.param, **config))
    return menv, _marl_run(menv, seed=3, steps=STEPS)


def test_jaxmarl_agents_spaces_and_dicts(marl):
    from gymnax.environments import spaces

    menv, rows = marl
    n, a = menv.env.num_players, menv.env.num_actions
    assert menv.num_agents == n == 2 and menv.agents == ["player_0", "player_1"]
    for agent in menv.agents:
        assert isinstance(menv.action_space(agent), spaces.Discrete)
        assert menv.action_space(agent).n == a + (1 if menv.turn_based else 0)
        assert menv.observation_space(agent).shape == menv.env.observation_shape
    with pytest.raises(InvalidArgumentError, match="unknown agent"):
        menv.action_space("player_9")
    r = rows[0]
    assert set(r["obs"]) == set(menv.agents) and set(r["rewards"]) == set(menv.agents)
    assert set(r["dones"]) == set(menv.agents) | {"__all__"}
    assert r["obs"]["player_0"].shape == (WORLDS, *menv.env.observation_shape)
    assert r["rewards"]["player_1"].dtype == np.float32 and r["dones"]["__all__"].dtype == np.bool_
    with pytest.raises(InvalidArgumentError, match="missing"):
        menv.step(jax.random.PRNGKey(0), jax.tree_util.tree_map(lambda x: x[0], r["state"]), {"player_0": 0})


def test_jaxmarl_avail_actions(marl):
    menv, rows = marl
    for r in rows:
        m = np.stack([r["masks"][a] for a in menv.agents], 1)  # [W, P, A(+1)]
        if menv.turn_based:
            acting = m[..., :-1].any(-1)  # exactly one seat may move, the other may only wait
            assert (acting.sum(1) == 1).all()
            np.testing.assert_array_equal(m[..., -1], ~acting)
            cp = r["state"].env_state.current_player
            np.testing.assert_array_equal(acting.argmax(1), cp)
        else:
            assert m.all()  # the IPD: both actions, both seats, every step
        for i, a in enumerate(menv.agents):  # random play chose available actions only
            chosen = np.take_along_axis(r["masks"][a], r["actions"][a][:, None], 1)[:, 0]
            assert chosen.all()


def test_jaxmarl_auto_reset_rewards_and_replay(marl):
    menv, rows = marl
    dones = np.array([r["dones"]["__all__"] for r in rows])
    assert dones.sum() >= 2
    for r in rows:
        for w in np.flatnonzero(r["dones"]["__all__"]):
            step_key_w = jax.random.split(jnp.asarray(r["key"][w]), menv.num_agents + 1)[-1]  # what step got
            fresh = episode_key_for(key_data(step_key_w), 0)
            np.testing.assert_array_equal(r["next_state"].episode_key[w], fresh)
            assert r["next_state"].env_state.step_count[w] == 0
            if menv.turn_based:  # heads-up hold'em is zero-sum at the end of a hand
                assert abs(r["rewards"]["player_0"][w] + r["rewards"]["player_1"][w]) < 1e-4
    # world 0's first episode replays in htjax from its episode key and the moves taken
    w = 0
    end = int(np.flatnonzero(dones[:, w])[0])
    moves = []
    for t in range(end + 1):
        joint = np.array([rows[t]["actions"][a][w] for a in menv.agents])
        moves.append(joint[rows[t]["state"].env_state.current_player[w]] if menv.turn_based else joint)
    states = htjax.replay_episode(menv.env, rows[0]["state"].episode_key[w], np.array(moves))
    for i, a in enumerate(menv.agents):
        np.testing.assert_allclose(
            np.asarray(states.rewards[1:, i]), [rows[t]["rewards"][a][w] for t in range(end + 1)]
        )
    assert bool(states.terminated[-1] | states.truncated[-1])


def test_jaxmarl_rule_parameters_ride_in_the_state():
    menv = JaxMARLEnv(htjax.make("prisoners_dilemma"))
    params = menv.env.params(reward=4.0)
    _, state = menv.reset(jax.random.PRNGKey(0), params)
    both_cooperate = {a: jnp.int32(0) for a in menv.agents}
    _, state, rewards, _, _ = jax.jit(menv.step)(jax.random.PRNGKey(1), state, both_cooperate)
    assert [float(rewards[a]) for a in menv.agents] == [4.0, 4.0]
    _, state, rewards, _, _ = jax.jit(menv.step)(jax.random.PRNGKey(2), state, both_cooperate)
    assert float(state.params["reward"]) == 4.0 and float(rewards["player_0"]) == 4.0
    _, default = menv.reset(jax.random.PRNGKey(0))
    _, _, rewards, _, _ = menv.step(jax.random.PRNGKey(1), default, both_cooperate)
    assert float(rewards["player_0"]) == 3.0
    with pytest.raises(InvalidArgumentError, match="one seat"):
        JaxMARLEnv(htjax.make("blackjack"))


# --------------------------------------------------------------------------- rejax
def test_rejax_ppo_trains_on_the_gymnax_adapter_unchanged(bj):
    from rejax import PPO  # the test extra; no glue beyond constructing the env

    algo = PPO.create(
        env=bj,
        env_params=bj.default_params,
        total_timesteps=32_768,
        eval_freq=32_768,
        num_envs=32,
        num_steps=32,
        num_epochs=2,
        num_minibatches=4,
        learning_rate=1e-3,
    )
    ts, _ = jax.jit(algo.train)(jax.random.PRNGKey(0))
    act = algo.make_act(ts)
    trained = htjax.evaluate(
        bj.env,
        lambda p, obs, mask, key: act(obs, key).astype(jnp.int32),
        16,
        num_envs=128,
        key=jax.random.PRNGKey(7),
    )
    random = htjax.evaluate(bj.env, htjax.random_policy, 16, num_envs=128, key=jax.random.PRNGKey(7))
    # 2,048 hands each: random play loses ~0.4 a hand in Blackjack-v1, a learnt stick/hit rule far less
    assert float(trained.mean_return[0]) > float(random.mean_return[0]) + 0.15, (
        trained.mean_return,
        random.mean_return,
    )


def test_spaces_without_gymnax_have_gymnax_attributes(bj, monkeypatch):
    from htjax.adapters import gymnax as adapter

    monkeypatch.setattr(adapter, "_gymnax_spaces", lambda: None)
    action, obs = bj.action_space(bj.default_params), bj.observation_space(bj.default_params)
    assert (
        type(action) is adapter.Discrete
        and action.n == 2
        and action.shape == ()
        and action.dtype == jnp.int32
    )
    assert type(obs) is adapter.Box and obs.shape == (31,) and obs.dtype == jnp.float32
    a = action.sample(jax.random.PRNGKey(0))
    assert bool(action.contains(a)) and not bool(action.contains(2))
    x = obs.sample(jax.random.PRNGKey(1))
    assert x.shape == (31,) and bool(obs.contains(x)) and not bool(obs.contains(obs.high + 1))
    marl = JaxMARLEnv(htjax.make("holdem"))
    assert type(marl.action_space("player_0")) is adapter.Discrete and marl.action_space("player_0").n == 10
