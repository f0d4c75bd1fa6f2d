"""PettingZoo adapters: PettingZoo's own conformance tests on every multi-agent env, plus errors,
seeding, records and reward equality with the core env.

The env list is read from the registry at collection time, so each new multi-agent game is
covered as soon as it is registered (its default config when multi-seat, plus one more seat
count when the config has ``num_players``/``num_seats``), plus the toy envs of ``toy_envs``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import warnings

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from pettingzoo.utils.conversions import aec_to_parallel
from toy_envs import HighCard, MatchingPennies

import htjax
import htjax.envs as registry
from htjax.adapters import pettingzoo as pz
from htjax.adapters.pettingzoo import (
    HtjaxAECEnv,
    HtjaxParallelEnv,
    IllegalActionError,
    OutOfTurnError,
    aec_env,
    parallel_env,
)
from htjax.core.config import ConfigError
from htjax.core.env import HtjaxError, InvalidActionError, State
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import episode_key_for

TOY_ENVS = {"toy_high_card": HighCard, "toy_matching_pennies": MatchingPennies}
SEAT_FIELDS = ("num_players", "num_seats")
PUBLIC_FIELDS = {f.name for f in dataclasses.fields(State)}


# ---------------------------------------------------------------------------- the env cases
def _seat_variant(cls) -> dict:
    """One more (or one fewer) seat than the default, when the config has a seat-count field."""
    fields = cls.config_class.field_names()
    for name in SEAT_FIELDS:
        if name not in fields:
            continue
        default = getattr(cls().config, name)
        for n in (default + 1, default - 1):
            try:
                if n >= 2 and cls(**{name: n}).num_players > 1:
                    return {name: n}
            except ConfigError:
                continue
    return {}


def _registry_cases() -> list[tuple[str, dict]]:
    cases = []
    for env_id in registry.available_envs():
        if env_id in TOY_ENVS:
            continue
        entry_module = registry._REGISTRY[env_id].partition(":")[0]
        try:
            cls = registry.env_class(env_id)
        except ModuleNotFoundError as err:
            if err.name == entry_module:  # registered ahead of its module landing in this tree
                continue
            raise
        variant = _seat_variant(cls)
        if cls().num_players > 1:
            cases.append((env_id, {}))
        if variant:
            cases.append((env_id, variant))
    return cases


CASES = _registry_cases() + [(env_id, {}) for env_id in TOY_ENVS]
CASE_IDS = [env_id + "".join(f"-{k}={v}" for k, v in cfg.items()) for env_id, cfg in CASES]


@pytest.fixture(scope="module", autouse=True)
def _toy_registry():
    with pytest.MonkeyPatch.context() as mp:
        for env_id, cls in TOY_ENVS.items():
            mp.setitem(registry._REGISTRY, env_id, f"{cls.__module__}:{cls.__qualname__}")
        yield


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request):
    env_id, cfg = request.param
    return env_id, cfg, htjax.make(env_id, **cfg)


# PettingZoo's api_test warns about things that are inherent to dict observations or to the
# content of a particular observation; anything else it warns about is a real problem.
BENIGN_WARNINGS = re.compile(
    "Observation is not a NumPy array"
    "|Observation space for each agent probably should be"
    "|Observation numpy array is all zeros"
    "|Action mask numpy array is all zeros"
    "|infinity"
    "|negative numbers and is in the shape of a graphical observation"
)


def _run_quietly(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    bad = sorted({str(w.message) for w in caught if not BENIGN_WARNINGS.search(str(w.message))})
    assert not bad, f"PettingZoo test warned: {bad}"


# ---------------------------------------------------------------------------- PettingZoo's own tests
def test_api_test__passes(case):
    env_id, cfg, _ = case
    _run_quietly(api_test, aec_env(env_id, **cfg), num_cycles=100)


def test_seed_test__passes(case):
    env_id, cfg, _ = case
    _run_quietly(seed_test, lambda: aec_env(env_id, **cfg), num_cycles=100)


def test_parallel_api_and_seed_tests__pass_or_refuse_turn_based(case):
    env_id, cfg, env = case
    if env.simultaneous:
        _run_quietly(parallel_api_test, parallel_env(env_id, **cfg), num_cycles=100)
        _run_quietly(parallel_seed_test, lambda: parallel_env(env_id, **cfg), num_cycles=100)
    else:
        with pytest.raises(InvalidArgumentError, match=r"turn-based: use aec_env"):
            parallel_env(env_id, **cfg)


# ---------------------------------------------------------------------------- rewards and records
def _play_aec(env, rng, illegal_prob=0.0):
    """Play one episode with random actions; returns summed rewards per agent."""
    totals = dict.fromkeys(env.possible_agents, 0.0)
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        if term or trunc:
            action = None
        else:
            mask = obs["action_mask"].astype(bool)
            pool = (
                np.flatnonzero(~mask)
                if (rng.random() < illegal_prob and not mask.all())
                else np.flatnonzero(mask)
            )
            action = int(rng.choice(pool))
        env.step(action)
        for a, r in env.rewards.items():
            totals[a] += r
    return totals


@functools.cache
def _jitted_replay(env):
    return jax.jit(lambda key, actions, length: htjax.replay_episode(env, key, actions, length))


def _core_totals(env, episode_key, actions):
    """Replay with the core env; returns ``(states [T + 1], summed rewards float[P])``.

    Actions are padded to a power of two (>= 32) so that each env compiles its replay rarely.
    """
    actions = np.asarray(actions, np.int32)
    n = len(actions)
    padded = np.zeros((max(32, 1 << max(n - 1, 0).bit_length()),) + actions.shape[1:], np.int32)
    padded[:n] = actions
    states = _jitted_replay(env)(jnp.asarray(episode_key), padded, n)
    states = jax.tree_util.tree_map(lambda x: x[: n + 1], states)
    return states, np.asarray(states.rewards).sum(axis=0)


@pytest.mark.parametrize("illegal_prob", [0.0, 0.05], ids=["legal", "some_illegal"])
def test_aec_rewards__equal_core_replay_of_recorded_actions(case, illegal_prob):
    env_id, cfg, core = case
    env = aec_env(env_id, **cfg)
    rng = np.random.default_rng(7)
    for episode in range(3):
        env.reset(seed=100 + episode)
        totals = _play_aec(env, rng, illegal_prob)
        rec = env.unwrapped
        states, expected = _core_totals(core, rec.episode_key, rec.actions)
        np.testing.assert_allclose(
            [totals[pz.agent_name(i)] for i in range(core.num_players)], expected, atol=1e-5
        )
        assert bool(states.terminated[-1] | states.truncated[-1])
        chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda x: x[-1], states), rec.htjax_state)


def test_parallel_rewards__equal_core_replay_of_recorded_actions(case):
    env_id, cfg, core = case
    if not core.simultaneous:
        return  # turn-based games have no parallel form (see the test above)
    env = parallel_env(env_id, **cfg)
    rng = np.random.default_rng(3)
    for episode in range(3):
        obs, _ = env.reset(seed=episode)
        totals = np.zeros(core.num_players)
        while env.agents:
            actions = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
            obs, rewards, *_ = env.step(actions)
            totals += [rewards[pz.agent_name(i)] for i in range(core.num_players)]
        _, expected = _core_totals(core, env.episode_key, np.stack(env.actions))
        np.testing.assert_allclose(totals, expected, atol=1e-5)


def _private_fields(state):
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name not in PUBLIC_FIELDS}


@functools.cache
def _jitted_step(env):
    return jax.jit(env.step)


def _core_rewards(core, state, action, episode_key) -> np.ndarray:
    """Rewards the core env gives for ``action`` in ``state`` (the forfeit rule and penalty included);
    its step is jitted (op-by-op dispatch of a whole step costs seconds for the larger games)."""
    key = htjax.step_key(jnp.asarray(episode_key), state.step_count)
    return np.asarray(_jitted_step(core)(state, jnp.asarray(action, jnp.int32), key).rewards)


def test_masked_action__follows_illegal_action_rule_and_moves_nothing(case):
    """Penalty mode: the game ends, the offender forfeits its stake and gets the penalty exactly
    as in the core env (never better than the penalty alone), no game-private field moves
    (no chips, cards or tokens). Envs whose masks never forbid anything in ten random episodes
    are checked to have had all-legal masks throughout (there is no masked action to send).
    """
    env_id, cfg, core = case
    if core.simultaneous:
        env = parallel_env(env_id, **cfg)
        rng = np.random.default_rng(11)
        for episode in range(10):
            obs, _ = env.reset(seed=episode)
            while env.agents:
                masks = {a: obs[a]["action_mask"].astype(bool) for a in env.agents}
                offender = next((a for a in env.agents if not masks[a].all()), None)
                if offender is None:
                    obs, *_ = env.step({a: int(rng.choice(np.flatnonzero(m))) for a, m in masks.items()})
                    continue
                actions = {a: int(np.flatnonzero(m)[0]) for a, m in masks.items()}
                actions[offender] = int(np.flatnonzero(~masks[offender])[0])
                before = env.htjax_state
                _, rewards, terms, _, infos = env.step(actions)
                seat = pz.agent_seat(offender, core.num_players)
                joint = [actions[a] for a in env.possible_agents]
                expected = _core_rewards(core, before, joint, env.episode_key)
                np.testing.assert_allclose([rewards[a] for a in env.possible_agents], expected)
                assert expected[seat] <= core.illegal_action_penalty
                assert (
                    all(terms.values()) and infos[offender] == {"illegal_action": True} and env.agents == []
                )
                chex.assert_trees_all_equal(_private_fields(before), _private_fields(env.htjax_state))
                return
        return
    env = aec_env(env_id, **cfg)
    rng = np.random.default_rng(11)
    for episode in range(10):
        env.reset(seed=episode)
        for agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.step(None)
                continue
            mask = obs["action_mask"].astype(bool)
            assert mask.any(), f"{agent} is to act with an all-zero mask"
            if mask.all():
                env.step(int(rng.choice(np.flatnonzero(mask))))
                continue
            before = env.unwrapped.htjax_state
            env.step(int(np.flatnonzero(~mask)[0]))
            seat = pz.agent_seat(agent, core.num_players)
            expected = _core_rewards(core, before, env.unwrapped.actions[-1], env.unwrapped.episode_key)
            np.testing.assert_allclose([env.rewards[a] for a in env.possible_agents], expected)
            assert expected[seat] <= core.illegal_action_penalty
            assert all(env.terminations.values()) and env.infos[agent] == {"illegal_action": True}
            chex.assert_trees_all_equal(_private_fields(before), _private_fields(env.unwrapped.htjax_state))
            return


# ---------------------------------------------------------------------------- a toy with a forbidden action
class MaskedHighCard(HighCard):
    """HighCard plus action 2 ("forbidden"), never legal while the game runs."""

    id = "toy_masked_high_card"
    num_actions = 3
    action_labels = ("draw", "stand", "forbidden")

    def _init(self, key, params):
        state = super()._init(key, params)
        return state.replace(legal_action_mask=jnp.array([True, True, False]))

    def _step(self, state, action, key, params):
        nxt = super()._step(state.replace(legal_action_mask=state.legal_action_mask[:2]), action, key, params)
        return nxt.replace(legal_action_mask=jnp.concatenate([nxt.legal_action_mask, jnp.array([False])]))

    def render_text(self, state, seat=None):
        """The game's own text view (the adapters call ``env.render_text``)."""
        return f"masked high card, step {int(state.step_count)}, seat={seat}"


