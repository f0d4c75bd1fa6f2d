"""Cuttle through htjax's surfaces: the legal mask against a table-driven reference, the docs
page, PettingZoo's own tests, make + rollout, the scripted agent and ``htjax play cuttle``."""

from __future__ import annotations

import pathlib
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from cuttle_helpers import game, initer
from pettingzoo.test import api_test, seed_test
from typer.testing import CliRunner

import htjax
from htjax.adapters.pettingzoo import aec_env
from htjax.agents.cuttle import PRIORITY, scripted_policy
from htjax.cli import app
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "envs" / "cuttle.md"


def _random_states(variant: str, episodes: int, steps: int):
    env, step = game(variant)
    init = initer(variant)
    rng = np.random.default_rng(5)
    for ep in range(episodes):
        s = init(jax.random.PRNGKey(ep))
        for t in range(steps):
            if bool(s.terminated | s.truncated):
                break
            yield s
            legal = np.flatnonzero(np.asarray(s.legal_action_mask))
            s = step(s, jnp.int32(rng.choice(legal)), jax.random.PRNGKey(t))


@pytest.mark.parametrize("variant", ["standard", "cutthroat"])
def test_cuttle__legal_mask_equals_the_table_rule_in_every_visited_state(variant):
    rules = game(variant)[0].rules
    parts = jax.jit(lambda b: R.legal_parts(rules, b))
    phases = set()
    for s in _random_states(variant, 3, 80):
        kinds, cards, targets = (np.asarray(x) for x in parts(s.board))
        expect = kinds[A.KIND] & cards[A.KIND, A.CARD] & targets[A.TCLASS, A.TARGET]
        mask = np.asarray(s.legal_action_mask)
        np.testing.assert_array_equal(mask, expect)
        phase = int(s.board.phase)
        if phase == R.MAIN:  # pass: deck empty, or nothing else legal
            deck_empty = rules.num_cards - int(s.board.pos) <= 0
            assert mask[A.FIRST[A.PASS]] == (deck_empty or not mask[A.KIND != A.PASS].any())
        if phase == R.SEVEN:  # discard a revealed card only when none can be played
            play = np.isin(A.KIND, A.PLAY_KINDS)
            assert mask[A.KIND == A.DISCARD].any() == (not mask[play].any())
        phases.add(phase)
    assert {R.MAIN, R.COUNTER} <= phases


def test_cuttle__docs_page_has_the_layout_and_the_action_formulas():
    page = PAGE.read_text()
    assert game("classic")[0].observation_layout.markdown_table() in page
    formulas = {
        "points": lambda c: 3 + c,
        "scuttle": lambda c, t: 43 + c * (c - 1) // 2 + t,
        "jack": lambda s, t: 1151 + 40 * s + t,
        "nine": lambda s, t: 923 + 54 * s + t,
    }
    for c in range(40):
        assert A.action_id("points", c) == formulas["points"](c)
        for t in range(c):
            assert A.action_id("scuttle", c, t) == formulas["scuttle"](c, t)
    for s in range(4):
        for t in range(40):
            assert A.action_id("attach", A.card_of(A.JACK, s), t) == formulas["jack"](s, t)
        for t in range(54):
            assert A.action_id("one-off", A.card_of(A.NINE, s), t) == formulas["nine"](s, t)
    assert "| 0, 1, 2 | draw, pass, resolve" in page
    for kind, first in A.FIRST.items():  # every range's first id is in the page's table
        if kind not in (A.DRAW, A.PASS, A.RESOLVE):
            assert re.search(rf"\| {first}-", page), (A.KIND_NAMES[kind], first)


# ---------------------------------------------------------------------------- PettingZoo
@pytest.mark.parametrize("variant", ["standard", "cutthroat"])
def test_cuttle__pettingzoo_api_and_seed_tests_pass(variant):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # api_test's generic advice about observation spaces
        api_test(aec_env("cuttle", preset=variant), num_cycles=60)
        seed_test(lambda: aec_env("cuttle", preset=variant), num_cycles=60)


