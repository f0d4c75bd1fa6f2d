"""Rules configuration of the iterated prisoner's dilemma (:class:`IPDConfig`) and move ids."""

from __future__ import annotations

import dataclasses

from htjax.core.config import ConfigError, EnvConfig, check_float, check_int

__all__ = ["COOPERATE", "DEFECT", "MAX_WINDOW", "IPDConfig"]

COOPERATE = 0
DEFECT = 1
MAX_WINDOW = 32  # bits in a move register


@dataclasses.dataclass(frozen=True)
class IPDConfig(EnvConfig):
    """Rules of the iterated prisoner's dilemma.

    Attributes:
      temptation, reward, punishment, sucker: payoffs ``T, R, P, S``; ``T > R > P > S`` and
        ``2R >= T + S`` (equality admitted for OpenSpiel's ``10, 5, 1, 0``). Rule parameters:
        they may vary per world (``env.params(...)``).
      rounds: number of rounds (fixed horizon), or the cap when ``continuation_probability < 1``.
        Static (it sizes the episode).
      noise: probability that each seat's chosen move is flipped, in ``[0, 1]``. Rule parameter.
      continuation_probability: probability that another round follows each round, in
        ``(0, 1]``; ``1`` means a fixed horizon of ``rounds``. Rule parameter.
      window: number of recent rounds in the observation, ``1 .. 32``. Static (it sizes the
        observation).
    """

    temptation: float = 5.0
    reward: float = 3.0
    punishment: float = 1.0
    sucker: float = 0.0
    rounds: int = 100
    noise: float = 0.0
    continuation_probability: float = 1.0
    window: int = 5

    PARAM_FIELDS = ("temptation", "reward", "punishment", "sucker", "noise", "continuation_probability")
    PRESETS = {
        # OpenSpiel's python_iterated_prisoners_dilemma: payoff [[5, 0], [10, 1]], each round ends
        # the game with probability 0.125, max_game_length 9999.
        "openspiel": dict(
            temptation=10.0,
            reward=5.0,
            punishment=1.0,
            sucker=0.0,
            rounds=9999,
            continuation_probability=0.875,
        ),
    }

    def validate(self) -> None:
        for name in ("temptation", "reward", "punishment", "sucker"):
            check_float(name, getattr(self, name), -1e6, 1e6)
        t, r, p, s = self.payoffs
        if not t > r:
            raise ConfigError(f"config field 'temptation' must exceed 'reward' (T > R), got T={t}, R={r}")
        if not r > p:
            raise ConfigError(f"config field 'reward' must exceed 'punishment' (R > P), got R={r}, P={p}")
        if not p > s:
            raise ConfigError(f"config field 'punishment' must exceed 'sucker' (P > S), got P={p}, S={s}")
        if not 2 * r >= t + s:
            raise ConfigError(
                f"config field 'reward' must satisfy 2R >= T + S (mutual cooperation pays best), "
                f"got R={r}, T={t}, S={s}"
            )
        check_int("rounds", self.rounds, 1, 1_000_000)
        check_float("noise", self.noise, 0.0, 1.0)
        check_float("continuation_probability", self.continuation_probability, 0.0, 1.0)
        if self.continuation_probability == 0.0:
            raise ConfigError("config field 'continuation_probability' must be in (0, 1], got 0.0")
        check_int("window", self.window, 1, MAX_WINDOW)

    @property
    def payoffs(self) -> tuple[float, float, float, float]:
        """``(T, R, P, S)``."""
        return (float(self.temptation), float(self.reward), float(self.punishment), float(self.sucker))

    @property
    def fixed_horizon(self) -> bool:
        return self.continuation_probability == 1.0
