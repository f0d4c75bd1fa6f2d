"""Optional per-game hooks the sync layer looks for in an env's module (never required).

* ``public_view(env, state) -> dict`` of plain values (ints, floats, bools, strings, lists,
  dicts): what a spectator sees after a step. Recorded per step when ``public_view=True`` is
  passed to :func:`htjax.sync.record` or :class:`htjax.sync.Recorder`, so a viewer without JAX
  (the browser) can show the episode.
* ``render_text(env, state, seat=None) -> str``: a readable text rendering, used by
  ``htjax replay`` (and its ``--svg``/``--html`` output).

The hooks are looked up by name in the module that defines the env class, so a game adds
them as plain module functions; rules modules stay free of I/O.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import jax

from htjax.core.env import Env, State
from htjax.sync.errors import RecordError

__all__ = ["hook", "public_view_of", "render_text_of"]


def hook(env: Env, name: str) -> Callable | None:
    """The module-level function ``name`` of ``env``'s game module, or None."""
    for cls in type(env).__mro__:
        module = sys.modules.get(cls.__module__)
        fn = getattr(module, name, None) if module is not None else None
        if callable(fn):
            return fn
    return None


def public_view_of(env: Env, states: State, length: int) -> list[Any]:
    """``public_view`` of ``states[0..length]`` (leaves ``[>= length + 1, ...]``), as plain values."""
    fn = hook(env, "public_view")
    if fn is None:
        raise RecordError(
            f"{env.id} has no public_view(env, state) hook in {type(env).__module__}; "
            "record without public_view=True"
        )
    return [fn(env, jax.tree_util.tree_map(lambda x: x[t], states)) for t in range(length + 1)]


def render_text_of(env: Env, state: State) -> str | None:
    """``render_text(env, state)`` when the game provides it, else None."""
    fn = hook(env, "render_text")
    return None if fn is None else str(fn(env, state))
