"""Where a blackjack policy departs from basic strategy, weighted by how often each decision occurs.

    python scripts/diagnose_blackjack.py blackjack [--worlds 4096] [--steps 64]
    python scripts/diagnose_blackjack.py runs/blackjack.npz          # a checkpoint works too

The policy plays greedily (most probable action) on its own rules for ``--worlds`` x ``--steps``
steps; every decision it meets is classified by (hand kind: hard / soft / pair, player total or
pair rank, dealer up-card, first decision or later) plus the insurance decisions. For each state
the script compares the policy's greedy action with :func:`basic_strategy_policy`'s on the same
observation and mask, and prints:

* a summary: the share of decisions where they differ, per kind of decision;
* the decisions that differ most often (state, count, share of all decisions, policy action
  vs basic strategy's, the policy's probability of its action);
* strategy charts of the first decision of a hand (letters as in printed basic-strategy
  charts: ``H`` hit, ``S`` stand, ``D`` double, ``P`` split, ``R`` surrender), the policy's
  action in upper case where it agrees with basic strategy and in lower case where not
  (``.`` = state not seen).

It measures frequency, not EV: a frequent disagreement on a close call (hard 12 against a 4)
costs less than a rarer one on a clear call (standing on hard 11). Used to diagnose issue #6.
"""

from __future__ import annotations

import argparse
import collections
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

import htjax
from htjax.agents.blackjack import UP_CARDS, basic_strategy_policy
from htjax.envs import blackjack as bj
from htjax.train import networks as nets

LETTERS = {
    bj.STAND: "S",
    bj.HIT: "H",
    bj.DOUBLE: "D",
    bj.SPLIT: "P",
    bj.SURRENDER: "R",
    bj.INSURANCE: "I",
    bj.NO_INSURANCE: "N",
}


def load(path: str):
    """``(env, params, spec)`` of an ONNX policy (a shipped name or a file) or a checkpoint."""
    if pathlib.Path(path).suffix != ".npz":
        import htjax.policies

        policy = htjax.policies.load(path)
        params, spec = policy.to_params()
        return policy.make_env(), params, spec
    from htjax.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    return ckpt.make_env(), ckpt.params, ckpt.spec


def decisions(env, params, spec, worlds: int, steps: int, seed: int):
    """Observations, masks, greedy policy actions and probabilities, and basic strategy's actions
    of every decision of a greedy rollout (numpy arrays, one row per decision)."""
    greedy = nets.network_policy(spec, greedy=True)
    record = htjax.rollout(env, greedy, jax.random.PRNGKey(seed), worlds, steps, params)
    obs = np.asarray(record.trajectory.observation).reshape(-1, env.observation_shape[0])
    mask = np.asarray(record.trajectory.legal_action_mask).reshape(-1, env.num_actions)
    keep = mask.sum(-1) > 1  # forced moves (a showdown turn) are not decisions
    obs, mask = obs[keep], mask[keep]
    o, m = jnp.asarray(obs), jnp.asarray(mask)
    probs = np.asarray(jax.vmap(lambda x, k: nets.action_probabilities(spec, params, x, k))(o, m))
    basic = basic_strategy_policy(env)
    ref = np.asarray(jax.vmap(lambda x, k: basic(None, x, k, jax.random.PRNGKey(0)))(o, m))
    return obs, mask, probs.argmax(-1), probs.max(-1), ref


def describe(obs: np.ndarray, mask: np.ndarray) -> tuple[list[str], list[tuple]]:
    """Per decision: its kind (``insurance``, ``pair``, ``soft``, ``hard``) and its state key."""
    names = [n for n, _ in bj.OBSERVATION_LAYOUT]
    col = {n: names.index(n) for n in names}
    total = np.rint(obs[:, col["hand_total"]] * 21).astype(int)
    up = np.rint(obs[:, col["dealer_up"]] * 10).astype(int)
    up = np.where(up == 1, 11, up)
    soft = obs[:, col["soft"]] > 0.5
    pair = (obs[:, col["pair"]] > 0.5) & mask[:, bj.SPLIT]
    first = mask[:, bj.DOUBLE]
    insurance = obs[:, col["phase_insurance"]] > 0.5
    kinds, keys = [], []
    for i in range(len(obs)):
        if insurance[i]:
            kind, row = "insurance", 0
        elif pair[i]:
            kind, row = "pair", 11 if soft[i] else total[i] // 2
        else:
            kind, row = ("soft" if soft[i] else "hard"), total[i]
        kinds.append(kind)
        keys.append((kind, int(row), int(up[i]), bool(first[i] and not insurance[i])))
    return kinds, keys


