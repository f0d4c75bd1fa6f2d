"""Bad input and bad networks: garbage and oversized frames, rate limits, tokens, protocol versions,
wrong URLs, refused connections and corrupt storage, each with a clear error and a server that
keeps serving everyone else."""

from __future__ import annotations

import asyncio
import random

import automerge.core as am
import cbor2
import pytest
import websockets
from repo_helpers import append_moves, log_of, put, run

from htjax.sync.errors import SyncError
from htjax.sync.repo import (
    AuthenticationError,
    ConnectionFailed,
    CorruptStorageError,
    DocumentUnavailable,
    InvalidURL,
    Limits,
    PeerError,
    ProtocolVersionError,
    RelayServer,
    Repo,
    new_document_id,
)
from htjax.sync.repo import messages as wire

LIMITS = Limits(max_message_bytes=64 * 1024)


async def _join(ws, peer_id: str) -> dict:
    await ws.send(
        wire.encode(
            {"type": "join", "senderId": peer_id, "peerMetadata": {}, "supportedProtocolVersions": ["1"]}
        )
    )
    return cbor2.loads(await ws.recv())


async def _error_of(ws) -> dict | None:
    """The ``error`` message the server sends before closing (None if it closed without one)."""
    try:
        while True:
            frame = await asyncio.wait_for(ws.recv(), 5)
            message = cbor2.loads(frame)
            if message.get("type") == "error":
                return message
    except websockets.ConnectionClosed:
        return None


def _garbage(rng: random.Random, doc_id: str, x: str = "x") -> object:
    """One bad frame: random bytes, CBOR of the wrong shape, or a message with a bad field."""
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if kind == 1:
        return "a text frame " * rng.randrange(1, 5)
    if kind == 2:
        return cbor2.dumps(rng.choice([7, -1, "sync", [1, 2], None, True, 1.5, b"bytes"]))
    if kind == 3:
        return cbor2.dumps({"no": "type"})
    if kind == 4:
        return cbor2.dumps({"type": rng.choice(["hello", "", "SYNC", 5])})
    if kind == 5:  # a sync message whose data is not an Automerge sync message
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        return wire.encode(
            {"type": "sync", "senderId": x, "targetId": "r", "documentId": doc_id, "data": junk}
        )
    if kind == 6:  # a field of the wrong type
        return wire.encode(
            {"type": "sync", "senderId": x, "targetId": "r", "documentId": doc_id, "data": "text"}
        )
    if kind == 7:
        return wire.encode(
            {
                "type": "request",
                "senderId": x,
                "targetId": "r",
                "documentId": "automerge:bad",
                "data": b"\x42\x00",
            }
        )
    if kind == 8:  # deeply nested CBOR
        return b"\x81" * 5000 + b"\x00"
    return wire.encode(
        {
            "type": "ephemeral",
            "senderId": x,
            "targetId": "r",
            "documentId": doc_id,
            "sessionId": "s",
            "count": -5,
            "data": b"\xa0",
        }
    )


def test_relay__garbage_and_oversized_frames_close_only_that_connection(tmp_path):
    async def main():
        relay = RelayServer(tmp_path / "relay", limits=LIMITS)
        url = await relay.start()
        a, b = Repo(), Repo()
        await a.connect(url)
        await b.connect(url)
        ha = a.create()
        append_moves(ha, 0, [1])
        hb = await b.find(ha.document_id, timeout=5)
        rng = random.Random(13)
        errors: list[str] = []

        async def attack(i: int, frame: object, after_join: bool) -> None:
            async with websockets.connect(url, max_size=None) as ws:
                if after_join:
                    assert (await _join(ws, f"attacker-{i}"))["type"] == "peer"
                await ws.send(frame)
                error = await _error_of(ws)
                errors.append(error["message"] if error else "closed without an error message")

        frames = [(i, _garbage(rng, ha.wire_id, f"attacker-{i}"), i % 2 == 0) for i in range(1000)]
        frames += [
            (2000 + i, b"\xa0" * (LIMITS.max_message_bytes + 1 + i * 300), i % 2 == 0) for i in range(100)
        ]
        for start in range(0, len(frames), 50):
            await asyncio.gather(*(attack(*f) for f in frames[start : start + 50]))
            # between the waves the two honest peers keep syncing through the relay
            append_moves(ha, 0, [start % 2])
            await hb.wait_for(lambda d, n=len(log_of(ha.doc)): len(log_of(d)) == n, 5)
        assert len(errors) == 1100
        assert "closed without an error message" not in errors
        assert sum("over the limit" in e for e in errors) == 100
        assert any("not valid CBOR" in e for e in errors) and any("text frame" in e for e in errors)
        assert any("not an Automerge sync message" in e for e in errors)
        assert any("nesting depth" in e for e in errors)
        assert log_of(hb.doc) == log_of(ha.doc) and len(log_of(ha.doc)) == 1 + 22
        assert sorted(relay.repo.peers) == sorted([a.peer_id, b.peer_id])
        for repo in (a, b, relay):
            await repo.close()

    run(main(), timeout=120)


