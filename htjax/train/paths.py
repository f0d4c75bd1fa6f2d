"""Output paths of training and export: checked before any work starts, written atomically.

:func:`prepare_output_path` is what ``htjax train`` and ``htjax export`` run first. The rules:

* the path must end in the file kind's suffix (``.npz`` checkpoints, ``.onnx`` policies);
* it must not be a directory;
* missing parent folders are created (like ``mkdir -p``); a parent that is a file is refused;
* the folder must accept a new file (a probe file is created and removed, so read-only
  folders and file systems are refused before training, not after it);
* an existing file (or one of its companion files, e.g. the metrics beside a checkpoint) is
  refused unless ``overwrite`` is set, or it is the ``own`` file (the checkpoint a run resumes).

:func:`atomic_write` writes through a temporary file in the same folder and renames it over
the target (``os.replace``), so a reader (or a Ctrl-C) never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from collections.abc import Callable, Iterable
from typing import IO

from htjax.train.errors import OutputPathError

__all__ = ["prepare_output_path", "atomic_write"]


def prepare_output_path(
    path: str | os.PathLike,
    *,
    suffix: str,
    what: str,
    overwrite: bool,
    companions: Iterable[str | os.PathLike] = (),
    own: str | os.PathLike | None = None,
    hint: str = "pass --overwrite to replace it",
) -> pathlib.Path:
    """Check that ``path`` can be written (see the module docstring) and create its folder.

    Args:
      path: the file to write.
      suffix: required suffix (``".npz"``).
      what: how messages name the file (``"checkpoint"``).
      overwrite: allow replacing existing files.
      companions: other files the output writes beside ``path`` (checked the same way).
      own: a file that may be replaced without ``overwrite`` (the checkpoint being resumed).
      hint: what an "already exists" message suggests.

    Returns:
      ``path`` as a :class:`pathlib.Path`.

    Raises:
      OutputPathError: naming the path and what is wrong with it.
    """
    p = pathlib.Path(path).expanduser()
    if p.suffix != suffix:
        raise OutputPathError(f"{what} path must end in {suffix}, got {str(p)!r}")
    if p.is_dir():
        raise OutputPathError(f"{what} path {str(p)!r} is a directory; give a file path ending in {suffix}")
    folder = p.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(
            f"cannot create the folder of {what} path {str(p)!r}: {str(existing)!r} is a file"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".htjax-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputPathError(f"cannot write the {what} into {str(folder)!r}: {err.strerror or err}") from err
    own_resolved = pathlib.Path(own).expanduser().resolve() if own is not None else None
    for f in (p, *map(pathlib.Path, companions)):
        if f.is_dir():
            raise OutputPathError(f"{str(f)!r} (written beside the {what}) is a directory")
        if (
            f.exists()
            and not overwrite
            and f.resolve() != own_resolved
            and not _companion_of(f, own_resolved, p)
        ):
            raise OutputPathError(f"{str(f)!r} already exists; {hint}")
    return p


def _companion_of(f: pathlib.Path, own: pathlib.Path | None, p: pathlib.Path) -> bool:
    # the metrics beside the resumed checkpoint belong to the same run when it is resumed in place
    return own is not None and p.resolve() == own and f != p


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> pathlib.Path:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk, then rename it
    over ``path``; on any error the temporary file is removed and ``path`` is left as it was."""
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
