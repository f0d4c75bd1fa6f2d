"""A scripted Cuttle player: a fixed priority over the move table, ties broken at random.

:func:`scripted_policy` is an ordinary rollout policy ``policy(params, observation, mask, key)
-> int32[]`` (``params`` unused) for every Cuttle variant; :func:`seat_policy` wraps it for
``htjax play cuttle --opponent scripted`` (:data:`htjax.play.SeatPolicy`).

The priorities (:data:`PRIORITY`, ``float32[1457]``, higher first), roughly how a beginner plays:
counter every one-off it can; steal the biggest point card with a jack (or a royal with a
joker); play a king, then a queen; destroy royals with 2s and bounce them with 9s; play the
highest point card; scuttle a big card with a small one; glasses; draw; the other one-offs
(4, 5, 3, 7, then the board wipes A and 6); when choosing from the scrap pile take the highest
card; discard the lowest; pass only when nothing else is legal; let a one-off resolve when it
cannot counter. The observation is not read: the legal mask says all it uses.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.envs.cuttle import actions as A

__all__ = ["PRIORITY", "scripted_policy", "seat_policy"]

_ONEOFF = {A.TWO: 40, A.NINE: 38, A.FOUR: 24, A.FIVE: 22, A.THREE: 20, A.SEVEN: 19, A.ACE: 6, A.SIX: 5}
_ROYAL = {A.KING: 60, A.QUEEN: 55, A.EIGHT: 18}


def _priority(kind: int, card: int, target: int) -> float:
    v, tv = int(A.VALUE[card]), int(A.POINTS_OF[target]) if target >= 0 else 0
    if kind == A.COUNTER:
        return 100.0
    if kind == A.ATTACH:
        return 70.0 + tv if v == A.JACK else 65.0 + int(A.VALUE[target])
    if kind == A.ROYAL:
        return float(_ROYAL[v])
    if kind == A.ONEOFF:
        return float(_ONEOFF[v])
    if kind == A.POINTS:
        return 30.0 + v
    if kind == A.SCUTTLE:
        return 20.0 + tv - v / 2
    if kind == A.RETRIEVE:
        return 30.0 + v
    if kind == A.DISCARD:
        return 30.0 - v
    return {A.DRAW: 25.0, A.RESOLVE: 1.0, A.PASS: 0.0}[kind]


PRIORITY = np.array(
    [
        _priority(k, c if c >= 0 else 0, t if tc not in (A.T_NONE, A.T_SEAT) else -1)
        for k, c, t, tc in A.ACTIONS
    ],
    np.float32,
)


def scripted_policy(
    params: Any, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """The legal action of highest :data:`PRIORITY`, ties broken by ``key``: ``int32[]``.

    ``legal_action_mask`` is ``bool[1457]``; ``observation`` and ``params`` are unused."""
    noise = jax.random.uniform(key, legal_action_mask.shape, maxval=0.5)
    score = jnp.where(legal_action_mask, jnp.asarray(PRIORITY) + noise, -jnp.inf)
    return jnp.argmax(score).astype(jnp.int32)


def seat_policy(seed: int = 0):
    """``opponent(observation, legal_action_mask) -> int`` for :func:`htjax.play.play_session`:
    the same priorities on the host, ties broken by a generator seeded with ``seed``."""
    rng = np.random.default_rng([seed, 0xC77])

    def opponent(observation: np.ndarray, legal_action_mask: np.ndarray) -> int:
        mask = np.asarray(legal_action_mask, bool)
        score = np.where(mask, PRIORITY + rng.uniform(0, 0.5, mask.shape), -np.inf)
        return int(np.argmax(score))

    return opponent
