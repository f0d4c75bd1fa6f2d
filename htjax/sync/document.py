"""``EpisodeDoc``: one episode as an Automerge document, with files, copies and merges.

The document layout is defined in :mod:`htjax.sync.schema`; this module wraps an
``automerge.core.Document`` with typed accessors and turns every binding failure into a
:class:`~htjax.sync.errors.SyncError`.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Any

import automerge.core as am
from automerge.core import ROOT

from htjax.core.config import ConfigError
from htjax.core.env import Env, UnknownEnvError
from htjax.envs import env_class
from htjax.sync import schema
from htjax.sync.errors import CorruptDocumentError, DocumentEnvError, SyncError, binding_guard

__all__ = ["EpisodeDoc", "ChangeInfo", "save", "load", "FILE_SUFFIX"]

FILE_SUFFIX = ".automerge"


@dataclasses.dataclass(frozen=True)
class ChangeInfo:
    """One Automerge change of a document's history."""

    hash: str
    actor: str
    seq: int
    ops: int
    deps: tuple[str, ...]


class EpisodeDoc:
    """An episode document (see :mod:`htjax.sync.schema` for its fields).

    Build one with :func:`htjax.sync.record`, :class:`htjax.sync.Recorder` or :meth:`from_bytes`;
    the wrapped ``automerge.core.Document`` is :attr:`automerge`.
    """

    def __init__(self, doc: am.Document):
        self._doc = doc
        self.header: schema.Header = schema.read_header(doc)

    # ------------------------------------------------------------------ construction and bytes
    @classmethod
    def create(cls, header: schema.Header, *, actor_id: bytes | None = None) -> "EpisodeDoc":
        """A new document holding ``header`` and an empty log."""
        doc = am.Document(actor_id=actor_id) if actor_id is not None else am.Document()
        with doc.transaction() as tx:
            schema.write_header(tx, header)
        return cls(doc)

    @classmethod
    def from_bytes(cls, data: bytes) -> "EpisodeDoc":
        """Load a saved document; any unreadable input raises a :class:`SyncError`."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise CorruptDocumentError(f"an episode document is bytes, got {type(data).__name__}")
        if len(data) == 0:
            raise CorruptDocumentError("an episode document cannot be empty (0 bytes)")
        with binding_guard("loading an episode document"):
            doc = am.Document.load(bytes(data))
        return cls(doc)

    def to_bytes(self) -> bytes:
        """The whole document, compacted (what :func:`save` writes)."""
        with binding_guard("saving an episode document"):
            return self._doc.save()

    @property
    def automerge(self) -> am.Document:
        return self._doc

    # ------------------------------------------------------------------ contents
    def entries(self) -> list[schema.LogEntry]:
        """The log in Automerge list order (accepted and rejected entries alike)."""
        return schema.read_entries(self._doc)

    def checkpoints(self) -> list[schema.Checkpoint]:
        return schema.read_checkpoints(self._doc)

    def outcome(self) -> schema.Outcome | None:
        """The recorded outcome, or None while the episode is being played."""
        return schema.read_outcome(self._doc)

    def views(self) -> list[Any] | None:
        """Public views after each step (``views[t]`` after ``t`` steps), or None if not recorded."""
        with binding_guard("reading views"):
            got = self._doc.get(ROOT, "views")
            if got is None or not isinstance(got[0], am.ObjType):
                return None
            return schema.read_plain(self._doc, got[1])

    def fork_info(self) -> dict[str, Any] | None:
        """``{"from_heads": [hex, ...], "at_step": t}`` for a fork, else None."""
        with binding_guard("reading fork"):
            got = self._doc.get(ROOT, "fork")
            if got is None or not isinstance(got[0], am.ObjType):
                return None
            return schema.read_plain(self._doc, got[1])

    def env(self) -> Env:
        """Build the env the document was recorded with (checks id, version, config, layout)."""
        h = self.header
        try:
            cls = env_class(h.env_id)
        except UnknownEnvError as exc:
            raise DocumentEnvError(f"episode document: {exc}") from exc
        if cls.version != h.env_version:
            raise DocumentEnvError(
                f"episode document was recorded with {h.env_id} version {h.env_version!r}; "
                f"this htjax has version {cls.version!r}, whose rules may differ"
            )
        try:
            env = cls(cls.config_class.from_dict(h.config))
        except (ConfigError, TypeError, ValueError) as exc:
            raise DocumentEnvError(f"episode document: the {h.env_id} config fails validation: {exc}") from exc
        sizes = (env.num_players, env.num_actions, bool(env.simultaneous))
        if sizes != (h.num_players, h.num_actions, h.simultaneous):
            raise DocumentEnvError(
                f"episode document: (players, actions, simultaneous) = "
                f"{(h.num_players, h.num_actions, h.simultaneous)} but {h.env_id} {h.env_version} has {sizes}"
            )
        return env

    # ------------------------------------------------------------------ history, copies, merges
    def heads(self) -> list[str]:
        with binding_guard("reading heads"):
            return [h.hex() for h in self._doc.get_heads()]

    def history(self) -> list[ChangeInfo]:
        """Every change, oldest first: who (Automerge actor) changed the document and how much."""
        with binding_guard("reading history"):
            return [
                ChangeInfo(
                    hash=c.hash.hex(),
                    actor=c.actor_id.hex(),
                    seq=c.seq,
                    ops=len(c),
                    deps=tuple(d.hex() for d in c.deps),
                )
                for c in self._doc.get_changes([])
            ]

    def copy(self, *, actor_id: bytes | None = None) -> "EpisodeDoc":
        """An Automerge fork at the current heads, writing as ``actor_id`` (random if None).

        The copy shares the history, so copies edited concurrently merge (the P2P case).
        """
        with binding_guard("forking a document"):
            doc = self._doc.fork()
            doc.set_actor(actor_id if actor_id is not None else am.random_actor_id())
        return EpisodeDoc(doc)

    def merge(self, other: "EpisodeDoc") -> None:
        """Merge ``other``'s changes into this document (Automerge merge; both converge)."""
        with binding_guard("merging documents"):
            self._doc.merge(other._doc)
        self.header = schema.read_header(self._doc)

    def __repr__(self) -> str:
        h = self.header
        return f"EpisodeDoc({h.env_id} {h.env_version}, key={list(h.episode_key)}, world={h.world}, index={h.episode_index})"


def save(doc: EpisodeDoc, path: str | os.PathLike) -> None:
    """Write ``doc`` to ``path`` (conventionally ``*.automerge``)."""
    data = doc.to_bytes()
    with open(path, "wb") as fh:
        fh.write(data)


def load(path: str | os.PathLike) -> EpisodeDoc:
    """Read an episode document written by :func:`save` (or by the JavaScript ``Automerge.save``)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SyncError(f"cannot read episode document {os.fspath(path)!r}: {exc}") from exc
    try:
        return EpisodeDoc.from_bytes(data)
    except SyncError as exc:
        raise type(exc)(f"{os.fspath(path)}: {exc}") from exc


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
