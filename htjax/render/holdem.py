"""Texas hold'em as SVG: an oval table with the board, the pot and side pots in the middle, and
each seat's stack, street bet (chips), hole cards, button and turn around it.

Hole cards: the viewer's own come from its observation (``hole_cards``, one-hot over card ids);
the cards of seats that reached a showdown come from the public view; every other seat still
in the hand shows two card backs, so nobody's hidden cards are ever drawn. The viewer sits at
the bottom (a spectator sees seat 0 there).
"""

from __future__ import annotations

import math

import numpy as np

from htjax.core import cards
from htjax.render.core import Frame
from htjax.render.svg import CARD_H, CARD_W, HIGHLIGHT, Canvas, fmt

__all__ = ["draw", "own_hole_cards"]

WIDTH, TABLE_H = 760, 512
CX, CY = WIDTH / 2, 255
RX, RY = 300, 160
SCALE = 0.8


def own_hole_cards(frame: Frame) -> list[str]:
    """The viewer's hole cards (text form) from its own observation; none for a spectator."""
    if frame.private is None:
        return []
    part = frame.env.observation_layout.unpack(frame.private)["hole_cards"]
    return [cards.card_to_str(int(i)) for i in np.flatnonzero(np.asarray(part) > 0.5)]


def _position(k: int, n: int, rx: float, ry: float) -> tuple[float, float]:
    """Relative seat ``k`` of ``n`` (0 = the viewer, at the bottom), clockwise."""
    angle = math.pi / 2 + 2 * math.pi * k / n
    return CX + rx * math.cos(angle), CY + ry * math.sin(angle)


def _hole(frame: Frame, p: int, seat: dict) -> list[str | None]:
    if seat["sitting_out"]:
        return []
    if p == frame.seat:
        return list(own_hole_cards(frame))
    if seat["hole"] is not None:
        return list(seat["hole"])
    return [] if seat["folded"] else [None, None]


def _seat(c: Canvas, frame: Frame, p: int, k: int, n: int) -> None:
    view = frame.public
    seat = view["seats"][p]
    x, y = _position(k, n, RX + 30, RY + 30)
    acting = view["to_act"] == p
    box_w, box_h = 164, 92
    bx, by = x - box_w / 2, y - box_h / 2
    c.open(class_="seat", data_seat=str(p))
    c.rect(
        bx,
        by,
        box_w,
        box_h,
        fill="#10381f" if not seat["folded"] else "#2b2b2b",
        stroke=HIGHLIGHT if acting else "#0b2816",
        stroke_width=3 if acting else 1.5,
        rx=10,
    )
    hole = _hole(frame, p, seat)
    cx = bx + 8
    for card in hole:
        c.card(cx, by + 6, card, scale=SCALE)
        cx += CARD_W * SCALE + 4
    tx = bx + 8 + 2 * (CARD_W * SCALE + 4) + 2
    c.text(tx, by + 18, frame.who(p), size=12, weight="bold")
    c.text(tx, by + 34, f"stack {seat['stack']}", size=11)
    tags = []
    if seat["sitting_out"]:
        tags.append("sitting out")
    elif seat["folded"]:
        tags.append("folded")
    elif seat["all_in"]:
        tags.append("all-in")
    if tags:
        c.text(tx, by + 50, ", ".join(tags), size=11, fill=HIGHLIGHT)
    bottom = by + 6 + CARD_H * SCALE + 14
    if seat["hand"]:
        c.text(bx + 8, bottom, seat["hand"], size=11)
    if "net" in seat:
        c.text(bx + box_w - 8, bottom, f"won {seat['payout']} (net {seat['net']:+d})", size=11, anchor="end")
    elif acting:
        c.text(bx + box_w - 8, bottom, "to act", size=11, anchor="end", fill=HIGHLIGHT, weight="bold")
    if view["button"] == p:
        dx, dy = _position(k - min(0.3, 0.9 / n), n, RX - 36, RY - 36)  # beside the bet, not on it
        c.circle(dx, dy, 10, fill="#ffffff", stroke="#333333", stroke_width=1)
        c.text(dx, dy + 4, "D", size=11, fill="#1b1b1b", anchor="middle", weight="bold")
    if seat["bet"] > 0 and not view["over"]:
        bx2, by2 = _position(k, n, RX - 70, RY - 62)
        c.chips(bx2 - 12, by2, seat["bet"])
    c.close()


