"""Cuttle's cards and its fixed action table (plain Python and NumPy, built once at import).

Cards
-----
A card is an int in ``[0, 54)``: ``card = (value - 1) * 4 + suit`` with ``value`` 1..13 for
A, 2, ..., 10, J, Q, K and ``suit`` 0..3 for clubs < diamonds < hearts < spades (Cuttle's suit
order); ``52`` and ``53`` are the two jokers (cutthroat only). So the point cards A..10 are ids
``0..39`` and the id order *is* the scuttle order (value first, then suit): card ``c`` may
scuttle point card ``t`` exactly when ``t < c``. Text: ``"As"``, ``"Tc"``, ``"Kh"``,
``"X1"``/``"X2"`` for the jokers. (Not :mod:`htjax.core.cards`' poker encoding: ace is low here.)

Actions
-------
Every action id means the same move in every state of every variant; the legal mask does the
rest. :data:`ACTIONS` lists ``(kind, card, target)`` per id; the ranges are:

==========  =====  ==================================================================
ids         count  move
==========  =====  ==================================================================
0           1      draw the top card of the deck
1           1      pass (legal when the deck is empty, or when nothing else is)
2           1      resolve: decline to counter the one-off on the stack
3-42        40     points: play card ``c`` (A..10, ``c = id - 3``) to your field
43-822      780    scuttle: card ``c`` onto an opponent's point card ``t < c``
823-842     20     one-off A, 3, 5, 6 or 7 (no target)
843-850     8      one-off 4 at the opponent ``k`` seats to your left (k = 1, 2)
851-922     72     one-off 2: destroy the royal / glasses eight / jack / joker ``t``
923-1138    216    one-off 9: return card ``t`` (any of 54) to its owner's hand
1139-1150   12     royal: play an 8 (glasses), Q or K to your field
1151-1310   160    jack ``c`` onto point card ``t`` (steal it)
1311-1326   16     joker ``c`` onto a queen or king ``t`` (steal it; cutthroat)
1327-1330   4      counter the one-off on the stack with the 2 ``c``
1331-1384   54     discard card ``c`` (from hand for a 4 or 5; a revealed card for a 7)
1385-1438   54     retrieve card ``c`` from the scrap pile (for a 3)
1439-1456   18     joker ``c`` onto a glasses eight, a jack or the other joker ``t`` (cutthroat)
==========  =====  ==================================================================

The last range was added after the others (cuttle.cards' cutthroat jokers steal any royal), so
every older id kept its meaning.

:func:`decode` names an id's parts; :func:`action_id` is its inverse; :func:`label` is the
text ``htjax play`` shows (``"scuttle 9h>7c"``).
"""

from __future__ import annotations

import numpy as np

from htjax.core.errors import InvalidArgumentError

__all__ = [
    "ACTIONS",
    "CARD",
    "KIND",
    "KIND_NAMES",
    "LABELS",
    "NUM_ACTIONS",
    "NUM_CARDS",
    "SEAT",
    "TARGET",
    "TCLASS",
    "VALUE",
    "action_id",
    "card_of",
    "card_str",
    "decode",
    "label",
    "parse_card",
]

NUM_CARDS = 54
RANKS = "A23456789TJQK"
SUITS = "cdhs"
JOKERS = (52, 53)
ACE, TWO, THREE, FOUR, FIVE, SIX, SEVEN, EIGHT, NINE, TEN, JACK, QUEEN, KING = range(1, 14)
JOKER = 14

# move kinds (the branches of the step's switch)
DRAW, PASS, RESOLVE, POINTS, SCUTTLE, ONEOFF, ROYAL, ATTACH, COUNTER, DISCARD, RETRIEVE = range(11)
KIND_NAMES = (
    "draw",
    "pass",
    "resolve",
    "points",
    "scuttle",
    "one-off",
    "royal",
    "attach",
    "counter",
    "discard",
    "retrieve",
)
PLAY_KINDS = (POINTS, SCUTTLE, ONEOFF, ROYAL, ATTACH)

# target classes (rows of the per-state target table in the rules)
T_NONE, T_SCUTTLE, T_DESTROY, T_NINE, T_JACK, T_JOKER, T_SEAT = range(7)
NUM_TCLASSES = 7


def card_of(value: int, suit: int) -> int:
    return (value - 1) * 4 + suit


def value_of(card: int) -> int:
    """1..13 (A..K), 14 for a joker."""
    return JOKER if card >= 52 else card // 4 + 1


