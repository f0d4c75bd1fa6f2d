"""PPO training throughput: htjax (jit + vmap, blackjack "gymnasium" preset) against
Stable-Baselines3 PPO on Gymnasium's Blackjack-v1 (the HyperToken route: one env step per Python
call), same process, same machine. Env steps of *training* per second, compile time excluded for
htjax (reported separately).

    python scripts/bench_ppo.py [--htjax-steps 4000000] [--sb3-steps 50000] [--num-envs 1024]

Writes docs/bench/ppo.json and replaces the "## Training" section of docs/benchmarks.md.
Needs stable-baselines3 (pip install torch==2.13.0 stable-baselines3).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import time

import jax
from benchlib import write_results

import htjax
from htjax.train.ppo import PPOConfig, make_train

ROOT = pathlib.Path(__file__).resolve().parent.parent


def bench_htjax(steps: int, num_envs: int) -> dict:
    env = htjax.make("blackjack", preset="gymnasium")
    cfg = PPOConfig(num_envs=num_envs, num_steps=16, num_minibatches=4, update_epochs=4, hidden=(64, 64))
    trainer = make_train(env, cfg)
    rs = trainer.init(jax.random.PRNGKey(0))
    t0 = time.perf_counter()
    rs, m = trainer.train_step(rs)
    jax.block_until_ready(rs.params)
    compile_s = time.perf_counter() - t0
    updates = max(1, steps // trainer.steps_per_update)
    t0 = time.perf_counter()
    for _ in range(updates):
        rs, m = trainer.train_step(rs)
    jax.block_until_ready(rs.params)
    wall = time.perf_counter() - t0
    done = updates * trainer.steps_per_update
    return {
        "env_steps": done,
        "wall_s": wall,
        "steps_per_s": done / wall,
        "compile_s": compile_s,
        "config": cfg.to_dict(),
        "final_return_per_episode": float(m["return_per_episode"]),
    }


def bench_sb3(steps: int) -> dict:
    import gymnasium
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)  # fastest for a 2x64 MLP at batch 64; more threads only add overhead
    # SB3 takes no Tuple observations: one-hot flatten (45 inputs), as an SB3 user must
    env = gymnasium.wrappers.FlattenObservation(gymnasium.make("Blackjack-v1"))
    # HyperToken's train_and_export.py settings (n_steps 1024, batch 64, 10 epochs), SB3's 2x64 MLP
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=1024,
        batch_size=64,
        n_epochs=10,
        learning_rate=3e-4,
        seed=0,
        device="cpu",
        verbose=0,
    )
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - t0
    import stable_baselines3

    return {
        "env_steps": int(model.num_timesteps),
        "wall_s": wall,
        "steps_per_s": model.num_timesteps / wall,
        "version": stable_baselines3.__version__,
        "torch": torch.__version__,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--htjax-steps", type=int, default=4_000_000)
    ap.add_argument("--sb3-steps", type=int, default=50_000)
    ap.add_argument("--num-envs", type=int, default=1024)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    ours = bench_htjax(args.htjax_steps, args.num_envs)
    print("htjax:", {k: v for k, v in ours.items() if k != "config"})
    theirs = bench_sb3(args.sb3_steps)
    print("sb3:", theirs)
    speedup = ours["steps_per_s"] / theirs["steps_per_s"]
    print(f"speed-up {speedup:.1f}x (acceptance: at least 50x)")
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, JAX {jax.__version__} on {jax.default_backend()}"
    result = {"htjax": ours, "sb3": theirs, "speedup": speedup, "machine": machine}
    if args.no_write:
        return
    to_bar = wall_time_to_quality_bar(theirs["steps_per_s"])
    if to_bar:
        result["wall_time_to_quality_bar"] = to_bar
    section = f"""## Training

PPO env steps per second of training on blackjack, same process, same machine ({machine}):
htjax's jitted update (rollout + GAE + {ours["config"]["update_epochs"]} epochs x {ours["config"]["num_minibatches"]} minibatches,
{ours["config"]["num_envs"]} worlds x {ours["config"]["num_steps"]} steps per update, 2x64 tanh MLP) on the `gymnasium` preset,
against Stable-Baselines3 {theirs["version"]} PPO (`MlpPolicy` 2x64, n_steps 1024, batch 64, 10 epochs: HyperToken's
settings) on Gymnasium's `Blackjack-v1`, one env step per Python call.

| | env steps | wall s | env steps/s |
|---|---|---|---|
| htjax PPO | {ours["env_steps"]:,} | {ours["wall_s"]:.1f} (+ {ours["compile_s"]:.1f} compile) | {ours["steps_per_s"]:,.0f} |
| SB3 PPO | {theirs["env_steps"]:,} | {theirs["wall_s"]:.1f} | {theirs["steps_per_s"]:,.0f} |
| speed-up | | | **{speedup:.0f}x** |

{_quality_bar_text(to_bar)}Reproduce: `python scripts/bench_ppo.py` (JSON in `docs/bench/ppo.json`)."""
    write_results("ppo", result, section)


def wall_time_to_quality_bar(sb3_steps_per_s: float) -> dict | None:
    """What the shipped casino-rules policy's training cost (from its model card), and what the
    same number of env steps would take at the measured SB3 rate."""
    card_path = ROOT / "htjax/policies/blackjack.json"
    if not card_path.exists():
        return None
    card = json.loads(card_path.read_text())
    metrics, training, evaluation = (
        card.get("training_metrics", {}),
        card.get("training", {}),
        card.get("evaluation", {}),
    )
    if "wall_s" not in metrics:
        return None
    steps = training["env_steps"]
    return {
        "policy": "htjax/policies/blackjack.onnx",
        "command": training["command"],
        "env_steps": steps,
        "wall_s": metrics["wall_s"],
        "compile_s": metrics.get("compile_s"),
        "gap_percentage_points": evaluation.get("gap_percentage_points"),
        "passed": evaluation.get("passed"),
        "sb3_hours_at_measured_rate": steps / sb3_steps_per_s / 3600,
    }


def _quality_bar_text(t: dict | None) -> str:
    if not t:
        return ""
    return (
        f"Training wall time to the quality bar: the shipped casino-rules policy (`{t['policy']}`, "
        f"`{t['command']}`) trained for {t['env_steps']:,} env steps in {t['wall_s']:,.0f} s "
        f"({t['compile_s']:.0f} s of it compiling) on this machine and plays "
        f"{t['gap_percentage_points']:+.2f} pp from basic strategy (bar: within 0.5 pp; "
        f"{'met' if t['passed'] else 'not met'}; model card). At the SB3 rate above the same env steps "
        f"would take {t['sb3_hours_at_measured_rate']:,.1f} hours.\n\n"
    )


if __name__ == "__main__":
    main()
