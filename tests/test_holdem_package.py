"""Hold'em's package shape: the observation layout defined once (docs table, bounds), rule
parameters per world in one compiled program, the text table's markers, small modules."""

from __future__ import annotations

import pathlib

import chex
import jax
import jax.numpy as jnp
import numpy as np
from holdem_helpers import make, play, start

import htjax
from htjax.envs.holdem import env as holdem_env

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_docs_observation_table_is_the_layout():
    page = (ROOT / "docs" / "envs" / "holdem.md").read_text()
    assert make().observation_layout.markdown_table() in page
    assert htjax.make("holdem").observation_bounds[0].shape == (157,)


def test_observations_of_random_play_lie_within_the_bounds():
    for env in (make(), make(num_players=6, starting_stack=300)):
        low, high = env.observation_bounds
        assert low.shape == high.shape == env.observation_shape and low.dtype == np.float64
        out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(1), num_envs=16, num_steps=40)
        obs = np.asarray(out.trajectory.observation, np.float64)
        assert np.all(obs >= low) and np.all(obs <= high)
        assert np.any(obs[..., env.observation_layout.slice("pot")] > 1)  # not a trivial check


SETTINGS = [
    {},
    {"small_blind": 2, "big_blind": 4},
    {"starting_stack": 60},
    {"small_blind": 5, "big_blind": 10, "starting_stack": 1000},
    {"small_blind": 3, "big_blind": 3, "starting_stack": 31},
]


def _action(mask: np.ndarray, t: int, w: int) -> int:
    legal = np.flatnonzero(mask)
    return int(legal[(7 * t + 3 * w) % legal.size])


def test_one_batch_of_mixed_rule_parameters_equals_separate_envs_traced_once():
    env = make(num_players=3)
    params = env.batch_params(SETTINGS)
    keys = jax.random.split(jax.random.PRNGKey(4), len(SETTINGS))

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(states, actions, step_keys, params):
        return jax.vmap(env.step)(states, actions, step_keys, params)

    batch = jax.jit(jax.vmap(env.init))(keys, params)
    singles = [htjax.make("holdem", num_players=3, **s) for s in SETTINGS]
    single_states = [jax.jit(e.init)(k) for e, k in zip(singles, keys)]
    single_steps = [jax.jit(e.step) for e in singles]
    for t in range(14):
        masks = np.asarray(batch.legal_action_mask)
        actions = np.array([_action(m, t, w) for w, m in enumerate(masks)], np.int32)
        skeys = jax.vmap(htjax.step_key)(keys, batch.step_count)
        batch = step(batch, jnp.asarray(actions), skeys, params)
        single_states = [
            f(s, np.int32(a), k) for f, s, a, k in zip(single_steps, single_states, actions, skeys)
        ]
        for w, single in enumerate(single_states):
            world = jax.tree_util.tree_map(lambda x, w=w: x[w], batch)
            chex.assert_trees_all_equal(world.table, single.table)
            np.testing.assert_allclose(
                np.asarray(world.observation), np.asarray(single.observation), rtol=1e-6
            )
            np.testing.assert_allclose(np.asarray(world.rewards), np.asarray(single.rewards), rtol=1e-6)
            assert bool(world.terminated) == bool(single.terminated)
    # the worlds really played different stakes
    np.testing.assert_array_equal(np.asarray(batch.table.big_blind), [2, 4, 2, 10, 3])


def test_bad_rule_parameters_name_the_field():
    env = make()
    for bad, field in (
        ({"big_blind": 0}, "big_blind"),
        ({"starting_stack": 2}, "starting_stack"),
        ({"num_players": 3}, "num_players"),
    ):
        try:
            env.params(**bad)
        except htjax.ConfigError as error:
            assert field in str(error)
        else:
            raise AssertionError(f"{bad} accepted")
    small = make(max_stack_bb=100)
    try:
        small.params(starting_stack=201)
    except htjax.ConfigError as error:
        assert "max_stack_bb" in str(error)
    else:
        raise AssertionError("a stack above max_stack_bb accepted")


def test_render_text_marks_button_and_seat_to_act_and_labels_units():
    env = make(num_players=3)
    s = start(env, stacks=[100, 100, 100], button=1)
    lines = env.render_text(s).splitlines()
    seat_lines = {int(line.split("seat ")[1][0]): line for line in lines if "seat " in line}
    # three-handed the button (seat 1) acts first before the flop: left of the big blind (seat 0)
    assert seat_lines[1].startswith("D> ") and "[button, to act]" in seat_lines[1]
    assert seat_lines[0].startswith("   ") and seat_lines[2].startswith("   ")
    assert "chips" in lines[0] and "(1.5 bb)" in lines[0]  # pot 3 chips = 1.5 big blinds
    s = play(env, s, "call", "call", "check")  # flop: the small blind (seat 2) acts first
    seat_lines = {
        int(line.split("seat ")[1][0]): line for line in env.render_text(s).splitlines() if "seat " in line
    }
    assert seat_lines[2].startswith(" > ") and seat_lines[1].startswith("D  ")


def test_package_modules_are_small():
    package = pathlib.Path(holdem_env.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert set(sizes) >= {"__init__.py", "config.py", "rules.py", "observation.py", "env.py", "views.py"}
    assert max(sizes.values()) < 600, sizes
