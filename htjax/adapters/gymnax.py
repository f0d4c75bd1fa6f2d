"""A one-seat htjax env with gymnax's functional interface (:class:`GymnaxEnv`).

JAX RL libraries built on gymnax (purejaxrl, rejax, ...) consume an env object with::

    obs, state = env.reset(key, params)
    obs, state, reward, done, info = env.step(key, state, action, params)
    env.default_params, env.observation_space(params), env.action_space(params), env.num_actions

all pure and ``jit``/``vmap``-able. :class:`GymnaxEnv` gives exactly that for any one-seat htjax
env, so their algorithms train on htjax worlds unchanged::

    env = GymnaxEnv(htjax.make("blackjack", preset="gymnasium"))
    algo = rejax.PPO.create(env=env, env_params=env.default_params, ...)

* **Params.** :class:`GymnaxParams` is a pytree: ``rules`` (the env's rule parameters,
  ``{field: float32[]/int32[]}``, see :meth:`htjax.core.env.Env.params`) and
  ``max_steps_in_episode`` (a time limit; episodes longer than it are truncated). Both are traced:
  ``vmap`` over a batch of params trains on varied rules without recompiling.
* **Auto-reset as gymnax does.** ``step`` splits its key into a step key and a reset key; where
  the step ends an episode it returns the first observation and state of a fresh episode (from
  the reset key), and ``done`` is true. The finished episode's last observation is
  ``info["final_observation"]``.
* **Keys.** An episode started from key ``k`` is htjax's episode ``k``: its step ``t`` uses
  ``step_key(k, t)`` whatever key the caller passes to ``step`` (that key only seeds the next
  episode), so every episode replays with :func:`htjax.replay_episode` from
  ``state.episode_key`` and its actions.
* **Masks.** ``info["legal_action_mask"]`` (``bool[A]``) is the mask of the returned state (the
  fresh episode's after a reset); :meth:`GymnaxEnv.legal_action_mask` reads it from a state. An
  illegal action is handled as the htjax env handles it (see ``docs/contract.md``).
* **Spaces** are ``gymnax.environments.spaces`` objects when gymnax is installed (rejax checks
  ``isinstance(space, gymnax...Discrete)``), else :class:`Discrete` / :class:`Box` here with the
  same attributes (``n``, ``shape``, ``dtype``, ``low``, ``high``, ``sample``, ``contains``).
"""

from __future__ import annotations

from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.env import Env, State
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import episode_key_for, key_data, step_key

__all__ = ["GymnaxEnv", "GymnaxParams", "GymnaxState", "Discrete", "Box", "discrete_space", "box_space"]

DEFAULT_MAX_STEPS = 10_000
"""Time limit of :attr:`GymnaxEnv.default_params` when none is given (htjax games end on their own)."""