def label(key: tuple) -> str:
    kind, row, up, first = key
    up_s = "A" if up == 11 else str(up)
    if kind == "insurance":
        return "insurance offered (dealer A)"
    what = {
        "pair": f"pair {'A' if row == 11 else row},{'A' if row == 11 else row}",
        "soft": f"soft {row}",
        "hard": f"hard {row}",
    }[kind]
    return f"{what} vs {up_s}{'' if first else ' (after a hit)'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("policy", help="a shipped policy name, an .onnx file or a checkpoint .npz")
    ap.add_argument("--worlds", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--top", type=int, default=25, help="how many disagreeing states to list")
    args = ap.parse_args()

    env, params, spec = load(args.policy)
    if env.config.rules != "casino":
        raise SystemExit("diagnose_blackjack needs a casino-rules blackjack policy")
    obs, mask, act, prob, ref = decisions(env, params, spec, args.worlds, args.steps, args.seed)
    kinds, keys = describe(obs, mask)
    n = len(keys)
    differ = act != ref
    print(f"{n:,} decisions; the policy differs from basic strategy on {differ.mean():.2%} of them")
    for kind in ("insurance", "hard", "soft", "pair"):
        sel = np.array([k == kind for k in kinds])
        if sel.any():
            print(
                f"  {kind:9s} {sel.sum():9,} decisions ({sel.mean():6.2%}), differ on {differ[sel].mean():6.2%}"
            )

    count = collections.Counter(keys)
    wrong = collections.Counter(k for k, d in zip(keys, differ) if d)
    moves: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    conf: dict[tuple, list] = collections.defaultdict(list)
    for k, a, r, p, d in zip(keys, act, ref, prob, differ):
        if d:
            moves[k][(LETTERS[int(a)], LETTERS[int(r)])] += 1
            conf[k].append(p)
    print(f"\nmost frequent disagreements (share of all {n:,} decisions):")
    print(
        f"  {'state':36s} {'seen':>8s} {'differ':>8s} {'% all':>7s}  policy->basic (count)  p(policy action)"
    )
    for k, c in wrong.most_common(args.top):
        pairs = ", ".join(f"{a}->{r} ({m})" for (a, r), m in moves[k].most_common(2))
        print(f"  {label(k):36s} {count[k]:8,} {c:8,} {c / n:7.2%}  {pairs:22s} {np.mean(conf[k]):.2f}")

    # charts of the first decision of a hand
    chart: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    refs: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    for k, a, r in zip(keys, act, ref):
        if k[3]:
            chart[k[:3]][LETTERS[int(a)]] += 1
            refs[k[:3]][LETTERS[int(r)]] += 1
    header = "      " + " ".join(f"{'A' if u == 11 else u:>2}" for u in UP_CARDS)
    for kind, rows in (("hard", range(5, 21)), ("soft", range(13, 21)), ("pair", range(2, 12))):
        print(f"\n{kind} hands, first decision (upper case: as basic strategy; lower case: differs)")
        print(header)
        for row in rows:
            cells = []
            for u in UP_CARDS:
                k = (kind, row, u)
                if not chart[k]:
                    cells.append(" .")
                    continue
                a = chart[k].most_common(1)[0][0]
                r = refs[k].most_common(1)[0][0]
                cells.append(f"{a if a == r else a.lower():>2}")
            name = ("A" if row == 11 else str(row)) if kind == "pair" else str(row)
            print(f"{name:>5} " + " ".join(cells))


if __name__ == "__main__":
    main()
