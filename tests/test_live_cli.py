"""`htjax play --host/--join` with bad input: one `error:` line, exit 2, never a traceback; and
the two-terminal walkthrough of docs/p2p.md, executed with two `htjax play` processes."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import subprocess
import sys
import threading

import automerge.core as am
import cbor2
import pytest
import websockets
from typer.testing import CliRunner

import htjax
import htjax.sync as sync
from htjax.cli import app
from htjax.sync.live import new_live_document
from htjax.sync.repo import Repo, new_document_id
from htjax.sync.repo import messages as wire

ROOT = pathlib.Path(__file__).resolve().parent.parent
runner = CliRunner()


class Background:
    """An asyncio loop in a thread, serving what the CLI under test dials."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro, timeout=20):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def served():
    """A repo serving a live IPD game, a document of another schema and a recorded episode."""
    bg = Background()
    ipd = htjax.make("prisoners_dilemma", rounds=2)

    async def start():
        repo = Repo()
        url = await repo.listen()
        live = repo.create(new_live_document(ipd, "open")[0])
        other = am.Document()
        with other.transaction() as tx:
            tx.put(am.ROOT, "title", am.ScalarType.Str, "a shopping list")
        foreign = repo.create(other)
        recorded = repo.create(sync.Recorder.start(ipd, (1, 2)).doc.automerge)

        async def future_server(ws):  # a server that selects a protocol version we do not speak
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

        future = await websockets.serve(future_server, "127.0.0.1", 0)
        port = future.sockets[0].getsockname()[1]
        return (
            repo,
            {
                "url": url,
                "live": live.document_id,
                "foreign": foreign.document_id,
                "recorded": recorded.document_id,
                "future": f"ws://127.0.0.1:{port}",
            },
            future,
        )

    repo, where, future = bg.call(start())
    yield where
    future.close()
    bg.call(repo.close())
    bg.close()


def _one_error_line(result, args, code=2):
    out = result.output + result.stderr
    assert "Traceback" not in out, (args, out)
    assert result.exit_code == code, (args, result.exit_code, out, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
    return lines[0]


def test_bad_live_input__one_error_line_and_exit_2(served):
    doc = new_document_id()
    at = served["url"]
    cases = [
        (("prisoners_dilemma", "--join", "http://127.0.0.1:1/#" + doc), "ws:// or wss://"),
        (("prisoners_dilemma", "--join", at), "#automerge:"),
        (("prisoners_dilemma", "--join", at + "#automerge:not-an-id"), "automerge"),
        (("prisoners_dilemma", "--join", f"ws://127.0.0.1:1/#{doc}"), "127.0.0.1:1"),  # refused
        (("prisoners_dilemma", "--join", f"{served['future']}/#{doc}"), "protocol version"),
        (("prisoners_dilemma", "--join", f"{at}#{served['foreign']}"), "not an htjax episode document"),
        (("prisoners_dilemma", "--join", f"{at}#{served['recorded']}"), "not a live game"),
        (("holdem", "--join", f"{at}#{served['live']}"), "is a game of prisoners_dilemma, not holdem"),
        (("prisoners_dilemma", "--host", "--join", f"{at}#{doc}"), "exclude each other"),
        (("prisoners_dilemma", "--relay", at), "add --host"),
        (("prisoners_dilemma", "--host", "--dealing", "secret"), "--dealing must be one of open, dealer"),
        (("prisoners_dilemma", "--host", "--listen", "nowhere"), "--listen"),
        (("prisoners_dilemma", "--host", "--seat", "7=random"), "seats 0..1"),
        (("prisoners_dilemma", "--host", "--seat", "zero=random"), "SEAT=WHO"),
        (("prisoners_dilemma", "--host", "--seat", "0=random", "--seat", "0=random"), "twice"),
        (("prisoners_dilemma", "--host", "--seat", "1=no_such_policy"), "no_such_policy"),
        (("prisoners_dilemma", "--host", "--relay", "ws://127.0.0.1:1"), "127.0.0.1:1"),
        (("holdem", "--seat", "0=random"), "one seat number"),
    ]
    failures = []
    for args, what in cases:
        result = runner.invoke(app, ["play", *args, "--timeout", "10"])
        try:
            line = _one_error_line(result, args)
            assert what in line, (args, line)
        except AssertionError as err:
            failures.append(str(err))
    assert not failures, "\n".join(failures)


def _walkthrough() -> tuple[str, str]:
    """The two commands of docs/p2p.md's walkthrough (terminal 1 hosts, terminal 2 joins)."""
    text = (ROOT / "docs" / "p2p.md").read_text()
    block = re.search(r"<!-- walkthrough -->\n```bash\n(.*?)```", text, re.S).group(1)
    lines = [line.strip() for line in block.splitlines() if line.strip().startswith("htjax ")]
    host = next(line for line in lines if "--host" in line)
    join = next(line for line in lines if "--join" in line)
    return host, join


def test_the_two_terminal_walkthrough_of_docs_p2p_runs(tmp_path):
    host_cmd, join_cmd = _walkthrough()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    prefix = [sys.executable, "-m"]
    host = subprocess.Popen(
        prefix + host_cmd.split(),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in host.stdout:  # the host prints the game URL first
            lines.append(line)
            if line.startswith("game URL: "):
                url = line.split("game URL: ", 1)[1].strip()
                break
        else:
            pytest.fail("the host printed no game URL:\n" + "".join(lines))
        join_args = [url if a in ("URL", "'URL'") else a for a in join_cmd.split()]
        guest = subprocess.run(
            prefix + join_args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
        )
        rest, _ = host.communicate(timeout=60)
    finally:
        if host.poll() is None:
            host.kill()
    host_out = "".join(lines) + rest
    assert "Traceback" not in guest.stdout + guest.stderr + host_out
    assert guest.returncode == 0 and host.returncode == 0, (guest.stdout, guest.stderr, host_out)
    assert "verified:" in guest.stdout and "private views checked against the deal" in guest.stdout
    assert "verified:" in host_out
    for name in ("host.automerge", "guest.automerge"):  # both peers saved the same, verifying game
        done = subprocess.run(
            prefix + ["htjax", "replay", name],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and "verified" in done.stdout, done.stdout + done.stderr
    a, b = (sync.load(tmp_path / n) for n in ("host.automerge", "guest.automerge"))
    assert a.heads() == b.heads() and a.header.live and a.outcome().finished
