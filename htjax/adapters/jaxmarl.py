"""A multi-seat htjax env with JaxMARL's ``MultiAgentEnv`` interface (:class:`JaxMARLEnv`).

JaxMARL's algorithms (IPPO, MAPPO, ...) consume::

    env.agents, env.num_agents, env.observation_space(agent), env.action_space(agent)
    obs, state = env.reset(key)                                  # obs: {agent: array}
    obs, state, rewards, dones, infos = env.step(key, state, actions)
    env.get_avail_actions(state)                                 # {agent: bool[A]}

with dicts keyed by agent name (``"player_0"``, ...), ``dones["__all__"]`` ending the episode
for everyone, and auto-reset inside ``step`` (JaxMARL's ``MultiAgentEnv.step``: a fresh episode
from the step's reset key where ``__all__`` is done). All pure, ``jit``/``vmap``-able.

* **Turn-based games** (hold'em): every agent submits an action every step, as JaxMARL's
  turn-based envs do; only the seat to act moves. Each agent's action space has one extra
  action, ``noop = env.num_actions`` (:attr:`JaxMARLEnv.noop_action`): the only available action
  of an agent that is not to act, never available to the one that is (an unavailable action
  from the actor is an illegal move, handled as the htjax env handles it: see
  ``docs/contract.md``). Each agent observes its own view (``env.observe(state, seat)``).
* **Simultaneous games** (the IPD): every agent acts every step; no ``noop``.
* **Rule parameters** ride in the state: ``reset(key, params)`` takes the env's rule parameters
  (:meth:`htjax.core.env.Env.params`; ``None`` = the constructor's ``params`` or the config) and
  every later step of that world, and its auto-resets, use them; ``vmap`` over params trains on
  varied rules.
* **Keys.** An episode reset from key ``k`` is htjax's episode ``k`` and step ``t`` uses
  ``step_key(k, t)`` (:mod:`htjax.core.keys`), so episodes replay with :func:`htjax.replay_episode`.
* ``infos`` holds ``terminated`` / ``truncated`` (``bool[]``), ``current_player`` (``int32[]``,
  -1 when simultaneous or finished) and ``final_observation`` (``{agent: array}``: the views of
  the finished state where the step ended an episode).
"""

from __future__ import annotations

from typing import Any

import chex
import jax
import jax.numpy as jnp

from htjax.adapters.gymnax import box_space, discrete_space
from htjax.core.env import Env, Params, State
from htjax.core.errors import InvalidArgumentError
from htjax.core.keys import episode_key_for, key_data, step_key

__all__ = ["JaxMARLEnv", "JaxMARLState"]


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class JaxMARLState:
    """One world: the htjax state, its episode key and its rule parameters.

    Attributes:
      env_state: the htjax env's state.
      episode_key: ``uint32[2]`` key of the running episode.
      params: the world's rule parameters (``{field: 0-d array}``).
    """

    env_state: State
    episode_key: jax.Array
    params: dict


