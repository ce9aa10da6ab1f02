"""The Parquet archive: days leaving the live tables are kept as verified Parquet files.

Before retention drops a day, :func:`oddskit.partitions.maintain` archives its prices
here: one Parquet file per UTC day under the archive root of the policy (see
:mod:`oddskit.archive_files` for the layout), denormalised for analysis (event, match
key, teams, tournament, kickoff, bookmaker, captured_at, market, line, outcome, odds).
The ``archives`` table (migration 0006) is the catalogue: a day's row names its file,
rows, bytes and checksum, and is written only after the file was verified. The query
helpers read a day from its file exactly when the catalogue lists it, so a file that
is not (yet) in the catalogue is never read twice with the live partition.

The protocol for one day, each step safe to interrupt (a kill between any two leaves
the partition, or a verified and recorded file, and the next run converges):

1. under a per-day advisory lock, read the day's prices, their row count and their
   checksum in one snapshot of the database (``REPEATABLE READ``);
2. merge them with the day's archived rows, if any (archived rows win a tie on the
   natural key, as the loader's first write wins), write a temporary file, read it
   back and verify row count, checksum and that every price of the partition is in it;
3. rename it over the day's file; record it in ``archives``;
4. drop the day's partitions in a short, lock-budgeted transaction that first locks
   the price partition and checks that it still holds the rows that were archived.

:func:`write_archive` is the same writer for rows that never were live (a loader
writing history straight to the archive); :func:`archive_day` archives a live day on
demand without dropping it; :func:`list_archives` lists the catalogue;
:func:`oddskit.queries_archive.scan_archive` (``oddskit.scan_archive``) reads it lazily
with Polars.

Example:
    >>> frame = list_archives(db)
    >>> frame.columns
    ['day', 'rows', 'bytes', 'bytes_per_row', 'location', 'archived_at']
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from oddskit.archive_files import (
    ARCHIVE_SCHEMA,
    PRICE_KEY,
    ArchiveError,
    ArchiveRoot,
    WrittenFile,
    conform,
    default_root,
    price_checksum,
    read_day_file,
    remove_leftovers,
    stop_after,
    write_day_file,
)
from oddskit.archive_live import read_live_day
from oddskit.connection import Database
from oddskit.days import midnight, utc_day
from oddskit.errors import ConfigurationError, OddskitError
from oddskit.query_builder import Query, run_query

__all__ = [
    "ARCHIVE_SCHEMA",
    "ArchiveError",
    "ArchivedDay",
    "archive_day",
    "list_archives",
    "policy_root",
    "write_archive",
]

log = logging.getLogger(__name__)

#: First key of the per-day advisory lock (``pg_advisory_lock(key, day ordinal)``).
ARCHIVE_LOCK_KEY = 0x0DD5_A2C


@dataclass(frozen=True)
class ArchivedDay:
    """One day in the catalogue: its file and what was verified about it.

    ``live_rows`` and ``live_checksum`` describe the live partition the last archiving
    of the day copied (zero rows for days written straight to the archive): retention
    drops the partition only while it still holds that many rows.
    """

    day: date
    root: str
    path: str
    rows: int
    bytes: int
    checksum: str
    live_rows: int
    live_checksum: str | None
    archived_at: datetime

    @property
    def location(self) -> str:
        """The file's full path or URL."""
        return ArchiveRoot(self.root).file_url(self.path)


def policy_root(value: str | None) -> ArchiveRoot | None:
    """The archive root a policy value names (``None``: archiving is off).

    Example:
        >>> policy_root(None) is None
        True
        >>> policy_root("s3://odds/archive").url
        's3://odds/archive'
    """
    if value is None:
        return None
    return ArchiveRoot.of(default_root() if value == "default" else value)


# --- the catalogue --------------------------------------------------------------------------

_CATALOGUE_SCHEMA = pl.Schema(
    {
        "day": pl.Date,
        "root": pl.String,
        "path": pl.String,
        "rows": pl.Int64,
        "bytes": pl.Int64,
        "checksum": pl.String,
        "live_rows": pl.Int64,
        "live_checksum": pl.String,
        "archived_at": pl.Datetime("us", "UTC"),
    }
)

