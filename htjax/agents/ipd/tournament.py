"""Vmapped round-robin IPD tournaments, as axelrod's ``Tournament`` plays them, streamed in chunks.

A tournament seats every pair of players ``(i, j)`` with ``i <= j`` (self-matches included,
as axelrod does) for ``turns`` rounds, ``repetitions`` times. Repetitions run in chunks of
bounded memory (:func:`chunk_repetitions_for`; the matches of a chunk all at once, one
``lax.scan`` over rounds, jitted once per line-up and chunk size, see
:mod:`htjax.agents.ipd.matches`); each chunk's per-match results are folded into running sums
(count, mean and sum of squared deviations, Chan's update) and dropped, so a tournament of
``10**6`` repetitions never holds every match. What is kept per repetition is each player's
normalised score (``float64[players, repetitions]``), which the median ranking needs; see
:func:`estimate_tournament_bytes`.

Scoring follows axelrod's ``ResultSet``: a player's *normalised score* in a repetition is its
mean per-turn score over its matches against the *other* players (self-matches excluded); the
ranking sorts players by the median of that over repetitions (ties keep player order). Results
carry standard errors over repetitions: of each player's mean normalised score and of every
pairwise mean score.

Like axelrod's deterministic cache, a match between two deterministic strategies without
noise is played once and its result reused for every repetition.

Players are :class:`~htjax.agents.ipd.strategies.Strategy` objects (or their names) and
:class:`Agent` entries: any house policy ``policy(params, observation, mask, key)`` over the
env's observation (:func:`~htjax.envs.prisoners_dilemma.observation.observation_from_memory`),
e.g. a trained network, which plays beside the scripted strategies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from htjax.agents.ipd.matches import (
    Agent,
    Group,
    Player,
    compiled_group,
    group_bytes_per_repetition,
    static_player,
)
from htjax.agents.ipd.strategies import CLASSIC_14, Strategy, get_strategy
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import key_data, world_keys
from htjax.envs.prisoners_dilemma.config import IPDConfig

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "Agent",
    "TournamentResult",
    "chunk_repetitions_for",
    "estimate_tournament_bytes",
    "play_match",
    "play_matches",
    "ranking_table",
    "tournament",
]

DEFAULT_CHUNK_BYTES = 256 * 2**20
"""Memory a chunk of repetitions may use when ``chunk_repetitions`` is not given (256 MiB)."""

Progress = Callable[[int, int], Any]
"""``progress(done, total)``: repetitions finished so far and in all."""


def _as_player(p: Any) -> Player:
    if isinstance(p, Agent):
        return p
    if isinstance(p, (str, Strategy)):
        return get_strategy(p)
    raise InvalidArgumentError(
        f"a tournament player must be a strategy name, a Strategy or an Agent, got {p!r}"
    )


def _config(game: IPDConfig | None, turns: int, noise: float) -> IPDConfig:
    if game is not None and not isinstance(game, IPDConfig):
        raise InvalidArgumentError(
            f"game must be an IPDConfig (payoffs and window), got {type(game).__name__}"
        )
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        raise InvalidArgumentError(f"turns must be a positive int, got {turns!r}")
    return dataclasses.replace(game or IPDConfig(), rounds=turns, noise=noise, continuation_probability=1.0)


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive int, got {value!r}")


def _seats(num_players: int) -> int:
    return num_players * (num_players + 1)  # two seats per match, self-matches included


def chunk_repetitions_for(
    num_players: int,
    repetitions: int,
    *,
    turns: int = 100,
    window: int = 5,
    num_agents: int = 0,
    budget_bytes: int = DEFAULT_CHUNK_BYTES,
) -> int:
    """Repetitions per chunk so that one chunk's estimated memory stays within ``budget_bytes``
    (at least 1, at most ``repetitions``)."""
    per_rep = group_bytes_per_repetition(
        _seats(num_players), turns, window, num_agents * (num_players + 1), False
    )
    return int(max(1, min(repetitions, budget_bytes // per_rep)))


def estimate_tournament_bytes(
    num_players: int,
    repetitions: int,
    *,
    turns: int = 100,
    window: int = 5,
    num_agents: int = 0,
    chunk_repetitions: int | None = None,
) -> dict[str, int]:
    """Estimated memory of :func:`tournament`: ``{"chunk": ..., "result": ..., "total": ...}`` bytes.

    ``num_players`` counts every player (strategies and agents; ``num_agents`` of them agents).
    ``chunk`` is one chunk of repetitions (chosen by :func:`chunk_repetitions_for` unless
    given), ``result`` what the result keeps for every repetition (each player's normalised
    score, ``float64``, plus the same again while ranking). The CLI refuses a tournament whose
    ``total`` exceeds the free memory.
    """
    chunk = chunk_repetitions or chunk_repetitions_for(
        num_players, repetitions, turns=turns, window=window, num_agents=num_agents
    )
    per_rep = group_bytes_per_repetition(
        _seats(num_players), turns, window, num_agents * (num_players + 1), False
    )
    result = 2 * 8 * num_players * repetitions + 8 * 4 * _seats(num_players)
    return {"chunk": chunk * per_rep, "result": result, "total": chunk * per_rep + result}


class _Running:
    """Running count, mean and sum of squared deviations of arrays, merged chunk by chunk (Chan et al.)."""

    def __init__(self, shape: tuple[int, ...]):
        self.n = 0
        self.mean = np.zeros(shape)
        self.m2 = np.zeros(shape)

    def add(self, values: np.ndarray) -> None:
        """Fold in ``values[k, *shape]`` (``k`` observations)."""
        k = values.shape[0]
        mean = values.mean(axis=0)
        m2 = ((values - mean) ** 2).sum(axis=0)
        if self.n == 0:
            self.n, self.mean, self.m2 = k, mean, m2
            return
        total = self.n + k
        delta = mean - self.mean
        self.mean = self.mean + delta * k / total
        self.m2 = self.m2 + m2 + delta**2 * self.n * k / total
        self.n = total

    def stderr(self) -> np.ndarray:
        """Standard error of the mean (``nan`` with fewer than two observations)."""
        if self.n < 2:
            return np.full_like(self.mean, np.nan)
        return np.sqrt(self.m2 / (self.n - 1) / self.n)


def _match_keys(seed: int | jax.Array, num_pairs: int) -> np.ndarray:
    key = jax.random.PRNGKey(seed) if isinstance(seed, int) else seed
    return np.asarray(key_data(world_keys(key, num_pairs)))


def _stream(players, pairs, turns, repetitions, config, seed, record, chunk, progress):
    """Play ``pairs``; yield ``(first_rep, score, coop, moves)`` per chunk, each ``[reps, len(pairs), 2]``
    (``float64``; ``moves`` ``int8[reps, len(pairs), turns, 2]`` or ``None``)."""
    deterministic = [
        config.noise == 0
        and all(isinstance(players[p], Strategy) and not players[p].stochastic for p in pair)
        for pair in pairs
    ]
    statics = tuple(static_player(p) for p in players)
    params = tuple(p.params if isinstance(p, Agent) else None for p in players)
    keys = _match_keys(seed, len(pairs))
    plans = []  # (group, members, reps per call, fixed)
    for fixed, reps in ((True, 1), (False, chunk)):
        idx = [m for m, d in enumerate(deterministic) if d == fixed]
        if idx:
            plans.append((Group.build([pairs[m] for m in idx]), idx, reps, fixed))

    def run(group, idx, reps, first):
        fn = compiled_group(statics, group, reps, turns, config, record)
        out = jax.device_get(fn(params, keys[idx], np.int32(first)))
        for (p, _, _), bad in zip(group.slices, out["illegal"]):
            if bad:
                raise InvalidArgumentError(
                    f"tournament player {players[p].name!r} returned an action outside {{0, 1}}"
                )
        inverse = np.argsort(np.asarray(group.order))
        score = np.asarray(out["score"], np.float64)[:, inverse].reshape(reps, len(idx), 2)
        coop = np.asarray(out["cooperations"], np.float64)[:, inverse].reshape(reps, len(idx), 2)
        moves = None
        if record:
            moves = (
                np.asarray(out["moves"])[:, :, inverse]
                .reshape(turns, reps, len(idx), 2)
                .transpose(1, 2, 0, 3)
            )
        return score, coop, moves

    fixed_results = [(idx, run(g, idx, 1, 0)) for g, idx, _, f in plans if f]
    random_plans = [(g, idx, reps) for g, idx, reps, f in plans if not f]
    if progress is not None:
        progress(0, repetitions)
    done = 0
    while done < repetitions:
        n = min(chunk, repetitions - done)
        score = np.zeros((n, len(pairs), 2))
        coop = np.zeros((n, len(pairs), 2))
        moves = np.zeros((n, len(pairs), turns, 2), np.int8) if record else None
        for idx, (s, c, mv) in fixed_results:
            score[:, idx], coop[:, idx] = s, c  # broadcast over the chunk's repetitions
            if record:
                moves[:, idx] = mv
        for group, idx, reps in random_plans:
            s, c, mv = run(group, idx, reps, done)  # a full chunk (same program); keep the first n
            score[:, idx], coop[:, idx] = s[:n], c[:n]
            if record:
                moves[:, idx] = mv[:n]
        yield done, score, coop, moves
        done += n
        if progress is not None:
            progress(done, repetitions)


def _index_players(pairs: Sequence[tuple[Any, Any]]) -> tuple[list[Player], list[tuple[int, int]]]:
    players: list[Player] = []
    index: dict[Any, int] = {}
    idx_pairs = []
    for pair in pairs:
        if len(pair) != 2:
            raise InvalidArgumentError(f"a match needs exactly two players, got {pair!r}")
        ids = []
        for p in pair:
            player = _as_player(p)
            key = id(player) if isinstance(player, Agent) else player
            if key not in index:
                index[key] = len(players)
                players.append(player)
            ids.append(index[key])
        idx_pairs.append(tuple(ids))
    return players, idx_pairs


def play_matches(
    pairs: Sequence[tuple[Any, Any]],
    *,
    turns: int = 100,
    repetitions: int = 1,
    noise: float = 0.0,
    seed: int | jax.Array = 0,
    game: IPDConfig | None = None,
) -> np.ndarray:
    """Play each pair of players (strategies, names or agents) and return every move.

    Match ``m`` is world ``m`` of the key schedule (see :mod:`htjax.agents.ipd.matches`), so a
    match's noise is that of the env's episode ``episode_key_for(world_keys(PRNGKey(seed),
    len(pairs))[m], repetition)``.

    Returns:
      ``int8[repetitions, len(pairs), turns, 2]``: moves actually played (after noise),
      0 = C, 1 = D; ``[..., 0]`` is the pair's first player.
    """
    _check_count("repetitions", repetitions)
    config = _config(game, turns, noise)
    players, idx_pairs = _index_players(pairs)
    chunks = _stream(players, idx_pairs, turns, repetitions, config, seed, True, repetitions, None)
    return next(chunks)[3]


def play_match(a: Any, b: Any, **kwargs) -> np.ndarray:
    """Moves ``int8[repetitions, turns, 2]`` of ``a`` against ``b`` (see :func:`play_matches`)."""
    return play_matches([(a, b)], **kwargs)[:, 0]


@dataclasses.dataclass(frozen=True)
class TournamentResult:
    """Outcome of :func:`tournament`; ``P`` players, ``R`` repetitions.

    Attributes:
      names: player names, in entry order.
      score_matrix: ``float64[P, P]`` mean per-turn score of row against column over
        repetitions (the diagonal is the self-match, both seats averaged); axelrod's
        ``payoff_matrix``.
      score_matrix_stderr: ``float64[P, P]`` standard error of each entry over repetitions
        (``nan`` with one repetition).
      normalised_scores: ``float64[P, R]`` per repetition, mean per-turn score against the other
        players (axelrod's ``normalised_scores``).
      mean_score_per_turn: ``float64[P]`` mean of ``normalised_scores`` over repetitions.
      stderr_score_per_turn: ``float64[P]`` its standard error over repetitions (``nan`` with one).
      median_score: ``float64[P]`` median over repetitions (the ranking key).
      cooperation_rate: ``float64[P]`` fraction of C moves against the other players.
      ranking: player indices, best first.
      turns, repetitions, noise, seed: the tournament's settings.
    """

    names: tuple[str, ...]
    score_matrix: np.ndarray
    score_matrix_stderr: np.ndarray
    normalised_scores: np.ndarray
    mean_score_per_turn: np.ndarray
    stderr_score_per_turn: np.ndarray
    median_score: np.ndarray
    cooperation_rate: np.ndarray
    ranking: tuple[int, ...]
    turns: int
    repetitions: int
    noise: float
    seed: int

    @property
    def ranked_names(self) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.ranking)

    @property
    def rounds_played(self) -> int:
        """Rounds in the tournament: matches x repetitions x turns."""
        p = len(self.names)
        return p * (p + 1) // 2 * self.repetitions * self.turns

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for ``--json``); an undefined standard error is ``None``."""

        def plain(x):
            return None if np.isnan(x) else float(x)

        return {
            "names": list(self.names),
            "ranking": [self.names[i] for i in self.ranking],
            "median_score": {n: float(s) for n, s in zip(self.names, self.median_score)},
            "mean_score_per_turn": {n: float(s) for n, s in zip(self.names, self.mean_score_per_turn)},
            "stderr_score_per_turn": {n: plain(s) for n, s in zip(self.names, self.stderr_score_per_turn)},
            "cooperation_rate": {n: float(s) for n, s in zip(self.names, self.cooperation_rate)},
            "score_matrix": self.score_matrix.tolist(),
            "score_matrix_stderr": [[plain(x) for x in row] for row in self.score_matrix_stderr],
            "turns": self.turns,
            "repetitions": self.repetitions,
            "noise": self.noise,
            "seed": self.seed,
        }


def tournament(
    players: Sequence[Any] | None = None,
    *,
    turns: int = 100,
    repetitions: int = 10,
    noise: float = 0.0,
    seed: int = 0,
    agents: Sequence[Agent] = (),
    game: IPDConfig | None = None,
    chunk_repetitions: int | None = None,
    progress: Progress | None = None,
) -> TournamentResult:
    """Round-robin tournament of ``players`` (default: the 14 classic strategies) plus ``agents``.

    Args:
      players: strategy names, :class:`Strategy` objects or :class:`Agent` entries.
      turns: rounds per match.
      repetitions: times the whole round robin is played.
      noise: probability that each chosen move is flipped.
      seed: integer seed of every random draw (strategies, agents and noise).
      agents: extra :class:`Agent` players appended after ``players``.
      game: payoffs and observation window (an :class:`IPDConfig`; its ``rounds`` and
        ``noise`` are replaced by ``turns`` and ``noise``).
      chunk_repetitions: repetitions played at once (default: :func:`chunk_repetitions_for`,
        within :data:`DEFAULT_CHUNK_BYTES`). The result does not depend on it.
      progress: called as ``progress(done, total)`` (repetitions) at the start and after each chunk.

    Raises:
      InvalidArgumentError: bad players, sizes or settings (``ConfigError`` for a bad ``noise``).
    """
    _check_count("repetitions", repetitions)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidArgumentError(f"seed must be an int, got {seed!r}")
    config = _config(game, turns, noise)
    entries = [_as_player(p) for p in (CLASSIC_14 if players is None else players)]
    entries += [_as_player(a) for a in agents]
    names = [p.name for p in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidArgumentError(f"tournament player names must be unique, repeated: {duplicates}")
    if len(entries) < 2:
        raise InvalidArgumentError(f"a tournament needs at least two players, got {len(entries)}")
    n = len(entries)
    num_agents = sum(isinstance(p, Agent) for p in entries)
    if chunk_repetitions is None:
        chunk_repetitions = chunk_repetitions_for(
            n, repetitions, turns=turns, window=config.window, num_agents=num_agents
        )
    _check_count("chunk_repetitions", chunk_repetitions)
    chunk_repetitions = min(chunk_repetitions, repetitions)

    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    first = np.array([i for i, _ in pairs])
    second = np.array([j for _, j in pairs])
    others = first != second
    pairwise = _Running((len(pairs), 3))  # seat 0, seat 1, and both averaged (self-matches)
    normalised = np.zeros((n, repetitions))
    coop_total = np.zeros(n)
    for start, score, coop, _ in _stream(
        entries, pairs, turns, repetitions, config, seed, False, chunk_repetitions, progress
    ):
        per_turn = score / turns
        pairwise.add(np.concatenate([per_turn, per_turn.mean(axis=2, keepdims=True)], axis=2))
        block = np.zeros((n, per_turn.shape[0]))
        np.add.at(block, first[others], per_turn[:, others, 0].T)
        np.add.at(block, second[others], per_turn[:, others, 1].T)
        normalised[:, start : start + per_turn.shape[0]] = block / (n - 1)
        np.add.at(coop_total, first[others], coop[:, others, 0].sum(axis=0))
        np.add.at(coop_total, second[others], coop[:, others, 1].sum(axis=0))

    matrix, matrix_se = np.zeros((n, n)), np.zeros((n, n))
    mean, se = pairwise.mean, pairwise.stderr()
    for m, (i, j) in enumerate(pairs):
        if i == j:
            matrix[i, i], matrix_se[i, i] = mean[m, 2], se[m, 2]
        else:
            matrix[i, j], matrix_se[i, j] = mean[m, 0], se[m, 0]
            matrix[j, i], matrix_se[j, i] = mean[m, 1], se[m, 1]
    median = np.median(normalised, axis=1)
    stderr = normalised.std(axis=1, ddof=1) / np.sqrt(repetitions) if repetitions > 1 else np.full(n, np.nan)
    return TournamentResult(
        names=tuple(names),
        score_matrix=matrix,
        score_matrix_stderr=matrix_se,
        normalised_scores=normalised,
        mean_score_per_turn=normalised.mean(axis=1),
        stderr_score_per_turn=stderr,
        median_score=median,
        cooperation_rate=coop_total / ((n - 1) * repetitions * turns),
        ranking=tuple(sorted(range(n), key=lambda i: -median[i])),
        turns=turns,
        repetitions=repetitions,
        noise=float(noise),
        seed=seed,
    )


def ranking_table(result: TournamentResult, *, title: str | None = None):
    """A ``rich.table.Table`` of the ranking (rank, player, median and mean score per turn with its
    standard error, C rate)."""
    from rich.table import Table

    table = Table(
        title=title
        or f"IPD tournament: {len(result.names)} players, {result.turns} turns, "
        f"{result.repetitions} repetitions, noise {result.noise}"
    )
    table.add_column("rank", justify="right")
    table.add_column("player", no_wrap=True, min_width=max(len(n) for n in result.names))
    table.add_column("median score/turn", justify="right")
    table.add_column("mean score/turn", justify="right")
    table.add_column("± s.e.", justify="right")
    table.add_column("cooperation", justify="right")
    for rank, i in enumerate(result.ranking, start=1):
        se = result.stderr_score_per_turn[i]
        table.add_row(
            str(rank),
            result.names[i],
            f"{result.median_score[i]:.3f}",
            f"{result.mean_score_per_turn[i]:.3f}",
            "n/a" if np.isnan(se) else f"{se:.3f}",
            f"{result.cooperation_rate[i]:.1%}",
        )
    return table
