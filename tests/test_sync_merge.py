"""EpisodeDoc.merge: only copies of one episode merge; anything else is refused, changing nothing.

Before the refusal existed, merging two unrelated documents let Automerge's last-writer-wins
pick every root field (env, episode, log) from either side, so the document silently became
the other episode (or a mix of both) in about half the tries, depending on the actor ids.
"""

from __future__ import annotations

import dataclasses

import automerge.core as am
import jax
import numpy as np
import pytest
import toy_envs
from automerge.core import ROOT
from automerge.core import ScalarType as S
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)

from htjax import sync
from htjax.sync import schema
from htjax.sync.document import utc_now
from htjax.sync.record import new_header

ENV = toy_envs.HighCard(max_draws=12)
SEATS = [sync.Seat("alice", "human"), sync.Seat("bob", "peer")]


def _doc(
    env=ENV, key=(0, 7), actor=b"\x01" * 16, entries=((0, 0, 1), (1, 1, 1)), **header
) -> sync.EpisodeDoc:
    """A document with a few raw log entries (no JAX: the merge checks need none)."""
    h = dataclasses.replace(new_header(env, key, sync.default_seats(env, "p")), **header)
    doc = sync.EpisodeDoc.create(h, actor_id=actor)
    with doc.automerge.transaction() as tx:
        log = schema.list_id(tx, "log")
        schema.write_entries(tx, log, 0, [(t, s, a, "p", utc_now()) for t, s, a in entries])
    return doc


def _snapshot(doc: sync.EpisodeDoc):
    return sorted(doc.heads()), doc.header, [e[:4] for e in doc.entries()]


def _refused(mine: sync.EpisodeDoc, theirs: sync.EpisodeDoc, error=sync.EpisodeMismatchError):
    before = _snapshot(mine)
    with pytest.raises(error) as err:
        mine.merge(theirs)
    assert _snapshot(mine) == before  # nothing changed
    # and the refused document is still exactly itself after a save/load round trip
    assert _snapshot(sync.EpisodeDoc.from_bytes(mine.to_bytes())) == before
    return err.value


@pytest.mark.parametrize("seed", range(16))
def test_merge__another_episode_is_refused_whatever_the_actor_ids(seed):
    # actor ids decide which side Automerge's last-writer-wins picks: cover both orders
    rng = np.random.default_rng(seed)
    mine = _doc(key=(0, seed), actor=bytes(rng.integers(0, 256, 16, dtype=np.uint8)))
    theirs = _doc(key=(1, seed), actor=bytes(rng.integers(0, 256, 16, dtype=np.uint8)), entries=((0, 0, 0),))
    err = _refused(mine, theirs)
    assert err.differences == ("episode.key",)
    assert f"[0, {seed}] here, [1, {seed}] there" in str(err)
    err = _refused(theirs, mine)
    assert err.differences == ("episode.key",)


@pytest.mark.parametrize(
    "theirs, named",
    [
        (lambda: _doc(env=toy_envs.HighCard(max_draws=6)), ("env.config.max_draws",)),
        (lambda: _doc(params=ENV.params(stake=2.0)), ("env.params.stake",)),
        (
            lambda: _doc(env=toy_envs.MatchingPennies(rounds=3), entries=()),
            ("env.id", "env.config.max_draws"),
        ),
        (lambda: _doc(env_version="v-old"), ("env.version",)),
        (lambda: _doc(key=(5, 5), params=ENV.params(stake=0.5)), ("env.params.stake", "episode.key")),
    ],
    ids=["config", "params", "env", "version", "params-and-key"],
)
def test_merge__names_what_makes_it_another_episode(theirs, named):
    mine = _doc(params=ENV.params(stake=1.0))
    err = _refused(mine, theirs())
    assert all(name in err.differences for name in named), err.differences
    assert isinstance(err, sync.MergeError) and isinstance(err, sync.SyncError)


def test_merge__a_schema_3_document_is_another_episode_than_a_schema_4_one():
    mine = _doc()
    raw = am.Document.load(mine.to_bytes())
    with raw.transaction() as tx:
        tx.put(ROOT, "schema_version", S.Int, 3)
        tx.delete(tx.get(ROOT, "env")[1], "params")
    old = sync.EpisodeDoc.from_bytes(raw.save())
    assert old.header.params is None and old.header.schema_version == 3
    err = _refused(mine.copy(), old)
    assert err.differences == ("schema_version", "env.params")


