"""Cross-check htjax hold'em against pokerkit, an independent engine, over whole random hands.

Each hand gets 2..6 players with unequal stacks (some too short for a blind), a random button
(on a 6-seat table with empty seats in half the hands, so dead buttons and heads-up on a bigger
table occur) and a random deck. Both engines are dealt the same cards; htjax picks a random
legal action at every decision and pokerkit is given the same action. After every action
(and after the blinds) the two are compared:

* **acting order**: htjax's ``current_player`` and pokerkit's ``actor_index``, and whether
  the hand is over;
* **chips**: every seat's stack, bet on this street and chips committed in the hand;
* **pots**: htjax's main and side pots (``public_view``'s ``pots``) and pokerkit's ``pots``
  (amounts and eligible seats), whenever no bet is outstanding (pokerkit's pots hold only the
  chips collected at the end of a street);
* **legality** of every htjax action id (the mapping is below), the chips to call and the
  **minimum raise** (pokerkit's ``min_completion_betting_or_raising_to_amount``);
* the **board** dealt so far, and at the end every seat's **final stack and payoff**.

Mapping between the engines (the only translation; no comparison is skipped):

* Seats: pokerkit lists players from the small blind round to the button, so pokerkit player
  ``i`` is the ``i``-th seat with chips left of the button (heads-up: the big blind, then the
  button, which is the small blind). The seat order is derived here from the rules text, not
  read from htjax: a button on an empty seat stays dead with 3+ players and moves to the small
  blind heads-up (docs/envs/holdem.md).
* Actions: fold -> ``fold``; check/call -> ``check_or_call``; raise ``f`` pot -> raise to
  ``max_bet + floor(f * (pot + to_call))`` computed from pokerkit's own bets and pot; all-in ->
  raise to the whole stack, or ``check_or_call`` when the stack does not cover the call. An htjax
  raise size is legal iff pokerkit accepts that raise-to amount and it needs fewer chips than
  the whole stack (that size is the all-in action in htjax's menu); fold is legal iff pokerkit
  (tournament mode) accepts a fold.
* pokerkit burns a card before each street; the script burns an unknown card (``??``) so that
  both engines deal the hand's board.
* pokerkit asks the last seat with chips to check when it has matched every bet and nobody can
  call a raise (say the big blind after everyone else folded or went all-in for less); htjax
  has nothing to decide there and goes on. The script makes that check for pokerkit (it moves
  no chip) and counts it.
* Two of pokerkit's choices differ from the rules as written, so pokerkit is held to the book
  here and the summary counts how often that changed its answer (``pokerkit_rule_adjustments``):
  (1) **reopening the betting** (TDA rule 47): pokerkit measures whether a wager is full
  against the largest raise so far on the street, which starts at 0, so an all-in raise or bet
  below the big blind counts as full and reopens the betting to seats that already acted; and
  after short all-ins add up to a full raise, a later short all-in closes the betting again to
  a seat that faces a full raise. The script keeps the seats that acted since the last full
  raise itself (full = at least the larger of the big blind and the largest raise so far, the
  floor pokerkit itself uses for the minimum raise), lets such a seat raise only when it faces
  a full raise, and asks pokerkit everything else about a raise (amounts, stack, whether anybody
  could call) with pokerkit's own reopening bookkeeping cleared. (2) **pots at the showdown**:
  pokerkit kills the hands that cannot win and then forms the pots from the hands left, which
  merges a main pot and a side pot (one odd chip instead of two); the pots are fixed when the
  showdown begins (``BookState``) and pokerkit awards each one.

Exits 1 on any difference. Writes a JSON summary (default ``docs/bench/crosscheck_pokerkit.json``).

    python scripts/crosscheck_pokerkit.py [--hands 5000] [--seed 0] [--batch 256] [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import functools
import json
import pathlib
import sys
import time
import warnings

import jax
import numpy as np

import htjax
from htjax.core import cards
from htjax.envs.holdem import rules as R
from htjax.envs.holdem.views import side_pots

ROOT = pathlib.Path(__file__).resolve().parent.parent
SMALL_BLIND, BIG_BLIND = 1, 2


# ---------------------------------------------------------------- pokerkit, held to the book
@functools.cache
def _pokerkit():
    import pokerkit

    class BookState(pokerkit.State):
        """pokerkit's ``State`` whose pots are fixed when the showdown begins.

        pokerkit mucks (kills) the hands that cannot win and then forms the pots from the hands
        left, so levels that had different eligible seats (an all-in loser's main pot and a
        side pot) merge into one pot and share one odd chip. By the book each main and side pot
        is awarded on its own, with its own odd chip; so the pots are the ones formed from the
        hands that reached the showdown (all-in seats included), and pokerkit still picks each
        pot's winners and splits it.
        """

        book_pots = None
        merged_by_killing = 0  # hands where pokerkit's own pots would have been fewer

        def _begin_showdown(self):
            self.book_pots = [
                pokerkit.state.Pot(p.raked_amount, p.unraked_amount, p.player_indices) for p in self.pots
            ]
            super()._begin_showdown()

        @property
        def pots(self):
            if self._pots is None and self.book_pots is not None and sum(self.statuses) > 1:
                own = list(pokerkit.State.pots.fget(self))
                type(self).merged_by_killing += len(own) < len(self.book_pots)
                yield from (
                    pokerkit.state.Pot(p.raked_amount, p.unraked_amount, p.player_indices)
                    for p in self.book_pots
                )
                return
            yield from pokerkit.State.pots.fget(self)

    return pokerkit, BookState


# ---------------------------------------------------------------- hands
@dataclasses.dataclass(frozen=True)
class Hand:
    """One hand to play in both engines.

    ``stacks[s]`` are the chips of htjax seat ``s`` (0 = an empty seat), ``hole[s]`` its two
    cards (dealt but discarded for an empty seat), ``board`` the five board cards, ``seed``
    drives the random actions.
    """

    num_seats: int
    stacks: tuple[int, ...]
    button: int
    hole: tuple[tuple[str, str], ...]
    board: tuple[str, ...]
    seed: int


def random_hands(count: int, seed: int, table_seats: int | None = None) -> list[Hand]:
    """``count`` hands of 2..6 players: half of them at a 6-seat table with empty seats, half at
    a table of their size; or all at a ``table_seats``-seat table (>= 6)."""
    rng = np.random.default_rng(seed)
    hands = []
    for _ in range(count):
        players = int(rng.integers(2, 7))
        seats = table_seats or (6 if rng.random() < 0.5 else players)
        active = np.sort(rng.choice(seats, players, replace=False))
        stacks = np.zeros(seats, np.int64)
        for s in active:
            r = rng.random()
            # short stacks (some below a blind) make short all-ins and side pots common
            stacks[s] = (
                rng.integers(1, 8) if r < 0.25 else rng.integers(8, 60) if r < 0.6 else rng.integers(60, 400)
            )
        deck = [cards.card_to_str(c) for c in rng.permutation(cards.DECK_SIZE)]
        hole = tuple((deck[2 * s], deck[2 * s + 1]) for s in range(seats))
        hands.append(
            Hand(
                num_seats=seats,
                stacks=tuple(int(x) for x in stacks),
                button=int(rng.integers(seats)),
                hole=hole,
                board=tuple(deck[2 * seats : 2 * seats + 5]),
                seed=int(rng.integers(2**31)),
            )
        )
    return hands


def seat_order(hand: Hand) -> list[int]:
    """htjax seats in pokerkit's player order (from the rules text: see the module docstring)."""
    n = hand.num_seats
    active = [s for s in range(n) if hand.stacks[s] > 0]

    def left_of(seat: int) -> int:
        return next((seat + k) % n for k in range(1, n + 1) if (seat + k) % n in active)

    button = hand.button
    if len(active) == 2 and button not in active:
        button = left_of(button)  # heads-up the button moves to the small blind
    first = left_of(button)
    return [s for s in [(first + k) % n for k in range(n)] if s in active]


