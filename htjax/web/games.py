"""Live games of ``htjax serve``: the relay the browsers sync through, and the engine peer.

:class:`GameHost` runs, inside the server's event loop:

* a :class:`~htjax.sync.repo.RelayServer` (automerge-repo's WebSocket protocol, documents in
  memory) listening on a loopback port, reached by the page through the
  ``/sync`` WebSocket route of the same server (:func:`relay_proxy` forwards the frames);
* the engine peer: a :class:`~htjax.sync.repo.Repo` connected to that relay like any other peer.
  For each game it creates the episode document (:func:`htjax.sync.live.new_live_document`,
  dealer mode) and runs a :class:`~htjax.sync.live.LiveGame` that holds no seat: it derives the
  states with JAX, deals, sends each seat its private view over the seat's encrypted channel,
  writes the public views, and at the end reveals the key, writes the outcome, verifies the
  whole document and saves it to ``<episodes>/`` (the viewer lists it).

Every seat is played by a browser tab: the person's seats, and the AI's seat, whose ONNX policy
runs in the tab with onnxruntime-web on the observation the engine sent it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import logging
import pathlib
import secrets
from typing import Any

import htjax
import htjax.policies
from htjax.core.errors import InvalidArgumentError
from htjax.sync import save
from htjax.sync.live import LiveGame, new_live_document
from htjax.sync.repo import RelayServer, Repo

__all__ = ["GameHost", "GameSpec", "GAMES", "UnknownGameError"]

log = logging.getLogger("htjax.web")
GAME_TIMEOUT = 3600.0  # a game nobody finishes is dropped after an hour
IDLE_TIMEOUT = 600.0  # ... and one where nobody moved (or claimed) for ten minutes


class UnknownGameError(InvalidArgumentError):
    """A request names a game kind, an opponent or a game id the server does not have."""


@dataclasses.dataclass(frozen=True)
class GameSpec:
    """A game on offer: its env (from the shipped policy's model card) and the seats.

    ``person`` is the seat of the person who starts the game, ``ai`` the seat of the policy
    (or of the second person when the opponent is human). ``overrides``: config fields changed
    from the policy's training env (blackjack seats two players at one table).
    """

    env: str
    title: str
    policy: str
    person: int = 0
    ai: int = 1
    overrides: tuple[tuple[str, Any], ...] = ()

    def make_env(self):
        """The policy's training env (its model card), with ``overrides`` applied (built once)."""
        return _make_env(self)


@functools.lru_cache(maxsize=None)
def _make_env(spec: GameSpec):
    model = htjax.policies.model_card(spec.policy)["env"]
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in model["config"].items()}
    return htjax.make(model["id"], **dict(config, **dict(spec.overrides)))


GAMES: dict[str, GameSpec] = {
    "blackjack": GameSpec(
        "blackjack",
        "Blackjack: you and the AI at one table against the dealer",
        "blackjack",
        overrides=(("num_seats", 2),),
    ),
    "holdem": GameSpec("holdem", "Heads-up no-limit hold'em against the AI", "holdem"),
    "prisoners_dilemma": GameSpec("prisoners_dilemma", "Iterated prisoner's dilemma (100 rounds)", "ipd"),
}


@dataclasses.dataclass
class _Game:
    id: str
    spec: GameSpec
    opponent: str
    env: Any
    handle: Any
    live: LiveGame
    task: asyncio.Task | None = None
    saved: pathlib.Path | None = None
    error: str | None = None
    verification: str | None = None


