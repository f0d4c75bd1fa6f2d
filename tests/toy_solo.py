"""A one-seat toy env for adapter tests (the toy envs in ``toy_envs.py`` have two seats)."""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp

from htjax.core import cards
from htjax.core.config import EnvConfig, check_int
from htjax.core.env import Env, State


@dataclasses.dataclass(frozen=True)
class SoloDrawConfig(EnvConfig):
    """Draw cards until you stop; reward = rank of the card held (0..12) / 12 on ``stop``.

    ``peek`` is legal only on the first step (so masks change); ``max_steps`` truncates.
    """

    max_steps: int = 5

    def validate(self) -> None:
        check_int("max_steps", self.max_steps, 1, 50)


@chex.dataclass(frozen=True, kw_only=True, mappable_dataclass=False)
class SoloDrawState(State):
    deck: cards.Deck
    card: jax.Array  # int8[]


class SoloDraw(Env):
    id = "toy_solo_draw"
    version = "v0"
    config_class = SoloDrawConfig
    num_players = 1
    num_actions = 3
    action_labels = ("draw", "stop", "peek")

    def _init(self, key, params):
        deck, card = cards.draw(cards.new_deck(1), jax.random.bits(key, (), jnp.uint32))
        return SoloDrawState(
            current_player=jnp.int32(0),
            observation=jnp.zeros(2, jnp.float32),
            rewards=jnp.zeros(1, jnp.float32),
            terminated=jnp.bool_(False),
            truncated=jnp.bool_(False),
            legal_action_mask=jnp.array([True, True, True]),
            step_count=jnp.int32(0),
            deck=deck,
            card=card,
        )

    def _step(self, state, action, key, params):
        deck, card = cards.draw(state.deck, jax.random.bits(key, (), jnp.uint32))
        drew = action == 0
        stop = action == 1
        card = jnp.where(drew, card, state.card)
        deck = jax.tree_util.tree_map(lambda a, b: jnp.where(drew, a, b), deck, state.deck)
        reward = jnp.where(stop, cards.rank_of(card) / 12.0, 0.0).astype(jnp.float32)
        return state.replace(
            deck=deck,
            card=card,
            rewards=reward[None],
            terminated=stop,
            truncated=~stop & (state.step_count + 1 >= self.config.max_steps),
            legal_action_mask=jnp.array([True, True, False]),
        )

    def _observe(self, state, player, params):
        return jnp.array(
            [cards.rank_of(state.card) / 12.0, state.step_count / self.config.max_steps], jnp.float32
        )
