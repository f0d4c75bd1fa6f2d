"""Play the shipped heads-up hold'em policy against a call-station and a random agent (and, for
information, a maniac); write the numbers into its model card.

    python scripts/eval_holdem.py holdem [--hands 1000000] [--seed 2]   # NAME: shipped, or a path to an .onnx

Against each baseline (:mod:`htjax.agents.holdem`: ``call_station`` always checks or
calls, ``random`` picks a uniformly random legal action) the policy plays at least ``--hands``
hands of its own rules in :func:`~htjax.agents.holdem.heads_up_match`: the policy sits
in each seat in half the worlds, paired worlds deal the same cards (duplicate pairs), so it is
on the button in exactly half the hands. The result is big blinds won per 100 hands with the
standard error over the independent duplicate pairs.

The policy acts greedily (most probable action) with the weights read from the ONNX file,
evaluated in JAX inside a jitted rollout (onnxruntime per step would be far slower). That these
are the shipped policy's numbers is checked twice first: JAX and onnxruntime agree to 1e-5 on
10,000 observations recorded from its play, and a smaller match played by onnxruntime itself
(through ``OnnxPolicy.jax_policy``, a host callback) must give the same result in every hand.
Acceptance: at least +50 big blinds per 100 hands against both baselines. The maniac of the
training mix (shoves whenever raising is open) is played too and reported, outside the acceptance.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import htjax.policies
from htjax.agents.holdem import call_station_policy, heads_up_match, maniac_policy
from htjax.core.rollouts import random_policy
from htjax.train import networks as nets
from htjax.train.onnx_export import update_model_card
from htjax.train.onnx_policy import OnnxPolicy
from htjax.train.parity import load_checked

BASELINES = {"call_station": call_station_policy, "random": random_policy, "maniac": maniac_policy}
JUDGED = ("call_station", "random")  # the acceptance opponents; the maniac is reported for information
THRESHOLD_BB_PER_100 = 50.0


def onnx_crosscheck(env, policy: OnnxPolicy, params, spec, *, hands: int, seed: int) -> dict:
    """Play ``hands`` hands per baseline twice, with onnxruntime and with the JAX weights."""
    out = {}
    jax_greedy = nets.network_policy(spec, greedy=True)
    onnx_greedy = policy.jax_policy(greedy=True)
    for name, opponent in BASELINES.items():
        a = heads_up_match(env, onnx_greedy, None, opponent, hands=hands, num_envs=256, seed=seed)
        b = heads_up_match(env, jax_greedy, params, opponent, hands=hands, num_envs=256, seed=seed)
        out[name] = {
            "hands": a.hands,
            "bb_per_100_onnxruntime": a.bb_per_100,
            "bb_per_100_jax": b.bb_per_100,
            "identical_hand_results": bool(np.array_equal(a.results, b.results)),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="a shipped policy name or an .onnx file (its model card is updated)")
    ap.add_argument("--hands", type=int, default=1_000_000, help="hands per baseline (at least)")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument(
        "--crosscheck-hands", type=int, default=10_000, help="hands per baseline played by onnxruntime"
    )
    ap.add_argument("--no-card", action="store_true", help="print only; leave the model card alone")
    args = ap.parse_args()
    path = htjax.policies.resolve(args.onnx)  # a shipped name or a file; its model card is updated

    env = OnnxPolicy.load(path).make_env()
    if env.id != "holdem" or env.num_players != 2:
        raise SystemExit(
            f"{args.onnx} is a policy for {env.id} with {env.num_players} seats, not heads-up hold'em"
        )
    loaded = load_checked(path, seed=args.seed, worlds=100, steps=100, record_greedy=False)
    policy, env, params, spec, greedy, parity = (
        loaded.policy,
        loaded.env,
        loaded.params,
        loaded.spec,
        loaded.greedy,
        loaded.parity,
    )
    print("parity on recorded observations:", parity)
    if not (
        parity["max_abs_diff_probabilities"] <= 1e-5
        and parity["masked_zero_onnx"]
        and parity["masked_zero_jax"]
    ):
        raise SystemExit("JAX and onnxruntime disagree on the recorded observations; not evaluating")
    crosscheck = onnx_crosscheck(env, policy, params, spec, hands=args.crosscheck_hands, seed=args.seed)
    print("onnxruntime cross-check:", crosscheck)
    if not all(c["identical_hand_results"] for c in crosscheck.values()):
        raise SystemExit("the match played by onnxruntime differs from the JAX one; not evaluating")

    results = {}
    for name, opponent in BASELINES.items():
        t0 = time.perf_counter()
        r = heads_up_match(
            env, greedy, params, opponent, hands=args.hands, num_envs=args.num_envs, seed=args.seed
        )
        results[name] = {**r.to_dict(), "wall_s": round(time.perf_counter() - t0, 1)}
        print(f"vs {name}: {r.bb_per_100:+.2f} +- {r.stderr_bb_per_100:.2f} bb/100 over {r.hands:,} hands")
    passed = all(results[k]["bb_per_100"] >= THRESHOLD_BB_PER_100 for k in JUDGED)
    evaluation = {
        "format": "heads-up matches, the policy in each seat in half the worlds, duplicate pairs (same cards, seats swapped)",
        "hands_per_opponent": args.hands,
        "seed": args.seed,
        "greedy": True,
        "evaluated_with": "the ONNX file's weights in JAX (jitted), after the parity and onnxruntime cross-checks",
        "bb_per_100": {k: v["bb_per_100"] for k, v in results.items()},
        "stderr_bb_per_100": {k: v["stderr_bb_per_100"] for k, v in results.items()},
        "hands": {k: v["hands"] for k, v in results.items()},
        "onnxruntime_crosscheck": crosscheck,
        "acceptance": f"at least +{THRESHOLD_BB_PER_100:g} big blinds per 100 hands against {' and '.join(JUDGED)}",
        "judged_opponents": list(JUDGED),
        "passed": passed,
        "command": f"python scripts/eval_holdem.py {args.onnx} --hands {args.hands} --seed {args.seed}",
    }
    if not args.no_card:
        update_model_card(path, "evaluation", evaluation)
        update_model_card(
            path, "parity", {**parity, "source": "observations recorded from 100 worlds x 100 steps"}
        )
    print(json.dumps(evaluation, indent=1))


if __name__ == "__main__":
    main()
