"""Hosting and joining a live game over a :class:`~htjax.sync.repo.Repo` (what ``htjax play`` does).

A game is named by one **game URL**: the WebSocket URL to dial, then ``#`` and the episode
document's id, e.g. ``ws://127.0.0.1:8765/#automerge:2j9f...``. The part after ``#`` is never
sent to the server (a browser does the same with fragments).
"""

from __future__ import annotations

from typing import Any, Mapping

from htjax.core.env import Env
from htjax.sync.errors import LiveGameError
from htjax.sync.live.agents import Agent
from htjax.sync.live.finish import new_live_document
from htjax.sync.live.session import LiveGame

__all__ = ["game_url", "split_game_url", "host_game", "join_game"]


def game_url(server_url: str, document_id: str) -> str:
    """``server_url#document_id``."""
    return f"{server_url.split('#', 1)[0]}#{document_id}"


def split_game_url(url: str) -> tuple[str, str]:
    """``(server URL, document id)`` of a game URL.

    Raises:
      LiveGameError: no ``ws://`` or ``wss://`` scheme, or no ``#automerge:...`` document id.
    """
    text = str(url).strip()
    server, sep, document_id = text.partition("#")
    if not server.startswith(("ws://", "wss://")):
        raise LiveGameError(f"a game URL starts with ws:// or wss://, got {text!r}")
    if not sep or not document_id.startswith("automerge:"):
        raise LiveGameError(
            f"a game URL ends with #automerge:<document id> (what --host prints), got {text!r}"
        )
    return server, document_id


async def host_game(
    repo: Any,
    env: Env,
    mode: str,
    agents: Mapping[int, Agent],
    *,
    env_params: Any = None,
    name: str = "host",
    deal: bool | None = None,
    **options: Any,
) -> LiveGame:
    """Create the game's document in ``repo`` and a :class:`LiveGame` for ``agents``' seats.

    In dealer mode this peer deals (``deal``; default: yes). ``options`` go to :class:`LiveGame`.
    """
    doc, secret = new_live_document(env, mode, env_params=env_params)
    handle = repo.create(doc)
    if deal is False:
        secret = None
    return LiveGame(handle, agents, dealer=secret, name=name, **options)


async def join_game(
    repo: Any,
    document_id: str,
    agents: Mapping[int, Agent],
    *,
    env_id: str | None = None,
    name: str = "guest",
    timeout: float = 10.0,
    **options: Any,
) -> LiveGame:
    """Find the game's document through ``repo``'s peers and make a :class:`LiveGame`.

    Raises:
      DocumentUnavailable (``htjax.sync.repo``): no peer has the document.
      SchemaVersionError / CorruptDocumentError: not an htjax episode document.
      LiveGameError: a recorded episode, not a live game; or a game of another env than ``env_id``.
    """
    from htjax.sync.document import EpisodeDoc

    handle = await repo.find(document_id, timeout=timeout)
    header = EpisodeDoc(handle.doc).header  # another schema or version raises here
    if env_id is not None and header.env_id != env_id:
        raise LiveGameError(f"{document_id} is a game of {header.env_id}, not {env_id}")
    return LiveGame(handle, agents, name=name, **options)
