"""Cuttle configuration: the variant a game is played by, and the rules each variant sets."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from htjax.core.config import EnvConfig, check_choice, check_int

__all__ = ["VARIANTS", "CuttleConfig", "Variant"]


@dataclasses.dataclass(frozen=True)
class Variant:
    """The static rules of a variant (``docs/envs/cuttle.md`` has them side by side).

    Attributes:
      num_players: seats (2 or 3).
      num_cards: 52, or 54 with the two jokers.
      hand_sizes: cards dealt to seat 0 (the dealer), 1, ...; seat 1 moves first.
      hand_limit: the most cards a hand may hold after a draw (a draw, a 5's draws).
      goals: points needed to win with 0, 1, 2, 3, 4 kings.
      five_discards: a 5 first discards one card, then draws ``five_draws``.
      five_draws: cards a 5 draws (fewer when the hand limit or the deck stops it).
      seven_reveals: cards a 7 reveals from the top of the deck (choose one of them to play).
      nine_points: a 9 may also target point cards (otherwise royals, glasses, jacks, jokers).
      nine_freezes: a card a 9 returns cannot be played on its owner's next turn.
      strict_oneoffs: cuttle.cards' checks: a 3 needs a card other than a 3 in the scrap pile
        and cannot take a 3, a 4 needs an opponent with a card in hand, a 5 a card in the deck.
    """

    num_players: int
    num_cards: int
    hand_sizes: tuple[int, ...]
    hand_limit: int
    goals: tuple[int, int, int, int, int]
    five_discards: bool
    five_draws: int
    seven_reveals: int
    nine_points: bool
    nine_freezes: bool
    strict_oneoffs: bool


VARIANTS: dict[str, Variant] = {
    # classic (pagat, HyperToken's default): 5 draws two, 7 plays the top card, 9 bounces a permanent
    "classic": Variant(2, 52, (6, 5), 8, (21, 14, 10, 7, 5), False, 2, 1, False, False, False),
    # cuttle.cards' current rules
    "standard": Variant(2, 52, (6, 5), 8, (21, 14, 10, 5, 0), True, 3, 2, True, True, True),
    # cuttle.cards' three-player game, 54 cards with the two jokers
    "cutthroat": Variant(3, 54, (5, 5, 5), 7, (14, 9, 5, 0, 0), True, 3, 2, True, True, True),
}


@dataclasses.dataclass(frozen=True)
class CuttleConfig(EnvConfig):
    """Rules of a Cuttle game.

    Attributes:
      variant: ``"classic"`` (two players), ``"standard"`` (cuttle.cards, two players) or
        ``"cutthroat"`` (cuttle.cards, three players, 54 cards with two jokers).
      max_steps: the episode is truncated after this many steps (a game that cycles cards through
        3s and 9s need not end by itself).

    No rule parameters: every rule is structural (``PARAM_FIELDS`` is empty).
    """

    variant: str = "classic"
    max_steps: int = 1000

    PARAM_FIELDS: ClassVar[tuple[str, ...]] = ()
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "classic": {"variant": "classic"},
        "standard": {"variant": "standard"},
        "cutthroat": {"variant": "cutthroat"},
    }

    def validate(self) -> None:
        check_choice("variant", self.variant, tuple(VARIANTS))
        check_int("max_steps", self.max_steps, 1, 1_000_000)

    @property
    def rules(self) -> Variant:
        return VARIANTS[self.variant]
