"""The 14 IPD strategies and the tournament, checked against the axelrod library."""

from __future__ import annotations

import warnings

import axelrod as axl
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from htjax.agents.ipd.strategies import (
    CLASSIC_14,
    STRATEGIES,
    get_strategy,
    gtft_probability,
    strategy_policy,
)
from htjax.agents.ipd.tournament import Agent, play_match, play_matches, ranking_table, tournament
from htjax.core.keys import step_key
from htjax.envs.prisoners_dilemma import IPDConfig, IteratedPrisonersDilemma, new_memory, update_memory

warnings.filterwarnings("ignore", module="axelrod")

C, D = axl.Action.C, axl.Action.D
DETERMINISTIC = [s for s in CLASSIC_14 if not s.stochastic]
STOCHASTIC = [s for s in CLASSIC_14 if s.stochastic]


def _axl(strategy):
    return getattr(axl, strategy.axelrod_name)()


def _codes(actions) -> np.ndarray:
    return np.array([[0 if a == C else 1 for a in pair] for pair in actions], np.int8)


def test_registry__fourteen_distinct_strategies():
    assert len(CLASSIC_14) == 14 == len(STRATEGIES)
    assert {s.name for s in STOCHASTIC} == {"Random", "GTFT"}
    for s in CLASSIC_14:
        assert _axl(s).classifier["stochastic"] == s.stochastic, s.name


def test_get_strategy__unknown_name_lists_the_available():
    with pytest.raises(ValueError, match="TitForTat"):
        get_strategy("TitForTwat")


# ------------------------------------------------------------------ deterministic: move for move
@pytest.fixture(scope="module")
def all_deterministic_matches():
    pairs = [(a, b) for a in DETERMINISTIC for b in DETERMINISTIC]
    return pairs, play_matches(pairs, turns=100)[0]


def test_every_deterministic_pair__matches_axelrod_move_for_move(all_deterministic_matches):
    pairs, moves = all_deterministic_matches
    assert len(pairs) == 144
    for m, (a, b) in enumerate(pairs):
        ref = _codes(axl.Match((_axl(a), _axl(b)), turns=100).play())
        np.testing.assert_array_equal(moves[m], ref, err_msg=f"{a.name} vs {b.name}")


def _replay_one_sided(strategy, opp_moves, flips, game):
    """Moves of ``strategy`` when the opponent's played moves are ``opp_moves`` and the strategy's
    own chosen moves are flipped where ``flips`` is 1 (noise on the strategy's side)."""
    payoffs = game.payoffs

    @jax.jit
    def run(opp, flip):
        def body(carry, inp):
            memory, private = carry
            o, f = inp
            action, private = strategy.act(memory, private, jnp.float32(0.0), payoffs)
            played = action ^ f
            return (update_memory(memory, played, o), private), played

        init = (new_memory(), strategy.initial_private())
        return jax.lax.scan(body, init, (opp, flip))[1]

    return np.asarray(run(jnp.asarray(opp_moves, jnp.int32), jnp.asarray(flips, jnp.int32)))


def _axelrod_one_sided(strategy, opp_moves, flips, game):
    player, opponent = _axl(strategy), axl.Player()
    axl_game = axl.Game(r=game.reward, s=game.sucker, t=game.temptation, p=game.punishment)
    player.set_match_attributes(length=len(opp_moves), game=axl_game, noise=0)
    played = []
    for o, f in zip(opp_moves, flips):
        move = player.strategy(opponent)
        move = move.flip() if f else move
        other = D if o else C
        player.update_history(move, other)
        opponent.update_history(other, move)
        played.append(0 if move == C else 1)
    return np.array(played)


