"""The games an MCP client plays: each one an episode document written by a live recorder.

:class:`GameTable` is the server's whole state: games by id, each a
:class:`htjax.sync.Recorder` (so every move, the client's and the opponents', is appended to an
ordinary episode document as it is made) plus the seat the client plays and the opponents of
the other seats. After the client's move the opponents move until it is the client's turn
again or the game is over. Every method returns plain JSON values and raises
:class:`GameError` with a message meant for the model on bad input; the MCP layer
(:mod:`htjax.mcp_server.server`) turns those into tool errors.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import threading
from typing import Any

import jax
import numpy as np

from htjax.core.config import ConfigError
from htjax.core.env import Env
from htjax.core.errors import HtjaxError
from htjax.core.keys import episode_key_for, key_data
from htjax.envs import available_envs, make
from htjax.mcp_server.opponents import Opponent, make_opponent, opponent_names
from htjax.render import render_svg
from htjax.sync import FILE_SUFFIX, Recorder, Seat, SyncError, load, replay, save

__all__ = ["CLIENT_ACTOR", "Game", "GameError", "GameTable"]

CLIENT_ACTOR = "mcp-client"
"""The actor id of the MCP client's seat in the episode documents."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class GameError(HtjaxError, ValueError):
    """A tool call the server cannot honour (unknown game, illegal action, bad argument)."""


@dataclasses.dataclass
class Game:
    """One game: its id, the recorder (document + derived state), the client's seat and the
    opponents of the other seats."""

    id: str
    recorder: Recorder
    seat: int
    opponent: str
    opponents: dict[int, Opponent]
    moves: int = 0  # opponent decisions so far (their randomness counter)

    @property
    def env(self) -> Env:
        return self.recorder.env


def _labels(env: Env, mask: np.ndarray) -> list[dict[str, Any]]:
    return [{"id": int(a), "label": env.action_labels[a]} for a in np.flatnonzero(mask)]


