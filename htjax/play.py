"""A person plays an htjax env in the terminal (``htjax play``).

The loop is plain Python around one jitted ``init`` and ``step`` of a single world, reading
one action per line from a text stream, so it is scriptable::

    printf 'bet 1\\nstand\\nq\\n' | htjax play blackjack --seed 0

Games are episodes: game ``k`` is ``episode_key_for(PRNGKey(seed), k)``, so a seed replays
the same deals for the same actions (for blackjack's default ``episode="round"`` a game is one
round). An action is typed as its number or its label (any case, or an unambiguous prefix: ``h``
is ``hit``); a label made of alternatives such as ``check/call`` also answers to each of them
(``check``, ``call``). ``?`` or ``help`` lists the legal actions and ``q`` quits. Actions the mask
forbids are refused with a message (the person is asked again), never sent to the env.

Other seats, in multi-seat games, play uniformly random legal actions, or an exported policy
(``htjax play holdem --opponent holdem``, see :func:`onnx_opponent`): any
``opponent(observation, legal_action_mask) -> action`` over the acting seat's own view. In
simultaneous games (the prisoner's dilemma) every seat moves at once: the person chooses first,
then the other seats' moves are drawn from their own views, and the round's moves are shown.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import pathlib
from typing import Callable, TextIO

import jax
import numpy as np
from rich.console import Console

from htjax import program_cache
from htjax.console import compiling
from htjax.core.env import Env, HtjaxError, State
from htjax.core.keys import episode_key_for, step_key

__all__ = ["PlaySummary", "SeatPolicy", "play_session", "parse_action", "render_state", "onnx_opponent"]

SeatPolicy = Callable[[np.ndarray, np.ndarray], int]
"""``opponent(observation, legal_action_mask) -> action`` of the seat that acts: its own
observation (``observation_dtype[*observation_shape]``) and ``bool[num_actions]`` mask."""

QUIT_WORDS = ("q", "quit", "exit")
HELP_WORDS = ("?", "help")


@dataclasses.dataclass
class PlaySummary:
    """What a session did: games (episodes) finished and the person's total reward (including
    rewards of a game left unfinished by ``q`` or end of input)."""

    games: int = 0
    total_reward: float = 0.0
    quit: bool = False


@functools.lru_cache(maxsize=16)
def _program(env: Env):
    def step(state, action, episode_key):
        return env.step(state, action, step_key(episode_key, state.step_count))

    shape = program_cache.eval_shape(
        env.init, jax.ShapeDtypeStruct((2,), np.uint32), name="init-shape", env=env
    )
    tree = jax.tree_util.tree_structure(shape)
    state_tree = lambda args: tree  # noqa: E731
    return (
        program_cache.jit(env.init, name="play-init", env=env, out_tree=state_tree),
        program_cache.jit(
            step, name="play-step", env=env, out_tree=lambda args: jax.tree_util.tree_structure(args[0])
        ),
        program_cache.jit(
            episode_key_for, name="play-key", out_tree=lambda args: jax.tree_util.tree_structure(args[0])
        ),
    )


def render_state(env: Env, state: State, seat: int | None) -> str:
    """``env.render_text(state, seat)``: the game's table as text (see :class:`htjax.core.env.Env`)."""
    return env.render_text(jax.device_get(state), seat)  # host values: no jax op compiles per call


def onnx_opponent(
    path: str | pathlib.Path, env: Env, *, seed: int = 0, greedy: bool = False
) -> tuple[SeatPolicy, str]:
    """A :data:`SeatPolicy` playing the exported policy at ``path`` (or a shipped policy name,
    see :func:`htjax.policies.resolve`), and its display name.

    The policy samples from its probabilities with a ``numpy`` generator seeded by ``seed``
    (``greedy``: its most probable legal action), so a session replays for the same seed.

    Raises:
      htjax.policies.UnknownPolicyError: neither a shipped name nor a file (lists the names).
      htjax.train.onnx_policy.OnnxModelError: corrupt or non-htjax file.
      htjax.train.checkpoint.EnvMismatchError: the policy was made for another env, env version
        or rules (the message names the difference).
    """
    from htjax.policies import load as load_policy

    policy = load_policy(path, env)
    rng = np.random.default_rng([seed, 0x0F0])

    def opponent(observation: np.ndarray, legal_action_mask: np.ndarray) -> int:
        return int(policy.act(observation, legal_action_mask, None if greedy else rng, greedy=greedy))

    return opponent, policy.name


