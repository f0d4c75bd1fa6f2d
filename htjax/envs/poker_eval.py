"""Poker hand evaluation in pure JAX: best five of five to seven cards, vectorised.

Cards use :mod:`htjax.core.cards` ids (``rank * 4 + suit``, rank 0..12 = 2..A). A hand's *value*
is an ``int32`` that orders hands totally: higher is better, and two hands have equal values
exactly when they tie. The value packs the category and what decides within it::

    value = category << 21 | major << 17 | minor << 13 | kickers

with ``category`` 0 (high card) .. 8 (straight flush); ``major``/``minor`` the ranks of the
made hand (quads, trips and pair of a full house, the two pairs, a straight's top card: 3 for
the wheel ``A-2-3-4-5``, so the wheel loses to the six-high straight); ``kickers`` the 13-bit
mask of the other ranks that play (all five for a flush or high card). Comparing two sets of
distinct ranks highest-first is comparing their bit masks as integers, so no sorting is needed.

The method has no lookup tables and no per-hand Python: a rank histogram and 13-bit rank masks
(of the whole hand, of pairs, trips and quads, of the flush suit), straights by shifting and
and-ing the mask (the ace also counts below the 2), made-hand ranks read off masks with
count-leading-zeros and kickers by clearing the lowest bits of a mask. Every
operation is elementwise, so ``evaluate`` works on any batch shape and under ``vmap``/``jit``.
Verified against ``phevaluator`` (``scripts/verify_evaluator.py``, ``tests/test_poker_eval.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from htjax.core.cards import NUM_RANKS, NUM_SUITS

__all__ = [
    "CATEGORY_NAMES",
    "CATEGORY_SHIFT",
    "FLUSH",
    "FULL_HOUSE",
    "HIGH_CARD",
    "PAIR",
    "QUADS",
    "STRAIGHT",
    "STRAIGHT_FLUSH",
    "TRIPS",
    "TWO_PAIR",
    "category_name",
    "evaluate",
    "evaluate5",
    "evaluate7",
    "evaluate_best",
    "hand_category",
]

HIGH_CARD, PAIR, TWO_PAIR, TRIPS, STRAIGHT, FLUSH, FULL_HOUSE, QUADS, STRAIGHT_FLUSH = range(9)
CATEGORY_NAMES = (
    "high card",
    "pair",
    "two pair",
    "three of a kind",
    "straight",
    "flush",
    "full house",
    "four of a kind",
    "straight flush",
)
CATEGORY_SHIFT = 21
_MAJOR_SHIFT = 17
_MINOR_SHIFT = 13
_ALL_RANKS = (1 << NUM_RANKS) - 1


def _top_bit(mask: jax.Array) -> jax.Array:
    """Index of the highest set bit of ``mask`` (``int32``); -1 for an empty mask."""
    return 31 - jax.lax.clz(mask)


def _clear(mask: jax.Array, rank: jax.Array) -> jax.Array:
    return mask & ~jnp.left_shift(1, jnp.maximum(rank, 0))


def _keep_top(mask: jax.Array, count: int, spare: int = 2) -> jax.Array:
    """``mask`` with only its ``count`` highest bits, given it has at most ``count + spare``."""
    for _ in range(spare):
        mask = jnp.where(jax.lax.population_count(mask) > count, mask & (mask - 1), mask)
    return mask


def _straight_top(mask: jax.Array) -> jax.Array:
    """Top rank (3 = five-high wheel .. 12 = ace-high) of the best straight in ``mask``, or -1."""
    # bit 0 = ace played low, bit i + 1 = rank i
    low = (mask << 1) | ((mask >> (NUM_RANKS - 1)) & 1)
    runs = low & (low >> 1) & (low >> 2) & (low >> 3) & (low >> 4)
    start = _top_bit(runs)  # lowest bit of the best run of five
    return jnp.where(start >= 0, start + 3, -1)


def _pack(category: int, major=0, minor=0, kickers=0) -> jax.Array:
    return (
        (jnp.int32(category) << CATEGORY_SHIFT)
        | (jnp.maximum(major, 0) << _MAJOR_SHIFT)
        | (jnp.maximum(minor, 0) << _MINOR_SHIFT)
        | kickers
    )


def evaluate(cards: jax.Array) -> jax.Array:
    """Value of the best five-card hand within ``cards``.

    Args:
      cards: ``int[..., n]`` card ids, ``5 <= n <= 7``; ``NO_CARD`` (-1) entries are ignored,
        so a hand with fewer than five real cards gets the value of the cards it has (used only
        for unfinished boards, never compared at a showdown).

    Returns:
      ``int32[...]``: higher is better; equal iff the hands tie.
    """
    cards = jnp.asarray(cards).astype(jnp.int32)
    if not 1 <= cards.shape[-1] <= 7:
        raise ValueError(f"evaluate expects 1 to 7 cards on the last axis, got shape {tuple(cards.shape)}")
    valid = cards >= 0
    rank = jnp.where(valid, cards // NUM_SUITS, -1)
    suit = jnp.where(valid, cards % NUM_SUITS, -1)
    counts = jnp.sum(rank[..., :, None] == jnp.arange(NUM_RANKS), axis=-2, dtype=jnp.int32)  # [..., 13]
    powers = jnp.left_shift(1, jnp.arange(NUM_RANKS, dtype=jnp.int32))

    def mask_of(flags):
        return jnp.sum(jnp.where(flags, powers, 0), axis=-1, dtype=jnp.int32)

    present = mask_of(counts >= 1)
    pairs = mask_of(counts >= 2)
    trips = mask_of(counts >= 3)
    quads = mask_of(counts >= 4)

    suit_counts = jnp.sum(suit[..., :, None] == jnp.arange(NUM_SUITS), axis=-2, dtype=jnp.int32)
    flush_suit = jnp.argmax(suit_counts, axis=-1)
    has_flush = jnp.max(suit_counts, axis=-1) >= 5
    in_flush = has_flush[..., None] & (suit == flush_suit[..., None])
    # cards are distinct, so the sum of their rank bits is their union
    flush_mask = jnp.sum(jnp.where(in_flush, jnp.left_shift(1, jnp.maximum(rank, 0)), 0), axis=-1)

    straight_flush_top = _straight_top(flush_mask)
    straight_top = _straight_top(present)
    q = _top_bit(quads)
    t = _top_bit(trips)
    fh_pair = _top_bit(_clear(pairs, t))  # may be a second set of trips
    p1 = _top_bit(pairs)
    p2 = _top_bit(_clear(pairs, p1))

    candidates = [
        (straight_flush_top >= 0, _pack(STRAIGHT_FLUSH, straight_flush_top)),
        (q >= 0, _pack(QUADS, q, kickers=_keep_top(_clear(present, q), 1))),
        ((t >= 0) & (fh_pair >= 0), _pack(FULL_HOUSE, t, fh_pair)),
        (has_flush, _pack(FLUSH, kickers=_keep_top(flush_mask, 5))),
        (straight_top >= 0, _pack(STRAIGHT, straight_top)),
        (t >= 0, _pack(TRIPS, t, kickers=_keep_top(_clear(present, t), 2))),
        (p2 >= 0, _pack(TWO_PAIR, p1, p2, _keep_top(_clear(_clear(present, p1), p2), 1))),
        (p1 >= 0, _pack(PAIR, p1, kickers=_keep_top(_clear(present, p1), 3))),
    ]
    value = _pack(HIGH_CARD, kickers=_keep_top(present, 5))
    for condition, candidate in reversed(candidates):
        value = jnp.where(condition, candidate, value)
    return value


def evaluate7(cards: jax.Array) -> jax.Array:
    """Value of the best hand of seven cards: ``int[..., 7] -> int32[...]``."""
    if cards.shape[-1] != 7:
        raise ValueError(f"evaluate7 expects cards of shape [..., 7], got {tuple(cards.shape)}")
    return evaluate(cards)


def evaluate5(cards: jax.Array) -> jax.Array:
    """Value of a five-card hand: ``int[..., 5] -> int32[...]``."""
    if cards.shape[-1] != 5:
        raise ValueError(f"evaluate5 expects cards of shape [..., 5], got {tuple(cards.shape)}")
    return evaluate(cards)


def evaluate_best(hole: jax.Array, board: jax.Array) -> jax.Array:
    """Value of hole cards ``int[..., h]`` with a board ``int[..., b]`` (``h + b >= 5``)."""
    hole, board = jnp.asarray(hole), jnp.asarray(board)
    board = jnp.broadcast_to(board, hole.shape[:-1] + board.shape[-1:])
    return evaluate(jnp.concatenate([hole.astype(jnp.int32), board.astype(jnp.int32)], axis=-1))


def hand_category(value: jax.Array) -> jax.Array:
    """Category of a hand value: ``int32``, 0 (high card) .. 8 (straight flush)."""
    return jnp.asarray(value, jnp.int32) >> CATEGORY_SHIFT


def category_name(value: int) -> str:
    """Name of the category of a concrete hand value, e.g. ``"full house"``."""
    return CATEGORY_NAMES[int(value) >> CATEGORY_SHIFT]
