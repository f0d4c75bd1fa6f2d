"""Blackjack: HyperToken's casino rules for one to seven seats, and Gymnasium's ``Blackjack-v1``.

Rules (``rules="casino"``, the defaults; every field of :class:`BlackjackConfig` is described
in ``docs/envs/blackjack.md``): a 6-deck shoe, dealer stands on soft 17 (``dealer_hits_soft_17``
for H17), blackjack pays 3:2, insurance 2:1 when the dealer shows an ace, double on any first
two cards and after a split, split equal ranks up to 4 hands, optional late surrender, a bet
from a fixed menu before each deal, a bankroll, and a shoe that persists across rounds in the
``"shoe"`` and ``"session"`` episode modes, so counting cards pays. American rules: the dealer
takes a hole card and peeks for blackjack (after insurance) before any seat plays.

``rules="gymnasium"`` (preset ``"gymnasium"``) reproduces Gymnasium's ``Blackjack-v1``: an
infinite deck, stick (0) / hit (1), no peek, naturals not settled early, and its ``natural``
and ``sab`` flags (the preset is ``gym.make("Blackjack-v1")``: ``sab=True``).

The package:

* :mod:`~htjax.envs.blackjack.config`: :class:`BlackjackConfig`, presets, action/phase ids;
* :mod:`~htjax.envs.blackjack.hand`: card arithmetic, one definition per rule (JAX and Python);
* :mod:`~htjax.envs.blackjack.rules` and :mod:`~htjax.envs.blackjack.dealer`: the rules as pure
  stages over the table;
* :mod:`~htjax.envs.blackjack.observation`: :data:`LAYOUT` and the observation;
* :mod:`~htjax.envs.blackjack.views`: text, public view, Blackjack-v1's tuple;
* :mod:`~htjax.envs.blackjack.env`: the :class:`Blackjack` env.
"""

from htjax.envs.blackjack.config import (
    BET_BASE,
    DOUBLE,
    HAND_BUST,
    HAND_EMPTY,
    HAND_NATURAL,
    HAND_PLAYING,
    HAND_STOOD,
    HAND_SURRENDERED,
    HIT,
    INSURANCE,
    NO_INSURANCE,
    PHASE_BET,
    PHASE_INSURANCE,
    PHASE_NAMES,
    PHASE_OVER,
    PHASE_PLAY,
    PHASE_SHOWDOWN,
    SPLIT,
    STAND,
    STICK,
    SURRENDER,
    BlackjackConfig,
)
from htjax.envs.blackjack.env import Blackjack
from htjax.envs.blackjack.hand import best_total, card_value, hand_total, hilo, is_soft
from htjax.envs.blackjack.observation import LAYOUT, OBS_SIZE, OBSERVATION_LAYOUT
from htjax.envs.blackjack.state import BlackjackState

__all__ = [
    "BET_BASE",
    "DOUBLE",
    "HAND_BUST",
    "HAND_EMPTY",
    "HAND_NATURAL",
    "HAND_PLAYING",
    "HAND_STOOD",
    "HAND_SURRENDERED",
    "HIT",
    "INSURANCE",
    "LAYOUT",
    "NO_INSURANCE",
    "OBSERVATION_LAYOUT",
    "OBS_SIZE",
    "PHASE_BET",
    "PHASE_INSURANCE",
    "PHASE_NAMES",
    "PHASE_OVER",
    "PHASE_PLAY",
    "PHASE_SHOWDOWN",
    "SPLIT",
    "STAND",
    "STICK",
    "SURRENDER",
    "Blackjack",
    "BlackjackConfig",
    "BlackjackState",
    "best_total",
    "card_value",
    "hand_total",
    "hilo",
    "is_soft",
]
