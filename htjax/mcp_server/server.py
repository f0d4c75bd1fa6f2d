"""The MCP server of ``htjax mcp``: htjax's games as tools for a language model (stdio transport).

Built on the official ``mcp`` Python SDK (:class:`mcp.server.mcpserver.MCPServer`). Every tool
returns a JSON object (structured content; the SDK also sends it as text). A call the server
cannot honour (unknown env, game id or opponent, illegal action, a game that is over, a bad
file) returns a tool error whose message says what was wrong and what is allowed; nothing a
client sends crashes the server. The tools and their arguments are listed in ``docs/mcp.md``.
"""

from __future__ import annotations

import functools
import os
import pathlib
from typing import Any, Callable, Optional, Union

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from htjax.core.errors import HtjaxError
from htjax.mcp_server.games import GameTable

__all__ = ["build_server", "default_episodes_dir", "serve"]

INSTRUCTIONS = """\
Play htjax's card and matrix games (blackjack, Texas hold'em, the iterated prisoner's dilemma).
Call list_games, then start_game with an env id and an opponent; read the table with get_state
(text, and an SVG picture of what your seat sees) and legal_actions, and move with act (an
action id or its label). Opponents move automatically after you. Every game is recorded as an
episode document: save_episode writes it to a file and replay_episode re-executes and verifies it.
"""


def default_episodes_dir() -> pathlib.Path:
    """Where saved episodes go by default: ``$XDG_DATA_HOME/htjax/mcp-episodes``
    (``~/.local/share/htjax/mcp-episodes``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return pathlib.Path(base) / "htjax" / "mcp-episodes"


def _tool(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Turn htjax's own errors into tool errors (the model reads the message)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HtjaxError as err:
            raise ToolError(str(err)) from err

    return wrapper


def build_server(episodes_dir: str | os.PathLike | None = None) -> tuple[MCPServer, GameTable]:
    """The MCP server with htjax's tools, and the :class:`GameTable` behind them."""
    table = GameTable(default_episodes_dir() if episodes_dir is None else episodes_dir)
    server = MCPServer("htjax", instructions=INSTRUCTIONS)

    @server.tool()
    @_tool
    def list_games() -> dict[str, Any]:
        """List the games (env ids, seats, action labels, the opponents each can be played
        against), the shipped ONNX policies, and the games started in this session."""
        return table.list_games()

    @server.tool()
    @_tool
    def start_game(
        env: str,
        opponent: str = "random",
        seat: int = 0,
        seed: int = 0,
        rules: Optional[str] = None,
        config: Optional[dict[str, Any]] = None,
    ) -> dict[str, Any]:
        """Start a game of `env` (e.g. "blackjack", "holdem", "prisoners_dilemma") in which you
        play `seat` and `opponent` plays every other seat: "random", "first_legal", a scripted
        agent (list_games shows each game's), a shipped ONNX policy name ("holdem", "ipd") or
        an .onnx file. `seed` fixes the cards; `rules` is a preset and `config` rule overrides.
        Returns the game id, the state as text and your legal actions when it is your turn."""
        return table.start(env, opponent=opponent, seat=seat, seed=seed, rules=rules, config=config)

    @server.tool()
    @_tool
    def get_state(game_id: str, format: str = "both") -> dict[str, Any]:
        """The game as your seat sees it: "text" (a text table), "svg" (an SVG picture, with
        only your own hidden cards face up) or "both"; plus whose turn it is, your legal
        actions and your return so far."""
        return table.state(game_id, format)

    @server.tool()
    @_tool
    def legal_actions(game_id: str) -> dict[str, Any]:
        """Your legal actions now, as ids and labels (empty when it is not your turn)."""
        return table.legal_actions(game_id)

    @server.tool()
    @_tool
    def act(game_id: str, action: Union[int, str]) -> dict[str, Any]:
        """Play `action` (an action id, or its label such as "hit" or "call") in game
        `game_id`; the opponents then move until it is your turn again or the game is over.
        Returns their moves, your reward from this move and the new state as text."""
        return table.act(game_id, action)

    @server.tool()
    @_tool
    def save_episode(game_id: str, name: Optional[str] = None) -> dict[str, Any]:
        """Save the game's episode document (every move so far, an ordinary htjax episode file)
        as <name>.automerge in the server's episodes folder; returns the path."""
        return table.save(game_id, name)

    @server.tool()
    @_tool
    def replay_episode(game_id: Optional[str] = None, file: Optional[str] = None) -> dict[str, Any]:
        """Re-execute and verify an episode with the game engine: a game of this session
        (`game_id`) or a saved file (`file`: a name in the episodes folder or a path). Returns
        the verified checkpoints, the outcome and the list of moves."""
        return table.replay(game_id, file)

    return server, table


def serve(episodes_dir: str | os.PathLike | None = None) -> None:
    """Run the server on stdin/stdout until the client closes the connection."""
    server, _ = build_server(episodes_dir)
    server.run("stdio")
