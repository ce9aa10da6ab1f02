"""Bulk loading: counts, idempotency, atomicity under SIGKILL, concurrency, lineage."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database
from oddskit.loading import SNAPSHOT_KEY, load
from oddskit.partitions import list_partitions
from oddskit.queries import fetch_load_runs
from oddskit.runs import RUN_LOCK_CLASS
from oddskit.sample import generate_sample, write_sample
from oddskit.schema import migrate


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (
                "market_odds",
                "odds_snapshots",
                "events",
                "bookmakers",
                "event_bookmakers",
            )
        }


def stored_prices(db: Database) -> pl.DataFrame:
    """Every stored price in the input vocabulary, sorted, for exact comparisons."""
    query = (
        "SELECT s.captured_at, b.name AS bookmaker, eb.bookmaker_event_id, m.market, m.line, "
        "m.outcome, m.odds FROM market_odds m "
        "JOIN odds_snapshots s ON s.id = m.snapshot_id AND s.captured_at = m.captured_at "
        "JOIN bookmakers b ON b.id = s.bookmaker_id "
        "JOIN event_bookmakers eb ON eb.event_id = s.event_id AND eb.bookmaker_id = s.bookmaker_id"
    )
    with db.adbc() as conn, conn.cursor() as cur:
        cur.execute(query)
        frame = pl.from_arrow(cur.fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.sort(pl.all())


def as_input(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "captured_at", "bookmaker", "bookmaker_event_id", "market", "line", "outcome", "odds"
    ).sort(pl.all())


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return generate_sample(days=2, events_per_day=6, seed=11)


def test_load_is_exact_and_idempotent(migrated: Database, sample: pl.DataFrame) -> None:
    first = load(sample, db=migrated).results[0]
    assert first.rows_read == first.rows_loaded == sample.height
    assert first.rows_present == first.rows_rejected == 0
    assert first.new_bookmakers == 4
    assert first.new_events == sample.select("home_team", "kickoff").n_unique()
    assert stored_prices(migrated).equals(as_input(sample))  # odds and µs timestamps exact
    before = counts(migrated)

    again = load(sample, db=migrated).results[0]
    assert (again.rows_loaded, again.rows_present, again.snapshots_new) == (0, sample.height, 0)
    assert "0 new, " in str(again) and f"{sample.height:,} already present" in str(again)
    assert counts(migrated) == before
    # Nothing sits in a default partition.
    assert all(p.rows == 0 for p in list_partitions(migrated) if p.is_default)


def test_overlapping_loads_add_only_new_snapshots(migrated: Database, sample: pl.DataFrame) -> None:
    times = sample["captured_at"].sort()
    cut_a, cut_b = times[int(len(times) * 0.4)], times[int(len(times) * 0.7)]
    early = sample.filter(pl.col("captured_at") < cut_b)
    late = sample.filter(pl.col("captured_at") >= cut_a)
    load(early, db=migrated)
    result = load(late, db=migrated).results[0]
    overlap = late.filter(pl.col("captured_at") < cut_b).height
    assert result.rows_present == overlap
    assert result.rows_loaded == late.height - overlap
    assert stored_prices(migrated).equals(as_input(sample))


def test_every_input_kind_loads_the_same(
    make_database, tmp_path: Path, sample: pl.DataFrame
) -> None:
    small = sample.head(3000)
    parquet, csv = tmp_path / "s.parquet", tmp_path / "s.csv"
    small.write_parquet(parquet)
    small.with_columns(
        pl.col("captured_at", "kickoff").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f%:z")
    ).write_csv(csv)
    table = small.to_arrow()
    inputs = {
        "polars": small,
        "lazy": small.lazy(),
        "arrow": table,
        "reader": pa.RecordBatchReader.from_batches(
            table.schema, table.to_batches(max_chunksize=700)
        ),
        "parquet": parquet,
        "csv": str(csv),
        "glob": str(tmp_path / "*.parquet"),
        "folder": tmp_path,
    }
    db = make_database("embedded")
    migrate(db)
    for name, source in inputs.items():
        report = load(source, db=db, batch_rows=1000)
        loaded = sum(r.rows_loaded for r in report.results)
        present = sum(r.rows_present for r in report.results)
        expected = small.height * len(report.results)
        assert loaded + present == expected, name
    assert stored_prices(db).equals(as_input(small))


def test_a_record_batch_reader_is_loaded_whole(make_database, sample: pl.DataFrame) -> None:
    """A reader can be read only once; the loader reads its source more than once."""
    small = sample.head(3000)
    table = small.to_arrow()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=700))
    db = make_database("embedded")
    migrate(db)
    result = load(reader, db=db, batch_rows=1000).results[0]
    assert (result.rows_read, result.rows_loaded) == (small.height, small.height)
    assert stored_prices(db).equals(as_input(small))


def test_historical_data_gets_its_partitions(migrated: Database) -> None:
    start = datetime.now(UTC) - timedelta(days=12)
    old = generate_sample(start=start, days=2, events_per_day=3, seed=5)
    result = load(old, db=migrated).results[0]
    assert result.rows_loaded == old.height
    days = old["captured_at"].dt.date().unique()
    made = {name.rsplit("_p", 1)[1].replace("_", "") for name in result.partitions_created}
    assert {f"{d:%Y%m%d}" for d in days} <= made  # pg_partman 5 names them _pYYYYMMDD
    partitions = list_partitions(migrated)
    assert sum(p.rows for p in partitions if p.parent == "market_odds") == old.height
    assert all(p.rows == 0 for p in partitions if p.is_default)


def test_lineage_records_every_load(make_database, tmp_path: Path) -> None:
    db = make_database("embedded")
    migrate(db)
    path = tmp_path / "day.parquet"
    write_sample(path, rows=2000, seed=3)
    load(path, db=db)
    load(path, db=db)
    loads = fetch_load_runs(db, kind="load")
    assert loads["status"].to_list() == ["succeeded", "succeeded"]
    assert loads["rows_read"].to_list() == [2000, 2000]
    assert loads["rows_loaded"].to_list() == [0, 2000]
    assert loads["rows_present"].to_list() == [2000, 0]
    assert set(loads["file_hash"]) == {hashlib.sha256(path.read_bytes()).hexdigest()}
    result = CliRunner().invoke(app, ["--database-url", db.libpq_url, "loads"])
    assert result.exit_code == 0, result.output
    assert str(path) in result.output and "succeeded" in result.output


def test_cli_load_reports_new_then_already_present(make_database, tmp_path: Path) -> None:
    db = make_database("embedded")
    migrate(db)
    path = tmp_path / "s.csv"
    runner = CliRunner()
    assert runner.invoke(app, ["sample", str(path), "--rows", "1500", "--seed", "4"]).exit_code == 0
    first = runner.invoke(app, ["--database-url", db.libpq_url, "load", str(path), "--quiet"])
    assert first.exit_code == 0, first.output
    assert "1,500 rows read, 1,500 new, 0 already present, 0 rejected" in first.output
    again = runner.invoke(app, ["--database-url", db.libpq_url, "load", str(path), "-q"])
    assert "1,500 rows read, 0 new, 1,500 already present, 0 rejected" in again.output


LOADER = """
import sys
from oddskit.connection import Database
from oddskit.loading import SNAPSHOT_KEY, load
report = load(sys.argv[2], db=Database(sys.argv[1]), batch_rows=int(sys.argv[3]), progress=False)
print(report)
"""


def start_loader(db: Database, path: Path, batch_rows: int = 50_000) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", LOADER, db.libpq_url, str(path), str(batch_rows)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for_copy(db: Database, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the loader's COPY into market_odds is running."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            copying = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query ILIKE 'COPY%market_odds%' AND state <> 'idle'"
                )
            ).scalar_one()
            if copying:
                return
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
            conn.rollback()
    raise AssertionError("the loader never started writing")


def wait_for_sessions_to_end(db: Database, timeout: float = 30) -> None:
    """Wait until the server has noticed that a killed loader's sessions are gone (it
    takes a moment): until then its run is rightly still alive."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :class "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"class": RUN_LOCK_CLASS},
        ).scalar_one():
            assert time.monotonic() < deadline, "the killed loader's session never ended"
            conn.rollback()
            time.sleep(0.05)


