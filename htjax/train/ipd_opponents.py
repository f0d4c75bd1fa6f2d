"""The 14 classic IPD strategies as training :class:`~htjax.train.selfplay.Opponents`.

The opponents themselves are agents (:mod:`htjax.agents.ipd.opponents`: the strategies read
each seat's memory from the env state, Gradual's and Prober's private memory rebuilt from it);
this module only wraps them for PPO (``htjax train prisoners_dilemma --opponents ipd-classic``).
"""

from __future__ import annotations

from htjax.agents.ipd.opponents import TRAINABLE, classic_opponent_fns, rebuild_private, strategy_opponent
from htjax.envs.prisoners_dilemma.env import IteratedPrisonersDilemma
from htjax.train.selfplay import Opponents

__all__ = ["TRAINABLE", "classic_opponents", "rebuild_private", "strategy_opponent"]


def classic_opponents(env: IteratedPrisonersDilemma) -> Opponents:
    """:class:`Opponents` of the 14 classic strategies (:data:`TRAINABLE`), in tournament order."""
    fns, names = classic_opponent_fns(env)
    return Opponents(fns=fns, names=names)
