"""A third-party JAX PPO (rejax) trained on htjax's gymnax adapter, against htjax's own PPO.

Both train on blackjack's ``gymnasium`` preset (Gymnasium's Blackjack-v1 rules) for the same env
steps with the same PPO settings (worlds, rollout length, epochs, minibatches, learning rate,
discount, GAE, clipping, entropy bonus, 2x64 tanh networks), then both sampled policies play the
same hands: ``htjax.evaluate`` on the same episode keys (exact episode counts, no bias toward
short episodes). rejax gets the env and nothing else: ``rejax.PPO.create(env=GymnaxEnv(env), ...)``.

    python scripts/train_rejax.py [--steps 3000000] [--hands 262144] [--seed 0]

Writes docs/bench/rejax.json and the ``bench_rejax`` block of docs/benchmarks.md.
Needs rejax (the test extra: pip install rejax gymnax; see docs/jax_adapters.md).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
from benchlib import write_results

import htjax
from htjax.adapters.gymnax import GymnaxEnv
from htjax.train.ppo import PPOConfig, make_train

SETTINGS = dict(
    num_envs=256, num_steps=16, epochs=4, minibatches=4, lr=3e-4, gamma=0.99, lam=0.95, clip=0.2, ent=0.01
)


def train_rejax(env: GymnaxEnv, steps: int, seed: int):
    from rejax import PPO

    s = SETTINGS
    algo = PPO.create(
        env=env,
        env_params=env.default_params,
        total_timesteps=steps,
        eval_freq=steps,
        num_envs=s["num_envs"],
        num_steps=s["num_steps"],
        num_epochs=s["epochs"],
        num_minibatches=s["minibatches"],
        learning_rate=s["lr"],
        gamma=s["gamma"],
        gae_lambda=s["lam"],
        clip_eps=s["clip"],
        ent_coef=s["ent"],
        max_grad_norm=0.5,
        agent_kwargs={"activation": "tanh", "hidden_layer_sizes": (64, 64)},
    )
    t0 = time.perf_counter()
    ts, _ = jax.block_until_ready(jax.jit(algo.train)(jax.random.PRNGKey(seed)))
    wall = time.perf_counter() - t0
    act = algo.make_act(ts)
    return (lambda params, obs, mask, key: act(obs, key).astype(jnp.int32)), wall


def train_htjax(env: htjax.core.env.Env, steps: int, seed: int, recipe: bool = False):
    """htjax's PPO with rejax's settings, or (``recipe``) with htjax's blackjack recipe
    (:data:`htjax.train.commands.RECIPES`: Monte-Carlo returns, lr 1e-3 and entropy bonus 0.1 both
    annealed to 0) over this budget, on the same worlds and rollout length."""
    s = SETTINGS
    cfg = PPOConfig(
        num_envs=s["num_envs"],
        num_steps=s["num_steps"],
        update_epochs=s["epochs"],
        num_minibatches=s["minibatches"],
        learning_rate=s["lr"],
        gamma=s["gamma"],
        gae_lambda=s["lam"],
        clip_eps=s["clip"],
        ent_coef=s["ent"],
        hidden=(64, 64),
    )
    if recipe:
        from htjax.train.commands import RECIPES

        values = {**RECIPES["blackjack"], "num_envs": s["num_envs"], "num_minibatches": s["minibatches"]}
        values["anneal_updates"] = max(1, steps // (s["num_envs"] * s["num_steps"]))
        cfg = PPOConfig(**values)
    trainer = make_train(env, cfg)
    rs = trainer.init(jax.random.PRNGKey(seed))
    t0 = time.perf_counter()
    for _ in range(max(1, steps // trainer.steps_per_update)):
        rs, _ = trainer.train_step(rs)
    jax.block_until_ready(rs.params)
    wall = time.perf_counter() - t0
    return trainer.policy(), rs.params, wall, cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=3_000_000)
    ap.add_argument("--hands", type=int, default=262_144)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()

    env = htjax.make("blackjack", preset="gymnasium")
    worlds = 1024
    per_world = max(1, args.hands // worlds)
    key = jax.random.PRNGKey(12345)

    def score(policy, params=None):
        r = htjax.evaluate(env, policy, per_world, num_envs=worlds, key=key, params=params)
        return float(r.mean_return[0]), float(r.stderr[0])

    rejax_policy, rejax_wall = train_rejax(GymnaxEnv(env), args.steps, args.seed)
    htjax_policy, params, htjax_wall, cfg = train_htjax(env, args.steps, args.seed)
    recipe_policy, recipe_params, recipe_wall, recipe_cfg = train_htjax(
        env, args.steps, args.seed, recipe=True
    )
    rows = {
        "rejax PPO on GymnaxEnv": (*score(rejax_policy), rejax_wall),
        "htjax PPO, same settings": (*score(htjax_policy, params), htjax_wall),
        "htjax PPO, its blackjack recipe": (*score(recipe_policy, recipe_params), recipe_wall),
        "random policy": (*score(htjax.random_policy), 0.0),
    }
    report = {
        "env": "blackjack (preset gymnasium)",
        "env_steps": args.steps,
        "hands_evaluated": per_world * worlds,
        "seed": args.seed,
        "settings": SETTINGS,
        "ppo_config": cfg.to_dict(),
        "recipe_ppo_config": recipe_cfg.to_dict(),
        "results": {
            k: {"mean_return": m, "stderr": e, "train_wall_s_incl_compile": w}
            for k, (m, e, w) in rows.items()
        },
        "jax": jax.__version__,
    }
    best = max(("htjax PPO, same settings", "htjax PPO, its blackjack recipe"), key=lambda k: rows[k][0])
    gap = rows["rejax PPO on GymnaxEnv"][0] - rows[best][0]
    gap_se = (rows["rejax PPO on GymnaxEnv"][1] ** 2 + rows[best][1] ** 2) ** 0.5
    report["rejax_minus_best_htjax"] = {"against": best, "return": gap, "stderr": gap_se}
    lines = [
        "## A third-party JAX PPO on the gymnax adapter",
        "",
        f'rejax\'s PPO (unchanged; the env is `GymnaxEnv(htjax.make("blackjack", preset="gymnasium"))`) and htjax\'s own '
        f"PPO, each trained {args.steps:,} env steps with the same settings ({SETTINGS['num_envs']} worlds x "
        f"{SETTINGS['num_steps']} steps, {SETTINGS['epochs']} epochs x {SETTINGS['minibatches']} minibatches, lr "
        f"{SETTINGS['lr']}, 2x64 tanh), then their sampled policies play the same {per_world * worlds:,} hands "
        "(`htjax.evaluate`, same episode keys). `python scripts/train_rejax.py`:",
        "",
        "| policy | mean return per hand | s.e. | training wall s (incl. compile) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {k} | {m:+.4f} | {e:.4f} | {w:.1f} |" for k, (m, e, w) in rows.items()]
    lines += [
        "",
        f"rejax minus the better htjax run ({best}): {gap:+.4f} (s.e. {gap_se:.4f}). The recipe row is htjax's "
        '`RECIPES["blackjack"]` (Monte-Carlo returns, lr 1e-3 and entropy bonus 0.1 annealed to 0 over the run) '
        "on the same worlds and budget.",
    ]
    print("\n".join(lines))
    if not args.no_write:
        for path in write_results("rejax", report, "\n".join(lines)):
            print("wrote", path)


if __name__ == "__main__":
    main()
