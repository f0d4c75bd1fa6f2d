"""Cuttle's rules as pure functions over a :class:`Board` (no RL notions: seats, not agents).

Every card has a *zone* and an *owner*; the few scalars say whose turn and which phase it is.
Moves are in :mod:`htjax.envs.cuttle.moves`; this module holds the board, the deal, what the
board implies (who controls which card, points, goals, protection) and the legal moves.

Zones: ``DECK`` (in the order of ``Board.slot``: slot ``pos`` is the top), ``HAND`` (of ``owner``), ``POINT``
(a point card on the field of ``owner``, who played it), ``ROYAL`` (an 8 as glasses, a Q or a K
on the field of ``owner``), ``ATTACHED`` (a jack on a point card or a joker on a royal,
``attach_to`` naming it, ``stamp`` ordering a stack of them), ``SCRAP``, ``REVEALED`` (shown by
a 7, still on top of the deck), ``STACK`` (a one-off and the 2s countering it) and ``OUT``
(the jokers in a two-player game).

Control: a card on a field is controlled by the controller of the *top* card attached to it
(the last jack or joker played on it), else by its owner. A jack or joker with nothing on it is
controlled by its owner (whoever played it); in cutthroat a joker may steal a jack or the other
joker too, so control follows the chain (a point card, a jack on it, a joker on the jack, the
other joker on that one).
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.indexing import pick
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle.config import Variant

__all__ = [
    "BLOCKS",
    "PLAY_GROUPS",
    "Board",
    "Facts",
    "deal",
    "facts",
    "legal_mask",
    "legal_parts",
    "points",
    "winner",
]

DECK, HAND, POINT, ROYAL, ATTACHED, SCRAP, REVEALED, STACK, OUT = range(9)
ZONE_NAMES = ("deck", "hand", "point", "royal", "attached", "scrap", "revealed", "stack", "out")
MAIN, COUNTER, DISCARD4, DISCARD5, CHOOSE3, SEVEN = range(6)
PHASE_NAMES = ("main", "counter", "discard_four", "discard_five", "choose_three", "seven")
NUM_PHASES = 6
N = A.NUM_CARDS
IDS = np.arange(N, dtype=np.int32)
VALUE = jnp.asarray(A.VALUE)
POINTS_OF = jnp.asarray(A.POINTS_OF)
ATTACHERS = (40, 41, 42, 43, 52, 53)  # the jacks and the jokers


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Board:
    """One game of Cuttle (all ``int32``).

    Attributes:
      zone, owner, attach_to, stamp: ``[54]`` per card: zone (module constants), owner seat
        (-1 in the deck), the card it is attached to (-1), and when it was attached.
      clock: ``[]`` the next attachment stamp.
      slot: ``[54]`` each card's place in the shuffled deck (-1 for a joker out of the game); the
        cards with ``slot >= pos`` are still in the deck, slot ``pos`` on top. (Places, not an
        order array: every deck operation is then elementwise, with no sort, gather or scatter.)
      pos: ``[]`` cards taken off the top so far.
      frozen: ``[P]`` per seat, the card a 9 returned that it may not play this turn (-1).
      phase, turn, actor: ``[]`` the phase, whose turn it is, who must act now.
      pending, target: ``[]`` the one-off on the stack and its target (a card, or for a 4 a seat).
      last: ``[]`` who played the top card of the stack (a one-off or a 2).
      counters, declines: ``[]`` 2s played on the stack; seats that declined to counter since.
      discards: ``[]`` cards still to discard for a 4.
      passes: ``[]`` consecutive passes.
      winner: ``[]`` the winning seat, -1 while none (and in a drawn game).
      over: ``bool[]`` the game ended by its rules (a win or three passes).
    """

    zone: jax.Array
    owner: jax.Array
    attach_to: jax.Array
    stamp: jax.Array
    clock: jax.Array
    slot: jax.Array
    pos: jax.Array
    frozen: jax.Array
    phase: jax.Array
    turn: jax.Array
    actor: jax.Array
    pending: jax.Array
    target: jax.Array
    last: jax.Array
    counters: jax.Array
    declines: jax.Array
    discards: jax.Array
    passes: jax.Array
    winner: jax.Array
    over: jax.Array


def _i32(x) -> jax.Array:
    return jnp.asarray(x, jnp.int32)


def deal(rules: Variant, slot: jax.Array) -> Board:
    """The board after the deal from the shuffled deck ``slot`` (``int32[54]``: each card's
    place, a permutation of ``0..num_cards-1`` over the variant's cards, -1 for the others):
    seat 0 (the dealer) gets the first ``hand_sizes[0]`` places, seat 1 the next ones, ...; seat
    1 moves first."""
    slot = _i32(slot)
    sizes = np.cumsum(rules.hand_sizes)
    dealt = int(sizes[-1])
    owner = jnp.sum(slot[:, None] >= jnp.asarray(sizes)[None, :], axis=1).astype(jnp.int32)
    in_deck = slot >= 0
    zone = jnp.where(in_deck, jnp.where(slot < dealt, HAND, DECK), OUT)
    p = rules.num_players
    return Board(
        zone=zone.astype(jnp.int32),
        owner=jnp.where(in_deck & (slot < dealt), owner, -1),
        # derived from the zone (never attached at the deal) rather than a constant, so that XLA
        # does not constant-fold the control computation over a whole batch at init
        attach_to=jnp.where(zone == ATTACHED, 0, -1).astype(jnp.int32),
        stamp=jnp.zeros(N, jnp.int32),
        clock=_i32(0),
        slot=slot,
        pos=_i32(dealt),
        frozen=jnp.full(p, -1, jnp.int32),
        phase=_i32(MAIN),
        turn=_i32(1 % p),
        actor=_i32(1 % p),
        pending=_i32(-1),
        target=_i32(-1),
        last=_i32(-1),
        counters=_i32(0),
        declines=_i32(0),
        discards=_i32(0),
        passes=_i32(0),
        winner=_i32(-1),
        over=jnp.bool_(False),
    )


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Facts:
    """What a board implies (derived, never stored).

    Attributes:
      control: ``int32[54]`` the seat controlling each card on a field (its owner elsewhere).
      top: ``bool[54]`` the card is a jack or joker on top of its stack (a target for 2s and 9s).
      points, kings, queens, glasses, hand: ``int32[P]`` per seat.
      goal: ``int32[P]`` points each seat needs to win (its kings lower it).
      protected: ``bool[54]`` a queen of the card's controller shields it from targeting.
    """

    control: jax.Array
    top: jax.Array
    points: jax.Array
    kings: jax.Array
    queens: jax.Array
    glasses: jax.Array
    hand: jax.Array
    goal: jax.Array
    protected: jax.Array


def _depth(rules: Variant) -> int:
    """How many cards can be stacked on a field card: a jack (or a joker on a royal), then with
    the jokers a joker on that jack and the other joker on that joker."""
    return 3 if rules.num_cards > 52 else 1


def facts(rules: Variant, b: Board) -> Facts:
    # only jacks and jokers are ever attached: [6, 54] tables over them, no scatter or sort
    att = jnp.concatenate([b.zone[ATTACHERS[0] : ATTACHERS[0] + 4], b.zone[52:54]]) == ATTACHED
    base = jnp.concatenate([b.attach_to[40:44], b.attach_to[52:54]])
    stamp = jnp.concatenate([b.stamp[40:44], b.stamp[52:54]])
    on = att[:, None] & (base[:, None] == jnp.asarray(IDS)[None, :])  # [attacher, base card]
    latest = jnp.max(jnp.where(on, stamp[:, None], -1), axis=0)
    is_top = on & (stamp[:, None] == latest[None, :])  # stamps are unique
    control = b.owner
    for _ in range(_depth(rules)):  # a joker may sit on a jack, or on the other joker: follow the chain
        by = jnp.concatenate([control[40:44], control[52:54]])
        taken_by = jnp.max(jnp.where(is_top, by[:, None], -1), axis=0)
        control = jnp.where(taken_by >= 0, taken_by, b.owner)
    top_att = jnp.any(is_top, axis=1)
    top = jnp.concatenate([jnp.zeros(40, bool), top_att[:4], jnp.zeros(8, bool), top_att[4:]])
    seats = jnp.arange(rules.num_players, dtype=jnp.int32)[:, None]
    mine = control[None, :] == seats  # [P, 54]
    royal = b.zone == ROYAL
    per_seat = [  # [P, 54] each, summed in one reduction
        jnp.where(mine & (b.zone == POINT), POINTS_OF, 0),
        mine & royal & (VALUE == A.KING),
        mine & royal & (VALUE == A.QUEEN),
        mine & royal & (VALUE == A.EIGHT),
        (b.owner[None, :] == seats) & (b.zone == HAND),
    ]
    pts, kings, queens, glasses, hand = jnp.sum(_rows_table(per_seat, jnp.int32), axis=-1)
    goal = jnp.asarray(rules.goals, jnp.int32)[jnp.minimum(kings, 4)]
    is_queen = royal & (VALUE == A.QUEEN)
    protected = (queens[jnp.clip(control, 0, rules.num_players - 1)] - is_queen) > 0
    return Facts(
        control=control,
        top=top,
        points=pts.astype(jnp.int32),
        kings=kings.astype(jnp.int32),
        queens=queens.astype(jnp.int32),
        glasses=glasses.astype(jnp.int32),
        hand=hand.astype(jnp.int32),
        goal=goal,
        protected=protected,
    )


def points(rules: Variant, b: Board) -> jax.Array:
    """``int32[P]``: points on each seat's field (the point cards it controls)."""
    return facts(rules, b).points


def deck_size(rules: Variant, b: Board) -> jax.Array:
    """``int32[]``: cards in the deck (revealed cards of a 7 not counted)."""
    return rules.num_cards - b.pos - jnp.sum(b.zone == REVEALED)


def winner(rules: Variant, b: Board, f: Facts) -> jax.Array:
    """``int32[]``: the first seat from the turn player on whose points reach its goal, else -1."""
    p = rules.num_players
    order = (b.turn + jnp.arange(p)) % p
    reached = (f.points >= f.goal)[order]
    return jnp.where(jnp.any(reached), order[jnp.argmax(reached)], -1).astype(jnp.int32)


def targets(rules: Variant, b: Board, f: Facts) -> jax.Array:
    """``bool[7, 54]``: per target class (:mod:`~htjax.envs.cuttle.actions` ``T_*``), which
    cards (or, for seats, which offsets) the actor may target now."""
    return jnp.stack(_target_rows(rules, b, f))


def _target_rows(rules: Variant, b: Board, f: Facts) -> list[jax.Array]:
    theirs = (f.control != b.actor) & (f.control >= 0)
    open_ = theirs & ~f.protected
    point = b.zone == POINT
    permanent = (b.zone == ROYAL) | f.top
    destroy = permanent & open_
    nine = destroy | (point & open_) if rules.nine_points else destroy
    joker = permanent & open_  # any royal: a glasses eight, queen, king, top jack, the other joker
    offsets = jnp.asarray(IDS)
    seat = (offsets >= 1) & (offsets < rules.num_players)
    if rules.strict_oneoffs:  # a 4 only at an opponent holding a card
        seat = seat & (pick(f.hand, (b.actor + offsets) % rules.num_players) > 0)
    return [jnp.ones(N, bool), point & theirs, destroy, nine, point & open_, joker, seat]


def _play_groups() -> list[tuple[int, int, np.ndarray, np.ndarray, bool]]:
    """The play kinds' actions grouped by ``(kind, target class)``: ``(kind, tclass, cards
    bool[54], targets bool[54], triangle)``; every card of a group pairs with every target of
    it (except itself), except in a ``triangle`` group (scuttle), where card ``c`` pairs with the
    targets ``t < c``."""
    groups: dict[tuple[int, int], set] = {}
    for kind, card, target, tclass in A.ACTIONS:
        if kind in A.PLAY_KINDS:
            groups.setdefault((kind, tclass), set()).add((max(card, 0), max(target, 0)))
    out = []
    for (kind, tclass), pairs in groups.items():
        cards, tgts = np.zeros(N, bool), np.zeros(N, bool)
        cards[[c for c, _ in pairs]] = True
        tgts[[t for _, t in pairs]] = True
        # a card is never both played and a target (one is in a hand or revealed, the other on
        # a field), so the missing (c, c) pairs of the jokers' group change nothing
        full = len(pairs | {(c, c) for c, _ in pairs if tgts[c]}) == cards.sum() * tgts.sum()
        triangle = pairs == {(c, t) for c in np.flatnonzero(cards) for t in np.flatnonzero(tgts) if t < c}
        assert full or triangle, (kind, tclass)
        out.append((kind, tclass, cards, tgts, not full))
    return out


PLAY_GROUPS = _play_groups()


def _rows_table(rows: list[jax.Array], dtype) -> jax.Array:
    """``[len(rows), ...]``: the rows as one array built by selects (a stack is a kernel per row
    on XLA:CPU, and the compile time grows with the kernels)."""
    sel = jnp.arange(len(rows)).reshape((-1,) + (1,) * rows[0].ndim)
    table = jnp.zeros((len(rows), *rows[0].shape), dtype)
    for i, row in enumerate(rows):
        table = jnp.where(sel == i, row.astype(dtype), table)
    return table


def _any_play(kinds_ok: list, cards_ok: list, tg: list) -> jax.Array:
    """``bool[]``: some play move (points, scuttle, one-off, royal, jack, joker) is legal, from
    the parts alone (a reduction over the assembled mask would repeat its whole assembly): one
    reduction finds which target rows have a target (for the scuttle row, the lowest), a second
    whether some card has a play."""
    ids = jnp.asarray(IDS)
    targeted = [g for g in PLAY_GROUPS if g[1] != A.T_NONE]
    rows = []
    for _, tclass, _, tgts, triangle in targeted:
        t = tg[tclass] & jnp.asarray(tgts)
        rows.append(jnp.where(t, N - ids, 0) if triangle else t)
    best = jnp.max(_rows_table(rows, jnp.int32), axis=-1)
    playable = jnp.zeros(N, bool)
    for kind, tclass, cards, _, triangle in PLAY_GROUPS:
        ok = cards_ok[kind] & jnp.asarray(cards) & kinds_ok[kind]
        if tclass != A.T_NONE:
            i = next(j for j, g in enumerate(targeted) if g[:2] == (kind, tclass))
            ok = ok & ((ids > N - best[i]) if triangle else (best[i] > 0))  # scuttle: above the lowest
        playable = playable | ok
    return jnp.any(playable)


def legal_parts(rules: Variant, b: Board) -> tuple[jax.Array, jax.Array, jax.Array]:
    """What the legal mask is made of: ``(kinds bool[11], cards bool[11, 54], targets bool[7,
    54])``; action ``a`` is legal exactly when ``kinds[KIND[a]] & cards[KIND[a], CARD[a]] &
    targets[TCLASS[a], TARGET[a]]``. The two phase-wide rules are folded in: pass is legal in
    the main phase when the deck is empty or nothing else is, and a 7's revealed card may be
    discarded only when no revealed card can be played."""
    kinds, cards, tg = _rows(rules, b)
    return jnp.stack(kinds), jnp.stack(cards), jnp.stack(tg)


def _rows(rules: Variant, b: Board) -> tuple[list, list, list]:
    """:func:`legal_parts` as lists of rows (stacking them costs a kernel per row on XLA:CPU)."""
    f = facts(rules, b)
    a = b.actor
    ids = jnp.asarray(IDS)
    main, seven = b.phase == MAIN, b.phase == SEVEN
    in_hand = (b.zone == HAND) & (b.owner == a)
    revealed = b.zone == REVEALED
    src = jnp.where(main, in_hand & (ids != b.frozen[a]), seven & revealed)
    left = rules.num_cards - b.pos - seven.astype(jnp.int32)  # deck left once the card is played
    oneoff = src & ((VALUE != A.SEVEN) | (left > 0))
    takeable = (b.zone == SCRAP) & (ids != b.pending)  # what a 3 may take from the scrap pile
    if rules.strict_oneoffs:  # no 3 for a 3; a 3 needs something to take, a 5 a deck to draw from
        takeable = takeable & (VALUE != A.THREE)
        oneoff = oneoff & ((VALUE != A.THREE) | jnp.any(takeable)) & ((VALUE != A.FIVE) | (left > 0))
    counter = (b.phase == COUNTER) & in_hand & (VALUE == A.TWO) & (f.queens[jnp.maximum(b.last, 0)] == 0)
    discard = ((b.phase == DISCARD4) | (b.phase == DISCARD5)) & in_hand
    retrieve = (b.phase == CHOOSE3) & takeable
    true = jnp.ones(N, bool)
    play = main | seven
    can_draw = main & (left > 0) & (f.hand[a] < rules.hand_limit)
    counter_phase = b.phase == COUNTER
    kinds = [can_draw, main, counter_phase, play, play, play, play, play, counter_phase, true[0], true[0]]
    cards = [true, true, true, src, src, oneoff, src, src, counter, discard, retrieve]
    tg = _target_rows(rules, b, f)
    any_play = _any_play(kinds, cards, tg)
    kinds[A.PASS] = main & ((left <= 0) | ~(can_draw | any_play))
    cards[A.DISCARD] = discard | (seven & revealed & ~any_play)  # a 7 revealed nothing playable
    return kinds, cards, tg


def _runs(ids) -> list[tuple[int, int]]:
    """Static ids as ``[start, stop)`` runs of consecutive values."""
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] == i:
            out[-1][1] += 1
        else:
            out.append([i, i + 1])
    return [(a, b) for a, b in out]


