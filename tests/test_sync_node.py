"""JavaScript interop: the Node reader (js/read_episode.mjs, @automerge/automerge) reads what Python wrote.

The session fixture ``node_modules`` (conftest.py) runs ``npm ci`` from package-lock.json when the
packages are missing; without Node.js the tests fail, naming what to install.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

import automerge.core as am
import jax
import pytest
from automerge.core import ScalarType as S
from sync_helpers import TOY_ENVS

import htjax
import htjax.sync as sync

pytestmark = pytest.mark.usefixtures("node_modules")

ROOT = pathlib.Path(__file__).resolve().parent.parent
READER = ROOT / "js" / "read_episode.mjs"


def _node_reader() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the JavaScript interop test needs Node.js (>= 18)")
    if not (ROOT / "node_modules" / "@automerge" / "automerge").is_dir():
        pytest.fail("node_modules/@automerge/automerge is missing: run `npm ci` in the repository root")
    return [node, str(READER)]


def _read_in_node(path: pathlib.Path) -> dict:
    done = subprocess.run(_node_reader() + [str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("env_cls", TOY_ENVS, ids=lambda c: c.id)
def test_node_reader__reads_the_same_actions_and_outcome_as_python(env_cls, tmp_path):
    env = env_cls()
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(5), 2, 12, record_observations=False)
    docs = sync.record(env, out.trajectory, [1])
    for i, doc in enumerate(docs):
        path = tmp_path / f"{i}.automerge"
        sync.save(doc, path)
        js = _read_in_node(path)
        py = sync.load(path)
        h = py.header
        assert js["schema"] == sync.SCHEMA and js["schema_version"] == sync.SCHEMA_VERSION
        assert js["env"]["id"] == h.env_id and js["env"]["version"] == h.env_version
        assert js["env"]["config"] == dict(h.config)
        assert js["env"]["params"] == dict(h.params)
        assert js["env"]["action_labels"] == list(h.action_labels)
        assert js["episode"]["key"] == list(h.episode_key)
        assert js["seats"] == [{"actor": s.actor, "kind": s.kind, "policy": s.policy} for s in h.seats]
        entries = py.entries()
        assert [(e["step"], e["seat"], e["action"], e["actor"]) for e in js["log"]] == [
            (e.step, e.seat, e.action, e.actor) for e in entries
        ]
        assert [e["time"] for e in js["log"]] == [int(e.time.timestamp() * 1000) for e in entries]
        o = py.outcome()
        assert js["outcome"] == {
            "returns": list(o.returns),
            "length": o.length,
            "terminated": o.terminated,
            "truncated": o.truncated,
            "finished": o.finished,
        }
        assert [(c["step"], c["digest"], c["fields"]) for c in js["checkpoints"]] == [
            (c.step, c.digest, c.fields.hex()) for c in py.checkpoints()
        ]
        assert sorted(js["heads"]) == sorted(py.heads())


def test_node_reader__refuses_a_document_of_another_schema(tmp_path):
    path = tmp_path / "garbage.automerge"
    path.write_bytes(b"not automerge")
    done = subprocess.run(_node_reader() + [str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "not a readable Automerge document" in done.stderr


def test_node_reader__reads_rule_parameters_and_a_schema_3_document(tmp_path):

    env = TOY_ENVS[0]()
    rec = sync.Recorder.start(env, jax.random.PRNGKey(1), env_params=env.params(stake=2.5))
    rec.append(1)
    path = tmp_path / "params.automerge"
    sync.save(rec.doc, path)
    js = _read_in_node(path)
    assert js["schema_version"] == sync.SCHEMA_VERSION and js["env"]["params"] == {"stake": 2.5}
    assert js["live"] is None
    raw = am.Document.load(rec.doc.to_bytes())
    with raw.transaction() as tx:  # a version 3 document predates env.params
        tx.put(am.ROOT, "schema_version", S.Int, 3)
        tx.delete(raw.get(am.ROOT, "env")[1], "params")
    path.write_bytes(raw.save())
    js = _read_in_node(path)
    assert js["schema_version"] == 3 and js["env"]["params"] is None
    assert sync.load(path).header.params is None
    with raw.transaction() as tx:
        tx.put(am.ROOT, "schema_version", S.Int, 6)
    path.write_bytes(raw.save())
    done = subprocess.run(_node_reader() + [str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "schema version 6 is not supported" in done.stderr
