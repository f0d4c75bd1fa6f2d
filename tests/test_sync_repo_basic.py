"""Two Python automerge-repo peers on loopback: directly (listen/connect) and through a relay."""

from __future__ import annotations

import asyncio

import automerge.core as am
import pytest
from repo_helpers import append_moves, log_of, put, run

from htjax.sync.repo import (
    DocumentUnavailable,
    InvalidDocumentId,
    RelayServer,
    Repo,
    SyncTimeout,
    new_document_id,
    parse_document_id,
)
from htjax.sync.repo.ids import b58check_decode, b58check_encode


def test_document_ids__automerge_repo_format_and_checks():
    url = new_document_id()
    assert url.startswith("automerge:")
    assert len(parse_document_id(url)) == 16
    assert parse_document_id(url) == parse_document_id(url.removeprefix("automerge:"))
    # the bs58check npm package encodes bytes 0..15 as this string (checked in Node)
    assert b58check_encode(bytes(range(16))) == "1Bhh3pU9gLXZiNDL6PEa1Gs9fh"
    assert b58check_decode("1Bhh3pU9gLXZiNDL6PEa1Gs9fh") == bytes(range(16))
    bad = url[:-1] + ("2" if url[-1] != "2" else "3")
    for text in (bad, "automerge:", "automerge:0OIl", "hello/world", url + "#heads"):
        with pytest.raises(InvalidDocumentId):
            parse_document_id(text)


async def _pair(via_relay: bool, tmp_path):
    relay = None
    a, b = Repo(), Repo()
    if via_relay:
        relay = RelayServer(tmp_path / "relay")
        url = await relay.start()
        await a.connect(url)
    else:
        url = await a.listen()
    await b.connect(url)
    return relay, a, b


@pytest.mark.parametrize("via_relay", [False, True], ids=["direct", "relay"])
def test_two_peers__sync_both_ways_and_ephemeral(via_relay, tmp_path):
    async def main():
        relay, a, b = await _pair(via_relay, tmp_path)
        ha = a.create()
        append_moves(ha, 0, [1, 0])
        hb = await b.find(ha.document_id, timeout=5)
        assert log_of(hb.doc) == [(0, 1), (0, 0)]
        append_moves(hb, 1, [1])
        await ha.wait_for(lambda d: len(log_of(d)) == 3, 5)
        # concurrent appends converge to the same document on both sides
        append_moves(ha, 0, [1])
        append_moves(hb, 1, [0])
        await ha.wait_for(lambda d: len(log_of(d)) == 5, 5)
        await hb.wait_for(lambda d: len(log_of(d)) == 5, 5)
        assert log_of(ha.doc) == log_of(hb.doc) and sorted(ha.heads()) == sorted(hb.heads())
        got = []
        hb.on_ephemeral(lambda sender, payload: got.append((sender, payload)))
        ha.broadcast(b"\x00presence")
        ha.broadcast({"seat": 0, "hello": [1, 2]})
        for _ in range(100):
            if len(got) == 2:
                break
            await asyncio.sleep(0.01)
        assert got == [(a.peer_id, b"\x00presence"), (a.peer_id, {"seat": 0, "hello": [1, 2]})]
        await a.close()
        await b.close()
        if relay:
            assert [h.document_id for h in relay.repo.handles.values()] == [ha.document_id]
            assert log_of(relay.repo.handles[ha.wire_id].doc) == log_of(ha.doc)
            await relay.close()

    run(main())


def test_find__unavailable_and_timeout_are_clear_errors(tmp_path):
    async def main():
        relay = RelayServer(tmp_path / "relay")
        url = await relay.start()
        a = Repo()
        with pytest.raises(DocumentUnavailable, match="connect to a peer first"):
            await a.find(new_document_id(), timeout=0.2)
        await a.connect(url)
        missing = new_document_id()
        with pytest.raises(DocumentUnavailable, match="none of the 1 connected"):
            await a.find(missing, timeout=5)
        with pytest.raises(InvalidDocumentId):
            await a.find("automerge:nope")
        # a document that arrives at the relay later still reaches the peer that asked for it
        b = Repo()
        await b.connect(url)
        hb = b.create()
        hb.change(put("x", 1))
        ha = await a.find(hb.document_id, timeout=5)
        with pytest.raises(SyncTimeout, match=ha.document_id):
            await ha.wait_for(lambda d: am.extract(d).get("x") == 2, 0.1)
        for repo in (a, b, relay):
            await repo.close()

    run(main())
