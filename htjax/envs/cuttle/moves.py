"""Cuttle's moves: :func:`act` applies one legal action to a :class:`~htjax.envs.cuttle.rules.Board`.

One ``lax.switch`` over the move kind picks a small pure helper; a one-off that survives the
counter phase resolves through a second switch over its rank (:func:`resolve_effect`). Each
helper returns the board and whether the turn is over; :func:`act` then passes the turn, counts
passes and checks for a winner. No randomness: the deck was shuffled at the deal.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from htjax.envs.cuttle import actions as A
from htjax.envs.cuttle import rules as R
from htjax.envs.cuttle.config import Variant

__all__ = ["act", "draw_cards", "resolve_effect"]

IDS = jnp.asarray(R.IDS)
PASSES_TO_DRAW = 3


def _set(arr: jax.Array, index, value) -> jax.Array:
    """``arr.at[index].set(value)`` as an elementwise select (a scatter is a kernel of its own,
    and compile time on XLA:CPU grows with the kernels)."""
    return jnp.where(jnp.arange(arr.shape[0]) == index, value, arr)


def _put(b: R.Board, card, zone, owner) -> R.Board:
    return b.replace(zone=_set(b.zone, card, zone), owner=_set(b.owner, card, owner))


def _nxt(rules: Variant, seat):
    return (seat + 1) % rules.num_players


def _attached_to(rules: Variant, b: R.Board, gone: jax.Array) -> jax.Array:
    """``bool[54]``: the cards stacked on the cards of ``gone``, directly or on each other (a
    jack, a joker on that jack, the other joker on that joker)."""
    on = jnp.zeros(R.N, bool)
    base = jnp.clip(b.attach_to, 0, R.N - 1)
    for _ in range(R._depth(rules)):
        on = on | ((b.zone == R.ATTACHED) & (b.attach_to >= 0) & (gone | on)[base])
    return on


def _scrap_with_attached(rules: Variant, b: R.Board, card) -> R.Board:
    """``card`` and every jack or joker stacked on it go to the scrap pile."""
    if R._depth(rules) == 1:
        under = (b.zone == R.ATTACHED) & (b.attach_to == card)
    else:
        under = _attached_to(rules, b, IDS == card)
    zone = jnp.where(under | (IDS == card), R.SCRAP, b.zone)
    return b.replace(zone=zone)


def draw_cards(rules: Variant, b: R.Board, seat, count) -> R.Board:
    """``seat`` draws the top ``count`` (traced) cards of the deck: elementwise, no loop."""
    take = (b.slot >= b.pos) & (b.slot < b.pos + count) & (b.zone == R.DECK)
    return b.replace(
        zone=jnp.where(take, R.HAND, b.zone),
        owner=jnp.where(take, seat, b.owner),
        pos=b.pos + jnp.sum(take).astype(jnp.int32),
    )


def _draw_up_to(rules: Variant, b: R.Board, seat, count) -> R.Board:
    """Draw ``count`` cards, fewer if the hand limit or the deck stops it."""
    hand = jnp.sum((b.zone == R.HAND) & (b.owner == seat))
    n = jnp.clip(jnp.minimum(count, rules.hand_limit - hand), 0, rules.num_cards - b.pos)
    return draw_cards(rules, b, seat, n)


def _take_revealed(rules: Variant, b: R.Board, card) -> R.Board:
    """A 7's chosen card leaves the top of the deck; the other revealed card goes back on top."""
    place = jnp.sum(jnp.where(IDS == card, b.slot, 0))  # pos or pos + 1
    slot = jnp.where(IDS == card, b.pos, jnp.where(b.slot == b.pos, place, b.slot))  # swap to the top
    zone = jnp.where(b.zone == R.REVEALED, R.DECK, b.zone)
    return b.replace(slot=slot, pos=b.pos + 1, zone=zone)


# ---------------------------------------------------------------------------- one-off effects
# each (rules, board) -> (board, turn over); the stack is already in the scrap pile


def _ace(rules, b):
    points = b.zone == R.POINT
    if R._depth(rules) == 1:
        gone = points | ((b.zone == R.ATTACHED) & (R.VALUE == A.JACK))
    else:  # the jacks on the point cards, and the jokers on those jacks
        gone = points | _attached_to(rules, b, points)
    return b.replace(zone=jnp.where(gone, R.SCRAP, b.zone)), jnp.bool_(True)


