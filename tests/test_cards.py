"""Card primitives: encoding, incremental Fisher-Yates draws, stacked decks, conservation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from htjax.core import cards
from htjax.core.errors import InvalidArgumentError


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
    with pytest.raises(InvalidArgumentError, match="not a card"):
        cards.parse_card(bad)
    with pytest.raises(ValueError):  # htjax errors about values are ValueErrors too
        cards.parse_card(bad)


def test_bad_card_ids_raise_htjax_errors():
    with pytest.raises(InvalidArgumentError, match="not a card id"):
        cards.card_to_str(52)
    with pytest.raises(InvalidArgumentError, match="not a card id"):
        cards.stacked_deck([60])


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
    with pytest.raises(InvalidArgumentError, match="stacked more than"):
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
    first = jax.jit(jax.vmap(lambda k: cards.draw(cards.new_deck(1), jax.random.bits(k, (), jnp.uint32))[1]))(
        keys
    )
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


# ----------------------------------------------------------------------------- pre-drawn engine
def _plan_and_reference(deck, bits, used):
    """The pre-drawn plan committed after 0..n draws, and draw_many card by card."""
    plan = cards.predraw(deck, bits)
    batched = jax.vmap(lambda u: cards.commit(deck, plan, u).cards)(used)
    every = cards.draw_many(deck, bits)[1]
    sequential = jax.vmap(lambda u: cards.draw_many(deck, bits, u)[0].cards)(used)
    return plan.cards, batched, every, sequential


_plan_and_reference_jit = jax.jit(_plan_and_reference)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    position=st.integers(0, 52),
    stacked=st.integers(0, 52),
    collide=st.booleans(),
)
def test_predraw_and_commit_equal_card_by_card_fisher_yates(seed, position, stacked, collide):
    """The pre-draw (all swaps resolved at once) deals the same cards and leaves the same shoe
    as drawing card by card, including colliding swap targets and the shoe's end."""
    rng = np.random.default_rng(seed)
    deck = cards.Deck(
        cards=jnp.asarray(rng.permutation(52), jnp.int8),
        position=jnp.int32(position),
        stacked=jnp.int32(stacked if seed % 3 == 0 else 0),
    )
    high = 4 if collide else 2**32  # small offsets make draws aim at the same slots
    bits = jnp.asarray(rng.integers(0, high, 12, dtype=np.uint64).astype(np.uint32))
    used = jnp.arange(13, dtype=jnp.int32)  # the shoe after committing 0, 1, ..., 12 draws
    drawn, shoe, want_drawn, want_shoe = _plan_and_reference_jit(deck, bits, used)
    np.testing.assert_array_equal(drawn, want_drawn)
    np.testing.assert_array_equal(shoe, want_shoe)


def test_cursor__takes_cards_in_order_and_commits_what_it_took():
    deck = cards.stacked_deck(["As", "Kd", "7c", "2h", "9s", "3d", "5c"])
    plan = cards.predraw(deck, jnp.zeros(7, jnp.uint32))
    cur = cards.Cursor(plan)
    card, cur = cur.next()
    two, cur = cur.take(2)
    assert cards.cards_to_str([card]) == "As" and cards.cards_to_str(two) == "Kd 7c" and cur.taken == 3
    # a traced count: the cursor keeps every position it may be at, and reads windows from it
    skip = jax.jit(lambda n: cur.skip(n, most=2).peek(2))
    assert [cards.cards_to_str(skip(jnp.int32(n))) for n in range(3)] == ["2h 9s", "9s 3d", "3d 5c"]
    # one card to each seat in the round, in seat order
    dealt, after = cur.deal_to(jnp.array([True, False, True]))
    assert cards.cards_to_str(np.asarray(dealt)[[0, 2]]) == "2h 9s" and int(after.taken) == 5
    out = after.commit(deck)
    want = cards.draw_many(deck, jnp.zeros(7, jnp.uint32), 5)[0]
    assert int(out.position) == 5 and np.array_equal(np.asarray(out.cards), np.asarray(want.cards))
    # choose between two continuations; past the plan's end every card is NO_CARD
    chosen = cards.Cursor.choose(jnp.bool_(False), after, cur)
    assert int(chosen.taken) == 3 and chosen.could_be == (3, 4, 5, 6)
    assert np.asarray(after.peek(4)).tolist()[2:] == [cards.NO_CARD, cards.NO_CARD]


def test_cursor__many_possible_positions_read_by_gather_the_same_cards():
    deck = cards.new_deck(1)
    plan = cards.predraw(deck, jax.random.bits(jax.random.PRNGKey(5), (12,), jnp.uint32))
    cur = cards.Cursor(plan).skip(jnp.int32(3), most=8)  # 9 possible positions: a gather
    assert len(cur.could_be) > 4
    np.testing.assert_array_equal(np.asarray(cur.peek(4)), np.asarray(plan.cards[3:7]))


def test_infinite_deck__draws_with_replacement_and_commits_only_the_position():
    deck = cards.infinite_deck()
    assert deck.infinite
    bits = jnp.arange(60, 66, dtype=jnp.uint32)
    plan = cards.predraw(deck, bits)
    np.testing.assert_array_equal(np.asarray(plan.cards), np.arange(60, 66) % 52)
    out = cards.Cursor(plan).skip(jnp.int32(4), most=6).commit(deck)
    assert int(out.position) == 4 and out.cards.shape == (0,)
    assert int(cards.draw(deck, jnp.uint32(53))[1]) == 1
