"""Run records: each bulk load's row in ``scrape_runs`` and its problems in ``scrape_errors``.

A load's run is inserted as ``running``; it becomes ``succeeded`` in the same
transaction that commits the load's data, or ``failed`` (with the error) when the
load stops. A load that never gets to say so — its process killed, its database
session terminated, the server restarted — would stay ``running`` forever, so while it
runs the loader holds a **session-level advisory lock keyed by its run id** on a
connection of its own, taken in the transaction that makes the run visible. The
server releases the lock when that session ends, however it ends. A ``running`` run
whose lock is free therefore has no loader any more: :func:`close_abandoned_runs`
(called by every load, by ``maintain`` and by ``oddskit loads``) marks it ``failed``
with the reason. Nothing of such a run was committed: its data and its ``succeeded``
status are committed together.

The server frees the lock once it notices the session is gone: at once for a killed
process on the same machine, within about 90 s for a loader machine that vanished
from the network (TCP keepalives are set on the lock's session). Behind a pooler in
transaction mode (PgBouncer) the lock may outlive the loader, so such a run stays
``running``; it is never marked abandoned while its loader lives.

Example:
    >>> run_lock_key(7), run_lock_key(2**31 + 5)
    (7, 6)
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from oddskit.connection import Database
from oddskit.errors import ConfigurationError

if TYPE_CHECKING:  # Polars and Arrow only where a run's errors are written
    import polars as pl
    import pyarrow as pa

log = logging.getLogger("oddskit")

#: First key of the two-key advisory locks that mark a run as alive (second: the run id).
RUN_LOCK_CLASS = 0x0DD5

#: At most this many problems of a run are stored in ``scrape_errors``.
MAX_STORED_ERRORS = 1000

#: ``details.error`` of a run found abandoned.
ABANDONED = (
    "abandoned: the loader stopped before it finished (its process was killed, or its "
    "database session ended: a server restart or a terminated backend); nothing from this "
    "run was committed. Load the source again (loading is idempotent)."
)

# The most recent runs, newest first, with their error counts.
_RECENT_RUNS = (
    "SELECT r.id AS run_id, r.kind, b.name AS bookmaker, r.source, r.status, "
    "r.started_at, r.finished_at, r.rows_read, r.rows_loaded, r.rows_present, "
    "r.rows_rejected, (SELECT count(*) FROM scrape_errors x WHERE x.run_id = r.id) AS errors, "
    "r.file_hash, r.details ->> 'error' AS error "
    "FROM scrape_runs r LEFT JOIN bookmakers b ON b.id = r.bookmaker_id "
    "WHERE (CAST(:kind AS text) IS NULL OR r.kind = :kind) "
    "AND (CAST(:status AS text) IS NULL OR r.status = :status) "
    "ORDER BY r.id DESC LIMIT :limit"
)

# The server probes an idle TCP client after 60 s, every 10 s, 3 times: a loader whose
# machine vanished (no FIN ever sent) frees its run's lock in ~90 s, not in the system
# default of hours. (Ignored on Unix-socket connections, where a dead peer shows at once.)
_KEEPALIVES = (
    "SELECT set_config('tcp_keepalives_idle', '60', false), "
    "set_config('tcp_keepalives_interval', '10', false), "
    "set_config('tcp_keepalives_count', '3', false)"
)

# Insufficient privilege (a read-only analyst) and a read-only transaction (a standby).
_CANNOT_WRITE = {"42501", "25006"}


def run_lock_key(run_id: int) -> int:
    """The second advisory-lock key of a run (an ``integer``, as PostgreSQL wants).

    Example:
        >>> run_lock_key(12)
        12
    """
    return run_id % 2_147_483_647


class RunRecord:
    """One load's ``scrape_runs`` row, marked alive by a lock while the load runs.

    Use :meth:`start`, then :meth:`finish` (inside the load's transaction) or
    :meth:`fail`, and always :meth:`close`.

    Example:
        >>> run = RunRecord.start(db, source="day.csv", file_hash=None)  # doctest: +SKIP
        >>> run.fail("day.csv: refused")  # doctest: +SKIP
        >>> run.close()  # doctest: +SKIP
    """

    def __init__(
        self, db: Database, run_id: int, conn: sa.Connection, *, owned: bool = True
    ) -> None:
        self.db = db
        self.id = run_id
        self._conn: sa.Connection | None = conn
        self._owned = owned

    @classmethod
    def start(
        cls,
        db: Database,
        *,
        source: str,
        file_hash: str | None,
        lock_on: sa.Connection | None = None,
    ) -> RunRecord:
        """Insert a ``running`` load run and take its lock (in one transaction).

        ``lock_on``: an ``AUTOCOMMIT`` connection of the caller's that holds the lock
        instead of a new one (several waiting loads on one connection); its owner
        releases the locks, :meth:`close` leaves it alone.
        """
        if lock_on is not None:  # one statement: the row is seen only with its lock held
            run_id = lock_on.execute(
                sa.text(
                    "WITH run AS (INSERT INTO scrape_runs (kind, source, file_hash, status) "
                    "VALUES ('load', :source, :hash, 'running') RETURNING id) "
                    "SELECT id FROM run "
                    "WHERE pg_advisory_lock(:class, CAST(id % 2147483647 AS integer)) IS NOT NULL"
                ),
                {"source": source, "hash": file_hash, "class": RUN_LOCK_CLASS},
            ).scalar_one()
            return cls(db, run_id, lock_on, owned=False)
        conn = db.engine.connect()
        try:
            conn.execute(sa.text(_KEEPALIVES))
            run_id = conn.execute(
                sa.text(
                    "INSERT INTO scrape_runs (kind, source, file_hash, status) "
                    "VALUES ('load', :source, :hash, 'running') RETURNING id"
                ),
                {"source": source, "hash": file_hash},
            ).scalar_one()
            conn.execute(
                sa.text("SELECT pg_advisory_lock(:class, :key)"),
                {"class": RUN_LOCK_CLASS, "key": run_lock_key(run_id)},
            )
            conn.commit()
        except BaseException:
            conn.invalidate()  # a session lock may be held: never back into the pool
            conn.close()
            raise
        return cls(db, run_id, conn)

    def finish(
        self,
        cursor: Any,
        *,
        rows_read: int,
        rows_loaded: int,
        rows_present: int,
        rows_rejected: int,
        details: dict[str, Any],
        errors: pl.DataFrame | None = None,
    ) -> None:
        """Mark the run ``succeeded`` and store its problems, with the load's ADBC
        ``cursor``: this commits with the load's data or not at all."""
        cursor.execute(
            "UPDATE scrape_runs SET status = 'succeeded', finished_at = now(), rows_read = $1, "
            "rows_loaded = $2, rows_present = $3, rows_rejected = $4, details = CAST($5 AS jsonb) "
            "WHERE id = $6",
            parameters=(
                rows_read,
                rows_loaded,
                rows_present,
                rows_rejected,
                json.dumps(details),
                self.id,
            ),
        )
        if errors is not None and errors.height:
            cursor.adbc_ingest("scrape_errors", self._error_rows(errors), mode="append")

    def fail(
        self,
        message: str,
        *,
        rows_rejected: int = 0,
        details: dict[str, Any] | None = None,
        errors: pl.DataFrame | None = None,
    ) -> None:
        """Mark the run ``failed`` with ``message`` and store its problems.

        Best effort: when the database cannot be reached the run stays ``running``
        until :func:`close_abandoned_runs` finds it.
        """
        try:
            with self.db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE scrape_runs SET status = 'failed', finished_at = now(), "
                        "rows_rejected = :rejected, details = CAST(:details AS jsonb) "
                        "WHERE id = :id"
                    ),
                    {
                        "id": self.id,
                        "rejected": rows_rejected,
                        "details": json.dumps({"error": message[:4000], **(details or {})}),
                    },
                )
                if errors is not None and errors.height:
                    rows = self._error_rows(errors).to_pylist()
                    conn.execute(
                        sa.text(
                            "INSERT INTO scrape_errors (run_id, row_number, column_name, value, "
                            "message) VALUES (:run_id, :row_number, :column_name, :value, "
                            ":message)"
                        ),
                        rows,
                    )
        except Exception:  # the original error matters more than the lineage record
            log.debug("could not mark run %s failed", self.id, exc_info=True)

    def close(self) -> None:
        """Release the run's lock and its connection (not one given as ``lock_on``)."""
        if self._conn is None or not self._owned:
            return
        conn, self._conn = self._conn, None
        try:
            conn.execute(
                sa.text("SELECT pg_advisory_unlock(:class, :key)"),
                {"class": RUN_LOCK_CLASS, "key": run_lock_key(self.id)},
            )
            conn.commit()
        except Exception:  # the session is gone (and its lock with it)
            conn.invalidate()
        finally:
            conn.close()

    def _error_rows(self, errors: pl.DataFrame) -> pa.Table:
        import polars as pl
        import pyarrow as pa

        schema = pa.schema(
            [
                ("run_id", pa.int64()),
                ("row_number", pa.int64()),
                ("column_name", pa.string()),
                ("value", pa.string()),
                ("message", pa.string()),
            ]
        )
        table = errors.head(MAX_STORED_ERRORS).select(
            pl.lit(self.id, dtype=pl.Int64).alias("run_id"),
            pl.col("row").cast(pl.Int64).alias("row_number"),
            pl.col("column").alias("column_name"),
            pl.col("value"),
            pl.col("reason").fill_null("").alias("message"),
        )
        return table.to_arrow().cast(schema)


