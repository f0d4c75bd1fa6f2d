"""Blackjack: rules on hand-built shoes, batching, replay, the shared contract, bad config."""

from __future__ import annotations

import collections
import dataclasses
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import htjax
import htjax.testing
from htjax.core import cards
from htjax.core.config import ConfigError
from htjax.core.keys import step_key
from htjax.envs import blackjack as bj
from htjax.envs.blackjack import (
    BET_BASE,
    DOUBLE,
    HIT,
    INSURANCE,
    NO_INSURANCE,
    SPLIT,
    STAND,
    SURRENDER,
    Blackjack,
    BlackjackConfig,
)

KEY = jax.random.PRNGKey(7)


class Table:
    """One env with its jitted functions, built once per module."""

    def __init__(self, **config):
        self.env = Blackjack(**config)
        self.init = jax.jit(self.env.init)
        self.step = jax.jit(self.env.step)
        self.init_with_deck = jax.jit(self.env.init_with_deck)

    def deal(self, top, num_decks=None, position=0):
        """Start on a shoe whose next cards are ``top`` (then random)."""
        deck = cards.stacked_deck(top, num_decks or self.env.config.num_decks)
        if position:  # pretend ``position`` cards went out in earlier rounds; ``top`` comes next
            n = len(top)
            arr = np.asarray(deck.cards)
            arr = np.concatenate([arr[n : n + position], arr[:n], arr[n + position :]])
            deck = cards.Deck(
                cards=jnp.asarray(arr), position=jnp.int32(position), stacked=jnp.int32(position + n)
            )
        return self.init_with_deck(KEY, deck)

    def play(self, state, *actions):
        for t, a in enumerate(actions):
            mask = np.asarray(state.legal_action_mask)
            assert mask[a], f"action {self.env.action_labels[a]} illegal; mask {mask.astype(int)}"
            state = self.step(state, jnp.int32(a), jax.random.fold_in(KEY, 1000 + t))
        return state


def hand(state, slot):
    return cards.cards_to_str(np.asarray(state.hand_cards[slot]))


def dealer(state):
    return cards.cards_to_str(np.asarray(state.dealer_cards))


def legal(table, state):
    return {table.env.action_labels[i] for i in np.flatnonzero(np.asarray(state.legal_action_mask))}


@pytest.fixture(scope="module")
def s17():
    # no betting: every round stakes bet_menu[0] = 1 unit, so rewards read as multiples of the bet
    return Table(betting=False, late_surrender=True)


@pytest.fixture(scope="module")
def h17():
    return Table(betting=False, dealer_hits_soft_17=True, double_after_split=False, max_hands=2)


@pytest.fixture(scope="module")
def betting():
    return Table(starting_bankroll=12, bet_menu=(1, 5, 10, 25))


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(num_seats=0), "num_seats"),
        (dict(num_seats=8), "num_seats"),
        (dict(num_decks=9), "num_decks"),
        (dict(penetration=1.5), "penetration"),
        (dict(blackjack_payout=-1.0), "blackjack_payout"),
        (dict(max_hands=5), "max_hands"),
        (dict(bet_menu=()), "bet_menu"),
        (dict(bet_menu=(5, 2)), "bet_menu"),
        (dict(bet_menu=(1, 2.5)), "bet_menu[1]"),
        (dict(starting_bankroll=3, bet_menu=(5, 10)), "starting_bankroll"),
        (dict(rules="vegas"), "rules"),
        (dict(episode="forever"), "episode"),
        (dict(double_on="soft"), "double_on"),
        (dict(insurance=1), "insurance"),
        (dict(natural=True), "natural"),
        (dict(sab=True), "sab"),
        (dict(rules="gymnasium"), "insurance"),
        (dict(max_rounds=0), "max_rounds"),
        (dict(episode="shoe", num_decks=1, num_seats=7, penetration=0.9), "penetration"),
    ],
)
def test_bad_config_raises_config_error_naming_the_field(overrides, field):
    with pytest.raises(ConfigError, match=re.escape(f"'{field}'")) as err:
        Blackjack(**overrides)
    assert isinstance(err.value, ValueError)


def test_gymnasium_preset_overrides_and_unknown_fields():
    env = Blackjack(preset="gymnasium", sab=True)
    assert env.config.sab and env.config.infinite_deck and env.num_actions == 2
    with pytest.raises(ConfigError, match="gymnasium"):
        Blackjack(preset="gymnasium", betting=True)
    with pytest.raises(ConfigError, match="unknown config field"):
        Blackjack(decks=6)
    assert BlackjackConfig.from_dict(Blackjack().config.to_dict()) == BlackjackConfig()


