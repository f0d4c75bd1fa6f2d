"""htjax: vectorised card-game RL environments in pure JAX.

>>> import jax, htjax
>>> env = htjax.make("blackjack")
>>> state = env.init(jax.random.PRNGKey(0))
"""

from htjax._version import __version__
from htjax.core import (
    SIMULTANEOUS,
    ConfigError,
    Env,
    EnvConfig,
    HtjaxError,
    InvalidActionError,
    InvalidArgumentError,
    MemoryBudgetError,
    Params,
    Rollout,
    RolloutCarry,
    State,
    Trajectory,
    UnknownEnvError,
    describe,
    episode_key_for,
    first_legal_policy,
    random_policy,
    replay_episode,
    rollout,
    rollout_start,
    rollout_steps,
    step_key,
)
from htjax.core.evaluate import EvaluateResult, evaluate
from htjax.envs import available_envs, make, register

__all__ = [
    "SIMULTANEOUS",
    "ConfigError",
    "Env",
    "EnvConfig",
    "EvaluateResult",
    "HtjaxError",
    "InvalidActionError",
    "InvalidArgumentError",
    "MemoryBudgetError",
    "Params",
    "Rollout",
    "RolloutCarry",
    "State",
    "Trajectory",
    "UnknownEnvError",
    "available_envs",
    "describe",
    "episode_key_for",
    "evaluate",
    "first_legal_policy",
    "make",
    "random_policy",
    "register",
    "replay_episode",
    "rollout",
    "rollout_start",
    "rollout_steps",
    "step_key",
    "__version__",
]

# Gymnasium ids ("htjax/Blackjack-v0") are registered when gymnasium is importable.
try:  # pragma: no branch
    import htjax.adapters.gymnasium  # noqa: F401
except ModuleNotFoundError as _err:  # gymnasium not installed, or the adapter not built yet
    if _err.name not in ("gymnasium", "htjax.adapters.gymnasium"):
        raise
