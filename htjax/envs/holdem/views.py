"""Hold'em for people: the text table (``Holdem.render_text``) and the spectator's view
(``Holdem.public_view``), both from one world's host values; nothing here runs under jit."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.errors import InvalidArgumentError
from htjax.envs import poker_eval
from htjax.envs.holdem import rules as R

__all__ = ["public_view", "render_text", "side_pots"]


def render_text(env, state, seat: int | None = None) -> str:
    """A readable table (outside jit, one unbatched state).

    ``seat=None`` is an omniscient spectator: every hole card is shown. With ``seat=k`` only
    seat ``k``'s hole cards are shown, plus, after a showdown, the cards of the seats that
    reached it (as at a real table); everything else is ``?? ??``. The first column marks the
    button (``D``) and the seat to act (``>``); amounts are chips, with the pot also in big
    blinds (labelled ``bb``).
    """
    t = jax.tree_util.tree_map(np.asarray, jax.device_get(state.table))
    n = env.num_players
    sb, bb = int(t.small_blind), int(t.big_blind)
    street = int(t.street)
    over = street == R.HAND_OVER
    pot = 0 if over else int(np.sum(t.committed))
    lines = [
        (
            f"Hold'em {env.config.betting.replace('_', '-')}  blinds {sb}/{bb} chips  "
            f"street: {R.STREET_NAMES[street]}  pot: {pot} chips ({pot / bb:g} bb)"
        ),
        f"board: {cards.cards_to_str(t.board) or '-'}",
    ]
    for s in range(n):
        shown = seat is None or s == seat or (bool(t.showdown) and not bool(t.folded[s]))
        hole = cards.cards_to_str(t.hole[s]) if shown else "?? ??"
        to_act = not over and s == int(t.to_act)
        marker = ("D" if s == int(t.button) else " ") + (">" if to_act else " ")
        tags = []
        if s == int(t.button):
            tags.append("button")
        if bool(t.folded[s]):
            tags.append("folded" if int(t.start_stack[s]) > 0 else "sitting out")
        elif int(t.stack[s]) == 0:
            tags.append("all-in")
        if to_act:
            tags.append("to act")
        line = (
            f"{marker} seat {s}: {hole:<6} stack {int(t.stack[s]):>6}  bet {int(t.bet[s]):>5}  "
            f"in pot {int(t.committed[s]):>5}"
        )
        if over:
            line += f"  won {int(t.payout[s]):>5}  net {int(t.stack[s]) - int(t.start_stack[s]):+d}"
            if bool(t.showdown) and not bool(t.folded[s]) and shown:
                full = np.concatenate([t.hole[s], t.board]).astype(np.int32)
                value = int(poker_eval.evaluate(jnp.asarray(full)))
                line += f"  ({poker_eval.category_name(value)})"
        if tags:
            line += "  [" + ", ".join(tags) + "]"
        lines.append(line)
    lines.append("amounts in chips; D = button, > = to act")
    if not over:
        mask = np.asarray(state.legal_action_mask)
        legal = [f"{i}={label}" for i, label in enumerate(env.action_labels) if mask[i]]
        lines.append("legal: " + ", ".join(legal))
    return "\n".join(lines)


def side_pots(committed: np.ndarray, live: np.ndarray) -> list[dict[str, Any]]:
    """Main pot and side pots as the rules pay them: ``[{"amount", "eligible": [seats]}]``.

    One pot per distinct contribution level (folded chips included); the live seats that
    committed at least that level are eligible. Adjacent levels with the same eligible seats
    form one pot.
    """
    pots: list[dict[str, Any]] = []
    prev = 0
    for level in sorted({int(c) for c in committed if c > 0}):
        amount = int(np.sum(np.clip(committed, prev, level) - prev))
        eligible = [int(s) for s in np.flatnonzero(live & (committed >= level))]
        if not eligible:  # chips above every live seat's contribution go to the live seats
            eligible = [int(s) for s in np.flatnonzero(live)]
        if pots and pots[-1]["eligible"] == eligible:
            pots[-1]["amount"] += amount
        else:
            pots.append({"amount": amount, "eligible": eligible})
        prev = level
    return pots


def public_view(env, state) -> dict[str, Any]:
    """What a spectator sees of one (unbatched) state, as plain values (the sync layer's hook).

    Hole cards appear only for the seats that reached a showdown (the cards they show); the
    cards of every other seat, and the deck, never do. Chip amounts are in chips.
    Keys are listed in ``docs/envs/holdem.md`` (Public view).
    """
    t = jax.tree_util.tree_map(np.asarray, jax.device_get(state.table))
    if t.street.ndim != 0:
        raise InvalidArgumentError("public_view expects one world's state, not a batch")
    n = env.num_players
    street = int(t.street)
    over = street == R.HAND_OVER
    showdown = bool(t.showdown)
    board = [int(c) for c in t.board if c >= 0]
    live = ~t.folded
    seats = []
    for s in range(n):
        sitting_out = int(t.start_stack[s]) == 0
        shown = showdown and bool(live[s])
        seat: dict[str, Any] = {
            "stack": int(t.stack[s]),
            "bet": int(t.bet[s]),
            "committed": int(t.committed[s]),
            "folded": bool(t.folded[s]) and not sitting_out,
            "sitting_out": sitting_out,
            "all_in": bool(live[s]) and int(t.stack[s]) == 0,
            "hole": [cards.card_to_str(c) for c in t.hole[s] if c >= 0] if shown else None,
            "hand": None,
        }
        if shown:
            full = np.concatenate([t.hole[s], t.board]).astype(np.int32)
            seat["hand"] = poker_eval.category_name(int(poker_eval.evaluate(jnp.asarray(full))))
        if over:
            seat["payout"] = int(t.payout[s])
            seat["net"] = int(t.stack[s]) - int(t.start_stack[s])
        seats.append(seat)
    kinds = R.HISTORY_KINDS
    return {
        "street": R.STREET_NAMES[street],
        "board": [cards.card_to_str(c) for c in board],
        "pot": 0 if over else int(np.sum(t.committed)),
        "pots": [] if over else side_pots(t.committed, live),
        "button": int(t.button),
        "to_act": None if over else int(t.to_act),
        "to_call": 0 if over else int(np.max(t.bet) - t.bet[int(t.to_act)]),
        "blinds": [int(t.small_blind), int(t.big_blind)],
        "seats": seats,
        "actions": {
            R.STREET_NAMES[k]: [
                {kind: int(t.street_actions[k, s, j]) for j, kind in enumerate(kinds)} for s in range(n)
            ]
            for k in range(R.HAND_OVER)
        },
        "showdown": showdown,
        "over": over,
        "step": int(np.asarray(state.step_count)),
    }
