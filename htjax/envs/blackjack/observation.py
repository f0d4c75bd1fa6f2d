"""Blackjack's observation: :data:`LAYOUT` (the one table of what each entry means) and
:func:`observe`, which builds the vector only through ``LAYOUT.pack``.

Bounds hold for every config: ``hand_total`` reaches 31/21 (Blackjack-v1 lets a 21 hit),
``hand_cards`` 2.2 (22 cards), ``hand_bet`` 2 (a doubled largest bet), the running count
+-16 (eight decks of +-1 tags) and the true count +-32 (that count over half a deck); the
bankroll has no bound common to every config (winnings accumulate over a session), so the
layout leaves it open and ``Blackjack.observation_bounds`` closes it per config.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from htjax.core.indexing import pick
from htjax.core.layout import Field, ObservationLayout
from htjax.envs.blackjack import hand
from htjax.envs.blackjack.config import (
    HAND_PLAYING,
    PHASE_BET,
    PHASE_INSURANCE,
    PHASE_OVER,
    PHASE_PLAY,
    PHASE_SHOWDOWN,
)
from htjax.envs.blackjack.rules import Rules, first, hand_options
from htjax.envs.blackjack.state import BlackjackState

__all__ = ["LAYOUT", "OBSERVATION_LAYOUT", "OBS_SIZE", "observe"]

_INF = float("inf")


def _flag(name: str, doc: str) -> Field:
    return Field(name, 1, 0, 1, doc)


LAYOUT = ObservationLayout(
    (
        _flag("phase_bet", "1 in the betting phase"),
        _flag("phase_insurance", "1 while insurance is offered"),
        _flag("phase_play", "1 while hands are played"),
        _flag("phase_showdown", "1 in a forced showdown turn (round dealt with no decision left)"),
        _flag("phase_over", "1 once the round is settled (final state)"),
        _flag("my_turn", "1 if the observed seat is to act"),
        Field(
            "hand_total", 1, 0, 1.5, "best total of the seat's hand / 21 (aces 11 where that does not bust)"
        ),
        _flag("soft", "1 if the hand is soft (an ace counted as 11)"),
        Field("hand_cards", 1, 0, 2.5, "number of cards in the hand / 10"),
        _flag("pair", "1 if the hand is two cards of equal rank"),
        Field("dealer_up", 1, 0, 1, "dealer up-card value / 10 (ace = 1, so 0.1; 0 before the deal)"),
        _flag("dealer_up_ace", "1 if the dealer shows an ace"),
        Field("dealer_total", 1, 0, 1.5, "dealer's best total / 21 once the hole card is revealed, else 0"),
        _flag("dealer_revealed", "1 once the hole card is face up"),
        _flag("can_double", "1 if the hand may double now (the seat's view of its own options)"),
        _flag("can_split", "1 if the hand may split"),
        _flag("can_surrender", "1 if the hand may surrender"),
        _flag("can_insure", "1 if the seat is being offered insurance"),
        Field("hand_index", 1, 0, 1, "index of the hand among the seat's split hands / max_hands"),
        Field("num_hands", 1, 0, 1, "the seat's hands this round / max_hands"),
        Field("hand_bet", 1, 0, 2, "stake on the hand / largest bet in bet_menu"),
        Field("seat_bet", 1, 0, 1, "the seat's initial wager this round / largest bet"),
        Field(
            "bankroll",
            1,
            0,
            _INF,
            "chips not on the table / starting_bankroll (`env.observation_bounds` caps it at the config's most chips)",
        ),
        _flag("insured", "1 if the seat took insurance"),
        Field(
            "running_count",
            1,
            -16,
            16,
            "Hi-Lo running count of cards seen face up since the shuffle / 10 (0 if infinite)",
        ),
        Field("true_count", 1, -32, 32, "running count / decks left (at least 0.5) / 10 (0 if infinite)"),
        Field("shoe_left", 1, 0, 1, "cards left in the shoe / shoe size (1 if infinite)"),
        Field("rounds", 1, 0, 1, "rounds settled / max_rounds (0 in round mode)"),
        _flag("doubled", "1 if the hand was doubled"),
        _flag("split_hand", "1 if the seat split this round"),
        _flag("in_round", "1 if the seat has a wager this round"),
    )
)
"""The observation table: one row per entry, in order (``docs/envs/blackjack.md`` shows it)."""

OBS_SIZE = LAYOUT.size
OBSERVATION_LAYOUT: tuple[tuple[str, str], ...] = tuple((f.name, f.doc) for f in LAYOUT.fields)
"""``(name, meaning)`` per entry, derived from :data:`LAYOUT` (for code that indexes by name)."""

_R21 = 1.0 / 21.0


def observe(rules: Rules, t: BlackjackState, player: jax.Array) -> jax.Array:
    """``float32[OBS_SIZE]``: seat ``player``'s view (its hand being played, else its first)."""
    cfg = rules.config
    H = rules.H
    if H == 1:
        h = jnp.int32(0)
    else:
        any_p, first_p = first(pick(t.hand_status.reshape(rules.S, H), player) == HAND_PLAYING)
        h = jnp.where(any_p, first_p, 0)
    i = player * H + h
    hard, ace = pick(t.hand_hard, i), pick(t.hand_ace, i)
    _, dbl, spl, sur = hand_options(rules, t, i)
    row = pick(t.hand_cards, i)
    size = pick(t.hand_size, i)
    up = t.dealer_cards[0]
    max_bet = float(rules.bets[-1])
    phase = t.phase
    if cfg.infinite_deck:
        remaining, running, true_count = jnp.float32(1.0), jnp.float32(0.0), jnp.float32(0.0)
    else:
        left = jnp.maximum(rules.shoe_size - t.deck.position, 0)
        remaining = left * (1.0 / rules.shoe_size)
        running = t.running_count.astype(jnp.float32)
        true_count = running / jnp.maximum(left * (1.0 / 52), 0.5)
    parts = {
        "phase_bet": phase == PHASE_BET,
        "phase_insurance": phase == PHASE_INSURANCE,
        "phase_play": phase == PHASE_PLAY,
        "phase_showdown": phase == PHASE_SHOWDOWN,
        "phase_over": phase == PHASE_OVER,
        "my_turn": t.current_player == player,
        "hand_total": hand.best_total(hard, ace) * _R21,
        "soft": hand.is_soft(hard, ace),
        "hand_cards": size * 0.1,
        "pair": (size == 2) & ((row[0] >> 2) == (row[1] >> 2)),
        "dealer_up": hand.card_value(up) * 0.1,
        "dealer_up_ace": hand.is_ace(up) & (up >= 0),
        "dealer_total": jnp.where(t.dealer_revealed, hand.best_total(t.dealer_hard, t.dealer_ace), 0) * _R21,
        "dealer_revealed": t.dealer_revealed,
        "can_double": dbl,
        "can_split": spl,
        "can_surrender": sur,
        "can_insure": (phase == PHASE_INSURANCE) & (t.cursor == player),
        "hand_index": h * (1.0 / H),
        "num_hands": pick(t.num_hands, player) * (1.0 / H),
        "hand_bet": pick(t.hand_bet, i) * (1.0 / max_bet),
        "seat_bet": pick(t.seat_bet, player) * (1.0 / max_bet),
        "bankroll": pick(t.bankroll, player) * (1.0 / cfg.starting_bankroll),
        "insured": pick(t.insurance, player) > 0,
        "running_count": running * 0.1,
        "true_count": true_count * 0.1,
        "shoe_left": remaining,
        "rounds": jnp.float32(0.0) if cfg.episode == "round" else t.round_index * (1.0 / cfg.max_rounds),
        "doubled": pick(t.hand_doubled, i),
        "split_hand": pick(t.num_hands, player) > 1,
        "in_round": pick(t.seat_bet, player) > 0,
    }
    return LAYOUT.pack(parts, feature_major=True)
