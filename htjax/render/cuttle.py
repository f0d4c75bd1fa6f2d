"""Cuttle as SVG: one panel per seat (the viewer's at the bottom) with its hand, its point cards
with the jacks or jokers on them, its permanents (glasses eights, queens, kings), its points
against its goal and a card a 9 froze; between the panels the deck, the scrap pile, the one-off
stack with its counters, the cards a 7 revealed, and the phase.

Hands: the viewer's own come from its observation (``hand``), and the other seats' from the
same observation while the viewer controls a glasses eight (``other_hands``); every other hand
is drawn as backs, one per card (the public view gives only its size). A spectator has no
observation and sees every hand face down. Everything else comes from the public view.
"""

from __future__ import annotations

import textwrap

import numpy as np

from htjax.envs.cuttle.actions import card_str
from htjax.render.core import Frame
from htjax.render.svg import CARD_H, CARD_W, HIGHLIGHT, INK, LIGHT, Canvas

__all__ = ["draw", "visible_hands"]

WIDTH = 940
PANEL_H = 196
MIDDLE_H = 150
SMALL = 0.62  # scale of cards on the field and in the middle
HAND_SCALE = 0.8
MAX_MOVE_LINES = 6


def visible_hands(frame: Frame) -> dict[int, list[str]]:
    """``{seat: cards}`` of the hands the viewer may see face up: its own (from its observation)
    and, while it controls a glasses eight, the others' (``other_hands`` of the same
    observation). A spectator sees none."""
    if frame.private is None or frame.seat is None:
        return {}
    parts = frame.env.observation_layout.unpack(frame.private)
    n = frame.env.num_players
    out = {frame.seat: [card_str(int(c)) for c in np.flatnonzero(np.asarray(parts["hand"]) > 0.5)]}
    others = np.asarray(parts["other_hands"]).reshape(n - 1, -1) > 0.5
    if others.any():  # all zero unless the viewer controls a glasses eight
        for r in range(1, n):
            out[(frame.seat + r) % n] = [card_str(int(c)) for c in np.flatnonzero(others[r - 1])]
    return out


def _card(c: Canvas, x: float, y: float, card: str | None, scale: float) -> None:
    """A face-up card, a back (``None``) or a joker (``X1``, ``X2``: no rank or suit)."""
    if card is None or card[0] != "X":
        c.card(x, y, card, scale=scale)
        return
    w, h = CARD_W * scale, CARD_H * scale
    c.open(class_="card", data_card=card)
    c.element("title", f"joker {card[1]}")
    c.rect(x, y, w, h, fill="#ffffff", stroke="#9e9e9e", stroke_width=1, rx=5 * scale)
    c.text(x + w / 2, y + h / 2 - 2, "\u2605", size=20 * scale, fill="#6a1b9a", anchor="middle")
    c.text(x + w / 2, y + h - 8 * scale, f"joker {card[1]}", size=9 * scale, fill=INK, anchor="middle")
    c.close()


def _stacked(c: Canvas, x: float, y: float, entry: dict, kind: str) -> float:
    """A card on the field with the jacks or jokers on it drawn over it, bottom first, each a
    little lower; returns the x after it."""
    c.open(class_=kind, data_base=entry["card"])
    _card(c, x, y, entry["card"], SMALL)
    for i, on in enumerate(entry["attached"]):
        _card(c, x + 6 * (i + 1), y + 14 * (i + 1), on, SMALL)
    c.close()
    return x + CARD_W * SMALL + 8 + 6 * len(entry["attached"])


def _panel(c: Canvas, frame: Frame, p: int, y: float, hands: dict[int, list[str]]) -> None:
    view = frame.public
    seat = view["seats"][p]
    acting = view["to_act"] == p
    c.open(class_="seat", data_seat=str(p))
    c.rect(
        12,
        y,
        WIDTH - 24,
        PANEL_H - 10,
        fill="#10381f",
        stroke=HIGHLIGHT if acting else "#0b2816",
        stroke_width=3 if acting else 1.5,
        rx=10,
    )
    head = f"{frame.who(p)}: {seat['points_total']} of {seat['goal']} points, {seat['hand_size']} in hand"
    c.text(24, y + 20, head, size=13, weight="bold")
    if acting:
        c.badge(WIDTH - 100, y + 20, "to act")
    if view["winner"] == p:
        c.badge(WIDTH - 100, y + 20, "winner")
    if seat["frozen"]:
        c.text(24 + 8 * len(head), y + 20, f"frozen by a 9: {seat['frozen']}", size=12, fill=HIGHLIGHT)
    # the hand: face up where the viewer may see it, else one back per card
    shown = hands.get(p)
    cards = list(shown) if shown is not None else [None] * seat["hand_size"]
    c.text(24, y + 40, "hand", size=11, fill="#b0bec5")
    x = 24
    for card in cards:
        _card(c, x, y + 46, card, HAND_SCALE)
        x += CARD_W * HAND_SCALE + 4
    # the field: point cards (with jacks) and permanents (with jokers)
    fy = y + 46 + CARD_H * HAND_SCALE + 20
    c.text(24, fy - 4, "points", size=11, fill="#b0bec5")
    x = 24
    for entry in seat["points"]:
        x = _stacked(c, x, fy, entry, "points")
    if not seat["points"]:
        c.text(24, fy + 20, "-", size=12)
    rx = WIDTH / 2 + 40
    c.text(rx, fy - 4, "royals and glasses", size=11, fill="#b0bec5")
    for entry in seat["royals"]:
        rx = _stacked(c, rx, fy, entry, "royals")
    if not seat["royals"]:
        c.text(WIDTH / 2 + 40, fy + 20, "-", size=12)
    c.close()


