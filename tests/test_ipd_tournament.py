"""The IPD tournament: streamed in chunks, standard errors, progress, memory estimates, and the
env's key schedule (a noisy match is the env's episode under the same key)."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import htjax
from htjax.agents.ipd import tournament as tmod
from htjax.agents.ipd.tournament import (
    DEFAULT_CHUNK_BYTES,
    chunk_repetitions_for,
    estimate_tournament_bytes,
    play_matches,
    tournament,
)
from htjax.core.keys import episode_key_for, step_key, world_keys

PLAYERS = ["TitForTat", "Random", "GTFT", "Grudger", "Defector"]
KW = dict(turns=12, repetitions=11, noise=0.05, seed=3)


@pytest.fixture(scope="module")
def whole_and_chunked():
    calls = []
    whole = tournament(PLAYERS, **KW)
    chunked = tournament(PLAYERS, chunk_repetitions=4, progress=lambda d, t: calls.append((d, t)), **KW)
    return whole, chunked, calls


def test_chunks__do_not_change_the_result(whole_and_chunked):
    whole, chunked, _ = whole_and_chunked
    np.testing.assert_array_equal(whole.normalised_scores, chunked.normalised_scores)
    np.testing.assert_allclose(whole.score_matrix, chunked.score_matrix, rtol=0, atol=1e-12)
    np.testing.assert_allclose(whole.score_matrix_stderr, chunked.score_matrix_stderr, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(whole.cooperation_rate, chunked.cooperation_rate)
    assert whole.ranking == chunked.ranking


def test_progress__called_at_the_start_and_after_every_chunk(whole_and_chunked):
    _, _, calls = whole_and_chunked
    assert calls == [(0, 11), (4, 11), (8, 11), (11, 11)]


def test_standard_errors__equal_a_direct_computation_over_every_repetition(whole_and_chunked):
    _, chunked, _ = whole_and_chunked
    entries = [tmod._as_player(p) for p in PLAYERS]
    n = len(entries)
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    config = tmod._config(None, KW["turns"], KW["noise"])
    chunks = list(
        tmod._stream(entries, pairs, KW["turns"], KW["repetitions"], config, KW["seed"], False, 5, None)
    )
    per_turn = np.concatenate([c[1] for c in chunks]) / KW["turns"]  # [R, M, 2]
    assert per_turn.shape == (11, len(pairs), 2)
    r = per_turn.shape[0]
    for m, (i, j) in enumerate(pairs):
        values = per_turn[:, m].mean(axis=1) if i == j else per_turn[:, m, 0]
        assert chunked.score_matrix[i, j] == pytest.approx(values.mean(), abs=1e-12)
        assert chunked.score_matrix_stderr[i, j] == pytest.approx(values.std(ddof=1) / np.sqrt(r), abs=1e-12)
        if i != j:
            other = per_turn[:, m, 1]
            assert chunked.score_matrix_stderr[j, i] == pytest.approx(
                other.std(ddof=1) / np.sqrt(r), abs=1e-12
            )
    expected = chunked.normalised_scores.std(axis=1, ddof=1) / np.sqrt(r)
    np.testing.assert_allclose(chunked.stderr_score_per_turn, expected)
    # Random's scores vary between repetitions; a deterministic pair without noise would not
    assert (chunked.stderr_score_per_turn > 0).all()


def test_standard_errors__zero_for_deterministic_and_none_with_one_repetition():
    det = tournament(["TitForTat", "Defector", "Grudger"], turns=10, repetitions=3)
    np.testing.assert_allclose(det.score_matrix_stderr, 0.0, atol=1e-12)
    one = tournament(["TitForTat", "Random"], turns=10, repetitions=1)
    assert np.isnan(one.stderr_score_per_turn).all()
    d = one.to_dict()
    assert d["stderr_score_per_turn"] == {"TitForTat": None, "Random": None}
    json.dumps(d, allow_nan=False)  # valid JSON: no NaN


def test_streaming__no_call_plays_more_than_a_chunk(monkeypatch):
    seen = []
    real = tmod.compiled_group

    def spy(statics, group, reps, *args):
        seen.append(reps)
        return real(statics, group, reps, *args)

    monkeypatch.setattr(tmod, "compiled_group", spy)
    result = tournament(
        ["Random", "TitForTat", "Cooperator"], turns=5, repetitions=23, chunk_repetitions=6, seed=1
    )
    assert result.normalised_scores.shape == (3, 23)
    assert max(seen) == 6 and seen.count(6) == 4  # 23 repetitions in 4 chunks (the last padded)
    assert 1 in seen  # the deterministic pair (TitForTat, Cooperator) is played once


def test_memory_estimate__a_million_repetitions_stream_within_the_chunk_budget():
    reps = 10**6
    chunk = chunk_repetitions_for(14, reps)
    assert 1 <= chunk < reps
    est = estimate_tournament_bytes(14, reps)
    assert est["chunk"] <= DEFAULT_CHUNK_BYTES and est["total"] == est["chunk"] + est["result"]
    assert est["result"] >= 14 * reps * 8  # the per-repetition normalised scores
    huge = estimate_tournament_bytes(14, 10**9)
    assert huge["chunk"] == est["chunk"] and huge["total"] > 10**11
    assert estimate_tournament_bytes(3, 5)["chunk"] < est["chunk"]  # small tournaments: one small chunk
    with pytest.raises(htjax.InvalidArgumentError, match="chunk_repetitions"):
        tournament(["TitForTat", "Random"], turns=3, repetitions=2, chunk_repetitions=0)


def test_key_schedule__a_noisy_match_is_the_envs_episode():
    turns, reps, seed, noise = 10, 3, 4, 0.3
    moves = play_matches([("Cooperator", "Defector")], turns=turns, repetitions=reps, noise=noise, seed=seed)
    env = htjax.make("prisoners_dilemma", rounds=turns, noise=noise)
    step = jax.jit(env.step)
    world = world_keys(jax.random.PRNGKey(seed), 1)[0]
    for r in range(reps):
        key = episode_key_for(world, r)
        s = env.init(key)
        played = []
        for t in range(turns):
            s = step(s, jnp.array([0, 1], jnp.int32), step_key(key, t))
            played.append([int(s.memory.my_move_ago(1)[0]), int(s.memory.my_move_ago(1)[1])])
        np.testing.assert_array_equal(moves[r, 0], played)
    assert (moves[..., 0] == 1).any() and (moves[..., 1] == 0).any()  # noise flipped some moves
