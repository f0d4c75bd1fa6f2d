"""Reconnection and restarts: a dropped peer redials with back-off and catches up; a peer restarted
from its storage folder and a relay killed (SIGKILL) and restarted on the same folder lose nothing."""

from __future__ import annotations

import asyncio
import socket

from repo_helpers import RelayProcess, append_moves, log_of, run

from htjax.sync.repo import RelayServer, Repo
from htjax.sync.repo.storage import FolderStorage

FAST = {"backoff_base": 0.05, "backoff_max": 0.3}


def test_dropped_peer__redials_and_catches_up(tmp_path):
    async def main():
        async with RelayServer(tmp_path / "relay") as relay:
            a, b = Repo(), Repo()
            await a.connect(relay.url, **FAST)
            conn_b = await b.connect(relay.url, **FAST)
            ha = a.create()
            append_moves(ha, 0, [1, 1])
            hb = await b.find(ha.document_id, timeout=5)
            # cut b's socket from the relay side, as a network failure would
            relay.repo._peers[b.peer_id].ws.transport.abort()
            await asyncio.sleep(0.01)
            append_moves(ha, 0, [0, 0, 0])  # written while b is away
            append_moves(hb, 1, [1])  # b writes offline too
            await hb.wait_for(lambda d: len(log_of(d)) == 6, 10)
            await ha.wait_for(lambda d: len(log_of(d)) == 6, 10)
            assert conn_b.connects >= 2 and conn_b.connected.is_set()
            assert log_of(ha.doc) == log_of(hb.doc)
            await a.close()
            await b.close()

    run(main())


def test_peer_restarted_from_storage__keeps_its_writes_and_catches_up(tmp_path):
    async def main():
        async with RelayServer(tmp_path / "relay") as relay:
            a = Repo()
            await a.connect(relay.url, **FAST)
            b = Repo(tmp_path / "b")
            await b.connect(relay.url, **FAST)
            ha = a.create()
            append_moves(ha, 0, [1])
            hb = await b.find(ha.document_id, timeout=5)
            # b goes away without closing (its process dies); its writes are already on disk
            for connection in b._connections:
                connection._closing = True
                connection._task.cancel()
            b._peers[relay.repo.peer_id].ws.transport.abort()
            append_moves(hb, 1, [0])  # b's last write, never sent
            await asyncio.sleep(0)  # storage writes happen at the end of the loop turn of the change
            append_moves(ha, 0, [1, 0])
            await ha.wait_for(lambda d: len(log_of(d)) == 3, 5)
            b2 = Repo(tmp_path / "b", peer_id=b.peer_id)
            hb2 = b2.handles[ha.wire_id]
            assert log_of(hb2.doc) == [(0, 1), (1, 0)]
            await b2.connect(relay.url, **FAST)
            await hb2.wait_for(lambda d: len(log_of(d)) == 4, 10)
            await ha.wait_for(lambda d: len(log_of(d)) == 4, 10)
            assert (
                sorted(log_of(ha.doc)) == sorted(log_of(hb2.doc)) == sorted([(0, 1), (1, 0), (0, 1), (0, 0)])
            )
            await a.close()
            await b2.close()

    run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_relay_killed_and_restarted__loses_nothing(tmp_path):
    storage = tmp_path / "relay"
    port = str(_free_port())
    relay = RelayProcess(storage, "--port", port)
    try:

        async def main():
            nonlocal relay
            a, b = Repo(), Repo()
            await a.connect(relay.url, **FAST)
            await b.connect(relay.url, **FAST)
            ha = a.create()
            append_moves(ha, 0, [1, 0, 1])
            hb = await b.find(ha.document_id, timeout=5)
            append_moves(hb, 1, [1, 1])
            await ha.wait_for(lambda d: len(log_of(d)) == 5, 5)
            await ha.wait_synced(5)
            relay.kill()  # SIGKILL: no chance to flush anything
            stored = FolderStorage(storage).load(ha.wire_id)
            assert stored is not None and log_of(stored) == log_of(ha.doc)
            append_moves(ha, 0, [0])  # while the relay is down
            relay = RelayProcess(storage, "--port", port)
            assert "1 document" in relay.first_line
            await hb.wait_for(lambda d: len(log_of(d)) == 6, 15)
            append_moves(hb, 1, [0])
            await ha.wait_for(lambda d: len(log_of(d)) == 7, 10)
            await hb.wait_synced(5)
            await a.close()
            await b.close()
            return log_of(ha.doc)

        final = run(main(), timeout=60)
        relay.stop()
        assert log_of(FolderStorage(storage).load(next(iter(FolderStorage(storage).ids())))) == final
    finally:
        relay.stop()


def test_storage__incremental_saves_and_compaction_reload_exactly(tmp_path):
    async def main():
        repo = Repo(tmp_path)
        handle = repo.create()
        append_moves(handle, 0, [i % 2 for i in range(150)])  # past two compactions (every 64)
        assert len(handle._chunks) < 64
        await repo.close()
        return handle

    handle = run(main())
    again = Repo(tmp_path).handles[handle.wire_id]
    assert log_of(again.doc) == log_of(handle.doc) and again.heads() == handle.heads()


def test_peer_process_killed_mid_game__restarts_and_nothing_is_lost(tmp_path):
    import sys

    from repo_helpers import ROOT_DIR

    async def peer(document_id: str, url: str):
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT_DIR / "tests" / "repo_peer.py"),
            url,
            str(tmp_path / "b"),
            "peer-b",
            document_id,
            "30",
            stdout=asyncio.subprocess.PIPE,
            env={**__import__("os").environ, "PYTHONPATH": f"{ROOT_DIR}:{ROOT_DIR / 'tests'}"},
        )

    async def main():
        async with RelayServer(tmp_path / "relay") as relay:
            a = Repo()
            await a.connect(relay.url, **FAST)
            ha = a.create()
            append_moves(ha, 0, [1])
            await ha.wait_synced(5)
            b = await peer(ha.document_id, relay.url)
            while (await asyncio.wait_for(b.stdout.readline(), 30)).strip() != b"moves 8":
                pass
            b.kill()  # SIGKILL mid-game
            await b.wait()
            append_moves(ha, 0, [0])  # a keeps playing while b is down
            seen_before = log_of(ha.doc)
            assert len(seen_before) >= 3  # some of b's moves reached a before the kill
            b = await peer(ha.document_id, relay.url)  # the same peer id and storage folder
            out, _ = await asyncio.wait_for(b.communicate(), 60)
            assert b.returncode == 0 and out.decode().splitlines()[-1] == "done"
            await ha.wait_for(lambda d: sum(1 for s, _ in log_of(d) if s == 1) == 30, 10)
            final = log_of(ha.doc)
            assert all(entry in final for entry in seen_before)  # nothing a saw is lost
            assert [m for s, m in final if s == 1] == list(range(30))  # b resumed where it stopped
            assert log_of(relay.repo.handles[ha.wire_id].doc) == final
            await a.close()

    run(main(), timeout=120)
