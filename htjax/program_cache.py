"""Traced programs kept on disk, so that a small command does not trace an env again.

JAX's persistent compilation cache (turned on by the CLI, see :func:`htjax.console.enable_compile_cache`)
saves XLA's compiling, but every run still *traces* the Python rules into a program and lowers
it first: for blackjack's replay that takes 2-3 s (1.9 s tracing, 0.5 s lowering, 0.7 s loading
the cached executable), more than a four-step replay needs in all. With :func:`enable` (the CLI
calls it beside the compilation cache), :func:`jit` compiles a function once per argument
shapes and saves the compiled executable (``jax.experimental.serialize_executable``); later runs
load it (0.3-0.6 s) with no tracing, lowering or cache lookup. Without :func:`enable`,
:func:`jit` is ``jax.jit``.

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
from jax.experimental import serialize_executable

__all__ = ["enable", "disable", "jit", "folder"]

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
    return {"env": env.id, "version": env.version, "config": json.dumps(env.config.to_dict(), sort_keys=True, default=str),
            "source": _source_digest(source)}


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


@functools.lru_cache(maxsize=None)
def _machine() -> str:
    """The backend and CPU model: a compiled program only loads where it was compiled."""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    d = jax.devices()[0]
    return f"{d.platform}/{d.device_kind}/{jax.device_count()}/{cpu}/{os.uname().machine}"


def _program(fn, name, env, in_tree, leaves) -> Callable:
    key = json.dumps({"name": name, **_env_key(env), "in_tree": str(in_tree), "jax": jax.__version__,
                      "machine": _machine(),
                      "avals": [(np.shape(x), str(jax.numpy.result_type(x))) for x in leaves]}, default=str)
    path = _FOLDER / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.xla"
    if path.is_file():
        try:
            payload, flat_in, flat_out = pickle.loads(path.read_bytes())
            return serialize_executable.deserialize_and_load(payload, flat_in, flat_out)
        except Exception:  # noqa: BLE001 - a damaged or foreign file: compile again
            pass

    def flat(*xs):
        return jax.tree_util.tree_leaves(fn(*jax.tree_util.tree_unflatten(in_tree, list(xs))))

    specs = [jax.ShapeDtypeStruct(np.shape(x), jax.numpy.result_type(x)) for x in leaves]
    compiled = jax.jit(flat).lower(*specs).compile()
    try:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(pickle.dumps(serialize_executable.serialize(compiled)))
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - a read-only cache, or a backend that cannot serialize: next run compiles
        pass
    return compiled
