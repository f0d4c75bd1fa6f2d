"""A self-contained HTML page of one state or a whole episode, with step controls.

The page holds every step's SVG inline (no external file, font, script or CDN), a caption per
step, first/previous/next/last buttons, a slider and the arrow keys; about 40 lines of inline
JavaScript switch the visible step. Without JavaScript every step is shown, one under the other.
"""

from __future__ import annotations

from typing import Sequence

from htjax.core.env import Env, Params, State
from htjax.core.errors import InvalidArgumentError
from htjax.render.core import render_svg
from htjax.render.svg import esc

__all__ = ["render_html", "page"]

_STYLE = """
body { font-family: sans-serif; background: #15191d; color: #eceff1; margin: 16px; }
h1 { font-size: 18px; font-weight: 600; margin: 0 0 10px 0; }
.controls { display: flex; gap: 6px; align-items: center; margin: 8px 0; }
.controls button { font-size: 14px; padding: 3px 10px; }
.controls input[type=range] { flex: 1; max-width: 420px; }
.frame { display: none; }
.frame.shown { display: block; }
.frame figcaption { margin: 4px 0 0 0; font-size: 14px; color: #cfd8dc; }
.frame svg { max-width: 100%; height: auto; }
"""

_SCRIPT = """
(function () {
  var frames = document.querySelectorAll('.frame');
  var slider = document.getElementById('htjax-step');
  var label = document.getElementById('htjax-label');
  var current = 0;
  function show(i) {
    current = Math.max(0, Math.min(frames.length - 1, i));
    for (var k = 0; k < frames.length; k++) {
      frames[k].classList.toggle('shown', k === current);
    }
    slider.value = String(current);
    label.textContent = 'step ' + current + ' of ' + (frames.length - 1);
  }
  document.getElementById('htjax-first').onclick = function () { show(0); };
  document.getElementById('htjax-prev').onclick = function () { show(current - 1); };
  document.getElementById('htjax-next').onclick = function () { show(current + 1); };
  document.getElementById('htjax-last').onclick = function () { show(frames.length - 1); };
  slider.oninput = function () { show(parseInt(slider.value, 10)); };
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowLeft') { show(current - 1); }
    if (e.key === 'ArrowRight') { show(current + 1); }
    if (e.key === 'Home') { show(0); }
    if (e.key === 'End') { show(frames.length - 1); }
  });
  show(0);
})();
"""


def page(svgs: Sequence[str], captions: Sequence[str | None], title: str) -> str:
    """The HTML page of already drawn ``svgs`` (one per step) with their ``captions``."""
    if not svgs:
        raise InvalidArgumentError("an HTML page needs at least one state to show")
    if len(captions) != len(svgs):
        raise InvalidArgumentError(f"{len(svgs)} states but {len(captions)} captions")
    last = len(svgs) - 1
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n",
        "<noscript><style>.frame { display: block; } .controls { display: none; }</style></noscript>\n",
        "</head>\n<body>\n",
        f"<h1>{esc(title)}</h1>\n",
        '<div class="controls">'
        '<button id="htjax-first" title="first step (Home)">&#8676;</button>'
        '<button id="htjax-prev" title="previous step (left arrow)">&#8592;</button>'
        '<button id="htjax-next" title="next step (right arrow)">&#8594;</button>'
        '<button id="htjax-last" title="last step (End)">&#8677;</button>'
        f'<input id="htjax-step" type="range" min="0" max="{last}" value="0" aria-label="step">'
        f'<span id="htjax-label">step 0 of {last}</span></div>\n',
    ]
    for t, (svg, caption) in enumerate(zip(svgs, captions)):
        shown = " shown" if t == 0 else ""
        parts.append(f'<figure class="frame{shown}" data-step="{t}">\n{svg.strip()}\n')
        if caption:
            parts.append(f"<figcaption>{esc(caption)}</figcaption>\n")
        parts.append("</figure>\n")
    parts.append(f"<script>{_SCRIPT}</script>\n</body>\n</html>\n")
    return "".join(parts)


def render_html(
    env: Env,
    states: State | Sequence[State],
    seat: int | None = None,
    *,
    params: Params | None = None,
    captions: Sequence[str | None] | None = None,
    title: str | None = None,
) -> str:
    """A self-contained HTML page showing ``states`` (one state, or an episode's states in order)
    as viewer ``seat`` sees them, with step controls.

    Args:
      env, seat, params: as :func:`~htjax.render.render_svg`.
      states: one world's state, or a sequence of them (e.g. ``states[t]`` after ``t`` steps).
      captions: one line per state (what happened at that step), or ``None``.
      title: the page's title (default: the env id and the viewer).

    Returns:
      ``str``: an HTML5 document (UTF-8) with every step's SVG inline; deterministic.

    Raises:
      InvalidArgumentError: no states, captions of another length, or as :func:`render_svg`.
    """
    sequence = [states] if isinstance(states, State) else list(states)
    if captions is None:
        captions = [None] * len(sequence)
    if len(captions) != len(sequence):
        raise InvalidArgumentError(f"{len(sequence)} states but {len(captions)} captions")
    viewer = "a spectator" if seat is None else f"seat {seat}"
    title = title or f"{env.id}: {len(sequence)} state{'s' if len(sequence) != 1 else ''} seen by {viewer}"
    svgs = [render_svg(env, s, seat, params=params) for s in sequence]
    return page(svgs, list(captions), title)
