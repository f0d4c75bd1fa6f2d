"""The training part of ``htjax demo``: a short PPO run, ONNX export, onnxruntime check."""

from __future__ import annotations

import pathlib
import tempfile

import numpy as np

__all__ = ["run_training_demo"]


def run_training_demo(console, *, updates: int = 40, num_envs: int = 512, seed: int = 0) -> dict:
    """Train blackjack (Gymnasium rules) for ``updates`` PPO updates (about 20 s of training plus
    compilation on 2 cores), export ONNX, compare onnxruntime with JAX, and print a summary."""
    import jax

    import htjax
    from htjax.core.rollouts import random_policy
    from htjax.train import networks as nets
    from htjax.train.checkpoint import load_checkpoint
    from htjax.train.evaluate import evaluate_policy
    from htjax.train.onnx_export import export_checkpoint
    from htjax.train.onnx_policy import OnnxPolicy
    from htjax.train.parity import recorded_parity
    from htjax.train.ppo import PPOConfig
    from htjax.train.run import train

    env = htjax.make("blackjack", preset="gymnasium")
    config = PPOConfig(num_envs=num_envs, num_steps=16, learning_rate=1e-3, gamma=1.0, hidden=(64, 64))
    console.rule("[bold]Training: PPO on batched blackjack worlds")
    with tempfile.TemporaryDirectory() as tmp:
        ckpt_path = pathlib.Path(tmp) / "demo.npz"
        result = train(
            env, config, updates=updates, seed=seed, out=ckpt_path, command="htjax demo", console=console
        )
        onnx_path = export_checkpoint(load_checkpoint(ckpt_path, env), pathlib.Path(tmp) / "demo.onnx")
        policy = OnnxPolicy.load(onnx_path, env)
        traj = htjax.rollout(
            env, nets.network_policy(result.spec), jax.random.PRNGKey(1), 256, 8, result.params
        ).trajectory
        parity = recorded_parity(result.params, result.spec, policy, traj)
        onnx_bytes = onnx_path.stat().st_size
        trained = evaluate_policy(
            env, policy.jax_policy(greedy=True), episodes=20_000, num_envs=1024, chunk_steps=8, seed=2
        )
    rand = evaluate_policy(env, random_policy, episodes=20_000, num_envs=1024, chunk_steps=8, seed=2)
    steps_per_s = result.env_steps / max(result.wall_s - result.compile_s, 1e-9)
    console.print(
        f"trained {result.env_steps:,} env steps in {result.wall_s:.1f} s ({steps_per_s:,.0f} steps/s after "
        f"{result.compile_s:.1f} s compiling)\n"
        f"exported ONNX ({onnx_bytes:,} bytes); onnxruntime vs JAX on {parity['samples']:,} recorded observations: "
        f"max |dp| {parity['max_abs_diff_probabilities']:.1e}, masked probabilities 0: {parity['masked_zero_onnx']}\n"
        f"return per hand, ONNX policy in onnxruntime: {trained.mean:+.3f} +- {trained.stderr:.3f}; "
        f"random play: {rand.mean:+.3f} +- {rand.stderr:.3f} ({trained.episodes:,} hands each)"
    )
    ok = parity["max_abs_diff_probabilities"] <= 1e-5 and parity["masked_zero_onnx"]
    return {
        "parity": parity,
        "trained_return": trained.mean,
        "random_return": rand.mean,
        "ok": bool(ok),
        "wall_s": result.wall_s,
        "steps_per_s": float(np.float64(steps_per_s)),
    }
