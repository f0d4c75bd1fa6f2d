"""Blackjack's rules as pure stages over the table (no RL notions: no observation, no seat to
act, no rewards; chips move and :func:`settle` says how many).

A step of the env applies one decision with the stage for its phase (:func:`apply_bet` and
:func:`deal`, :func:`apply_insurance`, :func:`apply_play`), then the stages that follow without
a decision (:func:`open_round`, :func:`peek`, :func:`dealer_play`, :func:`settle`). Stages
are branch-free: each takes an ``on`` flag (``bool[]``) and leaves the table unchanged where it
is off, so one compiled step serves every phase. Cards come from a
:class:`htjax.core.cards.Cursor` over the step's pre-drawn cards; a stage takes "the next card"
and hands the cursor on.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.indexing import pick
from htjax.envs.blackjack import hand
from htjax.envs.blackjack.config import (
    BET_BASE,
    DOUBLE,
    HAND_BUST,
    HAND_EMPTY,
    HAND_NATURAL,
    HAND_PLAYING,
    HAND_STOOD,
    HAND_SURRENDERED,
    HIT,
    INSURANCE,
    PHASE_BET,
    PHASE_INSURANCE,
    PHASE_OVER,
    PHASE_PLAY,
    PHASE_SHOWDOWN,
    SPLIT,
    STAND,
    SURRENDER,
    BlackjackConfig,
)
from htjax.envs.blackjack.state import BlackjackState

__all__ = [
    "Rules",
    "apply_bet",
    "apply_insurance",
    "apply_play",
    "chips",
    "clear_round",
    "deal",
    "first",
    "hand_options",
    "legal_actions",
    "open_round",
    "peek",
    "post_bets",
    "seat_sum",
    "settle",
    "table_fields",
    "to_showdown",
    "where",
    "worst_loss",
    "most_chips",
]

DEALER_HITS_PREDRAWN = 5
"""Dealer hits pre-drawn on every step; a play-out needing more (about 2e-5 of them) draws the
rest in a rare branch (:mod:`htjax.envs.blackjack.dealer`)."""


@dataclasses.dataclass(frozen=True)
class Rules:
    """A table's static rules: the config and the sizes derived from it (hashable).

    Attributes:
      config: the :class:`BlackjackConfig`.
      S, H, NH: seats, most hands per seat, hand slots (``S * H``).
      C, D: card slots of a hand and of the dealer (the most cards each can hold).
      M, M_fast: most dealer hits, and how many of them every step pre-draws.
      n_deal: cards of a full deal (two per seat and two for the dealer).
      shoe_size: cards in the shoe (0 for an infinite deck).
      bets: the bet menu (``float32``).
    """

    config: BlackjackConfig
    S: int
    H: int
    C: int
    D: int
    M: int
    M_fast: int
    n_deal: int
    shoe_size: int

    @classmethod
    def from_config(cls, cfg: BlackjackConfig) -> Rules:
        gym, h17 = cfg.rules == "gymnasium", cfg.dealer_hits_soft_17
        decks = 1 if cfg.infinite_deck else cfg.num_decks
        C = hand.max_cards(decks, cfg.infinite_deck, lambda h, a, n: n < 2 or hand.player_may_hit(h, a, gym))
        D = hand.max_cards(decks, cfg.infinite_deck, lambda h, a, n: n < 2 or hand.dealer_hits(h, a, h17))
        return cls(
            config=cfg,
            S=cfg.num_seats,
            H=cfg.max_hands,
            C=C,
            D=D,
            M=D - 2,
            M_fast=min(D - 2, DEALER_HITS_PREDRAWN),
            n_deal=2 * (cfg.num_seats + 1),
            shoe_size=0 if cfg.infinite_deck else 52 * cfg.num_decks,
        )

    @property
    def NH(self) -> int:
        return self.S * self.H

    @property
    def gym(self) -> bool:
        """Gymnasium's Blackjack-v1 rules (stick/hit, no peek, no early naturals)."""
        return self.config.rules == "gymnasium"

    @property
    def bets(self) -> np.ndarray:
        return np.asarray(self.config.bet_menu, np.float32)

    def count(self, card: jax.Array) -> jax.Array:
        """Hi-Lo tag of a card seen face up (0 with an infinite deck: there is no count)."""
        return jnp.int32(0) if self.config.infinite_deck else hand.hilo(card)


