"""The batched match engine under :mod:`htjax.agents.ipd.tournament`: many IPD matches at once.

A *group* of matches (pairs of players) is played for a chunk of repetitions in one jitted
``lax.scan`` over rounds. Within a round the seats are laid out grouped by player, so each
strategy runs only on its own seats (no ``lax.switch`` that would evaluate all 14 everywhere);
a static gather pairs every seat with its opponent.

Key schedule (the env's, :mod:`htjax.core.keys`): the tournament key is split into one key per
match (``world_keys``: a match is a world), repetition ``r`` of a match is episode ``r`` of that
world (``episode_key_for``), and round ``t`` uses ``step_key(episode_key, t)``. The round's
words are hashed from that key (``random_words``): words 0 and 1 are the noise flips of the
match's first and second player and word 2 is unused here (the env's continuation draw), exactly
as the env uses them (:mod:`htjax.envs.prisoners_dilemma.rules`), so a noisy tournament match
is the env's episode under the same key; word ``3 + side`` is the uniform draw of a stochastic
strategy and words ``5 + 2 side, 6 + 2 side`` the key data handed to an agent's policy. The
repetition index is a traced argument, so every chunk of a long tournament runs the same
compiled program and draws exactly what one big batch would.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.agents.ipd.strategies import Strategy
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import episode_key_for, random_words, step_key
from htjax.core.rollouts import Policy
from htjax.envs.prisoners_dilemma.config import IPDConfig
from htjax.envs.prisoners_dilemma.observation import observation_from_memory
from htjax.envs.prisoners_dilemma.rules import (
    NOISE_WORDS,
    MatchMemory,
    apply_noise,
    new_memory,
    uniform_from_bits,
    update_memory,
)

__all__ = [
    "AGENT_WORDS",
    "STRATEGY_WORD",
    "Agent",
    "Group",
    "Player",
    "group_bytes_per_repetition",
    "play_group",
]

STRATEGY_WORD = 3
"""Word ``STRATEGY_WORD + side`` of a round is the uniform draw of the strategy on that side."""
AGENT_WORDS = 5
"""Words ``AGENT_WORDS + 2 side`` and the next are the key data of the agent on that side."""
_WORDS = AGENT_WORDS + 4


@dataclasses.dataclass(frozen=True, eq=False)
class Agent:
    """A house policy entering a tournament: ``policy(params, observation, mask, key) -> int32[]``.

    ``observation`` is the env's ``float32[5 * window + 3]`` view, ``mask`` is all-True
    ``bool[2]``. ``params`` is traced (new parameters never recompile).
    An action outside ``{0, 1}`` makes the tournament raise
    :class:`~htjax.core.errors.InvalidArgumentError` naming the agent.
    """

    name: str
    policy: Policy
    params: Any = None
    stochastic: bool = True


Player = Strategy | Agent


@dataclasses.dataclass(frozen=True)
class _AgentSpec:
    """The hashable part of an :class:`Agent` (what the compiled function depends on)."""

    name: str
    policy: Policy


def static_player(p: Player):
    """What a compiled program depends on: the strategy, or the agent's name and policy."""
    return p if isinstance(p, Strategy) else _AgentSpec(p.name, p.policy)


@dataclasses.dataclass(frozen=True)
class Group:
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
    def build(cls, pairs: Sequence[tuple[int, int]]) -> Group:
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


def _round_words(episode_keys: jax.Array, t: jax.Array, group: Group, n: int) -> jax.Array:
    """``uint32[reps, seats, n]``: for each seat (in ``group.order``) the words of its match's
    round ``t`` at its side's offsets (``[noise, strategy draw, agent key 0, agent key 1]``)."""
    words = random_words(step_key(episode_keys, t), n)  # [reps, matches, n]
    order = np.asarray(group.order)
    match, side = order // 2, order % 2
    columns = [np.asarray(NOISE_WORDS)[side], STRATEGY_WORD + side]
    if n > STRATEGY_WORD + 2:
        columns += [AGENT_WORDS + 2 * side, AGENT_WORDS + 2 * side + 1]
    return jnp.stack([words[:, match, c] for c in columns], axis=-1)


