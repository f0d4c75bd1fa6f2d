"""Traced programs kept on disk, so that a small command does not trace an env again.

JAX's persistent compilation cache (turned on by the CLI, see :func:`htjax.console.enable_compile_cache`)
saves XLA's compiling, but every run still *traces* the Python rules into a program first: for
blackjack's replay that is 1.9 s of a warm run's 3 s. With :func:`enable` (the CLI calls it
beside the compilation cache), :func:`jit` saves the traced program of a function (StableHLO,
``jax.export``) the first time it runs for given argument shapes, and later runs load it
instead of tracing; XLA's compiling then comes from the persistent cache. Without
:func:`enable`, :func:`jit` is ``jax.jit``.

:func:`eval_shape` does the same for ``jax.eval_shape`` (the state's structure, which a replay
needs before it runs anything): an abstract trace of ``env.init`` costs about 0.15 s per call.

Compiled executables themselves (``jax.experimental.serialize_executable``) would load faster
still, but a reloaded XLA:CPU executable failed here with ``NOT_FOUND: Function
iota_bitcast_fusion not found``, so only the portable traced program is kept.

An executable is found again only for the same function name, env (id, version, config),
argument shapes and dtypes, JAX version, machine (backend, device and CPU model) and htjax
source: the key hashes the content of every htjax module and of the env's own module, so a
changed rule never runs an old program.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import pathlib
import pickle
from typing import Any, Callable

import jax
import numpy as np

__all__ = ["enable", "disable", "jit", "eval_shape", "folder"]

_FOLDER: pathlib.Path | None = None


def enable(path: str | os.PathLike) -> None:
    """Save and load traced programs in ``path`` (created if missing)."""
    global _FOLDER
    folder_ = pathlib.Path(path)
    folder_.mkdir(parents=True, exist_ok=True)
    _FOLDER = folder_


def disable() -> None:
    global _FOLDER
    _FOLDER = None


def folder() -> pathlib.Path | None:
    """The folder in use, or ``None`` when off."""
    return _FOLDER


@functools.lru_cache(maxsize=None)
def _source_digest(extra_file: str | None) -> str:
    root = pathlib.Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    if extra_file and not extra_file.startswith(str(root)):
        try:
            h.update(pathlib.Path(extra_file).read_bytes())
        except OSError:
            h.update(b"?")
    return h.hexdigest()


def _env_key(env: Any) -> dict:
    if env is None:
        return {}
    try:
        source = inspect.getsourcefile(type(env))
    except TypeError:
        source = None
    return {
        "env": env.id,
        "version": env.version,
        "config": json.dumps(env.config.to_dict(), sort_keys=True, default=str),
        "source": _source_digest(source),
    }


def jit(fn: Callable, *, name: str, env: Any = None, out_tree: Callable[[Any], Any]) -> Callable:
    """``jax.jit(fn)`` whose traced program is kept on disk while the cache is on (see the module).

    Args:
      fn: a function of arrays and pytrees of arrays.
      name: a name unique among the cached functions of ``env``.
      env: the env whose rules ``fn`` runs (part of the key).
      out_tree: ``out_tree(args) -> PyTreeDef`` of ``fn``'s result, found without tracing
        ``fn`` (e.g. the structure of an input, or of ``jax.eval_shape(env.init, key)``).
    """
    jitted = jax.jit(fn)
    programs: dict[Any, Callable] = {}

    def call(*args):
        if _FOLDER is None:
            return jitted(*args)
        leaves, in_tree = jax.tree_util.tree_flatten(args)
        avals = tuple((tuple(np.shape(x)), str(jax.numpy.result_type(x))) for x in leaves)
        sig = (in_tree, avals)
        run = programs.get(sig)
        if run is None:
            run = programs[sig] = _program(fn, name, env, in_tree, leaves)
        return jax.tree_util.tree_unflatten(out_tree(args), run(*leaves))

    return call


_SHAPES: dict[str, Any] = {}


def eval_shape(fn: Callable, *specs: jax.ShapeDtypeStruct, name: str, env: Any = None) -> Any:
    """``jax.eval_shape(fn, *specs)``, remembered in memory and, while the cache is on, on disk.

    The result (a pytree of ``jax.ShapeDtypeStruct``) is pickled under a key made like
    :func:`jit`'s (name, env, argument shapes, JAX version, htjax source); a damaged file is
    computed again.
    """
    key = json.dumps(
        {
            "name": name,
            **_env_key(env),
            "jax": jax.__version__,
            "avals": [(tuple(s.shape), str(s.dtype)) for s in specs],
        },
        default=str,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    if digest in _SHAPES:
        return _SHAPES[digest]
    path = None if _FOLDER is None else _FOLDER / f"{name}-{digest}.shape.pickle"
    result = None
    if path is not None and path.is_file():
        try:  # the user's own cache folder, written only by this function (like JAX's own cache)
            result = pickle.loads(path.read_bytes())
        except Exception:  # noqa: BLE001 - a damaged or foreign file: evaluate again
            result = None
    if result is None:
        result = jax.eval_shape(fn, *specs)
        if path is not None:
            try:
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_bytes(pickle.dumps(result))
                os.replace(tmp, path)
            except (OSError, pickle.PicklingError, TypeError, AttributeError):
                pass  # unpicklable or read-only: the next run evaluates again
    _SHAPES[digest] = result
    return result


@functools.lru_cache(maxsize=None)
def _machine() -> str:
    """The backend and CPU model (part of the key: programs are lowered for one backend)."""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    d = jax.devices()[0]
    return f"{d.platform}/{d.device_kind}/{jax.device_count()}/{cpu}/{os.uname().machine}"


def _program(fn, name, env, in_tree, leaves) -> Callable:
    key = json.dumps(
        {
            "name": name,
            **_env_key(env),
            "in_tree": str(in_tree),
            "jax": jax.__version__,
            "machine": _machine(),
            "avals": [(np.shape(x), str(jax.numpy.result_type(x))) for x in leaves],
        },
        default=str,
    )
    path = _FOLDER / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.jaxexport"
    exported = None
    if path.is_file():
        try:
            exported = jax.export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # noqa: BLE001 - a damaged or foreign file: trace again
            exported = None
    if exported is None:

        def flat(*xs):
            return jax.tree_util.tree_leaves(fn(*jax.tree_util.tree_unflatten(in_tree, list(xs))))

        specs = [jax.ShapeDtypeStruct(np.shape(x), jax.numpy.result_type(x)) for x in leaves]
        exported = jax.export.export(jax.jit(flat))(*specs)
        try:
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(exported.serialize())
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs the next run its tracing
    return jax.jit(exported.call)