def test_action_menus_and_registry():
    casino = htjax.make("blackjack")
    assert casino.id == "blackjack" and casino.version == "v1"
    assert casino.action_labels[:7] == (
        "stand",
        "hit",
        "double",
        "split",
        "surrender",
        "insurance",
        "no_insurance",
    )
    assert casino.action_labels[BET_BASE:] == tuple(f"bet_{b}" for b in (1, 2, 5, 10, 25))
    gym = htjax.make("blackjack", preset="gymnasium")
    assert gym.action_labels == ("stick", "hit") and (bj.STICK, bj.HIT) == (0, 1)
    assert Blackjack(betting=False).num_actions == 7
    assert casino.observation_shape == (bj.OBS_SIZE,) == (bj.LAYOUT.size,) == (len(bj.OBSERVATION_LAYOUT),)
    low, high = casino.observation_bounds
    assert low.shape == high.shape == (bj.OBS_SIZE,) and np.all(low <= high)


# ----------------------------------------------------------------------------- naturals, pushes, dealer rules
def test_player_natural_pays_3_to_2_after_a_forced_showdown(s17):
    s = s17.deal(["As", "9c", "Kd", "7h"])
    assert int(s.hand_status[0]) == bj.HAND_NATURAL
    # no decision is left, but a reward can only arrive on a step: one STAND settles
    assert int(s.phase) == bj.PHASE_SHOWDOWN and legal(s17, s) == {"stand"}
    s = s17.play(s, STAND)
    assert float(s.rewards[0]) == 1.5 and bool(s.terminated)
    assert dealer(s) == "9c 7h"  # the dealer does not draw against a natural


def test_both_naturals_push_and_dealer_natural_beats_twenty(s17):
    s = s17.play(s17.deal(["As", "Kh", "Kd", "Ac"]), STAND)
    assert float(s.rewards[0]) == 0.0
    s = s17.deal(["Ks", "Kh", "Qd", "Ac"])
    assert int(s.phase) == bj.PHASE_SHOWDOWN and bool(s.dealer_revealed)  # the peek found it
    s = s17.play(s, STAND)
    assert float(s.rewards[0]) == -1.0 and hand(s, 0) == "Ks Qd"


def test_push_on_equal_totals(s17):
    s = s17.play(s17.deal(["Ts", "9h", "9d", "Th"]), STAND)
    assert float(s.rewards[0]) == 0.0 and bool(s.terminated)


def test_dealer_stands_on_soft_17_unless_h17(s17, h17):
    top = ["Ts", "6c", "9d", "Ah", "4s", "5s"]
    s = s17.play(s17.deal(top), STAND)
    assert dealer(s) == "6c Ah" and float(s.rewards[0]) == 1.0
    s = h17.play(h17.deal(top), STAND)
    assert dealer(s) == "6c Ah 4s" and float(s.rewards[0]) == -1.0  # soft 21 beats 19


def test_dealer_draws_to_17_and_busts(s17):
    s = s17.play(s17.deal(["Ts", "6c", "8d", "Th", "Kc"]), STAND)
    assert dealer(s) == "6c Th Kc" and float(s.rewards[0]) == 1.0
    s = s17.play(s17.deal(["Ts", "2c", "8d", "3h", "2d", "4s", "Kc", "9c"]), STAND)
    assert dealer(s) == "2c 3h 2d 4s Kc" and int(s.dealer_size) == 5 and float(s.rewards[0]) == -1.0


class _EveryHitPredrawn(Blackjack):
    """Reference: pre-draws all ``M`` possible dealer hits on every step (no rare branch)."""

    def __init__(self, **config):
        super().__init__(**config)
        self.rules = dataclasses.replace(self.rules, M_fast=self.rules.M)
        self._K1 = self._K_all


@pytest.mark.parametrize("hits", [5, 6, 7])
def test_dealer_play_out_longer_than_the_predrawn_hits(s17, hits):
    """Five dealer hits are pre-drawn per step; a sixth and seventh come from the rare branch,
    exactly as if every hit had been pre-drawn, alone or batched with ordinary worlds."""
    small = ["2h", "2s", "2c", "2d", "2h", "2s"][: hits - 1]  # 4 + 2 * (hits - 1) < 17
    top = ["Ts", "2c", "Th", "2d", *small, "Kc" if hits < 7 else "3c", "9c"]
    s = s17.play(s17.deal(top), STAND)
    want_total = 4 + 2 * (hits - 1) + (10 if hits < 7 else 3)
    assert int(s.dealer_size) == 2 + hits and int(s.deck.position) == 4 + hits
    assert int(s.dealer_hard) == want_total and dealer(s) == " ".join(top[1:2] + top[3 : 4 + hits])
    assert float(s.rewards[0]) == (1.0 if want_total > 21 or want_total < 20 else 0.0)
    ref = Table(betting=False, late_surrender=True)
    ref.env = _EveryHitPredrawn(betting=False, late_surrender=True)
    ref.step, ref.init_with_deck = jax.jit(ref.env.step), jax.jit(ref.env.init_with_deck)
    chex.assert_trees_all_equal(ref.play(ref.deal(top), STAND), s)
    # batched with ordinary worlds: the world that needs the branch gets it, the others are untouched
    starts = [s17.deal(top)] + [s17.deal(["Ts", "6c", "9d", "Th", "Kc"]) for _ in range(3)]
    batch = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *starts)
    keys = jnp.stack([jax.random.fold_in(KEY, 1000)] * 4)
    out = jax.jit(jax.vmap(s17.env.step))(batch, jnp.zeros(4, jnp.int32), keys)
    ref_out = jax.jit(jax.vmap(ref.env.step))(batch, jnp.zeros(4, jnp.int32), keys)
    chex.assert_trees_all_equal(out, ref_out)
    chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda x: x[0], out), s)


