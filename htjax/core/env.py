"""The htjax environment contract.

Every game is a pure function pair ``init(key) -> State`` and ``step(state, action, key) -> State``
that can be ``jax.jit``-ed and ``jax.vmap``-ed. This module is the authority on what those mean.

State
-----
A frozen pytree dataclass (``chex.dataclass``). Public fields, shared by every env:

=====================  ===============================  ==============================================
field                  shape / dtype                    meaning
=====================  ===============================  ==============================================
``current_player``     ``int32[]``                      seat to act; ``SIMULTANEOUS`` (-2) in
                                                        simultaneous-move games (every seat acts)
``observation``        ``observation_dtype[*shape]``    the current player's view (turn-based) or
                                                        every seat's view ``[num_players, *shape]``
                                                        (simultaneous)
``rewards``            ``float32[num_players]``         reward of each seat for the last step
``terminated``         ``bool[]``                       the game ended by its rules
``truncated``          ``bool[]``                       the game was cut off (round or step limit)
``legal_action_mask``  ``bool[num_actions]``            legal actions of the seat to act;
                                                        ``bool[num_players, num_actions]`` when
                                                        simultaneous; all-True once finished
``step_count``         ``int32[]``                      steps taken in this episode
=====================  ===============================  ==============================================

Game-private fields follow in each env's subclass of :class:`State`.

Shared semantics (implemented once, in :meth:`Env.step`, and tested for every env)
------------------------------------------------------------------------------------
* **Finished worlds.** Stepping a state with ``terminated | truncated`` returns it unchanged
  except that ``rewards`` are zero. ``step_count`` does not advance.
* **Illegal actions.** Outside ``jit``, an action of the wrong shape or dtype, or out of
  ``[0, num_actions)``, raises :class:`InvalidActionError`. Shape and dtype are also checked
  while tracing. Inside ``jit`` an in-range action that the mask forbids, or an out-of-range one,
  follows the *illegal-action rule*: the episode terminates, the offending seat receives
  ``illegal_action_penalty`` (default ``-1.0``), every other seat ``0``, and every game-private
  field is left exactly as it was (no chips, cards or tokens move).
* **Terminal mask.** Once ``terminated | truncated``, ``legal_action_mask`` is all-True, so
  normalising a policy over it never divides by zero.
* **Randomness.** Only from the ``key`` arguments. ``init(episode_key)`` starts an episode and
  step ``t`` uses ``htjax.core.keys.step_key(episode_key, t)``; so an episode is fully determined
  by ``(env id, version, config, episode_key, actions)``.
* **Observations.** ``observe(state, player)`` works for any seat at any time and never
  reveals information hidden from that seat.

Simultaneous-move games
-----------------------
An env with ``simultaneous = True`` takes ``action: int32[num_players]`` (one per seat) in one
``step``; its ``legal_action_mask`` is ``bool[num_players, num_actions]`` and its
``observation`` holds every seat's view ``[num_players, *observation_shape]``. The illegal-action
rule then penalises every seat whose action was illegal.

Writing a game
--------------
Subclass :class:`Env` and implement ``_init``, ``_step`` (called only with a legal action, on
an unfinished state, with ``rewards`` zeroed), ``_observe`` and the size properties; the
template methods above add the shared semantics, validation and observation refresh.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Generic, TypeVar

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.branching import rare_cond
from htjax.core.config import EnvConfig

__all__ = [
    "SIMULTANEOUS",
    "State",
    "Env",
    "HtjaxError",
    "InvalidActionError",
    "UnknownEnvError",
]

SIMULTANEOUS = -2
"""``current_player`` of a simultaneous-move state: every seat acts in the next step."""


class HtjaxError(Exception):
    """Base class of htjax's own errors."""


class InvalidActionError(HtjaxError, ValueError):
    """An action has the wrong shape, dtype or range (raised outside jit)."""


class UnknownEnvError(HtjaxError, ValueError):
    """An env id is not registered; the message lists the available ids."""


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class State:
    """Public fields of every env state; see the module docstring for their semantics."""

    current_player: jax.Array
    observation: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    legal_action_mask: jax.Array
    step_count: jax.Array

    @property
    def done(self) -> jax.Array:
        """``terminated | truncated``."""
        return self.terminated | self.truncated


StateT = TypeVar("StateT", bound=State)
ConfigT = TypeVar("ConfigT", bound=EnvConfig)


