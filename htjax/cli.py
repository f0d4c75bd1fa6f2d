"""The ``htjax`` command line (typer + rich).

Commands: ``envs``, ``play``, ``bench``, ``train``, ``export``, ``demo``, ``tournament``,
``record``, ``replay``, ``inspect``, ``fork``, ``merge``, ``whatif`` (``docs/cli.md`` has them
all, with examples). Global options: ``--version`` and ``--no-compile-cache``.

Errors: no traceback reaches the terminal. A user error (a bad option, an unknown env, a
missing or unwritable path, a size that does not fit in memory) prints one line
``error: ...`` on stderr and exits with :data:`EXIT_USAGE` (2); a check that ran and failed (a
replay that does not verify, an export that disagrees with JAX) exits with :data:`EXIT_FAILED`
(1), and so does an unexpected internal error, reported as one line (``HTJAX_DEBUG=1`` shows the
traceback). Ctrl-C exits with 130.

The episode-file commands (``record`` ... ``whatif``) live in :mod:`htjax.cli_episodes` and the
training commands (``train``, ``export``) in :mod:`htjax.cli_train`, which
registers them on :data:`app`.

Adding a command: write one small function below decorated with ``@command("name")`` (it
wraps typer's ``app.command`` with the error handling above); put its logic in a module of its
own (as :mod:`htjax.play`, :mod:`htjax.bench` and :mod:`htjax.demo` do) and keep the command to
argument parsing and printing. Use :func:`load_env` for ``ENV --rules/--config``,
:func:`seed_option` for ``--seed``, :func:`input_file`, :func:`output_file` and
:func:`output_dir` to check paths before any work, and :func:`fail` for user errors.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import sys
from typing import Any, Callable, List, Optional

import typer

try:  # typer >= 0.20 vendors click as typer._click; older typer uses click itself
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer
    import click
from rich import box
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

import htjax
from htjax import cli_scale
from htjax.console import (  # noqa: F401  (re-exported for commands in other modules)
    EXIT_FAILED,
    EXIT_USAGE,
    SEED_MAX,
    _escape,
    _one_line,
    check_seed,
    enable_compile_cache,
    error_console,
    fail,
    input_file,
    output_dir,
    output_file,
    progress_bar,
)
from htjax.core.config import ConfigError
from htjax.core.env import Env, HtjaxError
from htjax.envs import available_envs, env_class, make

__all__ = [
    "app",
    "load_env",
    "fail",
    "progress_bar",
    "seed_option",
    "check_seed",
    "input_file",
    "output_file",
    "output_dir",
    "enable_compile_cache",
    "EXIT_USAGE",
    "EXIT_FAILED",
    "SEED_MAX",
]

_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2


class _Group(TyperGroup):
    """Usage errors from click (a bad option value, a missing argument) as one ``error:`` line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(
                args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra
            )
            code = rv if isinstance(rv, int) else 0  # typer.Exit(code) comes back as its code
        except _NO_ARGS_IS_HELP as err:
            err.show()
            code = 0
        except click.ClickException as err:
            where = f" (see '{err.ctx.command_path} --help')" if getattr(err, "ctx", None) else ""
            Console(stderr=True, soft_wrap=True).print(
                f"[red]error:[/] {_escape(_one_line(err.format_message()))}{where}", highlight=False
            )
            code = err.exit_code
        except typer.Abort:
            Console(stderr=True).print("[red]error:[/] aborted", highlight=False)
            code = EXIT_FAILED
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="htjax",
    cls=_Group,
    help="Vectorised card-game RL environments in pure JAX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _guard(fn: Callable) -> Callable:
    """Turn every exception of a command into one ``error:`` line and an exit status."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except (HtjaxError, ConfigError, ValueError, OSError, MemoryError) as err:
            if os.environ.get("HTJAX_DEBUG"):
                raise
            fail(str(err) or type(err).__name__)
        except BaseException as err:  # noqa: BLE001 - pyo3 panics derive from BaseException
            if isinstance(err, (SystemExit, GeneratorExit)) or os.environ.get("HTJAX_DEBUG"):
                raise
            fail(
                f"internal error ({type(err).__name__}: {err}); rerun with HTJAX_DEBUG=1 for the traceback "
                "and please report it",
                code=EXIT_FAILED,
            )

    return run


def command(name: str) -> Callable[[Callable], Callable]:
    """``@app.command(name)`` with :func:`_guard`'s error handling."""
    return lambda fn: app.command(name)(_guard(fn))


