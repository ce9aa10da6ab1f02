"""Daily partitions of ``odds_snapshots`` and ``market_odds``: create ahead, drop past retention.

Two backends behind one interface, picked by what the database was migrated with:

``pg_partman``
    The extension (4.7 or 5.x) owns the partition set (``partman.part_config``). oddskit
    copies its policy into ``part_config``, creates partitions with pg_partman's
    ``create_partition_time`` and calls ``partman.run_maintenance`` for each parent; no
    background worker is assumed.
``native``
    For servers without pg_partman (the embedded one, many managed services):
    oddskit creates ``<parent>_pYYYY_MM_DD`` partitions itself.

Both make the same daily partitions on UTC midnights (pg_partman 5 names them
``<parent>_pYYYYMMDD``), and both drop a partition only when its *upper* bound is older
than ``now - retention``, so no row younger than the retention window is ever dropped.
Prices (``market_odds``) are dropped before the snapshots of the same day. With the
archive on (the default), each day's prices are first written to Parquet, verified and
recorded (:mod:`oddskit.archive`), one day at a time, and a day that cannot be archived
is not dropped. The policy (premake, retention, archive) lives in the
``partition_policies`` table; :func:`set_policy` changes it, and asks for
``confirm=True`` before a change that drops data.

Roles: partitions are created by ``oddskit_create_daily_partitions`` (migration 0005),
which runs as the owner of the tables, so a loader role needs only EXECUTE on it (and it
creates only the days the policy allows). Dropping partitions (retention) and changing
the policy belong to the owner; :func:`maintain` run by another role only creates.

Locks: creating or dropping one day's two partitions takes about 20 locks (each
partition, its indexes, TOAST table and catalog entries; about 30 with the first day's
catalog locks), all held to the commit, and PostgreSQL's lock table has room for
``max_locks_per_transaction`` (64 by default) per connection. So partitions are dropped
in short transactions of at most about :data:`LOCK_BUDGET` locks each, oldest days
first: retention over two seasons of daily partitions is hundreds of small
transactions, never one that runs the server out of shared memory. Creating is batched
more widely (:mod:`oddskit.partition_create`): many days per transaction, one call of
the partition function each, at most ``CREATE_LOCK_BUDGET`` (400) locks; a loader
creates only the days its rows fall on.

Example:
    >>> [b.isoformat() for b in day_bounds(datetime(2026, 11, 29, 17, 5, tzinfo=UTC))]
    ['2026-11-29T00:00:00+00:00', '2026-11-30T00:00:00+00:00']
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from psycopg import sql

from oddskit.arguments import require_aware  # its home now; re-exported for older imports
from oddskit.backends import (  # detect_backend, server_versions: re-exported too
    CREATE_FUNCTION,
    PARTITIONED_TABLES,
    BackendName,
    current_roles,
    current_schema,
)
from oddskit.backends import detect_backend as detect_backend
from oddskit.backends import server_versions as server_versions
from oddskit.connection import Database
from oddskit.days import (  # re-exported: their home before days.py
    day_bounds as day_bounds,
)
from oddskit.days import partition_name as partition_name
from oddskit.days import premake_days
from oddskit.days import utc_day as utc_day
from oddskit.errors import ConfigurationError, ConfirmationRequired, PartitionError
from oddskit.partition_create import children, create_days, days_in

#: Retention drops prices before the snapshots they belong to.
RETENTION_ORDER: tuple[str, ...] = ("market_odds", "odds_snapshots")

#: Serialises partition DDL between concurrent loaders and maintenance runs (migration
#: 0005's partition function takes the same lock).
PARTITION_LOCK_KEY = 0x0DD5_C17

#: Most locks a transaction that creates or drops partitions holds (counted in
#: ``pg_locks``): well under the server default of 64 per transaction.
LOCK_BUDGET = 40


@dataclass(frozen=True)
class Policy:
    """Days of partitions made ahead, days kept, and where retention archives a day
    first (``None``: nowhere; ``'default'``: ``<oddskit home>/archive``; a folder or URL)."""

    premake_days: int
    retention_days: int | None
    archive: str | None = "default"


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
    """What a maintenance run did (``transactions``: how many it took); ``archived``: the
    days archived before their drop; ``archive_error``: why retention stopped at a day."""

    backend: BackendName
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    archived: list[date] = field(default_factory=list)
    archive_error: str | None = None
    moved_from_default: dict[str, int] = field(default_factory=dict)
    default_rows: dict[str, int] = field(default_factory=dict)
    transactions: int = 0
    notice: str | None = None


def _ddl(conn: sa.Connection, statement: sql.Composable) -> None:
    """Execute a DDL statement composed with quoted identifiers and literals."""
    conn.exec_driver_sql(statement.as_string(conn.connection.driver_connection))


def get_policy(db: Database) -> Policy:
    """Return the partition policy (the same for both parents).

    Example:
        >>> get_policy(db)  # doctest: +SKIP
        Policy(premake_days=4, retention_days=30, archive='default')
    """
    with db.engine.connect() as conn:
        row = conn.execute(  # to_jsonb: a schema older than 0006 has no archive column
            sa.text(
                "SELECT premake_days, retention_days, to_jsonb(p) ->> 'archive' AS archive "
                "FROM partition_policies p WHERE parent_table = 'odds_snapshots'"
            )
        ).one_or_none()
    if row is None:
        raise ConfigurationError(
            f"{db.masked_url} has no oddskit schema. Run `oddskit migrate` first."
        )
    archive = None if row.archive in (None, "none") else row.archive
    return Policy(row.premake_days, row.retention_days, archive)


def _whole_days(value: Any, name: str, meaning_of_none: str) -> int | None:
    """``value`` as an int, or ``None``; anything else is a readable error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigurationError(
            f"`{name}` must be a whole number of days (an int) or None ({meaning_of_none}), "
            f"got {value!r} ({type(value).__name__})"
        )
    return int(value)


