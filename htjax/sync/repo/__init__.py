"""A Python automerge-repo peer: the WebSocket wire protocol, document ids, storage and a relay.

See docs/relay.md. Everything is asyncio::

    repo = Repo(storage_dir="peer-a")
    url = await repo.listen(port=0)            # or: await repo.connect("ws://host:port")
    handle = repo.create()
    handle.change(lambda tx: tx.put(ROOT, "x", ScalarType.Int, 1))
    other = await Repo().find(handle.document_id)
"""

from htjax.sync.repo.errors import (
    AuthenticationError,
    ConnectionFailed,
    CorruptStorageError,
    DocumentUnavailable,
    InvalidDocumentId,
    InvalidURL,
    MalformedMessage,
    PeerError,
    ProtocolVersionError,
    RepoClosed,
)
from htjax.sync.repo.handle import DocHandle, SyncTimeout
from htjax.sync.repo.ids import document_url, new_document_id, parse_document_id, wire_document_id
from htjax.sync.repo.messages import PROTOCOL_VERSION
from htjax.sync.repo.peer import Limits
from htjax.sync.repo.relay import RelayServer
from htjax.sync.repo.repo import Repo
from htjax.sync.repo.transport import ClientConnection, with_token

__all__ = [
    "Repo",
    "DocHandle",
    "RelayServer",
    "Limits",
    "ClientConnection",
    "PROTOCOL_VERSION",
    "new_document_id",
    "parse_document_id",
    "document_url",
    "wire_document_id",
    "with_token",
    "SyncTimeout",
    "AuthenticationError",
    "ConnectionFailed",
    "CorruptStorageError",
    "DocumentUnavailable",
    "InvalidDocumentId",
    "InvalidURL",
    "MalformedMessage",
    "PeerError",
    "ProtocolVersionError",
    "RepoClosed",
]
