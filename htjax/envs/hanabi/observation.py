"""Hanabi observation: the Hanabi Learning Environment's canonical encoding, bit for bit.

HLE's ``CanonicalObservationEncoder`` (``hanabi_lib/canonical_encoders.cc``; the vector
OpenSpiel's ``hanabi``, PettingZoo's ``hanabi_v5`` and JaxMARL's agents consume) in its
section order: hands, board, discards, last action, card knowledge. Seats are relative to
the observer (0 = the observer, 1 = the seat on its left, ...); a card's bit is
``color * 5 + rank - 1``. :func:`observation_layout` is the single table of its slices, and the
env's bounds and the docs table (``docs/envs/hanabi.md``) come from it. Size for ``P`` seats and
``H`` slots: ``(P-1)*25*H + P + (50 - P*H) + 25 + 8 + 3 + 50 + (2P + 4 + 10 + 2H + 25 + 2) +
35*P*H`` (658 for two seats).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.layout import Field, ObservationLayout
from htjax.envs.hanabi import rules as R

__all__ = ["observation_layout", "observe"]

_BITS = R.NUM_COLORS * R.NUM_RANKS
# discard section: one slot per card instance, grouped by card id (colour-major, rank-minor)
_DISCARD_CARD = np.repeat(np.arange(_BITS), R.CARD_COUNTS)
_DISCARD_INSTANCE = np.concatenate([np.arange(n) for n in R.CARD_COUNTS])


@functools.cache
def observation_layout(num_players: int) -> ObservationLayout:
    """The canonical encoding's table for ``num_players`` seats (every entry 0 or 1)."""
    p = num_players
    h = R.Rules(p).hand_size
    deck_bits = R.DECK_SIZE - p * h

    def f(name: str, size: int, doc: str) -> Field:
        return Field(name, size, 0, 1, doc)

    return ObservationLayout(
        (
            f(
                "hands",
                (p - 1) * h * _BITS,
                "other seats' cards, seat 1..P-1 then slot, one-hot of colour*5+rank-1",
            ),
            f("missing_card", p, "per relative seat (0 = observer): the hand holds fewer than H cards"),
            f("deck_size", deck_bits, f"cards left in the deck, thermometer (unary) over {deck_bits}"),
            f("fireworks", _BITS, "per colour (R, Y, G, W, B): one-hot of its highest card played"),
            f("info_tokens", R.MAX_INFO, "information tokens, thermometer"),
            f("life_tokens", R.MAX_LIVES, "life tokens, thermometer"),
            f("discards", R.DECK_SIZE, "per colour and rank, thermometer over its copies (3,2,2,2,1)"),
            f("last_player", p, "last move: relative seat that made it, one-hot"),
            f("last_move_type", 4, "last move: play, discard, colour hint, rank hint"),
            f("last_target", p, "last move (hint): relative seat hinted, one-hot"),
            f("last_color", R.NUM_COLORS, "last move (colour hint): colour, one-hot"),
            f("last_rank", R.NUM_RANKS, "last move (rank hint): rank, one-hot"),
            f("last_reveal", h, "last move (hint): slots of the target's hand it revealed"),
            f("last_slot", h, "last move (play or discard): slot, one-hot"),
            f("last_card", _BITS, "last move (play or discard): the card, one-hot"),
            f("last_play", 2, "last move (play): the card scored; it gained an information token"),
            f(
                "card_knowledge",
                p * h * (_BITS + 10),
                "per relative seat and slot: 25 plausible colour*5+rank-1, hinted colour (5), hinted rank (5)",
            ),
        )
    )


def observe(layout: ObservationLayout, board: R.Board, player: jax.Array) -> jax.Array:
    """Seat ``player``'s view: ``bool[layout.size]`` (HLE's 0/1 entries as booleans: a quarter of
    the memory traffic of ``float32``, which at 8,192 worlds bounds a step's speed; networks and
    ONNX policies cast observations to ``float32`` anyway)."""
    b = board
    p, h = b.hands.shape
    rel = (player + jnp.arange(p)) % p  # relative seat k -> absolute seat
    bits = jnp.arange(_BITS)
    values = jnp.arange(R.NUM_COLORS)
    hands = b.hands[rel].astype(jnp.int32)  # [P, H] observer first
    cards_onehot = hands[1:, :, None] == bits  # NO_CARD matches nothing
    deck_left = R.DECK_SIZE - b.deck.position
    kind = b.last_kind
    moved = kind >= 0
    hint = kind >= R.HINT_COLOR
    leaves = (kind == R.PLAY) | (kind == R.DISCARD)
    plausible = b.color_plausible[rel][..., :, None] & b.rank_plausible[rel][..., None, :]  # [P,H,5,5]
    knowledge = jnp.concatenate(
        [plausible.reshape(p, h, _BITS), b.color_hinted[rel], b.rank_hinted[rel]], axis=-1
    )
    seats = jnp.arange(p)
    return layout.pack(
        {
            "hands": cards_onehot,
            "missing_card": hands[:, -1] < 0,
            "deck_size": jnp.arange(R.DECK_SIZE - p * h) < deck_left,
            "fireworks": (b.fireworks[:, None] - 1) == values,
            "info_tokens": jnp.arange(R.MAX_INFO) < b.info_tokens,
            "life_tokens": jnp.arange(R.MAX_LIVES) < b.life_tokens,
            "discards": b.discards[_DISCARD_CARD] > _DISCARD_INSTANCE,
            "last_player": moved & (seats == (b.last_player - player) % p),
            "last_move_type": jnp.arange(4) == kind,
            "last_target": hint & (seats == (b.last_target - player) % p),
            "last_color": (kind == R.HINT_COLOR) & (values == b.last_value),
            "last_rank": (kind == R.HINT_RANK) & (values == b.last_value),
            "last_reveal": b.last_reveal & hint,
            "last_slot": leaves & (jnp.arange(h) == b.last_slot),
            "last_card": leaves & (bits == b.last_card),
            "last_play": (kind == R.PLAY) & jnp.stack([b.last_scored, b.last_info]),
            "card_knowledge": knowledge,
        },
        jnp.bool_,
    )
