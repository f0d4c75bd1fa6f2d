"""The ``htjax`` command line (typer + rich).

Commands: ``envs`` (table of registered games), ``play`` (a person plays in the terminal),
``bench`` (throughput of one env), ``demo`` (thousands of batched worlds, then a summary),
``tournament`` (iterated prisoner's dilemma round robin).

Adding a command: write one small function below decorated with ``@app.command("name")``;
put its logic in a module of its own (as :mod:`htjax.play`, :mod:`htjax.bench` and
:mod:`htjax.demo` do) and keep the command to argument parsing and printing. Use
:func:`load_env` for ``ENV --rules/--config`` and :func:`fail` for user errors.
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any, NoReturn, Optional

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from htjax.core.config import ConfigError
from htjax.core.env import Env, HtjaxError
from htjax.envs import available_envs, env_class, make

__all__ = ["app", "load_env", "fail", "progress_bar"]

app = typer.Typer(
    name="htjax",
    help="Vectorised card-game RL environments in pure JAX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --------------------------------------------------------------------------- shared helpers
def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code`` (user errors, not tracebacks).

    The message is printed literally: brackets in it (``htjax[jax2onnx]``, ``[0, 7)``) are text,
    not rich markup."""
    from rich.markup import escape

    Console(stderr=True).print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _config_overrides(config: str | None) -> dict[str, Any]:
    if config is None:
        return {}
    path = pathlib.Path(config)
    text = path.read_text() if not config.lstrip().startswith("{") and path.is_file() else config
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"--config must be a JSON object of config fields or a path to one: {err}")
    if not isinstance(values, dict):
        fail(f"--config must be a JSON object of config fields, got {type(values).__name__}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def load_env(env_id: str, rules: str | None = None, config: str | None = None) -> tuple[Env, str]:
    """``(env, rules label)`` from an id, an optional preset name and optional JSON overrides."""
    overrides = _config_overrides(config)
    try:
        env = make(env_id, preset=rules, **overrides)
    except (HtjaxError, ConfigError, TypeError) as err:
        fail(str(err))
    label = rules or "default"
    if overrides:
        label += " + " + json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()})
    return env, label


def progress_bar(console: Console, *, transient: bool = False) -> Progress:
    """The house progress bar (description, bar, count, elapsed)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )


# --------------------------------------------------------------------------- envs
@app.command("envs")
def envs_command() -> None:
    """List the registered envs: id, version, seats, actions, observation, presets."""
    console = Console()
    table = Table(title="htjax envs", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True)
    narrow = console.width < 100  # abbreviate headers so the presets keep room
    for column, short in (("version", "ver"), ("players", "players"), ("actions", "actions"),
                          ("obs shape", "obs"), ("simultaneous", "simult.")):
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
@app.command("play")
def play_command(
    env_id: str = typer.Argument("blackjack", help="Env id (see `htjax envs`)."),
    seed: int = typer.Option(0, help="Seed of the deals: the same seed and actions replay the same game."),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rules preset."),
    config: Optional[str] = typer.Option(None, "--config", help="JSON object (or file) of config fields."),
    games: Optional[int] = typer.Option(None, min=1, help="Stop after this many games (episodes)."),
    seat: int = typer.Option(0, min=0, help="Your seat (other seats play randomly, or --opponent)."),
    opponent: Optional[str] = typer.Option(
        None, "--opponent", help="An ONNX policy (.onnx) made for ENV that plays every other seat."
    ),
    greedy: bool = typer.Option(
        False, "--greedy/--sample", help="The --opponent policy plays its most probable action, or samples."
    ),
) -> None:
    """Play ENV in the terminal: type an action's number or label; `?` for help, `q` to quit."""
    from htjax.play import onnx_opponent, play_session

    env, label = load_env(env_id, rules, config)
    console = Console(highlight=False)
    policy, policy_name = None, "policy"
    if opponent is not None:
        try:
            policy, policy_name = onnx_opponent(opponent, env, seed=seed, greedy=greedy)
        except HtjaxError as err:
            fail(str(err))
    against = "" if policy is None else f", against {policy_name}" + (" (greedy)" if greedy else "")
    console.print(f"[bold]{env.id}[/] {env.version} ({label}), seed {seed}{against}")
    try:
        summary = play_session(
            env, seed=seed, read_line=sys.stdin.readline, console=console, games=games, seat=seat,
            opponent=policy, opponent_name=policy_name,
        )
    except HtjaxError as err:
        fail(str(err))
    console.print(
        f"[bold]{summary.games}[/] game{'s' if summary.games != 1 else ''} finished, "
        f"total reward [bold]{summary.total_reward:+g}[/]"
        + (" (game in progress included)" if summary.quit else "")
    )


