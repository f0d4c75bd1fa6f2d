"""Every registered game's ``public_view`` sync hook: plain data, no hidden cards, recorded and loaded back.

Per env: one random rollout, recorded with ``public_view=True`` (which re-executes every episode
and calls the hook on each state), saved to bytes and loaded back, then replayed once in a batch
(``replay_many``) to get the states the checks call the hook on.
"""

from __future__ import annotations

import collections
import json
import re

import jax
import numpy as np
import pytest

import htjax
import htjax.sync as sync
from htjax.core import cards
from htjax.envs import env_class
from htjax.envs.cuttle import actions as A

NUM_WORLDS, NUM_STEPS = 8, 40
# Non-default tables where they show more (a third seat and side pots, two seats, noise).
CONFIGS = {
    "holdem": {"num_players": 3},
    "blackjack": {"num_seats": 2},
    "prisoners_dilemma": {"rounds": 6, "noise": 0.2},
}
# the built-in games (other test modules register toy games in the same process)
ENV_IDS = tuple(e for e in htjax.available_envs() if env_class(e).__module__.startswith("htjax."))
CARD = re.compile(r"^[2-9TJQKA][cdhs]$")


def _make(env_id: str) -> htjax.Env:
    env = htjax.make(env_id, **CONFIGS.get(env_id, {}))
    assert type(env).public_view is not htjax.Env.public_view, f"{env_id} keeps the generic public_view"
    return env


@pytest.fixture(scope="module", params=ENV_IDS)
def recorded(request):
    env = _make(request.param)
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(7), NUM_WORLDS, NUM_STEPS)
    docs = sync.record(env, out.trajectory, list(range(NUM_WORLDS)), policy="random", public_view=True)
    loaded = [sync.EpisodeDoc.from_bytes(d.to_bytes()) for d in docs]
    replays = sync.replay_many(loaded)
    view = type(env).public_view
    states = []  # (doc index, t, state, view)
    for i, r in enumerate(replays):
        for t in range(r.length + 1):
            state = jax.tree_util.tree_map(lambda x, t=t: x[t], r.states)
            states.append((i, t, state, view(env, state)))
    return env, docs, loaded, states