@pytest.fixture(scope="module")
def masked():
    return MaskedHighCard()


def test_masked_action__penalty_mode_ends_episode_and_keeps_cards(masked):
    env = aec_env(masked)
    env.reset(seed=1)
    agent = env.agent_selection
    before = env.unwrapped.htjax_state
    env.step(2)
    after = env.unwrapped.htjax_state
    assert all(env.terminations.values()) and not any(env.truncations.values())
    expected = _core_rewards(masked, before, 2, env.unwrapped.episode_key)
    assert [env.rewards[a] for a in env.possible_agents] == expected.tolist()
    assert env.rewards[agent] <= -1.0 and sum(env.rewards.values()) == pytest.approx(expected.sum())
    assert env.infos[agent] == {"illegal_action": True}
    chex.assert_trees_all_equal(_private_fields(before), _private_fields(after))
    assert env.unwrapped.actions == [2]


def test_masked_action__raise_mode_raises_and_changes_nothing(masked):
    env = aec_env(masked, illegal_action="raise")
    env.reset(seed=1)
    agent, state = env.agent_selection, env.unwrapped.htjax_state
    with pytest.raises(
        IllegalActionError,
        match=rf"{agent} played 2 \('forbidden'\).*legal actions are \{{0: 'draw', 1: 'stand'\}}",
    ):
        env.step(2)
    chex.assert_trees_all_equal(env.unwrapped.htjax_state, state)
    assert env.agent_selection == agent and env.unwrapped.actions == []
    env.step(1)  # the game goes on normally
    assert env.unwrapped.actions == [1]


