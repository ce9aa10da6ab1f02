"""Partition pruning by capture bounds: every query helper plans only the days that can
hold the rows it asks for, whatever the caller passes (issue 13).

A database of each backend with retention off, ~125 days of daily partitions, and a
few hand-made listings on a few days: X (captures on days -100, -70, -60, -59 and -58),
Y (days -10 and -9) and a listing of Y without snapshots. Each helper runs as users
call it; a spy keeps the very queries it ran, and ``EXPLAIN`` of each (the same SQL
and bound values) must name only partitions of the days between the selected pairs'
first and last capture. The answers are checked against the full history, read
without any filter (the unbounded path).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql as psql
from sqlalchemy.engine import make_url

from oddskit import queries, queries_board, queries_bounds, queries_quality
from oddskit.connection import Database
from oddskit.days import day_bounds, utc_day
from oddskit.loading import load
from oddskit.partitions import ensure_partitions, set_policy
from oddskit.queries import (
    BOARD_SCHEMA,
    ODDS_SCHEMA,
    fetch_closing_odds,
    fetch_coverage,
    fetch_events,
    fetch_gaps,
    fetch_latest_odds,
    fetch_odds_history,
    fetch_opening_odds,
)
from oddskit.query_builder import Query, explain
from oddskit.sample import SAMPLE_SCHEMA
from oddskit.schema import downgrade, head_revision, migrate

BACKEND_PARAMS = [
    pytest.param(("embedded", "native"), id="embedded-native"),
    pytest.param(("system", "partman"), id="system-partman", marks=pytest.mark.partman),
]
TODAY = day_bounds(datetime.now(UTC))[0]
HISTORY_DAYS = 120


def day(n: int, hours: float = 12) -> datetime:
    """``hours`` into the UTC day ``n`` days from today (negative: the past)."""
    return TODAY + timedelta(days=n, hours=hours)


# (bookmaker, bookmaker_event_id, home, away, kickoff, captures)
X_BETPAWA = ("betPawa", "bp-x", "Enyimba", "Kano Pillars", day(-58, 15))
X_PINNACLE = ("Pinnacle", "pn-x", "Enyimba", "Kano Pillars", day(-58, 15))
Y_BETPAWA = ("betPawa", "bp-y", "Rivers United", "Remo Stars", day(-9, 18))
CAPTURES = {
    X_BETPAWA: [day(-100, 10), day(-60, 10), day(-59, 10), day(-58, 14)],
    X_PINNACLE: [day(-70, 9), day(-58, 14.5), day(-58, 16)],  # the last one in play
    Y_BETPAWA: [day(-10, 12), day(-9, 12), day(-9, 19)],
}
OUTCOMES = (("home", 2.0), ("away", 3.0))


def rows(listing: tuple, captures: list[datetime]) -> list[dict[str, Any]]:
    bookmaker, event, home, away, kickoff = listing
    return [
        {
            "captured_at": t,
            "bookmaker": bookmaker,
            "sport": "Football",
            "country": "Nigeria",
            "tournament": "NPFL",
            "sportradar_id": None,
            "bookmaker_event_id": event,
            "home_team": home,
            "away_team": away,
            "kickoff": kickoff,
            "market": "1x2",
            "line": None,
            "outcome": outcome,
            "odds": odds + i / 100,
        }
        for i, t in enumerate(captures)
        for outcome, odds in OUTCOMES
    ]


def frame(captures: dict[tuple, list[datetime]]) -> pl.DataFrame:
    data = [row for listing, times in captures.items() for row in rows(listing, times)]
    return pl.DataFrame(data, schema=SAMPLE_SCHEMA)


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def history(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database of each backend: retention off, ~125 days of partitions, X and Y."""
    server, backend = request.param
    admin = request.getfixturevalue(f"{server}_admin_url")
    name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    db = Database(url, source="argument")
    try:
        migrate(db, backend=backend)
        set_policy(db, retention_days=None, archive=None, confirm=True)
        ensure_partitions(db, TODAY - timedelta(days=HISTORY_DAYS), TODAY + timedelta(days=2))
        load(frame(CAPTURES), db=db)
        with db.engine.begin() as conn:  # Y's listing at Pinnacle, without snapshots
            conn.execute(
                sa.text(
                    "INSERT INTO event_bookmakers (event_id, bookmaker_id, bookmaker_event_id, "
                    "home_team, away_team) SELECT eb.event_id, b.id, 'pn-y', 'Rivers', 'Remo' "
                    "FROM event_bookmakers eb, bookmakers b "
                    "WHERE eb.bookmaker_event_id = 'bp-y' AND b.name = 'Pinnacle'"
                )
            )
        yield db
    finally:
        db.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psql.SQL("DROP DATABASE {} WITH (FORCE)").format(psql.Identifier(name)))


def event(db: Database, home: str) -> int:
    return fetch_events(db, team=home)["event_id"].item()


