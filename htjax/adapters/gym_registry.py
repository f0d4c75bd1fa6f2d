"""The Gymnasium ids of htjax (registered on ``import htjax`` when gymnasium is installed).

=====================================  =============================================================
id                                     env
=====================================  =============================================================
``htjax/Blackjack-v0``                 ``htjax.make("blackjack")``: casino rules, one seat; ``Box``
                                       observation (:class:`~htjax.adapters.gym_env.HtjaxGymEnv`)
``htjax/BlackjackGymnasium-v0``        Gymnasium's ``Blackjack-v1`` with its defaults (``sab=True``,
                                       ``natural=False``): the ``gymnasium`` preset with the
                                       ``Tuple(Discrete(32), Discrete(11), Discrete(2))`` observation
``htjax/HoldemHeadsUp-v0``             heads-up no-limit hold'em, seat 0 against the built-in
                                       call station at seat 1
                                       (:class:`~htjax.adapters.gym_opponents.HtjaxOpponentsEnv`)
``htjax/IPD-<Strategy>-v0``            the iterated prisoner's dilemma, seat 0 against a classic
                                       strategy at seat 1: ``TitForTat``, ``TitForTwoTats``, ``GTFT``,
                                       ``WinStayLoseShift``, ``SuspiciousTitForTat``, ``Cooperator``,
                                       ``Defector``, ``Random``
=====================================  =============================================================

The blackjack ids also have a ``vector_entry_point``: ``gymnasium.make_vec(id, num_envs=N)``
gives an :class:`~htjax.adapters.gym_vector.HtjaxVectorEnv` (one jitted call per step for all
worlds). Keyword arguments of ``gymnasium.make`` override the registered ones, e.g.
``gymnasium.make("htjax/HoldemHeadsUp-v0", opponents={1: "holdem"})`` (the shipped ONNX policy).

Worker processes: JAX deadlocks in a process forked after it ran, so the first htjax env built
in a process makes ``"spawn"`` the default start method of :mod:`multiprocessing` when the
program has not chosen one (:func:`htjax.adapters.common.prefer_spawn`); ``make_vec(..., vectorization_mode="async")``
then works as it is.
"""

from __future__ import annotations

from typing import Any

import gymnasium

__all__ = ["GYM_IDS", "IPD_OPPONENTS", "register_gymnasium_envs"]

_ADAPTERS = "htjax.adapters"
IPD_OPPONENTS = (
    "TitForTat",
    "TitForTwoTats",
    "GTFT",
    "WinStayLoseShift",
    "SuspiciousTitForTat",
    "Cooperator",
    "Defector",
    "Random",
)
"""The classic IPD strategies registered as Gymnasium opponents (those that decide from the
observation window)."""

GYM_IDS: dict[str, dict[str, Any]] = {
    "htjax/Blackjack-v0": {"env": "blackjack", "preset": "casino"},
    # Gymnasium registers Blackjack-v1 with sab=True, natural=False
    "htjax/BlackjackGymnasium-v0": {
        "env": "blackjack",
        "preset": "gymnasium",
        "observation": "classic",
        "sab": True,
        "natural": False,
    },
    "htjax/HoldemHeadsUp-v0": {"env": "holdem", "opponents": {1: "call_station"}},
    **{
        f"htjax/IPD-{name}-v0": {"env": "prisoners_dilemma", "opponents": {1: name}} for name in IPD_OPPONENTS
    },
}
"""Gymnasium id -> constructor kwargs (``opponents`` in them means :class:`HtjaxOpponentsEnv`)."""


def register_gymnasium_envs() -> None:
    """Register :data:`GYM_IDS` with Gymnasium (idempotent: ids already present are left alone)."""
    for gym_id, kwargs in GYM_IDS.items():
        if gym_id in gymnasium.registry:
            continue
        if "opponents" in kwargs:
            entry, vector = f"{_ADAPTERS}.gym_opponents:HtjaxOpponentsEnv", None
        else:
            entry, vector = f"{_ADAPTERS}.gym_env:HtjaxGymEnv", f"{_ADAPTERS}.gym_vector:HtjaxVectorEnv"
        gymnasium.register(id=gym_id, entry_point=entry, vector_entry_point=vector, kwargs=dict(kwargs))