# ---------------------------------------------------------------------------- make, rollout, agents
def test_cuttle__rollout_with_auto_reset_finishes_games():
    env = htjax.make("cuttle", preset="cutthroat")
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(2), 8, 120)
    tr = jax.device_get(out.trajectory)
    assert tr.done.sum() >= 4 and np.all(np.abs(tr.rewards.sum(axis=-1)[tr.done]) <= 1.0 + 1e-6)
    winners = (tr.rewards[tr.done] == 1.0).any(axis=-1)
    assert winners.sum() >= 1


def test_cuttle__scripted_agent_beats_random_play():
    env = htjax.make("cuttle")
    worlds, steps = 64, 240

    def act(state, key):
        seat = state.current_player
        scripted = scripted_policy(None, state.observation, state.legal_action_mask, key)
        rand = htjax.random_policy(None, state.observation, state.legal_action_mask, key)
        return jnp.where(seat == 0, scripted, rand)

    @jax.jit
    def play(keys):
        states = jax.vmap(env.init)(keys)

        def body(carry, t):
            s, total = carry
            ks = jax.vmap(lambda k: htjax.step_key(k, t))(keys)
            a = jax.vmap(act)(s, ks)
            s = jax.vmap(env.step)(s, a, ks)
            return (s, total + s.rewards), None

        (s, total), _ = jax.lax.scan(body, (states, jnp.zeros((worlds, 2))), jnp.arange(steps))
        return total, s.terminated

    total, done = jax.device_get(play(jax.random.split(jax.random.PRNGKey(0), worlds)))
    wins, losses = int((total[:, 0] > 0).sum()), int((total[:, 0] < 0).sum())
    assert done.mean() > 0.9 and wins > 2 * losses, (wins, losses)
    assert PRIORITY[A.action_id("counter", "2c")] > PRIORITY[A.action_id("resolve")]


def test_cuttle__play_in_the_terminal_against_scripted_and_random_opponents():
    runner = CliRunner()
    moves = "draw\nresolve\n" * 30
    scripted = runner.invoke(
        app, ["play", "cuttle", "--opponent", "scripted", "--seed", "1"], input=moves, env={"COLUMNS": "200"}
    )
    assert scripted.exit_code == 0, scripted.output
    assert "scripted (seat 1) plays" in scripted.output and "you play draw" in scripted.output
    rand = runner.invoke(
        app,
        ["play", "cuttle", "--rules", "cutthroat", "--seat", "2", "--games", "1"],
        input=moves,
        env={"COLUMNS": "200"},
    )
    assert rand.exit_code == 0, rand.output
    assert "seat 1 plays" in rand.output and "you play" in rand.output


def test_cuttle__render_hides_other_hands_unless_glasses():
    env, _ = game("classic")
    s = env.position(hands=[["Ac", "Kd"], ["5s", "9h"]], royals={1: ["8h"]})
    mine = env.render_text(s, seat=0)
    assert "Ac Kd" in mine and "5s 9h" not in mine and "?? ??" in mine
    assert "Ac Kd" in env.render_text(s, seat=1)  # seat 1 wears the glasses
    view = env.public_view(s)
    assert (
        view["seats"][1]["royals"] == [{"card": "8h", "attached": []}] and view["seats"][0]["hand_size"] == 2
    )
    assert "Ac" not in str(view) and "5s" not in str(view)


def test_cuttle__env_pickles_after_building_a_position():
    import pickle

    env, _ = game("standard")
    env.position(hands=[["Ac"], ["2d"]])
    copy = pickle.loads(pickle.dumps(env))
    assert copy == env and bool(
        copy.position(hands=[["Ac"], ["2d"]]).legal_action_mask[A.action_id("points", "Ac")]
    )
