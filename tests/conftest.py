"""Shared test set-up: the persistent compilation cache and small shared fixtures.

JAX compile time dominates this suite, so jitted functions are built once per module
(module-scoped fixtures) and compiled executables are cached on disk between runs.
"""

from __future__ import annotations

import os
import pathlib
import sys

import jax

_CACHE = pathlib.Path(os.environ.get("HTJAX_TEST_JAX_CACHE", pathlib.Path(__file__).resolve().parent.parent / ".jax_cache"))
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
