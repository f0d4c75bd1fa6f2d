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
  follows the *illegal-action rule*, under which an illegal action never pays: the episode
  terminates; the offending seat **forfeits** everything it has or could still put at stake (at
  least the most any legal continuation could cost it; the game's ``_forfeit`` hook says what,
  and where the game is zero-sum the other seats receive it) and then receives
  ``illegal_action_penalty`` (default ``-1.0``) on top; every game-private field is left
  exactly as it was. So for every state, the offender's illegal-action return is at most the
  return of any legal continuation (``htjax.testing.check_env`` tests this on random states).
* **Terminal mask.** Once ``terminated | truncated``, ``legal_action_mask`` is all-True, so
  normalising a policy over it never divides by zero.
* **Randomness.** Only from the ``key`` arguments. ``init(episode_key)`` starts an episode and
  step ``t`` uses ``htjax.core.keys.step_key(episode_key, t)``; so an episode is fully determined
  by ``(env id, version, config, rule parameters, episode_key, actions)``.
* **Rule parameters.** The numeric rules named by ``config_class.PARAM_FIELDS`` (payouts, blinds,
  payoffs, noise, ...) are a traced pytree ``params`` (:meth:`Env.params`,
  :meth:`Env.batch_params`), so one compiled program runs a batch in which every world has its
  own rules. ``init``, ``step`` and ``observe`` take it as an optional last argument;
  ``None`` means the env's config (``Env.default_params``). A state is stepped with the
  parameters it was started with, as in gymnax.
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
Subclass :class:`Env` and implement ``_init(key, params)``, ``_step(state, action, key, params)``
(called only with a legal action, on an unfinished state, with ``rewards`` zeroed),
``_observe(state, player, params)`` and the size properties; the template methods above add the
shared semantics, validation and observation refresh. Optional hooks with defaults here:
``_forfeit`` (what an illegal action costs), ``observation_bounds``, ``render_text``,
``public_view`` and ``classic_observation``. ``htjax.testing.check_env(env)`` checks a game
against this contract.

The batched-loop protocol (``init_unobserved``, ``step_unobserved``, ``finish``,
``keep_by_branch``) exists for rollout loops that observe once per world-step; everyday code
needs only ``init``, ``step``, ``observe``, the sizes and the labels.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar, Generic, Mapping, Sequence, TypeVar

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.branching import rare_cond
from htjax.core.config import EnvConfig
from htjax.core.errors import ConfigError, HtjaxError, InvalidActionError, UnknownEnvError
from htjax.core.layout import ObservationLayout

__all__ = [
    "SIMULTANEOUS",
    "Params",
    "State",
    "Env",
    "HtjaxError",
    "InvalidActionError",
    "UnknownEnvError",
]

SIMULTANEOUS = -2
"""``current_player`` of a simultaneous-move state: every seat acts in the next step."""


