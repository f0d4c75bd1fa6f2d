"""Drive a PPO run: updates with a rich progress bar, metrics to CSV/JSON, checkpoints, resume.

:func:`train` is what ``htjax train`` and the shipped-policy scripts call::

    result = train(env, PPOConfig(num_envs=256), updates=100, seed=0, out="runs/bj.npz")

writes ``runs/bj.npz`` (checkpoint), ``runs/bj.metrics.csv`` (one row per update) and
``runs/bj.metrics.json`` (the same rows plus the run's settings and wall time).

The output paths are checked before anything is compiled (:func:`htjax.train.paths.prepare_output_path`:
an existing file is refused unless ``overwrite``). The checkpoint is rewritten, atomically,
every ``checkpoint_every`` updates, at the end, and when Ctrl-C (SIGINT) arrives: the update
in progress finishes, the checkpoint is written and :func:`train` returns with
``interrupted=True`` (a second Ctrl-C stops at once, without saving). Every checkpoint holds
the whole run state (:mod:`htjax.train.resume`), so ``train(..., resume=path)`` continues it
bit for bit: ``N`` updates, a checkpoint and ``M`` more equal ``N + M`` updates in one go.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import pathlib
import signal
import threading
import time
from typing import Any, Callable

import jax
import numpy as np

from htjax.core.env import Env
from htjax.core.errors import ConfigError
from htjax.train.paths import atomic_write, prepare_output_path
from htjax.train.ppo import PPOConfig, RunnerState, make_train
from htjax.train.selfplay import Opponents

__all__ = ["TrainResult", "train", "updates_for_steps", "metrics_paths", "DEFAULT_CHECKPOINT_EVERY"]

DEFAULT_CHECKPOINT_EVERY = 100
"""Updates between periodic checkpoints (about a minute of the shipped blackjack run on 2 cores)."""


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
      params: final learner parameters; ``spec``: its network spec.
      runner_state: the whole run state after the last update done.
      metrics: one dict of floats per update, from the run's first update (a resumed run
        includes the rows logged before it was resumed): ``update``, ``env_steps``, ``wall_s``
        (cumulative over sessions) and the trainer's metrics.
      checkpoint: path written (``None`` without ``out``).
      wall_s: this session's training wall time including compilation; ``compile_s``: its first
        update's time.
      env_steps: env steps taken by the run so far (all sessions).
      updates: updates done so far; ``target_updates``: the run's target.
      interrupted: Ctrl-C stopped the run early (the checkpoint holds the state to resume from).
      session_env_steps: env steps taken by this call (``wall_s`` is their time).
    """

    params: Any
    spec: Any
    runner_state: RunnerState
    metrics: list[dict[str, float]]
    checkpoint: pathlib.Path | None
    wall_s: float
    compile_s: float
    env_steps: int
    updates: int = 0
    target_updates: int = 0
    interrupted: bool = False
    session_env_steps: int = 0