def set_policy(
    db: Database,
    *,
    premake_days: int | None = None,
    retention_days: int | Literal["keep"] | None = "keep",
    archive: str | Path | None = "keep",
    confirm: bool = False,
) -> Policy:
    """Change how far ahead partitions are made, how long they are kept, and where
    retention archives them.

    ``retention_days=None`` keeps everything; ``archive``: ``'default'`` (the oddskit
    home's ``archive`` folder), a folder, a URL (``'s3://bucket/prefix'``) or ``None``
    (dropped days are not archived). Left out, each keeps its current value.
    A shorter retention that would drop partitions raises :class:`ConfirmationRequired`
    saying how many partitions and rows would go, and changes nothing, unless
    ``confirm=True``; they are dropped by the next :func:`maintain` (``oddskit policy
    --yes`` runs it at once). Only the owner of the oddskit tables may change the policy.

    Example:
        >>> set_policy(db, retention_days=60)  # doctest: +SKIP
        Policy(premake_days=4, retention_days=60, archive='default')
        >>> set_policy(Database("postgresql://localhost/odds"), retention_days="30")
        Traceback (most recent call last):
        ...
        oddskit.errors.ConfigurationError: `retention_days` must be a whole number of days ...
    """
    premake_days = _whole_days(premake_days, "premake_days", "to keep the current value")
    if retention_days != "keep":
        retention_days = _whole_days(retention_days, "retention_days", "to keep everything")
    if not isinstance(confirm, bool):
        raise ConfigurationError(f"`confirm` must be True or False, got {confirm!r}")
    from oddskit.archive_files import archive_setting  # pyarrow: only when needed

    archive = archive_setting(archive)
    current = get_policy(db)
    archive_to = current.archive if archive == "keep" else archive
    premake = current.premake_days if premake_days is None else premake_days
    retention = current.retention_days if retention_days == "keep" else retention_days
    if not 1 <= premake <= 366:
        raise ConfigurationError(f"`premake_days` must be between 1 and 366, got {premake}")
    if retention is not None and retention < 1:
        raise ConfigurationError(
            f"`retention_days` must be at least 1 (or None to keep everything), got {retention}"
        )
    try:
        with db.engine.connect() as conn:
            roles = current_roles(conn)
            now = datetime.now(UTC)
            doomed = _expired(conn, retention, now)
            kept_today = {name for _, name, _ in _expired(conn, current.retention_days, now)}
        if not roles.manager:
            raise PartitionError(
                f"Role {roles.role!r} may not change the partition policy: it belongs to the "
                f"owner of the oddskit tables ({roles.owner!r}). Connect as that role."
            )
        if any(name not in kept_today for _, name, _ in doomed) and not confirm:
            raise ConfirmationRequired(_drop_warning(db, retention, doomed, archive_to))
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE partition_policies SET premake_days = :premake, "
                    "retention_days = :retention, archive = :archive"
                ),
                {"premake": premake, "retention": retention, "archive": archive_to or "none"},
            )
            if detect_backend(conn) == "pg_partman":
                _sync_partman_config(conn, Policy(premake, retention, archive_to))
    except sa.exc.SQLAlchemyError as exc:
        raise _partition_error(db, "Changing the partition policy failed", exc) from None
    return Policy(premake, retention, archive_to)  # type: ignore[arg-type]


