"""What people see of a blackjack world: text, the public view and Blackjack-v1's tuple.

:class:`BlackjackViews` holds the env's optional hooks (``render_text``, ``public_view``,
``classic_observation``, see :class:`htjax.core.env.Env`); :class:`~htjax.envs.blackjack.Blackjack`
inherits them. Totals come from :mod:`~htjax.envs.blackjack.hand`, the same definitions as the rules.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from htjax.core import cards
from htjax.core.errors import InvalidArgumentError
from htjax.envs.blackjack import hand
from htjax.envs.blackjack.config import (
    PHASE_BET,
    PHASE_INSURANCE,
    PHASE_NAMES,
    PHASE_OVER,
    PHASE_PLAY,
    PHASE_SHOWDOWN,
    STATUS_NAMES,
)
from htjax.envs.blackjack.state import BlackjackState

__all__ = ["BlackjackViews"]


def _one_world(state: BlackjackState, what: str):
    s = jax.tree_util.tree_map(np.asarray, jax.device_get(state))
    if s.phase.ndim != 0:
        raise InvalidArgumentError(f"{what} expects one world's state, not a batch")
    return s


def _total_str(hard, ace) -> str:
    total, soft = int(hand.best_total(hard, ace)), bool(hand.is_soft(hard, ace))
    if total > 21:
        return f"{total} bust"
    return f"soft {total}" if soft else str(total)


def _hand_of(cards_row) -> tuple[list[int], int, bool]:
    """Cards (ids), hard total and whether an ace is among them, of a host row of card slots."""
    held = [int(c) for c in cards_row if c >= 0]
    arr = np.asarray(held, np.int64)
    return held, int(np.sum(hand.card_value(arr))), bool(np.any(hand.is_ace(arr)))


class BlackjackViews:
    """The view hooks of :class:`~htjax.envs.blackjack.Blackjack` (mixed into the env)."""

    def classic_observation(self, state: BlackjackState) -> jax.Array:
        """``int32[3]`` = (player sum, dealer showing card 1..10 with ace = 1, usable ace 0/1) of
        seat 0's first hand, exactly as Gymnasium's ``Blackjack-v1`` observes; batched states give
        ``int32[..., 3]``."""
        hard, ace = state.hand_hard[..., 0], state.hand_ace[..., 0]
        return jnp.stack(
            [
                hand.best_total(hard, ace),
                hand.card_value(state.dealer_cards[..., 0]),
                hand.is_soft(hard, ace).astype(jnp.int32),
            ],
            axis=-1,
        ).astype(jnp.int32)

    def render_text(self, state: BlackjackState, seat: int | None = None) -> str:
        """A readable table of one (unbatched) state.

        The dealer's hole card shows as ``??`` until revealed. ``seat`` marks that seat's row
        (``>``) as the viewer; every seat's cards are face up in blackjack, so nothing else hides.
        """
        s = _one_world(state, "render_text")
        H = self.config.max_hands
        phase = int(s.phase)
        over = bool(s.terminated | s.truncated)
        dealer, d_hard, d_ace = _hand_of(s.dealer_cards)
        if not dealer:
            lines = ["Dealer: (no cards)"]
        elif bool(s.dealer_revealed):
            lines = [f"Dealer: {cards.cards_to_str(dealer)}  = {_total_str(d_hard, d_ace)}"]
        else:
            up = dealer[0]
            lines = [f"Dealer: {cards.card_to_str(up)} ??  (showing {int(hand.card_value(up))})"]
        for p in range(self.num_players):
            marker = ">" if seat == p else " "
            turn = "  <- to act" if (int(s.current_player) == p and phase != PHASE_OVER and not over) else ""
            head = f"{marker}Seat {p}: bankroll {float(s.bankroll[p]):g}"
            if float(s.seat_bet[p]) > 0:
                head += f", bet {float(s.seat_bet[p]):g}"
            if float(s.insurance[p]) > 0:
                head += f", insurance {float(s.insurance[p]):g}"
            lines.append(head + turn)
            for h in range(max(int(s.num_hands[p]), 0)):
                i = p * H + h
                held, hard, ace = _hand_of(s.hand_cards[i])
                active = " *" if (phase == PHASE_PLAY and int(s.cursor) == i) else ""
                extra = ", doubled" if bool(s.hand_doubled[i]) else ""
                lines.append(
                    f"    hand {h + 1}: {cards.cards_to_str(held)}  = {_total_str(hard, ace)}"
                    f"  [{STATUS_NAMES[int(s.hand_status[i])]}{extra}, stake {float(s.hand_bet[i]):g}]{active}"
                )
        info = f"Phase: {PHASE_NAMES[phase]}, round {int(s.round_index) + (0 if phase == PHASE_OVER else 1)}"
        if not self.config.infinite_deck:
            size = s.deck.cards.shape[-1]
            info += f", shoe {size - int(s.deck.position)}/{size} left, running count {int(s.running_count)}"
        lines.append(info)
        if over:
            lines.append("Episode over" + (" (truncated)" if bool(s.truncated) else ""))
        rewards = np.asarray(s.rewards)
        if np.any(rewards != 0):
            lines.append("Last rewards: " + ", ".join(f"seat {p}: {r:+g}" for p, r in enumerate(rewards)))
        return "\n".join(lines)

    def public_view(self, state: BlackjackState) -> dict[str, Any]:
        """What a spectator sees of one (unbatched) state, as plain values (the sync layer's hook).

        Seats' cards are face up in blackjack; the dealer's hole card (and the dealer's total)
        appear only once ``dealer_revealed``, and the shoe's undealt cards never do.
        Keys are listed in ``docs/envs/blackjack.md`` (Public view).
        """
        s = _one_world(state, "public_view")
        H = self.config.max_hands
        phase = int(s.phase)
        over = bool(s.terminated | s.truncated)
        revealed = bool(s.dealer_revealed)
        dealer, _, _ = _hand_of(s.dealer_cards)
        shown = dealer if revealed else dealer[:1]
        hard, ace = int(s.dealer_hard), bool(s.dealer_ace)
        seats = []
        for p in range(self.num_players):
            hands = []
            for h in range(max(int(s.num_hands[p]), 0)):
                i = p * H + h
                hard_i, ace_i = int(s.hand_hard[i]), bool(s.hand_ace[i])
                hands.append(
                    {
                        "cards": [cards.card_to_str(c) for c in s.hand_cards[i] if c >= 0],
                        "total": int(hand.best_total(hard_i, ace_i)),
                        "soft": bool(hand.is_soft(hard_i, ace_i)),
                        "status": STATUS_NAMES[int(s.hand_status[i])],
                        "stake": float(s.hand_bet[i]),
                        "doubled": bool(s.hand_doubled[i]),
                    }
                )
            seats.append(
                {
                    "bankroll": float(s.bankroll[p]),
                    "bet": float(s.seat_bet[p]),
                    "insurance": float(s.insurance[p]),
                    "hands": hands,
                }
            )
        acting = phase in (PHASE_BET, PHASE_INSURANCE, PHASE_PLAY, PHASE_SHOWDOWN) and not over
        infinite = self.config.infinite_deck
        return {
            "phase": PHASE_NAMES[phase],
            "round": int(s.round_index),
            "to_act": int(s.current_player) if acting else None,
            "hand_to_act": int(s.cursor) % H if acting and phase == PHASE_PLAY else None,
            "dealer": {
                "cards": [cards.card_to_str(c) for c in shown],
                "up_value": int(hand.card_value(dealer[0])) if dealer else None,
                "hole_revealed": revealed,
                "total": int(hand.best_total(hard, ace)) if revealed else None,
                "soft": bool(hand.is_soft(hard, ace)) if revealed else None,
            },
            "seats": seats,
            "rewards": [float(r) for r in s.rewards],
            "shoe_left": None if infinite else max(int(s.deck.cards.shape[-1]) - int(s.deck.position), 0),
            "running_count": None if infinite else int(s.running_count),
            "over": over,
            "step": int(s.step_count),
        }
