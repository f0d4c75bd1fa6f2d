"""``htjax play ENV --host`` / ``--join URL``: a live game between terminals (``docs/p2p.md``).

The host creates the episode document, serves it (``Repo.listen``, or through a relay with
``--relay URL``) and prints the **game URL** (``ws://HOST:PORT/#automerge:<id>``); another
terminal joins with ``htjax play ENV --join URL``. Each peer plays the seats given by
``--seat SEAT=WHO`` (``person``, ``random``, a shipped policy name or an ``.onnx`` file; by
default the host plays seat 0 and a guest the lowest unclaimed seat, as a person) through a
:class:`~htjax.sync.live.LiveGame`, and shows only what its seats may see: in dealer mode it
knows nothing else; in open mode it shows only its seats' views. When the game is over every
peer replays and verifies the final document (``--out FILE`` saves it for ``htjax replay``).
"""

from __future__ import annotations

import asyncio
import pathlib
import sys
from typing import Callable

import numpy as np
from rich.console import Console

from htjax.core.env import Env
from htjax.core.errors import InvalidArgumentError
from htjax.play import HELP_WORDS, QUIT_WORDS, parse_action
from htjax.policies import load as load_policy
from htjax.sync import save
from htjax.sync.errors import DealingError, LiveGameError, ReplayMismatchError
from htjax.sync.live import LIVE_MODES, SeatView, make_agent, parse_seat, read_live
from htjax.sync.live.agents import SeatSpec
from htjax.sync.live.peers import game_url, host_game, join_game, split_game_url

__all__ = ["DEFAULT_DEALING", "default_dealing", "LiveQuit", "LiveCheckFailed", "play_live"]

# perfect-information games deal openly; every other game has hidden cards and a dealer
DEFAULT_DEALING = {"prisoners_dilemma": "open"}


def default_dealing(env: Env) -> str:
    """``open`` for perfect-information games (the IPD), else ``dealer``."""
    return DEFAULT_DEALING.get(env.id, "dealer")


class LiveQuit(Exception):
    """The person typed ``q`` (or input ended) during a live game."""


class LiveCheckFailed(Exception):
    """The final document, the deal or a private view did not verify (exit status 1)."""


def _person(env: Env, console: Console, read_line: Callable[[], str]):
    async def ask(view: SeatView) -> int:
        legal_line = "  ".join(f"{i} {env.action_labels[i]}" for i in np.flatnonzero(view.legal))
        console.print(f"seat {view.seat}, your move: {legal_line}   (? help, q quit)")
        loop = asyncio.get_running_loop()
        while True:
            console.print("action> ", end="")
            sys.stdout.flush()
            line = await loop.run_in_executor(None, read_line)
            word = line.strip().lower()
            if not line or word in QUIT_WORDS:
                raise LiveQuit(f"you left the game at step {view.step}")
            if word in HELP_WORDS or not word:
                console.print(f"type a number or a label: {legal_line}")
                continue
            try:
                return parse_action(line, env.action_labels, view.legal)
            except ValueError as err:
                console.print(str(err))

    ask.kind, ask.policy = "human", None  # type: ignore[attr-defined]
    return ask


def _announced(agent, env: Env, console: Console, seat: int):
    """Wrap an agent so the terminal says what it played."""

    async def play(view: SeatView) -> int:
        action = agent(view)
        if asyncio.iscoroutine(action) or isinstance(action, asyncio.Future):
            action = await action
        console.print(f"seat {seat} plays {env.action_labels[int(action)]}")
        return int(action)

    play.kind = getattr(agent, "kind", "peer")  # type: ignore[attr-defined]
    play.policy = getattr(agent, "policy", None)  # type: ignore[attr-defined]
    return play


def _agents(env: Env, specs: list[SeatSpec], seed: int, console: Console, read_line) -> dict:
    seats = [s.seat for s in specs]
    if len(set(seats)) != len(seats):
        raise InvalidArgumentError(
            f"--seat names seat(s) {sorted({s for s in seats if seats.count(s) > 1})} twice"
        )
    person = _person(env, console, read_line)
    return {
        s.seat: _announced(
            make_agent(s, env, seed=seed, person=person, load_policy=load_policy), env, console, s.seat
        )
        for s in specs
    }


def _show(console: Console, env: Env):
    def show(view: SeatView) -> None:
        console.rule(f"seat {view.seat} · step {view.step}")
        console.print(view.text, markup=False, highlight=False)
        if not view.done and not view.my_turn:
            console.print(f"waiting for seat(s) {', '.join(map(str, view.to_move))}")

    return show


