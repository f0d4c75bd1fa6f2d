"""Replay equivalence with an independent implementation: PettingZoo's ``hanabi_v5``
(OpenSpiel's C++ Hanabi, the Hanabi Learning Environment's rules and canonical encoder).

Each game is played in htjax first (random legal moves, or a "seer" policy that plays cards it
knows fit, so games also reach the end of the deck, completed 5s and full token counts); then the
reference is dealt the same cards in the same order (``deck.cards[:position]``) and given the
same moves. At every step the seat to act, the legal moves, every seat's observation vector,
the information tokens, the lives, the score and the rewards must agree, and so must the end.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hanabi_reference import Reference  # needs open-spiel and shimmy (the test extra)

import htjax
from htjax.envs.hanabi import rules as R

GAMES_PER_SEATS = {2: 60, 3: 50, 4: 50, 5: 50}  # 210 games


class Programs:
    """One env's jitted programs, shared by all of a seat count's games: a game costs one call
    per step (the step and every seat's observation together), read on the host in one copy."""

    def __init__(self, num_players: int):
        self.env = env = htjax.make("hanabi", num_players=num_players)
        seats = jnp.arange(num_players)

        def observe_all(s):
            return jax.vmap(lambda p: env.observe(s, p))(seats)

        def start(key):
            s = env.init(key)
            return s, observe_all(s)

        def step(s, a, key, t):
            s = env.step(s, a, htjax.step_key(key, t))
            return s, observe_all(s)

        self.start, self.step = jax.jit(start), jax.jit(step)


@pytest.fixture(scope="module", params=sorted(GAMES_PER_SEATS), ids=lambda n: f"{n}p")
def programs(request):
    return Programs(request.param)


def _seer_action(env, state, rng) -> int:
    """Play a card that fits (the policy sees its own cards), else a random non-play move."""
    b = state.board
    mask = state.legal_action_mask
    me, h = int(b.to_act), env.hand_size
    for slot in range(h):
        card = int(b.hands[me, slot])
        if card >= 0 and b.fireworks[card // 5] == card % 5 and rng.random() < 0.9:
            return h + slot
    others = [a for a in np.flatnonzero(mask) if not h <= a < 2 * h]
    return int(rng.choice(others if others and rng.random() < 0.97 else np.flatnonzero(mask)))


def _play(p: Programs, seed: int):
    """One game in htjax: host copies of every state and of every seat's observation of it."""
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    seer = seed % 2 == 1
    states, views, actions = [], [], []
    state, view = jax.device_get(p.start(key))
    while True:
        states.append(state)
        views.append(view)
        if bool(state.terminated):
            return states, views, actions
        a = (
            _seer_action(p.env, state, rng)
            if seer
            else int(rng.choice(np.flatnonzero(state.legal_action_mask)))
        )
        actions.append(a)
        state, view = jax.device_get(p.step(state, np.int32(a), key, np.int32(len(actions) - 1)))


def _compare(p: Programs, seed: int, seen: dict) -> None:
    env = p.env
    states, views, actions = _play(p, seed)
    final = states[-1].board
    order = np.asarray(final.deck.cards)[: int(final.deck.position)]
    ref = Reference(env.num_players, order)
    for t, a in enumerate(actions):
        s = states[t]
        where = f"{env.num_players}p seed {seed} step {t}"
        seat = int(s.current_player)
        assert ref.current_player() == seat, where
        for k in range(env.num_players):
            view, mask = ref.observe(k)
            np.testing.assert_array_equal(views[t][k], view, err_msg=f"{where} seat {k}")
            if k == seat:
                np.testing.assert_array_equal(s.legal_action_mask, mask == 1, where)
        b = s.board
        assert ref.tokens() == (int(b.info_tokens), int(b.life_tokens), int(R.score(b))), where
        rewards = ref.step(int(a))
        np.testing.assert_array_equal(rewards, states[t + 1].rewards, f"{where} rewards")
        assert ref.terminal() == bool(states[t + 1].terminated), where
    b = states[-1].board
    assert ref.tokens() == (int(b.info_tokens), int(b.life_tokens), int(R.score(b)))
    seen["shimmy truncated"] += ref.direct
    seen["games"] += 1
    seen["steps"] += len(actions)
    seen["deck out"] += int(b.deck.position) == R.DECK_SIZE
    seen["lives out"] += int(b.life_tokens) == 0
    seen["max score"] = max(seen["max score"], int(R.score(b)))


def test_hanabi__replays_pettingzoo_hanabi_v5_move_for_move(programs):
    seen = {"shimmy truncated": 0, "games": 0, "steps": 0, "deck out": 0, "lives out": 0, "max score": 0}
    n = programs.env.num_players
    for seed in range(GAMES_PER_SEATS[n]):
        _compare(programs, 1000 * n + seed, seen)
    # the games covered both endings and real scores, not only early misplays
    assert seen["deck out"] >= 5 and seen["lives out"] >= 5 and seen["max score"] >= 12, seen
    print(seen)
