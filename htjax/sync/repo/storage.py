"""A folder of documents, one file each, written atomically so a killed process loses nothing.

Layout: ``<folder>/<base58check id>.automerge`` holds the full save of one document. Every
write goes to ``<name>.tmp`` first and is moved into place with :func:`os.replace`, so a file is
always either the old or the new complete document. Leftover ``*.tmp`` files (a process killed
mid-write) are removed at start. Writes are flushed to the OS on every change (they survive the
process being killed); ``durable=True`` also ``fsync``\\ s each file (they survive a power cut).
"""

from __future__ import annotations

import os
import pathlib
from typing import Iterator

import automerge.core as am

from htjax.sync.errors import _is_binding_failure
from htjax.sync.repo.errors import CorruptStorageError
from htjax.sync.repo.ids import b58check_decode

__all__ = ["FolderStorage"]

_SUFFIX = ".automerge"


class FolderStorage:
    """Documents kept in ``folder`` (created if missing).

    Args:
      folder: the storage folder.
      durable: ``fsync`` every written file and the folder (slower; default off).
    """

    def __init__(self, folder: str | os.PathLike, *, durable: bool = False):
        self.folder = pathlib.Path(folder)
        self.durable = durable
        if self.folder.exists() and not self.folder.is_dir():
            raise CorruptStorageError(f"the storage path {self.folder} exists and is not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        for tmp in self.folder.glob("*.tmp"):
            tmp.unlink()

    def path(self, wire_id: str) -> pathlib.Path:
        """The file of the document with this bare base58check id."""
        return self.folder / f"{wire_id}{_SUFFIX}"

    def ids(self) -> list[str]:
        """The bare ids of every stored document (sorted)."""
        return sorted(p.name[: -len(_SUFFIX)] for p in self.folder.glob(f"*{_SUFFIX}"))

    def load(self, wire_id: str) -> am.Document | None:
        """The stored document, or None when there is no file.

        Raises:
          CorruptStorageError: the file is not a loadable Automerge document (names the file).
        """
        path = self.path(wire_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return _load_bytes(path, data)

    def load_all(self) -> Iterator[tuple[str, am.Document]]:
        """Every stored document as ``(wire id, document)``; raises :class:`CorruptStorageError`."""
        for wire_id in self.ids():
            path = self.path(wire_id)
            try:
                b58check_decode(wire_id)
            except ValueError as err:
                raise CorruptStorageError(
                    f"{path}: the file name is not an automerge document id ({err}); "
                    "move the file out of the storage folder"
                ) from None
            yield wire_id, _load_bytes(path, path.read_bytes())

    def save(self, wire_id: str, data: bytes) -> None:
        """Write one document's saved bytes atomically (tmp file + ``os.replace``)."""
        path = self.path(wire_id)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            if self.durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if self.durable:
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _load_bytes(path: pathlib.Path, data: bytes) -> am.Document:
    if not data:
        raise CorruptStorageError(f"{path}: the file is empty, not an Automerge document")
    try:
        return am.Document.load(data)
    except BaseException as exc:  # noqa: BLE001 - PanicException derives from BaseException
        if not _is_binding_failure(exc):
            raise
        raise CorruptStorageError(
            f"{path}: not a loadable Automerge document ({exc}); move the file out of the storage folder "
            "or restore it from a backup"
        ) from None
