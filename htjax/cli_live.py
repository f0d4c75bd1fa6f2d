"""The live-play commands of ``htjax``: ``relay`` (an automerge-repo sync server; see docs/relay.md).

Imported by :mod:`htjax.cli` after its app exists, which registers the commands on it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Optional

import typer

from htjax.cli import command

__all__ = ["relay_command"]


@command("relay")
def relay_command(
    port: int = typer.Option(3030, "--port", min=0, max=65535, help="TCP port (0: any free port)."),
    storage: str = typer.Option(
        ..., "--storage", help="Folder that keeps the documents (created if missing)."
    ),
    token: Optional[str] = typer.Option(
        None,
        "--token",
        envvar="HTJAX_RELAY_TOKEN",
        help="Shared secret clients must add to the URL as ?token=... (also HTJAX_RELAY_TOKEN).",
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)."
    ),
    max_message_bytes: int = typer.Option(
        8 * 1024 * 1024, "--max-message-bytes", min=1024, help="Largest frame a client may send."
    ),
    rate: float = typer.Option(1000.0, "--rate", min=1.0, help="Messages per second a client may send."),
    durable: bool = typer.Option(False, "--durable", help="fsync every stored file (survives power loss)."),
    verbose: bool = typer.Option(False, "--verbose", help="Log connections and refused messages."),
) -> None:
    """Run a sync server speaking automerge-repo's WebSocket protocol: it stores documents in
    --storage and forwards changes and ephemeral messages between the peers of each document."""
    from htjax.sync.repo import Limits, RelayServer

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    limits = Limits(max_message_bytes=max_message_bytes, messages_per_second=rate, burst_messages=5 * rate)
    relay = RelayServer(storage, host=host, port=port, token=token, limits=limits, durable=durable)

    async def serve() -> None:
        url = await relay.start()
        count = len(relay.repo.handles)
        print(
            f"relay listening on {url} (storage {storage}, {count} document{'s' * (count != 1)}"
            f"{', token required' if token else ''})",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await relay.close()
        print("relay stopped", file=sys.stderr, flush=True)

    asyncio.run(serve())
