"""The Parquet archive: same answers before and after archiving, crash safety, other readers.

The hand-made timeline of ``test_queries`` (three UTC days before today, known answers)
is loaded, every helper's answer to a set of calls is kept, and then days move to the
archive — on demand (a day both live and archived), by retention with a clock moved
forward (days 0 and 1 archived, day 2 live), then all of them — and every call must
return the same frame, row for row, at each stage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from test_queries import A1, DAY0, DAY1, DAY2, OUTCOMES, SNAPSHOTS, at, timeline

from oddskit.archive import (
    ArchiveError,
    archive_day,
    check_before_drop,
    list_archives,
    write_archive,
)
from oddskit.archive_files import ARCHIVE_SCHEMA, STEPS, STOP_AFTER_ENV, price_checksum
from oddskit.connection import Database
from oddskit.loading import load
from oddskit.partitions import get_policy, list_partitions, maintain, set_policy
from oddskit.queries import (
    fetch_closing_odds,
    fetch_events,
    fetch_latest_odds,
    fetch_odds_history,
    fetch_opening_odds,
)
from oddskit.queries_archive import scan_archive
from oddskit.sample import generate_sample

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = [
    pytest.param(("embedded", "native"), id="embedded-native"),
    pytest.param(("system", "partman"), id="system-partman", marks=pytest.mark.partman),
]
#: ... and pg_partman 5 (partitions named ``_pYYYYMMDD``), for the main test.
WITH_PARTMAN5 = [
    *BACKENDS,
    pytest.param(("system", "partman5"), id="system-partman5", marks=pytest.mark.partman),
]
#: Clocks at which retention (30 days) has expired days 0-1, then days 0-2.
EXPIRE_DAY1 = DAY2 + timedelta(days=30, hours=1)
EXPIRE_DAY2 = DAY2 + timedelta(days=31, hours=1)
PRICES = {
    day: sum(1 for *_, t in SNAPSHOTS if t.date() == day.date()) * len(OUTCOMES)
    for day in (DAY0, DAY1, DAY2)
}


def calls(db: Database) -> dict[str, Callable[[], pl.DataFrame]]:
    """Helper calls whose answers must not change when days are archived."""
    enyimba = fetch_events(db, team="Enyimba")["event_id"][0]
    return {
        "history": lambda: fetch_odds_history(db),
        "history one event": lambda: fetch_odds_history(db, event_ids=enyimba),
        "history filtered": lambda: fetch_odds_history(
            db, bookmakers="Pinnacle", markets="over_under", outcomes="over"
        ),
        "history window": lambda: fetch_odds_history(db, since=at(DAY0, 12), until=at(DAY2, 9)),
        "latest now": lambda: fetch_latest_odds(db),
        "latest at A1": lambda: fetch_latest_odds(db, as_of=A1),
        "latest 1x2 day 1": lambda: fetch_latest_odds(db, as_of=at(DAY1, 13), markets="1x2"),
        "latest lookback": lambda: fetch_latest_odds(db, as_of=at(DAY2, 9), lookback="1d"),
        "latest short lookback": lambda: fetch_latest_odds(db, as_of=at(DAY2, 9), lookback="2h"),
        "opening": lambda: fetch_opening_odds(db),
        "opening over/under": lambda: fetch_opening_odds(db, markets="over_under"),
        "opening one event": lambda: fetch_opening_odds(
            db, event_ids=enyimba, bookmakers="betPawa"
        ),
        "closing": lambda: fetch_closing_odds(db),
        "closing 1x2": lambda: fetch_closing_odds(db, markets="1x2"),
        "closing window": lambda: fetch_closing_odds(
            db, kickoff_since=at(DAY1, 0), kickoff_until=at(DAY2, 0)
        ),
    }


def answers(db: Database) -> dict[str, pl.DataFrame]:
    return {name: call() for name, call in calls(db).items()}


def assert_same_answers(db: Database, expected: dict[str, pl.DataFrame]) -> None:
    for name, frame in answers(db).items():
        try:
            assert_frame_equal(frame, expected[name], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def live_prices(db: Database, day: datetime) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM market_odds WHERE captured_at >= :d AND captured_at < :e"
            ),
            {"d": day, "e": day + timedelta(days=1)},
        ).scalar_one()


@pytest.fixture(params=BACKENDS)
def loaded(request: pytest.FixtureRequest, make_migrated, tmp_path: Path) -> Database:
    db = make_migrated(*request.param)
    set_policy(db, archive=str(tmp_path / "archive"))
    load(timeline(), db=db)
    return db


@pytest.mark.parametrize("backend", WITH_PARTMAN5)
def test_helpers_answer_the_same_live_archived_and_split(
    make_migrated, backend: tuple[str, str], tmp_path: Path
) -> None:
    db = make_migrated(*backend)
    set_policy(db, archive=str(tmp_path / "archive"))
    load(timeline(), db=db)
    expected = answers(db)
    assert all(frame.height for frame in expected.values())

    record = archive_day(db, DAY1.date())  # on demand: day 1 is now in both places
    assert record is not None and record.rows == record.live_rows == PRICES[DAY1]
    assert live_prices(db, DAY1) == PRICES[DAY1]
    assert_same_answers(db, expected)

    report = maintain(db, now=EXPIRE_DAY1)  # days 0 and 1 archived and dropped, day 2 live
    assert report.archive_error is None
    assert report.archived == [DAY0.date(), DAY1.date()]
    assert live_prices(db, DAY0) == live_prices(db, DAY1) == 0
    assert_same_answers(db, expected)

    report = maintain(db, now=EXPIRE_DAY2)  # everything archived
    assert report.archived == [DAY2.date()]
    assert sum(live_prices(db, day) for day in (DAY0, DAY1, DAY2)) == 0
    assert_same_answers(db, expected)

    catalogue = list_archives(db)
    assert catalogue["day"].to_list() == [d.date() for d in (DAY0, DAY1, DAY2)]
    assert catalogue["rows"].to_list() == [PRICES[d] for d in (DAY0, DAY1, DAY2)]
    for row in catalogue.iter_rows(named=True):
        path = Path(row["location"])
        assert path == tmp_path / "archive" / f"day={row['day']}" / "part-0.parquet"
        assert path.stat().st_size == row["bytes"]
    assert not list((tmp_path / "archive").rglob("*.tmp"))


def test_files_are_sorted_zstd_parquet_with_statistics(loaded: Database, tmp_path: Path) -> None:
    maintain(loaded, now=EXPIRE_DAY2)
    path = tmp_path / "archive" / f"day={DAY1.date()}" / "part-0.parquet"
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(0).column(0)
    assert column.compression == "ZSTD" and column.statistics.has_min_max
    frame = pl.read_parquet(path)
    assert frame.schema == ARCHIVE_SCHEMA and "day" not in frame.columns
    assert frame["match_key"].null_count() == frame.height  # for match identity to fill
    key = ["bookmaker", "event_id", "captured_at", "market", "line", "outcome"]
    assert frame.equals(frame.sort(key, nulls_last=True))
    enyimba = frame.filter(pl.col("home_team") == "Enyimba").row(0, named=True)
    assert (enyimba["tournament"], enyimba["country"], enyimba["sport"]) == (
        "NPFL",
        "Nigeria",
        "Football",
    )
    assert enyimba["sportradar_id"] == "sr:match:1"


def test_duckdb_reads_the_same_numbers(loaded: Database, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    maintain(loaded, now=EXPIRE_DAY2)
    glob = str(tmp_path / "archive" / "*" / "*.parquet")
    ours = (
        scan_archive(loaded)
        .group_by("day")
        .agg(pl.len().alias("rows"), pl.col("odds").sum(), pl.col("event_id").n_unique())
        .sort("day")
        .collect()
    )
    theirs = duckdb.sql(
        f"SELECT day, count(*) AS rows, sum(odds) AS odds, count(DISTINCT event_id) AS event_id "
        f"FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY day ORDER BY day"
    ).pl()
    assert theirs["day"].cast(pl.Date).to_list() == ours["day"].to_list()
    assert (
        theirs["rows"].to_list()
        == ours["rows"].to_list()
        == list_archives(loaded)["rows"].to_list()
    )
    assert theirs["odds"].to_list() == pytest.approx(ours["odds"].to_list())
    assert theirs["event_id"].to_list() == ours["event_id"].to_list()


def test_scan_archive_pushes_day_bookmaker_and_market_down(
    loaded: Database, tmp_path: Path
) -> None:
    maintain(loaded, now=EXPIRE_DAY2)
    lazy = scan_archive(loaded).filter(
        pl.col("day") == DAY1.date(), pl.col("bookmaker") == "Pinnacle", pl.col("market") == "1x2"
    )
    plan = lazy.explain()
    scan = plan[plan.index("Parquet SCAN") :]
    assert f"day={DAY1.date()}" in scan and f"day={DAY0.date()}" not in scan  # one file
    selection = scan[scan.index("SELECTION") :]  # the filter runs inside the reader
    assert "Pinnacle" in selection and "1x2" in selection
    frame = lazy.collect()
    assert frame.height == 3 * 2  # P0 and P1 on day 1, three outcomes each
    every = scan_archive(root=tmp_path / "archive").collect()  # without the database
    assert every.height == sum(PRICES.values())
    arguments = scan_archive(loaded, since=DAY1, until=DAY2, bookmakers="Pinnacle", markets="1x2")
    assert_frame_equal(arguments.collect(), frame.sort(frame.columns), check_row_order=False)


def test_a_day_that_cannot_be_archived_stays_live(loaded: Database, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive root should be")
    set_policy(loaded, archive=str(blocker))
    before = {p.name for p in list_partitions(loaded)}
    report = maintain(loaded, now=EXPIRE_DAY2)  # pg_partman's run_maintenance runs too
    assert report.archive_error and f"Retention stopped at {DAY0.date()}" in report.archive_error
    assert report.archived == [] and not report.dropped
    assert {p.name for p in list_partitions(loaded)} >= before
    assert live_prices(loaded, DAY0) == PRICES[DAY0] and list_archives(loaded).height == 0

    set_policy(loaded, archive=None)  # archive off: retention drops as before
    report = maintain(loaded, now=EXPIRE_DAY2)
    assert report.archive_error is None and len(report.dropped) >= 6
    assert list_archives(loaded).height == 0


def test_a_partition_that_changed_after_archiving_is_not_dropped(loaded: Database) -> None:
    archive_day(loaded, DAY0.date())
    with loaded.engine.begin() as conn:  # a price that arrived after the day was archived
        conn.execute(
            sa.text(
                "INSERT INTO market_odds (snapshot_id, captured_at, market, line, outcome, odds) "
                "SELECT id, captured_at, 'btts', NULL, 'yes', 1.8 FROM odds_snapshots "
                "WHERE captured_at < :until LIMIT 1"
            ),
            {"until": DAY1},
        )
    name = next(p.name for p in list_partitions(loaded) if p.parent == "market_odds")
    with loaded.engine.begin() as conn, pytest.raises(ArchiveError, match="changed since"):
        check_before_drop(conn, name, DAY0.date())
    report = maintain(loaded, now=EXPIRE_DAY1)  # archives the day again, then drops it
    assert report.archive_error is None and DAY0.date() in report.archived
    assert list_archives(loaded)["rows"][0] == PRICES[DAY0] + 1


def test_write_archive_merges_rows_into_day_files(loaded: Database) -> None:
    maintain(loaded, now=EXPIRE_DAY2)
    rows = scan_archive(loaded).drop("day").collect()
    before = list_archives(loaded)
    assert [r.rows for r in write_archive(loaded, rows)] == before["rows"].to_list()  # no change
    extra = rows.head(3).with_columns(
        captured_at=pl.col("captured_at") - timedelta(days=1), odds=pl.lit(9.5)
    )
    written = write_archive(loaded, extra)  # a day before day 0, straight to the archive
    assert [(r.day, r.rows, r.live_rows) for r in written] == [(DAY0.date() - timedelta(1), 3, 0)]
    history = fetch_odds_history(loaded, until=DAY0)
    assert history.height == 3 and history["odds"].to_list() == [9.5] * 3


def test_price_checksum_sees_lost_changed_and_swapped_values() -> None:
    frame = timeline().with_columns(event_id=pl.col("home_team").rank("dense").cast(pl.Int64))
    reference = price_checksum(frame)
    assert reference == price_checksum(frame.reverse())  # order does not matter
    assert reference.startswith(f"v1:{frame.height}:")
    changed = frame.with_columns(
        odds=pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.col("odds") + 1e-6)
        .otherwise(pl.col("odds"))
    )
    swapped = frame.with_columns(  # two rows of a group trade their events
        event_id=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(2)).otherwise(pl.col("event_id"))
    )
    for other in (
        frame.slice(1),
        changed,
        swapped,
        frame.with_columns(pl.col("line").fill_null(0)),
    ):
        assert price_checksum(other) != reference


# --- crashes --------------------------------------------------------------------------------

MAINTAIN = """
import sys
from datetime import datetime
from oddskit.connection import Database
from oddskit.partitions import maintain
maintain(Database(sys.argv[1]), now=datetime.fromisoformat(sys.argv[2]))
"""


def test_a_kill_at_any_step_loses_and_duplicates_nothing(make_migrated, tmp_path: Path) -> None:
    db = make_migrated("embedded", "native")
    root = tmp_path / "archive"
    set_policy(db, archive=str(root))
    load(timeline(), db=db)
    expected = answers(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for number, step in enumerate(STEPS):
        clock = EXPIRE_DAY1 if number % 2 == 0 else EXPIRE_DAY2
        if number:  # start again from everything live: reload into a fresh state
            with db.engine.begin() as conn:
                conn.execute(sa.text("TRUNCATE archives"))
            for path in root.rglob("*.parquet"):
                path.unlink()
            load(timeline(), db=db)
        killed = subprocess.run(
            [sys.executable, "-c", MAINTAIN, db.libpq_url, clock.isoformat()],
            env={**env, STOP_AFTER_ENV: step},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert killed.returncode == -9, (step, killed.stderr)
        catalogue = {r["day"]: r for r in list_archives(db).iter_rows(named=True)}
        for day in (DAY0, DAY1):  # each day: all live, or verified in the archive
            record = catalogue.get(day.date())
            archived = record is not None and record["rows"] == PRICES[day]
            if archived:
                file = pl.read_parquet(record["location"])
                assert price_checksum(file) == archive_checksum(db, day.date()), step
            assert live_prices(db, day) == PRICES[day] or archived, (step, day)
        assert_same_answers(db, expected)  # neither lost nor counted twice, even now

        report = maintain(db, now=clock)  # the rerun converges
        assert report.archive_error is None, step
        expired = (DAY0, DAY1) if clock == EXPIRE_DAY1 else (DAY0, DAY1, DAY2)
        assert list_archives(db)["rows"].to_list() == [PRICES[d] for d in expired], step
        assert sum(live_prices(db, d) for d in expired) == 0, step
        assert not list(root.rglob("*.tmp")), step
        assert_same_answers(db, expected)


def archive_checksum(db: Database, day: date) -> str:
    with db.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT checksum FROM archives WHERE day = :d"), {"d": day}
        ).scalar_one()


def test_policy_archive_default_and_paths(make_migrated, tmp_path: Path) -> None:
    db = make_migrated("embedded", "native")
    assert get_policy(db).archive == "default"  # on by default
    assert set_policy(db, archive="none").archive is None
    assert set_policy(db, archive=tmp_path / "x").archive == str(tmp_path / "x")
    assert set_policy(db, archive="s3://bucket/odds/").archive == "s3://bucket/odds"
    with pytest.raises(Exception, match="absolute folder"):
        set_policy(db, archive="relative/folder")
    assert get_policy(db).archive == "s3://bucket/odds"


@pytest.mark.partman
def test_pg_partman_never_drops_a_day_that_was_not_archived(make_migrated, tmp_path: Path) -> None:
    db = make_migrated("system", "partman")
    set_policy(db, retention_days=None)
    old = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(40)
    load(generate_sample(start=old, days=1, events_per_day=2, seed=3), db=db)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive root should be")
    set_policy(db, retention_days=30, archive=str(blocker), confirm=True)
    report = maintain(db)  # real clock: pg_partman's run_maintenance sees the day expired too
    assert report.archive_error and not report.dropped
    assert live_prices(db, old) > 0
    with db.engine.connect() as conn:
        retention = conn.execute(
            sa.text(
                "SELECT retention FROM partman.part_config WHERE parent_table LIKE '%market_odds'"
            )
        ).scalar_one()
    assert retention is None
    set_policy(db, archive=str(tmp_path / "archive"))
    report = maintain(db)
    assert report.archive_error is None and report.archived and live_prices(db, old) == 0
