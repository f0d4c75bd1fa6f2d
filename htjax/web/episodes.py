"""The episode viewer's server side: an ``.automerge`` episode as frames the page steps through.

:func:`inspect_episode` loads a document (bytes from a dropped file or a recorded game),
replays and verifies it with the JAX env (:func:`htjax.sync.replay`), and returns one JSON-ready
dict: the game, the seats, the log (who acted, with what action label, when), one frame per step
(the spectator's SVG from :func:`htjax.render.render_svg`, captioned with the step's moves, and
the text rendering) and the
verification status. A document that cannot be read raises :class:`EpisodeViewError` with a
message the page shows; a document that reads but does not replay is returned with
``verification.status == "mismatch"`` and the replay's message, so its frames still show.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from collections import OrderedDict
from typing import Any

import jax
import numpy as np

from htjax.core.errors import HtjaxError
from htjax.render import render_svg
from htjax.sync import EpisodeDoc, replay
from htjax.sync.errors import ReplayMismatchError, SyncError
from htjax.sync.replay import derive

__all__ = ["EpisodeViewError", "inspect_episode", "list_episodes", "MAX_EPISODE_BYTES"]

MAX_EPISODE_BYTES = 16 * 1024 * 1024  # a recorded hand is a few KB; refuse anything absurd
MAX_FRAMES = 2000  # frames rendered per episode (longer episodes show their first MAX_FRAMES)


class EpisodeViewError(HtjaxError, ValueError):
    """An uploaded or listed file is not a viewable episode (the message says why)."""


_CACHE: OrderedDict[str, dict[str, Any]] = OrderedDict()


def list_episodes(folder: pathlib.Path | None) -> list[dict[str, Any]]:
    """The ``.automerge`` files in ``folder`` (newest first): ``[{"name", "bytes", "modified"}]``."""
    if folder is None or not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix == ".automerge" and p.is_file()]
    files.sort(key=lambda p: (-p.stat().st_mtime, p.name))
    return [{"name": p.name, "bytes": p.stat().st_size, "modified": p.stat().st_mtime} for p in files]


def episode_file(folder: pathlib.Path | None, name: str) -> pathlib.Path:
    """The recorded file ``name`` inside ``folder``; refuses other folders and missing files."""
    if folder is None:
        raise EpisodeViewError("this server has no episodes folder (start it with --episodes DIR)")
    if not name.endswith(".automerge") or os.sep in name or "/" in name or name.startswith("."):
        raise EpisodeViewError(f"{name!r} is not the name of a recorded episode (NAME.automerge)")
    path = folder / name
    if not path.is_file():
        raise EpisodeViewError(f"no recorded episode named {name!r}")
    return path


def _label(labels: tuple[str, ...], action: int) -> str:
    return labels[action] if 0 <= action < len(labels) else f"action {action}"


def inspect_episode(data: bytes, name: str = "episode") -> dict[str, Any]:
    """Load, verify and render an episode document (see the module docstring for the result).

    Args:
      data: the document's bytes (``htjax.sync.save`` output or an automerge-repo document).
      name: shown in messages.

    Raises:
      EpisodeViewError: empty, too large, not an Automerge document, not an htjax episode, or
        a game this installation cannot build.
    """
    if not isinstance(data, (bytes, bytearray)) or len(data) == 0:
        raise EpisodeViewError(f"{name}: the file is empty")
    if len(data) > MAX_EPISODE_BYTES:
        raise EpisodeViewError(f"{name}: {len(data):,} bytes is larger than an episode can be")
    digest = hashlib.sha256(data).hexdigest()
    if digest in _CACHE:
        _CACHE.move_to_end(digest)
        return {**_CACHE[digest], "name": name}
    try:
        doc = EpisodeDoc.from_bytes(bytes(data))
        env = doc.env()
    except (SyncError, HtjaxError) as err:
        raise EpisodeViewError(f"{name}: not a readable htjax episode: {err}") from err
    except Exception as err:  # the Automerge binding raises its own types for garbage bytes
        raise EpisodeViewError(f"{name}: not an Automerge episode document ({type(err).__name__})") from err
    header = doc.header
    try:
        result = replay(doc)
        derivation = result.derivation
        outcome = result.outcome
        verification = {
            "status": "verified",
            "message": f"replayed {result.length} steps; {len(result.verified)} checkpoint digests match",
            "checked": len(result.verified),
        }
    except ReplayMismatchError as err:
        derivation = derive(doc)
        outcome = doc.outcome()
        verification = {"status": "mismatch", "message": str(err), "checked": 0}
    except (SyncError, HtjaxError) as err:
        raise EpisodeViewError(f"{name}: cannot replay: {err}") from err
    states = jax.device_get(derivation.states)
    params = doc.params()
    length = min(derivation.length, MAX_FRAMES - 1)
    entries = derivation.entries
    frames = []
    for t in range(length + 1):
        state = jax.tree_util.tree_map(lambda x: x[t], states)
        acted = []
        if t > 0:
            for idx in np.asarray(derivation.accepted[t - 1]).tolist():
                e = entries[idx]
                acted.append(
                    {
                        "seat": e.seat,
                        "actor": e.actor,
                        "action": e.action,
                        "label": _label(header.action_labels, e.action),
                        "time": e.time.isoformat(),
                    }
                )
        frames.append(
            {
                "step": t,
                "svg": render_svg(
                    env,
                    state,
                    None,
                    params=params,
                    caption="; ".join(f"seat {a['seat']}: {a['label']}" for a in acted) or "the deal",
                ),
                "text": str(env.render_text(state)),
                "acted": acted,
                "rewards": np.asarray(state.rewards).astype(float).tolist(),
            }
        )
    summary = {
        "name": name,
        "env": header.env_id,
        "env_version": header.env_version,
        "num_players": header.num_players,
        "action_labels": list(header.action_labels),
        "seats": [{"actor": s.actor, "kind": s.kind, "policy": s.policy} for s in header.seats],
        "length": derivation.length,
        "frames": frames,
        "rejected": [
            {"index": r.index, "seat": r.entry.seat, "step": r.entry.step, "reason": r.reason}
            for r in derivation.rejected
        ],
        "outcome": None
        if outcome is None
        else {
            "returns": list(outcome.returns),
            "length": outcome.length,
            "finished": outcome.finished,
        },
        "verification": verification,
    }
    _CACHE[digest] = summary
    while len(_CACHE) > 32:
        _CACHE.popitem(last=False)
    return summary