def test_rare_dealer_branch_matches_predrawing_every_hit_over_random_play():
    env, ref = (
        Blackjack(num_decks=1, dealer_hits_soft_17=True),
        _EveryHitPredrawn(num_decks=1, dealer_hits_soft_17=True),
    )
    a = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(3), 64, 60)
    b = htjax.rollout(ref, htjax.random_policy, jax.random.PRNGKey(3), 64, 60)
    chex.assert_trees_all_equal(a, b)


def test_bust_loses_and_21_stands_automatically(s17):
    s = s17.deal(["Ts", "7c", "5d", "Th", "Kc"])
    s = s17.play(s, HIT)
    assert float(s.rewards[0]) == -1.0 and int(s.hand_status[0]) == bj.HAND_BUST and bool(s.terminated)
    assert dealer(s) == "7c Th"  # nobody left to beat: the dealer does not draw
    s = s17.play(s17.deal(["Ts", "7c", "5d", "Th", "6c"]), HIT)
    assert int(s.hand_status[0]) == bj.HAND_STOOD and float(s.rewards[0]) == 1.0  # 21 v 17


# ----------------------------------------------------------------------------- double, split
def test_double_takes_one_card_and_doubles_the_stake(s17):
    s = s17.deal(["6s", "6c", "5d", "Th", "Kd", "9s"])
    assert "double" in legal(s17, s)
    s = s17.play(s, DOUBLE)
    assert hand(s, 0) == "6s 5d Kd" and float(s.hand_bet[0]) == 2.0 and bool(s.hand_doubled[0])
    assert dealer(s) == "6c Th 9s" and float(s.rewards[0]) == 2.0
    assert float(s.bankroll[0]) == 102.0


def test_split_and_resplit_to_four_hands_with_double_after_split(s17):
    s = s17.deal(["8s", "6c", "8d", "Th", "8h", "3c", "8c", "2d", "5h", "9d"])
    s = s17.play(s, SPLIT)  # 8s 8h | 8d 3c
    assert [hand(s, i) for i in range(2)] == ["8s 8h", "8d 3c"] and int(s.num_hands[0]) == 2
    s = s17.play(s, SPLIT)  # 8s 8c | 8d 3c | 8h 2d
    s = s17.play(s, SPLIT)  # 8s 5h | 8d 3c | 8h 2d | 8c 9d
    assert [hand(s, i) for i in range(4)] == ["8s 5h", "8d 3c", "8h 2d", "8c 9d"]
    assert float(s.bankroll[0]) == 96.0 and list(np.asarray(s.hand_bet)) == [1.0] * 4
    # max_hands reached: no more splits; doubling after a split is allowed (DAS)
    s = s17.play(s, STAND)  # hand 1: 13
    assert int(s.cursor) == 1 and "double" in legal(s17, s)
    s2 = s17.play(s, DOUBLE)  # 8d 3c + next card
    assert float(s2.hand_bet[1]) == 2.0 and int(s2.hand_size[1]) == 3
    # a pair again with four hands on the table cannot split
    s = s17.deal(["8s", "6c", "8d", "Th", "8h", "8c", "8d", "8c", "8h", "3h"])
    s = s17.play(s, SPLIT, SPLIT, SPLIT)
    assert int(s.num_hands[0]) == 4 and hand(s, 0) == "8s 8h"
    assert "split" not in legal(s17, s)


def test_split_limits_and_no_double_after_split_when_disabled(h17):
    s = h17.deal(["8s", "6c", "8d", "Th", "8h", "3c"])
    s = h17.play(s, SPLIT)
    assert int(s.num_hands[0]) == 2
    assert legal(h17, s) == {"stand", "hit"}  # a pair again, but max_hands=2; no DAS


def test_split_aces_take_one_card_and_21_is_not_blackjack(s17):
    s = s17.deal(["As", "6c", "Ad", "Th", "Kh", "9c", "5s"])
    s = s17.play(s, SPLIT)
    # each ace takes one card and stands; the dealer plays 16 -> 21
    assert [hand(s, i) for i in range(2)] == ["As Kh", "Ad 9c"]
    assert bool(s.terminated) and dealer(s) == "6c Th 5s"
    # the split 21 is not a natural: it pushes the dealer's 21; the 20 loses
    assert float(s.rewards[0]) == -1.0


