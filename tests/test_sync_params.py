"""Rule parameters in episode documents: recorded per world, replayed exactly, tampering caught.

The toy HighCard env pays its ``stake`` rule parameter to the winner, so a world's parameters
show in every final reward (and so in the state digests).
"""

from __future__ import annotations

import automerge.core as am
import jax
import numpy as np
import pytest
import toy_envs
from automerge.core import ROOT
from automerge.core import ScalarType as S
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)

import htjax
from htjax import sync

ENV = toy_envs.HighCard(max_draws=12)
STAKES = (1.0, 2.5, 0.1, 7.0)  # 1.0 is the config's value; 0.1 is not exact in float32
SEATS = [sync.Seat("alice", "human"), sync.Seat("bob", "peer")]


@pytest.fixture(scope="module")
def recorded():
    env_params = ENV.batch_params([{"stake": s} for s in STAKES])
    out = htjax.rollout(
        ENV, htjax.random_policy, jax.random.PRNGKey(3), len(STAKES), 30, env_params=env_params
    )
    docs = sync.record(
        ENV, out.trajectory, range(len(STAKES)), env_params=out.carry.env_params, checkpoint_every=4
    )
    return out, docs


def _won(doc):
    """A document whose episode ended with a winner (so its stake is in the final rewards)."""
    return next(d for d in doc if d.outcome().finished and d.outcome().returns[0] != 0)


def _raw_edit(doc: sync.EpisodeDoc, fn) -> bytes:
    raw = am.Document.load(doc.to_bytes())
    with raw.transaction() as tx:
        fn(tx, raw.get(ROOT, "env")[1])
    return raw.save()


def _params_id(tx, env):
    return tx.get(env, "params")[1]


def test_record__stores_each_worlds_parameters_and_replays_them_exactly(recorded, tmp_path):
    out, docs = recorded
    for d in docs:
        assert d.header.params == {"stake": float(np.float32(STAKES[d.header.world]))}
    paths = []
    for i, d in enumerate(docs):
        paths.append(tmp_path / f"{i}.automerge")
        sync.save(d, paths[-1])
    replays = sync.replay_many([sync.load(p) for p in paths])  # default and traced worlds in one call
    rewards, ep_index = np.asarray(out.trajectory.rewards), np.asarray(out.trajectory.episode_index)
    for d, r in zip(docs, replays):
        w = d.header.world
        ts = np.flatnonzero(ep_index[:, w] == d.header.episode_index)
        np.testing.assert_array_equal(np.asarray(r.states.rewards)[1:], rewards[ts, w])
        assert r.outcome == d.outcome() and r.verified[-1] == r.length
        assert r.env_params == ENV.params(stake=STAKES[w])
        assert set(np.abs(r.outcome.returns)) <= {0.0, float(np.float32(STAKES[w]))}
    # one by one equals batched, leaf for leaf
    for p, b in zip(paths[:3], replays[:3]):
        jax.tree_util.tree_map(np.testing.assert_array_equal, sync.replay(sync.load(p)).states, b.states)
    assert any(r.outcome.returns[0] not in (0.0, 1.0, -1.0) for r in replays)  # the stakes mattered


def test_record__one_worlds_parameters_apply_to_every_world():
    p = ENV.params(stake=3.0)
    out = htjax.rollout(
        ENV, htjax.first_legal_policy, jax.random.PRNGKey(1), 2, 12, env_params=p, record_observations=False
    )
    docs = sync.record(ENV, out.trajectory, [0, 1], env_params=p)
    assert {d.header.params["stake"] for d in docs} == {3.0}
    assert all(r.outcome == d.outcome() for r, d in zip(sync.replay_many(docs), docs))


