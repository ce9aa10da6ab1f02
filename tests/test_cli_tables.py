"""``oddskit loads`` and ``partitions``: plain columns off a terminal, CSV and JSON for
scripts; ``oddskit load`` checks its inputs before it opens any database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.cli_tables import Column, plain_lines
from oddskit.connection import Database
from oddskit.sample import write_sample

runner = CliRunner()
BOX = set("┃━┏┓┗┛│─┡┩╇")


def run(db: Database, *args: str):
    return runner.invoke(app, ["--database-url", db.libpq_url, *args])


def test_plain_lines_align_numbers_right_and_text_left() -> None:
    columns = [Column("source"), Column("rows", number=True)]
    assert plain_lines(columns, [["a.csv", 200_000], ["bb.parquet", 5]]) == [
        "source         rows",
        "a.csv       200,000",
        "bb.parquet        5",
    ]


def test_loads_and_partitions_in_every_format(make_database, tmp_path: Path) -> None:
    db = make_database("embedded")
    assert run(db, "migrate").exit_code == 0
    sample = write_sample(tmp_path / "day.csv", days=1, events_per_day=1, seed=3)
    assert run(db, "load", "-q", str(sample.path)).exit_code == 0

    result = run(db, "loads")  # CliRunner's stdout is not a terminal: plain columns
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Database: ")
    assert lines[1].split() == [
        "run", "source", "status", "started", "(UTC)", "read", "new", "present", "rejected",
    ]  # fmt: skip
    assert lines[2].split()[:3] == ["1", str(sample.path), "succeeded"]
    assert f"{sample.rows:,}" in lines[2]
    assert not BOX & set(result.output)

    result = runner.invoke(
        app, ["--database-url", db.libpq_url, "loads", "--format", "csv"], catch_exceptions=False
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["source"] for r in rows] == [str(sample.path)]
    assert rows[0]["rows_read"] == rows[0]["rows_loaded"] == str(sample.rows)
    assert rows[0]["started_at"].endswith("+00:00")
    assert "Database: " in result.stderr and "Database: " not in result.stdout

    result = runner.invoke(app, ["--database-url", db.libpq_url, "loads", "--format", "json"])
    (record,) = json.loads(result.stdout)
    assert record["run_id"] == 1 and record["rows_read"] == sample.rows
    assert record["status"] == "succeeded" and record["error"] is None

    result = run(db, "partitions")
    assert result.exit_code == 0 and not BOX & set(result.output)
    assert "parent          partition" in result.output
    result = runner.invoke(app, ["--database-url", db.libpq_url, "partitions", "--format", "json"])
    parts = json.loads(result.stdout)
    assert sum(p["rows"] for p in parts if p["parent"] == "odds_snapshots") > 0
    assert {"parent", "partition", "lower", "upper", "rows"} == set(parts[0])
    assert "Backend: native" in result.stderr

    result = run(db, "loads", "--format", "xml")
    assert result.exit_code == 1
    assert "--format must be one of table, csv, json, got 'xml'" in result.output


def test_a_terminal_gets_a_box_table(make_database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real terminal (a pseudo-terminal) gets rich's box table."""
    db = make_database("embedded")
    assert run(db, "migrate").exit_code == 0
    pty = pytest.importorskip("pty")
    code = "from oddskit.cli import main; main()"
    args = [sys.executable, "-c", code, "--database-url", db.libpq_url, "partitions"]
    output = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 1024)
        output.extend(data)
        return data

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    pty.spawn(args, read)
    assert BOX & set(output.decode())


def test_load_of_a_missing_file_says_so_before_starting_any_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ODDSKIT_HOME", str(home))
    for name in ("ODDSKIT_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "oddskit.cli", "load", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert result.returncode == 1
    assert result.stdout == ""  # not even a Database: line
    assert result.stderr == (
        f"Error: {tmp_path / 'nope.csv'} does not exist. Check the path (and the working folder).\n"
    )
    assert not home.exists()  # no embedded server was started