def _two(rules, b):
    return _scrap_with_attached(rules, b, b.target), jnp.bool_(True)


def _three(rules, b):
    takeable = (b.zone == R.SCRAP) & (IDS != b.pending)
    if rules.strict_oneoffs:  # no 3 for a 3
        takeable = takeable & (R.VALUE != A.THREE)
    some = jnp.any(takeable)
    return b.replace(phase=jnp.where(some, R.CHOOSE3, b.phase), actor=b.turn), ~some


def _four(rules, b):
    victim = b.target
    n = jnp.minimum(2, jnp.sum((b.zone == R.HAND) & (b.owner == victim))).astype(jnp.int32)
    return b.replace(phase=jnp.where(n > 0, R.DISCARD4, b.phase), actor=victim, discards=n), n == 0


def _five(rules, b):
    if not rules.five_discards:
        return _draw_up_to(rules, b, b.turn, rules.five_draws), jnp.bool_(True)
    empty = jnp.sum((b.zone == R.HAND) & (b.owner == b.turn)) == 0
    drawn = _draw_up_to(rules, b, b.turn, rules.five_draws)
    wait = b.replace(phase=R.DISCARD5, actor=b.turn)
    return jax.tree_util.tree_map(lambda x, y: jnp.where(empty, x, y), drawn, wait), empty


def _six(rules, b):
    gone = (b.zone == R.ROYAL) | (b.zone == R.ATTACHED)
    return b.replace(zone=jnp.where(gone, R.SCRAP, b.zone)), jnp.bool_(True)


def _seven(rules, b):
    shown = (b.zone == R.DECK) & (b.slot >= b.pos) & (b.slot < b.pos + rules.seven_reveals)
    some = jnp.any(shown)
    zone = jnp.where(shown, R.REVEALED, b.zone)
    return b.replace(zone=zone, phase=jnp.where(some, R.SEVEN, b.phase), actor=b.turn), ~some


def _nine(rules, b):
    t = b.target
    if R._depth(rules) == 1:
        under = (b.zone == R.ATTACHED) & (b.attach_to == t)
    else:
        under = _attached_to(rules, b, IDS == t)
    zone = _set(jnp.where(under, R.SCRAP, b.zone), t, R.HAND)
    owner = b.owner[t]
    frozen = _set(b.frozen, owner, t) if rules.nine_freezes else b.frozen
    return b.replace(zone=zone, attach_to=_set(b.attach_to, t, -1), frozen=frozen), jnp.bool_(True)


_EFFECTS = (_ace, _two, _three, _four, _five, _six, _seven, _nine)
_BRANCH_OF_VALUE = np.zeros(15, np.int32)
for _branch, _value in enumerate((A.ACE, A.TWO, A.THREE, A.FOUR, A.FIVE, A.SIX, A.SEVEN, A.NINE)):
    _BRANCH_OF_VALUE[_value] = _branch


def resolve_effect(rules: Variant, b: R.Board):
    """Apply the pending one-off's effect (it was not countered): ``(board, turn over)``."""
    branch = jnp.asarray(_BRANCH_OF_VALUE)[R.VALUE[jnp.maximum(b.pending, 0)]]
    return jax.lax.switch(branch, [lambda bb, fn=fn: fn(rules, bb) for fn in _EFFECTS], b)


# ---------------------------------------------------------------------------- moves
# each (rules, board, card, target, seat offset) -> (board, turn over)


def _draw(rules, b, c, t, k):
    return draw_cards(rules, b, b.actor, 1), jnp.bool_(True)


def _pass(rules, b, c, t, k):
    return b.replace(passes=b.passes + 1), jnp.bool_(True)


def _resolve(rules, b, c, t, k):
    declines = b.declines + 1
    nxt = _nxt(rules, b.actor)
    nxt = jnp.where(nxt == b.last, _nxt(rules, nxt), nxt)
    waiting = b.replace(declines=declines, actor=nxt)
    cleared = b.replace(zone=jnp.where(b.zone == R.STACK, R.SCRAP, b.zone), declines=declines, phase=R.MAIN)
    effect, effect_done = resolve_effect(rules, cleared)
    stands = b.counters % 2 == 0
    resolved = jax.tree_util.tree_map(lambda x, y: jnp.where(stands, x, y), effect, cleared)
    done_now = declines >= rules.num_players - 1
    out = jax.tree_util.tree_map(lambda x, y: jnp.where(done_now, x, y), resolved, waiting)
    return out, done_now & (effect_done | ~stands)


