"""Hold'em rules by the book, on hand-built positions: pots merged by eligibility, odd chips
per pot, acting order for every button placement, short all-ins that add up to a full raise
(TDA rule 47), and no raise when nobody can call more."""

from __future__ import annotations

import numpy as np
import pytest
from holdem_helpers import check_chips, legal_names, make, play, start, table

from htjax.envs.holdem import rules as R

ROYAL_BOARD = ["Ts", "Js", "Qs", "Ks", "As"]  # the board plays: every live seat ties
RAISES = {"raise 1/3 pot", "raise 1/2 pot", "raise 2/3 pot", "raise 1 pot", "raise 1.5 pot", "raise 2 pot"}


# ---------------------------------------------------------------- pots and odd chips
def test_levels_with_the_same_eligible_seats_are_one_pot_and_pay_one_odd_chip_at_most():
    """Folds at 1, 2 and 5 chips, two tied winners at 12: one 32-chip pot, 16 each.

    Split level by level (1*5, 1*4, 3*3, 7*2 chips) the 5- and 9-chip levels would each give
    their odd chip to the first winner: 17 and 15.
    """
    env = make(num_players=5)
    hole = [["2c", "3d"], ["4c", "5d"], ["2d", "3c"], ["4d", "5c"], ["2h", "3h"]]
    s = start(env, hole, ROYAL_BOARD, stacks=[100] * 5, button=0)
    # preflop (UTG 3, CO 4, button 0, SB 1, BB 2): three calls, the SB folds, the BB checks
    s = play(env, s, "call", "call", "call", "fold", "check")
    # flop (BB 2 first): check, UTG bets 3 (1/3 of 9), CO raises to 10, button calls, BB and UTG fold
    s = play(env, s, "check", "raise 1/3 pot", "raise 1/2 pot", "call", "fold", "fold")
    np.testing.assert_array_equal(table(s).committed, [12, 1, 2, 5, 12])
    s = play(env, s, *["check"] * 4)  # turn and river: CO (4) then the button
    t = table(s)
    assert bool(t.showdown)
    np.testing.assert_array_equal(t.payout, [16, 0, 0, 0, 16])
    check_chips(s)


def test_a_pots_odd_chips_all_go_to_the_first_winner_left_of_the_button():
    """Six seats, the SB folds 1 chip, five see a checked-down 11-chip pot; three kings tie."""
    env = make(num_players=6)
    hole = [["Kc", "3d"], ["5c", "6d"], ["3c", "4d"], ["Kd", "3h"], ["4h", "5h"], ["Kh", "4s"]]
    s = start(env, hole, ["9c", "Tc", "Jd", "Qh", "2s"], stacks=[100] * 6, button=0)
    s = play(env, s, "call", "call", "call", "call", "fold", "check")
    s = play(env, s, *["check"] * 15)
    t = table(s)
    assert bool(t.showdown) and int(t.committed.sum()) == 11
    # 11 = 3 * 3 + 2: both odd chips to seat 3, the first winner left of the button (seat 0)
    np.testing.assert_array_equal(t.payout, [3, 0, 0, 5, 0, 3])
    check_chips(s)


def test_side_pots_still_split_on_their_own():
    """Levels with different eligible seats stay separate pots, each with its own odd chips."""
    env = make(num_players=4)
    hole = [["2c", "3d"], ["4c", "5d"], ["2d", "3c"], ["4d", "5c"]]
    s = start(env, hole, ROYAL_BOARD, stacks=[100, 100, 12, 100], button=0)
    # UTG (3) and the button call, the SB folds 1 chip, the BB is all-in for 12, both call
    s = play(env, s, "call", "call", "fold", "all-in", "call", "call")
    s = play(env, s, "raise 1/2 pot", "call")  # flop: UTG bets 18 into 37, the button calls
    s = play(env, s, *["check"] * 4)
    t = table(s)
    np.testing.assert_array_equal(t.committed, [30, 1, 12, 30])
    # main pot 1 + 3 * 12 = 37 three ways: 12 each, the odd chip to seat 2 (first left of the
    # button); side pot 2 * 18 = 36 two ways. (One 73-chip pot would pay 25, 24, 24.)
    np.testing.assert_array_equal(t.payout, [30, 0, 13, 30])
    check_chips(s)


# ---------------------------------------------------------------- acting order
def _expected_order(stacks, button):
    """Blinds, first to act preflop and after the flop by the rules text (a seat-by-seat walk)."""
    n = len(stacks)
    active = [s for s in range(n) if stacks[s] > 0]

    def left_of(seat):
        return next(s for s in [(seat + i) % n for i in range(1, n + 1)] if s in active)

    if len(active) == 2:
        sb = button if button in active else left_of(button)
        eff_button = sb
    else:
        sb, eff_button = left_of(button), button
    bb = left_of(sb)
    return eff_button, sb, bb, left_of(bb), left_of(eff_button)


