"""A plain install works: every import is declared, and the wheel runs in a fresh venv.

The wheel test builds oddskit, installs it WITHOUT extras into a new virtual environment
(from the package index, so pip's cache makes reruns fast) and runs the CLI from there on
the embedded default server in a temporary ``ODDSKIT_HOME``. It takes ~30 s.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p.stem for p in (ROOT / "oddskit").glob("*.py") if p.stem != "__init__")


def _imported_top_level_names() -> dict[str, str]:
    """Third-party top-level imports of the package and its migrations -> one file using it."""
    found: dict[str, str] = {}
    files = [*(ROOT / "oddskit").glob("*.py"), *(ROOT / "migrations").rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "oddskit":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_import_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_requirement_name(r) for r in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module, where in _imported_top_level_names().items():
        owners = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not owners & declared:
            missing[module] = where
    assert not missing, f"imported but not in [project].dependencies: {missing}"


@pytest.fixture(scope="module")
def fresh_install() -> Iterator[tuple[Path, dict[str, str], Path]]:
    """(venv bin folder, environment, working folder) of oddskit installed without extras."""
    work = Path(tempfile.mkdtemp(prefix="oddskit-install-"))
    # The embedded server runs as the unprivileged user 'pgserver' when this runs as
    # root: its home must be reachable (not pytest's 0700 tmp folders).
    work.chmod(0o755)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = (work / "dist").glob("oddskit-*.whl")
    subprocess.run([sys.executable, "-m", "venv", work / "venv"], check=True)
    bin_dir = work / "venv" / "bin"
    install = subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "-q", wheel],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "ODDSKIT_DATABASE_URL", "DATABASE_URL", "VIRTUAL_ENV")
    }
    env["ODDSKIT_HOME"] = str(work / "home")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    yield bin_dir, env, work
    # The commands leave the server up for the next one (with a keeper process): stop both.
    subprocess.run(
        [bin_dir / "oddskit", "server", "stop"], env=env, capture_output=True, timeout=120
    )
    shutil.rmtree(work, ignore_errors=True)


def _run(fresh_install: tuple[Path, dict[str, str], Path], *args: str | Path) -> str:
    _, env, work = fresh_install
    result = subprocess.run([*args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_wheel_without_extras_imports_every_module(fresh_install) -> None:
    bin_dir, _, _ = fresh_install
    assert MODULES, "no modules found"
    code = (
        "import importlib, oddskit\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('oddskit.' + name)\n"
        "print(oddskit.__file__)\n"
    )
    location = _run(fresh_install, bin_dir / "python", "-c", code)
    assert "site-packages" in location  # the installed copy, not this checkout
    assert "Usage: oddskit" in _run(fresh_install, bin_dir / "oddskit", "--help")
    assert _run(fresh_install, bin_dir / "oddskit", "--version").startswith("oddskit 0.")


@pytest.mark.slow
def test_wheel_without_extras_migrates_samples_and_loads_on_the_embedded_server(
    fresh_install,
) -> None:
    bin_dir, _, work = fresh_install
    oddskit = bin_dir / "oddskit"
    migrated = _run(fresh_install, oddskit, "migrate")
    assert "(embedded local server)" in migrated
    assert "Schema at revision" in migrated
    sample = work / "sample.csv"
    sampled = _run(fresh_install, oddskit, "sample", sample, "--days", "1", "--events-per-day", "4")
    assert "Wrote" in sampled and sample.exists()
    loaded = _run(fresh_install, oddskit, "load", "--quiet", sample)
    assert "sample.csv" in loaded
    assert re.search(r"\b[1-9][\d,]* new\b", loaded), loaded
