"""The archive on the command line: `oddskit policy --archive`, `oddskit archive`, `maintain`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_archive import EXPIRE_DAY1, PRICES
from test_queries import DAY0, DAY1, timeline
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database
from oddskit.loading import load
from oddskit.partitions import get_policy

runner = CliRunner()


def run(db: Database, *args: str):
    return runner.invoke(app, ["--database-url", db.libpq_url, *args])


@pytest.fixture
def db(make_database) -> Database:
    database = make_database("embedded")
    assert run(database, "migrate").exit_code == 0
    return database


def test_policy_archive_option(db: Database, tmp_path: Path, monkeypatch) -> None:
    home = Path(__import__("os").environ["ODDSKIT_HOME"])
    result = run(db, "policy")
    assert f"archive: {home / 'archive'} (default)" in result.output, result.output
    result = run(db, "policy", "--archive", "none")
    assert result.exit_code == 0, result.output
    assert "archive: none (dropped days are gone)" in result.output
    assert get_policy(db).archive is None
    monkeypatch.chdir(tmp_path)
    result = run(db, "policy", "--archive", "odds-archive")  # relative: made absolute
    assert result.exit_code == 0, result.output
    assert f"archive: {tmp_path / 'odds-archive'}\n" in result.output
    result = run(db, "policy", "--archive", "s3://bucket/odds")
    assert get_policy(db).archive == "s3://bucket/odds" and result.exit_code == 0
    result = run(db, "policy", "--archive", "s3://")
    assert result.exit_code == 1 and "Error: the archive root 's3://'" in result.output


def test_archive_lists_and_archives_on_demand(db: Database, tmp_path: Path) -> None:
    assert run(db, "policy", "--archive", str(tmp_path / "archive")).exit_code == 0
    load(timeline(), db=db)
    result = run(db, "archive", "--day", f"{DAY1:%Y-%m-%d}")
    assert result.exit_code == 0, result.output
    assert re.search(
        rf"{DAY1:%Y-%m-%d}: {PRICES[DAY1]} prices, [\d,]+ bytes \([\d.]+ bytes per price\) in "
        rf"{tmp_path / 'archive'}/day={DAY1:%Y-%m-%d}/part-0.parquet",
        result.output,
    ), result.output

    result = run(db, "maintain", "--now", EXPIRE_DAY1.isoformat())
    assert result.exit_code == 0, result.output
    assert (
        f"Archived 2 days before dropping them: {DAY0:%Y-%m-%d}, {DAY1:%Y-%m-%d}" in result.output
    )
    result = run(db, "archive")
    assert result.exit_code == 0, result.output
    assert f"Archive: {tmp_path / 'archive'}" in result.output
    for day in (DAY0, DAY1):
        row = (
            rf"{day:%Y-%m-%d}\W+{PRICES[day]}\W+[\d,]+\W+[\d.]+\W+[-\d: ]+\W+"
            rf"day={day:%Y-%m-%d}/part-0.parquet"
        )
        assert re.search(row, result.output), result.output
    total = PRICES[DAY0] + PRICES[DAY1]
    assert re.search(
        rf"2 days, {total} prices, [\d,]+ bytes, [\d.]+ bytes per price", result.output
    )

    result = run(db, "archive", "--format", "json")  # raw values, full locations
    listed = json.loads(result.stdout)
    assert [(r["day"], r["rows"]) for r in listed] == [
        (f"{DAY0:%Y-%m-%d}", PRICES[DAY0]),
        (f"{DAY1:%Y-%m-%d}", PRICES[DAY1]),
    ]
    assert listed[0]["location"] == f"{tmp_path / 'archive'}/day={DAY0:%Y-%m-%d}/part-0.parquet"

    result = run(db, "archive", "--day", "02/10/2026")
    assert (
        result.exit_code == 1 and "Error: --day must be a date such as 2026-10-02" in result.output
    )


def test_maintain_fails_readably_when_a_day_cannot_be_archived(
    db: Database, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert run(db, "policy", "--archive", str(blocker)).exit_code == 0
    load(timeline(), db=db)
    result = run(db, "maintain", "--now", EXPIRE_DAY1.isoformat())
    assert result.exit_code == 1
    assert f"Error: Retention stopped at {DAY0:%Y-%m-%d}, which stays live:" in result.output
    assert "Traceback" not in result.output
