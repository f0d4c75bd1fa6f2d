"""The pure-JAX hand evaluator: category edge cases, exhaustive 5-card counts, phevaluator sample."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import phevaluator  # the reference evaluator (test extra)
import pytest

from htjax.core import cards
from htjax.envs import poker_eval as pe

_eval = jax.jit(pe.evaluate)


def value(text: str) -> int:
    return int(_eval(jnp.asarray(cards.parse_cards(text), jnp.int8)))


def ref_rank(text: str) -> int:
    """phevaluator's rank: 1 (royal flush) .. 7462; lower is better."""
    return phevaluator.evaluate_cards(*text.split())


def assert_same_order(ours: np.ndarray, ref: np.ndarray) -> None:
    """Our values (higher better) and reference ranks (lower better) order hands identically."""
    pairs = np.unique(np.stack([ours, ref], axis=1), axis=0)
    assert len(np.unique(ours)) == len(pairs) == len(np.unique(ref)), "ties differ from the reference"
    by_ours = pairs[np.argsort(pairs[:, 0])]
    assert np.all(np.diff(by_ours[:, 1]) < 0), "order differs from the reference"


def test_card_ids_match_phevaluator():
    # phevaluator ids are rank*4+suit with suits c, d, h, s: the same as htjax.core.cards
    from phevaluator import Card

    for c in range(52):
        assert Card(cards.card_to_str(c)).id_ == c


@pytest.mark.parametrize(
    "hand, category",
    [
        ("As Ks Qs Js Ts 2d 3c", pe.STRAIGHT_FLUSH),
        ("5h 4h 3h 2h Ah Kd Kc", pe.STRAIGHT_FLUSH),  # steel wheel beats the kings full
        ("9c 9d 9h 9s 2c 2d 2h", pe.QUADS),
        ("Kc Kd Kh Qc Qd Qh 2s", pe.FULL_HOUSE),
        ("2c 5c 7c 9c Jc Ac Kd", pe.FLUSH),
        ("Ac 2d 3h 4s 5c 9d Jh", pe.STRAIGHT),  # wheel
        ("3c 4d 5h 6s 7c 8d 9h", pe.STRAIGHT),
        ("7c 7d 7h As Kd 2c 3h", pe.TRIPS),
        ("Ac Ad Kh Ks Qc Qd 2h", pe.TWO_PAIR),
        ("2c 2d 5h 7s 9c Jd Kh", pe.PAIR),
        ("2c 4d 6h 8s Tc Qd Ah", pe.HIGH_CARD),
    ],
)
def test_category(hand, category):
    v = value(hand)
    assert int(pe.hand_category(v)) == category
    assert pe.category_name(v) == pe.CATEGORY_NAMES[category]


# each list: strictly increasing strength; every adjacent pair is a boundary worth checking
ORDERED_CHAINS = [
    # category boundaries: best of one category < worst of the next
    ["Ac Kd Qh Js 9c", "2c 2d 3h 4s 5c"],
    ["Ac Ad Kh Qs Jc", "2c 2d 3h 3s 4c"],
    ["Ac Ad Kh Ks Qc", "2c 2d 2h 3s 4c"],
    ["Ac Ad Ah Ks Qc", "Ac 2d 3h 4s 5c"],
    ["Ac Kd Qh Js Tc", "2c 3c 4c 5c 7c"],
    ["Ac Kc Qc Jc 9c", "2c 2d 2h 3s 3c"],
    ["Ac Ad Ah Ks Kc", "2c 2d 2h 2s 3c"],
    ["Ac Ad Ah As Kc", "Ac 2c 3c 4c 5c"],
    # straights: the wheel is the lowest, six-high next; broadway the highest
    ["Ah 2c 3d 4s 5h", "2c 3d 4s 5h 6c", "9c Td Js Qh Kc", "Tc Jd Qs Kh Ac"],
    # straight flushes: steel wheel lowest, royal highest
    ["Ah 2h 3h 4h 5h", "2h 3h 4h 5h 6h", "9s Ts Js Qs Ks", "Ts Js Qs Ks As"],
    # kickers
    ["Ac Kd Qh Js 8c", "Ac Kd Qh Js 9c"],  # fifth kicker
    ["Kc Kd 9h 8s 7c", "Kc Kd Th 3s 2c"],  # pair: first kicker decides
    ["Kc Kd Qh Qs 2c", "Kc Kd Qh Qs 3c"],  # two pair: kicker
    ["Kc Kd Jh Js Ac", "Kc Kd Qh Qs 2c"],  # two pair: second pair before kicker
    ["Qc Qd Jh Js Ac", "Kc Kd 2h 2s 3c"],  # two pair: top pair first
    ["9c 9d 9h As Kc", "Tc Td Th 2s 3c"],  # trips rank before kickers
    ["Tc Td Th 4s 2c", "Tc Td Th 4s 3c"],  # trips: second kicker
    ["3c 3d 3h Ad As", "4c 4d 4h 2s 2c"],  # full house: trips first
    ["Kc Kd Kh 2s 2c", "Kc Kd Kh 3s 3c"],  # full house: then the pair
    ["9c 9d 9h 9s 2c", "9c 9d 9h 9s Ac"],  # quads kicker
    ["Ac Qc Jc Tc 8c", "Ac Kc 3c 4c 2c"],  # flush: second card
    ["Kc Qc Jc Tc 8c", "Ac 2c 3c 4c 6c"],
]


