"""Cuttle's SVG renderer (``htjax.render.cuttle``): what a picture shows, and the privacy rule
(a viewer's SVG never changes when only cards it cannot see change)."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET

import jax
import numpy as np
import pytest
from cuttle_helpers import do, game, initer
from render_scenarios import SVG_NS, card_backs, face_up_cards

from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R
from htjax.render import render_svg, renderer_for


def _cards_in(group: ET.Element) -> list[str]:
    return [g.get("data-card") for g in group.iter(f"{SVG_NS}g") if g.get("data-card") is not None]


def _group(svg: str, cls: str, **attrs) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [
        g
        for g in root.iter(f"{SVG_NS}g")
        if g.get("class") == cls and all(g.get(k.replace("_", "-")) == v for k, v in attrs.items())
    ]


@pytest.fixture(scope="module")
def table():
    """Seat 0 to move (standard): a jack on seat 1's ten, a glasses eight, a queen, a king."""
    env, _ = game("standard")
    state = env.position(
        hands=[["As", "4d", "9c"], ["2h", "5s"]],
        points={0: ["Tc", "3h"], 1: ["7d"]},
        royals={0: ["8h"], 1: ["Qs", "Kd"]},
        attached=[("Jc", "7d", 0)],
        scrap=["6c", "6d"],
        turn=0,
    )
    return env, state


def test_cuttle_render__is_registered_and_shows_the_table(table):
    env, state = table
    assert renderer_for("cuttle").__module__ == "htjax.render.cuttle"
    svg = render_svg(env, state, 0)
    ET.fromstring(svg)
    faces = face_up_cards(svg)
    # seat 0 sees its hand, and seat 1's through its glasses eight
    for card in ("As", "4d", "9c", "2h", "5s"):
        assert card in faces
    assert card_backs(svg) == 1  # only the deck
    # the stolen seven sits on seat 0's field under seat 0's jack
    (stolen,) = _group(svg, "points", data_base="7d")
    assert _cards_in(stolen) == ["7d", "Jc"]
    assert {g.get("data-base") for g in _group(svg, "royals")} == {"8h", "Qs", "Kd"}
    assert _cards_in(_group(svg, "scrap")[0]) == ["6c", "6d"]
    assert _group(svg, "deck")[0].get("data-size") == str(52 - 14)
    assert "20 of 21 points" in svg and "0 of 14 points" in svg  # T + 3 + 7; one king
    assert "your moves: " in svg and "one-off As" in svg
    spectator = render_svg(env, state)
    assert card_backs(spectator) == 1 + 3 + 2 and not {"As", "2h"} & set(face_up_cards(spectator))


def test_cuttle_render__stack_revealed_phase_and_frozen(table):
    env, state = table
    s = do("standard", state, "one-off", "9c", "Qs")
    svg = render_svg(env, s, 1)
    assert _cards_in(_group(svg, "stack")[0]) == ["9c"]
    assert "counter phase" in svg and "0 counter(s)" in svg
    s = do("standard", s, "resolve")
    svg = render_svg(env, s, 1)
    assert "frozen by a 9: Qs" in svg and "Qs" in face_up_cards(svg)  # back in seat 1's own hand
    seven = env.position(hands=[["7c"], ["2d"]], deck=["Kh", "5d"], turn=0)
    s = do("standard", do("standard", seven, "one-off", "7c"), "resolve")
    svg = render_svg(env, s, 0)
    assert sorted(_cards_in(_group(svg, "revealed")[0])) == ["5d", "Kh"]
    assert "playing a card a 7 revealed" in svg


def test_cuttle_render__three_seats_and_jokers():
    env, _ = game("cutthroat")
    state = env.position(
        hands=[["X1"], ["3c"], ["4c"]], royals={1: ["Kh"]}, attached=[("X2", "Kh", 2)], turn=0
    )
    svg = render_svg(env, state, 0)
    (king,) = _group(svg, "royals", data_base="Kh")
    assert _cards_in(king) == ["Kh", "X2"]
    assert len(_group(svg, "seat")) == 3 and "X1" in face_up_cards(svg)
    assert card_backs(svg) == 1 + 2  # the deck, and seats 1 and 2's single cards


@functools.cache
def _facts(rules):
    return jax.jit(lambda b: R.facts(rules, b))


def _random_states(variant, episodes, steps):
    env, step = game(variant)
    init = initer(variant)
    rng = np.random.default_rng(11)
    for ep in range(episodes):
        s = init(jax.random.PRNGKey(100 + ep))
        for t in range(steps):
            if bool(s.terminated | s.truncated):
                break
            if t % 7 == 0:
                yield env, s
            legal = np.flatnonzero(np.asarray(s.legal_action_mask))
            s = step(s, np.int32(rng.choice(legal)), jax.random.PRNGKey(t))


def _shuffle_hidden(env, state, viewer, rng):
    """``state`` with the cards the viewer cannot see (other hands unless it controls a glasses
    eight, and the deck) dealt anew among those places."""
    b = jax.device_get(state.board)
    f = _facts(env.rules)(b)
    zone, owner, slot = np.array(b.zone), np.array(b.owner), np.array(b.slot)
    sees = viewer is not None and int(f.glasses[viewer]) > 0
    hidden = (zone == R.DECK) | ((zone == R.HAND) & (owner != viewer) & (not sees))
    idx = np.flatnonzero(hidden)
    perm = rng.permutation(idx)
    zone[perm], owner[perm], slot[perm] = zone[idx], owner[idx], slot[idx]
    board = state.board.replace(zone=zone, owner=owner, slot=slot)
    return state.replace(board=board), len(idx) > 1 and not np.array_equal(perm, idx)


@pytest.mark.parametrize("variant", ["standard", "cutthroat"])
def test_cuttle_render__a_viewer_svg_ignores_cards_it_cannot_see(variant):
    rng = np.random.default_rng(3)
    changed = 0
    for env, state in _random_states(variant, 2, 60):
        for viewer in [None, *range(env.num_players)]:
            other, moved = _shuffle_hidden(env, state, viewer, rng)
            changed += moved
            assert render_svg(env, other, viewer) == render_svg(env, state, viewer)
            if viewer is not None:  # face up: exactly what the viewer may see
                b = jax.device_get(state.board)
                f = _facts(env.rules)(b)
                sees = int(f.glasses[viewer]) > 0
                public = (b.zone != R.DECK) & (b.zone != R.HAND) & (b.zone != R.OUT)
                mine = (b.zone == R.HAND) & ((b.owner == viewer) | sees)
                expect = {A.card_str(c) for c in np.flatnonzero(public | mine)}
                assert set(face_up_cards(render_svg(env, state, viewer))) == expect
    assert changed > 8
