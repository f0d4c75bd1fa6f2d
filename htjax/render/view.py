"""A notebook wrapper: ``View(env, state, seat)`` shows itself as SVG in Jupyter (``_repr_svg_``)."""

from __future__ import annotations

from htjax.core.env import Env, Params, State
from htjax.render.core import make_frame, renderer_for

__all__ = ["View"]


class View:
    """One world of ``env`` seen by ``seat`` (``None``: a spectator), drawn by :func:`render_svg`.

    Jupyter and IPython display it as the picture (``_repr_svg_``); ``str(view)`` is the SVG
    text. Arguments are checked at construction (the same errors as :func:`render_svg`).

    >>> import jax, htjax
    >>> from htjax.render import View
    >>> env = htjax.make("prisoners_dilemma", rounds=5)
    >>> View(env, env.init(jax.random.PRNGKey(0)), seat=0)
    View(prisoners_dilemma, seat 0, step 0)
    """

    def __init__(self, env: Env, state: State, seat: int | None = None, *, params: Params | None = None):
        self._frame = make_frame(env, state, seat, params=params)
        self._svg: str | None = None

    @property
    def svg(self) -> str:
        """The SVG document (drawn once, then kept)."""
        if self._svg is None:
            self._svg = renderer_for(self._frame.env.id)(self._frame)
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        f = self._frame
        who = "spectator" if f.seat is None else f"seat {f.seat}"
        return f"View({f.env.id}, {who}, step {f.public.get('step', int(f.state.step_count))})"