# ---------------------------------------------------------------------------- small helpers
def first(mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(any, index of the first True)`` of a bool vector."""
    return jnp.any(mask), jnp.argmax(mask).astype(jnp.int32)


def where(pred: jax.Array, on_true, on_false):
    """Leaf-wise ``where`` of two pytrees with a scalar predicate."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


# Row access by a traced index, static when the axis has length 1 (one seat, or one hand per
# seat): the common configs then compile to plain elementwise code, no gather or scatter.
def _at(arr: jax.Array, i: jax.Array) -> jax.Array:
    return arr[0] if arr.shape[0] == 1 else arr[i]


def _set(arr: jax.Array, i: jax.Array, value: jax.Array) -> jax.Array:
    if arr.shape[0] == 1:
        return jnp.broadcast_to(jnp.asarray(value, arr.dtype), arr.shape[1:])[None]
    return arr.at[i].set(jnp.asarray(value, arr.dtype))


def _add(arr: jax.Array, i: jax.Array, value: jax.Array) -> jax.Array:
    return _set(arr, i, _at(arr, i) + value)


# ---------------------------------------------------------------------------- the table
def table_fields(rules: Rules, deck: cards.Deck, bankroll: jax.Array) -> dict:
    """The fields of an empty table (before any bet) over ``deck``, seats holding ``bankroll``."""
    S, NH = rules.S, rules.NH
    return dict(
        deck=deck,
        round_start=deck.position,
        phase=jnp.int32(PHASE_BET),
        cursor=jnp.int32(0),
        hand_cards=jnp.full((NH, rules.C), cards.NO_CARD, jnp.int8),
        hand_size=jnp.zeros(NH, jnp.int32),
        hand_hard=jnp.zeros(NH, jnp.int32),
        hand_ace=jnp.zeros(NH, jnp.bool_),
        hand_status=jnp.zeros(NH, jnp.int32),
        hand_bet=jnp.zeros(NH, jnp.float32),
        hand_doubled=jnp.zeros(NH, jnp.bool_),
        hand_split_ace=jnp.zeros(NH, jnp.bool_),
        num_hands=jnp.zeros(S, jnp.int32),
        seat_bet=jnp.zeros(S, jnp.float32),
        insurance=jnp.zeros(S, jnp.float32),
        bankroll=bankroll,
        dealer_cards=jnp.full(rules.D, cards.NO_CARD, jnp.int8),
        dealer_size=jnp.int32(0),
        dealer_hard=jnp.int32(0),
        dealer_ace=jnp.bool_(False),
        dealer_revealed=jnp.bool_(False),
        running_count=jnp.int32(0),
        round_index=jnp.int32(0),
    )


def clear_round(rules: Rules, t: BlackjackState, on: jax.Array) -> BlackjackState:
    """Clear the table for the next round (bankrolls, count, shoe and round counter stay)."""
    fields = table_fields(rules, t.deck, t.bankroll)
    fields.update(running_count=t.running_count, round_index=t.round_index)
    return where(on, t.replace(**fields), t)


def seat_sum(x: jax.Array) -> jax.Array:
    """``float32[S]``: the sum over each seat's hands of ``x`` (``float32[S, H]``), as ``H - 1``
    adds. A ``jnp.sum`` here compiles to a float reduction kernel of its own on XLA:CPU (an
    XNNPACK/YNN fusion) that cost 5-10% of a casino step; the adds fuse into their consumers.
    Stakes and results are multiples of half a bet unit (a natural, paid at ``blackjack_payout``,
    is a seat's only hand), so the order of the adds changes no value."""
    out = x[:, 0]
    for h in range(1, x.shape[1]):
        out = out + x[:, h]
    return out


def chips(t: BlackjackState) -> jax.Array:
    """``float32[S]``: each seat's chips, its bankroll plus what it has on the table this round
    (the wager in the betting phase, else its hands' stakes and insurance)."""
    S = t.seat_bet.shape[0]
    staked = seat_sum(t.hand_bet.reshape(S, -1)) + t.insurance
    return t.bankroll + jnp.where(t.phase == PHASE_BET, t.seat_bet, staked)


def worst_loss(rules: Rules, t: BlackjackState) -> jax.Array:
    """``float32[S]``: at least the most each seat can still lose from ``t`` by legal play.

    One round can cost a seat at most ``max_hands * (1 + doubling) * b + insurance * b / 2``
    for a wager ``b`` (every hand split off and doubled, insurance lost): ``b`` is the seat's
    wager this round, or the largest bet on the menu while it still has to bet (with betting
    off, every round stakes ``bet_menu[0]``). Shoe and session episodes add that bound for the
    largest bet over every round still to come (``max_rounds`` minus the rounds settled). Every
    stake must be covered by the bankroll, so no seat can lose more than its :func:`chips`: the
    result is the smaller of the two.
    """
    cfg = rules.config
    per_bet = rules.H * (2.0 if cfg.double_on != "none" else 1.0) + (
        0.5 if cfg.insurance and not rules.gym else 0.0
    )
    top = float(rules.bets[-1] if cfg.betting else rules.bets[0])
    to_bet = (t.phase == PHASE_BET) & (t.seat_bet == 0)
    wager = jnp.where(to_bet, top, t.seat_bet)
    bound = per_bet * wager
    if cfg.episode != "round":
        later = jnp.maximum(cfg.max_rounds - t.round_index - 1, 0).astype(jnp.float32)
        bound = bound + later * (per_bet * top)
    return jnp.minimum(bound, chips(t)).astype(jnp.float32)


def most_chips(rules: Rules) -> float:
    """A seat's most chips ever under these rules (for observation bounds): the starting
    bankroll plus, per round, the largest bet won on every hand split off and doubled, on a
    natural at the highest payout a rule parameter may set (10), and on insurance."""
    cfg = rules.config
    rounds = 1 if cfg.episode == "round" else cfg.max_rounds
    per_round = (2 * rules.H + 10 + 1) * float(rules.bets[-1])
    return float(cfg.starting_bankroll + rounds * per_round)


# ---------------------------------------------------------------------------- bets and the deal
def post_bets(rules: Rules, t: BlackjackState, on: jax.Array) -> BlackjackState:
    """Without betting: every seat that can afford ``bet_menu[0]`` stakes it."""
    if rules.config.betting:
        return t
    bet0 = float(rules.bets[0])
    stake = jnp.where(on & (t.bankroll >= bet0), bet0, 0.0).astype(jnp.float32)
    return t.replace(seat_bet=jnp.where(on, stake, t.seat_bet), bankroll=t.bankroll - stake)


def apply_bet(rules: Rules, t: BlackjackState, action: jax.Array, on: jax.Array):
    """Seat ``cursor`` bets ``bet_menu[action - BET_BASE]``. Returns ``(table, every seat has bet)``."""
    bets = rules.bets
    seat = t.cursor
    amount = jnp.asarray(bets)[jnp.clip(action - BET_BASE, 0, len(bets) - 1)]
    amount = jnp.where(on, amount, 0.0)
    bankroll = _add(t.bankroll, seat, -amount)
    seat_bet = _add(t.seat_bet, seat, amount)
    solvent = bankroll >= bets[0]
    more, nxt = first(solvent & (jnp.arange(rules.S) > seat))
    t = t.replace(bankroll=bankroll, seat_bet=seat_bet, cursor=jnp.where(on & more, nxt, t.cursor))
    return t, on & ~more


def deal(rules: Rules, t: BlackjackState, cursor: cards.Cursor, on: jax.Array):
    """Deal two cards to every seat with a bet and to the dealer, round the table: a card to each
    seat, the up-card, a second card to each seat, the hole card. Returns ``(table, cursor)``."""
    S, H, NH, C, D = rules.S, rules.H, rules.NH, rules.C, rules.D
    start = cursor
    in_round = t.seat_bet > 0
    if S == 1:  # a lone seat is always in the round when cards are dealt
        (c1, up, c2, hole), cursor = cursor.take(4)
        c1, c2 = c1[None], c2[None]
    else:
        c1, cursor = cursor.deal_to(in_round)
        up, cursor = cursor.next()
        c2, cursor = cursor.deal_to(in_round)
        hole, cursor = cursor.next()
    is_first = (jnp.arange(NH) % H == 0) & jnp.repeat(in_round, H)
    h1 = jnp.where(is_first, jnp.repeat(c1, H), cards.NO_CARD).astype(jnp.int8)
    h2 = jnp.where(is_first, jnp.repeat(c2, H), cards.NO_CARD).astype(jnp.int8)
    rows = jnp.concatenate([h1[:, None], h2[:, None], jnp.full((NH, C - 2), cards.NO_CARD, jnp.int8)], axis=1)
    hard = hand.card_value(h1) + hand.card_value(h2)
    ace = (hand.is_ace(h1) & (h1 >= 0)) | (hand.is_ace(h2) & (h2 >= 0))
    natural = hand.is_blackjack(2, hard, ace) & (not rules.gym)
    status = jnp.where(is_first, jnp.where(natural, HAND_NATURAL, HAND_PLAYING), HAND_EMPTY)
    dealer = jnp.concatenate([jnp.stack([up, hole]), jnp.full(D - 2, cards.NO_CARD, jnp.int8)])
    seen = jnp.sum(jnp.where(in_round, hand.hilo(c1) + hand.hilo(c2), 0)) + hand.hilo(up)
    dealt = t.replace(
        round_start=t.deck.position,
        hand_cards=rows,
        hand_size=jnp.where(is_first, 2, 0).astype(jnp.int32),
        hand_hard=hard,
        hand_ace=ace,
        hand_status=status.astype(jnp.int32),
        hand_bet=jnp.where(is_first, jnp.repeat(t.seat_bet, H), 0.0).astype(jnp.float32),
        hand_doubled=jnp.zeros(NH, jnp.bool_),
        hand_split_ace=jnp.zeros(NH, jnp.bool_),
        num_hands=in_round.astype(jnp.int32),
        insurance=jnp.zeros(S, jnp.float32),
        dealer_cards=dealer,
        dealer_size=jnp.int32(2),
        dealer_hard=hand.card_value(up) + hand.card_value(hole),
        dealer_ace=hand.is_ace(up) | hand.is_ace(hole),
        dealer_revealed=jnp.bool_(False),
        running_count=t.running_count + jnp.where(rules.config.infinite_deck, 0, seen),
    )
    return where(on, dealt, t), cards.Cursor.choose(on, cursor, start)


def _insurance_eligible(t: BlackjackState) -> jax.Array:
    return (t.seat_bet > 0) & (t.bankroll >= 0.5 * t.seat_bet)


def open_round(rules: Rules, t: BlackjackState, on: jax.Array):
    """After a deal: offer insurance, or peek. Returns ``(table, round over)``."""
    if rules.config.insurance and not rules.gym:
        any_e, first_e = first(_insurance_eligible(t))
        offer = on & hand.is_ace(t.dealer_cards[0]) & any_e
        t = t.replace(
            phase=jnp.where(offer, PHASE_INSURANCE, t.phase).astype(jnp.int32),
            cursor=jnp.where(offer, first_e, t.cursor),
        )
        return peek(rules, t, on & ~offer)
    return peek(rules, t, on)


def _dealer_blackjack(t: BlackjackState) -> jax.Array:
    return hand.is_blackjack(t.dealer_size, t.dealer_hard, t.dealer_ace)


def peek(rules: Rules, t: BlackjackState, on: jax.Array):
    """Dealer checks for blackjack (casino rules), then play starts. Returns ``(table, round
    over)``: dealer blackjack, or no hand left to play."""
    bj = on & _dealer_blackjack(t) & (not rules.gym)
    any_p, first_p = first(t.hand_status == HAND_PLAYING)
    start_play = on & ~bj & any_p
    t = t.replace(
        phase=jnp.where(start_play, PHASE_PLAY, t.phase).astype(jnp.int32),
        cursor=jnp.where(start_play, first_p, t.cursor),
    )
    return t, on & ~start_play


def to_showdown(rules: Rules, t: BlackjackState, over: jax.Array) -> BlackjackState:
    """A round with no decision left, dealt where no reward can be paid, waits for one STAND."""
    _, first_in = first(t.seat_bet > 0)
    reveal = over & _dealer_blackjack(t)
    return t.replace(
        phase=jnp.where(over, PHASE_SHOWDOWN, t.phase).astype(jnp.int32),
        cursor=jnp.where(over, first_in * rules.H, t.cursor),
        dealer_revealed=t.dealer_revealed | reveal,
        running_count=t.running_count
        + jnp.where(reveal & ~t.dealer_revealed, rules.count(t.dealer_cards[1]), 0),
    )


def apply_insurance(rules: Rules, t: BlackjackState, action: jax.Array, on: jax.Array):
    """Seat ``cursor`` takes (half its wager) or declines insurance. Returns ``(table, every
    eligible seat has decided)``."""
    seat = t.cursor
    take = on & (action == INSURANCE)
    stake = jnp.where(take, 0.5 * _at(t.seat_bet, seat), 0.0)
    more, nxt = first(_insurance_eligible(t) & (jnp.arange(rules.S) > seat))
    t = t.replace(
        insurance=_add(t.insurance, seat, stake),
        bankroll=_add(t.bankroll, seat, -stake),
        cursor=jnp.where(on & more, nxt, t.cursor),
    )
    return t, on & ~more


# ---------------------------------------------------------------------------- playing a hand
def hand_options(rules: Rules, t: BlackjackState, i: jax.Array):
    """``(hit, double, split, surrender)`` legality of hand slot ``i`` (``bool[]`` each)."""
    cfg = rules.config
    seat = i // rules.H
    playing = pick(t.hand_status, i) == HAND_PLAYING
    if rules.gym:
        f = jnp.bool_(False)
        return playing, f, f, f
    two = pick(t.hand_size, i) == 2
    split_hand = pick(t.num_hands, seat) > 1
    afford = pick(t.bankroll, seat) >= pick(t.hand_bet, i)
    one_card = pick(t.hand_split_ace, i) & (not cfg.hit_split_aces)
    hit = playing & ~one_card
    best = hand.best_total(pick(t.hand_hard, i), pick(t.hand_ace, i))
    if cfg.double_on == "any":
        dbl_rule = jnp.bool_(True)
    elif cfg.double_on == "9-11":
        dbl_rule = (best >= 9) & (best <= 11)
    elif cfg.double_on == "10-11":
        dbl_rule = (best >= 10) & (best <= 11)
    else:
        dbl_rule = jnp.bool_(False)
    das = jnp.bool_(cfg.double_after_split) | ~split_hand
    dbl = playing & two & dbl_rule & das & afford & ~one_card
    row = pick(t.hand_cards, i)
    c0, c1 = row[0], row[1]
    same = (c0 >> 2) == (c1 >> 2)
    if cfg.split_any_tens:
        same = same | ((hand.card_value(c0) == 10) & (hand.card_value(c1) == 10))
    resplit_ok = ~pick(t.hand_split_ace, i) | cfg.resplit_aces
    spl = playing & two & same & (pick(t.num_hands, seat) < rules.H) & afford & resplit_ok
    sur = playing & two & ~split_hand & cfg.late_surrender
    return hit, dbl, spl, sur


def apply_play(rules: Rules, t: BlackjackState, action: jax.Array, cursor: cards.Cursor, on: jax.Array):
    """Apply STAND/HIT/DOUBLE/SPLIT/SURRENDER to hand ``cursor``: a hit or a double takes the next
    card, a split the next two (one for each hand). Returns ``(table, cursor, no hand left to play)``."""
    cfg = rules.config
    H, NH, C = rules.H, rules.NH, rules.C
    i = t.cursor
    seat = i // H
    c0, c1 = cursor.peek(2)
    hit = on & (action == HIT)
    dbl = on & (action == DOUBLE)
    spl = on & (action == SPLIT)
    draw_one = hit | dbl
    row = _at(t.hand_cards, i)
    size = _at(t.hand_size, i)
    # hit / double: one card onto hand i
    hit_hard = _at(t.hand_hard, i) + hand.card_value(c0)
    hit_ace = _at(t.hand_ace, i) | hand.is_ace(c0)
    # split: hand i keeps its first card, hand j = the seat's next slot takes the second
    j = jnp.minimum(seat * H + _at(t.num_hands, seat), NH - 1)
    first_c, second_c = row[0], row[1]
    split_hard_i = hand.card_value(first_c) + hand.card_value(c0)
    split_hard_j = hand.card_value(second_c) + hand.card_value(c1)
    split_ace_i = hand.is_ace(first_c) | hand.is_ace(c0)
    split_ace_j = hand.is_ace(second_c) | hand.is_ace(c1)
    aces = hand.is_ace(first_c)

    new_hard = jnp.where(draw_one, hit_hard, jnp.where(spl, split_hard_i, _at(t.hand_hard, i)))
    new_ace = jnp.where(draw_one, hit_ace, jnp.where(spl, split_ace_i, _at(t.hand_ace, i)))
    new_size = jnp.where(draw_one, size + 1, size)
    best_i = hand.best_total(new_hard, new_ace)
    auto_stand = jnp.bool_(False) if rules.gym else best_i == 21
    num_after = _at(t.num_hands, seat) + 1

    def split_status(best, new_card):
        one_card = aces & (not cfg.hit_split_aces)
        resplit = aces & hand.is_ace(new_card) & cfg.resplit_aces & (num_after < H)
        done = (best == 21) | (one_card & ~resplit)
        return jnp.where(done, HAND_STOOD, HAND_PLAYING)

    status_i = jnp.select(
        [action == STAND, action == SURRENDER, best_i > 21, dbl, spl, auto_stand],
        [
            jnp.int32(HAND_STOOD),
            jnp.int32(HAND_SURRENDERED),
            jnp.int32(HAND_BUST),
            jnp.int32(HAND_STOOD),
            split_status(best_i, c0),
            jnp.int32(HAND_STOOD),
        ],
        jnp.int32(HAND_PLAYING),
    )
    status_i = jnp.where(on, status_i, _at(t.hand_status, i))
    bet_i = _at(t.hand_bet, i)
    status_j = split_status(hand.best_total(split_hard_j, split_ace_j), c1)

    if NH == 1:  # one hand slot (no split): the row written whole, no scatter
        hand_cards = _set(
            t.hand_cards, i, jnp.where(draw_one, jnp.where(jnp.arange(C) == size, c0, row), row)
        )
    else:  # one scatter of the cards that change (slot j is unused, all NO_CARD): 1-3% faster
        at_j = jnp.where(spl, j, NH)  # row NH: dropped
        rows = jnp.stack([jnp.where(draw_one | spl, i, NH), at_j, at_j])
        cols = jnp.stack([jnp.where(draw_one, size, 1), jnp.int32(0), jnp.int32(1)])
        new = jnp.stack([c0, second_c, c1]).astype(jnp.int8)
        hand_cards = t.hand_cards.at[rows, cols].set(new, mode="drop")
    hand_hard = _set(t.hand_hard, i, jnp.where(on, new_hard, _at(t.hand_hard, i)))
    hand_ace = _set(t.hand_ace, i, jnp.where(on, new_ace, _at(t.hand_ace, i)))
    hand_size = _set(t.hand_size, i, jnp.where(on, new_size, size))
    hand_status = _set(t.hand_status, i, status_i)
    hand_bet = _set(t.hand_bet, i, jnp.where(dbl, 2.0 * bet_i, bet_i))
    hand_split_ace = _set(t.hand_split_ace, i, _at(t.hand_split_ace, i) | (spl & aces))
    hand_doubled = _set(t.hand_doubled, i, _at(t.hand_doubled, i) | dbl)
    if H > 1:
        hand_hard = hand_hard.at[j].set(jnp.where(spl, split_hard_j, hand_hard[j]))
        hand_ace = hand_ace.at[j].set(jnp.where(spl, split_ace_j, hand_ace[j]))
        hand_size = hand_size.at[j].set(jnp.where(spl, 2, hand_size[j]))
        hand_status = hand_status.at[j].set(jnp.where(spl, status_j, hand_status[j]))
        hand_bet = hand_bet.at[j].set(jnp.where(spl, bet_i, hand_bet[j]))
        hand_split_ace = hand_split_ace.at[j].set(jnp.where(spl, aces, hand_split_ace[j]))
    bankroll = _add(t.bankroll, seat, jnp.where(dbl | spl, -bet_i, 0.0))
    num_hands = _add(t.num_hands, seat, jnp.where(spl, 1, 0))
    taken = jnp.where(draw_one, 1, jnp.where(spl, 2, 0)).astype(jnp.int32)
    seen = jnp.where(draw_one, rules.count(c0), 0) + jnp.where(spl, rules.count(c0) + rules.count(c1), 0)
    any_p, first_p = first(hand_status == HAND_PLAYING)
    t = t.replace(
        hand_cards=hand_cards,
        hand_hard=hand_hard,
        hand_ace=hand_ace,
        hand_size=hand_size,
        hand_status=hand_status,
        hand_bet=hand_bet,
        hand_split_ace=hand_split_ace,
        hand_doubled=hand_doubled,
        bankroll=bankroll,
        num_hands=num_hands,
        running_count=t.running_count + seen,
        cursor=jnp.where(on & any_p, first_p, t.cursor),
    )
    return t, cursor.skip(taken, most=2), on & ~any_p


# ---------------------------------------------------------------------------- settlement
def settle(rules: Rules, t: BlackjackState, on: jax.Array, payout: jax.Array):
    """Pay every hand and insurance (a natural pays ``payout`` per unit staked). Returns
    ``(table, chip delta of each seat this round, float32[S])``."""
    cfg = rules.config
    S, H = rules.S, rules.H
    best = hand.best_total(t.hand_hard, t.hand_ace)
    d_best = hand.best_total(t.dealer_hard, t.dealer_ace)
    d_bust = d_best > 21
    d_bj = _dealer_blackjack(t)
    bet = t.hand_bet
    status = t.hand_status
    if rules.gym:
        score = jnp.where(best > 21, 0, best)
        d_score = jnp.where(d_bust, 0, d_best)
        outcome = jnp.sign(score - d_score).astype(jnp.float32)
        natural = hand.is_blackjack(t.hand_size, t.hand_hard, t.hand_ace) & (jnp.repeat(t.num_hands, H) == 1)
        if cfg.sab:
            outcome = jnp.where(natural & ~d_bj, 1.0, outcome)
        elif cfg.natural:
            outcome = jnp.where(natural & (outcome == 1.0), payout, outcome)
        stood = outcome * bet
    else:
        win = d_bust | (best > d_best)
        push = ~d_bust & (best == d_best)
        stood = jnp.where(d_bj, -bet, jnp.where(win, bet, jnp.where(push, 0.0, -bet)))
    net = jnp.select(
        [
            status == HAND_NATURAL,
            status == HAND_SURRENDERED,
            status == HAND_BUST,
            (status == HAND_STOOD) | (status == HAND_PLAYING),  # playing: ended by a dealer blackjack
        ],
        [jnp.where(d_bj, 0.0, payout * bet), -0.5 * bet, -bet, stood],
        0.0,
    ).astype(jnp.float32)
    ins_net = jnp.where(d_bj, 2.0 * t.insurance, -t.insurance)
    seat_net = seat_sum(net.reshape(S, H)) + ins_net
    returned = seat_sum((bet + net).reshape(S, H)) + jnp.where(d_bj, 3.0 * t.insurance, 0.0)
    t = t.replace(
        bankroll=t.bankroll + jnp.where(on, returned, 0.0),
        phase=jnp.where(on, PHASE_OVER, t.phase).astype(jnp.int32),
        round_index=t.round_index + on.astype(jnp.int32),
    )
    return t, jnp.where(on, seat_net, 0.0).astype(jnp.float32)


# ---------------------------------------------------------------------------- legal actions
def legal_actions(rules: Rules, t: BlackjackState) -> jax.Array:
    """``bool[num_actions]``: the actions the rules allow the seat to act in ``t``."""
    phase = t.phase
    hit, dbl, spl, sur = hand_options(rules, t, jnp.clip(t.cursor, 0, rules.NH - 1))
    play = phase == PHASE_PLAY
    ins = phase == PHASE_INSURANCE
    parts = [play | (phase == PHASE_SHOWDOWN), play & hit]
    if rules.gym:
        return jnp.stack(parts)
    mask = jnp.stack(parts + [play & dbl, play & spl, play & sur, ins, ins])
    if rules.config.betting:
        seat = jnp.clip(t.cursor, 0, rules.S - 1)
        bets = (phase == PHASE_BET) & (jnp.asarray(rules.bets) <= _at(t.bankroll, seat))
        mask = jnp.concatenate([mask, bets])
    return mask