@pytest.mark.parametrize("server", ["embedded", pytest.param("system", marks=pytest.mark.partman)])
def test_killed_loader_leaves_nothing_and_rerun_equals_clean_load(
    make_database, tmp_path: Path, server: str
) -> None:
    db = make_database(server)
    migrate(db)
    path = tmp_path / "big.parquet"
    write_sample(path, rows=200_000, seed=8)
    process = start_loader(db, path, batch_rows=10_000)
    wait_for_copy(db, process)
    time.sleep(0.3)  # some batches are in flight
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert counts(db)["market_odds"] == 0
    assert counts(db)["odds_snapshots"] == 0
    assert counts(db)["events"] == 0
    wait_for_sessions_to_end(db)
    result = load(path, db=db).results[0]
    assert result.rows_loaded == 200_000
    assert counts(db)["market_odds"] == 200_000
    # The killed run is found abandoned by the next load (issue 9, item 6).
    runs = fetch_load_runs(db, kind="load")
    assert runs["status"].to_list() == ["succeeded", "failed"]
    assert runs["error"][1].startswith("abandoned: the loader stopped before it finished")


def test_concurrent_overlapping_loaders_store_every_row_once(make_database, tmp_path: Path) -> None:
    db = make_database("system")
    migrate(db)
    sample = generate_sample(days=2, events_per_day=15, seed=21)
    times = sample["captured_at"].sort()
    cut_a, cut_b = times[int(len(times) * 0.3)], times[int(len(times) * 0.7)]
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    sample.filter(pl.col("captured_at") < cut_b).write_parquet(first)
    sample.filter(pl.col("captured_at") >= cut_a).write_parquet(second)
    loaders = [start_loader(db, first, 20_000), start_loader(db, second, 20_000)]
    outputs = [process.communicate(timeout=300) for process in loaders]
    for process, (out, err) in zip(loaders, outputs, strict=True):
        assert process.returncode == 0, err
        assert "rows read" in out
    assert counts(db)["market_odds"] == sample.height
    assert stored_prices(db).equals(as_input(sample))
    assert fetch_load_runs(db, kind="load")["status"].to_list() == ["succeeded", "succeeded"]


