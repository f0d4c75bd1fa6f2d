"""Checkpoints: network parameters in a ``.npz`` plus a JSON header saying what they are for.

File layout (``numpy.savez``):

* ``header.json``: ``uint8[n]`` UTF-8 JSON, the :func:`checkpoint_header` (below);
* ``params/actor/0/w``, ``params/actor/0/b``, ..., ``params/critic/k/b``: ``float32`` arrays
  of the network (see :mod:`htjax.train.networks`).

Header fields: ``format`` (``"htjax-checkpoint-1"``), ``env`` (:func:`htjax.core.env.describe`
of the env: id, version, sizes, observation shape and dtype, action labels, config),
``observation_layout_hash``, ``network`` (a :class:`~htjax.train.networks.NetworkSpec`),
``ppo`` (the :class:`~htjax.train.ppo.PPOConfig`), ``training`` (``command``, ``env_steps``,
``updates``, ``seed``, opponents) and optional ``metrics``.

:func:`load_checkpoint` refuses a file made for another env, env version, observation shape,
dtype or layout, naming the mismatch, and raises :class:`CheckpointError` for a file that is
not an htjax checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import zipfile
from typing import Any

import jax
import numpy as np

from htjax.core.env import Env, HtjaxError, describe
from htjax.train.networks import NetworkSpec

__all__ = [
    "FORMAT",
    "CheckpointError",
    "EnvMismatchError",
    "Checkpoint",
    "observation_layout_hash",
    "env_summary",
    "check_env_matches",
    "save_checkpoint",
    "load_checkpoint",
    "env_from_summary",
    "file_sha256",
]

FORMAT = "htjax-checkpoint-1"


class CheckpointError(HtjaxError, ValueError):
    """A checkpoint file is missing, corrupt or not an htjax checkpoint."""


class EnvMismatchError(HtjaxError, ValueError):
    """A checkpoint or ONNX policy was made for another env or observation layout."""


def env_summary(env: Env) -> dict[str, Any]:
    """:func:`~htjax.core.env.describe` of ``env`` plus its layout hash (plain JSON values)."""
    summary = describe(env)
    summary["observation_layout_hash"] = observation_layout_hash(env)
    return summary


def observation_layout_hash(env: Env) -> str:
    """Stable hex digest (sha256, 16 chars) of what an observation means for ``env``.

    Hashes the env id, version, observation shape and dtype, seat and action counts, action
    labels and the rules config (which sets normalisations and sizes), as canonical JSON; the
    same env always hashes the same on every machine.
    """
    d = describe(env)
    canonical = json.dumps(
        {k: d[k] for k in sorted(d)}, sort_keys=True, separators=(",", ":"), default=_json_default
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _json_default(value: Any):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {value!r}")


def check_env_matches(summary: dict[str, Any], env: Env, what: str) -> None:
    """Raise :class:`EnvMismatchError` naming the first difference between ``summary`` and ``env``."""
    mine = env_summary(env)
    for field, label in (
        ("id", "env id"),
        ("version", "env version"),
        ("observation_shape", "observation shape"),
        ("observation_dtype", "observation dtype"),
        ("num_actions", "number of actions"),
        ("action_labels", "action labels"),
        ("num_players", "number of seats"),
        ("observation_layout_hash", "observation layout hash"),
    ):
        theirs, ours = summary.get(field), mine[field]
        if theirs != ours:
            extra = ""
            if field == "observation_layout_hash":
                diff = sorted(
                    k
                    for k in set(summary.get("config", {})) | set(mine["config"])
                    if summary.get("config", {}).get(k) != mine["config"].get(k)
                )
                extra = f"; rules config differs in {diff}" if diff else ""
            raise EnvMismatchError(
                f"{what} was made for {label} {theirs!r}, but the env has {ours!r} "
                f"(env {mine['id']} {mine['version']}){extra}"
            )


def env_from_summary(summary: dict[str, Any]) -> Env:
    """Rebuild the env a checkpoint or ONNX policy was made for (from the registry)."""
    from htjax.envs import make

    env = make(summary["id"], **{k: tuple(v) if isinstance(v, list) else v for k, v in summary["config"].items()})
    check_env_matches(summary, env, "the file")
    return env


class Checkpoint:
    """A loaded checkpoint: ``params`` (pytree of ``jax.Array``), ``spec`` and the ``header`` dict."""

    def __init__(self, params, spec: NetworkSpec, header: dict[str, Any], path: pathlib.Path | None = None):
        self.params = params
        self.spec = spec
        self.header = header
        self.path = path

    @property
    def env_summary(self) -> dict[str, Any]:
        return self.header["env"]

    def make_env(self) -> Env:
        """The env this checkpoint was trained on."""
        return env_from_summary(self.env_summary)

    def __repr__(self) -> str:
        e = self.header["env"]
        t = self.header.get("training", {})
        return f"Checkpoint({e['id']} {e['version']}, {self.spec.hidden}, env_steps={t.get('env_steps')})"


def _flatten_params(params) -> dict[str, np.ndarray]:
    out = {}
    for name, layers in params.items():
        for i, layer in enumerate(layers):
            for k, v in layer.items():
                out[f"params/{name}/{i}/{k}"] = np.asarray(v, np.float32)
    return out


def _unflatten_params(arrays: dict[str, np.ndarray]):
    params: dict[str, list[dict[str, Any]]] = {}
    for key, value in arrays.items():
        _, name, index, leaf = key.split("/")
        layers = params.setdefault(name, [])
        i = int(index)
        while len(layers) <= i:
            layers.append({})
        layers[i][leaf] = jax.numpy.asarray(value)
    return params


def save_checkpoint(
    path: str | pathlib.Path,
    params,
    env: Env,
    spec: NetworkSpec,
    *,
    ppo_config: dict[str, Any] | None = None,
    command: str | None = None,
    env_steps: int = 0,
    updates: int = 0,
    seed: int | None = None,
    opponents: list[str] | None = None,
    metrics: dict[str, Any] | None = None,
) -> pathlib.Path:
    """Write ``params`` and a header to ``path`` (a ``.npz``); returns the path."""
    path = pathlib.Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"checkpoint path must end in .npz, got {str(path)!r}")
    header = {
        "format": FORMAT,
        "env": env_summary(env),
        "observation_layout_hash": observation_layout_hash(env),
        "network": spec.to_dict(),
        "ppo": ppo_config or {},
        "training": {
            "command": command,
            "env_steps": int(env_steps),
            "updates": int(updates),
            "seed": seed,
            "opponents": opponents or [],
        },
        "metrics": metrics or {},
    }
    arrays = _flatten_params(params)
    blob = json.dumps(header, sort_keys=True, default=_json_default).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{"header.json": np.frombuffer(blob, np.uint8)}, **arrays)
    return path


def load_checkpoint(path: str | pathlib.Path, env: Env | None = None) -> Checkpoint:
    """Read a checkpoint; with ``env``, refuse one made for another env or observation layout.

    Raises:
      CheckpointError: the file is missing, unreadable or not an htjax checkpoint.
      EnvMismatchError: ``env`` differs from the checkpoint's env (the message names the field).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise CheckpointError(f"{path}: not a readable .npz checkpoint ({err})") from err
    if "header.json" not in arrays:
        raise CheckpointError(f"{path}: no header.json entry; not an htjax checkpoint")
    try:
        header = json.loads(arrays.pop("header.json").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: header.json is not valid JSON ({err})") from err
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {header.get('format')!r} (expected {FORMAT!r})")
    try:
        spec = NetworkSpec.from_dict(header["network"])
        params = _unflatten_params({k: v for k, v in arrays.items() if k.startswith("params/")})
        _check_shapes(params, spec)
    except (KeyError, ValueError, TypeError) as err:
        raise CheckpointError(f"{path}: damaged network entries ({err})") from err
    if env is not None:
        check_env_matches(header["env"], env, f"checkpoint {path.name}")
    return Checkpoint(params, spec, header, path)


def _check_shapes(params, spec: NetworkSpec) -> None:
    sizes = [spec.obs_size, *spec.hidden]
    for name, out in (("actor", spec.num_actions), ("critic", 1)):
        dims = sizes + [out]
        layers = params.get(name)
        if layers is None or len(layers) != len(dims) - 1:
            raise ValueError(f"{name} has {0 if layers is None else len(layers)} layers, expected {len(dims) - 1}")
        for i, layer in enumerate(layers):
            if layer["w"].shape != (dims[i], dims[i + 1]) or layer["b"].shape != (dims[i + 1],):
                raise ValueError(
                    f"{name} layer {i} has shapes {layer['w'].shape}/{layer['b'].shape}, "
                    f"expected {(dims[i], dims[i + 1])}/{(dims[i + 1],)}"
                )


def file_sha256(path: str | pathlib.Path) -> str:
    """Hex sha256 of a file's bytes (model cards record it)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