def test_record__refuses_bad_or_missing_env_params(recorded):
    out, _ = recorded
    with pytest.raises(sync.RecordError, match="pass the same env_params"):
        sync.record(ENV, out.trajectory, [1, 3])  # the rollout played stakes 2.5 and 7
    with pytest.raises(sync.RecordError, match=r"'stake' must have shape \(4,\)"):
        sync.record(ENV, out.trajectory, [0], env_params={"stake": np.ones(3, np.float32)})
    with pytest.raises(sync.RecordError, match="stake"):
        sync.record(ENV, out.trajectory, [0], env_params={"stake": np.float32(-1.0)})
    with pytest.raises(sync.RecordError, match="env_params must be a dict"):
        sync.record(ENV, out.trajectory, [0], env_params=[1.0])
    with pytest.raises(sync.RecordError, match="stake"):
        sync.Recorder.start(ENV, jax.random.PRNGKey(0), SEATS, env_params={"stake": 5000.0})


# ---------------------------------------------------------------------------- tampering
def test_replay__changed_parameters_are_caught_by_the_digests(recorded):
    _, docs = recorded
    doc = _won(d for d in docs if d.header.params["stake"] != 1.0)
    n = doc.outcome().length
    tampered = sync.EpisodeDoc.from_bytes(
        _raw_edit(doc, lambda tx, env: tx.put(_params_id(tx, env), "stake", S.F64, 9.0))
    )
    with pytest.raises(
        sync.ReplayMismatchError, match=r"field 'rewards'.*rule parameters \{'stake': 9\.0\}"
    ) as err:
        sync.replay(tampered)
    assert (err.value.step, err.value.field) == (n, "rewards")
    # the same change on an episode of default parameters is caught too (traced vs constant)
    plain = _won(d for d in docs if d.header.params["stake"] == 1.0)
    tampered = sync.EpisodeDoc.from_bytes(
        _raw_edit(plain, lambda tx, env: tx.put(_params_id(tx, env), "stake", S.F64, 2.0))
    )
    with pytest.raises(sync.ReplayMismatchError, match="rewards"):
        sync.replay(tampered)


@pytest.mark.parametrize(
    "edit, error, message",
    [
        (lambda tx, env: tx.delete(env, "params"), sync.CorruptDocumentError, "missing field 'env.params'"),
        (
            lambda tx, env: tx.put(env, "params", S.Str, "stake=2"),
            sync.CorruptDocumentError,
            "'env.params' must be a Map, got Str",
        ),
        (
            lambda tx, env: tx.put(_params_id(tx, env), "stake", S.Str, "2.5"),
            sync.CorruptDocumentError,
            "'env.params.stake' must be F64/Int/Uint/Boolean, got Str",
        ),
        (
            lambda tx, env: tx.put_object(_params_id(tx, env), "stake", am.ObjType.List),
            sync.CorruptDocumentError,
            "'env.params.stake' must be a scalar, got a List",
        ),
        (
            lambda tx, env: tx.put(_params_id(tx, env), "stake", S.Uint, 2**64 - 1),
            sync.CorruptDocumentError,
            "'env.params.stake' is out of range",
        ),
        (
            lambda tx, env: [tx.put(_params_id(tx, env), f"p{i}", S.Int, i) for i in range(300)],
            sync.CorruptDocumentError,
            "holds 301 entries",
        ),
    ],
    ids=["missing", "not-a-map", "wrong-type", "object", "huge-uint", "huge-map"],
)
def test_load__a_corrupt_params_field_is_named(recorded, edit, error, message):
    data = _raw_edit(recorded[1][0], edit)
    with pytest.raises(error, match=message):
        sync.EpisodeDoc.from_bytes(data)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda tx, env: tx.delete(_params_id(tx, env), "stake"), r"missing \['stake'\]"),
        (lambda tx, env: tx.put(_params_id(tx, env), "jokers", S.Int, 2), r"unknown \['jokers'\]"),
        (lambda tx, env: tx.put(_params_id(tx, env), "stake", S.F64, -3.0), "'stake' must be in"),
        (lambda tx, env: tx.put(_params_id(tx, env), "stake", S.F64, float("nan")), "'stake' must be in"),
        (
            lambda tx, env: tx.put(_params_id(tx, env), "stake", S.Boolean, True),
            "'stake' must be a float32 value",
        ),
    ],
    ids=["missing-field", "unknown-field", "out-of-range", "nan", "bool"],
)
def test_replay__parameters_the_env_refuses_are_named(recorded, edit, message):
    doc = sync.EpisodeDoc.from_bytes(_raw_edit(recorded[1][0], edit))
    for call in (sync.replay, sync.Recorder, lambda d: d.params()):
        with pytest.raises(sync.DocumentEnvError, match=f"env.params.*{message}"):
            call(doc)


