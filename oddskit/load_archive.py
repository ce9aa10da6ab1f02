"""Loading straight to the archive: history checked like any load, written to Parquet.

``oddskit.load(..., to="archive")`` (CLI ``oddskit load --to archive``) puts old data
into the Parquet archive (:mod:`oddskit.archive`) without passing through the live
tables, so years of history never fill the database with daily partitions. The rows
pass the same checks as a live load (the retention window aside: the archive keeps
everything), and their listings are linked to matches the same way; then:

1. the matches, listings and match keys are committed, with the listings' capture
   bounds widened to the rows (the archive refers to them by ``event_id``, the query
   helpers read only the days within the bounds; a crash after this step leaves only
   matches without prices, and a rerun finds the same ids);
2. the prices, with their match described, are merged into the day files
   (:func:`oddskit.archive.write_archive`: temporary name, verified, recorded);
   prices already archived stay as they are, so loading again adds nothing;
3. the run is recorded as succeeded.

The same query helpers read the archive (``fetch_odds_history``, ``fetch_opening_odds``,
…), and :func:`oddskit.scan_archive` scans it lazily.

Example:
    >>> from oddskit.football_data import read_football_data
    >>> season = read_football_data("tests/data/football_data/E0_0506.csv")
    >>> report = oddskit.load(season, db=db, to="archive", progress=False)  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from oddskit.archive import archived_days, write_archive
from oddskit.archive_files import ARCHIVE_SCHEMA
from oddskit.checker import EVENT_KEY, SourceChecker
from oddskit.connection import Database
from oddskit.load_sql import (
    LOAD_LOCK_KEY,
    conflict_errors,
    resolve_snapshots,
    widen_capture_bounds,
)
from oddskit.load_steps import (
    DRIVER_ERRORS,
    LoadInput,
    check_to_spool,
    database_error,
    no_rows_error,
    reject_events,
)
from oddskit.load_tally import LoadResult, LoadTally
from oddskit.load_writer import price_spool
from oddskit.rejects import RejectsFile
from oddskit.runs import RunRecord


def load_to_archive(
    db: Database,
    job: LoadInput,
    checker: SourceChecker,
    tally: LoadTally,
    run: RunRecord,
    *,
    on_error: str,
    rejects: RejectsFile | None,
    progress: bool,
) -> LoadResult:
    """Check one source, link its listings, merge its prices into the archive.

    ``on_error="raise"`` refuses a source with any problem (nothing is written);
    ``"skip"`` archives the good rows and writes the others to ``rejects``.

    Example: see the module's.
    """
    tally.to = "archive"
    with price_spool() as spool:
        snapshots = check_to_spool(job, checker, tally, rejects, spool, progress)
        tally.lap("check")
        if tally.rows_read == 0:
            raise no_rows_error(job)
        if on_error == "raise" and tally.problems:
            raise tally.refusal(job.source.name)
        excluded = checker.conflicting_events
        kept = snapshots.join(excluded, on=EVENT_KEY, how="anti")
        listings = _link(db, kept, run, tally, on_error=on_error, source=job.source.name)
        if listings.height:
            excluded = pl.concat(
                [
                    excluded,
                    kept.select(EVENT_KEY)
                    .unique()
                    .join(
                        listings.select(
                            pl.col("input_bookmaker").alias("bookmaker"), "bookmaker_event_id"
                        ),
                        on=EVENT_KEY,
                        how="anti",
                    ),
                ]
            ).unique()
        tally.snapshots_excluded = snapshots.join(excluded, on=EVENT_KEY, how="semi").height
        tally.lap("matches")
        rows, left_out = _archive_rows(spool.read(), listings, excluded)
        tally.rows_loaded = _write(db, rows)
        snapshots_written = rows.select("bookmaker", "bookmaker_event_id", "captured_at")
        # (the archive keeps no snapshot ids: what was new is counted in prices)
        tally.snapshots_new = snapshots_written.unique().height if tally.rows_loaded else 0
        tally.snapshot_keys_created = tally.snapshots_new
        tally.lap("archive")
    if left_out.len():
        reject_events(job, rejects, left_out)
        tally.rows_rejected += left_out.len()
    return _finish(db, run, tally, job.source.name, rejects)


def _link(
    db: Database,
    kept: pl.DataFrame,
    run: RunRecord,
    tally: LoadTally,
    *,
    on_error: str,
    source: str,
) -> pl.DataFrame:
    """Resolve the listings' matches and commit them; each listing with its match."""
    if not kept.height:
        return pl.DataFrame()
    try:
        with db.adbc() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT pg_advisory_xact_lock($1)", parameters=(LOAD_LOCK_KEY,))
            resolution = resolve_snapshots(
                cursor,
                kept,
                run.id,
                drop_conflicts=on_error == "skip",
                analyze=True,
                insert_snapshots=False,
            )
            if resolution.conflicts.height:
                tally.record(conflict_errors(resolution.conflicts))
                if on_error == "raise":
                    raise tally.refusal(source)  # rolled back: nothing committed
            # Bounds cover the archived rows too (committed before the files are written:
            # a failure after this leaves them wider than the rows, which is allowed).
            widen_capture_bounds(cursor)
            tally.new_bookmakers += resolution.new_bookmakers
            tally.new_events += resolution.new_events
            tally.rescheduled_events += resolution.rescheduled_events
            tally.linked.update(resolution.linked)
            tally.kickoff_changes += resolution.kickoff_changes
            conn.commit()
    except DRIVER_ERRORS as exc:
        raise database_error(db, source, exc) from None
    return resolution.listings