_RECORD_COLUMNS = "day, root, path, rows, bytes, checksum, live_rows, live_checksum, archived_at"


def _records(conn: sa.Connection, days: Iterable[date] | None = None) -> dict[date, ArchivedDay]:
    sql = f"SELECT {_RECORD_COLUMNS} FROM archives"  # noqa: S608 (constant columns)
    if days is None:
        rows = conn.execute(sa.text(sql + " ORDER BY day")).all()
    else:
        rows = conn.execute(
            sa.text(sql + " WHERE day = ANY(:days) ORDER BY day"), {"days": list(days)}
        ).all()
    return {row.day: ArchivedDay(*row) for row in rows}


def archived_days(
    db: Database, since: datetime | None = None, until: datetime | None = None
) -> list[ArchivedDay]:
    """The catalogue's days that hold rows captured in ``[since, until)``, oldest first.

    Read on the query helpers' shared ADBC connection (a few rows per call).
    """
    q = Query()
    q.add(f"SELECT {_RECORD_COLUMNS} FROM archives WHERE rows > 0")  # noqa: S608
    if since is not None:
        first = midnight(utc_day(since))
        q.add(f"  AND day >= CAST({q.bind(first, 'timestamptz')} AS date)")
    if until is not None:
        after = midnight(utc_day(until - timedelta(microseconds=1)) + timedelta(days=1))
        q.add(f"  AND day < CAST({q.bind(after, 'timestamptz')} AS date)")
    q.add("ORDER BY day")
    frame = run_query(db, q, _CATALOGUE_SCHEMA, "Reading the archive catalogue")
    return [ArchivedDay(*row) for row in frame.rows()]


def list_archives(db: Database) -> pl.DataFrame:
    """Every archived day: rows, bytes on storage, bytes per row, where, and when.

    Example:
        >>> list_archives(db).schema["bytes_per_row"]
        Float64
    """
    records = archived_days(db)
    return pl.DataFrame(
        {
            "day": [r.day for r in records],
            "rows": [r.rows for r in records],
            "bytes": [r.bytes for r in records],
            "bytes_per_row": [r.bytes / r.rows if r.rows else None for r in records],
            "location": [r.location for r in records],
            "archived_at": [r.archived_at for r in records],
        },
        schema={
            "day": pl.Date,
            "rows": pl.Int64,
            "bytes": pl.Int64,
            "bytes_per_row": pl.Float64,
            "location": pl.String,
            "archived_at": pl.Datetime("us", "UTC"),
        },
    )


def _record(
    conn: sa.Connection, day: date, written: WrittenFile, live_rows: int, live_checksum: str | None
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO archives (day, root, path, rows, bytes, checksum, live_rows, "
            "live_checksum, archived_at) VALUES (:day, :root, :path, :rows, :bytes, :checksum, "
            ":live_rows, :live_checksum, now()) ON CONFLICT (day) DO UPDATE SET "
            "root = EXCLUDED.root, path = EXCLUDED.path, rows = EXCLUDED.rows, "
            "bytes = EXCLUDED.bytes, checksum = EXCLUDED.checksum, "
            "live_rows = EXCLUDED.live_rows, live_checksum = EXCLUDED.live_checksum, "
            "archived_at = EXCLUDED.archived_at"
        ),
        {
            "day": day,
            "root": written.root,
            "path": written.path,
            "rows": written.rows,
            "bytes": written.bytes,
            "checksum": written.checksum,
            "live_rows": live_rows,
            "live_checksum": live_checksum,
        },
    )


