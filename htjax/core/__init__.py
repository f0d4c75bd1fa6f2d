"""The htjax core: the env contract, key schedule, rollouts and card primitives."""

from htjax.core.branching import rare_cond
from htjax.core.config import ConfigError, EnvConfig
from htjax.core.env import SIMULTANEOUS, Env, Params, State, describe
from htjax.core.errors import (
    HtjaxError,
    InvalidActionError,
    InvalidArgumentError,
    MemoryBudgetError,
    UnknownEnvError,
)
from htjax.core.keys import episode_key_for, step_key
from htjax.core.layout import Field, ObservationLayout
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
    "Field",
    "ObservationLayout",
    "Params",
    "InvalidArgumentError",
    "MemoryBudgetError",
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