def _drop_warning(db: Database, retention: int | None, doomed: list, archive: str | None) -> str:
    rows = _row_counts(db, [name for _, name, _ in doomed])
    snapshots = sum(rows[name] for parent, name, _ in doomed if parent == "odds_snapshots")
    prices = sum(rows[name] for parent, name, _ in doomed if parent == "market_odds")
    first = min(upper for *_, upper in doomed) - timedelta(days=1)
    last = max(upper for *_, upper in doomed) - timedelta(days=1)
    return (
        f"A retention of {retention} days drops {len(doomed):,} partitions ({first:%Y-%m-%d} "
        f"to {last:%Y-%m-%d} UTC) holding {snapshots + prices:,} rows ({snapshots:,} snapshots, "
        f"{prices:,} prices) at the next maintenance. Nothing was changed. To go ahead: "
        f"`oddskit policy --retention-days {retention} --yes`, or "
        f"set_policy(db, retention_days={retention}, confirm=True). "
        + (f"Each day is archived first ({archive})." if archive else "The archive is off.")
    )


def _sync_partman_config(conn: sa.Connection, policy: Policy) -> None:
    # With the archive on, oddskit drops each day itself once it is archived:
    # pg_partman's own retention would drop a day that could not be archived.
    keep = policy.retention_days is None or policy.archive is not None
    retention = None if keep else f"{policy.retention_days} days"
    conn.execute(
        sa.text(
            "UPDATE partman.part_config SET premake = :premake, retention = :retention, "
            "retention_keep_table = false, infinite_time_partitions = true "
            "WHERE parent_table = ANY(:parents)"
        ),
        {
            "premake": policy.premake_days,
            "retention": retention,
            "parents": [f"{current_schema(conn)}.{parent}" for parent in PARTITIONED_TABLES],
        },
    )


def _row_counts(db: Database, names: Iterable[str]) -> dict[str, int]:
    """Exact rows of each partition, each counted in its own short transaction (a
    single transaction over every partition would lock them all at once)."""
    counts = {}
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        schema = current_schema(conn)
        for name in names:
            count = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, name))
            counts[name] = conn.exec_driver_sql(
                count.as_string(conn.connection.driver_connection)
            ).scalar_one()
    return counts


def list_partitions(db: Database) -> list[Partition]:
    """Return every partition of both parents with its range and exact row count.

    Example:
        >>> [p.name for p in list_partitions(db)][:1]  # doctest: +SKIP
        ['market_odds_p2026_11_29']
    """
    with db.engine.connect() as conn:
        found = [
            (parent, *child) for parent in PARTITIONED_TABLES for child in children(conn, parent)
        ]
    rows = _row_counts(db, [name for _, name, *_ in found])
    return [
        Partition(parent, name, lower, upper, rows[name], is_default)
        for parent, name, lower, upper, is_default in found
    ]


def ensure_partitions(db: Database, since: datetime, until: datetime) -> list[str]:
    """Make sure daily partitions exist for every day in ``[since, until)``.

    Returns the names of the partitions it created (see :func:`ensure_days`, which the
    loader calls with the days of its rows, so no row ever lands in a default
    partition). A role that does not own the tables may create only the days the
    policy allows (the retention window through the premake horizon).

    Example:
        >>> ensure_partitions(db, datetime(2026, 11, 1, tzinfo=timezone.utc),
        ...                   datetime(2026, 11, 3, tzinfo=timezone.utc))  # doctest: +SKIP
        ['market_odds_p2026_11_01', 'market_odds_p2026_11_02', ...]
    """
    require_aware(since, "since")
    require_aware(until, "until")
    return ensure_days(db, days_in(since, until))


