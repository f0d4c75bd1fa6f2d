"""Pictures of game states: SVG per viewer seat, HTML pages of episodes, a notebook wrapper.

>>> import jax, htjax
>>> from htjax.render import render_svg
>>> env = htjax.make("holdem")
>>> svg = render_svg(env, env.init(jax.random.PRNGKey(0)), seat=0)   # seat 0's hole cards only
>>> svg.startswith("<svg")
True

* :func:`render_svg` ``(env, state, seat=None, *, params=None) -> str``: one world as an SVG
  document for a seat (``None``: a spectator, who sees no hidden card);
* :func:`render_html`: a self-contained page of one state or a whole episode, with step controls;
* :class:`View`: ``View(env, state, seat)`` displays itself in Jupyter (``_repr_svg_``);
* :func:`register_renderer`: a game's own renderer (``htjax/render/<game>.py``, see
  :mod:`htjax.render.core` for the contract and the privacy rule).

Every renderer draws from the game's public view plus the viewer seat's own observation only
(``docs/render.md``). Imports flow one way: this package uses core, envs and agents, never the
sync layer, the web server or the CLI.
"""

from htjax.render.core import Frame, make_frame, register_renderer, render_svg, renderer_for
from htjax.render.html import render_html
from htjax.render.view import View

__all__ = ["Frame", "View", "make_frame", "register_renderer", "render_html", "render_svg", "renderer_for"]
