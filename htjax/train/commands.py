"""What ``htjax train`` and ``htjax export`` do (the CLI only parses arguments and prints).

Per-env training defaults (:data:`RECIPES`) are the settings the shipped policies were trained
with; every ``--option`` given on the command line overrides them.
"""

from __future__ import annotations

import pathlib
import shlex
import sys
from typing import Any

from htjax.core.env import Env
from htjax.core.errors import ConfigError, HtjaxError
from htjax.train.ppo import PPOConfig
from htjax.train.selfplay import Opponents

__all__ = ["RECIPES", "ppo_config_for", "opponents_for", "run_train", "run_export", "OPPONENT_CHOICES"]

RECIPES: dict[str, dict[str, Any]] = {
    # returns are noisy next to the EV gaps between actions (doubling 11 against a 10 beats hitting
    # by ~0.06 bets; a hand's return has a std of ~1.1): big batches, Monte-Carlo returns
    # (gae_lambda=1), and a large entropy bonus that keeps doubles and splits sampled, annealed to 0
    # together with the learning rate over the 1526 updates of the shipped 100M-step run
    "blackjack": dict(
        num_envs=4096,
        num_steps=16,
        num_minibatches=8,
        update_epochs=4,
        learning_rate=1e-3,
        anneal_to=0.0,
        anneal_updates=1526,
        gamma=1.0,
        gae_lambda=1.0,
        ent_coef=0.1,
        ent_anneal_to=0.0,
        hidden=(64, 64),
    ),
    "prisoners_dilemma": dict(
        num_envs=256,
        num_steps=100,
        num_minibatches=4,
        update_epochs=4,
        learning_rate=1e-3,
        gamma=0.99,
        gae_lambda=0.95,
        ent_coef=0.01,
        hidden=(64, 64),
    ),
    # rewards are chips in big blinds (up to +-50 per hand at the default 100-chip stacks), so the
    # value loss is in the hundreds: a small vf_coef keeps the critic's gradients from using up the
    # shared global-norm clip (actor and critic are separate networks and Adam rescales each, so
    # the critic still learns at full speed)
    "holdem": dict(
        num_envs=1024,
        num_steps=32,
        num_minibatches=4,
        update_epochs=4,
        learning_rate=1e-3,
        gamma=1.0,
        gae_lambda=0.95,
        ent_coef=0.003,
        vf_coef=0.002,
        hidden=(128, 128),
    ),
}
"""PPO settings per env id (anything not listed uses :class:`PPOConfig`'s defaults)."""

OPPONENT_CHOICES = ("self", "pool", "random", "ipd-classic", "holdem-baselines")


def ppo_config_for(env: Env, **overrides: Any) -> PPOConfig:
    """:data:`RECIPES` of ``env.id`` with ``overrides`` (``None`` values are ignored)."""
    values = dict(RECIPES.get(env.id, {}))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return PPOConfig(**values)


def opponents_for(env: Env, name: str) -> tuple[Opponents | None, dict[str, Any]]:
    """Opponents called ``name`` (one of :data:`OPPONENT_CHOICES`) and PPO overrides they need.

    Raises:
      ConfigError: an unknown name, or opponents that do not play ``env``.
    """
    if name == "self":
        return None, {}
    if name == "pool":
        return None, {"snapshot_pool": 8}
    try:
        if name == "random":
            from htjax.core.rollouts import random_policy

            return Opponents.from_policies(env, [random_policy], ["random"]), {}
        if name == "ipd-classic":
            from htjax.train.ipd_opponents import classic_opponents

            return classic_opponents(env), {}
        if name == "holdem-baselines":
            from htjax.train.holdem_opponents import holdem_opponents

            return holdem_opponents(env), {}
    except ValueError as err:  # the game helpers' own checks (e.g. "IPD strategies play prisoners_dilemma")
        if isinstance(err, HtjaxError):
            raise
        raise ConfigError(f"opponents {name!r}: {err}") from err
    raise ConfigError(f"unknown opponents {name!r}; choose from {list(OPPONENT_CHOICES)}")


def _command_line() -> str:
    argv = list(sys.argv)
    argv[0] = pathlib.Path(argv[0]).name
    return shlex.join(argv)


