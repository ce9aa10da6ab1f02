"""Creating daily partitions in batches: many days per transaction, one call each.

Each batch of days is one call of ``oddskit_create_daily_partitions(date[])``
(migration 0005: it takes the partition lock, checks the role's allowance and creates
both parents' partitions of every day) in one short transaction. Creating a day holds
about 20 locks until the commit (both partitions, their indexes, TOAST tables; the
catalog locks of the first day come once per transaction), so batches are sized to
hold at most :data:`CREATE_LOCK_BUDGET` locks: the first batch is
:data:`FIRST_BATCH_DAYS` days, the locks it held (counted in ``pg_locks``) give the
cost of a day, and the later batches are as large as the budget allows at that cost.
Two seasons of daily history (700 days) are about 50 transactions instead of 700.

What still costs time is PostgreSQL's own work for each partition (a file for the
table and each index, and, on PostgreSQL 15 and 16, a sync of each new B-tree index
file; see ``benchmarks/results/partitions.md``): batching removes the round trips and
commits around it, not the DDL itself.

Example:
    >>> days_in(datetime(2026, 11, 29, 17, 5, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    [datetime.date(2026, 11, 29), datetime.date(2026, 11, 30)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from oddskit.backends import PARTITIONED_TABLES, current_schema
from oddskit.connection import Database
from oddskit.days import midnight, utc_day

#: Most locks one transaction that creates partitions may hold: 1/16 of the lock table
#: of a server with the defaults (``max_locks_per_transaction`` 64 × 100 connections),
#: and never more than 1/16 of the server's own table (:func:`create_lock_budget`).
CREATE_LOCK_BUDGET = 400

#: Days in the first batch, whose locks measure what a day costs.
FIRST_BATCH_DAYS = 4


@dataclass(frozen=True)
class Creation:
    """What creating partitions did: their names, the transactions (one call of the
    partition function each) and the most locks one of them held."""

    created: list[str] = field(default_factory=list)
    transactions: int = 0
    peak_locks: int = 0


_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def children(
    conn: sa.Connection, parent: str
) -> list[tuple[str, datetime | None, datetime | None, bool]]:
    """Children of ``parent`` as (name, lower, upper, is_default), oldest first."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.oid = to_regclass(:parent)"
        ),
        {"parent": f"{current_schema(conn)}.{parent}"},
    ).all()
    found = []
    for name, bound in rows:
        match = _BOUND.search(bound)
        if match:
            lower, upper = (datetime.fromisoformat(v).astimezone(UTC) for v in match.groups())
            found.append((name, lower, upper, False))
        else:
            found.append((name, None, None, True))
    found.sort(key=lambda child: (child[1] is not None, child[1] or datetime.min))
    return found


def covered_days(conn: sa.Connection, parent: str) -> set[date]:
    """The UTC days that some non-default partition of ``parent`` holds."""
    days = set()
    for _, lower, upper, is_default in children(conn, parent):
        if is_default or lower is None or upper is None:
            continue
        day = utc_day(lower) if midnight(utc_day(lower)) == lower else utc_day(lower) + timedelta(1)
        while midnight(day) < upper:
            days.add(day)
            day += timedelta(days=1)
    return days


def days_in(since: datetime, until: datetime) -> list[date]:
    """The UTC days that ``[since, until)`` touches, in order (none when it is empty)."""
    if until <= since:
        return []
    first, last = utc_day(since), utc_day(until - timedelta(microseconds=1))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def create_lock_budget(conn: sa.Connection) -> int:
    """:data:`CREATE_LOCK_BUDGET`, or 1/16 of this server's lock table if that is less
    (``max_locks_per_transaction`` × (``max_connections`` + ``max_prepared_transactions``))."""
    slots = conn.execute(
        sa.text(
            "SELECT current_setting('max_locks_per_transaction')::int * "
            "(current_setting('max_connections')::int "
            "+ current_setting('max_prepared_transactions')::int)"
        )
    ).scalar_one()
    return max(1, min(CREATE_LOCK_BUDGET, slots // 16))


def create_days(db: Database, days: Iterable[date]) -> Creation:
    """Create the partitions (both parents) that ``days`` lack, in lock-budgeted
    batches of one call each; raises the driver's error of the batch that failed
    (the batches before it stay committed).

    Example:
        >>> create_days(db, [date(2026, 11, 1)]).created  # doctest: +SKIP
        ['market_odds_p2026_11_01', 'odds_snapshots_p2026_11_01']
    """
    with db.engine.connect() as conn:
        covered = [covered_days(conn, parent) for parent in PARTITIONED_TABLES]
        budget = create_lock_budget(conn)
    missing = sorted({day for day in days if any(day not in held for held in covered)})
    created: list[str] = []
    transactions = peak = 0
    size, per_day = FIRST_BATCH_DAYS, 0.0
    while missing:
        batch, missing = missing[:size], missing[size:]
        with db.engine.begin() as conn:
            created.extend(
                conn.execute(
                    sa.text("SELECT oddskit_create_daily_partitions(CAST(:days AS date[]))"),
                    {"days": batch},
                ).scalars()
            )
            held = conn.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
            ).scalar_one()
        transactions, peak = transactions + 1, max(peak, held)
        per_day = max(per_day, held / len(batch))  # the first day's catalog locks included
        size = max(1, int(budget // per_day))
    return Creation(sorted(created), transactions, peak)
