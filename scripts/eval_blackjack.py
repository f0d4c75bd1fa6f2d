"""Evaluate the shipped blackjack policy against basic strategy; write the numbers into its model card.

    python scripts/eval_blackjack.py blackjack [--hands 1000000] [--seed 1]   # NAME: shipped, or a path to an .onnx

Both agents play at least ``--hands`` rounds (episodes) of the policy's own rules, from the same
episode keys (the same shuffles). The policy acts greedily (most probable action) with the
weights read from the ONNX file; parity of those weights in JAX with onnxruntime is checked on
10,000 observations recorded from its own play. Acceptance: the policy's return per unit bet is
within 0.5 percentage points of basic strategy's.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import htjax.policies
from htjax.agents.blackjack import basic_strategy_policy
from htjax.train.evaluate import evaluate_policy
from htjax.train.onnx_export import update_model_card
from htjax.train.parity import load_checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="a shipped policy name or an .onnx file (its model card is updated)")
    ap.add_argument("--hands", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument("--no-card", action="store_true", help="print only; leave the model card alone")
    args = ap.parse_args()
    path = htjax.policies.resolve(args.onnx)  # a shipped name or a file; its model card is updated

    loaded = load_checked(path, seed=args.seed, worlds=500, steps=20)
    env, params, greedy, parity = loaded.env, loaded.params, loaded.greedy, loaded.parity
    print("parity on recorded observations:", parity)

    results = {}
    for name, pol, p in (("policy", greedy, params), ("basic_strategy", basic_strategy_policy(env), None)):
        t0 = time.perf_counter()
        r = evaluate_policy(env, pol, p, episodes=args.hands, num_envs=args.num_envs, seed=args.seed)
        results[name] = {**r.to_dict(), "wall_s": round(time.perf_counter() - t0, 1)}
        print(f"{name}: return per unit bet {r.mean:+.5f} +- {r.stderr:.5f} over {r.episodes:,} hands")
    gap = results["policy"]["mean"] - results["basic_strategy"]["mean"]
    gap_se = math.hypot(results["policy"]["stderr"], results["basic_strategy"]["stderr"])
    passed = abs(gap) <= 0.005
    print(f"policy - basic strategy: {100 * gap:+.3f} pp (+- {100 * gap_se:.3f}); within 0.5 pp: {passed}")
    evaluation = {
        "hands_per_agent": args.hands,
        "seed": args.seed,
        "greedy": True,
        "return_per_unit_bet": {k: v["mean"] for k, v in results.items()},
        "stderr": {k: v["stderr"] for k, v in results.items()},
        "hands": {k: v["episodes"] for k, v in results.items()},
        "gap_percentage_points": 100 * gap,
        "gap_stderr_percentage_points": 100 * gap_se,
        "acceptance": "within 0.5 percentage points of basic strategy",
        "passed": passed,
        "command": f"python scripts/eval_blackjack.py {args.onnx} --hands {args.hands} --seed {args.seed}",
    }
    if not args.no_card:
        update_model_card(path, "evaluation", evaluation)
        update_model_card(
            path, "parity", {**parity, "source": "observations recorded from 500 worlds x 20 steps"}
        )
    print(json.dumps(evaluation, indent=1))


if __name__ == "__main__":
    main()
