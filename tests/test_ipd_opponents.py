"""The classic IPD strategies as training opponents: Gradual and Prober rebuilt from the env state."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
from htjax.agents.ipd.strategies import CLASSIC_14, Strategy, get_strategy
from htjax.agents.ipd.tournament import Agent, play_matches
from htjax.train.ipd_opponents import TRAINABLE, classic_opponents, rebuild_private, strategy_opponent

ENV = htjax.make("prisoners_dilemma")  # 100 rounds, no noise
TURNS = ENV.config.rounds


def _biased(p: float):
    def policy(params, observation, mask, key):
        return (jax.random.uniform(key) < p).astype(jnp.int32)

    return policy


# the 14 strategies, then random players defecting 10%, 30% and 60% of the time
OTHERS = [s.name for s in CLASSIC_14] + [Agent(f"random{p}", _biased(p)) for p in (0.1, 0.3, 0.6)]


def _replayed(name: str, other_moves: np.ndarray) -> np.ndarray:
    """Moves ``int32[M, T]`` of ``strategy_opponent(name)`` while seat 1 replays ``other_moves``."""
    opponent = strategy_opponent(ENV, name)
    key = jax.random.PRNGKey(0)

    def match(moves):
        def body(state, move):
            mine = opponent(None, state, jnp.int32(0), key)
            return ENV.step(state, jnp.stack([mine, move]), key), mine

        return jax.lax.scan(body, ENV.init(key), moves)[1]

    return np.asarray(jax.jit(jax.vmap(match))(jnp.asarray(other_moves, jnp.int32)))


def _longest_run(moves: np.ndarray) -> np.ndarray:
    """Longest run of defections in each row of ``int[M, T]``."""
    best = run = np.zeros(moves.shape[0], int)
    for t in range(moves.shape[1]):
        run = np.where(moves[:, t] == 1, run + 1, 0)
        best = np.maximum(best, run)
    return best


@pytest.mark.parametrize("name", ["Gradual", "Prober"])
def test_rebuilt_strategy__plays_every_move_of_the_tournaments_own(name):
    real = play_matches([(name, other) for other in OTHERS], turns=TURNS, repetitions=4, seed=3)
    real = real.reshape(-1, TURNS, 2)  # [reps * matches, T, 2]
    rebuilt = _replayed(name, real[..., 1])
    exact = np.ones(len(real), bool)
    if name == "Gradual":
        # exact while a punishment is shorter than the 32-round move register
        exact = _longest_run(real[..., 0]) < 32
        assert exact.sum() >= len(real) - 4 * 4, (
            "only matches against heavy defectors may exceed the register"
        )
        assert _longest_run(real[..., 0]).max() >= 10, "the matches must include long punishments"
    np.testing.assert_array_equal(rebuilt[exact], real[exact][..., 0])


def test_rebuilt_gradual__beyond_the_register_still_ends_its_punishment():
    real = play_matches([("Gradual", "Defector")], turns=TURNS)[0, 0]
    rebuilt = _replayed("Gradual", real[None, :, 1])[0]
    first_long = int(np.flatnonzero(np.convolve(real[:, 0], np.ones(32), "valid") == 32)[0]) + 31
    np.testing.assert_array_equal(rebuilt[:first_long], real[:first_long, 0])
    assert (rebuilt[first_long:] == 0).any(), "a punishment must not turn Gradual into Defector"


def test_rebuild_private__memory_free_strategy_gets_an_empty_memory():
    memory = jax.tree_util.tree_map(lambda x: x[0], ENV.init(jax.random.PRNGKey(0)).memory)
    assert rebuild_private("TitForTat", memory).shape == (0,)
    assert rebuild_private("Gradual", memory).shape == (2,)


def test_strategy_opponent__refuses_an_unknown_private_memory():
    impostor = Strategy(
        "Gradual", "Gradual", "not the real one", lambda m, p, u, pay: (m.t, p), private_size=2
    )
    with pytest.raises(ValueError, match="cannot rebuild"):
        strategy_opponent(ENV, impostor)


def test_classic_opponents__all_fourteen_in_tournament_order():
    opponents = classic_opponents(ENV)
    assert opponents.names == tuple(s.name for s in CLASSIC_14) == tuple(s.name for s in TRAINABLE)
    assert get_strategy("Prober").name in opponents.names
    with pytest.raises(ValueError, match="prisoners_dilemma"):
        classic_opponents(htjax.make("blackjack"))
