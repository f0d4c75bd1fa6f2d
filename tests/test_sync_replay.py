"""Replay verification (tampering is caught and reported by step) and every bad-input path."""

from __future__ import annotations

import os

import automerge.core as am
import jax
import numpy as np
import pytest
import toy_envs
from automerge.core import ROOT
from automerge.core import ScalarType as S
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)

import htjax
import htjax.sync as sync
from htjax.sync import schema

DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.fixture(scope="module")
def episodes():
    env = toy_envs.HighCard(max_draws=30)
    out = htjax.rollout(
        env, htjax.first_legal_policy, jax.random.PRNGKey(0), 4, 24, record_observations=False
    )
    docs = sync.record(env, out.trajectory, [0, 1, 2, 3], checkpoint_every=3)
    longest = max(docs, key=lambda d: d.outcome().length)
    assert longest.outcome().length >= 8
    return env, docs, longest


def _edit(doc: sync.EpisodeDoc, fn) -> sync.EpisodeDoc:
    copy = doc.copy()
    with copy.automerge.transaction() as tx:
        fn(tx)
    return sync.EpisodeDoc.from_bytes(copy.to_bytes())


def _entry_id(tx, i):
    return tx.get(schema.list_id(tx, "log"), i)[1]


def test_replay__verifies_every_checkpoint(episodes):
    env, docs, doc = episodes
    r = sync.replay(doc)
    n = doc.outcome().length
    assert r.verified == sorted(set(range(0, n + 1, 3)) | {n})
    assert r.states.step_count.shape == (n + 1,)
    assert list(np.asarray(r.states.step_count)) == list(range(n + 1))


def test_replay_many__batched_equals_one_by_one(episodes):
    env, docs, _ = episodes
    batched = sync.replay_many(docs)
    for d, b in zip(docs, batched):
        single = sync.replay(d)
        jax.tree_util.tree_map(np.testing.assert_array_equal, single.states, b.states)


def test_replay__a_changed_action_is_detected_at_the_next_checkpoint(episodes):
    env, _, doc = episodes
    r = sync.replay(doc)
    # "stand" is always legal: turn a "draw" at step t into a "stand"
    t = next(t for t in range(1, r.length - 1) if r.actions[t] == 0)
    tampered = _edit(doc, lambda tx: tx.put(_entry_id(tx, t), "action", S.Int, 1))
    with pytest.raises(sync.ReplayMismatchError) as err:
        sync.replay(tampered)
    expected = min(c for c in r.verified if c > t)
    assert err.value.step == expected
    assert f"step {expected}" in str(err.value)
    assert err.value.field not in ("log", "")


def test_replay__an_illegal_action_stops_the_log_at_its_step(episodes):
    env, _, doc = episodes
    r = sync.replay(doc)
    t = next(t for t in range(r.length) if not r.states.legal_action_mask[t, 0])
    tampered = _edit(doc, lambda tx: tx.put(_entry_id(tx, t), "action", S.Int, 0))
    with pytest.raises(sync.ReplayMismatchError, match=f"stops at step {t}.*illegal") as err:
        sync.replay(tampered)
    assert (err.value.step, err.value.field) == (t, "log")


def test_replay__a_changed_digest_names_step_and_field(episodes):
    env, _, doc = episodes
    paths = doc.header.digest_fields
    i = paths.index("hands")
    cp = doc.checkpoints()[2]

    def corrupt(tx):
        cps = schema.list_id(tx, "checkpoints")
        m = tx.get(cps, 2)[1]
        fields = bytearray(cp.fields)
        fields[i * 4] ^= 0xFF
        tx.put(m, "fields", S.Bytes, bytes(fields))
        tx.put(m, "digest", S.Str, "0" * 32)

    with pytest.raises(sync.ReplayMismatchError, match=f"step {cp.step}: field 'hands'") as err:
        sync.replay(_edit(doc, corrupt))
    assert (err.value.step, err.value.field) == (cp.step, "hands")


def test_replay__a_changed_outcome_is_detected(episodes):
    env, _, doc = episodes
    n = doc.outcome().length
    tampered = _edit(doc, lambda tx: tx.put(tx.get(ROOT, "outcome")[1], "terminated", S.Boolean, False))
    with pytest.raises(sync.ReplayMismatchError, match="terminated") as err:
        sync.replay(tampered)
    assert (err.value.step, err.value.field) == (n, "outcome.terminated")


def test_replay__a_removed_entry_is_reported(episodes):
    env, _, doc = episodes
    tampered = _edit(doc, lambda tx: tx.delete(schema.list_id(tx, "log"), 4))
    with pytest.raises(sync.ReplayMismatchError, match="stops at step 4") as err:
        sync.replay(tampered)
    assert err.value.step == 4


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "data, error, message",
    [
        (b"", sync.CorruptDocumentError, "empty"),
        (b"not an automerge document", sync.CorruptDocumentError, "Automerge binding failed"),
        (
            bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8)),
            sync.CorruptDocumentError,
            "binding",
        ),
        ("a string", sync.CorruptDocumentError, "bytes"),
    ],
)
def test_load__garbage_raises_a_sync_error(data, error, message):
    with pytest.raises(error, match=message):
        sync.EpisodeDoc.from_bytes(data)


