"""Cuttle observation: one seat's view as a flat ``float32`` vector, its layout defined once.

:func:`observation_layout` is the table of named slices (bounds and meanings); :func:`observe`
builds the vector only through ``layout.pack``; the env's bounds and the docs table
(``docs/envs/cuttle.md``, checked by a test) come from the same table. Seats are *relative* to
the observer (0 = the observer, 1 = the next seat to act after it, ...). Card sets are 0/1
vectors over the 54 card ids of :mod:`htjax.envs.cuttle.actions`. Other seats' hands are shown
only while the observer controls a glasses eight; the deck's order never is.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from htjax.core.layout import Field, ObservationLayout
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R
from htjax.envs.cuttle.config import Variant

__all__ = ["observation_layout", "observe"]

C = A.NUM_CARDS


@functools.cache
def observation_layout(num_players: int) -> ObservationLayout:
    """The table for ``num_players`` seats: ``226 + 330 * num_players`` entries (886 for two)."""
    p = num_players
    return ObservationLayout(
        (
            Field("hand", C, 0, 1, "own hand"),
            Field(
                "other_hands",
                (p - 1) * C,
                0,
                1,
                "[relative seat 1.., card] other hands, only while the observer controls a glasses eight",
            ),
            Field("hand_size", p, 0, C, "cards in hand per relative seat"),
            Field("points", p * C, 0, 1, "[relative seat, card] point cards each seat controls"),
            Field(
                "royals",
                p * C,
                0,
                1,
                "[relative seat, card] glasses eights, queens and kings each seat controls",
            ),
            Field(
                "jacks", p * C, 0, 1, "[relative seat, card] jacks and jokers each seat played (on any card)"
            ),
            Field(
                "stolen", p * C, 0, 1, "[relative seat, card] cards each seat owns that another seat controls"
            ),
            Field("frozen", p * C, 0, 1, "[relative seat, card] the card a 9 returned, unplayable this turn"),
            Field("point_total", p, 0, 220, "points per relative seat"),
            Field("goal", p, 0, 21, "points each relative seat needs to win"),
            Field("scrap", C, 0, 1, "the scrap pile"),
            Field("revealed", C, 0, 1, "cards a 7 revealed (choose one to play)"),
            Field("stack", C, 0, 1, "the pending one-off and the 2s countering it"),
            Field("pending_target", C, 0, 1, "the card the pending one-off targets (2 or 9)"),
            Field("pending_seat", p, 0, 1, "relative seat a pending 4 targets"),
            Field("phase", R.NUM_PHASES, 0, 1, "one-hot: " + ", ".join(R.PHASE_NAMES)),
            Field("to_act", p, 0, 1, "one-hot relative seat that must act"),
            Field("turn", p, 0, 1, "one-hot relative seat whose turn it is"),
            Field("counters", 1, 0, 8, "2s played on the pending one-off"),
            Field("discards", 1, 0, 2, "cards still to discard for a 4"),
            Field("deck_size", 1, 0, C, "cards left in the deck"),
            Field("passes", 1, 0, 3, "consecutive passes (three draw the game)"),
        )
    )


def observe(rules: Variant, layout: ObservationLayout, b: R.Board, player: jax.Array) -> jax.Array:
    """Seat ``player``'s view of board ``b``: ``float32[layout.size]``."""
    p = rules.num_players
    f = R.facts(rules, b)
    rel = (player + jnp.arange(p)) % p  # relative seat -> absolute seat
    ids = jnp.arange(C)
    in_hand = (b.zone == R.HAND)[None, :] & (b.owner[None, :] == rel[:, None])  # [p, C]
    sees = f.glasses[player] > 0
    ctrl = f.control[None, :] == rel[:, None]
    own = b.owner[None, :] == rel[:, None]
    on_field = (b.zone == R.POINT) | (b.zone == R.ROYAL) | (b.zone == R.ATTACHED)
    pending_card = b.zone == R.STACK
    has_target = jnp.any(pending_card) & (b.target >= 0)
    targets_card = has_target & (R.VALUE[jnp.maximum(b.pending, 0)] != A.FOUR)
    return layout.pack(
        {
            "hand": in_hand[0],
            "other_hands": in_hand[1:] & sees,
            "hand_size": f.hand[rel],
            "points": ctrl & (b.zone == R.POINT)[None, :],
            "royals": ctrl & (b.zone == R.ROYAL)[None, :],
            "jacks": own & (b.zone == R.ATTACHED)[None, :],
            "stolen": own & ~ctrl & on_field[None, :],
            "frozen": b.frozen[rel][:, None] == ids[None, :],
            "point_total": f.points[rel],
            "goal": f.goal[rel],
            "scrap": b.zone == R.SCRAP,
            "revealed": b.zone == R.REVEALED,
            "stack": pending_card,
            "pending_target": targets_card & (ids == b.target),
            "pending_seat": has_target & ~targets_card & (rel == b.target),
            "phase": jnp.arange(R.NUM_PHASES) == b.phase,
            "to_act": rel == b.actor,
            "turn": rel == b.turn,
            "counters": b.counters,
            "discards": b.discards,
            "deck_size": R.deck_size(rules, b),
            "passes": b.passes,
        }
    )
