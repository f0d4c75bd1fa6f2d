"""PettingZoo adapters: any multi-agent htjax env as a PettingZoo ``AECEnv`` or ``ParallelEnv``.

* :func:`aec_env` — turn-based games as :class:`HtjaxAECEnv`; simultaneous games as
  PettingZoo's ``parallel_to_aec`` of :class:`HtjaxParallelEnv` (with early action checks).
* :func:`parallel_env` — simultaneous games as :class:`HtjaxParallelEnv`. Turn-based games are
  refused: in parallel form every waiting agent would have to send a dummy action each step.

Conventions (documented in ``docs/pettingzoo.md``):

* Agents are ``player_0 .. player_{P-1}``; ``player_i`` is seat ``i`` of the htjax env.
* Observations are ``{"observation": obs_dtype[*obs_shape], "action_mask": int8[A]}``; the mask
  is all-zero for an agent that may not act now (not its turn, or the episode is over).
* ``reset(seed=s)`` plays episode ``episode_key_for(seed_key(s), 0)``; each later ``reset()``
  without a seed plays the next episode of that stream (index 1, 2, ...). ``seed=None`` on the
  first reset draws a fresh random seed. Step ``t`` uses ``step_key(episode_key, t)``, so
  ``(env.unwrapped.episode_key, env.unwrapped.actions)`` replays the game exactly
  (``htjax.replay_episode``).
* An out-of-range or non-integer action, or an action for a finished agent other than ``None``,
  raises :class:`~htjax.core.env.InvalidActionError` naming the agent and its legal actions and
  changes nothing. A masked (illegal) in-range action follows ``illegal_action``:
  ``"penalty"`` (default, the core contract's rule: the episode terminates, the offender gets
  ``illegal_action_penalty``, nothing else moves) or ``"raise"`` (:class:`IllegalActionError`,
  nothing changes).

Every adapter instance of the same env config shares one pair of jitted ``reset``/``step``
functions (module-level cache), so many instances compile once.
"""

from __future__ import annotations

import functools
import operator
import secrets
import sys
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from htjax.core.env import Env, HtjaxError, InvalidActionError, State
from htjax.core.keys import episode_key_for, key_data, step_key
from htjax.envs import make

__all__ = [
    "ILLEGAL_ACTION_MODES",
    "RENDER_MODES",
    "HtjaxAECEnv",
    "HtjaxParallelEnv",
    "IllegalActionError",
    "OutOfTurnError",
    "aec_env",
    "agent_name",
    "agent_seat",
    "parallel_env",
    "render_state_text",
    "seed_key",
    "step_as",
]

ILLEGAL_ACTION_MODES = ("penalty", "raise")
RENDER_MODES = ("ansi", "human")


class IllegalActionError(HtjaxError, ValueError):
    """An in-range action that the agent's action mask forbids (with ``illegal_action="raise"``)."""


class OutOfTurnError(HtjaxError, ValueError):
    """An agent tried to act when it is not its turn."""


# ---------------------------------------------------------------------------- names and keys
def agent_name(seat: int) -> str:
    """PettingZoo name of seat ``seat``: ``"player_<seat>"``."""
    return f"player_{int(seat)}"


def agent_seat(agent: Any, num_players: int) -> int:
    """Seat index of agent name ``"player_<i>"``; raises ``ValueError`` naming the valid agents."""
    names = [agent_name(i) for i in range(num_players)]
    if not isinstance(agent, str) or agent not in names:
        raise ValueError(f"unknown agent {agent!r}; agents are {names}")
    return int(agent[len("player_") :])


def seed_key(seed: Any) -> np.ndarray:
    """Root key data ``uint32[2]`` of integer seed ``seed`` in ``[0, 2**64)``.

    ``[seed >> 32, seed & 0xFFFFFFFF]``: equal to ``jax.random.PRNGKey(seed)`` for seeds below
    ``2**32`` (and for every seed when ``jax_enable_x64`` is on).
    """
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    try:
        value = operator.index(seed)
    except TypeError:
        raise ValueError(f"seed must be a non-negative int, got {seed!r} ({type(seed).__name__})") from None
    if not 0 <= value < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {value}")
    return np.array([value >> 32, value & 0xFFFFFFFF], np.uint32)


