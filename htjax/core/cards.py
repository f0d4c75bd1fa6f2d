"""Playing cards as pure JAX: encoding, decks and shoes, shuffle, draw, deal and burn.

Encoding
--------
A card is an ``int8`` in ``[0, 52)``: ``card = rank * 4 + suit`` with ``rank`` 0..12 for
2, 3, ..., 10, J, Q, K, A and ``suit`` 0..3 for clubs, diamonds, hearts, spades (the order of
most poker evaluators). ``NO_CARD = -1`` marks an empty slot. Text form: ``"As"``, ``"Td"``.

Decks
-----
A :class:`Deck` holds a fixed-size array of cards (one or more 52-card decks: a *shoe*), the
number already drawn, and how many of the next cards are *stacked* (dealt in their stored
order, for hand-built positions). Drawing is an **incremental Fisher-Yates shuffle**: each draw
swaps a uniformly chosen undealt card into the next position, so

* a new or reshuffled deck costs nothing (no permutation is computed up front; reshuffling is
  ``position = 0``), and
* each draw consumes one ``uint32`` of random bits, so a step that may draw up to ``K`` cards
  draws ``jax.random.bits(key, (K,))`` once instead of splitting a key per card.

Uniformity: ``bits % remaining`` has a modulo bias below ``remaining / 2**32`` (under 1e-7 for
a 6-deck shoe), far below anything a statistical test or a learner can see.
"""

from __future__ import annotations

from typing import Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "NUM_RANKS",
    "NUM_SUITS",
    "DECK_SIZE",
    "NO_CARD",
    "RANK_CHARS",
    "SUIT_CHARS",
    "rank_of",
    "suit_of",
    "make_card",
    "card_to_str",
    "cards_to_str",
    "parse_card",
    "parse_cards",
    "Deck",
    "new_deck",
    "stacked_deck",
    "remaining",
    "reshuffle",
    "shuffle",
    "draw",
    "draw_many",
    "burn",
    "deal",
    "undealt_cards",
    "card_counts",
]

NUM_RANKS = 13
NUM_SUITS = 4
DECK_SIZE = 52
NO_CARD = -1
RANK_CHARS = "23456789TJQKA"
SUIT_CHARS = "cdhs"


