"""``RelayServer``: a sync server that holds and persists documents and forwards ephemeral messages.

It is a :class:`~htjax.sync.repo.Repo` that only listens and never announces: a peer gets the
documents it asks for (``request``) or sends (``sync``), and every change one peer sends reaches
every other peer of that document through the relay's own copy. Ephemeral messages are
forwarded to the document's other peers. No game logic.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from htjax.sync.repo.peer import Limits
from htjax.sync.repo.repo import Repo

__all__ = ["RelayServer"]


class RelayServer:
    """A relay on ``host:port`` keeping its documents in ``storage_dir``.

    Args:
      storage_dir: the storage folder (None: memory only; a restart then loses everything).
      host, port: where to listen (port 0: a free port; see :attr:`url` after :meth:`start`).
      token: a shared secret clients must present as ``?token=`` (None: open).
      limits: per-connection limits.
      peer_id: the relay's peer id (default ``"htjax-relay-<uuid>"``).
    """

    def __init__(
        self,
        storage_dir: str | os.PathLike | None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        limits: Limits | None = None,
        peer_id: str | None = None,
        durable: bool = False,
    ):
        import uuid

        self.repo = Repo(
            storage_dir,
            peer_id or f"htjax-relay-{uuid.uuid4()}",
            announce=False,
            limits=limits,
            durable=durable,
        )
        self.host, self.port, self.token = host, port, token
        self.url: str | None = None

    async def start(self) -> str:
        """Start listening; returns the ``ws://`` URL."""
        self.url = await self.repo.listen(self.host, self.port, self.token)
        return self.url

    async def serve_forever(self) -> None:
        """Start (if not started) and serve until cancelled; closes cleanly."""
        if self.url is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def close(self) -> None:
        await self.repo.close()

    async def __aenter__(self) -> RelayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