async def _run(
    env: Env,
    *,
    host: bool,
    join: str | None,
    relay: str | None,
    token: str | None,
    dealing: str | None,
    seat_texts: list[str],
    seed: int,
    listen: tuple[str, int],
    timeout: float,
    out: pathlib.Path | None,
    console: Console,
    read_line: Callable[[], str],
) -> None:
    from htjax.sync.repo import Repo

    specs = [parse_seat(t, env) for t in seat_texts] if host else []
    repo = Repo()
    try:
        if host:
            mode = dealing or default_dealing(env)
            agents = _agents(env, specs or [SeatSpec(0, "person")], seed, console, read_line)
            if relay is not None:
                await repo.connect(relay, token)
                server = relay
            else:
                server = await repo.listen(listen[0], listen[1], token)
            game = await host_game(repo, env, mode, agents, name="host", on_view=_show(console, env))
            url = game_url(server, game.handle.document_id)
            console.print(f"{env.id}: {mode} dealing; seats {sorted(agents)} here")
            console.print(f"game URL: {url}")
            console.print(f"join with: htjax play {env.id} --join '{url}'")
            sys.stdout.flush()
        else:
            assert join is not None
            from htjax.sync.document import EpisodeDoc

            server, document_id = split_game_url(join)
            await repo.connect(server, token)
            handle = await repo.find(document_id, timeout=min(timeout, 10.0))
            header = EpisodeDoc(handle.doc).header  # another schema refuses here
            if header.env_id != env.id:
                raise LiveGameError(f"{document_id} is a game of {header.env_id}, not {env.id}")
            env = EpisodeDoc(handle.doc).env()  # the host's config and rules, whatever --config says
            specs = [parse_seat(t, env) for t in seat_texts]
            if not specs:
                info = read_live(handle.doc, env.num_players)
                taken = set() if info is None else set(info.bindings())
                free = [s for s in range(env.num_players) if s not in taken]
                if not free:
                    raise LiveGameError(f"every seat of the game at {join} is taken")
                specs = [SeatSpec(free[0], "person")]
            agents = _agents(env, specs, seed, console, read_line)
            game = await join_game(
                repo, document_id, agents, env_id=env.id, name="guest", on_view=_show(console, env)
            )
            mode = read_live(handle.doc, env.num_players).mode  # join_game checked it is a live game
            console.print(f"joined {env.id} ({mode} dealing); seats {sorted(agents)} here")
        try:
            result = await game.run(timeout)
        except (DealingError, ReplayMismatchError) as err:
            raise LiveCheckFailed(str(err)) from err
        await game.linger(5.0)
        outcome = result.replay.outcome
        console.rule("game over")
        for s in sorted(agents):
            console.print(f"seat {s}: return {outcome.returns[s]:+g}")
        checked = (
            f"; {result.private_checked} private views checked against the deal"
            if mode == "dealer" and not host
            else ""
        )
        console.print(
            f"verified: {outcome.length} steps replayed, checkpoints {result.replay.verified}, "
            f"key {list(result.key)} matches the {mode} dealing{checked}"
        )
        if out is not None:
            save(result.doc, out)
            console.print(f"saved {out}")
    finally:
        await repo.close()


def play_live(
    env: Env, *, read_line: Callable[[], str] | None = None, console: Console | None = None, **options
) -> None:
    """Run one live game from the terminal (options as :func:`_run`; see ``htjax play --help``).

    Raises:
      LiveQuit: the person left. LiveCheckFailed: the game did not verify.
      HtjaxError: bad input (URL, connection, protocol, document, seats), as one message.
    """
    if options.get("dealing") is not None and options["dealing"] not in LIVE_MODES:
        raise InvalidArgumentError(
            f"--dealing must be one of {', '.join(LIVE_MODES)}, got {options['dealing']!r}"
        )
    asyncio.run(
        _run(
            env,
            console=console or Console(highlight=False, soft_wrap=True),
            read_line=read_line or sys.stdin.readline,
            **options,
        )
    )


def run_from_cli(env, host, join, relay, token, dealing, seats, seed, listen, timeout, out) -> None:
    """``htjax play`` with ``--host`` or ``--join``: checks the options, plays, maps outcomes to exit codes."""
    from htjax.console import EXIT_FAILED, fail, output_file

    if host and join is not None:
        fail("--host and --join exclude each other: host a game, or join one")
    if relay is not None and not host:
        fail("--relay is for --host (a guest's --join URL already names the relay)")
    address, _, port = listen.rpartition(":")
    if not address or not port.isdigit() or int(port) > 65535:
        fail(f"--listen must be HOST:PORT with a port in [0, 65535], got {listen!r}")
    if out is not None:
        out = output_file(out, "--out")
    try:
        play_live(
            env,
            host=host,
            join=join,
            relay=relay,
            token=token,
            dealing=dealing,
            seat_texts=list(seats),
            seed=seed,
            listen=(address, int(port)),
            timeout=timeout,
            out=out,
        )
    except LiveQuit as err:
        Console(highlight=False, soft_wrap=True).print(str(err))
    except LiveCheckFailed as err:
        fail(f"the game did not verify: {err}", code=EXIT_FAILED)
