"""SVG of one world for a viewer seat: :func:`htjax.render.render_svg` when it is installed.

``svg_of(env, state, seat)`` is what the page shows for a state (the viewer's frames, a seat's
private view). It calls ``htjax.render.render_svg(env, state, seat)``; where that module is
absent (an older installation) it draws ``env.render_text(state, seat)`` as monospaced SVG text,
which shows exactly what the text renderer shows to that seat and nothing more.
"""

from __future__ import annotations

import html
from typing import Any

from htjax.core.env import Env

__all__ = ["svg_of", "text_svg"]


def text_svg(text: str) -> str:
    """``text`` as an SVG of monospaced lines (XML-escaped)."""
    lines = text.splitlines() or [""]
    width = 16 + 8 * max(len(line) for line in lines)
    height = 16 + 18 * len(lines)
    body = "".join(
        f'<text x="8" y="{22 + 18 * i}" xml:space="preserve">{html.escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="13">'
        f'<rect width="100%" height="100%" fill="#0b5d32"/><g fill="#f4f4f4">{body}</g></svg>'
    )


def svg_of(env: Env, state: Any, seat: int | None = None) -> str:
    """The SVG of one world (host or device leaves) as ``seat`` sees it (None: a spectator)."""
    try:
        from htjax.render import render_svg
    except ImportError:
        return text_svg(str(env.render_text(state, seat)))
    return render_svg(env, state, seat)
