"""Exactly ``N`` complete episodes per world: unbiased mean returns with standard errors.

Averaging the episodes that happen to finish within a fixed number of steps favours short
episodes: the episodes still running at the end, left out, are more often the long ones. When
the length of an episode and its return are related (a blackjack round that ends at once on a
dealer blackjack, a poker hand folded early), that biases the mean. :func:`evaluate` instead
plays every world until it has finished exactly ``num_episodes`` episodes: a world that is done
waits (its state is frozen, its rewards no longer count) while the others finish theirs, and
episodes beyond the ``N``-th of a world are never started. The episodes are i.i.d., so the
standard error of the mean is ``std / sqrt(count)``.

The worlds use the rollout's key schedule (:mod:`htjax.core.keys`): world ``w``'s episode ``k``
is ``episode_key_for(world_key_w, k)`` as in :func:`htjax.rollout` with the same ``key``, so
every evaluated episode can be replayed exactly.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env
from htjax.core.errors import HtjaxError, InvalidArgumentError
from htjax.core.keys import key_data, policy_keys
from htjax.core.rollouts import Policy, _act, rollout_start, step_worlds, world_params

__all__ = ["EvaluateResult", "evaluate"]


@dataclasses.dataclass(frozen=True)
class EvaluateResult:
    """What :func:`evaluate` measured (``W`` worlds, ``N`` episodes each, ``P`` seats).

    Attributes:
      mean_return: ``float64[P]`` each seat's mean return over the ``W * N`` episodes.
      stderr: ``float64[P]`` standard error of that mean (sample std, ``ddof=1``, over
        ``sqrt(W * N)``; ``nan`` with one episode).
      returns: ``float32[W, N, P]`` every episode's return per seat, in episode order per world.
      lengths: ``int32[W, N]`` steps of every episode.
      episodes: ``W * N``, the episodes counted.
      num_envs, num_episodes: ``W`` and ``N``.
      env_steps: steps taken by the worlds while they still had episodes to play.
    """

    mean_return: np.ndarray
    stderr: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray
    episodes: int
    num_envs: int
    num_episodes: int
    env_steps: int


@functools.lru_cache(maxsize=16)
def _evaluate_fn(env: Env, policy: Policy, num_envs: int, num_episodes: int, max_steps: int):
    v_act = jax.vmap(functools.partial(_act, env, policy), in_axes=(None, 0, 0))
    worlds = jnp.arange(num_envs)

    def run(key, params, env_params):
        carry = rollout_start(env, key, num_envs, env_params=env_params)
        p = env.num_players
        acc = dict(
            returns=jnp.zeros((num_envs, num_episodes, p), jnp.float32),
            lengths=jnp.zeros((num_envs, num_episodes), jnp.int32),
            running=jnp.zeros((num_envs, p), jnp.float32),
            done=jnp.zeros(num_envs, jnp.int32),  # episodes finished per world
            steps=jnp.int32(0),
        )

        def cond(loop):
            c, a = loop
            return jnp.any(a["done"] < num_episodes) & (c.t < max_steps)

        def body(loop):
            c, a = loop
            active = a["done"] < num_episodes
            action = v_act(params, c.state, policy_keys(c.policy_key, c.t, num_envs))
            nxt, new = step_worlds(env, c, action, observe_next=False)
            ended = (nxt.terminated | nxt.truncated) & active
            running = a["running"] + jnp.where(active[:, None], nxt.rewards, 0.0)
            slot = jnp.minimum(a["done"], num_episodes - 1)
            returns = (
                a["returns"]
                .at[worlds, slot]
                .set(jnp.where(ended[:, None], running, a["returns"][worlds, slot]))
            )
            lengths = (
                a["lengths"]
                .at[worlds, slot]
                .set(jnp.where(ended, nxt.step_count, a["lengths"][worlds, slot]))
            )
            keep = active & ~(ended & (a["done"] + 1 >= num_episodes))  # worlds that go on stepping
            frozen = jax.tree_util.tree_map(
                lambda x, y: jnp.where(keep.reshape(keep.shape + (1,) * (x.ndim - 1)), x, y),
                (new.state, new.episode_index, new.episode_key),
                (c.state, c.episode_index, c.episode_key),
            )
            c = new.replace(state=frozen[0], episode_index=frozen[1], episode_key=frozen[2])
            a = dict(
                returns=returns,
                lengths=lengths,
                running=jnp.where(ended[:, None], 0.0, running),
                done=a["done"] + ended.astype(jnp.int32),
                steps=a["steps"] + jnp.sum(active.astype(jnp.int32)),
            )
            return c, a

        _, acc = jax.lax.while_loop(cond, body, (carry, acc))
        return acc

    return jax.jit(run)


def evaluate(
    env: Env,
    policy: Policy,
    num_episodes: int,
    *,
    num_envs: int = 1,
    key: jax.Array | None = None,
    params: Any = None,
    env_params: Any = None,
    max_steps: int = 1_000_000,
) -> EvaluateResult:
    """Play exactly ``num_episodes`` complete episodes in each of ``num_envs`` worlds.

    Args:
      env: the env.
      policy: ``policy(params, observation, legal_action_mask, key) -> action`` (as for
        :func:`htjax.rollout`; every seat plays it).
      num_episodes: ``N`` episodes per world; a world that has finished ``N`` waits.
      num_envs: ``W`` batched worlds.
      key: rollout key (default ``PRNGKey(0)``); the same key schedule as :func:`htjax.rollout`.
      params: the policy's parameters (traced).
      env_params: rule parameters (:meth:`htjax.Env.params`: one world's, broadcast, or batched
        with a leading ``num_envs`` axis), as for :func:`htjax.rollout`.
      max_steps: give up (an error) when the slowest world has not finished its episodes after
        this many batched steps (an env whose episodes never end).

    Returns:
      :class:`EvaluateResult`: per-seat mean return and standard error, and every return.

    Raises:
      InvalidArgumentError: sizes that are not positive ints.
      MemoryBudgetError: the worlds and the returns would not fit in free memory.
      HtjaxError: some world did not finish ``N`` episodes within ``max_steps`` steps.
    """
    from htjax.core.memory import check_fits, rollout_bytes

    for name, value in (("num_episodes", num_episodes), ("num_envs", num_envs), ("max_steps", max_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"{name} must be a positive int, got {value!r}")
    per_world = rollout_bytes(env, 1, 1, record_observations=False)[1] + num_episodes * (
        4 * env.num_players + 4
    )
    check_fits(
        per_world * num_envs,
        f"evaluating {env.id} in {num_envs:,} worlds x {num_episodes:,} episodes",
        per_world,
        "worlds",
    )
    env_params = world_params(env, env_params, num_envs)  # validated here, eagerly
    key = key_data(jax.random.PRNGKey(0) if key is None else key)
    acc = jax.device_get(
        _evaluate_fn(env, policy, num_envs, num_episodes, max_steps)(key, params, env_params)
    )
    if int(acc["done"].min()) < num_episodes:
        raise HtjaxError(
            f"evaluate: after {max_steps:,} steps {int((acc['done'] < num_episodes).sum())} of {num_envs} worlds "
            f"had not finished {num_episodes} episodes (raise max_steps, or the env's episodes may never end)"
        )
    returns = np.asarray(acc["returns"])
    flat = returns.reshape(-1, env.num_players).astype(np.float64)
    n = flat.shape[0]
    stderr = flat.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(env.num_players, np.nan)
    return EvaluateResult(
        mean_return=flat.mean(axis=0),
        stderr=stderr,
        returns=returns,
        lengths=np.asarray(acc["lengths"]),
        episodes=n,
        num_envs=num_envs,
        num_episodes=num_episodes,
        env_steps=int(acc["steps"]),
    )
