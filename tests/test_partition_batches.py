"""Creating partitions for history in batches: a few calls for many days, within the
lock budget, with the no-default-partition guard intact; a load creates only the days
its rows fall on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from oddskit.connection import Database
from oddskit.loading import load
from oddskit.partition_create import CREATE_LOCK_BUDGET, FIRST_BATCH_DAYS, create_days
from oddskit.partitions import day_bounds, list_partitions, set_policy, utc_day
from oddskit.sample import generate_sample
from oddskit.schema import migrate


def function_calls(db: Database) -> list[str]:
    """Every statement ``db`` sends that calls the partition function, from now on."""
    calls: list[str] = []

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "oddskit_create_daily_partitions" in statement:
            calls.append(statement)

    return calls


def test_history_is_created_in_a_few_calls_within_the_lock_budget(migrated: Database) -> None:
    set_policy(migrated, retention_days=None)
    today = day_bounds(datetime.now(UTC))[0]
    first = utc_day(today - timedelta(days=200))
    days = [first + timedelta(days=i) for i in range(90)]
    calls = function_calls(migrated)

    creation = create_days(migrated, days)

    assert len(creation.created) == 2 * 90
    # One call per transaction, and far fewer than one per day: after the first batch
    # the batches hold as many days as the lock budget allows (about 13 to 16).
    assert len(calls) == creation.transactions
    assert FIRST_BATCH_DAYS < creation.transactions <= 90 // 5
    assert 0 < creation.peak_locks <= CREATE_LOCK_BUDGET
    made = {(p.parent, p.lower) for p in list_partitions(migrated)}
    for day in days:
        lower = day_bounds(datetime(day.year, day.month, day.day, tzinfo=UTC))[0]
        assert ("market_odds", lower) in made and ("odds_snapshots", lower) in made
    assert create_days(migrated, days).transactions == 0  # nothing left to create
    # The guard holds: no default partition, so a row for a day without one fails.
    assert not [p for p in list_partitions(migrated) if p.is_default]
    with (
        pytest.raises(sa.exc.IntegrityError, match="no partition"),
        migrated.engine.begin() as conn,
    ):
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) VALUES (1, 1, :t)"
            ),
            {"t": today - timedelta(days=100)},
        )


def test_a_load_creates_only_the_days_its_rows_fall_on(make_database) -> None:
    db = make_database("embedded")
    migrate(db)
    sample = generate_sample(
        start=datetime.now(UTC) - timedelta(days=25), days=12, events_per_day=1, seed=1
    )
    days = sorted(set(sample["captured_at"].dt.date().to_list()))
    kept = {days[0], days[0] + timedelta(days=9)}
    frame = sample.filter(pl.col("captured_at").dt.date().is_in(sorted(kept)))
    assert frame["captured_at"].dt.date().n_unique() == 2

    result = load(frame, db=db, progress=False).results[0]

    assert result.rows_loaded == frame.height
    made = {utc_day(p.lower) for p in list_partitions(db) if p.lower is not None}
    gap = {days[0] + timedelta(days=i) for i in range(1, 9)}
    assert kept <= made and not gap & made
    assert len(result.partitions_created) == 2 * len(kept)