# ---------------------------------------------------------------- htjax side, batched
@functools.cache
def _programs(num_seats: int):
    env = htjax.make("holdem", num_players=num_seats, small_blind=SMALL_BLIND, big_blind=BIG_BLIND)
    init = jax.jit(jax.vmap(lambda k, d, s, b: env.init_hand(k, deck=d, stacks=s, button=b)))
    step = jax.jit(jax.vmap(env.step))
    return env, init, step


def _host(state):
    t = state.table
    return jax.device_get(
        {
            "player": state.current_player,
            "mask": state.legal_action_mask,
            "over": state.terminated,
            "rewards": state.rewards,
            "stack": t.stack,
            "bet": t.bet,
            "committed": t.committed,
            "folded": t.folded,
            "street": t.street,
            "last_raise": t.last_raise,
            "board": t.board,
            "button": t.button,
        }
    )


# ---------------------------------------------------------------- one hand in pokerkit
class PokerkitHand:
    """pokerkit's side of one hand: deals the hand's cards and applies htjax's action ids.

    Reopening the betting (TDA rule 47) is decided here rather than by pokerkit (see the module
    docstring): ``acted`` holds the players (pokerkit indices) who acted since the last full
    bet or raise on this street, where full means at least ``max(largest raise so far, big
    blind)``; such a player may raise again only when facing at least a full raise.
    """

    def __init__(self, hand: Hand, menu, counts: collections.Counter):
        pk, book_state = _pokerkit()
        self.pk = pk
        self.hand = hand
        self.menu = menu
        self.counts = counts
        self.order = seat_order(hand)
        self.finished = False
        self.index = {seat: i for i, seat in enumerate(self.order)}
        game = pk.NoLimitTexasHoldem(
            (pk.Automation.ANTE_POSTING, pk.Automation.BET_COLLECTION, pk.Automation.BLIND_OR_STRADDLE_POSTING,
             pk.Automation.HOLE_CARDS_SHOWING_OR_MUCKING, pk.Automation.HAND_KILLING,
             pk.Automation.CHIPS_PUSHING, pk.Automation.CHIPS_PULLING),
            True,  # ante trimming (no antes here)
            0,
            (SMALL_BLIND, BIG_BLIND),
            BIG_BLIND,
            mode=pk.Mode.TOURNAMENT,
        )  # fmt: skip
        self.state = book_state(
            game.automations, game.deck, game.hand_types, game.streets, game.betting_structure,
            game.ante_trimming_status, game.raw_antes, game.raw_blinds_or_straddles, game.bring_in,
            [hand.stacks[s] for s in self.order], len(self.order), mode=game.mode,
        )  # fmt: skip
        for seat in self.order:
            self.state.deal_hole("".join(hand.hole[seat]))
        self.street = None
        self.acted: set[int] = set()
        self._advance()

    def _advance(self):
        """Deal the board (the hand's cards) until a decision or the end of the hand.

        A decision that pokerkit asks for but htjax skips is made here: a check by a player who
        faces no bet and may not raise (the only seat with chips left, having matched every
        bet); it moves no chip, and htjax goes straight on (to the next street or the run-out).
        """
        st = self.state
        while st.status:
            if st.street_index != self.street:
                self.street, self.acted = st.street_index, set()
            if st.actor_index is None:
                if st.can_burn_card():
                    st.burn_card("??")  # face down and unknown: the board stays the hand's
                elif st.can_deal_board():
                    dealt = len(st.board_cards)
                    st.deal_board("".join(self.hand.board[dealt : dealt + (3 if dealt == 0 else 1)]))
                else:  # pragma: no cover - every other step is automated
                    raise AssertionError(f"pokerkit waits for an operation the script does not make: {st}")
            elif self._facing() == 0 and not self._can_raise():
                self.acted.add(st.actor_index)
                st.check_or_call()
                self.counts["checks with no alternative that pokerkit asks for and htjax skips"] += 1
            else:
                break

    @property
    def actor(self):
        i = self.state.actor_index
        return None if i is None else self.order[i]

    def pots(self):
        return [
            {"amount": p.amount, "eligible": sorted(self.order[i] for i in p.player_indices)}
            for p in self.state.pots
        ]

    # ------------------------------------------------------------ TDA rule 47
    def _full_raise(self) -> int:
        st = self.state
        return max(
            st.completion_betting_or_raising_amount, st.street.min_completion_betting_or_raising_amount
        )

    def _facing(self) -> int:
        st = self.state
        return max(st.bets) - st.bets[st.actor_index]

    def _raise_open(self) -> bool:
        return self.state.actor_index not in self.acted or self._facing() >= self._full_raise()

    def _without_pokerkit_reopening(self, fn):
        """``fn()`` with pokerkit's own reopening bookkeeping cleared (the rule is applied here)."""
        st = self.state
        saved = set(st.acted_player_indices), list(st.consecutive_short_all_in_amounts)
        st.acted_player_indices.clear()
        st.consecutive_short_all_in_amounts.clear()
        try:
            return fn()
        finally:
            st.acted_player_indices |= saved[0]
            st.consecutive_short_all_in_amounts[:] = saved[1]

    def _can_raise(self) -> bool:
        st = self.state
        return self._raise_open() and self._without_pokerkit_reopening(
            lambda: st.min_completion_betting_or_raising_to_amount is not None
        )

    def can_raise_to(self, amount: int) -> bool:
        st = self.state
        own = st.can_complete_bet_or_raise_to(amount)
        book = self._raise_open() and self._without_pokerkit_reopening(
            lambda: st.can_complete_bet_or_raise_to(amount)
        )
        if own != book:
            self.counts["raise answers where pokerkit's own reopening rule differs from TDA 47"] += 1
        return book

    # ------------------------------------------------------------ htjax actions
    def _raise_to(self, num, den):
        st = self.state
        return max(st.bets) + (num * (st.total_pot_amount + self._facing())) // den

    def legal(self):
        """``bool`` per htjax action id, from pokerkit's answers (reopening by TDA rule 47)."""
        st = self.state
        i = st.actor_index
        all_in_to = st.stacks[i] + st.bets[i]
        covers_call = st.stacks[i] > self._facing()
        out = []
        for kind, num, den in self.menu:
            if kind == R.FOLD:
                out.append(st.can_fold())
            elif kind == R.CALL:
                out.append(st.can_check_or_call())
            elif kind == R.RAISE:
                to = self._raise_to(num, den)
                out.append(to < all_in_to and self.can_raise_to(to))
            elif kind == R.ALL_IN:
                out.append(self.can_raise_to(all_in_to) if covers_call else st.can_check_or_call())
            else:  # pragma: no cover - no-limit menus only
                raise AssertionError(kind)
        return out

    def apply(self, action: int):
        st = self.state
        kind, num, den = self.menu[action]
        i = st.actor_index
        full, before = self._full_raise(), max(st.bets)
        if kind == R.FOLD:
            st.fold()
        elif kind == R.CALL or (kind == R.ALL_IN and st.stacks[i] <= self._facing()):
            st.check_or_call()
        else:
            to = self._raise_to(num, den) if kind == R.RAISE else st.stacks[i] + st.bets[i]
            try:
                st.complete_bet_or_raise_to(to)
            except ValueError:  # refused only by pokerkit's own reopening rule (legal() said yes)
                self._without_pokerkit_reopening(lambda: st.complete_bet_or_raise_to(to))
        if max(st.bets) - before >= full:
            self.acted = set()  # a full bet or raise reopens the betting to everyone else
        self.acted.add(i)
        self._advance()