class Discrete:
    """``{0, ..., n - 1}`` (gymnax's ``Discrete`` without gymnax): ``n``, ``shape=()``, ``dtype``."""

    def __init__(self, num_categories: int, dtype: Any = jnp.int32):
        self.n = int(num_categories)
        self.shape: tuple[int, ...] = ()
        self.dtype = jnp.dtype(dtype)

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, self.shape, 0, self.n, dtype=self.dtype)

    def contains(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        return jnp.logical_and(x >= 0, x < self.n)

    def __repr__(self) -> str:
        return f"Discrete({self.n})"


class Box:
    """An array in ``[low, high]`` (gymnax's ``Box`` without gymnax): ``low``, ``high``, ``shape``, ``dtype``."""

    def __init__(self, low: Any, high: Any, shape: tuple[int, ...], dtype: Any = jnp.float32):
        self.low, self.high, self.shape, self.dtype = low, high, tuple(shape), jnp.dtype(dtype)

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.uniform(key, self.shape, minval=self.low, maxval=self.high).astype(self.dtype)

    def contains(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        return jnp.logical_and(jnp.all(x >= self.low), jnp.all(x <= self.high))

    def __repr__(self) -> str:
        return f"Box(shape={self.shape}, dtype={self.dtype})"


def _gymnax_spaces():
    try:
        from gymnax.environments import spaces
    except ImportError:  # gymnax is optional: structurally equal classes above
        return None
    return spaces


def discrete_space(n: int):
    """A ``Discrete(n)`` space: gymnax's when gymnax is installed, else :class:`Discrete`."""
    spaces = _gymnax_spaces()
    return Discrete(n) if spaces is None else spaces.Discrete(n)


def box_space(env: Env):
    """``env``'s observation as a ``Box`` with its bounds (:attr:`Env.observation_bounds`)."""
    low, high = (np.asarray(b, np.float32) for b in env.observation_bounds)
    shape, dtype = tuple(env.observation_shape), env.observation_dtype
    spaces = _gymnax_spaces()
    return Box(low, high, shape, dtype) if spaces is None else spaces.Box(low, high, shape, dtype)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class GymnaxParams:
    """gymnax's ``params``: the rule parameters and a time limit (both pytree leaves, traced).

    Attributes:
      rules: ``{field: 0-d array}``, the env's rule parameters (:meth:`Env.params`).
      max_steps_in_episode: ``int32[]``; an episode reaching it is truncated.
    """

    rules: dict
    max_steps_in_episode: jax.Array


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class GymnaxState:
    """One world: the htjax state, its episode key and the step count.

    Attributes:
      env_state: the htjax env's state.
      episode_key: ``uint32[2]`` key of the running episode (``htjax.replay_episode`` replays it).
      time: ``int32[]`` steps taken in the episode (gymnax's ``state.time``).
    """

    env_state: State
    episode_key: jax.Array
    time: jax.Array


class GymnaxEnv:
    """gymnax's ``Environment`` interface over a one-seat htjax env (see the module docstring).

    Args:
      env: an htjax env with one seat (``env.num_players == 1``); multi-seat games use
        :class:`htjax.adapters.jaxmarl.JaxMARLEnv`.
      max_steps_in_episode: the default params' time limit.
    """

    def __init__(self, env: Env, max_steps_in_episode: int = DEFAULT_MAX_STEPS):
        if not isinstance(env, Env):
            raise InvalidArgumentError(f"GymnaxEnv wraps an htjax Env, got {type(env).__name__}")
        if env.num_players != 1:
            raise InvalidArgumentError(
                f"{env.id} has {env.num_players} seats; gymnax's interface is single-agent: use "
                "htjax.adapters.jaxmarl.JaxMARLEnv for multi-seat games"
            )
        if (
            isinstance(max_steps_in_episode, bool)
            or not isinstance(max_steps_in_episode, int)
            or max_steps_in_episode < 1
        ):
            raise InvalidArgumentError(
                f"max_steps_in_episode must be a positive int, got {max_steps_in_episode!r}"
            )
        self.env = env
        self.max_steps = max_steps_in_episode

    # ---------------------------------------------------------------- gymnax's attributes
    @property
    def name(self) -> str:
        return f"htjax/{self.env.id}"

    @property
    def num_actions(self) -> int:
        return self.env.num_actions

    @property
    def default_params(self) -> GymnaxParams:
        """The env's config as :class:`GymnaxParams` (rules from :attr:`Env.default_params`)."""
        return self.params()

    def params(self, max_steps_in_episode: int | None = None, **rules: Any) -> GymnaxParams:
        """:class:`GymnaxParams` with rule fields replaced (validated as :meth:`Env.params` does)."""
        values = self.env.params(**rules) if rules else self.env.default_params
        limit = self.max_steps if max_steps_in_episode is None else max_steps_in_episode
        return GymnaxParams(
            rules={k: jnp.asarray(v) for k, v in values.items()},
            max_steps_in_episode=jnp.asarray(limit, jnp.int32),
        )

    def observation_space(self, params: GymnaxParams | None = None):
        return box_space(self.env)

    def action_space(self, params: GymnaxParams | None = None):
        return discrete_space(self.env.num_actions)

    def __hash__(self) -> int:  # static argument of jit (rejax, gymnax wrappers)
        return hash((type(self), self.env, self.max_steps))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.env == self.env and other.max_steps == self.max_steps

    def __repr__(self) -> str:
        return f"GymnaxEnv({self.env!r})"

    # ---------------------------------------------------------------- the functional API
    def _rules(self, params: GymnaxParams | None) -> tuple[dict | None, jax.Array]:
        if params is None:
            params = self.default_params
        if not isinstance(params, GymnaxParams):
            raise InvalidArgumentError(
                f"params must be GymnaxParams (env.default_params), got {type(params).__name__}"
            )
        return params.rules, params.max_steps_in_episode

    def reset(self, key: jax.Array, params: GymnaxParams | None = None) -> tuple[jax.Array, GymnaxState]:
        """``(obs, state)`` of a new episode whose htjax episode key is ``key``'s data."""
        rules, _ = self._rules(params)
        ekey = key_data(key)
        env_state = self.env.init(ekey, rules)
        return env_state.observation, GymnaxState(env_state=env_state, episode_key=ekey, time=jnp.int32(0))

    def step(
        self, key: jax.Array, state: GymnaxState, action: jax.Array, params: GymnaxParams | None = None
    ) -> tuple[jax.Array, GymnaxState, jax.Array, jax.Array, dict[str, jax.Array]]:
        """``(obs, state, reward, done, info)`` with auto-reset (see the module docstring).

        ``reward`` is ``float32[]``, ``done`` ``bool[]``; ``info`` holds ``terminated``,
        ``truncated`` (the time limit included), ``discount`` (``float32[]``, 0 where terminated),
        ``legal_action_mask`` (``bool[A]``, of the returned state) and ``final_observation``.
        """
        rules, limit = self._rules(params)
        nxt = self.env.step(
            state.env_state,
            jnp.asarray(action, jnp.int32),
            step_key(state.episode_key, state.env_state.step_count),
            rules,
        )
        time = state.time + 1
        terminated = nxt.terminated
        truncated = jnp.logical_and(jnp.logical_or(nxt.truncated, time >= limit), jnp.logical_not(terminated))
        done = jnp.logical_or(terminated, truncated)
        obs_new, fresh = self.reset(episode_key_for(key_data(key), 0), params)
        stepped = GymnaxState(env_state=nxt, episode_key=state.episode_key, time=time)
        out = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), fresh, stepped)
        obs = jnp.where(done, obs_new, nxt.observation)
        info = {
            "terminated": terminated,
            "truncated": truncated,
            "discount": 1.0 - terminated.astype(jnp.float32),
            "legal_action_mask": out.env_state.legal_action_mask,
            "final_observation": nxt.observation,
        }
        return obs, out, nxt.rewards[0].astype(jnp.float32), done, info

    # ---------------------------------------------------------------- helpers gymnax envs have
    def get_obs(self, state: GymnaxState, params: GymnaxParams | None = None) -> jax.Array:
        return state.env_state.observation

    def is_terminal(self, state: GymnaxState, params: GymnaxParams | None = None) -> jax.Array:
        _, limit = self._rules(params)
        return jnp.logical_or(state.env_state.done, state.time >= limit)

    def legal_action_mask(self, state: GymnaxState) -> jax.Array:
        """``bool[A]``: the actions legal in ``state``."""
        return state.env_state.legal_action_mask