def _names(label: str) -> tuple[str, ...]:
    """What a label answers to: itself and, for ``"check/call"``, each alternative."""
    low = label.lower()
    return (low, *(part for part in low.split("/") if part and "/" in low))


def parse_action(text: str, labels: tuple[str, ...], legal: np.ndarray) -> int:
    """Action id of ``text``: a number, a label, one alternative of a label such as
    ``check/call`` (``"call"``), or a unique prefix of those (any case).

    Raises:
      ValueError: with a message for the person (unknown, ambiguous or not legal now).
    """
    word = text.strip()
    legal_names = ", ".join(f"{i}={labels[i]}" for i in np.flatnonzero(legal))
    if word.lstrip("-").isdigit():
        action = int(word)
        if not 0 <= action < len(labels):
            raise ValueError(f"no action number {action}; legal now: {legal_names}")
    else:
        lowered = word.lower()
        exact = [i for i, label in enumerate(labels) if lowered in _names(label)]
        matches = exact or [
            i for i, label in enumerate(labels) if any(n.startswith(lowered) for n in _names(label))
        ]
        legal_matches = [i for i in matches if legal[i]]
        if len(legal_matches) == 1:
            matches = legal_matches
        if not matches:
            raise ValueError(f"unknown action {word!r}; legal now: {legal_names}")
        if len(matches) > 1:
            raise ValueError(
                f"{word!r} is ambiguous ({', '.join(labels[i] for i in matches)}); legal now: {legal_names}"
            )
        action = matches[0]
    if not legal[action]:
        raise ValueError(f"{labels[action]} is not legal now; legal now: {legal_names}")
    return action


def _legal_line(env: Env, legal: np.ndarray) -> str:
    return "  ".join(f"[bold]{i}[/] {env.action_labels[i]}" for i in np.flatnonzero(legal))


