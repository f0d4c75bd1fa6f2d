"""`htjax play --host/--join` with bad input: one `error:` line, exit 2, never a traceback; and
the two-terminal walkthrough of docs/p2p.md, executed with two `htjax play` processes."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import shlex
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


def _commands(marker: str) -> list[str]:
    """The ``htjax`` command lines of a docs/p2p.md bash block after ``<!-- marker -->``."""
    text = (ROOT / "docs" / "p2p.md").read_text()
    block = re.search(rf"<!-- {marker} -->\n```bash\n(.*?)```", text, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _argv(command: str, url: str = "") -> tuple[list[str], str | None]:
    """``python -m htjax ...`` for a documented command line (``URL`` replaced); a ``printf ... |``
    prefix becomes the process's standard input."""
    stdin = None
    if " | " in command:
        feed, command = command.split(" | ", 1)
        stdin = shlex.split(feed)[1].encode().decode("unicode_escape")
    words = [url if w == "URL" else w for w in shlex.split(command)]
    assert words[0] == "htjax", command
    return [sys.executable, "-m", *words], stdin


def _start_host(argv, cwd):
    host = subprocess.Popen(
        argv, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in host.stdout:  # the host prints the game URL first
        lines.append(line)
        if line.startswith("game URL: "):
            return host, line.split("game URL: ", 1)[1].strip(), lines
    host.kill()
    pytest.fail("the host printed no game URL:\n" + "".join(lines))


def _finish(host, host_lines, guest, cwd):
    assert guest.returncode == 0 and "Traceback" not in guest.stderr, (guest.stdout, guest.stderr)
    rest, _ = host.communicate(timeout=60)
    host_out = "".join(host_lines) + rest
    assert "Traceback" not in guest.stdout + guest.stderr + host_out
    assert guest.returncode == 0 and host.returncode == 0, (guest.stdout, guest.stderr, host_out)
    assert "verified:" in guest.stdout and "verified:" in host_out
    for name in ("host.automerge", "guest.automerge"):  # both peers saved the same, verifying game
        done = subprocess.run(
            [sys.executable, "-m", "htjax", "replay", name],
            cwd=cwd,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and "verified" in done.stdout, done.stdout + done.stderr
    a, b = (sync.load(cwd / n) for n in ("host.automerge", "guest.automerge"))
    assert a.heads() == b.heads() and a.header.live and a.outcome().finished
    return host_out


def test_the_two_terminal_walkthrough_of_docs_p2p_runs(tmp_path):
    host_cmd, join_cmd = _commands("walkthrough")
    host, url, lines = _start_host(_argv(host_cmd)[0], tmp_path)
    try:
        argv, stdin = _argv(join_cmd, url)
        guest = subprocess.run(
            argv, cwd=tmp_path, env=ENV, input=stdin, capture_output=True, text=True, timeout=240
        )
        _finish(host, lines, guest, tmp_path)
    finally:
        if host.poll() is None:
            host.kill()
    assert "private views checked against the deal" in guest.stdout  # dealer mode: hold'em


def test_the_relay_walkthrough_of_docs_p2p_runs_with_a_person_typing(tmp_path):
    relay_cmd, host_cmd, join_cmd = _commands("relay walkthrough")
    relay_argv = [w if w != "3030" else "0" for w in _argv(relay_cmd)[0]]
    relay = subprocess.Popen(
        relay_argv, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    host = None
    try:
        first = relay.stdout.readline()
        relay_url = re.search(r"ws://\S+", first).group(0)
        host, url, lines = _start_host(
            [relay_url if w == "ws://127.0.0.1:3030" else w for w in _argv(host_cmd)[0]], tmp_path
        )
        assert url.startswith(relay_url)
        argv, stdin = _argv(join_cmd, url)
        assert stdin == "cooperate\ndefect\ncooperate\n"
        guest = subprocess.run(
            argv, cwd=tmp_path, env=ENV, input=stdin, capture_output=True, text=True, timeout=240
        )
        _finish(host, lines, guest, tmp_path)
    finally:
        for proc in (host, relay):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert "your move" in guest.stdout  # the person was asked, and the moves typed were played
    moves = [e.action for e in sync.load(tmp_path / "guest.automerge").entries() if e.seat == 1]
    assert moves == [0, 1, 0]
