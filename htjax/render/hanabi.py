"""Hanabi as SVG: the fireworks per colour, the information tokens and lives, the deck, the
discard pile, the last move, and every hand with what the hints told about each card.

Privacy (:mod:`htjax.render.core`): the board, the discards and every card's hint knowledge are
in the public view (hints are given in the open). A seat sees every other hand face up, and
those cards come from **its own observation** (the canonical encoding's ``hands`` section);
its own cards are backs, under which the knowledge from its observation says which colours and
ranks each may still be. The spectator gets no observation, so it sees every hand as backs,
with the public knowledge. Nothing is read from ``frame.state``.

A face-up card is ``<g class="card" data-card="R1">``; a back is ``<g class="card back">``; a
card's knowledge is ``<g class="knowledge" data-colors="RY" data-ranks="12">`` (the colours and
ranks it may still have). A firework is ``<g class="firework" data-color="R" data-height="3">``,
the tokens ``<g class="tokens" data-info="7" data-lives="3" data-deck="30">``, each hand
``<g class="hand" data-seat="1">``.
"""

from __future__ import annotations

import numpy as np

from htjax.envs.hanabi import rules as R
from htjax.render.core import Frame
from htjax.render.svg import HIGHLIGHT, INK, LIGHT, Canvas

__all__ = ["draw"]

WIDTH = 680
LEFT = 24
CARD_W, CARD_H = 38, 52
COLOURS = {"R": "#d32f2f", "Y": "#f9c80e", "G": "#2e9e48", "W": "#f4f1e8", "B": "#1e64c8"}
BACK = "#5a3d8a"


def _face(c: Canvas, x: float, y: float, card: str, *, scale: float = 1.0) -> None:
    """A face-up card (``"R1"``): its colour, its rank large."""
    w, h = CARD_W * scale, CARD_H * scale
    colour = COLOURS[card[0]]
    ink = INK if card[0] in "YW" else LIGHT
    c.open(class_="card", data_card=card)
    c.element("title", f"{R.COLORS[R.COLOR_CHARS.index(card[0])]} {card[1]}")
    c.rect(x, y, w, h, fill=colour, stroke="#333333", stroke_width=1, rx=5 * scale)
    c.text(
        x + w / 2, y + h / 2 + 8 * scale, card[1], size=24 * scale, fill=ink, anchor="middle", weight="bold"
    )
    c.close()


def _back(c: Canvas, x: float, y: float) -> None:
    """A face-down card: the same for every card."""
    c.open(class_="card back")
    c.rect(x, y, CARD_W, CARD_H, fill=BACK, stroke=LIGHT, stroke_width=2, rx=5)
    c.rect(x + 5, y + 5, CARD_W - 10, CARD_H - 10, stroke="#b9a4dd", rx=3)
    c.close()


def _parse(knowledge: str) -> tuple[str | None, str | None, str, str]:
    """HLE's knowledge string (``"RX|R1234"``, the public view's form) as ``(hinted colour,
    hinted rank, plausible colours, plausible ranks)``."""
    hinted, plausible = knowledge.split("|")
    colours = "".join(ch for ch in plausible if ch in R.COLOR_CHARS)
    ranks = "".join(ch for ch in plausible if ch.isdigit())
    return (
        (None if hinted[0] == "X" else hinted[0]),
        (None if hinted[1] == "X" else hinted[1]),
        colours,
        ranks,
    )


def _own_knowledge(frame: Frame) -> list[tuple[str | None, str | None, str, str]]:
    """The viewer's knowledge of its own cards, from its observation (relative seat 0 of the
    ``card_knowledge`` section), one entry per card it holds."""
    env = frame.env
    parts = env.observation_layout.unpack(frame.private)
    bits = parts["card_knowledge"].reshape(env.num_players, env.hand_size, R.NUM_COLORS * R.NUM_RANKS + 10)
    out = []
    for slot in range(frame.public["hand_sizes"][frame.seat]):
        k = bits[0, slot]
        plausible = k[:25].reshape(R.NUM_COLORS, R.NUM_RANKS)
        colours = "".join(R.COLOR_CHARS[i] for i in range(R.NUM_COLORS) if plausible[i].any())
        ranks = "".join(str(r + 1) for r in range(R.NUM_RANKS) if plausible[:, r].any())
        hinted_colour = R.COLOR_CHARS[int(np.argmax(k[25:30]))] if k[25:30].any() else None
        hinted_rank = str(int(np.argmax(k[30:35])) + 1) if k[30:35].any() else None
        out.append((hinted_colour, hinted_rank, colours, ranks))
    return out


def _seen_cards(frame: Frame) -> list[list[str]]:
    """Every seat's cards as the viewer sees them (``[]`` for its own hand), from its observation."""
    env = frame.env
    p, h = env.num_players, env.hand_size
    onehot = env.observation_layout.unpack(frame.private)["hands"].reshape(
        p - 1, h, R.NUM_COLORS * R.NUM_RANKS
    )
    out: list[list[str]] = [[] for _ in range(p)]
    for k in range(1, p):
        seat = (frame.seat + k) % p
        out[seat] = [R.card_str(int(np.argmax(row))) for row in onehot[k - 1] if row.any()]
    return out


def _knowledge(c: Canvas, x: float, y: float, known: tuple[str | None, str | None, str, str]) -> None:
    """Under a card: the colours and ranks it may still have; a hinted value in highlight."""
    hinted_colour, hinted_rank, colours, ranks = known
    c.open(class_="knowledge", data_colors=colours, data_ranks=ranks)
    c.text(
        x + CARD_W / 2, y + 11, colours, size=10, anchor="middle", fill=HIGHLIGHT if hinted_colour else LIGHT
    )
    c.text(x + CARD_W / 2, y + 23, ranks, size=10, anchor="middle", fill=HIGHLIGHT if hinted_rank else LIGHT)
    c.close()