def updates_for_steps(config: PPOConfig, env_steps: int) -> int:
    """Updates needed for at least ``env_steps`` env steps (at least 1)."""
    per = config.num_envs * config.num_steps
    return max(1, -(-int(env_steps) // per))


def metrics_paths(out: str | pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """``(STEM.metrics.csv, STEM.metrics.json)`` written beside the checkpoint ``STEM.npz``."""
    stem = pathlib.Path(out).with_suffix("")
    return pathlib.Path(f"{stem}.metrics.csv"), pathlib.Path(f"{stem}.metrics.json")


class _CtrlC:
    """While active (main thread only), the first SIGINT sets ``requested``; the next one
    raises ``KeyboardInterrupt`` as usual."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum, frame) -> None:
        self.requested = True
        previous = self._previous if callable(self._previous) else signal.default_int_handler
        signal.signal(signal.SIGINT, previous)
        os.write(
            2,
            b"\nCtrl-C: finishing the current update, then saving a checkpoint "
            b"(Ctrl-C again stops at once without saving)\n",
        )

    def __enter__(self) -> "_CtrlC":
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled and signal.getsignal(signal.SIGINT) == self._handler:
            signal.signal(
                signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler
            )


def _positive(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")


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
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    on_checkpoint: Callable[[pathlib.Path, int], None] | None = None,
    overwrite: bool = False,
    resume: str | pathlib.Path | None = None,
    opponents_choice: str | None = None,
    handle_interrupt: bool = True,
    devices=None,
) -> TrainResult:
    """Run PPO until ``updates`` updates are done; save checkpoints to ``out`` (.npz).

    Args:
      env, config, opponents: what to train (see :func:`htjax.train.ppo.make_train`).
      updates: the run's total number of updates (a resumed run continues up to it).
      seed: the run's seed (``PRNGKey(seed)`` starts it; a resumed run must give the same).
      out: checkpoint path; metrics go beside it (:func:`metrics_paths`). Checked before
        training; an existing file is refused unless ``overwrite`` (or it is ``resume``).
      checkpoint_every: updates between periodic checkpoints (0: only at the end and on Ctrl-C).
      on_checkpoint: called with ``(path, updates_done)`` after every checkpoint written.
      resume: a checkpoint written by :func:`train` to continue (its env, rules, PPO config,
        opponents and seed must equal these; see :func:`htjax.train.resume.load_run_state`).
      opponents_choice: the name the opponents were chosen by (``"ipd-classic"``), recorded.
      handle_interrupt: with ``out``, catch Ctrl-C as described in the module docstring.
      devices: ``"all"`` (or a list) splits the worlds over devices, over every process after
        :func:`htjax.core.distributed.initialize` (``docs/scale.md``); process 0 writes the files.
      command, console, progress, on_update: what to record and how to show progress;
        ``on_update(u, row)`` is called after update ``u`` (0-based) with its metrics row.

    Raises:
      ConfigError: ``updates`` or ``checkpoint_every`` is not a valid int, or ``resume`` has
        already done ``updates`` updates.
      OutputPathError: ``out`` cannot be written (see :mod:`htjax.train.paths`).
      CheckpointError, ResumeMismatchError: ``resume`` cannot be continued with these settings.
    """
    from htjax.train.resume import load_run_state, save_run_checkpoint

    _positive("updates", updates, 1)
    _positive("checkpoint_every", checkpoint_every, 0)
    from htjax.core.distributed import gather

    writer = jax.process_index() == 0  # one process writes; every process gathers the state
    if resume is not None and jax.process_count() > 1:
        raise ConfigError(
            "resume: continue a run in one process (htjax train --resume without --distributed)"
        )
    path = None
    if out is not None and not writer:
        path = pathlib.Path(out)
    elif out is not None:
        path = prepare_output_path(
            out,
            suffix=".npz",
            what="checkpoint",
            overwrite=overwrite,
            companions=metrics_paths(out),
            own=resume,
            hint="replace it with --overwrite (overwrite=True) or continue its run with --resume (resume=...)",
        )
    trainer = make_train(env, config, opponents, devices=devices)
    names = (
        list(opponents.names)
        if opponents is not None
        else (["snapshots"] if config.snapshot_pool else ["self"])
    )
    rows: list[dict[str, float]] = []
    wall_before, resumed = 0.0, []
    if resume is not None:
        state = load_run_state(resume, trainer, seed=seed, opponents=names)
        rs, rows, done = state.runner_state, state.rows, state.updates
        wall_before = state.wall_s
        resumed = state.resumed + [command or ""]
        command = state.header.get("training", {}).get("command") or command
        if done >= updates:
            raise ConfigError(
                f"updates: the checkpoint {resume} has already done {done} updates, so there is nothing to do for a "
                f"run of {updates}; ask for more updates (htjax train --steps) to train further"
            )
    else:
        rs = trainer.init(jax.random.PRNGKey(seed))
        done = 0
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
        task = bar.add_task(f"PPO {env.id}", total=updates, completed=done, info="compiling")
    start = time.perf_counter()
    compile_s = 0.0
    saved_at = done if resume is not None else -1

    def save(u_done: int, session_wall: float | None = None) -> None:
        nonlocal saved_at
        host_rs = gather(rs)  # a collective: every process takes part, process 0 writes
        if not writer:
            saved_at = u_done
            return
        wall = wall_before + (time.perf_counter() - start if session_wall is None else session_wall)
        save_run_checkpoint(
            path,
            trainer,
            host_rs,
            seed=seed,
            opponents=names,
            opponents_choice=opponents_choice,
            command=command,
            rows=rows,
            target_updates=updates,
            wall_s=wall,
            compile_s=compile_s,
            resumed=resumed,
        )
        write_metrics(
            path.with_suffix(""),
            rows,
            {
                "env": env.id,
                "config": env.config.to_dict(),
                "ppo": config.to_dict(),
                "seed": seed,
                "updates": u_done,
                "target_updates": updates,
                "env_steps": u_done * trainer.steps_per_update,
                "wall_s": wall,
                "compile_s": compile_s,
                "command": command,
                "resumed": resumed,
            },
        )
        saved_at = u_done
        if on_checkpoint is not None:
            on_checkpoint(path, u_done)

    interrupted = False
    try:
        with _CtrlC(handle_interrupt and path is not None) as ctrl_c:
            for u in range(done, updates):
                rs, m = trainer.train_step(rs)
                m = {k: float(v) for k, v in jax.device_get(m).items()}
                now = time.perf_counter() - start
                if u == done:
                    compile_s = now
                row = {
                    "update": u + 1,
                    "env_steps": (u + 1) * trainer.steps_per_update,
                    "wall_s": round(wall_before + now, 4),
                }
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
                if ctrl_c.requested:
                    interrupted = True
                    break
                if (
                    path is not None
                    and checkpoint_every
                    and (u + 1) % checkpoint_every == 0
                    and u + 1 < updates
                ):
                    save(u + 1)
            done_now = int(jax.device_get(rs.update))
            wall = time.perf_counter() - start
            if path is not None and saved_at != done_now:
                save(done_now, wall)
    finally:
        if bar is not None:
            bar.stop()
    return TrainResult(
        params=rs.params,
        spec=trainer.spec,
        runner_state=rs,
        metrics=rows,
        checkpoint=path,
        wall_s=wall,
        compile_s=compile_s,
        env_steps=done_now * trainer.steps_per_update,
        updates=done_now,
        target_updates=updates,
        interrupted=interrupted,
        session_env_steps=(done_now - done) * trainer.steps_per_update,
    )


def write_metrics(stem: pathlib.Path, rows: list[dict[str, float]], run: dict[str, Any]) -> None:
    """``STEM.metrics.csv`` (a row per update) and ``STEM.metrics.json`` (``run`` + rows), each
    written atomically."""
    stem = pathlib.Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(f"{stem}.metrics.csv", lambda f: f.write(text.getvalue().encode()))
    payload = json.dumps({"run": run, "metrics": rows}, indent=1, default=_plain) + "\n"
    atomic_write(f"{stem}.metrics.json", lambda f: f.write(payload.encode()))


def _plain(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {value!r}")
