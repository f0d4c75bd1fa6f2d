"""Blackjack's state: the contract's public fields plus the table (:class:`BlackjackState`)."""

from __future__ import annotations

import chex
import jax

from htjax.core import cards
from htjax.core.env import State

__all__ = ["BlackjackState"]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class BlackjackState(State):
    """Blackjack state. ``S`` seats, ``H = max_hands``, ``NH = S * H`` hand slots (hand ``h`` of
    seat ``s`` is slot ``s * H + h``), ``C`` card slots per hand, ``D`` dealer card slots.

    Attributes:
      deck: the shoe (:class:`htjax.core.cards.Deck`); ``cards[:round_start]`` are discards,
        ``cards[round_start:position]`` are on the table (finite shoes).
      round_start: ``int32[]`` shoe position at this round's deal.
      phase: ``int32[]`` one of ``PHASE_*``.
      cursor: ``int32[]`` seat to act (bet, insurance) or hand slot to act (play, showdown).
      hand_cards: ``int8[NH, C]`` cards of each hand in order, ``NO_CARD`` past the end.
      hand_size: ``int32[NH]`` number of cards.
      hand_hard: ``int32[NH]`` total counting aces as 1.
      hand_ace: ``bool[NH]`` the hand holds an ace.
      hand_status: ``int32[NH]`` one of ``HAND_*``.
      hand_bet: ``float32[NH]`` stake on the hand (doubled after a double).
      hand_doubled: ``bool[NH]``.
      hand_split_ace: ``bool[NH]`` the hand began as a split ace.
      num_hands: ``int32[S]`` hands of each seat this round (0 = sitting out).
      seat_bet: ``float32[S]`` each seat's wager for the round (0 = sitting out).
      insurance: ``float32[S]`` insurance stake.
      bankroll: ``float32[S]`` chips not on the table.
      dealer_cards: ``int8[D]``; ``dealer_cards[1]`` is the hole card.
      dealer_size, dealer_hard: ``int32[]``; dealer_ace, dealer_revealed: ``bool[]``.
      running_count: ``int32[]`` Hi-Lo count of the cards seen face up since the last shuffle.
      round_index: ``int32[]`` rounds settled in this episode.
    """

    deck: cards.Deck
    round_start: jax.Array
    phase: jax.Array
    cursor: jax.Array
    hand_cards: jax.Array
    hand_size: jax.Array
    hand_hard: jax.Array
    hand_ace: jax.Array
    hand_status: jax.Array
    hand_bet: jax.Array
    hand_doubled: jax.Array
    hand_split_ace: jax.Array
    num_hands: jax.Array
    seat_bet: jax.Array
    insurance: jax.Array
    bankroll: jax.Array
    dealer_cards: jax.Array
    dealer_size: jax.Array
    dealer_hard: jax.Array
    dealer_ace: jax.Array
    dealer_revealed: jax.Array
    running_count: jax.Array
    round_index: jax.Array
