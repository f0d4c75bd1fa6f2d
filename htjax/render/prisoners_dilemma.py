"""The iterated prisoner's dilemma as SVG: both seats' moves as a coloured grid (green
cooperate, red defect; one column per round, the latest on the right, each cell holding the
seat's payoff for that round), the scores, and the payoff table.

Moves are public once played (after noise), so a seat and a spectator see the same history.
The grid shows the last 32 rounds at most: the state keeps each seat's moves in 32-round
registers (``MatchMemory.my_moves``); longer matches say how many earlier rounds are left out.
"""

from __future__ import annotations

import numpy as np

from htjax.render.core import Frame
from htjax.render.svg import HIGHLIGHT, Canvas, fmt

__all__ = ["draw", "history"]

WIDTH = 720
CELL = 16
GRID_X = 130
WINDOW = 32
MOVE_FILL = ("#2e9e5b", "#d64545")
MOVE_CHARS = ("C", "D")


def history(frame: Frame) -> tuple[int, list[tuple[int, int]]]:
    """``(rounds played, [(move of seat 0, move of seat 1), ...])`` of the last rounds shown,
    oldest first (moves: 0 cooperate, 1 defect), from the seats' public move registers."""
    memory = frame.state.memory
    t = int(np.asarray(memory.t)[0])
    reg0 = int(np.asarray(memory.my_moves)[0])
    reg1 = int(np.asarray(memory.opp_moves)[0])
    shown = min(t, WINDOW)
    rounds = [((reg0 >> i) & 1, (reg1 >> i) & 1) for i in range(shown - 1, -1, -1)]
    return t, rounds


def _payoffs(frame: Frame) -> tuple[float, float, float, float]:
    p = frame.params
    return tuple(float(np.asarray(p[k])) for k in ("temptation", "reward", "punishment", "sucker"))


def _payoff(mine: int, theirs: int, tprs: tuple[float, float, float, float]) -> float:
    t, r, p, s = tprs
    return (r, s, t, p)[2 * mine + theirs]


def draw(frame: Frame) -> str:
    """The SVG of an IPD :class:`~htjax.render.core.Frame`."""
    view = frame.public
    played, rounds = history(frame)
    tprs = _payoffs(frame)
    viewer = "spectator" if frame.seat is None else f"seat {frame.seat}"
    height = 222 + (18 if frame.caption else 0)
    c = Canvas(WIDTH, height, f"prisoner's dilemma, round {played}, seen by {viewer}", background="#263238")
    if view["over"]:
        head = f"match over after {played} round{'s' if played != 1 else ''}"
    else:
        head = f"round {played + 1} of {view['rounds']}"
    c.text(20, 28, f"Iterated prisoner's dilemma: {head}", size=15, weight="bold")
    first = played - len(rounds) + 1
    if played > len(rounds):
        c.text(
            20,
            48,
            f"last {len(rounds)} rounds shown ({played - len(rounds)} earlier)",
            size=11,
            fill="#b0bec5",
        )
    y0 = 62
    for k, r in enumerate(range(first, played + 1)):
        if r % 5 == 0 or (r == first and r % 5 != 4) or (r == played and r % 5 != 1):
            c.text(GRID_X + k * CELL + CELL / 2, y0, str(r), size=9, anchor="middle", fill="#b0bec5")
    for seat in (0, 1):
        y = y0 + 8 + seat * (CELL + 10)
        c.text(20, y + CELL - 4, frame.who(seat), size=13, weight="bold" if seat == frame.seat else None)
        for k, moves in enumerate(rounds):
            mine, theirs = moves[seat], moves[1 - seat]
            x = GRID_X + k * CELL
            c.open(class_="move", data_round=str(first + k), data_seat=str(seat), data_move=MOVE_CHARS[mine])
            c.element(
                "title", f"round {first + k}: {MOVE_CHARS[mine]}, payoff {fmt(_payoff(mine, theirs, tprs))}"
            )
            c.rect(x, y, CELL - 2, CELL, fill=MOVE_FILL[mine], rx=2)
            c.text(
                x + (CELL - 2) / 2, y + CELL - 5, fmt(_payoff(mine, theirs, tprs)), size=9, anchor="middle"
            )
            c.close()
        sx = GRID_X + WINDOW * CELL + 14
        c.text(sx, y + CELL - 3, fmt(view["scores"][seat]), size=16, weight="bold")
    c.text(GRID_X + WINDOW * CELL + 14, y0, "score", size=10, fill="#b0bec5")
    y = y0 + 2 * (CELL + 10) + 30
    if view["last_moves"] is not None:
        last = ", ".join(
            f"{frame.who(s).lower()} {'cooperated' if m == 'C' else 'defected'} ({view['last_payoffs'][s]:+g})"
            for s, m in enumerate(view["last_moves"])
        )
        c.text(20, y, f"last round: {last}", size=12)
    else:
        c.text(20, y, "no moves yet", size=12)
    y += 26
    c.rect(20, y - 11, 12, 12, fill=MOVE_FILL[0], rx=2)
    c.text(38, y, "cooperate", size=11)
    c.rect(110, y - 11, 12, 12, fill=MOVE_FILL[1], rx=2)
    c.text(128, y, "defect", size=11)
    t, r, p, s = tprs
    c.text(200, y, f"payoffs: T={fmt(t)} R={fmt(r)} P={fmt(p)} S={fmt(s)} (CC R/R, DC T/S, DD P/P)", size=11)
    y += 26
    if view["over"]:
        c.badge(20, y, "match over")
    elif frame.legal_labels:
        c.text(20, y, "your moves: " + ", ".join(frame.legal_labels), size=12, fill=HIGHLIGHT)
    if frame.caption:
        c.text(20, y + 22, frame.caption, size=12)
    return c.to_svg()
