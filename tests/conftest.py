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

_CACHE = pathlib.Path(
    os.environ.get("HTJAX_TEST_JAX_CACHE", pathlib.Path(__file__).resolve().parent.parent / ".jax_cache")
)
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

# Rich sizes tables and panels to the terminal: pin the width (also for the CLI subprocesses the
# tests start), so what a test reads does not depend on the terminal it was started from.
os.environ["COLUMNS"] = "80"
os.environ.pop("LINES", None)


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


_SPREAD = ("test_contract", "test_docs", "test_distributed")
"""Modules of independent, long tests that share nothing: each test is its own xdist work unit,
so these fill the two workers evenly at the end of a run."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist turns the marks into ``nodeid@group``
def pytest_collection_modifyitems(config, items):
    """Keep the tests of one module on one pytest-xdist worker (``xdist_group(<module>)``).

    ``--dist loadgroup`` (pyproject's addopts) hands out each ungrouped test on its own, so the
    tests of one module alternated between the two workers and both built the module's fixtures
    (recordings, trained policies) and compiled its programs (helpers cached per env, and the
    persistent cache does not help two workers compiling the same program at the same time).
    The modules in ``_SPREAD`` stay spread test by test, except tests that use one of their
    module-scoped fixtures. Explicit ``xdist_group`` marks are kept.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        if item.path.stem in _SPREAD and not _uses_module_fixture(item):
            continue
        item.add_marker(pytest.mark.xdist_group(item.path.stem))


def _uses_module_fixture(item) -> bool:
    """Whether ``item`` uses a module-scoped fixture (autouse set-up such as a registry patch
    does not count)."""
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(
        defs and defs[-1].scope == "module" and not getattr(defs[-1], "_autouse", False)
        for defs in info.name2fixturedefs.values()
    )


# --------------------------------------------------------------------------- Node packages
ROOT = pathlib.Path(__file__).resolve().parent.parent
NODE_INSTALL_HINT = (
    "the JavaScript interop tests need Node.js >= 18 with npm (Debian/Ubuntu: `apt-get install nodejs npm`; "
    "elsewhere https://nodejs.org); the test run then installs the Node packages itself (`npm ci`)"
)


def _node_modules_current(root: pathlib.Path) -> bool:
    """Whether ``node_modules`` holds every package of ``package-lock.json`` at the locked version
    (npm records what it installed in ``node_modules/.package-lock.json``)."""
    import json

    installed = root / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        return False
    locked = json.loads((root / "package-lock.json").read_text())["packages"]
    have = json.loads(installed.read_text()).get("packages", {})
    return all(
        have.get(path, {}).get("version") == entry.get("version")
        for path, entry in locked.items()
        if path and not entry.get("optional")
    )


@pytest.fixture(scope="session")
def node_modules() -> pathlib.Path:
    """The repository's ``node_modules``, installed from ``package-lock.json`` by ``npm ci`` when it is
    missing or stale, so the README's test command is the whole set-up.

    Every pytest process (pytest-xdist workers, concurrent runs) takes one file lock per checkout:
    the first installs, the others wait and then find the packages in place.
    Fails (never skips) naming what to install when Node.js or npm is absent.
    """
    import hashlib
    import shutil
    import subprocess
    import tempfile

    from filelock import FileLock

    target = ROOT / "node_modules"
    if _node_modules_current(ROOT):
        return target
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(f"{'node' if node is None else 'npm'} is not installed: {NODE_INSTALL_HINT}")
    if target.is_symlink():
        pytest.fail(f"{target} links to Node packages that differ from package-lock.json: run `npm ci` there")
    command = [npm, "ci", "--no-audit", "--no-fund"]
    checkout = hashlib.sha1(bytes(ROOT)).hexdigest()[:12]
    with FileLock(str(pathlib.Path(tempfile.gettempdir()) / f"htjax-npm-ci-{checkout}.lock")):
        if not _node_modules_current(ROOT):
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                output = (done.stdout[-2000:] + done.stderr[-4000:]).strip()
                pytest.fail(
                    f"`npm ci --no-audit --no-fund` in {ROOT} failed (exit {done.returncode}):\n{output}"
                )
    if not _node_modules_current(ROOT):
        pytest.fail(f"`npm ci` in {ROOT} left node_modules out of step with package-lock.json")
    return target