# ----------------------------------------------------------------------------- insurance, surrender
def test_insurance_pays_2_to_1_against_dealer_blackjack(s17):
    s = s17.deal(["Ts", "As", "9d", "Kh"])
    assert int(s.phase) == bj.PHASE_INSURANCE and legal(s17, s) == {"insurance", "no_insurance"}
    s = s17.play(s, INSURANCE)
    # the peek follows the last insurance decision: dealer blackjack settles the round
    assert bool(s.terminated) and bool(s.dealer_revealed)
    assert float(s.rewards[0]) == 0.0  # hand -1, insurance +2 * 0.5
    assert float(s.bankroll[0]) == 100.0


def test_insurance_lost_when_dealer_has_no_blackjack(s17):
    s = s17.deal(["Ts", "As", "9d", "6h", "Tc"])
    s = s17.play(s, INSURANCE)
    assert int(s.phase) == bj.PHASE_PLAY and float(s.insurance[0]) == 0.5
    s = s17.play(s, STAND)  # dealer A6 = soft 17 stands; 19 wins
    assert float(s.rewards[0]) == pytest.approx(1.0 - 0.5)
    s = s17.play(s17.deal(["Ts", "As", "9d", "6h"]), NO_INSURANCE, STAND)
    assert float(s.rewards[0]) == 1.0


def test_late_surrender_returns_half_the_bet(s17):
    s = s17.deal(["Ts", "Th", "6d", "9c"])
    assert "surrender" in legal(s17, s)
    s = s17.play(s, SURRENDER)
    assert float(s.rewards[0]) == -0.5 and int(s.hand_status[0]) == bj.HAND_SURRENDERED
    assert float(s.bankroll[0]) == 99.5
    s = s17.play(s17.deal(["Ts", "Th", "2d", "9c", "2c"]), HIT)
    assert "surrender" not in legal(s17, s)  # only as the first decision


# ----------------------------------------------------------------------------- betting and bankroll
def test_bets_follow_the_bankroll(betting):
    env = betting.env
    s = betting.init(KEY)
    assert int(s.phase) == bj.PHASE_BET and legal(betting, s) == {"bet_1", "bet_5", "bet_10"}  # 25 > 12
    deck = cards.stacked_deck(["5s", "Ac", "5d", "6h", "Tc"], 6)
    s = betting.init_with_deck(KEY, deck)
    s = betting.play(s, BET_BASE + 2)  # bet 10, bankroll 2
    assert float(s.bankroll[0]) == 2.0 and float(s.seat_bet[0]) == 10.0
    # the dealer shows an ace, but 2 chips cannot cover insurance of 5: no offer
    assert int(s.phase) == bj.PHASE_PLAY
    assert legal(betting, s) == {"stand", "hit"}  # 10 is a double down hand, but unaffordable
    s = betting.play(s, HIT)
    assert hand(s, 0) == "5s 5d Tc" and float(s.rewards[0]) == 0.0
    s = betting.play(s, STAND)
    assert float(s.rewards[0]) == 10.0 and float(s.bankroll[0]) == 22.0
    assert env.num_actions == 7 + 4


def test_seats_bet_insure_and_play_in_order():
    table = Table(num_seats=3)
    deck = cards.stacked_deck(["Ts", "9s", "As", "Ac", "Th", "8h", "Kd", "6c"], 6)
    s = table.init_with_deck(KEY, deck)
    order = []
    for a in (BET_BASE + 0, BET_BASE + 1, BET_BASE + 2):
        order.append(int(s.current_player))
        s = table.play(s, a)
    assert order == [0, 1, 2]
    # seat cards, up-card, seat cards, hole: Ts 9s As | Ac | Th 8h Kd | 6c
    assert [hand(s, 4 * i) for i in range(3)] == ["Ts Th", "9s 8h", "As Kd"]
    assert int(s.phase) == bj.PHASE_INSURANCE and int(s.current_player) == 0
    s = table.play(s, NO_INSURANCE)
    s = table.play(s, INSURANCE)
    assert int(s.current_player) == 2
    s = table.play(s, INSURANCE)  # even money for the natural
    assert int(s.phase) == bj.PHASE_PLAY and int(s.current_player) == 0  # seat 2 has a natural
    s = table.play(s, STAND, STAND)
    # dealer A6 = soft 17 stands: 20 wins 1, 17 pushes (lost insurance 1), natural 7.5 - 2.5
    assert bool(s.terminated)
    np.testing.assert_allclose(np.asarray(s.rewards), [1.0, -1.0, 5.0])


# ----------------------------------------------------------------------------- shoe, cut card, count
def stand_or_decline(state):
    """STAND where legal, else decline insurance."""
    return jnp.int32(STAND if bool(state.legal_action_mask[STAND]) else NO_INSURANCE)


