"""A tiny in-process stand-in for ``htjax.sync.repo``'s ``DocHandle`` (tests of game logic only).

Peers hold separate ``automerge.core.Document`` objects synced through real Automerge sync
messages (one ``SyncState`` per pair), delivered on the asyncio loop like a network would; the
acceptance tests of live play run on the real transport (``tests/test_live_games.py``).
"""

from __future__ import annotations

import asyncio
import itertools

import automerge.core as am

_ids = itertools.count()


class Hub:
    """Every handle made by :meth:`join` shares one document id and syncs with all others."""

    def __init__(self, document_id: str = "automerge:testdoc"):
        self.document_id = document_id
        self.handles: list[FakeHandle] = []
        self.states: dict[tuple[int, int], am.SyncState] = {}
        self.dropped_ephemeral = 0

    def join(self, doc: am.Document | None = None) -> "FakeHandle":
        if doc is None:
            doc = self.handles[0].doc.fork()
            doc.set_actor(am.random_actor_id())
        h = FakeHandle(self, doc, f"peer-{next(_ids)}")
        self.handles.append(h)
        self.sync()
        return h

    def sync(self) -> None:
        """Exchange sync messages between every pair until quiet; notify changed peers (soon)."""
        changed: set[int] = set()
        moving = True
        while moving:
            moving = False
            for a, b in itertools.permutations(range(len(self.handles)), 2):
                st = self.states.setdefault((a, b), am.SyncState())
                msg = self.handles[a].doc.generate_sync_message(st)
                if msg is None:
                    continue
                moving = True
                back = self.states.setdefault((b, a), am.SyncState())
                before = self.handles[b].doc.get_heads()
                self.handles[b].doc.receive_sync_message(back, am.Message.decode(msg.encode()))
                if self.handles[b].doc.get_heads() != before:
                    changed.add(b)
        loop = asyncio.get_event_loop()
        for i in changed:
            loop.call_soon(self.handles[i].notify)


class FakeHandle:
    """``DocHandle``'s API as P2P_CONTRACT.md gives it: doc, change, on_change, broadcast, on_ephemeral."""

    def __init__(self, hub: Hub, doc: am.Document, peer_id: str):
        self.hub = hub
        self.doc = doc
        self.peer_id = peer_id
        self.document_id = hub.document_id
        self._change_cbs: list = []
        self._eph_cbs: list = []

    def change(self, fn) -> None:
        with self.doc.transaction() as tx:
            fn(tx)
        self.notify()
        self.hub.sync()

    def notify(self) -> None:
        for cb in list(self._change_cbs):
            cb(self)

    def on_change(self, cb):
        self._change_cbs.append(cb)
        return lambda: self._change_cbs.remove(cb) if cb in self._change_cbs else None

    def on_ephemeral(self, cb):
        self._eph_cbs.append(cb)
        return lambda: self._eph_cbs.remove(cb) if cb in self._eph_cbs else None

    def broadcast(self, payload: bytes) -> None:
        loop = asyncio.get_event_loop()
        for other in self.hub.handles:
            if other is not self:
                for cb in list(other._eph_cbs):
                    loop.call_soon(cb, self.peer_id, bytes(payload))
