"""Hanabi rules as pure functions over a :class:`Board` (no RL notions here).

The rules are those of the Hanabi Learning Environment (HLE, ``hanabi_lib/hanabi_state.cc``),
which OpenSpiel's ``hanabi`` and PettingZoo's ``hanabi_v5`` run:

* Cards: five colours (``COLORS``: red, yellow, green, white, blue) and ranks 1..5, three 1s,
  two each of 2, 3, 4 and one 5 per colour: 50 cards. A card id is ``color * 5 + rank - 1``
  (HLE's card index), ``NO_CARD = -1`` an empty slot.
* Deal: ``hand_size`` = 5 with 2-3 players, 4 with 4-5; seat 0 receives the first
  ``hand_size`` cards of the deck, seat 1 the next, and so on; seat 0 moves first.
* A hand keeps its order: a played or discarded card leaves its slot, the cards to its right
  move one slot left and the replacement (if the deck has one) goes to the last slot.
* Moves: *discard* a slot (only with fewer than 8 information tokens; gains one), *play* a
  slot (it extends its colour's firework when its rank is the next one, else it is discarded
  and a life is lost; completing a firework with its 5 returns an information token, if below
  8), *hint a colour* or *a rank* to another seat (costs a token; only a value that the
  target's hand holds; every matching card is revealed and every other card learns it is not
  that value: the negative information HLE tracks as plausible colours and ranks).
* The game ends when the last life is lost, when all fireworks are complete (25), or when,
  after the deck ran out, every seat has had one more turn (HLE's ``turns_to_play``).
* Score: the sum of the fireworks, **0 once every life is lost** (HLE's ``Score()``).

Everything is vectorised over seats, slots and values (no Python loop over cards at run time).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.errors import InvalidArgumentError

__all__ = [
    "CARD_COUNTS",
    "COLORS",
    "COUNTERS",
    "FRESH_CARD",
    "KNOWLEDGE",
    "LAST",
    "DECK_SIZE",
    "DISCARD",
    "HINT_COLOR",
    "HINT_RANK",
    "MAX_INFO",
    "MAX_LIVES",
    "MAX_SCORE",
    "NO_CARD",
    "NUM_COLORS",
    "NUM_RANKS",
    "PLAY",
    "RANK_COUNTS",
    "Board",
    "Rules",
    "act",
    "card_str",
    "div5",
    "fresh_deck",
    "knowledge_bits",
    "legal_moves",
    "mod5",
    "parse_card",
    "score",
    "stacked_deck",
    "start",
]

NUM_COLORS, NUM_RANKS = 5, 5
COLORS = ("red", "yellow", "green", "white", "blue")
COLOR_CHARS = "RYGWB"
RANK_COUNTS = (3, 2, 2, 2, 1)
CARD_COUNTS = np.tile(np.asarray(RANK_COUNTS), NUM_COLORS)  # per card id
DECK_SIZE = int(CARD_COUNTS.sum())  # 50
MAX_INFO, MAX_LIVES = 8, 3
MAX_SCORE = NUM_COLORS * NUM_RANKS  # 25
NO_CARD = -1

# move kinds, in HLE's last-move order (play, discard, reveal colour, reveal rank)
PLAY, DISCARD, HINT_COLOR, HINT_RANK = range(4)
NO_MOVE = -1


@dataclasses.dataclass(frozen=True)
class Rules:
    """Static rules (hashable): seats and hand size.

    Moves are numbered as HLE numbers them: ``discard slot i`` = ``i``, ``play slot i`` =
    ``H + i``, then the colour hints ``2H + (offset - 1) * 5 + color`` for each target
    ``offset`` 1..P-1 seats to the mover's left, then the rank hints
    ``2H + 5(P - 1) + (offset - 1) * 5 + rank``.
    """

    num_players: int

    @property
    def hand_size(self) -> int:
        return 5 if self.num_players < 4 else 4

    @property
    def num_moves(self) -> int:
        return 2 * self.hand_size + 2 * NUM_COLORS * (self.num_players - 1)


# Board packing: a few arrays rather than one per quantity. Every array is one more output of a
# compiled step (and of a batch's keep-or-step select), so this packing halves what XLA compiles
# (docs/envs/hanabi.md, Performance); the properties below give every quantity its name back.
COUNTERS = ("info_tokens", "life_tokens", "turns_to_play", "to_act")
LAST = (
    "last_player",
    "last_kind",
    "last_target",
    "last_value",
    "last_slot",
    "last_card",
    "last_scored",
    "last_info",
)
# card knowledge: one int32 of bit fields per card, 5 bits per group in this order (bit 5g + v)
KNOWLEDGE = ("color_plausible", "rank_plausible", "color_hinted", "rank_hinted")
FRESH_CARD = (1 << 2 * NUM_COLORS) - 1  # a card just dealt: every colour and rank plausible


def knowledge_bits(knowledge, group: int):
    """``bool[..., 5]``: group ``group`` (an index of ``KNOWLEDGE``) of knowledge bit fields
    (``int32[...]``, host or traced values)."""
    return (knowledge[..., None] >> (NUM_COLORS * group + np.arange(NUM_COLORS))) & 1 == 1


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Board:
    """The state of one game; ``P`` seats, ``H`` hand slots.

    Attributes:
      deck: the deck (:class:`htjax.core.cards.Deck` over Hanabi card ids 0..24); ``deck.cards[:
        deck.position]`` are the cards dealt so far, in deal order.
      hands: ``int8[P, H]`` card ids, ``NO_CARD`` in empty slots (only once the deck is out;
        empty slots are always the last ones).
      knowledge: ``int32[P, H]`` HLE's card knowledge as bit fields, four groups of 5 bits
        (``KNOWLEDGE``; as ``bool[P, H, 5]`` properties): ``color_plausible``,
        ``rank_plausible`` (the colours / ranks each card may still have given the hints; none
        for an empty slot), ``color_hinted``, ``rank_hinted`` (the colour / rank a hint revealed).
      fireworks: ``int32[5]`` cards played per colour.
      discards: ``int32[25]`` discarded (or misplayed) cards per card id.
      counters: ``int32[4]`` (names as properties): ``info_tokens``, ``life_tokens``,
        ``turns_to_play`` (HLE's counter: starts at ``P`` and drops at every move made with an
        empty deck; the game ends at 0), ``to_act`` (seat to move).
      last: ``int32[8]`` the last move (HLE's history item; names as properties): ``last_player``
        (seat, -1 before any move), ``last_kind`` (``PLAY``..``HINT_RANK`` or -1),
        ``last_target`` (hinted seat), ``last_value`` (hinted colour or rank), ``last_slot`` and
        ``last_card`` (card played or discarded), ``last_scored`` (1: a play that extended a
        firework), ``last_info`` (1: the move gained a token); -1 where the move has no such part.
      last_reveal: ``bool[H]`` slots the last hint matched.

    Build one with :func:`start` and change named quantities with :meth:`with_values`.
    """

    deck: cards.Deck
    hands: jax.Array
    knowledge: jax.Array
    fireworks: jax.Array
    discards: jax.Array
    counters: jax.Array
    last: jax.Array
    last_reveal: jax.Array

    info_tokens = property(lambda b: b.counters[..., 0])
    life_tokens = property(lambda b: b.counters[..., 1])
    turns_to_play = property(lambda b: b.counters[..., 2])
    to_act = property(lambda b: b.counters[..., 3])
    last_player = property(lambda b: b.last[..., 0])
    last_kind = property(lambda b: b.last[..., 1])
    last_target = property(lambda b: b.last[..., 2])
    last_value = property(lambda b: b.last[..., 3])
    last_slot = property(lambda b: b.last[..., 4])
    last_card = property(lambda b: b.last[..., 5])
    last_scored = property(lambda b: b.last[..., 6] > 0)
    last_info = property(lambda b: b.last[..., 7] > 0)
    color_plausible = property(lambda b: knowledge_bits(b.knowledge, 0))
    rank_plausible = property(lambda b: knowledge_bits(b.knowledge, 1))
    color_hinted = property(lambda b: knowledge_bits(b.knowledge, 2))
    rank_hinted = property(lambda b: knowledge_bits(b.knowledge, 3))

    def with_values(self, **values) -> Board:
        """A copy with the named quantities replaced: any field, or a name of ``counters``,
        ``last`` or ``knowledge`` (``info_tokens=jnp.int32(5)``, ``color_hinted=...``)."""
        fields = {k: v for k, v in values.items() if k not in COUNTERS + LAST + KNOWLEDGE}
        counters, last, knowledge = (jnp.asarray(x) for x in (self.counters, self.last, self.knowledge))
        for i, name in enumerate(COUNTERS):
            if name in values:
                counters = counters.at[..., i].set(jnp.asarray(values[name], jnp.int32))
        for i, name in enumerate(LAST):
            if name in values:
                last = last.at[..., i].set(jnp.asarray(values[name], jnp.int32))
        for i, name in enumerate(KNOWLEDGE):
            if name in values:
                bits = jnp.asarray(values[name], jnp.int32) << (NUM_COLORS * i + jnp.arange(NUM_COLORS))
                knowledge = (knowledge & ~(0x1F << NUM_COLORS * i)) | jnp.sum(bits, axis=-1)
        return self.replace(counters=counters, last=last, knowledge=knowledge, **fields)


# ---------------------------------------------------------------------------- cards
def card_str(card: int) -> str:
    """``"R1"`` for red 1, ``"--"`` for ``NO_CARD``."""
    card = int(card)
    if card < 0:
        return "--"
    return f"{COLOR_CHARS[card // NUM_RANKS]}{card % NUM_RANKS + 1}"


def parse_card(text: str | int) -> int:
    """Card id of ``"R1"`` .. ``"B5"`` (or an int id 0..24)."""
    if isinstance(text, (int, np.integer)):
        if not 0 <= int(text) < NUM_COLORS * NUM_RANKS:
            raise InvalidArgumentError(f"not a Hanabi card id (0..24): {text!r}")
        return int(text)
    t = str(text).strip().upper()
    if len(t) != 2 or t[0] not in COLOR_CHARS or t[1] not in "12345":
        raise InvalidArgumentError(f"not a Hanabi card: {text!r} (expected e.g. 'R1', 'B5')")
    return COLOR_CHARS.index(t[0]) * NUM_RANKS + int(t[1]) - 1


def fresh_deck() -> cards.Deck:
    """The 50 cards, ready to deal at random (incremental Fisher-Yates: no shuffle needed)."""
    ids = np.repeat(np.arange(NUM_COLORS * NUM_RANKS), CARD_COUNTS).astype(np.int8)
    return cards.Deck(cards=jnp.asarray(ids), position=jnp.int32(0), stacked=jnp.int32(0))


def stacked_deck(order: Sequence[str | int]) -> cards.Deck:
    """A deck that deals ``order`` first (seat 0's hand, seat 1's, ..., then the draws), then the
    rest at random. Raises :class:`InvalidArgumentError` for a card used more often than the
    deck holds it."""
    ids = [parse_card(c) for c in order]
    counts = CARD_COUNTS.copy()
    for c in ids:
        counts[c] -= 1
        if counts[c] < 0:
            raise InvalidArgumentError(
                f"{card_str(c)} appears more than the {CARD_COUNTS[c]} times the deck holds it"
            )
    rest = np.repeat(np.arange(NUM_COLORS * NUM_RANKS), counts)
    deck = np.concatenate([np.asarray(ids, np.int64), rest]).astype(np.int8)
    return cards.Deck(cards=jnp.asarray(deck), position=jnp.int32(0), stacked=jnp.int32(len(ids)))


# ---------------------------------------------------------------------------- rules
def score(board: Board) -> jax.Array:
    """``int32[]``: the fireworks' sum, 0 once every life is lost (HLE)."""
    return jnp.where(board.life_tokens > 0, jnp.sum(board.fireworks), 0).astype(jnp.int32)


def is_over(board: Board) -> jax.Array:
    """``bool[]``: no life left, all fireworks complete, or the last round after the deck ran out."""
    return (board.life_tokens <= 0) | (jnp.sum(board.fireworks) >= MAX_SCORE) | (board.turns_to_play <= 0)


def start(rules: Rules, deck: cards.Deck, words: jax.Array) -> Board:
    """Deal ``H`` cards to each seat from ``deck`` (``words``: ``uint32[P * H]``, one per card)."""
    p, h = rules.num_players, rules.hand_size
    # a scan of single draws (the same cards as cards.predraw would give): as fast here and
    # compiled in a third of the time of the predraw's unrolled pairs of draws
    deck, dealt = cards.draw_many(deck, words[: p * h])
    hands = dealt.reshape(p, h).astype(jnp.int8)
    return Board(
        deck=deck,
        hands=hands,
        knowledge=jnp.full((p, h), FRESH_CARD, jnp.int32),
        fireworks=jnp.zeros(NUM_COLORS, jnp.int32),
        discards=jnp.zeros(NUM_COLORS * NUM_RANKS, jnp.int32),
        counters=jnp.asarray([MAX_INFO, MAX_LIVES, p, 0], jnp.int32),  # COUNTERS
        last=jnp.asarray([-1, NO_MOVE, -1, -1, -1, NO_CARD, 0, 0], jnp.int32),  # LAST
        last_reveal=jnp.zeros(h, jnp.bool_),
    )


def decode(rules: Rules, move: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(kind, slot or target offset, colour or rank)`` of move ``move`` (see :class:`Rules`)."""
    h, p = rules.hand_size, rules.num_players
    hint = move - 2 * h
    per_kind = NUM_COLORS * (p - 1)
    kind = jnp.where(
        move < h, DISCARD, jnp.where(move < 2 * h, PLAY, jnp.where(hint < per_kind, HINT_COLOR, HINT_RANK))
    )
    h_index = jnp.where(hint < per_kind, hint, hint - per_kind)
    h_index = jnp.maximum(h_index, 0)  # (only read for hints)
    where = jnp.where(move < h, move, jnp.where(move < 2 * h, move - h, 1 + div5(h_index)))
    value = jnp.where(kind >= HINT_COLOR, mod5(h_index), -1)
    return kind.astype(jnp.int32), where.astype(jnp.int32), value.astype(jnp.int32)


def div5(x: jax.Array) -> jax.Array:
    """``x // 5`` (a card's colour, ``NUM_RANKS == 5``) for ``-1 <= x < 25`` as a multiply and a
    shift. XLA compiles an integer division into a program of its own (it does not fuse it into
    its users): with a dozen in a step, that was a tenth of the compile time."""
    return (x * 13) >> 6


def mod5(x: jax.Array) -> jax.Array:
    """``x % 5`` (a card's rank index) for ``-1 <= x < 25`` (see :func:`div5`)."""
    return x - NUM_RANKS * div5(x)


_CHECK = np.arange(-1, NUM_COLORS * NUM_RANKS)
assert NUM_RANKS == 5 and (div5(_CHECK) == _CHECK // 5).all() and (mod5(_CHECK) == _CHECK % 5).all()


def legal_moves(rules: Rules, board: Board) -> jax.Array:
    """``bool[num_moves]``: the moves the seat to act may make (HLE's ``MoveIsLegal``)."""
    p, h = rules.num_players, rules.hand_size
    hands = board.hands[(board.to_act + jnp.arange(p)) % p].astype(jnp.int32)  # [P, H] mover first
    valid = hands >= 0
    values = jnp.arange(NUM_COLORS)
    has_color = jnp.any(valid[..., None] & (div5(hands)[..., None] == values), axis=1)  # [P, 5]
    has_rank = jnp.any(valid[..., None] & (mod5(hands)[..., None] == values), axis=1)
    own = jnp.zeros(NUM_COLORS, jnp.bool_).at[:h].set(valid[0])  # slots, padded to 5 columns
    can_hint = board.info_tokens > 0
    # rows of 5: discard by slot, play by slot, colour hints per offset, rank hints per offset
    # (rows of five rather than one long vector: XLA's CPU backend compiles it in a fraction)
    grid = jnp.concatenate(
        [
            (own & (board.info_tokens < MAX_INFO))[None],
            own[None],
            has_color[1:] & can_hint,
            has_rank[1:] & can_hint,
        ]
    )
    return grid.reshape(-1) if h == NUM_COLORS else grid.reshape(-1)[_move_cells(p, h)]


@functools.cache
def _move_cells(p: int, h: int) -> np.ndarray:
    """Where each move id sits in :func:`legal_moves`' grid of rows of five."""
    slots = [r * NUM_COLORS + i for r in range(2) for i in range(h)]
    return np.asarray(slots + list(range(2 * NUM_COLORS, 2 * NUM_COLORS * p)), np.int32)


def _pack(values: Sequence[jax.Array]) -> jax.Array:
    """``int32[len(values)]`` of scalars. Selected entry by entry rather than stacked: a batch's
    stack is a concatenation along the minor axis, which XLA's CPU backend lays out transposed and
    compiles into several times the code."""
    at = jnp.arange(len(values))
    out = jnp.zeros(len(values), jnp.int32)
    for i, v in enumerate(values):
        out = jnp.where(at == i, jnp.asarray(v, jnp.int32), out)
    return out


def _shift_out(x: jax.Array, slot: jax.Array, new: jax.Array) -> jax.Array:
    """Remove ``x[:, slot]`` (axis 1 = slots), move the later slots left, put ``new`` last."""
    h = x.shape[1]
    shifted = jnp.concatenate([x[:, 1:], new[:, None]], axis=1)
    idx = jnp.arange(h).reshape((1, h) + (1,) * (x.ndim - 2))
    return jnp.where(idx < slot, x, shifted)


def act(rules: Rules, board: Board, move: jax.Array, word: jax.Array) -> Board:
    """Apply legal ``move`` of the seat to act; ``word`` (``uint32[]``) draws the replacement card.

    Every kind's effect is computed elementwise and the move's kind selects it (no branch)."""
    p = rules.num_players
    b = board
    kind, where, value = decode(rules, move)
    me = b.to_act
    is_play, is_discard = kind == PLAY, kind == DISCARD
    leaves = is_play | is_discard
    slot = jnp.where(leaves, where, 0)
    card = b.hands[me, slot].astype(jnp.int32)
    deck, drawn = cards.draw(b.deck, word)
    target = (me + where) % p
    seats = jnp.arange(p)
    turns = jnp.where(cards.remaining(b.deck) <= 0, b.turns_to_play - 1, b.turns_to_play)

    # ---- play / discard: the card leaves slot `slot` of my hand
    color, rank = div5(card), mod5(card)
    fits = b.fireworks[color] == rank
    scored = is_play & fits
    misplay = is_play & ~fits
    completes = scored & (rank == NUM_RANKS - 1)
    gain = is_discard | completes
    info_gained = gain & (b.info_tokens < MAX_INFO)
    fireworks = b.fireworks + (scored & (jnp.arange(NUM_COLORS) == color)).astype(jnp.int32)
    to_pile = is_discard | misplay
    discards = b.discards + (to_pile & (jnp.arange(NUM_COLORS * NUM_RANKS) == card)).astype(jnp.int32)
    new_deck = jax.tree_util.tree_map(lambda a, c: jnp.where(leaves, a, c), deck, b.deck)
    has_new = drawn >= 0
    mine = (seats == me)[:, None]  # rows of my hand
    row = mine & leaves
    new_cards = jnp.full(p, drawn, jnp.int8)
    hands = jnp.where(row, _shift_out(b.hands, slot, new_cards), b.hands)
    fresh = jnp.full(p, jnp.where(has_new, FRESH_CARD, 0), jnp.int32)
    knowledge = jnp.where(row, _shift_out(b.knowledge, slot, fresh), b.knowledge)

    # ---- hints: every card of the target's hand learns whether it has `value`
    is_hint = kind >= HINT_COLOR
    by_color = kind == HINT_COLOR
    hand = b.hands.astype(jnp.int32)
    attr = jnp.where(by_color, div5(hand), mod5(hand))
    valid = b.hands >= 0
    in_target = (seats == target)[:, None] & valid & is_hint  # [P, H]
    match = in_target & (attr == value)
    # the bit of `value` in the group the hint narrows (plausible colours or ranks), the group,
    # and the same in the group it reveals (hinted colour or rank), 10 bits up
    bit = 1 << (jnp.where(by_color, 0, NUM_COLORS) + jnp.maximum(value, 0))
    group = jnp.where(by_color, 0x1F, 0x1F << NUM_COLORS)
    revealed = (knowledge & (~group | bit) & ~(group << 10)) | (bit << 10)
    knowledge = jnp.where(match, revealed, jnp.where(in_target, knowledge & ~bit, knowledge))
    reveal = match[jnp.clip(target, 0, p - 1)]

    info = b.info_tokens + info_gained.astype(jnp.int32) - is_hint.astype(jnp.int32)
    lives = b.life_tokens - misplay.astype(jnp.int32)
    return b.replace(
        deck=new_deck,
        hands=hands,
        knowledge=knowledge,
        fireworks=fireworks,
        discards=discards,
        counters=_pack([info, lives, turns, (me + 1) % p]),  # COUNTERS
        last=_pack(  # LAST
            [
                me,
                kind,
                jnp.where(is_hint, target, -1),
                jnp.where(is_hint, value, -1),
                jnp.where(leaves, slot, -1),
                jnp.where(leaves, card, NO_CARD),
                scored.astype(jnp.int32),
                info_gained,
            ]
        ),
        last_reveal=reveal & is_hint,
    )