@pytest.mark.parametrize(
    "action, message",
    [
        (3, r"player_\d: .*action out of range \[0, 3\): 3.*; legal actions are \{0: 'draw', 1: 'stand'\}"),
        (-1, r"action out of range \[0, 3\): -1"),
        (1.0, r"player_\d: .*action must be an integer, got dtype float64"),
        ("1", r"action must be an integer, got dtype <U1"),
        (True, r"action must be an integer, got dtype bool"),
        (np.array([1]), r"player_\d must have shape \(\), got shape \(1,\)"),
        (None, r"is to act; None is only for finished agents"),
    ],
)
def test_bad_action__raises_naming_agent_and_legal_actions(masked, action, message):
    env = aec_env(masked)
    env.reset(seed=2)
    state = env.unwrapped.htjax_state
    with pytest.raises(InvalidActionError, match=message):
        env.step(action)
    chex.assert_trees_all_equal(env.unwrapped.htjax_state, state)
    assert env.unwrapped.actions == []


def test_numpy_and_jax_integer_actions__are_accepted(masked):
    env = aec_env(masked)
    env.reset(seed=2)
    env.step(np.int64(0))  # one draw never ends the game (max_draws=4)
    env.step(jnp.int32(1))
    assert env.unwrapped.actions == [0, 1] and all(type(a) is int for a in env.unwrapped.actions)