@pytest.mark.parametrize(
    "stacks",
    [
        [100, 100],
        [100, 100, 100],
        [0, 100, 100],
        [100, 0, 100],
        [100, 100, 100, 100, 100, 100],
        [100, 0, 100, 100, 0, 100],
        [0, 0, 100, 0, 100, 0],
        [0, 100, 0, 0, 0, 100],
    ],
)
def test_blinds_and_acting_order_for_every_button_placement(stacks):
    env = make(num_players=len(stacks))
    for button in range(len(stacks)):
        button_seat, sb, bb, first_pre, first_post = _expected_order(stacks, button)
        s = start(env, stacks=stacks, button=button)
        t = table(s)
        assert int(t.button) == button_seat, (button, t.button)
        posted = np.zeros(len(stacks), np.int32)
        posted[sb], posted[bb] = 1, 2
        np.testing.assert_array_equal(t.bet, posted)
        assert int(s.current_player) == first_pre, (button, int(s.current_player))
        while int(table(s).street) == R.PREFLOP:
            s = play(env, s, "call")  # everybody calls, the big blind checks
        assert int(s.current_player) == first_post, (button, int(s.current_player))


@pytest.mark.parametrize("button", [0, 1, 2])
def test_heads_up_on_a_three_seat_table_the_big_blind_acts_first_after_the_flop(button):
    """Seat 0 sits out. A button given on it moves to seat 1, which posts the small blind."""
    env = make(num_players=3)
    s = start(env, [["2c", "3d"], ["4c", "5d"], ["6c", "7d"]], stacks=[0, 100, 100], button=button)
    sb = 2 if button == 2 else 1
    bb = 3 - sb
    assert int(table(s).button) == sb and int(table(s).bet[sb]) == 1 and int(table(s).bet[bb]) == 2
    assert int(s.current_player) == sb
    s = play(env, s, "call")
    assert int(s.current_player) == bb
    s = play(env, s, "check")
    for _ in range(3):  # flop, turn, river: the big blind first, the button last
        assert int(s.current_player) == bb
        s = play(env, s, "check")
        assert int(s.current_player) == sb or bool(s.terminated)
        s = play(env, s, "check")
    assert bool(s.terminated)


# ---------------------------------------------------------------- reopening the betting
def _flop_with_short_stacks(second_all_in):
    """Four seats, button 0, all call 2 preflop; on the flop (pot 8) the SB (seat 1) bets 8,
    the BB (seat 2) is all-in for 12 and UTG (seat 3) all-in for ``second_all_in``."""
    env = make(num_players=4)
    s = start(env, stacks=[300, 300, 14, 2 + second_all_in], button=0)
    s = play(env, s, "call", "call", "call", "check")
    s = play(env, s, "raise 1 pot", "all-in", "all-in", "call")  # the button calls
    np.testing.assert_array_equal(table(s).bet, [second_all_in, 8, 12, second_all_in])
    assert int(s.current_player) == 1 and int(table(s).last_raise) == 8
    return env, s


def test_short_all_ins_that_add_up_to_a_full_raise_reopen_the_betting():
    env, s = _flop_with_short_stacks(16)  # 4 + 4 more: the SB faces 8, a full raise
    legal = legal_names(env, s)
    assert {"fold", "check/call", "all-in"} <= legal and "raise 1/3 pot" in legal
    s = play(env, s, "raise 1/3 pot")  # to 16 + (60 + 8) // 3 = 38
    assert int(table(s).bet[1]) == 38 and int(table(s).last_raise) == 22
    check_chips(s)


def test_short_all_ins_below_a_full_raise_do_not_reopen_the_betting():
    env, s = _flop_with_short_stacks(15)  # 4 + 3 more: the SB faces 7, less than 8
    assert legal_names(env, s) == {"fold", "check/call"}


def test_a_check_then_a_short_all_in_bet_does_not_reopen_the_betting():
    """Facing an all-in bet below the minimum bet, a seat that checked may only call or fold."""
    env = make(num_players=3)
    s = start(env, stacks=[300, 300, 3], button=0)
    s = play(env, s, "call", "call", "check")  # BB has 1 chip left
    s = play(env, s, "check", "all-in")  # SB checks, BB bets its last chip
    assert int(s.current_player) == 0 and "raise 1/2 pot" in legal_names(env, s)  # button: not acted
    s = play(env, s, "call")
    assert int(s.current_player) == 1 and legal_names(env, s) == {"fold", "check/call"}


# ---------------------------------------------------------------- nobody can call more
def test_no_raise_sizes_when_no_opponent_can_call_more_chips():
    env = make(num_players=3)
    # button shoves 200; the BB (10 chips) can call no more than its 10: the SB may only call or fold
    s = start(env, stacks=[200, 300, 10], button=0)
    s = play(env, s, "all-in")
    assert legal_names(env, s) == {"fold", "check/call"}
    # with a BB that covers more than 200, the SB may raise
    s = start(env, stacks=[200, 1000, 1000], button=0)
    s = play(env, s, "all-in")
    assert "all-in" in legal_names(env, s) and legal_names(env, s) & RAISES