def ensure_days(db: Database, days: Iterable[date]) -> list[str]:
    """Make sure daily partitions exist for each of ``days`` (UTC dates), and only those.

    Returns the names of the partitions it created. The loader calls this with the days
    its rows fall on, so a file of match days creates no partitions for the days between.
    Missing days are created many per transaction (see :mod:`oddskit.partition_create`).

    Example:
        >>> ensure_days(db, [date(2026, 11, 1), date(2026, 11, 8)])  # doctest: +SKIP
        ['market_odds_p2026_11_01', 'market_odds_p2026_11_08', ...]
    """
    wanted = sorted(set(days))
    if not wanted:
        return []
    try:
        return _create_missing(db, wanted)[0]
    except sa.exc.SQLAlchemyError as exc:
        what = f"Could not create partitions for {wanted[0]} to {wanted[-1]}"
        raise _partition_error(db, what, exc) from None


def _partition_error(db: Database, what: str, exc: BaseException) -> PartitionError:
    """A readable :class:`PartitionError`, with what to do for the usual causes."""
    message = str(db.error(what, exc))
    if "default partition" in message:
        message += (
            " — rows for these days sit in a default partition. Run `oddskit maintain`, "
            "which moves them into their daily partitions, then retry."
        )
    elif "permission denied" in message or "may create daily partitions only" in message:
        message += (
            f" — a loader role needs `GRANT EXECUTE ON FUNCTION {CREATE_FUNCTION} TO <role>`; "
            "retention and the policy belong to the owner of the oddskit tables "
            "(see 'Roles and privileges' in the README)."
        )
    return PartitionError(message)


def _child_names(conn: sa.Connection) -> set[str]:
    return {name for parent in PARTITIONED_TABLES for name, *_ in children(conn, parent)}


def _lock(conn: sa.Connection) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})


def _locks_held(conn: sa.Connection) -> int:
    return conn.execute(
        sa.text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
    ).scalar_one()


def _in_batches(
    db: Database, items: Iterable[Any], step: Callable[[sa.Connection, Any], None]
) -> int:
    """Run ``step(conn, item)`` for each item, in order, in as few transactions as keep
    each under :data:`LOCK_BUDGET` locks; return how many transactions it took.

    The locks are counted in ``pg_locks`` after each step: a transaction is committed
    when one more step as costly as the costliest so far would pass the budget.
    """
    pending = list(items)
    transactions = 0
    while pending:
        with db.engine.begin() as conn:
            _lock(conn)
            transactions += 1
            held, costliest = _locks_held(conn), 0
            while pending:
                step(conn, pending.pop(0))
                after = _locks_held(conn)
                costliest, held = max(costliest, after - held), after
                if held + costliest > LOCK_BUDGET:
                    break
    return transactions


def _create_missing(db: Database, days: list[date]) -> tuple[list[str], int]:
    """Create the partitions that ``days`` lack (both parents), in lock-budgeted batches;
    return their names and the number of transactions it took."""
    creation = create_days(db, days)
    return creation.created, creation.transactions


def _default_rows(conn: sa.Connection) -> dict[str, int]:
    """Rows sitting in a default partition, by partition name (only non-empty ones)."""
    schema = current_schema(conn)
    found = {}
    for parent in PARTITIONED_TABLES:
        for name, _, _, is_default in children(conn, parent):
            if is_default:
                count = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, name))
                rows = conn.exec_driver_sql(
                    count.as_string(conn.connection.driver_connection)
                ).scalar_one()
                if rows:
                    found[name] = rows
    return found


def _expired(
    conn: sa.Connection, retention_days: int | None, now: datetime
) -> list[tuple[str, str, datetime]]:
    """(parent, name, upper) of the partitions entirely older than ``now - retention``,
    in the order retention drops them: oldest day first, its prices before its snapshots."""
    if retention_days is None:
        return []
    cutoff = now - timedelta(days=retention_days)
    found = [
        (upper, RETENTION_ORDER.index(parent), parent, name)
        for parent in RETENTION_ORDER
        for name, _, upper, is_default in children(conn, parent)
        if not is_default and upper is not None and upper < cutoff
    ]
    return [(parent, name, upper) for upper, _, parent, name in sorted(found)]