_PARTITION = re.compile(r"\b(odds_snapshots|market_odds)_(p\d{4}_\d{2}_\d{2}|default)\b")


def planned_days(db: Database, query: Query) -> dict[str, set[date]]:
    """The days whose partitions the plan of ``query`` names, per parent table."""
    plan = explain(db, query)
    found: dict[str, set[date]] = {"odds_snapshots": set(), "market_odds": set()}
    for parent, suffix in _PARTITION.findall(plan):
        assert suffix != "default", plan
        found[parent].add(datetime.strptime(suffix, "p%Y_%m_%d").date())
    return found


def days(first: datetime, last: datetime) -> set[date]:
    """The UTC days from ``first``'s to ``last``'s, both included."""
    start, end = utc_day(first), utc_day(last)
    return {start + timedelta(days=i) for i in range((end - start).days + 1)}


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[Query]:
    """The queries the helpers run on the partitioned tables (their exact SQL and values)."""
    ran: list[Query] = []
    for module in (queries, queries_board, queries_quality):
        original = module.run_query

        def keep(db: Database, query: Query, *args: Any, _run: Callable = original) -> Any:
            if "odds_snapshots" in query.sql:
                ran.append(query)
            return _run(db, query, *args)

        monkeypatch.setattr(module, "run_query", keep)
    return ran


def only_days(db: Database, ran: list[Query], allowed: set[date]) -> None:
    """Every query run reads some partitions, all of them of ``allowed`` days."""
    assert ran, "the helper ran no query on the partitioned tables"
    for query in ran:
        planned = planned_days(db, query)
        for parent, found in planned.items():
            assert found or parent not in query.sql, f"{parent} not in the plan of:\n{query.sql}"
            assert found <= allowed, (parent, sorted(found - allowed), query.sql)
    ran.clear()


def full_history(db: Database) -> pl.DataFrame:
    return fetch_odds_history(db)  # no filter: every partition, no bounds


def test_bounds_are_the_first_and_last_capture_of_each_listing(history: Database) -> None:
    with history.engine.connect() as conn:
        stored = {
            row.bookmaker_event_id: (row.first_captured_at, row.last_captured_at)
            for row in conn.execute(
                sa.text(
                    "SELECT bookmaker_event_id, first_captured_at, last_captured_at "
                    "FROM event_bookmakers"
                )
            )
        }
    assert stored == {
        listing[1]: (min(times), max(times)) for listing, times in CAPTURES.items()
    } | {"pn-y": (None, None)}
    # A reload changes nothing; the partitions of ~125 days exist.
    load(frame(CAPTURES), db=history, progress=False)
    with history.engine.connect() as conn:
        again = conn.execute(
            sa.text("SELECT min(first_captured_at), max(last_captured_at) FROM event_bookmakers")
        ).one()
        partitions = conn.execute(
            sa.text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'odds_snapshots'::regclass")
        ).scalar_one()
    assert tuple(again) == (day(-100, 10), day(-9, 19))
    assert partitions >= HISTORY_DAYS


def test_history_plans_only_the_days_of_its_events(history: Database, spy: list[Query]) -> None:
    db, y, x = history, event(history, "Rivers"), event(history, "Enyimba")
    everything = full_history(db)
    spy.clear()
    got = fetch_odds_history(db, event_ids=[y])
    assert got.equals(everything.filter(pl.col("event_id") == y))
    only_days(db, spy, {utc_day(day(-10)), utc_day(day(-9))})
    # A bookmaker alone bounds the window too; a window narrows the bounds further.
    got = fetch_odds_history(db, bookmakers="Pinnacle")
    assert got.equals(everything.filter(pl.col("bookmaker") == "Pinnacle"))
    only_days(db, spy, days(day(-70), day(-58)))
    got = fetch_odds_history(db, event_ids=x, until=day(-80))
    assert got["captured_at"].to_list() == [day(-100, 10)] * 2
    only_days(db, spy, days(day(-100), day(-80)))


