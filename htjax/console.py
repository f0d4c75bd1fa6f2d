"""Terminal helpers shared by the CLI and the modules it runs: progress bars, the compile
spinner, the persistent compilation cache, one-line errors and argument checks.

A module of its own so that :mod:`htjax.demo`, :mod:`htjax.bench`, :mod:`htjax.sync.commands` and
the training commands can use them without importing :mod:`htjax.cli` (which imports them).
:mod:`htjax.cli` re-exports the argument checks.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from typing import Iterator, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = [
    "progress_bar",
    "compiling",
    "error_console",
    "fail",
    "check_seed",
    "input_file",
    "output_file",
    "output_dir",
    "enable_compile_cache",
    "EXIT_USAGE",
    "EXIT_FAILED",
    "SEED_MAX",
]

EXIT_USAGE = 2
"""Exit status of a user error (bad arguments, paths, sizes): one ``error:`` line on stderr."""
EXIT_FAILED = 1
"""Exit status of a check that ran and failed, or of an internal error."""
SEED_MAX = 2**32 - 1
"""Seeds are integers in ``[0, 2**32)``: ``jax.random.PRNGKey(seed)`` and numpy's generators
take them as they are."""


def progress_bar(console: Console, *, transient: bool = False) -> Progress:
    """The house progress bar (description, bar, count, elapsed)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )


def error_console() -> Console:
    """A console on stderr (spinners and progress that must not mix with stdout's results)."""
    return Console(stderr=True, highlight=False)


@contextlib.contextmanager
def compiling(what: str, console: Console | None = None) -> Iterator[None]:
    """A spinner on stderr while ``what`` compiles (nothing is shown when stderr is not a
    terminal, so piped output stays clean). Compiled programs are cached on disk by the CLI
    (see ``docs/cli.md``), so the spinner is mostly seen on a first run."""
    console = console or error_console()
    with console.status(f"compiling {what} (cached for the next run)...", spinner="dots"):
        yield


# --------------------------------------------------------------------------- errors and checks
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with ``code``.

    The message is printed literally (brackets such as ``htjax[jax2onnx]`` are text, not rich
    markup) and never wrapped, whatever the terminal's width."""
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(
        f"[red]error:[/] {escape(_one_line(message))}", highlight=False
    )
    raise typer.Exit(code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def check_seed(seed: int, name: str = "--seed") -> int:
    """``seed`` if it is an int in ``[0, 2**32)``, else a :func:`fail`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        fail(f"{name} must be an integer in [0, 2**32), got {seed!r}")
    return seed


def _writable_dir(folder: pathlib.Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def input_file(path: str | os.PathLike, option: str, *, kind: str = "file") -> pathlib.Path:
    """``path`` if it is a readable file, else a :func:`fail` naming ``option`` and the problem."""
    p = pathlib.Path(path)
    if not p.exists():
        fail(f"{option}: no such {kind} {str(p)!r}")
    if p.is_dir():
        fail(f"{option}: {str(p)!r} is a directory, not a {kind}")
    if not os.access(p, os.R_OK):
        fail(f"{option}: cannot read {str(p)!r} (permission denied)")
    return p


def output_file(path: str | os.PathLike, option: str, *, overwrite: bool = True) -> pathlib.Path:
    """``path`` if a file can be written there (checked before any work), else a :func:`fail`.

    The folder must exist and be writable; ``path`` must not be a directory; an existing file is
    refused unless ``overwrite`` (the message names ``--force``)."""
    p = pathlib.Path(path)
    if p.is_dir():
        fail(f"{option}: {str(p)!r} is a directory; give a file name")
    parent = p.parent
    if not parent.exists():
        fail(f"{option}: the folder {str(parent)!r} does not exist")
    if not parent.is_dir():
        fail(f"{option}: {str(parent)!r} is not a folder")
    if p.exists() and not overwrite:
        fail(f"{option}: {str(p)!r} exists already (pass --force to overwrite it)")
    if not _writable_dir(parent) or (p.exists() and not os.access(p, os.W_OK)):
        fail(f"{option}: cannot write to {str(p)!r} (permission denied or read-only)")
    return p


def output_dir(path: str | os.PathLike, option: str) -> pathlib.Path:
    """``path`` if it is (or can be created as) a writable folder, else a :func:`fail`."""
    p = pathlib.Path(path)
    if p.exists() and not p.is_dir():
        fail(f"{option}: {str(p)!r} exists and is not a folder")
    existing = p
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        fail(f"{option}: cannot create {str(p)!r}: {str(existing)!r} is not a folder")
    if not _writable_dir(existing):
        fail(f"{option}: cannot write to {str(existing)!r} (permission denied or read-only)")
    return p


def enable_compile_cache() -> pathlib.Path | None:
    """Turn on JAX's persistent compilation cache in ``$XDG_CACHE_HOME/htjax/jax`` (default
    ``~/.cache/htjax/jax``) and :mod:`htjax.program_cache` beside it (``.../htjax/programs``), unless ``HTJAX_NO_COMPILE_CACHE`` is set (to anything but ``0``) or a
    cache folder is configured already (``JAX_COMPILATION_CACHE_DIR``). Returns the folder in use,
    or ``None``. A folder that cannot be created leaves the cache off (nothing else changes)."""
    if os.environ.get("HTJAX_NO_COMPILE_CACHE", "0") not in ("", "0"):
        return None
    import jax

    configured = jax.config.jax_compilation_cache_dir
    if configured:
        return pathlib.Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = pathlib.Path(base) / "htjax" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    from htjax import program_cache

    program_cache.enable(folder.parent / "programs")  # traced programs too: see htjax.program_cache
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # small eager ops add up
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder
