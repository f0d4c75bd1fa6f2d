"""Blackjack's rules config (:class:`BlackjackConfig`, its presets) and the ids every other module
names: actions, phases, hand statuses."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core.config import (
    ConfigError,
    EnvConfig,
    check_bool,
    check_choice,
    check_float,
    check_int,
)

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
    "NO_INSURANCE",
    "PHASE_BET",
    "PHASE_INSURANCE",
    "PHASE_NAMES",
    "PHASE_OVER",
    "PHASE_PLAY",
    "PHASE_SHOWDOWN",
    "PLAY_LABELS",
    "SPLIT",
    "STAND",
    "STATUS_NAMES",
    "STICK",
    "SURRENDER",
    "BlackjackConfig",
    "cut_position",
]

# ---------------------------------------------------------------------------- action ids
STAND = 0
"""Stand (Gymnasium's ``stick``): the hand takes no more cards. Also the only action of a
``PHASE_SHOWDOWN`` turn."""
STICK = STAND
HIT = 1
DOUBLE = 2
SPLIT = 3
SURRENDER = 4
INSURANCE = 5
NO_INSURANCE = 6
BET_BASE = 7
"""Action ``BET_BASE + i`` bets ``bet_menu[i]`` units (casino rules with ``betting=True``)."""

PLAY_LABELS = ("stand", "hit", "double", "split", "surrender", "insurance", "no_insurance")

# ---------------------------------------------------------------------------- phases
PHASE_BET = 0
"""Seat ``current_player`` chooses its bet; cards are dealt after the last seat's bet."""
PHASE_INSURANCE = 1
"""The dealer shows an ace; seat ``current_player`` takes or declines insurance."""
PHASE_PLAY = 2
"""Seat ``current_player`` plays its hand ``active_hand``."""
PHASE_SHOWDOWN = 3
"""A round dealt without a decision left (dealer blackjack, or only naturals), dealt where
no reward can be paid (at ``init`` or right after the previous round settled): its first seat's
only legal action is ``STAND``, which settles the round."""
PHASE_OVER = 4
"""The round is settled (the final state of an episode)."""
PHASE_NAMES = ("bet", "insurance", "play", "showdown", "over")

# ---------------------------------------------------------------------------- hand status
HAND_EMPTY = 0
HAND_PLAYING = 1
HAND_STOOD = 2
HAND_BUST = 3
HAND_SURRENDERED = 4
HAND_NATURAL = 5
STATUS_NAMES = ("", "playing", "stood", "bust", "surrendered", "blackjack")

DOUBLE_RULES = ("any", "9-11", "10-11", "none")
EPISODES = ("round", "shoe", "session")
RULES = ("casino", "gymnasium")


def cut_position(shoe_size, penetration):
    """Shoe position of the cut card: ``round(shoe_size * penetration)`` in float32 arithmetic.

    The one definition for the config's check (Python numbers) and the rules, where
    ``penetration`` is a traced rule parameter (``float32[]``); returns an ``int`` or an ``int32[]``; float32 on both sides, so they
    always agree."""
    if isinstance(penetration, jax.Array):
        return jnp.round(jnp.float32(shoe_size) * penetration.astype(jnp.float32)).astype(jnp.int32)
    return int(np.round(np.float32(shoe_size) * np.float32(penetration)))


@dataclasses.dataclass(frozen=True)
class BlackjackConfig(EnvConfig):
    """Rules of a blackjack table (frozen, hashable, validated at construction).

    See ``docs/envs/blackjack.md`` for every field. Money (``bet_menu``,
    ``starting_bankroll``, rewards) is in bet units. ``blackjack_payout`` and ``penetration``
    are rule parameters: they may vary per world of one batch (``env.params``); every other
    field is structural.
    """

    PRESETS = {
        "casino": {},
        "gymnasium": {
            "rules": "gymnasium",
            "num_seats": 1,
            "infinite_deck": True,
            "insurance": False,
            "double_on": "none",
            "max_hands": 1,
            "late_surrender": False,
            "betting": False,
            "bet_menu": (1,),
            "sab": True,  # gym.make("Blackjack-v1") registers natural=False, sab=True
        },
    }
    PARAM_FIELDS = ("blackjack_payout", "penetration")

    rules: str = "casino"
    num_seats: int = 1
    num_decks: int = 6
    infinite_deck: bool = False
    penetration: float = 0.75
    dealer_hits_soft_17: bool = False
    blackjack_payout: float = 1.5
    insurance: bool = True
    double_on: str = "any"
    double_after_split: bool = True
    max_hands: int = 4
    resplit_aces: bool = False
    hit_split_aces: bool = False
    split_any_tens: bool = False
    late_surrender: bool = False
    betting: bool = True
    bet_menu: tuple = (1, 2, 5, 10, 25)
    starting_bankroll: int = 100
    episode: str = "round"
    max_rounds: int = 100
    natural: bool = False
    sab: bool = False

    def validate(self) -> None:
        check_choice("rules", self.rules, RULES)
        check_int("num_seats", self.num_seats, 1, 7)
        check_int("num_decks", self.num_decks, 1, 8)
        check_bool("infinite_deck", self.infinite_deck)
        check_float("penetration", self.penetration, 0.05, 1.0)
        check_bool("dealer_hits_soft_17", self.dealer_hits_soft_17)
        check_float("blackjack_payout", self.blackjack_payout, 0.0, 10.0)
        check_bool("insurance", self.insurance)
        check_choice("double_on", self.double_on, DOUBLE_RULES)
        check_bool("double_after_split", self.double_after_split)
        check_int("max_hands", self.max_hands, 1, 4)
        check_bool("resplit_aces", self.resplit_aces)
        check_bool("hit_split_aces", self.hit_split_aces)
        check_bool("split_any_tens", self.split_any_tens)
        check_bool("late_surrender", self.late_surrender)
        check_bool("betting", self.betting)
        menu = self.bet_menu
        if not isinstance(menu, tuple) or not menu:
            raise ConfigError(f"config field 'bet_menu' must be a non-empty tuple of ints, got {menu!r}")
        for i, b in enumerate(menu):
            check_int(f"bet_menu[{i}]", b, 1, 1_000_000)
        if any(b >= c for b, c in zip(menu, menu[1:])):
            raise ConfigError(f"config field 'bet_menu' must be strictly increasing, got {menu!r}")
        if len(menu) > 32:
            raise ConfigError(f"config field 'bet_menu' may hold at most 32 bets, got {len(menu)}")
        check_int("starting_bankroll", self.starting_bankroll, 1, 1_000_000_000)
        if self.starting_bankroll < menu[0]:
            raise ConfigError(
                f"config field 'starting_bankroll' ({self.starting_bankroll}) must cover the smallest "
                f"bet bet_menu[0] = {menu[0]}"
            )
        check_choice("episode", self.episode, EPISODES)
        check_int("max_rounds", self.max_rounds, 1, 10_000_000)
        check_bool("natural", self.natural)
        check_bool("sab", self.sab)
        if self.rules == "gymnasium":
            for name, ok_value in (
                ("insurance", False),
                ("double_on", "none"),
                ("max_hands", 1),
                ("late_surrender", False),
                ("betting", False),
            ):
                if getattr(self, name) != ok_value:
                    raise ConfigError(
                        f"config field {name!r} must be {ok_value!r} with rules='gymnasium' "
                        f"(Blackjack-v1 has only stick and hit), got {getattr(self, name)!r}"
                    )
        else:
            for name in ("natural", "sab"):
                if getattr(self, name):
                    raise ConfigError(
                        f"config field {name!r} is a Gymnasium Blackjack-v1 flag; it needs rules='gymnasium'"
                    )
        if not self.infinite_deck and self.episode != "round":
            shoe = 52 * self.num_decks
            if shoe - cut_position(shoe, self.penetration) < 2 * (self.num_seats + 1):
                raise ConfigError(
                    f"config field 'penetration' ({self.penetration}) leaves fewer cards behind the cut "
                    f"card than one deal to {self.num_seats} seat(s) and the dealer needs"
                )
