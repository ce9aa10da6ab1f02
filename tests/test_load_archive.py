"""History straight to the archive: the same checks and links, Parquet instead of partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from oddskit.archive_files import ARCHIVE_SCHEMA
from oddskit.cli import app
from oddskit.connection import Database
from oddskit.errors import ValidationError
from oddskit.loading import load
from oddskit.partitions import list_partitions, set_policy
from oddskit.queries import fetch_closing_odds, fetch_events, fetch_odds_history
from oddskit.queries_archive import scan_archive
from oddskit.queries_quality import fetch_load_runs
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


def test_several_sources_write_each_day_once_with_the_results_of_one_by_one(
    make_database, history: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oddskit.archive as archive

    written: list[object] = []
    real = archive.write_day_file

    def counting(root, day, frame, **kwargs):  # type: ignore[no-untyped-def]
        written.append(day)
        return real(root, day, frame, **kwargs)

    monkeypatch.setattr(archive, "write_day_file", counting)
    # Two sources over the same days; the second repeats some of the first's prices
    # with other odds (the first wins a tie, as in one-by-one loads).
    books = sorted(history["bookmaker"].unique().to_list())
    first = history.filter(pl.col("bookmaker") != books[0])
    second = history.filter(pl.col("bookmaker").is_in(books[:2])).with_columns(
        odds=pl.col("odds") + 0.01
    )
    paths = [tmp_path / "first.parquet", tmp_path / "second.parquet"]
    first.write_parquet(paths[0])
    second.write_parquet(paths[1])
    days = history["captured_at"].dt.date().n_unique()
    dbs = []
    for name in ("together", "one_by_one"):
        db = make_database("embedded")
        migrate(db)
        set_policy(db, archive=str(tmp_path / name))
        dbs.append(db)
    together, one_by_one = dbs

    report = load(paths, db=together, progress=False, to="archive")
    assert sorted(written) == sorted(set(written)) and len(written) == days  # each day once
    written.clear()
    singles = [load(p, db=one_by_one, progress=False, to="archive").results[0] for p in paths]
    assert len(written) == 2 * days  # one by one, the second source rewrites every day
    counts = [(r.rows_read, r.rows_loaded, r.rows_present, r.snapshots_new) for r in singles]
    assert [
        (r.rows_read, r.rows_loaded, r.rows_present, r.snapshots_new) for r in report.results
    ] == counts
    assert counts[1][1] == second.filter(pl.col("bookmaker") == books[0]).height
    columns = [c for c in ARCHIVE_SCHEMA if c != "event_id"]

    def archived(db: Database) -> pl.DataFrame:
        return scan_archive(db).select(columns).collect().sort(columns, nulls_last=True)

    assert archived(together).equals(archived(one_by_one))
    assert archived(together).height == history.height
    assert [o.status for o in report.outcomes] == ["committed", "committed"]
    assert fetch_load_runs(together)["status"].to_list() == ["succeeded", "succeeded"]

    written.clear()  # loading both again adds nothing and rewrites no day
    again = load(paths, db=together, progress=False, to="archive")
    assert [r.rows_loaded for r in again.results] == [0, 0] and written == []


def test_a_failed_archive_write_fails_every_waiting_source_and_a_reload_finishes(
    db: Database, history: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oddskit.archive as archive
    from oddskit.archive import list_archives
    from oddskit.archive_files import ArchiveError

    real = archive.write_day_file
    first_day = history["captured_at"].dt.date().min()

    def failing(root, day, frame, **kwargs):  # type: ignore[no-untyped-def]
        if day != first_day:
            raise ArchiveError(f"cannot write the archive of {day}: disk full")
        return real(root, day, frame, **kwargs)

    monkeypatch.setattr(archive, "write_day_file", failing)
    books = sorted(history["bookmaker"].unique().to_list())
    paths = []
    for number, book in enumerate(books[:2]):
        paths.append(tmp_path / f"{number}.parquet")
        history.filter(pl.col("bookmaker") == book).write_parquet(paths[-1])
    with pytest.raises(ArchiveError, match="matches and listings were committed") as caught:
        load(paths, db=db, progress=False, to="archive")
    report = caught.value.report  # type: ignore[attr-defined]
    assert [o.status for o in report.outcomes] == ["failed", "failed"] and not report.results
    assert "disk full" in report.outcomes[0].detail
    assert fetch_load_runs(db)["status"].to_list() == ["failed", "failed"]
    before = list_archives(db)
    assert before["day"].to_list() == [first_day]  # written before the failure, recorded
    monkeypatch.setattr(archive, "write_day_file", real)
    again = load(paths, db=db, progress=False, to="archive")  # finishes what is missing
    rows = [history.filter(pl.col("bookmaker") == book).height for book in books[:2]]
    assert [r.rows_read for r in again.results] == rows
    assert sum(r.rows_loaded for r in again.results) == sum(rows) - before["rows"][0]
    assert scan_archive(db).collect().height == sum(rows)


def test_runs_waiting_for_the_archive_write_are_not_taken_for_abandoned(
    db: Database, history: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oddskit.load_archive import ArchiveStage
    from oddskit.runs import close_abandoned_runs

    real = ArchiveStage.write
    seen: list[list[str]] = []

    def write(stage: ArchiveStage):  # type: ignore[no-untyped-def]
        other = Database(db.url)  # another loader's session
        try:
            assert close_abandoned_runs(other) == []
            seen.append(fetch_load_runs(other)["status"].to_list())
        finally:
            other.close()
        return real(stage)

    monkeypatch.setattr(ArchiveStage, "write", write)
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    history.head(300).write_parquet(paths[0])
    history.tail(300).write_parquet(paths[1])
    load(paths, db=db, progress=False, to="archive")
    assert seen == [["running", "running"]]
    assert fetch_load_runs(db)["status"].to_list() == ["succeeded", "succeeded"]
