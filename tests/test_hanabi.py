"""Hanabi: the contract for every preset, and a hand-built position for every rule.

Positions are dealt from stacked decks (``env.stacked_deck``: seat 0's hand, seat 1's, ..., then
the draws) or built by replacing board quantities (``Board.with_values``, ``env.state_from_board``). The move-for-move
comparison with the reference implementation is in ``test_hanabi_reference.py``;
``htjax.testing.check_env`` runs on the config and on every preset (``2p`` .. ``5p``) in
``test_contract.py``, as for every registered game.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
import htjax.testing
from htjax.core.errors import ConfigError, InvalidArgumentError
from htjax.envs.hanabi import rules as R

KEY = jax.random.PRNGKey(0)


class Game:
    """One env with its jitted functions (shared by a module's tests)."""

    def __init__(self, num_players: int):
        self.env = env = htjax.make("hanabi", num_players=num_players)
        self.h = env.hand_size
        self._step = jax.jit(env.step)
        self._deal = jax.jit(env.init_deal)
        self._observe = jax.jit(env.observe)
        self._from_board = jax.jit(env.state_from_board)

    def deal(self, order, key=KEY):
        return self._deal(key, self.env.stacked_deck(order))

    def step(self, state, label_or_id):
        a = label_or_id if isinstance(label_or_id, int) else self.env.action_labels.index(label_or_id)
        return self._step(state, np.int32(a), jax.random.PRNGKey(1))

    def observe(self, state, seat):
        return self.env.observation_layout.unpack(self._observe(state, np.int32(seat)))

    def hand(self, state, seat):
        return [R.card_str(c) for c in np.asarray(state.board.hands[seat]) if c >= 0]

    def legal(self, state):
        return {self.env.action_labels[i] for i in np.flatnonzero(np.asarray(state.legal_action_mask))}

    def with_board(self, state, **fields):
        return self._from_board(state.board.with_values(**fields), state.step_count)


@pytest.fixture(scope="module")
def g2():
    return Game(2)


@pytest.fixture(scope="module")
def g4():
    return Game(4)


# two seats: seat 0 holds R1 R2 Y1 G1 B5, seat 1 holds R1 W2 W3 Y1 B1; then the draws
ORDER_2P = ["R1", "R2", "Y1", "G1", "B5", "R1", "W2", "W3", "Y1", "B1", "G2", "G3", "W1", "B2"]


def test_hanabi__sizes_follow_the_seat_count():
    sizes = {n: htjax.make("hanabi", num_players=n) for n in range(2, 6)}
    assert {n: e.hand_size for n, e in sizes.items()} == {2: 5, 3: 5, 4: 4, 5: 4}
    assert {n: e.num_actions for n, e in sizes.items()} == {2: 20, 3: 30, 4: 38, 5: 48}
    # HLE's canonical encoding sizes (OpenSpiel's observation_tensor_shape)
    assert {n: e.observation_shape[0] for n, e in sizes.items()} == {2: 658, 3: 956, 4: 1041, 5: 1280}
    assert sizes[3].action_labels[10:12] == ("hint +1 red", "hint +1 yellow")
    assert sizes[3].action_labels[15] == "hint +2 red" and sizes[3].action_labels[20] == "hint +1 rank 1"
    with pytest.raises(ConfigError, match="num_players"):
        htjax.make("hanabi", num_players=6)


def test_hanabi__deck_holds_fifty_cards_three_ones_one_five_per_colour(g2):
    state = g2.deal([])  # init_deal of the fresh deck: what init deals (jitted: no eager compiles)
    deck = np.asarray(state.board.deck.cards)
    counts = np.bincount(deck, minlength=25).reshape(5, 5)
    assert deck.size == 50 and (counts == [3, 2, 2, 2, 1]).all()
    with pytest.raises(InvalidArgumentError, match="B5"):
        g2.env.stacked_deck(["B5", "B5"])
    with pytest.raises(InvalidArgumentError, match="not a Hanabi card"):
        g2.env.stacked_deck(["X9"])


def test_hanabi__deal_gives_each_seat_its_cards_in_order_and_starts_full(g2, g4):
    s = g2.deal(ORDER_2P)
    assert g2.hand(s, 0) == ORDER_2P[:5] and g2.hand(s, 1) == ORDER_2P[5:10]
    b = s.board
    assert (int(b.info_tokens), int(b.life_tokens), int(s.current_player)) == (8, 3, 0)
    assert 50 - int(b.deck.position) == 40
    s4 = g4.deal(["R1"] * 3 + ["Y1"] * 3 + ["G1"] * 3 + ["W1"] * 3 + ["B1"] * 3 + ["R2"])
    assert [len(g4.hand(s4, p)) for p in range(4)] == [4, 4, 4, 4]
    assert g4.hand(s4, 0) == ["R1", "R1", "R1", "Y1"] and g4.hand(s4, 3) == ["B1", "B1", "B1", "R2"]


def test_hanabi__discard_only_below_eight_tokens_and_gains_one(g2):
    s = g2.deal(ORDER_2P)
    assert not any(label.startswith("discard") for label in g2.legal(s))  # 8 tokens at the start
    s = g2.step(s, "hint +1 white")  # 7 tokens
    s = g2.step(s, "discard 0")  # seat 1 discards R1
    assert int(s.board.info_tokens) == 8 and g2.hand(s, 1) == ["W2", "W3", "Y1", "B1", "G2"]
    assert int(s.board.discards[R.parse_card("R1")]) == 1 and float(s.rewards[0]) == 0.0


def test_hanabi__played_card_leaves_its_slot_and_the_draw_goes_last(g2):
    s = g2.deal(ORDER_2P)
    s = g2.step(s, "play 2")  # seat 0 plays Y1
    assert g2.hand(s, 0) == ["R1", "R2", "G1", "B5", "G2"]
    assert int(s.board.fireworks[1]) == 1 and np.asarray(s.rewards).tolist() == [1.0, 1.0]


def test_hanabi__misplay_costs_a_life_and_goes_to_the_discards(g2):
    s = g2.deal(ORDER_2P)
    s = g2.step(s, "play 1")  # R2 on an empty red firework
    assert int(s.board.life_tokens) == 2 and int(s.board.discards[R.parse_card("R2")]) == 1
    assert int(s.board.fireworks.sum()) == 0 and float(s.rewards[0]) == 0.0
    assert not bool(s.terminated)


def test_hanabi__losing_the_last_life_ends_the_game_at_score_zero(g2):
    s = g2.deal(ORDER_2P)
    s = g2.step(s, "play 0")  # R1 scores
    s = g2.step(s, "play 1")  # seat 1: W2 misplays
    s = g2.step(s, "play 3")  # seat 0: B5 misplays
    assert int(s.board.life_tokens) == 1 and int(R.score(s.board)) == 1
    s = g2.step(s, "play 1")  # seat 1: W3 misplays: no life left
    assert bool(s.terminated) and int(s.board.life_tokens) == 0
    assert int(R.score(s.board)) == 0 and np.asarray(s.rewards).tolist() == [-1.0, -1.0]  # HLE


def test_hanabi__completing_a_five_returns_a_token_below_eight(g2):
    s = g2.deal(ORDER_2P)
    s = g2.with_board(s, fireworks=jnp.array([0, 0, 0, 0, 4], jnp.int32), info_tokens=jnp.int32(5))
    s = g2.step(s, "play 4")  # B5 completes blue
    assert int(s.board.fireworks[4]) == 5 and int(s.board.info_tokens) == 6
    obs = g2.observe(s, 1)
    assert obs["last_play"].tolist() == [1.0, 1.0]  # scored and gained a token
    s = g2.deal(ORDER_2P)
    s = g2.with_board(s, fireworks=jnp.array([0, 0, 0, 0, 4], jnp.int32))
    s = g2.step(s, "play 4")  # with 8 tokens no token is gained
    assert int(s.board.info_tokens) == 8 and g2.observe(s, 1)["last_play"].tolist() == [1.0, 0.0]


def test_hanabi__a_perfect_twenty_five_ends_the_game(g2):
    s = g2.deal(ORDER_2P)
    s = g2.with_board(s, fireworks=jnp.array([5, 5, 5, 5, 4], jnp.int32))
    s = g2.step(s, "play 4")
    assert bool(s.terminated) and int(R.score(s.board)) == 25 and float(s.rewards[0]) == 1.0


def test_hanabi__colour_hint_reveals_every_match_and_rules_out_the_rest(g2):
    s = g2.deal(ORDER_2P)
    legal = g2.legal(s)  # seat 1 holds R1 W2 W3 Y1 B1: no green
    assert {"hint +1 red", "hint +1 white", "hint +1 yellow", "hint +1 blue"} <= legal
    assert "hint +1 green" not in legal
    s = g2.step(s, "hint +1 white")
    b = jax.device_get(s.board)
    white = R.COLORS.index("white")
    assert b.color_hinted[1, :, white].tolist() == [False, True, True, False, False]
    assert b.color_plausible[1, 1].tolist() == [False, False, False, True, False]  # only white
    assert not b.color_plausible[1, [0, 3, 4], white].any()  # negative information
    assert b.color_plausible[1, 0].sum() == 4 and b.rank_plausible[1].all()
    assert int(b.info_tokens) == 7 and b.last_reveal.tolist() == [False, True, True, False, False]
    knowledge = g2.observe(s, 1)["card_knowledge"].reshape(2, 5, 35)  # seat 1 sees it as its own
    assert knowledge[0, 1, 25 + white] == 1 and knowledge[0, 1, :25].sum() == 5
    assert knowledge[0, 0, :25].sum() == 20


def test_hanabi__rank_hint_only_for_ranks_present(g2):
    s = g2.deal(ORDER_2P)
    assert {"hint +1 rank 1", "hint +1 rank 2", "hint +1 rank 3"} <= g2.legal(s)
    assert not {"hint +1 rank 4", "hint +1 rank 5"} & g2.legal(s)
    s = g2.step(s, "hint +1 rank 1")  # R1, Y1, B1 in slots 0, 3, 4
    b = jax.device_get(s.board)
    assert b.rank_hinted[1, :, 0].tolist() == [True, False, False, True, True]
    assert not b.rank_plausible[1, 1, 0] and b.rank_plausible[1, 1].sum() == 4
    assert g2.observe(s, 0)["last_rank"].tolist() == [1, 0, 0, 0, 0]


def test_hanabi__no_hints_without_tokens(g2):
    s = g2.with_board(g2.deal(ORDER_2P), info_tokens=jnp.int32(0))
    assert not any(label.startswith("hint") for label in g2.legal(s))
    assert {f"discard {i}" for i in range(5)} <= g2.legal(s)


def test_hanabi__one_more_round_after_the_deck_runs_out(g2):
    # the deck: the ten dealt cards, then one card left to draw
    s = g2.deal(ORDER_2P)
    s = g2.with_board(s, deck=s.board.deck.replace(position=jnp.int32(49)))
    s = g2.step(s, "play 0")  # seat 0 draws the last card
    assert 50 - int(s.board.deck.position) == 0 and not bool(s.terminated)
    s = g2.step(s, "hint +1 red")  # seat 1's last turn
    assert not bool(s.terminated)
    s = g2.step(s, "play 0")  # seat 0's last turn: the game ends
    assert bool(s.terminated) and len(g2.hand(s, 0)) == 4
    assert g2.observe(s, 1)["missing_card"].tolist() == [0.0, 1.0]  # seat 0 is one to the left


def test_hanabi__four_seats_hint_by_relative_offset(g4):
    order = ["R1", "R2", "R3", "R4", "Y1", "Y2", "Y3", "Y4", "G1", "G2", "G3", "G4", "W1", "W2", "W3", "W4"]
    s = g4.deal(order)
    s = g4.step(s, "hint +2 green")  # seat 0 hints seat 2
    b = jax.device_get(s.board)
    assert b.color_hinted[2, :, 2].all() and int(b.last_target) == 2
    obs = g4.observe(s, 2)  # seat 2 sees seat 0 as offset 2 and itself as the target
    assert obs["last_player"].tolist() == [0, 0, 1, 0] and obs["last_target"].tolist() == [1, 0, 0, 0]


def test_hanabi__illegal_action_forfeits_the_score(g2):
    s = g2.step(g2.deal(ORDER_2P), "play 0")  # score 1
    s = g2.step(s, 0)  # seat 1 discards with 8 tokens: illegal
    assert bool(s.terminated) and np.asarray(s.rewards).tolist() == [-1.0, -2.0]


def test_hanabi__text_view_hides_own_cards_and_public_view_hides_hands(g2):
    s = g2.step(g2.deal(ORDER_2P), "hint +1 white")
    text = g2.env.render_text(s, seat=1)
    assert "R1 XX" in text and "?? XW" not in text and "?? W" in text  # seat 0's cards, own hidden
    view = g2.env.public_view(s)
    assert view["info_tokens"] == 7 and view["knowledge"][1][1] == "WX|W12345"
    assert "hands" not in view and view["last_move"]["move"] == "hint colour"


def test_hanabi__docs_page_shows_the_layout_table():
    import pathlib

    page = pathlib.Path(__file__).resolve().parent.parent / "docs" / "envs" / "hanabi.md"
    assert htjax.make("hanabi").observation_layout.markdown_table() in page.read_text()


def test_hanabi__make_rollout_and_play_against_random_partners():
    from typer.testing import CliRunner

    from htjax.cli import app

    env = htjax.make("hanabi", preset="3p")
    out = htjax.rollout(env, htjax.random_policy, KEY, num_envs=4, num_steps=30)
    rewards = np.asarray(out.trajectory.rewards)
    assert rewards.shape == (30, 4, 3) and (rewards == rewards[..., :1]).all()
    script = "hint +1 rank 1\nplay 0\nq\n"  # the hint may be illegal: it is refused, not sent
    result = CliRunner().invoke(
        app, ["play", "hanabi", "--seed", "3", "--games", "1"], input=script, env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "you play play 0" in result.output and "seat 1 plays" in result.output
    assert "seat 0 (you): ??" in result.output  # own cards hidden


def test_hanabi__bench_script_measures_the_references_and_writes_markdown():
    import importlib.util
    import pathlib
    import sys

    scripts = pathlib.Path(__file__).resolve().parent.parent / "scripts"
    sys.path.insert(0, str(scripts))
    spec = importlib.util.spec_from_file_location("bench_hanabi", scripts / "bench_hanabi.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    runs = [
        {"system": "openspiel", "players": 2, "observe": True, "seconds": 0.05},
        {"system": "pettingzoo", "players": 2, "seconds": 0.05},
    ]
    for run in runs:
        run.update(bench.worker(run), load_after=1.0)
        assert run["steps_per_s"] > 0
    report = {
        "command": "python scripts/bench_hanabi.py",
        "date": "today",
        "machine": {"cpu": "cpu", "cores": 2, "jax": "x", "device": "cpu"},
        "load_min": 1.0,
        "load_max": 2.0,
        "worlds": 8192,
        "runs": runs + [{"system": "compile", "players": 2, "num_envs": 8192, "error": "timed out"}],
        "ratios": {"PettingZoo hanabi_v5": 3.0},
    }
    md = bench.markdown(report)
    assert "| PettingZoo `hanabi_v5` (AEC loop) | 2 | 1 |" in md and "**3.0x**" in md
    assert "not run: timed out" in md


def test_hanabi__board_with_values_sets_one_named_quantity_and_keeps_the_rest(g2):
    b = jax.device_get(g2.deal(ORDER_2P).board)
    hinted = np.zeros((2, 5, 5), bool)
    hinted[1, 2, 3] = True  # seat 1's slot 2 was told "white"
    c = jax.device_get(
        b.with_values(info_tokens=jnp.int32(3), last_kind=jnp.int32(R.HINT_RANK), color_hinted=hinted)
    )
    assert (int(c.info_tokens), int(c.life_tokens), int(c.to_act)) == (3, 3, 0)
    assert int(c.last_kind) == R.HINT_RANK and int(c.last_player) == -1
    assert (np.asarray(c.color_hinted) == hinted).all()
    for name in ("color_plausible", "rank_plausible", "rank_hinted"):
        assert (np.asarray(getattr(c, name)) == np.asarray(getattr(b, name))).all(), name
    assert (np.asarray(c.hands) == np.asarray(b.hands)).all() and (c.fireworks == b.fireworks).all()