def test_shoe_episode_ends_at_the_cut_card_with_a_running_count():
    table = Table(betting=False, episode="shoe", num_decks=1, penetration=0.5)
    s = table.init(KEY)
    seen_rounds = 0
    for t in range(200):
        # the count is Hi-Lo over every card seen face up since the shuffle: all dealt cards
        # but the hole card while it is face down (1 seat: the 4th card of the round)
        tags = np.asarray(bj.hilo(s.deck.cards[: int(s.deck.position)]))
        hidden = 0 if bool(s.dealer_revealed) else int(tags[int(s.round_start) + 3])
        assert int(s.running_count) == int(tags.sum()) - hidden
        if bool(s.terminated | s.truncated):
            break
        s = table.step(s, stand_or_decline(s), jax.random.fold_in(KEY, t))
        seen_rounds = int(s.round_index)
    assert bool(s.terminated) and not bool(s.truncated)
    assert int(s.deck.position) >= table.env.cut_position == 26
    assert seen_rounds >= 2


def test_session_reshuffles_at_the_cut_card_and_continues():
    table = Table(betting=False, episode="session", num_decks=1, penetration=0.5, max_rounds=30)
    s = table.init(KEY)
    reshuffled = False
    for t in range(400):
        if bool(s.terminated | s.truncated):
            break
        before = int(s.deck.position)
        s = table.step(s, stand_or_decline(s), jax.random.fold_in(KEY, t))
        if int(s.deck.position) < before:
            reshuffled = True
            # the new round was dealt from a full shoe and only its face-up cards are counted
            assert int(s.round_start) == 0
            assert int(s.deck.position) == 4
            face_up = s.deck.cards[: 4 if bool(s.dealer_revealed) else 3]
            assert int(s.running_count) == int(np.asarray(bj.hilo(face_up)).sum())
    assert reshuffled and bool(s.truncated) and int(s.round_index) == 30


def test_shoe_running_dry_voids_the_round():
    table = Table(betting=False, num_decks=1)
    # 6 cards left: the deal takes 4, two hits take the rest, the third finds nothing
    s = table.deal(["Ts", "7c", "2d", "Th", "2c", "3c"], position=46)
    s = table.play(s, HIT, HIT)
    assert hand(s, 0) == "Ts 2d 2c 3c" and not bool(s.done)
    s = table.play(s, HIT)
    assert bool(s.truncated) and not bool(s.terminated) and float(s.rewards[0]) == 0.0
    assert float(s.bankroll[0]) == 100.0


# ----------------------------------------------------------------------------- conservation (property)
CONSERVE = {}


def conserve_table(kind):
    if kind not in CONSERVE:
        config = {
            "multi": dict(
                num_seats=3,
                num_decks=1,
                episode="session",
                max_rounds=50,
                penetration=0.6,
                late_surrender=True,
                resplit_aces=True,
                hit_split_aces=True,
                bet_menu=(1, 2),
            ),
            "single": dict(
                betting=False, num_decks=2, episode="shoe", dealer_hits_soft_17=True, split_any_tens=True
            ),
        }[kind]
        CONSERVE[kind] = Table(**config)
    return CONSERVE[kind]


def check_conservation(env, s):
    full = collections.Counter(np.asarray(cards.new_deck(env.config.num_decks).cards).tolist())
    shoe = np.asarray(s.deck.cards)
    assert collections.Counter(shoe.tolist()) == full  # the shoe array is always a permutation
    table_cards = [c for c in np.asarray(s.hand_cards).ravel().tolist() if c >= 0]
    table_cards += [c for c in np.asarray(s.dealer_cards).tolist() if c >= 0]
    dealt_this_round = shoe[int(s.round_start) : int(s.deck.position)].tolist()
    # every card on the table came out of the shoe this round, and no card left the shoe unseen
    assert collections.Counter(table_cards) == collections.Counter(dealt_this_round)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["multi", "single"]))
def test_no_card_is_created_or_lost(seed, kind):
    table = conserve_table(kind)
    rng = np.random.default_rng(seed)
    s = table.init(jax.random.PRNGKey(seed))
    check_conservation(table.env, s)
    for t in range(60):
        if bool(s.done):
            break
        a = int(rng.choice(np.flatnonzero(np.asarray(s.legal_action_mask))))
        s = table.step(s, jnp.int32(a), step_key(jax.random.PRNGKey(seed), t))
        check_conservation(table.env, s)


# ----------------------------------------------------------------------------- transformations, replay
def random_actions(state, key):
    """int32 action per world: a random legal one."""
    return htjax.random_policy(None, state.observation, state.legal_action_mask, key)


@pytest.fixture(scope="module")
def three_seats():
    return Blackjack(num_seats=3, late_surrender=True, episode="shoe", num_decks=2, max_rounds=5)


