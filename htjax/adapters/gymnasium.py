"""Gymnasium adapters: single-agent htjax envs as ``gymnasium.Env`` / ``VectorEnv``, and one seat
of a multi-seat game against fixed opponents.

* :class:`HtjaxGymEnv` (:mod:`htjax.adapters.gym_env`): one world of a one-seat env.
* :class:`HtjaxVectorEnv` (:mod:`htjax.adapters.gym_vector`): ``N`` worlds in one jitted call per
  step, auto-reset by :func:`htjax.core.rollouts.step_worlds`.
* :class:`HtjaxOpponentsEnv` (:mod:`htjax.adapters.gym_opponents`): one seat of hold'em or the
  IPD against built-in, ONNX or callable opponents.
* The registered ids (:mod:`htjax.adapters.gym_registry`): ``htjax/Blackjack-v0``,
  ``htjax/BlackjackGymnasium-v0``, ``htjax/HoldemHeadsUp-v0``, ``htjax/IPD-<Strategy>-v0``.

Seeding (every class)
---------------------
``reset(seed=s)`` (``0 <= s < 2**64``, else :class:`htjax.InvalidArgumentError`) makes
``world_key = seed_key(s) = [s >> 32, s & 0xffffffff]`` (equal to ``jax.random.PRNGKey(s)`` for
``s < 2**32``) and starts episode ``0``; every later ``reset()`` without a seed, and every
auto-reset, starts the next episode ``k`` of that world from ``episode_key_for(world_key, k)``.
Step ``t`` of an episode uses ``step_key(episode_key, t)``. So an adapter episode replays
exactly with ``htjax.replay_episode(env, episode_key, actions)``. Sub-env ``i`` of a vector env
reset with seed ``s`` uses seed ``s + i``, as in Gymnasium's ``SyncVectorEnv``. ``reset()``
before any seed draws one from ``np_random``. Reset options are refused (none exist).

Actions
-------
An action must be an integer in ``[0, num_actions)`` (``int[num_envs]`` for the vector env),
checked by :meth:`htjax.Env.check_action`; a wrong shape, dtype or range raises
:class:`htjax.InvalidActionError` before anything runs. An in-range action that
``info["action_mask"]`` forbids follows the core illegal-action rule: the episode terminates,
the offender forfeits what it has at stake and gets the penalty; ``info["illegal_action"]`` is
``True`` for that step. Every env has ``action_masks()`` (sb3-contrib's ``MaskablePPO``).

Ecosystem
---------
Spaces are bounded (``env.observation_bounds``); ``render_mode`` ``"ansi"`` / ``"human"`` render
``env.render_text`` and other modes (``"rgb_array"``, as Stable-Baselines3 asks) warn like
Gymnasium instead of failing; every env pickles; async vector envs spawn their workers
(:func:`htjax.adapters.common.prefer_spawn`).
"""

from __future__ import annotations

from htjax.adapters.common import seed_key
from htjax.adapters.gym_env import OBSERVATION_VIEWS, HtjaxGymEnv, ObservationView
from htjax.adapters.gym_opponents import HtjaxOpponentsEnv, SeatPolicy, builtin_opponent_names
from htjax.adapters.gym_registry import GYM_IDS, IPD_OPPONENTS, register_gymnasium_envs
from htjax.adapters.gym_vector import HtjaxVectorEnv

__all__ = [
    "GYM_IDS",
    "IPD_OPPONENTS",
    "OBSERVATION_VIEWS",
    "HtjaxGymEnv",
    "HtjaxOpponentsEnv",
    "HtjaxVectorEnv",
    "ObservationView",
    "SeatPolicy",
    "builtin_opponent_names",
    "register_gymnasium_envs",
    "seed_key",
]

register_gymnasium_envs()
