"""The episode-file commands of ``htjax``: ``record``, ``replay``, ``inspect``, ``fork``, ``merge``
and ``whatif`` (their work is in :mod:`htjax.sync.commands`; see ``docs/cli.md``).

Imported by :mod:`htjax.cli` after its app exists, which registers the commands on it.
"""

from __future__ import annotations

import json
import pathlib
from typing import Optional

import typer
from rich.console import Console

from htjax.cli import (
    EXIT_FAILED,
    command,
    error_console,
    fail,
    input_file,
    load_env,
    output_dir,
    output_file,
    seed_option,
)

__all__ = [
    "record_command",
    "replay_command",
    "inspect_command",
    "fork_command",
    "merge_command",
    "whatif_command",
]


# --------------------------------------------------------------------------- record / replay / inspect
def _worlds_option(worlds: str, num_envs: int) -> list[range]:
    """``"0,5,17"`` or ranges ``"0-99,200"``: disjoint spans of world indices in ``[0, num_envs)``
    (nothing is expanded, so ``0-999999999`` costs nothing to check)."""
    spans: list[range] = []
    try:
        for part in (w.strip() for w in worlds.split(",")):
            if part:
                lo, sep, hi = part.partition("-")
                spans.append(range(int(lo), int(hi) + 1) if sep and lo else range(int(part), int(part) + 1))
    except ValueError:
        fail(
            f"--worlds must be comma-separated world indices or ranges such as 0,5,17 or 0-99, got {worlds!r}"
        )
    if not spans or any(len(s) == 0 for s in spans):
        fail(f"--worlds must name at least one world in each part, got {worlds!r}")
    for s in spans:
        if not (0 <= s.start and s.stop <= num_envs):
            fail(
                f"--worlds must be in [0, {num_envs}) (--num-envs {num_envs}), got {s.start if s.start < 0 else s.stop - 1}"
            )
    ordered = sorted(spans, key=lambda s: s.start)
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.stop:
            fail(f"--worlds names world {b.start} more than once (each world is recorded once)")
    return spans


@command("record")
def record_command(
    env_id: str = typer.Argument(..., help="Env id (see `htjax envs`)."),
    num_envs: int = typer.Option(
        64, "--num-envs", "-n", min=1, help="Batched worlds the recorded ones belong to."
    ),
    steps: int = typer.Option(200, "--steps", "-t", min=1, help="Steps per world."),
    worlds: str = typer.Option(
        "0", "--worlds", "-w", help="Worlds to record: indices and ranges, e.g. 0,5,17 or 0-99."
    ),
    out: pathlib.Path = typer.Option(
        pathlib.Path("episodes"), "--out", "-o", help="Folder for the .automerge files."
    ),
    seed: int = seed_option("Rollout seed (an integer in [0, 2**32))."),
    policy: str = typer.Option("random", help="random or first_legal."),
    rules: Optional[str] = typer.Option(None, help="Rules preset."),
    config: Optional[str] = typer.Option(None, help="JSON config overrides (or a path to a JSON file)."),
    checkpoint_every: int = typer.Option(16, min=1, help="State digest every this many steps."),
    force: bool = typer.Option(False, "--force", help="Overwrite episode files that exist already."),
) -> None:
    """Roll out a batch, record chosen worlds as Automerge episode logs (one file per episode), verify them."""
    from htjax.sync.commands import POLICIES, check_record_space, existing_episode_files
    from htjax.sync.commands import record_command as run

    env, _ = load_env(env_id, rules, config)
    if policy not in POLICIES:
        fail(f"unknown --policy {policy!r}; choose one of {', '.join(sorted(POLICIES))}")
    spans = _worlds_option(worlds, num_envs)
    output_dir(out, "--out")
    check_record_space(env, sum(len(s) for s in spans), steps, out)
    chosen = [w for s in spans for w in s]
    clash = existing_episode_files(out, env, chosen)
    if clash and not force:
        fail(
            f"--out: {len(clash)} episode file(s) of these worlds exist already in {str(out)!r}, e.g. "
            f"{clash[0].name} (pass --force to overwrite them)"
        )
    run(
        Console(),
        env,
        num_envs=num_envs,
        num_steps=steps,
        worlds=chosen,
        out_dir=out,
        seed=seed,
        policy=policy,
        checkpoint_every=checkpoint_every,
        progress=error_console(),
    )


