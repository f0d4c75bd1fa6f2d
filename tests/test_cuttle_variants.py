"""Cuttle's three-player game (cutthroat), the fixed action table, and card conservation over
random legal play in every variant (a hypothesis property)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from cuttle_helpers import controller, do, game, hand, initer, legal, observer, phase, zone
from hypothesis import given, settings
from hypothesis import strategies as st

import htjax
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R


def pos(**kw):
    return game("cutthroat")[0].position(**kw)


# ---------------------------------------------------------------------------- cutthroat
def test_cuttle__cutthroat_deals_five_each_from_54_cards():
    env, _ = game("cutthroat")
    s = initer("cutthroat")(jax.random.PRNGKey(3))
    view = env.public_view(s)
    assert [seat["hand_size"] for seat in view["seats"]] == [5, 5, 5]
    assert view["deck_size"] == 54 - 15 and int(s.current_player) == 1
    assert env.num_players == 3 and env.observation_shape == (226 + 330 * 3,)


def test_cuttle__cutthroat_four_targets_the_chosen_opponent():
    s = pos(hands=[["4c"], ["5d", "6d"], ["7h", "8h", "9h"]])
    s = do("cutthroat", s, "one-off", "4c", 2)  # two seats to the left: seat 2
    s = do("cutthroat", do("cutthroat", s, "resolve"), "resolve")  # seats 1 and 2 decline
    assert phase(s) == "discard_four" and int(s.current_player) == 2


def test_cuttle__cutthroat_counters_go_round_every_opponent():
    s = pos(hands=[["Ac", "2c"], ["3d"], ["2h"]], points={1: ["Td"]})
    s = do("cutthroat", s, "one-off", "Ac")
    assert int(s.current_player) == 1 and legal(s, "resolve")
    s = do("cutthroat", s, "resolve")
    assert int(s.current_player) == 2 and phase(s) == "counter"
    s = do("cutthroat", s, "counter", "2h")
    assert int(s.current_player) == 0  # the one-off's player may counter the counter
    s = do("cutthroat", s, "resolve")
    assert int(s.current_player) == 1
    s = do("cutthroat", s, "resolve")  # two declines after the last 2: it stands, the ace fizzles
    assert zone(s, "Td") == "point" and phase(s) == "main" and int(s.current_player) == 1


def test_cuttle__cutthroat_joker_steals_a_royal_and_kings_lower_the_goal_to_zero():
    env, _ = game("cutthroat")
    s = pos(hands=[["X1"], [], []], royals={1: ["Kd"]}, points={0: ["9c"]})
    s = do("cutthroat", s, "attach", "X1", "Kd")
    assert controller(s, "Kd") == 0 and env.public_view(s)["seats"][0]["goal"] == 9
    assert bool(s.terminated) and np.asarray(s.rewards).tolist() == [1.0, -1.0, -1.0]  # 9 points, goal 9
    goals = [
        env.public_view(pos(hands=[["Ac"], [], []], royals={2: ["Kc", "Kd", "Kh", "Ks"][:n]}))["seats"][2][
            "goal"
        ]
        for n in range(4)
    ]
    assert goals == [14, 9, 5, 0]


def test_cuttle__cutthroat_joker_steals_a_jack_and_with_it_the_point_card():
    env, _ = game("cutthroat")
    # seat 1's jack stole seat 2's seven; seat 0's joker steals the jack, and the seven with it
    s = pos(hands=[["X1"], ["2c"], ["As"]], points={2: ["7d"]}, attached=[("Jh", "7d", 1)])
    assert controller(s, "7d") == 1 and legal(s, "attach", "X1", "Jh")
    s = do("cutthroat", s, "attach", "X1", "Jh")
    view = env.public_view(s)
    assert view["seats"][0]["points_total"] == 7 and view["seats"][1]["points_total"] == 0
    assert view["seats"][0]["points"] == [{"card": "7d", "attached": ["Jh", "X1"]}]
    # seat 1's 2 scraps seat 0's joker: the jack, and the seven under it, are seat 1's again
    s = do("cutthroat", s, "one-off", "2c", "X1")
    s = do("cutthroat", do("cutthroat", s, "resolve"), "resolve")
    assert zone(s, "X1") == "scrap" and controller(s, "7d") == 1 and zone(s, "Jh") == "attached"
    assert env.public_view(s)["seats"][1]["points_total"] == 7


def test_cuttle__cutthroat_scuttle_and_nine_take_the_whole_stack_of_jacks_and_jokers():
    env, _ = game("cutthroat")
    start = pos(
        hands=[["9c", "8s"], [], []],
        points={2: ["7d"]},
        attached=[("Jh", "7d", 1), ("X2", "Jh", 2)],
        turn=0,
    )
    assert controller(start, "7d") == 2  # seat 2's joker took seat 1's jack back, and the seven
    s = do("cutthroat", start, "scuttle", "8s", "7d")
    assert [zone(s, c) for c in ("8s", "7d", "Jh", "X2")] == ["scrap"] * 4
    s = do("cutthroat", start, "one-off", "9c", "Jh")  # the jack goes home, the joker on it is scrapped
    s = do("cutthroat", do("cutthroat", s, "resolve"), "resolve")
    assert zone(s, "Jh") == "hand" and zone(s, "X2") == "scrap" and controller(s, "7d") == 2


def test_cuttle__cutthroat_joker_steals_glasses_and_the_other_joker_unless_a_queen_protects():
    env, _ = game("cutthroat")
    s = pos(hands=[["X1", "Ac"], ["5c"], ["6c"]], royals={1: ["8d", "Kh"]}, attached=[("X2", "Kh", 2)])
    assert legal(s, "attach", "X1", "8d") and legal(s, "attach", "X1", "X2")
    glasses = do("cutthroat", s, "attach", "X1", "8d")
    seen = env.observation_layout.unpack(np.asarray(observer("cutthroat")(glasses, 0)))["other_hands"]
    assert seen.reshape(2, -1)[:, [A.parse_card("5c"), A.parse_card("6c")]].tolist() == [[1, 0], [0, 1]]
    king = do("cutthroat", s, "attach", "X1", "X2")  # the joker on the king, so the king too
    assert controller(king, "Kh") == 0 and env.public_view(king)["seats"][0]["goal"] == 9
    assert env.public_view(king)["seats"][0]["royals"] == [{"card": "Kh", "attached": ["X2", "X1"]}]
    queen = pos(
        hands=[["X1"], [], []], royals={1: ["8d", "Qs"]}, points={1: ["7c"]}, attached=[("Jh", "7c", 1)]
    )
    assert not legal(queen, "attach", "X1", "8d") and not legal(queen, "attach", "X1", "Jh")
    assert legal(queen, "attach", "X1", "Qs")  # a lone queen does not protect itself


def test_cuttle__two_player_games_never_offer_the_joker_ids():
    env, _ = game("standard")
    s = env.position(hands=[["Jc", "2c"], []], points={1: ["7d"]}, royals={1: ["8d"]})
    assert not np.asarray(s.legal_action_mask)[1439:].any() and legal(s, "attach", "Jc", "7d")


def test_cuttle__cutthroat_hand_limit_is_seven():
    s = pos(hands=[["Ac", "2c", "3c", "4c", "5c", "6c", "7c"], [], []])
    assert not legal(s, "draw")


def test_cuttle__forfeit_loses_the_game_for_the_offender():
    env, step = game("classic")
    s = initer("classic")(jax.random.PRNGKey(1))
    bad = int(np.flatnonzero(~np.asarray(s.legal_action_mask))[0])
    out = step(s, jnp.int32(bad), jax.random.PRNGKey(0))
    seat = int(s.current_player)
    assert bool(out.terminated) and float(out.rewards[seat]) == -2.0 and float(out.rewards[1 - seat]) == 1.0


# ---------------------------------------------------------------------------- the action table
def test_cuttle__action_ids_are_fixed_and_decode_to_one_move_each():
    assert A.NUM_ACTIONS == 1457 and len(set(A.LABELS)) == A.NUM_ACTIONS
    for a in (0, 1, 2, 3, 42, 43, 822, 823, 1138, 1139, 1310, 1327, 1384, 1438, 1439, 1456):
        d = A.decode(a)
        target = d["seat_offset"] if d["seat_offset"] is not None else d["target"]
        assert A.action_id(d["kind"], d["card"], target) == a
    assert A.decode(43) == {"kind": "scuttle", "card": "Ad", "target": "Ac", "seat_offset": None}
    assert A.action_id("points", "Ac") == 3 and A.action_id("retrieve", "X2") == 1438
    # the jokers' later targets come after every older id: 8s, jacks, then the other joker
    assert A.action_id("attach", "X1", "8c") == 1439 and A.action_id("attach", "X1", "X2") == 1447
    assert A.action_id("attach", "X2", "Js") == 1455 and A.action_id("attach", "X2", "X1") == 1456
    assert A.action_id("attach", "X1", "Qc") == 1311  # the first joker ids kept their meaning
    with pytest.raises(htjax.HtjaxError, match="action ids"):
        A.decode(A.NUM_ACTIONS)
    # the same id stays legal for the same move in different states
    s = game("classic")[0].position(hands=[["Tc"], []])
    t = game("classic")[0].position(hands=[["Tc", "5d"], ["Kh"]], points={1: ["9h"]})
    a = A.action_id("points", "Tc")
    assert bool(s.legal_action_mask[a]) and bool(t.legal_action_mask[a])


def test_cuttle__three_puts_the_card_in_the_players_hand():
    s = game("classic")[0].position(hands=[["3c"], []], scrap=["Qs"])
    s = do("classic", do("classic", s, "one-off", "3c"), "resolve")
    s = do("classic", s, "retrieve", "Qs")
    assert hand(s, 0) == ["Qs"] and zone(s, "3c") == "scrap"


# ---------------------------------------------------------------------------- conservation
def _check_conserved(variant: str, board) -> None:
    """Every card is in exactly one zone, the deck slice and the zone tags agree, every card
    attached sits on a card on a field, and the jokers stay out of a two-player game."""
    b = jax.device_get(board)
    rules = game(variant)[0].rules
    zone_, owner = np.asarray(b.zone), np.asarray(b.owner)
    counts = np.bincount(zone_, minlength=len(R.ZONE_NAMES))
    assert counts.sum() == R.N and counts[R.OUT] == R.N - rules.num_cards
    slot = np.asarray(b.slot)
    deck_cards = set(np.flatnonzero(slot >= int(b.pos)).tolist())
    in_deck = set(np.flatnonzero((zone_ == R.DECK) | (zone_ == R.REVEALED)).tolist())
    assert deck_cards == in_deck and sorted(slot[slot >= 0].tolist()) == list(range(rules.num_cards))
    assert np.all((slot < 0) == (zone_ == R.OUT))
    held = (zone_ == R.HAND) | (zone_ == R.POINT) | (zone_ == R.ROYAL) | (zone_ == R.ATTACHED)
    assert np.all((owner[held] >= 0) & (owner[held] < rules.num_players))
    for c in np.flatnonzero(zone_ == R.ATTACHED):
        base = int(b.attach_to[c])
        if c < 52:  # a jack sits on a point card
            assert zone_[base] == R.POINT, (A.card_str(c), A.card_str(base))
        else:  # a joker on a royal, or on a jack or the other joker stacked on a field card
            assert zone_[base] == R.ROYAL or (zone_[base] == R.ATTACHED and base in R.ATTACHERS), (
                A.card_str(c),
                A.card_str(base),
            )
    assert counts[R.REVEALED] <= rules.seven_reveals and counts[R.STACK] <= 5


@pytest.mark.parametrize("variant", ["classic", "standard", "cutthroat"])
def test_cuttle__every_card_is_conserved_under_random_legal_play(variant):
    env, step = game(variant)
    init = initer(variant)

    @settings(max_examples=4, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**31 - 1), choices=st.lists(st.integers(0, 10**6), min_size=60, max_size=60))
    def play(seed, choices):
        s = init(jax.random.PRNGKey(seed))
        for t, c in enumerate(choices):
            _check_conserved(variant, s.board)
            if bool(s.terminated | s.truncated):
                break
            legal_ids = np.flatnonzero(np.asarray(s.legal_action_mask))
            s = step(s, jnp.int32(legal_ids[c % len(legal_ids)]), htjax.step_key(jax.random.PRNGKey(seed), t))

    play()
