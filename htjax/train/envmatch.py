"""What env a checkpoint or ONNX policy was made for, and the check that names a mismatch's cause.

Both file kinds record :func:`env_summary` (:func:`~htjax.core.env.describe` of the env plus
:func:`observation_layout_hash`). :func:`check_env_matches` compares a recorded summary with an
env and, when they differ, says *why*: another env id, another env version, or the rules config
field by field (``betting=False`` vs ``betting=True``), with the sizes that differ as a
consequence (number of actions, observation shape, seats); only when id, version and config all
agree does it fall back to the derived fields themselves.

This module imports no JAX code of its own and no onnx, so the inference-only ONNX policy uses it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from htjax.core.env import Env, describe
from htjax.train.errors import EnvMismatchError

__all__ = [
    "env_summary",
    "observation_layout_hash",
    "json_default",
    "plain",
    "config_differences",
    "check_env_matches",
    "env_from_summary",
]

# (summary field, how a message names it) of the sizes and labels an observation layout implies
_DERIVED = (
    ("num_players", "number of seats"),
    ("num_actions", "number of actions"),
    ("observation_shape", "observation shape"),
    ("observation_dtype", "observation dtype"),
    ("action_labels", "action labels"),
    ("simultaneous", "simultaneous moves"),
    ("observation_layout_hash", "observation layout hash"),
)


def json_default(value: Any):
    """``json.dumps`` fallback for numpy scalars and arrays."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {value!r}")


def plain(value: Any) -> Any:
    """``value`` as JSON would read it back (tuples become lists, numpy scalars Python ones)."""
    return json.loads(json.dumps(value, sort_keys=True, default=json_default))


def observation_layout_hash(env: Env) -> str:
    """Stable hex digest (sha256, 16 chars) of what an observation means for ``env``.

    Derived from the game's observation layout table (``env.observation_layout``: each field's
    name, size and bounds) with the env id, seat and action counts, action labels and the
    observation's shape and dtype, as canonical JSON; the same env always hashes the same on
    every machine. The rules version is not part of it (a rules change that keeps the layout
    keeps the hash; loaders compare the version on its own). A game without a layout table
    hashes its whole :func:`~htjax.core.env.describe` instead (config included).
    """
    d = describe(env)
    layout = env.observation_layout
    if layout is not None:
        keys = (
            "id",
            "num_players",
            "num_actions",
            "simultaneous",
            "observation_shape",
            "observation_dtype",
            "action_labels",
        )
        content = {k: d[k] for k in keys}
        content["observation_layout"] = layout.hash()
    else:
        content = {k: v for k, v in d.items() if k != "version"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=json_default)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def env_summary(env: Env) -> dict[str, Any]:
    """:func:`~htjax.core.env.describe` of ``env`` plus its layout hash, as plain JSON values."""
    summary = describe(env)
    summary["observation_layout_hash"] = observation_layout_hash(env)
    return plain(summary)


def config_differences(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{field: (theirs, ours)}`` of every rules-config field whose plain values differ
    (a field missing on one side reads as ``None``)."""
    a, b = plain(theirs or {}), plain(ours or {})
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _assignments(diff: dict[str, tuple[Any, Any]], side: int) -> str:
    return ", ".join(f"{k}={v[side]!r}" for k, v in diff.items())


_POLICY_ADVICE = (
    "a policy plays only the rules it was trained on: make the env with those rules or train one for these"
)


def check_env_matches(summary: dict[str, Any], env: Env, what: str, advice: str = _POLICY_ADVICE) -> None:
    """Raise :class:`~htjax.train.errors.EnvMismatchError` unless ``summary`` describes ``env``.

    The message names the cause, in this order: another env id; another env version; the rules
    config fields that differ (with the sizes that differ because of them); otherwise the first
    derived field (observation shape, number of actions, ...) that differs. ``what`` names the
    file in the message (``"ONNX policy blackjack.onnx"``); ``advice`` ends a rules-config message.
    The error's ``differences`` holds every differing field.
    """
    mine = env_summary(env)
    theirs = plain(summary)
    derived = {f: (theirs.get(f), mine[f]) for f, _ in _DERIVED if theirs.get(f) != mine[f]}
    config = config_differences(theirs.get("config", {}), mine["config"])
    if theirs.get("id") != mine["id"]:
        raise EnvMismatchError(
            f"{what} was made for env id {theirs.get('id')!r}, but the env id is {mine['id']!r}",
            {"id": (theirs.get("id"), mine["id"]), **config, **derived},
        )
    if theirs.get("version") != mine["version"]:
        extra = (
            f"; its rules config also differs: {_assignments(config, 0)} vs {_assignments(config, 1)}"
            if config
            else ""
        )
        raise EnvMismatchError(
            f"{what} was made for {mine['id']} version {theirs.get('version')!r}, but this htjax has "
            f"{mine['id']} version {mine['version']!r} (the rules or the observation changed since; retrain the "
            f"policy, or use the htjax release it was made with){extra}",
            {"version": (theirs.get("version"), mine["version"]), **config, **derived},
        )
    if config:
        consequence = ""
        shown = [(f, label) for f, label in _DERIVED if f in derived and f != "observation_layout_hash"]
        if shown:
            consequence = (
                " (so its "
                + ", ".join(
                    f"{label} {derived[f][0]!r} differs from the env's {derived[f][1]!r}"
                    for f, label in shown
                )
                + ")"
            )
        raise EnvMismatchError(
            f"{what} was trained on other {mine['id']} rules (rules config differs in {list(config)}): trained "
            f"with {_assignments(config, 0)}, but the env has {_assignments(config, 1)}{consequence}; {advice}",
            {**config, **derived},
        )
    for field, label in _DERIVED:
        if field in derived:
            raise EnvMismatchError(
                f"{what} was made for {label} {derived[field][0]!r}, but the env has {derived[field][1]!r} "
                f"(env {mine['id']} {mine['version']}, same rules config: the observation layout changed "
                f"without a version change)",
                derived,
            )


def env_from_summary(summary: dict[str, Any]) -> Env:
    """Rebuild the env a checkpoint or ONNX policy was made for (from the registry), and check
    that it still matches the recorded summary (:func:`check_env_matches`)."""
    from htjax.envs import make

    config = {k: tuple(v) if isinstance(v, list) else v for k, v in summary.get("config", {}).items()}
    env = make(summary["id"], **config)
    check_env_matches(summary, env, "the file")
    return env
