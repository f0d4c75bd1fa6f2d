"""What-if: evaluate every legal action from one state with batched rollouts (forkable worlds).

For each legal action ``a`` of the seat to move and each rollout ``r < N``, the world is
copied, steps with ``a``, and plays on with ``policy`` until the episode ends (or ``horizon``
steps). All ``A x N`` continuations run as one ``vmap``. Chance after the branch comes from
``key``: rollout ``r`` uses the episode key ``fold_in(key, r)`` in the usual key schedule, so
every action is compared on the same ``N`` chance streams (common random numbers).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State
from htjax.core.keys import key_data, step_key
from htjax.core.rollouts import Policy, random_policy
from htjax.sync.errors import SyncError
from htjax.sync.params import plain_params

__all__ = ["WhatIfRow", "what_if"]


@dataclasses.dataclass(frozen=True)
class WhatIfRow:
    """Outcome of one action: mean and standard deviation of each seat's return over ``n`` rollouts.

    Returns count rewards from the branch step on. ``unfinished`` rollouts hit ``horizon``.
    """

    action: int
    label: str
    mean_return: tuple[float, ...]
    std_return: tuple[float, ...]
    n: int
    unfinished: int


def _joint_action(env: Env, policy: Policy, params, state: State, key: jax.Array) -> jax.Array:
    if env.simultaneous:
        keys = jax.random.split(key, env.num_players)
        return jax.vmap(policy, in_axes=(None, 0, 0, 0))(
            params, state.observation, state.legal_action_mask, keys
        )
    return policy(params, state.observation, state.legal_action_mask, key)


@functools.lru_cache(maxsize=32)
def _what_if_fn(env: Env, policy: Policy, num_rollouts: int, horizon: int, seat: int):
    def one(state, action, rollout, key, params, env_params):
        ekey = jax.random.fold_in(key, rollout)
        pkey = jax.random.fold_in(jax.random.fold_in(key, 0x77F1), rollout)
        if env.simultaneous:
            first = (
                _joint_action(env, policy, params, state, jax.random.fold_in(pkey, 0)).at[seat].set(action)
            )
        else:
            first = action
        s = env.step(state, first, step_key(ekey, state.step_count), env_params)

        def cond(c):
            s, _, i = c
            return ~(s.terminated | s.truncated) & (i < horizon)

        def body(c):
            s, ret, i = c
            a = _joint_action(env, policy, params, s, jax.random.fold_in(pkey, i + 1))
            nxt = env.step(s, a, step_key(ekey, s.step_count), env_params)
            return nxt, ret + nxt.rewards, i + 1

        s, ret, _ = jax.lax.while_loop(cond, body, (s, s.rewards, jnp.int32(1)))
        return ret, s.terminated | s.truncated

    over_rollouts = jax.vmap(one, in_axes=(None, None, 0, None, None, None))
    over_actions = jax.vmap(over_rollouts, in_axes=(None, 0, None, None, None, None))
    actions = jnp.arange(env.num_actions, dtype=jnp.int32)
    rollouts = jnp.arange(num_rollouts, dtype=jnp.uint32)
    return jax.jit(
        lambda state, key, params, env_params: over_actions(state, actions, rollouts, key, params, env_params)
    )


def what_if(
    env: Env,
    state: State,
    key: jax.Array,
    *,
    num_rollouts: int = 64,
    policy: Policy = random_policy,
    params: Any = None,
    horizon: int = 1000,
    seat: int | None = None,
    env_params: Any = None,
) -> list[WhatIfRow]:
    """Evaluate every legal action of the seat to move in ``state`` (one world, unbatched).

    Args:
      env: the env.
      state: the state to branch from (e.g. ``htjax.sync.derive(doc).states`` at some step).
      key: chance for the continuations (legacy ``uint32[2]`` or typed key).
      num_rollouts: ``N`` continuations per action.
      policy, params: how every seat plays after the branch (and, when simultaneous, how the
        other seats act at the branch step).
      horizon: at most this many steps per continuation (counting the branch step).
      seat: whose actions to compare in a simultaneous game (default 0); turn-based games use
        the seat to move.
      env_params: the rule parameters ``state`` was played with (:meth:`Env.params`, one
        world's; None: the env's config). For a document: ``doc.params()``.

    Returns:
      one :class:`WhatIfRow` per legal action, in action order.
    """
    if isinstance(num_rollouts, bool) or not isinstance(num_rollouts, int) or num_rollouts < 1:
        raise SyncError(f"num_rollouts must be a positive int, got {num_rollouts!r}")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise SyncError(f"horizon must be a positive int, got {horizon!r}")
    if np.ndim(state.step_count) != 0:
        raise SyncError("what_if takes one world's state (no batch axis)")
    if env_params is not None:
        plain = plain_params(env, env_params, "what_if env_params", SyncError)
        env_params = {k: np.asarray(v, env.default_params[k].dtype) for k, v in plain.items()}
    if bool(state.terminated | state.truncated):
        raise SyncError("what_if: the episode is over; there is nothing to choose")
    if env.simultaneous:
        seat = 0 if seat is None else seat
        if not (isinstance(seat, int) and 0 <= seat < env.num_players):
            raise SyncError(f"seat must be in [0, {env.num_players}), got {seat!r}")
        mask = np.asarray(state.legal_action_mask)[seat]
    else:
        if seat is not None and seat != int(state.current_player):
            raise SyncError(f"seat {seat} is not to move (seat {int(state.current_player)} is)")
        seat = int(state.current_player)
        mask = np.asarray(state.legal_action_mask)
    fn = _what_if_fn(env, policy, num_rollouts, horizon, seat)
    returns, finished = fn(
        state, key_data(key if isinstance(key, jax.Array) else jnp.asarray(key)), params, env_params
    )
    returns, finished = np.asarray(returns, np.float64), np.asarray(finished)
    return [
        WhatIfRow(
            action=a,
            label=env.action_labels[a],
            mean_return=tuple(returns[a].mean(axis=0).tolist()),
            std_return=tuple(returns[a].std(axis=0).tolist()),
            n=num_rollouts,
            unfinished=int((~finished[a]).sum()),
        )
        for a in np.flatnonzero(mask).tolist()
    ]