Params = dict
"""Rule parameters of one world (or a batch of worlds): ``{field: array}``, one entry per
``config_class.PARAM_FIELDS``; see :meth:`Env.params`."""


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
    zero_sum: ClassVar[bool] = False
    """Whether every transition's rewards sum to zero (checked for forfeits by ``check_env``)."""
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
            params = self.default_params
            state = jax.eval_shape(lambda k: self._init(k, params), jax.random.PRNGKey(0))
            out = jax.eval_shape(lambda st: self._observe(st, jnp.int32(0), params), state)
            cached = (tuple(out.shape), np.dtype(out.dtype))
            self.__dict__["_obs_spec"] = cached
        return cached

    # ------------------------------------------------------------------ rule parameters
    @property
    def default_params(self) -> Params:
        """This env's config as rule parameters: ``{field: 0-d numpy array}`` per ``PARAM_FIELDS``.

        Host constants, so a program traced with the defaults folds them as it always did."""
        cached = self.__dict__.get("_default_params")
        if cached is None:
            cached = _params_from_config(self._config)
            self.__dict__["_default_params"] = cached
        return cached

    def params(self, **values: Any) -> Params:
        """Rule parameters of one world: the defaults with ``values`` replaced.

        Validated through the config, so a bad value raises :class:`ConfigError` naming the
        field, exactly as ``htjax.make(..., field=value)`` would; a field that is not one of
        ``config_class.PARAM_FIELDS`` is refused (it is structural: make another env).
        """
        fields = self.config_class.PARAM_FIELDS
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(
                f"{self.id}: {unknown} cannot vary per world (not rule parameters); "
                f"rule parameters are {list(fields)}; make another env for structural fields"
            )
        config = dataclasses.replace(self._config, **values)
        self.validate_config_params(config)
        return _params_from_config(config)

    def batch_params(self, worlds: Sequence[Mapping[str, Any]]) -> Params:
        """Rule parameters of a batch: one mapping of overrides (or a full :meth:`params`) per world.

        Returns ``{field: array[len(worlds)]}``, the leading axis being the world axis that
        :func:`htjax.rollout` (``env_params=``) and ``jax.vmap`` expect.
        """
        if isinstance(worlds, Mapping) or not len(worlds):
            raise ConfigError(f"{self.id}: batch_params takes a non-empty sequence of per-world mappings")
        rows = []
        for i, world in enumerate(worlds):
            if not isinstance(world, Mapping):
                raise ConfigError(f"{self.id}: world {i} of batch_params is not a mapping: {world!r}")
            plain = {k: _plain(v, f"{self.id}: world {i} field {k!r}") for k, v in world.items()}
            rows.append(self.params(**plain))
        return {name: np.stack([r[name] for r in rows]) for name in self.config_class.PARAM_FIELDS}

    def validate_config_params(self, config: ConfigT) -> None:
        """Extra checks on rule parameters beyond ``config.validate`` (e.g. values that must stay
        within a static maximum of this env). Raise :class:`ConfigError` naming the field."""

    def check_params(self, params: Params, batch_size: int | None = None) -> Params:
        """Check host (concrete) rule parameters: the right fields, shapes ``[]`` (or
        ``[batch_size]``) and valid values; returns them as arrays. Under ``jit`` only the
        structure is checked."""
        fields = self.config_class.PARAM_FIELDS
        if not isinstance(params, Mapping) or set(params) != set(fields):
            got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
            raise ConfigError(
                f"{self.id}: rule parameters must have exactly the fields {list(fields)}, got {got}"
            )
        shape = () if batch_size is None else (batch_size,)
        out = {}
        for name in fields:
            value = params[name]
            if isinstance(value, jax.core.Tracer):
                out[name] = value
                continue
            arr = np.asarray(value)
            if arr.shape != shape:
                raise ConfigError(
                    f"{self.id}: rule parameter {name!r} must have shape {shape}, got {arr.shape}"
                )
            out[name] = arr
        concrete = [n for n in fields if not isinstance(out[n], jax.core.Tracer)]
        if len(concrete) == len(fields):
            for row in np.ndindex(*shape) if shape else [()]:
                self.params(**{n: out[n][row].item() for n in fields})
        return out

    def _resolve_params(self, params: Params | None) -> Params:
        return self.default_params if params is None else params

    # ------------------------------------------------------------------ public API
    def init(self, key: jax.Array, params: Params | None = None) -> StateT:
        """Start an episode from ``key`` (the episode key) under rule ``params`` (default: the config)."""
        return self._finish(self.init_unobserved(key, params), params)

    def init_unobserved(self, key: jax.Array, params: Params | None = None) -> StateT:
        """:meth:`init` without building the observation and legal mask (see :meth:`finish`)."""
        return self._init(key, self._resolve_params(params))

    def finish(self, state: StateT, params: Params | None = None) -> StateT:
        """Rebuild ``observation`` (the current player's, or every seat's when simultaneous) and
        ``legal_action_mask`` (all True once finished) from the rest of ``state``."""
        return self._finish(state, params)

    def step(self, state: StateT, action: Any, key: jax.Array, params: Params | None = None) -> StateT:
        """Apply ``action`` (``int32[]``, or ``int32[num_players]`` when simultaneous).

        ``key`` must be ``step_key(episode_key, state.step_count)`` for exact replay, and
        ``params`` the rule parameters the episode was started with.
        """
        return self._finish(self.step_unobserved(state, action, key, params), params)

    def step_unobserved(
        self, state: StateT, action: Any, key: jax.Array, params: Params | None = None
    ) -> StateT:
        """:meth:`step` without its last stage: ``observation`` and ``legal_action_mask`` are not
        yet rebuilt (``finish(step_unobserved(s, a, k)) == step(s, a, k)``).

        For batched loops that select between stepped and freshly reset worlds first and then
        observe once (:func:`htjax.core.rollouts.step_worlds`), instead of observing both.
        """
        action = self.validate_action(action)
        params = self._resolve_params(params)
        finished = state.terminated | state.truncated
        zero_rewards = jnp.zeros_like(state.rewards)
        legal = self._legal(state, action)
        all_legal = jnp.all(legal)
        safe_action = jnp.where(legal, action, self._fallback_action(state))
        stepped = self._step(state.replace(rewards=zero_rewards), safe_action, key, params)
        # A finished world stays as it is (zero rewards); an illegal action keeps the state too,
        # but ends the episode with the forfeit and the penalty and counts the step. One keep
        # over the whole state covers both (a select, or a batch-level branch: keep_by_branch);
        # the few fields that differ are patched after.
        keep = finished | ~all_legal
        if self.keep_by_branch:
            out = rare_cond(keep, lambda kept, _: kept, lambda _, moved: moved, state, stepped)
        else:
            out = _select(keep, state, stepped)
        offenders = ~legal & self._actors(state)
        illegal_rewards = (
            self._forfeit(state, offenders, params) + jnp.where(offenders, self.illegal_action_penalty, 0.0)
        ).astype(jnp.float32)
        return out.replace(
            rewards=jnp.where(finished, zero_rewards, jnp.where(all_legal, stepped.rewards, illegal_rewards)),
            terminated=jnp.where(finished, state.terminated, ~all_legal | stepped.terminated),
            step_count=jnp.where(finished, state.step_count, state.step_count + 1),
        )

    def observe(self, state: StateT, player: Any, params: Params | None = None) -> jax.Array:
        """Observation of seat ``player`` (any seat, any time): ``observation_dtype[*observation_shape]``.

        A seat outside ``[0, num_players)`` raises :class:`InvalidActionError` when concrete;
        under ``jit`` (a traced seat) it gets an all-zero observation: no seat's view, rather
        than a neighbour's."""
        if not isinstance(player, jax.core.Tracer):
            p = np.asarray(player)
            if p.shape != () or not np.issubdtype(p.dtype, np.integer) or not 0 <= int(p) < self.num_players:
                raise InvalidActionError(
                    f"{self.id}: player must be an int seat in [0, {self.num_players}), got {player!r}"
                )
        seat = jnp.asarray(player, jnp.int32)
        exists = (seat >= 0) & (seat < self.num_players)
        view = self._observe(state, jnp.clip(seat, 0, self.num_players - 1), self._resolve_params(params))
        return jnp.where(exists, view, jnp.zeros_like(view))

    def legal_action_mask(self, state: StateT) -> jax.Array:
        return state.legal_action_mask

    def validate_action(self, action: Any) -> jax.Array:
        """Check shape and dtype (always) and range (when concrete); return ``int32`` action."""
        arr = self.check_action(action)
        return jnp.asarray(arr, jnp.int32)

    def check_action(self, action: Any) -> Any:
        """:meth:`validate_action`'s checks without the conversion to a JAX array (no JAX op runs,
        so host code such as the Gymnasium adapters pays nothing per step); returns the action as
        a numpy array (or the JAX array or tracer it was).

        Raises:
          InvalidActionError: wrong shape, a non-integer dtype, or (when concrete) out of range.
        """
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
        return arr

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

    def _finish(self, state: StateT, params: Params | None = None) -> StateT:
        params = self._resolve_params(params)
        finished = state.terminated | state.truncated
        mask = jnp.where(finished, True, state.legal_action_mask)
        if self.simultaneous:
            seats = jnp.arange(self.num_players, dtype=jnp.int32)
            obs = jax.vmap(lambda p: self._observe(state, p, params))(seats)
        else:
            obs = self._observe(state, state.current_player, params)
        return state.replace(observation=obs, legal_action_mask=mask)

    # ------------------------------------------------------------------ game hooks
    @abc.abstractmethod
    def _init(self, key: jax.Array, params: Params) -> StateT:
        """Initial state; ``observation`` may be a placeholder (the template fills it)."""

    @abc.abstractmethod
    def _step(self, state: StateT, action: jax.Array, key: jax.Array, params: Params) -> StateT:
        """Game transition for a legal ``action`` on an unfinished state with zero rewards."""

    @abc.abstractmethod
    def _observe(self, state: StateT, player: jax.Array, params: Params) -> jax.Array:
        """Observation of seat ``player`` (a traced ``int32[]``)."""

    def _forfeit(self, state: StateT, offenders: jax.Array, params: Params) -> jax.Array:
        """``float32[num_players]``: what each seat receives when the seats in ``offenders``
        (``bool[num_players]``) act illegally in ``state``, before the penalty is added.

        An offender must lose at least the most that any legal continuation of the episode
        could cost it (everything it has or could still put at stake), so an illegal action
        never pays; what it loses goes to the other seats where the game is zero-sum. The
        default, for games where nothing is at stake, is zeros."""
        return jnp.zeros(self.num_players, jnp.float32)

    # ------------------------------------------------------------------ optional hooks
    @property
    def observation_layout(self) -> ObservationLayout | None:
        """The observation as a table of named slices (:class:`~htjax.core.layout.ObservationLayout`),
        from which the observation, its bounds, the docs table and the layout hash of
        checkpoints and ONNX policies are derived; ``None`` for a game without one."""
        return None

    @property
    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``: arrays of ``observation_shape`` bounding every observation entry.

        Float observations give ``float64`` bounds, others the observation dtype. The default is
        the :attr:`observation_layout`'s bounds, or without one follows the dtype (booleans
        ``[0, 1]``, integers their range, floats unbounded)."""
        layout = self.observation_layout
        if layout is not None:
            return layout.bounds()
        shape, dtype = self._observation_spec()
        if dtype == np.bool_:
            low, high = np.zeros(shape, np.bool_), np.ones(shape, np.bool_)
        elif np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            low, high = np.full(shape, info.min, dtype), np.full(shape, info.max, dtype)
        else:
            low, high = np.full(shape, -np.inf), np.full(shape, np.inf)
        return low, high

    def render_text(self, state: StateT, seat: int | None = None) -> str:
        """A person's view of one world (host values) as text; ``seat`` hides what that seat
        cannot see. The default lists the public fields; games draw their table."""
        s = jax.device_get(state)
        return (
            f"{self.id} step {int(s.step_count)}: to act {int(s.current_player)}, "
            f"rewards {np.asarray(s.rewards).tolist()}, "
            f"{'terminated' if bool(s.terminated) else 'truncated' if bool(s.truncated) else 'running'}"
        )

    def public_view(self, state: StateT) -> dict[str, Any]:
        """What every seat may see of one world, as plain JSON values (nothing hidden is revealed).

        The default gives the public :class:`State` fields; games add their table."""
        s = jax.device_get(state)
        return {
            "current_player": int(s.current_player),
            "step_count": int(s.step_count),
            "rewards": np.asarray(s.rewards).tolist(),
            "terminated": bool(s.terminated),
            "truncated": bool(s.truncated),
        }

    def classic_observation(self, state: StateT) -> jax.Array | None:
        """A game's traditional observation, if it has one (blackjack: Gymnasium's
        ``(player sum, dealer card, usable ace)``); ``None`` (the default) when it has none."""
        return None


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


def _param_dtype(value: Any) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int32)
    return np.dtype(np.float32)


def _params_from_config(config: EnvConfig) -> Params:
    """``{field: 0-d array}`` for the config's ``PARAM_FIELDS`` (dtypes from the defaults' types)."""
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    return {
        name: np.asarray(getattr(config, name), _param_dtype(defaults[name]))
        for name in type(config).PARAM_FIELDS
    }


def _plain(value: Any, what: str) -> Any:
    """A host scalar from a Python number or a 0-d array (for validation through the config)."""
    if isinstance(value, jax.core.Tracer):
        raise ConfigError(f"{what}: batch_params needs concrete values, got a traced array")
    arr = np.asarray(value)
    if arr.shape != ():
        raise ConfigError(f"{what}: expected a scalar, got shape {arr.shape}")
    return arr.item()
