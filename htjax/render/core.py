"""The renderer contract: what a game's SVG renderer receives (:class:`Frame`), the registry of
renderers by env id, and :func:`render_svg`.

Privacy rule
------------
A renderer draws one world for one viewer: a seat (``0 .. num_players - 1``) or a spectator
(``seat=None``). It is given the game's **public view** (``env.public_view(state)``, which
never holds anything hidden) and, for a seat, that seat's **own observation**
(``env.observe(state, seat)``): the only sources of hidden information a renderer may draw.
The spectator gets no observation at all, so it sees no hidden card. ``Frame.state`` is
there for public fields the public view does not list (the IPD's move history, played in the
open); a renderer must never read hidden fields from it (hold'em hole cards, the dealer's
hole card, the deck). ``tests/test_render.py`` checks this for every game: changing what a
viewer cannot see must not change a single byte of that viewer's SVG.

Adding a game
-------------
Write ``htjax/render/<game>.py`` with ``draw(frame: Frame) -> str`` (use
:class:`htjax.render.svg.Canvas`) and add one line to :data:`_RENDERERS` (or call
:func:`register_renderer` from your own package). Games without a renderer get
:func:`htjax.render.generic.draw`, a table of the public view.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from typing import Any, Callable

import jax
import numpy as np

from htjax.core.env import Env, Params, State
from htjax.core.errors import InvalidArgumentError

__all__ = ["Frame", "Renderer", "register_renderer", "renderer_for", "render_svg", "make_frame"]

Renderer = Callable[["Frame"], str]
"""``draw(frame) -> str``: an SVG document of one frame."""

_RENDERERS: dict[str, str | Renderer] = {
    "blackjack": "htjax.render.blackjack:draw",
    "cuttle": "htjax.render.cuttle:draw",
    "hanabi": "htjax.render.hanabi:draw",
    "holdem": "htjax.render.holdem:draw",
    "prisoners_dilemma": "htjax.render.prisoners_dilemma:draw",
}


def register_renderer(env_id: str, renderer: str | Renderer) -> None:
    """Use ``renderer`` (``draw(frame) -> str``, or ``"module:function"``) for ``env_id``."""
    if not isinstance(env_id, str) or not env_id:
        raise InvalidArgumentError(f"env id must be a non-empty string, got {env_id!r}")
    if not (callable(renderer) or (isinstance(renderer, str) and ":" in renderer)):
        raise InvalidArgumentError(f"a renderer is a callable or 'module:function', got {renderer!r}")
    _RENDERERS[env_id] = renderer


def renderer_for(env_id: str) -> Renderer:
    """The renderer of ``env_id``: the registered one, or the generic public-view table."""
    entry = _RENDERERS.get(env_id)
    if entry is None:
        from htjax.render.generic import draw

        return draw
    if isinstance(entry, str):
        module, _, name = entry.partition(":")
        entry = getattr(importlib.import_module(module), name)
        _RENDERERS[env_id] = entry
    return entry


@dataclasses.dataclass(frozen=True)
class Frame:
    """What a renderer draws: one world, seen by one viewer.

    Attributes:
      env: the env.
      seat: the viewer's seat, or ``None`` for a spectator.
      public: ``env.public_view(state)`` (plain values; nothing hidden).
      private: the viewer's own observation ``observation_dtype[*observation_shape]`` (host
        numpy), ``None`` for a spectator.
      legal: the viewer's legal actions ``bool[num_actions]`` when it is to act now (host
        numpy), else ``None``.
      state: the world's state (host numpy values), for *public* fields only (see the module
        docstring).
      params: the rule parameters in force (one world's :data:`~htjax.core.env.Params`).
      caption: an optional line under the picture (what happened at this step).
    """

    env: Env
    seat: int | None
    public: dict[str, Any]
    private: np.ndarray | None
    legal: np.ndarray | None
    state: Any
    params: Params
    caption: str | None = None

    def who(self, seat: int) -> str:
        """``"Seat 1 (you)"`` for the viewer, ``"Seat 1"`` for the others."""
        return f"Seat {seat} (you)" if seat == self.seat else f"Seat {seat}"

    @property
    def legal_labels(self) -> list[str]:
        """Labels of the viewer's legal actions (empty when it is not to act)."""
        if self.legal is None:
            return []
        return [self.env.action_labels[a] for a in np.flatnonzero(self.legal)]


@functools.lru_cache(maxsize=32)
def _observer(env: Env):
    """One compiled ``observe`` per env (the seat is traced, so every seat shares it)."""
    return jax.jit(lambda state, seat, params: env.observe(state, seat, params))


def _check_seat(env: Env, seat: Any) -> int | None:
    if seat is None:
        return None
    if isinstance(seat, bool) or not isinstance(seat, (int, np.integer)) or not 0 <= seat < env.num_players:
        raise InvalidArgumentError(
            f"{env.id}: seat must be None (a spectator) or an int in [0, {env.num_players}), got {seat!r}"
        )
    return int(seat)


def _viewer_legal(env: Env, host: State, seat: int | None) -> np.ndarray | None:
    if seat is None or bool(np.asarray(host.terminated) | np.asarray(host.truncated)):
        return None
    mask = np.asarray(host.legal_action_mask)
    if env.simultaneous:
        return mask[seat]
    return mask if int(np.asarray(host.current_player)) == seat else None


def make_frame(
    env: Env,
    state: State,
    seat: int | None = None,
    *,
    params: Params | None = None,
    caption: str | None = None,
) -> Frame:
    """The :class:`Frame` of one (unbatched) ``state`` for viewer ``seat`` (see :func:`render_svg`)."""
    if not isinstance(env, Env):
        raise InvalidArgumentError(f"render expects an htjax Env, got {type(env).__name__}")
    seat = _check_seat(env, seat)
    if not isinstance(state, State):
        raise InvalidArgumentError(f"{env.id}: render expects a state of the env, got {type(state).__name__}")
    host = jax.tree_util.tree_map(np.asarray, jax.device_get(state))
    if np.asarray(host.step_count).ndim != 0:
        raise InvalidArgumentError(
            f"{env.id}: render draws one world's state, not a batch (step_count has shape "
            f"{np.asarray(host.step_count).shape}); select a world first"
        )
    params = env.default_params if params is None else env.check_params(params)
    public = env.public_view(host)
    private = None
    if seat is not None:
        private = np.asarray(jax.device_get(_observer(env)(host, np.int32(seat), params)))
    return Frame(
        env=env,
        seat=seat,
        public=public,
        private=private,
        legal=_viewer_legal(env, host, seat),
        state=host,
        params=params,
        caption=caption,
    )


def render_svg(
    env: Env,
    state: State,
    seat: int | None = None,
    *,
    params: Params | None = None,
    caption: str | None = None,
) -> str:
    """One world of ``env`` as an SVG document, as viewer ``seat`` sees it.

    Args:
      env: any htjax env (games without a renderer get a table of their public view).
      state: one world's state (not a batch), device or host arrays.
      seat: the viewer: a seat in ``[0, num_players)``, or ``None`` for a spectator, who sees
        no hidden card at all (a seat sees its own).
      params: the rule parameters the world is played with (default: the env's config).
      caption: an optional line drawn under the table (e.g. the step's action).

    Returns:
      ``str``: a standalone ``<svg>`` document (UTF-8 text, no external resources); the same
      inputs always give the same text.

    Raises:
      InvalidArgumentError: a batched state, a seat out of range, or not an env/state.
    """
    frame = make_frame(env, state, seat, params=params, caption=caption)
    return renderer_for(env.id)(frame)