def _blocks() -> list[tuple[int, int, tuple, tuple]]:
    """The action table as ``(kind, target class, card runs, target runs)`` blocks, in id order:
    each block is every card of its runs times every target of its runs."""
    groups: list[list] = []  # [kind, tclass, cards, targets]
    for kind, card, target, tclass in A.ACTIONS:
        key = (kind, tclass, max(card, 0))
        if groups and tuple(groups[-1][:2]) == key[:2] and groups[-1][2][-1] == key[2]:
            groups[-1][3].append(max(target, 0))
        else:
            groups.append([kind, tclass, [key[2]], [max(target, 0)]])
    merged: list[list] = []
    for g in groups:
        if merged and merged[-1][:2] == g[:2] and merged[-1][3] == g[3]:
            merged[-1][2] += g[2]
        else:
            merged.append(g)
    return [(k, t, tuple(_runs(cs)), tuple(_runs(ts))) for k, t, cs, ts in merged]


BLOCKS = _blocks()


def _take(vec: jax.Array, runs) -> jax.Array:
    parts = [vec[a:b] for a, b in runs]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


SCUTTLE_PAIRS = np.array([40 * c + t for c in range(40) for t in range(c)], np.int32)
"""The scuttle ids' ``(card c, target t < c)`` pairs as indices into a flat ``[40, 40]`` table."""


