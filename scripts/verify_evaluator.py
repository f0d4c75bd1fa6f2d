"""Verify ``htjax.envs.poker_eval`` against ``phevaluator`` on 1,000,000 random 7-card hands.

1. All 2,598,960 five-card hands: our values and phevaluator's ranks (1 = royal flush ..
   7462) must be in one-to-one, order-reversing correspondence. That gives the exact table
   ``our value -> phevaluator rank`` (and checks every 5-card hand on the way).
2. ``--hands`` random 7-card hands (default 1,000,000, seeded): a *mismatch* is a hand whose
   phevaluator rank differs from the rank our value maps to (an unknown value also counts).
   Hand categories are compared as well.

Prints the mismatch counts and both evaluators' hands/s, writes JSON, and exits 1 on any
mismatch. Needs ``pip install phevaluator``.

    python scripts/verify_evaluator.py [--hands 1000000] [--seed 0] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import pathlib
import time

import jax
import numpy as np

from htjax.envs import poker_eval

ROOT = pathlib.Path(__file__).resolve().parent.parent
# phevaluator rank ranges per category, best category first (straight flush: 1..10, ...)
PHEVAL_CATEGORY_UPPER = [10, 166, 322, 1599, 1609, 2467, 3325, 6185, 7462]


def pheval_category(ranks: np.ndarray) -> np.ndarray:
    """Our category ids (0 high card .. 8 straight flush) of phevaluator ranks."""
    return 8 - np.searchsorted(np.asarray(PHEVAL_CATEGORY_UPPER), ranks, side="left")


def random_hands(num: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((num, 7), np.int8)
    for i in range(0, num, 100_000):
        m = min(100_000, num - i)
        out[i : i + m] = np.argsort(rng.random((m, 52)), axis=1)[:, :7]
    return out


def main(argv=None) -> int:
    from phevaluator import _pheval

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "docs" / "bench" / "verify_evaluator.json")
    args = parser.parse_args(argv)

    print("all five-card hands ...", flush=True)
    five = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(52), 5)), np.int8).reshape(
        -1, 5
    )
    ours5 = np.asarray(jax.jit(poker_eval.evaluate5)(five))
    ev5 = _pheval.evaluate_5cards
    ref5 = np.fromiter((ev5(*h) for h in five.tolist()), np.int32, len(five))
    pairs = np.unique(np.stack([ours5, ref5], axis=1), axis=0)
    by_value = pairs[np.argsort(pairs[:, 0])]
    five_ok = len(pairs) == len(np.unique(ours5)) == len(np.unique(ref5)) == 7462 and bool(
        np.all(np.diff(by_value[:, 1]) < 0)
    )
    print(f"  {len(five):,} hands, {len(np.unique(ours5))} classes, bijective and order-reversing: {five_ok}")
    table_values, table_ranks = by_value[:, 0], by_value[:, 1]

    print(f"{args.hands:,} random seven-card hands (seed {args.seed}) ...", flush=True)
    hands = random_hands(args.hands, args.seed)
    f = jax.jit(poker_eval.evaluate7)
    dev = jax.device_put(hands)
    jax.block_until_ready(f(dev))  # compile
    start = time.perf_counter()
    ours = np.asarray(jax.block_until_ready(f(dev)))
    ours_s = time.perf_counter() - start

    ev7 = _pheval.evaluate_7cards
    rows = hands.tolist()
    start = time.perf_counter()
    ref = np.fromiter((ev7(*h) for h in rows), np.int32, len(rows))
    ref_s = time.perf_counter() - start

    idx = np.clip(np.searchsorted(table_values, ours), 0, len(table_values) - 1)
    known = table_values[idx] == ours
    mapped = np.where(known, table_ranks[idx], -1)
    mismatches = int(np.sum(mapped != ref))
    category_mismatches = int(np.sum(poker_eval.hand_category(ours) != pheval_category(ref)))
    result = {
        "hands": args.hands,
        "seed": args.seed,
        "mismatches": mismatches,
        "category_mismatches": category_mismatches,
        "five_card_hands_bijective": five_ok,
        "htjax_hands_per_s": args.hands / ours_s,
        "phevaluator_hands_per_s": args.hands / ref_s,
        "category_counts": np.bincount(np.asarray(poker_eval.hand_category(ours)), minlength=9).tolist(),
    }
    print(f"mismatches = {mismatches}  (category mismatches = {category_mismatches})")
    print(f"htjax evaluate7: {result['htjax_hands_per_s']:,.0f} hands/s (one jitted batch)")
    print(f"phevaluator:     {result['phevaluator_hands_per_s']:,.0f} hands/s (C, one call per hand)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if mismatches == 0 and category_mismatches == 0 and five_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