# --------------------------------------------------------------------------- global options
def _version(value: bool) -> None:
    if value:
        import jax

        typer.echo(f"htjax {htjax.__version__} (jax {jax.__version__}, Python {sys.version.split()[0]})")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print htjax's version and exit."
    ),
    no_compile_cache: bool = typer.Option(
        False,
        "--no-compile-cache",
        help="Do not use JAX's persistent compilation cache (~/.cache/htjax/jax; also HTJAX_NO_COMPILE_CACHE=1).",
    ),
) -> None:
    """Vectorised card-game RL environments in pure JAX."""
    if not no_compile_cache:
        enable_compile_cache()


# --------------------------------------------------------------------------- shared argument checks
def seed_option(help: str = "Seed (an integer in [0, 2**32)).") -> Any:
    """The ``--seed`` option every command shares: an int in ``[0, 2**32)``, checked by click."""
    return typer.Option(0, "--seed", min=0, max=SEED_MAX, help=help)


def _config_overrides(config: str | None) -> dict[str, Any]:
    if config is None:
        return {}
    text = config
    if not config.lstrip().startswith(("{", "[")):
        path = pathlib.Path(config)
        if not path.exists():
            fail(
                f"--config: no such file {config!r} (give a JSON object such as '{{\"num_decks\": 2}}' or a path to one)"
            )
        text = input_file(path, "--config").read_text(errors="replace")
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        where = "" if text is config else f" in {config!r}"
        fail(f"--config must be a JSON object of config fields or a path to one; invalid JSON{where}: {err}")
    if not isinstance(values, dict):
        fail(f"--config must be a JSON object of config fields, got {type(values).__name__}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def load_env(env_id: str, rules: str | None = None, config: str | None = None) -> tuple[Env, str]:
    """``(env, rules label)`` from an id, an optional preset name and optional JSON overrides."""
    overrides = _config_overrides(config)
    try:
        env = make(env_id, preset=rules, **overrides)
    except (HtjaxError, ConfigError, TypeError, ValueError) as err:
        fail(str(err))
    label = rules or "default"
    if overrides:
        label += " + " + json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()})
    return env, label


# --------------------------------------------------------------------------- envs
@command("envs")
def envs_command() -> None:
    """List the registered envs: id, version, seats, actions, observation, presets."""
    console = Console()
    table = Table(title="htjax envs", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True)
    narrow = console.width < 100  # abbreviate headers so the presets keep room
    for column, short in (
        ("version", "ver"),
        ("players", "players"),
        ("actions", "actions"),
        ("obs shape", "obs"),
        ("simultaneous", "simult."),
    ):
        justify = "right" if column in ("players", "actions") else "left"
        table.add_column(short if narrow else column, justify=justify, no_wrap=True)
    table.add_column("presets", overflow="fold")
    for env_id in available_envs():
        try:
            cls = env_class(env_id)
            env = cls()
            row = (
                env_id,
                env.version,
                str(env.num_players),
                str(env.num_actions),
                str(list(env.observation_shape)),
                "yes" if env.simultaneous else "no",
                ", ".join(sorted(cls.config_class.PRESETS)) or "-",
            )
        except Exception as err:  # one broken game must not hide the others
            row = (env_id, "?", "?", "?", "?", "?", f"[red]unavailable: {err}[/]")
        table.add_row(*row)
    console.print(table)


