"""Re-stamp ``htjax/policies/holdem.onnx`` for the current hold'em env version, weights unchanged.

A policy file names the env version and observation layout hash it was made for, and loaders
refuse a mismatch. When the rules change in ways that leave the observation layout as it was
(hold'em v1: pots by the book, forfeits for illegal actions, hashed per-step randomness), the
network still reads the same observation, so the file's env metadata is rewritten for the
current env and nothing else: the graph and its weights stay byte-for-byte the same, which the
script checks. The model card's ``env`` section and file hash follow, and its ``restamped`` list
records each version change. The card's evaluation was measured before the change;
``tests/test_onnx.py`` re-samples 20,000 hands under the current rules and must agree with it
within 5 standard errors.

Refuses (exit 1) when the observation shape, dtype, action labels or seat count differ: then
the policy must be retrained.

    python scripts/restamp_holdem_policy.py [--policy htjax/policies/holdem.onnx]
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
    parser.add_argument("--policy", type=pathlib.Path, default=ROOT / "htjax" / "policies" / "holdem.onnx")
    args = parser.parse_args(argv)
    model = onnx.load(str(args.policy))
    meta = {p.key: p.value for p in model.metadata_props}
    old_env = json.loads(meta["htjax.env"])
    env = htjax.make(
        "holdem", **{k: tuple(v) if isinstance(v, list) else v for k, v in old_env["config"].items()}
    )
    new = env_metadata(env)
    changed = [k for k in UNCHANGEABLE if meta[k] != new[k]]
    if changed or json.loads(new["htjax.env"])["num_players"] != old_env["num_players"]:
        print(
            f"{args.policy}: {changed or ['num_players']} differ; retrain the policy instead", file=sys.stderr
        )
        return 1
    if meta["htjax.env_version"] == new["htjax.env_version"] and meta["htjax.env"] == new["htjax.env"]:
        print(f"{args.policy}: already stamped for holdem {new['htjax.env_version']}")
        return 0
    weights = [init.SerializeToString() for init in model.graph.initializer]
    graph = model.graph.SerializeToString()
    for prop in model.metadata_props:
        if prop.key in new:
            prop.value = new[prop.key]
    assert model.graph.SerializeToString() == graph and weights == [
        i.SerializeToString() for i in model.graph.initializer
    ]
    onnx.save(model, str(args.policy))

    card_path = model_card_path(args.policy)
    card = json.loads(card_path.read_text())
    card["env"] = json.loads(new["htjax.env"])
    card["sha256"] = file_sha256(args.policy)
    card.setdefault("restamped", []).append(
        {
            "from": meta["htjax.env_version"],
            "to": new["htjax.env_version"],
            "why": "rules changed, observation layout unchanged; weights unchanged "
            "(scripts/restamp_holdem_policy.py); the evaluation was measured before",
        }
    )
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    print(
        f"{args.policy}: holdem {meta['htjax.env_version']} -> {new['htjax.env_version']}; weights unchanged"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
