"""Blackjack as SVG: the dealer (the hole card face down until revealed), each seat's hands,
totals, stakes, bankroll and bet chips, the hand to act, the phase and the shoe.

Everything drawn comes from ``env.public_view(state)``: in blackjack the seats' cards are face
up, and the dealer's hole card is in the public view only once revealed; before that a card
back stands for it.
"""

from __future__ import annotations

from htjax.render.core import Frame
from htjax.render.svg import CARD_H, HIGHLIGHT, Canvas, fmt

__all__ = ["draw"]

WIDTH = 640
HAND_ROW = CARD_H + 18
LEFT = 24


def _total(total: int | None, soft: bool | None) -> str:
    if total is None:
        return ""
    if total > 21:
        return f"{total}"
    return f"soft {total}" if soft else str(total)


def _dealer(c: Canvas, view: dict, y: float) -> float:
    dealer = view["dealer"]
    c.text(LEFT, y + 16, "Dealer", size=15, weight="bold")
    shown = list(dealer["cards"])
    if not shown:
        c.text(LEFT + 80, y + 16, "no cards yet", size=12)
        return y + 40
    faces: list[str | None] = shown if dealer["hole_revealed"] else shown + [None]
    x = c.cards(LEFT + 80, y, faces)
    if dealer["hole_revealed"]:
        total = dealer["total"]
        label = "= " + _total(total, dealer["soft"]) + (" bust" if total is not None and total > 21 else "")
    else:
        label = f"showing {dealer['up_value']}"
    c.text(x + 8, y + CARD_H / 2 + 5, label, size=14)
    return y + CARD_H + 16


def _seat(c: Canvas, frame: Frame, p: int, seat: dict, y: float) -> float:
    view = frame.public
    acting = view["to_act"] == p
    head = f"{frame.who(p)} · bankroll {fmt(seat['bankroll'])}"
    if seat["insurance"] > 0:
        head += f" · insurance {fmt(seat['insurance'])}"
    c.text(LEFT, y + 14, head, size=14, weight="bold" if p == frame.seat else None)
    if acting:
        c.badge(LEFT + 12 + 7.2 * len(head), y + 14, "to act")
    if seat["bet"] > 0:
        c.chips(WIDTH - 110, y + 12, seat["bet"], label=f"bet {fmt(seat['bet'])}")
    y += 24
    if not seat["hands"]:
        c.text(LEFT + 16, y + 12, "sitting out" if view["phase"] != "bet" else "no cards yet", size=12)
        return y + 26
    for h, hand in enumerate(seat["hands"]):
        active = acting and view["hand_to_act"] == h
        if active:
            c.rect(
                LEFT + 6, y - 4, WIDTH - 2 * LEFT - 12, HAND_ROW - 6, stroke=HIGHLIGHT, stroke_width=2, rx=8
            )
        x = c.cards(LEFT + 16, y, hand["cards"])
        parts = [f"= {_total(hand['total'], hand['soft'])}"]
        if hand["status"]:
            parts.append(hand["status"])
        parts.append(f"stake {fmt(hand['stake'])}")
        if hand["doubled"]:
            parts.append("doubled")
        c.text(x + 8, y + 22, f"hand {h + 1}", size=12)
        c.text(x + 8, y + 40, " · ".join(parts), size=13)
        y += HAND_ROW
    return y + 4


def _height(view: dict) -> float:
    h = 30 + CARD_H + 16 + 12
    for seat in view["seats"]:
        h += 24 + (len(seat["hands"]) * HAND_ROW + 4 if seat["hands"] else 26)
    return h + 70


def draw(frame: Frame) -> str:
    """The SVG of a blackjack :class:`~htjax.render.core.Frame`."""
    view = frame.public
    viewer = "spectator" if frame.seat is None else f"seat {frame.seat}"
    height = _height(view) + (18 if frame.caption else 0)
    c = Canvas(WIDTH, height, f"blackjack, step {view['step']}, seen by {viewer}")
    y = _dealer(c, view, 18)
    c.line(LEFT, y, WIDTH - LEFT, y, stroke="#2e8b57", stroke_width=1.5)
    y += 12
    for p, seat in enumerate(view["seats"]):
        y = _seat(c, frame, p, seat, y)
    info = f"phase: {view['phase']} · round {view['round'] + (0 if view['over'] else 1)}"
    if view["shoe_left"] is not None:
        info += f" · shoe: {view['shoe_left']} cards left · running count {view['running_count']:+d}"
    y += 6
    c.text(LEFT, y, info, size=12)
    y += 18
    rewards = view["rewards"]
    if any(r != 0 for r in rewards):
        c.text(
            LEFT,
            y,
            "last rewards: " + ", ".join(f"{frame.who(p)} {r:+g}" for p, r in enumerate(rewards)),
            size=12,
        )
        y += 18
    if view["over"]:
        c.badge(LEFT, y + 4, "episode over")
        y += 22
    elif frame.legal_labels:
        c.text(LEFT, y, "your moves: " + ", ".join(frame.legal_labels), size=12, fill=HIGHLIGHT)
        y += 18
    if frame.caption:
        c.text(LEFT, y, frame.caption, size=12)
    return c.to_svg()