def maintain(db: Database, *, now: datetime | None = None) -> MaintenanceReport:
    """Create partitions through the premake horizon and drop those past retention.

    ``now`` (timezone-aware, default the current time) is the clock retention is
    measured against; tests and backfills can move it. Running it twice in a row
    changes nothing the second time. Partitions are dropped in short transactions
    (see :data:`LOCK_BUDGET`). Run by a role that does not own the tables (a loader),
    it only creates partitions, and its report's ``notice`` says what it left; a role
    that may not create them either (a read-only analyst) gets a :class:`PartitionError`.

    Example:
        >>> maintain(db)  # doctest: +SKIP
        MaintenanceReport(backend='native', created=[...], dropped=[], default_rows={}, ...)
    """
    now = require_aware(now, "now") if now else datetime.now(UTC)
    from oddskit.runs import close_abandoned_runs  # pyarrow and Polars: not for the CLI's start

    policy = get_policy(db)
    close_abandoned_runs(db)  # lineage: loads killed or cut off are marked failed
    try:
        with db.engine.connect() as conn:
            backend = detect_backend(conn)
            roles = current_roles(conn)
            before = _child_names(conn)
            expired = _expired(conn, policy.retention_days, now)
        if not roles.creator:
            raise PartitionError(
                f"Role {roles.role!r} may not maintain partitions (nor load): it neither owns "
                f"the oddskit tables ({roles.owner!r}) nor may create partitions. For a loader "
                f"role: GRANT EXECUTE ON FUNCTION {CREATE_FUNCTION} TO {roles.role} (see "
                "'Roles and privileges' in the README)."
            )
        notice, moved, transactions = None, {}, 0
        archived: list[date] = []
        archive_error = None
        if roles.manager:
            archived, archive_error, spent = _retire(db, expired, policy)
            transactions += spent
            if backend == "pg_partman":
                with db.engine.begin() as conn:
                    _lock(conn)
                    moved = _prepare_partman(conn, policy)
        elif expired:
            notice = (
                f"{len(expired):,} partitions are past the {policy.retention_days}-day "
                f"retention, but role {roles.role!r} may not drop them: run `oddskit maintain` "
                f"as the owner of the oddskit tables ({roles.owner!r})."
            )
        transactions += _create_missing(db, premake_days(now, policy.premake_days))[1]
        if roles.manager and backend == "pg_partman":
            with db.engine.begin() as conn:
                _lock(conn)
                for parent in RETENTION_ORDER:  # finds nothing left to create or drop
                    conn.execute(
                        sa.text(
                            "SELECT partman.run_maintenance(p_parent_table := :parent, "
                            "p_analyze := false)"
                        ),
                        {"parent": f"{current_schema(conn)}.{parent}"},
                    )
        with db.engine.connect() as conn:
            after = _child_names(conn)
            default_rows = _default_rows(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise _partition_error(db, "Partition maintenance failed", exc) from None
    return MaintenanceReport(
        backend=backend,
        created=sorted(after - before),
        dropped=sorted(before - after),
        archived=archived,
        archive_error=archive_error,
        moved_from_default=moved,
        default_rows=default_rows,
        transactions=transactions,
        notice=notice,
    )


def _retire(
    db: Database, expired: list[tuple[str, str, datetime]], policy: Policy
) -> tuple[list[date], str | None, int]:
    """Drop the expired partitions in lock-budgeted batches; with the archive on, day by
    day, each archived first (:func:`oddskit.archive.retire_days`)."""
    if policy.archive is None:
        return [], None, _in_batches(db, [name for _, name, _ in expired], _drop)
    from oddskit.archive import retire_days  # imports this module

    def in_batches(items: list[Any], step: Callable[[sa.Connection, Any], None]) -> int:
        return _in_batches(db, items, step)

    return retire_days(db, expired, policy.archive, in_batches=in_batches, drop=_drop)


def _drop(conn: sa.Connection, name: str) -> None:
    from oddskit.queries_current import dropping_prices  # current_odds follows them

    with dropping_prices(conn, name):
        _ddl(
            conn,
            sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(current_schema(conn), name)),
        )


def _prepare_partman(conn: sa.Connection, policy: Policy) -> dict[str, int]:
    """Copy the policy into pg_partman's configuration and move rows out of default
    partitions; return how many rows were moved, by default partition.

    A single row in a default partition makes ``run_maintenance`` fail for good, so
    such rows are moved into proper partitions with ``partition_data_time`` first.
    """
    _sync_partman_config(conn, policy)
    schema = current_schema(conn)
    stranded = _default_rows(conn)
    for name in stranded:
        parent = name.removesuffix("_default")
        conn.execute(
            sa.text(
                "SELECT partman.partition_data_time(p_parent_table := :parent, "
                "p_batch_count := :batches, p_analyze := false)"
            ),
            {"parent": f"{schema}.{parent}", "batches": 100_000},
        )
    return stranded