def play_group(
    players,
    group: Group,
    reps: int,
    turns: int,
    config: IPDConfig,
    params,
    match_keys,
    rep_start,
    record: bool,
):
    """Play ``reps`` repetitions (``rep_start, rep_start + 1, ...``) of one group's matches.

    Args:
      players: the static players (strategies and agent specs), indexed by ``group.slices``.
      match_keys: ``uint32[matches, 2]`` the world key of each of the group's matches.
      rep_start: ``int32[]`` (traced) the first repetition's index.

    Returns:
      final memory (fields ``[reps, seats]`` in ``group.order``), the moves
      ``int8[turns, reps, seats]`` if ``record`` (else ``None``), and ``bool[len(slices)]``
      flags of agents that returned an action outside ``{0, 1}``.
    """
    num_seats = len(group.order)
    payoffs = config.payoffs
    partner = np.asarray(group.partner)
    has_agents = any(not isinstance(players[p], Strategy) for p, _, _ in group.slices)
    episode_keys = episode_key_for(
        match_keys[None, :, :], rep_start + jnp.arange(reps, dtype=jnp.int32)[:, None]
    )
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
        words = _round_words(episode_keys, memory.t, group, _WORDS if has_agents else STRATEGY_WORD + 2)
        actions, new_privates, bad = [], [], []
        for k, (p, a, b) in enumerate(group.slices):
            player, seat_memory = players[p], _slice(memory, a, b)
            if isinstance(player, Strategy):
                u = uniform_from_bits(words[:, a:b, 1]) if player.stochastic else jnp.zeros((), jnp.float32)
                action, private = player.act(seat_memory, privates[k], u, payoffs)
                bad.append(jnp.bool_(False))
            else:
                obs = observation_from_memory(seat_memory, config)
                obs = obs.reshape((reps * (b - a),) + obs.shape[-1:])
                keys = words[:, a:b, 2:4].reshape(reps * (b - a), 2)
                mask = jnp.ones((2,), jnp.bool_)
                action = jnp.asarray(
                    jax.vmap(player.policy, in_axes=(None, 0, None, 0))(params[p], obs, mask, keys)
                )
                if action.shape != (reps * (b - a),) or not jnp.issubdtype(action.dtype, jnp.integer):
                    raise InvalidArgumentError(
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
            moves = apply_noise(moves, uniform_from_bits(words[..., 0]), config.noise)
        opp = moves[:, partner]
        out = moves.astype(jnp.int8) if record else None
        return (update_memory(memory, moves, opp), tuple(new_privates), illegal | jnp.stack(bad)), out

    (memory, _, illegal), recorded = jax.lax.scan(one_round, (memory, privates, illegal), None, length=turns)
    return memory, recorded, illegal


@functools.lru_cache(maxsize=32)
def compiled_group(statics: tuple, group: Group, reps: int, turns: int, config: IPDConfig, record: bool):
    """``run(params, match_keys, rep_start) -> dict`` for one group and chunk size, jitted once.

    The dict holds ``score`` and ``cooperations`` (``float32``/``int32[reps, seats]`` in
    ``group.order``), ``illegal`` (``bool[len(group.slices)]``) and, if ``record``, ``moves``.
    """

    def run(params, match_keys, rep_start):
        memory, recorded, illegal = play_group(
            statics, group, reps, turns, config, params, match_keys, rep_start, record
        )
        out = dict(
            score=memory.my_score(config.payoffs),
            cooperations=memory.t - memory.my_defections,
            illegal=illegal,
        )
        if record:
            out["moves"] = recorded
        return out

    return jax.jit(run)


def group_bytes_per_repetition(
    num_seats: int, turns: int, window: int, agent_seats: int, record: bool
) -> int:
    """Estimated bytes one repetition of a group costs in a chunk (device and host, with headroom).

    Per seat: the match memory and private memory (about 32 bytes), a round's words, noise and
    moves (about 48 bytes), results on the host (float64 score and cooperations, 16 bytes);
    per agent seat the observation ``float32[5 * window + 3]`` and its key; recorded moves
    ``turns`` bytes per seat. Doubled for XLA's temporaries.
    """
    per_seat = 32 + 48 + 16 + (turns if record else 0)
    per_agent = 4 * (5 * window + 3) + 8 + 256  # observation, key, a small network's activations
    return 2 * (num_seats * per_seat + agent_seats * per_agent)
