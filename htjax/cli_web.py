"""``htjax serve``: the web page (play the shipped policies in the browser, watch episodes).

Imported by :mod:`htjax.cli` after its app exists, which registers the command on it.
The server itself is :mod:`htjax.web`; see ``docs/web.md``.
"""

from __future__ import annotations

import typer

from htjax.cli import command

__all__ = ["serve_command"]


@command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free port)."),
    episodes: str = typer.Option(
        "htjax-games",
        "--episodes",
        help="Folder of recorded games: the viewer lists them; finished games go there.",
    ),
) -> None:
    """Serve the web page: play blackjack, hold'em or the IPD against the shipped ONNX policies
    (run in the browser) or another tab, and step through recorded episodes."""
    from htjax.web import serve

    def ready(url: str) -> None:
        typer.echo(f"htjax serve: open {url} in a browser (Ctrl-C stops)", err=False)

    serve(host, port, episodes=episodes, on_ready=ready)
