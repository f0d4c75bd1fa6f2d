"""The rules of the iterated prisoner's dilemma as pure functions, with no RL notions.

A match is a sequence of rounds. In each round both players choose a move (``COOPERATE`` = 0,
``DEFECT`` = 1) at once; with noise ``p`` each chosen move is flipped independently with
probability ``p`` (axelrod's noise model) and the flipped moves are the ones played, scored
and remembered. A player's payoff for a round is ``T, R, P, S`` (temptation, reward,
punishment, sucker) for ``DC, CC, DD, CD`` (own move first). After each round another round
follows with probability ``c`` (the continuation probability; ``c = 1``: a fixed number of
rounds).

A player's view of the match is a :class:`MatchMemory`: its last 32 moves and the opponent's
as bit registers, plus the counts from which every score follows. The env
(:mod:`htjax.envs.prisoners_dilemma.env`), the scripted strategies and the tournament
(:mod:`htjax.agents.ipd`) all keep this same memory, so a strategy or a trained policy sees the
same thing everywhere.

Randomness of a round (:func:`round_words`): words hashed from the round's key
(:func:`htjax.core.keys.random_words`): word 0 and 1 decide the noise flips of player 0 and 1,
word 2 the continuation draw. Further words of the same key are free for the players' own
draws (the tournament uses them; see :mod:`htjax.agents.ipd.tournament`).

``payoffs`` below is ``(T, R, P, S)``: Python floats (static) or ``float32`` arrays (traced
rule parameters); every function works with either.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from htjax.core.keys import random_words
from htjax.envs.prisoners_dilemma.config import COOPERATE, DEFECT

__all__ = [
    "CONTINUATION_WORD",
    "COOPERATE",
    "DEFECT",
    "NOISE_WORDS",
    "ROUND_WORDS",
    "MatchMemory",
    "apply_noise",
    "lowest_payoff",
    "match_stops",
    "new_memory",
    "payoff_of",
    "payoff_scale",
    "round_words",
    "uniform_from_bits",
    "update_memory",
]

NOISE_WORDS = (0, 1)
"""Words of a round's key that decide the noise flip of player 0 and player 1."""
CONTINUATION_WORD = 2
"""Word of a round's key that decides whether the match stops after the round."""
ROUND_WORDS = 3
"""Words of a round's key the rules use (the players may use the words after them)."""


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class MatchMemory:
    """One player's view of a match so far; every field has the same (broadcastable) shape.

    Attributes:
      t: ``int32`` rounds played.
      my_moves, opp_moves: ``uint32`` move registers: bit ``i`` is the move (1 = defect) of
        ``i + 1`` rounds ago, for the last 32 rounds.
      my_defections, opp_defections: ``int32`` total defections of each side.
      sucker_count: ``int32`` rounds in which this player cooperated and the opponent defected.
    """

    t: jax.Array
    my_moves: jax.Array
    opp_moves: jax.Array
    my_defections: jax.Array
    opp_defections: jax.Array
    sucker_count: jax.Array

    # -------------------------------------------------------------- derived views
    def my_move_ago(self, i: int) -> jax.Array:
        """``int32`` this player's move ``i`` rounds ago (``1`` = latest); meaningful when ``t >= i``."""
        return ((self.my_moves >> (i - 1)) & 1).astype(jnp.int32)

    def opp_move_ago(self, i: int) -> jax.Array:
        """``int32`` the opponent's move ``i`` rounds ago (``1`` = latest); meaningful when ``t >= i``."""
        return ((self.opp_moves >> (i - 1)) & 1).astype(jnp.int32)

    def opp_cooperations(self) -> jax.Array:
        return self.t - self.opp_defections

    def outcome_counts(self) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """``int32`` counts of rounds (mine, theirs) = ``(CC, CD, DC, DD)``."""
        cd = self.sucker_count
        dd = self.opp_defections - cd
        dc = self.my_defections - dd
        cc = self.t - self.my_defections - cd
        return cc, cd, dc, dd

    def scores_by_my_move(self, payoffs) -> tuple[jax.Array, jax.Array]:
        """``float32`` total payoff earned in rounds where this player cooperated, and defected."""
        t, r, p, s = payoffs
        cc, cd, dc, dd = self.outcome_counts()
        f = jnp.float32
        return r * cc.astype(f) + s * cd.astype(f), t * dc.astype(f) + p * dd.astype(f)

    def my_score(self, payoffs) -> jax.Array:
        """``float32`` this player's total payoff."""
        with_c, with_d = self.scores_by_my_move(payoffs)
        return with_c + with_d

    def opp_score(self, payoffs) -> jax.Array:
        """``float32`` the opponent's total payoff."""
        t, r, p, s = payoffs
        cc, cd, dc, dd = self.outcome_counts()
        f = jnp.float32
        return r * cc.astype(f) + t * cd.astype(f) + s * dc.astype(f) + p * dd.astype(f)


