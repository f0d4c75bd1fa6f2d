"""Hanabi for people: the text table (``Hanabi.render_text``) and the public view
(``Hanabi.public_view``), both from one world's host values; nothing here runs under jit."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from htjax.core.errors import InvalidArgumentError
from htjax.envs.hanabi import rules as R

__all__ = ["last_move_text", "public_view", "render_text"]

_KIND_NAMES = ("play", "discard", "hint colour", "hint rank")


def _host(state) -> Any:
    b = jax.tree_util.tree_map(np.asarray, jax.device_get(state.board))
    if b.hands.ndim != 2:
        raise InvalidArgumentError("expected one world's state, not a batch")
    return b


def _knowledge(b, seat: int, slot: int) -> str:
    """HLE's knowledge string of a card: hinted colour and rank (``X`` if not), then the
    plausible colours and ranks, e.g. ``RX|R1234``."""
    if b.hands[seat, slot] < 0:
        return ""
    cp, rp = b.color_plausible[seat, slot], b.rank_plausible[seat, slot]
    ch, rh = b.color_hinted[seat, slot], b.rank_hinted[seat, slot]
    color = R.COLOR_CHARS[int(np.argmax(ch))] if ch.any() else "X"
    rank = str(int(np.argmax(rh)) + 1) if rh.any() else "X"
    plaus = "".join(R.COLOR_CHARS[c] for c in range(R.NUM_COLORS) if cp[c])
    plaus += "".join(str(r + 1) for r in range(R.NUM_RANKS) if rp[r])
    return f"{color}{rank}|{plaus}"


def last_move_text(b) -> str:
    """The last move in words, e.g. ``seat 1 played R1 from slot 0 (scored)``."""
    kind = int(b.last_kind)
    if kind < 0:
        return "none"
    who = f"seat {int(b.last_player)}"
    if kind in (R.PLAY, R.DISCARD):
        verb = "played" if kind == R.PLAY else "discarded"
        text = f"{who} {verb} {R.card_str(int(b.last_card))} from slot {int(b.last_slot)}"
        if kind == R.PLAY:
            text += " (scored)" if bool(b.last_scored) else " (misplayed: a life lost)"
        return text
    value = int(b.last_value)
    what = R.COLORS[value] if kind == R.HINT_COLOR else f"rank {value + 1}"
    slots = [int(i) for i in np.flatnonzero(b.last_reveal)]
    return f"{who} told seat {int(b.last_target)}: {what} in slots {slots}"


def render_text(env, state, seat: int | None = None) -> str:
    """A readable table (outside jit, one unbatched state).

    ``seat=None`` is an omniscient spectator: every card is shown. With ``seat=k`` seat ``k``'s
    own cards are hidden (``??``), as at a real table; every card's hint knowledge is shown in
    HLE's form (``RX|R1234``: hinted colour and rank, then what it may still be).
    """
    b = _host(state)
    over = bool(state.terminated | state.truncated)
    lines = [
        f"Hanabi {env.num_players} seats  score {int(R.score(b))}/{R.MAX_SCORE}  "
        f"info {int(b.info_tokens)}/{R.MAX_INFO}  lives {int(b.life_tokens)}/{R.MAX_LIVES}  "
        f"deck {R.DECK_SIZE - int(b.deck.position)}",
        "fireworks: " + " ".join(f"{R.COLOR_CHARS[c]}{int(b.fireworks[c])}" for c in range(R.NUM_COLORS)),
        "discards: " + (" ".join(_discard_list(b)) or "-"),
        "last move: " + last_move_text(b),
    ]
    for s in range(env.num_players):
        shown = seat is None or s != seat
        cells = []
        for i in range(env.hand_size):
            card = int(b.hands[s, i])
            if card < 0:
                continue
            face = R.card_str(card) if shown else "??"
            cells.append(f"{face} {_knowledge(b, s, i)}")
        marker = ">" if (not over and s == int(b.to_act)) else " "
        you = " (you)" if seat is not None and s == seat else ""
        lines.append(f"{marker} seat {s}{you}: " + "   ".join(cells))
    if over:
        lines.append(f"game over: score {int(R.score(b))}")
    else:
        mask = np.asarray(state.legal_action_mask)
        lines.append("legal: " + ", ".join(f"{i}={env.action_labels[i]}" for i in np.flatnonzero(mask)))
    return "\n".join(lines)


def _discard_list(b) -> list[str]:
    return [R.card_str(c) for c in range(R.NUM_COLORS * R.NUM_RANKS) for _ in range(int(b.discards[c]))]


def public_view(env, state) -> dict[str, Any]:
    """What every seat may see, as plain values: the board, the discards, the last move and
    every card's hint knowledge. No hand is in it (no card is seen by every seat: its holder
    does not see it), nor the deck."""
    b = _host(state)
    over = bool(state.terminated | state.truncated)
    knowledge = [
        [_knowledge(b, s, i) for i in range(env.hand_size) if b.hands[s, i] >= 0]
        for s in range(env.num_players)
    ]
    kind = int(b.last_kind)
    last = None
    if kind >= 0:
        last = {
            "seat": int(b.last_player),
            "move": _KIND_NAMES[kind],
            "text": last_move_text(b),
        }
    return {
        "score": int(R.score(b)),
        "fireworks": {R.COLORS[c]: int(b.fireworks[c]) for c in range(R.NUM_COLORS)},
        "info_tokens": int(b.info_tokens),
        "life_tokens": int(b.life_tokens),
        "deck_size": R.DECK_SIZE - int(b.deck.position),
        "discards": _discard_list(b),
        "hand_sizes": [int(np.sum(b.hands[s] >= 0)) for s in range(env.num_players)],
        "knowledge": knowledge,
        "last_move": last,
        "to_act": None if over else int(b.to_act),
        "over": over,
        "step": int(np.asarray(state.step_count)),
    }