@contextmanager
def day_lock(db: Database, day: date) -> Iterator[sa.Connection]:
    """Hold the advisory lock of ``day`` (one archiver per day; released if killed).

    Yields the locking connection (``AUTOCOMMIT``: each statement commits on its own).
    """
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(
            sa.text("SELECT pg_advisory_lock(:key, :day)"),
            {"key": ARCHIVE_LOCK_KEY, "day": day.toordinal()},
        )
        try:
            yield conn
        finally:  # a broken connection took the lock with it
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:key, :day)"),
                    {"key": ARCHIVE_LOCK_KEY, "day": day.toordinal()},
                )


# --- writing --------------------------------------------------------------------------------


def _read_archived(root: ArchiveRoot, day: date, record: ArchivedDay) -> pl.DataFrame:
    """The day's archived rows, checked against the checksum recorded for them."""
    old = read_day_file(ArchiveRoot(record.root), record.path)
    if price_checksum(old) != record.checksum:
        raise ArchiveError(
            f"the archive file of {day} ({record.location}) does not match its recorded "
            f"checksum {record.checksum}: it was changed or damaged outside oddskit. Nothing "
            "was dropped. Restore the file, or delete its row from the archives table to "
            "archive the day afresh from what is still live."
        )
    return old


def _merge(
    root: ArchiveRoot, day: date, record: ArchivedDay | None, new: pl.DataFrame, *, dedupe: bool
) -> pl.DataFrame:
    """``new`` rows added to the day's archived rows (archived rows win a tie on the key);
    ``dedupe=False`` for rows known to be unique (a partition's, by its unique index)."""
    if record is None or record.rows == 0:
        return new.unique(PRICE_KEY, keep="first", maintain_order=True) if dedupe else new
    old = _read_archived(root, day, record)
    return pl.concat([old, new]).unique(PRICE_KEY, keep="first", maintain_order=True)


def _contains(day: date, required: pl.DataFrame):
    """A check for :func:`write_day_file`: every row of ``required`` is in the file."""

    def check(back: pl.DataFrame) -> None:
        missing = required.join(back, on=list(PRICE_KEY), how="anti", nulls_equal=True).height
        if missing:
            raise ArchiveError(
                f"the archive file of {day} failed verification: {missing:,} prices of the "
                "partition are not in it"
            )

    return check


def archive_live_day(db: Database, day: date, root: ArchiveRoot) -> ArchivedDay | None:
    """Archive the live prices of ``day`` (merged into its file); hold :func:`day_lock`.

    Returns the day's catalogue entry, or ``None`` when the day has no live prices
    (nothing to archive). A day whose partition is unchanged since its last archiving
    is not written again.
    """
    with db.engine.connect() as conn:
        record = _records(conn, [day]).get(day)
    frame, live_checksum, count = read_live_day(db, day)
    if count == 0:
        return None
    if count != frame.height:
        raise ArchiveError(
            f"{count - frame.height:,} prices of {day} have no snapshot, event, tournament, "
            "sport or bookmaker to go with them and would be lost: nothing was archived or "
            "dropped. Prices whose snapshot is missing have no snapshot_id in odds_snapshots "
            "with the same captured_at."
        )
    if price_checksum(frame) != live_checksum:
        raise ArchiveError(
            f"the prices of {day} read for the archive do not match the partition's checksum "
            f"{live_checksum}: nothing was archived or dropped"
        )
    if record is not None and record.live_checksum == live_checksum and _file_exists(record):
        return record  # archived before, unchanged since (e.g. the drop was interrupted)
    remove_leftovers(root, day)
    merged = _merge(root, day, record, frame, dedupe=False)
    # Unmerged, the file's checksum is the partition's; merged, check the rows one by one.
    check = _contains(day, frame) if record is not None else None
    written = write_day_file(root, day, merged, check=check)
    with db.engine.begin() as conn:
        _record(conn, day, written, frame.height, live_checksum)
    _forget_old_file(record, written)
    stop_after("recorded")
    with db.engine.connect() as conn:
        return _records(conn, [day])[day]


def _file_exists(record: ArchivedDay) -> bool:
    import pyarrow.fs as pafs

    fs, base = ArchiveRoot(record.root).filesystem()
    return fs.get_file_info(f"{base}/{record.path}").type == pafs.FileType.File


