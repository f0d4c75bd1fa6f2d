"""Hold'em test helpers: cached envs and compiled functions, hand-built positions, chip checks."""

from __future__ import annotations

import functools

import jax
import numpy as np

import htjax
from htjax.core import cards
from htjax.envs.holdem import Holdem
from htjax.envs.holdem import rules as R

KEY = jax.random.PRNGKey(7)


@functools.cache
def make(**overrides) -> Holdem:
    return htjax.make("holdem", **overrides)


@functools.cache
def compiled(env: Holdem):
    """Jitted ``init_hand(key, deck, stacks, button)`` and ``step`` (one compile per env)."""
    init = jax.jit(
        lambda key, deck, stacks, button: env.init_hand(key, deck=deck, stacks=stacks, button=button)
    )
    return init, jax.jit(env.step)


def start(env: Holdem, hole=None, board=(), stacks=None, button=0, key=KEY):
    init, _ = compiled(env)
    deck = env.stacked_deck(hole, board) if hole is not None else cards.new_deck()
    stacks = np.asarray(env.config.seat_stacks if stacks is None else stacks, np.int32)
    return init(key, deck, stacks, np.int32(button))


def action_id(env: Holdem, name: str) -> int:
    aliases = {"call": "check/call", "check": "check/call", "raise": "bet/raise", "pot": "raise 1 pot"}
    return env.action_labels.index(aliases.get(name, name))


def play(env: Holdem, state, *names, key=KEY):
    """Apply named actions; each must be legal."""
    _, step = compiled(env)
    for name in names:
        a = action_id(env, name)
        assert bool(state.legal_action_mask[a]), (name, legal_names(env, state))
        state = step(state, a, htjax.step_key(key, state.step_count))
    return state


def legal_names(env, state) -> set[str]:
    return {env.action_labels[i] for i in np.flatnonzero(np.asarray(state.legal_action_mask))}


def table(state):
    return jax.tree_util.tree_map(np.asarray, state.table)


def check_chips(state):
    t = table(state)
    assert int(t.stack.sum()) + int(R.pot(state.table)) == int(t.start_stack.sum())
    assert (t.stack >= 0).all() and (t.committed >= 0).all() and (t.bet <= t.committed).all()
    if int(t.street) == R.HAND_OVER:
        assert int(t.payout.sum()) == int(t.committed.sum())
        np.testing.assert_allclose(np.asarray(state.rewards).sum(), 0.0, atol=1e-5)
