"""``htjax mcp``: run the MCP server on stdin/stdout (its work is in :mod:`htjax.mcp_server`;
see ``docs/mcp.md``).

Imported by :mod:`htjax.cli` after its app exists, which registers the command on it.
"""

from __future__ import annotations

import pathlib
from typing import Optional

import typer

from htjax.cli import command, output_dir

__all__ = ["mcp_command"]


@command("mcp")
def mcp_command(
    episodes: Optional[pathlib.Path] = typer.Option(
        None,
        "--episodes",
        help="Folder for episodes saved by the save_episode tool (default ~/.local/share/htjax/mcp-episodes).",
    ),
) -> None:
    """Serve htjax's games to an MCP client (e.g. Claude Desktop) over stdio; see docs/mcp.md."""
    from htjax.mcp_server import default_episodes_dir, serve

    folder = output_dir(episodes if episodes is not None else default_episodes_dir(), "--episodes")
    serve(folder)
