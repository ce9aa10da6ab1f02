"""The current board (``current_odds``, migration 0009) answers exactly as the as-of query.

``fetch_latest_odds(db)`` (now) reads ``current_odds``, which the loader keeps in the
load's transaction; ``fetch_latest_odds(db, as_of=now)`` probes the history. Both must
return the same frame after loads in order, out of order, reloads and overlapping
files, after retention drops a day and after a day is archived — with every filter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from boards import reference_board
from polars.testing import assert_frame_equal
from test_queries import BACKEND_PARAMS, DAY0

from oddskit.archive import archive_day
from oddskit.arguments import duration
from oddskit.connection import Database
from oddskit.links import link_listing, unlink_listing
from oddskit.loading import load
from oddskit.partitions import maintain, set_policy
from oddskit.queries import fetch_events, fetch_latest_odds
from oddskit.sample import generate_sample
from oddskit.schema import downgrade, migrate

BOOKMAKERS = ["betPawa", "Pinnacle", "SportyBet"]
#: Two days of 4 matches a day, 3 bookmakers, a snapshot an hour: days 0 and 1 of three
#: days ago, so all in the past and inside the default retention.
SAMPLE = generate_sample(
    start=DAY0, days=2, events_per_day=4, bookmakers=BOOKMAKERS, interval_minutes=60, seed=3
)
T1, T2 = DAY0 + timedelta(hours=20), DAY0 + timedelta(hours=34)
EARLY = SAMPLE.filter(pl.col("captured_at") < T1)
MIDDLE = SAMPLE.filter(pl.col("captured_at") >= T1, pl.col("captured_at") < T2)
LATE = SAMPLE.filter(pl.col("captured_at") >= T2)


@pytest.fixture
def db(make_migrated) -> Database:
    return make_migrated("embedded", "native")


def stored(db: Database) -> pl.DataFrame:
    """``current_odds`` as (event_id, bookmaker, captured_at, market, line, outcome, odds)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.event_id, b.name, c.captured_at, c.market, c.line, c.outcome, c.odds "
                "FROM current_odds c JOIN bookmakers b ON b.id = c.bookmaker_id"
            )
        ).all()
    columns = ["event_id", "bookmaker", "captured_at", "market", "line", "outcome", "odds"]
    frame = pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row")
    return frame.sort(columns[:2] + columns[3:6], nulls_last=True)


def assert_current_is_exact(db: Database, **filters: Any) -> pl.DataFrame:
    """The current board equals the as-of board at an instant just after it; return it."""
    current = fetch_latest_odds(db, **filters)
    now = datetime.now(UTC)
    assert_frame_equal(current, fetch_latest_odds(db, as_of=now, **filters), check_exact=True)
    lookback = filters.pop("lookback", None)
    lookback = duration(lookback, "lookback", allow_none=True)
    expected = reference_board(db, "latest", as_of=now, lookback=lookback, **filters)
    assert_frame_equal(current, expected, check_exact=True)
    return current


def assert_table_is_newest(db: Database) -> None:
    """``current_odds`` holds each pair's newest live snapshot (none lies ahead here)."""
    board = reference_board(db, "latest", as_of=datetime.now(UTC))
    expected = board.drop("kickoff").sort(
        ["event_id", "bookmaker", "market", "line", "outcome"], nulls_last=True
    )
    assert_frame_equal(stored(db).cast(expected.schema), expected, check_exact=True)  # type: ignore[arg-type]


def test_loads_in_order_out_of_order_reloaded_and_overlapping(db: Database) -> None:
    load(LATE, db=db)
    late = assert_current_is_exact(db)
    assert late.height and late["captured_at"].min() >= T2
    assert_table_is_newest(db)

    load(EARLY, db=db)  # older file after a newer one: the newer pairs keep their rows
    both = assert_current_is_exact(db)
    assert (
        both.join(late, on=list(late.columns), how="anti", nulls_equal=True).height > 0
    )  # pairs only early
    kept = both.join(late.select("event_id", "bookmaker").unique(), on=["event_id", "bookmaker"])
    assert_frame_equal(kept, late)
    assert_table_is_newest(db)

    before = stored(db)
    assert load(LATE, db=db).rows_loaded == 0  # a reload changes nothing
    assert_frame_equal(stored(db), before)

    # The middle day and part of the late one: new snapshots of pairs, some newer than
    # stored (pairs that had none late), the rest older or already stored.
    overlap = pl.concat([MIDDLE, LATE.filter(pl.col("captured_at") < T2 + timedelta(hours=3))])
    report = load(overlap, db=db)
    assert report.rows_loaded == MIDDLE.height
    assert_current_is_exact(db)
    assert_table_is_newest(db)
    assert_current_is_exact(db, lookback="30h")


def test_filters_give_the_same_rows(db: Database) -> None:
    load(SAMPLE, db=db)
    events = fetch_events(db)["event_id"].to_list()
    cases: list[dict[str, Any]] = [
        {"event_ids": events[0]},
        {"event_ids": events[2:5]},
        {"event_ids": [10**9]},
        {"bookmakers": "PINNACLE"},
        {"bookmakers": ["betPawa", "SportyBet"]},
        {"markets": "1x2"},
        {"markets": ["over_under", "asian_handicap"]},
        {"event_ids": events[:3], "bookmakers": "betPawa", "markets": "btts"},
        {"lookback": "3d"},
        {"lookback": timedelta(days=3, hours=2)},
    ]
    for filters in cases:
        frame = assert_current_is_exact(db, **filters)
        assert frame.height or filters == {"event_ids": [10**9]}, filters
    assert assert_current_is_exact(db, lookback="1h").height == 0  # everything is older


