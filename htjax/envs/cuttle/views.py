"""Cuttle for people: the text table (``Cuttle.render_text``) and the spectator's view
(``Cuttle.public_view``), both from one world's host values; nothing here runs under jit."""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

from htjax.core.errors import InvalidArgumentError
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R

__all__ = ["public_view", "render_text"]


@functools.lru_cache(maxsize=8)
def _facts_program(rules):
    """``facts`` compiled once per variant (run op by op it cost tens of milliseconds a view)."""
    return jax.jit(lambda board: R.facts(rules, board))


def _host(env, state):
    b = jax.tree_util.tree_map(np.asarray, jax.device_get(state.board))
    if b.zone.ndim != 1:
        raise InvalidArgumentError("cuttle views expect one world's state, not a batch")
    f = jax.tree_util.tree_map(np.asarray, jax.device_get(_facts_program(env.rules)(b)))
    return b, f


def _cards(ids) -> list[str]:
    return [A.card_str(int(c)) for c in ids]


def _field(b, f, seat: int) -> dict[str, Any]:
    """The point cards and royals ``seat`` controls, each with the jacks or jokers stacked on it
    (in the order they were played, a joker on a jack included): ``{"card": "9h", "attached":
    ["Jd"]}``."""
    ids = np.arange(R.N)
    ctrl = f.control == seat

    def stacked(c) -> list[int]:  # the jacks or jokers on c, and (cutthroat) the jokers on those
        on = [int(a) for a in ids[(b.zone == R.ATTACHED) & (b.attach_to == c)]]
        return on + [x for a in on for x in stacked(a)]

    def entry(c):
        on = sorted(stacked(c), key=lambda a: int(b.stamp[a]))
        return {"card": A.card_str(int(c)), "attached": _cards(on)}

    return {
        "points": [entry(c) for c in ids[ctrl & (b.zone == R.POINT)]],
        "royals": [entry(c) for c in ids[ctrl & (b.zone == R.ROYAL)]],
    }


def _show(entries) -> str:
    """``9h+Jd`` for a card with a jack on it."""
    return " ".join("+".join([e["card"], *e["attached"]]) for e in entries)


def public_view(env, state) -> dict[str, Any]:
    """What a spectator sees of one (unbatched) state, as plain values (the sync layer's hook).

    Every card on a field, in the scrap pile, on the stack and revealed by a 7, and the card a 9
    returned to a hand (it was public when it left the field). Hands and the deck never appear:
    only their sizes. Keys are listed in ``docs/envs/cuttle.md`` (Public view).
    """
    b, f = _host(env, state)
    ids = np.arange(R.N)
    over = bool(state.terminated | state.truncated)
    seats = []
    for s in range(env.num_players):
        seat = {"hand_size": int(f.hand[s]), "points_total": int(f.points[s]), "goal": int(f.goal[s])}
        seat.update(_field(b, f, s))
        seat["frozen"] = None if int(b.frozen[s]) < 0 else A.card_str(int(b.frozen[s]))
        seats.append(seat)
    pending = int(b.pending)
    stack = ids[b.zone == R.STACK]
    return {
        "variant": env.config.variant,
        "phase": R.PHASE_NAMES[int(b.phase)],
        "turn": int(b.turn),
        "to_act": None if over else int(b.actor),
        "seats": seats,
        "scrap": _cards(ids[b.zone == R.SCRAP]),
        "revealed": _cards(ids[b.zone == R.REVEALED]),
        "stack": _cards(sorted(stack.tolist(), key=lambda c: c != pending)),  # the one-off first, then 2s
        "counters": int(b.counters) if len(stack) else 0,
        "deck_size": int(R.deck_size(env.rules, state.board)),
        "passes": int(b.passes),
        "winner": None if int(b.winner) < 0 else int(b.winner),
        "over": over,
        "step": int(np.asarray(state.step_count)),
    }


def render_text(env, state, seat: int | None = None) -> str:
    """A readable table (outside jit, one unbatched state).

    ``seat=None`` is an omniscient spectator: every hand is shown. With ``seat=k`` only seat
    ``k``'s hand is shown, and the others' while ``k`` controls a glasses eight; other hands are
    ``??`` per card. ``>`` marks the seat to act.
    """
    b, f = _host(env, state)
    view = public_view(env, state)
    ids = np.arange(R.N)
    lines = [
        f"Cuttle ({env.config.variant})  phase: {view['phase']}  turn: seat {view['turn']}  "
        f"deck: {view['deck_size']}  passes: {view['passes']}"
    ]
    for s in range(env.num_players):
        hand = ids[(b.zone == R.HAND) & (b.owner == s)]
        shown = seat is None or s == seat or int(f.glasses[seat]) > 0
        text = " ".join(_cards(hand)) if shown else " ".join("??" for _ in hand)
        v = view["seats"][s]
        marker = ">" if view["to_act"] == s else " "
        lines.append(
            f"{marker} seat {s}: {v['points_total']}/{v['goal']} points  hand [{text or '-'}]  "
            f"points [{_show(v['points']) or '-'}]  royals [{_show(v['royals']) or '-'}]"
            + (f"  frozen {v['frozen']}" if v["frozen"] else "")
        )
    lines.append(f"scrap: {' '.join(view['scrap']) or '-'}")
    if view["stack"]:
        lines.append(
            f"stack: {' '.join(view['stack'])} (one-off {view['stack'][0]}, {view['counters']} counters)"
        )
    if view["revealed"]:
        lines.append(f"revealed by a 7: {' '.join(view['revealed'])}")
    if view["over"]:
        lines.append("game drawn" if view["winner"] is None else f"seat {view['winner']} wins")
    else:
        mask = np.asarray(state.legal_action_mask)
        lines.append("legal: " + ", ".join(f"{i}={env.action_labels[i]}" for i in np.flatnonzero(mask)))
    return "\n".join(lines)
