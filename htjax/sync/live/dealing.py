"""Fair dealing: how peers agree on an episode key nobody chose, and how everyone verifies it.

Shares are 32 random bytes, written as 64 lowercase hex chars. The **commitment** to a share
by the Automerge actor ``actor`` (hex) is ``SHA-256(share bytes || actor id bytes)`` in hex.
The **episode key** of shares ``s_1 .. s_n`` (in the order below) is::

    h = SHA-256(b"htjax.live.key.v1" || s_1 || ... || s_n)       (raw 32-byte shares)
    key = (uint32 big-endian h[0:4], uint32 big-endian h[4:8])     (jax key data, uint32[2])

* ``open`` mode: the shares of seats ``0 .. P-1`` in seat order. Each seat commits in its claim,
  reveals once every seat has claimed, and every peer checks each reveal against its commitment.
* ``dealer`` mode: the dealer's share first, then the seats' shares in seat order. The dealer
  commits before any seat claims; seats publish their shares openly in their claims (and the
  dealer commitment they saw); the dealer reveals its share when the game ends. The dealer
  cannot pick the deck (it committed before seeing the seats' shares) and no seat can either
  (it does not know the dealer's share).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Sequence

from htjax.sync.errors import DealingError
from htjax.sync.live.fields import LiveInfo

__all__ = ["KEY_TAG", "new_share", "commitment", "episode_key_of", "agreed_key", "verify_dealing"]

KEY_TAG = b"htjax.live.key.v1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def new_share() -> str:
    """32 random bytes from the OS, as 64 hex chars."""
    return secrets.token_hex(32)


def _raw(share: str, who: str) -> bytes:
    if not isinstance(share, str) or not _HEX64.match(share):
        raise DealingError(f"{who}'s share is not 64 lowercase hex characters: {str(share)[:80]!r}")
    return bytes.fromhex(share)


def commitment(share: str, actor: str) -> str:
    """Hex ``SHA-256(share || actor id bytes)``."""
    return hashlib.sha256(_raw(share, "a") + bytes.fromhex(actor)).hexdigest()


def episode_key_of(shares: Sequence[str]) -> tuple[int, int]:
    """The episode key (uint32 key data) of the shares, in order (module docstring)."""
    h = hashlib.sha256(KEY_TAG + b"".join(_raw(s, f"share {i}") for i, s in enumerate(shares))).digest()
    return int.from_bytes(h[0:4], "big"), int.from_bytes(h[4:8], "big")


def _checked(share: str, commit: str | None, actor: str, who: str) -> str:
    if commit is None or commitment(share, actor) != commit:
        raise DealingError(
            f"{who} revealed a share that does not match its commitment "
            f"(sha256(share || actor) = {commitment(share, actor)[:16]}..., committed {str(commit)[:16]}...)"
        )
    return share


def agreed_key(info: LiveInfo) -> tuple[int, int] | None:
    """The episode key once every share is known and checked; None while one is missing.

    Raises:
      DealingError: a reveal does not match its commitment, a share is malformed, or (dealer
        mode) a seat claimed under another dealer commitment than the dealer's final one.
    """
    claims = info.seat_claims()
    if len(claims) < info.num_players:
        return None
    if info.mode == "open":
        reveals = info.seat_reveals()
        if len(reveals) < info.num_players:
            return None
        return episode_key_of(
            [
                _checked(reveals[s].share, claims[s].commit, claims[s].actor, f"seat {s}")
                for s in range(info.num_players)
            ]
        )
    dealer = info.dealer
    assert dealer is not None
    for s, c in claims.items():
        if c.commit != dealer.commit:
            raise DealingError(
                f"the dealer's commitment changed after seat {s} claimed (it saw {str(c.commit)[:16]}..., "
                f"the document holds {dealer.commit[:16]}...)"
            )
        if c.share is None:
            raise DealingError(f"seat {s}'s claim holds no share (dealer mode)")
    if dealer.share is None:
        return None
    if dealer.creator != dealer.actor:
        raise DealingError(f"the dealer's entry was written by actor {dealer.creator}, not {dealer.actor}")
    first = _checked(dealer.share, dealer.commit, dealer.actor, "the dealer")
    return episode_key_of([first] + [claims[s].share for s in range(info.num_players)])  # type: ignore[misc]


def dealer_key(info: LiveInfo, dealer_share: str) -> tuple[int, int] | None:
    """The dealer's own view of the key (before revealing): None until every seat has claimed."""
    claims = info.seat_claims()
    if len(claims) < info.num_players or any(c.share is None for c in claims.values()):
        return None
    return episode_key_of([dealer_share] + [claims[s].share for s in range(info.num_players)])  # type: ignore[misc]


def verify_dealing(doc) -> tuple[int, int] | None:
    """Check a live document's ``episode.key`` against its shares (``doc``: an EpisodeDoc).

    Returns the key, or None when the document is not a live game. Raises :class:`DealingError`
    when a reveal does not match its commitment, a share is missing, or the key differs.
    """
    from htjax.sync.live.fields import read_live

    info = read_live(doc.automerge, doc.header.num_players)
    if info is None:
        return None
    key = agreed_key(info)
    if key is None:
        raise DealingError(
            f"{info.mode}-mode game: the episode key cannot be checked, a share is missing "
            f"({len(info.seat_claims())}/{info.num_players} seats claimed"
            + (
                ", dealer share not revealed)"
                if info.mode == "dealer"
                else f", {len(info.seat_reveals())} revealed)"
            )
        )
    if doc.header.episode_key is not None and tuple(doc.header.episode_key) != key:
        raise DealingError(
            f"the document's episode key {list(doc.header.episode_key)} is not the key agreed by the shares {list(key)}"
        )
    return key