# --------------------------------------------------------------------------- play
@command("play")
def play_command(
    env_id: str = typer.Argument("blackjack", help="Env id (see `htjax envs`)."),
    seed: int = seed_option(
        "Seed of the deals (an integer in [0, 2**32)): the same seed and actions replay the same game."
    ),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rules preset."),
    config: Optional[str] = typer.Option(None, "--config", help="JSON object (or file) of config fields."),
    games: Optional[int] = typer.Option(None, min=1, help="Stop after this many games (episodes)."),
    seat: Optional[List[str]] = typer.Option(
        None,
        "--seat",
        help="Your seat (other seats play randomly, or --opponent). Live games: SEAT=WHO, repeatable; WHO is "
        "person, random, a shipped policy name or an .onnx file.",
    ),
    opponent: Optional[str] = typer.Option(
        None,
        "--opponent",
        help="Plays every other seat: a shipped policy by name (holdem, ...), an ONNX file made for ENV, "
        "or `scripted` (cuttle).",
    ),
    greedy: bool = typer.Option(
        False, "--greedy/--sample", help="The --opponent policy plays its most probable action, or samples."
    ),
    host: bool = typer.Option(
        False, "--host", help="Host a live game and print its URL for --join (docs/p2p.md)."
    ),
    join: Optional[str] = typer.Option(
        None, "--join", help="Join the live game at this URL (what --host printed)."
    ),
    relay: Optional[str] = typer.Option(
        None, "--relay", help="With --host: meet through this relay (ws://...)."
    ),
    token: Optional[str] = typer.Option(
        None, "--token", help="Live games: the relay's or host's shared secret."
    ),
    dealing: Optional[str] = typer.Option(
        None, "--dealing", help="Live games: open or dealer (default: dealer for hidden-information games)."
    ),
    listen: str = typer.Option(
        "127.0.0.1:0", "--listen", help="With --host: HOST:PORT to serve on (0: any port)."
    ),
    timeout: float = typer.Option(600.0, "--timeout", min=1, help="Live games: seconds before giving up."),
    out: Optional[pathlib.Path] = typer.Option(
        None, "--out", "-o", help="Live games: save the final episode here."
    ),
) -> None:
    """Play ENV in the terminal: type an action's number or label; `?` for help, `q` to quit."""
    from htjax.play import onnx_opponent, play_session

    env, label = load_env(env_id, rules, config)
    if host or join is not None:
        from htjax.play_live import run_from_cli

        return run_from_cli(env, host, join, relay, token, dealing, seat or [], seed, listen, timeout, out)
    if relay is not None or dealing is not None:
        fail("--relay and --dealing are for live games: add --host (or --join URL)")
    if len(seat or []) > 1 or not (seat or ["0"])[0].isdigit():
        fail(f"--seat must be one seat number without --host/--join, got {' '.join(seat or [])}")
    seat = int((seat or ["0"])[0])
    if seat >= env.num_players:
        fail(f"--seat must be in [0, {env.num_players}) for {env.id}, got {seat}")
    console = Console(highlight=False)
    policy, policy_name = None, "policy"
    if opponent == "scripted" and env.id == "cuttle":  # the scripted player of htjax.agents.cuttle
        from htjax.agents.cuttle import seat_policy

        policy, policy_name = seat_policy(seed), "scripted"
    elif opponent is not None:
        from htjax.policies import resolve

        try:  # a shipped policy's name or a path to a user's own file
            opponent_path = resolve(opponent)
        except HtjaxError as err:
            fail(f"--opponent: {err}")
        policy, policy_name = onnx_opponent(opponent_path, env, seed=seed, greedy=greedy)
    against = "" if policy is None else f", against {policy_name}" + (" (greedy)" if greedy else "")
    console.print(f"[bold]{env.id}[/] {env.version} ({label}), seed {seed}{against}")
    summary = play_session(
        env,
        seed=seed,
        read_line=sys.stdin.readline,
        console=console,
        games=games,
        seat=seat,
        opponent=policy,
        opponent_name=policy_name,
        status=error_console(),
    )
    console.print(
        f"[bold]{summary.games}[/] game{'s' if summary.games != 1 else ''} finished, "
        f"total reward [bold]{summary.total_reward:+g}[/]"
        + (" (game in progress included)" if summary.quit else "")
    )


