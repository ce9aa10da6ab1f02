"""Partition maintenance on both backends: creation ahead, retention, idempotence."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql as psql

from oddskit.connection import Database
from oddskit.errors import ConfigurationError, ConfirmationRequired, PartitionError
from oddskit.partitions import (
    LOCK_BUDGET,
    Policy,
    day_bounds,
    ensure_partitions,
    get_policy,
    list_partitions,
    maintain,
    premake_days,
    set_policy,
    utc_day,
)
from oddskit.schema import migrate


def today_midnight() -> datetime:
    return day_bounds(datetime.now(timezone.utc))[0]


def named_day(name: str) -> str:
    """The day in a partition's name, whichever backend named it: 'YYYY_MM_DD' (native,
    pg_partman 4) or 'YYYYMMDD' (pg_partman 5) both give 'YYYY_MM_DD'."""
    match = re.search(r"_p(\d{4})_?(\d{2})_?(\d{2})$", name)
    assert match, name
    return "_".join(match.groups())


def layout(db: Database) -> list[tuple[str, datetime, datetime]]:
    """(parent, lower, upper) of every non-default partition."""
    return sorted((p.parent, p.lower, p.upper) for p in list_partitions(db) if not p.is_default)


def seed_dimensions(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sports (name) VALUES ('Football')"))
        conn.execute(sa.text("INSERT INTO tournaments (sport_id, name) VALUES (1, 'NPFL')"))
        conn.execute(sa.text("INSERT INTO bookmakers (name) VALUES ('betPawa')"))
        conn.execute(
            sa.text(
                "INSERT INTO events (tournament_id, home_team, away_team, kickoff) "
                "VALUES (1, 'Enyimba', 'Kano Pillars', now())"
            )
        )


def insert_snapshots(db: Database, since: datetime, until: datetime, step: timedelta) -> None:
    """One snapshot with two prices every ``step`` in [since, until)."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) "
                "SELECT 1, 1, t FROM generate_series(CAST(:since AS timestamptz), "
                "CAST(:until AS timestamptz) - interval '1 microsecond', CAST(:step AS interval)) t"
            ),
            {"since": since, "until": until, "step": step},
        )
        conn.execute(
            sa.text(
                "INSERT INTO market_odds (snapshot_id, captured_at, market, line, outcome, odds) "
                "SELECT s.id, s.captured_at, 'over_under', 2.5, o.outcome, 1.9 "
                "FROM odds_snapshots s CROSS JOIN (VALUES ('over'), ('under')) o(outcome)"
            )
        )


def captured(db: Database, table: str) -> set[datetime]:
    with db.engine.connect() as conn:
        return set(conn.execute(sa.text(f"SELECT captured_at FROM {table}")).scalars())


def test_migrate_creates_today_through_premake(migrated: Database) -> None:
    premake = get_policy(migrated).premake_days
    start = today_midnight()
    expected = [
        (parent, start + timedelta(days=i), start + timedelta(days=i + 1))
        for parent in ("market_odds", "odds_snapshots")
        for i in range(premake + 1)
    ]
    assert layout(migrated) == sorted(expected)
    # Maintenance keeps the horizon `premake` days ahead of now, as pg_partman counts it.
    maintain(migrated)
    days = premake_days(datetime.now(timezone.utc), premake)
    assert days[0] == start.date() and len(days) in (premake + 1, premake + 2)
    assert layout(migrated) == sorted(
        (parent, day_bounds(start + timedelta(days=i))[0], day_bounds(start + timedelta(days=i))[1])
        for parent in ("market_odds", "odds_snapshots")
        for i in range(len(days))
    )


def test_ensure_partitions_for_history_is_idempotent(migrated: Database) -> None:
    since = today_midnight() - timedelta(days=12, hours=-6)  # mid-day, 12 days ago
    until = since + timedelta(days=3)
    created = ensure_partitions(migrated, since, until)
    days = [utc_day(since) + timedelta(days=i) for i in range(4)]
    assert sorted((name.rsplit("_p", 1)[0], named_day(name)) for name in created) == sorted(
        (parent, f"{day:%Y_%m_%d}") for parent in ("market_odds", "odds_snapshots") for day in days
    )
    assert ensure_partitions(migrated, since, until) == []
    seed_dimensions(migrated)
    insert_snapshots(migrated, since, until, timedelta(minutes=30))
    partitions = list_partitions(migrated)
    assert all(p.rows == 0 for p in partitions if p.is_default)
    assert sum(p.rows for p in partitions if p.parent == "odds_snapshots") == 3 * 48


