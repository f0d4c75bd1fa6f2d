"""The dealer's encrypted per-seat channel (dealer mode), doable in a browser with WebCrypto alone.

Keys: every seat claims with an ECDH P-256 public key and the dealer publishes one in
``live.dealer`` (raw uncompressed points, 65 bytes ``0x04 || x || y``: WebCrypto
``exportKey("raw")``). The channel key of seat ``s`` in document ``D`` (its automerge-repo id,
``"automerge:..."``) is::

    secret = ECDH-P256(own private key, other side's public key)          (32 bytes)
    info   = UTF-8 "htjax.deal.v1|" + D + "|" + decimal s
    key    = HKDF-SHA256(secret, salt = empty, info = info, length = 32)   (AES-256 key)

Messages are automerge-repo ``ephemeral`` messages: the dealer calls ``handle.broadcast(envelope)``
with the envelope map, which the repo sends as the CBOR (RFC 8949) ``data`` of the message, as
automerge-repo's JavaScript ``DocHandle.broadcast`` does; receivers get the decoded map::

    envelope = {"type": "htjax.deal", "v": 1, "seat": s (int), "nonce": 12 random bytes,
                "ct": AES-256-GCM(key, nonce, plaintext, additional data = info) (ciphertext || 16-byte tag)}
    plaintext = CBOR {"step": t (int: the state after t steps), "seat": s, "to_move": [int],
                      "done": bool, "observation": bytes (the seat's observation, C order, little
                      endian), "dtype": str (numpy name, e.g. "float32"), "shape": [int],
                      "legal": [bool] * num_actions (the seat's legal actions now; all false when
                      it is not to move), "text": str (env.render_text(state, seat)),
                      "svg": str (htjax.render.render_svg(env, state, seat); only when htjax.render exists)}

Every peer receives every envelope; only seat ``s`` (and the dealer) can open it.
"""

from __future__ import annotations

import os
from typing import Any

import cbor2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from htjax.sync.errors import DealingError

__all__ = ["MESSAGE_TYPE", "new_private_key", "public_bytes", "channel_key", "seal", "parse", "open_sealed"]

MESSAGE_TYPE = "htjax.deal"
VERSION = 1


def new_private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDH P-256 private key (one per peer and game)."""
    return ec.generate_private_key(ec.SECP256R1())


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The raw uncompressed public point (65 bytes)."""
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _info(document_id: str, seat: int) -> bytes:
    return f"htjax.deal.v1|{document_id}|{int(seat)}".encode()


def channel_key(own: ec.EllipticCurvePrivateKey, other_public: bytes, document_id: str, seat: int) -> bytes:
    """The AES-256 key of ``seat``'s channel (the same on the dealer's and the seat's side).

    Raises:
      DealingError: ``other_public`` is not a P-256 point.
    """
    try:
        other = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(other_public))
    except (ValueError, TypeError) as exc:
        raise DealingError(
            f"seat {seat}'s channel: the published public key is not a P-256 point ({exc})"
        ) from exc
    secret = own.exchange(ec.ECDH(), other)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_info(document_id, seat)).derive(secret)


def seal(key: bytes, document_id: str, seat: int, plaintext: dict[str, Any]) -> dict[str, Any]:
    """The envelope (a map to broadcast) carrying ``plaintext`` (a CBOR-able map) to ``seat``."""
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, cbor2.dumps(plaintext), _info(document_id, seat))
    return {"type": MESSAGE_TYPE, "v": VERSION, "seat": int(seat), "nonce": nonce, "ct": ct}


def decoded(payload: Any) -> Any:
    """An ephemeral payload as a value: CBOR bytes are decoded (None if they are not CBOR)."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        try:
            return cbor2.loads(bytes(payload))
        except Exception:  # noqa: BLE001 - any undecodable payload is someone else's traffic
            return None
    return payload


def parse(payload: Any) -> dict[str, Any] | None:
    """The envelope in an ephemeral payload (a map, or its CBOR bytes), or None when the
    payload is not one (other traffic)."""
    msg = decoded(payload)
    if not isinstance(msg, dict) or msg.get("type") != MESSAGE_TYPE or msg.get("v") != VERSION:
        return None
    if not isinstance(msg.get("seat"), int) or not isinstance(msg.get("nonce"), bytes):
        return None
    if not isinstance(msg.get("ct"), bytes) or len(msg["nonce"]) != 12:
        return None
    return msg


def open_sealed(key: bytes, document_id: str, envelope: dict[str, Any]) -> dict[str, Any]:
    """Decrypt an envelope for its seat.

    Raises:
      DealingError: authentication fails (not sealed with this seat's key) or the plaintext is
        not a CBOR map.
    """
    try:
        raw = AESGCM(key).decrypt(envelope["nonce"], envelope["ct"], _info(document_id, envelope["seat"]))
    except InvalidTag as exc:
        raise DealingError(
            f"a message for seat {envelope['seat']} does not authenticate with its channel key"
        ) from exc
    try:
        body = cbor2.loads(raw)
    except Exception as exc:  # noqa: BLE001
        raise DealingError(f"a message for seat {envelope['seat']} is not CBOR: {exc}") from exc
    if not isinstance(body, dict):
        raise DealingError(f"a message for seat {envelope['seat']} is not a CBOR map")
    return body
