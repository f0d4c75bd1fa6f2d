"""``DocHandle``: one document of a :class:`~htjax.sync.repo.Repo`, its listeners and its sync states."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable

import automerge.core as am

from htjax.sync.errors import SyncError, _is_binding_failure
from htjax.sync.repo.ids import URL_PREFIX

if TYPE_CHECKING:  # pragma: no cover
    from htjax.sync.repo.peer import Peer
    from htjax.sync.repo.repo import Repo

__all__ = ["DocHandle", "SyncTimeout", "sync_message_heads"]

log = logging.getLogger("htjax.sync.repo")


class SyncTimeout(SyncError, TimeoutError):
    """``DocHandle.wait_for`` ran out of time; the message names the document."""


def sync_message_heads(data: bytes) -> list[bytes]:
    """The heads an Automerge sync message advertises (its first field: a LEB128 count of 32-byte
    hashes after the one-byte message type); ``[]`` when the bytes are too short to tell."""
    if len(data) < 2:
        return []
    count, shift, i = 0, 0, 1
    while i < len(data):
        byte = data[i]
        count |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            break
        shift += 7
        if shift > 28:
            return []
    if count * 32 > len(data) - i:
        return []
    return [bytes(data[i + 32 * k : i + 32 * (k + 1)]) for k in range(count)]


class PeerDocState:
    """What one connection knows about one document: a fresh ``am.SyncState`` per connection."""

    __slots__ = ("sync_state", "status", "their_heads")

    def __init__(self) -> None:
        self.sync_state = am.SyncState()
        self.status = "unknown"  # unknown | has | wants | unavailable
        self.their_heads: list[bytes] = []


class DocHandle:
    """One document of a repo.

    Attributes:
      document_id: the document's URL, ``automerge:<base58check id>`` (share it to let others find it).
      wire_id: the bare base58check id that wire messages and storage file names use.
      doc: the ``automerge.core.Document``: read it freely; change it only through :meth:`change`.
    """

    def __init__(self, repo: Repo, wire_id: str, doc: am.Document, snapshot: bytes | None = None):
        self.repo = repo
        self.wire_id = wire_id
        self.document_id = URL_PREFIX + wire_id
        self.doc = doc
        # the last good state as a full save plus the changes since (load() accepts the
        # concatenation): what storage writes, and what a binding panic is recovered from
        self._base = snapshot
        self._chunks: list[bytes] = []
        self._peers: dict[Peer, PeerDocState] = {}
        self._change_listeners: list[Callable[[DocHandle], Any]] = []
        self._ephemeral_listeners: list[Callable[[str, Any], Any]] = []
        self._finders: list[asyncio.Future] = []

    def __repr__(self) -> str:
        return f"DocHandle({self.document_id!r}, heads={len(self.doc.get_heads())})"

    # ------------------------------------------------------------------ reading
    def heads(self) -> list[bytes]:
        """The document's current heads (32-byte change hashes, sorted)."""
        return sorted(self.doc.get_heads())

    @property
    def has_data(self) -> bool:
        """Whether the document has at least one change."""
        return bool(self.doc.get_heads())

    @property
    def actor_id(self) -> bytes:
        """The actor id that this peer's changes carry."""
        return self.doc.get_actor()

    def set_actor(self, actor_id: bytes) -> None:
        """Make this peer's later changes carry ``actor_id`` (bytes; e.g. a seat's actor)."""
        self.doc.set_actor(actor_id)

    @property
    def peers(self) -> list[str]:
        """The peer ids of the connections that sync this document now."""
        return [p.remote_id for p in self._peers]

    # ------------------------------------------------------------------ writing
    def change(self, fn: Callable[[am.Transaction], Any]) -> Any:
        """Run ``fn(tx)`` in one transaction (one commit), then persist it and sync it to every peer.

        Returns what ``fn`` returned. If ``fn`` raises, the transaction is rolled back and the
        exception propagates; nothing is persisted or sent.
        """
        self.repo._check_open()
        before = self.doc.get_heads()
        with self.doc.transaction() as tx:
            result = fn(tx)
        if self.doc.get_heads() != before:
            self._changed(before, source=None)
        return result

    def merge(self, other: am.Document) -> None:
        """Merge another copy of this document into it, then persist and sync (like :meth:`change`)."""
        self.repo._check_open()
        before = self.doc.get_heads()
        self.doc.merge(other)
        if self.doc.get_heads() != before:
            self._changed(before, source=None)

    # ------------------------------------------------------------------ listening
    def on_change(self, callback: Callable[[DocHandle], Any]) -> Callable[[], None]:
        """Call ``callback(handle)`` after every local or remote change; returns the unsubscribe function."""
        self._change_listeners.append(callback)
        return lambda: self._change_listeners.remove(callback) if callback in self._change_listeners else None

    async def wait_for(self, predicate: Callable[[am.Document], bool], timeout: float = 10.0) -> am.Document:
        """Wait until ``predicate(doc)`` is true (checked now and after every change); returns the doc.

        Raises:
          SyncTimeout: (a ``TimeoutError``) not true within ``timeout`` seconds; names the document.
        """
        if predicate(self.doc):
            return self.doc
        future = asyncio.get_running_loop().create_future()

        def check(handle: DocHandle) -> None:
            if not future.done() and predicate(handle.doc):
                future.set_result(handle.doc)

        unsubscribe = self.on_change(check)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise SyncTimeout(
                f"{self.document_id}: the awaited condition did not hold within {timeout:g} s "
                f"({len(self.peers)} peer(s) connected)"
            ) from None
        finally:
            unsubscribe()

    def synced(self) -> bool:
        """Whether every connected peer of this document last advertised exactly our heads."""
        heads = set(self.doc.get_heads())
        return bool(self._peers) and all(set(s.their_heads) == heads for s in self._peers.values())

    async def wait_synced(self, timeout: float = 10.0) -> None:
        """Wait until every connected peer of this document has our heads (e.g. the relay stored
        what we wrote). Raises :class:`SyncTimeout` naming the document."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.synced():
            if asyncio.get_running_loop().time() > deadline:
                raise SyncTimeout(
                    f"{self.document_id}: {len(self._peers)} peer(s) did not acknowledge our heads "
                    f"within {timeout:g} s"
                )
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ ephemeral
    def broadcast(self, payload: Any) -> None:
        """Send ``payload`` (bytes, or any CBOR-encodable value) in an ``ephemeral`` message to every
        peer of this document. Not stored; peers that are not connected now never see it."""
        self.repo._check_open()
        self.repo._broadcast(self, payload)

    def on_ephemeral(self, callback: Callable[[str, Any], Any]) -> Callable[[], None]:
        """Call ``callback(sender_peer_id, payload)`` for each ephemeral message of this document
        (``payload`` is what the sender broadcast: bytes stay bytes); returns the unsubscribe function."""
        self._ephemeral_listeners.append(callback)
        return lambda: (
            self._ephemeral_listeners.remove(callback) if callback in self._ephemeral_listeners else None
        )

    # ------------------------------------------------------------------ internals
    def _peer_state(self, peer: Peer) -> PeerDocState:
        state = self._peers.get(peer)
        if state is None:
            state = self._peers[peer] = PeerDocState()
        return state

    @property
    def _snapshot(self) -> bytes | None:
        return None if self._base is None else self._base + b"".join(self._chunks)

    def _changed(self, before: list[bytes], source: Peer | None) -> None:
        """After the document changed from heads ``before``: persist, sync the other peers, tell
        the listeners. Saves incrementally: the new changes' bytes, and a full save (compaction)
        every 64 changes."""
        if self._base is None or len(self._chunks) >= 64:
            self._base, self._chunks = self.doc.save(), []
        else:
            self._chunks.extend(c.bytes for c in self.doc.get_changes(before))
        self.repo._persist(self)
        for peer in list(self._peers):
            if peer is not source:
                self.repo._flush(self, peer)
        self._notify()

    def _notify(self) -> None:
        for callback in list(self._change_listeners):
            try:
                callback(self)
            except Exception:  # noqa: BLE001 - a listener must not break the sync loop
                log.exception("%s: an on_change listener raised", self.document_id)
        if self._finders and self._complete():
            for future in self._finders:
                if not future.done():
                    future.set_result(self)
            self._finders.clear()

    def _complete(self) -> bool:
        """Whether the document holds every head a supplying peer advertised (find() may return)."""
        if not self.has_data:
            return False
        wanted = [s.their_heads for s in self._peers.values() if s.status == "has" and s.their_heads]
        if not wanted:
            return True
        have = set(self.doc.get_heads())
        if any(set(h) <= have for h in wanted):
            return True
        known = {c.hash for c in self.doc.get_changes([])}
        return any(set(h) <= known for h in wanted)

    def _emit_ephemeral(self, sender: str, payload: Any) -> None:
        for callback in list(self._ephemeral_listeners):
            try:
                callback(sender, payload)
            except Exception:  # noqa: BLE001
                log.exception("%s: an on_ephemeral listener raised", self.document_id)

    def _recover(self) -> None:
        """Replace a document the binding poisoned (a Rust panic) by its last good save."""
        actor = None
        try:
            actor = self.doc.get_actor()
        except BaseException as exc:  # noqa: BLE001
            if not _is_binding_failure(exc):
                raise
        self.doc = am.Document.load(self._snapshot) if self._snapshot else am.Document()
        if actor is not None:
            self.doc.set_actor(actor)
        for peer in list(self._peers):
            self._peers[peer] = PeerDocState()
