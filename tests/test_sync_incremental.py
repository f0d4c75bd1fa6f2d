"""IncrementalDeriver == derive_entries at every step of random growing logs, and it skips the full derive.

Logs grow the way a live document does: mostly a legal action of the seat to move, plus junk
(out-of-turn, wrong step, out of range, illegal, forged creator, unclaimed seat, a seat acting
twice), entries inserted earlier in the list (a merge of a concurrent append), rebinding of a
seat (a new claim) and entries after the end of the episode.
"""

from __future__ import annotations

import dataclasses
import datetime

import jax
import numpy as np
import pytest
import toy_envs
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)

import htjax
from htjax import sync
from htjax.sync import incremental
from htjax.sync.derive import derive_entries
from htjax.sync.incremental import IncrementalDeriver
from htjax.sync.record import new_header
from htjax.sync.schema import LogEntry

ENVS = {
    "highcard": lambda: toy_envs.HighCard(max_draws=12),  # turn-based, two seats
    "pennies": lambda: toy_envs.MatchingPennies(),  # simultaneous
    "blackjack": lambda: htjax.make("blackjack", num_seats=2),
}
ACTORS = ("a0" * 16, "b1" * 16, "c2" * 16)
KINDS = (
    "not claimed",
    "is bound to",
    "illegal",
    "out of range",
    "the next step",
    "ended",
    "already acted",
    "is not to move",
)
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module", params=sorted(ENVS))
def env(request):
    return ENVS[request.param]()


def _header(env, seed: int):
    h = new_header(env, (0, seed), sync.default_seats(env, "p"))
    return dataclasses.replace(h, live=True)


def _same(a, b) -> None:
    assert a.entries == b.entries
    np.testing.assert_array_equal(a.accepted, b.accepted)
    assert a.accepted.shape == b.accepted.shape
    assert a.pending == b.pending
    assert a.rejected == b.rejected
    np.testing.assert_array_equal(a.actions, b.actions)
    assert a.actions.shape == b.actions.shape and a.actions.dtype == b.actions.dtype
    for x, y in zip(jax.tree_util.tree_leaves(a.states), jax.tree_util.tree_leaves(b.states)):
        np.testing.assert_array_equal(x, y)


def _next_entry(env, rng, d, binds, n: int) -> LogEntry:
    """A plausible next entry given the current derivation: mostly legal, sometimes junk."""
    t = d.length
    state = jax.tree_util.tree_map(lambda x: x[t], d.states)
    mask = np.asarray(state.legal_action_mask)
    if env.simultaneous:
        free = [s for s in range(env.num_players) if s not in d.pending]
        seat = int(rng.choice(free)) if free else int(rng.integers(env.num_players))
        legal = np.flatnonzero(mask[seat])
    else:
        seat = int(np.asarray(state.current_player))
        legal = np.flatnonzero(mask)
    action = int(rng.choice(legal)) if len(legal) else 0
    step = t
    roll = rng.random()
    if roll < 0.08:
        seat = int(rng.integers(env.num_players))  # maybe out of turn
    elif roll < 0.14:
        step = t + int(rng.choice([-1, 1, 2]))
    elif roll < 0.18:
        seat = int(rng.choice([-1, env.num_players]))
    elif roll < 0.22:
        action = int(rng.choice([-1, env.num_actions]))
    elif roll < 0.40:
        action = int(rng.integers(env.num_actions))  # maybe illegal
    creator = binds.get(seat, ACTORS[2])
    if rng.random() < 0.07:
        creator = ACTORS[int(rng.integers(3))]  # maybe forged
    return LogEntry(step, seat, action, f"p{seat}", T0 + datetime.timedelta(seconds=n), creator)


def test_incremental_equals_full_derive_at_every_step(env):
    seen: set[str] = set()
    turn = "already acted" if env.simultaneous else "is not to move"
    wanted = {"not claimed", "is bound to", "illegal", "out of range", "the next step", "ended", turn}
    for seed in range(40):  # (deterministic) until the logs exercised every reason of the rule
        _random_log(env, seed, seen)
        if seen >= wanted and seed >= 3:
            break
    assert seen >= wanted


