"""Hostile documents: every field replaced by a value of another kind, or removed, is either read
correctly or refused with a SyncError by every read path; nothing else escapes."""

from __future__ import annotations

import automerge.core as am
import jax
import pytest
import toy_envs
from automerge.core import ROOT, ObjType
from automerge.core import ScalarType as S
from sync_helpers import ENV_IDS  # noqa: F401  (registers the toy envs)

from htjax import sync

ENV = toy_envs.HighCard(max_draws=12)
HOSTILE = {
    "str": (S.Str, "x"),
    "uint-max": (S.Uint, 2**64 - 1),
    "int-huge": (S.Int, 2**62),
    "nan": (S.F64, float("nan")),
    "map": ObjType.Map,
    "delete": None,
}


@pytest.fixture(scope="module")
def document() -> bytes:
    """A forked live game with views and rule parameters: every optional field present."""
    rec = sync.Recorder.start(
        ENV, jax.random.PRNGKey(0), checkpoint_every=2, public_view=True, env_params=ENV.params(stake=2.0)
    )
    while not rec.done:
        rec.append(1 if rec.step >= 3 or not rec.state.legal_action_mask[0] else 0)
    return sync.fork(rec.doc, 2).to_bytes()


def _fields(doc: am.Document) -> list[tuple[bytes, str | int, str]]:
    """(object, key, path) of every field, two levels down, first two list elements."""
    out = []

    def walk(obj, where, depth):
        kind = doc.object_type(obj)
        keys = (
            doc.keys(obj)
            if kind == ObjType.Map
            else range(min(doc.length(obj), 2))
            if kind == ObjType.List
            else []
        )
        for k in keys:
            value, oid = doc.get(obj, k)
            out.append((obj, k, f"{where}.{k}".lstrip(".")))
            if isinstance(value, ObjType) and depth < 3:
                walk(oid, f"{where}.{k}", depth + 1)

    walk(ROOT, "", 0)
    return out


def _read_everything(data: bytes) -> None:
    d = sync.EpisodeDoc.from_bytes(data)
    d.entries(), d.checkpoints(), d.outcome(), d.views(), d.fork_info(), d.history(), repr(d)
    d.env(), d.params()
    sync.replay(d)
    sync.Recorder(d)
    sync.fork(d, 0)
    d.copy().merge(d.copy())


def test_every_field_of_another_kind_is_read_or_refused_with_a_sync_error(document):
    fields = _fields(am.Document.load(document))
    assert {
        "env.params.stake",
        "log.0.step",
        "checkpoints.0.fields",
        "env.config.max_draws",
        "fork.at_step",
    } <= {f[2] for f in fields}
    escaped, refused, tried = [], 0, 0
    for obj, key, where in fields:
        for name, value in HOSTILE.items():
            raw = am.Document.load(document)
            with raw.transaction() as tx:
                if value is None:
                    tx.delete(obj, key)
                elif isinstance(value, ObjType):
                    tx.put_object(obj, key, value)
                else:
                    tx.put(obj, key, *value)
            tried += 1
            try:
                _read_everything(raw.save())
            except sync.SyncError:
                refused += 1
            except BaseException as exc:  # noqa: BLE001 - anything else is the failure
                escaped.append((where, name, type(exc).__name__, str(exc)[:80]))
    assert not escaped, escaped
    assert refused > tried // 2  # most changes are refused (views, fork and seat details are free-form)