def test_naive_datetimes_are_refused(migrated: Database) -> None:
    with pytest.raises(ConfigurationError, match=r"tzinfo=timezone\.utc"):
        ensure_partitions(migrated, datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ConfigurationError, match="naive"):
        maintain(migrated, now=datetime(2026, 1, 1))


def test_retention_drops_only_partitions_entirely_past_the_window(migrated: Database) -> None:
    set_policy(migrated, retention_days=3)
    start = today_midnight() - timedelta(days=8)
    ensure_partitions(migrated, start, today_midnight() + timedelta(days=1))
    seed_dimensions(migrated)
    insert_snapshots(migrated, start, datetime.now(timezone.utc), timedelta(minutes=20))
    snapshots_before = captured(migrated, "odds_snapshots")
    prices_before = captured(migrated, "market_odds")

    clock = datetime.now(timezone.utc) + timedelta(days=1, hours=2)  # a controllable "now"
    cutoff = clock - timedelta(days=3)
    report = maintain(migrated, now=clock)

    # Every partition whose upper bound is before the cutoff is gone, and only those.
    remaining = layout(migrated)
    assert all(upper >= cutoff for _, _, upper in remaining)
    dropped_days = {named_day(name) for name in report.dropped}
    expected_days = {
        f"{day:%Y_%m_%d}"
        for i in range(9)
        if day_bounds(start + timedelta(days=i))[1] < cutoff
        for day in [utc_day(start + timedelta(days=i))]
    }
    assert dropped_days == expected_days
    assert len(report.dropped) == 2 * len(expected_days)
    # Row by row: everything younger than the window is still there...
    young = {t for t in snapshots_before if t >= cutoff}
    assert young <= captured(migrated, "odds_snapshots")
    assert {t for t in prices_before if t >= cutoff} <= captured(migrated, "market_odds")
    # ... and what went is exactly the rows of the dropped days.
    gone = snapshots_before - captured(migrated, "odds_snapshots")
    assert gone == {t for t in snapshots_before if day_bounds(t)[1] < cutoff}
    assert captured(migrated, "market_odds") == captured(migrated, "odds_snapshots")
    # Running it again with the same clock changes nothing.
    again = maintain(migrated, now=clock)
    assert again.dropped == [] and again.created == []


def test_retention_none_keeps_everything(migrated: Database) -> None:
    set_policy(migrated, retention_days=None)
    old = today_midnight() - timedelta(days=60)
    ensure_partitions(migrated, old, old + timedelta(days=1))
    report = maintain(migrated, now=datetime.now(timezone.utc) + timedelta(days=1))
    assert report.dropped == []
    assert any(p.lower == old for p in list_partitions(migrated))


def test_maintenance_twice_changes_nothing(migrated: Database) -> None:
    first = maintain(migrated)
    before = layout(migrated)
    second = maintain(migrated)
    assert second.created == [] and second.dropped == []
    assert layout(migrated) == before
    assert first.backend == second.backend


def test_premake_policy_creates_more_days(migrated: Database) -> None:
    set_policy(migrated, premake_days=7)
    maintain(migrated)
    last = max(upper for _, _, upper in layout(migrated))
    assert last >= today_midnight() + timedelta(days=8)


def test_policy_arguments_are_validated(migrated: Database) -> None:
    with pytest.raises(ConfigurationError, match="premake_days"):
        set_policy(migrated, premake_days=0)
    with pytest.raises(ConfigurationError, match="retention_days"):
        set_policy(migrated, retention_days=0)


def test_concurrent_ensure_partitions_create_each_partition_once(migrated: Database) -> None:
    since = today_midnight() - timedelta(days=20)
    until = since + timedelta(days=5)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(ensure_partitions(migrated, since, until))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    created = [name for result in results for name in result]
    assert len(created) == len(set(created)) == 10


@pytest.mark.partman
def test_both_backends_make_the_same_layout(make_migrated) -> None:
    layouts = []
    for server, backend in (
        ("system", "partman"),
        ("system", "partman5"),
        ("system", "native"),
        ("embedded", "native"),
    ):
        db = make_migrated(server, backend)
        history = today_midnight() - timedelta(days=6)
        ensure_partitions(db, history, history + timedelta(days=2))
        maintain(db)
        layouts.append(layout(db))
    assert layouts[0] == layouts[1] == layouts[2] == layouts[3]


