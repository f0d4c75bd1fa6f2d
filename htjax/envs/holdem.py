"""No-limit (or fixed-limit) Texas hold'em for 2 to 6 seats; one episode is one hand.

The rules live in :mod:`htjax.envs.holdem_rules`; this module adapts them to the env contract
(seats, rewards, observations, action masks). Full rules text, action ids and the
observation table: ``docs/envs/holdem.md``.

* **Actions** (``int32[]``), *full* menu (9): ``0`` fold, ``1`` check/call, ``2..7`` raise to
  ``max_bet + f * (pot + to_call)`` for ``f`` = 1/3, 1/2, 2/3, 1, 3/2, 2, ``8`` all-in.
  *Small* menu (6): fold, check/call, raise 1/2, 1 and 2 pots, all-in. *Fixed-limit* (3): fold,
  check/call, bet/raise. Sizes below the minimum raise, or that would need the whole stack (that
  is the all-in action), are masked; so is folding when there is nothing to call.
* **Reward**: ``float32[P]``, each seat's chip result of the hand in big blinds, given on the
  step that ends the hand (zero-sum; zero on every other step).
* **Button**: config ``button=-1`` (default) draws the button seat from the episode key, as
  PettingZoo's and RLCard's hold'em do on every reset; ``button=k`` fixes it. For a session where
  the button rotates and stacks carry over, call :meth:`Holdem.next_hand` on a finished state.
* **Observation** ``float32[113 + 22 * P]`` of one seat; seats are listed *relative* to the
  observer (index 0 = the observer, 1 = the seat to its left, ...). Other seats' hole cards are
  never part of it. Chip amounts are in big blinds.

Example::

    >>> import jax, htjax
    >>> env = htjax.make("holdem")
    >>> state = env.init(jax.random.PRNGKey(0))
    >>> state = env.step(state, 1, htjax.step_key(jax.random.PRNGKey(0), 0))  # check/call
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import chex
import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.config import ConfigError, EnvConfig, check_choice, check_int
from htjax.core.env import Env, State
from htjax.envs import holdem_rules as R
from htjax.envs import poker_eval

__all__ = [
    "FULL_MENU",
    "LIMIT_MENU",
    "OBSERVATION_FIELDS",
    "SMALL_MENU",
    "Holdem",
    "HoldemConfig",
    "HoldemState",
    "observation_layout",
    "public_view",
    "render_text",
]

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
_MENUS = {"full": FULL_MENU, "small": SMALL_MENU, "limit": LIMIT_MENU}
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

    @property
    def menu_name(self) -> str:
        if self.action_menu == "auto":
            return "limit" if self.betting == "fixed_limit" else "full"
        return self.action_menu

    @property
    def seat_stacks(self) -> tuple[int, ...]:
        return self.stacks or (self.starting_stack,) * self.num_players


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class HoldemState(State):
    """Contract fields plus ``table`` (:class:`htjax.envs.holdem_rules.Table`)."""

    table: R.Table


def observation_layout(num_players: int) -> list[tuple[str, int, int, str]]:
    """``(name, start, stop, meaning)`` of each observation block for ``num_players`` seats."""
    p = num_players
    blocks = [
        ("hole_cards", 52, "own hole cards, one-hot over card ids (rank*4+suit)"),
        ("board", 52, "community cards dealt so far, one-hot over card ids"),
        ("street", 5, "one-hot: preflop, flop, turn, river, hand over"),
        ("pot", 1, "chips in the pot (all streets, current bets included), big blinds"),
        ("to_call", 1, "chips the observer needs to call, big blinds"),
        ("min_raise_to", 1, "largest bet plus the last full raise: the least a full raise goes to, big blinds"),
        ("my_turn", 1, "1 if the observer is the seat to act"),
        ("button", p, "one-hot relative seat of the button (0 = observer is the button)"),
        ("stack", p, "chips behind per relative seat, big blinds"),
        ("bet", p, "chips committed on this street per relative seat, big blinds"),
        ("committed", p, "chips committed in the hand per relative seat, big blinds"),
        ("folded", p, "1 if the relative seat folded or sits out"),
        ("all_in", p, "1 if the relative seat is all-in"),
        ("street_chips", 4 * p, "[street, relative seat] chips put in on each street, big blinds"),
        ("street_actions", 12 * p, "[street, relative seat, (bet/raise, call, check)] action counts"),
    ]
    out, start = [], 0
    for name, size, meaning in blocks:
        out.append((name, start, start + size, meaning))
        start += size
    return out


OBSERVATION_FIELDS = tuple(name for name, *_ in observation_layout(2))


class Holdem(Env[HoldemState, HoldemConfig]):
    """Texas hold'em, 2..6 seats, no-limit or fixed-limit; see the module docstring."""

    id = "holdem"
    version = "v1"
    zero_sum = True
    config_class = HoldemConfig

    def __init__(self, config: HoldemConfig | None = None, /, *, preset: str | None = None, **overrides: Any):
        super().__init__(config, preset=preset, **overrides)
        cfg = self.config
        menu = _MENUS[cfg.menu_name]
        self._labels = tuple(label for label, *_ in menu)
        self.rules = R.Rules(
            num_players=cfg.num_players,
            small_blind=cfg.small_blind,
            big_blind=cfg.big_blind,
            fixed_limit=cfg.betting == "fixed_limit",
            raise_cap=cfg.raise_cap,
            menu=tuple((kind, num, den) for _, kind, num, den in menu),
        )

    # ------------------------------------------------------------------ sizes
    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def num_actions(self) -> int:
        return len(self._labels)

    @property
    def action_labels(self) -> tuple[str, ...]:
        return self._labels

    # ------------------------------------------------------------------ hands
    def stacked_deck(self, hole: Sequence[Sequence[str | int]], board: Sequence[str | int] = ()) -> cards.Deck:
        """A deck that deals ``hole[seat]`` to each seat and then ``board`` (flop, turn, river).

        ``hole`` lists two cards for every seat; cards not given (the rest of the board) are
        dealt at random. Raises ``ValueError`` naming a wrong count or a repeated card.
        """
        n = self.num_players
        if len(hole) != n or any(len(h) != 2 for h in hole):
            raise ValueError(f"hole must list 2 cards for each of the {n} seats, got {hole!r}")
        if len(board) > 5:
            raise ValueError(f"board has at most 5 cards, got {len(board)}: {board!r}")
        order = [hole[seat][i] for i in range(2) for seat in range(n)] + list(board)
        return cards.stacked_deck(order)

    def init_hand(
        self,
        key: jax.Array,
        *,
        deck: cards.Deck | None = None,
        stacks: Any = None,
        button: Any = None,
    ) -> HoldemState:
        """Start a hand with an optional stacked ``deck``, ``stacks`` (``int32[P]``) and ``button``.

        Defaults come from the config (``button=-1`` draws the button from ``key``). Seats with
        0 chips sit out. All arguments may be traced. If the blinds leave nobody a decision
        (a seat that cannot cover its blind), the returned hand is already finished.
        """
        return self._finish(self._start(key, deck, stacks, button, settle=True))

    def _start(self, key, deck, stacks, button, *, settle: bool) -> HoldemState:
        n = self.num_players
        # hole cards, a possible run-out (only when settling), the button
        bits = jax.random.bits(key, (2 * n + (6 if settle else 1),), jnp.uint32)
        deck = cards.new_deck(1) if deck is None else deck
        stacks = jnp.asarray(self.config.seat_stacks if stacks is None else stacks, jnp.int32)
        if stacks.shape != (n,):
            raise ValueError(f"stacks must have shape ({n},), got {stacks.shape}")
        if button is None:
            if self.config.button >= 0:
                button = self.config.button
            else:
                button = (bits[-1] % jnp.uint32(n)).astype(jnp.int32)
        button = jnp.asarray(button, jnp.int32)
        table = R.start_hand(self.rules, deck, stacks, button, bits[:-1], settle=settle)
        return self._from_table(table, jnp.zeros(n, jnp.float32), jnp.int32(0))

    def next_hand(self, state: HoldemState, key: jax.Array) -> HoldemState:
        """Deal the next hand of a session: stacks carry over, the button moves to the next seat
        with chips, seats with no chips sit out. With fewer than two seats holding chips the
        session is over: ``state`` comes back unchanged, with zero rewards.

        ``state`` must be a hand finished by the rules (``table.street == HAND_OVER``); a hand
        ended by an illegal action still has chips in the pot, which this does not return."""
        t = state.table
        has_chips = t.stack > 0
        button = R.next_seat(has_chips, t.button)
        fresh = self.init_hand(key, stacks=t.stack, button=jnp.maximum(button, 0))
        over = state.replace(terminated=jnp.bool_(True), rewards=jnp.zeros_like(state.rewards))
        return jax.tree_util.tree_map(lambda a, b: jnp.where(jnp.sum(has_chips) < 2, a, b), over, fresh)

    # ------------------------------------------------------------------ contract hooks
    def _init(self, key: jax.Array, params) -> HoldemState:
        # config stacks exceed the big blind, so the blinds always leave a decision
        return self._start(key, None, None, None, settle=False)

    def _step(self, state: HoldemState, action: jax.Array, key: jax.Array, params) -> HoldemState:
        bits = jax.random.bits(key, (5,), jnp.uint32)
        table = R.act(self.rules, state.table, action, bits)
        return self._from_table(table, state.rewards, state.step_count)

    def _forfeit(self, state: HoldemState, offenders: jax.Array, params) -> jax.Array:
        """An offender forfeits its whole stack at hand start, paid to the other live seats as a
        fold would pay them (:func:`htjax.envs.holdem_rules.forfeit`); in big blinds."""
        chips = R.forfeit(state.table, offenders)
        return chips.astype(jnp.float32) / self.config.big_blind

    def _from_table(self, table: R.Table, rewards: jax.Array, step_count: jax.Array) -> HoldemState:
        over = table.street == R.HAND_OVER
        result = (table.stack - table.start_stack).astype(jnp.float32) / self.config.big_blind
        return HoldemState(
            current_player=table.to_act,
            observation=jnp.zeros(self.observation_size, jnp.float32),
            rewards=jnp.where(over, result, rewards).astype(jnp.float32),
            terminated=over,
            truncated=jnp.bool_(False),
            legal_action_mask=R.legal_actions(self.rules, table),
            step_count=step_count,
            table=table,
        )

    @property
    def observation_size(self) -> int:
        return observation_layout(self.num_players)[-1][2]

    def render_text(self, state, seat: int | None = None) -> str:
        return render_text(self, state, seat)

    def public_view(self, state) -> dict:
        return public_view(self, state)

    def _observe(self, state: HoldemState, player: jax.Array, params) -> jax.Array:
        t = state.table
        n = self.num_players
        bb = jnp.float32(self.config.big_blind)
        seats = jnp.arange(n)
        rel = (player + seats) % n  # relative seat k -> absolute seat
        card_ids = jnp.arange(cards.DECK_SIZE)
        hole_hot = jnp.any(t.hole[player][:, None] == card_ids, axis=0)
        board_hot = jnp.any(t.board[:, None] == card_ids, axis=0)
        max_bet = jnp.max(t.bet)
        over = t.street == R.HAND_OVER
        to_call = jnp.where(over, 0, max_bet - t.bet[player])
        min_raise_to = jnp.where(over, 0, max_bet + t.last_raise)
        live = ~t.folded
        parts = [
            hole_hot,
            board_hot,
            jnp.arange(5) == t.street,
            R.pot(t)[None] / bb,
            to_call[None] / bb,
            min_raise_to[None] / bb,
            (~over & (t.to_act == player))[None],
            seats == (t.button - player) % n,
            t.stack[rel] / bb,
            t.bet[rel] / bb,
            t.committed[rel] / bb,
            t.folded[rel],
            (live & (t.stack == 0))[rel],
            t.street_chips[:, rel] / bb,
            t.street_actions[:, rel, :],
        ]
        return jnp.concatenate([jnp.asarray(x, jnp.float32).ravel() for x in parts])


