"""What a person or a spectator sees of one IPD world: the text line of ``htjax play`` and the
public view recorded by the sync layer (the env's ``render_text`` and ``public_view`` methods).

Both read host values of one unbatched state. Moves are public once played (after noise, as
scored); scores and last payoffs come from the state, so they are right under per-world rule
parameters too.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from htjax.core.errors import InvalidArgumentError
from htjax.envs.prisoners_dilemma.config import IPDConfig

__all__ = ["MOVE_CHARS", "MOVE_WORDS", "match_view", "status_line"]

MOVE_CHARS = ("C", "D")
MOVE_WORDS = ("cooperated", "defected")


def match_view(config: IPDConfig, state) -> dict[str, Any]:
    """The public view of one state as plain values (keys in ``docs/envs/prisoners_dilemma.md``)."""
    s = jax.device_get(state)
    t = np.asarray(s.memory.t)
    if t.shape != (2,):
        raise InvalidArgumentError(
            f"prisoners_dilemma: a view needs one world's state (memory.t of shape (2,)), got shape {t.shape}"
        )
    played = int(t[0])
    last = [int(np.asarray(s.memory.my_moves)[seat]) & 1 for seat in range(2)] if played else None
    return {
        "round": played,
        "rounds": int(config.rounds),
        "last_moves": None if last is None else [MOVE_CHARS[x] for x in last],
        "last_payoffs": None if last is None else [float(x) for x in np.asarray(s.last_payoff)],
        "scores": [float(x) for x in np.asarray(s.score)],
        "defections": [int(x) for x in np.asarray(s.memory.my_defections)],
        "over": bool(np.asarray(s.terminated) | np.asarray(s.truncated)),
        "step": int(np.asarray(s.step_count)),
    }


def status_line(config: IPDConfig, state, seat: int | None = None) -> str:
    """One readable line: the round, both seats' last moves in words, and the scores.

    ``seat`` names that seat "you" and the other "opponent" (nothing is hidden in this game).
    """
    view = match_view(config, state)
    if seat is None:
        names = ("seat 0", "seat 1")
    elif seat in (0, 1):
        names = ("you", "opponent") if seat == 0 else ("opponent", "you")
    else:
        raise InvalidArgumentError(f"prisoners_dilemma: seat must be 0, 1 or None, got {seat!r}")
    order = (0, 1) if seat in (None, 0) else (1, 0)
    played, rounds = view["round"], view["rounds"]
    s = jax.device_get(state)
    if not view["over"]:
        if config.fixed_horizon:
            head = f"round {played + 1} of {rounds}"
        else:
            c = config.continuation_probability
            head = f"round {played + 1} (another follows with probability {c:g}, at most {rounds})"
    elif bool(np.asarray(s.truncated)):
        head = f"match cut off at the {rounds}-round cap"
    elif config.fixed_horizon and played == rounds:
        head = f"match over after {rounds} rounds"
    elif config.fixed_horizon:
        head = f"match ended early after {played} of {rounds} rounds"
    else:
        head = f"match stopped after {played} round{'s' if played != 1 else ''}"
    if view["last_moves"] is None:
        last = "no moves yet"
    else:
        moves = ", ".join(
            f"{names[i]} {MOVE_WORDS[MOVE_CHARS.index(view['last_moves'][i])]} ({view['last_payoffs'][i]:+g})"
            for i in order
        )
        last = f"last round: {moves}"
    label = "final score" if view["over"] else "score"
    scores = ", ".join(f"{names[i]} {view['scores'][i]:g}" for i in order)
    return f"{head} | {last} | {label}: {scores}"
