"""Bad input of every kind: a clear error, and the database exactly as before.

Every refused load must name the file, the row, the column, the offending value and
the reason (where they apply), leave ``odds_snapshots``, ``market_odds``, ``events``,
``bookmakers`` and ``event_bookmakers`` untouched, and mark its ``scrape_runs`` row
``failed``. Input that is merely unusual (BOM, CRLF, another delimiter when asked for,
mixed offsets, exact duplicates, reschedules, in-play snapshots, SQL/COPY markers in
text) loads, and is stored verbatim.

The bad inputs are built in ``bad_inputs.py``. Every rule the checker applies is tested
there without a database (``test_checker.py``); here, one case of each kind, every
problem of the source as a whole, and the database's own checks. Most cases run on
the embedded server only, against one module-wide database that already holds
another bookmaker's data (so "unchanged" is checked on real rows); a few
representative ones run on both backends through the ``migrated`` fixture.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pyarrow.csv
import pytest
import sqlalchemy as sa
from bad_inputs import (
    BASELINE,
    DATABASE_CASES,
    GREATER,
    ROW,
    RULE_CASES,
    SAMPLE,
    SOURCE_CASES,
    Case,
    _teams_differ_across_snapshots,
    _with_team,
    as_text,
    set_cell,
    write_csv,
)
from psycopg import sql
from sqlalchemy.engine import make_url

import oddskit
from oddskit import load_steps
from oddskit.connection import Database
from oddskit.errors import ValidationError
from oddskit.load_steps import EXCLUDED_REASON
from oddskit.loading import LoadResult, load
from oddskit.validation import SNAPSHOT_KEY

COUNTED_TABLES = ("odds_snapshots", "market_odds", "events", "bookmakers", "event_bookmakers")


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in COUNTED_TABLES
        }


def last_run_id(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM scrape_runs")).scalar_one()


def runs_since(db: Database, run_id: int) -> list[tuple[str, str, str | None]]:
    with db.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text(
                    "SELECT source, status, details ->> 'error' FROM scrape_runs "
                    "WHERE id > :id ORDER BY id"
                ),
                {"id": run_id},
            )
        ]


def query(db: Database, statement: str, **params: Any) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(statement), params)]


def new_database(admin_url: str, template: str | None = None) -> tuple[Database, str]:
    name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return Database(url, source="argument"), name


def drop_database(admin_url: str, db: Database, name: str) -> None:
    db.close()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def migrated_template(embedded_admin_url: str) -> Iterator[str]:
    """An embedded database migrated once; copying it is much faster than migrating."""
    db, name = new_database(embedded_admin_url)
    oddskit.migrate(db)
    db.close()
    yield name
    drop_database(embedded_admin_url, db, name)


@pytest.fixture(scope="module")
def shared_db(embedded_admin_url: str, migrated_template: str) -> Iterator[Database]:
    """One embedded database for the refused cases, holding the Bet9ja baseline."""
    db, name = new_database(embedded_admin_url, migrated_template)
    load(BASELINE, db=db, progress=False)
    yield db
    drop_database(embedded_admin_url, db, name)


@pytest.fixture
def fresh_db(embedded_admin_url: str, migrated_template: str) -> Iterator[Database]:
    """A new, migrated, empty embedded database."""
    db, name = new_database(embedded_admin_url, migrated_template)
    yield db
    drop_database(embedded_admin_url, db, name)


def assert_refused(
    db: Database,
    inputs: Any,
    fragments: list[str],
    *,
    source: str | None,
    **kwargs: Any,
) -> str:
    """Load ``inputs``, expect a ValidationError naming every fragment, and nothing changed.

    ``source``: the name the failed ``scrape_runs`` row must carry (``None`` when the
    input never becomes a source: a missing path, an empty folder).
    """
    before, run_id = counts(db), last_run_id(db)
    with pytest.raises(ValidationError) as info:
        load(inputs, db=db, progress=False, **kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert counts(db) == before, "a refused load changed the database"
    runs = runs_since(db, run_id)
    if source is None:
        assert runs == []
        return message
    assert len(runs) == 1
    assert runs[0][:2] == (source, "failed")
    assert runs[0][2] and runs[0][2].splitlines()[0] in message
    return message


# -- refused inputs on the embedded server ----------------------------------------------


#: One case of each kind the checker finds (all of them, without a database, are in
#: test_checker.py): the loader must refuse each and leave the database as it was.
REPRESENTATIVES = {
    "ragged-rows",
    "nul-byte",
    "csv-captured_at='yesterday'",
    "parquet-odds=None",
    "polars-null-outcome",
    "conflicting-duplicate",
    "teams-differ-across-snapshots",
    "home_team-differs-within-snapshot",
    "older-than-retention",
}

REFUSED = [
    *SOURCE_CASES,
    *DATABASE_CASES,
    *(case for case in RULE_CASES if case.id in REPRESENTATIVES),
]


@pytest.mark.parametrize("case", [case.param() for case in REFUSED])
def test_refused_input_names_the_problem_and_changes_nothing(
    shared_db: Database, tmp_path: Path, case: Case
) -> None:
    inputs, fragments = case.make(tmp_path)
    assert_refused(shared_db, inputs, fragments, source=case.source(inputs), **case.kwargs)


def test_refused_on_both_backends(migrated: Database, tmp_path: Path) -> None:
    """A representative bad file on the native and the pg_partman backend alike."""
    load(BASELINE, db=migrated, progress=False)
    path = write_csv(set_cell(SAMPLE, ROW, "odds", "1.0"), tmp_path / "odds.csv")
    assert_refused(
        migrated,
        path,
        [f"{path}: 1 problem in 1 row", f"{path}, row {ROW}, column odds, value '1.0': {GREATER}"],
        source=str(path),
    )


def test_database_check_refuses_odds_of_one_or_less(migrated: Database) -> None:
    """The CHECK constraint backs validation up: SQL written by hand cannot store them."""
    with migrated.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sports (name) VALUES ('football')"))
        conn.execute(sa.text("INSERT INTO tournaments (sport_id, name) VALUES (1, 'NPFL')"))
        conn.execute(sa.text("INSERT INTO bookmakers (name) VALUES ('betPawa')"))
        conn.execute(
            sa.text(
                "INSERT INTO events (tournament_id, home_team, away_team, kickoff) "
                "VALUES (1, 'Enyimba', 'Rivers United', now())"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) "
                "VALUES (1, 1, now())"
            )
        )
    insert = sa.text(
        "INSERT INTO market_odds (snapshot_id, captured_at, market, outcome, odds) "
        "SELECT id, captured_at, '1x2', :outcome, CAST(:odds AS float8) FROM odds_snapshots"
    )
    for odds in ("1", "1.0", "0.5", "0", "-2", "NaN", "Infinity", "-Infinity"):
        with (
            pytest.raises(sa.exc.IntegrityError, match="ck_market_odds_odds_gt_one"),
            migrated.engine.begin() as conn,
        ):
            conn.execute(insert, {"outcome": "home", "odds": odds})
    with migrated.engine.begin() as conn:
        conn.execute(insert, {"outcome": "home", "odds": "1.0000001"})
    assert query(migrated, "SELECT outcome, odds FROM market_odds") == [("home", 1.0000001)]


# -- unusual but good input: loads, and is stored verbatim ---------------------------------


def stored_prices(db: Database) -> list[tuple]:
    """Every stored price as (bookmaker, bookmaker_event_id, captured_at, market, line,
    outcome, odds), sorted."""
    return query(
        db,
        "SELECT b.name, eb.bookmaker_event_id, m.captured_at, m.market, m.line, m.outcome, "
        "m.odds FROM market_odds m "
        "JOIN odds_snapshots s ON s.id = m.snapshot_id AND s.captured_at = m.captured_at "
        "JOIN bookmakers b ON b.id = s.bookmaker_id "
        "JOIN event_bookmakers eb ON eb.event_id = s.event_id AND eb.bookmaker_id = s.bookmaker_id "
        "ORDER BY 1, 2, 3, 4, 5 NULLS FIRST, 6",
    )


def expected_prices(frame: pl.DataFrame) -> list[tuple]:
    rows = frame.select(
        "bookmaker", "bookmaker_event_id", "captured_at", "market", "line", "outcome", "odds"
    ).rows()
    return sorted(rows, key=lambda r: (*r[:4], r[4] is not None, r[4] or 0.0, r[5]))


def only(result: Any) -> LoadResult:
    assert len(result.results) == 1
    return result.results[0]


def _bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


@pytest.mark.parametrize(
    ("variant", "separator", "fix"),
    [
        ("semicolons", ";", None),
        ("utf8-bom", ",", _bom),
        ("crlf", ",", _crlf),
        ("bom-and-crlf", ",", lambda p: (_bom(p), _crlf(p))),
    ],
)
def test_csv_dialects_load(
    fresh_db: Database, tmp_path: Path, variant: str, separator: str, fix: Any
) -> None:
    # A text column last, so a stray '\r' of CRLF would end up in a stored value.
    frame = SAMPLE.select(pl.exclude("outcome"), "outcome")
    path = write_csv(frame, tmp_path / f"{variant}.csv", separator=separator)
    if fix:
        fix(path)
    result = only(load(path, db=fresh_db, progress=False, delimiter=separator))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (SAMPLE.height,) * 2 + (
        0,
    )
    assert stored_prices(fresh_db) == expected_prices(SAMPLE)
    teams = query(fresh_db, "SELECT home_team || away_team FROM event_bookmakers")
    assert not any("\r" in name or "\ufeff" in name for (name,) in teams)


def record(
    captured_at: str,
    outcome: str,
    odds: str,
    *,
    kickoff: str,
    bookmaker: str = "betPawa",
    event: str = "E-1",
    home: str = "Enyimba",
    away: str = "Rivers United",
    market: str = "1x2",
    line: str | None = None,
) -> dict[str, str | None]:
    """One input row, every value as text."""
    return {
        "captured_at": captured_at,
        "bookmaker": bookmaker,
        "sport": "football",
        "country": "Nigeria",
        "tournament": "NPFL",
        "sportradar_id": None,
        "bookmaker_event_id": event,
        "home_team": home,
        "away_team": away,
        "kickoff": kickoff,
        "market": market,
        "line": line,
        "outcome": outcome,
        "odds": odds,
    }


def records_frame(records: list[dict[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=dict.fromkeys(records[0], pl.String))


def _hour(hours_ago: int) -> datetime:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=hours_ago)


def test_mixed_offsets_for_one_instant_are_one_snapshot(fresh_db: Database, tmp_path: Path) -> None:
    instant, kickoff = _hour(3), _hour(1)
    utc = instant.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    lagos = (instant + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    new_york = (instant - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
    zulu = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    kick_utc = kickoff.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    kick_lagos = (kickoff + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    path = tmp_path / "offsets.csv"
    records_frame(
        [
            record(lagos, "home", "2.1", kickoff=kick_lagos),
            record(utc, "draw", "3.2", kickoff=kick_utc),
            record(zulu, "away", "3.5", kickoff=kick_lagos),
            record(new_york, "home", "2.1", kickoff=kick_utc),  # the same price again
        ]
    ).write_csv(path)
    result = only(load(path, db=fresh_db, progress=False))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 0)
    assert result.snapshots_new == 1
    assert query(fresh_db, "SELECT captured_at FROM odds_snapshots") == [(instant,)]
    assert query(fresh_db, "SELECT kickoff FROM events") == [(kickoff,)]
    assert stored_prices(fresh_db) == [
        ("betPawa", "E-1", instant, "1x2", None, outcome, odds)
        for outcome, odds in [("away", 3.5), ("draw", 3.2), ("home", 2.1)]
    ]


def test_exact_duplicates_are_stored_once(fresh_db: Database, tmp_path: Path) -> None:
    doubled = pl.concat([SAMPLE, SAMPLE.slice(ROW - 1, 3), SAMPLE.slice(0, 1)])
    path = write_csv(doubled, tmp_path / "dups.csv")
    result = only(load(path, db=fresh_db, progress=False))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        SAMPLE.height + 4,
        SAMPLE.height,
        0,
    )
    assert stored_prices(fresh_db) == expected_prices(SAMPLE)


def _one_event() -> pl.DataFrame:
    """Every row of one match at betPawa."""
    betpawa = SAMPLE.filter(pl.col("bookmaker") == "betPawa")
    return betpawa.filter(pl.col("bookmaker_event_id") == betpawa["bookmaker_event_id"][0])


def test_changed_kickoff_is_a_reschedule(fresh_db: Database, tmp_path: Path) -> None:
    event = _one_event()
    kickoff = event["kickoff"][0]
    first, last = event["captured_at"].min(), event["captured_at"].max()
    load(write_csv(event, tmp_path / "a.csv"), db=fresh_db, progress=False)
    moved = event.filter(pl.col("captured_at") == last).with_columns(
        pl.col("captured_at") + timedelta(minutes=10), pl.col("kickoff") + timedelta(hours=2)
    )
    result = only(load(write_csv(moved, tmp_path / "b.csv"), db=fresh_db, progress=False))
    assert (result.rescheduled_events, result.new_events, result.rows_rejected) == (1, 0, 0)
    assert query(fresh_db, "SELECT kickoff FROM events") == [(kickoff + timedelta(hours=2),)]
    # An older snapshot that still shows the old kickoff does not undo the reschedule.
    older = event.filter(pl.col("captured_at") == first).with_columns(
        pl.col("captured_at") - timedelta(minutes=10)
    )
    result = only(load(write_csv(older, tmp_path / "c.csv"), db=fresh_db, progress=False))
    assert (result.rescheduled_events, result.new_events, result.rows_loaded) == (
        0,
        0,
        older.height,
    )
    assert query(fresh_db, "SELECT kickoff FROM events") == [(kickoff + timedelta(hours=2),)]
    assert query(fresh_db, "SELECT count(*) FROM event_bookmakers") == [(1,)]


def test_snapshots_after_kickoff_are_accepted(fresh_db: Database, tmp_path: Path) -> None:
    event = _one_event()
    kickoff = event["kickoff"][0]
    in_play = event.filter(pl.col("captured_at") == event["captured_at"].max()).with_columns(
        pl.lit(kickoff + timedelta(minutes=20)).alias("captured_at")
    )
    path = write_csv(pl.concat([event, in_play]), tmp_path / "in_play.csv")
    result = only(load(path, db=fresh_db, progress=False))
    assert (result.rows_loaded, result.rows_rejected) == (event.height + in_play.height, 0)
    assert query(
        fresh_db,
        "SELECT count(*) FROM odds_snapshots s JOIN events e ON e.id = s.event_id "
        "WHERE s.captured_at > e.kickoff",
    ) == [(1,)]


NASTY = {
    "home_team": "Robert'); DROP TABLE events;--",
    "away_team": 'Tab\there "quoted" back\\slash, comma; semicolon',
    "tournament": "\\.",
    "country": "line\nbreak\r\nand CRLF",
    "bookmaker_event_id": "\\N",
    "sportradar_id": "sr:match:1' OR '1'='1",
}
NASTY_OUTCOMES = {1: "\\.\n\\.", 2: "\\N", 3: "\x7f\u00e9\u4e2d\U0001f600 \\\\"}


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_sql_and_copy_markers_are_stored_verbatim(
    fresh_db: Database, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small CSV blocks, so that block boundaries fall inside quoted multi-line values
    # (as they do in real files larger than the 32 MiB block).
    read_options = pyarrow.csv.ReadOptions
    monkeypatch.setattr(
        pyarrow.csv,
        "ReadOptions",
        lambda **kwargs: read_options(**{**kwargs, "block_size": 4096}),
    )
    event = _one_event().with_columns(*(pl.lit(value).alias(name) for name, value in NASTY.items()))
    outcome = pl.int_range(pl.len())
    for index, value in NASTY_OUTCOMES.items():
        # In a market oddskit does not know: its outcomes are stored as given.
        event = event.with_columns(
            pl.when(outcome == index).then(pl.lit(value)).otherwise("outcome").alias("outcome"),
            pl.when(outcome == index)
            .then(pl.lit("player props \\N"))
            .otherwise("market")
            .alias("market"),
        )
    frame = pl.concat([event, SAMPLE.filter(pl.col("bookmaker") == "Pinnacle")])
    path = tmp_path / f"nasty.{kind}"
    if kind == "csv":  # the multi-line value last: the row ends inside quotes
        write_csv(frame.select(pl.exclude("country"), "country"), path)
    else:
        frame.write_parquet(path)
    result = only(load(path, db=fresh_db, progress=False))
    assert (result.rows_loaded, result.rows_rejected) == (frame.height, 0)
    assert query(
        fresh_db,
        "SELECT eb.bookmaker_event_id, eb.home_team, eb.away_team, t.name, t.country "
        "FROM event_bookmakers eb JOIN bookmakers b ON b.id = eb.bookmaker_id "
        "JOIN events e ON e.id = eb.event_id JOIN tournaments t ON t.id = e.tournament_id "
        "WHERE b.name = 'betPawa'",
    ) == [
        tuple(
            NASTY[c]
            for c in ("bookmaker_event_id", "home_team", "away_team", "tournament", "country")
        )
    ]
    assert query(
        fresh_db, "SELECT sportradar_id, home_team FROM events WHERE home_team LIKE 'Robert%'"
    ) == [(NASTY["sportradar_id"], NASTY["home_team"])]
    assert stored_prices(fresh_db) == expected_prices(frame)
    assert set(NASTY_OUTCOMES.values()) <= {row[5] for row in stored_prices(fresh_db)}


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_exact_round_trip(migrated: Database, tmp_path: Path, kind: str) -> None:
    """Timestamps to the microsecond and odds to the last bit, on both backends."""
    base = _hour(5)
    first = base + timedelta(microseconds=123_456)
    second = base + timedelta(minutes=7, microseconds=1)
    kickoff = _hour(1) + timedelta(seconds=59, microseconds=999_999)
    odds = ["1.0000001", "2.123456789", "1000.5", "1.01", "17.333333333333332", "3"]
    records = [
        record(
            (first + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.%f+05:30"),
            outcome,
            price,
            kickoff=kickoff.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        )
        for outcome, price in zip(["home", "draw", "away"], odds[:3], strict=True)
    ] + [
        record(
            second.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
            outcome,
            price,
            kickoff=kickoff.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
            market="over_under",
            line="2.5",
        )
        for outcome, price in zip(["over", "under"], odds[3:5], strict=True)
    ]
    records.append(
        record(
            second.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
            "home",
            odds[5],
            kickoff=kickoff.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
            market="asian_handicap",
            line="-0.25",
        )
    )
    text = records_frame(records)
    path = tmp_path / f"exact.{kind}"
    if kind == "csv":
        text.write_csv(path)
    else:
        text.with_columns(
            pl.col("captured_at", "kickoff").str.to_datetime(time_unit="us", time_zone="UTC"),
            pl.col("line", "odds").cast(pl.Float64),
        ).write_parquet(path)
    result = only(load(path, db=migrated, progress=False))
    assert (result.rows_loaded, result.rows_rejected) == (6, 0)
    assert stored_prices(migrated) == [
        ("betPawa", "E-1", first, "1x2", None, "away", 1000.5),
        ("betPawa", "E-1", first, "1x2", None, "draw", 2.123456789),
        ("betPawa", "E-1", first, "1x2", None, "home", 1.0000001),
        ("betPawa", "E-1", second, "asian_handicap", -0.25, "home", 3.0),
        ("betPawa", "E-1", second, "over_under", 2.5, "over", 1.01),
        ("betPawa", "E-1", second, "over_under", 2.5, "under", 17.333333333333332),
    ]
    assert query(migrated, "SELECT captured_at FROM odds_snapshots ORDER BY 1") == [
        (first,),
        (second,),
    ]
    assert query(migrated, "SELECT kickoff FROM events") == [(kickoff,)]


def test_skip_loads_the_good_rows_and_writes_the_rejects(
    fresh_db: Database, tmp_path: Path
) -> None:
    bad = set_cell(set_cell(SAMPLE, 3, "odds", "abc"), 7, "bookmaker", "")
    path = tmp_path / "mixed.csv"
    path.write_bytes(_with_team(bad, 11, "@@MARK@@").replace(b"@@MARK@@", b"Ama\x00zon"))
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()
    result = only(load(path, db=fresh_db, progress=False, on_error="skip", rejects_path=rejects))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        SAMPLE.height,
        SAMPLE.height - 3,
        3,
    )
    assert result.rejects_path == rejects
    written = pl.read_csv(rejects, infer_schema=False).fill_null("")
    assert written["row"].to_list() == ["3", "7", "11"]
    original = as_text(SAMPLE)
    for column in original.columns:
        expected = original[column].gather([2, 6, 10]).fill_null("").to_list()
        if column == "odds":
            expected[0] = "abc"
        elif column == "bookmaker":
            expected[1] = ""
        elif column == "home_team":
            expected[2] = "Ama\x00zon"
        assert written[column].to_list() == expected, column
    reasons = written["reason"].to_list()
    assert "odds: is not a number" in reasons[0]
    assert "bookmaker: is empty; every row needs a bookmaker" in reasons[1]
    assert "home_team: contains a NUL byte" in reasons[2]
    good = SAMPLE.with_row_index("row", 1).filter(~pl.col("row").is_in([3, 7, 11])).drop("row")
    assert stored_prices(fresh_db) == expected_prices(good)
    assert query(
        fresh_db,
        "SELECT status, rows_rejected FROM scrape_runs WHERE id = :id",
        id=result.run_id,
    ) == [("succeeded", 3)]
    assert query(
        fresh_db,
        "SELECT row_number, column_name, value FROM scrape_errors WHERE run_id = :id "
        "ORDER BY row_number",
        id=result.run_id,
    ) == [(3, "odds", "abc"), (7, "bookmaker", ""), (11, "home_team", "Ama\\x00zon")]


def test_snapshot_disagreeing_across_batches_is_refused(fresh_db: Database) -> None:
    # Batches of 4 rows; the whole second batch (rows 5-8, in the snapshot of rows
    # 1-28) names another home team, so no single batch shows the disagreement.
    # (A frame source: CSV batches follow pyarrow's blocks, not batch_rows.)
    frame = SAMPLE.head(28).with_columns(
        pl.when(pl.int_range(pl.len()).is_between(4, 7))
        .then(pl.lit("Someone Else"))
        .otherwise("home_team")
        .alias("home_team")
    )
    assert_refused(
        fresh_db,
        frame,
        ["polars.DataFrame, row 5, column home_team, value 'Someone Else'"],
        source="polars.DataFrame",
        batch_rows=4,
    )


def test_bad_row_in_a_late_batch_leaves_nothing_behind(fresh_db: Database) -> None:
    # With on_error="raise" the loader writes each batch as soon as it is checked; a
    # problem in the last batch must still leave nothing of the earlier ones behind.
    last = SAMPLE.height
    frame = set_cell(SAMPLE, last, "odds", "0.5")
    assert_refused(
        fresh_db,
        frame,
        [f"polars.DataFrame, row {last}, column odds, value '0.5'", "must be greater than 1"],
        source="polars.DataFrame",
        batch_rows=50,
    )


def test_teams_differing_across_batches_are_refused_as_within_the_input(
    fresh_db: Database, tmp_path: Path
) -> None:
    path, fragments = _teams_differ_across_snapshots(tmp_path)
    frame = pl.read_csv(path, infer_schema=False)
    assert_refused(
        fresh_db,
        frame,
        [fragments[1], "column home_team"],
        source="polars.DataFrame",
        batch_rows=40,
    )


def test_a_price_repeated_batches_apart_is_refused_readably(fresh_db: Database) -> None:
    # Within one batch an exact repeat is dropped; batches apart it reaches the unique
    # key of market_odds, which must come back as a message for people (review find).
    frame = pl.concat([SAMPLE.head(40), SAMPLE.head(1)])
    assert_refused(
        fresh_db,
        frame,
        ["polars.DataFrame gives the same price", "more than 20 rows apart"],
        source="polars.DataFrame",
        batch_rows=20,
    )


# -- on_error="skip": bookmaker events left out whole ----------------------------------------


def skip_load(db: Database, frame: pl.DataFrame, rejects: Path, **kwargs: Any) -> LoadResult:
    """Load ``frame`` as text (as a CSV gives it) with ``on_error="skip"``."""
    return only(
        load(as_text(frame), db=db, progress=False, on_error="skip", rejects_path=rejects, **kwargs)
    )


def assert_event_left_out(
    db: Database, frame: pl.DataFrame, event: tuple[str, str], result: LoadResult, rejects: Path
) -> None:
    """Every row of ``event`` (bookmaker, bookmaker event id) of ``frame`` is in the
    rejects file as given and none is stored; every other row is; the counts say so."""
    mine = (pl.col("bookmaker") == event[0]) & (pl.col("bookmaker_event_id") == event[1])
    left_out = as_text(frame).with_row_index("row", 1).filter(mine)
    kept = frame.filter(~mine)
    assert (result.rows_read, result.rows_rejected, result.rows_loaded) == (
        frame.height,
        left_out.height,
        kept.height,
    )
    snapshots = kept.select(SNAPSHOT_KEY).n_unique()
    assert (result.snapshots_new, result.snapshots_present) == (snapshots, 0)
    assert result.rejects_path == rejects
    written = pl.read_csv(rejects, infer_schema=False)
    assert written["row"].cast(pl.UInt32).to_list() == left_out["row"].to_list()
    assert set(written["reason"]) == {EXCLUDED_REASON}
    given = left_out.drop("row").fill_null("").rows()
    assert written.drop("row", "reason").fill_null("").rows() == given
    assert stored_prices(db) == expected_prices(kept)


def test_skip_leaves_out_an_event_that_names_other_teams_within_the_input(
    fresh_db: Database, tmp_path: Path
) -> None:
    first = SAMPLE.filter(pl.col("bookmaker_event_id") == SAMPLE["bookmaker_event_id"][0])
    renamed = first.filter(pl.col("captured_at") == first["captured_at"].max()).with_columns(
        pl.col("home_team") + " FC", pl.col("captured_at") + timedelta(minutes=1)
    )
    frame = pl.concat([SAMPLE, renamed])
    result = skip_load(fresh_db, frame, tmp_path / "out.csv")
    event = (first["bookmaker"][0], first["bookmaker_event_id"][0])
    assert_event_left_out(fresh_db, frame, event, result, tmp_path / "out.csv")
    ((row, column, message),) = query(
        fresh_db,
        "SELECT row_number, column_name, message FROM scrape_errors WHERE run_id = :id",
        id=result.run_id,
    )
    assert (row, column) == (1, "home_team")
    assert "names different teams, SportRadar ids or match keys within this input" in message


def test_skip_leaves_out_an_event_whose_snapshot_differs_across_batches(
    fresh_db: Database, tmp_path: Path
) -> None:
    # Rows 5-8 (batches of 4 rows) name another home team in the snapshot of rows 1-28.
    frame = SAMPLE.with_columns(
        pl.when(pl.int_range(pl.len()).is_between(4, 7))
        .then(pl.lit("Someone Else"))
        .otherwise("home_team")
        .alias("home_team")
    )
    result = skip_load(fresh_db, frame, tmp_path / "out.csv", batch_rows=4)
    event = (SAMPLE["bookmaker"][0], SAMPLE["bookmaker_event_id"][0])
    assert_event_left_out(fresh_db, frame, event, result, tmp_path / "out.csv")
    assert query(
        fresh_db,
        "SELECT row_number, column_name, value FROM scrape_errors WHERE run_id = :id",
        id=result.run_id,
    ) == [(5, "home_team", "Someone Else")]


def test_skip_leaves_out_an_event_that_contradicts_the_database(
    fresh_db: Database, tmp_path: Path
) -> None:
    load(BASELINE, db=fresh_db, progress=False)
    event = BASELINE["bookmaker_event_id"][0]
    renamed = BASELINE.filter(pl.col("bookmaker_event_id") == event).with_columns(
        pl.col("home_team") + " FC", pl.col("captured_at") + timedelta(minutes=1)
    )
    result = skip_load(fresh_db, pl.concat([renamed, SAMPLE]), tmp_path / "out.csv")
    assert (result.rows_read, result.rows_rejected, result.rows_loaded) == (
        renamed.height + SAMPLE.height,
        renamed.height,
        SAMPLE.height,
    )
    assert (result.snapshots_new, result.snapshots_present) == (
        SAMPLE.select(SNAPSHOT_KEY).n_unique(),
        0,
    )
    assert stored_prices(fresh_db) == expected_prices(pl.concat([BASELINE, SAMPLE]))
    written = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert written["row"].cast(pl.Int64).to_list() == list(range(1, renamed.height + 1))
    assert set(written["reason"]) == {EXCLUDED_REASON}
    ((message,),) = query(
        fresh_db, "SELECT message FROM scrape_errors WHERE run_id = :id", id=result.run_id
    )
    assert message.startswith(f"bookmaker event {event} of Bet9ja is stored as ")


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_a_source_is_checked_in_one_read(
    fresh_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_error: str
) -> None:
    # Problems in the first and the last batch: every one is listed (raise) or
    # rejected (skip), and the rows are read once (raise: plus captured_at alone, for
    # the partitions), not again to word the errors.
    frame = set_cell(set_cell(SAMPLE, 2, "odds", "abc"), SAMPLE.height, "odds", "0.5")
    reads: list[list[str]] = []
    real = load_steps.iter_batches

    def counted(source: Any, *, columns: Any, **kwargs: Any) -> Any:
        reads.append(list(columns))
        return real(source, columns=columns, **kwargs)

    monkeypatch.setattr(load_steps, "iter_batches", counted)
    if on_error == "raise":
        message = assert_refused(
            fresh_db, frame, ["2 problems in 2 rows"], source="polars.DataFrame", batch_rows=50
        )
        assert "row 2, column odds" in message and f"row {SAMPLE.height}, column odds" in message
    else:
        result = only(
            load(
                frame,
                db=fresh_db,
                progress=False,
                on_error="skip",
                batch_rows=50,
                rejects_path=tmp_path / "out.csv",
            )
        )
        assert (result.rows_rejected, result.rows_loaded) == (2, SAMPLE.height - 2)
    full = [columns for columns in reads if columns != ["captured_at"]]
    assert len(full) == 1, reads