def test_load__an_int_stake_is_a_number_as_a_javascript_writer_stores_it(recorded):
    doc = _won(recorded[1])
    edited = sync.EpisodeDoc.from_bytes(
        _raw_edit(doc, lambda tx, env: tx.put(_params_id(tx, env), "stake", S.Int, 7))
    )
    assert edited.params() == ENV.params(stake=7.0)


def test_load__a_schema_3_document_replays_under_the_configs_values(recorded):
    # version 3 predates rule parameters: every world played its config, which is exact
    doc = next(d for d in recorded[1] if d.header.params["stake"] == 1.0)

    def downgrade(tx, env):
        tx.put(ROOT, "schema_version", S.Int, 3)
        tx.delete(env, "params")

    old = sync.EpisodeDoc.from_bytes(_raw_edit(doc, downgrade))
    assert (old.header.schema_version, old.header.params) == (3, None)
    assert old.params() == ENV.default_params
    r = sync.replay(old)
    assert r.outcome == doc.outcome() and r.verified == sync.replay(doc).verified


# ---------------------------------------------------------------------------- live, fork, what-if
def test_recorder_fork_and_what_if_use_the_documents_parameters():
    p = ENV.params(stake=4.0)
    rec = sync.Recorder.start(ENV, jax.random.PRNGKey(0), SEATS, checkpoint_every=2, env_params=p)
    while not rec.done:
        rec.append(1 if rec.step >= 3 or not rec.state.legal_action_mask[0] else 0)
    assert rec.env_params == p and set(np.abs(rec.doc.outcome().returns)) <= {0.0, 4.0}
    r = sync.replay(sync.EpisodeDoc.from_bytes(rec.doc.to_bytes()))
    assert r.outcome == rec.doc.outcome()
    branch = sync.Recorder(sync.fork(rec.doc, 1))
    assert branch.doc.header.params == {"stake": 4.0} and branch.env_params == p
    while not branch.done:
        branch.append(1)
    assert sync.replay(branch.doc).outcome == branch.doc.outcome()
    # what-if from the start under the document's parameters: returns scale with the stake
    state = jax.tree_util.tree_map(lambda x: x[0], r.states)
    key = jax.random.PRNGKey(2)
    scaled = sync.what_if(ENV, state, key, num_rollouts=16, horizon=30, env_params=r.env_params)
    base = sync.what_if(ENV, state, key, num_rollouts=16, horizon=30)
    assert [x.action for x in scaled] == [x.action for x in base]
    for x, y in zip(scaled, base):
        np.testing.assert_array_equal(np.asarray(x.mean_return), 4.0 * np.asarray(y.mean_return))
    assert any(any(x.mean_return) for x in scaled)
    with pytest.raises(sync.SyncError, match="stake"):
        sync.what_if(ENV, state, key, env_params={"stake": -1.0})


def test_replay_batch__joins_default_and_traced_worlds_of_different_step_buckets():
    from htjax.sync.engine import replay_batch

    keys = np.array([[0, 1], [0, 2], [0, 3]], np.uint32)
    actions = [np.zeros(40, np.int32), np.ones(3, np.int32), np.zeros(5, np.int32)]
    params = [None, {"stake": 3.0}, {"stake": 1.0}]  # the last equals the config: constants
    joined = replay_batch(ENV, keys, actions, params)
    for i in range(3):
        alone = replay_batch(ENV, keys[i : i + 1], actions[i : i + 1], params[i : i + 1])
        n = len(actions[i])
        jax.tree_util.tree_map(np.testing.assert_array_equal, joined.episode(i, n), alone.episode(0, n))
    assert joined.field("rewards").shape[:2] == (3, 65)
