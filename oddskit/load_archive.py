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

import contextlib
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from oddskit.archive import TAG, merge_day, target_root
from oddskit.archive_files import ARCHIVE_SCHEMA, ArchiveError
from oddskit.board_tables import advance_boards
from oddskit.checker import EVENT_KEY, SourceChecker
from oddskit.connection import Database
from oddskit.errors import OddskitError
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
    stage: ArchiveStage | None = None,
) -> LoadResult | None:
    """Check one source, link its listings, merge its prices into the archive.

    ``on_error="raise"`` refuses a source with any problem (nothing is written);
    ``"skip"`` archives the good rows and writes the others to ``rejects``. With a
    ``stage``, the prices wait there (``None`` is returned; :meth:`ArchiveStage.write`
    gives the result); without, the source's days are written at once.

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
    if left_out.len():
        reject_events(job, rejects, left_out)
        tally.rows_rejected += left_out.len()
    staged = _Staged(job.source.name, run, tally, rejects, rows)
    if stage is not None:
        stage.add(staged)
        return None
    with ArchiveStage(db) as own:  # one source: its days are written now
        own.add(staged)
        ((_, outcome),) = own.write()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


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
            # A rescheduled match's closing odds in the live tables are picked again.
            advance_boards(cursor, pl.DataFrame(), resolution.rescheduled_ids)
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


def _finish(
    db: Database,
    run: RunRecord,
    tally: LoadTally,
    source: str,
    rejects: RejectsFile | None,
    conn: Any,
) -> LoadResult:
    """Publish the rejects, record the run as succeeded on ADBC ``conn``; the result."""
    if rejects is not None and (path := rejects.publish()) is not None:
        tally.rejects_path = path
    result = tally.result(source, run.id)
    try:
        with conn.cursor() as cursor:
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


# -- several sources, each day written once -------------------------------------------------


@dataclass
class _Staged:
    """A source checked and linked, its archive rows waiting for the stage's write."""

    source: str
    run: RunRecord
    tally: LoadTally
    rejects: RejectsFile | None
    rows: pl.DataFrame
    seconds: float = 0.0  # its own checking and linking