def test_relay__frames_beyond_twice_the_limit_are_cut_by_the_websocket_layer(tmp_path):
    async def main():
        async with RelayServer(None, limits=LIMITS) as relay:
            async with websockets.connect(relay.url, max_size=None) as ws:
                await _join(ws, "big")
                await ws.send(b"\xa0" * (3 * LIMITS.max_message_bytes))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd.code == 1009
            ok = Repo()
            await ok.connect(relay.url)
            await ok.close()

    run(main())


def test_relay__rate_limit_closes_a_flooding_connection(tmp_path):
    async def main():
        limits = Limits(messages_per_second=50, burst_messages=50)
        async with RelayServer(None, limits=limits) as relay:
            async with websockets.connect(relay.url) as ws:
                await _join(ws, "flood")
                message = wire.encode(
                    {"type": "remote-subscription-change", "senderId": "flood", "targetId": "r"}
                )
                for _ in range(200):
                    try:
                        await ws.send(message)
                    except websockets.ConnectionClosed:
                        break
                error = await _error_of(ws)
            assert error is not None and "more than 50 messages per second" in error["message"]

    run(main())


def test_token__required_wrong_and_right(tmp_path):
    async def main():
        async with RelayServer(tmp_path / "r", token="s3cret") as relay:
            with pytest.raises(AuthenticationError, match="requires a token"):
                await Repo().connect(relay.url)
            with pytest.raises(AuthenticationError, match="wrong token"):
                await Repo().connect(relay.url, token="guess")
            a, b = Repo(), Repo()
            await a.connect(relay.url, token="s3cret")
            await b.connect(relay.url + "/?token=s3cret")  # the form a JS client's URL carries
            ha = a.create()
            ha.change(put("x", 1))
            hb = await b.find(ha.document_id, timeout=5)
            assert am.extract(hb.doc) == {"x": 1}
            await a.close()
            await b.close()

    run(main())


def test_protocol_version_mismatch__both_directions():
    async def main():
        a = Repo()
        url = await a.listen()
        with pytest.raises(ProtocolVersionError, match="protocol version mismatch"):
            await Repo().connect(url, protocol_versions=("2",))
        await a.close()

        async def future_server(ws):  # a server from the future selects a version we do not speak
            join = cbor2.loads(await ws.recv())
            await ws.send(
                wire.encode(
                    {
                        "type": "peer",
                        "senderId": "future",
                        "peerMetadata": {},
                        "selectedProtocolVersion": "2",
                        "targetId": join["senderId"],
                    }
                )
            )
            await ws.wait_closed()

        async with websockets.serve(future_server, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ProtocolVersionError, match="selected protocol version '2'"):
                await Repo().connect(f"ws://127.0.0.1:{port}")

    run(main())


def test_wrong_url_and_refused_connection__clear_errors():
    async def main():
        repo = Repo()
        for url in ("http://127.0.0.1:80", "localhost:3030", "ws://", "ws://127.0.0.1:notaport"):
            with pytest.raises(InvalidURL, match="WebSocket URL|invalid port"):
                await repo.connect(url)
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectionFailed, match="connection refused"):
            await repo.connect(f"ws://127.0.0.1:{port}")

        async def http(reader, writer):  # an ordinary web server, not a sync server
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(http, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ConnectionFailed, match="HTTP 404 instead of a WebSocket upgrade"):
            await repo.connect(f"ws://127.0.0.1:{port}/")
        server.close()

        async def silent(ws):  # accepts the WebSocket, then refuses the join with an error message
            await ws.recv()
            await ws.send(
                wire.encode({"type": "error", "senderId": "s", "targetId": "?", "message": "go away"})
            )

        async with websockets.serve(silent, "127.0.0.1", 0) as s:
            port = s.sockets[0].getsockname()[1]
            with pytest.raises(PeerError, match="go away"):
                await repo.connect(f"ws://127.0.0.1:{port}")
        await repo.close()

    run(main())
    assert issubclass(ConnectionFailed, SyncError)


