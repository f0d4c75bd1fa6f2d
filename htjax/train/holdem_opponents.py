"""Hold'em baselines as training opponents (``htjax train --opponents holdem-baselines``).

The agents themselves live in :mod:`htjax.agents.holdem`.
"""

from __future__ import annotations

from htjax.agents.holdem import BASELINES
from htjax.core.env import Env
from htjax.core.errors import InvalidArgumentError
from htjax.train.selfplay import Opponents

__all__ = ["TRAINING_MIX", "holdem_opponents"]

TRAINING_MIX = ("call_station", "call_station", "random", "maniac")
"""The ``holdem-baselines`` opponents: the call-station in half the worlds (its lesson, value
betting against a player who never folds, is the subtle one), the random agent and the maniac in
a quarter each."""


def holdem_opponents(env: Env, names: tuple[str, ...] = TRAINING_MIX) -> Opponents:
    """:class:`Opponents` playing the baselines ``names`` (keys of :data:`BASELINES`; a name may
    repeat, which gives that baseline more of the worlds) in ``env``."""
    if env.id != "holdem":
        raise InvalidArgumentError(f"hold'em baselines play holdem, not {env.id!r}")
    unknown = [n for n in names if n not in BASELINES]
    if unknown or not names:
        raise InvalidArgumentError(f"unknown hold'em baseline(s) {unknown}; choose from {list(BASELINES)}")
    return Opponents.from_policies(env, [BASELINES[n] for n in names], list(names))
