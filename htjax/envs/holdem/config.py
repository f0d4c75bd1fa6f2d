"""Hold'em configuration: the rules a hand is played by, and the action menus."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from htjax.core.config import ConfigError, EnvConfig, check_choice, check_int
from htjax.envs.holdem import rules as R

__all__ = ["FULL_MENU", "LIMIT_MENU", "MENUS", "SMALL_MENU", "HoldemConfig"]

# (label, kind, numerator, denominator) per action id
FULL_MENU = (
    ("fold", R.FOLD, 0, 1),
    ("check/call", R.CALL, 0, 1),
    ("raise 1/3 pot", R.RAISE, 1, 3),
    ("raise 1/2 pot", R.RAISE, 1, 2),
    ("raise 2/3 pot", R.RAISE, 2, 3),
    ("raise 1 pot", R.RAISE, 1, 1),
    ("raise 1.5 pot", R.RAISE, 3, 2),
    ("raise 2 pot", R.RAISE, 2, 1),
    ("all-in", R.ALL_IN, 0, 1),
)
SMALL_MENU = (
    ("fold", R.FOLD, 0, 1),
    ("check/call", R.CALL, 0, 1),
    ("raise 1/2 pot", R.RAISE, 1, 2),
    ("raise 1 pot", R.RAISE, 1, 1),
    ("raise 2 pot", R.RAISE, 2, 1),
    ("all-in", R.ALL_IN, 0, 1),
)
LIMIT_MENU = (
    ("fold", R.FOLD, 0, 1),
    ("check/call", R.CALL, 0, 1),
    ("bet/raise", R.LIMIT_RAISE, 0, 1),
)
MENUS = {"full": FULL_MENU, "small": SMALL_MENU, "limit": LIMIT_MENU}
_MAX_CHIPS = 10**8  # keeps every sum of stacks well inside int32


@dataclasses.dataclass(frozen=True)
class HoldemConfig(EnvConfig):
    """Rules of a hold'em hand.

    Attributes:
      num_players: seats, 2..6.
      small_blind, big_blind: blinds in chips (``1 <= small_blind <= big_blind``).
      starting_stack: chips of every seat at the start of the hand (more than the big blind).
      stacks: per-seat starting stacks (length ``num_players``); overrides ``starting_stack``.
      button: dealer seat, or -1 to draw it from the episode key.
      betting: ``"no_limit"`` or ``"fixed_limit"`` (bets of one big blind before the flop and
        on the flop, two on turn and river, at most ``raise_cap`` bets per round).
      action_menu: ``"full"`` (9 actions), ``"small"`` (6) for no-limit, ``"limit"`` (3) for
        fixed-limit, or ``"auto"``: full for no-limit, limit for fixed-limit.
      raise_cap: fixed-limit bets per betting round, the opening bet (or big blind) included.
      max_stack_bb: the most big blinds a seat may hold at the start of a hand (static: it
        bounds the observation, ``observation_bounds``); ``starting_stack`` and ``stacks`` must
        stay within it, also when they vary per world.

    Rule parameters (``PARAM_FIELDS``, may vary per world in one compiled program):
    ``small_blind``, ``big_blind`` and ``starting_stack``. Per-seat ``stacks`` are structural.
    """

    num_players: int = 2
    small_blind: int = 1
    big_blind: int = 2
    starting_stack: int = 100
    stacks: tuple[int, ...] = ()
    button: int = -1
    betting: str = "no_limit"
    action_menu: str = "auto"
    raise_cap: int = 4
    max_stack_bb: int = 1_000_000

    PARAM_FIELDS: ClassVar[tuple[str, ...]] = ("small_blind", "big_blind", "starting_stack")
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "default": {},
        "hunl": {"num_players": 2, "small_blind": 1, "big_blind": 2, "starting_stack": 200},
        "fixed_limit": {"betting": "fixed_limit"},
        "6max": {"num_players": 6, "starting_stack": 200},
        "small_menu": {"action_menu": "small"},
    }

    def validate(self) -> None:
        check_int("num_players", self.num_players, 2, 6)
        check_int("small_blind", self.small_blind, 1, _MAX_CHIPS)
        check_int("big_blind", self.big_blind, self.small_blind, _MAX_CHIPS)
        check_int("starting_stack", self.starting_stack, self.big_blind + 1, _MAX_CHIPS)
        if not isinstance(self.stacks, tuple):
            raise ConfigError(f"config field 'stacks' must be a tuple of ints, got {self.stacks!r}")
        if self.stacks:
            if len(self.stacks) != self.num_players:
                raise ConfigError(
                    f"config field 'stacks' must list one stack per seat ({self.num_players}), "
                    f"got {len(self.stacks)}: {self.stacks!r}"
                )
            for i, s in enumerate(self.stacks):
                check_int(f"stacks[{i}]", s, self.big_blind + 1, _MAX_CHIPS)
        check_int("button", self.button, -1, self.num_players - 1)
        check_choice("betting", self.betting, ("no_limit", "fixed_limit"))
        check_choice("action_menu", self.action_menu, ("auto", "full", "small", "limit"))
        if self.betting == "fixed_limit" and self.action_menu not in ("auto", "limit"):
            raise ConfigError(
                f"config field 'action_menu' must be 'auto' or 'limit' with fixed-limit betting, "
                f"got {self.action_menu!r}"
            )
        if self.betting == "no_limit" and self.action_menu == "limit":
            raise ConfigError("config field 'action_menu' 'limit' needs betting='fixed_limit'")
        check_int("raise_cap", self.raise_cap, 1, 100)
        check_int("max_stack_bb", self.max_stack_bb, 2, _MAX_CHIPS)
        for field, stack in [("starting_stack", self.starting_stack)] + [
            (f"stacks[{i}]", s) for i, s in enumerate(self.stacks)
        ]:
            if stack > self.max_stack_bb * self.big_blind:
                raise ConfigError(
                    f"config field {field!r}: {stack} chips are more than max_stack_bb={self.max_stack_bb} "
                    f"big blinds of {self.big_blind}; raise max_stack_bb"
                )

    @property
    def menu_name(self) -> str:
        if self.action_menu == "auto":
            return "limit" if self.betting == "fixed_limit" else "full"
        return self.action_menu

    @property
    def seat_stacks(self) -> tuple[int, ...]:
        return self.stacks or (self.starting_stack,) * self.num_players
