"""The renderer of games without their own: the public view as a table of text rows.

Only ``env.public_view(state)`` is drawn (never the state nor an observation), so it is safe
for any game; the viewer's legal moves are listed when it is to act.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from htjax.render.core import Frame
from htjax.render.svg import HIGHLIGHT, Canvas

__all__ = ["draw"]

WIDTH = 640
MAX_CHARS = 84


def _rows(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _rows(item, f"{prefix}{key}." if isinstance(item, dict) and item else f"{prefix}{key}")
        return
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    line = f"{prefix.rstrip('.')}: {text}"
    while len(line) > MAX_CHARS:
        yield line[:MAX_CHARS]
        line = "… " + line[MAX_CHARS:]
    yield line


def draw(frame: Frame) -> str:
    """The SVG of any env's :class:`~htjax.render.core.Frame`: its public view, one field a row."""
    env = frame.env
    rows = list(_rows(frame.public))
    viewer = "spectator" if frame.seat is None else f"seat {frame.seat}"
    extra = (1 if frame.legal_labels else 0) + (1 if frame.caption else 0)
    height = 56 + 16 * (len(rows) + extra) + 16
    c = Canvas(WIDTH, height, f"{env.id}, seen by {viewer}", background="#263238")
    c.text(20, 28, f"{env.id} {env.version}: public view (seen by {viewer})", size=14, weight="bold")
    y = c.lines(20, 52, rows, size=12, font_family="monospace")
    if frame.legal_labels:
        c.text(20, y, "your moves: " + ", ".join(frame.legal_labels), size=12, fill=HIGHLIGHT)
        y += 16
    if frame.caption:
        c.text(20, y, frame.caption, size=12)
    return c.to_svg()
