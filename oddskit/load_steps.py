"""Steps both of the loader's paths take: reading and checking a source in batches,
progress bars, rejects, and database errors for people.

Example:
    >>> from oddskit.sources import Source
    >>> str(no_rows_error(LoadInput(Source("day.csv", "csv"), [], 10, ",")))
    'day.csv has a header but no data rows: there is nothing to load.'
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import adbc_driver_manager
import polars as pl
import psycopg
import sqlalchemy as sa

from oddskit.checker import SNAPSHOT_COLUMNS, CheckedBatch, SourceChecker
from oddskit.connection import Database
from oddskit.errors import DatabaseError, ValidationError
from oddskit.load_tally import LoadTally
from oddskit.load_writer import PriceSpool
from oddskit.rejects import RejectsFile
from oddskit.sources import RawBatch, Source, iter_batches, total_rows
from oddskit.validation import VALID_SCHEMA

#: What the database drivers raise (a terminated session, a restart, a refusal).
DRIVER_ERRORS = (adbc_driver_manager.Error, sa.exc.SQLAlchemyError, psycopg.Error)

#: The rejects reason of the rows of a bookmaker event left out whole.
EXCLUDED_REASON = "teams or SportRadar id conflict with this bookmaker event id"


@dataclass(frozen=True)
class LoadInput:
    """One source as the loader reads it: its input columns, in batches of a size.

    Example: see the module's.
    """

    source: Source
    columns: list[str]
    batch_rows: int
    delimiter: str

    def batches(self, columns: list[str] | None = None) -> Iterator[RawBatch]:
        return iter_batches(
            self.source,
            columns=columns or self.columns,
            batch_rows=self.batch_rows,
            delimiter=self.delimiter,
        )


def check_to_spool(
    job: LoadInput,
    checker: SourceChecker,
    tally: LoadTally,
    rejects: RejectsFile | None,
    spool: PriceSpool,
    progress: bool,
) -> pl.DataFrame:
    """Check every batch: bad rows to the rejects, the good rows' prices to ``spool``;
    return every snapshot (:data:`~oddskit.checker.SNAPSHOT_COLUMNS`), one row each."""
    parts = []
    with progress_bar(progress, "checking", total_rows(job.source)) as advance:
        for raw, checked in checked_batches(job, checker, keep_raw=True):
            tally.count(checked)
            if checked.errors.height and rejects is not None:
                assert raw is not None
                reject_rows(rejects, raw.frame, checked.errors)
            spool.write(checked.prices)
            if checked.new_snapshots.height:
                parts.append(checked.new_snapshots)
            advance(checked.rows)
    tally.snapshots_seen = checker.snapshots_seen
    if not parts:
        return pl.DataFrame(schema={c: VALID_SCHEMA[c] for c in SNAPSHOT_COLUMNS})
    return pl.concat(parts)


# -- rejects and errors ---------------------------------------------------------------------


def reject_rows(rejects: RejectsFile, raw: pl.DataFrame, errors: pl.DataFrame) -> None:
    """Write the rows with problems to the rejects file, with their reasons."""
    reasons = errors.group_by("row", maintain_order=True).agg(
        pl.format("{}: {}", pl.col("column").fill_null("row"), "reason")
        .str.join("; ")
        .alias("reason")
    )
    rows = raw.join(reasons, on="row", how="inner")
    unreadable = reasons.join(raw.select("row"), on="row", how="anti")
    rows = pl.concat([rows, unreadable], how="diagonal_relaxed") if unreadable.height else rows
    rejects.append(rows.sort("row", nulls_last=True))


def reject_events(job: LoadInput, rejects: RejectsFile | None, rows: pl.Series) -> None:
    """Write the rows of bookmaker events left out whole, as given, to the rejects file
    (read again from the source: only now is it known which rows they are)."""
    if rejects is None:
        return
    wanted = rows.implode()
    for batch in job.batches():
        out = batch.frame.filter(pl.col("row").is_in(wanted))
        if out.height:
            rejects.append(out.with_columns(pl.lit(EXCLUDED_REASON).alias("reason")))


def no_rows_error(job: LoadInput) -> ValidationError:
    return ValidationError(
        f"{job.source.name} has a header but no data rows: there is nothing to load."
    )


def database_error(
    db: Database,
    source: str,
    exc: BaseException,
    *,
    committing: bool = False,
    kept: Path | None = None,
) -> DatabaseError:
    """A database driver's exception as a :class:`DatabaseError` for people."""
    if committing:
        what = (
            f"{source}: the database failed while committing the load, so whether it was "
            "stored is unknown (`oddskit loads` shows it; loading it again adds nothing if it "
            "was" + (f"; its rejected rows are in {kept})" if kept else ")")
        )
    else:
        what = f"{source} was not loaded (nothing from it was committed)"
    return DatabaseError(
        f"{db.error(what, exc)}. If the server restarted or ended the session, "
        "load it again once the server is back (loading is idempotent)."
    )


# -- reading ahead ------------------------------------------------------------------------


def checked_batches(
    job: LoadInput, checker: SourceChecker, *, keep_raw: bool
) -> Iterator[tuple[RawBatch | None, CheckedBatch]]:
    """The source checked batch by batch, ahead of the writer: one worker thread
    reads, another checks (``keep_raw``: with each raw batch, for the rejects)."""

    def checked() -> Iterator[tuple[RawBatch | None, CheckedBatch]]:
        for batch in prefetch(job.batches()):
            yield (batch if keep_raw else None), checker.check(batch)

    return prefetch(checked())


def prefetch(items: Iterator[Any]) -> Iterator[Any]:
    """Yield from ``items`` while a worker thread computes the next one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, _DONE)
        while (item := pending.result()) is not _DONE:
            pending = pool.submit(next, items, _DONE)
            yield item


_DONE = object()


@contextmanager
def progress_bar(show: bool, description: str, total: int | None) -> Iterator[Any]:
    """A function that advances a progress bar by ``n`` rows (one that does nothing
    when ``show`` is false)."""
    if not show:
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [
        TextColumn("{task.description}", markup=False),  # a file name is not markup
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(f"{description} rows", total=total)
        yield lambda n: bar.advance(task, n)