@pytest.mark.partman
@pytest.mark.parametrize("backend", ["partman", "partman5"])
def test_partman_holds_both_parents_with_retention(make_migrated, backend: str) -> None:
    db = make_migrated("system", backend)
    with db.engine.connect() as conn:
        config = conn.execute(
            sa.text(
                "SELECT parent_table, retention, retention_keep_table, premake, "
                "infinite_time_partitions FROM partman.part_config ORDER BY parent_table"
            )
        ).all()
    # The archive is on by default: oddskit drops each day itself once it is archived,
    # so pg_partman's own retention is off (it would drop a day that failed to archive).
    assert config == [
        ("public.market_odds", None, False, 4, True),
        ("public.odds_snapshots", None, False, 4, True),
    ]
    set_policy(db, retention_days=45, archive=None)  # archive off: pg_partman's retention
    with db.engine.connect() as conn:
        assert set(
            conn.execute(sa.text("SELECT retention FROM partman.part_config")).scalars()
        ) == {"45 days"}
    assert maintain(db).backend == "pg_partman"
    set_policy(db, archive="default")
    with db.engine.connect() as conn:
        assert set(
            conn.execute(sa.text("SELECT retention FROM partman.part_config")).scalars()
        ) == {None}


@pytest.mark.partman
def test_no_default_partitions_so_rows_without_a_partition_fail(migrated: Database) -> None:
    assert not [p for p in list_partitions(migrated) if p.is_default]
    seed_dimensions(migrated)
    with (
        pytest.raises(sa.exc.IntegrityError, match="no partition"),
        migrated.engine.begin() as conn,
    ):
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) VALUES (1, 1, :t)"
            ),
            {"t": today_midnight() + timedelta(days=300)},
        )


@pytest.mark.partman
@pytest.mark.parametrize("backend", ["partman", "partman5"])
def test_rows_in_a_default_partition_are_reported(make_migrated, backend: str) -> None:
    db = make_migrated("system", backend)
    seed_dimensions(db)
    far = today_midnight() + timedelta(days=400)
    with db.engine.begin() as conn:
        # oddskit drops pg_partman's default partitions; an administrator may add one back.
        conn.execute(
            sa.text("CREATE TABLE odds_snapshots_default PARTITION OF odds_snapshots DEFAULT")
        )
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) VALUES (1, 1, :t)"
            ),
            {"t": far},
        )
    stranded = [p for p in list_partitions(db) if p.is_default and p.rows]
    assert [(p.name, p.rows) for p in stranded] == [("odds_snapshots_default", 1)]
    with pytest.raises(PartitionError, match=r"default partition.*oddskit maintain"):
        ensure_partitions(db, far, far + timedelta(hours=1))
    # Maintenance moves the row into its own daily partition instead of failing for good.
    report = maintain(db)
    assert report.moved_from_default == {"odds_snapshots_default": 1}
    assert report.default_rows == {}
    home = [p for p in list_partitions(db) if p.lower == far and p.parent == "odds_snapshots"]
    assert [p.rows for p in home] == [1]
    assert maintain(db).moved_from_default == {}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"retention_days": "30"},
            r"`retention_days` must be a whole number of days .*'30' \(str\)",
        ),
        ({"retention_days": 7.5}, r"`retention_days` must be a whole number .*7\.5 \(float\)"),
        ({"retention_days": True}, r"`retention_days` must be a whole number .*True \(bool\)"),
        ({"premake_days": "4"}, r"`premake_days` must be a whole number of days .*'4' \(str\)"),
        ({"retention_days": 30, "confirm": "yes"}, r"`confirm` must be True or False"),
    ],
)
def test_policy_arguments_of_a_wrong_type_are_refused_readably(
    make_database, arguments: dict, message: str
) -> None:
    db = make_database("embedded")
    migrate(db)
    with pytest.raises(ConfigurationError, match=message):
        set_policy(db, **arguments)
    assert get_policy(db) == Policy(premake_days=4, retention_days=30)


def test_a_retention_that_drops_data_says_what_and_waits_for_confirm(migrated: Database) -> None:
    set_policy(migrated, retention_days=None)
    start = today_midnight() - timedelta(days=10)
    ensure_partitions(migrated, start, today_midnight())
    seed_dimensions(migrated)
    insert_snapshots(migrated, start, start + timedelta(days=2), timedelta(hours=1))
    before = layout(migrated)
    # Days -10 and -9 hold 48 snapshots and 96 prices; days -10 .. -6 end before now - 5 days.
    with pytest.raises(ConfirmationRequired) as refused:
        set_policy(migrated, retention_days=5)
    message = str(refused.value)
    assert "drops 10 partitions" in message
    assert f"({start:%Y-%m-%d} to {start + timedelta(days=4):%Y-%m-%d} UTC)" in message
    assert "holding 144 rows (48 snapshots, 96 prices)" in message
    assert "Nothing was changed" in message and "--yes" in message and "confirm=True" in message
    assert get_policy(migrated).retention_days is None
    assert maintain(migrated).dropped == [] and set(before) <= set(layout(migrated))
    # A retention that drops nothing needs no confirmation; then the confirmed one.
    assert set_policy(migrated, retention_days=20).retention_days == 20
    assert set_policy(migrated, retention_days=5, confirm=True).retention_days == 5
    report = maintain(migrated)
    assert len(report.dropped) == 10
    assert captured(migrated, "odds_snapshots") == set()
    # Partitions already past the current retention need no new confirmation.
    ensure_partitions(migrated, start - timedelta(days=3), start)
    assert set_policy(migrated, premake_days=5) == Policy(premake_days=5, retention_days=5)


