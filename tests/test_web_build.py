"""The page's committed build (``htjax/web/static/``) is what ``npm run build-web`` makes from
``web/`` and ``package-lock.json`` today: rebuilt into a temporary folder, byte for byte."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from htjax.web.app import STATIC

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _files(folder: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_committed_static_build_is_up_to_date(node_modules, tmp_path):
    node = shutil.which("node")
    assert node is not None, "node is needed to rebuild the page (the node_modules fixture says how)"
    done = subprocess.run(
        [node, str(ROOT / "web" / "build.mjs"), "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built, committed = _files(tmp_path), _files(STATIC)
    assert sorted(built) == sorted(committed), "the build makes other files than htjax/web/static holds"
    stale = [name for name in built if built[name] != committed[name]]
    assert not stale, f"htjax/web/static is stale ({', '.join(stale)}): run `npm run build-web` and commit it"


@pytest.mark.parametrize(
    "name", ["app.js", "automerge.wasm", "ort/ort-wasm-simd-threaded.wasm", "index.html"]
)
def test_the_page_needs_nothing_from_a_cdn(name):
    data = (STATIC / name).read_bytes()
    if name.endswith((".js", ".html")):
        text = data.decode()
        for host in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "googleapis.com"):
            assert host not in text, f"{name} refers to {host}"
    assert len(data) > 0