def render_text(env: Holdem, state: HoldemState, seat: int | None = None) -> str:
    """A readable table (outside jit, one unbatched state).

    ``seat=None`` is an omniscient spectator: every hole card is shown. With ``seat=k`` only
    seat ``k``'s hole cards are shown, plus, after a showdown, the cards of the seats that
    reached it (as at a real table); everything else is ``?? ??``.
    """
    t = jax.tree_util.tree_map(np.asarray, state.table)
    n = env.num_players
    bb = env.config.big_blind
    street = int(t.street)
    lines = [
        f"Hold'em {env.config.betting.replace('_', '-')}  blinds {env.config.small_blind}/{bb}  "
        f"street: {R.STREET_NAMES[street]}  pot: {int(R.pot(state.table))}",
        f"board: {cards.cards_to_str(t.board) or '-'}",
    ]
    for s in range(n):
        shown = seat is None or s == seat or (bool(t.showdown) and not bool(t.folded[s]))
        hole = cards.cards_to_str(t.hole[s]) if shown else "?? ??"
        tags = []
        if s == int(t.button):
            tags.append("button")
        if bool(t.folded[s]):
            tags.append("folded" if int(t.start_stack[s]) > 0 else "sitting out")
        elif int(t.stack[s]) == 0:
            tags.append("all-in")
        if street != R.HAND_OVER and s == int(t.to_act):
            tags.append("to act")
        line = f"seat {s}: {hole:<6} stack {int(t.stack[s]):>6}  bet {int(t.bet[s]):>5}  in pot {int(t.committed[s]):>5}"
        if street == R.HAND_OVER:
            line += f"  won {int(t.payout[s]):>5}  net {int(t.stack[s]) - int(t.start_stack[s]):+d}"
            if bool(t.showdown) and not bool(t.folded[s]) and shown:
                full = np.concatenate([t.hole[s], t.board]).astype(np.int32)
                value = int(poker_eval.evaluate(jnp.asarray(full)))
                line += f"  ({poker_eval.category_name(value)})"
        if tags:
            line += "  [" + ", ".join(tags) + "]"
        lines.append(line)
    if street != R.HAND_OVER:
        mask = np.asarray(state.legal_action_mask)
        legal = [f"{i}={label}" for i, label in enumerate(env.action_labels) if mask[i]]
        lines.append("legal: " + ", ".join(legal))
    return "\n".join(lines)


