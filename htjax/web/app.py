"""The ASGI app of ``htjax serve`` (starlette): the page, its static assets, the JSON API.

Routes::

    GET  /                          the page (htjax/web/static/index.html)
    GET  /static/...                the built front end (app.js, style.css, Automerge and
                                    onnxruntime-web WebAssembly), committed in the package
    GET  /api/config                games on offer, the relay's WebSocket URL path
    GET  /api/policies/NAME.onnx    a shipped ONNX policy (the browser runs it)
    GET  /api/policies/NAME.json    its model card
    POST /api/games                 {"env": ..., "opponent": "ai" | "human"}: a new live game
    GET  /api/games/ID              a live game's seats and state (for a second tab joining)
    GET  /api/episodes              recorded games in the episodes folder
    GET  /api/episodes/NAME         one recorded game, replayed, verified and rendered
    POST /api/episodes/inspect      the same for the bytes of a dropped file
    WS   /sync                      the automerge-repo relay (htjax.web.games)

Errors come back as ``{"error": message}`` with a 4xx status, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import htjax.policies
from htjax.core.errors import HtjaxError
from htjax.web.episodes import EpisodeViewError, episode_file, inspect_episode, list_episodes

__all__ = ["create_app", "STATIC"]

STATIC = pathlib.Path(__file__).resolve().parent / "static"


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _Static(StaticFiles):
    """Static files with the right type for ``.wasm``/``.mjs`` and revalidation on every load."""

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = str(full_path)
        if name.endswith(".wasm"):
            response.headers["content-type"] = "application/wasm"
        elif name.endswith((".mjs", ".js")):
            response.headers["content-type"] = "text/javascript; charset=utf-8"
        response.headers["cache-control"] = "no-cache"
        return response


def create_app(*, episodes: pathlib.Path | None = None, games: Any = None) -> Starlette:
    """The app. ``episodes``: the folder of recorded games the viewer lists (and where finished
    live games are saved); ``games``: the :class:`htjax.web.games.GameHost` serving live play
    (None: the page offers the viewer only)."""
    if not (STATIC / "index.html").is_file() or not (STATIC / "app.js").is_file():
        raise HtjaxError(f"the web page's built assets are missing from {STATIC} (run `npm run build-web`)")

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    async def config(request: Request) -> Response:
        return JSONResponse(
            {
                "games": games.catalogue() if games is not None else [],
                "warmed": list(games.warmed) if games is not None else [],
                "live": games is not None,
                "relay": "/sync",
                "episodes": episodes is not None,
            }
        )

    async def policy_file(request: Request) -> Response:
        name, _, suffix = request.path_params["file"].rpartition(".")
        if suffix not in ("onnx", "json") or name not in htjax.policies.names():
            return _error(
                f"no shipped policy file {request.path_params['file']!r}; "
                f"shipped: {', '.join(htjax.policies.names())}",
                404,
            )
        path = htjax.policies.path(name)
        if suffix == "json":
            path = path.with_suffix(".json")
        media = "application/octet-stream" if suffix == "onnx" else "application/json"
        return FileResponse(path, media_type=media)

    async def episodes_list(request: Request) -> Response:
        return JSONResponse({"episodes": list_episodes(episodes)})

    async def episode_get(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            data = episode_file(episodes, name).read_bytes()
            return JSONResponse(await asyncio.to_thread(inspect_episode, data, name))
        except EpisodeViewError as err:
            return _error(str(err), 404 if "no recorded" in str(err) else 400)

    async def episode_inspect(request: Request) -> Response:
        name = request.query_params.get("name", "uploaded file")
        data = await request.body()
        try:
            return JSONResponse(await asyncio.to_thread(inspect_episode, data, name))
        except EpisodeViewError as err:
            return _error(str(err))

    async def game_new(request: Request) -> Response:
        if games is None:
            return _error("this server does not host live games", 404)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error('the request body must be JSON: {"env": ..., "opponent": "ai" | "human"}')
        try:
            return JSONResponse(await games.new_game(body))
        except HtjaxError as err:
            return _error(str(err))

    async def game_get(request: Request) -> Response:
        if games is None:
            return _error("this server does not host live games", 404)
        try:
            return JSONResponse(games.describe(request.path_params["game"]))
        except HtjaxError as err:
            return _error(str(err), 404)

    routes = [
        Route("/", index),
        Route("/api/config", config),
        Route("/api/policies/{file}", policy_file),
        Route("/api/episodes", episodes_list),
        Route("/api/episodes/inspect", episode_inspect, methods=["POST"]),
        Route("/api/episodes/{name}", episode_get),
        Route("/api/games", game_new, methods=["POST"]),
        Route("/api/games/{game}", game_get),
        Mount("/static", app=_Static(directory=STATIC), name="static"),
    ]
    if games is not None:
        routes.extend(games.routes())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if games is not None:
            await games.start()
        try:
            yield
        finally:
            if games is not None:
                await games.stop()

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(f"nothing at {request.url.path}", 404)

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
