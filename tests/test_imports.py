"""Imports flow one way, and ``import htjax`` stays light.

The layers contract itself lives in ``.importlinter`` (run by ``.ci/run`` as ``lint-imports``);
this test runs it too, so a violation fails the suite on any machine."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_import_htjax_pulls_in_no_heavy_optional_dependency():
    code = (
        "import sys, htjax\n"
        "heavy = ('onnx', 'onnxruntime', 'automerge', 'pettingzoo', 'optax', 'torch', 'typer', 'rich')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"import htjax imported {out.stdout.strip()}"


def test_import_layers_contract_holds():
    code = (
        "import sys; from importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(ROOT / '.importlinter')!r}, no_cache=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "Contracts: " in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_every_module_in_htjax_is_small():
    """One home per rule and legible modules: no module in htjax/ over 600 lines."""
    sizes = {
        str(path.relative_to(ROOT)): sum(1 for _ in path.open()) for path in (ROOT / "htjax").rglob("*.py")
    }
    big = {name: n for name, n in sizes.items() if n > 600}
    assert not big, f"modules over 600 lines: {big}"
