"""The WebSocket sides of a repo: :class:`ClientConnection` (dials, redials) and :class:`Listener`.

Handshake (automerge-repo's WebSocket adapter): the dialling side sends ``join`` with its
``senderId``, ``peerMetadata`` and ``supportedProtocolVersions: ["1"]``; the listening side
answers ``peer`` with its own id and ``selectedProtocolVersion: "1"``, or ``error``
(``"unsupported protocol version"``) and closes. A relay started with a token requires
``?token=<token>`` in the URL and answers HTTP 401 otherwise.
"""

from __future__ import annotations

import asyncio
import hmac
import http
import logging
import random
import socket
import urllib.parse
from typing import TYPE_CHECKING, Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from htjax.sync.repo import messages
from htjax.sync.repo.errors import (
    AuthenticationError,
    ConnectionFailed,
    InvalidURL,
    MalformedMessage,
    PeerError,
    ProtocolVersionError,
)
from htjax.sync.repo.peer import Peer

if TYPE_CHECKING:  # pragma: no cover
    from htjax.sync.repo.repo import Repo

__all__ = ["ClientConnection", "Listener", "with_token"]

log = logging.getLogger("htjax.sync.repo")
_UNSUPPORTED = "unsupported protocol version"


def with_token(url: str, token: str | None) -> str:
    """``url`` with ``?token=<token>`` added (the form a JS ``WebSocketClientAdapter`` URL can carry too)."""
    if token is None:
        return url
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + [("token", token)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _check_url(url: str) -> None:
    if not isinstance(url, str):
        raise InvalidURL(f"a sync server URL must be a string, got {type(url).__name__}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise InvalidURL(f"{url!r} is not a WebSocket URL (expected ws://HOST:PORT or wss://HOST:PORT)")
    try:
        parts.port
    except ValueError:
        raise InvalidURL(f"{url!r} has an invalid port") from None


class ClientConnection:
    """The dialling side of one server URL, redialled with back-off while the repo is open.

    Attributes:
      url: the server URL (without the token).
      remote_id: the server's peer id once connected.
      connected: an ``asyncio.Event`` set while a connection is up.
      connects: how many handshakes completed (1 after :meth:`start`).
      last_error: the error of the latest failed attempt, or None.
    """

    def __init__(
        self,
        repo: Repo,
        url: str,
        token: str | None = None,
        *,
        open_timeout: float = 10.0,
        backoff_base: float = 0.1,
        backoff_max: float = 5.0,
        protocol_versions: tuple[str, ...] = (messages.PROTOCOL_VERSION,),
    ):
        _check_url(url)
        self.repo, self.url, self._token = repo, url, token
        self.open_timeout, self.backoff_base, self.backoff_max = open_timeout, backoff_base, backoff_max
        self.protocol_versions = list(protocol_versions)
        self.remote_id: str | None = None
        self.connected = asyncio.Event()
        self.connects = 0
        self.last_error: Exception | None = None
        self.peer: Peer | None = None
        self._task: asyncio.Task | None = None
        self._closing = False

    async def start(self) -> None:
        """Make the first connection (errors propagate), then keep it alive in the background."""
        peer = await self._dial()
        self._task = asyncio.get_running_loop().create_task(self._keep(peer))

    async def _dial(self) -> Peer:
        target = with_token(self.url, self._token)
        try:
            ws = await websockets.connect(
                target,
                open_timeout=self.open_timeout,
                max_size=2 * self.repo.limits.max_message_bytes,
                compression=None,
                close_timeout=2,
            )
        except InvalidURI as err:
            raise InvalidURL(f"{self.url!r} is not a WebSocket URL ({err})") from None
        except InvalidStatus as err:
            status = err.response.status_code
            body = err.response.body.decode(errors="replace").strip()[:200] if err.response.body else ""
            if status in (401, 403):
                raise AuthenticationError(
                    f"{self.url} refused the connection (HTTP {status}): "
                    f"{body or 'a token is required'}; pass the relay's token (--token)"
                ) from None
            raise ConnectionFailed(
                f"{self.url} answered HTTP {status} instead of a WebSocket upgrade"
                f"{': ' + body if body else ''}: is it an automerge-repo sync server?"
            ) from None
        except InvalidHandshake as err:
            raise ConnectionFailed(f"{self.url}: the WebSocket handshake failed ({err})") from None
        except socket.gaierror as err:
            raise ConnectionFailed(f"{self.url}: unknown host ({err.strerror})") from None
        except (TimeoutError, asyncio.TimeoutError):
            raise ConnectionFailed(f"{self.url}: no answer within {self.open_timeout:g} s") from None
        except OSError as err:
            reason = (
                "connection refused (is the server running?)"
                if isinstance(err, ConnectionRefusedError)
                else err
            )
            raise ConnectionFailed(f"could not connect to {self.url}: {reason}") from None
        try:
            return await self._handshake(ws)
        except BaseException:
            await ws.close()
            raise

    async def _handshake(self, ws: Any) -> Peer:
        join = {
            "type": "join",
            "senderId": self.repo.peer_id,
            "peerMetadata": {},
            "supportedProtocolVersions": self.protocol_versions,
        }
        await ws.send(messages.encode(join))
        try:
            frame = await asyncio.wait_for(ws.recv(), self.open_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise ConnectionFailed(
                f"{self.url}: no 'peer' answer to 'join' within {self.open_timeout:g} s"
            ) from None
        except ConnectionClosed as err:
            raise ConnectionFailed(f"{self.url} closed the connection during the handshake ({err})") from None
        try:
            answer = messages.decode(frame)
        except MalformedMessage as err:
            raise ConnectionFailed(f"{self.url} answered 'join' with a malformed message: {err}") from None
        if answer["type"] == "error":
            text = answer["message"]
            if "protocol version" in text:
                raise ProtocolVersionError(
                    f"{self.url}: protocol version mismatch: we speak {self.protocol_versions}, "
                    f"the server said {text!r}"
                )
            raise PeerError(f"{self.url} refused the connection: {text}")
        if answer["type"] != "peer":
            raise ConnectionFailed(
                f"{self.url} answered 'join' with a {answer['type']!r} message, not 'peer'"
            )
        version = answer["selectedProtocolVersion"]
        if version not in self.protocol_versions:
            raise ProtocolVersionError(
                f"{self.url} selected protocol version {version!r}; we speak {self.protocol_versions}"
            )
        metadata = answer.get("peerMetadata") or {}
        peer = Peer(self.repo, ws, answer["senderId"], metadata, self.repo.limits)
        self.remote_id, self.peer = peer.remote_id, peer
        self.connects += 1
        self.last_error = None
        self.repo._add_peer(peer)
        self.connected.set()
        return peer

    async def _keep(self, peer: Peer) -> None:
        attempt = 0
        while True:
            await peer.run()
            self.connected.clear()
            self.repo._remove_peer(peer)
            if peer.close_reason:
                self.last_error = PeerError(f"{self.url}: {peer.close_reason}")
            while not self._closing:
                delay = min(self.backoff_max, self.backoff_base * 2**attempt) * random.uniform(0.5, 1.0)
                attempt += 1
                await asyncio.sleep(delay)
                try:
                    peer = await self._dial()
                    attempt = 0
                    break
                except Exception as err:  # noqa: BLE001 - keep redialling; the last error is kept
                    self.last_error = err
                    log.info("reconnecting to %s failed (attempt %d): %s", self.url, attempt, err)
            if self._closing:
                return

    async def close(self) -> None:
        """Stop redialling and close the connection."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self.peer is not None:
            self.repo._remove_peer(self.peer)
            await self.peer.close()
        self.connected.clear()


class Listener:
    """The listening side: accepts connections, checks the token and the ``join``, serves each peer."""

    def __init__(self, repo: Repo, host: str, port: int, token: str | None):
        self.repo, self.host, self.port, self.token = repo, host, port, token
        self.server: Any = None
        self._handlers: set[asyncio.Task] = set()

    async def start(self) -> str:
        try:
            self.server = await websockets.serve(
                self._serve,
                self.host,
                self.port,
                process_request=self._check_token,
                max_size=2 * self.repo.limits.max_message_bytes,
                compression=None,
                close_timeout=2,
            )
        except OSError as err:
            raise ConnectionFailed(
                f"cannot listen on {self.host}:{self.port}: {err.strerror or err}"
            ) from None
        port = self.server.sockets[0].getsockname()[1]
        self.port = port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{port}"

    def _check_token(self, connection: Any, request: Any) -> Any:
        if self.token is None:
            return None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
        given = query.get("token", [None])[0]
        if given is None:
            return connection.respond(
                http.HTTPStatus.UNAUTHORIZED, "this relay requires a token (?token=...)\n"
            )
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "wrong token\n")
        return None

    async def _serve(self, ws: Any) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            peer = await self._accept(ws)
            if peer is None:
                return
            try:
                await peer.run()
            finally:
                self.repo._remove_peer(peer)
                if not peer.closed:
                    await peer.close()
        except ConnectionClosed:
            pass
        except Exception:  # noqa: BLE001 - one connection's failure never stops the server
            log.exception("a connection failed")
        finally:
            self._handlers.discard(task)

    async def _accept(self, ws: Any) -> Peer | None:
        limits = self.repo.limits

        async def refuse(reason: str, target: str = "unknown", code: int = 1002) -> None:
            error = {"type": "error", "senderId": self.repo.peer_id, "targetId": target, "message": reason}
            try:
                await ws.send(messages.encode(error))
                await ws.close(code, reason[:120])
            except ConnectionClosed:
                pass

        try:
            frame = await asyncio.wait_for(ws.recv(), limits.handshake_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            await refuse(f"no 'join' message within {limits.handshake_timeout:g} s", code=1008)
            return None
        if len(frame) > limits.max_message_bytes:
            await refuse(
                f"a frame of {len(frame)} bytes is over the limit of {limits.max_message_bytes} bytes",
                code=1009,
            )
            return None
        try:
            join = messages.decode(frame)
        except MalformedMessage as err:
            await refuse(str(err))
            return None
        if join["type"] != "join":
            await refuse(
                f"expected a 'join' message first, got {join['type']!r}", join.get("senderId", "unknown")
            )
            return None
        sender = join["senderId"]
        versions = join.get("supportedProtocolVersions")
        if versions is not None and messages.PROTOCOL_VERSION not in versions:
            await refuse(_UNSUPPORTED, sender)
            return None
        await ws.send(
            messages.encode(
                {
                    "type": "peer",
                    "senderId": self.repo.peer_id,
                    "peerMetadata": {},
                    "selectedProtocolVersion": messages.PROTOCOL_VERSION,
                    "targetId": sender,
                }
            )
        )
        peer = Peer(self.repo, ws, sender, join.get("peerMetadata") or {}, limits)
        self.repo._add_peer(peer)
        return peer

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self._handlers):
                task.cancel()
            await self.server.wait_closed()