def test_load__truncated_bytes_raise_a_sync_error(episodes, tmp_path):
    data = episodes[2].to_bytes()
    for cut in (1, 8, len(data) // 2, len(data) - 1):
        path = tmp_path / "cut.automerge"
        path.write_bytes(data[:cut])
        with pytest.raises(sync.CorruptDocumentError, match="cut.automerge"):
            sync.load(path)
    with pytest.raises(sync.SyncError, match="cannot read"):
        sync.load(tmp_path / "missing.automerge")


def test_load__another_schema_or_version_is_refused():
    other = am.Document()
    with other.transaction() as tx:
        tx.put(ROOT, "name", S.Str, "somebody else's document")
    with pytest.raises(sync.SchemaVersionError, match="no 'schema' field"):
        sync.EpisodeDoc.from_bytes(other.save())
    with other.transaction() as tx:
        tx.put(ROOT, "schema", S.Str, "chess.game")
    with pytest.raises(sync.SchemaVersionError, match="schema is 'chess.game'"):
        sync.EpisodeDoc.from_bytes(other.save())


def test_load__a_future_schema_version_is_refused(episodes):
    doc = episodes[2]
    newer = _raw_edit(doc, lambda tx: tx.put(ROOT, "schema_version", S.Int, 99))
    with pytest.raises(sync.SchemaVersionError, match="version 99 is not supported"):
        sync.EpisodeDoc.from_bytes(newer)


@pytest.mark.parametrize("version", [1, 2])
def test_load__an_older_key_schedule_document_is_refused_naming_it(episodes, version):
    older = _raw_edit(episodes[2], lambda tx: tx.put(ROOT, "schema_version", S.Int, version))
    with pytest.raises(sync.SchemaVersionError, match=f"key schedule {version} .*re-record it"):
        sync.EpisodeDoc.from_bytes(older)


def _raw_edit(doc, fn) -> bytes:
    raw = am.Document.load(doc.to_bytes())
    with raw.transaction() as tx:
        fn(tx)
    return raw.save()


def test_load__missing_or_mistyped_fields_are_named(episodes):
    doc = episodes[2]
    with pytest.raises(sync.CorruptDocumentError, match="missing field 'env'"):
        sync.EpisodeDoc.from_bytes(_raw_edit(doc, lambda tx: tx.delete(ROOT, "env")))
    with pytest.raises(sync.CorruptDocumentError, match="'episode.key'"):
        sync.EpisodeDoc.from_bytes(
            _raw_edit(doc, lambda tx: tx.put(tx.get(ROOT, "episode")[1], "key", S.Str, "k"))
        )
    bad_entry = sync.EpisodeDoc.from_bytes(
        _raw_edit(doc, lambda tx: tx.put(_entry_id(tx, 0), "action", S.Str, "hit"))
    )
    with pytest.raises(sync.CorruptDocumentError, match=r"log\[0\].action has the wrong type"):
        sync.replay(bad_entry)


def test_replay__unknown_env_id_other_version_and_invalid_config(episodes):
    doc = episodes[2]
    env_of = lambda tx: tx.get(ROOT, "env")[1]  # noqa: E731
    unknown = sync.EpisodeDoc.from_bytes(_raw_edit(doc, lambda tx: tx.put(env_of(tx), "id", S.Str, "chess")))
    with pytest.raises(sync.DocumentEnvError, match="unknown env id 'chess'"):
        sync.replay(unknown)
    old = sync.EpisodeDoc.from_bytes(_raw_edit(doc, lambda tx: tx.put(env_of(tx), "version", S.Str, "v-old")))
    with pytest.raises(sync.DocumentEnvError, match="version 'v-old'"):
        sync.replay(old)
    bad_config = sync.EpisodeDoc.from_bytes(
        _raw_edit(doc, lambda tx: tx.put(tx.get(env_of(tx), "config")[1], "max_draws", S.Int, 1000))
    )
    with pytest.raises(sync.DocumentEnvError, match="config fails validation.*max_draws"):
        sync.replay(bad_config)
    unknown_field = sync.EpisodeDoc.from_bytes(
        _raw_edit(doc, lambda tx: tx.put(tx.get(env_of(tx), "config")[1], "jokers", S.Int, 2))
    )
    with pytest.raises(sync.DocumentEnvError, match="jokers"):
        sync.replay(unknown_field)


def test_binding_panic_is_reraised_as_a_sync_error():
    # Written by @automerge/automerge: schema_version is a Counter, which panics the Python binding.
    with pytest.raises(
        sync.CorruptDocumentError, match="reading schema_version: the Automerge binding failed"
    ):
        sync.load(os.path.join(DATA, "counter_schema_version.automerge"))


def test_replay__rejects_non_documents():
    with pytest.raises(sync.SyncError, match="expects an EpisodeDoc"):
        sync.replay(b"bytes")
