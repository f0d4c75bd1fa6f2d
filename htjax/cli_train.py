"""The training commands of ``htjax``: ``train`` and ``export`` (their work is in
:mod:`htjax.train.commands`; see ``docs/cli.md`` and ``docs/training.md``).

Imported by :mod:`htjax.cli` after its app exists, which registers the commands on it.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Optional

import typer
from rich.console import Console

from htjax import cli_scale
from htjax.cli import EXIT_FAILED, command, fail, input_file, load_env, output_file
from htjax.core.config import ConfigError
from htjax.core.errors import HtjaxError

__all__ = ["train_command", "export_command"]


@command("train")
def train_command(
    env_id: Optional[str] = typer.Argument(
        None, metavar="ENV", help="Env id (see `htjax envs`); with --resume, taken from the checkpoint."
    ),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rules preset."),
    config: Optional[str] = typer.Option(None, "--config", help="JSON config overrides (or a file)."),
    num_envs: Optional[int] = typer.Option(
        None, "--num-envs", min=1, help="Batched worlds (default: recipe)."
    ),
    steps: Optional[int] = typer.Option(
        None,
        "--steps",
        min=1,
        help="Env steps of the whole run (default 1,000,000; with --resume: the run's target).",
    ),
    seed: Optional[int] = typer.Option(
        None, "--seed", min=0, max=2**32 - 1, help="Training seed (default 0)."
    ),
    out: Optional[str] = typer.Option(
        None,
        "--out",
        help="Checkpoint path (.npz; default checkpoints/policy.npz, with --resume the checkpoint).",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing checkpoint and metrics at --out."
    ),
    checkpoint_every: Optional[int] = typer.Option(
        None,
        "--checkpoint-every",
        min=0,
        help="Updates between checkpoints (default 100; 0: only at the end).",
    ),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue the run saved in this checkpoint."),
    opponents: Optional[str] = typer.Option(
        None, "--opponents", help="self (default) | pool | random | ipd-classic | holdem-baselines."
    ),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default: recipe)."),
    ppo: Optional[str] = typer.Option(
        None, "--ppo", help="JSON object of PPO settings, e.g. '{\"num_steps\": 8}'."
    ),
    distributed: bool = cli_scale.distributed_option(),
    coordinator: Optional[str] = cli_scale.coordinator_option(),
    num_processes: Optional[int] = cli_scale.num_processes_option(),
    process_id: Optional[int] = cli_scale.process_id_option(),
    join_timeout: float = cli_scale.join_timeout_option(),
) -> None:
    """Train a PPO policy on batched worlds; writes checkpoints and metrics (CSV and JSON).

    The checkpoint is rewritten every --checkpoint-every updates and on Ctrl-C (after the update
    in progress; exit code 130); `htjax train --resume CHECKPOINT` continues the run bit for bit.
    """
    info = cli_scale.join(distributed, coordinator, num_processes, process_id, join_timeout)
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
    console = Console(quiet=info is not None and info.process_id != 0)  # process 0 reports
    if info is not None:
        from htjax.core.distributed import check_same_across_processes

        check_same_across_processes(
            "htjax train --distributed",
            {
                "env": env_id,
                "rules": rules,
                "config": config,
                "steps": steps,
                "seed": seed,
                "out": out,
                "num_envs": num_envs,
                "lr": lr,
                "ppo": ppo,
                "opponents": opponents,
                "resume": resume,
            },
        )

    def checkpoint_line(path: pathlib.Path, updates: int) -> None:
        console.print(f"checkpoint {escape(str(path))} ({updates} updates)", soft_wrap=True, highlight=False)

    try:
        result = run_train(
            env,
            env_steps=steps,
            seed=seed,
            out=out,
            opponents=opponents,
            console=console,
            checkpoint_every=checkpoint_every,
            overwrite=overwrite,
            resume=resume,
            on_checkpoint=checkpoint_line,
            ppo=ppo_values,
            num_envs=num_envs,
            learning_rate=lr,
            devices=None if info is None else "all",
        )
    except (HtjaxError, ConfigError) as err:
        fail(str(err))
    if result.interrupted:
        path = escape(str(result.checkpoint))
        console.print(
            f"interrupted after {result.updates} of {result.target_updates} updates; the run is saved in {path}\n"
            f"resume with: htjax train --resume {path}",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(130)
    last = result.metrics[-1]
    console.print(
        f"trained {result.session_env_steps:,} env steps in {result.wall_s:.1f} s "
        f"({result.session_env_steps / max(result.wall_s - result.compile_s, 1e-9):,.0f} steps/s after compiling); "
        f"return/episode {last['return_per_episode']:+.4f}; checkpoint {escape(str(result.checkpoint))}",
        soft_wrap=True,
        highlight=False,
    )


@command("export")
def export_command(
    checkpoint: str = typer.Argument(..., metavar="CHECKPOINT", help="Checkpoint (.npz) from `htjax train`."),
    out: str = typer.Option(..., "--out", help="ONNX path, e.g. policies/NAME.onnx."),
    name: Optional[str] = typer.Option(None, "--name", help="Model card name (default: file stem)."),
    backend: str = typer.Option(
        "builder",
        "--backend",
        help='builder (onnx.helper, default) | jax2onnx (optional extra: pip install "htjax\\[jax2onnx]").',
    ),
) -> None:
    """Export a checkpoint to ONNX (opset 17) with a model card, and check it in onnxruntime."""
    from htjax.train.commands import run_export
    from htjax.train.onnx_export import BACKENDS

    if backend not in BACKENDS:
        fail(f"unknown --backend {backend!r}; choose from {', '.join(BACKENDS)}")
    input_file(checkpoint, "CHECKPOINT")
    output_file(out, "--out")
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
        fail("onnxruntime disagrees with JAX beyond 1e-5", code=EXIT_FAILED)