@pytest.mark.parametrize("chain", ORDERED_CHAINS, ids=lambda c: " < ".join(c))
def test_ordering(chain):
    values = [value(h) for h in chain]
    assert all(a < b for a, b in zip(values, values[1:])), values
    refs = [ref_rank(h) for h in chain]
    assert all(a > b for a, b in zip(refs, refs[1:])), refs


@pytest.mark.parametrize(
    "left, right",
    [
        ("2c 3d Ah Kh Qh Jh Th", "4s 5s Ah Kh Qh Jh Th"),  # board plays: shared royal flush
        ("2c 3d Ts Js Qh Kd Ad", "4c 4h Ts Js Qh Kd Ad"),  # board straight beats a pair of fours
        ("Ac Ad Ah As Kc Kd Kh", "Ac Ad Ah As Kc 2d 3h"),  # quads take the best kicker only
        ("Kc Kd Kh Qc Qd Qh 2s", "Kc Kd Kh Qc Qd As 2s"),  # two trips = kings full of queens
        ("Ac Ad Kh Ks Qc Qd 2h", "Ac Ad Kh Ks Qc 3d 2h"),  # three pairs: third pair is the kicker
        ("2c 3c 4c 5c 7c 9c Jc", "3c 4c 5c 7c 9c Jc 2d"),  # 7-card flush: best five count
        ("3c 4d 5h 6s 7c 8d 9h", "5c 6d 7h 8s 9c 2d 2h"),  # longest straight: top five
        ("Ac 2d 3h 4s 5c Kd Kh", "Ad 2c 3s 4h 5d Qc Qh"),  # wheel; the pair does not count
    ],
)
def test_equal_hands(left, right):
    assert ref_rank(left) == ref_rank(right)
    assert value(left) == value(right)


def test_flush_beats_straight_in_seven_cards():
    # both a straight (5-9) and a flush are present: the flush counts
    flush = value("5h 6h 7c 8h 9d Kh 2h")
    assert int(pe.hand_category(flush)) == pe.FLUSH
    # straight and flush in different cards is not a straight flush
    assert value("5h 6h 7h 8h 9d Kh 2c") < value("5h 6h 7h 8h 9h 2d 2c")


def test_missing_cards_are_ignored():
    with_missing = jnp.asarray(cards.parse_cards("Ac Ad Kh Ks Qc") + [-1, -1], jnp.int8)
    assert int(_eval(with_missing)) == value("Ac Ad Kh Ks Qc")


def test_shape_checks():
    with pytest.raises(ValueError, match="evaluate7 expects"):
        pe.evaluate7(jnp.zeros((3, 6), jnp.int8))
    with pytest.raises(ValueError, match="evaluate5 expects"):
        pe.evaluate5(jnp.zeros((7,), jnp.int8))
    with pytest.raises(ValueError, match="1 to 7 cards"):
        pe.evaluate(jnp.zeros((2, 8), jnp.int8))


def test_evaluate_best_broadcasts_board():
    hole = jnp.asarray([cards.parse_cards("As Ad"), cards.parse_cards("2c 7d")], jnp.int8)
    board = jnp.asarray(cards.parse_cards("Ah Ac Kd 9s 3c"), jnp.int8)
    v = pe.evaluate_best(hole, board)
    assert v.shape == (2,)
    assert int(pe.hand_category(v[0])) == pe.QUADS and int(pe.hand_category(v[1])) == pe.PAIR


def test_all_five_card_hands_have_the_known_class_counts():
    """All C(52,5) = 2,598,960 hands: hand counts and distinct values per category."""
    combos = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(52), 5)), np.int8
    ).reshape(-1, 5)
    values = np.asarray(jax.jit(pe.evaluate5)(combos))
    cats = values >> pe.CATEGORY_SHIFT
    hands = np.bincount(cats, minlength=9).tolist()
    assert hands == [1302540, 1098240, 123552, 54912, 10200, 5108, 3744, 624, 40]
    distinct = [len(np.unique(values[cats == c])) for c in range(9)]
    assert distinct == [1277, 2860, 858, 858, 10, 1277, 156, 156, 10]  # 7462 classes in all


def test_random_seven_card_hands_match_phevaluator():
    from phevaluator import _pheval

    rng = np.random.default_rng(20240605)
    hands = np.argsort(rng.random((20_000, 52)), axis=1)[:, :7].astype(np.int8)
    ours = np.asarray(jax.jit(pe.evaluate7)(hands))
    ref = np.array([_pheval.evaluate_7cards(*map(int, h)) for h in hands])
    assert_same_order(ours, ref)
    # vmap over single hands gives the same values as the batched call
    assert np.array_equal(np.asarray(jax.vmap(pe.evaluate7)(jnp.asarray(hands[:64]))), ours[:64])