def new_memory(shape: tuple[int, ...] = ()) -> MatchMemory:
    """Memory of a match not yet started, with fields of ``shape``."""
    zi = jnp.zeros(shape, jnp.int32)
    zu = jnp.zeros(shape, jnp.uint32)
    return MatchMemory(t=zi, my_moves=zu, opp_moves=zu, my_defections=zi, opp_defections=zi, sucker_count=zi)


def update_memory(memory: MatchMemory, my_move: jax.Array, opp_move: jax.Array) -> MatchMemory:
    """Record one round (``int32`` moves actually played, after noise) in a player's memory."""
    mine = my_move.astype(jnp.int32)
    theirs = opp_move.astype(jnp.int32)
    return MatchMemory(
        t=memory.t + 1,
        my_moves=(memory.my_moves << 1) | mine.astype(jnp.uint32),
        opp_moves=(memory.opp_moves << 1) | theirs.astype(jnp.uint32),
        my_defections=memory.my_defections + mine,
        opp_defections=memory.opp_defections + theirs,
        sucker_count=memory.sucker_count + ((1 - mine) & theirs),
    )


def payoff_of(my_move: jax.Array, opp_move: jax.Array, payoffs) -> jax.Array:
    """``float32`` payoff of ``my_move`` against ``opp_move`` (0 = C, 1 = D), elementwise."""
    t, r, p, s = (jnp.asarray(x, jnp.float32) for x in payoffs)
    mine, theirs = my_move.astype(jnp.int32), opp_move.astype(jnp.int32)
    if_c = jnp.where(theirs == COOPERATE, r, s)
    if_d = jnp.where(theirs == COOPERATE, t, p)
    return jnp.where(mine == DEFECT, if_d, if_c)


def payoff_scale(payoffs) -> jax.Array:
    """``float32`` the largest payoff magnitude ``max(|T|, |S|)`` (positive, since ``T > S``)."""
    t, _, _, s = payoffs
    return jnp.maximum(jnp.abs(jnp.float32(t)), jnp.abs(jnp.float32(s)))


def lowest_payoff(payoffs) -> jax.Array:
    """``float32`` the lowest payoff of a round, ``min(T, R, P, S)`` (``S`` under valid rules)."""
    return jnp.min(jnp.stack([jnp.asarray(x, jnp.float32) for x in payoffs]))


def uniform_from_bits(bits: jax.Array) -> jax.Array:
    """``float32`` uniform in ``[0, 1)`` from ``uint32`` random bits (24-bit resolution)."""
    return (bits >> 8).astype(jnp.float32) * jnp.float32(1.0 / (1 << 24))


def round_words(key: jax.Array, n: int = ROUND_WORDS) -> jax.Array:
    """``uint32[*B, n]`` hashed random words of a round from its ``[*B]`` keys (see the module docstring)."""
    return random_words(key, n)


def apply_noise(chosen: jax.Array, u: jax.Array, noise) -> jax.Array:
    """``int32`` moves played: ``chosen`` flipped where the uniform ``u < noise``."""
    return chosen.astype(jnp.int32) ^ (u < noise).astype(jnp.int32)


def match_stops(u: jax.Array, continuation_probability) -> jax.Array:
    """``bool``: the match stops after this round (``u >= c``; never when ``c = 1``, as ``u < 1``)."""
    return u >= continuation_probability