def test_jit_equals_eager(three_seats):
    env = three_seats
    key = jax.random.PRNGKey(3)
    eager = env.init(key)
    jitted = jax.jit(env.init)(key)
    chex.assert_trees_all_equal(eager, jitted)
    step = jax.jit(env.step)
    for t in range(12):
        a = random_actions(eager, jax.random.fold_in(key, 99 + t))
        eager = env.step(eager, a, step_key(key, t))
        jitted = step(jitted, a, step_key(key, t))
        chex.assert_trees_all_equal(eager, jitted)


def test_vmap_equals_per_world_loop(three_seats):
    env = three_seats
    n = 6
    keys = jax.random.split(jax.random.PRNGKey(5), n)
    v_init, v_step = jax.jit(jax.vmap(env.init)), jax.jit(jax.vmap(env.step))
    init, step = jax.jit(env.init), jax.jit(env.step)
    batch = v_init(keys)
    worlds = [init(k) for k in keys]
    for t in range(10):
        actions = jax.vmap(random_actions)(batch, jax.random.split(jax.random.PRNGKey(t), n))
        skeys = jax.vmap(step_key, in_axes=(0, None))(keys, t)
        batch = v_step(batch, actions, skeys)
        worlds = [step(w, actions[i], skeys[i]) for i, w in enumerate(worlds)]
        for i, w in enumerate(worlds):
            chex.assert_trees_all_equal(jax.tree_util.tree_map(lambda x: x[i], batch), w)


def test_init_and_step_trace_once():
    env = Blackjack(preset="gymnasium")
    init = chex.assert_max_traces(env.init, n=1)
    step = chex.assert_max_traces(env.step, n=1)
    j_init, j_step = jax.jit(init), jax.jit(step)
    for seed in range(3):
        s = j_init(jax.random.PRNGKey(seed))
        for t in range(3):
            s = j_step(s, jnp.int32(t % 2), jax.random.PRNGKey(100 + t))
    jax.block_until_ready(s)


def test_replay_from_episode_key_and_actions_gives_the_identical_state(three_seats):
    env = three_seats
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(11), num_envs=3, num_steps=25)
    traj = out.trajectory
    for w in range(3):
        index = int(out.carry.episode_index[w])
        rows = np.flatnonzero(np.asarray(traj.episode_index[:, w]) == index)
        actions = np.asarray(traj.action[rows, w])
        states = htjax.replay_episode(env, out.carry.episode_key[w], jnp.asarray(actions, jnp.int32))
        last = jax.tree_util.tree_map(lambda x: x[-1], states)
        chex.assert_trees_all_equal(last, jax.tree_util.tree_map(lambda x: x[w], out.carry.state))


# ----------------------------------------------------------------------------- shared contract
def test_contract_finished_worlds_illegal_actions_and_terminal_mask(s17):
    env = s17.env
    s = s17.deal(["Ts", "7c", "5d", "Th", "Kc"])
    assert not bool(np.asarray(s.legal_action_mask)[SPLIT])
    bad = s17.step(s, jnp.int32(SPLIT), KEY)  # masked: the illegal-action rule
    # forfeit: 4 hands x (1 + a double) x 1 unit + insurance 0.5 (under the 100 chips), then -1
    assert bool(bad.terminated) and float(bad.rewards[0]) == -8.5 + env.illegal_action_penalty
    for name in ("hand_cards", "hand_status", "bankroll", "dealer_cards", "running_count", "phase"):
        np.testing.assert_array_equal(np.asarray(getattr(bad, name)), np.asarray(getattr(s, name)))
    chex.assert_trees_all_equal(bad.deck, s.deck)
    assert np.asarray(bad.legal_action_mask).all()
    done = s17.play(s, HIT)
    assert bool(done.terminated) and np.asarray(done.legal_action_mask).all()
    again = s17.step(done, jnp.int32(HIT), KEY)
    assert float(again.rewards[0]) == 0.0 and int(again.step_count) == int(done.step_count)
    chex.assert_trees_all_equal(again.replace(rewards=done.rewards), done)
    with pytest.raises(htjax.InvalidActionError):
        env.step(s, 99, KEY)


# ----------------------------------------------------------------------------- observation, rendering
def test_observation_hides_the_hole_card_until_revealed(s17):
    a = s17.deal(["Ts", "9c", "7d", "2h", "9s"])
    b = s17.deal(["Ts", "9c", "7d", "5h"])
    assert int(a.phase) == bj.PHASE_PLAY
    np.testing.assert_array_equal(np.asarray(a.observation), np.asarray(b.observation))
    obs = dict(zip([n for n, _ in bj.OBSERVATION_LAYOUT], np.asarray(a.observation).tolist()))
    assert obs["hand_total"] == pytest.approx(17 / 21) and obs["dealer_up"] == pytest.approx(0.9)
    assert obs["my_turn"] == 1.0 and obs["phase_play"] == 1.0 and obs["dealer_revealed"] == 0.0
    assert obs["can_surrender"] == 1.0 and obs["can_double"] == 1.0 and obs["can_split"] == 0.0
    a = s17.play(a, STAND)
    obs = dict(zip([n for n, _ in bj.OBSERVATION_LAYOUT], np.asarray(a.observation).tolist()))
    assert obs["dealer_revealed"] == 1.0 and obs["dealer_total"] == pytest.approx(20 / 21)