def _archive_rows(
    batches: Any, listings: pl.DataFrame, excluded: pl.DataFrame
) -> tuple[pl.DataFrame, pl.Series]:
    """The spooled prices as archive rows, and the row numbers of excluded events."""
    parts = []
    left_out = [pl.Series("row", [], dtype=pl.Int64)]
    for prices in batches:
        if excluded.height:
            left_out.append(prices.join(excluded, on=EVENT_KEY, how="semi")["row"])
        if not listings.height:
            continue
        joined = prices.join(
            listings.rename({"bookmaker": "stored_bookmaker"}),
            left_on=["bookmaker", "bookmaker_event_id"],
            right_on=["input_bookmaker", "bookmaker_event_id"],
            how="inner",
        )
        parts.append(
            joined.with_columns(bookmaker=pl.col("stored_bookmaker")).select(list(ARCHIVE_SCHEMA))
        )
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=ARCHIVE_SCHEMA)
    return rows.cast(ARCHIVE_SCHEMA), pl.concat(left_out)  # type: ignore[arg-type]


def _write(db: Database, rows: pl.DataFrame) -> int:
    """Merge ``rows`` into the archive; how many of them were new there."""
    if not rows.height:
        return 0
    first, last = rows["captured_at"].min(), rows["captured_at"].max()
    span = archived_days(db, first, last + timedelta(microseconds=1))  # type: ignore[operator,arg-type]
    before = {record.day: record.rows for record in span}
    written = write_archive(db, rows)
    return sum(record.rows - before.get(record.day, 0) for record in written)


def _finish(
    db: Database, run: RunRecord, tally: LoadTally, source: str, rejects: RejectsFile | None
) -> LoadResult:
    """Publish the rejects, record the run as succeeded; the result."""
    if rejects is not None and (path := rejects.publish()) is not None:
        tally.rejects_path = path
    result = tally.result(source, run.id)
    try:
        with db.adbc() as conn:
            cursor = conn.cursor()
            run.finish(
                cursor,
                rows_read=result.rows_read,
                rows_loaded=result.rows_loaded,
                rows_present=result.rows_present,
                rows_rejected=result.rows_rejected,
                details={**tally.run_details(result), "to": "archive"},
                errors=tally.stored_errors(),
            )
            conn.commit()
    except DRIVER_ERRORS as exc:
        raise database_error(db, source, exc, committing=True) from None
    if rejects is not None:
        rejects.keep()
    return result