def test_fetch_latest_odds_now_reads_the_current_table(db: Database) -> None:
    load(SAMPLE, db=db)
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE current_odds SET odds = 99.0 WHERE market = '1x2'"))
    now = fetch_latest_odds(db, markets="1x2")
    assert now.height and (now["odds"] == 99.0).all()
    # So does an instant after every stored snapshot; one before some of them probes.
    later = fetch_latest_odds(db, as_of=datetime.now(UTC), markets="1x2")
    assert (later["odds"] == 99.0).all()
    newest = SAMPLE["captured_at"].max()
    before = fetch_latest_odds(db, as_of=newest - timedelta(microseconds=1), markets="1x2")
    assert before.height and (before["odds"] < 99).all()


def test_a_snapshot_ahead_of_now_is_left_out_as_in_the_as_of_query(db: Database) -> None:
    load(SAMPLE, db=db)
    ahead = datetime.now(UTC) + timedelta(hours=2)  # the loader accepts up to a day ahead
    newest = SAMPLE.filter(pl.col("captured_at") == pl.col("captured_at").max()).head(1)
    pair = newest.select("bookmaker", "bookmaker_event_id")
    snapshot = SAMPLE.filter(pl.col("captured_at") == newest["captured_at"][0]).join(
        pair, on=["bookmaker", "bookmaker_event_id"]
    )
    load(snapshot.with_columns(captured_at=pl.lit(ahead)), db=db)
    assert stored(db)["captured_at"].max() == ahead  # the table holds it...
    board = assert_current_is_exact(db)  # ...the board now does not
    assert board["captured_at"].max() < datetime.now(UTC)
    assert_current_is_exact(db, markets="1x2")
    assert_current_is_exact(db, bookmakers=newest["bookmaker"][0], lookback="4d")


def test_relinking_a_listing_moves_its_current_rows(db: Database) -> None:
    load(SAMPLE, db=db)
    listing = SAMPLE.select("bookmaker", "bookmaker_event_id").row(0)
    with db.engine.connect() as conn:
        original = conn.execute(
            sa.text("SELECT event_id FROM event_bookmakers WHERE bookmaker_event_id = :id"),
            {"id": listing[1]},
        ).scalar_one()
    before = stored(db)
    unlink_listing(db, *listing)  # its own new match
    assert_current_is_exact(db)
    assert_table_is_newest(db)
    moved = stored(db).join(before, on=list(before.columns), how="anti", nulls_equal=True)
    assert moved.height and (moved["event_id"] != original).all()
    link_listing(db, *listing, original)  # back
    assert_current_is_exact(db)
    assert_table_is_newest(db)
    assert_frame_equal(stored(db), before)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_retention_drop_and_archive_keep_it_exact(
    make_migrated, backend: tuple[str, str], tmp_path: Path
) -> None:
    db = make_migrated(*backend)
    set_policy(db, archive="none")
    load(SAMPLE, db=db)
    day0_pairs = EARLY.filter(pl.col("captured_at") < DAY0 + timedelta(days=1))
    assert day0_pairs.height

    # Retention drops day 0 without archiving it: pairs whose newest snapshot was on
    # day 0 leave the board and the table.
    report = maintain(db, now=DAY0 + timedelta(days=31, hours=1))
    assert report.dropped
    board = assert_current_is_exact(db)
    assert board["captured_at"].min() >= DAY0 + timedelta(days=1)
    assert_table_is_newest(db)
    assert stored(db)["captured_at"].min() >= DAY0 + timedelta(days=1)

    # Day 1 archived on demand (live and archived), then archived and dropped.
    set_policy(db, archive=str(tmp_path / "archive"))
    assert archive_day(db, (DAY0 + timedelta(days=1)).date()) is not None
    assert_current_is_exact(db)
    assert_current_is_exact(db, markets="1x2", lookback="3d")
    maintain(db, now=DAY0 + timedelta(days=32, hours=1))
    assert stored(db).height == 0  # nothing live: the table is empty...
    archived = assert_current_is_exact(db)  # ...and the board comes from the archive
    assert archived.height and archived["captured_at"].min() >= DAY0 + timedelta(days=1)
    assert_current_is_exact(db, bookmakers="Pinnacle", markets="1x2")


def test_the_migration_fills_the_table_from_what_is_stored(db: Database) -> None:
    load(SAMPLE, db=db)
    expected = stored(db)
    assert expected.height
    downgrade(db, revision="0008")
    migrate(db)
    assert_frame_equal(stored(db), expected)
    assert_current_is_exact(db)


def test_the_whole_board_now_binds_no_value(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without bound values ADBC streams the result with COPY (1.8x faster for a whole
    # board); an explicit as_of keeps its bound (a later snapshot may be committed meanwhile).
    import oddskit.queries_current as current

    load(SAMPLE, db=db)
    ran = []
    original = current.run_query

    def spy(db: Database, query: Any, *args: Any) -> Any:
        ran.append(query)
        return original(db, query, *args)

    monkeypatch.setattr(current, "run_query", spy)
    board = fetch_latest_odds(db)
    assert board.height and ran[-1].values == []
    assert_current_is_exact(db)
    fetch_latest_odds(db, as_of=datetime.now(UTC))
    assert len(ran[-1].values) == 1
