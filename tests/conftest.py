"""Shared test set-up: the persistent compilation cache and small shared fixtures.

JAX compile time dominates this suite, so jitted functions are built once per module
(module-scoped fixtures) and compiled executables are cached on disk between runs.
"""

from __future__ import annotations

import os
import pathlib
import sys

import jax
import pytest

_CACHE = pathlib.Path(os.environ.get("HTJAX_TEST_JAX_CACHE", pathlib.Path(__file__).resolve().parent.parent / ".jax_cache"))
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def _mapped_regions() -> int:
    try:
        with open("/proc/self/maps") as maps:
            return sum(1 for _ in maps)
    except OSError:  # not Linux
        return -1



@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's in-memory executables after each test module.

    Every XLA:CPU executable maps its own code pages; a serial run of the whole suite loads
    thousands and would pass Linux's default ``vm.max_map_count`` (65,530), after which loading
    one more executable aborts the process. Clearing per module keeps the count small; the
    persistent cache on disk still saves the compile time across modules.
    """
    yield
    jax.clear_caches()
    if os.environ.get("HTJAX_TEST_LOG_MAPS"):
        with open(os.environ["HTJAX_TEST_LOG_MAPS"], "a") as log:
            log.write(f"{_mapped_regions()}\n")