# ---------------------------------------------------------------- comparison
class Report:
    """Counts of comparisons, differences and situations covered."""

    def __init__(self):
        self.checks = collections.Counter()
        self.differences = collections.Counter()
        self.coverage = collections.Counter()
        self.examples: list[str] = []

    def check(self, what: str, ours, theirs, where: str):
        self.checks[what] += 1
        if ours != theirs:
            self.differences[what] += 1
            if len(self.examples) < 20:
                self.examples.append(f"{where}: {what}: htjax {ours!r} vs pokerkit {theirs!r}")

    @property
    def total_differences(self) -> int:
        return sum(self.differences.values())


def _compare(report: Report, env, h: dict, pk: PokerkitHand, where: str):
    n = pk.hand.num_seats
    st = pk.state
    if pk.finished:
        return
    over = bool(h["over"])
    report.check("hand over", over, not st.status, where)
    if over != (not st.status):
        pk.finished = True  # the engines diverged: the rest of this hand cannot be compared
        return
    seats = pk.order
    if not over and st.status:
        report.check("acting seat", int(h["player"]), pk.actor, where)
        report.check("street", int(h["street"]), st.street_index, where)
        report.check("stacks", [int(h["stack"][s]) for s in seats], list(st.stacks), where)
        report.check("bets", [int(h["bet"][s]) for s in seats], list(st.bets), where)
        report.check("committed", [int(h["committed"][s]) for s in seats], [-p for p in st.payoffs], where)
        report.check("live seats", [not bool(h["folded"][s]) for s in seats], list(st.statuses), where)
        board = [cards.card_to_str(c) for c in h["board"] if c >= 0]
        report.check("board", board, [repr(c[0]) for c in st.board_cards], where)
        if pk.actor is not None and pk.actor == int(h["player"]):
            legal = [bool(x) for x in h["mask"]]
            report.check("legal actions", legal, pk.legal(), where)
            me = int(h["player"])
            to_call = int(h["bet"].max() - h["bet"][me])
            report.check(
                "chips to call", min(to_call, int(h["stack"][me])), st.checking_or_calling_amount, where
            )
            theirs = st.min_completion_betting_or_raising_to_amount
            if theirs is not None:
                ours = min(int(h["bet"].max() + h["last_raise"]), int(h["stack"][me] + h["bet"][me]))
                report.check("minimum raise", ours, theirs, where)
            else:
                report.checks["minimum raise (no raise possible)"] += 1
        if not any(st.bets):
            collected = h["committed"] - h["bet"]
            ours = side_pots(np.asarray(collected), ~np.asarray(h["folded"]))
            report.check("pots", ours, pk.pots(), where)
            report.coverage["side pots seen"] += len(ours) > 1
    if over and not st.status and not pk.finished:
        pk.finished = True  # the step that ended the hand (later steps are no-ops with zero rewards)
        report.check("final stacks", [int(h["stack"][s]) for s in seats], list(st.stacks), where)
        report.check(
            "payoffs",
            [round(float(h["rewards"][s]) * BIG_BLIND) for s in seats],
            list(st.payoffs),
            where,
        )
        report.check("empty seats untouched", [int(h["stack"][s]) for s in range(n) if s not in pk.index],
                     [0] * (n - len(seats)), where)  # fmt: skip