class JaxMARLEnv:
    """JaxMARL's ``MultiAgentEnv`` interface over an htjax env of two or more seats.

    Args:
      env: the htjax env (``env.num_players >= 2``).
      params: default rule parameters of :meth:`reset` (``None``: the env's config).
    """

    def __init__(self, env: Env, params: Params | None = None):
        if not isinstance(env, Env):
            raise InvalidArgumentError(f"JaxMARLEnv wraps an htjax Env, got {type(env).__name__}")
        if env.num_players < 2:
            raise InvalidArgumentError(
                f"{env.id} has one seat; use htjax.adapters.gymnax.GymnaxEnv for single-agent training"
            )
        self.env = env
        self.num_agents = env.num_players
        self.agents = [f"player_{i}" for i in range(env.num_players)]
        self.turn_based = not env.simultaneous
        self.noop_action = env.num_actions if self.turn_based else None
        checked = env.default_params if params is None else env.check_params(params)
        self.default_params = {k: jnp.asarray(v) for k, v in checked.items()}
        self.observation_spaces = {a: box_space(env) for a in self.agents}
        self.action_spaces = {a: discrete_space(env.num_actions + int(self.turn_based)) for a in self.agents}

    @property
    def name(self) -> str:
        return f"htjax/{self.env.id}"

    @property
    def agent_classes(self) -> dict[str, list[str]]:
        return {"player": list(self.agents)}

    def observation_space(self, agent: str):
        return self.observation_spaces[self._check_agent(agent)]

    def action_space(self, agent: str):
        return self.action_spaces[self._check_agent(agent)]

    def _check_agent(self, agent: str) -> str:
        if agent not in self.observation_spaces:
            raise InvalidArgumentError(f"unknown agent {agent!r}; agents are {self.agents}")
        return agent

    def __hash__(self) -> int:
        return hash((type(self), self.env))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.env == self.env

    def __repr__(self) -> str:
        return f"JaxMARLEnv({self.env!r})"

    # ---------------------------------------------------------------- views
    def get_obs(self, state: JaxMARLState) -> dict[str, jax.Array]:
        """``{agent: observation}``: each seat's own view."""
        s = state.env_state
        if self.turn_based:
            return {a: self.env.observe(s, i, state.params) for i, a in enumerate(self.agents)}
        return {a: s.observation[i] for i, a in enumerate(self.agents)}

    def get_avail_actions(self, state: JaxMARLState) -> dict[str, jax.Array]:
        """``{agent: bool[A]}`` (``bool[A + 1]`` with ``noop`` last in turn-based games)."""
        s = state.env_state
        if not self.turn_based:
            return {a: s.legal_action_mask[i] for i, a in enumerate(self.agents)}
        out = {}
        for i, a in enumerate(self.agents):
            to_act = (s.current_player == i) & ~s.done
            mask = jnp.where(to_act, s.legal_action_mask, False)
            out[a] = jnp.concatenate([mask, (~to_act)[None]])
        return out

    # ---------------------------------------------------------------- the functional API
    def reset(
        self, key: jax.Array, params: Params | None = None
    ) -> tuple[dict[str, jax.Array], JaxMARLState]:
        """``(obs, state)`` of a new episode whose htjax episode key is ``key``'s data."""
        rules = self.default_params if params is None else params
        ekey = key_data(key)
        state = JaxMARLState(env_state=self.env.init(ekey, rules), episode_key=ekey, params=dict(rules))
        return self.get_obs(state), state

    def step(
        self,
        key: jax.Array,
        state: JaxMARLState,
        actions: dict[str, jax.Array],
        reset_state: JaxMARLState | None = None,
    ):
        """``(obs, state, rewards, dones, infos)`` with auto-reset (JaxMARL's ``step``).

        ``actions`` maps every agent to an ``int32[]`` action. ``rewards`` is
        ``{agent: float32[]}``, ``dones`` ``{agent: bool[], "__all__": bool[]}``. Where the episode
        ended the returned obs and state are a fresh episode's (from ``reset_state`` if given,
        else from a key derived from ``key``) under the same rule parameters.
        """
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise InvalidArgumentError(f"actions must give every agent an action; missing {missing}")
        stepped, rewards, dones, infos = self.step_env(key, state, actions)
        if reset_state is None:
            _, reset_state = self.reset(episode_key_for(key_data(key), 0), state.params)
        done = dones["__all__"]
        new_state = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), reset_state, stepped)
        return self.get_obs(new_state), new_state, rewards, dones, infos

    def step_env(self, key: jax.Array, state: JaxMARLState, actions: dict[str, jax.Array]):
        """The step without auto-reset: ``(state, rewards, dones, infos)``."""
        s = state.env_state
        stacked = jnp.stack([jnp.asarray(actions[a], jnp.int32) for a in self.agents])
        action = (
            stacked if not self.turn_based else stacked[jnp.clip(s.current_player, 0, self.num_agents - 1)]
        )
        nxt = self.env.step(s, action, step_key(state.episode_key, s.step_count), state.params)
        stepped = state.replace(env_state=nxt)
        done = nxt.terminated | nxt.truncated
        rewards = {a: nxt.rewards[i].astype(jnp.float32) for i, a in enumerate(self.agents)}
        dones: dict[str, jax.Array] = {a: done for a in self.agents}
        dones["__all__"] = done
        final = self.get_obs(stepped)
        infos: dict[str, Any] = {
            "terminated": nxt.terminated,
            "truncated": nxt.truncated,
            "current_player": jnp.where(self.turn_based & ~done, nxt.current_player, -1).astype(jnp.int32),
            "final_observation": {
                a: jnp.where(done, final[a], jnp.zeros_like(final[a])) for a in self.agents
            },
        }
        return stepped, rewards, dones, infos
