"""The dealer's play-out: reveal the hole card and draw to 17, from the step's pre-drawn cards.

The step pre-draws the dealer's first ``M_fast`` (five) possible hits after the cards its action
may take; a short ``lax.scan`` plays them out. A dealer still drawing after them (about 2e-5 of
play-outs) continues in a :func:`~htjax.core.branching.rare_cond` branch: it commits the cards
taken so far, pre-draws the remaining ``M - M_fast`` candidates from the committed shoe with the
next words of the step's stream, and scans on, exactly as if all ``M`` had been pre-drawn (see
:mod:`htjax.core.cards`). A batch of worlds runs that branch only on steps where some world
needs it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from htjax.core import cards
from htjax.core.branching import rare_cond
from htjax.core.keys import key_data, random_words
from htjax.envs.blackjack import hand
from htjax.envs.blackjack.config import HAND_STOOD
from htjax.envs.blackjack.rules import Rules
from htjax.envs.blackjack.state import BlackjackState

__all__ = ["dealer_play"]


def dealer_play(rules: Rules, t: BlackjackState, cursor: cards.Cursor, on: jax.Array, key: jax.Array):
    """Where ``on``: reveal the hole card and draw to 17 from the next cards of ``cursor``
    (the dealer draws only while some hand stood, i.e. is left to beat).

    Returns ``(table, shoe after every card the step took)``; ``key`` is the step key (its words
    after the cursor's plan feed the rare long play-out)."""
    M, Mf = rules.M, rules.M_fast
    h17 = rules.config.dealer_hits_soft_17

    def hit(carry, c):
        """One scan step of the play-out over candidate card ``c``."""
        hard, ace, going, m, seen = carry
        hard = hard + jnp.where(going, hand.card_value(c), 0)
        ace = ace | (going & hand.is_ace(c))
        m = m + going.astype(jnp.int32)
        seen = seen + jnp.where(going, rules.count(c), 0)
        return (hard, ace, going & hand.dealer_hits(hard, ace, h17), m, seen), going

    def done(carry, rest, deck, plan, taken, key):
        """The common branch: the pre-drawn hits sufficed; commit what the step took."""
        return carry, rest, cards.commit(deck, plan, taken + carry[3])

    def tail(carry, rest, deck, plan, taken, key):
        """The rare branch: every pre-drawn hit was taken and the dealer still draws."""
        used = taken + Mf
        after = cards.commit(deck, plan, used)
        more = cards.predraw(after, random_words(key, M - Mf, start=used))
        before = carry[3]
        carry, drawn = jax.lax.scan(hit, carry, more.cards)
        rest = jnp.where(drawn, more.cards, rest)
        return carry, rest, cards.commit(after, more, carry[3] - before)

    candidates = cursor.peek(Mf)
    live = jnp.any(t.hand_status == HAND_STOOD)
    # a scan (not an unrolled chain) so the result is computed once, not re-fused into
    # every consumer
    start = (
        t.dealer_hard,
        t.dealer_ace,
        on & live & hand.dealer_hits(t.dealer_hard, t.dealer_ace, h17),
        jnp.int32(0),
        jnp.int32(0),
    )
    carry, drawn = jax.lax.scan(hit, start, candidates)
    first = jnp.where(drawn, candidates, t.dealer_cards[2 : 2 + Mf])
    rest = t.dealer_cards[2 + Mf :]
    taken = jnp.asarray(cursor.taken, jnp.int32)
    operands = (carry, rest, t.deck, cursor.plan, taken, key_data(key))
    if Mf == M:  # every possible hit was pre-drawn: no tail to branch to
        carry, rest, deck = done(*operands)
    else:
        carry, rest, deck = rare_cond(carry[2], tail, done, *operands)
    hard, ace, _, m, seen = carry
    seen = seen + jnp.where(on & ~t.dealer_revealed, rules.count(t.dealer_cards[1]), 0)
    t = t.replace(
        dealer_cards=jnp.concatenate([t.dealer_cards[:2], first, rest]),
        dealer_size=t.dealer_size + m,
        dealer_hard=hard,
        dealer_ace=ace,
        dealer_revealed=t.dealer_revealed | on,
        running_count=t.running_count + seen,
    )
    return t, deck
