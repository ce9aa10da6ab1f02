"""Daily partitions of ``odds_snapshots`` and ``market_odds``: create ahead, drop past retention.

Two backends behind one interface, picked by what the database was migrated with:

``pg_partman``
    The extension owns the partition set (``partman.part_config``). oddskit copies
    its policy into ``part_config`` and calls ``partman.run_maintenance`` for each
    parent; no background worker is assumed.
``native``
    For servers without pg_partman (the embedded one, many managed services):
    oddskit creates ``<parent>_pYYYY_MM_DD`` partitions itself.

Both make the same daily partitions on UTC midnights, and both drop a partition
only when its *upper* bound is older than ``now - retention``, so no row younger
than the retention window is ever dropped. Prices (``market_odds``) are dropped
before the snapshots of the same day. The policy (premake, retention) lives in the
``partition_policies`` table; :func:`set_policy` changes it.

Example:
    >>> [b.isoformat() for b in day_bounds(datetime(2026, 11, 29, 17, 5, tzinfo=UTC))]
    ['2026-11-29T00:00:00+00:00', '2026-11-30T00:00:00+00:00']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from psycopg import sql

from oddskit.arguments import require_aware  # its home now; re-exported for older imports
from oddskit.connection import Database
from oddskit.errors import ConfigurationError, PartitionError
from oddskit.models import PARTITIONED_TABLES

BackendName = Literal["pg_partman", "native"]

#: Retention drops prices before the snapshots they belong to.
RETENTION_ORDER: tuple[str, ...] = ("market_odds", "odds_snapshots")

#: Serialises partition DDL between concurrent loaders and maintenance runs.
PARTITION_LOCK_KEY = 0x0DD5_C17


@dataclass(frozen=True)
class Policy:
    """How many days ahead to create partitions, and how many days to keep."""

    premake_days: int
    retention_days: int | None


@dataclass(frozen=True)
class Partition:
    """One child of a partitioned parent."""

    parent: str
    name: str
    lower: datetime | None
    upper: datetime | None
    rows: int
    is_default: bool = False


@dataclass(frozen=True)
class MaintenanceReport:
    """What a maintenance run did."""

    backend: BackendName
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_from_default: dict[str, int] = field(default_factory=dict)
    default_rows: dict[str, int] = field(default_factory=dict)


def utc_day(moment: datetime) -> date:
    """Return the UTC calendar day of a timezone-aware ``moment``.

    Example:
        >>> from zoneinfo import ZoneInfo
        >>> utc_day(datetime(2026, 11, 30, 0, 30, tzinfo=ZoneInfo("Africa/Lagos")))
        datetime.date(2026, 11, 29)
    """
    return require_aware(moment, "moment").astimezone(UTC).date()


def day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """Return the UTC midnights around ``moment``: the bounds of its daily partition."""
    lower = datetime.combine(utc_day(moment), datetime.min.time(), tzinfo=UTC)
    return lower, lower + timedelta(days=1)


def partition_name(parent: str, day: date) -> str:
    """Return the name of ``parent``'s partition for ``day`` (pg_partman 4.x style).

    Example:
        >>> partition_name("market_odds", date(2026, 11, 29))
        'market_odds_p2026_11_29'
    """
    return f"{parent}_p{day:%Y_%m_%d}"


def detect_backend(conn: sa.Connection) -> BackendName:
    """Return ``pg_partman`` if the partition set is registered with it, else ``native``."""
    registered = conn.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_partman') "
            "AND to_regclass('partman.part_config') IS NOT NULL"
        )
    ).scalar_one()
    if not registered:
        return "native"
    count = conn.execute(
        sa.text("SELECT count(*) FROM partman.part_config WHERE parent_table = ANY(:parents)"),
        {"parents": [f"{_schema(conn)}.{parent}" for parent in PARTITIONED_TABLES]},
    ).scalar_one()
    return "pg_partman" if count else "native"


def _schema(conn: sa.Connection) -> str:
    return conn.execute(sa.text("SELECT current_schema()")).scalar_one()


def _ddl(conn: sa.Connection, statement: sql.Composable) -> None:
    """Execute a DDL statement composed with quoted identifiers and literals."""
    conn.exec_driver_sql(statement.as_string(conn.connection.driver_connection))


def get_policy(db: Database) -> Policy:
    """Return the partition policy (the same for both parents).

    Example:
        >>> get_policy(db)  # doctest: +SKIP
        Policy(premake_days=4, retention_days=30)
    """
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT premake_days, retention_days FROM partition_policies "
                "WHERE parent_table = 'odds_snapshots'"
            )
        ).one_or_none()
    if row is None:
        raise ConfigurationError(
            f"{db.masked_url} has no oddskit schema. Run `oddskit migrate` first."
        )
    return Policy(premake_days=row.premake_days, retention_days=row.retention_days)


def set_policy(
    db: Database,
    *,
    premake_days: int | None = None,
    retention_days: int | Literal["keep"] | None = "keep",
) -> Policy:
    """Change how far ahead partitions are made and how long they are kept.

    ``retention_days=None`` keeps everything; leave it out to keep the current value.

    Example:
        >>> set_policy(db, retention_days=60)  # doctest: +SKIP
        Policy(premake_days=4, retention_days=60)
    """
    current = get_policy(db)
    premake = current.premake_days if premake_days is None else premake_days
    retention = current.retention_days if retention_days == "keep" else retention_days
    if not 1 <= premake <= 366:
        raise ConfigurationError(f"`premake_days` must be between 1 and 366, got {premake}")
    if retention is not None and retention < 1:
        raise ConfigurationError(
            f"`retention_days` must be at least 1 (or None to keep everything), got {retention}"
        )
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE partition_policies SET premake_days = :premake, retention_days = :retention"
            ),
            {"premake": premake, "retention": retention},
        )
        if detect_backend(conn) == "pg_partman":
            _sync_partman_config(conn, Policy(premake, retention))
    return Policy(premake, retention)


def _sync_partman_config(conn: sa.Connection, policy: Policy) -> None:
    retention = f"{policy.retention_days} days" if policy.retention_days else None
    conn.execute(
        sa.text(
            "UPDATE partman.part_config SET premake = :premake, retention = :retention, "
            "retention_keep_table = false, infinite_time_partitions = true "
            "WHERE parent_table = ANY(:parents)"
        ),
        {
            "premake": policy.premake_days,
            "retention": retention,
            "parents": [f"{_schema(conn)}.{parent}" for parent in PARTITIONED_TABLES],
        },
    )


_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def _children(
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
        {"parent": f"{_schema(conn)}.{parent}"},
    ).all()
    children = []
    for name, bound in rows:
        match = _BOUND.search(bound)
        if match:
            lower, upper = (datetime.fromisoformat(v).astimezone(UTC) for v in match.groups())
            children.append((name, lower, upper, False))
        else:
            children.append((name, None, None, True))
    children.sort(key=lambda child: (child[1] is not None, child[1] or datetime.min))
    return children


def list_partitions(db: Database) -> list[Partition]:
    """Return every partition of both parents with its range and exact row count.

    Example:
        >>> [p.name for p in list_partitions(db)][:1]  # doctest: +SKIP
        ['market_odds_p2026_11_29']
    """
    partitions = []
    with db.engine.connect() as conn:
        schema = _schema(conn)
        for parent in PARTITIONED_TABLES:
            for name, lower, upper, is_default in _children(conn, parent):
                count = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, name))
                rows = conn.exec_driver_sql(
                    count.as_string(conn.connection.driver_connection)
                ).scalar_one()
                partitions.append(Partition(parent, name, lower, upper, rows, is_default))
    return partitions


def ensure_partitions(db: Database, since: datetime, until: datetime) -> list[str]:
    """Make sure daily partitions exist for every day in ``[since, until)``.

    Returns the names of the partitions it created. The loader calls this for the
    time range of its data, so no row ever lands in a default partition.

    Example:
        >>> ensure_partitions(db, datetime(2026, 11, 1, tzinfo=timezone.utc),
        ...                   datetime(2026, 11, 3, tzinfo=timezone.utc))  # doctest: +SKIP
        ['market_odds_p2026_11_01', 'market_odds_p2026_11_02', ...]
    """
    require_aware(since, "since")
    require_aware(until, "until")
    if until <= since:
        return []
    first, last = utc_day(since), utc_day(until - timedelta(microseconds=1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    try:
        with db.engine.begin() as conn:
            return _create_days(conn, days)
    except sa.exc.SQLAlchemyError as exc:
        message = str(db.error(f"Could not create partitions for {first} to {last}", exc))
        if "default partition" in message:
            message += (
                " — rows for these days sit in a default partition. Run `oddskit maintain`, "
                "which moves them into their daily partitions, then retry."
            )
        raise PartitionError(message) from None


def _child_names(conn: sa.Connection) -> set[str]:
    return {name for parent in PARTITIONED_TABLES for name, *_ in _children(conn, parent)}


def _lock(conn: sa.Connection) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})


def _create_days(conn: sa.Connection, days: list[date]) -> list[str]:
    """Create the missing partitions of both parents for ``days`` (inside a transaction)."""
    _lock(conn)
    schema = _schema(conn)
    backend = detect_backend(conn)
    before = _child_names(conn)
    for parent in PARTITIONED_TABLES:
        missing = [day for day in days if partition_name(parent, day) not in before]
        missing = [day for day in missing if not _covered(conn, parent, day)]
        if not missing:
            continue
        if backend == "pg_partman":
            conn.execute(
                sa.text(
                    "SELECT partman.create_partition_time(p_parent_table := :parent, "
                    "p_partition_times := CAST(:times AS timestamptz[]))"
                ),
                {"parent": f"{schema}.{parent}", "times": [_midnight(day) for day in missing]},
            )
            continue
        for day in missing:
            statement = sql.SQL(
                "CREATE TABLE {child} PARTITION OF {parent} FOR VALUES FROM ({lower}) TO ({upper})"
            ).format(
                child=sql.Identifier(schema, partition_name(parent, day)),
                parent=sql.Identifier(schema, parent),
                lower=sql.Literal(_midnight(day)),
                upper=sql.Literal(_midnight(day + timedelta(days=1))),
            )
            _ddl(conn, statement)
    return sorted(_child_names(conn) - before)


def _covered(conn: sa.Connection, parent: str, day: date) -> bool:
    """Whether some non-default partition of ``parent`` already holds ``day``."""
    return any(
        lower is not None and lower <= _midnight(day) < upper
        for _, lower, upper, _ in _children(conn, parent)
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def _default_rows(conn: sa.Connection) -> dict[str, int]:
    """Rows sitting in a default partition, by partition name (only non-empty ones)."""
    schema = _schema(conn)
    found = {}
    for parent in PARTITIONED_TABLES:
        for name, _, _, is_default in _children(conn, parent):
            if is_default:
                count = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, name))
                rows = conn.exec_driver_sql(
                    count.as_string(conn.connection.driver_connection)
                ).scalar_one()
                if rows:
                    found[name] = rows
    return found


def maintain(db: Database, *, now: datetime | None = None) -> MaintenanceReport:
    """Create partitions through the premake horizon and drop those past retention.

    ``now`` (timezone-aware, default the current time) is the clock retention is
    measured against; tests and backfills can move it. Running it twice in a row
    changes nothing the second time.

    Example:
        >>> maintain(db)  # doctest: +SKIP
        MaintenanceReport(backend='native', created=[...], dropped=[], default_rows={})
    """
    now = require_aware(now, "now") if now else datetime.now(UTC)
    policy = get_policy(db)
    try:
        with db.engine.begin() as conn:
            _lock(conn)
            backend = detect_backend(conn)
            before = _child_names(conn)
            moved = {}
            if backend == "pg_partman":
                moved = _maintain_partman(conn, policy, now)
            else:
                _drop_expired(conn, policy, now)
                _create_days(conn, premake_days(now, policy.premake_days))
            after = _child_names(conn)
            return MaintenanceReport(
                backend=backend,
                created=sorted(after - before),
                dropped=sorted(before - after),
                moved_from_default=moved,
                default_rows=_default_rows(conn),
            )
    except sa.exc.SQLAlchemyError as exc:
        raise PartitionError(str(db.error("Partition maintenance failed", exc))) from None


def premake_days(now: datetime, premake: int) -> list[date]:
    """Days that must have partitions: today through the premake horizon.

    Counted the way pg_partman 4.x counts with ``infinite_time_partitions``: the newest
    partition must start ``round((start - now) / 1 day) >= premake`` days ahead, so in
    the afternoon (UTC) the horizon reaches one day further. Both backends therefore
    make the same partitions at the same moment.

    Example:
        >>> [f"{d:%d}" for d in premake_days(datetime(2026, 11, 29, 9, tzinfo=UTC), 2)]
        ['29', '30', '01']
        >>> [f"{d:%d}" for d in premake_days(datetime(2026, 11, 29, 15, tzinfo=UTC), 2)]
        ['29', '30', '01', '02']
    """
    today = utc_day(now)
    days = [today]
    while math.floor((_midnight(days[-1]) - now).total_seconds() / 86400 + 0.5) < premake:
        days.append(days[-1] + timedelta(days=1))
    return days


def _maintain_partman(conn: sa.Connection, policy: Policy, now: datetime) -> dict[str, int]:
    """Run pg_partman's maintenance; return the rows moved out of default partitions.

    A single row in a default partition makes ``run_maintenance`` fail for good, so
    such rows are first moved into proper partitions with ``partition_data_time``.
    """
    _sync_partman_config(conn, policy)
    schema = _schema(conn)
    stranded = _default_rows(conn)
    for name in stranded:
        parent = name.removesuffix("_default")
        conn.execute(
            sa.text("SELECT partman.partition_data_time(:parent, :batches)"),
            {"parent": f"{schema}.{parent}", "batches": 100_000},
        )
    for parent in RETENTION_ORDER:
        qualified = f"{schema}.{parent}"
        if policy.retention_days:
            conn.execute(
                sa.text(
                    "SELECT partman.drop_partition_time(p_parent_table := :parent, "
                    "p_reference_timestamp := :now)"
                ),
                {"parent": qualified, "now": now},
            )
        conn.execute(
            sa.text(
                "SELECT partman.run_maintenance(p_parent_table := :parent, p_analyze := false)"
            ),
            {"parent": qualified},
        )
    return stranded


def _drop_expired(conn: sa.Connection, policy: Policy, now: datetime) -> None:
    """Drop native partitions whose upper bound is older than ``now - retention``."""
    if policy.retention_days is None:
        return
    cutoff = now - timedelta(days=policy.retention_days)
    schema = _schema(conn)
    for parent in RETENTION_ORDER:
        for name, _, upper, is_default in _children(conn, parent):
            if not is_default and upper is not None and upper < cutoff:
                _ddl(conn, sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, name)))