def _points(rules, b, c, t, k):
    return _put(b, c, R.POINT, b.actor), jnp.bool_(True)


def _scuttle(rules, b, c, t, k):
    return _scrap_with_attached(rules, _put(b, c, R.SCRAP, b.actor), t), jnp.bool_(True)


def _oneoff(rules, b, c, t, k):
    target = jnp.where(k > 0, (b.actor + k) % rules.num_players, t)
    b = _put(b, c, R.STACK, b.actor)
    b = b.replace(
        pending=c,
        target=target,
        last=b.actor,
        counters=0,
        declines=0,
        phase=R.COUNTER,
        actor=_nxt(rules, b.actor),
    )
    return b, jnp.bool_(False)


def _royal(rules, b, c, t, k):
    return _put(b, c, R.ROYAL, b.actor), jnp.bool_(True)


def _attach(rules, b, c, t, k):
    b = _put(b, c, R.ATTACHED, b.actor)
    return b.replace(attach_to=_set(b.attach_to, c, t), stamp=_set(b.stamp, c, b.clock), clock=b.clock + 1), (
        jnp.bool_(True)
    )


def _counter(rules, b, c, t, k):
    b = _put(b, c, R.STACK, b.actor)
    return b.replace(
        counters=b.counters + 1, last=b.actor, declines=0, actor=_nxt(rules, b.actor)
    ), jnp.bool_(False)


def _discard(rules, b, c, t, k):
    was = b.phase
    b = _put(b, c, R.SCRAP, b.owner[c])
    left = b.discards - (was == R.DISCARD4).astype(jnp.int32)
    hand = jnp.sum((b.zone == R.HAND) & (b.owner == b.actor))
    four_done = (left <= 0) | (hand == 0)
    drawn = _draw_up_to(rules, b, b.turn, rules.five_draws)
    b = jax.tree_util.tree_map(
        lambda x, y: jnp.where(was == R.DISCARD5, x, y), drawn, b.replace(discards=left)
    )
    return b, jnp.where(was == R.DISCARD4, four_done, True)


def _retrieve(rules, b, c, t, k):
    return _put(b, c, R.HAND, b.turn), jnp.bool_(True)


_MOVES = (_draw, _pass, _resolve, _points, _scuttle, _oneoff, _royal, _attach, _counter, _discard, _retrieve)
_TAKES_CARD = np.isin(np.arange(len(_MOVES)), (*A.PLAY_KINDS, A.DISCARD))


def act(rules: Variant, b: R.Board, action: jax.Array) -> R.Board:
    """The board after the actor's legal ``action`` (``int32[]``)."""
    kind = jnp.asarray(A.KIND)[action]
    card = jnp.asarray(A.CARD)[action]
    target = jnp.asarray(A.TARGET)[action]
    offset = jnp.asarray(A.SEAT)[action]
    from_seven = (b.phase == R.SEVEN) & jnp.asarray(_TAKES_CARD)[kind]
    taken = _take_revealed(rules, b, card)
    b = jax.tree_util.tree_map(lambda x, y: jnp.where(from_seven, x, y), taken, b)
    was_main = b.phase == R.MAIN
    branches = [lambda bb, fn=fn: fn(rules, bb, card, target, offset) for fn in _MOVES]
    b, turn_over = jax.lax.switch(kind, branches, b)
    b = b.replace(passes=jnp.where(was_main & (kind != A.PASS), 0, b.passes))
    f = R.facts(rules, b)
    win = R.winner(rules, b, f)
    drawn_game = b.passes >= PASSES_TO_DRAW
    # the turn passes: the next seat acts in its main phase, and this seat's frozen card thaws
    nxt = _nxt(rules, b.turn)
    passed = b.replace(frozen=_set(b.frozen, b.turn, -1), turn=nxt, actor=nxt, phase=R.MAIN)
    b = jax.tree_util.tree_map(lambda x, y: jnp.where(turn_over, x, y), passed, b)
    return b.replace(winner=win, over=(win >= 0) | drawn_game)
