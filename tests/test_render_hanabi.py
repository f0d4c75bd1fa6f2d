"""Hanabi's SVG renderer: what the picture shows (fireworks, tokens, discards, every hand) and
its privacy: a seat's own cards and the spectator's view of every hand come from nothing a
viewer cannot see (changing those cards leaves the SVG byte for byte the same)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import jax.numpy as jnp
import numpy as np
import pytest
from render_scenarios import play, prefer, random_choice

import htjax
from htjax.envs.hanabi import rules as R
from htjax.render import render_svg

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg: str, cls: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == cls]


def _hand(svg: str, seat: int) -> tuple[list[str | None], list[str]]:
    """Seat ``seat``'s cards as drawn (``None`` for a back) and each card's plausible colours."""
    (hand,) = [g for g in _groups(svg, "hand") if g.get("data-seat") == str(seat)]
    cards = [g.get("data-card") for g in hand.iter(f"{SVG}g") if g.get("class") in ("card", "card back")]
    colours = [g.get("data-colors") for g in hand.iter(f"{SVG}g") if g.get("class") == "knowledge"]
    return cards, colours


@pytest.fixture(scope="module")
def game():
    env = htjax.make("hanabi", num_players=3)
    states = play(env, 5, prefer("hint +1 red", "play 0", "discard 0"), max_steps=40)
    states += play(env, 8, random_choice, max_steps=60)
    return env, states


def test_render_hanabi__shows_fireworks_tokens_discards_and_the_hands(game):
    env, states = game
    # a position with fireworks, discards and a last move
    s = max(
        states,
        key=lambda st: (
            int(np.sum(st.board.fireworks) > 0) + int(np.sum(st.board.discards) > 0),
            -int(st.step_count),
        ),
    )
    b = s.board
    assert int(np.sum(b.fireworks)) > 0 and int(np.sum(b.discards)) > 0
    view = env.public_view(s)
    svg = render_svg(env, s, seat=1)
    heights = {g.get("data-color"): int(g.get("data-height")) for g in _groups(svg, "firework")}
    assert heights == dict(zip(R.COLOR_CHARS, np.asarray(b.fireworks).tolist()))
    (tokens,) = _groups(svg, "tokens")
    assert int(tokens.get("data-info")) == int(b.info_tokens) and int(tokens.get("data-lives")) == int(
        b.life_tokens
    )
    assert int(tokens.get("data-deck")) == view["deck_size"]
    assert f"info {int(b.info_tokens)}/8" in svg and f"lives {int(b.life_tokens)}/3" in svg
    discarded = sorted(
        g.get("data-card") for d in _groups(svg, "discards") for g in d.iter(f"{SVG}g") if g.get("data-card")
    )
    assert discarded == sorted(view["discards"])
    # seat 1 sees seats 0 and 2 face up, as they are, and its own cards as backs
    for seat in (0, 2):
        cards, _ = _hand(svg, seat)
        assert cards == [R.card_str(c) for c in np.asarray(b.hands[seat]) if c >= 0]
    own, colours = _hand(svg, 1)
    assert own == [None] * view["hand_sizes"][1]
    # the knowledge under its backs is what the hints told (the public view's strings agree)
    assert colours == [k.split("|")[1].rstrip("12345") for k in view["knowledge"][1]]
    assert "Seat 1 (you)" in svg and "last move: " + view["last_move"]["text"] in svg


def test_render_hanabi__a_hint_narrows_the_colours_drawn_under_the_cards():
    env = htjax.make("hanabi")
    deck = env.stacked_deck(["R1", "R2", "Y1", "G1", "B5", "R1", "W2", "W3", "Y1", "B1"])
    s = env.init_deal(jnp.zeros(2, jnp.uint32), deck)
    s = env.step(s, env.action_labels.index("hint +1 white"), jnp.zeros(2, jnp.uint32))
    _, colours = _hand(render_svg(env, s, seat=1), 1)
    assert colours == ["RYGB", "W", "W", "RYGB", "RYGB"]  # seat 1 holds W2 and W3 in slots 1, 2


def test_render_hanabi__a_seats_own_cards_and_the_spectators_hands_stay_hidden(game):
    env, states = game
    checked = 0
    for s in states[::3]:
        b = s.board
        for viewer in (None, 0, 1, 2):
            svg = render_svg(env, s, viewer)
            hidden = range(3) if viewer is None else [viewer]
            # replace every hidden card by another card id (its knowledge kept): same picture
            hands = np.asarray(b.hands).copy()
            for seat in hidden:
                held = hands[seat] >= 0
                hands[seat] = np.where(held, (hands[seat] + 7) % 25, hands[seat])
            other = s.replace(board=b.replace(hands=jnp.asarray(hands, jnp.int8)))
            assert render_svg(env, other, viewer) == svg
            # a card the viewer can see does change the picture
            if viewer is not None:
                seen = (viewer + 1) % 3
                hands[seen, 0] = (hands[seen, 0] + 1) % 25
                changed = s.replace(board=b.replace(hands=jnp.asarray(hands, jnp.int8)))
                assert render_svg(env, changed, viewer) != svg
            drawn = [g for h in _groups(svg, "hand") for g in h.iter(f"{SVG}g")]
            backs = sum(1 for g in drawn if g.get("class") == "card back")
            shown = sum(1 for g in drawn if g.get("data-card"))
            sizes = env.public_view(s)["hand_sizes"]
            assert backs == sum(sizes[p] for p in hidden) and shown == sum(sizes) - backs
            checked += 1
    assert checked >= 30  # every viewer of a dozen positions across two games
