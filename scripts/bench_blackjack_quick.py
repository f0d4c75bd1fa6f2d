"""Quick blackjack throughput check (not the project benchmark).

Measures, for the ``gymnasium`` and ``casino`` presets: compile time of ``jit(init)`` +
``jit(step)`` (single world), and steps/s of ``htjax.rollout`` with the random legal policy,
``record_observations=False`` and ``autoreset="select"``. Optionally pgx's ``leduc_holdem``
(``jit(vmap(step))`` with random legal actions) and Gymnasium's ``Blackjack-v1`` loop.

    python scripts/bench_blackjack_quick.py --num-envs 8192 --num-steps 200 --pgx --gymnasium
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import htjax
from htjax.envs.blackjack import Blackjack


def compile_time(env) -> float:
    key = jax.random.PRNGKey(0)
    t0 = time.perf_counter()
    init = jax.jit(env.init).lower(key).compile()
    state = init(key)
    jax.jit(env.step).lower(state, jnp.int32(0), key).compile()
    return time.perf_counter() - t0


def rollout_rate(env, num_envs: int, num_steps: int, repeats: int) -> float:
    key = jax.random.PRNGKey(0)
    out = htjax.rollout(env, htjax.random_policy, key, num_envs, num_steps, record_observations=False)
    jax.block_until_ready(out.trajectory.rewards)
    best = float("inf")
    carry = out.carry
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = htjax.rollout(
            env, htjax.random_policy, key, num_envs, num_steps, record_observations=False, carry=carry
        )
        jax.block_until_ready(out.trajectory.rewards)
        best = min(best, time.perf_counter() - t0)
        carry = out.carry
    return num_envs * num_steps / best


def pgx_rate(num_envs: int, num_steps: int, repeats: int) -> float:
    import pgx

    env = pgx.make("leduc_holdem")
    init = jax.jit(jax.vmap(env.init))

    def run(state, key):
        def body(carry, _):
            s, k = carry
            k, ka, ks = jax.random.split(k, 3)
            logits = jnp.where(s.legal_action_mask, 0.0, -jnp.inf)
            a = jax.random.categorical(ka, logits, axis=-1)
            s = jax.vmap(env.step)(s, a, jax.random.split(ks, num_envs))
            # pgx has no auto-reset in step; restart finished worlds like htjax's "select"
            fresh = jax.vmap(env.init)(jax.random.split(ks, num_envs))
            s = jax.tree_util.tree_map(
                lambda x, y: jnp.where(s.terminated.reshape((-1,) + (1,) * (x.ndim - 1)), y, x), s, fresh
            )
            return (s, k), None

        (state, key), _ = jax.lax.scan(body, (state, key), None, length=num_steps)
        return state, key

    run = jax.jit(run)
    state = init(jax.random.split(jax.random.PRNGKey(0), num_envs))
    state, key = run(state, jax.random.PRNGKey(1))
    jax.block_until_ready(state)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        state, key = run(state, key)
        jax.block_until_ready(state)
        best = min(best, time.perf_counter() - t0)
    return num_envs * num_steps / best


def gymnasium_rate(num_steps: int) -> float:
    import gymnasium as gym

    env = gym.make("Blackjack-v1")
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    t0 = time.perf_counter()
    for _ in range(num_steps):
        _, _, term, trunc, _ = env.step(int(rng.integers(2)))
        if term or trunc:
            env.reset()
    return num_steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, default=8192)
    ap.add_argument("--num-steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--presets", default="gymnasium,casino")
    ap.add_argument("--pgx", action="store_true")
    ap.add_argument("--gymnasium", action="store_true")
    args = ap.parse_args()
    print(
        f"jax {jax.__version__} on {jax.devices()[0].platform}, "
        f"{args.num_envs} worlds x {args.num_steps} steps"
    )
    for preset in args.presets.split(","):
        env = Blackjack(preset=preset)
        ct = compile_time(env)
        rate = rollout_rate(env, args.num_envs, args.num_steps, args.repeats)
        print(f"blackjack[{preset}]: compile init+step {ct:.2f} s, rollout {rate / 1e6:.2f} M steps/s")
    if args.pgx:
        print(
            f"pgx leduc_holdem: {pgx_rate(args.num_envs, args.num_steps, args.repeats) / 1e6:.2f} M steps/s"
        )
    if args.gymnasium:
        print(f"gymnasium Blackjack-v1 loop: {gymnasium_rate(100_000) / 1e3:.1f} k steps/s")


if __name__ == "__main__":
    main()
