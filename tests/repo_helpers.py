"""Shared helpers of the tests/test_sync_repo_*.py modules: bounded asyncio runs, tiny documents."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import subprocess
import sys
from typing import Any, Awaitable

import automerge.core as am
from automerge.core import ROOT
from automerge.core import ScalarType as S

ROOT_DIR = pathlib.Path(__file__).resolve().parent.parent


def run(coro: Awaitable[Any], timeout: float = 30.0) -> Any:
    """Run ``coro`` on a fresh event loop, failing (never hanging) after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def put(key: str, value: int):
    """A change function writing ``key = value`` (Int) at the root."""
    return lambda tx: tx.put(ROOT, key, S.Int, value)


def append_moves(handle, seat: int, moves: list[int]) -> None:
    """Append ``moves`` to the list ``log`` of ``handle`` (one change each), as an episode log would."""
    for move in moves:

        def add(tx, move=move):
            log = handle.doc.get(ROOT, "log")
            if log is None:
                log = tx.put_object(ROOT, "log", am.ObjType.List)
            else:
                log = log[1]
            entry = tx.insert_object(log, handle.doc.length(log), am.ObjType.Map)
            tx.put(entry, "seat", S.Int, seat)
            tx.put(entry, "action", S.Int, move)

        handle.change(add)


def log_of(doc) -> list[tuple[int, int]]:
    return [(e["seat"], e["action"]) for e in am.extract(doc).get("log", [])]


class RelayProcess:
    """``htjax relay`` in a subprocess on a free port; ``url`` once it listens."""

    def __init__(self, storage: pathlib.Path, *extra: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT_DIR)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "htjax", "relay", "--port", "0", "--storage", str(storage), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.first_line = self.proc.stdout.readline()
        match = re.search(r"ws://\S+", line)
        if not match:
            self.proc.kill()
            raise AssertionError(f"htjax relay did not start: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.url = match.group(0)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