def test_finished_agent__accepts_only_none(masked):
    env = aec_env(masked)
    env.reset(seed=3)
    env.step(2)  # penalty: everyone is terminated
    dead = env.agent_selection
    with pytest.raises(
        InvalidActionError, match=rf"{dead} has finished \(terminated\); the only valid action is None"
    ):
        env.step(0)
    env.step(None)
    env.step(None)
    assert env.agents == []
    with pytest.raises(HtjaxError, match="episode is over"):
        env.step(None)


def test_step_as__refuses_out_of_turn(masked):
    env = aec_env(masked)
    env.reset(seed=4)
    other = next(a for a in env.possible_agents if a != env.agent_selection)
    with pytest.raises(
        OutOfTurnError, match=rf"{other} tried to act out of turn.*it is {env.agent_selection}'s turn"
    ):
        env.step_as(other, 0)
    with pytest.raises(InvalidArgumentError, match=r"unknown agent 'player_9'"):
        env.step_as("player_9", 0)
    assert env.unwrapped.actions == []
    env.step_as(env.agent_selection, 1)
    assert env.unwrapped.actions == [1]


def test_before_reset__clear_errors(masked):
    env = aec_env(masked)
    for call in (lambda: env.step(0), lambda: env.observe("player_0")):
        with pytest.raises(HtjaxError, match=r"call reset\(\) before"):
            call()
    par = parallel_env("toy_matching_pennies")
    with pytest.raises(HtjaxError, match=r"call reset\(\) before step"):
        par.step({"player_0": 0, "player_1": 0})