# ---------------------------------------------------------------------------- jitted core calls
@functools.lru_cache(maxsize=64)
def _compiled(env: Env) -> tuple[Callable, Callable]:
    """``(reset, step)`` jitted once per env config and shared by every adapter instance.

    ``reset(episode_key) -> (state, observations)`` and
    ``step(state, action, episode_key) -> (state, observations)`` where ``observations`` is every
    seat's view ``observation_dtype[num_players, *observation_shape]``.
    """
    seats = jnp.arange(env.num_players, dtype=jnp.int32)

    def all_views(state: State) -> jax.Array:
        if env.simultaneous:
            return state.observation
        return jax.vmap(lambda p: env.observe(state, p))(seats)

    def reset(episode_key):
        state = env.init(episode_key)
        return state, all_views(state)

    def step(state, action, episode_key):
        nxt = env.step(state, action, step_key(episode_key, state.step_count))
        return nxt, all_views(nxt)

    return jax.jit(reset), jax.jit(step)


class _Session:
    """One adapter's episode: seeding, the current state, its host copy and the record.

    Attributes (host values, refreshed after every reset and step):
      observations: ``obs_dtype[P, *obs_shape]`` every seat's view.
      mask: ``bool[A]`` (turn-based) or ``bool[P, A]`` (simultaneous) legal actions.
      rewards: ``float32[P]`` rewards of the last step.
      terminated, truncated: ``bool``; current_player: ``int``.
      episode_key: ``uint32[2]`` key of the running episode.
      actions: the actions taken in this episode (ints, or ``int32[P]`` arrays when simultaneous).
    """

    def __init__(self, env: Env, illegal_action: str):
        if illegal_action not in ILLEGAL_ACTION_MODES:
            raise ValueError(
                f"illegal_action must be one of {list(ILLEGAL_ACTION_MODES)}, got {illegal_action!r}"
            )
        self.env = env
        self.illegal_action = illegal_action
        self._reset_fn, self._step_fn = _compiled(env)
        self._root: np.ndarray | None = None
        self._episode_index = 0
        self.state: State | None = None
        self.episode_key: np.ndarray | None = None
        self.actions: list = []

    def require_started(self, what: str) -> None:
        if self.state is None:
            raise HtjaxError(f"{self.env.id}: call reset() before {what}")

    def reset(self, seed: Any, options: Mapping[str, Any] | None) -> None:
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"options must be a dict or None, got {options!r}")
        explicit = None if options is None else options.get("episode_key")
        if seed is not None:
            self._root, self._episode_index = seed_key(seed), 0
        elif explicit is None:
            if self._root is None:
                self._root, self._episode_index = seed_key(secrets.randbits(64)), 0
            else:
                self._episode_index += 1
        if explicit is not None:
            ekey = _episode_key_option(explicit)
        else:
            ekey = np.asarray(episode_key_for(jnp.asarray(self._root), self._episode_index))
        self.episode_key = ekey
        self._device_key = jnp.asarray(ekey)
        self.actions = []
        self._absorb(*self._reset_fn(self._device_key))

    def step(self, action: np.ndarray) -> None:
        self._absorb(*self._step_fn(self.state, jnp.asarray(action, jnp.int32), self._device_key))
        self.actions.append(action.item() if action.ndim == 0 else action.copy())

    def _absorb(self, state: State, observations: jax.Array) -> None:
        self.state = state
        host = jax.device_get(
            (
                observations,
                state.legal_action_mask,
                state.rewards,
                state.terminated,
                state.truncated,
                state.current_player,
            )
        )
        self.observations, self.mask, self.rewards = host[0], host[1], host[2]
        self.terminated, self.truncated = bool(host[3]), bool(host[4])
        self.current_player = int(host[5])

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


def _episode_key_option(value: Any) -> np.ndarray:
    """``options["episode_key"]`` as ``uint32[2]`` key data (a key, or two ints in uint32 range)."""
    data = np.asarray(key_data(value) if isinstance(value, jax.Array) else value)
    ok = data.shape == (2,) and np.issubdtype(data.dtype, np.integer)
    if not ok or np.any(data < 0) or np.any(data > 0xFFFFFFFF):
        raise ValueError(f"options['episode_key'] must be uint32[2] key data, got {value!r}")
    return data.astype(np.uint32)


