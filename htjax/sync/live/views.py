"""What one seat may see of a state (:class:`SeatView`), built the same way by the dealer (to send
it) and by the seat (to check, after the key is revealed, that what it received was the deal's)."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State

__all__ = ["SeatView", "private_message", "view_of_message", "observations", "same_view"]


@dataclasses.dataclass
class SeatView:
    """One seat's view of the game after ``step`` steps.

    Attributes:
      seat: the seat.
      step: steps applied so far.
      to_move: seats that may act now.
      done: the episode is over.
      observation: ``observation_dtype[*observation_shape]`` the seat's own observation.
      legal: ``bool[num_actions]`` the seat's legal actions now (all False when not to move).
      text: ``env.render_text(state, seat)``: the table as this seat sees it.
      svg: ``htjax.render.render_svg(env, state, seat)`` when htjax.render exists, else None.
      public: the public view (``env.public_view``) when known, else None.
    """

    seat: int
    step: int
    to_move: tuple[int, ...]
    done: bool
    observation: np.ndarray
    legal: np.ndarray
    text: str
    svg: str | None = None
    public: dict | None = None

    @property
    def my_turn(self) -> bool:
        return not self.done and self.seat in self.to_move


@functools.lru_cache(maxsize=32)
def _observe_all(env: Env):
    """jit: state -> ``[P, *observation_shape]`` every seat's observation."""
    return jax.jit(lambda state: jnp.stack([env.observe(state, s) for s in range(env.num_players)]))


def observations(env: Env, state: State) -> np.ndarray:
    """Every seat's observation of one state: ``observation_dtype[P, *observation_shape]``."""
    return np.asarray(_observe_all(env)(state))


def _svg(env: Env, state: State, seat: int) -> str | None:
    if importlib.util.find_spec("htjax.render") is None:
        return None
    from htjax import render  # the renderer is optional (another branch builds it)

    fn = getattr(render, "render_svg", None)
    return None if fn is None else str(fn(env, state, seat=seat))


def legal_of(env: Env, state: State, seat: int, to_move: tuple[int, ...]) -> np.ndarray:
    """``bool[num_actions]``: the seat's legal actions (all False when it is not to move)."""
    mask = np.asarray(state.legal_action_mask)
    if seat not in to_move:
        return np.zeros(env.num_actions, bool)
    return np.array(mask[seat] if env.simultaneous else mask, bool)


def private_message(
    env: Env, state: State, seat: int, step: int, to_move: tuple[int, ...], done: bool, obs: np.ndarray
) -> dict[str, Any]:
    """The dealer's plaintext for ``seat`` (the CBOR map of :mod:`htjax.sync.live.channel`).

    ``obs``: every seat's observations (:func:`observations`); only ``obs[seat]`` is sent.
    """
    mine = np.ascontiguousarray(obs[seat])
    body: dict[str, Any] = {
        "step": int(step),
        "seat": int(seat),
        "to_move": [int(s) for s in to_move],
        "done": bool(done),
        "observation": mine.astype(mine.dtype.newbyteorder("<")).tobytes(),
        "dtype": mine.dtype.name,
        "shape": list(mine.shape),
        "legal": [bool(x) for x in legal_of(env, state, seat, to_move)],
        "text": str(env.render_text(state, seat)),
    }
    svg = _svg(env, state, seat)
    if svg is not None:
        body["svg"] = svg
    return body


def view_of_message(body: dict[str, Any]) -> SeatView:
    """A :class:`SeatView` of a received plaintext (raises ``ValueError``/``KeyError``/``TypeError`` on junk)."""
    obs = np.frombuffer(body["observation"], np.dtype(str(body["dtype"])).newbyteorder("<"))
    return SeatView(
        seat=int(body["seat"]),
        step=int(body["step"]),
        to_move=tuple(int(s) for s in body["to_move"]),
        done=bool(body["done"]),
        observation=obs.reshape([int(n) for n in body["shape"]]),
        legal=np.array([bool(x) for x in body["legal"]], bool),
        text=str(body["text"]),
        svg=None if body.get("svg") is None else str(body["svg"]),
    )


def same_view(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """None when two plaintexts show the same thing, else the first differing key."""
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return key
    return None
