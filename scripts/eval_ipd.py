"""Enter the shipped IPD policy into the 14-strategy round-robin tournament; write the result
into its model card.

    python scripts/eval_ipd.py ipd [--repetitions 10000] [--seed 0]   # NAME: shipped, or a path to an .onnx

The tournament (:func:`htjax.train.onnx_policy.policy_tournament`, the same code as
``htjax tournament --policy``; axelrod's rules: every pair incl. self-matches, 100 turns,
ranking by median normalised score) seats the 14 classic strategies and the policy, which acts
greedily with the weights read from the ONNX file. 10,000 repetitions play 120 matches x 10,000
= 1,200,000 matches (120,000,000 rounds). Acceptance: the policy ranks in the top 3.
"""

from __future__ import annotations

import argparse
import json
import time

import htjax.policies
from htjax.train.onnx_export import update_model_card
from htjax.train.onnx_policy import policy_tournament
from htjax.train.parity import load_checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="a shipped policy name or an .onnx file (its model card is updated)")
    ap.add_argument("--repetitions", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-card", action="store_true")
    args = ap.parse_args()
    path = htjax.policies.resolve(args.onnx)  # a shipped name or a file; its model card is updated

    loaded = load_checked(path, seed=args.seed, worlds=50, steps=100)
    policy, parity = loaded.policy, loaded.parity
    print("parity on recorded observations:", parity)

    start = time.perf_counter()
    result = policy_tournament([policy], repetitions=args.repetitions, seed=args.seed)
    seconds = time.perf_counter() - start
    ranked = list(result.ranked_names)
    rank = ranked.index(policy.name) + 1
    scores = {n: float(s) for n, s in zip(result.names, result.median_score)}
    for i, name in enumerate(ranked):
        print(f"{i + 1:2d}. {name:22s} {scores[name]:.4f}")
    players = len(result.names)
    matches = players * (players + 1) // 2 * result.repetitions
    fourth = scores[ranked[3]]
    evaluation = {
        "tournament": "14 classic strategies + the policy, round robin with self-matches (axelrod rules)",
        "policy_name": policy.name,
        "turns": result.turns,
        "repetitions": result.repetitions,
        "matches_played": matches,
        "rounds_played": result.rounds_played,
        "seconds": round(seconds, 1),
        "seed": args.seed,
        "greedy": True,
        "rank": rank,
        "players": players,
        "ranking": ranked,
        "median_score_per_turn": scores,
        "mean_score_per_turn": {n: float(s) for n, s in zip(result.names, result.mean_score_per_turn)},
        "margin_over_4th": scores[policy.name] - fourth if rank <= 3 else None,
        "acceptance": "top 3 of the tournament",
        "passed": rank <= 3,
        "command": f"python scripts/eval_ipd.py {args.onnx} --repetitions {args.repetitions} --seed {args.seed}",
    }
    if not args.no_card:
        update_model_card(path, "evaluation", evaluation)
        update_model_card(
            path, "parity", {**parity, "source": "observations recorded from 50 worlds x 100 steps"}
        )
    summary = {
        k: v for k, v in evaluation.items() if k not in ("median_score_per_turn", "mean_score_per_turn")
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
