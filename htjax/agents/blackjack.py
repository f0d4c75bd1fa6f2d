"""Blackjack agents: basic strategy (the reference for trained policies) and the demo's fixed strategy.

Basic strategy:

The standard multi-deck basic strategy for the rules in use: dealer stands (S17) or hits
(H17) on soft 17, double after split, late surrender when the table offers it, dealer peeks
for blackjack. Insurance is always declined and the smallest bet is always taken.

It reads the casino observation of :mod:`htjax.envs.blackjack` (fields of ``LAYOUT``:
``hand_total``, ``soft``, ``pair``, ``dealer_up``, ``phase_*``) and the legal action mask
(which says whether double, split and surrender are allowed now)::

    policy = basic_strategy_policy(env)          # policy(params, observation, mask, key)
    htjax.rollout(env, policy, key, num_envs, num_steps)

Table codes: ``H`` hit, ``S`` stand, ``D`` double else hit, ``Ds`` double else stand,
``P`` split, ``Rh``/``Rs``/``Rp`` surrender else hit/stand/split.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.errors import ConfigError
from htjax.envs import blackjack as bj

__all__ = ["UP_CARDS", "basic_strategy_policy", "fixed_strategy_policy", "strategy_tables"]

UP_CARDS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11)  # 11 = ace

_H, _S, _D, _DS, _P, _RH, _RS, _RP = range(8)
_CODES = {"H": _H, "S": _S, "D": _D, "Ds": _DS, "P": _P, "Rh": _RH, "Rs": _RS, "Rp": _RP}


def _row(spec: str) -> list[int]:
    items = spec.split()
    assert len(items) == 10, spec
    return [_CODES[c] for c in items]


def strategy_tables(dealer_hits_soft_17: bool, late_surrender: bool) -> dict[str, np.ndarray]:
    """``hard[int8 total 0..21, up 2..A]``, ``soft[total 12..21]``, ``pair[rank 2..11]`` code tables."""
    h17 = dealer_hits_soft_17
    #                 up:  2  3  4  5  6  7  8  9  10 A
    hard = {
        **{t: _row("H H H H H H H H H H") for t in range(9)},
        9: _row("H D D D D H H H H H"),
        10: _row("D D D D D D D D H H"),
        11: _row("D D D D D D D D D " + ("D" if h17 else "H")),
        12: _row("H H S S S H H H H H"),
        13: _row("S S S S S H H H H H"),
        14: _row("S S S S S H H H H H"),
        15: _row("S S S S S H H H Rh " + ("Rh" if h17 else "H")),
        16: _row("S S S S S H H Rh Rh Rh"),
        17: _row("S S S S S S S S S " + ("Rs" if h17 else "S")),
        **{t: _row("S S S S S S S S S S") for t in range(18, 22)},
    }
    soft = {
        12: _row("H H H H H H H H H H"),
        13: _row("H H H D D H H H H H"),
        14: _row("H H H D D H H H H H"),
        15: _row("H H D D D H H H H H"),
        16: _row("H H D D D H H H H H"),
        17: _row("H D D D D H H H H H"),
        18: _row(("Ds" if h17 else "S") + " Ds Ds Ds Ds S S H H H"),
        19: _row("S S S S " + ("Ds" if h17 else "S") + " S S S S S"),
        20: _row("S S S S S S S S S S"),
        21: _row("S S S S S S S S S S"),
    }
    # pairs (double after split): P = split, anything else falls back to the total's row
    pair = {
        2: _row("P P P P P P H H H H"),
        3: _row("P P P P P P H H H H"),
        4: _row("H H H P P H H H H H"),
        5: _row("D D D D D D D D H H"),
        6: _row("P P P P P H H H H H"),
        7: _row("P P P P P P H H H H"),
        8: _row("P P P P P P P P P " + ("Rp" if h17 else "P")),
        9: _row("P P P P P S P P S S"),
        10: _row("S S S S S S S S S S"),
        11: _row("P P P P P P P P P P"),
    }
    if not late_surrender:
        fallback = {_RH: _H, _RS: _S, _RP: _P}
        for table in (hard, soft, pair):
            for k, row in table.items():
                table[k] = [fallback.get(c, c) for c in row]
    to_array = lambda table, lo: np.array([table[t] for t in range(lo, max(table) + 1)], np.int32)
    return {"hard": to_array(hard, 0), "soft": to_array(soft, 12), "pair": to_array(pair, 2)}


@functools.lru_cache(maxsize=16)
def basic_strategy_policy(env: bj.Blackjack):
    """Basic strategy for ``env``'s casino rules: ``policy(params, observation, mask, key) -> int32[]``."""
    cfg = env.config
    if cfg.rules != "casino":
        raise ConfigError("basic_strategy_policy needs rules='casino' (the casino observation layout)")
    ix = {
        n: bj.LAYOUT.slice(n).start
        for n in ("phase_bet", "phase_insurance", "hand_total", "soft", "pair", "dealer_up")
    }
    t = strategy_tables(cfg.dealer_hits_soft_17, cfg.late_surrender)
    hard, soft, pair = (jnp.asarray(t[k]) for k in ("hard", "soft", "pair"))
    has_bets = cfg.betting
    num_actions = env.num_actions

    def policy(params, observation, legal_action_mask, key):
        obs = observation
        mask = legal_action_mask
        total = jnp.round(obs[ix["hand_total"]] * 21.0).astype(jnp.int32)
        up_value = jnp.round(obs[ix["dealer_up"]] * 10.0).astype(jnp.int32)  # ace = 1
        up = jnp.clip(jnp.where(up_value == 1, 11, up_value), 2, 11) - 2
        is_soft = obs[ix["soft"]] > 0.5
        is_pair = (obs[ix["pair"]] > 0.5) & mask[bj.SPLIT]
        pair_rank = jnp.where(is_soft, 11, total // 2)  # A,A is a soft 12
        code = jnp.where(is_soft, soft[jnp.clip(total, 12, 21) - 12, up], hard[jnp.clip(total, 0, 21), up])
        pair_code = pair[jnp.clip(pair_rank, 2, 11) - 2, up]
        code = jnp.where(is_pair & ((pair_code == _P) | (pair_code == _RP)), pair_code, code)
        can_double, can_split, can_surrender = mask[bj.DOUBLE], mask[bj.SPLIT], mask[bj.SURRENDER]
        hit_or = lambda other: jnp.where(mask[bj.HIT], bj.HIT, other)
        action = jnp.select(
            [
                code == _H,
                code == _S,
                code == _D,
                code == _DS,
                code == _P,
                code == _RH,
                code == _RS,
                code == _RP,
            ],
            [
                hit_or(bj.STAND),
                bj.STAND,
                jnp.where(can_double, bj.DOUBLE, hit_or(bj.STAND)),
                jnp.where(can_double, bj.DOUBLE, bj.STAND),
                jnp.where(can_split, bj.SPLIT, hit_or(bj.STAND)),
                jnp.where(can_surrender, bj.SURRENDER, hit_or(bj.STAND)),
                jnp.where(can_surrender, bj.SURRENDER, bj.STAND),
                jnp.where(can_surrender, bj.SURRENDER, jnp.where(can_split, bj.SPLIT, hit_or(bj.STAND))),
            ],
        )
        if has_bets:
            action = jnp.where(obs[ix["phase_bet"]] > 0.5, bj.BET_BASE, action)
        action = jnp.where(obs[ix["phase_insurance"]] > 0.5, bj.NO_INSURANCE, action)
        action = jnp.clip(action, 0, num_actions - 1)
        # a forced showdown (only STAND legal) or any other phase: the first legal action
        return jnp.where(mask[action], action, jnp.argmax(mask)).astype(jnp.int32)

    return policy


_FIXED = {n: bj.LAYOUT.slice(n).start for n in ("hand_total", "soft")}


def fixed_strategy_policy(
    params: Any, observation: jax.Array, legal_action_mask: jax.Array, key: jax.Array
) -> jax.Array:
    """A fixed blackjack strategy for casino rules (``htjax demo``'s): bet the smallest bet,
    decline insurance, hit below 17 (below 18 when soft), otherwise stand; the first legal
    action if none applies. ``observation: float32[31]``, ``legal_action_mask: bool[A]`` ->
    ``int32[]``."""
    num_actions = legal_action_mask.shape[-1]
    total = jnp.round(observation[_FIXED["hand_total"]] * 21)
    soft = observation[_FIXED["soft"]] > 0.5
    want = jnp.where((total < 17) | (soft & (total < 18)), bj.HIT, bj.STAND)
    candidates = jnp.array([bj.BET_BASE, bj.NO_INSURANCE, want, bj.STAND])
    ok = (candidates < num_actions) & legal_action_mask[jnp.clip(candidates, 0, num_actions - 1)]
    fallback = jnp.argmax(legal_action_mask)
    return jnp.where(jnp.any(ok), candidates[jnp.argmax(ok)], fallback).astype(jnp.int32)
