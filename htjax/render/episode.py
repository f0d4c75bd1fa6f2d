"""Pictures of a replayed episode: one SVG per step and one HTML page (``htjax replay --svg/--html``).

Takes a replayed episode (an :class:`htjax.sync.Replay`, read through its attributes only:
this package never imports the sync layer) and draws ``states[t]`` for ``t = 0 .. length``
with a caption saying which seat (and actor) played which action at that step.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import jax
import numpy as np

from htjax.render.core import render_svg
from htjax.render.html import page

__all__ = ["replay_captions", "svg_name", "write_replay_pictures"]


def svg_name(step: int) -> str:
    """File name of the SVG of the state after ``step`` steps: ``step-0007.svg``."""
    return f"step-{step:04d}.svg"


def replay_captions(replay: Any) -> list[str]:
    """One line per state of ``replay`` (an :class:`htjax.sync.Replay`): what led to it.

    ``captions[0]`` is the start; ``captions[t + 1]`` names the seats, actors and actions of
    step ``t`` and the rewards it gave."""
    env, d = replay.env, replay.derivation
    rewards = np.asarray(jax.device_get(replay.states.rewards))
    out = [f"start of the episode ({env.id} {env.version})"]
    for t in range(replay.length):
        entries = [d.entries[i] for i in d.accepted[t]]
        moves = "; ".join(f"seat {e.seat} ({e.actor}) plays {env.action_labels[e.action]}" for e in entries)
        gains = ", ".join(f"{x:+g}" for x in rewards[t + 1])
        out.append(f"step {t}: {moves}; rewards {gains}")
    return out


def write_replay_pictures(
    replay: Any,
    *,
    svg_dir: str | os.PathLike | None = None,
    html: str | os.PathLike | None = None,
    seat: int | None = None,
    title: str | None = None,
) -> list[pathlib.Path]:
    """Draw every state of ``replay`` for viewer ``seat`` (``None``: a spectator).

    ``svg_dir``: a folder (created if missing) that receives ``step-0000.svg`` ...
    ``step-LLLL.svg`` (``length + 1`` files, see :func:`svg_name`); ``html``: one self-contained
    page stepping through them (:func:`htjax.render.html.page`). Returns the files written.
    """
    env, states, params = replay.env, jax.device_get(replay.states), replay.env_params
    captions = replay_captions(replay)
    svgs = [
        render_svg(
            env, jax.tree_util.tree_map(lambda x: x[t], states), seat, params=params, caption=captions[t]
        )
        for t in range(replay.length + 1)
    ]
    written: list[pathlib.Path] = []
    if svg_dir is not None:
        folder = pathlib.Path(svg_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for t, svg in enumerate(svgs):
            path = folder / svg_name(t)
            path.write_text(svg, encoding="utf-8")
            written.append(path)
    if html is not None:
        viewer = "a spectator" if seat is None else f"seat {seat}"
        # each SVG carries its caption already
        text = page(
            svgs, [None] * len(svgs), title or f"{env.id} episode, {replay.length} steps, seen by {viewer}"
        )
        path = pathlib.Path(html)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
