"""ONNX-vs-JAX parity checks: the exported graph must compute what the network computes.

:func:`random_parity` compares on random observations with random masks (every row keeps at
least one legal action); :func:`recorded_parity` on observations and masks recorded from a
rollout of the env. Both report the largest absolute difference of probabilities and values
and whether masked actions got probability exactly 0 in both.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from htjax.train import networks as nets
from htjax.train.checkpoint import Checkpoint
from htjax.train.onnx_policy import OnnxPolicy

__all__ = ["compare", "random_parity", "recorded_parity", "random_masks", "Loaded", "load_checked"]


def random_masks(rng: np.random.Generator, count: int, num_actions: int) -> np.ndarray:
    """``bool[count, A]`` random masks with at least one legal action per row."""
    mask = rng.random((count, num_actions)) < 0.6
    mask[np.arange(count), rng.integers(0, num_actions, count)] = True
    return mask


def compare(params, spec: nets.NetworkSpec, policy: OnnxPolicy, observation, mask) -> dict[str, Any]:
    """Max |probability| and |value| differences of JAX and onnxruntime on a batch."""
    obs = np.asarray(observation, np.float32)
    mask = np.asarray(mask, np.bool_)
    p_onnx, v_onnx = policy.evaluate(obs, mask)
    p_jax = np.asarray(nets.action_probabilities(spec, params, obs, mask))
    v_jax = np.asarray(nets.apply(spec, params, obs, mask)[1])
    return {
        "samples": int(mask.shape[0]),
        "max_abs_diff_probabilities": float(np.max(np.abs(p_onnx - p_jax))),
        "max_abs_diff_value": float(np.max(np.abs(v_onnx - v_jax))),
        "masked_zero_onnx": bool(np.all(p_onnx[~mask] == 0.0)),
        "masked_zero_jax": bool(np.all(p_jax[~mask] == 0.0)),
    }


def random_parity(ckpt: Checkpoint, onnx_path, *, samples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Parity on ``samples`` standard-normal observations with random masks."""
    rng = np.random.default_rng(seed)
    policy = OnnxPolicy.load(onnx_path)
    obs = rng.standard_normal((samples, *ckpt.spec.obs_shape)).astype(np.float32)
    return compare(ckpt.params, ckpt.spec, policy, obs, random_masks(rng, samples, ckpt.spec.num_actions))


def recorded_parity(params, spec, policy: OnnxPolicy, trajectory) -> dict[str, Any]:
    """Parity on every observation and mask a rollout recorded (``[T, N, ...]`` flattened)."""
    obs = np.asarray(trajectory.observation).reshape((-1, *spec.obs_shape))
    mask = np.asarray(trajectory.legal_action_mask).reshape((-1, spec.num_actions))
    return compare(params, spec, policy, obs, mask)


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A shipped policy ready for batched evaluation: the file, its env, its weights read back
    into the JAX network, the greedy JAX policy, and the parity measured on recorded play."""

    policy: OnnxPolicy
    env: Any
    params: Any
    spec: nets.NetworkSpec
    greedy: Any
    parity: dict[str, Any]


def load_checked(path, *, seed: int, worlds: int, steps: int, record_greedy: bool = True) -> Loaded:
    """Load ``path``, record ``worlds x steps`` of the policy's own play (greedy or sampled,
    key ``PRNGKey(seed + 1000)``) and measure JAX-vs-onnxruntime parity on it; what the
    ``scripts/eval_*.py`` evaluations start from (they then play the JAX weights, batched)."""
    import jax

    import htjax

    policy = OnnxPolicy.load(path)
    env = policy.make_env()
    params, spec = policy.to_params()
    greedy = nets.network_policy(spec, greedy=True)
    recorder = greedy if record_greedy else nets.network_policy(spec)
    record = htjax.rollout(env, recorder, jax.random.PRNGKey(seed + 1000), worlds, steps, params)
    return Loaded(policy, env, params, spec, greedy, recorded_parity(params, spec, policy, record.trajectory))
