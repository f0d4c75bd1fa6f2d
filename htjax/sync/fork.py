"""Fork an episode at step ``t``: a new document, sharing the history, that ends after step ``t``.

The fork is an Automerge fork of the document (same history, a new actor) followed by one
change that removes everything after step ``t``: log entries from the first entry of step
``t`` on, later checkpoints and views, and the outcome; ``fork`` records where it came from.
Continue it with :class:`htjax.sync.Recorder`. Branches are separate documents: merging a
branch back into its original would apply the branch's removals to the original, which is
why ``fork`` is for exploring alternatives, and :meth:`EpisodeDoc.copy` for peers.
"""

from __future__ import annotations

import automerge.core as am
from automerge.core import ROOT

from htjax.sync import schema
from htjax.sync.document import EpisodeDoc
from htjax.sync.errors import SyncError
from htjax.sync.replay import derive

__all__ = ["fork"]


def fork(doc: EpisodeDoc, step: int, *, actor_id: bytes | None = None) -> EpisodeDoc:
    """A copy of ``doc`` holding only its first ``step`` steps (``0 <= step <= length``)."""
    d = derive(doc)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= d.length:
        raise SyncError(f"fork step must be an int in [0, {d.length}] (the episode's length), got {step!r}")
    later = d.accepted[step:].reshape(-1).tolist() + list(d.pending.values())
    cut = min(later, default=len(d.entries))
    branch = doc.copy(actor_id=actor_id)
    raw = branch.automerge
    with raw.transaction() as tx:
        log = schema.list_id(tx, "log")
        for i in range(tx.length(log) - 1, cut - 1, -1):
            tx.delete(log, i)
        cps = schema.list_id(tx, "checkpoints")
        for i in range(tx.length(cps) - 1, -1, -1):
            (kind, value), _ = tx.get(tx.get(cps, i)[1], "step")
            if value > step:
                tx.delete(cps, i)
        views = tx.get(ROOT, "views")
        if views is not None and isinstance(views[0], am.ObjType):
            for i in range(tx.length(views[1]) - 1, step, -1):
                tx.delete(views[1], i)
        tx.put(ROOT, "outcome", am.ScalarType.Null, None)
        schema.put_plain(tx, ROOT, "fork", {"from_heads": doc.heads(), "at_step": step})
    return EpisodeDoc(raw)
