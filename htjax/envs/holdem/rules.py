"""Texas hold'em rules as pure functions over a :class:`Table` (no RL notions here).

One call of :func:`act` applies one seat's decision and then everything that follows
without a decision: closing the betting round, dealing the next street, the automatic
run-out when at most one seat can still bet, and paying the pots at the end of the hand.
:func:`start_hand` seats the players, posts the blinds and deals the hole cards.

Conventions (see ``docs/envs/holdem.md`` for the full rules text):

* Chips are ``int32`` and every transfer is integral, so ``sum(stack) + pot`` never changes.
* A seat with no chips at the start of a hand sits out (treated as folded, dealt no cards).
* Blinds: heads-up the button posts the small blind and acts first before the flop, the big
  blind acts first after it; with 3+ seats the small and big blinds sit left of the button and
  the seat left of the big blind acts first before the flop, the first live seat left of the
  button after it. A seat short of a blind posts what it has (all-in). A button on a seat that
  sits out stays there (a dead button) when 3+ seats play; heads-up it moves to the first seat
  with chips on its left, which posts the small blind (heads-up the button is always the small
  blind, as the TDA rule "Button in Heads-up" sets it), so the big blind still acts first after the flop.
* Betting is closed to a seat that already acted unless, when the action comes back to it, it
  faces at least a full raise: one full raise, or several all-ins for less that add up to one
  (TDA rule 47). An all-in for less than a full raise must be called (or folded to) but does
  not by itself reopen raising. Nobody may raise when no other live seat could call a chip more.
* Pots: one pot per distinct contribution level (main pot and side pots), adjacent levels with
  the same eligible seats merged into one pot; each pot goes to the best eligible hands in equal
  integer shares, the pot's odd chips all to the first winner left of the button (TDA "Odd Chips").
"""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp

from htjax.core import cards
from htjax.envs import poker_eval

__all__ = [
    "ALL_IN",
    "CALL",
    "FLOP",
    "FOLD",
    "HAND_OVER",
    "HISTORY_KINDS",
    "LIMIT_RAISE",
    "PREFLOP",
    "RAISE",
    "RIVER",
    "STREET_NAMES",
    "TURN",
    "Rules",
    "Table",
    "act",
    "board_size",
    "chips_in_play",
    "forfeit",
    "legal_actions",
    "next_seat",
    "pot",
    "start_hand",
]

PREFLOP, FLOP, TURN, RIVER, HAND_OVER = range(5)
STREET_NAMES = ("preflop", "flop", "turn", "river", "hand over")
_BOARD_AFTER = (0, 3, 4, 5, 5)  # board cards visible on each street

# action kinds (an action menu maps action ids to kinds)
FOLD, CALL, RAISE, ALL_IN, LIMIT_RAISE = range(5)

HISTORY_KINDS = ("bet/raise", "call", "check")
_AGGRESSIVE, _CALLED, _CHECKED = range(3)


