"""The automerge-repo WebSocket wire messages: CBOR maps, one per binary frame.

Shapes (field: CBOR type), exactly as ``@automerge/automerge-repo`` and its WebSocket adapter
send them (``network/messages.ts`` and ``network-websocket/src/messages.ts``):

- ``join`` (client -> server): ``senderId: text, peerMetadata: map,
  supportedProtocolVersions: [text]``
- ``peer`` (server -> client): ``senderId, peerMetadata, selectedProtocolVersion: text, targetId``
- ``error``: ``senderId, message: text, targetId`` (the sender closes the connection after it)
- ``request`` / ``sync``: ``senderId, targetId, documentId: text, data: bytes`` (an Automerge sync
  message; ``request`` when the sender does not have the document yet)
- ``doc-unavailable``: ``senderId, targetId, documentId``
- ``ephemeral``: ``senderId, targetId, documentId, sessionId: text, count: uint, data: bytes``
  (``data`` is itself CBOR: the value passed to ``broadcast``)
- ``remote-subscription-change`` / ``remote-heads-changed``: accepted and ignored.

:func:`decode` is the only door for untrusted bytes: anything else raises
:class:`MalformedMessage` naming what was wrong.
"""

from __future__ import annotations

from typing import Any

import cbor2

from htjax.sync.repo.errors import MalformedMessage

__all__ = ["PROTOCOL_VERSION", "encode", "decode", "decode_payload", "encode_payload", "DOC_TYPES"]

PROTOCOL_VERSION = "1"

_STR = (str,)
_BYTES = (bytes,)
# per type: the required fields and their Python types after decoding
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "join": {"senderId": _STR},
    "peer": {"senderId": _STR, "targetId": _STR, "selectedProtocolVersion": _STR},
    "error": {"senderId": _STR, "message": _STR},
    "request": {"senderId": _STR, "targetId": _STR, "documentId": _STR, "data": _BYTES},
    "sync": {"senderId": _STR, "targetId": _STR, "documentId": _STR, "data": _BYTES},
    "doc-unavailable": {"senderId": _STR, "targetId": _STR, "documentId": _STR},
    "ephemeral": {
        "senderId": _STR,
        "targetId": _STR,
        "documentId": _STR,
        "sessionId": _STR,
        "count": (int,),
        "data": _BYTES,
    },
    "remote-subscription-change": {"senderId": _STR, "targetId": _STR},
    "remote-heads-changed": {"senderId": _STR, "targetId": _STR, "documentId": _STR},
}
DOC_TYPES = frozenset({"request", "sync", "doc-unavailable", "ephemeral"})
_MAX_ID = 256  # longest peer / session / document id accepted


def encode(message: dict[str, Any]) -> bytes:
    """One message as the CBOR bytes of a binary frame."""
    return cbor2.dumps(message)


def decode(frame: Any) -> dict[str, Any]:
    """Decode and validate one received frame.

    Raises:
      MalformedMessage: a text frame, bytes that are not CBOR, CBOR that is not a map with a
        known ``type``, or a field missing or of the wrong type (the message names which).
    """
    if isinstance(frame, str):
        raise MalformedMessage("a text frame: automerge-repo messages are binary CBOR frames")
    if not frame:
        raise MalformedMessage("an empty frame")
    try:
        message = cbor2.loads(bytes(frame), max_depth=32, allow_duplicate_keys=False)
    except RecursionError:
        raise MalformedMessage("the CBOR is nested too deeply") from None
    except Exception as err:  # noqa: BLE001 - cbor2 raises several types on garbage
        raise MalformedMessage(f"the frame is not valid CBOR ({type(err).__name__}: {err})") from None
    if not isinstance(message, dict):
        raise MalformedMessage(f"the frame is CBOR of type {type(message).__name__}, not a map")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise MalformedMessage("the message has no text field 'type'")
    fields = _FIELDS.get(kind)
    if fields is None:
        raise MalformedMessage(f"unknown message type {kind[:40]!r}")
    for name, types in fields.items():
        value = message.get(name)
        if value is None:
            raise MalformedMessage(f"a {kind!r} message without the field {name!r}")
        if not isinstance(value, types) or isinstance(value, bool):
            raise MalformedMessage(
                f"the field {name!r} of a {kind!r} message is a {type(value).__name__}, "
                f"not {' or '.join(t.__name__ for t in types)}"
            )
        if isinstance(value, str) and len(value) > _MAX_ID and name != "message":
            raise MalformedMessage(f"the field {name!r} of a {kind!r} message is too long")
    if kind == "ephemeral" and message["count"] < 0:
        raise MalformedMessage("an 'ephemeral' message with a negative count")
    if kind in ("request", "sync") and not message["data"]:
        raise MalformedMessage(f"a {kind!r} message with empty data")
    if kind == "join":
        versions = message.get("supportedProtocolVersions")
        if versions is not None and (
            not isinstance(versions, list) or not all(isinstance(v, str) for v in versions)
        ):
            raise MalformedMessage("'supportedProtocolVersions' of a 'join' message is not a list of text")
    if "peerMetadata" in message and message["peerMetadata"] is not None:
        if not isinstance(message["peerMetadata"], dict):
            raise MalformedMessage(f"'peerMetadata' of a {kind!r} message is not a map")
    return message


def encode_payload(value: Any) -> bytes:
    """The ``data`` of an ephemeral message: the CBOR of ``value`` (as ``DocHandle.broadcast`` in JS)."""
    return cbor2.dumps(value)


def decode_payload(data: bytes) -> Any:
    """The value inside an ephemeral message's ``data``; raises :class:`MalformedMessage`."""
    try:
        return cbor2.loads(data, max_depth=64)
    except RecursionError:
        raise MalformedMessage("the ephemeral payload is nested too deeply") from None
    except Exception as err:  # noqa: BLE001
        raise MalformedMessage(f"the ephemeral payload is not valid CBOR ({type(err).__name__})") from None
