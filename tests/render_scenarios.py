"""Seeded game positions whose SVGs are kept as golden files in ``tests/data/svg/``.

Shared by ``tests/test_render.py`` (which diffs against the files) and
``scripts/render_snapshots.py`` (which rewrites them after a deliberate change to a renderer).
Each scenario plays a small env from a fixed key with a fixed choice rule and draws chosen
steps for chosen viewers, so the pictures cover: face-down dealer hole card and its reveal,
split hands, hold'em hole cards of the viewer only, side pots, a showdown, the IPD grid
(short, and longer than the 32-round window), Hanabi seen by a seat and by the spectator.
"""

from __future__ import annotations

import functools
import pathlib
import xml.etree.ElementTree as ET

import jax
import numpy as np

import htjax
from htjax.core.keys import step_key
from htjax.render import render_svg

GOLDEN_DIR = pathlib.Path(__file__).resolve().parent / "data" / "svg"


SVG_NS = "{http://www.w3.org/2000/svg}"


def face_up_cards(svg: str) -> list[str]:
    """Cards drawn face up (their ``data-card``), in drawing order."""
    root = ET.fromstring(svg)
    return [g.get("data-card") for g in root.iter(f"{SVG_NS}g") if g.get("data-card") is not None]


def card_backs(svg: str) -> int:
    """How many cards are drawn face down."""
    return sum(1 for g in ET.fromstring(svg).iter(f"{SVG_NS}g") if g.get("class") == "card back")


@functools.lru_cache(maxsize=None)
def stepper(env):
    """One jitted step per env (shared by the tests of a module)."""
    return jax.jit(lambda state, action, key: env.step(state, action, step_key(key, state.step_count)))


def play(env, seed: int, choose, max_steps: int = 200, state=None):
    """States ``[s0, s1, ...]`` of one episode from ``PRNGKey(seed)``; ``choose(env, state, rng)``
    gives each action (host values)."""
    key = jax.random.PRNGKey(seed)
    state = env.init(key) if state is None else state
    rng = np.random.default_rng(seed)
    states = [jax.device_get(state)]
    step = stepper(env)
    while not bool(state.terminated | state.truncated) and len(states) <= max_steps:
        state = step(state, choose(env, jax.device_get(state), rng), key)
        states.append(jax.device_get(state))
    return states


def random_choice(env, state, rng):
    mask = np.asarray(state.legal_action_mask)
    if env.simultaneous:
        return np.array([rng.choice(np.flatnonzero(m)) for m in mask], np.int32)
    return np.int32(rng.choice(np.flatnonzero(mask)))


def prefer(*labels):
    """The first legal action among ``labels``, else a random legal one."""

    def choose(env, state, rng):
        mask = np.asarray(state.legal_action_mask)
        for label in labels:
            a = env.action_labels.index(label) if label in env.action_labels else -1
            if a >= 0 and mask[a]:
                return np.int32(a)
        return random_choice(env, state, rng)

    return choose


def _ipd_pattern(env, state, rng):
    t = int(state.step_count)
    return np.array([int(t % 3 == 2), int(t % 5 == 0)], np.int32)


def scenarios():
    """``{name: (env, state, seat)}`` of every golden picture."""
    out = {}
    bj = htjax.make("blackjack", num_seats=2)
    states = play(bj, 4, prefer("bet_5", "no_insurance", "split", "hit"), max_steps=6)
    out["blackjack_play_seat0"] = (bj, states[-1], 0)
    end = play(bj, 4, prefer("bet_5", "no_insurance", "stand"))
    out["blackjack_over_spectator"] = (bj, end[-1], None)
    hu = htjax.make("holdem", num_players=3, stacks=(30, 100, 200), button=0)
    states = play(hu, 2, prefer("all-in", "check/call"))
    out["holdem_preflop_seat1"] = (hu, states[1], 1)
    shoved = max(states[:-1], key=lambda s: (len(hu.public_view(s)["pots"]), int(s.step_count)))
    out["holdem_side_pots_seat2"] = (hu, shoved, 2)
    out["holdem_showdown_spectator"] = (hu, states[-1], None)
    ipd = htjax.make("prisoners_dilemma", rounds=40)
    states = play(ipd, 1, _ipd_pattern)
    out["ipd_round6_seat0"] = (ipd, states[6], 0)
    out["ipd_over_spectator"] = (ipd, states[-1], None)
    hanabi = htjax.make("hanabi", num_players=3)
    states = play(hanabi, 5, prefer("hint +1 red", "play 0", "discard 0"), max_steps=40)
    out["hanabi_seat1"] = (hanabi, states[9], 1)
    out["hanabi_over_spectator"] = (hanabi, states[-1], None)
    return out


def render_all() -> dict[str, str]:
    """``{file name: SVG}`` of every scenario."""
    return {f"{name}.svg": render_svg(env, state, seat) for name, (env, state, seat) in scenarios().items()}
