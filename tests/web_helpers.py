"""Helpers of the web tests: ``htjax serve`` in a subprocess or in a thread, JSON over HTTP,
and Debian's Chromium for Playwright (never a downloaded browser)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def http(url: str, body: bytes | dict | None = None, timeout: float = 60.0) -> tuple[int, Any]:
    """GET (or POST ``body``: bytes as is, a dict as JSON) ``url``; ``(status, parsed JSON)``."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


class ServeProcess:
    """``htjax serve --port 0`` in a subprocess; :attr:`url` is the page's address."""

    def __init__(self, episodes: pathlib.Path, timeout: float = 120.0):
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.log = episodes.parent / "serve.log"
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "htjax.cli", "serve", "--port", "0", "--episodes", str(episodes)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        self.url = ""
        reader = threading.Thread(target=self._read_url, daemon=True)
        reader.start()
        reader.join(timeout)
        if not self.url:
            self.stop()
            raise AssertionError(f"htjax serve printed no URL within {timeout:g} s:\n{self.log.read_text()}")

    def _read_url(self) -> None:
        for line in self.proc.stdout:
            found = re.search(r"http://\S+/", line)
            if found:
                self.url = found.group(0)
                return

    def wait_warm(self, games: tuple[str, ...], timeout: float = 600.0) -> float:
        """Wait until the server's warm-up compiled ``games``; the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            status, config = http(self.url + "api/config")
            if status == 200 and set(games) <= set(config["warmed"]):
                return time.monotonic() - start
            assert self.proc.poll() is None, f"htjax serve exited:\n{self.log.read_text()}"
            time.sleep(0.5)
        raise AssertionError(f"the server did not warm up {games} in {timeout:g} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


class ThreadServer:
    """The web app under uvicorn in a thread of this process (``port`` 0: a free port)."""

    def __init__(self, app):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