@dataclasses.dataclass(frozen=True)
class Rules:
    """Static rules (hashable): seats, betting structure and the action menu. The stakes
    (blinds, stacks) are numbers of each hand (:func:`start_hand`), so one compiled program
    plays hands at different stakes.

    ``menu`` lists ``(kind, numerator, denominator)`` per action id; a ``RAISE`` of
    ``n/d`` pot raises to ``max_bet + floor(n/d * (pot + to_call))``.
    """

    num_players: int
    fixed_limit: bool
    raise_cap: int
    menu: tuple[tuple[int, int, int], ...]

    @property
    def num_actions(self) -> int:
        return len(self.menu)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class Table:
    """The state of one hand; ``P`` = number of seats.

    Attributes:
      deck: the deck the hand is dealt from.
      hole: ``int8[P, 2]`` hole cards (``NO_CARD`` for a seat sitting out).
      board: ``int8[5]`` community cards, ``NO_CARD`` where not yet dealt.
      start_stack: ``int32[P]`` stacks when the hand began (before blinds).
      stack: ``int32[P]`` chips behind (not yet committed).
      bet: ``int32[P]`` chips committed on the current street.
      committed: ``int32[P]`` chips committed in the whole hand (includes ``bet``).
      payout: ``int32[P]`` chips won from the pots (set when the hand ends).
      folded: ``bool[P]`` out of the hand (folded or sitting out).
      acted: ``bool[P]`` acted since the last full raise on this street.
      button: ``int32[]`` dealer seat.
      small_blind, big_blind: ``int32[]`` the hand's blinds (the big blind is the minimum bet and
        the fixed-limit small bet).
      street: ``int32[]`` ``PREFLOP`` .. ``RIVER``, or ``HAND_OVER``.
      to_act: ``int32[]`` seat to act (the last seat that acted once the hand is over).
      last_raise: ``int32[]`` size of the last full raise this street (min-raise increment).
      num_bets: ``int32[]`` full bets and raises this street (the big blind counts as one).
      street_chips: ``int32[4, P]`` chips each seat put in on each street.
      street_actions: ``int32[4, P, 3]`` per street and seat, counts of bets/raises, calls
        and checks (see ``HISTORY_KINDS``).
      showdown: ``bool[]`` the hand ended in a showdown (hole cards of live seats shown).
    """

    deck: cards.Deck
    hole: jax.Array
    board: jax.Array
    start_stack: jax.Array
    stack: jax.Array
    bet: jax.Array
    committed: jax.Array
    payout: jax.Array
    folded: jax.Array
    acted: jax.Array
    button: jax.Array
    small_blind: jax.Array
    big_blind: jax.Array
    street: jax.Array
    to_act: jax.Array
    last_raise: jax.Array
    num_bets: jax.Array
    street_chips: jax.Array
    street_actions: jax.Array
    showdown: jax.Array


def board_size(street: jax.Array) -> jax.Array:
    """Number of board cards visible on ``street``."""
    return jnp.asarray(_BOARD_AFTER, jnp.int32)[street]


def pot(table: Table) -> jax.Array:
    """Chips in the pot(s) (``0`` once the hand is over and paid), ``int32[]``."""
    return jnp.where(table.street == HAND_OVER, 0, jnp.sum(table.committed))


def chips_in_play(table: Table) -> jax.Array:
    """``sum(stack) + pot``: constant throughout a hand, ``int32[]``."""
    return jnp.sum(table.stack) + pot(table)


def next_seat(mask: jax.Array, after: jax.Array) -> jax.Array:
    """First seat ``s`` with ``mask[s]`` going left from ``after`` (``after`` itself last); -1 if none."""
    n = mask.shape[-1]
    dist = (jnp.arange(n) - after - 1) % n
    seat = jnp.argmin(jnp.where(mask, dist, n)).astype(jnp.int32)
    return jnp.where(jnp.any(mask), seat, -1)


def _bet_size(table: Table) -> jax.Array:
    """Fixed-limit bet: the big blind before the flop and on the flop, twice it on turn and river."""
    return jnp.where(table.street >= TURN, 2 * table.big_blind, table.big_blind)


def _full_raise_size(rules: Rules, table: Table) -> jax.Array:
    """Increment a bet or raise needs to count as full (and reopen the betting): ``int32[]``."""
    return _bet_size(table) if rules.fixed_limit else table.last_raise


