"""Opening and closing odds (``opening_odds``, ``closing_odds``, migration 0010) stay exact.

``fetch_opening_odds`` and ``fetch_closing_odds`` read the two tables the loader keeps;
every test compares them with the pick made in Polars from every stored price
(:func:`boards.reference_board`) after each way the live tables change: loads in and
out of order, a reschedule, relinking, retention with and without the archive, and
the migration that fills the tables.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from boards import reference_board
from polars.testing import assert_frame_equal
from test_current_board import EARLY, LATE, MIDDLE, SAMPLE
from test_queries import BACKEND_PARAMS, DAY0

from oddskit.archive import archive_day
from oddskit.connection import Database
from oddskit.links import link_listing, unlink_listing
from oddskit.loading import load
from oddskit.partitions import maintain, set_policy
from oddskit.queries import fetch_closing_odds, fetch_opening_odds
from oddskit.schema import downgrade, migrate

HELPERS = {"opening": fetch_opening_odds, "closing": fetch_closing_odds}


@pytest.fixture
def db(make_migrated) -> Database:
    return make_migrated("embedded", "native")


def assert_exact(db: Database, **filters: Any) -> dict[str, pl.DataFrame]:
    """Both helpers equal the oracle with ``filters``; return their frames."""
    frames = {}
    for kind, helper in HELPERS.items():
        frame = helper(db, **filters)
        assert_frame_equal(frame, reference_board(db, kind, **filters), check_exact=True)
        frames[kind] = frame
    return frames


def assert_exact_every_way(db: Database) -> dict[str, pl.DataFrame]:
    frames = assert_exact(db)
    assert_exact(db, markets="1x2", bookmakers=["Pinnacle", "betPawa"])
    assert_exact(
        db,
        kickoff_since=DAY0 + timedelta(hours=12),
        kickoff_until=DAY0 + timedelta(days=1, hours=12),
    )
    events = sorted(frames["opening"]["event_id"].unique())[:3]
    assert_exact(db, event_ids=events, markets=["1x2", "btts"])
    return frames


def stored(db: Database, table: str) -> pl.DataFrame:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT event_id, bookmaker_id, snapshot_id, captured_at, market, line, outcome, "
            f"odds FROM {table} ORDER BY 1, 2, 5, 6, 7"
        ).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row")


def test_loads_in_order_out_of_order_and_reloaded(db: Database) -> None:
    load(MIDDLE, db=db)
    middle = assert_exact_every_way(db)
    assert middle["opening"].height and middle["closing"].height
    load(EARLY, db=db)  # older: earlier openings; closings only where none was
    both = assert_exact_every_way(db)
    assert both["opening"]["captured_at"].min() < middle["opening"]["captured_at"].min()
    load(LATE, db=db)
    assert_exact_every_way(db)
    before = {table: stored(db, table) for table in ("opening_odds", "closing_odds")}
    assert load(SAMPLE, db=db).rows_loaded == 0  # a reload changes nothing
    for table, frame in before.items():
        assert_frame_equal(stored(db, table), frame)


def test_a_reschedule_picks_the_closing_odds_again(db: Database) -> None:
    load(SAMPLE, db=db)
    closing = assert_exact(db)["closing"]
    # Every bookmaker of the first match prices it in play (no closing odds change),
    # then one reports it two hours later: the in-play snapshots become pre-match.
    kickoff = SAMPLE["kickoff"].min()
    match = SAMPLE.filter(pl.col("kickoff") == kickoff, pl.col("captured_at") < kickoff)
    last = match.filter(
        pl.col("captured_at") == pl.col("captured_at").max().over("bookmaker_event_id")
    )
    in_play = last.with_columns(captured_at=pl.lit(kickoff + timedelta(minutes=10)))
    load(in_play, db=db)
    assert_frame_equal(assert_exact(db)["closing"], closing)
    reporter = last.filter(pl.col("bookmaker") == "Pinnacle").with_columns(
        captured_at=pl.lit(kickoff + timedelta(minutes=20)),
        kickoff=pl.lit(kickoff + timedelta(hours=2)),
    )
    snapshot = reporter
    report = load(snapshot, db=db)
    assert report.results[0].rescheduled_events == 1
    after = assert_exact(db)["closing"]
    moved = after.join(closing, on=list(closing.columns), how="anti", nulls_equal=True)
    assert moved.height and (moved["captured_at"] >= kickoff).all()
    assert moved["event_id"].n_unique() == 1 and moved["bookmaker"].n_unique() > 1


def test_relinking_a_listing_moves_its_opening_and_closing(db: Database) -> None:
    load(SAMPLE, db=db)
    before = assert_exact(db)
    listing = SAMPLE.select("bookmaker", "bookmaker_event_id").row(0)
    with db.engine.connect() as conn:
        original = conn.execute(
            sa.text("SELECT event_id FROM event_bookmakers WHERE bookmaker_event_id = :id"),
            {"id": listing[1]},
        ).scalar_one()
    unlink_listing(db, *listing)
    moved = assert_exact(db)["opening"]
    assert moved["event_id"].n_unique() == before["opening"]["event_id"].n_unique() + 1
    link_listing(db, *listing, original)
    again = assert_exact(db)
    for kind, frame in before.items():
        assert_frame_equal(again[kind], frame)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_retention_and_the_archive_keep_them_exact(
    make_migrated, backend: tuple[str, str], tmp_path: Path
) -> None:
    db = make_migrated(*backend)
    set_policy(db, archive="none")
    load(SAMPLE, db=db)
    before = assert_exact(db)["opening"]
    assert before["captured_at"].min() < DAY0 + timedelta(days=1)
    # Day 0 dropped without an archive: openings move to the first day left.
    assert maintain(db, now=DAY0 + timedelta(days=31, hours=1)).dropped
    opening = assert_exact_every_way(db)["opening"]
    assert opening["captured_at"].min() >= DAY0 + timedelta(days=1)
    assert opening.join(before, on=["event_id", "bookmaker"]).height  # pairs kept, moved
    # Day 1 archived, then dropped: the same answers, from the archive.
    set_policy(db, archive=str(tmp_path / "archive"))
    assert archive_day(db, (DAY0 + timedelta(days=1)).date()) is not None
    live = assert_exact(db)
    maintain(db, now=DAY0 + timedelta(days=32, hours=1))
    assert stored(db, "opening_odds").height == 0
    archived = assert_exact(db)
    for kind, frame in live.items():
        assert_frame_equal(archived[kind], frame)


def test_the_migration_fills_them_from_what_is_stored(db: Database) -> None:
    load(SAMPLE, db=db)
    expected = {table: stored(db, table) for table in ("opening_odds", "closing_odds")}
    assert all(frame.height for frame in expected.values())
    downgrade(db, revision="0009")
    migrate(db)
    for table, frame in expected.items():
        assert_frame_equal(stored(db, table), frame)
    assert_exact(db)


def test_a_season_reads_the_tables_not_the_partitions(db: Database) -> None:
    load(SAMPLE, db=db)
    with db.engine.begin() as conn:  # what the helpers return is the tables' content
        conn.exec_driver_sql("UPDATE opening_odds SET odds = 77.0")
        conn.exec_driver_sql("UPDATE closing_odds SET odds = 88.0")
    assert (fetch_opening_odds(db)["odds"] == 77.0).all()
    assert (fetch_closing_odds(db, markets="1x2")["odds"] == 88.0).all()
