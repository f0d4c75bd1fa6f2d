"""Hold'em: rules on hand-built decks, chip conservation, hidden information, jit/vmap."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from holdem_helpers import KEY, action_id, check_chips, compiled, legal_names, make, play, start, table
from hypothesis import given, settings
from hypothesis import strategies as st

import htjax
from htjax.core import cards
from htjax.core.config import ConfigError
from htjax.core.env import InvalidActionError
from htjax.envs.holdem import rules as R

HU = dict()  # default: 2 seats, blinds 1/2, 100 chips, full menu
HOLE2 = [["Ac", "Kd"], ["7h", "2s"]]
BOARD = ["3c", "8d", "9h", "Js", "4h"]  # with HOLE2: seat 0 wins with ace high


# ---------------------------------------------------------------- blinds, button, order
@pytest.mark.parametrize("button", [0, 1])
def test_heads_up__button_posts_small_blind_and_acts_first_preflop_last_after(button):
    env = make(**HU)
    s = start(env, HOLE2, button=button)
    t = table(s)
    other = 1 - button
    assert t.bet[button] == 1 and t.bet[other] == 2
    assert int(s.current_player) == button
    s = play(env, s, "call")
    assert int(s.current_player) == other  # big blind's option
    assert legal_names(env, s) >= {"check/call", "raise 1/2 pot"} and "fold" not in legal_names(env, s)
    s = play(env, s, "check")
    assert int(table(s).street) == R.FLOP and int(s.current_player) == other
    s = play(env, s, "check")
    assert int(s.current_player) == button


@pytest.mark.parametrize("num_players", [3, 6])
@pytest.mark.parametrize("button", [0, 2])
def test_ring__blinds_left_of_button_and_standard_order(num_players, button):
    env = make(num_players=num_players)
    s = start(env, button=button)
    t = table(s)
    sb, bb = (button + 1) % num_players, (button + 2) % num_players
    expected = np.zeros(num_players, np.int32)
    expected[sb], expected[bb] = 1, 2
    np.testing.assert_array_equal(t.bet, expected)
    # preflop: left of the big blind first, then round the table, big blind last
    order = [(bb + 1 + i) % num_players for i in range(num_players)]
    for seat in order:
        assert int(s.current_player) == seat
        s = play(env, s, "call")
    assert int(table(s).street) == R.FLOP
    # postflop: the small blind (first live seat left of the button) first
    assert int(s.current_player) == sb
    np.testing.assert_array_equal(table(s).bet, 0)
    check_chips(s)


def test_next_hand__button_rotates_stacks_carry_over_and_busted_seats_sit_out():
    env = make(num_players=3)
    s = start(
        env, [["As", "Ad"], ["Kc", "Kd"], ["2c", "7d"]], ["3h", "8s", "9c", "Jd", "4c"], stacks=[50, 50, 50]
    )
    # button 0 acts first (3-handed): all-in, SB calls all-in, BB folds
    s = play(env, s, "all-in", "call", "fold")
    assert bool(s.terminated)
    np.testing.assert_array_equal(table(s).stack, [102, 0, 48])
    nxt = jax.jit(env.next_hand)(s, jax.random.PRNGKey(1))
    t = table(nxt)
    assert int(t.button) == 2  # seat 1 has no chips: the button skips it
    assert bool(t.folded[1]) and (t.hole[1] == cards.NO_CARD).all()
    # heads-up now: the button (seat 2) posts the small blind and acts first
    assert t.bet[2] == 1 and t.bet[0] == 2 and int(nxt.current_player) == 2
    np.testing.assert_array_equal(t.start_stack, [102, 0, 48])
    assert not bool(nxt.terminated) and int(nxt.step_count) == 0
    check_chips(nxt)


def test_next_hand__session_over_when_one_seat_has_chips():
    env = make(**HU)
    s = start(env, [["As", "Ad"], ["Kc", "Kd"]], ["3h", "8s", "9c", "Jd", "4c"])
    s = play(env, s, "all-in", "call")
    np.testing.assert_array_equal(table(s).stack, [200, 0])
    again = jax.jit(env.next_hand)(s, jax.random.PRNGKey(1))
    assert bool(again.terminated)
    np.testing.assert_array_equal(np.asarray(again.rewards), 0.0)
    np.testing.assert_array_equal(table(again).stack, [200, 0])


def test_button_from_episode_key_covers_every_seat():
    env = make(num_players=3)
    init = jax.jit(jax.vmap(env.init))
    buttons = set(np.asarray(init(jax.random.split(jax.random.PRNGKey(0), 30)).table.button).tolist())
    assert buttons == {0, 1, 2}


def test_short_blind_posts_all_it_has():
    env = make(num_players=3)
    s = start(env, stacks=[100, 100, 1], button=0)  # big blind (seat 2) has 1 chip
    t = table(s)
    assert t.bet[2] == 1 and t.stack[2] == 0
    check_chips(s)


# ---------------------------------------------------------------- bet sizing
def test_min_raise_rule_masks_small_raises_and_tracks_last_raise():
    env = make(**HU)
    s = start(env, HOLE2, button=0)
    # SB: pot 3, to call 1. 1/3 pot -> raise to 3 < min 4: masked; 1/2 pot -> to 4: legal
    legal = legal_names(env, s)
    assert "raise 1/3 pot" not in legal and "raise 1/2 pot" in legal
    s = play(env, s, "raise 2 pot")  # to 2 + 2 * (3 + 1) = 10: a raise of 8
    t = table(s)
    assert t.bet[0] == 10 and int(t.last_raise) == 8
    # BB: to call 8, pot 12, min raise to 18. 1/3 pot -> 10 + 20 // 3 = 16 (masked), 1/2 -> 20
    legal = legal_names(env, s)
    assert "raise 1/3 pot" not in legal and "raise 1/2 pot" in legal
    parts = env.observation_layout.unpack(np.asarray(env.observe(s, 1)))
    assert parts["min_raise_to"][0] == pytest.approx(18 / 2)
    assert parts["to_call"][0] == pytest.approx(8 / 2)
    s = play(env, s, "raise 1/2 pot")
    assert table(s).bet[1] == 20 and int(table(s).last_raise) == 10


def test_sizes_needing_the_whole_stack_are_masked_in_favour_of_all_in():
    env = make(**HU)
    s = start(env, HOLE2, stacks=[100, 9], button=0)
    # BB has 9 chips: SB raising to >= 9 would need... SB has 99 behind, so check the BB side
    s = play(env, s, "raise 1/2 pot")  # to 4
    legal = legal_names(env, s)
    # BB: to call 2, pot 6: pot raise to 4 + 8 = 12 > 9 chips: masked; all-in is there
    assert "raise 1 pot" not in legal and "all-in" in legal and "raise 1/2 pot" in legal
    s = play(env, s, "all-in")
    # nobody behind SB can act any more: SB may only call or fold
    assert legal_names(env, s) == {"fold", "check/call"}


def test_fold_is_masked_when_nothing_to_call():
    env = make(**HU)
    s = play(env, start(env, HOLE2), "call")
    assert "fold" not in legal_names(env, s)


def test_all_in_for_less_than_a_raise_does_not_reopen_betting():
    env = make(num_players=3)
    # button 0 acts first; seat 2 (BB) has 10 chips
    s = start(env, stacks=[200, 200, 10], button=0)
    s = play(env, s, "raise 1 pot", "call")  # seat 0 raises to 7 (a raise of 5), SB calls
    s = play(env, s, "all-in")  # BB all-in to 10: 3 more, less than a full raise of 5
    t = table(s)
    assert int(t.last_raise) == 5 and int(s.current_player) == 0
    assert legal_names(env, s) == {"fold", "check/call"}
    s = play(env, s, "call")
    assert int(s.current_player) == 1 and legal_names(env, s) == {"fold", "check/call"}
    s = play(env, s, "call")
    assert int(table(s).street) == R.FLOP
    np.testing.assert_array_equal(table(s).committed, [10, 10, 10])
    check_chips(s)


def test_full_all_in_raise_reopens_betting():
    env = make(num_players=3)
    s = start(env, stacks=[200, 200, 30], button=0)
    s = play(env, s, "raise 1 pot", "call", "all-in")  # BB all-in to 30: a raise of 23
    assert int(table(s).last_raise) == 23
    assert "raise 1/2 pot" in legal_names(env, s) and "all-in" in legal_names(env, s)


def test_fixed_limit__bet_sizes_by_street_and_cap_of_four_bets():
    env = make(betting="fixed_limit")
    assert env.action_labels == ("fold", "check/call", "bet/raise")
    s = start(env, HOLE2, ["3h", "8s", "9c", "Jd", "4c"], button=0)
    s = play(env, s, "raise", "raise", "raise")  # BB is bet 1: SB to 4, BB to 6, SB to 8
    np.testing.assert_array_equal(table(s).bet, [8, 6])
    assert legal_names(env, s) == {"fold", "check/call"}  # capped at 4 bets
    s = play(env, s, "call")
    assert int(table(s).street) == R.FLOP
    s = play(env, s, "raise")  # flop: small bet = 2
    np.testing.assert_array_equal(table(s).bet, [0, 2])
    s = play(env, s, "call", "check", "raise")  # turn: big bet = 4
    np.testing.assert_array_equal(table(s).bet, [4, 0])
    s = play(env, s, "call", "check", "check")
    assert bool(s.terminated) and bool(table(s).showdown)
    check_chips(s)


def test_small_menu_labels():
    env = make(action_menu="small")
    assert env.action_labels == (
        "fold",
        "check/call",
        "raise 1/2 pot",
        "raise 1 pot",
        "raise 2 pot",
        "all-in",
    )


# ---------------------------------------------------------------- pots
def test_side_pots_three_players_shortest_stack_best_hand():
    env = make(num_players=3)
    hole = [["Qc", "Qd"], ["Kc", "Kd"], ["Ac", "Ad"]]
    s = start(env, hole, ["2c", "7d", "9h", "Js", "4h"], stacks=[100, 50, 20], button=0)
    s = play(env, s, "all-in", "call", "call")
    t = table(s)
    assert bool(s.terminated) and bool(t.showdown)
    assert cards.cards_to_str(t.board) == "2c 7d 9h Js 4h"  # run out in one step
    # main 60 -> seat 2, side 60 -> seat 1, uncalled 50 back to seat 0
    np.testing.assert_array_equal(t.payout, [50, 60, 60])
    np.testing.assert_allclose(np.asarray(s.rewards), [-25.0, 5.0, 20.0])
    check_chips(s)


def test_side_pots_four_players_with_a_folded_contribution_and_a_split_side_pot():
    env = make(num_players=4)
    hole = [["Kc", "Kd"], ["Qc", "Qd"], ["Ac", "Ad"], ["Kh", "Ks"]]
    s = start(env, hole, ["2c", "7d", "9h", "Js", "4h"], stacks=[100, 100, 30, 60], button=0)
    # UTG (seat 3) all-in 60, button calls, SB folds, BB calls all-in for 30
    s = play(env, s, "all-in", "call", "fold", "call")
    t = table(s)
    assert bool(s.terminated)
    np.testing.assert_array_equal(t.committed, [60, 1, 30, 60])
    # main pot 1*4 + 29*3 = 91 to the aces; side pot 2*30 = 60 split by the two kings
    np.testing.assert_array_equal(t.payout, [30, 0, 91, 30])
    check_chips(s)


def test_split_pot_heads_up_board_plays():
    env = make(**HU)
    s = start(env, HOLE2, ["Ts", "Js", "Qs", "Ks", "As"], button=0)
    s = play(env, s, "call", "check", *["check"] * 6)
    t = table(s)
    assert bool(t.showdown)
    np.testing.assert_array_equal(t.payout, [2, 2])
    np.testing.assert_array_equal(np.asarray(s.rewards), [0.0, 0.0])


def test_split_pot_odd_chip_goes_to_first_winner_left_of_button():
    env = make(num_players=3)
    hole = [["2c", "3d"], ["4c", "5d"], ["2d", "3c"]]
    s = start(env, hole, ["Ts", "Js", "Qs", "Ks", "As"], button=0)
    s = play(env, s, "call", "fold", "check")  # seat 1 (SB) folds its 1 chip: pot 5
    s = play(env, s, *["check"] * 6)
    t = table(s)
    assert bool(t.showdown) and int(t.committed.sum()) == 5
    # seats 0 and 2 tie; left of the button: seat 1 (folded), seat 2, seat 0
    np.testing.assert_array_equal(t.payout, [2, 0, 3])
    check_chips(s)


def test_best_hand_wins_whole_pot_not_first_seat():
    env = make(**HU)
    s = start(env, [["7h", "2s"], ["Ac", "Kd"]], ["Ah", "Kc", "9s", "5d", "3c"], button=0)
    s = play(env, s, "all-in", "call")
    np.testing.assert_array_equal(table(s).payout, [0, 200])
    np.testing.assert_allclose(np.asarray(s.rewards), [-50.0, 50.0])


def test_fold_wins_blinds_without_showdown():
    env = make(**HU)
    s = play(env, start(env, HOLE2, button=0), "raise 1 pot", "fold")
    t = table(s)
    assert bool(s.terminated) and not bool(t.showdown)
    np.testing.assert_array_equal(t.stack, [102, 98])
    np.testing.assert_allclose(np.asarray(s.rewards), [1.0, -1.0])


# ---------------------------------------------------------------- run-outs
def test_run_out_after_all_in_on_the_flop():
    env = make(**HU)
    s = play(env, start(env, HOLE2, BOARD, button=0), "call", "check")
    assert cards.cards_to_str(table(s).board) == "3c 8d 9h"
    s = play(env, s, "all-in", "call")  # BB shoves the flop, button calls
    t = table(s)
    assert bool(s.terminated) and bool(t.showdown) and int(s.step_count) == 4
    assert cards.cards_to_str(t.board) == "3c 8d 9h Js 4h"
    np.testing.assert_array_equal(t.payout, [200, 0])


def test_no_decisions_for_a_lone_player_with_chips():
    env = make(num_players=3)
    hole = [["Ac", "Ad"], ["Kc", "Kd"], ["Qc", "Qd"]]
    s = start(env, hole, ["2c", "7d", "9h", "Js", "4h"], stacks=[200, 40, 40], button=0)
    # button calls; both blinds shove; the button calls: nobody can bet any more
    s = play(env, s, "call", "all-in", "call", "call")
    assert bool(s.terminated) and bool(table(s).showdown)
    np.testing.assert_array_equal(table(s).payout, [120, 0, 0])
    check_chips(s)


# ---------------------------------------------------------------- contract behaviour
def test_illegal_size_follows_illegal_action_rule_and_moves_no_chips():
    env = make(**HU)
    s = start(env, HOLE2, button=0)
    _, step = compiled(env)
    bad = action_id(env, "raise 1/3 pot")
    assert not bool(s.legal_action_mask[bad])
    out = step(s, bad, htjax.step_key(KEY, 0))
    assert bool(out.terminated)
    # the offender forfeits its whole 100-chip stack (50 big blinds) to the other seat, plus the penalty
    np.testing.assert_array_equal(np.asarray(out.rewards), [-51.0, 50.0])
    chex.assert_trees_all_equal(out.table, s.table)
    assert bool(np.asarray(out.legal_action_mask).all())
    again = step(out, 1, htjax.step_key(KEY, 1))  # finished: no-op with zero rewards
    chex.assert_trees_all_equal(again.table, out.table)
    np.testing.assert_array_equal(np.asarray(again.rewards), 0.0)
    with pytest.raises(InvalidActionError, match="out of range"):
        env.step(s, 9, htjax.step_key(KEY, 0))


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(num_players=7), "num_players"),
        (dict(small_blind=3, big_blind=2), "big_blind"),
        (dict(starting_stack=2), "starting_stack"),
        (dict(stacks=(100,)), "stacks"),
        (dict(stacks=(100, 1)), "stacks[1]"),
        (dict(button=2), "button"),
        (dict(betting="pot_limit"), "betting"),
        (dict(betting="fixed_limit", action_menu="full"), "action_menu"),
        (dict(action_menu="limit"), "action_menu"),
        (dict(raise_cap=0), "raise_cap"),
    ],
)
def test_bad_config_names_the_field(overrides, field):
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        htjax.make("holdem", **overrides)


def test_stacked_deck_checks_its_input():
    env = make(**HU)
    with pytest.raises(ValueError, match="2 cards for each of the 2 seats"):
        env.stacked_deck([["As", "Kd"]])
    with pytest.raises(ValueError, match="stacked more than"):
        env.stacked_deck([["As", "Kd"], ["As", "2c"]])


# ---------------------------------------------------------------- hidden information
LEAK_SCRIPTS = [
    ("call", "check", "check", "check", "pot", "call", "check", "check"),
    ("raise 1/2 pot", "call", "check", "raise 1/2 pot", "fold"),
    ("all-in", "call"),
]


@pytest.mark.parametrize("script", LEAK_SCRIPTS)
def test_observation_never_shows_other_hole_cards(script):
    """Swapping the opponent's hole cards changes nothing the observer sees before showdown."""
    env = make(**HU)
    _, step = compiled(env)
    board = ["2c", "7d", "9h", "Js", "4h"]
    a = start(env, [["Ac", "Kd"], ["7h", "2s"]], board)
    b = start(env, [["Ac", "Kd"], ["Qh", "Qs"]], board)
    c = start(env, [["5c", "5d"], ["7h", "2s"]], board)
    for i, name in enumerate(script):
        if not bool(a.terminated) or not bool(a.table.showdown):
            np.testing.assert_array_equal(np.asarray(env.observe(a, 0)), np.asarray(env.observe(b, 0)))
            np.testing.assert_array_equal(np.asarray(env.observe(a, 1)), np.asarray(env.observe(c, 1)))
        act = action_id(env, name)
        k = htjax.step_key(KEY, i)
        a, b, c = step(a, act, k), step(b, act, k), step(c, act, k)
    # own cards are in the observation
    hole = env.observation_layout.unpack(np.asarray(env.observe(a, 1)))["hole_cards"]
    assert set(np.flatnonzero(hole)) == set(cards.parse_cards("7h 2s"))


