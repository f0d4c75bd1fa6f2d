"""Blackjack card arithmetic: one definition of each card rule, for JAX and for Python.

Every function here takes JAX arrays (traced or not) and returns JAX arrays, and takes host
values (Python ints and bools, numpy arrays) and returns numpy values, so the rules, the
observation, the text rendering and the public view share one definition of each rule:

* :func:`card_value` (2..10, faces 10, ace 1), :func:`is_ace`, :func:`hilo` (the count tag);
* :func:`is_soft` / :func:`best_total`: a hand's *hard* total counts aces as 1; it is *soft*
  when it holds an ace and ``hard <= 11``, and its best total then counts one ace as 11;
* :func:`is_blackjack`: two cards totalling 21 (the same test for a seat's natural and the
  dealer's blackjack);
* :func:`dealer_hits`: the dealer draws below 17, and on soft 17 under H17;
* :func:`player_may_hit`: the hands the rules let take a card;
* :func:`max_cards`: the most cards a hand can hold under given draw rules (the state's slots).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "ACE_RANK",
    "best_total",
    "card_value",
    "dealer_hits",
    "hand_total",
    "hilo",
    "is_ace",
    "is_blackjack",
    "is_soft",
    "max_cards",
    "player_may_hit",
]

ACE_RANK = 12


def _xp(*values):
    """``jax.numpy`` for JAX arrays (traced or not), ``numpy`` for host values."""
    return jnp if any(isinstance(v, jax.Array) for v in values) else np


def card_value(card):
    """Blackjack value of ``card`` (``int32``): 2..10 for 2..K, 1 for an ace, 0 for ``NO_CARD``."""
    xp = _xp(card)
    c = xp.asarray(card).astype(xp.int32)
    rank = c >> 2
    v = xp.where(rank == ACE_RANK, 1, xp.minimum(rank + 2, 10))
    return xp.where(c >= 0, v, 0)


def is_ace(card):
    """``card`` is an ace (``NO_CARD`` is not)."""
    xp = _xp(card)
    return xp.asarray(card).astype(xp.int32) >= ACE_RANK * 4


def hilo(card):
    """Hi-Lo tag: +1 for 2..6, 0 for 7..9, -1 for tens and aces, 0 for ``NO_CARD``."""
    xp = _xp(card)
    c = xp.asarray(card).astype(xp.int32)
    rank = c >> 2
    tag = xp.where(rank <= 4, 1, xp.where(rank >= 8, -1, 0))
    return xp.where(c >= 0, tag, 0)


def is_soft(hard, ace):
    """A hand of hard total ``hard`` (aces as 1) holding an ace (``ace``) counts one ace as 11."""
    return ace & (hard <= 11)


def best_total(hard, ace):
    """The hand's total: ``hard``, plus 10 when it is soft."""
    soft = is_soft(hard, ace)
    if isinstance(soft, (bool, np.bool_)):  # host scalars (the static card-slot search)
        return hard + (10 if soft else 0)
    return hard + _xp(hard, ace).where(soft, 10, 0)


def hand_total(hand):
    """``(best total, soft)`` of ``int8[..., n]`` cards (``NO_CARD`` ignored)."""
    xp = _xp(hand)
    hand = xp.asarray(hand)
    hard = xp.sum(card_value(hand), axis=-1)
    ace = xp.any(is_ace(hand) & (hand >= 0), axis=-1)
    return best_total(hard, ace), is_soft(hard, ace)


def is_blackjack(size, hard, ace):
    """A two-card 21: a seat's natural (on an unsplit hand) or the dealer's blackjack."""
    return (size == 2) & (best_total(hard, ace) == 21)


def dealer_hits(hard, ace, hits_soft_17: bool):
    """The dealer draws another card: below 17, and on a soft 17 when ``hits_soft_17`` (static)."""
    best = best_total(hard, ace)
    if not hits_soft_17:
        return best < 17
    return (best < 17) | ((best == 17) & is_soft(hard, ace))


def player_may_hit(hard, ace, gymnasium: bool):
    """A playing hand may take a card: below 21 at the casino table; Blackjack-v1 lets a player
    hit any total up to 21 (``gymnasium``, static)."""
    if gymnasium:
        return hard <= 21
    return best_total(hard, ace) < 21


def max_cards(num_decks: int, infinite: bool, can_draw: Callable[[int, bool, int], bool]) -> int:
    """Most cards one hand can ever hold, by exhaustive search over card values.

    ``can_draw(hard, ace, n)`` says whether a hand of ``n`` (capped at 2) cards may take another.
    """
    counts = (4 * num_decks,) * 9 + (16 * num_decks,)

    @functools.cache
    def most(hard: int, ace: bool, n: int, used: tuple) -> int:
        if not can_draw(hard, ace, n):
            return 0
        best = 0
        for v in range(1, 11):
            if not infinite and used[v - 1] >= counts[v - 1]:
                continue
            nxt = used if infinite else used[: v - 1] + (used[v - 1] + 1,) + used[v:]
            best = max(best, 1 + most(hard + v, ace or v == 1, min(n + 1, 2), nxt))
        return best

    return most(0, False, 0, (0,) * 10)
