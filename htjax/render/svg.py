"""SVG drawing primitives shared by the game renderers: a canvas, playing cards, chips, labels.

Pure string generation: every text and attribute value goes through :func:`esc` (XML
escaping), numbers are written with a fixed format, and nothing depends on time, randomness
or the machine, so the same scene always gives the same bytes. No ``id`` attributes and no
``<defs>`` are used, so many SVGs can be inlined in one HTML page without clashes, and the
only font named is the generic ``sans-serif`` family (no external fonts, images or CSS).

A face-up card is a ``<g class="card" data-card="As">`` (the card's text form, see
:func:`htjax.core.cards.card_to_str`); a face-down card is a ``<g class="card back">`` that
carries nothing about the card it hides.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence
from xml.sax.saxutils import escape

__all__ = [
    "CARD_H",
    "CARD_W",
    "Canvas",
    "FELT",
    "esc",
    "fmt",
    "suit_colour",
]

CARD_W = 42
CARD_H = 60
FELT = "#1f6b3a"
FELT_DARK = "#17532d"
INK = "#1b1b1b"
LIGHT = "#f4f1e8"
HIGHLIGHT = "#ffd34d"
RED = "#c62828"
FONT = "sans-serif"

SUIT_SYMBOLS = {"c": "\u2663", "d": "\u2666", "h": "\u2665", "s": "\u2660"}
SUIT_NAMES = {"c": "clubs", "d": "diamonds", "h": "hearts", "s": "spades"}
RANK_TEXT = {"T": "10"}

CHIP_COLOURS = (  # denomination, face colour (casino convention)
    (1000, "#e2b007"),
    (100, "#222222"),
    (25, "#2e7d32"),
    (5, "#c62828"),
    (1, "#eeeeee"),
)


def esc(value: object) -> str:
    """XML-escape ``value``'s text for element content and double-quoted attributes."""
    return escape(str(value), {'"': "&quot;"})