class GameHost:
    """The relay and the engine peer of ``htjax serve`` (see the module docstring).

    Args:
      episodes: where finished games are saved.
      resend_every: seconds between the dealer's re-sends of the current private views, so a tab
        that reconnects gets its view again (ephemeral messages are not stored).
    """

    def __init__(self, episodes: pathlib.Path, *, resend_every: float = 0.5, warm_up: bool = True):
        self.episodes = pathlib.Path(episodes)
        self.resend_every = resend_every
        self.warm_up = warm_up
        self.warmed: list[str] = []  # games whose programs are compiled (see _warm_up)
        self._warming: asyncio.Task | None = None
        self._spares: dict[str, asyncio.Future] = {}  # env id -> a document made ahead of time
        self.relay: RelayServer | None = None
        self.engine: Repo | None = None
        self.games: dict[str, _Game] = {}

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.episodes.mkdir(parents=True, exist_ok=True)
        # memory only: a game cannot outlive its dealer's secret (held by this process); finished
        # games are saved to the episodes folder
        self.relay = RelayServer(None, "127.0.0.1", 0, peer_id="htjax-serve-relay")
        await self.relay.start()
        self.engine = Repo(None, "htjax-serve-engine")
        await self.engine.connect(self.relay.url)
        if self.warm_up:
            self._warming = asyncio.create_task(self._warm_up())

    async def stop(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        await asyncio.gather(*self._spares.values(), return_exceptions=True)
        for game in self.games.values():
            if game.task is not None and not game.task.done():
                game.task.cancel()
        if self.engine is not None:
            await self.engine.close()
        if self.relay is not None:
            await self.relay.close()

    def routes(self) -> list:
        from starlette.routing import WebSocketRoute

        from htjax.web.relay_proxy import relay_proxy

        return [WebSocketRoute("/sync", relay_proxy(lambda: self.relay.url if self.relay else None))]

    # ------------------------------------------------------------------ the API
    def catalogue(self) -> list[dict[str, Any]]:
        return [{"env": s.env, "title": s.title, "policy": s.policy} for s in GAMES.values()]

    async def new_game(self, request: dict[str, Any]) -> dict[str, Any]:
        """Start a game: ``{"env": id, "opponent": "ai" | "human"}``; returns :meth:`describe`.

        Raises:
          UnknownGameError: an env the page does not offer, or another opponent.
        """
        if not isinstance(request, dict):
            raise UnknownGameError('a new game is a JSON object {"env": ..., "opponent": "ai" | "human"}')
        spec = GAMES.get(str(request.get("env")))
        if spec is None:
            raise UnknownGameError(f"no game {request.get('env')!r} here; games: {', '.join(GAMES)}")
        opponent = request.get("opponent", "ai")
        if opponent not in ("ai", "human"):
            raise UnknownGameError(f"the opponent is 'ai' or 'human', not {opponent!r}")
        env, doc, secret = await self._prepared(spec)
        handle = self.engine.create(doc)
        await self.relay.repo.find(handle.document_id, timeout=10.0)  # the relay holds it before a tab asks
        game_id = secrets.token_urlsafe(9)
        live = await asyncio.to_thread(
            LiveGame, handle, {}, dealer=secret, name="htjax-serve", resend_every=self.resend_every
        )
        game = _Game(game_id, spec, opponent, env, handle, live)
        self.games[game_id] = game
        game.task = asyncio.create_task(self._run(game))
        return self.describe(game_id, host=True)

    async def _prepared(self, spec: GameSpec):
        """A fresh dealer-mode document of ``spec`` (env, document, dealer secret): the one made
        ahead of time if ready, and another made in a thread for the next game (making one traces
        the env's initial state, a few hundred ms that a person's click should not wait for)."""

        def make():
            env = spec.make_env()
            return (env, *new_live_document(env, "dealer"))

        ready = self._spares.pop(spec.env, None)
        made = await ready if ready is not None else await asyncio.to_thread(make)
        self._spares[spec.env] = asyncio.ensure_future(asyncio.to_thread(make))
        return made

    def describe(self, game_id: str, *, host: bool = False) -> dict[str, Any]:
        """What a tab needs to play game ``game_id``: the document URL, seats, labels, state."""
        game = self.games.get(game_id)
        if game is None:
            raise UnknownGameError(f"no live game {game_id!r} on this server (it may have ended long ago)")
        spec, env = game.spec, game.env
        if game.opponent == "ai":
            host_seats = [{"seat": spec.person, "kind": "human"}, {"seat": spec.ai, "kind": "policy"}]
            guest = []
        else:
            host_seats = [{"seat": spec.person, "kind": "human"}]
            guest = [spec.ai]
        out = {
            "game": game.id,
            "env": spec.env,
            "title": spec.title,
            "document": game.handle.document_id,
            "policy": spec.policy,
            "opponent": game.opponent,
            "num_players": env.num_players,
            "action_labels": list(env.action_labels),
            "guest_seats": guest,
            "status": game.live.status if game.live.result is None else "finished",
            "verification": game.verification,
            "saved": None if game.saved is None else game.saved.name,
            "error": game.error,
        }
        if host:
            out["host_seats"] = host_seats
        return out

    # ------------------------------------------------------------------ the engine peer
    async def _warm_up(self) -> None:
        """Play one game of each kind between the engine and an in-process peer of random seats
        (through the relay, not saved), so JAX compiles the programs of dealing, deriving and
        verifying before a person's first move waits for them."""
        from htjax.sync.live import RandomAgent

        peer = Repo(None, "htjax-serve-warm-up")
        try:
            await peer.connect(self.relay.url)
            for spec in GAMES.values():
                env = await asyncio.to_thread(spec.make_env)
                doc, secret = new_live_document(env, "dealer")
                handle = self.engine.create(doc)
                seats = await peer.find(handle.document_id, timeout=10.0)
                dealer = LiveGame(handle, {}, dealer=secret, name="warm-up dealer")
                players = LiveGame(seats, {s: RandomAgent(s) for s in range(env.num_players)}, name="warm-up")
                await asyncio.gather(dealer.run(timeout=600.0), players.run(timeout=600.0))
                if spec.env not in self._spares:
                    self._spares[spec.env] = asyncio.ensure_future(
                        asyncio.to_thread(
                            lambda spec=spec: (spec.make_env(), *new_live_document(spec.make_env(), "dealer"))
                        )
                    )
                self.warmed.append(spec.env)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - warming up is an optimisation; games still work
            log.warning(
                "warming up the games failed (%s: %s); the first games compile instead",
                type(err).__name__,
                err,
            )
        finally:
            await peer.close()

    async def _idle(self, game: _Game) -> None:
        """Return once the game's document has not changed for :data:`IDLE_TIMEOUT` seconds
        (its tabs were closed): the dealer then stops re-sending views to nobody."""
        heads, since = None, asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(min(30.0, IDLE_TIMEOUT / 4))
            now, current = asyncio.get_running_loop().time(), game.handle.heads
            if current != heads:
                heads, since = current, now
            elif now - since >= IDLE_TIMEOUT:
                return

    async def _run(self, game: _Game) -> None:
        playing = asyncio.ensure_future(game.live.run(timeout=GAME_TIMEOUT))
        idle = asyncio.ensure_future(self._idle(game))
        try:
            await asyncio.wait([playing, idle], return_when=asyncio.FIRST_COMPLETED)
            if not playing.done():
                playing.cancel()
                await asyncio.gather(playing, return_exceptions=True)
                game.error = f"abandoned: nobody moved for {IDLE_TIMEOUT:g} s"
                return
            result = playing.result()
        except asyncio.CancelledError:
            playing.cancel()
            raise
        except Exception as err:  # noqa: BLE001 - a failed game is reported to its tabs, not fatal
            game.error = f"{type(err).__name__}: {err}"
            log.warning("game %s (%s) failed: %s", game.id, game.spec.env, game.error)
            return
        finally:
            idle.cancel()
        out = result.replay.outcome
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = self.episodes / f"{game.spec.env}-{stamp}-{game.id}.automerge"
        await asyncio.to_thread(save, result.doc, path)
        # both at once: a tab that sees the verification finds the file too
        game.saved, game.verification = (
            path,
            (
                f"verified by the server: the deal matches the dealer's commitment and {result.replay.length} "
                f"steps replay ({len(result.replay.verified)} checkpoint digests)"
            ),
        )
        log.info("game %s saved to %s (returns %s)", game.id, path, out.returns)
        await game.live.linger(timeout=5.0)
