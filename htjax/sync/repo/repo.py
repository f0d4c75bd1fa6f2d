"""``Repo``: a set of Automerge documents kept in sync with connected peers (automerge-repo's model).

Everything runs on one asyncio event loop. A repo is both sides at once: :meth:`Repo.connect`
dials a server (and redials with back-off when the connection drops), :meth:`Repo.listen`
accepts connections. Per (connection, document) there is one ``am.SyncState``, created fresh
for every connection, so a reconnect re-syncs from the current heads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import uuid
from typing import Any

import automerge.core as am

from htjax.sync.errors import _is_binding_failure
from htjax.sync.repo import messages
from htjax.sync.repo.errors import DocumentUnavailable, MalformedMessage, RepoClosed
from htjax.sync.repo.handle import DocHandle, sync_message_heads
from htjax.sync.repo.ids import b58check_encode, parse_document_id
from htjax.sync.repo.peer import Limits, Peer
from htjax.sync.repo.storage import FolderStorage

__all__ = ["Repo"]

log = logging.getLogger("htjax.sync.repo")
_SEEN_SESSIONS = 10000  # ephemeral (sender, session) counters remembered


class Repo:
    """Documents, storage and peers.

    Args:
      storage_dir: a folder that keeps every document (loaded at start; corrupt files raise
        :class:`~htjax.sync.repo.errors.CorruptStorageError` naming the file). None: memory only.
      peer_id: this peer's id on the wire (default: a random ``"htjax-<uuid>"``).
      announce: offer every document to every connected peer (True, what automerge-repo clients
        do) or only the documents a peer asked for or sent (False, what a relay does).
      limits: per-connection limits on what peers may send (:class:`~htjax.sync.repo.peer.Limits`).
      durable: ``fsync`` every stored file.
    """

    def __init__(
        self,
        storage_dir: str | os.PathLike | None = None,
        peer_id: str | None = None,
        *,
        announce: bool = True,
        limits: Limits | None = None,
        durable: bool = False,
    ):
        self.peer_id = peer_id or f"htjax-{uuid.uuid4()}"
        self.announce = announce
        self.limits = limits or Limits()
        self.session_id = uuid.uuid4().hex
        self.storage = FolderStorage(storage_dir, durable=durable) if storage_dir is not None else None
        self.handles: dict[str, DocHandle] = {}
        self._peers: dict[str, Peer] = {}
        self._count = 0
        self._seen: dict[tuple[str, str], int] = {}
        self._closed = False
        self._connections: list[Any] = []  # client connections and servers, closed by close()
        self._unsaved: dict[str, DocHandle] = {}  # documents changed in this loop turn, not yet written
        if self.storage is not None:
            for wire_id, doc in self.storage.load_all():
                self.handles[wire_id] = DocHandle(self, wire_id, doc, snapshot=doc.save())

    def __repr__(self) -> str:
        return f"Repo({self.peer_id!r}, {len(self.handles)} documents, {len(self._peers)} peers)"

    # ------------------------------------------------------------------ public API
    @property
    def peers(self) -> list[str]:
        """The ids of the peers connected now."""
        return list(self._peers)

    def create(self, initial: am.Document | None = None) -> DocHandle:
        """A new document with a fresh id (``automerge:<base58check of 16 random bytes>``).

        ``initial`` (optional) becomes the handle's document itself (same actor id): do not
        change it afterwards except through the handle.
        """
        self._check_open()
        wire_id = b58check_encode(os.urandom(16))
        handle = self.handles[wire_id] = DocHandle(
            self, wire_id, initial if initial is not None else am.Document()
        )
        if handle.has_data:
            handle._changed([], source=None)
        if self.announce:
            for peer in self._peers.values():
                self._flush(handle, peer)
        return handle

    async def find(self, document_id: str, timeout: float = 10.0, grace: float = 1.0) -> DocHandle:
        """The document with this id: from memory, then storage, then the connected peers.

        A peer that does not have the document answers ``doc-unavailable`` but remembers the
        request, and sends the document if it arrives later (a relay does). So that a document
        created an instant ago on another peer is found, ``find`` waits ``grace`` seconds after
        the last ``doc-unavailable`` before giving up.

        Raises:
          InvalidDocumentId: not a document id.
          DocumentUnavailable: every connected peer answered ``doc-unavailable`` (and nothing came
            in ``grace`` seconds), or no copy arrived within ``timeout`` seconds.
        """
        self._check_open()
        wire_id = b58check_encode(parse_document_id(document_id))
        handle = self._handle(wire_id, create=True)
        if handle.has_data and handle._complete():
            return handle
        future = asyncio.get_running_loop().create_future()
        future.grace = grace  # type: ignore[attr-defined]
        handle._finders.append(future)
        for peer in self._peers.values():
            state = handle._peer_state(peer)
            if state.status == "unavailable":
                state.status = "unknown"
            self._flush(handle, peer)
        self._check_unavailable(handle)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DocumentUnavailable(
                f"{handle.document_id}: no copy arrived within {timeout:g} s "
                f"({len(self._peers)} peer(s) connected{'' if self._peers else ': connect to a peer first'})"
            ) from None
        finally:
            if future in handle._finders:
                handle._finders.remove(future)

    async def connect(self, url: str, token: str | None = None, **options: Any):
        """Dial a sync server or another repo's :meth:`listen` URL; returns once the first handshake
        is done (a :class:`~htjax.sync.repo.transport.ClientConnection`), then keeps the connection,
        redialling with exponential back-off and jitter whenever it drops.

        Raises:
          InvalidURL, ConnectionFailed, AuthenticationError, ProtocolVersionError, PeerError:
            the first connection could not be made; the message says why.
        """
        from htjax.sync.repo.transport import ClientConnection

        self._check_open()
        connection = ClientConnection(self, url, token, **options)
        await connection.start()
        self._connections.append(connection)
        return connection

    async def listen(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> str:
        """Accept connections on ``host:port`` (0: a free port); returns the ``ws://`` URL to share."""
        from htjax.sync.repo.transport import Listener

        self._check_open()
        listener = Listener(self, host, port, token)
        url = await listener.start()
        self._connections.append(listener)
        return url

    async def close(self) -> None:
        """Close every connection and listener; documents stay in storage."""
        if self._closed:
            return
        self._closed = True
        for connection in reversed(self._connections):
            await connection.close()
        for peer in list(self._peers.values()):
            await peer.close()
        for wire_id in list(self._unsaved):
            self._write(wire_id)
        for future in [f for h in self.handles.values() for f in h._finders]:
            if not future.done():
                future.set_exception(RepoClosed("the repo was closed"))

    async def __aenter__(self) -> Repo:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------------ peers
    def _check_open(self) -> None:
        if self._closed:
            raise RepoClosed(f"the repo {self.peer_id} is closed")

    def _add_peer(self, peer: Peer) -> None:
        old = self._peers.get(peer.remote_id)
        if old is not None and old is not peer:  # the same peer reconnected: the new socket wins
            self._remove_peer(old)
            old.fail("replaced by a newer connection of the same peer", 1000)
        self._peers[peer.remote_id] = peer
        for handle in self.handles.values():
            if (self.announce and handle.has_data) or handle._finders:
                self._flush(handle, peer)

    def _remove_peer(self, peer: Peer) -> None:
        if self._peers.get(peer.remote_id) is peer:
            del self._peers[peer.remote_id]
        for wire_id, handle in list(self.handles.items()):
            handle._peers.pop(peer, None)
            if not handle.has_data and not handle._peers and not handle._finders:
                del self.handles[wire_id]  # a placeholder nobody wants any more

    # ------------------------------------------------------------------ documents
    def _handle(self, wire_id: str, *, create: bool) -> DocHandle | None:
        handle = self.handles.get(wire_id)
        if handle is None and self.storage is not None:
            doc = self.storage.load(wire_id)
            if doc is not None:
                handle = self.handles[wire_id] = DocHandle(self, wire_id, doc, snapshot=doc.save())
        if handle is None and create:
            handle = self.handles[wire_id] = DocHandle(self, wire_id, am.Document())
        return handle

    def _persist(self, handle: DocHandle) -> None:
        """Write ``handle`` to storage later in this event-loop turn, after the frames it triggered
        went out (several changes in one turn are written once)."""
        if self.storage is None or handle._base is None or handle.wire_id in self._unsaved:
            return
        self._unsaved[handle.wire_id] = handle
        try:
            asyncio.get_running_loop().call_soon(self._write, handle.wire_id)
        except RuntimeError:  # no event loop running: write now
            self._write(handle.wire_id)

    def _write(self, wire_id: str) -> None:
        handle = self._unsaved.pop(wire_id, None)
        if handle is None or self.storage is None:
            return
        try:
            self.storage.save(wire_id, handle._snapshot)
        except OSError:
            log.exception("%s: writing %s failed", handle.document_id, self.storage.path(wire_id))
            raise

    def _flush(self, handle: DocHandle, peer: Peer) -> None:
        """Send ``peer`` the next sync message of ``handle``, if the protocol has one."""
        if peer.closed:
            return
        state = handle._peer_state(peer)
        if not handle.has_data and state.status in ("wants", "unavailable"):
            return  # neither side has it: nothing to say
        message = handle.doc.generate_sync_message(state.sync_state)
        if message is None:
            return
        kind = "request" if not handle.has_data and state.status == "unknown" else "sync"
        peer.send({"type": kind, "documentId": handle.wire_id, "data": message.encode()})

    def _unavailable(self, handle: DocHandle) -> bool:
        return (
            bool(handle._finders and self._peers)
            and not handle.has_data
            and all(handle._peer_state(p).status == "unavailable" for p in self._peers.values())
        )

    def _check_unavailable(self, handle: DocHandle) -> None:
        if self._unavailable(handle):
            for future in handle._finders:
                if not future.done():
                    asyncio.get_running_loop().call_later(future.grace, self._fail_finder, handle, future)

    def _fail_finder(self, handle: DocHandle, future: asyncio.Future) -> None:
        """``future``'s grace is over: fail it if every peer still says unavailable."""
        if self._unavailable(handle) and not future.done():
            future.set_exception(
                DocumentUnavailable(
                    f"{handle.document_id}: unavailable: none of the {len(self._peers)} connected "
                    "peer(s) has this document"
                )
            )

    # ------------------------------------------------------------------ receiving
    def _receive(self, peer: Peer, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in messages.DOC_TYPES:
            return  # remote-subscription-change / remote-heads-changed: not used here
        if kind != "ephemeral" and message["senderId"] != peer.remote_id:
            raise MalformedMessage(
                f"a {kind!r} message with senderId {message['senderId'][:60]!r} on the connection of "
                f"{peer.remote_id[:60]!r}"
            )
        wire_id = _canonical_wire_id(message["documentId"])
        if wire_id is None:
            raise MalformedMessage(f"{message['documentId'][:60]!r} is not a document id")
        if kind == "ephemeral":
            self._receive_ephemeral(peer, message, wire_id)
        elif kind == "doc-unavailable":
            handle = self.handles.get(wire_id)
            if handle is not None:
                handle._peer_state(peer).status = "unavailable"
                self._check_unavailable(handle)
        else:
            self._receive_sync(peer, message, wire_id)

    def _receive_sync(self, peer: Peer, message: dict[str, Any], wire_id: str) -> None:
        handle = self.handles.get(wire_id) or self._handle(wire_id, create=True)
        if peer not in handle._peers:
            peer.documents += 1
            if peer.documents > self.limits.max_documents:
                raise MalformedMessage(f"more than {self.limits.max_documents} documents on one connection")
        state = handle._peer_state(peer)
        data = message["data"]
        heads = sync_message_heads(data)
        if heads:
            state.status, state.their_heads = "has", heads
        elif message["type"] == "request":
            state.status = "wants"
        try:
            decoded = am.Message.decode(data)
        except BaseException as exc:  # noqa: BLE001
            if not _is_binding_failure(exc):
                raise
            raise MalformedMessage(
                f"the data of a {message['type']!r} message is not an Automerge sync message"
            )
        before = handle.doc.get_heads()
        try:
            handle.doc.receive_sync_message(state.sync_state, decoded)
        except BaseException as exc:  # noqa: BLE001 - a panic poisons the document: restore it
            if not _is_binding_failure(exc):
                raise
            handle._recover()
            raise MalformedMessage(
                f"{handle.document_id}: the sync message could not be applied ({type(exc).__name__}: {exc})"[
                    :300
                ]
            ) from None
        if handle.doc.get_heads() != before:
            handle._changed(before, source=peer)
        elif handle._finders:
            handle._notify()
        if not handle.has_data and message["type"] == "request":
            peer.send({"type": "doc-unavailable", "documentId": wire_id})
        else:
            self._flush(handle, peer)

    def _receive_ephemeral(self, peer: Peer, message: dict[str, Any], wire_id: str) -> None:
        source = (message["senderId"], message["sessionId"])
        if message["senderId"] == self.peer_id or self._seen.get(source, -1) >= message["count"]:
            return
        if len(self._seen) >= _SEEN_SESSIONS:
            self._seen.pop(next(iter(self._seen)))
        self._seen[source] = message["count"]
        handle = self.handles.get(wire_id)
        if handle is None:
            return
        handle._peer_state(peer)
        handle._emit_ephemeral(message["senderId"], messages.decode_payload(message["data"]))
        for other, state in list(handle._peers.items()):
            if other is not peer and other.remote_id != message["senderId"]:
                other.send({**message, "targetId": other.remote_id})

    def _broadcast(self, handle: DocHandle, payload: Any) -> None:
        data = messages.encode_payload(payload)
        targets = set(handle._peers)
        if self.announce:
            targets.update(self._peers.values())
        for peer in targets:
            self._count += 1
            peer.send(
                {
                    "type": "ephemeral",
                    "documentId": handle.wire_id,
                    "sessionId": self.session_id,
                    "count": self._count,
                    "data": data,
                }
            )


@functools.lru_cache(maxsize=4096)
def _canonical_wire_id(text: str) -> str | None:
    """The bare base58check form of a ``documentId`` field, or None if it is not a document id."""
    try:
        return b58check_encode(parse_document_id(text))
    except Exception:  # noqa: BLE001 - InvalidDocumentId
        return None