# --------------------------------------------------------------------------- bench
@command("bench")
def bench_command(
    env_id: str = typer.Argument(..., help="Env id (see `htjax envs`)."),
    num_envs: int = typer.Option(1024, "--num-envs", "-n", min=1, help="Batched worlds."),
    steps: int = typer.Option(1000, "--steps", "-t", min=1, help="Steps per world."),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rules preset."),
    config: Optional[str] = typer.Option(None, "--config", help="JSON object (or file) of config fields."),
    autoreset: str = typer.Option("select", help="Auto-reset form: select or cond."),
    world_tile: Optional[int] = typer.Option(
        None,
        "--world-tile",
        min=1,
        help="Step the worlds in tiles of this many (dividing each device's share): same values, "
        "faster for large batches on a CPU.",
    ),
    seed: int = seed_option("Rollout seed (an integer in [0, 2**32))."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    distributed: bool = cli_scale.distributed_option(),
    coordinator: Optional[str] = cli_scale.coordinator_option(),
    num_processes: Optional[int] = cli_scale.num_processes_option(),
    process_id: Optional[int] = cli_scale.process_id_option(),
    join_timeout: float = cli_scale.join_timeout_option(),
) -> None:
    """Steps/s of ENV with a random policy: compile seconds, peak memory and device too.

    With --distributed the worlds are split over every device of every process (start one
    process per host with the same options; process 0 prints the result; docs/scale.md)."""
    info = cli_scale.join(distributed, coordinator, num_processes, process_id, join_timeout)
    import jax

    from htjax.bench import check_memory, measure_throughput
    from htjax.core.rollouts import AUTORESET_MODES

    if autoreset not in AUTORESET_MODES:
        fail(f"--autoreset must be one of {', '.join(AUTORESET_MODES)}, got {autoreset!r}")
    env, label = load_env(env_id, rules, config)
    if world_tile is not None and num_envs % world_tile:
        fail(f"--world-tile {world_tile} must divide --num-envs {num_envs}")
    if info is not None:
        from htjax.core.distributed import check_same_across_processes

        check_same_across_processes(
            "htjax bench --distributed",
            {
                "env": env.id,
                "config": env.config.to_dict(),
                "num_envs": num_envs,
                "steps": steps,
                "seed": seed,
                "autoreset": autoreset,
                "world_tile": world_tile,
            },
        )
    check_memory(env, num_envs, steps)
    err_console = error_console()
    total = num_envs * steps
    quiet = info is not None and info.process_id != 0
    with progress_bar(err_console, transient=json_output or quiet) as bar:
        task = bar.add_task(f"{env.id} x{num_envs} (compiling)", total=total)
        result = measure_throughput(
            env,
            num_envs,
            steps,
            key=jax.random.PRNGKey(seed),
            autoreset=autoreset,
            rules=label,
            devices=None if info is None else "all",
            world_tile=world_tile,
            progress=lambda done: bar.update(
                task, completed=min(done, total), description=f"{env.id} x{num_envs}"
            ),
        )
        bar.update(task, completed=total)
    if quiet:
        return
    if json_output:
        out = result.to_dict()
        if info is not None:
            out.update(processes=info.num_processes, devices=info.global_devices)
        typer.echo(json.dumps(out))
        return
    table = Table(title=f"htjax bench {env.id} ({label})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("worlds x steps", f"{result.num_envs:,} x {result.num_steps:,}")
    table.add_row("env steps/s", f"{result.steps_per_second:,.0f}")
    table.add_row("timed seconds", f"{result.seconds:.3f}")
    table.add_row(
        "compile seconds (init + step)",
        f"{result.compile_seconds:.2f} ({result.init_compile_seconds:.2f} + {result.step_compile_seconds:.2f})",
    )
    table.add_row("episodes finished", f"{result.episodes:,}")
    table.add_row("peak memory", f"{result.peak_memory_bytes / 2**20:,.0f} MiB ({result.peak_memory_source})")
    table.add_row("device", result.device)
    if info is not None:
        table.add_row(
            "processes x devices",
            f"{info.num_processes} x {info.local_devices} ({info.global_devices} in all)",
        )
    table.add_row("auto-reset", result.autoreset)
    if world_tile is not None:
        table.add_row("world tile", f"{world_tile:,} worlds")
    Console().print(table)


# --------------------------------------------------------------------------- demo
@command("demo")
def demo_command(
    num_envs: int = typer.Option(4096, "--num-envs", "-n", min=1, help="Batched worlds."),
    steps: int = typer.Option(1000, "--steps", "-t", min=1, help="Steps per world (per policy)."),
    seed: int = seed_option("Rollout seed (an integer in [0, 2**32))."),
    train: bool = typer.Option(
        True, "--train/--no-train", help="Then a short PPO run, ONNX export and check."
    ),
) -> None:
    """Run thousands of batched blackjack worlds (casino rules) and summarise what happened."""
    from htjax.demo import print_web_hint, run_demo

    console = Console()
    run_demo(console, num_envs=num_envs, steps=steps, seed=seed)
    if train:
        from htjax.train.demo import run_training_demo

        run_training_demo(console, seed=seed)
    print_web_hint(console)


# --------------------------------------------------------------------------- tournament
def _check_tournament_memory(num_players: int, num_agents: int, repetitions: int, turns: int) -> None:
    """Refuse a tournament whose estimate (:func:`htjax.agents.ipd.tournament.estimate_tournament_bytes`:
    one chunk of repetitions plus what the result keeps per repetition) exceeds the free memory."""
    from htjax.agents.ipd.tournament import estimate_tournament_bytes
    from htjax.core.memory import check_fits

    est = estimate_tournament_bytes(num_players, repetitions, turns=turns, num_agents=num_agents)
    per_rep = (
        estimate_tournament_bytes(
            num_players, 2 * repetitions, turns=turns, num_agents=num_agents, chunk_repetitions=1
        )["result"]
        - est["result"]
    ) / repetitions
    check_fits(
        est["total"],
        f"a tournament of {num_players} players x {repetitions:,} repetitions",
        per_rep,
        "repetitions",
        fixed_bytes=est["chunk"],
    )


@command("tournament")
def tournament_command(
    turns: int = typer.Option(100, "--turns", min=1, help="Rounds per match."),
    repetitions: int = typer.Option(
        100, "--repetitions", "-r", min=1, help="Times the round robin is played."
    ),
    noise: float = typer.Option(
        0.0, "--noise", min=0.0, max=1.0, help="Probability that each chosen move is flipped."
    ),
    seed: int = seed_option("Seed of every random draw (an integer in [0, 2**32))."),
    players: Optional[str] = typer.Option(
        None, "--players", help="Comma-separated strategy names (default: the 14 classic strategies)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as one JSON object on stdout."),
    policy: Optional[list[str]] = typer.Option(
        None,
        "--policy",
        help="A shipped policy by name (ipd) or an ONNX file (.onnx) that joins as a player, "
        "under its file name; repeatable.",
    ),
    greedy: bool = typer.Option(
        True,
        "--greedy/--sample",
        help="Policies play their most probable move, or sample from their probabilities.",
    ),
) -> None:
    """Iterated prisoner's dilemma round robin of the classic strategies (axelrod's rules), plus ONNX policies."""
    from htjax.agents.ipd.strategies import CLASSIC_14
    from htjax.agents.ipd.tournament import ranking_table, tournament

    names = None if players is None else [p.strip() for p in players.split(",") if p.strip()]
    if names is not None and not names:
        fail("--players must name at least one strategy")
    from htjax.policies import resolve

    try:  # a shipped policy's name or a path to a user's own file
        policy_paths = [resolve(p) for p in policy or ()]
    except HtjaxError as err:
        fail(f"--policy: {err}")
    _check_tournament_memory(
        len(names or CLASSIC_14) + len(policy_paths), len(policy_paths), repetitions, turns
    )
    run: Callable[..., Any]
    if policy_paths:
        from htjax.train.onnx_policy import policy_tournament

        run = functools.partial(policy_tournament, policy_paths, names, greedy=greedy)
    else:
        run = functools.partial(tournament, names)
    kwargs: dict[str, Any] = dict(turns=turns, repetitions=repetitions, noise=noise, seed=seed)
    with progress_bar(error_console(), transient=True) as bar:
        task = bar.add_task(f"{repetitions:,} round robins of {turns} turns", total=repetitions)
        result = run(**kwargs, progress=lambda done, total: bar.update(task, completed=done, total=total))
        bar.update(task, completed=repetitions)
    if json_output:
        typer.echo(json.dumps(result.to_dict()))
        return
    Console().print(ranking_table(result))


# the other commands register themselves on `app` (they import it, so they come last)
from htjax import cli_episodes, cli_live, cli_mcp, cli_train, cli_web  # noqa: E402,F401,I001


def main() -> None:  # pragma: no cover - console-script entry
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m htjax.cli`
    # run the package module's app: the commands in cli_episodes and cli_train register on
    # htjax.cli.app, not on this __main__ copy
    from htjax.cli import main as package_main

    package_main()
