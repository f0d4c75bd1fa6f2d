"""Errors of the sync layer, and the guard around every call into the Automerge binding.

The Rust binding reports a Rust panic as ``pyo3_runtime.PanicException``, which derives from
``BaseException`` (not ``Exception``), and other failures as a bare ``Exception``. Every call
into the binding that reads or loads a document goes through :func:`binding_guard`, which
re-raises both as :class:`CorruptDocumentError`, so callers only ever see ``SyncError``\\ s.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from htjax.core.env import HtjaxError

__all__ = [
    "SyncError",
    "CorruptDocumentError",
    "SchemaVersionError",
    "DocumentEnvError",
    "ReplayMismatchError",
    "RecordError",
    "LogAppendError",
    "MergeError",
    "EpisodeMismatchError",
    "KeyNotRevealedError",
    "DealingError",
    "LiveGameError",
    "binding_guard",
]


class SyncError(HtjaxError):
    """Base class of every error raised by :mod:`htjax.sync`."""


class CorruptDocumentError(SyncError):
    """The bytes are not a readable Automerge document, or a field has the wrong type or is missing."""


class SchemaVersionError(SyncError):
    """The document is not an htjax episode, or uses a schema version this htjax cannot read."""


class DocumentEnvError(SyncError):
    """The document names an unknown env id, another env version, or a config that fails validation."""


class ReplayMismatchError(SyncError):
    """Re-executing the log does not reproduce the recording.

    Attributes:
      step: the step (number of actions applied) at which the mismatch was found.
      field: the first differing state field (a pytree path such as ``"deck.cards"``), or
        ``"log"`` (the log does not reach the step) or ``"outcome.<name>"``.
    """

    def __init__(self, message: str, *, step: int, field: str):
        super().__init__(message)
        self.step = step
        self.field = field


class RecordError(SyncError):
    """A trajectory cannot be recorded faithfully (bad worlds, missing episode start, illegal action)."""


class LogAppendError(SyncError):
    """A live append was refused: wrong seat, illegal action, or the episode is over."""


class MergeError(SyncError):
    """A merge was refused because it would lose or hide an episode's entries.

    Raised for documents with no common history (recorded separately: Automerge would keep one
    of the two logs and hide the other) and for a merge that would delete log entries of the
    receiving document. Nothing is changed when it is raised.
    """


class EpisodeMismatchError(MergeError):
    """A merge was refused because the other document is of another episode.

    Attributes:
      differences: what differs, e.g. ``("env.id", "env.config.max_draws", "episode.key")``.
    """

    def __init__(self, message: str, *, differences: tuple[str, ...]):
        super().__init__(message)
        self.differences = differences


class KeyNotRevealedError(SyncError):
    """A live game's episode key is not agreed (open mode) or revealed (dealer mode) yet."""


class DealingError(SyncError):
    """A live game's dealing does not verify: a reveal that does not match its commitment, an
    episode key that is not the one derived from the shares, or a dealer whose private
    observations differ from the key's deal. The message names the seat or dealer and step."""


class LiveGameError(SyncError):
    """A live game cannot go on: a seat already held by another peer, a document of another env
    or not a live game, or no progress before the time limit (the message says what it waited for)."""


def _is_binding_failure(exc: BaseException) -> bool:
    # PanicException lives in the dynamically created ``pyo3_runtime`` module: match by name.
    return type(exc).__name__ == "PanicException" or type(exc) is Exception


@contextlib.contextmanager
def binding_guard(what: str) -> Iterator[None]:
    """Re-raise failures of the Automerge binding inside the block as :class:`CorruptDocumentError`."""
    try:
        yield
    except SyncError:
        raise
    except BaseException as exc:  # noqa: BLE001 - PanicException derives from BaseException
        if not _is_binding_failure(exc):
            raise
        raise CorruptDocumentError(f"{what}: the Automerge binding failed: {exc}") from exc
