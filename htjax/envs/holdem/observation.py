"""Hold'em observation: one seat's view as a flat ``float32`` vector, its layout defined once.

:func:`observation_layout` is the single table of the observation's named slices (with bounds
and meanings); :func:`observe` builds the vector only through ``layout.pack``, and the env's
``observation_bounds`` and the docs table (``docs/envs/holdem.md``, checked by a test) are
derived from the same table. Seats appear *relative* to the observer (index 0 = the observer,
1 = the seat to its left, ...); chip amounts are in big blinds; other seats' hole cards are never
part of it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from htjax.core import cards
from htjax.core.layout import Field, ObservationLayout
from htjax.envs.holdem import rules as R

__all__ = ["observation_layout", "observe"]


@functools.cache
def observation_layout(num_players: int, max_stack_bb: int = 1_000_000) -> ObservationLayout:
    """The observation table for ``num_players`` seats: ``113 + 22 * num_players`` entries.

    Chip amounts are bounded by all the chips at the table, ``num_players * max_stack_bb`` big
    blinds (``max_stack_bb``: the config's static maximum stack).
    """
    p, chips = num_players, float(num_players * max_stack_bb)
    return ObservationLayout(
        (
            Field("hole_cards", 52, 0, 1, "own hole cards, one-hot over card ids (rank*4+suit)"),
            Field("board", 52, 0, 1, "community cards dealt so far, one-hot over card ids"),
            Field("street", 5, 0, 1, "one-hot: preflop, flop, turn, river, hand over"),
            Field("pot", 1, 0, chips, "chips in the pot (all streets, current bets included), big blinds"),
            Field("to_call", 1, 0, chips, "chips the observer needs to call, big blinds"),
            Field(
                "min_raise_to",
                1,
                0,
                2 * chips,
                "largest bet plus the last full raise: the least a full raise goes to, big blinds",
            ),
            Field("my_turn", 1, 0, 1, "1 if the observer is the seat to act"),
            Field("button", p, 0, 1, "one-hot relative seat of the button (0 = observer is the button)"),
            Field("stack", p, 0, chips, "chips behind per relative seat, big blinds"),
            Field("bet", p, 0, chips, "chips committed on this street per relative seat, big blinds"),
            Field("committed", p, 0, chips, "chips committed in the hand per relative seat, big blinds"),
            Field("folded", p, 0, 1, "1 if the relative seat folded or sits out"),
            Field("all_in", p, 0, 1, "1 if the relative seat is all-in"),
            Field(
                "street_chips",
                4 * p,
                0,
                chips,
                "[street, relative seat] chips put in on each street, big blinds",
            ),
            Field(
                "street_actions",
                12 * p,
                0,
                chips,
                "[street, relative seat, (bet/raise, call, check)] action counts",
            ),
        )
    )


def observe(layout: ObservationLayout, table: R.Table, player: jax.Array) -> jax.Array:
    """Seat ``player``'s view of ``table``: ``float32[layout.size]``, chips in the hand's big blinds."""
    t = table
    n = t.stack.shape[-1]
    bb = t.big_blind.astype(jnp.float32)
    seats = jnp.arange(n)
    rel = (player + seats) % n  # relative seat k -> absolute seat
    card_ids = jnp.arange(cards.DECK_SIZE)
    max_bet = jnp.max(t.bet)
    over = t.street == R.HAND_OVER
    live = ~t.folded
    return layout.pack(
        {
            "hole_cards": jnp.any(t.hole[player][:, None] == card_ids, axis=0),
            "board": jnp.any(t.board[:, None] == card_ids, axis=0),
            "street": jnp.arange(5) == t.street,
            "pot": R.pot(t) / bb,
            "to_call": jnp.where(over, 0, max_bet - t.bet[player]) / bb,
            "min_raise_to": jnp.where(over, 0, max_bet + t.last_raise) / bb,
            "my_turn": ~over & (t.to_act == player),
            "button": seats == (t.button - player) % n,
            "stack": t.stack[rel] / bb,
            "bet": t.bet[rel] / bb,
            "committed": t.committed[rel] / bb,
            "folded": t.folded[rel],
            "all_in": (live & (t.stack == 0))[rel],
            "street_chips": t.street_chips[:, rel] / bb,
            "street_actions": t.street_actions[:, rel, :],
        }
    )
