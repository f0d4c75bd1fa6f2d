"""``htjax mcp``: an MCP server (Model Context Protocol, stdio) through which a language model
plays htjax's games; every game it plays is an ordinary episode document (``docs/mcp.md``).

* :mod:`~htjax.mcp_server.games`: :class:`GameTable`, the games of a session (the logic);
* :mod:`~htjax.mcp_server.opponents`: the agents and ONNX policies that play the other seats;
* :mod:`~htjax.mcp_server.server`: the tools on the official ``mcp`` SDK, and :func:`serve`.

Layering: above ``play``, ``sync``, ``render`` and ``policies``; below the CLI (``htjax/cli_mcp.py``).
"""

from htjax.mcp_server.games import CLIENT_ACTOR, GameError, GameTable
from htjax.mcp_server.server import build_server, default_episodes_dir, serve

__all__ = ["CLIENT_ACTOR", "GameError", "GameTable", "build_server", "default_episodes_dir", "serve"]