def test_constructor__rejects_bad_arguments(masked):
    with pytest.raises(InvalidArgumentError, match=r"illegal_action must be one of \['penalty', 'raise'\]"):
        aec_env(masked, illegal_action="ignore")
    with pytest.raises(InvalidArgumentError, match=r"render_mode must be None or a string"):
        aec_env(masked, render_mode=3)
    with pytest.raises(htjax.UnknownEnvError, match="unknown env id 'nope'"):
        aec_env("nope")
    with pytest.raises(ConfigError, match="max_draws"):
        aec_env("toy_high_card", max_draws=0)
    with pytest.raises(InvalidArgumentError, match="either an Env instance"):
        aec_env(masked, max_draws=3)
    with pytest.raises(InvalidArgumentError, match="unknown agent 'player_2'"):
        aec_env(masked).observation_space("player_2")
    with pytest.raises(InvalidArgumentError, match="simultaneous-move game"):
        HtjaxAECEnv(MatchingPennies())


def test_unsupported_render_mode__warns_like_gymnasium_and_renders_nothing(masked):
    with pytest.warns(UserWarning, match="render_mode='rgb_array' is accepted"):
        env = aec_env(masked, render_mode="rgb_array")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render\\(\\) called with render_mode='rgb_array'"):
        assert env.render() is None


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True, "3"])
def test_bad_seed__raises(masked, seed):
    env = aec_env(masked)
    with pytest.raises(InvalidArgumentError, match=r"seed must be an int in \[0, 2\*\*64\)"):
        env.reset(seed=seed)


# ---------------------------------------------------------------------------- observations
def test_observe__any_seat_with_mask_only_for_the_acting_agent(masked):
    env = aec_env(masked)
    env.reset(seed=5)
    core, state = env.unwrapped.htjax_env, env.unwrapped.htjax_state
    for seat, agent in enumerate(env.possible_agents):
        obs = env.observe(agent)
        np.testing.assert_array_equal(obs["observation"], np.asarray(core.observe(state, seat)))
        assert obs["observation"].dtype == core.observation_dtype
        expected_mask = [1, 1, 0] if agent == env.agent_selection else [0, 0, 0]
        np.testing.assert_array_equal(obs["action_mask"], np.array(expected_mask, np.int8))
        assert env.observation_space(agent).contains(obs)
    obs["observation"][:] = 99  # a returned observation is a copy
    assert not np.any(env.observe(env.possible_agents[-1])["observation"] == 99)


def test_spaces__dict_box_mask_and_discrete(masked):
    env = aec_env(masked)
    space = env.observation_space("player_0")
    assert set(space.spaces) == {"observation", "action_mask"}
    assert space["observation"].shape == masked.observation_shape
    assert space["action_mask"].dtype == np.int8 and space["action_mask"].shape == (3,)
    assert env.action_space("player_1").n == 3
    assert env.observation_space("player_0") is not env.observation_space("player_1")


# ---------------------------------------------------------------------------- seeding and records
def test_seed__gives_documented_episode_keys(masked):
    env = aec_env(masked)
    env.reset(seed=42)
    np.testing.assert_array_equal(
        env.unwrapped.episode_key, np.asarray(episode_key_for(jax.random.PRNGKey(42), 0))
    )
    env.reset()
    np.testing.assert_array_equal(
        env.unwrapped.episode_key, np.asarray(episode_key_for(jax.random.PRNGKey(42), 1))
    )
    big = 2**40 + 5
    env.reset(seed=big)
    root = np.array([big >> 32, big & 0xFFFFFFFF], np.uint32)
    np.testing.assert_array_equal(
        env.unwrapped.episode_key, np.asarray(episode_key_for(jnp.asarray(root), 0))
    )


