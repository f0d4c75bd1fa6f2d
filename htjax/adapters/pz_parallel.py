"""A simultaneous-move htjax env as a PettingZoo ``ParallelEnv`` (:class:`HtjaxParallelEnv`), and
PettingZoo's ``parallel_to_aec`` with each agent's action checked when it is given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from htjax.adapters import common
from htjax.adapters.pz_session import (
    RecordMixin,
    Session,
    agent_name,
    agent_seat,
    finished_agent_error,
    make_spaces,
    metadata,
)
from htjax.core.env import Env
from htjax.core.errors import HtjaxError, InvalidActionError, InvalidArgumentError

__all__ = ["HtjaxParallelEnv", "HtjaxParallelToAEC"]


class HtjaxParallelEnv(RecordMixin, ParallelEnv):
    """A simultaneous-move htjax env as a PettingZoo ``ParallelEnv`` (see :mod:`htjax.adapters.pettingzoo`).

    ``step(actions)`` needs exactly one action per live agent and returns
    ``(observations, rewards, terminations, truncations, infos)`` dicts over those agents;
    when the episode ends ``agents`` becomes empty.
    """

    def __init__(self, env: Env, *, render_mode: str | None = None, illegal_action: str = "penalty"):
        if not env.simultaneous:
            raise InvalidArgumentError(
                f"{env.id} is turn-based: use aec_env({env.id!r}); a parallel form would make every "
                "waiting agent send a dummy action"
            )
        self._session = Session(env, illegal_action)
        self.render_mode = common.check_render_mode(render_mode)
        self.metadata = metadata(env, parallelizable=True)
        self.possible_agents = [agent_name(i) for i in range(env.num_players)]
        self._obs_spaces, self._act_spaces = make_spaces(env, self.possible_agents)
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
        :class:`~htjax.adapters.pz_session.IllegalActionError`.
        """
        s = self._session
        s.require_started("step()")
        seat = agent_seat(agent, len(self.possible_agents))
        if agent not in self.agents:
            raise finished_agent_error(s.env, agent, action, "the episode is over; call reset()")
        return s.check_action(agent, action, s.mask[seat])

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


class HtjaxParallelToAEC(parallel_to_aec_wrapper):
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
                raise finished_agent_error(par.htjax_env, agent, action, how)
        else:
            if action is None:
                raise InvalidActionError(
                    f"{par.htjax_env.id}: {agent} is to act; None is only for finished agents"
                )
            par.check_action(agent, action)
        super().step(action)