class GameTable:
    """The games of one MCP server session (thread-safe: one lock around every call).

    Args:
      episodes_dir: where :meth:`save` writes episode files (created when first needed).
    """

    def __init__(self, episodes_dir: str | os.PathLike):
        self.episodes_dir = pathlib.Path(episodes_dir)
        self.games: dict[str, Game] = {}
        self._lock = threading.Lock()
        self._count = 0

    # ------------------------------------------------------------------ look-ups
    def _game(self, game_id: str) -> Game:
        game = self.games.get(game_id)
        if game is None:
            known = ", ".join(self.games) or "none (start one with start_game)"
            raise GameError(f"unknown game id {game_id!r}; games of this session: {known}")
        return game

    def list_games(self) -> dict[str, Any]:
        """The envs, the agents and shipped policies that can play them, and this session's games."""
        from htjax import policies

        envs = []
        for env_id in available_envs():
            try:
                env = make(env_id)
            except HtjaxError as err:  # a registered game that cannot be built shows why
                envs.append({"id": env_id, "error": str(err)})
                continue
            envs.append(
                {
                    "id": env.id,
                    "version": env.version,
                    "players": env.num_players,
                    "simultaneous": env.simultaneous,
                    "actions": list(env.action_labels),
                    "opponents": opponent_names(env),
                }
            )
        return {
            "envs": envs,
            "shipped_policies": list(policies.names()),
            "games": [self._summary(g) for g in self.games.values()],
        }

    def _summary(self, game: Game) -> dict[str, Any]:
        rec = game.recorder
        return {
            "game_id": game.id,
            "env": game.env.id,
            "seat": game.seat,
            "opponent": game.opponent,
            "step": rec.step,
            "over": rec.done,
        }

    # ------------------------------------------------------------------ playing
    def start(
        self,
        env_id: str,
        *,
        opponent: str = "random",
        seat: int = 0,
        seed: int = 0,
        rules: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start a game of ``env_id`` with the client at ``seat`` and ``opponent`` at every other
        seat; opponents that act first move at once. Returns the game's state (see :meth:`state`)."""
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise GameError(f"seed must be an integer in [0, 2**32), got {seed!r}")
        if config is not None and not isinstance(config, dict):
            raise GameError(f"config must be an object of config fields, got {type(config).__name__}")
        try:
            env = make(env_id, preset=rules, **(config or {}))
        except (HtjaxError, ConfigError, TypeError, ValueError) as err:
            raise GameError(f"cannot start {env_id!r}: {err}") from err
        if isinstance(seat, bool) or not isinstance(seat, int) or not 0 <= seat < env.num_players:
            raise GameError(f"{env.id}: seat must be an int in [0, {env.num_players}), got {seat!r}")
        with self._lock:
            others = [p for p in range(env.num_players) if p != seat]
            choices: dict[int, Opponent] = {}
            name = opponent if others else "none (a one-seat game: you play against the rules)"
            for p in others:
                try:
                    choices[p], name = make_opponent(env, opponent, seed + p)
                except HtjaxError as err:
                    raise GameError(str(err)) from err
            seats = [
                Seat(actor=CLIENT_ACTOR, kind="human")
                if p == seat
                else Seat(actor=f"{opponent}/seat{p}", kind="policy", policy=opponent)
                for p in range(env.num_players)
            ]
            key = key_data(episode_key_for(jax.random.PRNGKey(seed), 0))
            recorder = Recorder.start(env, np.asarray(key), seats, public_view=True)
            self._count += 1
            game = Game(f"{env.id}-{self._count}", recorder, seat, name, choices)
            self.games[game.id] = game
            moves = self._opponents_move(game)
            return {**self._state(game, "text"), "opponent": game.opponent, "opponent_moves": moves}

    def _opponents_move(self, game: Game) -> list[dict[str, Any]]:
        """Let the other seats act until the client is to move or the game is over."""
        rec, env, done = game.recorder, game.env, []
        while not rec.done and game.seat not in rec.to_move():
            state = jax.device_get(rec.state)
            for p in rec.to_move():
                obs = np.asarray(state.observation)
                mask = np.asarray(state.legal_action_mask)
                if env.simultaneous:
                    obs, mask = obs[p], mask[p]
                action = game.opponents[p](state, p, obs, mask, game.moves)
                game.moves += 1
                rec.append(int(action), seat=p)
                done.append({"seat": p, "action": int(action), "label": env.action_labels[int(action)]})
        return done

    def _parse(self, game: Game, action: Any, mask: np.ndarray) -> int:
        from htjax.play import parse_action

        env = game.env
        if isinstance(action, bool) or not isinstance(action, (int, str)):
            raise GameError(f"action must be an action id (int) or label (string), got {action!r}")
        try:
            return parse_action(str(action), env.action_labels, mask)
        except ValueError as err:
            raise GameError(f"{env.id} game {game.id}: {err}") from err

    def act(self, game_id: str, action: int | str) -> dict[str, Any]:
        """The client's ``action`` (an id, or a label such as ``"hit"``), then the opponents' moves.

        Returns what happened (the client's action, the opponents' moves, the client's reward
        from them) and the new state as text."""
        with self._lock:
            game = self._game(game_id)
            rec, env = game.recorder, game.env
            if rec.done:
                raise GameError(f"game {game_id} is over ({rec.step} steps); start a new one with start_game")
            if game.seat not in rec.to_move():
                raise GameError(f"game {game_id}: it is not your turn (seats to move: {rec.to_move()})")
            mask = np.asarray(rec.state.legal_action_mask)
            mask = mask[game.seat] if env.simultaneous else mask
            chosen = self._parse(game, action, mask)
            before = rec.step
            rec.append(chosen, seat=game.seat, actor=CLIENT_ACTOR)
            moves = self._opponents_move(game)
            rewards = np.asarray(jax.device_get(rec.derivation.states.rewards))[before + 1 : rec.step + 1]
            reward = float(rewards[:, game.seat].sum()) if len(rewards) else 0.0
            return {
                "your_action": {"id": chosen, "label": env.action_labels[chosen]},
                "opponent_moves": moves,
                "reward": reward,
                **self._state(game, "text"),
            }

    # ------------------------------------------------------------------ looking
    def _state(self, game: Game, form: str) -> dict[str, Any]:
        rec, env = game.recorder, game.env
        state = jax.device_get(rec.state)
        out: dict[str, Any] = {"game_id": game.id, "env": env.id, "seat": game.seat, "step": rec.step}
        out["over"] = rec.done
        out["your_turn"] = game.seat in rec.to_move()
        rewards = np.asarray(jax.device_get(rec.derivation.states.rewards))[1 : rec.step + 1]
        out["your_return"] = float(rewards[:, game.seat].sum()) if len(rewards) else 0.0
        if rec.done:
            outcome = rec.doc.outcome()
            out["returns"] = list(outcome.returns) if outcome is not None else None
        if out["your_turn"]:
            mask = np.asarray(state.legal_action_mask)
            out["legal_actions"] = _labels(env, mask[game.seat] if env.simultaneous else mask)
        if form in ("text", "both"):
            out["text"] = str(env.render_text(state, game.seat))
        if form in ("svg", "both"):
            out["svg"] = render_svg(env, state, game.seat, params=rec.env_params)
        return out

    def state(self, game_id: str, form: str = "both") -> dict[str, Any]:
        """The game as the client's seat sees it: ``text`` (the game's text table), ``svg``
        (:func:`htjax.render.render_svg` for the seat) or ``both``, plus turn, legal actions
        and the client's return so far."""
        if form not in ("text", "svg", "both"):
            raise GameError(f"format must be 'text', 'svg' or 'both', got {form!r}")
        with self._lock:
            return self._state(self._game(game_id), form)

    def legal_actions(self, game_id: str) -> dict[str, Any]:
        """The client's legal actions now (ids and labels); empty when it is not its turn."""
        with self._lock:
            game = self._game(game_id)
            rec, env = game.recorder, game.env
            turn = game.seat in rec.to_move()
            actions: list[dict[str, Any]] = []
            if turn:
                mask = np.asarray(rec.state.legal_action_mask)
                actions = _labels(env, mask[game.seat] if env.simultaneous else mask)
            return {
                "game_id": game.id,
                "your_turn": turn,
                "over": rec.done,
                "actions": actions,
                "all_actions": [{"id": i, "label": a} for i, a in enumerate(env.action_labels)],
            }

    # ------------------------------------------------------------------ episodes
    def _path_for(self, game: Game, name: str | None) -> pathlib.Path:
        if name is None:
            name = game.id
        if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
            raise GameError(
                f"name must be a plain file name (letters, digits, '.', '_', '-'; no folders), got {name!r}"
            )
        if not name.endswith(FILE_SUFFIX):
            name += FILE_SUFFIX
        return self.episodes_dir / name

    def save(self, game_id: str, name: str | None = None) -> dict[str, Any]:
        """Save the game's episode document (finished or not) as ``<episodes dir>/<name>.automerge``."""
        with self._lock:
            game = self._game(game_id)
            path = self._path_for(game, name)
            try:
                self.episodes_dir.mkdir(parents=True, exist_ok=True)
                save(game.recorder.doc, path)
            except OSError as err:
                raise GameError(f"cannot save the episode to {str(path)!r}: {err.strerror or err}") from err
            return {
                "game_id": game.id,
                "path": str(path.resolve()),
                "steps": game.recorder.step,
                "over": game.recorder.done,
            }

    def replay(self, game_id: str | None = None, file: str | None = None) -> dict[str, Any]:
        """Replay and verify a game's document, or a saved episode file (a name in the episodes
        folder or a path), with the JAX env: checkpoint digests, outcome and the move list."""
        if (game_id is None) == (file is None):
            raise GameError("give exactly one of game_id (a game of this session) or file (a saved episode)")
        with self._lock:
            if game_id is not None:
                doc, source = self._game(game_id).recorder.doc, f"game {game_id}"
            else:
                path = pathlib.Path(file)
                if not path.is_file():
                    named = self.episodes_dir / (file if file.endswith(FILE_SUFFIX) else file + FILE_SUFFIX)
                    if not named.is_file():
                        raise GameError(
                            f"no episode file {file!r} (neither a path nor a name in {str(self.episodes_dir)!r})"
                        )
                    path = named
                try:
                    doc = load(path)
                except (SyncError, OSError) as err:
                    raise GameError(f"cannot read episode {str(path)!r}: {err}") from err
                source = str(path)
            try:
                r = replay(doc)
            except SyncError as err:
                raise GameError(f"{source}: replay failed: {err}") from err
            env, d = r.env, r.derivation
            moves = [
                {"step": t, "seat": e.seat, "actor": e.actor, "action": env.action_labels[e.action]}
                for t in range(r.length)
                for e in (d.entries[i] for i in d.accepted[t])
            ]
            o = r.outcome
            return {
                "source": source,
                "env": env.id,
                "verified": True,
                "verified_checkpoints": list(r.verified),
                "steps": o.length,
                "finished": o.terminated or o.truncated,
                "returns": list(o.returns),
                "moves": moves,
                "seats": [s.actor for s in doc.header.seats],
            }
