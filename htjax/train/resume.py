"""Resumable training checkpoints: the whole PPO run state beside the network, bit-exact.

A checkpoint written by :func:`htjax.train.run.train` is an ordinary checkpoint (see
:mod:`htjax.train.checkpoint`: ``load_checkpoint`` and ``htjax export`` read it) plus:

* ``state/00000``, ``state/00001``, ...: every leaf of the :class:`~htjax.train.ppo.RunnerState`
  in ``jax.tree_util`` order, as stored (parameters, Adam moments and step counts, which drive
  the learning-rate schedule, the batched env states and key streams of every world, the
  minibatch-shuffle key, the update counter, the snapshot pool and its count, fixed opponents'
  parameters);
* a header section ``resume``: ``state`` (leaf count, the sha256 of the tree structure, each
  leaf's shape and dtype), ``target_updates``, ``opponents`` (the choice it was started with,
  e.g. ``"ipd-classic"``), ``rows`` (every metrics row logged so far), ``wall_s`` and
  ``resumed`` (the commands that continued it).

Everything the next update reads is in the run state (the entropy coefficient and the snapshot
schedule are functions of the update counter; the learning rate of Adam's count), so
:func:`load_run_state` followed by more updates gives exactly the parameters, optimiser state,
worlds and metrics of an uninterrupted run. It refuses to continue with another env, rules
config, PPO config, opponents or seed (:class:`~htjax.train.errors.ResumeMismatchError` naming
each differing field).
"""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.train.checkpoint import read_checkpoint_file, save_checkpoint
from htjax.train.envmatch import check_env_matches, plain
from htjax.train.errors import CheckpointError, EnvMismatchError, ResumeMismatchError
from htjax.train.ppo import RunnerState, Trainer

__all__ = ["STATE_PREFIX", "save_run_checkpoint", "load_run_state", "RunState", "read_resume_header"]

STATE_PREFIX = "state/"


def _structure(rs) -> tuple[list, Any, dict[str, Any]]:
    leaves, treedef = jax.tree_util.tree_flatten(rs)
    info = {
        "leaves": len(leaves),
        "treedef_sha256": hashlib.sha256(str(treedef).encode()).hexdigest(),
        "avals": [[list(np.shape(x)), str(np.dtype(x.dtype))] for x in leaves],
    }
    return leaves, treedef, info


def save_run_checkpoint(
    path: str | pathlib.Path,
    trainer: Trainer,
    rs: RunnerState,
    *,
    seed: int,
    opponents: list[str],
    opponents_choice: str | None,
    command: str | None,
    rows: list[dict[str, float]],
    target_updates: int,
    wall_s: float,
    compile_s: float,
    resumed: list[str] | None = None,
) -> pathlib.Path:
    """Write a resumable checkpoint of ``rs`` to ``path`` (atomically); returns the path."""
    leaves, _, info = _structure(rs)
    host = jax.device_get(leaves)
    arrays = {f"{STATE_PREFIX}{i:05d}": np.asarray(x) for i, x in enumerate(host)}
    done = int(jax.device_get(rs.update))
    last = rows[-1] if rows else {}
    return save_checkpoint(
        path,
        rs.params,
        trainer.env,
        trainer.spec,
        ppo_config=trainer.config.to_dict(),
        command=command,
        env_steps=done * trainer.steps_per_update,
        updates=done,
        seed=seed,
        opponents=opponents,
        metrics={
            **{k: last[k] for k in ("return_per_episode", "entropy", "value_loss") if k in last},
            "wall_s": round(wall_s, 1),
            "compile_s": round(compile_s, 1),
        },
        extra_header={
            "resume": {
                "state": info,
                "target_updates": int(target_updates),
                "opponents": opponents_choice,
                "rows": rows,
                "wall_s": float(wall_s),
                "resumed": list(resumed or []),
            }
        },
        extra_arrays=arrays,
    )


def read_resume_header(path: str | pathlib.Path) -> dict[str, Any]:
    """The header of a resumable checkpoint (raises :class:`CheckpointError` for one that is not)."""
    header, _ = read_checkpoint_file(path)
    _require_resume(header, path)
    return header