def test_a_clean_source_is_checked_and_written_in_one_pass(
    make_database, sample: pl.DataFrame
) -> None:
    # Batches of 1,000 rows split snapshots (about 30 prices each) between batches:
    # every price must still be stored once, under its one snapshot.
    small = sample.head(5000)
    db = make_database("embedded")
    migrate(db)
    result = load(small, db=db, batch_rows=1000).results[0]
    assert "check and write" in result.timings  # the one-pass path, not check-then-write
    assert result.rows_loaded == small.height
    assert result.snapshots_new == small.select(SNAPSHOT_KEY).n_unique()
    assert stored_prices(db).equals(as_input(small))


def test_one_match_under_two_event_ids_of_a_bookmaker_keeps_every_price(
    make_database, sample: pl.DataFrame
) -> None:
    # A bookmaker lists one match (one SportRadar id) under two of its event ids with
    # different markets at the same instant: one snapshot holds both. When the second
    # id only turns up in a later batch, its prices must still be stored (review find).
    snapshot = sample.filter(
        pl.col("bookmaker_event_id") == sample["bookmaker_event_id"][0],
        pl.col("captured_at") == sample["captured_at"][0],
        pl.col("sportradar_id").is_not_null(),
    )
    first = snapshot.filter(pl.col("market") == "1x2")
    second = snapshot.filter(pl.col("market") == "btts").with_columns(
        pl.col("bookmaker_event_id") + "-alt"
    )
    assert first.height and second.height
    frame = pl.concat([first, second])
    db = make_database("embedded")
    migrate(db)
    result = load(frame, db=db, batch_rows=first.height).results[0]
    assert result.rows_loaded == frame.height
    assert result.snapshots_new == 1
    with db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM market_odds")).scalar_one()
    assert stored == frame.height


def test_a_reader_with_changing_dictionaries_loads(make_database, sample: pl.DataFrame) -> None:
    # Categorical columns become Arrow dictionaries that differ from batch to batch.
    parts = [sample.head(1500), sample.slice(1500, 1500)]
    tables = [p.with_columns(pl.col("market").cast(pl.Categorical)).to_arrow() for p in parts]
    reader = pa.RecordBatchReader.from_batches(
        tables[0].schema, [b for t in tables for b in t.to_batches()]
    )
    db = make_database("embedded")
    migrate(db)
    result = load(reader, db=db).results[0]
    assert result.rows_loaded == 3000