# ---------------------------------------------------------------------------- spaces and checks
def _observation_box(env: Env) -> gymnasium.spaces.Box:
    """Box of one seat's observation; bounds from an optional ``env.observation_bounds``.

    Without it: ``[0, 1]`` for bool, the dtype's range for integers, ``(-inf, inf)`` for floats.
    """
    shape, dtype = env.observation_shape, np.dtype(env.observation_dtype)
    bounds = getattr(env, "observation_bounds", None)
    if bounds is not None:
        low, high = bounds
    elif dtype == np.bool_:
        low, high = 0, 1
    elif np.issubdtype(dtype, np.integer):
        low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
    else:
        low, high = -np.inf, np.inf
    return gymnasium.spaces.Box(
        low=np.broadcast_to(np.asarray(low, dtype), shape).copy(),
        high=np.broadcast_to(np.asarray(high, dtype), shape).copy(),
        shape=shape,
        dtype=dtype,
    )


def _make_spaces(env: Env, agents: list[str]) -> tuple[dict, dict]:
    """One observation space and one action space object per agent (seeded independently)."""
    obs = {
        a: gymnasium.spaces.Dict(
            {
                "observation": _observation_box(env),
                "action_mask": gymnasium.spaces.Box(0, 1, (env.num_actions,), np.int8),
            }
        )
        for a in agents
    }
    act = {a: gymnasium.spaces.Discrete(env.num_actions) for a in agents}
    return obs, act


def _describe_actions(env: Env, ids) -> str:
    return "{" + ", ".join(f"{int(i)}: {env.action_labels[int(i)]!r}" for i in ids) + "}"


def _legal_text(env: Env, mask_row: np.ndarray) -> str:
    return f"legal actions are {_describe_actions(env, np.flatnonzero(mask_row))}"


def _action_id(env: Env, agent: str, action: Any, mask_row: np.ndarray) -> int:
    """Check that ``action`` is an integer id in ``[0, num_actions)``; return it as ``int``."""
    is_bool = isinstance(action, (bool, np.bool_)) or getattr(action, "dtype", None) == np.bool_
    try:
        if is_bool:
            raise TypeError
        value = operator.index(action)
    except TypeError:
        raise InvalidActionError(
            f"{env.id}: {agent} must act with an integer action id, got {action!r} "
            f"({type(action).__name__}); {_legal_text(env, mask_row)}"
        ) from None
    if not 0 <= value < env.num_actions:
        raise InvalidActionError(
            f"{env.id}: {agent} action {value} is out of range [0, {env.num_actions}); "
            f"{_legal_text(env, mask_row)}"
        )
    return value


def _check_mask(session: _Session, agent: str, value: int, mask_row: np.ndarray) -> bool:
    """``True`` if ``value`` is masked; raises :class:`IllegalActionError` in ``"raise"`` mode."""
    if mask_row[value]:
        return False
    if session.illegal_action == "raise":
        env = session.env
        raise IllegalActionError(
            f"{env.id}: {agent} played {value} ({env.action_labels[value]!r}), which is illegal now; "
            f"{_legal_text(env, mask_row)}"
        )
    return True


def _finished_agent_error(env: Env, agent: str, action: Any, how: str) -> InvalidActionError:
    return InvalidActionError(
        f"{env.id}: {agent} has finished ({how}); the only valid action is None "
        f"(PettingZoo's dead step), got {action!r}"
    )


# ---------------------------------------------------------------------------- rendering
def render_state_text(env: Env, state: State) -> str:
    """Text view of ``state``: the game module's ``render_text(env, state, seat=None)`` if any.

    Otherwise a generic summary: step, who acts, legal actions and last rewards.
    """
    if type(env).render_text is not Env.render_text:  # the game draws its own table
        return str(env.render_text(state))
    module = sys.modules.get(type(env).__module__)
    render_text = getattr(module, "render_text", None)
    if callable(render_text):
        return str(render_text(env, state, seat=None))
    host = jax.device_get(state)
    rewards = ", ".join(f"{agent_name(i)} {float(r):+g}" for i, r in enumerate(np.asarray(host.rewards)))
    if bool(host.terminated) or bool(host.truncated):
        turn = "finished (" + ("terminated" if bool(host.terminated) else "truncated") + ")"
    elif env.simultaneous:
        parts = [
            f"{agent_name(i)}: {', '.join(env.action_labels[a] for a in np.flatnonzero(row))}"
            for i, row in enumerate(np.asarray(host.legal_action_mask))
        ]
        turn = "every agent acts; legal " + "; ".join(parts)
    else:
        legal = ", ".join(env.action_labels[a] for a in np.flatnonzero(np.asarray(host.legal_action_mask)))
        turn = f"to act: {agent_name(int(host.current_player))}; legal: {legal}"
    return f"{env.id} {env.version} | step {int(host.step_count)} | {turn}\nlast rewards: {rewards}"


