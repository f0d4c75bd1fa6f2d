"""A turn-based htjax env as a PettingZoo ``AECEnv`` (:class:`HtjaxAECEnv`), and :func:`step_as`."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from pettingzoo import AECEnv

from htjax.adapters import common
from htjax.adapters.pz_session import (
    OutOfTurnError,
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

__all__ = ["HtjaxAECEnv", "step_as"]


class HtjaxAECEnv(RecordMixin, AECEnv):
    """A turn-based htjax env as a PettingZoo ``AECEnv`` (see :mod:`htjax.adapters.pettingzoo`).

    ``agent_selection`` is ``player_<state.current_player>``. ``rewards`` are the last step's
    ``state.rewards``; ``last()`` returns each agent's reward accumulated since it last acted.
    When the episode ends every agent is terminated (or truncated) at once and must step ``None``.
    """

    def __init__(self, env: Env, *, render_mode: str | None = None, illegal_action: str = "penalty"):
        super().__init__()
        if env.simultaneous:
            raise InvalidArgumentError(
                f"{env.id} is a simultaneous-move game: use aec_env({env.id!r}) or parallel_env()"
            )
        self._session = Session(env, illegal_action)
        self.render_mode = common.check_render_mode(render_mode)
        self.metadata = metadata(env, parallelizable=False)
        self.possible_agents = [agent_name(i) for i in range(env.num_players)]
        self._obs_spaces, self._act_spaces = make_spaces(env, self.possible_agents)
        self.agents: list[str] = []
        self._skip_agent_selection = None

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        agent_seat(agent, len(self.possible_agents))
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        agent_seat(agent, len(self.possible_agents))
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode (see :mod:`htjax.adapters.pettingzoo`; ``options["episode_key"]`` replays one)."""
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
                raise finished_agent_error(s.env, agent, action, how)
            self._was_dead_step(None)
            return
        if action is None:
            raise InvalidActionError(
                f"{s.env.id}: {agent} is to act; None is only for finished agents; "
                f"{common.legal_text(s.env, s.mask)}"
            )
        value, illegal = s.check_action(agent, action, s.mask)
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


def step_as(env: AECEnv, agent: str, action: Any) -> None:
    """Step any AEC env on behalf of ``agent``, refusing out-of-turn actions.

    For callers that receive ``(agent, action)`` pairs from elsewhere (a network peer, a log):
    raises :class:`OutOfTurnError` naming whose turn it is unless ``agent == env.agent_selection``.
    """
    possible = list(getattr(env, "possible_agents", []))
    if agent not in possible:
        raise InvalidArgumentError(f"unknown agent {agent!r}; agents are {possible}")
    current = env.agent_selection
    if agent != current:
        raise OutOfTurnError(
            f"{agent} tried to act out of turn with action {action!r}; it is {current}'s turn"
        )
    env.step(action)
