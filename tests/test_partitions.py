"""Partition maintenance on both backends: creation ahead, retention, idempotence."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from oddskit.connection import Database
from oddskit.errors import ConfigurationError, PartitionError
from oddskit.partitions import (
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
def test_both_backends_make_the_same_layout(make_database) -> None:
    layouts = []
    for server, backend in (("system", "partman"), ("system", "native"), ("embedded", "native")):
        db = make_database(server)
        migrate(db, backend=backend)
        history = today_midnight() - timedelta(days=6)
        ensure_partitions(db, history, history + timedelta(days=2))
        maintain(db)
        layouts.append(layout(db))
    assert layouts[0] == layouts[1] == layouts[2]


@pytest.mark.partman
def test_partman_holds_both_parents_with_retention(make_database) -> None:
    db = make_database("system")
    migrate(db, backend="partman")
    with db.engine.connect() as conn:
        config = conn.execute(
            sa.text(
                "SELECT parent_table, retention, retention_keep_table, premake, "
                "infinite_time_partitions FROM partman.part_config ORDER BY parent_table"
            )
        ).all()
    assert config == [
        ("public.market_odds", "30 days", False, 4, True),
        ("public.odds_snapshots", "30 days", False, 4, True),
    ]
    set_policy(db, retention_days=45)
    with db.engine.connect() as conn:
        assert set(
            conn.execute(sa.text("SELECT retention FROM partman.part_config")).scalars()
        ) == {"45 days"}
    assert maintain(db).backend == "pg_partman"


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
def test_rows_in_a_default_partition_are_reported(make_database) -> None:
    db = make_database("system")
    migrate(db, backend="partman")
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