def test_render_text_hides_other_hole_cards_until_showdown():
    env = make(**HU)
    s = start(env, HOLE2, BOARD, button=0)
    seat0 = env.render_text(s, seat=0)
    assert "Ac Kd" in seat0 and "7h 2s" not in seat0 and "?? ??" in seat0
    assert "7h 2s" in env.render_text(s)  # spectator sees everything
    s = play(env, s, "all-in", "call")
    shown = env.render_text(s, seat=0)
    assert "7h 2s" in shown and "won" in shown and "(high card)" in shown
    assert "legal:" not in shown


# ---------------------------------------------------------------- chip conservation (property)
PROPERTY_ENVS = [dict(), dict(num_players=3), dict(num_players=6), dict(betting="fixed_limit")]


@settings(max_examples=40, deadline=None)
@given(
    env_index=st.integers(0, len(PROPERTY_ENVS) - 1),
    stacks=st.lists(st.integers(1, 300), min_size=6, max_size=6),
    button=st.integers(0, 5),
    choices=st.lists(st.integers(0, 10_000), min_size=1, max_size=40),
    seed=st.integers(0, 2**31 - 1),
)
def test_chips_are_conserved_in_every_state(env_index, stacks, button, choices, seed):
    """Any legal action sequence (``choices`` cycled, each picking among the legal actions)."""
    env = make(**PROPERTY_ENVS[env_index])
    n = env.num_players
    _, step = compiled(env)
    key = jax.random.PRNGKey(seed)
    s = start(env, stacks=stacks[:n], button=button % n, key=key)
    check_chips(s)
    # every hand ends: raises are bounded by the stacks (no-limit) or the cap (fixed-limit)
    for i in range(400):
        if bool(s.terminated):
            break
        legal = np.flatnonzero(np.asarray(s.legal_action_mask))
        assert legal.size > 0
        s = step(s, int(legal[choices[i % len(choices)] % legal.size]), htjax.step_key(key, s.step_count))
        check_chips(s)
    assert bool(s.terminated)


