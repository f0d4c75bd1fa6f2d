"""Document ids in automerge-repo's format.

A document id is 16 random bytes. automerge-repo writes it in base58check (Bitcoin's
base58 alphabet over the bytes followed by the first 4 bytes of ``sha256(sha256(bytes))``);
its URL form is ``automerge:<base58check>``, which is what users share. On the wire
(``documentId`` fields) the bare base58check string travels, without the prefix.
"""

from __future__ import annotations

import hashlib
import os

from htjax.sync.repo.errors import InvalidDocumentId

__all__ = [
    "URL_PREFIX",
    "b58encode",
    "b58decode",
    "b58check_encode",
    "b58check_decode",
    "new_document_id",
    "parse_document_id",
    "document_url",
    "wire_document_id",
]

URL_PREFIX = "automerge:"
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet): each leading zero byte becomes a ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises ``ValueError`` on a character outside the alphabet."""
    n = 0
    for c in text:
        if c not in _INDEX:
            raise ValueError(f"{c!r} is not a base58 character")
        n = n * 58 + _INDEX[c]
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def _checksum(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]


def b58check_encode(data: bytes) -> str:
    """Base58 of ``data`` + its 4-byte double-SHA-256 checksum (the ``bs58check`` npm package)."""
    return b58encode(data + _checksum(data))


def b58check_decode(text: str) -> bytes:
    """Inverse of :func:`b58check_encode`; raises ``ValueError`` on a bad character or checksum."""
    raw = b58decode(text)
    if len(raw) < 5:
        raise ValueError("too short for a base58check string")
    body, check = raw[:-4], raw[-4:]
    if _checksum(body) != check:
        raise ValueError("the base58check checksum does not match")
    return body


def new_document_id() -> str:
    """A fresh document URL, ``automerge:<base58check of 16 random bytes>`` (what ``Repo.create`` uses)."""
    return URL_PREFIX + b58check_encode(os.urandom(16))


def parse_document_id(text: str) -> bytes:
    """The 16 (or more) id bytes of ``automerge:<id>`` or a bare ``<id>``.

    Raises:
      InvalidDocumentId: not a string, an empty id, heads or a path after the id, or a bad
        base58check string (bad character or checksum).
    """
    if not isinstance(text, str):
        raise InvalidDocumentId(f"a document id must be a string, got {type(text).__name__}")
    bare = text[len(URL_PREFIX) :] if text.startswith(URL_PREFIX) else text
    if not bare or "/" in bare or "#" in bare:
        raise InvalidDocumentId(
            f"{text!r} is not an automerge document id (expected automerge:<base58check id>)"
        )
    try:
        raw = b58check_decode(bare)
    except ValueError as err:
        raise InvalidDocumentId(f"{text!r} is not an automerge document id: {err}") from None
    if not raw:
        raise InvalidDocumentId(f"{text!r} is not an automerge document id: it encodes no bytes")
    return raw


def document_url(text: str) -> str:
    """The canonical ``automerge:<id>`` form of a URL or bare id (validated)."""
    return URL_PREFIX + wire_document_id(text)


def wire_document_id(text: str) -> str:
    """The bare base58check id that ``documentId`` fields carry (validated)."""
    return b58check_encode(parse_document_id(text))
