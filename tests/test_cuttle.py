"""Cuttle rules from hand-built positions: every move type and phase (two-player variants).

Each test builds a position with ``Cuttle.position`` and plays named moves through one jitted
step per variant (``cuttle_helpers.game``); the checks read the board's host arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuttle_helpers import controller, do, field_points, game, hand, legal, observer, owner, phase, zone

import htjax
from htjax.envs.cuttle import actions as A


def pos(variant="classic", **kw):
    return game(variant)[0].position(**kw)


# ---------------------------------------------------------------------------- basic moves
def test_cuttle__draw_takes_the_top_card_and_passes_the_turn():
    s = pos(hands=[["As"], ["2c"]], deck=["9h", "3d"])
    s = do("classic", s, "draw")
    assert hand(s, 0) == ["As", "9h"] and zone(s, "3d") == "deck"
    assert int(s.current_player) == 1


def test_cuttle__hand_limit_stops_drawing():
    full = ["Ac", "2c", "3c", "4c", "5c", "6c", "7c", "8c"]
    s = pos(hands=[full, ["2d"]], deck=["9h"])
    assert not legal(s, "draw") and legal(s, "points", "Ac")
    s = pos(hands=[full[:7], ["2d"]], deck=["9h"])
    assert legal(s, "draw")


def test_cuttle__points_add_the_cards_value():
    s = pos(hands=[["Tc", "Ad"], ["2c"]])
    s = do("classic", s, "points", "Tc")
    assert zone(s, "Tc") == "point" and field_points(s, 0) == 10
    assert not legal(s, "points", "2c") or int(s.current_player) == 1


def test_cuttle__scuttle_needs_a_higher_card_and_scraps_both():
    s = pos(hands=[["7c", "7h", "6s"], []], points={1: ["7d"]})
    assert legal(s, "scuttle", "7h", "7d")  # same rank, higher suit
    for low in ("7c", "6s"):  # a lower card has no scuttle action at all: the table never offers it
        with pytest.raises(htjax.HtjaxError, match="no cuttle action"):
            A.action_id("scuttle", low, "7d")
    s = do("classic", s, "scuttle", "7h", "7d")
    assert zone(s, "7h") == zone(s, "7d") == "scrap" and field_points(s, 1) == 0


def test_cuttle__royals_and_glasses_go_to_the_field():
    s = pos(hands=[["8c", "Qd", "Kh"], ["2c"]])
    s = do("classic", s, "royal", "8c")
    assert zone(s, "8c") == "royal" and owner(s, "8c") == 0


# ---------------------------------------------------------------------------- one-offs and counters
def test_cuttle__ace_destroys_every_point_card_and_the_jacks_on_them():
    s = pos(hands=[["Ac"], ["3c"]], points={0: ["9h"], 1: ["Td", "4s"]}, attached=[("Jc", "4s", 0)])
    s = do("classic", s, "one-off", "Ac")
    assert phase(s) == "counter" and int(s.current_player) == 1 and zone(s, "Ac") == "stack"
    s = do("classic", s, "resolve")
    assert all(zone(s, c) == "scrap" for c in ("9h", "Td", "4s", "Jc", "Ac"))
    assert phase(s) == "main" and int(s.current_player) == 1


def test_cuttle__a_counter_stops_a_one_off_and_a_counter_counter_lets_it_through():
    start = pos(hands=[["Ac", "2h"], ["2c", "3c"]], points={1: ["Td"]})
    s = do("classic", start, "one-off", "Ac")
    s = do("classic", s, "counter", "2c")
    assert int(s.current_player) == 0 and int(s.board.counters) == 1
    fizzled = do("classic", s, "resolve")  # seat 0 lets the counter stand
    assert zone(fizzled, "Td") == "point" and zone(fizzled, "Ac") == zone(fizzled, "2c") == "scrap"
    assert int(fizzled.current_player) == 1 and phase(fizzled) == "main"
    s = do("classic", s, "counter", "2h")  # the counter-counter
    assert int(s.current_player) == 1 and not legal(s, "counter", "2c")  # its 2 is spent
    s = do("classic", s, "resolve")
    assert zone(s, "Td") == "scrap" and all(zone(s, c) == "scrap" for c in ("Ac", "2c", "2h"))


def test_cuttle__a_queen_stops_counters_against_its_controller():
    s = pos(hands=[["Ac"], ["2c"]], royals={0: ["Qh"]}, points={1: ["Td"]})
    s = do("classic", s, "one-off", "Ac")
    assert not legal(s, "counter", "2c") and legal(s, "resolve")


def test_cuttle__two_destroys_a_royal_and_a_queen_shields_its_other_cards():
    s = pos(hands=[["2c", "2d", "Jc", "9s"], []], royals={1: ["Qh", "Kd"]}, points={1: ["5c"]})
    assert legal(s, "one-off", "2c", "Qh")  # the queen herself is open
    for kind, card, target in (("one-off", "2c", "Kd"), ("attach", "Jc", "5c"), ("one-off", "9s", "Kd")):
        assert not legal(s, kind, card, target)
    assert legal(s, "scuttle", "9s", "5c")  # scuttling is not targeting
    s = do("classic", s, "one-off", "2c", "Qh")
    s = do("classic", s, "resolve")
    assert zone(s, "Qh") == "scrap" and zone(s, "Kd") == "royal"
    two_queens = pos(hands=[["2c"], []], royals={1: ["Qh", "Qs"]})
    assert not legal(two_queens, "one-off", "2c", "Qh") and not legal(two_queens, "one-off", "2c", "Qs")


@pytest.mark.parametrize("variant", ["classic", "standard"])
def test_cuttle__twos_nines_and_jacks_target_only_the_opponents_cards(variant):
    """cuttle.cards looks the target up on the opponent's board only (``findTargetCard(...,
    opponent)`` in ``api/helpers/game-states/moves/one-off/validate.js``)."""
    s = pos(
        variant,
        hands=[["2c", "9c", "Jc"], ["3d"]],
        points={0: ["7h"], 1: ["6h"]},
        royals={0: ["Kd"], 1: ["Ks"]},
    )
    for kind, card, mine, theirs in (
        ("one-off", "2c", "Kd", "Ks"),
        ("one-off", "9c", "Kd", "Ks"),
        ("attach", "Jc", "7h", "6h"),
    ):
        assert not legal(s, kind, card, mine) and legal(s, kind, card, theirs)
    assert legal(s, "one-off", "9c", "6h") == (variant == "standard")  # point cards: standard only


def test_cuttle__three_retrieves_a_card_from_the_scrap_pile():
    s = pos(hands=[["3c"], ["4d"]], scrap=["Kh", "5s"])
    s = do("classic", s, "one-off", "3c")
    s = do("classic", s, "resolve")
    assert phase(s) == "choose_three" and int(s.current_player) == 0
    assert not legal(s, "retrieve", "3c")  # not the three itself
    s = do("classic", s, "retrieve", "Kh")
    assert hand(s, 0) == ["Kh"] and int(s.current_player) == 1


def test_cuttle__standard_checks_the_one_offs_as_cuttle_cards_does():
    """cuttle.cards (``one-off/validate.js``, rules 1.0.1): no 3 for a 3, a 3 needs another card
    in the scrap pile, a 4 an opponent with a card, a 5 a card in the deck; classic allows them."""
    threes = dict(hands=[["3c", "4c", "5c"], []], scrap=["3d"])
    s, c = pos("standard", **threes), pos("classic", **threes)
    for card, target in (("3c", None), ("4c", 1)):
        assert not legal(s, "one-off", card, target) and legal(c, "one-off", card, target)
    assert legal(s, "one-off", "5c") and legal(s, "draw")
    rest = [A.card_str(x) for x in range(52) if A.card_str(x) not in ("3c", "4c", "5c", "9d")]
    empty = dict(hands=[["3c", "4c", "5c"], ["9d"]], scrap=rest)  # every other card scrapped: no deck
    s, c = pos("standard", **empty), pos("classic", **empty)
    assert not legal(s, "one-off", "5c") and legal(c, "one-off", "5c") and not legal(s, "draw")
    assert legal(s, "one-off", "3c") and legal(s, "one-off", "4c", 1)
    s = pos("standard", hands=[["3c"], ["9d"]], scrap=["3d", "Kh"])
    s = do("standard", do("standard", s, "one-off", "3c"), "resolve")
    assert phase(s) == "choose_three" and not legal(s, "retrieve", "3d") and legal(s, "retrieve", "Kh")


def test_cuttle__four_makes_the_opponent_discard_two():
    s = pos(hands=[["4c", "Ah"], ["5d", "6d", "7d"]])
    s = do("classic", s, "one-off", "4c", 1)
    s = do("classic", s, "resolve")
    assert phase(s) == "discard_four" and int(s.current_player) == 1
    assert not legal(s, "discard", "Ah")  # only from its own hand
    s = do("classic", s, "discard", "5d")
    assert int(s.current_player) == 1
    s = do("classic", s, "discard", "7d")
    assert hand(s, 1) == ["6d"] and int(s.current_player) == 1 and phase(s) == "main"
    one = do("classic", do("classic", pos(hands=[["4c"], ["5d"]]), "one-off", "4c", 1), "resolve")
    one = do("classic", one, "discard", "5d")
    assert hand(one, 1) == [] and phase(one) == "main"


def test_cuttle__five_draws_two_in_classic():
    s = pos(hands=[["5c", "Ah"], ["2d"]], deck=["9h", "9d", "9s"])
    s = do("classic", do("classic", s, "one-off", "5c"), "resolve")
    assert hand(s, 0) == ["Ah", "9d", "9h"] and zone(s, "9s") == "deck"


def test_cuttle__five_discards_one_then_draws_three_in_standard():
    s = pos("standard", hands=[["5c", "Ah", "Kc"], ["2d"]], deck=["9h", "9d", "9s", "Tc"])
    s = do("standard", do("standard", s, "one-off", "5c"), "resolve")
    assert phase(s) == "discard_five" and int(s.current_player) == 0
    s = do("standard", s, "discard", "Ah")
    assert sorted(hand(s, 0)) == sorted(["Kc", "9h", "9d", "9s"]) and zone(s, "Tc") == "deck"
    many = ["Ac", "2c", "3c", "4c", "6c", "7c", "8c"]  # the hand limit cuts the draw to two
    s = pos("standard", hands=[["5c", *many], []], deck=["9h", "9d", "9s"])
    s = do("standard", do("standard", s, "one-off", "5c"), "resolve")
    s = do("standard", s, "discard", "Ac")
    assert len(hand(s, 0)) == 8 and zone(s, "9s") == "deck"


def test_cuttle__six_destroys_every_permanent_and_stolen_points_go_home():
    s = pos(hands=[["6c"], []], royals={0: ["Kh"], 1: ["8d"]}, points={0: ["9c"]}, attached=[("Jd", "9c", 1)])
    assert controller(s, "9c") == 1
    s = do("classic", do("classic", s, "one-off", "6c"), "resolve")
    assert all(zone(s, c) == "scrap" for c in ("Kh", "8d", "Jd")) and controller(s, "9c") == 0


def test_cuttle__seven_plays_the_top_card_in_classic():
    s = pos(hands=[["7c"], []], deck=["Th", "2d"])
    s = do("classic", do("classic", s, "one-off", "7c"), "resolve")
    assert phase(s) == "seven" and zone(s, "Th") == "revealed" and zone(s, "2d") == "deck"
    assert not legal(s, "points", "2d")
    s = do("classic", s, "points", "Th")
    assert zone(s, "Th") == "point" and int(s.current_player) == 1
    assert game("classic")[0].public_view(s)["deck_size"] == 50 and zone(s, "2d") == "deck"


def test_cuttle__seven_reveals_two_in_standard_and_the_other_goes_back_on_top():
    s = pos("standard", hands=[["7c"], ["Ad"]], deck=["Th", "4d", "Ks"])
    s = do("standard", do("standard", s, "one-off", "7c"), "resolve")
    assert zone(s, "Th") == zone(s, "4d") == "revealed"
    s = do("standard", s, "points", "4d")
    assert zone(s, "4d") == "point" and zone(s, "Th") == "deck"
    s = do("standard", s, "draw")  # seat 1 draws the ten: it went back on top
    assert hand(s, 1) == ["Ad", "Th"]


def test_cuttle__seven_with_nothing_playable_discards_one():
    s = pos("standard", hands=[["7c"], []], deck=["Jh", "Jd"])
    s = do("standard", do("standard", s, "one-off", "7c"), "resolve")
    plays = np.isin(A.KIND, A.PLAY_KINDS)
    assert not np.asarray(s.legal_action_mask)[plays].any()  # no point card to put a jack on
    assert legal(s, "discard", "Jd") and legal(s, "discard", "Jh")
    s = do("standard", s, "discard", "Jd")
    assert zone(s, "Jd") == "scrap" and zone(s, "Jh") == "deck"


def test_cuttle__nine_returns_a_permanent_in_classic():
    s = pos(hands=[["9c"], []], royals={1: ["Kd"]}, points={1: ["Tc"]})
    assert not legal(s, "one-off", "9c", "Tc")  # classic: permanents only
    s = do("classic", do("classic", s, "one-off", "9c", "Kd"), "resolve")
    assert hand(s, 1) == ["Kd"] and legal(s, "royal", "Kd")  # no freeze in classic


def test_cuttle__nine_freezes_the_returned_card_for_a_turn_in_standard():
    s = pos("standard", hands=[["9c", "Ah"], ["3d"]], points={1: ["Tc"]})
    s = do("standard", do("standard", s, "one-off", "9c", "Tc"), "resolve")
    assert hand(s, 1) == ["3d", "Tc"] and not legal(s, "points", "Tc") and legal(s, "points", "3d")
    s = do("standard", s, "points", "3d")
    s = do("standard", s, "points", "Ah")
    assert legal(s, "points", "Tc")  # thawed on its owner's next turn


def test_cuttle__glasses_show_the_opponents_hand_in_the_observation():
    env, _ = game("classic")
    lay = env.observation_layout
    s = pos(hands=[["Ac"], ["Kd", "5s"]], royals={0: ["8h"]})
    seen = lay.unpack(np.asarray(observer("classic")(s, 0)))["other_hands"]
    assert sorted(A.card_str(c) for c in np.flatnonzero(seen)) == ["5s", "Kd"]
    blind = lay.unpack(np.asarray(observer("classic")(s, 1)))["other_hands"]
    assert not blind.any()


def test_cuttle__jack_steals_a_point_card_and_a_jack_steals_it_back():
    s = pos(hands=[["Jc", "2h"], ["Jd"]], points={0: ["9h"]}, turn=1)
    s = do("classic", s, "attach", "Jd", "9h")
    assert controller(s, "9h") == 1 and field_points(s, 1) == 9 and field_points(s, 0) == 0
    assert not legal(s, "attach", "Jc", "Ah")
    s = do("classic", s, "attach", "Jc", "9h")  # stolen back
    assert controller(s, "9h") == 0 and field_points(s, 0) == 9
    s = do("classic", s, "draw")
    s = do("classic", s, "draw") if int(s.current_player) == 0 else s
    assert not legal(s, "one-off", "2h", "Jd")  # buried under the top jack


def test_cuttle__two_on_the_top_jack_returns_the_point_card():
    s = pos(hands=[["2h"], []], points={0: ["9h"]}, attached=[("Jd", "9h", 1)])
    assert controller(s, "9h") == 1
    s = do("classic", do("classic", s, "one-off", "2h", "Jd"), "resolve")
    assert zone(s, "Jd") == "scrap" and controller(s, "9h") == 0


@pytest.mark.parametrize(
    "variant,goals",
    [("classic", [21, 14, 10, 7, 5]), ("standard", [21, 14, 10, 5, 0])],
)
def test_cuttle__kings_lower_the_goal(variant, goals):
    env, _ = game(variant)
    kings = ["Kc", "Kd", "Kh", "Ks"]
    for n in range(5):
        s = pos(variant, hands=[["Ac"], ["Ad"]], royals={1: kings[:n]})
        view = env.public_view(s)
        assert view["seats"][1]["goal"] == goals[n] and view["seats"][0]["goal"] == 21


def test_cuttle__a_king_wins_at_once_when_the_points_meet_the_new_goal():
    s = pos(hands=[["Kc", "Ah"], ["2d"]], points={0: ["Tc", "4d"]})
    s = do("classic", s, "royal", "Kc")
    assert bool(s.terminated) and np.asarray(s.rewards).tolist() == [1.0, -1.0]


def test_cuttle__fourth_king_wins_outright_in_standard():
    s = pos("standard", hands=[["Ks"], ["2d"]], royals={0: ["Kc", "Kd", "Kh"]})
    s = do("standard", s, "royal", "Ks")
    assert bool(s.terminated) and np.asarray(s.rewards).tolist() == [1.0, -1.0]


def test_cuttle__reaching_the_goal_with_points_wins():
    s = pos(hands=[["Tc"], ["2d"]], points={0: ["Th", "Ad"]})
    s = do("classic", s, "points", "Tc")
    assert bool(s.terminated) and np.asarray(s.rewards).tolist() == [1.0, -1.0]


def test_cuttle__three_consecutive_passes_draw_the_game():
    used = [A.card_str(c) for c in range(52) if A.card_str(c) not in ("Ac", "Ad")]
    s = pos(hands=[["Ac"], ["Ad"]], scrap=used)
    assert legal(s, "pass") and not legal(s, "draw")
    s = do("classic", s, "pass")
    s = do("classic", s, "pass")
    assert not bool(s.terminated) and int(s.board.passes) == 2
    s = do("classic", s, "pass")
    assert bool(s.terminated) and np.asarray(s.rewards).tolist() == [0.0, 0.0]
    t = do("classic", do("classic", pos(hands=[["Ac"], ["Ad"]], scrap=used), "pass"), "points", "Ad")
    assert int(t.board.passes) == 0  # a move in between starts the count again
