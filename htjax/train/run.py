"""Drive a PPO run: updates with a rich progress bar, metrics to CSV/JSON, a final checkpoint.

:func:`train` is what ``htjax train`` and the shipped-policy scripts call::

    result = train(env, PPOConfig(num_envs=256), updates=100, seed=0, out="runs/bj.npz")

writes ``runs/bj.npz`` (checkpoint), ``runs/bj.metrics.csv`` (one row per update) and
``runs/bj.metrics.json`` (the same rows plus the run's settings and wall time).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import pathlib
import time
from typing import Any, Callable

import jax
import numpy as np

from htjax.core.env import Env
from htjax.train.checkpoint import save_checkpoint
from htjax.train.ppo import PPOConfig, RunnerState, make_train
from htjax.train.selfplay import Opponents

__all__ = ["TrainResult", "train", "updates_for_steps"]


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
      params: final learner parameters; ``spec``: its network spec.
      metrics: one dict of floats per update (``update``, ``env_steps``, ``wall_s`` and the
        trainer's metrics).
      checkpoint: path written (``None`` without ``out``).
      wall_s: training wall time including compilation; ``compile_s``: the first update's time.
      env_steps: env steps taken.
    """

    params: Any
    spec: Any
    runner_state: RunnerState
    metrics: list[dict[str, float]]
    checkpoint: pathlib.Path | None
    wall_s: float
    compile_s: float
    env_steps: int


def updates_for_steps(config: PPOConfig, env_steps: int) -> int:
    """Updates needed for at least ``env_steps`` env steps (at least 1)."""
    per = config.num_envs * config.num_steps
    return max(1, -(-int(env_steps) // per))


def train(
    env: Env,
    config: PPOConfig,
    *,
    updates: int,
    seed: int = 0,
    opponents: Opponents | None = None,
    out: str | pathlib.Path | None = None,
    command: str | None = None,
    console=None,
    progress: bool = True,
    on_update: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Run ``updates`` PPO updates from ``seed``; optionally save a checkpoint to ``out`` (.npz)."""
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 1:
        raise ValueError(f"updates must be a positive int, got {updates!r}")
    if out is not None and pathlib.Path(out).suffix != ".npz":
        raise ValueError(f"checkpoint path must end in .npz, got {str(out)!r}")
    trainer = make_train(env, config, opponents)
    rs = trainer.init(jax.random.PRNGKey(seed))
    rows: list[dict[str, float]] = []
    bar = None
    if progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=console or Console(),
            transient=False,
        )
        bar.start()
        task = bar.add_task(f"PPO {env.id}", total=updates, info="compiling")
    start = time.perf_counter()
    compile_s = 0.0
    try:
        for u in range(updates):
            rs, m = trainer.train_step(rs)
            m = {k: float(v) for k, v in jax.device_get(m).items()}
            now = time.perf_counter() - start
            if u == 0:
                compile_s = now
            row = {"update": u + 1, "env_steps": (u + 1) * trainer.steps_per_update, "wall_s": round(now, 4)}
            row.update({k: v for k, v in m.items() if k != "env_steps"})
            rows.append(row)
            if on_update is not None:
                on_update(u, row)
            if bar is not None:
                bar.update(
                    task,
                    advance=1,
                    info=f"return/ep {row['return_per_episode']:+.4f}  entropy {row['entropy']:.3f}  "
                    f"steps {row['env_steps']:,}",
                )
    finally:
        if bar is not None:
            bar.stop()
    wall = time.perf_counter() - start
    env_steps = updates * trainer.steps_per_update
    path = None
    if out is not None:
        path = pathlib.Path(out)
        final = rows[-1] if rows else {}
        save_checkpoint(
            path,
            rs.params,
            env,
            trainer.spec,
            ppo_config=config.to_dict(),
            command=command,
            env_steps=env_steps,
            updates=updates,
            seed=seed,
            opponents=list(opponents.names) if opponents is not None else (["snapshots"] if config.snapshot_pool else ["self"]),
            metrics={
                **{k: final[k] for k in ("return_per_episode", "entropy", "value_loss") if k in final},
                "wall_s": round(wall, 1),
                "compile_s": round(compile_s, 1),
            },
        )
        write_metrics(path.with_suffix(""), rows, {
            "env": env.id,
            "config": env.config.to_dict(),
            "ppo": config.to_dict(),
            "seed": seed,
            "updates": updates,
            "env_steps": env_steps,
            "wall_s": wall,
            "compile_s": compile_s,
            "command": command,
        })
    return TrainResult(
        params=rs.params,
        spec=trainer.spec,
        runner_state=rs,
        metrics=rows,
        checkpoint=path,
        wall_s=wall,
        compile_s=compile_s,
        env_steps=env_steps,
    )


def write_metrics(stem: pathlib.Path, rows: list[dict[str, float]], run: dict[str, Any]) -> None:
    """``STEM.metrics.csv`` (a row per update) and ``STEM.metrics.json`` (``run`` + rows)."""
    stem = pathlib.Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        with open(f"{stem}.metrics.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    payload = {"run": run, "metrics": rows}
    pathlib.Path(f"{stem}.metrics.json").write_text(json.dumps(payload, indent=1, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {value!r}")