def _forget_old_file(record: ArchivedDay | None, written: WrittenFile) -> None:
    """Delete the day's previous file when it moved to another root (best effort)."""
    if record is None or (record.root, record.path) == (written.root, written.path):
        return
    try:
        fs, base = ArchiveRoot(record.root).filesystem()
        fs.delete_file(f"{base}/{record.path}")
    except (OSError, pa.ArrowException, ArchiveError):
        log.warning("could not delete the previous archive file %s", record.location)


def archive_day(db: Database, day: date, *, root: str | Path | None = None) -> ArchivedDay | None:
    """Archive one live day now, without dropping it (retention still drops it later).

    ``root`` defaults to the policy's archive root. Returns the day's catalogue entry,
    or ``None`` when the day holds no prices. Running it again after more prices of
    the day were loaded adds them to the day's file.

    Example:
        >>> from datetime import date
        >>> record = archive_day(db, date(2026, 11, 28))  # doctest: +SKIP
        >>> record.rows, record.location  # doctest: +SKIP
        (20466, '/home/ana/.local/share/oddskit/archive/day=2026-11-28/part-0.parquet')
    """
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ConfigurationError(f"`day` must be a date such as date(2026, 10, 2), got {day!r}")
    target = target_root(db, root)
    with day_lock(db, day):
        return archive_live_day(db, day, target)


def target_root(db: Database, root: str | Path | None) -> ArchiveRoot:
    if root is not None:
        return ArchiveRoot.of(root)
    from oddskit.partitions import get_policy

    chosen = policy_root(get_policy(db).archive)
    if chosen is None:
        raise ConfigurationError(
            "archiving is off in the policy: pass `root=`, or turn it on with "
            "`oddskit policy --archive default` (or a folder or URL)"
        )
    return chosen


def write_archive(
    db: Database, frame: pl.DataFrame | pl.LazyFrame, *, root: str | Path | None = None
) -> list[ArchivedDay]:
    """Merge rows (the columns of :data:`ARCHIVE_SCHEMA`) into the archive, day by day.

    For rows that go to the archive without passing through the live tables (history
    loaded straight to the archive): the caller has validated them and resolved their
    events (``event_id``). Rows already archived (same natural key) are kept as they
    are. Each day's file is written to a temporary name, verified and recorded as in
    retention (a day that gains no row is left as it is); returns the catalogue entries
    of the days given.

    Example:
        >>> rows = oddskit.scan_archive(db).drop("day").collect()  # doctest: +SKIP
        >>> [r.day for r in write_archive(db, rows)]  # doctest: +SKIP
        [datetime.date(2026, 11, 28)]
    """
    data = conform(frame.lazy().collect(), "the rows to archive")
    target = target_root(db, root)
    days = []
    for (day,), rows in sorted(
        data.with_columns(_day=pl.col("captured_at").dt.date())
        .partition_by("_day", as_dict=True)
        .items()
    ):
        merge_day(db, target, day, rows.drop("_day").with_columns(**{TAG: pl.lit(0, pl.Int32)}))
        days.append(day)
    with db.engine.connect() as conn:
        records = _records(conn, days)
    return [records[day] for day in days]


#: The column that tags rows given to :func:`merge_day` (e.g. with the source they
#: came from): the day's archived rows are tagged -1.
TAG = "_tag"