def _pick(rng: np.random.Generator, mask: np.ndarray) -> int:
    """A random legal action; folding is made rare so that hands go on to later streets."""
    legal = np.flatnonzero(mask)
    weights = np.where(legal == 0, 0.15, 1.0)
    return int(rng.choice(legal, p=weights / weights.sum()))


def crosscheck(hands: list[Hand], batch: int = 256, report: Report | None = None) -> Report:
    """Play ``hands`` in both engines and compare them after every action."""
    report = report or Report()
    by_size = collections.defaultdict(list)
    for i, hand in enumerate(hands):
        by_size[hand.num_seats].append(i)
    for num_seats, indices in sorted(by_size.items()):
        env, init, step = _programs(num_seats)
        menu = env.rules.menu
        for lo in range(0, len(indices), batch):
            group = [hands[i] for i in indices[lo : lo + batch]]
            _play_group(report, env, init, step, menu, group, indices[lo : lo + batch], batch)
    return report


def _play_group(report, env, init, step, menu, group, ids, batch):
    size = len(group)
    width = batch  # every group padded to one shape: one compiled program per table size
    padded = group + [group[-1]] * (width - size)
    decks = [env.stacked_deck([list(h.hole[s]) for s in range(h.num_seats)], list(h.board)) for h in padded]
    deck = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *decks)
    keys = jax.random.split(jax.random.PRNGKey(0), width)
    stacks = np.asarray([h.stacks for h in padded], np.int32)
    buttons = np.asarray([h.button for h in padded], np.int32)
    state = init(keys, deck, stacks, buttons)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pokerkit warning (say, burned chips) is a failure
        pks = [PokerkitHand(h, menu, report.coverage) for h in group]
    rngs = [np.random.default_rng(h.seed) for h in group]
    t = 0
    while True:
        host = _host(state)
        actions = np.ones(width, np.int32)
        for b in range(size):
            h = {k: v[b] for k, v in host.items()}
            where = f"hand {ids[b]} action {t}"
            _compare(report, env, h, pks[b], where)
            if pks[b].finished or bool(h["over"]) or not pks[b].state.status:
                continue
            a = _pick(rngs[b], np.asarray(h["mask"]))
            actions[b] = a
            kind = menu[a][0]
            report.coverage[f"actions: {('fold', 'check/call', 'raise', 'all-in')[kind]}"] += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    pks[b].apply(a)
            except (ValueError, UserWarning) as error:  # counted as a legality difference already
                report.check("hand played to its end", "yes", f"pokerkit refused {menu[a]}: {error}", where)
                pks[b].finished = True
        if bool(np.all(host["over"][:size])):
            break
        skeys = jax.random.split(jax.random.PRNGKey(t + 1), width)
        state = step(state, actions, skeys)
        t += 1
    for b, hand in enumerate(group):
        _cover(report, hand, pks[b])