def legal_mask(rules: Variant, b: Board) -> jax.Array:
    """``bool[NUM_ACTIONS]``: the moves the actor may make (see :mod:`~htjax.envs.cuttle.actions`).

    Assembled from :func:`legal_parts` in table order (:data:`BLOCKS`): static slices, except
    the 780 scuttle ids, which one constant-index gather takes from the ``[40, 40]`` table of
    (card, target) pairs (as 39 slices they cost a second of compile time). Not one gather per
    action: inside a rollout that made the whole step 3-4x slower on CPU. Nothing reduces over
    the assembled mask (XLA would repeat the assembly in every reduction)."""
    kinds_ok, cards_ok, tg = _rows(rules, b)
    pieces = []
    for kind, tclass, card_runs, target_runs in BLOCKS:
        if kind == A.SCUTTLE:
            if card_runs[0][0] == 1:  # the first of the scuttle blocks stands for all of them
                table = cards_ok[kind][:40, None] & tg[tclass][None, :40]
                pieces.append(kinds_ok[kind] & table.reshape(-1)[SCUTTLE_PAIRS])
            continue
        outer = _take(cards_ok[kind], card_runs)[:, None] & _take(tg[tclass], target_runs)[None, :]
        pieces.append(kinds_ok[kind] & outer.reshape(-1))
    return jnp.concatenate(pieces)