def _check_plain(value, where="view"):
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{where}: key {k!r} is not a str"
            _check_plain(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    else:
        assert value is None or type(value) in (bool, int, float, str), (
            f"{where}: {type(value).__name__} {value!r}"
        )


def _card_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [c for v in value.values() for c in _card_strings(v)]
    if isinstance(value, list):
        return [c for v in value for c in _card_strings(v)]
    return [value] if isinstance(value, str) and CARD.match(value) else []


def _strs(ids) -> list[str]:
    return [cards.card_to_str(c) for c in np.asarray(ids).ravel() if c >= 0]


def test_public_view__plain_json_data_on_every_state(recorded):
    env, docs, loaded, states = recorded
    for i, t, state, view in states:
        assert isinstance(view, dict) and view, f"doc {i} step {t}"
        _check_plain(view, f"doc {i} step {t}")
        assert json.loads(json.dumps(view, allow_nan=False)) == view
        assert view == env.public_view(state)  # a pure function of the state


def test_public_view__recorded_per_step_and_loads_back_equal(recorded):
    env, docs, loaded, states = recorded
    by_doc = collections.defaultdict(list)
    for i, t, _, view in states:
        by_doc[i].append(view)
    for i, (doc, back) in enumerate(zip(docs, loaded)):
        assert doc.views() == back.views() == by_doc[i]
        assert len(back.views()) == back.outcome().length + 1


def test_public_view__never_shows_hidden_cards(recorded):
    env, docs, loaded, states = recorded
    seen = collections.Counter()
    for i, t, state, view in states:
        where = f"{env.id} doc {i} step {t}"
        shown = collections.Counter(_card_strings(view))
        if env.id == "holdem":
            tab = jax.device_get(state.table)
            public = _strs(tab.board)
            for s in range(env.num_players):
                seat = view["seats"][s]
                if bool(tab.showdown) and not bool(tab.folded[s]):
                    assert seat["hole"] == _strs(tab.hole[s]), where
                    public += _strs(tab.hole[s])
                    seen["shown hole cards"] += 1
                else:
                    assert seat["hole"] is None, where  # hidden until a showdown it reaches
                    seen["hidden hole cards"] += 1
            assert view["board"] == _strs(tab.board), where
        elif env.id == "blackjack":
            s = jax.device_get(state)
            dealer = _strs(s.dealer_cards)
            public = [c for row in s.hand_cards for c in _strs(row)]
            if bool(s.dealer_revealed):
                assert view["dealer"]["cards"] == dealer, where
                public += dealer
                seen["revealed"] += 1
            else:
                assert view["dealer"]["cards"] == dealer[:1], where  # the up-card only
                assert view["dealer"]["total"] is None, where
                public += dealer[:1]
                seen["hole card hidden" if len(dealer) == 2 else "no dealer cards"] += 1
        elif env.id == "cuttle":  # every card on a field, scrapped, stacked, revealed, or a 9 returned
            b = jax.device_get(state.board)
            shown_zones = np.isin(b.zone, [2, 3, 4, 5, 6, 7])  # field, scrap, revealed, stack
            frozen = set(int(c) for c in b.frozen if c >= 0)
            public = [A.card_str(c) for c in range(54) if shown_zones[c] or c in frozen]
            public = [c for c in public if CARD.match(c)]
            assert sum(s["hand_size"] for s in view["seats"]) == int(np.sum(b.zone == 1)), where
        else:
            public = []
        # exactly the public cards, each once: no hole card, no undealt card of the deck or shoe
        assert shown == collections.Counter(public), f"{where}: {shown} != {collections.Counter(public)}"
    if env.id == "holdem":
        assert seen["shown hole cards"] and seen["hidden hole cards"], seen
    if env.id == "blackjack":
        assert seen["revealed"] and seen["hole card hidden"], seen


def test_public_view__game_values(recorded):
    """The values a spectator needs match the state (per game; other envs pass)."""
    env, docs, loaded, states = recorded
    for i, t, state, view in states:
        where = f"{env.id} doc {i} step {t}"
        over = bool(state.terminated | state.truncated)
        assert view["over"] is over and view["step"] == int(state.step_count), where
        if env.id == "holdem":
            tab = jax.device_get(state.table)
            assert [s["stack"] for s in view["seats"]] == np.asarray(tab.stack).tolist(), where
            assert [s["committed"] for s in view["seats"]] == np.asarray(tab.committed).tolist(), where
            assert view["pot"] == int(np.asarray(htjax.envs.holdem.rules.pot(state.table))), where
            assert sum(p["amount"] for p in view["pots"]) == view["pot"], where
            assert view["button"] == int(tab.button), where
            assert view["to_act"] == (None if over else int(tab.to_act)), where
        elif env.id == "blackjack":
            assert [s["bankroll"] for s in view["seats"]] == np.asarray(state.bankroll).tolist(), where
            if view["to_act"] is not None:
                assert view["to_act"] == int(state.current_player), where
            for seat in view["seats"]:
                for hand in seat["hands"]:
                    values = [
                        min(cards.parse_card(c) // 4 + 2, 10) if c[0] != "A" else 1 for c in hand["cards"]
                    ]
                    soft = "A" in "".join(hand["cards"]) and sum(values) <= 11
                    assert (hand["total"], hand["soft"]) == (sum(values) + 10 * soft, soft), where
        elif env.id == "prisoners_dilemma":
            np.testing.assert_allclose(view["scores"], np.asarray(env.scores(state)), err_msg=where)
            assert view["round"] == int(state.memory.t[0]), where
            if view["round"]:
                moves = [int(state.memory.my_move_ago(1)[s]) for s in range(2)]
                assert view["last_moves"] == ["CD"[m] for m in moves], where
                np.testing.assert_allclose(view["last_payoffs"], np.asarray(state.rewards), err_msg=where)
            else:
                assert view["last_moves"] is None, where


def test_public_view__live_recorder_stores_a_view_per_step():
    env = _make("prisoners_dilemma")
    rec = sync.Recorder.start(env, jax.random.PRNGKey(3), public_view=True)
    while not rec.done:
        for seat in rec.to_move():
            rec.append(seat, seat=seat)  # seat 0 cooperates, seat 1 defects (before noise)
    views = sync.EpisodeDoc.from_bytes(rec.doc.to_bytes()).views()
    assert len(views) == rec.step + 1 == env.config.rounds + 1
    assert views[0]["last_moves"] is None and views[-1]["over"] is True
    assert views[-1] == env.public_view(rec.state)
