"""The htjax core: the env contract, key schedule, rollouts and card primitives."""

from htjax.core.branching import rare_cond
from htjax.core.config import ConfigError, EnvConfig
from htjax.core.env import SIMULTANEOUS, Env, HtjaxError, InvalidActionError, State, UnknownEnvError, describe
from htjax.core.keys import episode_key_for, step_key
from htjax.core.rollouts import (
    Rollout,
    RolloutCarry,
    Trajectory,
    first_legal_policy,
    random_policy,
    replay_episode,
    rollout,
    rollout_start,
    rollout_steps,
)

__all__ = [
    "ConfigError",
    "EnvConfig",
    "SIMULTANEOUS",
    "Env",
    "HtjaxError",
    "InvalidActionError",
    "State",
    "UnknownEnvError",
    "describe",
    "episode_key_for",
    "step_key",
    "Rollout",
    "RolloutCarry",
    "Trajectory",
    "first_legal_policy",
    "random_policy",
    "replay_episode",
    "rollout",
    "rollout_start",
    "rollout_steps",
    "rare_cond",
]