@pytest.mark.parametrize("strategy", DETERMINISTIC, ids=lambda s: s.name)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_deterministic_strategy__matches_axelrod_against_any_history_with_noise(strategy, data):
    turns = 60
    opp = data.draw(st.lists(st.integers(0, 1), min_size=turns, max_size=turns), label="opponent moves")
    flips = data.draw(
        st.lists(st.sampled_from([0, 0, 0, 1]), min_size=turns, max_size=turns), label="own flips"
    )
    game = data.draw(
        st.sampled_from([IPDConfig(), IPDConfig(temptation=4.0, reward=3.0, punishment=2.0, sucker=-1.0)])
    )
    ours = _replay_one_sided(strategy, opp, flips, game)
    theirs = _axelrod_one_sided(strategy, opp, flips, game)
    np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------------ stochastic: statistics
def _within(ours: np.ndarray, theirs: np.ndarray, sigmas: float = 5.0) -> bool:
    se = np.sqrt(ours.var(ddof=1) / len(ours) + theirs.var(ddof=1) / len(theirs))
    return abs(ours.mean() - theirs.mean()) <= sigmas * se + 1e-9


def test_random__cooperates_half_the_time():
    moves = play_match("Random", "Defector", turns=100, repetitions=64, seed=3)
    rate = (moves[..., 0] == 0).mean()
    assert abs(rate - 0.5) < 5 * np.sqrt(0.25 / moves[..., 0].size)


@pytest.mark.parametrize(
    "game",
    [IPDConfig(), IPDConfig(temptation=4.0, reward=3.0, punishment=1.0, sucker=0.0)],
    ids=["5310", "4310"],
)
def test_gtft__forgives_a_defector_at_axelrods_rate(game):
    axl_game = axl.Game(r=game.reward, s=game.sucker, t=game.temptation, p=game.punishment)
    ref = axl.GTFT()
    # axelrod fixes p from its default game when the player is built (p = 1/3); with p unset
    # it applies the same formula to the match's game, which is what htjax does.
    assert ref.p == pytest.approx(gtft_probability(IPDConfig().payoffs))
    ref.p = None
    ref.set_match_attributes(length=100, game=axl_game, noise=0)
    p = gtft_probability(game.payoffs)
    assert p == pytest.approx(ref.p)
    moves = play_match("GTFT", "Defector", turns=100, repetitions=64, seed=5, game=game)
    assert (moves[:, 0, 0] == 0).all()  # cooperates first
    rate = (moves[:, 1:, 0] == 0).mean()
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / moves[:, 1:, 0].size)


@pytest.fixture(scope="module")
def stochastic_pairs():
    """Each stochastic strategy against every strategy, 60 repetitions, htjax and axelrod."""
    reps = 60
    pairs = [(s, o) for s in STOCHASTIC for o in CLASSIC_14]
    ours = play_matches(pairs, turns=100, repetitions=reps, seed=11)
    theirs = []
    for s, o in pairs:
        match = axl.Match((_axl(s), _axl(o)), turns=100, seed=17)
        theirs.append(np.stack([_codes(match.play()) for _ in range(reps)]))
    return pairs, ours, np.stack(theirs, axis=1)


def test_stochastic_pairs__cooperation_rates_match_axelrod(stochastic_pairs):
    pairs, ours, theirs = stochastic_pairs
    for m, (s, o) in enumerate(pairs):
        for seat in (0, 1):
            a = (ours[:, m, :, seat] == 0).mean(axis=1)
            b = (theirs[:, m, :, seat] == 0).mean(axis=1)
            assert _within(a, b), f"{s.name} vs {o.name}, seat {seat}: {a.mean():.3f} vs {b.mean():.3f}"


def test_stochastic_pairs__scores_match_axelrod(stochastic_pairs):
    pairs, ours, theirs = stochastic_pairs
    table = np.array([[3, 0], [5, 1]])
    for m, (s, o) in enumerate(pairs):
        a = table[ours[:, m, :, 0], ours[:, m, :, 1]].mean(axis=1)
        b = table[theirs[:, m, :, 0], theirs[:, m, :, 1]].mean(axis=1)
        assert _within(a, b), f"{s.name} vs {o.name}: {a.mean():.3f} vs {b.mean():.3f}"


