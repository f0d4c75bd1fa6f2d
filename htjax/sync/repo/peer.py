"""One live WebSocket connection to another peer, after the ``join``/``peer`` handshake.

A :class:`Peer` owns the socket: a writer task drains an outbound queue (so sending never
blocks the caller) and :meth:`Peer.run` reads frames, enforces the per-connection limits and
hands each decoded message to the repo. Anything wrong with what the other side sent closes
only this connection, with an ``error`` message naming why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from htjax.sync.errors import _is_binding_failure
from htjax.sync.repo import messages
from htjax.sync.repo.errors import MalformedMessage

if TYPE_CHECKING:  # pragma: no cover
    from htjax.sync.repo.repo import Repo

__all__ = ["Limits", "Peer", "RateLimited"]

log = logging.getLogger("htjax.sync.repo")


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-connection limits on what the other side may send.

    Attributes:
      max_message_bytes: the largest frame accepted; a larger one closes the connection with an
        ``error`` message (frames over twice this size are cut by the WebSocket layer itself,
        close code 1009).
      messages_per_second, burst_messages: a token bucket on frames.
      bytes_per_second, burst_bytes: a token bucket on received bytes.
      max_queued: outbound messages queued for a peer that reads too slowly before it is dropped.
      max_documents: documents one connection may sync or ask for.
      handshake_timeout: seconds a new connection has to send its ``join``.
    """

    max_message_bytes: int = 8 * 1024 * 1024
    messages_per_second: float = 1000.0
    burst_messages: float = 5000.0
    bytes_per_second: float = 32 * 1024 * 1024
    burst_bytes: float = 64 * 1024 * 1024
    max_queued: int = 20000
    max_documents: int = 10000
    handshake_timeout: float = 10.0


class RateLimited(MalformedMessage):
    """The other side sent more than the per-connection rate allows."""


class _Bucket:
    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, time.monotonic()

    def take(self, amount: float) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True


class Peer:
    """A connected remote peer (either side of the connection).

    Attributes:
      remote_id: the other side's peer id (from its ``join`` or ``peer`` message).
      metadata: the other side's ``peerMetadata`` map.
    """

    def __init__(self, repo: Repo, ws: Any, remote_id: str, metadata: dict, limits: Limits):
        self.repo = repo
        self.ws = ws
        self.remote_id = remote_id
        self.metadata = metadata
        self.limits = limits
        self.closed = False
        self.close_reason: str | None = None
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())
        self._messages = _Bucket(limits.messages_per_second, limits.burst_messages)
        self._bytes = _Bucket(limits.bytes_per_second, limits.burst_bytes)
        self._closer: asyncio.Task | None = None
        self.documents = 0  # documents this connection synced or asked for

    def __repr__(self) -> str:
        return f"Peer({self.remote_id!r})"

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message for this peer (``senderId``/``targetId`` are filled in)."""
        if self.closed:
            return
        message.setdefault("senderId", self.repo.peer_id)
        message.setdefault("targetId", self.remote_id)
        if self._queue.qsize() >= self.limits.max_queued:
            self.fail(f"the peer reads too slowly ({self._queue.qsize()} messages queued)", 1008)
            return
        self._queue.put_nowait(messages.encode(message))

    async def _write(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                if frame is None:
                    return
                await self.ws.send(frame)
        except ConnectionClosed:
            pass
        except Exception:  # noqa: BLE001 - a broken socket ends this connection only
            log.exception("writing to %s failed", self.remote_id)
        finally:
            self.closed = True

    def fail(self, reason: str, code: int = 1002) -> None:
        """Send an ``error`` message naming ``reason``, then close this connection."""
        if self.closed:
            return
        self.close_reason = reason
        self._queue.put_nowait(
            messages.encode(
                {
                    "type": "error",
                    "senderId": self.repo.peer_id,
                    "targetId": self.remote_id,
                    "message": reason,
                }
            )
        )
        self._queue.put_nowait(None)
        self.closed = True
        self._closer = asyncio.get_running_loop().create_task(self._close_after_writer(code, reason))

    async def _close_after_writer(self, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
        except (TimeoutError, asyncio.CancelledError):
            pass
        await self.ws.close(code, reason.encode()[:120].decode(errors="ignore"))

    async def close(self) -> None:
        """Close this connection normally."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)
        self._writer.cancel()
        await self.ws.close()

    async def run(self) -> None:
        """Read and dispatch frames until the connection closes (never raises on bad input)."""
        try:
            async for frame in self.ws:
                if self.closed:
                    break
                try:
                    self._admit(frame)
                    message = messages.decode(frame)
                    if message["type"] in ("join", "peer"):
                        raise MalformedMessage(f"a second {message['type']!r} message on one connection")
                    if message["type"] == "error":
                        self.close_reason = f"the other side reported an error: {message['message']}"
                        log.warning("%s: %s", self.remote_id, self.close_reason)
                        break
                    self.repo._receive(self, message)
                except MalformedMessage as err:
                    log.info("closing the connection of %s: %s", self.remote_id, err)
                    self.fail(str(err), 1008 if isinstance(err, RateLimited) else 1002)
                    break
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:  # noqa: BLE001 - PanicException derives from BaseException
                    if not (isinstance(exc, Exception) or _is_binding_failure(exc)):
                        raise
                    log.exception("a message of %s failed", self.remote_id)
                    self.fail(f"the message could not be processed ({type(exc).__name__}: {exc})"[:300], 1011)
                    break
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._queue.put_nowait(None)
            if self._closer is not None:  # let the error message go out before the socket closes
                await self._closer

    def _admit(self, frame: Any) -> None:
        size = len(frame)
        if size > self.limits.max_message_bytes:
            raise MalformedMessage(
                f"a frame of {size} bytes is over the limit of {self.limits.max_message_bytes} bytes"
            )
        if not self._messages.take(1):
            raise RateLimited(f"more than {self.limits.messages_per_second:g} messages per second")
        if not self._bytes.take(size):
            raise RateLimited(f"more than {self.limits.bytes_per_second:g} bytes per second")