def _cover(report: Report, hand: Hand, pk: PokerkitHand):
    players = len(pk.order)
    report.coverage[f"hands with {players} players"] += 1
    report.coverage["hands at a 6-seat table with empty seats"] += hand.num_seats != players
    report.coverage["dead button (button seat empty)"] += hand.stacks[hand.button] == 0
    report.coverage["seats short of a blind"] += sum(0 < s <= BIG_BLIND for s in hand.stacks)
    ops = pk.state.operations
    pushes = [op for op in ops if isinstance(op, pk.pk.ChipsPushing)]
    report.coverage["showdowns"] += any(isinstance(op, pk.pk.HoleCardsShowingOrMucking) for op in ops)
    report.coverage["pots paid"] += len(pushes)
    report.coverage["split pots"] += sum(sum(a > 0 for a in op.amounts) > 1 for op in pushes)
    report.coverage["side pots paid (pot index > 0)"] += sum(op.pot_index > 0 for op in pushes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument(
        "--out", type=pathlib.Path, default=ROOT / "docs" / "bench" / "crosscheck_pokerkit.json"
    )
    args = parser.parse_args(argv)
    _, book_state = _pokerkit()
    start = time.perf_counter()
    report = crosscheck(random_hands(args.hands, args.seed), batch=args.batch)
    seconds = time.perf_counter() - start
    summary = {
        "hands": args.hands,
        "seed": args.seed,
        "differences": report.total_differences,
        "differences_by_check": dict(sorted(report.differences.items())),
        "comparisons": dict(sorted(report.checks.items())),
        "coverage": dict(sorted(report.coverage.items())),
        "pokerkit_rule_adjustments": {
            "decisions where pokerkit's own TDA 47 answer differed": report.coverage[
                "raise answers where pokerkit's own reopening rule differs from TDA 47"
            ],
            "hands whose pots pokerkit's hand killing would have merged": book_state.merged_by_killing,
            "checks with no alternative that pokerkit asks for and htjax skips": report.coverage[
                "checks with no alternative that pokerkit asks for and htjax skips"
            ],
        },
        "examples": report.examples,
        "seconds": round(seconds, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: summary[k]
                for k in ("hands", "differences", "differences_by_check", "pokerkit_rule_adjustments")
            },
            indent=2,
        )
    )
    print(f"comparisons: {sum(report.checks.values()):,} in {seconds:.0f} s; summary in {args.out}")
    return 1 if report.total_differences else 0


if __name__ == "__main__":
    sys.exit(main())