def _centre(c: Canvas, view: dict) -> None:
    board = list(view["board"])
    width = 5 * CARD_W + 4 * 6
    x0 = CX - width / 2
    y0 = CY - CARD_H / 2 - 12
    for i in range(5):
        if i < len(board):
            c.card(x0 + i * (CARD_W + 6), y0, board[i])
        else:
            c.rect(x0 + i * (CARD_W + 6), y0, CARD_W, CARD_H, stroke="#4caf7a", stroke_width=1, rx=5)
    sb, bb = view["blinds"]
    c.text(CX, y0 - 12, f"{view['street']} · blinds {sb}/{bb}", size=13, anchor="middle", weight="bold")
    y = y0 + CARD_H + 20
    if view["pot"]:
        c.text(CX, y, f"pot {view['pot']} chips ({fmt(view['pot'] / bb)} bb)", size=13, anchor="middle")
        if len(view["pots"]) > 1:
            c.text(CX, y + 16, f"{len(view['pots'])} pots (listed below)", size=11, anchor="middle")
    elif view["over"]:
        c.text(CX, y, "hand over" + (": showdown" if view["showdown"] else ""), size=13, anchor="middle")


def pot_lines(view: dict) -> list[str]:
    """``main pot: 10 (seats 0, 1, 2)``, ``side pot 1: 40 (seats 0, 2)``, ... when there are side pots."""
    pots = view["pots"]
    if len(pots) < 2:
        return []
    names = ["main pot"] + (
        ["side pot"] if len(pots) == 2 else [f"side pot {i}" for i in range(1, len(pots))]
    )
    return [
        f"{name}: {pot['amount']} chips (seat{'s' if len(pot['eligible']) > 1 else ''} "
        f"{', '.join(str(s) for s in pot['eligible'])})"
        for name, pot in zip(names, pots)
    ]


def draw(frame: Frame) -> str:
    """The SVG of a hold'em :class:`~htjax.render.core.Frame`."""
    view = frame.public
    n = len(view["seats"])
    viewer = "spectator" if frame.seat is None else f"seat {frame.seat}"
    pots = pot_lines(view)
    height = TABLE_H + 70 + 16 * len(pots) + (18 if frame.caption else 0)
    c = Canvas(WIDTH, height, f"hold'em, step {view['step']}, seen by {viewer}", background="#20262e")
    c.element(
        "ellipse",
        cx=CX,
        cy=CY,
        rx=float(RX),
        ry=float(RY),
        fill="#1f6b3a",
        stroke="#6d4c2f",
        stroke_width=14.0,
    )
    _centre(c, view)
    me = 0 if frame.seat is None else frame.seat
    for p in range(n):
        _seat(c, frame, p, (p - me) % n, n)
    y = TABLE_H + 8
    if view["over"]:
        c.badge(24, y, "hand over")
    elif frame.legal_labels:
        call = view["to_call"]
        text = "your moves: " + ", ".join(frame.legal_labels) + (f" (to call: {call})" if call else "")
        c.text(24, y, text, size=12, fill=HIGHLIGHT)
    elif view["to_act"] is not None:
        c.text(24, y, f"waiting for {frame.who(view['to_act']).lower()}", size=12)
    y = c.lines(24, y + 20, pots, size=12, gap=16) if pots else y + 20
    c.text(24, y + 2, "amounts in chips; D = button", size=11, fill="#b0bec5")
    if frame.caption:
        c.text(24, y + 24, frame.caption, size=12)
    return c.to_svg()