def test_batched_random_play_conserves_chips_and_is_zero_sum():
    env = make(num_players=3)
    steps = 80

    @jax.jit
    def run(key):
        keys = jax.random.split(key, 32)
        state = jax.vmap(env.init)(keys)

        def body(carry, t):
            state, key = carry
            key, k_act = jax.random.split(key)
            logits = jnp.where(state.legal_action_mask, 0.0, -jnp.inf)
            action = jax.random.categorical(k_act, logits).astype(jnp.int32)
            nxt = jax.vmap(env.step)(state, action, jax.vmap(htjax.step_key)(keys, state.step_count))
            chips = jax.vmap(R.chips_in_play)(nxt.table)
            total = jnp.sum(nxt.table.start_stack, axis=-1)
            return (nxt, key), (chips == total, nxt.rewards.sum(-1), nxt.terminated, nxt.table.stack.min(-1))

        _, out = jax.lax.scan(body, (state, key), jnp.arange(steps))
        return out

    conserved, reward_sums, terminated, min_stack = run(jax.random.PRNGKey(3))
    assert bool(np.asarray(conserved).all())
    np.testing.assert_allclose(np.asarray(reward_sums), 0.0, atol=1e-4)
    assert bool(np.asarray(terminated[-1]).all())  # random hands end well within 80 steps
    assert int(np.asarray(min_stack).min()) >= 0


