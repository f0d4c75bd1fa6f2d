"""Small ONNX policies exported from freshly initialised networks (for adapter, CLI and play tests)."""

from __future__ import annotations

import pathlib

import jax

from htjax.core.env import Env
from htjax.train import networks as nets
from htjax.train.checkpoint import load_checkpoint, save_checkpoint
from htjax.train.onnx_export import export_checkpoint


def fresh_policy(env: Env, directory: pathlib.Path, name: str, *, seed: int = 0, hidden=(8,)) -> pathlib.Path:
    """Export an untrained network for ``env`` to ``directory/name.onnx`` (its actor head scaled up
    so that its choices depend on the observation); returns the path."""
    spec = nets.NetworkSpec(
        obs_shape=env.observation_shape, num_actions=env.num_actions, hidden=tuple(hidden)
    )
    params = nets.init_params(spec, jax.random.PRNGKey(seed))
    params["actor"][-1]["w"] = params["actor"][-1]["w"] * 30.0
    checkpoint = save_checkpoint(pathlib.Path(directory) / f"{name}.npz", params, env, spec, command="pytest")
    return export_checkpoint(load_checkpoint(checkpoint, env), pathlib.Path(directory) / f"{name}.onnx")