def start_hand(
    rules: Rules,
    deck: cards.Deck,
    stacks: jax.Array,
    button: jax.Array,
    bits: jax.Array,
    small_blind: jax.Array,
    big_blind: jax.Array,
    *,
    settle: bool = True,
) -> Table:
    """Seat the players, post the blinds and deal the hole cards.

    Args:
      deck: deck to deal from (hole cards go round the table from seat 0, two rounds).
      stacks: ``int32[P]`` chips of each seat; seats with 0 sit out.
      button: ``int32[]`` dealer seat.
      small_blind, big_blind: ``int32[]`` blinds (``1 <= small_blind <= big_blind``).
      bits: ``uint32[2 * P + 5]`` random bits (hole cards, then a possible run-out);
        ``uint32[2 * P]`` is enough with ``settle=False``.

      settle: handle hands that the blinds leave without a decision (possible only when a seat
        cannot cover its blind) by running them out. ``False`` is for callers that guarantee
        every seat covers the big blind with chips to spare; it compiles to a much smaller graph.

    Returns the table with the first seat to act, or a finished hand when the blinds leave no
    decision.
    """
    n = rules.num_players
    seats = jnp.arange(n)
    stacks = jnp.asarray(stacks, jnp.int32)
    button = jnp.asarray(button, jnp.int32)
    active = stacks > 0
    # one plan for the whole call: the hole cards, then (when settling) a possible run-out
    cursor = cards.Cursor(cards.predraw(deck, bits[: 2 * n + 5] if settle else bits[: 2 * n]))
    dealt, cursor = cursor.take(2 * n)  # two rounds, one card to each seat from seat 0
    hole = jnp.where(active[:, None], dealt.reshape(2, n).T, jnp.int8(cards.NO_CARD))
    heads_up = jnp.sum(active) == 2
    sb_seat = jnp.where(heads_up & active[button], button, next_seat(active, button))
    bb_seat = next_seat(active, sb_seat)
    # heads-up the button is the small blind: a button on an empty seat moves to it
    button = jnp.where(heads_up, sb_seat, button).astype(jnp.int32)
    small_blind = jnp.asarray(small_blind, jnp.int32)
    big_blind = jnp.asarray(big_blind, jnp.int32)
    blind = jnp.where(seats == sb_seat, small_blind, 0) + jnp.where(seats == bb_seat, big_blind, 0)
    posted = jnp.minimum(blind, stacks)
    zeros = jnp.zeros(n, jnp.int32)
    table = Table(
        deck=deck,
        hole=hole,
        board=jnp.full(5, cards.NO_CARD, jnp.int8),
        start_stack=stacks,
        stack=stacks - posted,
        bet=posted,
        committed=posted,
        payout=zeros,
        folded=~active,
        acted=jnp.zeros(n, jnp.bool_),
        button=button,
        small_blind=small_blind,
        big_blind=big_blind,
        street=jnp.int32(PREFLOP),
        to_act=bb_seat,
        last_raise=big_blind,
        num_bets=jnp.int32(1),
        street_chips=jnp.zeros((4, n), jnp.int32).at[PREFLOP].set(posted),
        street_actions=jnp.zeros((4, n, 3), jnp.int32),
        showdown=jnp.bool_(False),
    )
    if settle:
        return _settle(rules, table, cursor)
    return table.replace(deck=cursor.commit(deck), to_act=next_seat(active, bb_seat))


def _bet_amounts(rules: Rules, table: Table) -> tuple[jax.Array, jax.Array]:
    """Chips the seat to act would put in with each action, and whether the menu allows it.

    Returns ``(int32[A] chips, bool[A] legal)``.
    """
    p = table.to_act
    seats = jnp.arange(rules.num_players)
    me = seats == p
    stack = jnp.sum(jnp.where(me, table.stack, 0))
    my_bet = jnp.sum(jnp.where(me, table.bet, 0))
    acted = jnp.any(me & table.acted)
    max_bet = jnp.max(table.bet)
    to_call = max_bet - my_bet
    total_pot = jnp.sum(table.committed)
    # someone else could put in a chip more than the largest bet (else a raise is pointless)
    others_can_call_more = jnp.any(~table.folded & ~me & (table.stack + table.bet > max_bet))
    # betting is open to a seat that has not acted since the last full raise, or that faces at
    # least a full raise now (several short all-ins that add up to one reopen it: TDA rule 47)
    reopened = to_call >= _full_raise_size(rules, table)
    raise_open = (~acted | reopened) & others_can_call_more
    if rules.fixed_limit:
        raise_open = raise_open & (table.num_bets < rules.raise_cap)
    min_raise_to = max_bet + table.last_raise

    chips, legal = [], []
    for kind, num, den in rules.menu:
        if kind == FOLD:
            chips.append(jnp.int32(0))
            legal.append(to_call > 0)
        elif kind == CALL:
            chips.append(jnp.minimum(to_call, stack))
            legal.append(jnp.bool_(True))
        elif kind == RAISE:
            raise_to = max_bet + (num * (total_pot + to_call)) // den
            put = raise_to - my_bet
            chips.append(put)
            legal.append(raise_open & (raise_to >= min_raise_to) & (put < stack))
        elif kind == ALL_IN:
            chips.append(stack)
            legal.append(raise_open | (stack <= to_call))
        elif kind == LIMIT_RAISE:
            put = jnp.minimum(max_bet + _bet_size(table) - my_bet, stack)
            chips.append(put)
            legal.append(raise_open & (stack > to_call))
        else:  # pragma: no cover - menus are built by the config
            raise ValueError(f"unknown action kind {kind}")
    return jnp.stack(chips).astype(jnp.int32), jnp.stack(legal)


