"""The players an MCP client can play against: random and scripted agents, and ONNX policies.

An opponent is ``choose(state, seat, observation, legal_action_mask, t) -> int``: the acting
seat's own observation (``observation_dtype[*observation_shape]``) and legal mask
(``bool[num_actions]``), host numpy, and a counter ``t`` for its randomness. Only the IPD
strategies also read the state: they need the seat's whole move history (public in that game).

Each JAX agent is compiled once per env (``functools.lru_cache`` over hashable envs) and
reused by every game, so starting many games costs one compile.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import numpy as np

from htjax.core.env import Env
from htjax.core.errors import HtjaxError
from htjax.core.keys import policy_key

__all__ = ["Opponent", "OpponentError", "opponent_names", "make_opponent"]

Opponent = Callable[[Any, int, np.ndarray, np.ndarray, int], int]


class OpponentError(HtjaxError, ValueError):
    """An opponent name that is neither an agent of this game nor a policy made for it."""


def _policy_agents(env: Env) -> dict[str, Callable[[], Any]]:
    """Scripted agents written as rollout policies ``policy(params, obs, mask, key)``, per game."""
    if env.id == "holdem":
        from htjax.agents.holdem import call_station_policy, maniac_policy

        return {"call_station": lambda: call_station_policy, "maniac": lambda: maniac_policy}
    if env.id == "blackjack" and env.config.rules == "casino":
        from htjax.agents.blackjack import basic_strategy_policy

        return {"basic_strategy": lambda: basic_strategy_policy(env)}
    return {}


def _ipd_strategies(env: Env) -> tuple[str, ...]:
    if env.id != "prisoners_dilemma":
        return ()
    from htjax.agents.ipd.opponents import TRAINABLE

    return tuple(s.name for s in TRAINABLE)


def opponent_names(env: Env) -> list[str]:
    """Agents that can play ``env``'s other seats (shipped ONNX policies are listed separately)."""
    return ["random", "first_legal", *_policy_agents(env), *_ipd_strategies(env)]


@functools.lru_cache(maxsize=64)
def _jitted_policy(env: Env, name: str):
    return jax.jit(_policy_agents(env)[name]())


@functools.lru_cache(maxsize=64)
def _jitted_strategy(env: Env, name: str):
    from htjax.agents.ipd.opponents import strategy_opponent

    return jax.jit(strategy_opponent(env, name))


def make_opponent(env: Env, name: str, seed: int) -> tuple[Opponent, str]:
    """``(choose, display name)`` of the opponent called ``name`` for ``env``.

    ``name``: ``random``, ``first_legal``, a scripted agent of the game (see
    :func:`opponent_names`), a shipped policy name (``htjax.policies.names()``) or the path of
    an ``.onnx`` policy made for ``env``. ``seed`` seeds its randomness.

    Raises:
      OpponentError: an unknown name (the message lists the choices).
      htjax.train.checkpoint.EnvMismatchError, htjax.train.onnx_policy.OnnxModelError: a policy
        made for another env or rules, or a damaged file.
    """
    if not isinstance(name, str) or not name:
        raise OpponentError(f"an opponent is a non-empty name, got {name!r}")
    rng = np.random.default_rng([seed, 0x0990])
    base_key = jax.random.PRNGKey(seed)
    if name == "random":
        return (lambda state, seat, obs, mask, t: int(rng.choice(np.flatnonzero(mask)))), name
    if name == "first_legal":
        return (lambda state, seat, obs, mask, t: int(np.argmax(mask))), name
    if name in _policy_agents(env):
        policy = _jitted_policy(env, name)

        def scripted(state, seat, obs, mask, t):
            return int(policy(None, obs, mask, policy_key(base_key, t)))

        return scripted, name
    if name in _ipd_strategies(env):
        strategy = _jitted_strategy(env, name)

        def ipd(state, seat, obs, mask, t):
            return int(strategy(None, state, np.int32(seat), policy_key(base_key, t)))

        return ipd, name
    from htjax.policies import UnknownPolicyError, names

    try:
        from htjax.play import onnx_opponent

        choose, display = onnx_opponent(name, env, seed=seed)
    except UnknownPolicyError as err:
        raise OpponentError(
            f"unknown opponent {name!r} for {env.id}; choose one of {opponent_names(env)}, a shipped "
            f"policy ({', '.join(names())}) or the path of an .onnx policy made for {env.id} ({err})"
        ) from err
    return (lambda state, seat, obs, mask, t: choose(obs, mask)), display