def _require_resume(header: dict[str, Any], path) -> dict[str, Any]:
    resume = header.get("resume")
    if not isinstance(resume, dict) or "state" not in resume:
        raise CheckpointError(
            f"{path} holds a network but no training state (it was written by save_checkpoint or an older "
            f"htjax), so it cannot be resumed; it can still be exported or evaluated"
        )
    return resume


class RunState:
    """What :func:`load_run_state` returns: ``runner_state``, ``rows`` (metrics so far),
    ``updates`` (done), ``target_updates``, ``header``, ``wall_s`` (time spent so far) and
    ``resumed`` (commands that continued the run)."""

    def __init__(self, runner_state: RunnerState, header: dict[str, Any]):
        resume = header["resume"]
        self.runner_state = runner_state
        self.header = header
        self.rows: list[dict[str, float]] = list(resume.get("rows", []))
        self.updates = int(header["training"]["updates"])
        self.target_updates = int(resume["target_updates"])
        self.wall_s = float(resume.get("wall_s", 0.0))
        self.resumed: list[str] = list(resume.get("resumed", []))


def _differences(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    a, b = plain(theirs), plain(ours)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _refuse(path, kind: str, diff: dict[str, tuple[Any, Any]]) -> None:
    if diff:
        listed = "; ".join(f"{k}: {v[0]!r} in the checkpoint, {v[1]!r} now" for k, v in diff.items())
        raise ResumeMismatchError(
            f"cannot resume {path} with other {kind}: {listed}; resume with the checkpoint's settings "
            f"(leave those options out) or start a new run",
            diff,
        )


def load_run_state(
    path: str | pathlib.Path, trainer: Trainer, *, seed: int, opponents: list[str]
) -> RunState:
    """Read the run state of ``path`` for ``trainer``, refusing other settings.

    Args:
      path: a checkpoint written by :func:`htjax.train.run.train`.
      trainer: the trainer that will continue it (its env, rules config and PPO config must be
        the checkpoint's).
      seed: the run's seed (must be the checkpoint's).
      opponents: the opponent names (must be the checkpoint's).

    Raises:
      CheckpointError: not an htjax checkpoint, no training state, or a state that does not fit
        the trainer (another htjax or JAX version).
      ResumeMismatchError: the env, a rules config field, a PPO field, the opponents or the seed
        differ (the message and ``differences`` name each).
    """
    path = pathlib.Path(path)
    header, arrays = read_checkpoint_file(path)
    resume = _require_resume(header, path)
    try:
        check_env_matches(
            header["env"],
            trainer.env,
            f"checkpoint {path.name}",
            advice="resume with the checkpoint's rules (htjax train --resume without ENV, --rules or --config)",
        )
    except EnvMismatchError as err:
        raise ResumeMismatchError(f"cannot resume: {err}", err.differences) from err
    _refuse(path, "PPO settings", _differences(header.get("ppo", {}), trainer.config.to_dict()))
    training = header.get("training", {})
    _refuse(
        path,
        "opponents",
        _differences({"opponents": training.get("opponents")}, {"opponents": list(opponents)}),
    )
    _refuse(path, "seed", _differences({"seed": training.get("seed")}, {"seed": seed}))
    template = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    t_leaves, treedef, info = _structure(template)
    saved = resume["state"]
    if saved.get("treedef_sha256") != info["treedef_sha256"] or saved.get("avals") != info["avals"]:
        raise CheckpointError(
            f"{path}: its training state does not fit this trainer (leaf structure or shapes differ: written by "
            f"another htjax or JAX version?); it can still be exported, but not resumed"
        )
    try:
        leaves = [jnp.asarray(arrays[f"{STATE_PREFIX}{i:05d}"]) for i in range(len(t_leaves))]
    except KeyError as err:
        raise CheckpointError(
            f"{path}: training state entry {err} is missing; the checkpoint is damaged"
        ) from err
    for got, want in zip(leaves, t_leaves, strict=True):
        if got.shape != want.shape or got.dtype != want.dtype:
            raise CheckpointError(
                f"{path}: a training state entry has {got.dtype}{list(got.shape)}, "
                f"expected {want.dtype}{list(want.shape)}; the checkpoint is damaged"
            )
    rs = jax.tree_util.tree_unflatten(treedef, leaves)
    if int(rs.update) != int(training.get("updates", -1)):
        raise CheckpointError(
            f"{path}: its header says {training.get('updates')} updates, its state {int(rs.update)}"
        )
    return RunState(rs, header)