def test_play_matches__same_seed_same_moves_other_seed_differs():
    a = play_match("Random", "GTFT", turns=50, repetitions=4, seed=1)
    b = play_match("Random", "GTFT", turns=50, repetitions=4, seed=1)
    c = play_match("Random", "GTFT", turns=50, repetitions=4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    assert (a[0] != a[1]).any()  # repetitions are independent


# ------------------------------------------------------------------ tournaments
@pytest.fixture(scope="module")
def deterministic_tournaments():
    ours = tournament(DETERMINISTIC, turns=100, repetitions=3)
    theirs = axl.Tournament([_axl(s) for s in DETERMINISTIC], turns=100, repetitions=1).play(
        progress_bar=False
    )
    return ours, theirs


def test_tournament__deterministic_ranking_equals_axelrods(deterministic_tournaments):
    ours, theirs = deterministic_tournaments
    names = {str(_axl(s)): s.name for s in DETERMINISTIC}
    assert list(ours.ranked_names) == [names[n] for n in theirs.ranked_names]


def test_tournament__deterministic_scores_equal_axelrods(deterministic_tournaments):
    ours, theirs = deterministic_tournaments
    np.testing.assert_allclose(ours.score_matrix, np.asarray(theirs.payoff_matrix), atol=1e-12)
    np.testing.assert_allclose(
        ours.median_score, [np.median(s) for s in theirs.normalised_scores], atol=1e-12
    )
    # deterministic: every repetition is the same
    np.testing.assert_array_equal(ours.normalised_scores, ours.normalised_scores[:, :1].repeat(3, axis=1))


def test_tournament__noisy_scores_match_axelrod_statistically():
    players = ["TitForTat", "Grudger", "WinStayLoseShift", "Gradual", "Random", "Adaptive"]
    reps = 40
    ours = tournament(players, turns=50, repetitions=reps, noise=0.05, seed=4)
    theirs = axl.Tournament(
        [_axl(STRATEGIES[n]) for n in players], turns=50, repetitions=reps, noise=0.05, seed=4
    )
    theirs = theirs.play(progress_bar=False)
    for i, name in enumerate(players):
        a = ours.normalised_scores[i]
        b = np.asarray(theirs.normalised_scores[i])
        assert _within(a, b), f"{name}: {a.mean():.3f} vs {b.mean():.3f}"


def test_tournament__full_fourteen_result_shapes_and_table():
    result = tournament(turns=20, repetitions=4, seed=0)
    n = 14
    assert result.score_matrix.shape == (n, n) and result.normalised_scores.shape == (n, 4)
    assert sorted(result.ranking) == list(range(n))
    assert result.rounds_played == 105 * 4 * 20
    medians = result.median_score[list(result.ranking)]
    assert (np.diff(medians) <= 0).all()
    d = result.to_dict()
    assert d["ranking"][0] == result.ranked_names[0] and len(d["score_matrix"]) == n
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(ranking_table(result))
    text = console.export_text()
    assert "Defector" in text and "median score/turn" in text


# ------------------------------------------------------------------ agents and house policies
def test_agent__tit_for_tat_policy_scores_like_the_strategy():
    agent = Agent("TFT-agent", strategy_policy("TitForTat"))
    players = ["TitForTat", "Gradual", "Random", "Prober"]
    result = tournament(players, agents=[agent], turns=30, repetitions=8, seed=2)
    i, j = result.names.index("TitForTat"), result.names.index("TFT-agent")
    # against deterministic opponents the agent plays exactly as the strategy does
    for k in (result.names.index("Gradual"), result.names.index("Prober")):
        assert result.score_matrix[j, k] == result.score_matrix[i, k]
        assert result.score_matrix[k, j] == result.score_matrix[k, i]
    assert result.score_matrix[i, j] == result.score_matrix[j, i] == 3.0


def test_agent__params_are_traced_and_used():
    def threshold_policy(params, observation, mask, key):
        return (jax.random.uniform(key) < params).astype(jnp.int32)

    low = play_match(Agent("t", threshold_policy, jnp.float32(0.1)), "Cooperator", turns=50, repetitions=8)
    high = play_match(Agent("t", threshold_policy, jnp.float32(0.9)), "Cooperator", turns=50, repetitions=8)
    assert low[..., 0].mean() < 0.3
    assert high[..., 0].mean() > 0.7


def test_agent__out_of_range_action_raises_naming_the_agent():
    def bad_policy(params, observation, mask, key):
        return jnp.int32(2)

    with pytest.raises(ValueError, match="'broken'"):
        tournament(["TitForTat"], agents=[Agent("broken", bad_policy)], turns=5, repetitions=2)


@pytest.mark.parametrize(
    "policy",
    [lambda params, obs, mask, key: jnp.float32(0.0), lambda params, obs, mask, key: jnp.zeros(2, jnp.int32)],
    ids=["float", "vector"],
)
def test_agent__action_of_wrong_dtype_or_shape_raises(policy):
    with pytest.raises(ValueError, match="'odd'.*one integer action"):
        tournament(["Defector"], agents=[Agent("odd", policy)], turns=5, repetitions=2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(players=["TitForTat", "Nope"]), "unknown IPD strategy"),
        (dict(players=["TitForTat", "TitForTat"]), "unique"),
        (dict(players=["TitForTat"]), "at least two"),
        (dict(players=[3, "TitForTat"]), "must be a strategy name"),
        (dict(turns=0), "turns"),
        (dict(repetitions=0), "repetitions"),
        (dict(noise=2.0), "noise"),
        (dict(seed="x"), "seed"),
    ],
)
def test_tournament__bad_input_raises(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        tournament(**kwargs)


@pytest.mark.parametrize("name", [s.name for s in CLASSIC_14 if s.memory_depth is not None])
def test_strategy_policy__rollout_matches_play_match(name):
    env = IteratedPrisonersDilemma(rounds=20)
    policy = strategy_policy(name, env.config)
    other = strategy_policy("WinStayLoseShift", env.config)
    key = jax.random.PRNGKey(0)

    @jax.jit
    def run(key):
        def body(state, t):
            k0, k1 = jax.random.split(jax.random.fold_in(key, 1000 + t))
            a = jnp.stack(
                [
                    policy(None, state.observation[0], state.legal_action_mask[0], k0),
                    other(None, state.observation[1], state.legal_action_mask[1], k1),
                ]
            )
            return env.step(state, a, step_key(key, t)), a

        return jax.lax.scan(body, env.init(key), jnp.arange(20))[1]

    moves = np.asarray(run(key))
    if STRATEGIES[name].stochastic:
        assert set(np.unique(moves[:, 0])) <= {0, 1}
        return
    np.testing.assert_array_equal(moves, play_match(name, "WinStayLoseShift", turns=20)[0])


@pytest.mark.parametrize("name", ["Grudger", "Gradual", "Adaptive", "Prober", "SoftMajority", "HardMajority"])
def test_strategy_policy__whole_match_strategies_refuse(name):
    with pytest.raises(ValueError, match="whole match"):
        strategy_policy(name)


def test_cli__tournament_table_json_and_errors():
    import json

    from typer.testing import CliRunner

    from htjax.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app, ["tournament", "--turns", "10", "-r", "2", "--players", "TitForTat,Defector", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["ranking"] == ["Defector", "TitForTat"]
    assert data["score_matrix"] == [[3.0, 0.9], [1.4, 1.0]]
    out = runner.invoke(
        app, ["tournament", "--turns", "10", "-r", "2", "--players", "SuspiciousTitForTat,Grudger"]
    )
    assert out.exit_code == 0 and "SuspiciousTitForTat" in out.stdout and "rank" in out.stdout
    out = runner.invoke(app, ["tournament", "--players", "TitForTat,Nope"])
    assert out.exit_code == 2 and "unknown IPD strategy" in out.output