def merge_day(db: Database, root: ArchiveRoot, day: date, rows: pl.DataFrame) -> dict[int, int]:
    """Merge one day's ``rows`` (archive columns and :data:`TAG`) into its file.

    Under the day's lock: the archived rows are read and checked against their
    recorded checksum, the new rows added (archived rows, then rows of a lower row
    number, win a tie on the natural key), the file written to a temporary name,
    verified (with every given row in it) and recorded. A day that gains no row is
    not written again. Returns how many rows of each tag were new.
    """
    with day_lock(db, day) as conn:
        record = _records(conn, [day]).get(day)
        remove_leftovers(root, day)
        given = conform(rows, f"the rows of {day}")
        tagged = given.with_columns(rows[TAG].cast(pl.Int32))
        if record is not None and record.rows:
            old = _read_archived(root, day, record)
            tagged = pl.concat([old.with_columns(**{TAG: pl.lit(-1, pl.Int32)}), tagged])
        merged = tagged.unique(PRICE_KEY, keep="first", maintain_order=True)
        counts = merged.filter(pl.col(TAG) >= 0).group_by(TAG).len()
        new = {int(tag): int(n) for tag, n in counts.iter_rows()}
        if record is not None and not new and _file_exists(record):
            return new  # nothing new: the verified file stays as it is
        # A file of new rows only is proven by its checksum; a merged one, row by row.
        check = _contains(day, given) if record and record.rows else None
        result = write_day_file(root, day, merged.drop(TAG), check=check)
        live_rows = record.live_rows if record else 0
        _record(conn, day, result, live_rows, record.live_checksum if record else None)
        _forget_old_file(record, result)
    return new


def check_before_drop(conn: sa.Connection, partition: str, day: date) -> None:
    """Raise unless the price partition of ``day`` holds exactly the rows last archived
    (or none).

    Runs in the dropping transaction, after locking the partition, so no row can
    arrive between the check and the drop.
    """
    from psycopg import sql

    from oddskit.backends import current_schema

    name = sql.Identifier(current_schema(conn), partition)
    raw = conn.connection.driver_connection
    conn.exec_driver_sql(
        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(name).as_string(raw)
    )
    rows = conn.exec_driver_sql(
        sql.SQL("SELECT count(*) FROM ONLY {}").format(name).as_string(raw)
    ).scalar_one()
    record = _records(conn, [day]).get(day)
    archived = record.live_rows if record else 0
    if rows and rows != archived:  # an empty partition loses nothing
        raise ArchiveError(
            f"{partition} holds {rows:,} prices but {archived:,} were archived: it changed "
            "since it was archived, so it was not dropped (the next maintenance archives "
            "it again)"
        )


def retire_days(
    db: Database,
    expired: list[tuple[str, str, datetime]],
    archive: str,
    *,
    in_batches: Callable[[list[Any], Callable[[sa.Connection, Any], None]], int],
    drop: Callable[[sa.Connection, str], None],
) -> tuple[list[date], str | None, int]:
    """Retention with the archive on: day by day, oldest first, archive the day's prices
    (written, verified, recorded), then drop its ``expired`` partitions (parent, name,
    upper bound) in ``in_batches`` transactions, the prices' partition after
    :func:`check_before_drop`.

    Returns the days archived, why retention stopped early (a day that could not be
    archived stays live, and so do the later ones), and the transactions spent.
    """
    root = policy_root(archive)
    assert root is not None
    archived, transactions = [], 0
    days: dict[date, list[tuple[str, str]]] = {}
    for parent, name, upper in expired:
        days.setdefault(utc_day(upper - timedelta(microseconds=1)), []).append((parent, name))
    for day, partitions in days.items():

        def step(conn: sa.Connection, item: tuple[str, str], day: date = day) -> None:
            parent, name = item
            if parent == "market_odds" and _exists(conn, name):
                check_before_drop(conn, name, day)
            drop(conn, name)

        try:
            with day_lock(db, day):
                record = archive_live_day(db, day, root)
                transactions += in_batches(partitions, step)
        except (OddskitError, sa.exc.SQLAlchemyError) as exc:
            stopped = f"Retention stopped at {day}, which stays live: {db.mask(str(exc))}"
            return archived, stopped, transactions
        stop_after("dropped")
        if record is not None:
            archived.append(day)
    return archived, None, transactions


def _exists(conn: sa.Connection, name: str) -> bool:
    from oddskit.backends import current_schema

    found = conn.execute(
        sa.text("SELECT to_regclass(:name)"), {"name": f"{current_schema(conn)}.{name}"}
    ).scalar_one()
    return found is not None