def _fireworks(c: Canvas, view: dict, y: float) -> float:
    c.text(LEFT, y + 14, "Fireworks", size=14, weight="bold")
    x = LEFT + 90
    for colour, height in zip(R.COLOR_CHARS, view["fireworks"].values()):
        c.open(class_="firework", data_color=colour, data_height=height)
        if height:
            for r in range(height):  # the played cards, stacked, the top one whole
                c.rect(x, y + 4 * (4 - r), CARD_W, 8, fill=COLOURS[colour], stroke="#333333", rx=2)
            _face(c, x, y + 20, f"{colour}{height}")
        else:
            c.rect(x, y + 20, CARD_W, CARD_H, stroke=COLOURS[colour], stroke_width=2, rx=5)
            c.text(
                x + CARD_W / 2, y + 20 + CARD_H / 2 + 5, "0", size=16, fill=COLOURS[colour], anchor="middle"
            )
        c.close()
        x += CARD_W + 14
    return y + 20 + CARD_H + 10


def _tokens(c: Canvas, view: dict, x: float, y: float) -> None:
    info, lives = view["info_tokens"], view["life_tokens"]
    c.open(class_="tokens", data_info=info, data_lives=lives, data_deck=view["deck_size"])
    c.text(x, y + 14, f"info {info}/{R.MAX_INFO}", size=13)
    for i in range(R.MAX_INFO):
        c.circle(x + 8 + 15 * i, y + 28, 6, fill="#3b82f6" if i < info else "none", stroke=LIGHT)
    c.text(x, y + 56, f"lives {lives}/{R.MAX_LIVES}", size=13)
    for i in range(R.MAX_LIVES):
        c.circle(x + 8 + 15 * i, y + 70, 6, fill="#e53935" if i < lives else "none", stroke=LIGHT)
    c.text(x, y + 98, f"deck {view['deck_size']}", size=13)
    c.close()


def _discards(c: Canvas, view: dict, y: float) -> float:
    c.text(LEFT, y + 12, "Discards", size=13, weight="bold")
    x = LEFT + 90
    if not view["discards"]:
        c.text(x, y + 12, "none", size=12)
        return y + 24
    c.open(class_="discards", data_count=len(view["discards"]))
    for card in view["discards"]:
        if x + 22 > WIDTH - LEFT:
            x, y = LEFT + 90, y + 30
        _face(c, x, y, card, scale=0.5)
        x += 22
    c.close()
    return y + 36


def _hand(c: Canvas, frame: Frame, seat: int, seen: list[str] | None, y: float) -> float:
    view = frame.public
    head = frame.who(seat)
    c.text(LEFT, y + 14, head, size=14, weight="bold" if seat == frame.seat else None)
    if view["to_act"] == seat:
        c.badge(LEFT + 14 + 7.5 * len(head), y + 14, "to act")
    own = seat == frame.seat
    known = _own_knowledge(frame) if own else [_parse(k) for k in view["knowledge"][seat]]
    x = LEFT + 130
    c.open(class_="hand", data_seat=seat)
    for i, k in enumerate(known):
        if seen is None:
            _back(c, x, y)
        else:
            _face(c, x, y, seen[i])
        _knowledge(c, x, y + CARD_H, k)
        x += CARD_W + 10
    c.close()
    return y + CARD_H + 38


def _rows(text: str, width: int) -> list[str]:
    rows, row = [], ""
    for word in text.split(", "):
        if row and len(row) + len(word) + 2 > width:
            rows.append(row + ",")
            row = word
        else:
            row = f"{row}, {word}" if row else word
    return rows + ([row] if row else [])


def draw(frame: Frame) -> str:
    """The SVG of a Hanabi :class:`~htjax.render.core.Frame`."""
    view = frame.public
    env = frame.env
    viewer = "spectator" if frame.seat is None else f"seat {frame.seat}"
    seen = _seen_cards(frame) if frame.seat is not None else None
    moves = _rows("your moves: " + ", ".join(frame.legal_labels), 95) if frame.legal_labels else []
    discard_rows = 1 + max(0, len(view["discards"]) - 1) // ((WIDTH - 2 * LEFT - 90) // 22)
    height = 40 + 20 + CARD_H + 10 + 30 * discard_rows + 16 + env.num_players * (CARD_H + 38) + 60
    height += 16 * len(moves) + (18 if frame.caption else 0)
    title = f"hanabi, step {view['step']}, seen by {viewer}"
    c = Canvas(WIDTH, height, title)
    c.text(
        LEFT,
        26,
        f"Hanabi · score {view['score']}/{R.MAX_SCORE} · step {view['step']}",
        size=16,
        weight="bold",
    )
    y = _fireworks(c, view, 36)
    _tokens(c, view, WIDTH - 170, 36)
    y = _discards(c, view, y)
    c.line(LEFT, y, WIDTH - LEFT, y, stroke="#2e8b57", stroke_width=1.5)
    y += 10
    for seat in range(env.num_players):
        face_up = None if seen is None or seat == frame.seat else seen[seat]
        y = _hand(c, frame, seat, face_up, y)
    last = view["last_move"]
    c.text(LEFT, y + 6, "last move: " + (last["text"] if last else "none"), size=12)
    y += 22
    if view["over"]:
        c.badge(LEFT, y + 4, f"game over · score {view['score']}")
        y += 22
    else:
        y = c.lines(LEFT, y, moves, fill=HIGHLIGHT)
    if frame.caption:
        c.text(LEFT, y, frame.caption, size=12)
    return c.to_svg()
