"""Loading one source in one transaction: one path for each ``on_error`` mode.

A source (a file, or an Arrow/Polars object) is loaded on one ADBC connection in one
transaction, so it is loaded whole or not at all; a killed loader leaves nothing of
it behind. It is read in bounded batches; :class:`~oddskit.checker.SourceChecker`
checks them (every input rule; no database), and a
:class:`~oddskit.load_writer.LoadWriter` writes what passed
(:mod:`oddskit.load_sql`: dimensions and snapshots set-based, prices by binary COPY
straight into ``market_odds``).

* ``on_error="raise"`` (the default) — **one pass**. Any problem refuses the whole
  source, so each batch is written as soon as it has been checked, while worker
  threads read and check the next ones: the client's checking overlaps the server's
  writing. At the first problem of any kind the transaction is rolled back and the
  loader stops writing, but it checks on to the end, so the refusal lists every
  problem without reading the source again. The source's time span is read first
  (only ``captured_at``) so that its partitions exist before the transaction starts
  (a refused source can leave empty daily partitions behind; retention drops them).
* ``on_error="skip"`` — **check, then write**. Every batch is checked once: bad
  rows go to the rejects file, the prices of the good ones to a temporary Arrow IPC
  file (the source is not read or parsed twice); the snapshots and dimensions are
  then resolved once, and the spooled prices of the new snapshots written. Bookmaker
  events that contradict themselves within the source or what the database holds
  are left out whole; their rows are read again from the source (only then) to be
  written to the rejects file as they were given.

A file loaded before (same SHA-256, all its snapshots still stored) is recognised
from its snapshot keys alone and reported as already present.

Idempotency is decided per snapshot: a snapshot that is already stored keeps the
prices it was stored with. Every load is recorded in ``scrape_runs`` (kind
``'load'``; :mod:`oddskit.runs`); rejected rows go to rejects files that never replace
anything (:mod:`oddskit.rejects`); the counts are kept by one
:class:`~oddskit.load_tally.LoadTally`. A failure of the database driver reaches the
caller as a :class:`~oddskit.errors.DatabaseError`.

Where changes go: a new optional input column is one line of
:data:`~oddskit.validation.INPUT_COLUMNS`; which stored match a bookmaker event is,
one SQL step (:func:`~oddskit.load_sql.link_events`); tables kept in step with the
snapshots and prices a load writes, :class:`~oddskit.load_writer.LoadWriter`; another
target for the checked rows, another writer (checking never writes).

Example:
    >>> from oddskit.sources import Source
    >>> frame = Source("polars.DataFrame", "polars", obj=pl.DataFrame({"odds": [2.0]}))
    >>> load_source(Database("postgresql://nobody@127.0.0.1:9/nowhere"), frame)
    Traceback (most recent call last):
    ...
    oddskit.errors.DatabaseError: polars.DataFrame was not loaded (nothing from it was ...
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from oddskit.checker import (
    EVENT_KEY,
    SourceChecker,
)
from oddskit.connection import Database
from oddskit.errors import OddskitError
from oddskit.load_archive import ArchiveStage, load_to_archive
from oddskit.load_sql import (
    PREVIOUS_LOAD,
    analyze_snapshots,
    count_stored_snapshots,
    lock_for_load,
    with_snapshot_ids,
)
from oddskit.load_steps import (
    DRIVER_ERRORS,
    LoadInput,
    check_to_spool,
    checked_batches,
    database_error,
    no_rows_error,
    prefetch,
    progress_bar,
    reject_events,
)
from oddskit.load_tally import LoadResult, LoadTally
from oddskit.load_writer import LoadWriter, PriceSpool, price_spool
from oddskit.markets import HandicapLines
from oddskit.partitions import ensure_days, get_policy
from oddskit.rejects import RejectsFile
from oddskit.runs import RunRecord
from oddskit.sources import (
    DEFAULT_BATCH_ROWS,
    Source,
    read_header,
    replayable,
    total_rows,
)
from oddskit.validation import (
    FUTURE_TOLERANCE,
    INPUT_COLUMNS,
    SNAPSHOT_KEY,
    check_header,
    parse_snapshot_keys,
    parse_timestamps,
)

OnError = Literal["raise", "skip"]
#: Where a load writes: the live tables, or straight to the Parquet archive.
Destination = Literal["live", "archive"]


def load_source(
    db: Database,
    source: Source,
    *,
    on_error: OnError = "raise",
    rejects_path: Path | None = None,
    delimiter: str = ",",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool = False,
    handicap_lines: HandicapLines = "auto",
    to: Destination = "live",
    stage: ArchiveStage | None = None,
) -> LoadResult | None:
    """Load one source in one transaction (see the module for the two modes).

    Parameters
    ----------
    db
        A migrated database.
    source
        One file or in-memory object (:func:`oddskit.sources.resolve_sources`).
    on_error
        ``"raise"``: refuse the source at any problem, listing every one;
        ``"skip"``: load the good rows, write the others to ``rejects_path``.
    rejects_path
        Where the rejected rows go with ``"skip"`` (the first free name from it,
        see :mod:`oddskit.rejects`).
    delimiter, batch_rows
        CSV field delimiter; rows read at a time.
    progress
        Show a progress bar on the terminal.
    handicap_lines
        How the input writes Asian-handicap lines (see :func:`oddskit.load`).
    to
        ``"live"``: the live tables; ``"archive"``: straight to the Parquet archive
        (:mod:`oddskit.load_archive`; the retention window does not apply).
    stage
        With ``to="archive"``: an :class:`~oddskit.load_archive.ArchiveStage` where the
        source's prices wait to be written with those of other sources (each day file
        once); ``None`` is then returned and ``stage.write()`` gives the result.

    Returns
    -------
    LoadResult

    Raises
    ------
    ValidationError
        A source with problems (``"raise"``), or that cannot be read.
    RejectsError
        The rejected rows could not be written (nothing was committed).
    DatabaseError
        The database failed (nothing was committed, or: the commit itself failed).

    Examples
    --------
    See the module; :func:`oddskit.load` is the function for users.
    """
    tally = LoadTally()
    try:
        retention_days = get_policy(db).retention_days
        file_hash = source.file_hash()
        lock_on = stage.connection() if stage is not None and to == "archive" else None
        run = RunRecord.start(db, source=source.name, file_hash=file_hash, lock_on=lock_on)
    except DRIVER_ERRORS as exc:
        raise database_error(db, source.name, exc) from None
    rejects: RejectsFile | None = None
    try:
        header = read_header(source, delimiter=delimiter)
        check_header(header, source=source.name)
        columns = [name for name in header if name in INPUT_COLUMNS]
        if on_error == "skip" and rejects_path is not None:
            rejects = RejectsFile(rejects_path, ["row", *columns, "reason"], source.name)
        with replayable(source) as readable:
            job = LoadInput(readable, columns, batch_rows, delimiter)
            if to == "live":
                reloaded = _reload_shortcut(db, job, tally, run, file_hash, on_error)
                if reloaded is not None:
                    return reloaded
            checker = SourceChecker(
                now=datetime.now(UTC),
                retention_days=retention_days if to == "live" else None,
                handicap_lines=handicap_lines,
            )
            tally.vocabulary = checker.vocabulary
            if to == "archive":
                return load_to_archive(
                    db,
                    job,
                    checker,
                    tally,
                    run,
                    on_error=on_error,
                    rejects=rejects,
                    progress=progress,
                    stage=stage,
                )
            if on_error == "raise":
                return _load_raising(db, job, checker, tally, run, progress)
            return _load_skipping(db, job, checker, tally, run, rejects, progress)
    except BaseException as exc:
        if rejects is not None:
            rejects.discard()  # (a commit that may have happened kept its rejects)
        error = database_error(db, source.name, exc) if isinstance(exc, DRIVER_ERRORS) else exc
        message = str(error)
        if not isinstance(error, OddskitError):
            message = f"{type(error).__name__}: {error}"
        run.fail(
            db.mask(message),  # lineage rows never hold a password
            rows_rejected=tally.rows_rejected,
            details=tally.failure_details(),
            errors=tally.stored_errors(),
        )
        if error is not exc:
            raise error from None
        raise
    finally:
        run.close()


# -- on_error="raise": one pass -----------------------------------------------------------


def _load_raising(
    db: Database,
    job: LoadInput,
    checker: SourceChecker,
    tally: LoadTally,
    run: RunRecord,
    progress: bool,
) -> LoadResult:
    """Check and write each batch in turn; at the first problem roll back and only
    check on (the partitions for the days of the source's rows are made first: the load's
    transaction must not create them, it would hold the parents' locks for the whole
    load)."""
    tally.partitions_created = tuple(ensure_days(db, _captured_days(job, checker)))
    tally.lap("partitions")
    with db.adbc() as conn:
        cursor = conn.cursor()
        lock_for_load(cursor)
        tally.lap("wait for other loaders")
        writer: LoadWriter | None = _writer(cursor, run, job, tally)
        with (
            ThreadPoolExecutor(max_workers=1) as preparer,
            progress_bar(progress, "loading", total_rows(job.source)) as advance,
        ):
            # A batch's prices are joined to their snapshot ids in another thread while
            # the server resolves the next batch: they are COPYed one batch late.
            waiting: Future[pa.Table] | None = None
            for _, checked in checked_batches(job, checker, keep_raw=False):
                tally.count(checked)
                if writer is not None and checked.clean and checked.new_snapshots.height:
                    writer.snapshots(checked.new_snapshots, drop_conflicts=False, analyze=False)
                if writer is not None and tally.problems:
                    conn.rollback()  # nothing of it will be committed: free the locks now
                    writer = waiting = None
                if writer is not None:
                    ready, waiting = waiting, writer.prepare(preparer, checked.prices)
                    if ready is not None:
                        writer.prices(ready.result())
                advance(checked.rows)
            if writer is not None and waiting is not None:
                writer.prices(waiting.result())
        tally.snapshots_seen = checker.snapshots_seen
        if tally.problems:
            raise tally.refusal(job.source.name)
        if tally.rows_read == 0:
            raise no_rows_error(job)
        assert writer is not None
        if writer.created.height:
            analyze_snapshots(cursor)
        tally.lap("check and write")
        writer.finish()
        tally.lap("current odds")
        return _commit(db, conn, cursor, run, tally, job.source.name, rejects=None)


def _captured_days(job: LoadInput, checker: SourceChecker) -> list[date]:
    """The UTC days the source's ``captured_at`` values fall on (within retention and the
    future tolerance), reading only that column: the days that need a partition."""
    days = checker.retention_days
    earliest = checker.now - timedelta(days=days) if days else None
    latest = checker.now + FUTURE_TOLERANCE
    found: set[date] = set()
    for batch in job.batches(["captured_at"]):
        times = parse_timestamps(batch.frame["captured_at"]).drop_nulls()
        times = times.filter(times <= latest)
        if earliest is not None:
            times = times.filter(times >= earliest)
        found.update(times.dt.convert_time_zone("UTC").dt.date().unique().to_list())
    return sorted(found)


# -- on_error="skip": check, then write ---------------------------------------------------


def _load_skipping(
    db: Database,
    job: LoadInput,
    checker: SourceChecker,
    tally: LoadTally,
    run: RunRecord,
    rejects: RejectsFile | None,
    progress: bool,
) -> LoadResult:
    """Check every batch once (bad rows to the rejects, good prices to a spool file),
    resolve the snapshots once, write the spooled prices of the new ones."""
    with price_spool() as spool:
        snapshots = check_to_spool(job, checker, tally, rejects, spool, progress)
        tally.lap("check")
        if tally.rows_read == 0:
            raise no_rows_error(job)
        excluded = checker.conflicting_events
        kept = snapshots.join(excluded, on=EVENT_KEY, how="anti")
        if kept.height:
            days = kept["captured_at"].dt.convert_time_zone("UTC").dt.date().unique()
            tally.partitions_created = tuple(ensure_days(db, days.to_list()))
        tally.lap("partitions")
        with db.adbc() as conn:
            cursor = conn.cursor()
            writer = _writer(cursor, run, job, tally)
            if kept.height:
                lock_for_load(cursor)
                tally.lap("wait for other loaders")
                conflicts = writer.snapshots(kept, drop_conflicts=True, analyze=True)
                excluded = pl.concat([excluded, conflicts.select(EVENT_KEY)]).unique()
            tally.lap("dimensions and snapshots")
            tally.snapshots_excluded = snapshots.join(excluded, on=EVENT_KEY, how="semi").height
            left_out = pl.Series("row", [], dtype=pl.Int64)
            if writer.created.height or excluded.height:
                total = total_rows(job.source)
                left_out = _write_spooled(writer, spool, excluded, progress, total)
            if writer.created.height:
                analyze_snapshots(cursor)
            tally.lap("write prices")
            writer.finish()
            tally.lap("current odds")
            if left_out.len():
                reject_events(job, rejects, left_out)
                tally.rows_rejected += left_out.len()
            return _commit(db, conn, cursor, run, tally, job.source.name, rejects)


def _write_spooled(
    writer: LoadWriter, spool: PriceSpool, excluded: pl.DataFrame, progress: bool, total: int | None
) -> pl.Series:
    """Write the spooled prices of the new snapshots; return the row numbers of the
    ``excluded`` bookmaker events' rows (left out)."""
    left_out = [pl.Series("row", [], dtype=pl.Int64)]

    def prepare(prices: pl.DataFrame) -> tuple[int, pl.Series | None, pa.Table | None]:
        out = prices.join(excluded, on=EVENT_KEY, how="semi")["row"] if excluded.height else None
        table = with_snapshot_ids(prices, writer.created) if writer.created.height else None
        return prices.height, out, table

    with progress_bar(progress, "writing", total) as advance:
        # The next batch is prepared while the current one is COPYed.
        for rows, out, table in prefetch(prepare(b) for b in spool.read()):
            if table is not None:
                writer.prices(table)
            if out is not None:
                left_out.append(out)
            advance(rows)
    return pl.concat(left_out)