def run_train(
    env: Env | None,
    *,
    env_steps: int | None,
    seed: int | None,
    out: str | None,
    opponents: str | None = None,
    console=None,
    command: str | None = None,
    checkpoint_every: int | None = None,
    overwrite: bool = False,
    resume: str | None = None,
    on_checkpoint=None,
    ppo: dict[str, Any] | None = None,
    devices=None,
    **ppo_overrides: Any,
):
    """Train ``env`` for ``env_steps`` steps and save ``out`` (.npz); returns the :class:`TrainResult`.

    A fresh run (``resume=None``) uses :data:`RECIPES` with ``ppo`` (a dict of
    :class:`PPOConfig` fields) and ``ppo_overrides`` on top; ``None`` means the default (seed 0,
    1,000,000 steps, ``checkpoints/policy.npz``, opponents ``self``).

    With ``resume`` (a checkpoint written by ``htjax train``) everything left ``None`` comes from
    the checkpoint: the env (``env=None``), the PPO config, opponents, seed, the run's target
    (``env_steps``) and ``out`` (the checkpoint itself, rewritten in place). Anything given must
    equal the checkpoint's, except ``env_steps`` (train further), ``out`` and
    ``checkpoint_every``; otherwise :class:`~htjax.train.errors.ResumeMismatchError` names the
    difference.
    """
    from htjax.train.run import DEFAULT_CHECKPOINT_EVERY, train, updates_for_steps

    overrides = {**(ppo or {}), **{k: v for k, v in ppo_overrides.items() if v is not None}}
    if resume is not None:
        from htjax.train.envmatch import env_from_summary
        from htjax.train.resume import read_resume_header

        header = read_resume_header(resume)
        if env is None:
            env = env_from_summary(header["env"])
        base = PPOConfig.from_dict(header["ppo"])
        config_values = {**base.to_dict(), **overrides}
        saved = header["resume"]
        opponents = opponents if opponents is not None else (saved.get("opponents") or "self")
        seed = seed if seed is not None else header["training"].get("seed", 0)
        out = out if out is not None else str(resume)
    else:
        if env is None:
            raise ConfigError("name the env to train (or --resume a checkpoint)")
        config_values = {**RECIPES.get(env.id, {}), **overrides}
        opponents = opponents or "self"
        seed = 0 if seed is None else seed
        out = out if out is not None else "checkpoints/policy.npz"
    opp, extra = opponents_for(env, opponents)
    config = PPOConfig.from_dict({**config_values, **extra})
    if env_steps is not None:
        updates = updates_for_steps(config, env_steps)
    elif resume is not None:
        updates = int(header["resume"]["target_updates"])
    else:
        updates = updates_for_steps(config, 1_000_000)
    return train(
        env,
        config,
        updates=updates,
        seed=seed,
        opponents=opp,
        out=out,
        command=command or _command_line(),
        console=console,
        checkpoint_every=DEFAULT_CHECKPOINT_EVERY if checkpoint_every is None else checkpoint_every,
        on_checkpoint=on_checkpoint,
        overwrite=overwrite,
        resume=resume,
        opponents_choice=opponents,
        devices=devices,
    )


def run_export(
    checkpoint: str, out: str, *, name: str | None = None, env: Env | None = None, backend: str = "builder"
) -> dict[str, Any]:
    """Export ``checkpoint`` to ``out`` (.onnx) and check it in onnxruntime against JAX.

    ``backend`` is ``"builder"`` (``onnx.helper``, default) or ``"jax2onnx"`` (optional extra; see
    :func:`htjax.train.onnx_export.export_checkpoint`). Returns a summary: paths, the backend, the
    largest probability and value differences on 1,000 random observations with random masks, and
    whether masked actions got probability 0.
    """
    from htjax.train.checkpoint import load_checkpoint
    from htjax.train.onnx_export import export_checkpoint
    from htjax.train.parity import random_parity
    from htjax.train.paths import prepare_output_path

    # an existing policy is replaced (its card keeps its evaluation sections): the scripts re-export in place
    card = pathlib.Path(out).with_suffix(".json")
    prepare_output_path(out, suffix=".onnx", what="ONNX policy", overwrite=True, companions=[card])
    ckpt = load_checkpoint(checkpoint, env)
    path = export_checkpoint(ckpt, out, name=name, backend=backend)
    report = random_parity(ckpt, path, samples=1000, seed=0)
    return {"onnx": str(path), "card": str(path.with_suffix(".json")), "backend": backend, **report}