_PHASES = {
    "main": "main phase",
    "counter": "counter phase: counter the one-off with a 2, or let it resolve",
    "discard_four": "discarding for a 4",
    "discard_five": "discarding for a 5",
    "choose_three": "choosing a card from the scrap pile for a 3",
    "seven": "playing a card a 7 revealed",
}


def _middle(c: Canvas, view: dict, y: float) -> None:
    c.open(class_="middle")
    c.text(24, y + 16, f"{_PHASES[view['phase']]} · turn: seat {view['turn']}", size=13, weight="bold")
    if view["passes"]:
        c.text(WIDTH - 24, y + 16, f"{view['passes']} passes in a row", size=12, anchor="end")
    top = y + 30
    c.open(class_="deck", data_size=str(view["deck_size"]))
    if view["deck_size"]:
        _card(c, 24, top, None, SMALL)
    else:
        c.rect(24, top, CARD_W * SMALL, CARD_H * SMALL, stroke="#4caf7a", stroke_width=1, rx=4)
    c.text(
        24 + CARD_W * SMALL / 2,
        top + CARD_H * SMALL + 14,
        f"deck {view['deck_size']}",
        size=11,
        anchor="middle",
    )
    c.close()
    x = 24 + CARD_W * SMALL + 24
    for name, cards, label in (
        ("stack", view["stack"], f"one-off, {view['counters']} counter(s)" if view["stack"] else ""),
        ("revealed", view["revealed"], "revealed by a 7"),
    ):
        if not cards:
            continue
        c.open(class_=name)
        c.text(x, top + CARD_H * SMALL + 14, label, size=11)
        for card in cards:
            _card(c, x, top, card, SMALL)
            x += CARD_W * SMALL + 4
        c.close()
        x += 20
    scrap = view["scrap"]
    c.open(class_="scrap", data_size=str(len(scrap)))
    sx = max(x, WIDTH / 2 - 60)
    c.text(sx, top - 2, f"scrap pile: {len(scrap)}", size=11)
    per_row = int((WIDTH - 24 - sx) // (CARD_W * 0.5 + 2))
    for i, card in enumerate(scrap):
        row, col = divmod(i, max(per_row, 1))
        _card(c, sx + col * (CARD_W * 0.5 + 2), top + 4 + row * (CARD_H * 0.5 + 3), card, 0.5)
    c.close()
    c.close()


def _move_lines(labels: list[str]) -> list[str]:
    rows = textwrap.wrap("your moves: " + ", ".join(labels), 120)
    if len(rows) > MAX_MOVE_LINES:
        rows = rows[: MAX_MOVE_LINES - 1] + [f"... ({len(labels)} moves in all)"]
    return rows


def draw(frame: Frame) -> str:
    """The SVG of a Cuttle :class:`~htjax.render.core.Frame`."""
    view = frame.public
    n = len(view["seats"])
    me = 0 if frame.seat is None else frame.seat
    order = [(me + k) % n for k in range(1, n)] + [me]  # the viewer's panel at the bottom
    hands = visible_hands(frame)
    moves = _move_lines(frame.legal_labels) if frame.legal_labels else []
    footer = 34 + 16 * len(moves) + (18 if frame.caption else 0)
    height = PANEL_H * n + MIDDLE_H + footer
    viewer = "spectator" if frame.seat is None else f"seat {frame.seat}"
    c = Canvas(WIDTH, height, f"cuttle ({view['variant']}), step {view['step']}, seen by {viewer}")
    y = 10
    for p in order[:-1]:
        _panel(c, frame, p, y, hands)
        y += PANEL_H
    _middle(c, view, y)
    y += MIDDLE_H
    _panel(c, frame, order[-1], y, hands)
    y += PANEL_H + 8
    if view["over"]:
        c.badge(24, y, "game drawn" if view["winner"] is None else f"seat {view['winner']} wins")
    elif moves:
        y = c.lines(24, y, moves, size=12, gap=16, fill=HIGHLIGHT) - 16
    elif view["to_act"] is not None:
        c.text(24, y, f"waiting for {frame.who(view['to_act']).lower()}", size=12, fill=LIGHT)
    if frame.caption:
        c.text(24, y + 22, frame.caption, size=12)
    return c.to_svg()
