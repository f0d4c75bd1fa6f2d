"""Illegal actions never pay in hold'em: the offender forfeits its whole stack at hand start.

Hand-built forfeits (exact chips, folded chips, odd chips), an unmasked policy that escapes bad
hands with an illegal action losing to the same policy that folds or checks instead, and the
property "the illegal-action return is at most the return of every sampled legal continuation"
from random reachable states.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from holdem_helpers import compiled, make, play, start, table

import htjax
from htjax.envs import poker_eval
from htjax.envs.holdem import rules as R

KEY = jax.random.PRNGKey(3)


def _illegal_id(state) -> int:
    """The first masked action id, or an out-of-range one (illegal too, inside jit)."""
    masked = np.flatnonzero(~np.asarray(state.legal_action_mask))
    return int(masked[0]) if masked.size else state.legal_action_mask.shape[-1]


def _step(env, state, action):
    return compiled(env)[1](state, np.int32(action), htjax.step_key(KEY, state.step_count))


def test_offender_forfeits_its_whole_stack_to_the_live_seats_and_folded_chips_go_with_it():
    env = make(num_players=3)
    s = start(env, stacks=[100, 80, 60], button=0)
    s = play(env, s, "raise 1 pot", "fold")  # button raises to 7, the SB folds its 1 chip
    assert int(s.current_player) == 2
    out = _step(env, s, _illegal_id(s))
    assert bool(out.terminated)
    # seat 2 (60 chips at hand start) forfeits them all; seat 0 gets them and the folded chip
    np.testing.assert_allclose(np.asarray(out.rewards), [61 / 2, -1 / 2, -60 / 2 - 1.0])
    np.testing.assert_array_equal(np.asarray(R.forfeit(out.table, jnp.arange(3) == 2)), [61, -1, -60])
    assert (table(out).stack == table(s).stack).all()  # no chip moved on the table


def test_forfeit_splits_among_several_live_seats_odd_chips_to_the_first_left_of_the_button():
    env = make(num_players=4)
    s = start(env, stacks=[100, 100, 100, 51], button=0)  # seat 3 (UTG) acts first
    out = _step(env, s, _illegal_id(s))
    # 51 chips among seats 0, 1, 2: 17 each; no odd chip. Seat 1 then 2 then 0 left of the button
    np.testing.assert_array_equal(np.asarray(R.forfeit(s.table, jnp.arange(4) == 3)), [17, 17, 17, -51])
    np.testing.assert_allclose(np.asarray(out.rewards), [8.5, 8.5, 8.5, -25.5 - 1.0])
    s = play(env, s, "call")  # seat 0 (button) to act, 100 chips
    out = _step(env, s, _illegal_id(s))
    # 100 chips among seats 1, 2, 3: 33 each, the odd chip to seat 1 (first left of the button)
    np.testing.assert_array_equal(np.asarray(R.forfeit(s.table, jnp.arange(4) == 0)), [-100, 34, 33, 33])
    assert abs(float(np.asarray(out.rewards).sum()) + 1.0) < 1e-5  # zero-sum but for the penalty


# ---------------------------------------------------------------- a policy that escapes bad hands
def _bad_river(observation) -> jax.Array:
    """On the river with no pair or better (read from the seat's own observation)."""
    hole = jnp.nonzero(observation[0:52], size=2, fill_value=0)[0]
    board = jnp.nonzero(observation[52:104], size=5, fill_value=0)[0]
    value = poker_eval.evaluate7(jnp.concatenate([hole, board]).astype(jnp.int8))
    return (observation[104 + R.RIVER] > 0) & (poker_eval.hand_category(value) == 0)


def _aggressor(escape_illegally: bool):
    """Raises a pot on every street until the river; there, with a bad hand, either plays the
    first masked action (the escape) or folds (checks when nothing is to call)."""

    def policy(params, observation, mask, key):
        pot_raise = 5  # "raise 1 pot" in the full menu
        value_line = jnp.where(mask[pot_raise], pot_raise, 1)
        fold_or_check = jnp.where(mask[0], 0, 1)
        escape = jnp.argmin(mask) if escape_illegally else fold_or_check
        escape = jnp.where(jnp.all(mask), fold_or_check, escape)  # nothing is illegal: fold/check
        return jnp.where(_bad_river(observation), escape, value_line).astype(jnp.int32)

    return policy


def test_escaping_bad_hands_by_illegal_actions_does_worse_than_folding_them():
    from htjax.agents.holdem import call_station_policy, heads_up_match

    env = make()
    legal = heads_up_match(env, _aggressor(False), None, call_station_policy, hands=512, num_envs=128)
    illegal = heads_up_match(env, _aggressor(True), None, call_station_policy, hands=512, num_envs=128)
    # same cards in both matches (same seed); every escape costs the whole 50-bb stack and more
    assert illegal.bb_per_100 < legal.bb_per_100 - 500, (illegal.bb_per_100, legal.bb_per_100)
    escapes = np.isclose(illegal.results, -51.0)
    assert escapes.sum() > 20  # the escape was taken, and cost the stack plus the penalty
    assert np.all(illegal.results >= -51.0 - 1e-4)


# ---------------------------------------------------------------- the property, from random states
MAX_STEPS = 120


@functools.cache
def _programs(env):
    def play_out(state, first, key):
        s = env.step(state, first, jax.random.fold_in(key, 0))

        def body(carry):
            s, total, t = carry
            k = jax.random.fold_in(key, t)
            a = jax.random.categorical(k, jnp.where(s.legal_action_mask, 0.0, -jnp.inf)).astype(jnp.int32)
            s = env.step(s, a, jax.random.fold_in(k, 1))
            return s, total + s.rewards, t + 1

        s, total, _t = jax.lax.while_loop(
            lambda c: ~c[0].terminated & (c[2] < MAX_STEPS), body, (s, s.rewards, 1)
        )
        return total, s.terminated

    continuations = jax.jit(jax.vmap(play_out, in_axes=(None, 0, 0)))
    illegal = jax.jit(lambda s, a: env.step(s, a, jax.random.PRNGKey(0)).rewards)
    return continuations, illegal


def _continuations_padded(continuations, env, state, firsts, keys):
    """``continuations`` on ``firsts`` and ``keys`` padded to ``8 * num_actions`` rows (copies of
    row 0), so one compiled batch serves every state whatever its number of legal actions;
    returns the real rows only (numpy)."""
    pad = 8 * env.num_actions - firsts.size
    firsts = np.concatenate([firsts, np.repeat(firsts[:1], pad)])
    keys = jnp.concatenate([keys, jnp.repeat(keys[:1], pad, axis=0)])
    totals, done = continuations(state, firsts, keys)
    n = firsts.size - pad
    return np.asarray(totals)[:n], np.asarray(done)[:n]


def _reachable_states(env, count, seed):
    rng = np.random.default_rng(seed)
    n = env.num_players
    out = []
    while len(out) < count:
        stacks = rng.integers(3, 300, n) * (rng.random(n) < 0.8)
        if (stacks > 0).sum() < 2:
            continue
        s = start(
            env, stacks=stacks, button=int(rng.integers(n)), key=jax.random.PRNGKey(int(rng.integers(2**31)))
        )
        for _ in range(int(rng.integers(0, 8))):
            if bool(s.terminated):
                break
            s = _step(env, s, int(rng.choice(np.flatnonzero(np.asarray(s.legal_action_mask)))))
        if not bool(s.terminated):
            out.append(s)
    return out


def test_illegal_return_is_at_most_every_sampled_legal_continuation():
    for env, count in ((make(num_players=6), 10), (make(), 6)):
        continuations, illegal = _programs(env)
        for i, s in enumerate(_reachable_states(env, count, seed=len(env.action_labels) + env.num_players)):
            seat = int(s.current_player)
            bad = [_illegal_id(s)] if not np.asarray(s.legal_action_mask).all() else []
            for action in bad + [env.num_actions]:  # a masked id and an out-of-range one
                ret = np.asarray(illegal(s, np.int32(action)))
                assert ret[seat] == np.float32(-table(s).start_stack[seat] / env.config.big_blind - 1.0)
                legal = np.flatnonzero(np.asarray(s.legal_action_mask))
                firsts = np.repeat(legal, 8).astype(np.int32)
                keys = jax.random.split(jax.random.PRNGKey(i), firsts.size)
                totals, done = _continuations_padded(continuations, env, s, firsts, keys)
                assert bool(done.all())
                worst = float(totals[:, seat].min())
                assert ret[seat] <= worst, (i, action, ret[seat], worst)
