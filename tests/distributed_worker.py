"""One process of the multi-process tests (tests/test_distributed.py); run as a script.

Joins a ``jax.distributed`` run (``--num-processes`` > 1), checks the processes agree on their
settings, runs a sharded rollout and three PPO updates over every device of every process, and
(process 0) writes the gathered trajectory and parameters to ``--out`` (.npz). A
:class:`DistributedError` is printed as ``DistributedError: <message>`` with exit code 3.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--coordinator")
    ap.add_argument("--num-processes", type=int, default=1)
    ap.add_argument("--process-id", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--num-envs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from htjax.core.distributed import DistributedError, check_same_across_processes, gather, initialize

    try:
        t0 = time.perf_counter()
        if args.num_processes > 1:
            initialize(args.coordinator, args.num_processes, args.process_id, timeout_s=args.timeout)
        import jax
        import numpy as np

        import htjax
        from htjax.train.ppo import PPOConfig, make_train

        print(
            f"joined in {time.perf_counter() - t0:.1f} s: {jax.process_count()} processes, {jax.device_count()} devices"
        )
        env = htjax.make("blackjack", preset="gymnasium")
        check_same_across_processes(
            "distributed_worker",
            {"env": env.id, "config": env.config.to_dict(), "num_envs": args.num_envs, "seed": args.seed},
        )
        r = htjax.rollout(
            env, htjax.random_policy, jax.random.PRNGKey(args.seed), args.num_envs, 12, devices="all"
        )
        if jax.process_count() > 1:
            assert not r.trajectory.action.is_fully_addressable  # each process holds only its worlds
        traj = gather(r.trajectory)
        cfg = PPOConfig(num_envs=args.num_envs, num_steps=4, num_minibatches=2, update_epochs=2, hidden=(8,))
        trainer = make_train(env, cfg, devices="all")
        rs = trainer.init(jax.random.PRNGKey(args.seed))
        for _ in range(3):
            rs, metrics = trainer.train_step(rs)
        params = gather(rs.params)
        metrics = {k: float(v) for k, v in gather(metrics).items()}
        if jax.process_index() == 0 and args.out:
            fields = [f.name for f in dataclasses.fields(traj)]
            flat = {f"traj_{k}": np.asarray(getattr(traj, k)) for k in fields if getattr(traj, k) is not None}
            leaves = jax.tree_util.tree_leaves(params)
            flat.update({f"param_{i}": np.asarray(x) for i, x in enumerate(leaves)})
            flat.update({f"metric_{k}": np.asarray(v) for k, v in metrics.items()})
            np.savez(args.out, **flat)
        print("worker done", flush=True)
        return 0
    except DistributedError as err:
        print(f"DistributedError: {err}", file=sys.stderr, flush=True)
        return 3


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # a failed join leaves jax's connecting thread behind; do not wait for it