def _select(pred: jax.Array, on_true, on_false):
    """Leaf-wise ``where`` of two pytrees with a scalar predicate."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


class Env(abc.ABC, Generic[StateT, ConfigT]):
    """Base class of every htjax env (see the module docstring for the contract).

    Class attributes a game sets: ``id`` (registry id), ``version`` (bumped whenever rules,
    observation or action meaning change), ``config_class`` and, for simultaneous games,
    ``simultaneous = True``.

    An env is immutable and hashable by ``(type, config)``, so it can be closed over or passed
    as a static argument to ``jax.jit``.
    """

    id: ClassVar[str]
    version: ClassVar[str]
    config_class: ClassVar[type[EnvConfig]]
    simultaneous: ClassVar[bool] = False
    illegal_action_penalty: ClassVar[float] = -1.0
    keep_by_branch: bool = False
    """How :meth:`step` keeps the state of a finished world or after an illegal action: a
    per-world select over the whole state (``False``), or
    :func:`~htjax.core.branching.rare_cond`, which a batch runs only on steps where some world
    needs it (``True``). In a rollout neither happens at step time (finished worlds were reset,
    policies act legally), so the branch saves a select over the state on every step, at the
    cost of a branch. Worth it for large states: casino blackjack (684 bytes per world, 13%
    faster) and the IPD (8%), not for the 247 bytes of blackjack's Gymnasium preset (15%
    slower); ``docs/performance.md``. A game may set it per config in ``__init__``."""

    def __init__(self, config: ConfigT | None = None, /, *, preset: str | None = None, **overrides: Any):
        if config is None:
            config = self.config_class.from_options(preset, **overrides)
        elif preset is not None or overrides:
            raise TypeError("pass either a config object or preset/overrides, not both")
        elif not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} expects a {self.config_class.__name__}, got {type(config).__name__}"
            )
        self._config = config

    # ------------------------------------------------------------------ identity
    @property
    def config(self) -> ConfigT:
        return self._config  # type: ignore[return-value]

    def __hash__(self) -> int:
        return hash((type(self), self._config))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._config == other._config  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config!r})"

    # ------------------------------------------------------------------ sizes
    @property
    @abc.abstractmethod
    def num_players(self) -> int:
        """Number of seats (agents) in one world."""

    @property
    @abc.abstractmethod
    def num_actions(self) -> int:
        """Size of the discrete action space of every seat."""

    @property
    @abc.abstractmethod
    def action_labels(self) -> tuple[str, ...]:
        """Human-readable name of each action id, ``len == num_actions``."""

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """Shape of one seat's observation."""
        return self._observation_spec()[0]

    @property
    def observation_dtype(self) -> np.dtype:
        """Dtype of the observation."""
        return self._observation_spec()[1]

    def _observation_spec(self) -> tuple[tuple[int, ...], np.dtype]:
        cached = self.__dict__.get("_obs_spec")
        if cached is None:
            state = jax.eval_shape(self._init, jax.random.PRNGKey(0))
            out = jax.eval_shape(self._observe, state, jnp.int32(0))
            cached = (tuple(out.shape), np.dtype(out.dtype))
            self.__dict__["_obs_spec"] = cached
        return cached

    # ------------------------------------------------------------------ public API
    def init(self, key: jax.Array) -> StateT:
        """Start an episode from ``key`` (the episode key)."""
        return self._finish(self.init_unobserved(key))

    def init_unobserved(self, key: jax.Array) -> StateT:
        """:meth:`init` without building the observation and legal mask (see :meth:`finish`)."""
        return self._init(key)

    def finish(self, state: StateT) -> StateT:
        """Rebuild ``observation`` (the current player's, or every seat's when simultaneous) and
        ``legal_action_mask`` (all True once finished) from the rest of ``state``."""
        return self._finish(state)

    def step(self, state: StateT, action: Any, key: jax.Array) -> StateT:
        """Apply ``action`` (``int32[]``, or ``int32[num_players]`` when simultaneous).

        ``key`` must be ``step_key(episode_key, state.step_count)`` for exact replay.
        """
        return self._finish(self.step_unobserved(state, action, key))

    def step_unobserved(self, state: StateT, action: Any, key: jax.Array) -> StateT:
        """:meth:`step` without its last stage: ``observation`` and ``legal_action_mask`` are not
        yet rebuilt (``finish(step_unobserved(s, a, k)) == step(s, a, k)``).

        For batched loops that select between stepped and freshly reset worlds first and then
        observe once (:func:`htjax.core.rollouts.step_worlds`), instead of observing both.
        """
        action = self.validate_action(action)
        finished = state.terminated | state.truncated
        zero_rewards = jnp.zeros_like(state.rewards)
        legal = self._legal(state, action)
        all_legal = jnp.all(legal)
        safe_action = jnp.where(legal, action, self._fallback_action(state))
        stepped = self._step(state.replace(rewards=zero_rewards), safe_action, key)
        # A finished world stays as it is (zero rewards); an illegal action keeps the state too,
        # but ends the episode with the penalty and counts the step. One keep over the whole
        # state covers both (a select, or a batch-level branch: keep_by_branch); the few
        # fields that differ are patched after.
        keep = finished | ~all_legal
        if self.keep_by_branch:
            out = rare_cond(keep, lambda kept, _: kept, lambda _, moved: moved, state, stepped)
        else:
            out = _select(keep, state, stepped)
        penalty = jnp.where(~legal & self._actors(state), self.illegal_action_penalty, 0.0).astype(jnp.float32)
        return out.replace(
            rewards=jnp.where(finished, zero_rewards, jnp.where(all_legal, stepped.rewards, penalty)),
            terminated=jnp.where(finished, state.terminated, ~all_legal | stepped.terminated),
            step_count=jnp.where(finished, state.step_count, state.step_count + 1),
        )

    def observe(self, state: StateT, player: Any) -> jax.Array:
        """Observation of seat ``player`` (any seat, any time): ``observation_dtype[*observation_shape]``."""
        if not isinstance(player, jax.core.Tracer):
            p = np.asarray(player)
            if p.shape != () or not np.issubdtype(p.dtype, np.integer) or not 0 <= int(p) < self.num_players:
                raise InvalidActionError(
                    f"{self.id}: player must be an int seat in [0, {self.num_players}), got {player!r}"
                )
        return self._observe(state, jnp.asarray(player, jnp.int32))

    def legal_action_mask(self, state: StateT) -> jax.Array:
        return state.legal_action_mask

    def validate_action(self, action: Any) -> jax.Array:
        """Check shape and dtype (always) and range (when concrete); return ``int32`` action."""
        expected = (self.num_players,) if self.simultaneous else ()
        arr = action if isinstance(action, jax.Array) else np.asarray(action)
        what = f"{self.id}: action"
        if tuple(arr.shape) != expected:
            raise InvalidActionError(
                f"{what} must have shape {expected}, got shape {tuple(arr.shape)} ({action!r})"
            )
        if not (jnp.issubdtype(arr.dtype, jnp.integer)) or arr.dtype == jnp.bool_:
            raise InvalidActionError(f"{what} must be an integer, got dtype {arr.dtype} ({action!r})")
        if not isinstance(action, jax.core.Tracer):
            values = np.asarray(arr)
            if np.any(values < 0) or np.any(values >= self.num_actions):
                raise InvalidActionError(
                    f"{what} out of range [0, {self.num_actions}): {values.tolist()!r}; "
                    f"actions are {list(enumerate(self.action_labels))}"
                )
        return jnp.asarray(arr, jnp.int32)

    # ------------------------------------------------------------------ shared mechanics
    def _legal(self, state: StateT, action: jax.Array) -> jax.Array:
        in_range = (action >= 0) & (action < self.num_actions)
        idx = jnp.clip(action, 0, self.num_actions - 1)
        if self.simultaneous:
            allowed = jnp.take_along_axis(state.legal_action_mask, idx[:, None], axis=1)[:, 0]
        else:
            allowed = state.legal_action_mask[idx]
        return in_range & allowed

    def _fallback_action(self, state: StateT) -> jax.Array:
        return jnp.argmax(state.legal_action_mask, axis=-1).astype(jnp.int32)

    def _actors(self, state: StateT) -> jax.Array:
        """``bool[num_players]``: which seats acted in this step."""
        seats = jnp.arange(self.num_players)
        if self.simultaneous:
            return jnp.ones(self.num_players, jnp.bool_)
        return seats == state.current_player

    def _finish(self, state: StateT) -> StateT:
        finished = state.terminated | state.truncated
        mask = jnp.where(finished, True, state.legal_action_mask)
        if self.simultaneous:
            obs = jax.vmap(lambda p: self._observe(state, p))(jnp.arange(self.num_players, dtype=jnp.int32))
        else:
            obs = self._observe(state, state.current_player)
        return state.replace(observation=obs, legal_action_mask=mask)

    # ------------------------------------------------------------------ game hooks
    @abc.abstractmethod
    def _init(self, key: jax.Array) -> StateT:
        """Initial state; ``observation`` may be a placeholder (the template fills it)."""

    @abc.abstractmethod
    def _step(self, state: StateT, action: jax.Array, key: jax.Array) -> StateT:
        """Game transition for a legal ``action`` on an unfinished state with zero rewards."""

    @abc.abstractmethod
    def _observe(self, state: StateT, player: jax.Array) -> jax.Array:
        """Observation of seat ``player`` (a traced ``int32[]``)."""


def describe(env: Env) -> dict[str, Any]:
    """Plain-value summary of an env: id, version, sizes, labels and config."""
    return {
        "id": env.id,
        "version": env.version,
        "num_players": env.num_players,
        "num_actions": env.num_actions,
        "simultaneous": env.simultaneous,
        "observation_shape": list(env.observation_shape),
        "observation_dtype": str(env.observation_dtype),
        "action_labels": list(env.action_labels),
        "config": env.config.to_dict(),
    }

