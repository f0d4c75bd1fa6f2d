"""The iterated prisoner's dilemma (``prisoners_dilemma``): rules only.

* :mod:`.config`: :class:`IPDConfig` (payoffs, rounds, noise, continuation, window) and move ids;
* :mod:`.rules`: the rules as pure functions of a :class:`MatchMemory`, no RL notions;
* :mod:`.observation`: the observation layout table and :func:`observation_from_memory`;
* :mod:`.env`: :class:`IteratedPrisonersDilemma`, the htjax env;
* :mod:`.views`: the text status line and the public view.

The 14 classic strategies and the round-robin tournament are agents: :mod:`htjax.agents.ipd`.
"""

from htjax.envs.prisoners_dilemma.config import COOPERATE, DEFECT, MAX_WINDOW, IPDConfig
from htjax.envs.prisoners_dilemma.env import IPDState, IteratedPrisonersDilemma, payoffs_of
from htjax.envs.prisoners_dilemma.observation import observation_from_memory, observation_layout
from htjax.envs.prisoners_dilemma.rules import (
    MatchMemory,
    new_memory,
    payoff_of,
    uniform_from_bits,
    update_memory,
)

__all__ = [
    "COOPERATE",
    "DEFECT",
    "MAX_WINDOW",
    "IPDConfig",
    "IPDState",
    "IteratedPrisonersDilemma",
    "MatchMemory",
    "new_memory",
    "observation_from_memory",
    "observation_layout",
    "payoff_of",
    "payoffs_of",
    "uniform_from_bits",
    "update_memory",
]
