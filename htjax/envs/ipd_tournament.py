"""Vmapped round-robin IPD tournaments, as axelrod's ``Tournament`` plays them.

A tournament seats every pair of players ``(i, j)`` with ``i <= j`` (self-matches included,
as axelrod does) for ``turns`` rounds, ``repetitions`` times. All matches of all repetitions
run at once: one ``lax.scan`` over rounds, jitted once per line-up. Within a round the seats
are laid out grouped by player, so each strategy runs only on its own seats (no
``lax.switch`` that would evaluate all 14 everywhere); a static gather pairs every seat with
its opponent.

Scoring follows axelrod's ``ResultSet``: a player's *normalised score* in a repetition is its
mean per-turn score over its matches against the *other* players (self-matches excluded); the
ranking sorts players by the median of that over repetitions (ties keep player order).

Like axelrod's deterministic cache, a match between two deterministic strategies without
noise is played once and its result reused for every repetition.

Players are :class:`~htjax.envs.ipd_strategies.Strategy` objects (or their names) and
:class:`Agent` entries: any house policy ``policy(params, observation, mask, key)`` over the
env's observation (:func:`~htjax.envs.prisoners_dilemma.observation_from_memory`), e.g. a
trained network, which plays beside the scripted strategies.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.rollouts import Policy
from htjax.envs.ipd_strategies import CLASSIC_14, Strategy, get_strategy
from htjax.envs.prisoners_dilemma import (
    IPDConfig,
    MatchMemory,
    new_memory,
    observation_from_memory,
    uniform_from_bits,
    update_memory,
)

__all__ = ["Agent", "TournamentResult", "tournament", "play_matches", "play_match", "ranking_table"]


@dataclasses.dataclass(frozen=True, eq=False)
class Agent:
    """A house policy entering a tournament: ``policy(params, observation, mask, key) -> int32[]``.

    ``observation`` is the env's ``float32[5 * window + 3]`` view, ``mask`` is all-True
    ``bool[2]``. ``params`` is traced (new parameters never recompile).
    An action outside ``{0, 1}`` makes the tournament raise ``ValueError`` naming the agent.
    """

    name: str
    policy: Policy
    params: Any = None
    stochastic: bool = True


Player = Strategy | Agent


def _as_player(p: Any) -> Player:
    if isinstance(p, Agent):
        return p
    if isinstance(p, (str, Strategy)):
        return get_strategy(p)
    raise TypeError(f"a tournament player must be a strategy name, a Strategy or an Agent, got {p!r}")


@dataclasses.dataclass(frozen=True)
class _AgentSpec:
    """The hashable part of an :class:`Agent` (what the compiled function depends on)."""

    name: str
    policy: Policy


def _static(p: Player):
    return p if isinstance(p, Strategy) else _AgentSpec(p.name, p.policy)


@dataclasses.dataclass(frozen=True)
class _Group:
    """Matches played together: seat instances sorted by player.

    ``pairs[m] = (i, j)``; seat ``2m`` is player ``i``, seat ``2m + 1`` player ``j``;
    ``order`` lists seat ids grouped by player (``slices[k] = (player, start, stop)``) and
    ``partner[s]`` is the position in ``order`` of the opponent of the seat at position ``s``.
    """

    pairs: tuple[tuple[int, int], ...]
    order: tuple[int, ...]
    slices: tuple[tuple[int, int, int], ...]
    partner: tuple[int, ...]

    @classmethod
    def build(cls, pairs: Sequence[tuple[int, int]]) -> "_Group":
        seats = [(player, s) for s, player in enumerate(p for pair in pairs for p in pair)]
        order = [s for _, s in sorted(seats)]
        position = {s: k for k, s in enumerate(order)}
        partner = [position[s ^ 1] for s in order]
        slices = []
        start = 0
        for player in sorted({p for pair in pairs for p in pair}):
            stop = start + sum(1 for pl, _ in seats if pl == player)
            slices.append((player, start, stop))
            start = stop
        return cls(tuple(map(tuple, pairs)), tuple(order), tuple(slices), tuple(partner))


def _slice(memory: MatchMemory, start: int, stop: int) -> MatchMemory:
    return jax.tree_util.tree_map(lambda x: x[:, start:stop] if jnp.ndim(x) else x, memory)


def _play_group(players, group: _Group, reps: int, turns: int, config: IPDConfig, params, key, record: bool):
    """Play one group; returns final memory ``[reps, seats]`` (in ``group.order``) and, if
    ``record``, actions ``int8[turns, reps, seats]``, plus per-agent illegal-action flags."""
    num_seats = len(group.order)
    payoffs = config.payoffs
    partner = np.asarray(group.partner)
    privates = tuple(
        players[p].initial_private((reps, b - a))
        if isinstance(players[p], Strategy)
        else jnp.zeros((), jnp.int32)
        for p, a, b in group.slices
    )
    memory = new_memory((reps, num_seats)).replace(t=jnp.int32(0))
    illegal = jnp.zeros(len(group.slices), jnp.bool_)

    def one_round(carry, _):
        memory, privates, illegal = carry
        round_key = jax.random.fold_in(key, memory.t)
        actions, new_privates, bad = [], [], []
        for k, (p, a, b) in enumerate(group.slices):
            player, seat_memory = players[p], _slice(memory, a, b)
            player_key = jax.random.fold_in(round_key, k)
            if isinstance(player, Strategy):
                if player.stochastic:
                    u = uniform_from_bits(jax.random.bits(player_key, (reps, b - a), jnp.uint32))
                else:
                    u = jnp.zeros((), jnp.float32)
                action, private = player.act(seat_memory, privates[k], u, payoffs)
                bad.append(jnp.bool_(False))
            else:
                obs = observation_from_memory(seat_memory, config)
                obs = obs.reshape((reps * (b - a),) + obs.shape[-1:])
                keys = jax.random.split(player_key, reps * (b - a))
                mask = jnp.ones((2,), jnp.bool_)
                action = jnp.asarray(
                    jax.vmap(player.policy, in_axes=(None, 0, None, 0))(params[p], obs, mask, keys)
                )
                if action.shape != (reps * (b - a),) or not jnp.issubdtype(action.dtype, jnp.integer):
                    raise ValueError(
                        f"tournament agent {player.name!r}: policy must return one integer action (int32[]), "
                        f"got {action.dtype}{list(action.shape[1:])}"
                    )
                action = action.reshape(reps, b - a)
                bad.append(jnp.any((action < 0) | (action > 1)))
                action, private = jnp.clip(action, 0, 1).astype(jnp.int32), privates[k]
            actions.append(jnp.broadcast_to(action, (reps, b - a)).astype(jnp.int32))
            new_privates.append(private)
        moves = jnp.concatenate(actions, axis=1)
        if config.noise > 0:
            noise_bits = jax.random.bits(
                jax.random.fold_in(round_key, len(group.slices)), (reps, num_seats), jnp.uint32
            )
            moves = moves ^ (uniform_from_bits(noise_bits) < config.noise).astype(jnp.int32)
        opp = moves[:, partner]
        out = moves.astype(jnp.int8) if record else None
        return (update_memory(memory, moves, opp), tuple(new_privates), illegal | jnp.stack(bad)), out

    (memory, _, illegal), recorded = jax.lax.scan(one_round, (memory, privates, illegal), None, length=turns)
    return memory, recorded, illegal


@functools.lru_cache(maxsize=32)
def _compiled(statics: tuple, groups: tuple, turns: int, config: IPDConfig, record: bool):
    def run(params, key):
        players = statics
        outs = []
        for g, (group, reps) in enumerate(groups):
            memory, recorded, illegal = _play_group(
                players, group, reps, turns, config, params, jax.random.fold_in(key, g), record
            )
            summary = dict(
                score=memory.my_score(config.payoffs),
                cooperations=memory.t - memory.my_defections,
                illegal=illegal,
            )
            if record:
                summary["moves"] = recorded
            outs.append(summary)
        return outs

    return jax.jit(run)


def _config(game: IPDConfig | None, turns: int, noise: float) -> IPDConfig:
    if game is not None and not isinstance(game, IPDConfig):
        raise TypeError(f"game must be an IPDConfig (payoffs and window), got {type(game).__name__}")
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        raise ValueError(f"turns must be a positive int, got {turns!r}")
    return dataclasses.replace(game or IPDConfig(), rounds=turns, noise=noise, continuation_probability=1.0)


def _check_reps(repetitions: int) -> None:
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1:
        raise ValueError(f"repetitions must be a positive int, got {repetitions!r}")


def _run(players, pairs, turns, repetitions, config, seed, record):
    """Play ``pairs`` and return per-(rep, match, seat) numpy arrays."""
    deterministic = [
        config.noise == 0
        and all(isinstance(players[p], Strategy) and not players[p].stochastic for p in pair)
        for pair in pairs
    ]
    groups, members = [], []
    for det, reps in ((True, 1), (False, repetitions)):
        idx = [m for m, d in enumerate(deterministic) if d == det]
        if idx:
            groups.append((_Group.build([pairs[m] for m in idx]), reps))
            members.append(idx)
    fn = _compiled(tuple(_static(p) for p in players), tuple(groups), turns, config, record)
    params = tuple(p.params if isinstance(p, Agent) else None for p in players)
    key = jax.random.PRNGKey(seed) if isinstance(seed, int) else seed
    outs = jax.device_get(fn(params, key))

    m_total = len(pairs)
    score = np.zeros((repetitions, m_total, 2))
    coop = np.zeros((repetitions, m_total, 2))
    moves = np.zeros((repetitions, m_total, turns, 2), np.int8) if record else None
    for (group, _), idx, out in zip(groups, members, outs):
        for (p, _, _), bad in zip(group.slices, out["illegal"]):
            if bad:
                raise ValueError(f"tournament player {players[p].name!r} returned an action outside {{0, 1}}")
        inverse = np.argsort(np.asarray(group.order))
        seat_score = np.asarray(out["score"], np.float64)[:, inverse].reshape(-1, len(idx), 2)
        seat_coop = np.asarray(out["cooperations"], np.float64)[:, inverse].reshape(-1, len(idx), 2)
        score[:, idx] = seat_score  # broadcasts a deterministic group over repetitions
        coop[:, idx] = seat_coop
        if record:
            rec = np.asarray(out["moves"])[:, :, inverse].reshape(turns, -1, len(idx), 2)
            moves[:, idx] = rec.transpose(1, 2, 0, 3)
    return score, coop, moves


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

    Returns:
      ``int8[repetitions, len(pairs), turns, 2]``: moves actually played (after noise),
      0 = C, 1 = D; ``[..., 0]`` is the pair's first player.
    """
    _check_reps(repetitions)
    config = _config(game, turns, noise)
    players: list[Player] = []
    index: dict[Any, int] = {}
    idx_pairs = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"a match needs exactly two players, got {pair!r}")
        ids = []
        for p in pair:
            player = _as_player(p)
            key = id(player) if isinstance(player, Agent) else player
            if key not in index:
                index[key] = len(players)
                players.append(player)
            ids.append(index[key])
        idx_pairs.append(tuple(ids))
    _, _, moves = _run(players, idx_pairs, turns, repetitions, config, seed, record=True)
    return moves


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
      normalised_scores: ``float64[P, R]`` per repetition, mean per-turn score against the other
        players (axelrod's ``normalised_scores``).
      mean_score_per_turn: ``float64[P]`` mean of ``normalised_scores`` over repetitions.
      median_score: ``float64[P]`` median over repetitions (the ranking key).
      cooperation_rate: ``float64[P]`` fraction of C moves against the other players.
      ranking: player indices, best first.
      turns, repetitions, noise, seed: the tournament's settings.
    """

    names: tuple[str, ...]
    score_matrix: np.ndarray
    normalised_scores: np.ndarray
    mean_score_per_turn: np.ndarray
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
        """Plain values (for ``--json``)."""
        return {
            "names": list(self.names),
            "ranking": [self.names[i] for i in self.ranking],
            "median_score": {n: float(s) for n, s in zip(self.names, self.median_score)},
            "mean_score_per_turn": {n: float(s) for n, s in zip(self.names, self.mean_score_per_turn)},
            "cooperation_rate": {n: float(s) for n, s in zip(self.names, self.cooperation_rate)},
            "score_matrix": self.score_matrix.tolist(),
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
) -> TournamentResult:
    """Round-robin tournament of ``players`` (default: the 14 classic strategies) plus ``agents``.

    Args:
      players: strategy names, :class:`Strategy` objects or :class:`Agent` entries.
      turns: rounds per match.
      repetitions: times the whole round robin is played.
      noise: probability that each chosen move is flipped.
      seed: integer seed of every random draw (strategies and noise).
      agents: extra :class:`Agent` players appended after ``players``.
      game: payoffs and observation window (an :class:`IPDConfig`; its ``rounds`` and
        ``noise`` are replaced by ``turns`` and ``noise``).
    """
    _check_reps(repetitions)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    config = _config(game, turns, noise)
    entries = [_as_player(p) for p in (CLASSIC_14 if players is None else players)]
    entries += [_as_player(a) for a in agents]
    names = [p.name for p in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"tournament player names must be unique, repeated: {duplicates}")
    if len(entries) < 2:
        raise ValueError(f"a tournament needs at least two players, got {len(entries)}")

    n = len(entries)
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    score, coop, _ = _run(entries, pairs, turns, repetitions, config, seed, record=False)
    per_turn = score / turns

    matrix = np.zeros((n, n))
    normalised = np.zeros((n, repetitions))
    coop_total = np.zeros(n)
    for m, (i, j) in enumerate(pairs):
        if i == j:
            matrix[i, i] = per_turn[:, m].mean()
            continue
        matrix[i, j] = per_turn[:, m, 0].mean()
        matrix[j, i] = per_turn[:, m, 1].mean()
        normalised[i] += per_turn[:, m, 0]
        normalised[j] += per_turn[:, m, 1]
        coop_total[i] += coop[:, m, 0].sum()
        coop_total[j] += coop[:, m, 1].sum()
    normalised /= n - 1
    median = np.median(normalised, axis=1)
    ranking = tuple(sorted(range(n), key=lambda i: -median[i]))
    return TournamentResult(
        names=tuple(names),
        score_matrix=matrix,
        normalised_scores=normalised,
        mean_score_per_turn=normalised.mean(axis=1),
        median_score=median,
        cooperation_rate=coop_total / ((n - 1) * repetitions * turns),
        ranking=ranking,
        turns=turns,
        repetitions=repetitions,
        noise=float(noise),
        seed=seed,
    )


def ranking_table(result: TournamentResult, *, title: str | None = None):
    """A ``rich.table.Table`` of the ranking (rank, player, median and mean score per turn, C rate)."""
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
    table.add_column("cooperation", justify="right")
    for rank, i in enumerate(result.ranking, start=1):
        table.add_row(
            str(rank),
            result.names[i],
            f"{result.median_score[i]:.3f}",
            f"{result.mean_score_per_turn[i]:.3f}",
            f"{result.cooperation_rate[i]:.1%}",
        )
    return table
