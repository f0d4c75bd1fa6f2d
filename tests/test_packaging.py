"""Installable as users install it: the wheel carries the shipped policies, the Python versions are
honest, the Installing docs stay true, and policies load by name or path (htjax.policies).

The out-of-checkout smoke run (a fresh virtual environment, an empty folder) is
scripts/check_package.py, which .ci/run runs after the tests.
"""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import htjax.policies
from htjax import package_data
from htjax.train.onnx_policy import OnnxPolicy

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
README = (ROOT / "README.md").read_text()
INSTALLING = (ROOT / "docs" / "installing.md").read_text()
POLICY_DIR = ROOT / "htjax" / "policies"
MINORS = range(6, 20)  # the CPython 3 minor versions considered


def _supported(spec: str | SpecifierSet) -> set[str]:
    spec = SpecifierSet(str(spec))
    return {f"3.{m}" for m in MINORS if spec.contains(f"3.{m}")}


SUPPORTED = _supported(PROJECT["requires-python"])


def _section(text: str, heading: str) -> str:
    """The body of the markdown section ``heading`` (up to the next heading of the same level)."""
    level = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, re.MULTILINE)
    assert level, f"no section {heading!r}"
    rest = text[level.end() :]
    end = re.search(rf"^{level.group(1)} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def _versions(text: str) -> set[str]:
    return set(re.findall(r"\b3\.\d+\b", text))


# ------------------------------------------------------------------ the built wheel and sdist
@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, pathlib.Path]:
    """The sdist, and the wheel built from it (``python -m build``), in a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,), (sdist,) = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    return {"wheel": wheel, "sdist": sdist}


def test_wheel__carries_every_shipped_policy_and_its_model_card(dists):
    shipped = sorted(p.stem for p in POLICY_DIR.glob("*.onnx"))
    assert shipped == list(htjax.policies.names()) and len(shipped) >= 3
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    for stem in shipped:
        assert (POLICY_DIR / f"{stem}.json").is_file(), f"{stem}.onnx has no model card"
        assert {f"htjax/policies/{stem}.onnx", f"htjax/policies/{stem}.json"} <= names, stem
    assert {"htjax/policies/__init__.py", "htjax/package_data.py"} <= names
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        for stem in shipped:  # the packaged bytes are the checked-in files
            assert wheel.read(f"htjax/policies/{stem}.onnx") == (POLICY_DIR / f"{stem}.onnx").read_bytes()
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        fields = wheel.read(metadata).decode()
    assert f"Requires-Python: {SpecifierSet(PROJECT['requires-python'])}" in fields
    assert not [n for n in names if n.startswith(("tests/", "policies/", "node_modules/"))]


def test_sdist__holds_what_a_build_the_tests_and_the_js_reader_need(dists):
    with tarfile.open(dists["sdist"]) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        names = {n[len(top) + 1 :] for n in sdist.getnames()}
    wanted = [
        str(p.relative_to(ROOT))
        for d in ("htjax", "tests", "docs", "js")
        for p in (ROOT / d).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    wanted += ["pyproject.toml", "README.md", "package.json", "package-lock.json"]
    missing = [t for t in wanted if t not in names]
    assert not missing, f"the sdist lacks {missing[:10]}"
    assert not [n for n in names if n.startswith(("node_modules/", ".venv/"))]


# ------------------------------------------------------------------ honest Python versions
def test_requires_python__is_exactly_where_every_pinned_dependency_installs():
    """requires-python == the Pythons that every dependency's own Requires-Python allows (as
    installed) and that the recorded wheel ranges ([tool.htjax.python-support]) allow."""
    allowed = {f"3.{m}" for m in MINORS}
    for dep in PROJECT["dependencies"]:
        req = Requirement(dep)
        dist = importlib.metadata.distribution(req.name)
        assert req.specifier.contains(dist.version, prereleases=True), (
            f"installed {req.name} {dist.version} vs {dep}"
        )
        own = dist.metadata.get("Requires-Python")
        if own:
            allowed &= _supported(own)
    wheels = PYPROJECT["tool"]["htjax"]["python-support"]
    for pin, minors in wheels.items():
        req = Requirement(pin)
        assert pin in PROJECT["dependencies"], f"{pin} is not a dependency pin of pyproject.toml"
        dist = importlib.metadata.distribution(req.name)
        assert req.specifier.contains(dist.version, prereleases=True)
        tags = [
            line.split(":", 1)[1].strip()
            for line in dist.read_text("WHEEL").splitlines()
            if line.startswith("Tag:")
        ]
        here = f"3.{sys.version_info.minor}"
        assert any(t.startswith(f"cp3{sys.version_info.minor}-") for t in tags) and here in minors, (
            pin,
            tags,
        )
        allowed &= set(minors)
    assert SUPPORTED == allowed and f"3.{sys.version_info.minor}" in SUPPORTED
    classifiers = {
        c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c)
    }
    assert classifiers == SUPPORTED
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + min(
        SUPPORTED, key=lambda v: int(v[2:])
    ).replace(".", "")


def test_readme__states_the_supported_versions_and_the_whole_set_up():
    quick = _section(README, "Quick start")
    installing = _section(README, "Installing")
    assert _versions(quick) and _versions(quick) <= SUPPORTED
    stated = re.search(r"^Supported: Python ([0-9. and,]+);", installing, re.MULTILINE)
    assert stated and _versions(stated.group(1)) == SUPPORTED, (
        "README's Installing section names the supported Pythons"
    )
    assert (
        'pip install -e ".[test]" && python -m pytest' in quick and "pip install -e . && htjax demo" in quick
    )
    assert "Node.js" in quick and "docs/installing.md" in installing
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert 'pip install -e ".[test]" && python -m pytest' in commands
    assert not [c for c in commands if "npm" in c], ".ci/run must not prepare more than the README's command"
    assert "python scripts/check_package.py" in commands


def test_installing_docs__versions_installs_and_extras_are_true():
    versions = _section(INSTALLING, "Python versions")
    stated = re.search(r"^Supported: Python (.*)$", versions, re.MULTILINE)
    assert stated and _versions(stated.group(1)) == SUPPORTED
    assert f"not in '{SpecifierSet(PROJECT['requires-python'])}'" in versions  # pip's refusal, quoted
    automerge = next(d for d in PROJECT["dependencies"] if d.startswith("automerge"))
    jax = Requirement(next(d for d in PROJECT["dependencies"] if d.startswith("jax>")))
    assert f"`{automerge}`" in versions and f"JAX {str(jax.specifier).lstrip('>=')}" in versions
    extras = PROJECT["optional-dependencies"]
    assert "```bash\npip install htjax\n```" in _section(INSTALLING, "CPU install (the default everywhere)")
    gpu = _section(INSTALLING, "GPU install")
    assert '```bash\npip install "htjax[cuda]"\n```' in gpu and all(f"`{r}`" in gpu for r in extras["cuda"])
    table = re.findall(r"^\| `([a-z0-9-]+)` \|", _section(INSTALLING, "Optional extras"), re.MULTILINE)
    assert sorted(table) == sorted(extras), "the extras table lists pyproject's extras"
    for page in (README, INSTALLING):
        for named in re.findall(r"htjax\[([a-z0-9,-]+)\]", page):
            assert set(named.split(",")) <= set(extras), named
    shipped = _section(INSTALLING, "The shipped policies")
    assert repr(htjax.policies.names()) in shipped
    assert f"# {htjax.policies.model_card('holdem')['name']}" in shipped
    assert "Node.js" in _section(INSTALLING, "From a clone (development and tests)")


# ------------------------------------------------------------------ htjax.policies: by name or path
def test_policies__load_by_name_path_and_model_card():
    names = htjax.policies.names()
    assert names == tuple(sorted(p.stem for p in POLICY_DIR.glob("*.onnx")))
    for name in names:
        path = htjax.policies.path(name)
        assert path.is_file() and path.name == f"{name}.onnx" and htjax.policies.resolve(name) == path
        assert htjax.policies.model_card(name) == json.loads(path.with_suffix(".json").read_text())
    policy = htjax.policies.load("ipd", htjax.make("prisoners_dilemma"))
    assert isinstance(policy, OnnxPolicy) and policy.name == "ipd.onnx"
    assert OnnxPolicy.load(htjax.policies.path("ipd")).metadata == policy.metadata


def test_policies__a_users_file_wins_and_unknown_names_list_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "holdem"  # a file of the user's named like a shipped policy is taken as given
    own.write_bytes(htjax.policies.path("ipd").read_bytes())
    assert htjax.policies.resolve("holdem") == pathlib.Path("holdem")
    assert htjax.policies.load("holdem").env_summary["id"] == "prisoners_dilemma"
    listing = ", ".join(htjax.policies.names())
    for bad, says in (
        ("nope", "neither a shipped policy nor a file"),
        ("policies/ipd.onnx", "no ONNX file at"),
        ("nope.onnx", "no ONNX file at"),
    ):
        with pytest.raises(htjax.policies.UnknownPolicyError, match=re.escape(says)) as err:
            htjax.policies.resolve(bad)
        assert listing in str(err.value) and isinstance(err.value, htjax.InvalidArgumentError)
        assert isinstance(err.value, (htjax.HtjaxError, ValueError))
        with pytest.raises(htjax.policies.UnknownPolicyError, match=re.escape(listing)):
            htjax.policies.load(bad)
    with pytest.raises(htjax.policies.UnknownPolicyError, match="got int"):
        htjax.policies.resolve(3)
    with pytest.raises(htjax.policies.UnknownPolicyError, match="has no model card"):
        htjax.policies.model_card("holdem")  # the user's file, which has no card beside it
    with pytest.raises(htjax.policies.UnknownPolicyError, match=re.escape(listing)):
        htjax.policies.path("holdem.onnx")


def test_cli__opponent_and_policy_take_shipped_names():
    from typer.testing import CliRunner

    from htjax.cli import app

    runner = CliRunner()
    unknown = runner.invoke(app, ["play", "holdem", "--opponent", "nope"])
    assert unknown.exit_code == 2 and all(n in unknown.stderr for n in htjax.policies.names())
    result = runner.invoke(
        app, ["tournament", "--policy", "ipd", "--players", "TitForTat", "-r", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["names"] == ["TitForTat", "ipd.onnx"]


def test_gymnasium__opponents_by_shipped_name():
    from htjax.adapters.gymnasium import HtjaxOpponentsEnv

    env = HtjaxOpponentsEnv("prisoners_dilemma", opponents={1: "ipd"})
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(0)
    assert not terminated and reward in (0.0, 3.0)  # cooperating meets a cooperation or a defection
    with pytest.raises(htjax.InvalidArgumentError, match="shipped policies: "):
        HtjaxOpponentsEnv("prisoners_dilemma", opponents={1: "nope"})


def test_layering__policy_data_sits_below_its_users_and_above_the_policy_code():
    """htjax.package_data needs only the standard library; htjax.policies imports the policy code
    (htjax.train) but nothing under core, envs, agents, sync or train imports htjax.policies."""
    import ast

    def imports(path: pathlib.Path) -> set[str]:
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
        return found

    assert not [m for m in imports(ROOT / "htjax" / "package_data.py") if m.split(".")[0] == "htjax"]
    lower = [
        p for d in ("core", "envs", "agents", "sync", "train") for p in (ROOT / "htjax" / d).rglob("*.py")
    ]
    assert lower and not [p for p in lower if any(m.startswith("htjax.policies") for m in imports(p))]
    assert "htjax.train.onnx_policy" in imports(ROOT / "htjax" / "policies" / "__init__.py")


def test_package_data__reads_a_zipped_package_through_a_real_file(tmp_path, monkeypatch):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_data_pkg/__init__.py", "")
        z.writestr("zipped_data_pkg/a.onnx", b"\x00first")
        z.writestr("zipped_data_pkg/b.onnx", b"\x01second")
        z.writestr("zipped_data_pkg/b.json", b"{}")
    monkeypatch.syspath_prepend(str(archive))
    assert package_data.names("zipped_data_pkg", ".onnx") == ("a", "b")
    path = package_data.path("zipped_data_pkg", "b.onnx")
    assert (
        path.is_file() and not path.resolve().is_relative_to(tmp_path) and path.read_bytes() == b"\x01second"
    )
    assert package_data.path("zipped_data_pkg", "b.onnx") == path  # extracted once
    with pytest.raises(FileNotFoundError, match="holds no file 'c.onnx'"):
        package_data.path("zipped_data_pkg", "c.onnx")
