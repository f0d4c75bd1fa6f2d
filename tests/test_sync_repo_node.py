"""Interop: a Python peer and a Node automerge-repo client sync one episode document through the
official JS sync server (js/sync_server.mjs) and through ``htjax relay``.

The Node client (js/repo_client.mjs) finds the document, writes a key into it and broadcasts an
ephemeral message; the Python peer sees both, broadcasts back and acknowledges in the document.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess

import automerge.core as am
import jax
import pytest
from automerge.core import ROOT
from automerge.core import ScalarType as S
from repo_helpers import ROOT_DIR, RelayProcess, run
from sync_helpers import TOY_ENVS

import htjax
import htjax.sync as sync
from htjax.sync.repo import Repo, with_token

pytestmark = pytest.mark.usefixtures("node_modules")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the JavaScript interop test needs Node.js (>= 18)")
    return node


class JsServer:
    def __init__(self, storage):
        self.proc = subprocess.Popen(
            [_node(), str(ROOT_DIR / "js" / "sync_server.mjs"), "--port", "0", "--storage", str(storage)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT_DIR,
        )
        line = self.proc.stdout.readline()
        match = re.search(r"ws://\S+", line)
        if not match:
            self.proc.kill()
            raise AssertionError(
                f"js/sync_server.mjs did not start: {line!r} {self.proc.stderr.read()[-2000:]}"
            )
        self.url = match.group(0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def episode() -> sync.EpisodeDoc:
    env = TOY_ENVS[0]()
    out = htjax.rollout(env, htjax.random_policy, jax.random.PRNGKey(3), 1, 12, record_observations=False)
    return sync.record(env, out.trajectory, [0])[0]


@pytest.mark.parametrize("server", ["js", "relay", "relay-token"])
def test_python_peer_and_node_client__sync_one_episode(server, episode, tmp_path):
    token = "s3cret" if server == "relay-token" else None
    if server == "js":
        srv = JsServer(tmp_path / "js")
    else:
        srv = RelayProcess(tmp_path / "relay", *(["--token", token] if token else []))
    try:
        run(_exchange(srv.url, episode, token), timeout=60)
    finally:
        srv.stop()


async def _exchange(url: str, episode: sync.EpisodeDoc, token: str | None) -> None:
    repo = Repo()
    await repo.connect(url, token=token)
    handle = repo.create(am.Document.load(episode.to_bytes()))
    await handle.wait_synced(10)  # the server holds the episode before Node asks for it
    heard = []
    handle.on_ephemeral(lambda sender, payload: heard.append((sender, payload)))
    node = await asyncio.create_subprocess_exec(
        _node(),
        str(ROOT_DIR / "js" / "repo_client.mjs"),
        with_token(url, token),  # a JS client carries the token in its adapter's URL
        handle.document_id,
        "30000",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT_DIR,
    )
    try:
        await handle.wait_for(lambda d: am.extract(d).get("node_note") == "hello from node", 30)
        for _ in range(200):
            if heard:
                break
            await asyncio.sleep(0.01)
        handle.broadcast(b"\x01\x02py")
        await asyncio.sleep(0.2)  # ephemeral messages are not stored: send before the ack ends the client
        handle.change(lambda tx: tx.put(ROOT, "python_ack", S.Int, 1))
        out, err = await asyncio.wait_for(node.communicate(), 30)
    finally:
        if node.returncode is None:
            node.kill()
    assert node.returncode == 0, err.decode()[-3000:]
    events = [json.loads(line) for line in out.decode().splitlines()]
    found = next(e for e in events if e["event"] == "found")["doc"]
    py_entries = episode.entries()
    assert [(e["step"], e["seat"], e["action"]) for e in found["log"]] == [
        (e.step, e.seat, e.action) for e in py_entries
    ]
    assert found["schema"] == sync.SCHEMA and found["env"]["id"] == episode.header.env_id
    assert {"event": "ephemeral", "sender": repo.peer_id, "message": "01027079"} in events
    assert events[-1]["event"] == "ack" and events[-1]["doc"]["python_ack"] == 1
    [(sender, payload)] = heard
    assert sender != repo.peer_id and payload == {"from": "node", "bytes": b"\x01\x02\x03"}
    # the synced document, with Node's key in it, is still the same verifiable episode
    synced = sync.EpisodeDoc(handle.doc)
    assert synced.entries() == py_entries
    sync.replay(synced)
    await repo.close()


@pytest.mark.parametrize("server", ["js", "relay"])
def test_doc_unavailable__answered_by_both_servers(server, tmp_path):
    from htjax.sync.repo import DocumentUnavailable, new_document_id

    srv = JsServer(tmp_path / "js") if server == "js" else RelayProcess(tmp_path / "relay")

    async def main():
        repo = Repo()
        await repo.connect(srv.url)
        with pytest.raises(DocumentUnavailable, match="none of the 1 connected peer"):
            await repo.find(new_document_id(), timeout=20, grace=0.2)
        await repo.close()

    try:
        run(main(), timeout=30)
    finally:
        srv.stop()
    assert srv.proc.returncode == 0  # and both shut down cleanly afterwards
