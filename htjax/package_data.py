"""Files shipped inside the package (package data): the trained policies, and later web assets.

A data folder is a sub-package (a folder with an ``__init__.py``) whose other files the wheel
carries as they are; nothing reads them through the repository layout, so they load the same
from a clone, an editable install, an installed wheel or a zipped package::

    package_data.names("htjax.policies", ".onnx")     # ("blackjack", "holdem", "ipd")
    package_data.path("htjax.policies", "ipd.onnx")   # pathlib.Path of a real file

Reading goes through :mod:`importlib.resources`. Where the package does not live on the file
system (a zip import), :func:`path` extracts the file once to a temporary file that is removed
when the interpreter exits, so callers that need a real path (onnxruntime, a browser page
served from disk) work the same everywhere.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import pathlib
from importlib.resources.abc import Traversable

__all__ = ["files", "names", "path"]

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)
_paths: dict[tuple[str, str], pathlib.Path] = {}


def files(package: str) -> Traversable:
    """The data folder of ``package`` (an importable package name such as ``"htjax.policies"``)."""
    return importlib.resources.files(package)


def names(package: str, suffix: str) -> tuple[str, ...]:
    """Sorted stems of the files in ``package`` whose name ends in ``suffix`` (e.g. ``".onnx"``)."""
    found = (e.name for e in files(package).iterdir() if e.is_file())
    return tuple(sorted(name[: -len(suffix)] for name in found if name.endswith(suffix)))


def path(package: str, name: str) -> pathlib.Path:
    """A real file-system path of the file ``name`` in ``package``'s data folder.

    Raises:
      FileNotFoundError: ``package`` holds no file ``name``.
    """
    key = (package, name)
    if key not in _paths:
        entry = files(package).joinpath(name)
        if not entry.is_file():
            raise FileNotFoundError(f"package {package!r} holds no file {name!r}")
        _paths[key] = pathlib.Path(_extracted.enter_context(importlib.resources.as_file(entry)))
    return _paths[key]