def legal_actions(rules: Rules, table: Table) -> jax.Array:
    """``bool[A]``: legal actions of the seat to act (all False once the hand is over)."""
    return _bet_amounts(rules, table)[1] & (table.street != HAND_OVER)


def act(rules: Rules, table: Table, action: jax.Array, bits: jax.Array) -> Table:
    """Apply a legal ``action`` of the seat to act, then everything up to the next decision.

    ``bits`` is ``uint32[5]``: random bits for the board cards this step may deal.
    """
    n = rules.num_players
    seats = jnp.arange(n)
    p = table.to_act
    me = seats == p
    chips, _ = _bet_amounts(rules, table)
    kinds = jnp.asarray([k for k, _, _ in rules.menu], jnp.int32)
    put = chips[action]
    folding = kinds[action] == FOLD
    max_bet = jnp.max(table.bet)
    new_bet = jnp.sum(jnp.where(me, table.bet, 0)) + put
    increment = new_bet - max_bet
    full_raise = increment >= _full_raise_size(rules, table)
    kind = jnp.where(increment > 0, _AGGRESSIVE, jnp.where(put > 0, _CALLED, _CHECKED))
    history_add = (
        (jnp.arange(4) == table.street)[:, None, None]
        & me[None, :, None]
        & (jnp.arange(3) == kind)[None, None, :]
        & ~folding
    ).astype(jnp.int32)
    table = table.replace(
        stack=table.stack - jnp.where(me, put, 0),
        bet=table.bet + jnp.where(me, put, 0),
        committed=table.committed + jnp.where(me, put, 0),
        folded=table.folded | (me & folding),
        acted=jnp.where(full_raise, me, table.acted | me),
        last_raise=jnp.where(full_raise & ~rules.fixed_limit, increment, table.last_raise),
        num_bets=table.num_bets + full_raise.astype(jnp.int32),
        street_chips=table.street_chips + ((jnp.arange(4) == table.street)[:, None] & me[None, :]) * put,
        street_actions=table.street_actions + history_add,
    )
    return _settle(rules, table, cards.Cursor(cards.predraw(table.deck, bits)))


def _settle(rules: Rules, table: Table, cursor: cards.Cursor) -> Table:
    """After a decision (or the blinds): next seat to act, next street, run-out or payout.

    ``cursor`` reads a plan pre-drawn from ``table.deck`` (with at least 5 cards still to
    take); the board cards dealt here are taken from it and the deck is committed once."""
    n = rules.num_players
    in_hand = ~table.folded
    can_act = in_hand & (table.stack > 0)
    max_bet = jnp.max(table.bet)
    needs_action = can_act & (~table.acted | (table.bet < max_bet))
    lone_matched = (jnp.sum(can_act) <= 1) & jnp.all(~can_act | (table.bet >= max_bet))
    round_over = ~jnp.any(needs_action) | lone_matched
    fold_win = jnp.sum(in_hand) <= 1
    showdown = ~fold_win & round_over & ((table.street == RIVER) | (jnp.sum(can_act) <= 1))
    hand_over = fold_win | showdown
    new_street = round_over & ~hand_over

    # deal: the next street's cards, or the whole rest of the board on a run-out
    have = board_size(table.street)
    want = jnp.where(showdown, 5, jnp.where(new_street, board_size(table.street + 1), have))
    drawn = cursor.peek(5)  # the next street's cards come first
    cursor = cursor.skip(want - have, most=5)
    slot = jnp.arange(5)
    board = jnp.where(
        slot < have, table.board, jnp.where(slot < want, drawn[jnp.clip(slot - have, 0, 4)], cards.NO_CARD)
    ).astype(jnp.int8)

    values = poker_eval.evaluate(jnp.concatenate([table.hole, jnp.broadcast_to(board, (n, 5))], axis=1))
    payout = jnp.where(hand_over, _pay_pots(table.committed, table.folded, values, table.button), 0)

    first_postflop = next_seat(can_act, table.button)
    next_in_round = next_seat(needs_action, table.to_act)
    to_act = jnp.where(hand_over, table.to_act, jnp.where(new_street, first_postflop, next_in_round))
    street = jnp.where(hand_over, HAND_OVER, table.street + new_street.astype(jnp.int32))
    return table.replace(
        deck=cursor.commit(table.deck),
        board=board,
        stack=table.stack + payout,
        payout=payout,
        bet=jnp.where(new_street, 0, table.bet),
        acted=table.acted & ~new_street,
        last_raise=jnp.where(new_street, table.big_blind, table.last_raise),
        num_bets=jnp.where(new_street, 0, table.num_bets),
        street=street.astype(jnp.int32),
        to_act=to_act.astype(jnp.int32),
        showdown=showdown,
    )