def test_classic_observation_matches_gymnasium_form(s17):
    s = s17.deal(["As", "9c", "5d", "2h"])
    assert np.asarray(s17.env.classic_observation(s)).tolist() == [16, 9, 1]
    s = s17.deal(["Ks", "Ac", "5d", "2h"])
    assert np.asarray(s17.env.classic_observation(s)).tolist() == [15, 1, 0]


def test_render_text_shows_the_table(s17):
    s = s17.deal(["Ts", "9c", "7d", "Th"])
    text = s17.env.render_text(s, seat=0)
    assert "Dealer: 9c ??" in text and "Ts 7d" in text and "to act" in text and ">Seat 0" in text
    assert "Th" not in text
    s = s17.play(s, STAND)
    text = s17.env.render_text(s)
    assert "9c Th  = 19" in text and "Episode over" in text and "seat 0: -1" in text


def test_docs_observation_table_is_the_layout():
    import pathlib

    doc = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "envs" / "blackjack.md").read_text()
    section = doc.split("## Observation", 1)[1].split("\n## ", 1)[0]
    assert bj.LAYOUT.markdown_table() in section
    assert [n for n, _ in bj.OBSERVATION_LAYOUT] == list(bj.LAYOUT.names)


# ----------------------------------------------------------------------------- the conformance kit
CHECK_CONFIGS = {
    "preset-casino": dict(preset="casino"),
    "preset-gymnasium": dict(preset="gymnasium"),
    "betting-splits-insurance-surrender-2-seats": dict(num_seats=2, late_surrender=True, resplit_aces=True),
    "shoe": dict(episode="shoe", num_decks=1, penetration=0.5, max_rounds=6, late_surrender=True),
    "session-no-betting": dict(episode="session", num_seats=2, num_decks=1, max_rounds=4, betting=False),
    "session-short-bankroll": dict(
        episode="session", max_rounds=3, starting_bankroll=30, bet_menu=(5, 10, 25), double_on="10-11"
    ),
}


@pytest.mark.parametrize("name", sorted(CHECK_CONFIGS))
def test_check_env__presets_and_rule_variants(name):
    env = htjax.make("blackjack", **CHECK_CONFIGS[name])
    report = htjax.testing.check_env(env, eager=False, num_states=4, continuations=2)
    assert "illegal_never_pays" in report.passed and "bounds" in report.passed


# ----------------------------------------------------------------------------- illegal actions never pay
def _forfeit(env, s, offender: bool) -> np.ndarray:
    """``env._forfeit`` of seat 0 (an offender or not) in ``s``, jitted (op by op, the forfeit of
    a blackjack table compiles each operation on its own)."""
    return np.asarray(jax.jit(env._forfeit)(s, jnp.array([offender]), env.default_params))


def test_forfeit__the_most_the_seat_can_still_lose(s17, betting):
    env = s17.env
    # play phase, 1 unit wagered: 4 hands x (bet + double) + insurance = 8.5, under the 100 chips
    s = s17.deal(["Ts", "7c", "5d", "Th"])
    np.testing.assert_allclose(_forfeit(env, s, True), [-8.5])
    np.testing.assert_allclose(_forfeit(env, s, False), [0.0])
    # betting phase: the largest bet on the menu, 25 x 8.5 = 212.5, but 12 chips bound the loss
    s = betting.init(KEY)
    np.testing.assert_allclose(_forfeit(betting.env, s, True), [-12.0])
    # Blackjack-v1: one hand, no double or insurance: the wager
    gym = Blackjack(preset="gymnasium")
    np.testing.assert_allclose(_forfeit(gym, jax.jit(gym.init)(KEY), True), [-1.0])
    # a session: every round still to come, bounded by the chips (bankroll + this round's stake)
    session = Blackjack(episode="session", max_rounds=3, betting=False)
    np.testing.assert_allclose(_forfeit(session, jax.jit(session.init)(KEY), True), [-25.5])
    session = Blackjack(episode="session", max_rounds=50, betting=False)
    np.testing.assert_allclose(_forfeit(session, jax.jit(session.init)(KEY), True), [-100.0])