def _render(session: _Session, render_mode: str | None):
    if render_mode is None:
        gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'human'")
        return None
    session.require_started("render()")
    text = render_state_text(session.env, session.state)
    if render_mode == "human":
        print(text)
        return None
    return text


def _check_render_mode(render_mode: Any) -> None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {list(RENDER_MODES)}, got {render_mode!r}")


def _metadata(env: Env, parallelizable: bool) -> dict[str, Any]:
    return {
        "name": f"htjax/{env.id}-{env.version}",
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": parallelizable,
    }


class _HtjaxRecordMixin:
    """The htjax-side view shared by both adapters (``env.unwrapped.<name>``)."""

    _session: _Session

    @property
    def htjax_env(self) -> Env:
        """The wrapped htjax env."""
        return self._session.env

    @property
    def htjax_state(self) -> State | None:
        """The current htjax state (``None`` before the first reset)."""
        return self._session.state

    @property
    def episode_key(self) -> np.ndarray | None:
        """``uint32[2]`` key of the running episode (the record's key)."""
        return None if self._session.episode_key is None else self._session.episode_key.copy()

    @property
    def actions(self) -> list:
        """Actions of the running episode so far: ``int`` per step, or ``int32[P]`` when simultaneous."""
        return list(self._session.actions)

    @property
    def illegal_action(self) -> str:
        return self._session.illegal_action


