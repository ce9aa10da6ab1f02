"""History straight to the archive: the same checks and links, Parquet instead of partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database
from oddskit.errors import ValidationError
from oddskit.loading import load
from oddskit.partitions import list_partitions
from oddskit.queries import fetch_closing_odds, fetch_events, fetch_odds_history
from oddskit.sample import generate_sample
from oddskit.schema import migrate

#: Two seasons ago: far outside the live tables' 30-day retention window.
START = datetime(2024, 8, 17, tzinfo=UTC)


@pytest.fixture
def db(make_database) -> Database:
    database = make_database("embedded")
    migrate(database)
    return database


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return generate_sample(start=START, days=2, events_per_day=4, seed=11, own_names=True)


def test_old_data_is_refused_live_and_archived_with_the_same_checks(
    db: Database, history: pl.DataFrame
) -> None:
    with pytest.raises(ValidationError, match="older than the 30-day retention window"):
        load(history, db=db, progress=False)
    (result,) = load(history, db=db, progress=False, to="archive").results
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        history.height,
        history.height,
        0,
    )
    assert result.to == "archive" and "written to the archive" in str(result)
    assert result.linked.get("exact", 0) + result.linked.get("fuzzy", 0) > 0  # names linked
    assert [p for p in list_partitions(db) if p.rows] == []  # the live tables stay empty
    stored = fetch_odds_history(db, since=START, until=START + timedelta(days=3))
    assert stored.height == history.height
    assert sorted(stored["odds"].to_list()) == sorted(history["odds"].to_list())
    matches = history.select("bookmaker", "bookmaker_event_id").unique().height // 4
    assert fetch_events(db).height == matches  # four listings per match, linked
    again = load(history, db=db, progress=False, to="archive").results[0]
    assert (again.rows_loaded, again.rows_present) == (0, history.height)
    closing = fetch_closing_odds(db, bookmakers="pinnacle", markets="1x2")
    assert closing.height and closing["captured_at"].max() < START + timedelta(days=3)


def test_bad_rows_are_refused_or_rejected_as_in_a_live_load(
    db: Database, history: pl.DataFrame, tmp_path: Path
) -> None:
    bad = history.with_columns(
        odds=pl.when(pl.int_range(pl.len()) == 5).then(0.5).otherwise(pl.col("odds"))
    )
    path = tmp_path / "history.parquet"
    bad.write_parquet(path)
    with pytest.raises(ValidationError, match="row 6, column odds"):
        load(path, db=db, progress=False, to="archive")
    assert fetch_odds_history(db, since=START).is_empty()
    (result,) = load(path, db=db, progress=False, to="archive", on_error="skip").results
    assert (result.rows_loaded, result.rows_rejected) == (history.height - 1, 1)
    assert result.rejects_path is not None and result.rejects_path.exists()


def test_the_command_line_loads_history_to_the_archive(
    db: Database, history: pl.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    history.write_csv(path)
    done = CliRunner().invoke(
        app, ["--database-url", db.libpq_url, "load", "-q", "--to", "archive", str(path)]
    )
    assert done.exit_code == 0, done.output
    assert "written to the archive" in done.output
    assert fetch_odds_history(db, since=START).height == history.height
    wrong = CliRunner().invoke(
        app, ["--database-url", db.libpq_url, "load", "-q", "--to", "cloud", str(path)]
    )
    assert wrong.exit_code == 1 and "`--to` must be one of" in wrong.output