def test_merge__the_same_episode_recorded_twice_separately_is_refused():
    # same env, config, parameters and key, but two histories: Automerge would keep one log
    mine = _doc(actor=b"\x01" * 16, entries=((0, 0, 1),))
    theirs = _doc(actor=b"\x02" * 16, entries=((0, 0, 0),))
    err = _refused(mine, theirs, sync.MergeError)
    assert not isinstance(err, sync.EpisodeMismatchError)
    assert "recorded separately" in str(err)


def test_merge__an_edit_that_deletes_entries_is_refused():
    mine = _doc(entries=((0, 0, 1), (1, 1, 1), (2, 0, 1)))
    theirs = mine.copy()
    with theirs.automerge.transaction() as tx:
        tx.delete(schema.list_id(tx, "log"), 1)
    err = _refused(mine, theirs, sync.MergeError)
    assert "delete 1 log entries" in str(err) and "index 1" in str(err)
    # the other direction loses nothing of the receiving document: accepted
    theirs.merge(mine)
    assert len(theirs.entries()) == 2


def test_merge__copies_still_merge_and_a_document_merges_itself():
    mine = _doc()
    peer = mine.copy(actor_id=b"\x09" * 16)
    with peer.automerge.transaction() as tx:
        log = schema.list_id(tx, "log")
        schema.write_entries(tx, log, tx.length(log), [(2, 0, 1, "peer", utc_now())])
    mine.merge(peer)
    mine.merge(mine)
    assert [e[:3] for e in mine.entries()] == [(0, 0, 1), (1, 1, 1), (2, 0, 1)]
    with pytest.raises(sync.SyncError, match="expects an EpisodeDoc"):
        mine.merge(b"bytes")


# ---------------------------------------------------------------------------- forks
def _play(rec: sync.Recorder, choose) -> None:
    while not rec.done:
        rec.append(choose(rec))


def _first_legal(rec):
    return int(np.argmax(np.asarray(rec.state.legal_action_mask)))


@pytest.fixture(scope="module")
def original():
    rec = sync.Recorder.start(
        ENV, jax.random.PRNGKey(4), SEATS, checkpoint_every=2, env_params=ENV.params(stake=3.0)
    )
    _play(rec, lambda r: 0 if r.state.legal_action_mask[0] and r.step < 5 else 1)
    assert rec.step >= 4
    return rec.doc


def test_merge__a_fork_and_its_original_are_different_branches(original):
    branch = sync.fork(original, 2)
    err = _refused(original.copy(), branch)
    assert err.differences == ("fork",)
    err = _refused(branch, original)
    assert err.differences == ("fork",)
    err = _refused(branch, sync.fork(original, 3))
    assert err.differences == ("fork",)


def test_merge__two_forks_at_the_same_step_merge_by_the_merge_rule(original):
    states = sync.replay(original).states
    # a step where drawing is legal, so the two branches choose differently there
    t = next(t for t in range(1, len(states.step_count) - 1) if states.legal_action_mask[t, 0])
    a = sync.Recorder(sync.fork(original, t, actor_id=b"\xaa" * 16))
    b = sync.Recorder(sync.fork(original, t, actor_id=b"\xbb" * 16))
    _play(a, lambda r: 1)  # stand
    _play(b, lambda r: _first_legal(r))  # draw while allowed
    assert a.derivation.actions.tolist() != b.derivation.actions.tolist()
    ab, ba = a.doc.copy(), b.doc.copy()
    ab.merge(b.doc)
    ba.merge(a.doc)
    assert sorted(ab.heads()) == sorted(ba.heads())
    da, db = sync.derive(ab), sync.derive(ba)
    assert da.actions.tolist() == db.actions.tolist()
    assert [r.index for r in da.rejected] == [r.index for r in db.rejected]
    # the first t steps are the original's; after them one branch's entries won, and every
    # entry of the other is kept as rejected: nothing is dropped
    assert da.actions[:t].tolist() == sync.derive(original).actions[:t].tolist()
    winner = a if da.actions.tolist() == a.derivation.actions.tolist() else b
    assert da.actions.tolist() == winner.derivation.actions.tolist()
    assert sum(len(s) for s in da.accepted) + len(da.pending) + len(da.rejected) == len(da.entries)
    assert len(da.rejected) == (len(a.doc.entries()) + len(b.doc.entries()) - 2 * t) - (winner.step - t)
    # the parameters are the episode's, unchanged by the merge
    assert ab.header.params == original.header.params
    # the losing branch's checkpoints no longer match: replay says so instead of guessing
    with pytest.raises(sync.ReplayMismatchError):
        sync.replay(sync.EpisodeDoc.from_bytes(ab.to_bytes()))