# --------------------------------------------------------------------------- bench
@app.command("bench")
def bench_command(
    env_id: str = typer.Argument(..., help="Env id (see `htjax envs`)."),
    num_envs: int = typer.Option(1024, "--num-envs", "-n", min=1, help="Batched worlds."),
    steps: int = typer.Option(1000, "--steps", "-t", min=1, help="Steps per world."),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rules preset."),
    config: Optional[str] = typer.Option(None, "--config", help="JSON object (or file) of config fields."),
    autoreset: str = typer.Option("select", help="Auto-reset form: select or cond."),
    seed: int = typer.Option(0, help="Rollout seed."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Steps/s of ENV with a random policy: compile seconds, peak memory and device too."""
    from htjax.bench import measure_throughput

    import jax

    env, label = load_env(env_id, rules, config)
    err_console = Console(stderr=True)
    total = num_envs * steps
    try:
        with progress_bar(err_console, transient=json_output) as bar:
            task = bar.add_task(f"{env.id} x{num_envs}", total=total)
            result = measure_throughput(
                env,
                num_envs,
                steps,
                key=jax.random.PRNGKey(seed),
                autoreset=autoreset,
                rules=label,
                progress=lambda done: bar.update(task, completed=min(done, total)),
            )
            bar.update(task, completed=total)
    except ValueError as err:
        fail(str(err))
    if json_output:
        typer.echo(json.dumps(result.to_dict()))
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
    table.add_row("auto-reset", result.autoreset)
    Console().print(table)


# --------------------------------------------------------------------------- train / export
@app.command("train")
def train_command(
    env_id: Optional[str] = typer.Argument(
        None, metavar="ENV", help="Env id (see `htjax envs`); with --resume, taken from the checkpoint."
    ),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rules preset."),
    config: Optional[str] = typer.Option(None, "--config", help="JSON config overrides (or a file)."),
    num_envs: Optional[int] = typer.Option(None, "--num-envs", min=1, help="Batched worlds (default: recipe)."),
    steps: Optional[int] = typer.Option(
        None, "--steps", min=1, help="Env steps of the whole run (default 1,000,000; with --resume: the run's target)."
    ),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, max=2**32 - 1, help="Training seed (default 0)."),
    out: Optional[str] = typer.Option(
        None, "--out", help="Checkpoint path (.npz; default checkpoints/policy.npz, with --resume the checkpoint)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing checkpoint and metrics at --out."),
    checkpoint_every: Optional[int] = typer.Option(
        None, "--checkpoint-every", min=0, help="Updates between checkpoints (default 100; 0: only at the end)."
    ),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue the run saved in this checkpoint."),
    opponents: Optional[str] = typer.Option(
        None, "--opponents", help="self (default) | pool | random | ipd-classic | holdem-baselines."
    ),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default: recipe)."),
    ppo: Optional[str] = typer.Option(None, "--ppo", help="JSON object of PPO settings, e.g. '{\"num_steps\": 8}'."),
) -> None:
    """Train a PPO policy on batched worlds; writes checkpoints and metrics (CSV and JSON).

    The checkpoint is rewritten every --checkpoint-every updates and on Ctrl-C (after the update
    in progress; exit code 130); `htjax train --resume CHECKPOINT` continues the run bit for bit.
    """
    from rich.markup import escape

    from htjax.train.commands import run_train

    if env_id is None and resume is None:
        fail("name the env to train (see `htjax envs`), or continue a run with --resume CHECKPOINT")
    ppo_values: dict[str, Any] = {}
    if ppo is not None:
        try:
            ppo_values = json.loads(ppo)
        except json.JSONDecodeError as err:
            fail(f"--ppo must be a JSON object of PPO settings: {err}")
        if not isinstance(ppo_values, dict):
            fail(f"--ppo must be a JSON object of PPO settings, got {type(ppo_values).__name__}")
    env = load_env(env_id, rules, config)[0] if env_id is not None else None
    console = Console()

    def checkpoint_line(path: pathlib.Path, updates: int) -> None:
        console.print(f"checkpoint {escape(str(path))} ({updates} updates)", soft_wrap=True, highlight=False)

    try:
        result = run_train(
            env, env_steps=steps, seed=seed, out=out, opponents=opponents, console=console,
            checkpoint_every=checkpoint_every, overwrite=overwrite, resume=resume, on_checkpoint=checkpoint_line,
            ppo=ppo_values, num_envs=num_envs, learning_rate=lr,
        )
    except (HtjaxError, ConfigError) as err:
        fail(str(err))
    if result.interrupted:
        path = escape(str(result.checkpoint))
        console.print(
            f"interrupted after {result.updates} of {result.target_updates} updates; the run is saved in {path}\n"
            f"resume with: htjax train --resume {path}",
            soft_wrap=True, highlight=False,
        )
        raise typer.Exit(130)
    last = result.metrics[-1]
    console.print(
        f"trained {result.session_env_steps:,} env steps in {result.wall_s:.1f} s "
        f"({result.session_env_steps / max(result.wall_s - result.compile_s, 1e-9):,.0f} steps/s after compiling); "
        f"return/episode {last['return_per_episode']:+.4f}; checkpoint {escape(str(result.checkpoint))}",
        soft_wrap=True, highlight=False,
    )


@app.command("export")
def export_command(
    checkpoint: str = typer.Argument(..., metavar="CHECKPOINT", help="Checkpoint (.npz) from `htjax train`."),
    out: str = typer.Option(..., "--out", help="ONNX path, e.g. policies/NAME.onnx."),
    name: Optional[str] = typer.Option(None, "--name", help="Model card name (default: file stem)."),
    backend: str = typer.Option(
        "builder", "--backend",
        help="builder (onnx.helper, default) | jax2onnx (optional extra: pip install \"htjax\\[jax2onnx]\").",
    ),
) -> None:
    """Export a checkpoint to ONNX (opset 17) with a model card, and check it in onnxruntime."""
    from htjax.train.commands import run_export
    from htjax.train.onnx_export import BACKENDS

    if backend not in BACKENDS:
        fail(f"unknown --backend {backend!r}; choose from {', '.join(BACKENDS)}")
    try:
        report = run_export(checkpoint, out, name=name, backend=backend)
    except (HtjaxError, ConfigError, OSError) as err:
        fail(str(err))
    console = Console()
    ok = report["max_abs_diff_probabilities"] <= 1e-5 and report["masked_zero_onnx"]
    console.print(
        f"wrote {report['onnx']} and {report['card']} ({report['backend']}); "
        f"onnxruntime vs JAX on {report['samples']} random inputs: "
        f"max |dp| {report['max_abs_diff_probabilities']:.2e}, max |dv| {report['max_abs_diff_value']:.2e}, "
        f"masked probabilities 0: {report['masked_zero_onnx']}"
    )
    if not ok:
        fail("onnxruntime disagrees with JAX beyond 1e-5", code=1)


# --------------------------------------------------------------------------- demo
@app.command("demo")
def demo_command(
    num_envs: int = typer.Option(4096, "--num-envs", "-n", min=1, help="Batched worlds."),
    steps: int = typer.Option(1000, "--steps", "-t", min=1, help="Steps per world (per policy)."),
    seed: int = typer.Option(0, help="Rollout seed."),
    train: bool = typer.Option(True, "--train/--no-train", help="Then a short PPO run, ONNX export and check."),
) -> None:
    """Run thousands of batched blackjack worlds (casino rules) and summarise what happened."""
    from htjax.demo import run_demo

    console = Console()
    try:
        run_demo(console, num_envs=num_envs, steps=steps, seed=seed)
        if train:
            from htjax.train.demo import run_training_demo

            run_training_demo(console, seed=seed)
    except HtjaxError as err:
        fail(str(err))


# --------------------------------------------------------------------------- tournament
@app.command("tournament")
def tournament_command(
    turns: int = typer.Option(100, "--turns", min=1, help="Rounds per match."),
    repetitions: int = typer.Option(100, "--repetitions", "-r", min=1, help="Times the round robin is played."),
    noise: float = typer.Option(0.0, "--noise", help="Probability that each chosen move is flipped."),
    seed: int = typer.Option(0, help="Seed of every random draw."),
    players: Optional[str] = typer.Option(
        None, "--players", help="Comma-separated strategy names (default: the 14 classic strategies)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as one JSON object on stdout."),
    policy: Optional[list[str]] = typer.Option(
        None, "--policy", help="An ONNX policy (.onnx) that joins as a player, under its file name; repeatable."
    ),
    greedy: bool = typer.Option(
        True, "--greedy/--sample", help="Policies play their most probable move, or sample from their probabilities."
    ),
) -> None:
    """Iterated prisoner's dilemma round robin of the classic strategies (axelrod's rules), plus ONNX policies."""
    from htjax.envs.ipd_tournament import ranking_table, tournament

    names = None if players is None else [p.strip() for p in players.split(",") if p.strip()]
    try:
        if policy:
            from htjax.train.onnx_policy import policy_tournament

            result = policy_tournament(
                policy, names, turns=turns, repetitions=repetitions, noise=noise, seed=seed, greedy=greedy
            )
        else:
            result = tournament(names, turns=turns, repetitions=repetitions, noise=noise, seed=seed)
    except (HtjaxError, ValueError, TypeError) as err:
        fail(str(err))
    if json_output:
        typer.echo(json.dumps(result.to_dict()))
        return
    Console().print(ranking_table(result))


# --------------------------------------------------------------------------- record / replay / inspect
def _worlds_option(worlds: str) -> list[int]:
    try:
        return [int(w) for w in worlds.split(",") if w.strip()]
    except ValueError:
        fail(f"--worlds must be comma-separated world indices such as 0,5,17, got {worlds!r}")


@app.command("record")
def record_command(
    env_id: str = typer.Argument(..., help="Env id (see `htjax envs`)."),
    num_envs: int = typer.Option(64, "--num-envs", "-n", min=1, help="Batched worlds to roll out."),
    steps: int = typer.Option(200, "--steps", "-t", min=1, help="Steps per world."),
    worlds: str = typer.Option("0", "--worlds", "-w", help="Worlds to record, comma-separated."),
    out: pathlib.Path = typer.Option(pathlib.Path("episodes"), "--out", "-o", help="Directory for .automerge files."),
    seed: int = typer.Option(0, help="Rollout seed."),
    policy: str = typer.Option("random", help="random or first_legal."),
    rules: Optional[str] = typer.Option(None, help="Rules preset."),
    config: Optional[str] = typer.Option(None, help="JSON config overrides (or a path to a JSON file)."),
    checkpoint_every: int = typer.Option(16, min=1, help="State digest every this many steps."),
) -> None:
    """Roll out a batch, record chosen worlds as Automerge episode logs (one file per episode), verify them."""
    from htjax.sync.commands import record_command as run

    env, _ = load_env(env_id, rules, config)
    try:
        run(Console(), env, num_envs=num_envs, num_steps=steps, worlds=_worlds_option(worlds), out_dir=out,
            seed=seed, policy=policy, checkpoint_every=checkpoint_every)
    except (HtjaxError, ValueError) as err:
        fail(str(err))


@app.command("replay")
def replay_command(
    file: pathlib.Path = typer.Argument(..., help="An .automerge episode file."),
    svg: Optional[pathlib.Path] = typer.Option(None, help="Also write the replay as an SVG image."),
    html: Optional[pathlib.Path] = typer.Option(None, help="Also write the replay as an HTML page."),
    states: bool = typer.Option(False, "--states", help="Show the game's text rendering after each step."),
) -> None:
    """Re-execute an episode log with the JAX env, verify every digest, and print the step table."""
    from htjax.sync.commands import replay_command as run

    try:
        run(Console(), file, svg=svg, html=html, show_states=states)
    except HtjaxError as err:
        fail(str(err), code=1)


@app.command("inspect")
def inspect_command(file: pathlib.Path = typer.Argument(..., help="An .automerge episode file.")) -> None:
    """Show an episode document: schema, env, actors, checkpoints, outcome and change history."""
    from htjax.sync.commands import inspect_command as run

    try:
        run(Console(), file)
    except HtjaxError as err:
        fail(str(err), code=1)


def main() -> None:  # pragma: no cover - console-script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