def _pay_pots(committed: jax.Array, folded: jax.Array, values: jax.Array, button: jax.Array) -> jax.Array:
    """Pay the main pot and every side pot to the best eligible hands: ``int32[P]``.

    Level ``k`` holds what each seat committed between the ``k-1``-th and ``k``-th smallest
    contribution; the live seats that committed at least the ``k``-th contribution are eligible
    for it. Adjacent levels with the same eligible seats form one pot, which is split in equal
    integer shares among its best hands; the pot's odd chips all go to the first of those winners
    left of the button.
    """
    n = committed.shape[0]
    seats = jnp.arange(n)
    levels = jnp.sort(committed)
    order = (seats - button - 1) % n  # 0 = first seat left of the button
    live = ~folded

    def eligible_at(level):
        eligible = live & (committed >= level)
        # chips above every live seat's contribution go to the live seats
        return jnp.where(jnp.any(eligible), eligible, live)

    pay = jnp.zeros(n, jnp.int32)
    prev = jnp.int32(0)
    pot_chips = jnp.int32(0)
    for k in range(n):
        level = levels[k]
        pot_chips = pot_chips + jnp.sum(jnp.clip(committed, prev, level) - prev)
        eligible = eligible_at(level)
        closes = True if k == n - 1 else jnp.any(eligible != eligible_at(levels[k + 1]))
        best = jnp.max(jnp.where(eligible, values, -1))
        winners = eligible & (values == best)
        count = jnp.maximum(jnp.sum(winners), 1)
        share = pot_chips // count
        odd = pot_chips - share * count
        first = jnp.argmin(jnp.where(winners, order, n))
        won = jnp.where(winners, share, 0) + jnp.where(seats == first, odd, 0)
        pay = pay + jnp.where(closes, won, 0)
        pot_chips = jnp.where(closes, 0, pot_chips)
        prev = level
    return pay.astype(jnp.int32)


def forfeit(table: Table, seats: jax.Array) -> jax.Array:
    """Chip result of each seat when ``seats`` (``bool[P]``) abandon the hand: ``int32[P]``.

    A seat that forfeits loses its whole stack at the start of the hand (``start_stack``: the
    most that any way of playing the hand on could cost it, going all-in and losing). It is paid,
    together with the chips of the seats that already folded, to the other seats still in the
    hand in equal integer shares, as their winnings from a fold; the odd chips all go to the
    first of them left of the button. Folded seats lose what they committed; seats sitting out
    and the receivers' own committed chips are untouched. Sums to zero.
    """
    n = table.committed.shape[0]
    seats_idx = jnp.arange(n)
    out = seats & ~table.folded
    receivers = ~table.folded & ~out
    count = jnp.maximum(jnp.sum(receivers), 1)
    folded_chips = jnp.where(table.folded & ~out, table.committed, 0)
    pool = jnp.sum(jnp.where(out, table.start_stack, 0)) + jnp.sum(folded_chips)
    share = pool // count
    odd = pool - share * count
    order = (seats_idx - table.button - 1) % n
    first = jnp.argmin(jnp.where(receivers, order, n))
    won = jnp.where(receivers, share, 0) + jnp.where(seats_idx == first, odd, 0)
    return (won - jnp.where(out, table.start_stack, 0) - folded_chips).astype(jnp.int32)