@command("replay")
def replay_command(
    file: pathlib.Path = typer.Argument(..., help="An .automerge episode file."),
    svg: Optional[pathlib.Path] = typer.Option(
        None, help="Also draw every step as an SVG picture into this folder (step-0000.svg, ...)."
    ),
    html: Optional[pathlib.Path] = typer.Option(
        None, help="Also write one self-contained HTML page stepping through the episode."
    ),
    seat: Optional[int] = typer.Option(
        None, "--seat", min=0, help="Draw the pictures as this seat sees them (default: a spectator)."
    ),
    states: bool = typer.Option(False, "--states", help="Show the game's text rendering after each step."),
) -> None:
    """Re-execute an episode log with the JAX env, verify every digest, and print the step table."""
    from htjax.sync.commands import replay_command as run
    from htjax.sync.errors import ReplayMismatchError

    input_file(file, "FILE")
    if svg is not None:
        output_dir(svg, "--svg")
    if html is not None:
        output_file(html, "--html")
    try:
        replayed = run(Console(), file, show_states=states, status=error_console())
    except ReplayMismatchError as err:
        fail(f"{file}: {err}", code=EXIT_FAILED)
    if svg is not None or html is not None:
        from htjax.render.episode import write_replay_pictures

        if seat is not None and seat >= replayed.env.num_players:
            fail(f"--seat must be in [0, {replayed.env.num_players}) for {replayed.env.id}, got {seat}")
        written = write_replay_pictures(replayed, svg_dir=svg, html=html, seat=seat)
        if svg is not None:
            Console().print(f"wrote {len(written) - (html is not None)} SVG pictures to {svg}")
        if html is not None:
            Console().print(f"wrote the HTML page {html}")


@command("inspect")
def inspect_command(file: pathlib.Path = typer.Argument(..., help="An .automerge episode file.")) -> None:
    """Show an episode document: schema, env, actors, checkpoints, outcome and change history."""
    from htjax.sync.commands import inspect_command as run

    input_file(file, "FILE")
    run(Console(), file)


# --------------------------------------------------------------------------- fork / merge / whatif
@command("fork")
def fork_command(
    file: pathlib.Path = typer.Argument(..., help="An .automerge episode file."),
    step: int = typer.Option(
        ..., "--step", min=0, help="Keep the first STEP steps (0 .. the episode's length)."
    ),
    out: pathlib.Path = typer.Option(..., "--out", "-o", help="The new episode file (.automerge)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Fork an episode at a step: a new document sharing the history, ending after STEP steps."""
    from htjax.sync.commands import fork_command as run

    input_file(file, "FILE")
    output_file(out, "--out", overwrite=force)
    run(Console(), file, step=step, out=out)


@command("merge")
def merge_command(
    files: list[pathlib.Path] = typer.Argument(..., help="Two or more copies of one episode (.automerge)."),
    out: pathlib.Path = typer.Option(..., "--out", "-o", help="The merged episode file (.automerge)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Merge copies of one episode (edited by different peers) into one document, then verify it."""
    from htjax.sync.commands import merge_command as run

    if len(files) < 2:
        fail("merge needs at least two files")
    for f in files:
        input_file(f, "FILES")
    output_file(out, "--out", overwrite=force)
    run(Console(), files, out=out)


@command("whatif")
def whatif_command(
    file: pathlib.Path = typer.Argument(..., help="An .automerge episode file."),
    step: int = typer.Option(..., "--step", min=0, help="Branch from the state after STEP steps."),
    rollouts: int = typer.Option(64, "--rollouts", "-n", min=1, help="Continuations per action."),
    horizon: int = typer.Option(1000, "--horizon", min=1, help="At most this many steps per continuation."),
    seed: int = seed_option("Seed of the continuations' chance (an integer in [0, 2**32))."),
    seat: Optional[int] = typer.Option(
        None, "--seat", min=0, help="Whose actions to compare (simultaneous games)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the rows as one JSON object on stdout."),
) -> None:
    """Evaluate every legal action at a step of an episode with batched random continuations."""
    from htjax.sync.commands import whatif_command as run

    input_file(file, "FILE")
    rows = run(
        Console(),
        file,
        step=step,
        num_rollouts=rollouts,
        horizon=horizon,
        seed=seed,
        seat=seat,
        print_table=not json_output,
        status=error_console(),
    )
    if json_output:
        typer.echo(json.dumps({"file": str(file), "step": step, "rows": rows}))