def test_storage__corrupt_file_is_named_never_dropped(tmp_path):
    async def main():
        repo = Repo(tmp_path)
        handle = repo.create()
        handle.change(put("x", 1))
        await repo.close()
        return handle

    handle = run(main())
    again = Repo(tmp_path)
    assert am.extract(again.handles[handle.wire_id].doc) == {"x": 1}
    (tmp_path / f"{handle.wire_id}.automerge.tmp").write_bytes(b"half a write")  # a killed writer's leftover
    bad = tmp_path / "4NMNnkMhL8jXrdJ9jamS58PAVdXu.automerge"
    bad.write_bytes(b"not automerge at all")
    with pytest.raises(CorruptStorageError, match="4NMNnkMhL8jXrdJ9jamS58PAVdXu.automerge"):
        Repo(tmp_path)
    assert bad.exists()
    bad.unlink()
    (tmp_path / "hello.automerge").write_bytes(handle.doc.save())
    with pytest.raises(
        CorruptStorageError, match="hello.automerge: the file name is not an automerge document id"
    ):
        Repo(tmp_path)
    (tmp_path / "hello.automerge").unlink()
    assert am.extract(Repo(tmp_path).handles[handle.wire_id].doc) == {"x": 1}
    assert not list(tmp_path.glob("*.tmp"))


class PanicException(BaseException):
    """Stands in for pyo3's PanicException (matched by name; derives from BaseException too)."""


class _Panicking:
    """A document whose next receive_sync_message panics, as the Rust binding can on bad data."""

    def __init__(self, doc):
        self._doc = doc

    def __getattr__(self, name):
        return getattr(self._doc, name)

    def receive_sync_message(self, state, message):
        raise PanicException("not yet implemented")


def test_relay__a_binding_panic_restores_the_document_and_drops_only_the_sender(tmp_path):
    async def main():
        async with RelayServer(tmp_path / "relay") as relay:
            a, b, c = Repo(), Repo(), Repo()
            for repo in (a, b):
                await repo.connect(relay.url)
            ha = a.create()
            append_moves(ha, 0, [1, 0])
            hb = await b.find(ha.document_id, timeout=5)
            await hb.wait_synced(5)
            await ha.wait_synced(5)
            await asyncio.sleep(0.1)
            stored = relay.repo.handles[ha.wire_id]
            stored.doc = _Panicking(stored.doc)
            conn_c = await c.connect(relay.url, backoff_base=5.0)
            with pytest.raises(DocumentUnavailable):  # c's request makes the relay's binding panic
                await c.find(ha.document_id, timeout=1)
            assert not conn_c.connected.is_set()
            assert "could not be applied" in str(conn_c.last_error) and "PanicException" in str(
                conn_c.last_error
            )
            assert not isinstance(
                relay.repo.handles[ha.wire_id].doc, _Panicking
            )  # restored from its last save
            assert log_of(relay.repo.handles[ha.wire_id].doc) == [(0, 1), (0, 0)]
            assert sorted(relay.repo.peers) == sorted([a.peer_id, b.peer_id])
            append_moves(hb, 1, [1])  # the others carry on
            await ha.wait_for(lambda d: len(log_of(d)) == 3, 5)
            for repo in (a, b, c):
                await repo.close()

    run(main())


def test_relay__placeholders_are_dropped_and_capped_per_connection(tmp_path):
    async def main():
        limits = Limits(max_documents=20)
        async with RelayServer(None, limits=limits) as relay:
            a = Repo()
            await a.connect(relay.url)
            for _ in range(3):
                with pytest.raises(DocumentUnavailable):
                    await a.find(new_document_id(), timeout=5, grace=0)
            assert len(relay.repo.handles) == 3  # placeholders remember who asked ...
            await a.close()
            for _ in range(100):
                if not relay.repo.handles:
                    break
                await asyncio.sleep(0.01)
            assert relay.repo.handles == {}  # ... until that peer leaves
            async with websockets.connect(relay.url) as ws:
                await _join(ws, "hoarder")
                for _ in range(21):
                    await ws.send(
                        wire.encode(
                            {
                                "type": "request",
                                "senderId": "hoarder",
                                "targetId": "r",
                                "documentId": new_document_id(),
                                "data": b"\x42\x00\x00\x01\x00\x00\x00",
                            }
                        )
                    )
                error = await _error_of(ws)
            assert error is not None and "more than 20 documents on one connection" in error["message"]

    run(main())
