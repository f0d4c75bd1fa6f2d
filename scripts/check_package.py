#!/usr/bin/env python3
"""The packaging check (run by .ci/run after the tests): htjax as users install it.

    python scripts/check_package.py [--python PYTHON] [--keep]

1. Builds the sdist and, from the sdist, the wheel (``python -m build``), so a build from the
   sdist alone is checked too; both must carry the shipped policies and their model cards.
2. Installs the wheel (not editable) into a fresh virtual environment: a plain ``venv`` (made by
   ``--python``, default this interpreter) that sees no installed package, its dependencies
   installed by pip from the index, as a user's would be.
3. From an empty folder outside the checkout, with ``PYTHONPATH`` unset, runs ``htjax envs``, a
   short ``htjax demo``, ``htjax play`` against a shipped policy by name (stdin scripted),
   ``htjax tournament`` with a shipped policy by name, ``htjax record`` + ``htjax replay``, and
   the Gymnasium adapter against a shipped opponent by name.

Any failure exits non-zero and prints the failing command with its output. ``--keep`` leaves
the temporary folder (printed) in place.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICIES = sorted(p.name for p in (ROOT / "htjax" / "policies").iterdir() if p.suffix in (".onnx", ".json"))
# the built web page of `htjax serve` (committed build output: pip users need no Node)
WEB_STATIC = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "htjax" / "web" / "static").rglob("*") if p.is_file()
)
# what a build, the tests and the JavaScript reader need from the sdist (besides the htjax package)
SDIST_NEEDS = (
    "pyproject.toml",
    "README.md",
    "package.json",
    "package-lock.json",
    "js/read_episode.mjs",
    "web/build.mjs",
    "web/src/main.js",
    "tests/conftest.py",
    "docs/installing.md",
)

# the installed package, used from the empty folder: where htjax is, and its policies and adapter
IMPORT_CHECK = """
import json, pathlib, sys
import htjax, htjax.policies
from htjax.adapters.gymnasium import HtjaxOpponentsEnv
env = HtjaxOpponentsEnv("holdem", opponents={1: "holdem"})
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(int(info["action_mask"].argmax()))
card = htjax.policies.model_card("ipd")
print(json.dumps({"file": htjax.__file__, "prefix": sys.prefix, "names": list(htjax.policies.names()),
                  "card": card["file"], "policy": str(htjax.policies.path("holdem"))}))