# ---------------------------------------------------------------------------- AEC (turn-based)
class HtjaxAECEnv(_HtjaxRecordMixin, AECEnv):
    """A turn-based htjax env as a PettingZoo ``AECEnv`` (see the module docstring).

    ``agent_selection`` is ``player_<state.current_player>``. ``rewards`` are the last step's
    ``state.rewards``; ``last()`` returns each agent's reward accumulated since it last acted.
    When the episode ends every agent is terminated (or truncated) at once and must step ``None``.
    """

    def __init__(self, env: Env, *, render_mode: str | None = None, illegal_action: str = "penalty"):
        super().__init__()
        if env.simultaneous:
            raise ValueError(
                f"{env.id} is a simultaneous-move game: use aec_env({env.id!r}) or parallel_env()"
            )
        _check_render_mode(render_mode)
        self._session = _Session(env, illegal_action)
        self.render_mode = render_mode
        self.metadata = _metadata(env, parallelizable=False)
        self.possible_agents = [agent_name(i) for i in range(env.num_players)]
        self._obs_spaces, self._act_spaces = _make_spaces(env, self.possible_agents)
        self.agents: list[str] = []
        self._skip_agent_selection = None

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        agent_seat(agent, len(self.possible_agents))
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        agent_seat(agent, len(self.possible_agents))
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode (see the module docstring for seeding; ``options["episode_key"]`` replays one)."""
        s = self._session
        s.reset(seed, options)
        self.agents = self.possible_agents[:]
        self.rewards = {a: float(s.rewards[i]) for i, a in enumerate(self.agents)}
        self._cumulative_rewards = dict(self.rewards)
        self.infos = {a: {} for a in self.agents}
        self._skip_agent_selection = None
        self.agent_selection = self.agents[0]
        self._set_flags_and_turn()

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """``{"observation": obs_dtype[*obs_shape], "action_mask": int8[A]}`` of ``agent``."""
        s = self._session
        s.require_started("observe()")
        seat = agent_seat(agent, len(self.possible_agents))
        acting = not s.done and seat == s.current_player
        mask = s.mask.astype(np.int8) if acting else np.zeros(s.env.num_actions, np.int8)
        return {"observation": np.array(s.observations[seat]), "action_mask": mask}

    def step(self, action: Any) -> None:
        """Act for ``agent_selection``; ``None`` for a finished agent (PettingZoo's dead step)."""
        s = self._session
        s.require_started("step()")
        agent = self.agent_selection
        if agent not in self.agents:
            raise HtjaxError(f"{s.env.id}: the episode is over (no agents left); call reset()")
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                how = "terminated" if self.terminations[agent] else "truncated"
                raise _finished_agent_error(s.env, agent, action, how)
            self._was_dead_step(None)
            return
        if action is None:
            raise InvalidActionError(
                f"{s.env.id}: {agent} is to act; None is only for finished agents; "
                f"{_legal_text(s.env, s.mask)}"
            )
        value = _action_id(s.env, agent, action, s.mask)
        illegal = _check_mask(s, agent, value, s.mask)
        s.step(np.asarray(value, np.int32))
        self._cumulative_rewards[agent] = 0.0
        self.rewards = {a: float(s.rewards[agent_seat(a, s.env.num_players)]) for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        if illegal:
            self.infos[agent]["illegal_action"] = True
        self._set_flags_and_turn()
        self._accumulate_rewards()

    def step_as(self, agent: str, action: Any) -> None:
        """:meth:`step` on behalf of ``agent``; :class:`OutOfTurnError` if it is not its turn."""
        step_as(self, agent, action)

    def _set_flags_and_turn(self) -> None:
        s = self._session
        self.terminations = {a: s.terminated for a in self.agents}
        self.truncations = {a: s.truncated for a in self.agents}
        if s.done:
            self._deads_step_first()
            return
        if not 0 <= s.current_player < s.env.num_players:
            raise HtjaxError(
                f"{s.env.id}: unfinished state has current_player={s.current_player}, not a seat"
            )
        self.agent_selection = agent_name(s.current_player)

    def render(self):
        return _render(self._session, self.render_mode)

    def close(self) -> None:
        """Nothing to release (the jitted functions are shared)."""


def step_as(env: AECEnv, agent: str, action: Any) -> None:
    """Step any AEC env on behalf of ``agent``, refusing out-of-turn actions.

    For callers that receive ``(agent, action)`` pairs from elsewhere (a network peer, a log):
    raises :class:`OutOfTurnError` naming whose turn it is unless ``agent == env.agent_selection``.
    """
    possible = list(getattr(env, "possible_agents", []))
    if agent not in possible:
        raise ValueError(f"unknown agent {agent!r}; agents are {possible}")
    current = env.agent_selection
    if agent != current:
        raise OutOfTurnError(
            f"{agent} tried to act out of turn with action {action!r}; it is {current}'s turn"
        )
    env.step(action)


# ---------------------------------------------------------------------------- parallel (simultaneous)
class HtjaxParallelEnv(_HtjaxRecordMixin, ParallelEnv):
    """A simultaneous-move htjax env as a PettingZoo ``ParallelEnv`` (see the module docstring).

    ``step(actions)`` needs exactly one action per live agent and returns
    ``(observations, rewards, terminations, truncations, infos)`` dicts over those agents;
    when the episode ends ``agents`` becomes empty.
    """

    def __init__(self, env: Env, *, render_mode: str | None = None, illegal_action: str = "penalty"):
        if not env.simultaneous:
            raise ValueError(
                f"{env.id} is turn-based: use aec_env({env.id!r}); a parallel form would make every "
                "waiting agent send a dummy action"
            )
        _check_render_mode(render_mode)
        self._session = _Session(env, illegal_action)
        self.render_mode = render_mode
        self.metadata = _metadata(env, parallelizable=True)
        self.possible_agents = [agent_name(i) for i in range(env.num_players)]
        self._obs_spaces, self._act_spaces = _make_spaces(env, self.possible_agents)
        self.agents: list[str] = []

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        agent_seat(agent, len(self.possible_agents))
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        agent_seat(agent, len(self.possible_agents))
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode; returns ``(observations, infos)`` for every agent."""
        s = self._session
        s.reset(seed, options)
        self.agents = [] if s.done else self.possible_agents[:]
        return {a: self._observe(a) for a in self.possible_agents}, {a: {} for a in self.possible_agents}

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """``{"observation": obs_dtype[*obs_shape], "action_mask": int8[A]}`` of ``agent`` now."""
        self._session.require_started("observe()")
        return self._observe(agent)

    def _observe(self, agent: str) -> dict[str, np.ndarray]:
        s = self._session
        seat = agent_seat(agent, len(self.possible_agents))
        mask = np.zeros(s.env.num_actions, np.int8) if s.done else s.mask[seat].astype(np.int8)
        return {"observation": np.array(s.observations[seat]), "action_mask": mask}

    def check_action(self, agent: str, action: Any) -> tuple[int, bool]:
        """Validate one agent's action; returns ``(action id, is masked)``.

        Raises :class:`InvalidActionError` (finished agent, bad value) or, in ``"raise"`` mode,
        :class:`IllegalActionError`.
        """
        s = self._session
        s.require_started("step()")
        seat = agent_seat(agent, len(self.possible_agents))
        if agent not in self.agents:
            raise _finished_agent_error(s.env, agent, action, "the episode is over; call reset()")
        value = _action_id(s.env, agent, action, s.mask[seat])
        return value, _check_mask(s, agent, value, s.mask[seat])

    def step(self, actions: Mapping[str, Any]):
        """Apply one action per live agent; returns the five PettingZoo dicts."""
        s = self._session
        s.require_started("step()")
        if not isinstance(actions, Mapping):
            raise InvalidActionError(
                f"{s.env.id}: actions must be a dict {{agent: action}}, got {type(actions).__name__}"
            )
        if not self.agents:
            raise HtjaxError(f"{s.env.id}: the episode is over (no agents left); call reset()")
        missing = [a for a in self.agents if a not in actions]
        extra = [a for a in actions if a not in self.agents]
        if missing or extra:
            raise InvalidActionError(
                f"{s.env.id}: step() needs exactly one action for each live agent {self.agents}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"not live or unknown {extra}" if extra else "")
            )
        checked = {a: self.check_action(a, actions[a]) for a in self.agents}
        joint = np.array([checked[a][0] for a in self.possible_agents], np.int32)
        s.step(joint)
        live = self.agents
        observations = {a: self._observe(a) for a in live}
        rewards = {a: float(s.rewards[agent_seat(a, s.env.num_players)]) for a in live}
        terminations = {a: s.terminated for a in live}
        truncations = {a: s.truncated for a in live}
        infos = {a: ({"illegal_action": True} if checked[a][1] else {}) for a in live}
        if s.done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self):
        return _render(self._session, self.render_mode)

    def close(self) -> None:
        """Nothing to release (the jitted functions are shared)."""


class _HtjaxParallelToAEC(parallel_to_aec_wrapper):
    """PettingZoo's ``parallel_to_aec`` with each agent's action checked when it is given.

    The stock wrapper only sees an action when the last agent of the round acts; checking early
    makes the error name the agent that sent the bad action and leaves the round intact.
    """

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        par: HtjaxParallelEnv = self.env
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                how = "terminated" if self.terminations[agent] else "truncated"
                raise _finished_agent_error(par.htjax_env, agent, action, how)
        else:
            if action is None:
                raise InvalidActionError(
                    f"{par.htjax_env.id}: {agent} is to act; None is only for finished agents"
                )
            par.check_action(agent, action)
        super().step(action)


# ---------------------------------------------------------------------------- factories
def _build(env_id: str | Env, config: dict[str, Any]) -> Env:
    if isinstance(env_id, Env):
        if config:
            raise TypeError(
                f"pass either an Env instance or an env id with config, not both (got {sorted(config)})"
            )
        return env_id
    return make(env_id, **config)


def aec_env(
    env_id: str | Env, *, render_mode: str | None = None, illegal_action: str = "penalty", **config: Any
) -> AECEnv:
    """PettingZoo AEC env of any htjax game.

    Args:
      env_id: a registered id (or an ``Env`` instance); ``config`` fields / ``preset`` go to
        ``htjax.make``.
      render_mode: ``None``, ``"ansi"`` (``render()`` returns text) or ``"human"`` (prints it).
      illegal_action: ``"penalty"`` (default) or ``"raise"``, for masked in-range actions.

    Returns:
      :class:`HtjaxAECEnv` for turn-based games; for simultaneous games PettingZoo's
      ``OrderEnforcingWrapper(parallel_to_aec(HtjaxParallelEnv))`` (agents act one after the
      other and the joint action is applied when the last live agent has acted). In both cases
      ``env.unwrapped`` is the htjax adapter with ``episode_key`` and ``actions``.
    """
    env = _build(env_id, config)
    if env.simultaneous:
        par = HtjaxParallelEnv(env, render_mode=render_mode, illegal_action=illegal_action)
        return OrderEnforcingWrapper(_HtjaxParallelToAEC(par))
    return HtjaxAECEnv(env, render_mode=render_mode, illegal_action=illegal_action)


def parallel_env(
    env_id: str | Env, *, render_mode: str | None = None, illegal_action: str = "penalty", **config: Any
) -> HtjaxParallelEnv:
    """PettingZoo parallel env of a simultaneous-move htjax game (arguments as :func:`aec_env`).

    Turn-based games raise ``ValueError`` pointing to :func:`aec_env`.
    """
    return HtjaxParallelEnv(_build(env_id, config), render_mode=render_mode, illegal_action=illegal_action)