def test_seed__same_seed_same_game_and_stream_continues(masked):
    a, b = aec_env(masked), aec_env(masked)
    keys_a, keys_b = [], []
    for env, keys in ((a, keys_a), (b, keys_b)):
        env.reset(seed=9)
        keys.append(env.unwrapped.episode_key)
        for _ in range(3):
            env.reset()
            keys.append(env.unwrapped.episode_key)
    np.testing.assert_array_equal(np.stack(keys_a), np.stack(keys_b))
    assert len({k.tobytes() for k in keys_a}) == 4
    unseeded = [aec_env(masked) for _ in range(2)]
    for env in unseeded:
        env.reset()
    assert unseeded[0].unwrapped.episode_key.tobytes() != unseeded[1].unwrapped.episode_key.tobytes()


def test_episode_key_option__replays_a_recorded_game(masked):
    env = aec_env(masked)
    env.reset(seed=12)
    rng = np.random.default_rng(0)
    _play_aec(env, rng)
    key, actions, final = env.unwrapped.episode_key, env.unwrapped.actions, env.unwrapped.htjax_state
    other = aec_env(masked)
    other.reset(options={"episode_key": key})
    for action in actions:
        other.step(action)
    chex.assert_trees_all_equal(other.unwrapped.htjax_state, final)
    with pytest.raises(InvalidArgumentError, match=r"options\['episode_key'\] must be uint32\[2\]"):
        other.reset(options={"episode_key": [1, 2, 3]})
    other.reset(seed=0, options={"options": 1})  # unknown options are ignored (api_test passes one)


def test_compiled_functions__shared_and_traced_once(masked):
    from htjax.adapters.programs import seats_program

    first, second = aec_env(masked), aec_env(MaskedHighCard())
    assert seats_program(first.unwrapped.htjax_env) is seats_program(second.unwrapped.htjax_env)
    rng = np.random.default_rng(1)
    for env in (first, second, first):
        env.reset()
        _play_aec(env, rng)
    program = seats_program(masked)
    assert program.init._cache_size() == 1 and program.step._cache_size() == 1


# ---------------------------------------------------------------------------- parallel env
@pytest.fixture()
def pennies():
    env = parallel_env("toy_matching_pennies", rounds=3)
    env.reset(seed=0)
    return env


def test_parallel__missing_or_extra_agents_raise(pennies):
    with pytest.raises(
        InvalidActionError, match=r"exactly one action for each live agent.*missing \['player_1'\]"
    ):
        pennies.step({"player_0": 0})
    with pytest.raises(InvalidActionError, match=r"not live or unknown \['player_7'\]"):
        pennies.step({"player_0": 0, "player_1": 1, "player_7": 0})
    with pytest.raises(InvalidActionError, match=r"must be a dict"):
        pennies.step([0, 1])
    with pytest.raises(
        InvalidActionError,
        match=r"player_1: .*action out of range \[0, 3\).*; legal actions are \{0: 'heads', 1: 'tails'\}",
    ):
        pennies.step({"player_0": 0, "player_1": 5})
    assert pennies.actions == []


def test_parallel__illegal_action_penalises_only_the_offender(pennies):
    state = pennies.htjax_state
    obs, rewards, terms, _, infos = pennies.step({"player_0": 0, "player_1": 2})
    expected = _core_rewards(pennies.htjax_env, state, [0, 2], pennies.episode_key)
    assert [rewards["player_0"], rewards["player_1"]] == expected.tolist() and expected[1] <= -1.0
    assert terms == {"player_0": True, "player_1": True} and infos["player_1"] == {"illegal_action": True}
    assert infos["player_0"] == {} and pennies.agents == []
    chex.assert_trees_all_equal(_private_fields(state), _private_fields(pennies.htjax_state))
    assert all(not o["action_mask"].any() for o in obs.values())
    with pytest.raises(HtjaxError, match=r"episode is over"):
        pennies.step({})


