"""Re-stamp shipped ONNX policies for the current env version and layout hash, weights unchanged.

A policy file names the env version and observation layout hash it was made for, and loaders
refuse a mismatch. When the rules change in ways that leave the observation layout as it was
(blackjack v1 and hold'em v1: forfeits for illegal actions, hold'em also pots by the book and
hashed per-step randomness; the IPD v1: hashed randomness), or when the layout hash is derived
anew from the same table, the network still reads the same observation, so the file's env
metadata is rewritten for the current env and nothing else: the graph and its weights stay
byte-for-byte the same, which the script checks. The model card's ``env`` section and file hash
follow, and its ``restamped`` list records each change. The card's evaluation was measured
before; ``tests/test_onnx.py`` re-samples every card's number under the current rules and must
agree with it within 5 standard errors.

Refuses (exit 1) when the observation shape, dtype, action labels or seat count differ: then
the policy must be retrained.

    python scripts/restamp_policies.py                          # every shipped policy
    python scripts/restamp_policies.py --policy my_policy.onnx  # one file
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import onnx

import htjax
from htjax.train.checkpoint import file_sha256
from htjax.train.onnx_export import env_metadata, model_card_path

ROOT = pathlib.Path(__file__).resolve().parent.parent
UNCHANGEABLE = ("htjax.env_id", "htjax.observation_shape", "htjax.observation_dtype", "htjax.action_labels")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=pathlib.Path, action="append", help="default: every shipped policy")
    args = parser.parse_args(argv)
    import htjax.policies

    paths = args.policy or [htjax.policies.path(name) for name in htjax.policies.names()]
    return max(restamp(path) for path in paths)


def restamp(policy: pathlib.Path) -> int:
    """Re-stamp one file; 0 when done or already current, 1 when the policy must be retrained."""
    model = onnx.load(str(policy))
    meta = {p.key: p.value for p in model.metadata_props}
    old_env = json.loads(meta["htjax.env"])
    env = htjax.make(
        meta["htjax.env_id"],
        **{k: tuple(v) if isinstance(v, list) else v for k, v in old_env["config"].items()},
    )
    new = env_metadata(env)
    changed = [k for k in UNCHANGEABLE if meta[k] != new[k]]
    if changed or json.loads(new["htjax.env"])["num_players"] != old_env["num_players"]:
        print(f"{policy}: {changed or ['num_players']} differ; retrain the policy instead", file=sys.stderr)
        return 1
    if all(meta.get(k) == v for k, v in new.items()):
        print(f"{policy}: already stamped for {env.id} {new['htjax.env_version']}")
        return 0
    weights = [init.SerializeToString() for init in model.graph.initializer]
    graph = model.graph.SerializeToString()
    for prop in model.metadata_props:
        if prop.key in new:
            prop.value = new[prop.key]
    assert model.graph.SerializeToString() == graph and weights == [
        i.SerializeToString() for i in model.graph.initializer
    ]
    onnx.save(model, str(policy))

    card_path = model_card_path(policy)
    card = json.loads(card_path.read_text())
    card["env"] = json.loads(new["htjax.env"])
    card["sha256"] = file_sha256(policy)
    same_version = meta["htjax.env_version"] == new["htjax.env_version"]
    history = card.get("restamped", [])
    card["restamped"] = history = [history] if isinstance(history, dict) else list(history)
    history.append(
        {
            "from": meta["htjax.env_version"],
            "to": new["htjax.env_version"],
            "why": (
                "layout hash derived from the observation layout table (same table); weights unchanged"
                if same_version
                else "rules changed, observation layout unchanged; weights unchanged; "
                "the evaluation was measured before"
            )
            + " (scripts/restamp_policies.py)",
        }
    )
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    print(f"{policy}: {env.id} {meta['htjax.env_version']} -> {new['htjax.env_version']}; weights unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
