"""The sync layer's use of an env's optional hooks (:class:`~htjax.core.env.Env` methods).

* ``env.public_view(state) -> dict`` of plain values (ints, floats, bools, strings, lists,
  dicts): what a spectator sees after a step. Recorded per step when ``public_view=True`` is
  passed to :func:`htjax.sync.record` or :class:`htjax.sync.Recorder`, so a viewer without JAX
  (the browser) can show the episode.
* ``env.render_text(state, seat=None) -> str``: a readable text rendering, used by
  ``htjax replay`` (and its ``--svg``/``--html`` output).

Both have defaults in :class:`~htjax.core.env.Env`; games override them.
"""

from __future__ import annotations

from typing import Any

import jax

from htjax.core.env import Env, State

__all__ = ["public_view_of", "render_text_of"]


def public_view_of(env: Env, states: State, length: int) -> list[Any]:
    """``env.public_view`` of ``states[0..length]`` (leaves ``[>= length + 1, ...]``), as plain values."""
    host = jax.device_get(states)
    return [env.public_view(jax.tree_util.tree_map(lambda x: x[t], host)) for t in range(length + 1)]


def render_text_of(env: Env, state: State) -> str:
    """``env.render_text(state)`` as a string."""
    return str(env.render_text(state))
