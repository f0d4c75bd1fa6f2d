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


# ---------------------------------------------------------------------------- the encoding
# Every bit before ``card_knowledge`` is one test of one integer feature of the board (a card id,
# a count, a seat, a flag): ``lo <= x < hi``, where ``x`` is the feature (a seat made relative to
# the observer where ``relative``), and the last move's kind in ``[kind_lo, kind_hi)`` (the bits
# that only a play, a hint, ... sets). The tables, one entry per bit, are numpy constants built
# once per seat count, field by field in layout order, so the whole encoding compiles to one
# gather-and-compare rather than a dozen small programs (docs/envs/hanabi.md, Performance).
_BIG = 1 << 20
_ANY_KIND = (-_BIG, _BIG)
_MOVED, _LEAVES, _PLAYED = (0, _BIG), (R.PLAY, R.DISCARD + 1), (R.PLAY, R.PLAY + 1)
_HINT, _COLOR_HINT, _RANK_HINT = (R.HINT_COLOR, _BIG), (R.HINT_COLOR, R.HINT_COLOR + 1), (R.HINT_RANK, _BIG)


def _features(p: int, h: int) -> dict[str, tuple[int, int]]:
    """Feature name -> (offset, size) in the ``int32`` vector that :func:`observe` gathers from:
    the board's arrays, concatenated (``hands`` rotated so row 0 is the observer's)."""
    sizes = {"hands": p * h, "deck_position": 1, "fireworks": R.NUM_COLORS, "discards": _BITS}
    sizes |= {"counters": len(R.COUNTERS), "last": len(R.LAST), "last_reveal": h}
    out, at = {}, 0
    for name, size in sizes.items():
        out[name] = (at, size)
        at += size
    return out


@functools.cache
def _tests(num_players: int) -> dict[str, np.ndarray]:
    """The per-bit tables (``int32[n]`` each: ``index``, ``lo``, ``hi``, ``relative``,
    ``kind_lo``, ``kind_hi``) for every entry of the layout before ``card_knowledge``."""
    p = num_players
    h = R.Rules(p).hand_size
    feats = _features(p, h)

    def at(name: str, i=None) -> np.ndarray:
        offset, size = feats[name]
        return offset + (np.arange(size) if i is None else np.atleast_1d(i))

    def test(entries, lo, hi, kinds=_ANY_KIND, relative=False):
        entries, lo, hi = np.broadcast_arrays(entries, lo, hi)
        n = entries.size
        return {
            "index": entries.ravel(),
            "lo": lo.ravel(),
            "hi": hi.ravel(),
            "relative": np.full(n, relative),
            "kind_lo": np.full(n, kinds[0]),
            "kind_hi": np.full(n, kinds[1]),
        }

    def one_hot(entries, values, kinds=_ANY_KIND, relative=False):  # per entry, per value
        e, v = np.meshgrid(entries, np.asarray(values), indexing="ij")
        return test(e, v, v + 1, kinds, relative)

    def thermometer(entry, n):  # bit i: feature > i
        return test(entry, np.arange(1, n + 1), _BIG)

    counters, last = dict(zip(R.COUNTERS, at("counters"))), dict(zip(R.LAST, at("last")))
    others = at("hands")[h:]  # seats 1..P-1, then slot
    deck_bits = R.DECK_SIZE - p * h
    tests = {
        "hands": one_hot(others, np.arange(_BITS)),
        "missing_card": test(at("hands")[h - 1 :: h], -_BIG, 0),
        # bit i: more than i cards left, i.e. position < 50 - i
        "deck_size": test(at("deck_position"), -_BIG, R.DECK_SIZE - np.arange(deck_bits)),
        "fireworks": one_hot(at("fireworks"), np.arange(1, R.NUM_RANKS + 1)),  # n played = rank n on top
        "info_tokens": thermometer(counters["info_tokens"], R.MAX_INFO),
        "life_tokens": thermometer(counters["life_tokens"], R.MAX_LIVES),
        "discards": test(at("discards")[_DISCARD_CARD], _DISCARD_INSTANCE + 1, _BIG),
        "last_player": one_hot(last["last_player"], np.arange(p), _MOVED, relative=True),
        "last_move_type": one_hot(last["last_kind"], np.arange(4)),
        "last_target": one_hot(last["last_target"], np.arange(p), _HINT, relative=True),
        "last_color": one_hot(last["last_value"], np.arange(R.NUM_COLORS), _COLOR_HINT),
        "last_rank": one_hot(last["last_value"], np.arange(R.NUM_RANKS), _RANK_HINT),
        "last_reveal": test(at("last_reveal"), 1, _BIG, _HINT),
        "last_slot": one_hot(last["last_slot"], np.arange(h), _LEAVES),
        "last_card": one_hot(last["last_card"], np.arange(_BITS), _LEAVES),
        "last_play": test(np.asarray([last["last_scored"], last["last_info"]]), 1, _BIG, _PLAYED),
    }
    layout = observation_layout(p)
    assert list(tests) + ["card_knowledge"] == list(layout.names), "encoding and layout disagree"
    for field in layout.fields[:-1]:
        assert tests[field.name]["index"].size == field.size, field.name
    return {k: np.concatenate([t[k] for t in tests.values()]).astype(np.int32) for k in tests["hands"]}


def observe(layout: ObservationLayout, board: R.Board, player: jax.Array) -> jax.Array:
    """Seat ``player``'s view: ``bool[layout.size]`` (HLE's 0/1 entries as booleans: a quarter of
    the memory traffic of ``float32``, which at 8,192 worlds bounds a step's speed; networks and
    ONNX policies cast observations to ``float32`` anyway)."""
    b = board
    p, h = b.hands.shape
    rel = (player + jnp.arange(p)) % p  # relative seat k -> absolute seat
    parts = {
        "hands": b.hands[rel],
        "deck_position": b.deck.position,
        "fireworks": b.fireworks,
        "discards": b.discards,
        "counters": b.counters,
        "last": b.last,
        "last_reveal": b.last_reveal,
    }
    assert [(n, jnp.size(x)) for n, x in parts.items()] == [(n, k) for n, (_, k) in _features(p, h).items()]
    features = jnp.concatenate([jnp.asarray(x).astype(jnp.int32).reshape(-1) for x in parts.values()])
    t = _tests(p)
    x = features[t["index"]]
    x = jnp.where(t["relative"] == 1, (x - player) % p, x)
    kind = b.last_kind
    bits = (t["lo"] <= x) & (x < t["hi"]) & (t["kind_lo"] <= kind) & (kind < t["kind_hi"])
    # card knowledge: bit fields (rules.KNOWLEDGE) as bits, then the 25 plausible cards from the
    # plausible colours and ranks (this order of work runs six times faster than testing each of
    # the 35 entries against its bits), then the hinted colour and rank as they are
    k = (b.knowledge[rel][..., None] & (1 << np.arange(4 * R.NUM_COLORS))) != 0  # [P, H, 20]
    plausible = k[..., 0:5, None] & k[..., None, 5:10]  # [P, H, 5, 5]: colour * 5 + rank
    knowledge = jnp.concatenate([plausible.reshape(p, h, _BITS), k[..., 10:]], axis=-1)
    return jnp.concatenate([bits, knowledge.reshape(-1)])