def rank_of(card: jax.Array) -> jax.Array:
    """Rank 0..12 (2..A) of ``card``; ``NO_CARD`` gives -1."""
    card = jnp.asarray(card)
    return jnp.where(card >= 0, card // NUM_SUITS, -1)


def suit_of(card: jax.Array) -> jax.Array:
    """Suit 0..3 (c, d, h, s) of ``card``; ``NO_CARD`` gives -1."""
    card = jnp.asarray(card)
    return jnp.where(card >= 0, card % NUM_SUITS, -1)


def make_card(rank, suit) -> jax.Array:
    return jnp.asarray(rank) * NUM_SUITS + jnp.asarray(suit)


def card_to_str(card: int) -> str:
    """``"As"`` for the ace of spades, ``"--"`` for ``NO_CARD``."""
    card = int(card)
    if card < 0:
        return "--"
    if card >= DECK_SIZE:
        raise ValueError(f"not a card id: {card} (cards are 0..51, NO_CARD is -1)")
    return RANK_CHARS[card // NUM_SUITS] + SUIT_CHARS[card % NUM_SUITS]


def cards_to_str(cards) -> str:
    return " ".join(card_to_str(c) for c in np.asarray(cards).ravel() if c >= 0)


def parse_card(text: str) -> int:
    """Card id of ``"As"``, ``"td"``, ``"10h"``; raises ``ValueError`` naming bad text."""
    t = text.strip()
    if t[:2] == "10":
        t = "T" + t[2:]
    if len(t) != 2 or t[0].upper() not in RANK_CHARS or t[1].lower() not in SUIT_CHARS:
        raise ValueError(f"not a card: {text!r} (expected rank {RANK_CHARS} + suit {SUIT_CHARS}, e.g. 'As')")
    return RANK_CHARS.index(t[0].upper()) * NUM_SUITS + SUIT_CHARS.index(t[1].lower())


def parse_cards(text: str | Sequence[str]) -> list[int]:
    items = text.split() if isinstance(text, str) else list(text)
    return [parse_card(c) for c in items]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Deck:
    """A shoe of cards with incremental Fisher-Yates drawing.

    Attributes:
      cards: ``int8[size]``; ``cards[:position]`` have been dealt (in deal order), the rest are
        undealt in no meaningful order, except ``cards[position:stacked]`` which are dealt next,
        in order.
      position: ``int32[]`` number of cards dealt so far.
      stacked: ``int32[]`` index up to which cards are dealt in stored order (0 for a random deck).
    """

    cards: jax.Array
    position: jax.Array
    stacked: jax.Array

    @property
    def size(self) -> int:
        return self.cards.shape[-1]


def new_deck(num_decks: int = 1) -> Deck:
    """A fresh shoe of ``num_decks`` full decks, ready to deal at random (no shuffle needed)."""
    cards = jnp.tile(jnp.arange(DECK_SIZE, dtype=jnp.int8), num_decks)
    return Deck(cards=cards, position=jnp.int32(0), stacked=jnp.int32(0))


def stacked_deck(top: Sequence[int] | Sequence[str], num_decks: int = 1) -> Deck:
    """A shoe whose next cards are ``top`` in this order, then random draws of the rest.

    ``top`` may hold card ids or strings like ``"As"``. Raises ``ValueError`` when ``top``
    uses a card more often than the shoe holds it.
    """
    ids = [parse_card(c) if isinstance(c, str) else int(c) for c in top]
    counts = np.full(DECK_SIZE, num_decks, np.int64)
    for c in ids:
        if not 0 <= c < DECK_SIZE:
            raise ValueError(f"not a card id: {c}")
        counts[c] -= 1
        if counts[c] < 0:
            raise ValueError(f"{card_to_str(c)} is stacked more than the {num_decks} deck(s) hold")
    rest = np.repeat(np.arange(DECK_SIZE), counts)
    cards = np.concatenate([np.asarray(ids, np.int64), rest]).astype(np.int8)
    return Deck(cards=jnp.asarray(cards), position=jnp.int32(0), stacked=jnp.int32(len(ids)))


def remaining(deck: Deck) -> jax.Array:
    """Number of undealt cards, ``int32[]``."""
    return deck.size - deck.position


def reshuffle(deck: Deck) -> Deck:
    """Collect every card back into the shoe and shuffle (free: the next draws are uniform)."""
    return deck.replace(position=jnp.zeros_like(deck.position), stacked=jnp.zeros_like(deck.stacked))


def shuffle(deck: Deck, key: jax.Array) -> Deck:
    """Explicitly permute the undealt cards (not needed before drawing; for display or export)."""
    idx = jnp.arange(deck.size)
    undealt = idx >= jnp.maximum(deck.position, deck.stacked)
    # dealt and stacked cards keep their places; undealt ones sort after them at random
    sort_key = jnp.where(undealt, jax.random.uniform(key, (deck.size,)), (idx - deck.size) / deck.size)
    order = jnp.argsort(sort_key)
    return deck.replace(cards=deck.cards[order])


def draw(deck: Deck, bits: jax.Array) -> tuple[Deck, jax.Array]:
    """Deal one card using one ``uint32`` of random bits.

    Returns the new deck and the card (``int8[]``), or ``NO_CARD`` if the deck is empty (the
    deck is then unchanged).
    """
    pos = deck.position
    left = deck.size - pos
    has_card = left > 0
    offset = (bits.astype(jnp.uint32) % jnp.maximum(left, 1).astype(jnp.uint32)).astype(jnp.int32)
    j = jnp.where(pos < deck.stacked, pos, pos + offset)
    safe_pos = jnp.minimum(pos, deck.size - 1)
    safe_j = jnp.minimum(j, deck.size - 1)
    card = deck.cards[safe_j]
    swapped = deck.cards.at[safe_j].set(deck.cards[safe_pos]).at[safe_pos].set(card)
    new = deck.replace(
        cards=jnp.where(has_card, swapped, deck.cards),
        position=jnp.where(has_card, pos + 1, pos),
    )
    return new, jnp.where(has_card, card, jnp.int8(NO_CARD)).astype(jnp.int8)


def draw_many(deck: Deck, bits: jax.Array, count: jax.Array | int | None = None) -> tuple[Deck, jax.Array]:
    """Deal up to ``len(bits)`` cards; only the first ``count`` are dealt (default all).

    Returns the deck and ``int8[len(bits)]`` cards, ``NO_CARD`` past ``count``.
    """
    n = bits.shape[0]
    count = n if count is None else count

    def body(d, inputs):
        i, b = inputs
        d2, c = draw(d, b)
        take = i < count
        d = jax.tree_util.tree_map(lambda x, y: jnp.where(take, x, y), d2, d)
        return d, jnp.where(take, c, jnp.int8(NO_CARD))

    deck, cards = jax.lax.scan(body, deck, (jnp.arange(n), bits))
    return deck, cards


def burn(deck: Deck, bits: jax.Array, count: jax.Array | int | None = None) -> Deck:
    """Discard up to ``len(bits)`` cards face down (the first ``count``)."""
    return draw_many(deck, bits, count)[0]


def deal(deck: Deck, bits: jax.Array, num_hands: int, cards_each: int) -> tuple[Deck, jax.Array]:
    """Deal ``cards_each`` cards to ``num_hands`` hands, one at a time round the table.

    ``bits`` is ``uint32[num_hands * cards_each]``. Returns ``int8[num_hands, cards_each]``.
    """
    deck, cards = draw_many(deck, bits[: num_hands * cards_each])
    return deck, cards.reshape(cards_each, num_hands).T


def undealt_cards(deck: Deck) -> jax.Array:
    """``int8[size]``: undealt cards, ``NO_CARD`` where dealt (order is meaningless)."""
    return jnp.where(jnp.arange(deck.size) >= deck.position, deck.cards, jnp.int8(NO_CARD))


def card_counts(cards: jax.Array) -> jax.Array:
    """``int32[52]``: how many times each card id occurs in ``cards`` (``NO_CARD`` ignored)."""
    cards = jnp.asarray(cards).ravel()
    return jnp.zeros(DECK_SIZE, jnp.int32).at[jnp.where(cards >= 0, cards, DECK_SIZE)].add(1, mode="drop")