def card_str(card: int) -> str:
    """``"As"``, ``"Tc"``, ``"X1"``; ``"--"`` for no card."""
    card = int(card)
    if card < 0:
        return "--"
    if card >= NUM_CARDS:
        raise InvalidArgumentError(f"not a cuttle card id: {card} (cards are 0..53)")
    if card >= 52:
        return f"X{card - 51}"
    return RANKS[card // 4] + SUITS[card % 4]


def parse_card(text: str) -> int:
    """Card id of ``"As"``, ``"10h"``, ``"X2"``; raises :class:`InvalidArgumentError` naming bad text."""
    t = text.strip()
    if t[:2] == "10":
        t = "T" + t[2:]
    if t.upper() in ("X1", "X2"):
        return 51 + int(t[1])
    if len(t) != 2 or t[0].upper() not in RANKS or t[1].lower() not in SUITS:
        raise InvalidArgumentError(f"not a cuttle card: {text!r} (e.g. 'As', 'Td', 'Kh', 'X1')")
    return RANKS.index(t[0].upper()) * 4 + SUITS.index(t[1].lower())


VALUE = np.array([value_of(c) for c in range(NUM_CARDS)], np.int32)
"""``int32[54]``: value 1..13 of each card (14 for the jokers)."""
POINTS_OF = np.where(VALUE <= 10, VALUE, 0).astype(np.int32)
"""``int32[54]``: points each card is worth on a field (A..10 their value, others 0)."""


def _by_value(*values: int) -> list[int]:
    return [card_of(v, s) for v in values for s in range(4)]


ROYAL_TARGETS = _by_value(EIGHT, JACK, QUEEN, KING) + list(JOKERS)  # what a 2 may destroy


def _build() -> list[tuple[int, int, int, int]]:
    """``(kind, card, target, target class)`` per action id."""
    table = [(DRAW, -1, -1, T_NONE), (PASS, -1, -1, T_NONE), (RESOLVE, -1, -1, T_NONE)]
    table += [(POINTS, c, -1, T_NONE) for c in range(40)]
    table += [(SCUTTLE, c, t, T_SCUTTLE) for c in range(40) for t in range(c)]
    table += [(ONEOFF, c, -1, T_NONE) for c in _by_value(ACE, THREE, FIVE, SIX, SEVEN)]
    table += [(ONEOFF, c, k, T_SEAT) for c in _by_value(FOUR) for k in (1, 2)]
    table += [(ONEOFF, c, t, T_DESTROY) for c in _by_value(TWO) for t in ROYAL_TARGETS]
    table += [(ONEOFF, c, t, T_NINE) for c in _by_value(NINE) for t in range(NUM_CARDS)]
    table += [(ROYAL, c, -1, T_NONE) for c in _by_value(EIGHT, QUEEN, KING)]
    table += [(ATTACH, c, t, T_JACK) for c in _by_value(JACK) for t in range(40)]
    table += [(ATTACH, c, t, T_JOKER) for c in JOKERS for t in _by_value(QUEEN, KING)]
    table += [(COUNTER, c, -1, T_NONE) for c in _by_value(TWO)]
    table += [(DISCARD, c, -1, T_NONE) for c in range(NUM_CARDS)]
    table += [(RETRIEVE, c, -1, T_NONE) for c in range(NUM_CARDS)]
    other = {JOKERS[0]: JOKERS[1], JOKERS[1]: JOKERS[0]}
    table += [(ATTACH, c, t, T_JOKER) for c in JOKERS for t in _by_value(EIGHT, JACK) + [other[c]]]
    return table


ACTIONS: tuple[tuple[int, int, int, int], ...] = tuple(_build())
NUM_ACTIONS = len(ACTIONS)
KIND = np.array([a[0] for a in ACTIONS], np.int32)
"""``int32[NUM_ACTIONS]``: move kind of each action id."""
CARD = np.array([max(a[1], 0) for a in ACTIONS], np.int32)
"""``int32[NUM_ACTIONS]``: the card played (0 where the kind plays none; see ``HAS_CARD``)."""
HAS_CARD = np.array([a[1] >= 0 for a in ACTIONS], bool)
TARGET = np.array([max(a[2], 0) for a in ACTIONS], np.int32)
"""``int32[NUM_ACTIONS]``: the target card (or, for a 4, the seat offset k); 0 where none."""
TCLASS = np.array([a[3] for a in ACTIONS], np.int32)
SEAT = np.where(TCLASS == T_SEAT, TARGET, 0).astype(np.int32)
FIRST = {kind: int(np.flatnonzero(KIND == kind)[0]) for kind in range(len(KIND_NAMES))}
_INDEX = {a: i for i, a in enumerate(ACTIONS)}


def decode(action: int) -> dict:
    """``{"kind", "card", "target", "seat_offset"}`` of action id ``action`` (``None`` where absent)."""
    if not 0 <= int(action) < NUM_ACTIONS:
        raise InvalidArgumentError(f"cuttle action ids are 0..{NUM_ACTIONS - 1}, got {action}")
    kind, card, target, tclass = ACTIONS[int(action)]
    return {
        "kind": KIND_NAMES[kind],
        "card": None if card < 0 else card_str(card),
        "target": None if target < 0 or tclass == T_SEAT else card_str(target),
        "seat_offset": target if tclass == T_SEAT else None,
    }


def action_id(kind: str, card: str | int | None = None, target: str | int | None = None) -> int:
    """Id of a move: ``action_id("scuttle", "9h", "7c")``, ``action_id("one-off", "4c", 1)``
    (a 4's target is the seat offset), ``action_id("draw")``. Raises
    :class:`InvalidArgumentError` for a move that has no id."""
    if kind not in KIND_NAMES:
        raise InvalidArgumentError(f"unknown move kind {kind!r}; kinds: {list(KIND_NAMES)}")
    k = KIND_NAMES.index(kind)
    c = -1 if card is None else parse_card(card) if isinstance(card, str) else int(card)
    t = -1 if target is None else parse_card(target) if isinstance(target, str) else int(target)
    for tclass in range(NUM_TCLASSES):
        if (k, c, t, tclass) in _INDEX:
            return _INDEX[(k, c, t, tclass)]
    raise InvalidArgumentError(f"no cuttle action {kind} {card} {target}")


def label(action: int) -> str:
    kind, card, target, tclass = ACTIONS[action]
    name = KIND_NAMES[kind]
    if card < 0:
        return name
    if tclass == T_SEAT:
        return f"{name} {card_str(card)} seat+{target}"
    if target >= 0:
        joiner = ">" if kind == SCUTTLE else "@"
        return f"{name} {card_str(card)}{joiner}{card_str(target)}"
    return f"{name} {card_str(card)}"


LABELS = tuple(label(a) for a in range(NUM_ACTIONS))