@pytest.mark.parametrize("backend", ["native", pytest.param("partman", marks=pytest.mark.partman)])
def test_retention_over_hundreds_of_partitions_stays_within_the_lock_budget(
    make_migrated, backend: str
) -> None:
    """Two seasons with retention off, then a 30-day retention: every partition past it
    goes, in transactions that each hold at most LOCK_BUDGET locks (the server's default
    is 64 per transaction; dropping all in one ran it out of shared memory)."""
    db = make_migrated("embedded" if backend == "native" else "system", backend)
    set_policy(db, retention_days=None)
    days = 205  # 410 partitions, ~350 of them past 30 days
    make_history(db, today_midnight() - timedelta(days=days), days)
    expired = [p for p in list_partitions(db) if p.upper < now_minus(days=30)]
    assert len(expired) >= 350
    set_policy(db, retention_days=30, confirm=True)

    # Hold a lock on the last partition retention drops, so that maintenance waits there;
    # then count the locks its transaction holds at that moment.
    last = max(expired, key=lambda p: (p.upper, p.parent == "odds_snapshots"))
    blocker = psycopg.connect(db.libpq_url)
    blocker.execute(
        psql.SQL("LOCK TABLE ONLY {} IN ACCESS SHARE MODE").format(psql.Identifier(last.name))
    )
    reports: list = []
    worker = threading.Thread(target=lambda: reports.append(maintain(db)))
    worker.start()
    try:
        waiting = wait_for_lock_waiter(blocker, last.name)
        held = blocker.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND granted", (waiting,)
        ).fetchone()[0]
    finally:
        blocker.rollback()
        blocker.close()
        worker.join()
    assert held <= LOCK_BUDGET < 64
    report = reports[0]
    assert sorted(report.dropped) == sorted(p.name for p in expired)
    assert report.transactions >= len(expired) // 4
    assert all(p.upper >= now_minus(days=30) for p in list_partitions(db))
    # Everything after it works.
    assert maintain(db).dropped == []
    assert set_policy(db, retention_days=None).retention_days is None


def make_history(db: Database, start: datetime, days: int) -> None:
    """Empty daily partitions of both parents for ``days`` days from ``start`` (quickly:
    plain DDL, 25 days per transaction; names as the native backend and pg_partman 4)."""
    for first in range(0, days, 25):
        with db.engine.begin() as conn:
            for i in range(first, min(first + 25, days)):
                lower = start + timedelta(days=i)
                for parent in ("market_odds", "odds_snapshots"):
                    conn.exec_driver_sql(
                        f"CREATE TABLE IF NOT EXISTS {parent}_p{lower:%Y_%m_%d} "
                        f"PARTITION OF {parent} FOR VALUES FROM ('{lower.isoformat()}') "
                        f"TO ('{(lower + timedelta(days=1)).isoformat()}')"
                    )


def now_minus(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


def wait_for_lock_waiter(conn: psycopg.Connection, relation: str) -> int:
    """The pid of the backend waiting for a lock on ``relation`` (waits up to 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE relation = to_regclass(%s) AND NOT granted",
            (relation,),
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.02)
    raise AssertionError(f"nothing waited for a lock on {relation}")


def test_creating_partitions_leaves_the_callers_search_path_alone(migrated: Database) -> None:
    """pg_partman's functions end with a session-wide set_config('search_path'): the
    partition function must still hand the caller back its own search_path."""
    with psycopg.connect(migrated.libpq_url) as conn:
        conn.execute("SET search_path = public, pg_catalog")
        created = conn.execute(
            "SELECT oddskit_create_daily_partitions(ARRAY[current_date - 3, current_date - 2])"
        ).fetchall()
        assert len(created) == 4
        assert conn.execute("SHOW search_path").fetchone()[0] == "public, pg_catalog"
        conn.commit()
        assert conn.execute("SHOW search_path").fetchone()[0] == "public, pg_catalog"
