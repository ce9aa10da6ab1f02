"""Writing what a load checked: snapshots and prices into the live tables, or prices to a spool.

:class:`LoadWriter` writes one source's snapshots and prices inside the load's
transaction (:mod:`oddskit.load_sql`), and is the one place where what a load changes
is known: a batch's new snapshots with their ids (:meth:`LoadWriter.snapshots`) and a
batch's prices once written (:meth:`LoadWriter.prices`). Tables derived from them in
the same transaction belong there: :meth:`LoadWriter.finish` brings ``current_odds``,
``opening_odds`` and ``closing_odds`` (each event × bookmaker's newest, first and
closing snapshot) up to date once every price is written. A
writer to another target (an archive) would offer the same methods.

:class:`PriceSpool` parks checked prices on disk between checking and writing
(``on_error="skip"``): an Arrow IPC stream in a temporary folder, read back
memory-mapped, so that the source is read and parsed once.

Example:
    >>> with price_spool() as spool:
    ...     spool.write(pl.DataFrame({"row": [1, 2], "odds": [2.0, 3.5]}))
    ...     [frame["odds"].to_list() for frame in spool.read()]
    [[2.0, 3.5]]
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from oddskit.board_tables import advance_boards
from oddskit.errors import ValidationError
from oddskit.load_sql import (
    conflict_errors,
    copy_prices,
    is_unique_violation,
    resolve_snapshots,
    widen_capture_bounds,
    with_snapshot_ids,
)
from oddskit.load_tally import LoadTally


class LoadWriter:
    """Writes one source's snapshots and prices inside the load's transaction.

    Parameters
    ----------
    cursor
        The load's ADBC cursor (its transaction holds
        :func:`~oddskit.load_sql.lock_for_load`).
    run_id
        The load's run (new snapshots record it).
    tally
        Counts what is written.
    source, batch_rows
        The source's name and batch size (for the messages).

    Examples
    --------
    >>> writer = LoadWriter(None, 1, LoadTally(), source="day.csv", batch_rows=1000)
    >>> writer.created.height
    0
    """

    def __init__(
        self, cursor: Any, run_id: int, tally: LoadTally, *, source: str, batch_rows: int
    ) -> None:
        self.cursor = cursor
        self.run_id = run_id
        self.tally = tally
        self.source = source
        self.batch_rows = batch_rows
        #: Snapshot key → ``snapshot_id`` of each snapshot this load inserted.
        self.created = pl.DataFrame()
        #: The matches this load rescheduled (their closing odds are picked again).
        self.rescheduled: set[int] = set()

    def snapshots(
        self, snapshots: pl.DataFrame, *, drop_conflicts: bool, analyze: bool
    ) -> pl.DataFrame:
        """Resolve and insert new ``snapshots`` (:func:`~oddskit.load_sql.resolve_snapshots`).

        Returns the bookmaker events whose stored teams or SportRadar id differ from
        the input (their problems are recorded in the tally); the snapshots inserted
        are added to :attr:`created`. A batch's new snapshots are known here, and the
        capture bounds of their listings are widened here
        (:func:`~oddskit.load_sql.widen_capture_bounds`).
        """
        resolution = resolve_snapshots(
            self.cursor, snapshots, self.run_id, drop_conflicts=drop_conflicts, analyze=analyze
        )
        if drop_conflicts or not resolution.conflicts.height:  # else nothing was inserted
            widen_capture_bounds(self.cursor)
        if resolution.conflicts.height:
            self.tally.record(conflict_errors(resolution.conflicts))
        self.tally.new_bookmakers += resolution.new_bookmakers
        self.tally.new_events += resolution.new_events
        self.tally.rescheduled_events += resolution.rescheduled_events
        self.rescheduled.update(resolution.rescheduled_ids)
        self.tally.linked.update(resolution.linked)
        self.tally.kickoff_changes += resolution.kickoff_changes
        if resolution.created.height:
            created = resolution.created
            self.created = pl.concat([self.created, created]) if self.created.height else created
            self.tally.snapshots_new = self.created["snapshot_id"].n_unique()
            self.tally.snapshot_keys_created = self.created.height
        return resolution.conflicts

    def prepare(self, pool: ThreadPoolExecutor, prices: pl.DataFrame) -> Future[pa.Table] | None:
        """``prices`` as ``market_odds`` rows of the snapshots created so far, made in
        ``pool`` (``None``: none created yet)."""
        if not self.created.height:
            return None
        return pool.submit(with_snapshot_ids, prices, self.created)

    def prices(self, table: pa.Table) -> None:
        """COPY ``table`` (``market_odds`` rows) in. A batch's prices are written here.

        Repeated prices are found within a batch; the same price given again more
        than a batch away reaches the unique key, and is reported here for people.
        """
        try:
            self.tally.rows_loaded += copy_prices(self.cursor, table)
        except Exception as exc:
            if not is_unique_violation(exc):  # the price key, on a partition
                raise
            raise ValidationError(
                f"{self.source} gives the same price (bookmaker, bookmaker event, "
                "captured_at, market, line, outcome) more than once, in rows more than "
                f"{self.batch_rows:,} rows apart; nothing from it was loaded. Remove the "
                "repeated rows, or load with a larger batch_rows so that they meet in one "
                f"batch. ({' '.join(str(exc).split())[:300]})"
            ) from None

    def finish(self) -> None:
        """Update the tables derived from what this load wrote, after its last prices:
        ``current_odds``, ``opening_odds`` and ``closing_odds``
        (:func:`~oddskit.board_tables.advance_boards`)."""
        advance_boards(self.cursor, self.created, self.rescheduled)


class PriceSpool:
    """Frames written to an Arrow IPC stream file, read back in the same batches.

    Every frame written must have the columns and types of the first. Use
    :func:`price_spool`, which removes the file afterwards.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sink: Any = None
        self._stream: Any = None
        self._schema: pa.Schema | None = None

    def write(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` (as one record batch)."""
        table = frame.rechunk().to_arrow()
        if self._schema is None:
            self._schema = table.schema
            self._sink = pa.OSFile(str(self.path), "wb")
            self._stream = pa.ipc.new_stream(self._sink, self._schema)
        self._stream.write_table(table.cast(self._schema))

    def read(self) -> Iterator[pl.DataFrame]:
        """The frames written, in order, memory-mapped (their bytes stay on disk)."""
        self.close()
        if not self.path.exists():
            return
        with pa.memory_map(str(self.path)) as mapped:
            for batch in pa.ipc.open_stream(mapped):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                yield frame

    def close(self) -> None:
        """Finish writing."""
        if self._stream is not None:
            self._stream.close()
            self._sink.close()
            self._stream = self._sink = None


@contextmanager
def price_spool() -> Iterator[PriceSpool]:
    """A :class:`PriceSpool` in a new temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="oddskit-spool-") as folder:
        spool = PriceSpool(Path(folder) / "prices.arrows")
        try:
            yield spool
        finally:
            spool.close()
