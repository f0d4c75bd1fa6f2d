"""The page's ``/sync`` WebSocket: each browser connection forwarded, frame by frame, to the relay.

The relay (:class:`htjax.sync.repo.RelayServer`) listens on a loopback port of its own; this
route lets the page reach it through the one address the person opened, so ``htjax serve
--host 0.0.0.0`` works from another machine with one port. Frames are passed through unchanged
(automerge-repo's binary CBOR messages); either side closing closes the other.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import websockets
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["relay_proxy"]

MAX_FRAME = 16 * 1024 * 1024  # what the relay accepts at most; its own limits apply behind this


def relay_proxy(relay_url: Callable[[], str | None]):
    """A starlette WebSocket endpoint forwarding to ``relay_url()``."""

    async def endpoint(ws: WebSocket) -> None:
        target = relay_url()
        await ws.accept()
        if target is None:
            await ws.close(code=1013, reason="the relay is not running")
            return
        try:
            upstream = await websockets.connect(target, max_size=MAX_FRAME, open_timeout=5, compression=None)
        except (OSError, websockets.exceptions.WebSocketException) as err:
            await ws.close(code=1011, reason=f"relay unreachable: {type(err).__name__}"[:120])
            return

        async def down() -> None:  # relay -> browser
            async for frame in upstream:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_text(frame)

        async def up() -> None:  # browser -> relay
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    await upstream.send(message["bytes"])
                elif message.get("text") is not None:
                    await upstream.send(message["text"])

        tasks = [asyncio.create_task(down()), asyncio.create_task(up())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()
            try:
                await ws.close()
            except (RuntimeError, WebSocketDisconnect):
                pass  # the browser is already gone

    return endpoint
