"""Run the web app under uvicorn: :func:`serve` (what ``htjax serve`` calls)."""

from __future__ import annotations

import pathlib
import socket
from typing import Callable

__all__ = ["serve", "ServeError", "DEFAULT_EPISODES"]

from htjax.core.errors import HtjaxError

DEFAULT_EPISODES = pathlib.Path("htjax-games")


class ServeError(HtjaxError, OSError):
    """The server cannot start (port taken, bad host, unwritable folder); the message says which."""


def _check_port(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ServeError(f"cannot listen on host {host!r}: {err.strerror}") from err
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as err:
            raise ServeError(
                f"cannot listen on {host}:{port}: {err.strerror} (is another server there?)"
            ) from err


def build_app(episodes: pathlib.Path, *, live: bool = True):
    """The app with its live-game host (recorded games saved to ``episodes``)."""
    from htjax.web.app import create_app

    games = None
    if live:
        from htjax.web.games import GameHost

        games = GameHost(episodes)
    return create_app(episodes=episodes, games=games)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    episodes: str | pathlib.Path = DEFAULT_EPISODES,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the page at ``http://host:port/`` until interrupted.

    Args:
      host, port: where to listen (``port`` 0: a free port, reported through ``on_ready``).
      episodes: folder of recorded games (created; finished live games are saved there).
      on_ready: called with the page's URL once the server accepts connections.

    Raises:
      ServeError: the address is taken or invalid, or ``episodes`` cannot be created.
    """
    import uvicorn

    folder = pathlib.Path(episodes)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ServeError(f"cannot create the episodes folder {str(folder)!r}: {err.strerror}") from err
    _check_port(host, port)
    app = build_app(folder)
    from uvicorn.config import WS_PROTOCOLS

    # websockets' sans-I/O protocol where this uvicorn has it (0.35+), else uvicorn's choice
    ws = "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto"
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, ws=ws)
    server = uvicorn.Server(config)

    original = server.startup

    async def startup(sockets=None):
        await original(sockets)
        if on_ready is not None and server.started:
            bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
            shown = f"[{host}]" if ":" in host else host
            on_ready(f"http://{shown}:{bound}/")

    server.startup = startup
    server.run()
