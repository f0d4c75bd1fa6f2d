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

An *infinite deck* (:func:`infinite_deck`, a shoe of no cards) draws every card uniformly with
replacement: ``bits % 52``.

Pre-drawing: a draw plan and a cursor
-------------------------------------
:func:`draw_many` is a ``lax.scan`` that rewrites the shoe once per card. A game step that *may*
take up to ``n`` cards does better with the pre-drawn engine: :func:`predraw` draws the next
``n`` cards at once into a :class:`DrawPlan` (two small gathers and elementwise selects, no pass
over the shoe), the rules take cards from a :class:`Cursor` ("the next card", "the next five",
"one to each seat in the round") without index arithmetic, and :meth:`Cursor.commit` writes the
shoe once, as if only the cards actually taken had been drawn. Draw ``k`` uses ``bits[k]`` and
depends only on the draws before it, so taking ``u`` of ``n`` pre-drawn cards gives exactly the
cards and the shoe of :func:`draw_many` with ``count=u``; the unused draws only reorder the
undealt part of the shoe, later draws stay uniform and replay stays exact. A step that needs
more cards than it pre-drew commits what it took and pre-draws again with the next words
(``random_words(key, m, start=taken)``): the same sequence as one longer plan.

>>> import jax.numpy as jnp
>>> from htjax.core import cards
>>> deck = cards.stacked_deck(["As", "Kd", "7c", "2h"])
>>> plan = cards.predraw(deck, jnp.arange(6, dtype=jnp.uint32))   # up to 6 cards this step
>>> cursor = cards.Cursor(plan)
>>> first, cursor = cursor.next()                  # take the next card
>>> more, cursor = cursor.take(2)                  # ... and the two after it
>>> cards.cards_to_str([first]), cards.cards_to_str(more)
('As', 'Kd 7c')
>>> hit = jnp.bool_(False)                         # a rule decides at run time whether to take one
>>> cursor = cursor.skip(jnp.where(hit, 1, 0), most=1)
>>> deck = cursor.commit(deck)                     # the shoe after the 3 cards taken
>>> int(deck.position)
3

Under ``jit`` the number of cards taken is usually traced; the cursor remembers (statically)
every value it can have, so :meth:`Cursor.peek` reads a window with a few static slices and
selects instead of a gather while that set is small.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.errors import InvalidArgumentError

