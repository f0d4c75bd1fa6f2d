"""Checkpoints: network parameters in a ``.npz`` plus a JSON header saying what they are for.

File layout (``numpy.savez``, written atomically: a temporary file renamed over the target):

* ``header.json``: ``uint8[n]`` UTF-8 JSON, the header (below);
* ``params/actor/0/w``, ``params/actor/0/b``, ..., ``params/critic/k/b``: ``float32`` arrays
  of the network (see :mod:`htjax.train.networks`);
* in checkpoints written by :func:`htjax.train.run.train`, also ``state/00000``, ...: the whole
  run state a run resumes from (see :mod:`htjax.train.resume`).

Header fields: ``format`` (``"htjax-checkpoint-1"``), ``env`` (:func:`htjax.core.env.describe`
of the env: id, version, sizes, observation shape and dtype, action labels, config),
``observation_layout_hash``, ``network`` (a :class:`~htjax.train.networks.NetworkSpec`),
``ppo`` (the :class:`~htjax.train.ppo.PPOConfig`), ``training`` (``command``, ``env_steps``,
``updates``, ``seed``, opponents), optional ``metrics`` and, for resumable checkpoints,
``resume``.

:func:`load_checkpoint` refuses a file made for another env, naming the cause (env id, env
version, or the rules config fields that differ: :func:`htjax.train.envmatch.check_env_matches`),
and raises :class:`CheckpointError` for a file that is not an htjax checkpoint, saying what it
is when it can tell (:func:`read_checkpoint_file`); it never loads pickles.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import zipfile
from typing import Any

import jax
import numpy as np

from htjax.core.env import Env
from htjax.train.envmatch import (
    check_env_matches,
    env_from_summary,
    env_summary,
    json_default,
    observation_layout_hash,
)
from htjax.train.errors import CheckpointError, EnvMismatchError, OutputPathError
from htjax.train.networks import NetworkSpec
from htjax.train.paths import atomic_write

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
    "read_checkpoint_file",
    "env_from_summary",
    "file_sha256",
]

FORMAT = "htjax-checkpoint-1"
_json_default = json_default  # the old private name, kept for callers


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
    extra_header: dict[str, Any] | None = None,
    extra_arrays: dict[str, np.ndarray] | None = None,
) -> pathlib.Path:
    """Write ``params`` and a header to ``path`` (a ``.npz``) atomically; returns the path.

    ``extra_header`` adds top-level header sections and ``extra_arrays`` more entries (the
    training state a run resumes from, see :mod:`htjax.train.resume`). The file is written to a
    temporary name in the same folder and renamed over ``path``, so it is never half-written;
    missing parent folders are created.

    Raises:
      OutputPathError: ``path`` does not end in ``.npz`` or cannot be written.
    """
    path = pathlib.Path(path)
    if path.suffix != ".npz":
        raise OutputPathError(f"checkpoint path must end in .npz, got {str(path)!r}")
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
        **(extra_header or {}),
    }
    arrays = {**_flatten_params(params), **(extra_arrays or {})}
    blob = json.dumps(header, sort_keys=True, default=json_default).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: np.savez(f, **{"header.json": np.frombuffer(blob, np.uint8)}, **arrays))
    except OSError as err:
        raise OutputPathError(f"cannot write the checkpoint {str(path)!r}: {err.strerror or err}") from err
    return path


def _what_it_is(data: bytes, path: pathlib.Path) -> str:
    """A short description of a file that is not a zip archive."""
    head = data[:16]
    if not data:
        return "the file is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single NumPy array (.npy), not an .npz archive"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "it is a Python pickle; htjax never loads pickles"
    if path.suffix == ".onnx" or b"htjax-onnx-policy" in data:
        return "it looks like an ONNX model (what `htjax export` writes), not a checkpoint"
    stripped = data.lstrip()[:1]
    if stripped in (b"{", b"["):
        return "it is a JSON or text file, not an .npz archive"
    try:
        data[:256].decode("utf-8")
        return "it is a text file, not an .npz archive"
    except UnicodeDecodeError:
        return f"it is not a zip/.npz archive (it starts with the bytes {head[:8].hex(' ')})"


def read_checkpoint_file(path: str | pathlib.Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the arrays of an htjax checkpoint file (no checks on the network).

    Raises:
      CheckpointError: the file is missing, not an ``.npz`` archive, an archive without an htjax
        header, a damaged archive, or a checkpoint of an unknown format version; the message says
        which.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise CheckpointError(f"{str(path)!r} is a directory, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {str(path)!r}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read {str(path)!r}: {err.strerror or err}") from err
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise CheckpointError(f"{path} is not an htjax checkpoint: {_what_it_is(data, path)}")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            names = list(npz.files)
            for name in names:
                try:
                    arrays[name] = np.asarray(npz[name])
                except ValueError as err:  # an object array: numpy would need pickles
                    raise CheckpointError(
                        f"{path} is not an htjax checkpoint: its entry {name!r} holds Python objects"
                    ) from err
    except CheckpointError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise CheckpointError(f"{path} is a damaged zip/.npz archive (truncated or corrupt?): {err}") from err
    if "header.json" not in arrays:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise CheckpointError(
            f"{path} is not an htjax checkpoint: an .npz archive without the htjax header "
            f"(header.json); it holds {len(names)} entries ({shown or 'none'})"
        )
    try:
        header = json.loads(arrays.pop("header.json").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: its header.json is damaged (not valid JSON: {err})") from err
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: its header.json is not a JSON object; not an htjax checkpoint")
    fmt = header.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("htjax-checkpoint-"):
            raise CheckpointError(
                f"{path} is an htjax checkpoint of format {fmt!r}, which this htjax cannot read (it reads {FORMAT!r}); "
                f"use the htjax release that wrote it"
            )
        raise CheckpointError(
            f"{path} is not an htjax checkpoint: header format {fmt!r}, expected {FORMAT!r}"
        )
    missing = [k for k in ("env", "network") if not isinstance(header.get(k), dict)]
    if missing:
        raise CheckpointError(f"{path}: its header lacks the field(s) {missing}; the checkpoint is damaged")
    return header, arrays


def load_checkpoint(path: str | pathlib.Path, env: Env | None = None) -> Checkpoint:
    """Read a checkpoint; with ``env``, refuse one made for another env or observation layout.

    Raises:
      CheckpointError: the file is missing, unreadable or not an htjax checkpoint (the message
        says what the file is when it can tell: empty, a pickle, an ``.npy``, an ONNX model, a
        zip without the htjax header, another format version).
      EnvMismatchError: ``env`` differs from the checkpoint's env (the message names the cause:
        the env id, version or the rules config fields that differ).
    """
    path = pathlib.Path(path)
    header, arrays = read_checkpoint_file(path)
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
            raise CheckpointError(
                f"{name} has {0 if layers is None else len(layers)} layers, expected {len(dims) - 1}"
            )
        for i, layer in enumerate(layers):
            if layer["w"].shape != (dims[i], dims[i + 1]) or layer["b"].shape != (dims[i + 1],):
                raise CheckpointError(
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
