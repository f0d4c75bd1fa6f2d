"""Errors of the automerge-repo transport: every one is a :class:`htjax.sync.errors.SyncError`."""

from __future__ import annotations

from htjax.sync.errors import CorruptDocumentError, SyncError

__all__ = [
    "InvalidDocumentId",
    "DocumentUnavailable",
    "ConnectionFailed",
    "InvalidURL",
    "ProtocolVersionError",
    "AuthenticationError",
    "MalformedMessage",
    "PeerError",
    "CorruptStorageError",
    "RepoClosed",
]


class InvalidDocumentId(SyncError):
    """A string is not an automerge-repo document id (``automerge:<base58check>``)."""


class DocumentUnavailable(SyncError):
    """No storage and no connected peer has the document (or none answered in time)."""


class ConnectionFailed(SyncError):
    """A WebSocket connection could not be made or its handshake did not complete."""


class InvalidURL(ConnectionFailed):
    """The URL is not a ``ws://`` or ``wss://`` URL with a host."""


class ProtocolVersionError(ConnectionFailed):
    """The two sides share no automerge-repo protocol version."""


class AuthenticationError(ConnectionFailed):
    """The relay requires a token and the one presented is missing or wrong."""


class MalformedMessage(SyncError):
    """A frame is not a well-formed automerge-repo message (not CBOR, wrong type, missing field)."""


class PeerError(ConnectionFailed):
    """The other side sent an ``error`` message and closed the connection."""


class CorruptStorageError(CorruptDocumentError):
    """A file of the storage folder cannot be loaded; the message names the file."""


class RepoClosed(SyncError):
    """The repo was closed."""
