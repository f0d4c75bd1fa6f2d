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
from htjax.train.ppo import PPOConfig
from htjax.train.selfplay import Opponents

__all__ = ["RECIPES", "ppo_config_for", "opponents_for", "run_train", "run_export", "OPPONENT_CHOICES"]

RECIPES: dict[str, dict[str, Any]] = {
    # returns are noisy next to the EV gaps between actions (doubling 11 against a 10 beats hitting
    # by ~0.06 bets; a hand's return has a std of ~1.1): big batches, Monte-Carlo returns
    # (gae_lambda=1), and a large entropy bonus that keeps doubles and splits sampled, annealed to 0
    # together with the learning rate over the 1526 updates of the shipped 100M-step run
    "blackjack": dict(
        num_envs=4096, num_steps=16, num_minibatches=8, update_epochs=4, learning_rate=1e-3,
        anneal_to=0.0, anneal_updates=1526, gamma=1.0, gae_lambda=1.0, ent_coef=0.1, ent_anneal_to=0.0,
        hidden=(64, 64),
    ),
    "prisoners_dilemma": dict(
        num_envs=256, num_steps=100, num_minibatches=4, update_epochs=4, learning_rate=1e-3,
        gamma=0.99, gae_lambda=0.95, ent_coef=0.01, hidden=(64, 64),
    ),
    # rewards are chips in big blinds (up to +-50 per hand at the default 100-chip stacks), so the
    # value loss is in the hundreds: a small vf_coef keeps the critic's gradients from using up the
    # shared global-norm clip (actor and critic are separate networks and Adam rescales each, so
    # the critic still learns at full speed)
    "holdem": dict(
        num_envs=1024, num_steps=32, num_minibatches=4, update_epochs=4, learning_rate=1e-3,
        gamma=1.0, gae_lambda=0.95, ent_coef=0.003, vf_coef=0.002, hidden=(128, 128),
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
    """Opponents called ``name`` (one of :data:`OPPONENT_CHOICES`) and PPO overrides they need."""
    if name == "self":
        return None, {}
    if name == "pool":
        return None, {"snapshot_pool": 8}
    if name == "random":
        from htjax.core.rollouts import random_policy

        return Opponents.from_policies(env, [random_policy], ["random"]), {}
    if name == "ipd-classic":
        from htjax.train.ipd_opponents import classic_opponents

        return classic_opponents(env), {}
    if name == "holdem-baselines":
        from htjax.train.holdem_opponents import holdem_opponents

        return holdem_opponents(env), {}
    raise ValueError(f"unknown opponents {name!r}; choose from {list(OPPONENT_CHOICES)}")


def _command_line() -> str:
    argv = list(sys.argv)
    argv[0] = pathlib.Path(argv[0]).name
    return shlex.join(argv)


def run_train(
    env: Env,
    *,
    env_steps: int,
    seed: int,
    out: str,
    opponents: str = "self",
    console=None,
    command: str | None = None,
    **ppo_overrides: Any,
):
    """Train ``env`` for ``env_steps`` steps and save ``out`` (.npz); returns the :class:`TrainResult`."""
    from htjax.train.run import train, updates_for_steps

    opp, extra = opponents_for(env, opponents)
    config = ppo_config_for(env, **{**extra, **ppo_overrides})
    updates = updates_for_steps(config, env_steps)
    return train(
        env,
        config,
        updates=updates,
        seed=seed,
        opponents=opp,
        out=out,
        command=command or _command_line(),
        console=console,
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

    ckpt = load_checkpoint(checkpoint, env)
    path = export_checkpoint(ckpt, out, name=name, backend=backend)
    report = random_parity(ckpt, path, samples=1000, seed=0)
    return {"onnx": str(path), "card": str(path.with_suffix(".json")), "backend": backend, **report}
