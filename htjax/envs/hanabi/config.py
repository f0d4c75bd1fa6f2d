"""Hanabi configuration: the number of seats (everything else is fixed by the rules)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from htjax.core.config import EnvConfig, check_int
from htjax.envs.hanabi import rules as R

__all__ = ["HanabiConfig", "action_labels"]


@dataclasses.dataclass(frozen=True)
class HanabiConfig(EnvConfig):
    """Rules of a Hanabi game (HLE's full game: 5 colours, ranks 1-5, 8 information tokens,
    3 lives).

    Attributes:
      num_players: seats, 2..5 (hand size 5 with 2-3 seats, 4 with 4-5).

    Presets ``2p`` .. ``5p`` name the seat counts. No rule parameters vary per world.
    """

    num_players: int = 2

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "2p": {"num_players": 2},
        "3p": {"num_players": 3},
        "4p": {"num_players": 4},
        "5p": {"num_players": 5},
    }

    def validate(self) -> None:
        check_int("num_players", self.num_players, 2, 5)

    @property
    def hand_size(self) -> int:
        return R.Rules(self.num_players).hand_size


def action_labels(num_players: int) -> tuple[str, ...]:
    """Labels in HLE's move order: ``discard i``, ``play i``, ``hint +k red`` .., ``hint +k rank r``."""
    h = R.Rules(num_players).hand_size
    labels = [f"discard {i}" for i in range(h)] + [f"play {i}" for i in range(h)]
    labels += [f"hint +{k} {c}" for k in range(1, num_players) for c in R.COLORS]
    labels += [f"hint +{k} rank {r}" for k in range(1, num_players) for r in range(1, R.NUM_RANKS + 1)]
    return tuple(labels)
