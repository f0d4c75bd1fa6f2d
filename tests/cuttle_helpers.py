"""Shared helpers of the Cuttle tests: envs with one jitted step each, moves by name, and host
reads of a board (zones, control, points) that do not go through the code under test."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

import htjax
from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R

KEY = jax.random.PRNGKey(0)


@functools.cache
def game(variant: str):
    """``(env, jitted step)`` of a variant, built once per process."""
    env = htjax.make("cuttle", preset=variant)
    return env, jax.jit(env.step)


@functools.cache
def initer(variant: str):
    """The variant's jitted ``init`` (one compile per process, shared by the modules)."""
    return jax.jit(game(variant)[0].init)


@functools.cache
def observer(variant: str):
    """The variant's jitted ``observe(state, seat)`` (op by op it took seconds a call)."""
    return jax.jit(game(variant)[0].observe)


def legal(state, kind, card=None, target=None) -> bool:
    return bool(np.asarray(state.legal_action_mask)[A.action_id(kind, card, target)])


def do(variant: str, state, kind, card=None, target=None):
    """Play a move that must be legal; returns the next state."""
    env, step = game(variant)
    a = A.action_id(kind, card, target)
    assert bool(np.asarray(state.legal_action_mask)[a]), f"{A.LABELS[a]} is not legal here"
    return step(state, jnp.int32(a), KEY)


def zone(state, card) -> str:
    b = jax.device_get(state.board)
    return R.ZONE_NAMES[int(b.zone[A.parse_card(card)])]


def owner(state, card) -> int:
    return int(jax.device_get(state.board).owner[A.parse_card(card)])


def hand(state, seat) -> list[str]:
    b = jax.device_get(state.board)
    return [A.card_str(c) for c in range(R.N) if b.zone[c] == R.HAND and b.owner[c] == seat]


def controller(state, card) -> int:
    """Who controls a card on a field, from the host arrays: whoever controls the last jack or
    joker attached to it (a joker may sit on a jack, or on the other joker), else its owner."""
    b = jax.device_get(state.board)
    c = A.parse_card(card) if isinstance(card, str) else int(card)
    on = [a for a in range(R.N) if b.zone[a] == R.ATTACHED and b.attach_to[a] == c]
    return controller(state, max(on, key=lambda a: b.stamp[a])) if on else int(b.owner[c])


def field_points(state, seat) -> int:
    b = jax.device_get(state.board)
    return sum(
        int(A.POINTS_OF[c])
        for c in range(R.N)
        if b.zone[c] == R.POINT and controller(state, A.card_str(c)) == seat
    )


def phase(state) -> str:
    return R.PHASE_NAMES[int(jax.device_get(state.board).phase)]
