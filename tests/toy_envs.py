"""Small envs used only to test the contract itself (games have their own tests)."""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp

from htjax.core import cards
from htjax.core.config import EnvConfig, check_float, check_int
from htjax.core.env import SIMULTANEOUS, Env, State


@dataclasses.dataclass(frozen=True)
class HighCardConfig(EnvConfig):
    """Two seats draw alternately; a seat may ``draw`` (replace its card) or ``stand``.

    A seat holding a queen or better must stand (so the mask is sometimes partial).

    The episode ends when both stood or after ``max_draws`` draws; the higher rank wins
    ``stake`` from the other (a rule parameter: it may differ per world).
    """

    PARAM_FIELDS = ("stake",)

    max_draws: int = 4
    stake: float = 1.0

    def validate(self) -> None:
        check_int("max_draws", self.max_draws, 1, 40)
        check_float("stake", self.stake, 0.0, 1000.0)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class HighCardState(State):
    deck: cards.Deck
    hands: jax.Array  # int8[2]
    stood: jax.Array  # bool[2]
    draws: jax.Array  # int32[]


class HighCard(Env):
    id = "toy_high_card"
    version = "v0"
    zero_sum = True
    config_class = HighCardConfig

    num_players = 2
    num_actions = 2
    action_labels = ("draw", "stand")

    def _init(self, key, params):
        deck = cards.new_deck(1)
        deck, hands = cards.draw_many(deck, jax.random.bits(key, (2,), jnp.uint32))
        return HighCardState(
            current_player=jnp.int32(0),
            observation=jnp.zeros(3, jnp.float32),
            rewards=jnp.zeros(2, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=self._mask(hands, 0),
            step_count=jnp.int32(0),
            deck=deck,
            hands=hands,
            stood=jnp.zeros(2, jnp.bool_),
            draws=jnp.int32(0),
        )

    def _step(self, state, action, key, params):
        p = state.current_player
        deck, card = cards.draw(state.deck, jax.random.bits(key, (), jnp.uint32))
        drew = action == 0
        deck = jax.tree_util.tree_map(lambda a, b: jnp.where(drew, a, b), deck, state.deck)
        hands = jnp.where(drew, state.hands.at[p].set(card), state.hands)
        stood = state.stood.at[p].set(state.stood[p] | ~drew)
        draws = state.draws + drew.astype(jnp.int32)
        over = jnp.all(stood) | (draws >= self.config.max_draws)
        r = cards.rank_of(hands)
        sign = jnp.sign(r[0] - r[1]).astype(jnp.float32)
        rewards = jnp.where(over, jnp.array([1.0, -1.0]) * sign * params["stake"], 0.0)
        nxt = jnp.where(stood[1 - p], p, 1 - p).astype(jnp.int32)
        return state.replace(
            deck=deck,
            hands=hands,
            stood=stood,
            draws=draws,
            rewards=rewards,
            terminated=over,
            current_player=nxt,
            legal_action_mask=self._mask(hands, nxt),
        )

    @staticmethod
    def _mask(hands, seat):
        # a seat holding a queen or better must stand
        return jnp.array([cards.rank_of(hands[seat]) < 10, True])

    def _observe(self, state, player, params):
        own = state.hands[player]
        # multiply by constants: a division may round differently eagerly and under jit
        scale = jnp.array([1 / 12, 1.0, 1 / self.config.max_draws], jnp.float32)
        return jnp.array([cards.rank_of(own), state.stood[player], state.draws], jnp.float32) * scale

    def _forfeit(self, state, offenders, params):
        # an offender loses the stake to the other seat (zero-sum)
        lost = offenders.astype(jnp.float32) * params["stake"]
        return lost[::-1] - lost


@dataclasses.dataclass(frozen=True)
class MatchingConfig(EnvConfig):
    rounds: int = 3

    def validate(self) -> None:
        check_int("rounds", self.rounds, 1, 100)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class MatchingState(State):
    last: jax.Array


class MatchingPennies(Env):
    """Simultaneous: seat 0 wins +1 when actions match; action 2 is never legal."""

    id = "toy_matching_pennies"
    version = "v0"
    zero_sum = True
    config_class = MatchingConfig
    simultaneous = True
    num_players = 2
    num_actions = 3
    action_labels = ("heads", "tails", "never")

    def _init(self, key, params):
        mask = jnp.array([[True, True, False]] * 2)
        return MatchingState(
            current_player=jnp.int32(SIMULTANEOUS),
            observation=jnp.zeros((2, 2), jnp.float32),
            rewards=jnp.zeros(2, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=mask,
            step_count=jnp.int32(0),
            last=jnp.zeros(2, jnp.int32),
        )

    def _step(self, state, action, key, params):
        win = jnp.where(action[0] == action[1], 1.0, -1.0)
        return state.replace(
            rewards=jnp.array([win, -win], jnp.float32),
            last=action,
            truncated=state.step_count + 1 >= self.config.rounds,
        )

    def _observe(self, state, player, params):
        return jnp.stack([state.last[player], state.last[1 - player]]).astype(jnp.float32)

    def _forfeit(self, state, offenders, params):
        # an offender forfeits every round left (1 each) to the other seat; both offending: a wash
        left = (self.config.rounds - state.step_count).astype(jnp.float32)
        lost = offenders.astype(jnp.float32) * left
        return lost[::-1] - lost