def _writer(cursor: Any, run: RunRecord, job: LoadInput, tally: LoadTally) -> LoadWriter:
    return LoadWriter(cursor, run.id, tally, source=job.source.name, batch_rows=job.batch_rows)


# -- committing ---------------------------------------------------------------------------


def _commit(
    db: Database,
    conn: Any,
    cursor: Any,
    run: RunRecord,
    tally: LoadTally,
    source: str,
    rejects: RejectsFile | None,
) -> LoadResult:
    """Move the rejects file into place, record the run and commit; the result."""
    if rejects is not None and (path := rejects.publish()) is not None:
        tally.rejects_path = path
    result = tally.result(source, run.id)
    run.finish(
        cursor,
        rows_read=result.rows_read,
        rows_loaded=result.rows_loaded,
        rows_present=result.rows_present,
        rows_rejected=result.rows_rejected,
        details=tally.run_details(result),
        errors=tally.stored_errors(),
    )
    if rejects is not None:
        rejects.keep()
    try:
        conn.commit()
    except DRIVER_ERRORS as exc:
        kept = rejects.path if rejects is not None else None
        raise database_error(db, source, exc, committing=True, kept=kept) from None
    return result


# -- a file loaded before -------------------------------------------------------------------


def _reload_shortcut(
    db: Database,
    job: LoadInput,
    tally: LoadTally,
    run: RunRecord,
    file_hash: str | None,
    on_error: OnError,
) -> LoadResult | None:
    """The same file (by SHA-256) loaded before and all of its snapshots still stored:
    report it as already present without checking every row again."""
    if job.source.path is None or not {*SNAPSHOT_KEY} <= set(job.columns):
        return None
    with db.engine.connect() as conn:
        previous = conn.execute(
            sa.text(PREVIOUS_LOAD), {"hash": file_hash, "source": job.source.name}
        ).one_or_none()
    if previous is None:
        return None
    previous_run, rows_read, rejected, rejects_path = previous
    if rejected and on_error == "raise":
        return None  # loaded before with rows left out: refuse it now, with every problem
    parts = [
        parse_snapshot_keys(batch.frame).drop_nulls().unique()
        for batch in job.batches(SNAPSHOT_KEY)
    ]
    keys = pl.concat(parts).unique() if parts else pl.DataFrame()
    with db.adbc() as conn, conn.cursor() as cursor:
        if count_stored_snapshots(cursor, keys) != keys.height:
            return None  # some snapshots are gone (retention) or new: load normally
        tally.lap("check snapshots")
        tally.rows_read, tally.rows_rejected = rows_read, rejected
        tally.snapshots_seen = keys.height
        tally.rejects_path = Path(rejects_path) if rejects_path else None
        tally.rejects_run_id = previous_run
        return _commit(db, conn, cursor, run, tally, job.source.name, rejects=None)
