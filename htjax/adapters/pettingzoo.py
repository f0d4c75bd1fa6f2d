"""PettingZoo adapters: any multi-agent htjax env as a PettingZoo ``AECEnv`` or ``ParallelEnv``.

* :func:`aec_env` — turn-based games as :class:`HtjaxAECEnv` (:mod:`htjax.adapters.pz_aec`);
  simultaneous games as PettingZoo's ``parallel_to_aec`` of :class:`HtjaxParallelEnv`, with
  early action checks.
* :func:`parallel_env` — simultaneous games as :class:`HtjaxParallelEnv`
  (:mod:`htjax.adapters.pz_parallel`). Turn-based games are refused: in parallel form every
  waiting agent would have to send a dummy action each step.

Conventions (documented in ``docs/pettingzoo.md``):

* Agents are ``player_0 .. player_{P-1}``; ``player_i`` is seat ``i`` of the htjax env.
* Observations are ``{"observation": obs_dtype[*obs_shape], "action_mask": int8[A]}``; the
  observation ``Box`` is bounded by ``env.observation_bounds``; the mask is all-zero for an
  agent that may not act now (not its turn, or the episode is over).
* ``reset(seed=s)`` plays episode ``episode_key_for(seed_key(s), 0)``; each later ``reset()``
  without a seed plays the next episode of that stream (index 1, 2, ...). ``seed=None`` on the
  first reset draws a fresh random seed. Step ``t`` uses ``step_key(episode_key, t)``, so
  ``(env.unwrapped.episode_key, env.unwrapped.actions)`` replays the game exactly
  (``htjax.replay_episode``). A bad seed or option is an :class:`htjax.InvalidArgumentError`.
* An out-of-range or non-integer action, or an action for a finished agent other than ``None``,
  raises :class:`htjax.InvalidActionError` naming the agent and its legal actions and changes
  nothing (the same check, through ``Env.check_action``, as the Gymnasium adapters). A
  masked (illegal) in-range action follows ``illegal_action``: ``"penalty"`` (default, the core
  contract's rule: the episode terminates, the offender forfeits what it has at stake and gets
  the penalty) or ``"raise"`` (:class:`IllegalActionError`, an ``InvalidActionError``; nothing
  changes).
* ``render_mode`` ``"ansi"`` / ``"human"`` render ``env.render_text``; another mode warns.
* Every adapter instance of the same env config shares one jitted program; the envs pickle
  (the program is rebuilt when unpickled).
"""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from htjax.adapters.common import RENDER_MODES, resolve_env, seed_key
from htjax.adapters.pz_aec import HtjaxAECEnv, step_as
from htjax.adapters.pz_parallel import HtjaxParallelEnv, HtjaxParallelToAEC
from htjax.adapters.pz_session import (
    ILLEGAL_ACTION_MODES,
    IllegalActionError,
    OutOfTurnError,
    agent_name,
    agent_seat,
)
from htjax.core.env import Env

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
    "seed_key",
    "step_as",
]


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
    env = resolve_env(env_id, **config)
    if env.simultaneous:
        par = HtjaxParallelEnv(env, render_mode=render_mode, illegal_action=illegal_action)
        return OrderEnforcingWrapper(HtjaxParallelToAEC(par))
    return HtjaxAECEnv(env, render_mode=render_mode, illegal_action=illegal_action)


def parallel_env(
    env_id: str | Env, *, render_mode: str | None = None, illegal_action: str = "penalty", **config: Any
) -> HtjaxParallelEnv:
    """PettingZoo parallel env of a simultaneous-move htjax game (arguments as :func:`aec_env`).

    Turn-based games raise :class:`htjax.InvalidArgumentError` pointing to :func:`aec_env`.
    """
    return HtjaxParallelEnv(
        resolve_env(env_id, **config), render_mode=render_mode, illegal_action=illegal_action
    )