def fmt(x: float) -> str:
    """A number as people read it, the same on every machine: ``5``, ``2.5``, ``-1.25``."""
    x = float(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def _n(x: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    text = f"{float(x):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def suit_colour(suit: str) -> str:
    """Red for hearts and diamonds, black for clubs and spades."""
    return RED if suit in ("h", "d") else INK


class Canvas:
    """An SVG document built element by element (``to_svg`` gives the text).

    Coordinates are user units of a ``width x height`` view box; ``title`` becomes the SVG's
    ``<title>`` (what a screen reader says, and the tooltip)."""

    def __init__(self, width: float, height: float, title: str, *, background: str = FELT):
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []
        self.rect(0, 0, width, height, fill=background, rx=14)

    # ------------------------------------------------------------------ raw elements
    def _attrs(self, attrs: dict[str, object]) -> str:
        out = []
        for key, value in attrs.items():
            if value is None:
                continue
            name = key.rstrip("_").replace("_", "-")
            text = _n(value) if isinstance(value, float) else str(value)
            out.append(f' {name}="{esc(text)}"')
        return "".join(out)

    def element(self, tag: str, text: str | None = None, **attrs: object) -> None:
        """``<tag attrs>text</tag>`` (or self-closing without ``text``); names: ``font_size`` ->
        ``font-size``, ``class_`` -> ``class``."""
        if text is None:
            self.parts.append(f"<{tag}{self._attrs(attrs)}/>")
        else:
            self.parts.append(f"<{tag}{self._attrs(attrs)}>{esc(text)}</{tag}>")

    def open(self, tag: str = "g", **attrs: object) -> None:
        self.parts.append(f"<{tag}{self._attrs(attrs)}>")

    def close(self, tag: str = "g") -> None:
        self.parts.append(f"</{tag}>")

    def rect(self, x, y, w, h, *, fill="none", stroke=None, stroke_width=None, rx=None, **attrs) -> None:
        self.element(
            "rect",
            x=float(x),
            y=float(y),
            width=float(w),
            height=float(h),
            rx=None if rx is None else float(rx),
            fill=fill,
            stroke=stroke,
            stroke_width=None if stroke_width is None else float(stroke_width),
            **attrs,
        )

    def text(
        self,
        x,
        y,
        text: str,
        *,
        size: float = 13,
        fill: str = LIGHT,
        anchor: str = "start",
        weight: str | None = None,
        **attrs,
    ) -> None:
        self.element(
            "text",
            text,
            x=float(x),
            y=float(y),
            font_size=float(size),
            fill=fill,
            text_anchor=None if anchor == "start" else anchor,
            font_weight=weight,
            **attrs,
        )

    def circle(self, cx, cy, r, *, fill, stroke=None, stroke_width=None, **attrs) -> None:
        self.element(
            "circle",
            cx=float(cx),
            cy=float(cy),
            r=float(r),
            fill=fill,
            stroke=stroke,
            stroke_width=None if stroke_width is None else float(stroke_width),
            **attrs,
        )

    def line(self, x1, y1, x2, y2, *, stroke, stroke_width: float = 1.0) -> None:
        self.element(
            "line",
            x1=float(x1),
            y1=float(y1),
            x2=float(x2),
            y2=float(y2),
            stroke=stroke,
            stroke_width=float(stroke_width),
        )

    # ------------------------------------------------------------------ game pieces
    def card(self, x: float, y: float, card: str | None, *, scale: float = 1.0) -> None:
        """A playing card at ``(x, y)`` (top-left): face up for a card's text form (``"As"``,
        ``"Td"``), face down (a back that tells nothing) for ``None``."""
        w, h = CARD_W * scale, CARD_H * scale
        if card is None:
            self.open(class_="card back")
            self.rect(x, y, w, h, fill="#24458f", stroke=LIGHT, stroke_width=2, rx=5 * scale)
            self.rect(
                x + 5 * scale, y + 5 * scale, w - 10 * scale, h - 10 * scale, stroke="#8fa8e0", rx=3 * scale
            )
            step = 8 * scale
            k = 1
            while k * step < w + h - 20 * scale:
                d = k * step
                # diagonals clipped by hand to the inner frame
                x0, y0 = (
                    x + 5 * scale + max(0.0, d - (h - 10 * scale)),
                    y + 5 * scale + min(d, h - 10 * scale),
                )
                x1, y1 = (
                    x + 5 * scale + min(d, w - 10 * scale),
                    y + 5 * scale + max(0.0, d - (w - 10 * scale)),
                )
                self.line(x0, y0, x1, y1, stroke="#5b78c2", stroke_width=1)
                k += 1
            self.close()
            return
        rank, suit = card[0], card[1]
        colour = suit_colour(suit)
        rank_text = RANK_TEXT.get(rank, rank)
        symbol = SUIT_SYMBOLS[suit]
        self.open(class_="card", data_card=card)
        self.element("title", f"{rank_text}{symbol}")
        self.rect(x, y, w, h, fill="#ffffff", stroke="#9e9e9e", stroke_width=1, rx=5 * scale)
        self.text(x + 4 * scale, y + 15 * scale, rank_text, size=14 * scale, fill=colour, weight="bold")
        self.text(x + 4 * scale, y + 28 * scale, symbol, size=12 * scale, fill=colour)
        self.text(
            x + w / 2 + 3 * scale, y + h - 10 * scale, symbol, size=24 * scale, fill=colour, anchor="middle"
        )
        self.close()

    def cards(
        self, x: float, y: float, cards: Sequence[str | None], *, gap: float = 6, scale: float = 1.0
    ) -> float:
        """Cards left to right from ``(x, y)``; returns the x after the last one."""
        for c in cards:
            self.card(x, y, c, scale=scale)
            x += CARD_W * scale + gap
        return x

    def chips(self, x: float, y: float, amount: float, *, label: str | None = None) -> None:
        """A stack of chips whose base is centred at ``(x, y)``, coloured by denomination,
        with ``amount`` (or ``label``) written beside it; nothing for a zero amount."""
        if amount <= 0:
            return
        stack = []
        left = float(amount)
        for value, colour in CHIP_COLOURS:
            n = int(left // value)
            stack += [colour] * n
            left -= n * value
        if left > 1e-9 or not stack:  # fractional chips
            stack.append("#90caf9")
        shown = stack[-8:] if len(stack) > 8 else stack
        self.open(class_="chips", data_amount=fmt(amount))
        for i, colour in enumerate(shown):
            cy = y - 4 * i
            self.element(
                "ellipse",
                cx=float(x),
                cy=float(cy),
                rx=11.0,
                ry=4.5,
                fill=colour,
                stroke="#555555" if colour == "#eeeeee" else "#f4f1e8",
                stroke_width=1.0,
            )
        self.text(x + 15, y + 4, label if label is not None else fmt(amount), size=12)
        self.close()

    def badge(self, x: float, y: float, text: str, *, fill: str = HIGHLIGHT, ink: str = INK) -> None:
        """A small rounded label (e.g. ``to act``, ``D`` for the button)."""
        w = 8 + 7 * len(text)
        self.rect(x, y - 12, w, 16, fill=fill, rx=8)
        self.text(x + w / 2, y, text, size=11, fill=ink, anchor="middle", weight="bold")

    def lines(
        self, x: float, y: float, rows: Iterable[str], *, size: float = 12, gap: float = 16, **kw
    ) -> float:
        """Text rows from ``(x, y)`` downward; returns the y after the last one."""
        for row in rows:
            self.text(x, y, row, size=size, **kw)
            y += gap
        return y

    def to_svg(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(self.width)}" height="{_n(self.height)}" '
            f'viewBox="0 0 {_n(self.width)} {_n(self.height)}" font-family="{FONT}" role="img">'
        )
        return head + f"<title>{esc(self.title)}</title>" + "".join(self.parts) + "</svg>\n"