def test_parallel__raise_mode_and_truncation():
    env = parallel_env("toy_matching_pennies", rounds=2, illegal_action="raise")
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match=r"player_0 played 2 \('never'\)"):
        env.step({"player_0": 2, "player_1": 0})
    _, rewards, terms, truncs, _ = env.step({"player_0": 0, "player_1": 0})
    assert rewards == {"player_0": 1.0, "player_1": -1.0} and env.agents == env.possible_agents
    _, rewards, terms, truncs, _ = env.step({"player_0": 0, "player_1": 1})
    assert rewards == {"player_0": -1.0, "player_1": 1.0}
    assert truncs == {"player_0": True, "player_1": True} and terms == {"player_0": False, "player_1": False}
    assert env.agents == [] and [a.tolist() for a in env.actions] == [[0, 0], [0, 1]]


def test_simultaneous_aec__checks_each_action_when_given():
    env = aec_env("toy_matching_pennies", illegal_action="raise")
    env.reset(seed=0)
    assert env.unwrapped.__class__ is HtjaxParallelEnv
    with pytest.raises(InvalidActionError, match=r"player_0: .*action out of range \[0, 3\)"):
        env.step(9)
    with pytest.raises(IllegalActionError, match=r"player_0 played 2"):
        env.step(2)
    env.step(1)
    assert env.agent_selection == "player_1"
    with pytest.raises(InvalidActionError, match=r"player_1: .*action must be an integer, got dtype float64"):
        env.step(0.5)
    env.step(1)
    assert env.unwrapped.actions[0].tolist() == [1, 1]
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}


def test_turn_based__no_parallel_form():
    with pytest.raises(
        InvalidArgumentError, match=r"toy_high_card is turn-based: use aec_env\('toy_high_card'\)"
    ):
        parallel_env("toy_high_card")
    with pytest.raises(AssertionError, match="is_parallelizable"):
        aec_to_parallel(aec_env("toy_high_card"))


# ---------------------------------------------------------------------------- rendering
def test_render__game_render_text_generic_text_and_human(masked, capsys):
    env = aec_env(masked, render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "masked high card, step 0, seat=None"
    plain = aec_env("toy_high_card", render_mode="ansi")
    plain.reset(seed=0)
    text = plain.render()  # the core's default Env.render_text
    assert text == plain.unwrapped.htjax_env.render_text(plain.unwrapped.htjax_state)
    assert text.startswith("toy_high_card step 0")
    human = aec_env("toy_matching_pennies", render_mode="human")
    human.reset(seed=0)
    assert human.render() is None
    assert capsys.readouterr().out.startswith("toy_matching_pennies step 0")
    quiet = aec_env(masked)
    quiet.reset(seed=0)
    with pytest.warns(UserWarning, match="without a render_mode"):
        assert quiet.render() is None


# ---------------------------------------------------------------------------- property: any input sequence
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    inputs=st.lists(
        st.one_of(st.integers(-2, 4), st.none(), st.sampled_from([1.5, "x"])), min_size=1, max_size=25
    ),
)
def test_any_input_sequence__bad_inputs_change_nothing_and_rewards_match_core(masked, seed, inputs):
    env = aec_env(masked, illegal_action="raise")
    env.reset(seed=seed)
    totals = dict.fromkeys(env.possible_agents, 0.0)
    for value in inputs:
        if not env.agents:
            break
        agent, state, n_actions = env.agent_selection, env.unwrapped.htjax_state, len(env.unwrapped.actions)
        dead = env.terminations[agent] or env.truncations[agent]
        mask = env.observe(agent)["action_mask"]
        legal = (value is None) if dead else (isinstance(value, int) and 0 <= value < 3 and bool(mask[value]))
        if legal:
            env.step(value)
            for a, r in env.rewards.items():
                totals[a] += r
        else:
            with pytest.raises((InvalidActionError, IllegalActionError)):
                env.step(value)
            chex.assert_trees_all_equal(env.unwrapped.htjax_state, state)
            assert len(env.unwrapped.actions) == n_actions
            assert env.agent_selection == agent
    _, expected = _core_totals(masked, env.unwrapped.episode_key, env.unwrapped.actions)
    np.testing.assert_allclose([totals[a] for a in env.possible_agents], expected, atol=1e-6)


