"""Enter the shipped IPD policy into the 14-strategy round-robin tournament; write the result
into its model card.

    python scripts/eval_ipd.py policies/ipd.onnx [--repetitions 100] [--seed 0]

The tournament (:func:`htjax.envs.ipd_tournament.tournament`, axelrod's rules: every pair incl.
self-matches, 100 turns, ranking by median normalised score) seats the 14 classic strategies and
the policy, which acts greedily with the weights read from the ONNX file. 100 repetitions play
120 matches x 100 turns x 100 = 1,200,000 rounds. Acceptance: the policy ranks in the top 3.
"""

from __future__ import annotations

import argparse
import json

import jax

import htjax
from htjax.envs.ipd_tournament import Agent, tournament
from htjax.train import networks as nets
from htjax.train.onnx_export import update_model_card
from htjax.train.onnx_policy import OnnxPolicy
from htjax.train.parity import recorded_parity


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx")
    ap.add_argument("--repetitions", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-card", action="store_true")
    args = ap.parse_args()

    policy = OnnxPolicy.load(args.onnx)
    env = policy.make_env()
    params, spec = policy.to_params()
    greedy = nets.network_policy(spec, greedy=True)

    record = htjax.rollout(env, greedy, jax.random.PRNGKey(args.seed + 1000), 50, 100, params)
    parity = recorded_parity(params, spec, policy, record.trajectory)
    print("parity on recorded observations:", parity)

    agent = Agent(name="htjax-PPO", policy=greedy, params=params, stochastic=False)
    result = tournament(
        turns=env.config.rounds, repetitions=args.repetitions, seed=args.seed, agents=[agent], game=env.config
    )
    ranked = list(result.ranked_names)
    rank = ranked.index("htjax-PPO") + 1
    for i, name in enumerate(ranked):
        print(f"{i + 1:2d}. {name:22s} {result.median_score[result.names.index(name)]:.4f}")
    evaluation = {
        "tournament": "14 classic strategies + the policy, round robin with self-matches (axelrod rules)",
        "turns": result.turns,
        "repetitions": result.repetitions,
        "rounds_played": result.rounds_played,
        "seed": args.seed,
        "greedy": True,
        "rank": rank,
        "players": len(result.names),
        "ranking": ranked,
        "median_score_per_turn": {n: float(s) for n, s in zip(result.names, result.median_score)},
        "acceptance": "top 3 of the tournament",
        "passed": rank <= 3,
        "command": f"python scripts/eval_ipd.py {args.onnx} --repetitions {args.repetitions} --seed {args.seed}",
    }
    if not args.no_card:
        update_model_card(args.onnx, "evaluation", evaluation)
        update_model_card(args.onnx, "parity", {**parity, "source": "observations recorded from 50 worlds x 100 steps"})
    print(json.dumps({k: v for k, v in evaluation.items() if k != "median_score_per_turn"}, indent=1))


if __name__ == "__main__":
    main()