def test_board_plans_only_the_days_of_its_pairs(history: Database, spy: list[Query]) -> None:
    db, y, x = history, event(history, "Rivers"), event(history, "Enyimba")
    everything = full_history(db)
    y_days = {utc_day(day(-10)), utc_day(day(-9))}
    spy.clear()

    # The board now, opening and closing odds come from tables of one snapshot per pair
    # (current_odds, opening_odds, closing_odds): no partition is planned at all.
    latest = fetch_latest_odds(db, event_ids=[y], as_of=datetime.now(UTC))
    assert latest["captured_at"].unique().to_list() == [day(-9, 19)]
    assert fetch_latest_odds(db, event_ids=[y]).equals(latest)

    opening = fetch_opening_odds(db, event_ids=[x, y])
    first = everything.filter(
        pl.col("captured_at") == pl.col("captured_at").min().over("event_id", "bookmaker")
    )
    assert opening.drop("kickoff").equals(first.select(opening.drop("kickoff").columns))

    closing = fetch_closing_odds(db, event_ids=[x])
    assert dict(closing.select("bookmaker", "captured_at").unique().iter_rows()) == {
        "betPawa": day(-58, 14),
        "Pinnacle": day(-58, 14.5),
    }
    closing = fetch_closing_odds(db, kickoff_since=day(-9, 0), kickoff_until=day(-8, 0))
    assert closing["captured_at"].unique().to_list() == [day(-9, 12)]
    assert not spy, "a board table helper read the partitioned tables"

    # As of an instant before a pair's newest snapshot: the per-pair probe, on Y's days.
    before = fetch_latest_odds(db, event_ids=[y], as_of=day(-9, 18))
    assert before["captured_at"].unique().to_list() == [day(-9, 12)]
    only_days(db, spy, y_days)

    # As of a past instant: only the days from X's first capture to that instant.
    past = fetch_latest_odds(db, event_ids=[x], as_of=day(-80))
    assert past.select("bookmaker", "captured_at").unique().rows() == [("betPawa", day(-100, 10))]
    only_days(db, spy, days(day(-100), day(-80)))


def test_quality_helpers_plan_only_the_days_of_their_pairs(
    history: Database, spy: list[Query]
) -> None:
    db, y = history, event(history, "Rivers")
    since, until = TODAY - timedelta(days=HISTORY_DAYS), TODAY
    gaps = fetch_gaps(db, since=since, until=until, expected="1h", event_ids=[y])
    assert gaps["gap_end"].to_list() == [day(-9, 12), day(-9, 19)]
    only_days(db, spy, {utc_day(day(-10)), utc_day(day(-9))})
    coverage = fetch_coverage(db, since=since, until=until, every="1d", bookmakers="Pinnacle")
    assert coverage["snapshots"].sum() == 3 and coverage.height == HISTORY_DAYS
    planned = planned_days(db, spy[-1])
    assert planned["odds_snapshots"] <= days(day(-70), day(-58)), planned


def test_pairs_without_snapshots_read_no_partition(history: Database, spy: list[Query]) -> None:
    db, y = history, event(history, "Rivers")
    for helper in (fetch_opening_odds, fetch_closing_odds, fetch_latest_odds):
        board = helper(db, event_ids=[y], bookmakers="Pinnacle")
        assert board.height == 0 and board.schema == BOARD_SCHEMA
    got = fetch_odds_history(db, event_ids=[y], bookmakers="Pinnacle")
    assert got.height == 0 and got.schema == ODDS_SCHEMA
    got = fetch_odds_history(db, event_ids=[y], since=day(-5))  # after its last capture
    assert got.height == 0 and got.schema == ODDS_SCHEMA
    assert not spy  # the bounds said so: no query on the partitioned tables at all
    assert queries_bounds.capture_bounds(db, event_ids=[y], bookmakers=["Pinnacle"]) is None


def test_migration_fills_the_bounds_from_the_snapshots(make_migrated) -> None:
    db = make_migrated("embedded", "native")
    set_policy(db, retention_days=None, archive=None, confirm=True)
    load(frame(CAPTURES), db=db, progress=False)
    read = sa.text(
        "SELECT bookmaker_event_id, first_captured_at, last_captured_at FROM event_bookmakers "
        "ORDER BY 1"
    )
    with db.engine.connect() as conn:
        before = conn.execute(read).all()
    assert downgrade(db, revision="0007") == "0007"
    assert migrate(db) == head_revision()
    with db.engine.connect() as conn:
        assert conn.execute(read).all() == before
    assert before[0][1:] == (day(-100, 10), day(-58, 14))


def test_loads_widen_the_bounds_live_and_to_the_archive(make_migrated, tmp_path) -> None:
    db = make_migrated("embedded", "native")
    set_policy(db, retention_days=None, archive=str(tmp_path / "archive"), confirm=True)
    load(frame({Y_BETPAWA: CAPTURES[Y_BETPAWA]}), db=db, progress=False)
    load(frame({Y_BETPAWA: [day(-20, 8)]}), db=db, progress=False)  # an older live capture
    y = event(db, "Rivers")
    assert queries_bounds.capture_bounds(db, event_ids=[y]).first == day(-20, 8)
    # Older history straight to the archive: the opening odds come from there.
    load(frame({Y_BETPAWA: [day(-40, 8)]}), db=db, progress=False, to="archive")
    span = queries_bounds.capture_bounds(db, event_ids=[y])
    assert (span.first, span.last) == (day(-40, 8), day(-9, 19))
    opening = fetch_opening_odds(db, event_ids=[y])
    assert opening["captured_at"].unique().to_list() == [day(-40, 8)]
    history = fetch_odds_history(db, event_ids=[y])
    assert history["captured_at"].unique().sort().to_list()[:2] == [day(-40, 8), day(-20, 8)]
