"""Card primitives: encoding, incremental Fisher-Yates draws, stacked decks, conservation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from htjax.core import cards


def test_encoding_round_trip():
    for c in range(52):
        assert cards.parse_card(cards.card_to_str(c)) == c
    assert cards.card_to_str(cards.parse_card("As")) == "As"
    assert cards.parse_card("10h") == cards.parse_card("Th")
    assert int(cards.rank_of(jnp.int8(cards.parse_card("2c")))) == 0
    assert int(cards.suit_of(jnp.int8(cards.parse_card("Ks")))) == 3
    assert int(cards.rank_of(jnp.int8(cards.NO_CARD))) == -1


@pytest.mark.parametrize("bad", ["", "1s", "Ax", "AsK", "Zz"])
def test_parse_card__rejects_bad_text(bad):
    with pytest.raises(ValueError, match="not a card"):
        cards.parse_card(bad)


_draw_many = jax.jit(cards.draw_many)


def test_stacked_deck__deals_in_order_then_the_rest():
    deck = cards.stacked_deck(["As", "Kd", "2c"], num_decks=2)
    deck, dealt = _draw_many(deck, jax.random.bits(jax.random.PRNGKey(0), (104,), jnp.uint32))
    dealt = np.asarray(dealt)
    assert cards.cards_to_str(dealt[:3]) == "As Kd 2c"
    # every card of the two decks exactly twice
    assert np.all(np.bincount(dealt, minlength=52) == 2)
    assert int(cards.remaining(deck)) == 0


def test_stacked_deck__refuses_more_copies_than_the_shoe_holds():
    with pytest.raises(ValueError, match="stacked more than"):
        cards.stacked_deck(["As", "As"], num_decks=1)


def test_draw_from_empty_deck_gives_no_card_and_keeps_deck():
    deck = cards.new_deck(1)
    deck, _ = _draw_many(deck, jnp.zeros(52, jnp.uint32))
    deck2, card = cards.draw(deck, jnp.uint32(7))
    assert int(card) == cards.NO_CARD
    assert int(deck2.position) == 52


def test_reshuffle_restores_a_full_shoe():
    deck = cards.new_deck(6)
    deck, _ = _draw_many(deck, jax.random.bits(jax.random.PRNGKey(1), (200,), jnp.uint32))
    deck = cards.reshuffle(deck)
    assert int(cards.remaining(deck)) == 312
    assert np.all(np.asarray(cards.card_counts(deck.cards)) == 6)


def test_draws_are_uniform():
    """First card of a fresh deck over many keys: chi-square against uniform over 52."""
    keys = jax.random.split(jax.random.PRNGKey(2), 52 * 400)
    first = jax.jit(jax.vmap(lambda k: cards.draw(cards.new_deck(1), jax.random.bits(k, (), jnp.uint32))[1]))(keys)
    counts = np.bincount(np.asarray(first), minlength=52)
    expected = len(keys) / 52
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 90  # 51 dof: p ~ 0.0007


def test_deal_goes_round_the_table():
    deck = cards.stacked_deck(["Ac", "Kc", "Qc", "Jc", "Tc", "9c"])
    _, hands = jax.jit(cards.deal, static_argnums=(2, 3))(deck, jnp.zeros(6, jnp.uint32), 3, 2)
    assert [cards.cards_to_str(h) for h in np.asarray(hands)] == ["Ac Jc", "Kc Tc", "Qc 9c"]


def test_shuffle_keeps_dealt_cards_and_permutes_the_rest():
    deck = cards.new_deck(1)
    deck, dealt = _draw_many(deck, jax.random.bits(jax.random.PRNGKey(3), (5,), jnp.uint32))
    shuffled = cards.shuffle(deck, jax.random.PRNGKey(4))
    assert np.array_equal(np.asarray(shuffled.cards[:5]), np.asarray(dealt))
    assert sorted(np.asarray(shuffled.cards).tolist()) == list(range(52))
    assert not np.array_equal(np.asarray(shuffled.cards[5:]), np.asarray(deck.cards[5:]))


@settings(max_examples=40, deadline=None)
@given(
    num_decks=st.integers(1, 3),
    draws=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=40),
    count=st.integers(0, 40),
)
def test_no_card_is_created_or_lost(num_decks, draws, count):
    deck = cards.new_deck(num_decks)
    bits = jnp.asarray(np.resize(np.asarray(draws, np.uint32), 40))
    deck, dealt = _draw_many(deck, bits, count)
    dealt = np.asarray(dealt)
    assert (dealt >= 0).sum() == min(count, 40)
    undealt = np.asarray(cards.undealt_cards(deck))
    total = np.asarray(cards.card_counts(np.concatenate([dealt, undealt])))
    assert np.all(total == num_decks)
