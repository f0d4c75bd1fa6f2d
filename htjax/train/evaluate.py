"""Batched evaluation of a policy: mean episode return of one seat over many episodes.

Used by the evaluation scripts (``scripts/eval_*.py``) and the demo. Episodes are the rollout's
auto-reset stream, so two policies evaluated with the same ``seed`` and ``num_envs`` meet the
same episode keys (the same shuffles): common random numbers, which shrink the standard error
of their *difference* well below that of each mean.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from htjax.core.env import Env
from htjax.core.rollouts import Policy, rollout
from htjax.train.errors import InvalidArgumentError

__all__ = ["EvalResult", "evaluate_policy"]


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Mean return per episode of ``seat`` (``float``), its standard error and the episode count."""

    mean: float
    stderr: float
    episodes: int
    env_steps: int
    returns: np.ndarray = dataclasses.field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "stderr": self.stderr,
            "episodes": self.episodes,
            "env_steps": self.env_steps,
        }


def evaluate_policy(
    env: Env,
    policy: Policy,
    params: Any = None,
    *,
    episodes: int,
    num_envs: int = 4096,
    chunk_steps: int = 128,
    seed: int = 0,
    seat: int = 0,
) -> EvalResult:
    """Play until at least ``episodes`` episodes have finished; returns ``seat``'s returns.

    Every seat is played by ``policy`` (use an opponent-aware wrapper for mixed tables). Only
    finished episodes count; the per-episode returns are kept in ``EvalResult.returns``
    (``float64[episodes_finished]``, world-major within each chunk).
    """
    if episodes < 1:
        raise InvalidArgumentError(f"episodes must be positive, got {episodes}")
    key = jax.random.PRNGKey(seed)
    carry = None
    acc = np.zeros(num_envs, np.float64)
    finished: list[np.ndarray] = []
    count = 0
    steps = 0
    while count < episodes:
        out = rollout(env, policy, key, num_envs, chunk_steps, params, record_observations=False, carry=carry)
        carry = out.carry
        rewards = np.asarray(out.trajectory.rewards[..., seat], np.float64)
        done = np.asarray(out.trajectory.done)
        for t in range(chunk_steps):
            acc += rewards[t]
            if done[t].any():
                finished.append(acc[done[t]].copy())
                count += int(done[t].sum())
                acc[done[t]] = 0.0
        steps += chunk_steps * num_envs
    returns = np.concatenate(finished)
    return EvalResult(
        mean=float(returns.mean()),
        stderr=float(returns.std(ddof=1) / np.sqrt(len(returns))) if len(returns) > 1 else float("nan"),
        episodes=int(len(returns)),
        env_steps=steps,
        returns=returns,
    )