"""


class CheckFailed(Exception):
    pass


def step(title: str):
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def run(
    cmd: list[str],
    *,
    cwd: pathlib.Path,
    env: dict | None = None,
    stdin: str | None = None,
    timeout: int = 900,
) -> str:
    """Run ``cmd``; its stdout, or CheckFailed with the command and the tail of its output."""
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    shown = " ".join(a if "\n" not in a else "'...'" for a in cmd)
    print(f"$ {shown}   ({time.perf_counter() - start:.1f} s, exit {done.returncode})", flush=True)
    if done.returncode != 0:
        raise CheckFailed(
            f"{shown} exited {done.returncode} in {cwd}\n--- stdout\n{done.stdout[-4000:]}"
            f"\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done.stdout


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def build(tmp: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    t = step("build the sdist, then the wheel from the sdist")
    dist = tmp / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], cwd=tmp)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    expect(len(wheels) == 1 and len(sdists) == 1, f"expected one wheel and one sdist in {dist}")
    wheel, sdist = wheels[0], sdists[0]
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = [p for p in POLICIES if f"htjax/policies/{p}" not in in_wheel]
    expect(bool(POLICIES) and not missing, f"{wheel.name} lacks shipped policy files {missing}")
    missing = [p for p in WEB_STATIC if p not in in_wheel]
    expect(bool(WEB_STATIC) and not missing, f"{wheel.name} lacks the web page's files {missing}")
    top = sdist.name[: -len(".tar.gz")]
    with tarfile.open(sdist) as archive:
        in_sdist = set(archive.getnames())
    missing = [
        p for p in (*SDIST_NEEDS, *(f"htjax/policies/{p}" for p in POLICIES)) if f"{top}/{p}" not in in_sdist
    ]
    expect(not missing, f"{sdist.name} lacks {missing}")
    print(
        f"{wheel.name}: {wheel.stat().st_size:,} bytes, {len(in_wheel)} files incl. {len(POLICIES)} policy files; "
        f"{sdist.name}: {sdist.stat().st_size:,} bytes ({time.perf_counter() - t:.1f} s)"
    )
    return wheel, sdist


def install(tmp: pathlib.Path, wheel: pathlib.Path, python: str) -> pathlib.Path:
    t = step(f"install the wheel into a fresh virtual environment ({python})")
    venv = tmp / "venv"
    run([python, "-m", "venv", str(venv)], cwd=tmp)
    venv_python = str(venv / "bin" / "python")
    run(
        [venv_python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", str(wheel)],
        cwd=tmp,
        env=clean_env(venv),
    )
    versions = run([venv_python, "-m", "pip", "list", "--format", "json"], cwd=tmp, env=clean_env(venv))
    pins = {p["name"].lower(): p["version"] for p in json.loads(versions)}
    shown = ", ".join(
        f"{n} {pins[n]}" for n in ("jax", "jaxlib", "numpy", "automerge", "onnxruntime") if n in pins
    )
    print(f"installed ({time.perf_counter() - t:.1f} s): {shown}")
    return venv


def clean_env(venv: pathlib.Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["COLUMNS"] = "200"  # rich wraps at the terminal width; keep checked phrases on one line
    return env


def smoke(tmp: pathlib.Path, venv: pathlib.Path) -> None:
    work = tmp / "empty"
    work.mkdir()
    expect(not work.resolve().is_relative_to(ROOT.resolve()), f"{work} must lie outside the checkout {ROOT}")
    env = clean_env(venv)
    htjax = str(venv / "bin" / "htjax")

    t = step("the installed package, from an empty folder")
    info = json.loads(
        run([str(venv / "bin" / "python"), "-c", IMPORT_CHECK], cwd=work, env=env).splitlines()[-1]
    )
    site = pathlib.Path(info["prefix"]).resolve()
    expect(
        pathlib.Path(info["file"]).resolve().is_relative_to(site),
        f"htjax was imported from {info['file']}, not from the virtual environment {site}",
    )
    expect(
        pathlib.Path(info["policy"]).resolve().is_relative_to(site),
        f"policy file {info['policy']} not installed",
    )
    shipped = sorted({p.rsplit(".", 1)[0] for p in POLICIES if p.endswith(".onnx")})
    expect(info["names"] == shipped, f"installed policies {info['names']}, shipped {shipped}")
    print(f"htjax at {info['file']}; policies {info['names']} ({time.perf_counter() - t:.1f} s)")

    step("htjax envs")
    out = run([htjax, "envs"], cwd=work, env=env)
    expect(all(e in out for e in ("blackjack", "holdem", "prisoners_dilemma")), f"htjax envs lists:\n{out}")

    step("a short htjax demo")
    run([htjax, "demo", "--num-envs", "256", "--steps", "50", "--no-train"], cwd=work, env=env)

    step("htjax play against a shipped policy by name (scripted stdin)")
    out = run(
        [htjax, "play", "holdem", "--opponent", "holdem", "--games", "1", "--seed", "3"],
        cwd=work,
        env=env,
        stdin="check/call\n" * 40,
    )
    expect("holdem.onnx" in out and "1 game finished" in out, f"htjax play printed:\n{out}")

    step("htjax tournament with a shipped policy by name")
    out = run(
        [htjax, "tournament", "--policy", "ipd", "--players", "TitForTat,Defector", "-r", "2", "--json"],
        cwd=work,
        env=env,
    )
    expect("ipd.onnx" in json.loads(out)["names"], f"htjax tournament printed:\n{out}")

    step("htjax record + htjax replay")
    run(
        [htjax, "record", "blackjack", "-n", "4", "-t", "20", "-w", "0", "--out", "episodes"],
        cwd=work,
        env=env,
    )
    files = sorted((work / "episodes").glob("*.automerge"))
    expect(len(files) >= 1, f"htjax record wrote {files}")
    out = run([htjax, "replay", str(files[0].relative_to(work))], cwd=work, env=env)
    expect("blackjack" in out, f"htjax replay printed:\n{out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--python", default=sys.executable, help="the Python that makes the virtual environment")
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="htjax-package-check-"))
    start = time.perf_counter()
    try:
        wheel, _ = build(tmp)
        venv = install(tmp, wheel, args.python)
        smoke(tmp, venv)
    except (CheckFailed, subprocess.TimeoutExpired) as err:
        print(f"\npackaging check FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\npackaging check passed in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