class ArchiveStage:
    """The prices of several sources on their way to the archive, each day written once.

    Each source is checked and linked as it comes (its matches and listings are
    committed then); its archive rows wait on disk, in Arrow IPC files by month,
    tagged with the source. :meth:`write` then merges each day file once, a month of
    rows in memory at a time (earlier sources win a tie on the natural key, as when
    loaded one by one), counts each source's new rows and records each run as
    succeeded. Until then the stage's connection holds every waiting run's lock, so
    (:meth:`connection`, given to :meth:`oddskit.runs.RunRecord.start`), so no other
    loader takes them for abandoned; if the process dies, they are (their matches
    stay, their prices are not archived: loading again finishes them).

    Days are merged :data:`WRITE_THREADS` at a time, month after month. If writing a
    day fails, the days written by then stay written, verified and recorded (holding
    rows of any of the sources; ``oddskit archive`` lists them), the days of later
    months are not written, and every waiting source is reported ``failed`` (its run
    too) with the reason: its matches and listings are committed, its prices partly
    archived. Loading the same sources again adds what is missing (idempotent).

    Example:
        >>> with ArchiveStage(db) as stage:  # doctest: +SKIP
        ...     for frame in frames:
        ...         load_source(db, Source("f", "polars", obj=frame), to="archive", stage=stage)
        ...     outcomes = stage.write()
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._folder = tempfile.TemporaryDirectory(prefix="oddskit-archive-stage-")
        self._staged: list[_Staged] = []
        self._files = 0
        self._locks: sa.Connection | None = None

    def __enter__(self) -> ArchiveStage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._staged)

    def connection(self) -> sa.Connection:
        """The connection that holds the waiting runs' locks (``AUTOCOMMIT``)."""
        if self._locks is None:
            self._locks = self.db.engine.connect()
            self._locks.execution_options(isolation_level="AUTOCOMMIT")
        return self._locks

    def add(self, staged: _Staged) -> None:
        """Put a source's rows on disk, by month, to wait for :meth:`write`."""
        tag = len(self._staged)
        rows = staged.rows.with_columns(**{TAG: pl.lit(tag, pl.Int32)})
        month = pl.col("captured_at").dt.strftime("%Y-%m").alias("_month")
        for (name,), part in rows.with_columns(month).partition_by("_month", as_dict=True).items():
            folder = Path(self._folder.name) / str(name)
            folder.mkdir(exist_ok=True)
            part.drop("_month").write_ipc(folder / f"{self._files:08d}.arrow")
            self._files += 1
        staged.seconds = time.perf_counter() - staged.tally.started
        staged.tally.snapshot_keys_created = rows.select(SNAPSHOT_OF_ROW).n_unique()
        staged.rows = staged.rows.head(0)  # on disk now
        self._staged.append(staged)

    def write(self) -> list[tuple[str, LoadResult | OddskitError]]:
        """Merge every waiting row into its day file; each source's result or error."""
        started = time.perf_counter()
        new: Counter[int] = Counter()
        try:
            target = target_root(self.db, None)
            with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
                for month in sorted(Path(self._folder.name).iterdir()):
                    parts = [pl.read_ipc(f) for f in sorted(month.iterdir())]
                    rows = pl.concat(parts).with_columns(_day=pl.col("captured_at").dt.date())
                    days = sorted(rows.partition_by("_day", as_dict=True).items())
                    merging = [
                        pool.submit(merge_day, self.db, target, day, group.drop("_day"))
                        for (day,), group in days
                    ]
                    for future in merging:  # (the first failure stops the months after)
                        new.update(future.result())
        except (OddskitError, *DRIVER_ERRORS) as exc:
            return self._fail(exc)
        share = (time.perf_counter() - started) / max(1, len(self._staged))
        try:
            with self.db.adbc() as conn:  # one connection records every run
                return [self._finish(tag, new[tag], share, conn) for tag in range(len(self))]
        except DRIVER_ERRORS as exc:
            return self._fail(exc)

    def _finish(
        self, tag: int, rows_new: int, share: float, conn: Any
    ) -> tuple[str, LoadResult | OddskitError]:
        """Record one waiting source as succeeded, with its new rows; its result."""
        staged = self._staged[tag]
        tally = staged.tally
        tally.rows_loaded = rows_new
        # (the archive keeps no snapshot ids: what was new is counted in prices)
        tally.snapshots_new = tally.snapshot_keys_created if rows_new else 0
        tally.snapshot_keys_created = tally.snapshots_new
        tally.timings["archive (shared)"] = share
        # Its time: its own checking and linking, and its share of the archive's.
        tally.started = time.perf_counter() - staged.seconds - share
        try:
            result = _finish(self.db, staged.run, tally, staged.source, staged.rejects, conn)
        except OddskitError as exc:
            staged.run.fail(self.db.mask(str(exc)), rows_rejected=tally.rows_rejected)
            return staged.source, exc
        return staged.source, result

    def _fail(self, exc: BaseException) -> list[tuple[str, LoadResult | OddskitError]]:
        """Every waiting source failed: say what is committed, record it, drop rejects."""
        what = self.db.mask(str(exc)) if isinstance(exc, OddskitError) else None
        outcomes: list[tuple[str, LoadResult | OddskitError]] = []
        for staged in self._staged:
            error = ArchiveError(
                f"{staged.source}: its matches and listings were committed, but writing the "
                f"archive failed ({what or self.db.error('the database failed', exc)}); the "
                "days written by then are recorded (`oddskit archive` lists them), the "
                "others are not. Load it again (loading is idempotent) to finish."
            )
            if staged.rejects is not None:
                staged.rejects.discard()
            staged.run.fail(str(error), rows_rejected=staged.tally.rows_rejected)
            outcomes.append((staged.source, error))
        return outcomes

    def close(self) -> None:
        """Release the waiting runs' locks and remove the waiting rows."""
        if self._locks is not None:
            locks, self._locks = self._locks, None
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                locks.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            locks.close()
        self._folder.cleanup()


#: Day files merged at a time (each waits on its fsyncs and the database in turn).
WRITE_THREADS = 3

#: The columns of a snapshot in archive rows.
SNAPSHOT_OF_ROW = ("bookmaker", "bookmaker_event_id", "captured_at")