def _policy(illegal_on_bad_hands: bool):
    """Bet the largest bet, decline insurance, hit below 17; on a bad hand (hard 12-16 against
    a dealer 7 to ace) play INSURANCE, which is illegal in the play phase (unmasked), or hit."""
    ix = {
        n: bj.LAYOUT.slice(n).start
        for n in ("phase_bet", "phase_insurance", "phase_play", "hand_total", "dealer_up")
    }

    def policy(params, obs, mask, key):
        total = jnp.round(obs[ix["hand_total"]] * 21)
        up = jnp.round(obs[ix["dealer_up"]] * 10)
        bad = (obs[ix["phase_play"]] > 0.5) & (total >= 12) & (total <= 16) & ((up >= 7) | (up == 1))
        bets = jnp.where(mask[BET_BASE:], jnp.arange(mask.shape[0] - BET_BASE), -1)
        play = jnp.where(total < 17, HIT, STAND)
        action = jnp.where(
            obs[ix["phase_bet"]] > 0.5,
            BET_BASE + jnp.max(bets),
            jnp.where(obs[ix["phase_insurance"]] > 0.5, NO_INSURANCE, play),
        )
        if illegal_on_bad_hands:
            action = jnp.where(bad, INSURANCE, action)
        return jnp.where(mask[action] | (bad & illegal_on_bad_hands), action, jnp.argmax(mask)).astype(
            jnp.int32
        )

    return policy


def test_illegal_exit_from_a_bad_hand_does_worse_than_playing_it():
    env = htjax.make("blackjack")  # casino rules with betting: the policy bets 25 of its 100
    key = jax.random.PRNGKey(21)
    totals = {}
    for illegal in (False, True):
        traj = htjax.rollout(env, _policy(illegal), key, num_envs=1024, num_steps=12).trajectory
        rewards = np.asarray(traj.rewards[..., 0])
        done = np.asarray(traj.done)
        totals[illegal] = (rewards.sum() / done.sum(), int((rewards <= -100).sum()), int(done.sum()))
    legal_mean, _, rounds = totals[False]
    illegal_mean, exits, _ = totals[True]
    assert rounds > 3000 and exits > 300  # the bad hands are common, and were escaped illegally
    # played out, a bad hand at 25 loses at most 212.5 and about 25 * 0.4 on average; the
    # illegal exit forfeits the seat's 100 chips plus the penalty
    assert legal_mean > -10.0 and illegal_mean < legal_mean - 10.0, totals


# ----------------------------------------------------------------------------- rule parameters per world
def test_params__a_batch_mixing_payouts_and_penetrations_equals_separate_envs_traced_once():
    rules = dict(betting=False, episode="shoe", num_decks=1, max_rounds=30)
    base = htjax.make("blackjack", **rules)
    settings = [
        dict(blackjack_payout=1.5, penetration=0.75),
        dict(blackjack_payout=1.2, penetration=0.5),
        dict(blackjack_payout=2.0, penetration=0.6),
        dict(blackjack_payout=0.0, penetration=0.9),
    ]
    n = 8
    env_params = base.batch_params([settings[i % 4] for i in range(n)])
    chex.clear_trace_counter()
    policy = chex.assert_max_traces(htjax.random_policy, n=1)
    key = jax.random.PRNGKey(5)
    mixed = htjax.rollout(base, policy, key, num_envs=n, num_steps=60, env_params=env_params)
    other = base.batch_params([settings[(i + 1) % 4] for i in range(n)])
    htjax.rollout(
        base, policy, jax.random.PRNGKey(6), num_envs=n, num_steps=60, env_params=other
    )  # no retrace
    defaults = htjax.rollout(base, htjax.random_policy, key, n, 60).trajectory  # settings[0]
    differs = False
    for k, setting in enumerate(settings):
        alone = htjax.rollout(htjax.make("blackjack", **rules, **setting), htjax.random_policy, key, n, 60)
        worlds = [i for i in range(n) if i % 4 == k]
        for name in ("rewards", "action", "done", "observation"):
            np.testing.assert_array_equal(
                np.asarray(getattr(mixed.trajectory, name))[:, worlds],
                np.asarray(getattr(alone.trajectory, name))[:, worlds],
                err_msg=f"{setting} {name}",
            )
        differs |= not np.array_equal(np.asarray(alone.trajectory.rewards), np.asarray(defaults.rewards))
    assert differs  # the parameters change the game (cut card, payouts), not just the labels


def test_params__validated_through_the_config():
    env = htjax.make("blackjack", episode="shoe", num_decks=1, num_seats=7, penetration=0.5)
    assert set(env.default_params) == {"blackjack_payout", "penetration"}
    assert float(env.params(penetration=0.6)["penetration"]) == np.float32(0.6)
    with pytest.raises(ConfigError, match="penetration"):
        env.params(penetration=0.75)  # leaves fewer cards behind the cut card than one deal
    with pytest.raises(ConfigError, match="blackjack_payout"):
        env.params(blackjack_payout=-1.0)
    with pytest.raises(ConfigError, match="num_decks"):
        env.params(num_decks=2)  # structural