def _random_log(env, seed: int, seen: set[str]) -> None:
    rng = np.random.default_rng([seed, len(env.id)])
    header = _header(env, seed)
    binds = {s: ACTORS[s % 2] for s in range(env.num_players)}
    deriver = IncrementalDeriver(env)
    log: list[LogEntry] = []
    d = deriver.derive(header, log, binds)
    _same(d, derive_entries(env, [header], [log], [binds])[0])
    for n in range(24):
        roll = rng.random()
        entry = _next_entry(env, rng, d, binds, n)
        if roll < 0.08 and log:
            log.insert(int(rng.integers(len(log))), entry)  # a concurrent append merged before others
        elif roll < 0.11:
            seat = int(rng.integers(env.num_players))  # a claim changes who holds a seat
            binds = {**binds, seat: ACTORS[int(rng.integers(3))]}
        elif roll < 0.14:
            log.extend([entry, _next_entry(env, rng, d, binds, n)])  # two entries in one sync
        else:
            log.append(entry)
        d = deriver.derive(header, list(log), binds)
        full = derive_entries(env, [header], [log], [binds])[0]
        _same(d, full)
        seen.update(kind for r in full.rejected for kind in KINDS if kind in r.reason)
    assert deriver.fast_entries > 0  # the fast path ran
    # the derivation is usable as the full one's: the states of every applied step
    assert len(jax.tree_util.tree_leaves(d.states)[0]) == d.length + 1


def test_appending_legal_entries_never_runs_the_full_derive(monkeypatch):
    env = ENVS["highcard"]()
    header = _header(env, 3)
    binds = {0: ACTORS[0], 1: ACTORS[1]}
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return derive_entries(*args, **kwargs)

    monkeypatch.setattr(incremental, "derive_entries", counting)
    deriver = IncrementalDeriver(env)
    log: list[LogEntry] = []
    d = deriver.derive(header, log, binds)
    assert len(calls) == 1
    rng = np.random.default_rng(0)
    while not bool(np.asarray(jax.tree_util.tree_map(lambda x: x[d.length], d.states).terminated)):
        state = jax.tree_util.tree_map(lambda x: x[d.length], d.states)
        seat = int(np.asarray(state.current_player))
        action = int(rng.choice(np.flatnonzero(np.asarray(state.legal_action_mask))))
        log.append(LogEntry(d.length, seat, action, "p", T0, binds[seat]))
        d = deriver.derive(header, list(log), binds)
        assert deriver.derive(header, list(log), binds) is d  # nothing new: the same derivation
    assert d.length == len(log) > 1 and not d.rejected
    assert len(calls) == 1 and deriver.full_derives == 1 and deriver.fast_entries == len(log)
    # a merge puts a concurrent entry before the last one: back to the state before it, no full derive
    log.insert(len(log) - 1, LogEntry(0, 1, 0, "p", T0, binds[1]))
    _same(deriver.derive(header, list(log), binds), derive_entries(env, [header], [log], [binds])[0])
    assert len(calls) == 1
    # the episode is over: an entry after the end gets the full rule's reason from the full derive
    log.append(LogEntry(0, 1, 0, "p", T0, binds[1]))
    deriver.derive(header, list(log), binds)
    assert len(calls) == 2
    # an entry inserted before the prefix the full derive left: the full derive again
    log.insert(0, LogEntry(5, 0, 0, "p", T0, binds[0]))
    deriver.derive(header, list(log), binds)
    assert len(calls) == 3
    # a new binding: the full derive again
    deriver.derive(header, list(log), {0: ACTORS[2], 1: ACTORS[1]})
    assert len(calls) == 4


def test_step_fn_is_shared_per_env():
    env = ENVS["highcard"]()
    assert incremental.step_fn(env) is incremental.step_fn(env)