def play_session(
    env: Env,
    *,
    seed: int,
    read_line: Callable[[], str],
    console: Console,
    games: int | None = None,
    seat: int = 0,
    opponent: SeatPolicy | None = None,
    opponent_name: str = "policy",
    status: Console | None = None,
) -> PlaySummary:
    """Play games (episodes) until ``games`` are done, the person types ``q`` or input ends.

    Args:
      env: any htjax env (turn-based or simultaneous).
      seed: the session's seed (game ``k`` is episode ``episode_key_for(PRNGKey(seed), k)``).
      read_line: returns the next input line, ``""`` at end of input (like ``TextIO.readline``).
      console: where the table and prompts go.
      games: stop after this many games (``None``: until ``q`` or end of input).
      seat: the person's seat.
      opponent: plays every other seat from that seat's observation and legal mask (see
        :data:`SeatPolicy`); ``None``: uniformly random legal actions.
      opponent_name: how the opponent is named in the transcript.
      status: where a spinner shows while ``init`` and ``step`` compile, before the first game
        (``None``: no spinner; the CLI passes a stderr console). Compiling first means the first
        move answers at once.

    Raises:
      HtjaxError: ``seat`` out of range, or an opponent that returns an action the mask forbids.
    """
    if not 0 <= seat < env.num_players:
        raise HtjaxError(f"seat must be in [0, {env.num_players}), got {seat}")
    init, step, key_of = _program(env)
    world_key = np.asarray(jax.random.PRNGKey(seed))
    with compiling(f"{env.id}'s rules", status) if status is not None else contextlib.nullcontext():
        key0 = key_of(world_key, np.int32(0))
        first = init(key0)
        probe = np.argmax(np.asarray(first.legal_action_mask), axis=-1).astype(np.int32)
        jax.block_until_ready(step(first, probe, key0))
    others = np.random.default_rng(seed)

    def other_action(player: int, observation, legal: np.ndarray) -> int:
        if opponent is None:
            return int(others.choice(np.flatnonzero(legal)))
        action = int(opponent(np.asarray(observation), legal))
        if not (0 <= action < env.num_actions and legal[action]):
            raise HtjaxError(
                f"{opponent_name} at seat {player} chose action {action}, which is not legal now "
                f"(legal: {np.flatnonzero(legal).tolist()})"
            )
        return action

    def ask(legal: np.ndarray) -> int | None:
        """The person's action, or ``None`` to stop (``q`` or end of input)."""
        console.print(f"actions: {_legal_line(env, legal)}   ([bold]?[/] help, [bold]q[/] quit)")
        while True:
            console.print("action> ", end="")
            line = read_line()
            if line == "":  # end of input
                console.print()
                return None
            word = line.strip()
            if not word:
                continue
            if word.lower() in QUIT_WORDS:
                return None
            if word.lower() in HELP_WORDS:
                console.print(f"type a number or a label: {_legal_line(env, legal)}")
                continue
            try:
                return parse_action(word, env.action_labels, legal)
            except ValueError as err:
                console.print(f"[red]{err}[/]")

    def who(player: int) -> str:
        return f"seat {player}" if opponent is None else f"{opponent_name} (seat {player})"

    summary = PlaySummary()
    while games is None or summary.games < games:
        episode_key = key_of(world_key, np.int32(summary.games))
        state = init(episode_key)
        host = jax.device_get(state)  # read on the host: no eager jax op (each would compile)
        game_reward = 0.0
        console.rule(f"game {summary.games + 1}")
        while not bool(host.terminated | host.truncated):
            if env.simultaneous:
                masks = np.asarray(host.legal_action_mask)
                console.print(render_state(env, host, seat))
                mine = ask(masks[seat])
                if mine is None:
                    summary.quit = True
                    return summary
                observations = np.asarray(host.observation)
                actions = [
                    mine if p == seat else other_action(p, observations[p], masks[p])
                    for p in range(env.num_players)
                ]
                console.print(
                    f"you play {env.action_labels[mine]}; "
                    + "; ".join(
                        f"{who(p)} plays {env.action_labels[a]}" for p, a in enumerate(actions) if p != seat
                    )
                )
                action = np.asarray(actions, np.int32)
            else:
                legal = np.asarray(host.legal_action_mask)
                player = int(host.current_player)
                if player != seat:
                    action = np.int32(other_action(player, host.observation, legal))
                    console.print(f"{who(player)} plays {env.action_labels[int(action)]}")
                else:
                    console.print(render_state(env, host, seat))
                    mine = ask(legal)
                    if mine is None:
                        summary.quit = True
                        return summary
                    console.print(f"you play {env.action_labels[mine]}")
                    action = np.int32(mine)
            state = step(state, action, episode_key)
            host = jax.device_get(state)
            reward = float(host.rewards[seat])
            game_reward += reward
            summary.total_reward += reward
            if reward and not bool(host.terminated | host.truncated):
                console.print(f"[bold]reward {reward:+g}[/]   (this game {game_reward:+g})")
        summary.games += 1
        console.print(render_state(env, host, seat))
        console.print(
            f"[bold]game {summary.games} over[/]: {game_reward:+g}   (total {summary.total_reward:+g} "
            f"after {summary.games} game{'s' if summary.games != 1 else ''})"
        )
    return summary


def stream_reader(stream: TextIO) -> Callable[[], str]:
    """``read_line`` over a text stream."""
    return stream.readline