def _side_pots(committed: np.ndarray, live: np.ndarray) -> list[dict[str, Any]]:
    """Main pot and side pots as the rules pay them: ``[{"amount", "eligible": [seats]}]``.

    One pot per distinct contribution level (folded chips included); the live seats that
    committed at least that level are eligible. Adjacent levels with the same eligible seats
    form one pot.
    """
    pots: list[dict[str, Any]] = []
    prev = 0
    for level in sorted({int(c) for c in committed if c > 0}):
        amount = int(np.sum(np.clip(committed, prev, level) - prev))
        eligible = [int(s) for s in np.flatnonzero(live & (committed >= level))]
        if not eligible:  # chips above every live seat's contribution go to the live seats
            eligible = [int(s) for s in np.flatnonzero(live)]
        if pots and pots[-1]["eligible"] == eligible:
            pots[-1]["amount"] += amount
        else:
            pots.append({"amount": amount, "eligible": eligible})
        prev = level
    return pots


def public_view(env: Holdem, state: HoldemState) -> dict[str, Any]:
    """What a spectator sees of one (unbatched) state, as plain values (the sync layer's hook).

    Hole cards appear only for the seats that reached a showdown (the cards they show); the
    cards of every other seat, and the deck, never do. Chip amounts are in chips.
    Keys are listed in ``docs/envs/holdem.md`` (Public view).
    """
    t = jax.tree_util.tree_map(np.asarray, jax.device_get(state.table))
    if t.street.ndim != 0:
        raise ValueError("public_view expects one world's state, not a batch")
    n = env.num_players
    street = int(t.street)
    over = street == R.HAND_OVER
    showdown = bool(t.showdown)
    board = [int(c) for c in t.board if c >= 0]
    live = ~t.folded
    seats = []
    for s in range(n):
        sitting_out = int(t.start_stack[s]) == 0
        shown = showdown and bool(live[s])
        seat: dict[str, Any] = {
            "stack": int(t.stack[s]),
            "bet": int(t.bet[s]),
            "committed": int(t.committed[s]),
            "folded": bool(t.folded[s]) and not sitting_out,
            "sitting_out": sitting_out,
            "all_in": bool(live[s]) and int(t.stack[s]) == 0,
            "hole": [cards.card_to_str(c) for c in t.hole[s] if c >= 0] if shown else None,
            "hand": None,
        }
        if shown:
            full = np.concatenate([t.hole[s], t.board]).astype(np.int32)
            seat["hand"] = poker_eval.category_name(int(poker_eval.evaluate(jnp.asarray(full))))
        if over:
            seat["payout"] = int(t.payout[s])
            seat["net"] = int(t.stack[s]) - int(t.start_stack[s])
        seats.append(seat)
    kinds = R.HISTORY_KINDS
    return {
        "street": R.STREET_NAMES[street],
        "board": [cards.card_to_str(c) for c in board],
        "pot": 0 if over else int(np.sum(t.committed)),
        "pots": [] if over else _side_pots(t.committed, live),
        "button": int(t.button),
        "to_act": None if over else int(t.to_act),
        "to_call": 0 if over else int(np.max(t.bet) - t.bet[int(t.to_act)]),
        "blinds": [env.config.small_blind, env.config.big_blind],
        "seats": seats,
        "actions": {
            R.STREET_NAMES[k]: [{kind: int(t.street_actions[k, s, j]) for j, kind in enumerate(kinds)} for s in range(n)]
            for k in range(R.HAND_OVER)
        },
        "showdown": showdown,
        "over": over,
        "step": int(np.asarray(state.step_count)),
    }