__all__ = [
    "DECK_SIZE",
    "NO_CARD",
    "NUM_RANKS",
    "NUM_SUITS",
    "RANK_CHARS",
    "SUIT_CHARS",
    "Cursor",
    "Deck",
    "DrawPlan",
    "burn",
    "card_counts",
    "card_to_str",
    "cards_to_str",
    "commit",
    "deal",
    "draw",
    "draw_many",
    "infinite_deck",
    "make_card",
    "new_deck",
    "parse_card",
    "parse_cards",
    "predraw",
    "rank_of",
    "remaining",
    "reshuffle",
    "shuffle",
    "stacked_deck",
    "suit_of",
    "undealt_cards",
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
        raise InvalidArgumentError(f"not a card id: {card} (cards are 0..51, NO_CARD is -1)")
    return RANK_CHARS[card // NUM_SUITS] + SUIT_CHARS[card % NUM_SUITS]


def cards_to_str(cards) -> str:
    return " ".join(card_to_str(c) for c in np.asarray(cards).ravel() if c >= 0)


def parse_card(text: str) -> int:
    """Card id of ``"As"``, ``"td"``, ``"10h"``; raises :class:`InvalidArgumentError` naming bad text."""
    t = text.strip()
    if t[:2] == "10":
        t = "T" + t[2:]
    if len(t) != 2 or t[0].upper() not in RANK_CHARS or t[1].lower() not in SUIT_CHARS:
        raise InvalidArgumentError(
            f"not a card: {text!r} (expected rank {RANK_CHARS} + suit {SUIT_CHARS}, e.g. 'As')"
        )
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

    @property
    def infinite(self) -> bool:
        """An infinite deck (no cards stored): draws are uniform with replacement (static)."""
        return self.size == 0


def new_deck(num_decks: int = 1) -> Deck:
    """A fresh shoe of ``num_decks`` full decks, ready to deal at random (no shuffle needed)."""
    cards = jnp.tile(jnp.arange(DECK_SIZE, dtype=jnp.int8), num_decks)
    return Deck(cards=cards, position=jnp.int32(0), stacked=jnp.int32(0))


def infinite_deck() -> Deck:
    """A deck that never runs out: every draw is uniform over the 52 cards, with replacement."""
    return Deck(cards=jnp.zeros(0, jnp.int8), position=jnp.int32(0), stacked=jnp.int32(0))


def stacked_deck(top: Sequence[int] | Sequence[str], num_decks: int = 1) -> Deck:
    """A shoe whose next cards are ``top`` in this order, then random draws of the rest.

    ``top`` may hold card ids or strings like ``"As"``. Raises :class:`InvalidArgumentError`
    when ``top`` uses a card more often than the shoe holds it.
    """
    ids = [parse_card(c) if isinstance(c, str) else int(c) for c in top]
    counts = np.full(DECK_SIZE, num_decks, np.int64)
    for c in ids:
        if not 0 <= c < DECK_SIZE:
            raise InvalidArgumentError(f"not a card id: {c}")
        counts[c] -= 1
        if counts[c] < 0:
            raise InvalidArgumentError(f"{card_to_str(c)} is stacked more than the {num_decks} deck(s) hold")
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
    if deck.infinite:
        card = (bits.astype(jnp.uint32) % jnp.uint32(DECK_SIZE)).astype(jnp.int8)
        return deck.replace(position=deck.position + 1), card
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


# ============================================================================ pre-drawing
_STATIC_WINDOWS = 4
"""A cursor whose position can take at most this many values reads windows by selects."""


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class DrawPlan:
    """The next ``n`` cards of a shoe, drawn but not yet taken (made by :func:`predraw`).

    Attributes:
      cards: ``int8[n]`` the cards in draw order; ``NO_CARD`` past the end of a finite shoe.
      slot: ``int32[n]`` shoe index of draw ``k`` (``position + k``); ``None`` for an infinite
        deck, as are the fields below (nothing is written back).
      live: ``bool[n]`` draw ``k`` finds a card (``slot < size``).
      target: ``int32[n]`` the shoe index draw ``k`` swaps with ``slot[k]`` (its card).
      offset: ``int32[n]`` ``target - position``.
      at_slot: ``int8[n]`` the card lying at ``slot[k]`` when draw ``k`` happens (it moves to
        ``target[k]``).
      next_same: ``int32[n]`` the next live draw after ``k`` aiming at ``target[k]`` (``n`` if none).
    """

    cards: jax.Array
    slot: jax.Array | None = None
    live: jax.Array | None = None
    target: jax.Array | None = None
    offset: jax.Array | None = None
    at_slot: jax.Array | None = None
    next_same: jax.Array | None = None

    @property
    def size(self) -> int:
        """Number of pre-drawn cards ``n`` (static)."""
        return self.cards.shape[-1]


def predraw(deck: Deck, bits: jax.Array) -> DrawPlan:
    """Draw the next ``len(bits)`` cards of ``deck`` (incremental Fisher-Yates) without moving any.

    ``bits`` is ``uint32[n]``; draw ``k`` uses ``bits[k]`` exactly as :func:`draw` would, so
    ``commit(deck, plan, u)`` equals ``draw_many(deck, bits, u)[0]`` and ``plan.cards[:u]`` its
    cards, for every ``u`` in ``[0, n]``.

    The swap targets depend only on the bits, so the shoe is read with two small gathers (the
    next ``n`` slots and the ``n`` swap targets) and the swaps are resolved elementwise over
    pairs of draws (about ``n**2 / 2`` compares, fused into one pass by XLA): no loop over the
    draws and no pass over the shoe. Keep ``n`` small (a step's worth of cards).
    """
    n = bits.shape[0]
    if deck.infinite:  # with replacement: uniform over the 52 cards
        return DrawPlan(cards=(bits % jnp.uint32(DECK_SIZE)).astype(jnp.int8))
    size = deck.size
    pos = deck.position
    p = pos + jnp.arange(n, dtype=jnp.int32)
    live = p < size  # draws past the end find no card and swap nothing
    left = jnp.maximum(size - p, 1).astype(jnp.uint32)
    j = jnp.where(p < deck.stacked, p, p + (bits % left).astype(jnp.int32))
    jc = jnp.minimum(j, size - 1)
    d = jc - pos  # draw k swaps shoe offsets k and d[k] >= k (from the position on)
    window = deck.cards[jnp.minimum(p, size - 1)]  # the shoe's own cards at offsets 0..n-1
    far = deck.cards[jc]  # ... and at the swap targets
    # Only earlier draws' d-writes can land on offset k or on d[k]: the card at offset k when
    # draw k happens is the card that was at offset e when the last earlier draw e with
    # d[e] == k happened (else the shoe's own card), and the drawn card is likewise the card
    # at offset e for the last earlier e with d[e] == d[k]. The pairs (e < k) are unrolled as
    # elementwise selects.
    dk = [d[k] for k in range(n)]
    at_p: list[jax.Array] = []
    drawn: list[jax.Array] = []
    next_j: list[jax.Array] = []
    for k in range(n):
        a, c = window[k], far[k]
        for e in range(k):
            a = jnp.where(dk[e] == k, at_p[e], a)
            c = jnp.where(dk[e] == dk[k], at_p[e], c)
        at_p.append(a)
        drawn.append(c)
        nxt = jnp.int32(n)
        for e in range(n - 1, k, -1):
            nxt = jnp.where(live[e] & (dk[e] == dk[k]), e, nxt)
        next_j.append(nxt)
    return DrawPlan(
        cards=jnp.where(live, jnp.stack(drawn), jnp.int8(NO_CARD)).astype(jnp.int8),
        slot=p,
        live=live,
        target=jc,
        offset=d,
        at_slot=jnp.stack(at_p).astype(jnp.int8),
        next_same=jnp.stack(next_j),
    )


def commit(deck: Deck, plan: DrawPlan, used: jax.Array | int) -> Deck:
    """``deck`` after the first ``used`` draws of ``plan`` (made from this ``deck``): the swaps of
    those draws written into the shoe in one scatter, ``position`` advanced by ``used``.

    ``used`` may exceed the cards left in a finite shoe (the draws past its end take nothing and
    swap nothing, but ``position`` still counts them, so ``position > size`` tells that a
    caller wanted more cards than the shoe held)."""
    position = deck.position + used
    if plan.slot is None:  # infinite deck: nothing to write
        return deck.replace(position=position)
    n = plan.size
    # After the first `used` draws, offset k < used holds drawn card k, and a target slot
    # beyond them holds what the last draw aiming at it put there; these writes never
    # collide, so one scatter of distinct positions suffices.
    active = (jnp.arange(n) < used) & plan.live
    moved = active & (plan.offset >= used) & (plan.next_same >= used)
    off = deck.size + jnp.arange(2 * n, dtype=jnp.int32)  # distinct out-of-range slots: dropped
    where = jnp.concatenate([jnp.where(active, plan.slot, off[:n]), jnp.where(moved, plan.target, off[n:])])
    values = jnp.concatenate([plan.cards, plan.at_slot]).astype(jnp.int8)
    shoe = deck.cards.at[where].set(values, mode="drop", unique_indices=True)
    return deck.replace(cards=shoe, position=position)


@dataclasses.dataclass(frozen=True)
class Cursor:
    """Where a step is in its :class:`DrawPlan`: rules take "the next card" from it.

    A cursor is a trace-time value (not a pytree): ``taken`` is the number of cards taken so
    far (a Python int while it is static, else a traced ``int32[]``) and ``could_be`` every
    value ``taken`` can have, which keeps reading a window cheap. Past the plan's end every
    card reads ``NO_CARD``. Methods return a new cursor; none moves the shoe until
    :meth:`commit`.
    """

    plan: DrawPlan
    taken: jax.Array | int = 0
    could_be: tuple[int, ...] = (0,)

    def peek(self, n: int) -> jax.Array:
        """``int8[n]``: the next ``n`` cards, not taken."""
        if isinstance(self.taken, int):
            return self._window(self.taken, n)
        if len(self.could_be) <= _STATIC_WINDOWS:
            out = self._window(self.could_be[0], n)
            for c in self.could_be[1:]:
                out = jnp.where(self.taken == c, self._window(c, n), out)
            return out
        cards = self._padded(max(self.could_be) + n)
        return cards[jnp.clip(self.taken + jnp.arange(n), 0, cards.shape[0] - 1)]

    def take(self, n: int) -> tuple[jax.Array, Cursor]:
        """The next ``n`` cards (``int8[n]``), taken."""
        return self.peek(n), self._advance(n, (n,))

    def next(self) -> tuple[jax.Array, Cursor]:
        """The next card (``int8[]``), taken."""
        cards, cursor = self.take(1)
        return cards[0], cursor

    def skip(self, count: jax.Array | int, most: int) -> Cursor:
        """Take ``count`` cards (traced, between 0 and the static ``most``) without reading them."""
        return self._advance(count, tuple(range(most + 1)))

    def deal_to(self, mask: jax.Array) -> tuple[jax.Array, Cursor]:
        """One card to each ``True`` entry of ``mask`` (``bool[m]``), in order: ``int8[m]``
        (entries where ``mask`` is ``False`` hold an arbitrary card, not taken)."""
        m = mask.shape[0]
        order = jnp.cumsum(mask.astype(jnp.int32)) - 1
        cards = self._padded(max(self.could_be) + m)
        got = cards[jnp.clip(self.taken + order, 0, cards.shape[0] - 1)]
        return got, self._advance(jnp.sum(mask.astype(jnp.int32)), tuple(range(m + 1)))

    def commit(self, deck: Deck) -> Deck:
        """``deck`` (the one the plan was drawn from) after the cards taken: see :func:`commit`."""
        return commit(deck, self.plan, self.taken)

    @staticmethod
    def choose(pred: jax.Array, if_true: Cursor, if_false: Cursor) -> Cursor:
        """``if_true`` where ``pred`` holds, else ``if_false`` (cursors of the same plan)."""
        taken = jnp.where(pred, if_true.taken, if_false.taken).astype(jnp.int32)
        return Cursor(if_true.plan, taken, tuple(sorted(set(if_true.could_be) | set(if_false.could_be))))

    # ------------------------------------------------------------------ internals
    def _advance(self, count, steps: tuple[int, ...]) -> Cursor:
        if isinstance(self.taken, int) and isinstance(count, int):
            return Cursor(self.plan, self.taken + count, (self.taken + count,))
        taken = (jnp.asarray(self.taken, jnp.int32) + count).astype(jnp.int32)
        return Cursor(self.plan, taken, tuple(sorted({c + s for c in self.could_be for s in steps})))

    def _padded(self, length: int) -> jax.Array:
        cards = self.plan.cards
        if cards.shape[0] >= length:
            return cards
        return jnp.concatenate([cards, jnp.full(length - cards.shape[0], NO_CARD, jnp.int8)])

    def _window(self, start: int, n: int) -> jax.Array:
        return self._padded(start + n)[start : start + n]