# ---------------------------------------------------------------- jit, vmap, traces
def test_jit_matches_eager():
    env = make(**HU)
    key = jax.random.PRNGKey(11)
    script = ["call", "check", "raise 1/2 pot", "call", "check", "check", "pot", "call"]
    eager = env.init(key)
    jitted = start(env, key=key, button=int(eager.table.button))
    for name in script:
        a = action_id(env, name)
        k = htjax.step_key(key, eager.step_count)
        eager = env.step(eager, a, k)
        jitted = compiled(env)[1](jitted, a, k)
    chex.assert_trees_all_close(eager, jitted)
    assert bool(eager.terminated)


def test_vmap_matches_loop_and_step_compiles_once():
    env = make(num_players=3)
    keys = jax.random.split(jax.random.PRNGKey(5), 8)
    init_v = jax.jit(jax.vmap(env.init))
    step_v = jax.vmap(env.step)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step_b(state, action, k):
        return step_v(state, action, k)

    batch = init_v(keys)
    singles = [jax.jit(env.init)(k) for k in keys]
    _, step1 = compiled(env)
    rng = np.random.default_rng(0)
    for t in range(12):
        masks = np.asarray(batch.legal_action_mask)
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks], np.int32)
        skeys = jax.vmap(htjax.step_key)(keys, batch.step_count)
        batch = step_b(batch, jnp.asarray(actions), skeys)
        singles = [step1(s, int(a), k) for s, a, k in zip(singles, actions, skeys)]
    for i, single in enumerate(singles):
        chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda x: x[i], batch), single)


def test_registry_and_spaces():
    assert "holdem" in htjax.available_envs()
    for n in (2, 6):
        env = make(num_players=n)
        assert env.observation_shape == (113 + 22 * n,)
        assert env.observation_dtype == np.float32
    assert make(**HU).num_actions == 9


def test_rollout_with_auto_reset_runs():
    env = make(**HU)
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(0), num_envs=8, num_steps=30)
    traj = out.trajectory
    assert bool(np.asarray(traj.terminated).any())
    np.testing.assert_allclose(np.asarray(traj.rewards).sum(-1), 0.0, atol=1e-4)
