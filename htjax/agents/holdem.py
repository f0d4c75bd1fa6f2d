"""Baseline hold'em agents: training opponents and the yardsticks of ``scripts/eval_holdem.py``.

Each agent is an ordinary rollout policy ``policy(params, observation, mask, key) -> int32[]``
(``params`` unused) for any :class:`~htjax.envs.holdem.env.Holdem` menu (full, small or limit):
action ``0`` is fold and ``1`` is check/call in all of them.

* :func:`call_station_policy`: always checks or calls (never folds, never raises).
* :func:`htjax.core.rollouts.random_policy`: a uniformly random legal action.
* :func:`maniac_policy`: the highest-numbered legal action above check/call, otherwise check/call.
  In the full and small menus that is all-in whenever raising is open (bet/raise in the limit
  menu): a maniac, so that a policy trained against it also learns when to call a shove instead
  of only exploiting passive opponents.

:func:`htjax.train.holdem_opponents.holdem_opponents` bundles them as training opponents (the
``--opponents holdem-baselines`` choice of ``htjax train``). :func:`heads_up_match` plays a
policy against one of them (or any policy) over many batched hands, with seats and button
balanced exactly, and reports big blinds per 100 hands with a standard error.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import policy_key
from htjax.core.rollouts import Policy, RolloutCarry, random_policy, rollout_start, step_worlds

__all__ = [
    "BASELINES",
    "CHECK_CALL",
    "FOLD",
    "MatchResult",
    "call_station_policy",
    "heads_up_match",
    "maniac_policy",
]

FOLD = 0
CHECK_CALL = 1


def _first_legal(legal_action_mask: jax.Array) -> jax.Array:
    return jnp.argmax(legal_action_mask).astype(jnp.int32)


def call_station_policy(
    params: Any, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """Check/call (action 1) whenever it is legal, else the first legal action: ``int32[]``.

    ``legal_action_mask`` is ``bool[A]`` (``A`` >= 2); ``observation`` and ``key`` are unused.
    In hold'em check/call is legal at every decision, so this never folds and never raises.
    """
    mask = jnp.asarray(legal_action_mask, jnp.bool_)
    return jnp.where(mask[CHECK_CALL], jnp.int32(CHECK_CALL), _first_legal(mask)).astype(jnp.int32)


def maniac_policy(
    params: Any, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """The highest-numbered legal action above check/call, else check/call: ``int32[]``.

    In the full and small menus the actions after check/call are raises of growing size ending
    with all-in, so this shoves whenever raising is open; in the limit menu it bets/raises
    whenever allowed. ``legal_action_mask`` is ``bool[A]``; the other arguments are unused.
    """
    mask = jnp.asarray(legal_action_mask, jnp.bool_)
    ids = jnp.arange(mask.shape[-1])
    raises = mask & (ids > CHECK_CALL)
    biggest = jnp.max(jnp.where(raises, ids, -1))
    return jnp.where(biggest >= 0, biggest, call_station_policy(params, observation, mask, key)).astype(
        jnp.int32
    )


BASELINES = {"call_station": call_station_policy, "random": random_policy, "maniac": maniac_policy}
"""The baseline agents by name."""


@dataclasses.dataclass(frozen=True)
class MatchResult:
    """Outcome of :func:`heads_up_match`, from the policy's side.

    Attributes:
      bb_per_100: mean result per hand in big blinds, times 100.
      stderr_bb_per_100: its standard error (over independent duplicate pairs of hands).
      hands: hands counted (``num_envs * hands_per_world``; half with the policy on the button).
      env_steps: env steps played, unfinished hands included.
      results: ``float64[num_envs, hands_per_world]`` the policy's result of each hand in big
        blinds; world ``w`` seats the policy at seat ``w % 2``, worlds ``2k`` and ``2k + 1`` deal
        the same hands (see :func:`heads_up_match`).
    """

    bb_per_100: float
    stderr_bb_per_100: float
    hands: int
    env_steps: int
    results: np.ndarray = dataclasses.field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bb_per_100": self.bb_per_100,
            "stderr_bb_per_100": self.stderr_bb_per_100,
            "hands": self.hands,
            "env_steps": self.env_steps,
        }


@functools.lru_cache(maxsize=16)
def _match_chunk(env: Env, policy: Policy, opponent: Policy, chunk_steps: int):
    """Jitted ``(carry, params, opponent_params) -> (carry, reward float32[T, N], done bool[T, N])``."""

    def act(params, opp_params, state, seat, key):
        k_pol, k_opp = jax.random.split(key)
        mine = policy(params, state.observation, state.legal_action_mask, k_pol)
        theirs = opponent(opp_params, state.observation, state.legal_action_mask, k_opp)
        return jnp.where(state.current_player == seat, mine, theirs).astype(jnp.int32)

    def chunk(carry: RolloutCarry, params, opp_params):
        n = carry.episode_index.shape[0]
        seats = jnp.arange(n, dtype=jnp.int32) % 2

        def one_step(c: RolloutCarry, _):
            keys = jax.random.split(policy_key(c.policy_key, c.t), n)
            action = jax.vmap(act, in_axes=(None, None, 0, 0, 0))(params, opp_params, c.state, seats, keys)
            nxt, c = step_worlds(env, c, action)
            reward = jnp.take_along_axis(nxt.rewards, seats[:, None], axis=1)[:, 0]
            return c, (reward, nxt.terminated | nxt.truncated)

        return jax.lax.scan(one_step, carry, None, length=chunk_steps)

    return jax.jit(chunk)


def heads_up_match(
    env: Env,
    policy: Policy,
    params: Any = None,
    opponent: Policy = call_station_policy,
    opponent_params: Any = None,
    *,
    hands: int,
    num_envs: int = 4096,
    chunk_steps: int = 64,
    seed: int = 0,
) -> MatchResult:
    """Play ``policy`` against ``opponent`` in a two-seat hold'em ``env`` for at least ``hands`` hands.

    Both are rollout policies ``policy(params, observation, mask, key) -> int32[]``. World ``w``
    seats the policy at seat ``w % 2``; worlds ``2k`` and ``2k + 1`` share their world key, so
    their ``e``-th hands deal the same hole cards to the same seats with the same button (a
    duplicate pair: the policy holds each seat's cards once and sits on the button in exactly
    half of the counted hands; board cards coincide while both hands took the same number of
    steps). Every world counts exactly its first ``ceil(hands / num_envs)`` hands, so long hands
    are not under-counted at the cut. The standard error is taken over the duplicate pairs,
    which are independent.

    Raises :class:`InvalidArgumentError` for an env that is not two-seat and turn-based, an odd ``num_envs``
    or a non-positive ``hands``.
    """
    if env.num_players != 2 or env.simultaneous:
        raise InvalidArgumentError(
            f"heads_up_match needs a two-seat turn-based env, got {env.id} with {env.num_players} seats"
        )
    if isinstance(hands, bool) or not isinstance(hands, int) or hands < 1:
        raise InvalidArgumentError(f"hands must be a positive int, got {hands!r}")
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 2 or num_envs % 2:
        raise InvalidArgumentError(f"num_envs must be an even int >= 2 (duplicate pairs), got {num_envs!r}")
    per_world = -(-hands // num_envs)
    start = rollout_start(env, jax.random.PRNGKey(seed), num_envs // 2)

    def pair(x):
        return jnp.repeat(x, 2, axis=0)

    carry = start.replace(
        state=jax.tree_util.tree_map(pair, start.state),
        world_key=pair(start.world_key),
        episode_index=pair(start.episode_index),
        episode_key=pair(start.episode_key),
    )
    step = _match_chunk(env, policy, opponent, chunk_steps)
    results = np.zeros((num_envs, per_world), np.float64)
    count = np.zeros(num_envs, np.int64)
    rows = np.arange(num_envs)[:, None]
    steps = 0
    while count.min() < per_world:
        carry, (reward, done) = step(carry, params, opponent_params)
        reward = np.asarray(reward, np.float64).T  # [N, T]
        done = np.asarray(done).T
        index = count[:, None] + np.cumsum(done, axis=1) - 1
        keep = done & (index < per_world)
        results[np.broadcast_to(rows, keep.shape)[keep], index[keep]] = reward[keep]
        count += done.sum(axis=1)
        steps += chunk_steps * num_envs
    pairs = results.reshape(num_envs // 2, 2, per_world).mean(axis=1).ravel()
    stderr = float(pairs.std(ddof=1) / np.sqrt(pairs.size)) if pairs.size > 1 else float("nan")
    return MatchResult(
        bb_per_100=float(100.0 * results.mean()),
        stderr_bb_per_100=100.0 * stderr,
        hands=int(results.size),
        env_steps=steps,
        results=results,
    )
