"""oddskit.queries on real servers: as-of correctness, windows, pruning, injection, schemas.

Most tests load a small hand-made timeline (exact answers known) into a database of each
backend (``migrated``: embedded PostgreSQL 18 with native partitions, system PostgreSQL 15
with pg_partman). The timeline lies in the three UTC days before today, inside the
default retention, so that the loader's maintenance keeps it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql as psql
from sqlalchemy.engine import make_url

from oddskit import queries, queries_board
from oddskit.connection import Database
from oddskit.errors import ConfigurationError
from oddskit.loading import load
from oddskit.partitions import day_bounds, partition_name, utc_day
from oddskit.queries import (
    BOARD_SCHEMA,
    COVERAGE_SCHEMA,
    EVENTS_SCHEMA,
    GAPS_SCHEMA,
    LOAD_RUNS_SCHEMA,
    ODDS_SCHEMA,
    RUN_ERRORS_SCHEMA,
    fetch_closing_odds,
    fetch_coverage,
    fetch_events,
    fetch_gaps,
    fetch_latest_odds,
    fetch_load_runs,
    fetch_odds_history,
    fetch_opening_odds,
    fetch_run_errors,
)
from oddskit.query_builder import Query, explain
from oddskit.sample import SAMPLE_SCHEMA, generate_sample
from oddskit.schema import migrate

#: Both backends, as in conftest: embedded PG 18 (native), system PG 15 (pg_partman).
BACKEND_PARAMS = [
    pytest.param(("embedded", "native"), id="embedded-native"),
    pytest.param(("system", "partman"), id="system-partman", marks=pytest.mark.partman),
]
US = timedelta(microseconds=1)
#: Day 0 of the timeline: three UTC days ago (days 0, 1, 2 are in the past).
DAY0 = day_bounds(datetime.now(UTC))[0] - timedelta(days=3)
DAY1, DAY2 = DAY0 + timedelta(days=1), DAY0 + timedelta(days=2)


def at(day: datetime, hours: float, minutes: float = 0) -> datetime:
    return day + timedelta(hours=hours, minutes=minutes)


@dataclass(frozen=True)
class Match:
    bookmaker_event_id: str
    tournament: str
    country: str | None
    sportradar_id: str | None
    home: str
    away: str
    kickoff: datetime


ENYIMBA = Match("bp-1", "NPFL", "Nigeria", "sr:match:1", "Enyimba", "Kano Pillars", at(DAY1, 15))
ENYIMBA_PN = replace(ENYIMBA, bookmaker_event_id="pn-1")  # Pinnacle's id of the same match
FIGHTERS = Match("bp-2", "NPFL", "Nigeria", None, "100% Fighters_FC", "Rivers United", at(DAY2, 18))
ARSENAL = Match(
    "pn-3", "Premier League", "England", "sr:match:3", "Arsenal", "Chelsea", at(DAY2, 20)
)
FOREST = Match(
    "pn-4", "Premier League", "England", "sr:match:4", "Fighters FC", "Nott'm 100", at(DAY2, 21)
)

# The snapshots: (label, bookmaker, match, captured_at). Each has its own home price.
A0, A1, A2 = at(DAY0, 10), at(DAY1, 9), at(DAY1, 12)  # betPawa on Enyimba, pre-match
A3 = ENYIMBA.kickoff - timedelta(minutes=5)  # the closing snapshot
A4, A5 = ENYIMBA.kickoff, ENYIMBA.kickoff + timedelta(minutes=30)  # in play
P0, P1 = DAY1, at(DAY1, 14)  # Pinnacle on Enyimba; P0 exactly at day 1's midnight
B0, B1, B2, B3 = (at(DAY2, 8, m) for m in (0, 5, 30, 35))  # betPawa on Fighters; 25 min gap
SNAPSHOTS: list[tuple[str, str, Match, datetime]] = [
    *[(f"A{i}", "betPawa", ENYIMBA, t) for i, t in enumerate((A0, A1, A2, A3, A4, A5))],
    ("P0", "Pinnacle", ENYIMBA_PN, P0),
    ("P1", "Pinnacle", ENYIMBA_PN, P1),
    *[(f"B{i}", "betPawa", FIGHTERS, t) for i, t in enumerate((B0, B1, B2, B3))],
    ("C0", "Pinnacle", ARSENAL, at(DAY2, 9)),
    ("D0", "Pinnacle", FOREST, at(DAY2, 10)),
]
HOME_PRICE = {label: round(2.0 + i / 100, 2) for i, (label, *_) in enumerate(SNAPSHOTS)}
OUTCOMES = [("1x2", None, "home"), ("1x2", None, "draw"), ("1x2", None, "away")]
OUTCOMES += [("over_under", 2.5, "over"), ("over_under", 2.5, "under")]


def timeline() -> pl.DataFrame:
    """The hand-made timeline in the bulk-load format: 14 snapshots × 5 prices."""
    rows = []
    for label, bookmaker, m, captured_at in SNAPSHOTS:
        for j, (market, line, outcome) in enumerate(OUTCOMES):
            odds = HOME_PRICE[label] if j == 0 else 1.5 + j / 10
            rows.append(
                {
                    "captured_at": captured_at,
                    "bookmaker": bookmaker,
                    "sport": "Football",
                    "country": m.country,
                    "tournament": m.tournament,
                    "sportradar_id": m.sportradar_id,
                    "bookmaker_event_id": m.bookmaker_event_id,
                    "home_team": m.home,
                    "away_team": m.away,
                    "kickoff": m.kickoff,
                    "market": market,
                    "line": line,
                    "outcome": outcome,
                    "odds": odds,
                }
            )
    return pl.DataFrame(rows, schema=SAMPLE_SCHEMA)


@pytest.fixture
def db(migrated: Database) -> Database:
    """A new database of each backend holding the timeline (for the key tests)."""
    report = load(timeline(), db=migrated)
    assert report.rows_loaded == len(SNAPSHOTS) * len(OUTCOMES)
    return migrated


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def shared(request: pytest.FixtureRequest) -> Iterator[Database]:
    """One database of each backend holding the timeline, for the read-only tests."""
    server, backend = request.param
    admin = request.getfixturevalue(f"{server}_admin_url")
    name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    database = Database(url, source="argument")
    try:
        migrate(database, backend=backend)
        load(timeline(), db=database)
        yield database
    finally:
        database.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psql.SQL("DROP DATABASE {} WITH (FORCE)").format(psql.Identifier(name)))


def event_id(db: Database, home: str) -> int:
    frame = fetch_events(db, team=home)
    assert frame.height == 1, frame
    return frame["event_id"][0]


def snapshot_labels(frame: pl.DataFrame) -> dict[tuple[int, str], str]:
    """(event_id, bookmaker) → label of the snapshot whose prices the frame holds."""
    by_price = {price: label for label, price in HOME_PRICE.items()}
    homes = frame.filter(pl.col("market") == "1x2", pl.col("outcome") == "home")
    assert homes.select("event_id", "bookmaker").is_unique().all()
    when = {label: t for label, _, _, t in SNAPSHOTS}
    labels = {}
    for event, bookmaker, captured_at, odds in homes.select(
        "event_id", "bookmaker", "captured_at", "odds"
    ).iter_rows():
        labels[(event, bookmaker)] = by_price[odds]
        assert captured_at == when[by_price[odds]]  # prices belong to the snapshot returned
    return labels


def counts(db: Database) -> dict[str, int]:
    tables = ["events", "bookmakers", "odds_snapshots", "market_odds", "scrape_runs"]
    with db.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


# --- as of ----------------------------------------------------------------------------------


def test_latest_odds_is_the_newest_snapshot_at_or_before_as_of(db: Database) -> None:
    enyimba = event_id(db, "Enyimba")

    def latest(as_of: datetime, **kwargs: Any) -> dict[str, str]:
        frame = fetch_latest_odds(db, as_of=as_of, event_ids=[enyimba], **kwargs)
        assert frame.schema == BOARD_SCHEMA
        return {bm: label for (_, bm), label in snapshot_labels(frame).items()}

    assert latest(A1) == {"betPawa": "A1", "Pinnacle": "P0"}  # exactly at a snapshot
    assert latest(A1 - US) == {"betPawa": "A0", "Pinnacle": "P0"}  # 1 µs before it
    assert latest(A2 - US) == {"betPawa": "A1", "Pinnacle": "P0"}  # A2 is as_of + 1 µs
    assert latest(P0 - US) == {"betPawa": "A0"}  # Pinnacle had not priced it yet
    assert latest(A0 - US) == {}
    assert latest(P1 + timedelta(minutes=1)) == {"betPawa": "A2", "Pinnacle": "P1"}
    # lookback ignores older snapshots; a zone other than UTC means the same instant
    assert latest(A1, lookback=timedelta(hours=1)) == {"betPawa": "A1"}
    lagos = timezone(timedelta(hours=1))
    assert latest(A1.astimezone(lagos) - US) == {"betPawa": "A0", "Pinnacle": "P0"}
    # default as_of is now: the in-play snapshot A5 is the newest
    assert snapshot_labels(fetch_latest_odds(db, event_ids=enyimba, bookmakers="betPawa")) == {
        (enyimba, "betPawa"): "A5"
    }
    # markets filter the chosen snapshot's prices; every outcome of the snapshot is there
    frame = fetch_latest_odds(db, as_of=A1, markets=["over_under"], bookmakers=["Pinnacle"])
    assert frame.select("event_id", "captured_at", "line", "outcome").rows() == [
        (enyimba, P0, 2.5, "over"),
        (enyimba, P0, 2.5, "under"),
    ]  # Arsenal's only Pinnacle snapshot is after as_of
    board = fetch_latest_odds(db, as_of=at(DAY2, 23))
    assert board.height == 5 * 5  # 5 event × bookmaker pairs, 5 prices each


# --- history ----------------------------------------------------------------------------------


def test_history_filters_and_half_open_window(shared: Database) -> None:
    db = shared
    everything = fetch_odds_history(db)
    assert everything.schema == ODDS_SCHEMA
    assert everything.height == len(SNAPSHOTS) * len(OUTCOMES)
    assert everything.equals(everything.sort("event_id", "bookmaker", "captured_at", "market"))

    day1 = fetch_odds_history(db, since=DAY1, until=DAY2)
    assert set(day1["captured_at"]) == {A1, A2, A3, A4, A5, P0, P1}  # since inclusive
    before = fetch_odds_history(db, until=DAY1)
    assert set(before["captured_at"]) == {A0}  # until exclusive: P0 at DAY1 is out
    assert fetch_odds_history(db, since=P0, until=P0 + US)["captured_at"].unique().to_list() == [P0]
    assert fetch_odds_history(db, since=P0, until=P0).is_empty()

    enyimba = event_id(db, "Enyimba")
    homes = fetch_odds_history(
        db, event_ids=[enyimba], bookmakers="betPawa", markets="1x2", outcomes=["home"]
    )
    assert homes["odds"].to_list() == [HOME_PRICE[f"A{i}"] for i in range(6)]
    assert homes["captured_at"].to_list() == [A0, A1, A2, A3, A4, A5]
    assert fetch_odds_history(db, bookmakers=[]).is_empty()  # an empty list matches nothing
    # Bookmaker names match in any letter case.
    assert fetch_odds_history(db, bookmakers="betpawa").equals(
        fetch_odds_history(db, bookmakers="betPawa")
    )
    assert fetch_odds_history(db, bookmakers="no such book").is_empty()
    lines = fetch_odds_history(db, markets="over_under", outcomes="over")
    assert lines["line"].to_list() == [2.5] * len(SNAPSHOTS)
    # a window in another time zone is the same instants
    lagos = timezone(timedelta(hours=1))
    assert fetch_odds_history(db, since=DAY1.astimezone(lagos), until=DAY2).equals(day1)


def test_history_reads_only_the_partitions_of_its_window(
    shared: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = shared
    built: list[Query] = []
    original = queries._history_sql

    def spy(**kwargs: Any) -> Query:
        built.append(original(**kwargs))
        return built[-1]

    monkeypatch.setattr(queries, "_history_sql", spy)
    frame = fetch_odds_history(db, since=at(DAY1, 6), until=at(DAY1, 13), bookmakers="betPawa")
    assert set(frame["captured_at"]) == {A1, A2}
    plan = explain(db, built[-1])  # the very SQL and values the helper ran

    wanted = utc_day(DAY1)
    for parent in ("odds_snapshots", "market_odds"):
        assert partition_name(parent, wanted) in plan
        for other in (utc_day(DAY0), utc_day(DAY2), utc_day(DAY2 + timedelta(days=1))):
            assert partition_name(parent, other) not in plan, plan
        assert f"{parent}_default" not in plan, plan

    # The as-of probe is pruned by its lookback window too.
    latest = queries_board._latest_sql(as_of=at(DAY1, 13), since=at(DAY1, 1))
    plan = explain(db, latest)
    assert partition_name("odds_snapshots", wanted) in plan
    assert partition_name("odds_snapshots", utc_day(DAY0)) not in plan
    assert partition_name("market_odds", utc_day(DAY2)) not in plan
    # One ORDER BY ... LIMIT 1 probe per (event, bookmaker) pair, not DISTINCT ON.
    assert "LATERAL" in latest.sql.upper() and "DISTINCT ON" not in latest.sql.upper()


# --- opening and closing ----------------------------------------------------------------------


def test_opening_and_closing_odds(shared: Database) -> None:
    db = shared
    opening = fetch_opening_odds(db)
    closing = fetch_closing_odds(db)
    assert opening.schema == closing.schema == BOARD_SCHEMA
    ids = {home: event_id(db, home) for home in ("Enyimba", "100% Fighters_FC", "Arsenal")}
    enyimba, fighters = ids["Enyimba"], ids["100% Fighters_FC"]
    assert snapshot_labels(opening)[(enyimba, "betPawa")] == "A0"
    assert snapshot_labels(opening)[(enyimba, "Pinnacle")] == "P0"
    assert snapshot_labels(opening)[(fighters, "betPawa")] == "B0"
    # Strictly before kickoff: A4 (captured exactly at kickoff) and A5 (in play) are not.
    assert snapshot_labels(closing)[(enyimba, "betPawa")] == "A3"
    assert snapshot_labels(closing)[(enyimba, "Pinnacle")] == "P1"
    assert snapshot_labels(closing)[(fighters, "betPawa")] == "B3"
    assert (closing["captured_at"] < closing["kickoff"]).all()
    assert closing.filter(pl.col("event_id") == enyimba)["kickoff"].unique().to_list() == [
        ENYIMBA.kickoff
    ]
    # Filters: bookmakers, markets, events by kickoff window (half-open).
    only = fetch_closing_odds(db, bookmakers="Pinnacle", markets="1x2", kickoff_until=DAY2)
    assert snapshot_labels(only) == {(enyimba, "Pinnacle"): "P1"}
    assert only.height == 3
    # Bookmaker names match in any letter case.
    lower = fetch_closing_odds(db, bookmakers="pinnacle", markets="1x2", kickoff_until=DAY2)
    assert lower.equals(only)
    later = fetch_opening_odds(db, kickoff_since=ENYIMBA.kickoff + US)
    assert set(later["event_id"]) == {fighters, ids["Arsenal"], event_id(db, "Fighters FC")}
    assert fetch_opening_odds(db, event_ids=[]).is_empty()


# --- events -----------------------------------------------------------------------------------


def test_events_filters_and_literal_team_search(shared: Database) -> None:
    db = shared
    events = fetch_events(db)
    assert events.schema == EVENTS_SCHEMA
    assert events["home_team"].to_list() == [
        "Enyimba",
        "100% Fighters_FC",
        "Arsenal",
        "Fighters FC",
    ]  # by kickoff
    assert events.row(0, named=True) == {
        "event_id": events["event_id"][0],
        "sportradar_id": "sr:match:1",
        "sport": "Football",
        "country": "Nigeria",
        "tournament": "NPFL",
        "home_team": "Enyimba",
        "away_team": "Kano Pillars",
        "kickoff": ENYIMBA.kickoff,
    }

    def homes(**kwargs: Any) -> list[str]:
        return fetch_events(db, **kwargs)["home_team"].to_list()

    assert homes(sports="football", countries="NIGERIA") == ["Enyimba", "100% Fighters_FC"]
    assert homes(tournaments=["premier league", "Serie A"]) == ["Arsenal", "Fighters FC"]
    assert homes(kickoff_since=ENYIMBA.kickoff, kickoff_until=ARSENAL.kickoff) == [
        "Enyimba",
        "100% Fighters_FC",
    ]  # since inclusive, until exclusive
    assert homes(limit=2) == ["Enyimba", "100% Fighters_FC"]
    # team: case-insensitive substring of home or away; % and _ are literal characters
    assert homes(team="PILLARS") == ["Enyimba"]
    assert homes(team="100%") == ["100% Fighters_FC"]  # not "Nott'm 100"
    assert homes(team="s_F") == ["100% Fighters_FC"]  # not "Fighters FC"
    assert homes(team="%") == ["100% Fighters_FC"]
    assert homes(team="_") == ["100% Fighters_FC"]
    assert homes(team="nott'm") == ["Fighters FC"]  # a quote is just a character
    assert homes(team="\\") == []
    assert homes(team="fighters") == ["100% Fighters_FC", "Fighters FC"]
    ids = fetch_events(db, team="fighters")["event_id"]
    assert fetch_events(db, event_ids=ids)["event_id"].equals(ids)


# --- injection --------------------------------------------------------------------------------

EVIL = [
    "x'); DROP TABLE events;--",
    "%' OR 1=1 --",
    "' OR '1'='1",
    "betPawa'; DELETE FROM market_odds; --",
    "$1",
    "Robert\\'); TRUNCATE odds_snapshots CASCADE; --",
]


def test_injection_through_every_string_parameter_is_inert(shared: Database) -> None:
    db = shared
    before = counts(db)
    window = {"since": DAY0, "until": DAY2 + timedelta(days=1)}
    for text in EVIL:  # values refused by the allowlists or integer checks
        for kwargs in ({"kind": text}, {"status": text}):
            with pytest.raises(ConfigurationError):
                fetch_load_runs(db, **kwargs)
        with pytest.raises(ConfigurationError, match="`every` must be"):
            fetch_coverage(db, every=text, **window)
        with pytest.raises(ConfigurationError, match="`run_id` must be an integer"):
            fetch_run_errors(db, text)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="`event_ids`"):
            fetch_odds_history(db, event_ids=[text])  # type: ignore[list-item]
    for text in EVIL[:3]:  # team is one string: one attempt at a time
        assert fetch_events(db, team=text).is_empty(), text
    # list parameters: every attempt at once (one name per call, so each is tested alone)
    for name in ("sports", "tournaments", "countries"):
        assert fetch_events(db, **{name: EVIL}).is_empty(), name
    for name in ("bookmakers", "markets", "outcomes"):
        assert fetch_odds_history(db, **{name: EVIL}, **window).is_empty(), name
    assert fetch_latest_odds(db, markets=EVIL).is_empty()
    for fetch in (fetch_latest_odds, fetch_opening_odds, fetch_closing_odds):
        assert fetch(db, bookmakers=EVIL).is_empty()
    assert fetch_coverage(db, bookmakers=EVIL, **window).is_empty()
    assert fetch_gaps(db, bookmakers=EVIL, **window).is_empty()
    # the tables are intact and still answer honestly
    assert counts(db) == before
    assert fetch_events(db).height == 4
    assert fetch_odds_history(db, bookmakers=[*EVIL, "betPawa"], markets=[*EVIL, "1x2"]).height == (
        10 * 3
    )


# --- coverage, gaps, runs ---------------------------------------------------------------------


def test_coverage_counts_snapshots_per_bookmaker_and_bucket(shared: Database) -> None:
    db = shared
    frame = fetch_coverage(db, since=at(DAY2, 7), until=at(DAY2, 11))
    assert frame.schema == COVERAGE_SCHEMA
    assert frame.height == 2 * 4  # every (bookmaker, hour), zeros included
    got = {(b, t.hour): (n, e) for b, t, n, e in frame.iter_rows()}
    assert got[("betPawa", 8)] == (4, 1)
    assert got[("Pinnacle", 9)] == (1, 1) and got[("Pinnacle", 10)] == (1, 1)
    assert got[("betPawa", 7)] == (0, 0)
    quarter = fetch_coverage(db, since=at(DAY2, 8), until=at(DAY2, 9), every="15m")
    betpawa = quarter.filter(pl.col("bookmaker") == "betPawa")
    assert betpawa["snapshots"].to_list() == [2, 0, 2, 0]
    assert betpawa["bucket_start"].to_list() == [at(DAY2, 8, m) for m in (0, 15, 30, 45)]
    # a window starting mid-bucket lists that bucket but counts only inside the window
    mid = fetch_coverage(db, since=at(DAY2, 8, 10), until=at(DAY2, 9), bookmakers="betPawa")
    assert mid.rows() == [("betPawa", at(DAY2, 8), 2, 1)]
    daily = fetch_coverage(db, since=DAY0, until=DAY2 + timedelta(days=1), every="1d")
    assert daily["snapshots"].sum() == len(SNAPSHOTS)
    with pytest.raises(ConfigurationError, match="`every` must be a timedelta or a duration"):
        fetch_coverage(db, since=DAY0, until=DAY1, every="1 fortnight")
    with pytest.raises(ConfigurationError, match="too many"):
        fetch_coverage(db, since=DAY0 - timedelta(days=400), until=DAY1, every="1m")


def test_gaps_between_consecutive_snapshots(shared: Database) -> None:
    db = shared
    window = {"since": DAY2, "until": DAY2 + timedelta(days=1)}
    gaps = fetch_gaps(db, **window)
    assert gaps.schema == GAPS_SCHEMA
    fighters = event_id(db, "100% Fighters_FC")
    assert gaps.rows() == [(fighters, "betPawa", B1, B2, B2 - B1, 4)]
    assert fetch_gaps(db, expected=timedelta(minutes=30), **window).is_empty()
    assert fetch_gaps(db, bookmakers="Pinnacle", **window).is_empty()
    # Day 1 at betPawa: A1, A2, A3 are hours apart, A3 → A4 is 5 min, A4 → A5 30 min.
    day1 = fetch_gaps(db, since=DAY1, until=DAY2, bookmakers="betPawa")
    assert day1["gap_end"].to_list() == [A2, A3, A5]
    assert day1["gap"].to_list() == [A2 - A1, A3 - A2, A5 - A4]
    # A step of exactly expected + tolerance is not a gap; 1 µs more is.
    exact = {"since": DAY1, "until": DAY2, "expected": timedelta(minutes=4)}
    gaps = fetch_gaps(db, tolerance=timedelta(minutes=1), **exact)
    assert gaps["gap_end"].to_list() == [P1, A2, A3, A5]  # "Pinnacle" < "betPawa" (C order)
    gaps = fetch_gaps(db, tolerance=timedelta(minutes=1) - US, **exact)
    assert gaps["gap_end"].to_list() == [P1, A2, A3, A4, A5]
    with pytest.raises(ConfigurationError, match="`expected` must be positive"):
        fetch_gaps(db, expected=timedelta(0), **window)


def test_load_runs_and_their_errors(shared: Database, tmp_path: Path) -> None:
    db = shared  # only this test adds runs (a load whose every row is rejected)
    runs = fetch_load_runs(db)
    assert runs.schema == LOAD_RUNS_SCHEMA
    assert runs.select("kind", "status", "rows_loaded", "errors").rows() == [
        ("load", "succeeded", len(SNAPSHOTS) * len(OUTCOMES), 0)
    ]
    before = counts(db)
    bad = timeline().head(2).with_columns(odds=pl.Series([1.0, 0.5]))
    load(bad, db=db, on_error="skip", rejects_path=tmp_path / "rejects.csv")
    assert counts(db) == {**before, "scrape_runs": before["scrape_runs"] + 1}
    runs = fetch_load_runs(db, limit=5)
    assert runs["errors"].to_list() == [2, 0]  # newest first
    assert fetch_load_runs(db, limit=1).height == 1
    assert fetch_load_runs(db, status="failed").is_empty()
    assert fetch_load_runs(db, kind="scrape").is_empty()
    errors = fetch_run_errors(db, runs["run_id"][0])
    assert errors.schema == RUN_ERRORS_SCHEMA
    assert errors.height == 2 and set(errors["column_name"]) == {"odds"}
    assert errors["run_id"].unique().to_list() == [runs["run_id"][0]]
    assert fetch_run_errors(db, runs["run_id"][1]).is_empty()
    with pytest.raises(ConfigurationError, match="no run with id 999"):
        fetch_run_errors(db, 999)


# --- generated sample: the SQL answers equal a Polars reference -------------------------------


def test_sample_latest_and_gaps_match_polars_reference(make_database) -> None:
    # A cross-check on realistic data; the exact per-backend answers are tested above.
    migrated = make_database("embedded")
    migrate(migrated, backend="native")
    start = day_bounds(datetime.now(UTC))[0] - timedelta(days=2)
    sample = generate_sample(
        start=start, days=1, events_per_day=4, bookmakers=["betPawa", "Pinnacle"], seed=1
    )
    load(sample, db=migrated)
    history = fetch_odds_history(migrated)
    assert history.height == sample.height
    as_of = start + timedelta(hours=14, minutes=7)
    latest = fetch_latest_odds(migrated, as_of=as_of)
    seen = history.filter(pl.col("captured_at") <= as_of)
    newest = seen.group_by("event_id", "bookmaker").agg(pl.col("captured_at").max())
    expected = seen.join(newest, on=["event_id", "bookmaker", "captured_at"])
    keys = ["event_id", "bookmaker", "market", "line", "outcome"]
    assert (
        latest.drop("kickoff")
        .sort(keys)
        .equals(expected.select(latest.drop("kickoff").columns).sort(keys))
    )
    assert (latest["captured_at"] <= as_of).all() and latest.height > 0

    window = {"since": start, "until": start + timedelta(days=2)}
    snapshots = history.select("event_id", "bookmaker", "captured_at").unique()
    steps = snapshots.sort("captured_at").with_columns(
        gap_start=pl.col("captured_at").shift(1).over("event_id", "bookmaker")
    )
    ref = steps.filter(
        pl.col("captured_at") - pl.col("gap_start") > timedelta(minutes=7, seconds=30)
    )
    gaps = fetch_gaps(migrated, **window)
    assert gaps.height == ref.height > 0
    coverage = fetch_coverage(migrated, **window)
    assert coverage["snapshots"].sum() == snapshots.height


# --- arguments (no database needed: checks come before connecting) ---------------------------

NOWHERE = Database("postgresql://nobody@127.0.0.1:1/none")
NAIVE = datetime(2026, 11, 1, 12)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: fetch_events(NOWHERE, kickoff_since=NAIVE), "kickoff_since"),
        (lambda: fetch_events(NOWHERE, kickoff_until=NAIVE), "kickoff_until"),
        (lambda: fetch_odds_history(NOWHERE, since=NAIVE), "since"),
        (lambda: fetch_odds_history(NOWHERE, until=NAIVE), "until"),
        (lambda: fetch_latest_odds(NOWHERE, as_of=NAIVE), "as_of"),
        (lambda: fetch_opening_odds(NOWHERE, kickoff_since=NAIVE), "kickoff_since"),
        (lambda: fetch_closing_odds(NOWHERE, kickoff_until=NAIVE), "kickoff_until"),
        (lambda: fetch_coverage(NOWHERE, since=NAIVE, until=datetime.now(UTC)), "since"),
        (lambda: fetch_gaps(NOWHERE, since=datetime.now(UTC), until=NAIVE), "until"),
    ],
)
def test_naive_datetimes_are_rejected_with_a_fix(call: Callable[[], Any], name: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"`{name}` is a naive datetime") as info:
        call()
    assert "tzinfo=timezone.utc" in str(info.value)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fetch_events(NOWHERE, limit=0), "`limit` must be an integer ≥ 1"),
        (lambda: fetch_events(NOWHERE, team=["a"]), "`team` must be a string"),
        (lambda: fetch_events(NOWHERE, sports=[1]), "`sports` must be a string"),
        (lambda: fetch_events(NOWHERE, team="a\x00b"), "`team` must not contain a NUL"),
        (lambda: fetch_events(NOWHERE, countries=["Kenya", "\x00"]), "`countries` must not"),
        (lambda: fetch_odds_history(NOWHERE, markets="1x2\x00"), "`markets` must not contain"),
        (lambda: fetch_latest_odds(NOWHERE, bookmakers=["\x00"]), "`bookmakers` must not"),
        (lambda: fetch_odds_history(NOWHERE, event_ids=[True]), "`event_ids`"),
        (lambda: fetch_odds_history(NOWHERE, since=DAY1, until=DAY0), "before `since`"),
        (lambda: fetch_latest_odds(NOWHERE, lookback=timedelta(0)), "`lookback`"),
        (lambda: fetch_latest_odds(NOWHERE, as_of="2026-11-01"), "must be a timezone-aware"),
        (lambda: fetch_gaps(NOWHERE, since=DAY0, until=DAY1, tolerance=-US), "`tolerance`"),
        (lambda: fetch_load_runs(NOWHERE, limit=-1), "`limit` must be an integer ≥ 1"),
        (lambda: fetch_load_runs(NOWHERE, kind="loads"), r"`kind` must be one of \{'scrape'"),
        (lambda: fetch_run_errors(NOWHERE, 1.5), "`run_id` must be an integer"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_refused_before_connecting(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        call()


def test_sql_is_built_from_constants_and_placeholders() -> None:
    query = queries._history_sql(
        bookmakers=["x'); DROP TABLE events;--"], since=DAY0, until=DAY1, markets=["1x2"]
    )
    assert "DROP" not in query.sql and "x'" not in query.sql
    assert query.values[0] == DAY0 and "CAST($1 AS timestamptz)" in query.sql
    params = query.parameters()
    assert params is not None and params.num_columns == len(query.values) == 4
    events = queries._events_sql(team="%' OR 1=1 --")
    assert events.values == ["%\\%' OR 1=1 --%"]
    assert "OR 1=1" not in events.sql