def recent_runs(
    db: Database, *, limit: int, kind: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The most recent runs, newest first, as dicts (the columns of
    :data:`oddskit.queries_quality.LOAD_RUNS_SCHEMA`; arguments already checked): what
    :func:`oddskit.queries_quality.fetch_load_runs` returns as a frame, read without
    Polars or ADBC, for a command line that answers at once.

    Example:
        >>> [run["source"] for run in recent_runs(db, limit=1, kind="load")]
        ['polars.DataFrame']
    """
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(_RECENT_RUNS), {"kind": kind, "status": status, "limit": limit}
            )
            return [dict(row._mapping) for row in rows]
    except sa.exc.DBAPIError as exc:
        raise db.error("Fetching runs failed", exc) from None


def close_abandoned_runs(db: Database) -> list[int]:
    """Mark ``failed`` every ``running`` load whose loader is gone; return their ids.

    A running loader holds its run's advisory lock; a lock that can be taken belongs
    to a loader that was killed, or whose session the server ended. A role that may
    not update ``scrape_runs`` (a read-only analyst, a standby) changes nothing.

    Example:
        >>> close_abandoned_runs(db)  # doctest: +SKIP
        [12]
    """
    try:
        with db.engine.begin() as conn:
            closed = conn.execute(
                sa.text(
                    "UPDATE scrape_runs SET status = 'failed', finished_at = now(), "
                    "details = coalesce(details, '{}'::jsonb) "
                    "|| jsonb_build_object('error', CAST(:reason AS text), 'abandoned', true) "
                    "WHERE kind = 'load' AND status = 'running' "
                    "AND pg_try_advisory_xact_lock(:class, CAST(id % 2147483647 AS integer)) "
                    "RETURNING id"
                ),
                {"reason": ABANDONED, "class": RUN_LOCK_CLASS},
            )
            ids = sorted(closed.scalars())
    except sa.exc.DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None)
        if state in _CANNOT_WRITE:
            return []
        if state == "42P01":  # undefined table
            raise ConfigurationError(
                f"{db.masked_url} has no oddskit schema. Run `oddskit migrate` first."
            ) from None
        raise db.error("Checking for abandoned loads failed", exc) from None
    if ids:
        log.warning("marked abandoned load runs failed: %s", ids)
    return ids