# ---------------------------------------------------------------------------- an ONNX policy drives one agent
def test_onnx_policy__drives_one_agent_of_aec_holdem(tmp_path):
    from onnx_helpers import fresh_policy

    from htjax.train.onnx_policy import OnnxPolicy

    env = aec_env("holdem", illegal_action="raise")  # a masked action would raise
    policy = OnnxPolicy.load(fresh_policy(env.unwrapped.htjax_env, tmp_path, "hu"), env.unwrapped.htjax_env)
    rng = np.random.default_rng(0)
    decisions, returns = 0, []
    for episode in range(6):
        env.reset(seed=episode)
        total = 0.0
        for agent in env.agent_iter():
            observation, reward, terminated, truncated, info = env.last()
            if agent == "player_1":
                total += reward
            if terminated or truncated:
                action = None
            elif agent == "player_1":
                action = policy.act(observation["observation"], observation["action_mask"], rng)
                assert observation["action_mask"][action] == 1
                decisions += 1
            else:
                action = int(rng.choice(np.flatnonzero(observation["action_mask"])))
            env.step(action)
        returns.append(total)
    assert decisions >= 6 and any(r != 0 for r in returns)


@pytest.mark.parametrize("opponent", ["Cooperator", "TitForTat"])
def test_onnx_policy__parallel_ipd_moves_equal_the_tournaments(opponent):
    import htjax.policies
    from htjax.agents.ipd.tournament import play_match

    env = parallel_env("prisoners_dilemma")
    policy = htjax.policies.load("ipd", env.htjax_env)  # the shipped policy, by name

    def scripted(observation):  # player_0: cooperates, or copies player_1's last move
        if opponent == "Cooperator" or observation[0] == 0:
            return 0
        return int(observation[4] == 1)

    observations, infos = env.reset(seed=0)
    moves = []
    while env.agents:
        actions = {
            "player_0": scripted(observations["player_0"]["observation"]),
            "player_1": policy.act(
                observations["player_1"]["observation"], observations["player_1"]["action_mask"]
            ),
        }
        moves.append([actions["player_0"], int(actions["player_1"])])
        observations, rewards, terminations, truncations, infos = env.step(actions)
    expected = play_match(opponent, policy.tournament_agent(), turns=100)[0]
    np.testing.assert_array_equal(np.asarray(moves), expected)


# ---------------------------------------------------------------------------- pickling
@pytest.mark.parametrize(
    "make",
    [
        lambda: aec_env("holdem"),
        lambda: parallel_env("prisoners_dilemma", noise=0.1),
        lambda: aec_env("prisoners_dilemma"),
    ],
    ids=["aec-holdem", "parallel-ipd", "aec-of-parallel-ipd"],
)
def test_pickle__mid_episode_round_trip_then_both_copies_play_the_same(make):
    import pickle

    def play(env, steps):
        rng = np.random.default_rng(5)
        out = []
        for _ in range(steps):
            if not env.agents:
                env.reset()
                continue
            if isinstance(env, HtjaxParallelEnv):
                acts = {a: int(rng.choice(np.flatnonzero(env.observe(a)["action_mask"]))) for a in env.agents}
                out.append(sorted(env.step(acts)[1].items()))
                continue
            agent = env.agent_selection
            obs, reward, term, trunc, _ = env.last()
            out.append((agent, reward, term, trunc))
            env.step(None if term or trunc else int(rng.choice(np.flatnonzero(obs["action_mask"]))))
        return out

    env = make()
    env.reset(seed=8)
    play(env, 5)
    copy = pickle.loads(pickle.dumps(env))
    chex.assert_trees_all_equal(copy.unwrapped.htjax_state, env.unwrapped.htjax_state)
    assert [np.asarray(a).tolist() for a in copy.unwrapped.actions] == [
        np.asarray(a).tolist() for a in env.unwrapped.actions
    ]
    assert play(copy, 30) == play(env, 30)
