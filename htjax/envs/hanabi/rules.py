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
    "fresh_deck",
    "legal_moves",
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


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Board:
    """The state of one game; ``P`` seats, ``H`` hand slots.

    Attributes:
      deck: the deck (:class:`htjax.core.cards.Deck` over Hanabi card ids 0..24); ``deck.cards[:
        deck.position]`` are the cards dealt so far, in deal order.
      hands: ``int8[P, H]`` card ids, ``NO_CARD`` in empty slots (only once the deck is out;
        empty slots are always the last ones).
      color_plausible, rank_plausible: ``bool[P, H, 5]`` the colours / ranks each card may still
        have given the hints (HLE's card knowledge; all False for an empty slot).
      color_hinted, rank_hinted: ``bool[P, H, 5]`` one-hot of the colour / rank a hint revealed.
      fireworks: ``int32[5]`` cards played per colour.
      discards: ``int32[25]`` discarded (or misplayed) cards per card id.
      info_tokens, life_tokens: ``int32[]``.
      turns_to_play: ``int32[]`` HLE's counter: starts at ``P`` and drops at every move made
        with an empty deck; the game ends at 0.
      to_act: ``int32[]`` seat to move.
      last_*: the last move (HLE's history item): ``last_player`` (seat, -1 before any move),
        ``last_kind`` (``PLAY``..``HINT_RANK`` or -1), ``last_target`` (hinted seat),
        ``last_value`` (hinted colour or rank), ``last_reveal`` (``bool[H]`` slots a hint
        matched), ``last_slot`` and ``last_card`` (card played or discarded), ``last_scored``
        (a play that extended a firework), ``last_info`` (the move gained a token).
    """

    deck: cards.Deck
    hands: jax.Array
    color_plausible: jax.Array
    rank_plausible: jax.Array
    color_hinted: jax.Array
    rank_hinted: jax.Array
    fireworks: jax.Array
    discards: jax.Array
    info_tokens: jax.Array
    life_tokens: jax.Array
    turns_to_play: jax.Array
    to_act: jax.Array
    last_player: jax.Array
    last_kind: jax.Array
    last_target: jax.Array
    last_value: jax.Array
    last_reveal: jax.Array
    last_slot: jax.Array
    last_card: jax.Array
    last_scored: jax.Array
    last_info: jax.Array


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
    full = jnp.ones((p, h, NUM_COLORS), jnp.bool_)
    none = jnp.zeros((p, h, NUM_COLORS), jnp.bool_)
    return Board(
        deck=deck,
        hands=hands,
        color_plausible=full,
        rank_plausible=full,
        color_hinted=none,
        rank_hinted=none,
        fireworks=jnp.zeros(NUM_COLORS, jnp.int32),
        discards=jnp.zeros(NUM_COLORS * NUM_RANKS, jnp.int32),
        info_tokens=jnp.int32(MAX_INFO),
        life_tokens=jnp.int32(MAX_LIVES),
        turns_to_play=jnp.int32(p),
        to_act=jnp.int32(0),
        last_player=jnp.int32(-1),
        last_kind=jnp.int32(NO_MOVE),
        last_target=jnp.int32(-1),
        last_value=jnp.int32(-1),
        last_reveal=jnp.zeros(h, jnp.bool_),
        last_slot=jnp.int32(-1),
        last_card=jnp.int32(NO_CARD),
        last_scored=jnp.bool_(False),
        last_info=jnp.bool_(False),
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
    where = jnp.where(move < h, move, jnp.where(move < 2 * h, move - h, 1 + h_index // NUM_COLORS))
    value = jnp.where(kind >= HINT_COLOR, h_index % NUM_COLORS, -1)
    return kind.astype(jnp.int32), where.astype(jnp.int32), value.astype(jnp.int32)


def legal_moves(rules: Rules, board: Board) -> jax.Array:
    """``bool[num_moves]``: the moves the seat to act may make (HLE's ``MoveIsLegal``)."""
    p = rules.num_players
    own = board.hands[board.to_act] >= 0
    discard = own & (board.info_tokens < MAX_INFO)
    others = board.hands[(board.to_act + jnp.arange(1, p)) % p]  # [P-1, H] by offset
    valid = others >= 0
    values = jnp.arange(NUM_COLORS)
    has_color = jnp.any(valid[..., None] & (others[..., None] // NUM_RANKS == values), axis=1)
    has_rank = jnp.any(valid[..., None] & (others[..., None] % NUM_RANKS == values), axis=1)
    can_hint = board.info_tokens > 0
    return jnp.concatenate(
        [discard, own, (has_color & can_hint).reshape(-1), (has_rank & can_hint).reshape(-1)]
    )


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
    seats = jnp.arange(p)
    is_play, is_discard = kind == PLAY, kind == DISCARD
    leaves = is_play | is_discard
    turns = jnp.where(cards.remaining(b.deck) <= 0, b.turns_to_play - 1, b.turns_to_play)

    # ---- play / discard: the card leaves slot `where` of my hand
    slot = jnp.where(leaves, where, 0)
    card = b.hands[me, slot].astype(jnp.int32)
    color, rank = card // NUM_RANKS, card % NUM_RANKS
    fits = b.fireworks[color] == rank
    scored = is_play & fits
    misplay = is_play & ~fits
    completes = scored & (rank == NUM_RANKS - 1)
    gain = is_discard | completes
    info_gained = gain & (b.info_tokens < MAX_INFO)
    fireworks = b.fireworks + (scored & (jnp.arange(NUM_COLORS) == color)).astype(jnp.int32)
    to_pile = is_discard | misplay
    discards = b.discards + (to_pile & (jnp.arange(NUM_COLORS * NUM_RANKS) == card)).astype(jnp.int32)
    deck, drawn = cards.draw(b.deck, word)
    new_deck = jax.tree_util.tree_map(lambda a, c: jnp.where(leaves, a, c), deck, b.deck)
    has_new = drawn >= 0
    mine = (seats == me)[:, None]  # rows of my hand
    row = mine & leaves
    new_cards = jnp.full(p, drawn, jnp.int8)
    hands = jnp.where(row, _shift_out(b.hands, slot, new_cards), b.hands)
    fresh = jnp.broadcast_to(has_new, (p, NUM_COLORS))
    blank = jnp.zeros((p, NUM_COLORS), jnp.bool_)
    row3 = row[..., None]
    color_plausible = jnp.where(row3, _shift_out(b.color_plausible, slot, fresh), b.color_plausible)
    rank_plausible = jnp.where(row3, _shift_out(b.rank_plausible, slot, fresh), b.rank_plausible)
    color_hinted = jnp.where(row3, _shift_out(b.color_hinted, slot, blank), b.color_hinted)
    rank_hinted = jnp.where(row3, _shift_out(b.rank_hinted, slot, blank), b.rank_hinted)

    # ---- hints: every card of the target's hand learns whether it has `value`
    is_hint = kind >= HINT_COLOR
    by_color = kind == HINT_COLOR
    target = (me + where) % p
    hand = b.hands.astype(jnp.int32)
    attr = jnp.where(by_color, hand // NUM_RANKS, hand % NUM_RANKS)
    valid = b.hands >= 0
    in_target = (seats == target)[:, None] & valid & is_hint  # [P, H]
    match = in_target & (attr == value)
    onehot = jnp.arange(NUM_COLORS) == value  # [5]
    told = in_target[..., None]
    learned = jnp.where(match[..., None], onehot, ~onehot)  # plausible values after the hint
    hint_c, hint_r = told & by_color, told & ~by_color
    color_plausible = jnp.where(hint_c, color_plausible & learned, color_plausible)
    rank_plausible = jnp.where(hint_r, rank_plausible & learned, rank_plausible)
    color_hinted = jnp.where(hint_c & match[..., None], onehot, color_hinted)
    rank_hinted = jnp.where(hint_r & match[..., None], onehot, rank_hinted)
    reveal = match[jnp.clip(target, 0, p - 1)]

    info = b.info_tokens + info_gained.astype(jnp.int32) - is_hint.astype(jnp.int32)
    return b.replace(
        deck=new_deck,
        hands=hands,
        color_plausible=color_plausible,
        rank_plausible=rank_plausible,
        color_hinted=color_hinted,
        rank_hinted=rank_hinted,
        fireworks=fireworks,
        discards=discards,
        info_tokens=info,
        life_tokens=b.life_tokens - misplay.astype(jnp.int32),
        turns_to_play=turns,
        to_act=(me + 1) % p,
        last_player=me,
        last_kind=kind,
        last_target=jnp.where(is_hint, target, -1),
        last_value=jnp.where(is_hint, value, -1),
        last_reveal=reveal & is_hint,
        last_slot=jnp.where(leaves, slot, -1),
        last_card=jnp.where(leaves, card, NO_CARD),
        last_scored=scored,
        last_info=info_gained,
    )
