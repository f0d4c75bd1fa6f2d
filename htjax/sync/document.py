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
from htjax.core.env import Env, Params, UnknownEnvError
from htjax.envs import env_class
from htjax.sync import schema
from htjax.sync.errors import (
    CorruptDocumentError,
    DocumentEnvError,
    EpisodeMismatchError,
    MergeError,
    SyncError,
    binding_guard,
)
from htjax.sync.params import from_plain

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
        """The log in Automerge list order (accepted and rejected entries alike); in a live game
        each entry's ``creator`` (the Automerge actor that inserted it) is filled in."""
        return schema.read_entries(self._doc, creators=self.header.live)

    def seat_bindings(self) -> dict[int, str] | None:
        """Live games: seat -> hex Automerge actor holding it (:mod:`htjax.sync.live.fields`);
        None for a recorded episode (no seat rule)."""
        if not self.header.live:
            return None
        from htjax.sync.live.fields import read_live

        info = read_live(self._doc, self.header.num_players)
        return None if info is None else info.bindings()

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
        """Build the env the document was recorded with (checks id, version, config, sizes, rule parameters)."""
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
            raise DocumentEnvError(
                f"episode document: the {h.env_id} config fails validation: {exc}"
            ) from exc
        sizes = (env.num_players, env.num_actions, bool(env.simultaneous))
        if sizes != (h.num_players, h.num_actions, h.simultaneous):
            raise DocumentEnvError(
                f"episode document: (players, actions, simultaneous) = "
                f"{(h.num_players, h.num_actions, h.simultaneous)} but {h.env_id} {h.env_version} has {sizes}"
            )
        self._params_of(env)
        return env

    def params(self) -> Params:
        """The rule parameters the episode was played with (:meth:`Env.params` of ``env.params``).

        A schema version 3 document predates rule parameters: its episode played the config's
        values, which is what this returns for it (``env.default_params``).
        """
        return self._params_of(self.env())

    def _params_of(self, env: Env) -> Params:
        if self.header.params is None:
            return env.default_params
        try:
            return from_plain(env, self.header.params)
        except ConfigError as exc:
            raise DocumentEnvError(f"episode document: field 'env.params': {exc}") from exc

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
        """Merge ``other``'s changes into this document (Automerge merge; both converge).

        Only copies of one episode merge: documents that share their history (made by
        :meth:`copy`, the Automerge sync protocol, or :func:`htjax.sync.fork` at the same step of
        the same document). Concurrent appends then resolve by the merge rule
        (:mod:`htjax.sync.derive`), which keeps every entry. Anything else is refused and this
        document is left unchanged.

        Raises:
          EpisodeMismatchError: ``other`` is another episode: its env id or version, config,
            rule parameters, episode key, schema version or branch (``fork``) differ;
            ``.differences`` names each.
          MergeError: the documents were recorded separately (no common history: Automerge
            would keep one log and hide the other), or merging would delete log entries of
            this document.
        """
        if not isinstance(other, EpisodeDoc):
            raise SyncError(f"EpisodeDoc.merge expects an EpisodeDoc, got {type(other).__name__}")
        if other._doc is self._doc:
            return  # a document merged with itself is unchanged (the binding cannot borrow it twice)
        differences = _differences(self, other)
        if differences:
            shown = "; ".join(
                f"{name}: {mine} here, {theirs} there" for name, mine, theirs in differences[:6]
            )
            more = f"; and {len(differences) - 6} more" if len(differences) > 6 else ""
            raise EpisodeMismatchError(
                f"cannot merge episode documents of different episodes ({shown}{more}); only copies of "
                "one episode merge (EpisodeDoc.copy, the sync protocol, or forks at the same step)",
                differences=tuple(name for name, _, _ in differences),
            )
        with binding_guard("merging documents"):
            if _log_id(self._doc) != _log_id(other._doc):
                raise MergeError(
                    f"cannot merge: both documents hold {self!r} but were recorded separately (no common "
                    "history), so Automerge would keep one log and hide the other; share one document "
                    "between peers with EpisodeDoc.copy() or the Automerge sync protocol"
                )
            trial = self._doc.fork()
            trial.merge(other._doc)
            kept = set(_entry_ids(trial))
            lost = [i for i, oid in enumerate(_entry_ids(self._doc)) if oid not in kept]
            if lost:
                raise MergeError(
                    f"cannot merge: it would delete {len(lost)} log entries of this document (log index "
                    f"{lost[0]} on); the other document removed them (a fork or an edit)"
                )
            self._doc.merge(other._doc)
        self.header = schema.read_header(self._doc)

    def __repr__(self) -> str:
        h = self.header
        key = None if h.episode_key is None else list(h.episode_key)
        return f"EpisodeDoc({h.env_id} {h.env_version}, key={key}, world={h.world}, index={h.episode_index})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _differences(a: EpisodeDoc, b: EpisodeDoc) -> list[tuple[str, str, str]]:
    """``(name, value here, value there)`` of everything that makes ``b`` another episode than ``a``."""
    ha, hb = a.header, b.header
    out = []
    pairs = [
        ("schema_version", ha.schema_version, hb.schema_version),
        ("env.id", ha.env_id, hb.env_id),
        ("env.version", ha.env_version, hb.env_version),
    ]
    for name in sorted(set(ha.config) | set(hb.config)):
        pairs.append((f"env.config.{name}", ha.config.get(name, "<absent>"), hb.config.get(name, "<absent>")))
    if ha.params is None or hb.params is None:
        pairs.append(("env.params", ha.params, hb.params))
    else:
        for name in sorted(set(ha.params) | set(hb.params)):
            pairs.append(
                (f"env.params.{name}", ha.params.get(name, "<absent>"), hb.params.get(name, "<absent>"))
            )
    pairs.append(("episode.key", _key(ha.episode_key), _key(hb.episode_key)))
    pairs.append(("fork", a.fork_info(), b.fork_info()))
    for name, x, y in pairs:
        if type(x) is not type(y) or repr(x) != repr(y):  # repr: a NaN equals itself
            out.append((name, _short(x), _short(y)))
    return out


def _key(key: tuple[int, int] | None) -> list[int] | None:
    return None if key is None else list(key)


def _log_id(doc: am.Document) -> bytes | None:
    got = doc.get(ROOT, "log")
    return None if got is None else got[1]


def _entry_ids(doc: am.Document) -> list[bytes]:
    log = _log_id(doc)
    return [] if log is None else [oid for _, oid in doc.values(log)]


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
