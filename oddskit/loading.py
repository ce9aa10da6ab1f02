"""Bulk loading: files and frames → validation → dimensions → partitions → COPY.

Each source (a file, or an Arrow/Polars object) is loaded in **one transaction** on
one ADBC connection, so it is loaded whole or not at all; a killed loader leaves
nothing of its file behind. Sources are read in bounded batches, and the steps for
the rows of a batch are always the same:

* *check*: every row is parsed and checked (:mod:`oddskit.validation`); its
  distinct snapshots (bookmaker × bookmaker event × captured_at) are kept — about
  one row in thirty;
* *dimensions and snapshots*: one row per bookmaker event and the snapshot keys go
  to temporary tables; under a transaction-scoped advisory lock that serialises
  loaders, set-based SQL creates the new sports, tournaments, bookmakers and events,
  links bookmaker event ids, records reschedules, and inserts the snapshots with
  ``ON CONFLICT DO NOTHING``, returning the ids of the new ones;
* *write*: the rows of new snapshots get their snapshot id and are streamed into
  ``market_odds`` with ``adbc_ingest`` (binary COPY).

How the steps are scheduled depends on ``on_error``:

* ``"raise"`` (the default) — **one pass**. Any problem refuses the whole source, so
  each batch is written as soon as it has been checked, while worker threads read
  and check the next ones: the client's checking overlaps the server's writing. The
  source's time span is read first (only ``captured_at``) so that its partitions
  exist before the transaction starts (so a refused source can leave empty daily
  partitions behind; retention drops them in time). At the first problem of any kind
  the transaction is rolled back and the source is loaded again in two passes, which
  report every problem.
* ``"skip"`` — **two passes**. Pass 1 checks every row and collects the snapshots,
  dropping bad rows and conflicting events (written to the rejects file); the
  dimensions and snapshots are then resolved once; pass 2 reads the source again
  and writes the prices of the new snapshots. When every snapshot was already
  present, pass 2 is skipped.

A file loaded before (same SHA-256, all its snapshots still stored) is recognised
from its snapshot keys alone and reported as already present.

Idempotency is decided per snapshot: a snapshot that is already stored keeps the
prices it was stored with. Partitions for the data's days are created (committed)
before the transaction touches the partitioned tables, so no row lands in a
default partition. Every load is recorded in ``scrape_runs`` (kind ``'load'``; see
:mod:`oddskit.runs`, which also finds loads that were killed); rejected rows go to
rejects files that never replace anything (:mod:`oddskit.rejects`). A failure of the
database driver reaches the caller as a :class:`~oddskit.errors.DatabaseError`.

Example:
    >>> import oddskit
    >>> report = oddskit.load("examples/data/snapshots.csv")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    examples/data/snapshots.csv: 1,680 rows read, 1,680 new, 0 already present, 0 rejected ...
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import adbc_driver_manager
import polars as pl
import psycopg
import pyarrow as pa
import sqlalchemy as sa

from oddskit.connection import Database, connect
from oddskit.errors import (
    DatabaseError,
    OddskitError,
    RejectsError,
    ValidationError,
)
from oddskit.partitions import ensure_partitions, get_policy, maintain
from oddskit.rejects import RejectsFile, check_rejects_path, rejects_target
from oddskit.runs import MAX_STORED_ERRORS, RunRecord, close_abandoned_runs
from oddskit.sources import (
    DEFAULT_BATCH_ROWS,
    Source,
    iter_batches,
    read_header,
    replayable,
    resolve_sources,
    total_rows,
)
from oddskit.validation import (
    ERROR_SCHEMA,
    FUTURE_TOLERANCE,
    INPUT_COLUMNS,
    PRICE_KEY,
    SNAPSHOT_ATTRIBUTES,
    check_header,
    count_problems,
    format_errors,
    parse_prices,
    parse_timestamps,
    summarise_problems,
    validate_batch,
)

OnError = Literal["raise", "skip"]

#: Serialises the dimension and snapshot step of concurrent loaders.
LOAD_LOCK_KEY = 0x0DD5_10AD

# The parents in the order retention drops their partitions (prices first): a load that
# took odds_snapshots first and market_odds a batch later could deadlock with it. ONLY
# the parents: dropping a partition locks its parent too, and locking every daily
# partition upfront ran out of lock slots with a few years of history.
_LOCK_TABLES = "LOCK TABLE ONLY market_odds, ONLY odds_snapshots IN ROW EXCLUSIVE MODE"

SNAPSHOT_KEY = ["bookmaker", "bookmaker_event_id", "captured_at"]
EVENT_KEY = ["bookmaker", "bookmaker_event_id"]
SNAPSHOT_COLUMNS = [
    "row",
    "bookmaker",
    "sport",
    "country",
    "tournament",
    "sportradar_id",
    "bookmaker_event_id",
    "home_team",
    "away_team",
    "kickoff",
    "captured_at",
]

#: Exact Arrow types of ``market_odds`` (binary COPY needs them to the letter).
PRICE_SCHEMA = pa.schema(
    [
        ("snapshot_id", pa.int64()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("market", pa.string()),
        ("line", pa.float64()),
        ("outcome", pa.string()),
        ("odds", pa.float64()),
    ]
)

#: Problems listed one by one in a refusal's message (all are counted).
SHOWN_ERRORS = 10

#: What the database drivers raise (a terminated session, a restart, a refusal).
_DRIVER_ERRORS = (adbc_driver_manager.Error, sa.exc.SQLAlchemyError, psycopg.Error)


@dataclass(frozen=True)
class LoadResult:
    """What loading one source did.

    ``rejects_path``: where this load's rejected rows are (``on_error="skip"``); for a
    file recognised as loaded before, where run ``rejects_run_id`` wrote them.

    Example:
        >>> LoadResult("day.csv", 7, 10, 8, 0, 2, 1, 0, 1, 1, 0, (), 0.5,
        ...            rejects_path=Path("day.rejects.csv")).rows_per_second
        20.0
    """

    source: str
    run_id: int | None
    rows_read: int
    rows_loaded: int
    rows_present: int
    rows_rejected: int
    snapshots_new: int
    snapshots_present: int
    new_events: int
    new_bookmakers: int
    rescheduled_events: int
    partitions_created: tuple[str, ...]
    seconds: float
    rejects_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    rejects_run_id: int | None = None

    @property
    def rows_per_second(self) -> float:
        """Rows read per second, end to end."""
        return self.rows_read / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        text = (
            f"{self.source}: {self.rows_read:,} rows read, {self.rows_loaded:,} new, "
            f"{self.rows_present:,} already present, {self.rows_rejected:,} rejected; "
            f"{self.snapshots_new:,} new snapshots, {self.new_events:,} new events, "
            f"{self.new_bookmakers:,} new bookmakers, {self.rescheduled_events:,} rescheduled, "
            f"{len(self.partitions_created)} partitions created; "
            f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"
        )
        return text + self._rejects_note()

    def _rejects_note(self) -> str:
        if self.rejects_run_id is None:
            return f"; rejected rows written to {self.rejects_path}" if self.rejects_path else ""
        if not self.rows_rejected:
            return ""
        if self.rejects_path is None:
            return (
                f"; its rejected rows were reported by run {self.rejects_run_id} "
                f"(oddskit.fetch_run_errors(db, {self.rejects_run_id}))"
            )
        gone = "" if self.rejects_path.exists() else ", which is no longer there"
        return (
            f"; its rejected rows were written to {self.rejects_path} by run "
            f"{self.rejects_run_id}{gone}"
        )


@dataclass(frozen=True)
class SourceOutcome:
    """What became of one source of a :func:`load`: ``committed``, ``refused`` (its input
    or its rejects file), ``failed`` (the database) or ``not tried``."""

    source: str
    status: Literal["committed", "refused", "failed", "not tried"]
    detail: str = ""


@dataclass(frozen=True)
class LoadReport:
    """The results of one :func:`load` call, one per committed source, with totals.

    ``outcomes`` says what became of every source, in order; when some were not
    loaded, :func:`load` raises an error that carries this report as ``.report``.
    """

    results: tuple[LoadResult, ...] = field(default_factory=tuple)
    outcomes: tuple[SourceOutcome, ...] = field(default_factory=tuple)

    def _total(self, name: str) -> int:
        return sum(getattr(result, name) for result in self.results)

    @property
    def rows_read(self) -> int:
        return self._total("rows_read")

    @property
    def rows_loaded(self) -> int:
        return self._total("rows_loaded")

    @property
    def rows_present(self) -> int:
        return self._total("rows_present")

    @property
    def rows_rejected(self) -> int:
        return self._total("rows_rejected")

    @property
    def seconds(self) -> float:
        return sum(result.seconds for result in self.results)

    def __str__(self) -> str:
        lines = [str(result) for result in self.results]
        if len(self.results) > 1:
            lines.append(
                f"total: {self.rows_read:,} rows read, {self.rows_loaded:,} new, "
                f"{self.rows_present:,} already present, {self.rows_rejected:,} rejected "
                f"in {self.seconds:.1f} s"
            )
        return "\n".join(lines)

    def outcome_summary(self) -> str:
        """Every source with what became of it, under a one-line count.

        Example:
            >>> report = LoadReport(outcomes=(SourceOutcome("a.csv", "committed"),
            ...     SourceOutcome("b.csv", "refused", "3 problems in 3 rows"),
            ...     SourceOutcome("c.csv", "not tried")))
            >>> print(report.outcome_summary())
            1 of 3 sources loaded: 1 committed, 1 refused, 1 not tried.
              committed  a.csv
              refused    b.csv: 3 problems in 3 rows
              not tried  c.csv
        """
        counts = Counter(outcome.status for outcome in self.outcomes)
        statuses = ("committed", "refused", "failed", "not tried")
        lines = [
            f"{counts['committed']} of {len(self.outcomes)} sources loaded: "
            + ", ".join(f"{counts[status]} {status}" for status in statuses if counts[status])
            + "."
        ]
        for outcome in self.outcomes:
            detail = f": {outcome.detail}" if outcome.detail else ""
            lines.append(f"  {outcome.status:<10} {outcome.source}{detail}")
        return "\n".join(lines)


def load(
    inputs: Any,
    *,
    db: Database | None = None,
    on_error: OnError = "raise",
    rejects_path: str | Path | None = None,
    delimiter: str = ",",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> LoadReport:
    """Load odds snapshots in oddskit's input format into the database.

    ``inputs``: a path (CSV or Parquet), a folder or glob of them, a list of those,
    a ``pyarrow.Table``/``RecordBatchReader`` or a ``polars.DataFrame``/``LazyFrame``.
    An existing path is always that file or folder; only a path that does not exist
    is read as a glob. Folders and globs leave out hidden files and rejects files.

    Each source is loaded in its own transaction. With ``on_error="raise"`` (the
    default) a source with any bad row is refused whole with every problem listed;
    with ``"skip"`` the good rows are loaded and the rejected ones written, with a
    ``reason`` column, to a rejects file (default ``<file>.rejects.csv`` beside the
    source; ``rejects_path``: a file or a folder), never replacing an existing file
    (see :mod:`oddskit.rejects`).

    A refused source does not stop the others: every source is tried, then one error
    for the refused ones is raised, ending with every source's outcome (committed,
    refused, failed, not tried). A database failure stops the load: the sources after
    it are not tried. The error carries ``.report``, a :class:`LoadReport` of the
    committed sources and every source's outcome.

    Example:
        >>> from oddskit.sample import generate_sample
        >>> report = load(generate_sample(days=1, events_per_day=5))  # doctest: +SKIP
        >>> report.rows_loaded > 0  # doctest: +SKIP
        True
    """
    if on_error not in ("raise", "skip"):
        raise ValidationError(f"`on_error` must be one of {{'raise', 'skip'}}, got {on_error!r}")
    if on_error == "skip":
        check_rejects_path(rejects_path)
    sources = resolve_sources(inputs)
    own_db = db is None
    db = db or connect()
    show = sys.stderr.isatty() if progress is None else progress
    try:
        close_abandoned_runs(db)
        maintain(db)
        results: list[LoadResult] = []
        outcomes: list[SourceOutcome] = []
        errors: list[OddskitError] = []
        for source in sources:
            if errors and not _goes_on_after(errors[-1]):
                outcomes.append(SourceOutcome(source.name, "not tried"))
                continue
            target = rejects_target(source, rejects_path, len(sources))
            if on_error == "raise":
                target = None
            loader = _SourceLoader(db, source, on_error, target, delimiter, batch_rows, show)
            try:
                result = loader.run()
            except OddskitError as exc:
                status = "refused" if _goes_on_after(exc) else "failed"
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                detail = first.removeprefix(source.name).lstrip(": ")
                outcomes.append(SourceOutcome(source.name, status, detail))
                if len(sources) == 1:
                    exc.report = LoadReport(outcomes=tuple(outcomes))  # type: ignore[attr-defined]
                    raise
                errors.append(exc)
                continue
            results.append(result)
            outcomes.append(SourceOutcome(source.name, "committed"))
        report = LoadReport(tuple(results), tuple(outcomes))
        if errors:
            raise _not_all_loaded(report, errors)
        return report
    finally:
        if own_db:
            db.close()


def _goes_on_after(error: OddskitError) -> bool:
    """Whether the next sources are still tried after ``error`` (a problem of the
    source itself), or not (the database failed: the next ones would fail too)."""
    return isinstance(error, (ValidationError, RejectsError))


def _not_all_loaded(report: LoadReport, errors: list[OddskitError]) -> OddskitError:
    """One error for the sources that were not loaded, carrying ``report``."""
    kind: type[OddskitError] = ValidationError
    if stopper := next((e for e in errors if not _goes_on_after(e)), None):
        kind = type(stopper)
    elif all(isinstance(e, RejectsError) for e in errors):
        kind = RejectsError
    message = "\n\n".join([*(str(e) for e in errors), report.outcome_summary()])
    error = kind(message)
    error.report = report  # type: ignore[attr-defined]
    return error


class _SourceLoader:
    """Loads one source; holds its counters while it runs."""

    def __init__(
        self,
        db: Database,
        source: Source,
        on_error: OnError,
        rejects: Path | None,
        delimiter: str,
        batch_rows: int,
        show_progress: bool,
    ) -> None:
        self.db = db
        self.source = source
        self.on_error = on_error
        self.rejects_target = rejects
        self.rejects: RejectsFile | None = None
        self.delimiter = delimiter
        self.batch_rows = batch_rows
        self.show_progress = show_progress
        self.now = datetime.now(UTC)
        self.errors: list[pl.DataFrame] = []  # the first MAX_STORED_ERRORS problems
        self.error_count = 0  # every problem
        self.problem_rows = 0  # every row with a problem
        self.problem_counts: Counter[tuple[str | None, str]] = Counter()
        self.committing = False
        self.rejected_rows = 0
        self.bad_rows: list[pl.Series] = []
        self.had_duplicates = False
        self.excluded_rows = 0
        self.excluded_snapshots = 0

    # -- orchestration ---------------------------------------------------------------

    def run(self) -> LoadResult:
        started = time.perf_counter()
        try:
            self.retention_days = get_policy(self.db).retention_days
            self.file_hash = self.source.file_hash()
            self.run_record = self._start_run()
        except _DRIVER_ERRORS as exc:
            raise self._as_oddskit_error(exc) from None
        try:
            header = read_header(self.source, delimiter=self.delimiter)
            check_header(header, source=self.source.name)
            self.columns = [name for name in header if name in INPUT_COLUMNS]
            if self.rejects_target is not None:
                columns = ["row", *self.columns, "reason"]
                self.rejects = RejectsFile(self.rejects_target, columns, self.source.name)
            with replayable(self.source) as self.source:
                return self._load(self.run_record.id, started)
        except BaseException as exc:
            if self.rejects is not None and not self.committing:
                self.rejects.discard()  # (a commit that may have happened keeps its rejects)
            error = self._as_oddskit_error(exc)
            self._fail_run(error)
            if error is not exc:
                raise error from None
            raise
        finally:
            self.run_record.close()

    def _as_oddskit_error(self, exc: BaseException) -> BaseException:
        """A database driver's exception as a :class:`DatabaseError` for people."""
        if not isinstance(exc, _DRIVER_ERRORS):
            return exc
        if self.committing:
            kept = self.rejects.path if self.rejects is not None else None
            what = (
                f"{self.source.name}: the database failed while committing the load, so "
                "whether it was stored is unknown (`oddskit loads` shows it; loading it again "
                "adds nothing if it was" + (f"; its rejected rows are in {kept})" if kept else ")")
            )
        else:
            what = f"{self.source.name} was not loaded (nothing from it was committed)"
        return DatabaseError(
            f"{self.db.error(what, exc)}. If the server restarted or ended the session, "
            "load it again once the server is back (loading is idempotent)."
        )

    def _commit(self, conn: Any, cursor: Any, result: LoadResult) -> LoadResult:
        """Move the rejects file into place, record the run and commit."""
        if self.rejects is not None and (path := self.rejects.publish()) is not None:
            result = replace(result, rejects_path=path)
        self._finish_run(cursor, result)
        self.committing = True
        conn.commit()
        self.committing = False
        return result

    def _load(self, run_id: int, started: float) -> LoadResult:
        clock = _Stopwatch(started)
        if (reloaded := self._reload_shortcut(run_id, started, clock)) is not None:
            return reloaded
        if self.on_error == "raise" and (loaded := self._one_pass(run_id, started, clock)):
            return loaded
        snapshots, rows_read = self._validate_pass()
        clock.lap("check")
        if self.on_error == "raise" and self.error_count:
            raise self._validation_error()
        created: list[str] = []
        if snapshots.height:
            first, last = snapshots["captured_at"].min(), snapshots["captured_at"].max()
            created = ensure_partitions(self.db, first, last + timedelta(microseconds=1))
        clock.lap("partitions")
        with self.db.adbc() as conn:
            cursor = conn.cursor()
            counts = {"new_events": 0, "new_bookmakers": 0, "rescheduled_events": 0}
            mapping = pl.DataFrame()
            if snapshots.height:
                cursor.execute("SELECT pg_advisory_xact_lock($1)", parameters=(LOAD_LOCK_KEY,))
                cursor.execute(_LOCK_TABLES)
                clock.lap("wait for other loaders")
                counts, mapping = self._resolve_and_insert_snapshots(cursor, snapshots, run_id)
            clock.lap("dimensions and snapshots")
            rows_loaded = self._write_pass(cursor, mapping) if mapping.height else 0
            if mapping.height:
                # Fresh statistics for the planner (autovacuum would be minutes late):
                # the snapshot table is small next to the prices, so this is cheap.
                cursor.execute("ANALYZE odds_snapshots")
            clock.lap("write prices")
            rejected = self.rejected_rows + self.excluded_rows
            result = LoadResult(
                source=self.source.name,
                run_id=run_id,
                rows_read=rows_read,
                rows_loaded=rows_loaded,
                rows_present=rows_read - rejected - rows_loaded,
                rows_rejected=rejected,
                snapshots_new=mapping["snapshot_id"].n_unique() if mapping.height else 0,
                snapshots_present=snapshots.height - mapping.height - self.excluded_snapshots,
                new_events=counts["new_events"],
                new_bookmakers=counts["new_bookmakers"],
                rescheduled_events=counts["rescheduled_events"],
                partitions_created=tuple(created),
                seconds=time.perf_counter() - started,
                timings=clock.laps,
            )
            return self._commit(conn, cursor, result)

    # -- reload of a file loaded before -------------------------------------------------

    def _reload_shortcut(self, run_id: int, started: float, clock: _Stopwatch) -> LoadResult | None:
        """The same file (by SHA-256) loaded before and all of its snapshots still stored:
        report it as already present without checking every row again."""
        if self.source.path is None or not {*SNAPSHOT_KEY} <= set(self.columns):
            return None
        with self.db.engine.connect() as conn:
            previous = conn.execute(
                sa.text(
                    "SELECT id, rows_read, rows_rejected, details ->> 'rejects_path' "
                    "FROM scrape_runs WHERE kind = 'load' "
                    "AND status = 'succeeded' AND file_hash = :hash AND source = :source "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"hash": self.file_hash, "source": self.source.name},
            ).one_or_none()
        if previous is None:
            return None
        previous_run, rows_read, rejected, rejects_path = previous
        if rejected and self.on_error == "raise":
            return None  # loaded before with rows left out: refuse it now, with every problem
        parts = []
        for batch in iter_batches(
            self.source, columns=SNAPSHOT_KEY, batch_rows=self.batch_rows, delimiter=self.delimiter
        ):
            keys = parse_prices(
                batch.frame.with_columns(
                    *(pl.lit(None, dtype=pl.String).alias(c) for c in ("market", "outcome", "odds"))
                )
            ).select(SNAPSHOT_KEY)
            parts.append(keys.drop_nulls().unique())
        keys = pl.concat(parts).unique() if parts else pl.DataFrame()
        with self.db.adbc() as conn, conn.cursor() as cursor:
            _stage(cursor, "_reload_keys", keys)
            cursor.execute("ANALYZE _reload_keys")
            cursor.execute(
                "SELECT count(*) FROM _reload_keys k JOIN bookmakers b ON b.name = k.bookmaker "
                "JOIN event_bookmakers eb ON eb.bookmaker_id = b.id "
                "AND eb.bookmaker_event_id = k.bookmaker_event_id "
                "JOIN odds_snapshots s ON s.event_id = eb.event_id AND s.bookmaker_id = b.id "
                "AND s.captured_at = k.captured_at"
            )
            (present,) = cursor.fetchone()
            if present != keys.height:
                return None  # some snapshots are gone (retention) or new: load normally
            clock.lap("check snapshots")
            result = LoadResult(
                source=self.source.name,
                run_id=run_id,
                rows_read=rows_read,
                rows_loaded=0,
                rows_present=rows_read - rejected,
                rows_rejected=rejected,
                snapshots_new=0,
                snapshots_present=keys.height,
                new_events=0,
                new_bookmakers=0,
                rescheduled_events=0,
                partitions_created=(),
                seconds=time.perf_counter() - started,
                timings=clock.laps,
                rejects_path=Path(rejects_path) if rejects_path else None,
                rejects_run_id=previous_run,
            )
            return self._commit(conn, cursor, result)

    # -- one pass: check and write each batch (on_error="raise") ------------------------

    def _one_pass(self, run_id: int, started: float, clock: _Stopwatch) -> LoadResult | None:
        """Check and write in a single pass; ``None`` (nothing committed) at any problem.

        With ``on_error="raise"`` any problem refuses the whole source, so a batch can
        be written as soon as it has been checked: its new snapshots are resolved and
        inserted, then its prices COPYed, while worker threads read and check the next
        batches — the client's checking overlaps the server's writing instead of coming
        before it. The partitions for the source's time span are made first (the load's
        transaction must not create them: it would hold the parent tables' locks for the
        whole load). At the first problem of any kind the transaction is rolled back and
        ``None`` returned: the two-pass path then reports every problem as usual.
        """
        span = self._captured_span()
        if span is None:
            return None
        created_partitions = ensure_partitions(self.db, *span)
        clock.lap("partitions")
        rows_read = loaded = 0
        counts = {"new_events": 0, "new_bookmakers": 0, "rescheduled_events": 0}
        created = pl.DataFrame()  # snapshot key → id of the snapshots this load inserted
        with self.db.adbc() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT pg_advisory_xact_lock($1)", parameters=(LOAD_LOCK_KEY,))
            cursor.execute(_LOCK_TABLES)
            clock.lap("wait for other loaders")
            total = total_rows(self.source)
            with (
                ThreadPoolExecutor(max_workers=1) as preparer,
                _progress(self.show_progress, "loading", total) as advance,
            ):
                # A batch's prices are joined to their snapshot ids in another thread
                # while the server resolves the next batch: they are COPYed one batch late.
                waiting: Future[pa.Table] | None = None
                for checked in self._checked_batches():
                    if checked is None:
                        return None
                    rows_read += checked.rows
                    if checked.fresh.height:
                        try:
                            new_counts, mapping = self._resolve_and_insert_snapshots(
                                cursor, checked.fresh, run_id, refuse=_Fallback, analyze=False
                            )
                        except _Fallback:
                            return None
                        for name, value in new_counts.items():
                            counts[name] += value
                        created = pl.concat([created, mapping]) if created.height else mapping
                    ready = waiting
                    waiting = (
                        preparer.submit(_with_snapshot_ids, checked.prices, created)
                        if created.height
                        else None
                    )
                    if ready is not None:
                        loaded += self._copy_prices(cursor, ready.result())
                    advance(checked.rows)
                if waiting is not None:
                    loaded += self._copy_prices(cursor, waiting.result())
            if rows_read == 0:
                return None  # the two-pass path says what is wrong with an empty source
            if created.height:
                cursor.execute("ANALYZE odds_snapshots")  # see _load
            clock.lap("check and write")
            result = LoadResult(
                source=self.source.name,
                run_id=run_id,
                rows_read=rows_read,
                rows_loaded=loaded,
                rows_present=rows_read - loaded,
                rows_rejected=0,
                snapshots_new=created["snapshot_id"].n_unique() if created.height else 0,
                snapshots_present=checked.snapshots_seen - created.height,
                new_events=counts["new_events"],
                new_bookmakers=counts["new_bookmakers"],
                rescheduled_events=counts["rescheduled_events"],
                partitions_created=tuple(created_partitions),
                seconds=time.perf_counter() - started,
                timings=clock.laps,
            )
            return self._commit(conn, cursor, result)

    def _captured_span(self) -> tuple[datetime, datetime] | None:
        """The first and last ``captured_at`` (within retention and the future tolerance)
        of the source, reading only that column; ``None`` when it has none."""
        earliest = self.now - timedelta(days=self.retention_days) if self.retention_days else None
        latest = self.now + FUTURE_TOLERANCE
        first = last = None
        for batch in iter_batches(
            self.source,
            columns=["captured_at"],
            batch_rows=self.batch_rows,
            delimiter=self.delimiter,
        ):
            times = parse_timestamps(batch.frame["captured_at"]).drop_nulls()
            times = times.filter(times <= latest)
            if earliest is not None:
                times = times.filter(times >= earliest)
            if times.len():
                low, high = times.min(), times.max()
                first = low if first is None else min(first, low)
                last = high if last is None else max(last, high)
        if first is None or last is None:
            return None
        return first, last + timedelta(microseconds=1)

    def _checked_batches(self) -> Iterator[_CheckedBatch | None]:
        """The source checked batch by batch, ahead of the writer, for :meth:`_one_pass`.

        One worker thread reads, another checks each batch and keeps the snapshots seen
        so far; ``None`` is yielded (and nothing after it) at the first problem.
        """
        batches = iter_batches(
            self.source, columns=self.columns, batch_rows=self.batch_rows, delimiter=self.delimiter
        )

        def checked() -> Iterator[_CheckedBatch | None]:
            seen = _SeenSnapshots()
            for batch in _prefetch(batches):
                valid, errors = validate_batch(
                    batch.frame, now=self.now, retention_days=self.retention_days
                )
                if errors.height or batch.problems:
                    yield None
                    return
                part = valid.select(SNAPSHOT_COLUMNS).unique(SNAPSHOT_COLUMNS[1:], keep="first")
                fresh = seen.add(part)
                if fresh is None:
                    yield None
                    return
                prices = valid.select([*SNAPSHOT_KEY, *PRICE_SCHEMA.names[2:]])
                yield _CheckedBatch(batch.frame.height, prices, _owned(fresh), seen.count)

        return _prefetch(checked())

    # -- pass 1: validate -------------------------------------------------------------

    def _batches(
        self, description: str
    ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
        """(raw, valid, errors) per batch, with a progress bar when asked for."""
        total = total_rows(self.source)
        batches = iter_batches(
            self.source, columns=self.columns, batch_rows=self.batch_rows, delimiter=self.delimiter
        )
        with _progress(self.show_progress, description, total) as advance:
            # The next batch is read while this one is checked (-15% time for this pass).
            for batch in _prefetch(batches):
                valid, errors = validate_batch(
                    batch.frame, now=self.now, retention_days=self.retention_days
                )
                if batch.problems:
                    errors = pl.concat(
                        [errors, pl.DataFrame(batch.problems, schema=ERROR_SCHEMA)]
                    ).sort("row", nulls_last=True)
                advance(
                    batch.frame.height
                    + len({p["row"] for p in batch.problems if p["column"] is None})
                )
                yield batch.frame, valid, errors

    def _validate_pass(self) -> tuple[pl.DataFrame, int]:
        """Check every row; return the distinct snapshots and the number of rows read."""
        parts = []
        rows_read = 0
        for raw, valid, errors in self._batches("checking"):
            unreadable = errors.filter(pl.col("column").is_null())["row"].n_unique()
            rows_read += raw.height + unreadable
            bad = errors["row"].n_unique() if errors.height else 0
            if errors.height:
                self.rejected_rows += bad
                self.bad_rows.append(errors["row"].drop_nulls())
                self._record_errors(raw, errors)
            if raw.height + unreadable - bad > valid.height:
                self.had_duplicates = True  # exact duplicates were dropped
            part = valid.select(SNAPSHOT_COLUMNS).unique(SNAPSHOT_COLUMNS[1:], keep="first")
            parts.append(_owned(part))
        snapshots = (
            pl.concat(parts)
            .sort("row")
            .unique(SNAPSHOT_COLUMNS[1:], keep="first", maintain_order=True)
            if parts
            else pl.DataFrame()
        )
        if rows_read == 0:
            raise ValidationError(
                f"{self.source.name} has a header but no data rows: there is nothing to load."
            )
        return self._check_events_within_source(snapshots), rows_read

    def _check_snapshots_across_batches(self, snapshots: pl.DataFrame) -> pl.DataFrame:
        """Rows of one snapshot that fell into different batches must describe one match."""
        split = snapshots.filter(pl.struct(SNAPSHOT_KEY).is_duplicated())
        if not split.height:
            return snapshots
        attributes = [c for c in SNAPSHOT_COLUMNS if c not in ("row", *SNAPSHOT_KEY)]
        first = split.sort("row").with_columns(
            pl.col(attributes).first().over(SNAPSHOT_KEY).name.suffix("_first")
        )
        differs = [pl.col(c).ne_missing(pl.col(f"{c}_first")) for c in attributes]
        errors = first.filter(pl.any_horizontal(differs)).select(
            "row",
            pl.coalesce(
                [pl.when(d).then(pl.lit(c)) for d, c in zip(differs, attributes, strict=True)]
            ).alias("column"),
            pl.coalesce(
                [
                    pl.when(d).then(pl.col(c).cast(pl.String))
                    for d, c in zip(differs, attributes, strict=True)
                ]
            ).alias("value"),
            pl.format(
                "disagrees with row {} of the same snapshot (bookmaker {}, bookmaker event {}) "
                "about the match (teams, kickoff, tournament or SportRadar id); every row of a "
                "snapshot must describe the same match",
                pl.col("row").min().over(SNAPSHOT_KEY),
                "bookmaker",
                "bookmaker_event_id",
            ).alias("reason"),
        )
        self._record_errors(None, errors.cast(ERROR_SCHEMA))  # type: ignore[arg-type]
        if self.on_error == "raise":
            raise self._validation_error()
        self._exclude(split.select(EVENT_KEY).unique())
        return snapshots.join(split.select(EVENT_KEY), on=EVENT_KEY, how="anti")

    def _check_events_within_source(self, snapshots: pl.DataFrame) -> pl.DataFrame:
        """One bookmaker event must name the same teams (and SportRadar id) throughout."""
        if not snapshots.height:
            return snapshots
        snapshots = self._check_snapshots_across_batches(snapshots)
        varying = (
            snapshots.group_by(EVENT_KEY)
            .agg(
                pl.col("row").min().alias("row"),
                pl.struct("home_team", "away_team").n_unique().alias("teams"),
                pl.col("sportradar_id").n_unique().alias("ids"),
                pl.format("{} v {}", "home_team", "away_team")
                .unique()
                .sort()
                .str.join(" / ")
                .alias("names"),
            )
            .filter((pl.col("teams") > 1) | (pl.col("ids") > 1))
        )
        if not varying.height:
            return snapshots
        errors = varying.select(
            "row",
            pl.lit("home_team").alias("column"),
            pl.col("names").alias("value"),
            pl.format(
                "bookmaker event {} of {} names different teams or SportRadar ids within this "
                "input ({}); one bookmaker event id must always be the same match",
                "bookmaker_event_id",
                "bookmaker",
                "names",
            ).alias("reason"),
        )
        self._record_errors(None, errors.cast(ERROR_SCHEMA))  # type: ignore[arg-type]
        if self.on_error == "raise":
            raise self._validation_error()
        self._exclude(varying.select(EVENT_KEY))
        return snapshots.join(varying.select(EVENT_KEY), on=EVENT_KEY, how="anti")

    # -- dimensions and snapshots ------------------------------------------------------

    def _resolve_and_insert_snapshots(
        self,
        cursor: Any,
        snapshots: pl.DataFrame,
        run_id: int,
        refuse: type[Exception] | None = None,
        analyze: bool = True,
    ) -> tuple[dict[str, int], pl.DataFrame]:
        """Create the dimensions ``snapshots`` need and insert the new snapshots.

        Returns the counts of new bookmakers, events and reschedules and the key → id
        of each snapshot inserted. ``refuse``: raised instead of the usual handling
        when an event conflicts with what the database holds. ``analyze``: gather
        statistics on the staged rows (worth it for one large set, not for each batch).
        """
        cursor.execute(
            "DROP TABLE IF EXISTS _load_snapshots, _load_event_rows, _load_events, _load_conflicts"
        )
        # One row per bookmaker event, described by its newest snapshot; the snapshots
        # themselves go up with just their keys.
        events = (
            snapshots.sort("captured_at", descending=True)
            .group_by(EVENT_KEY, maintain_order=True)
            .agg(
                *(pl.col(name).first() for name in SNAPSHOT_ATTRIBUTES),
                pl.col("captured_at").first().alias("latest_captured_at"),
                pl.col("row").min(),
            )
        )
        _stage(cursor, "_load_event_rows", events)
        _stage(cursor, "_load_snapshots", snapshots.select("row", *SNAPSHOT_KEY))
        if analyze:  # temp tables have no statistics otherwise
            cursor.execute("ANALYZE _load_event_rows")
            cursor.execute("ANALYZE _load_snapshots")
        counts = {}
        counts["new_bookmakers"] = _rowcount(
            cursor,
            "INSERT INTO bookmakers (name) SELECT DISTINCT bookmaker FROM _load_event_rows "
            "ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        _rowcount(
            cursor,
            "INSERT INTO sports (name) SELECT DISTINCT sport FROM _load_event_rows "
            "ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        _rowcount(
            cursor,
            "INSERT INTO tournaments (sport_id, country, name) "
            "SELECT DISTINCT s.id, l.country, l.tournament FROM _load_event_rows l "
            "JOIN sports s ON s.name = l.sport "
            "ON CONFLICT ON CONSTRAINT uq_tournaments_sport_id_country_name "
            "DO NOTHING RETURNING id",
        )
        for statement in _EVENT_STATEMENTS:
            cursor.execute(statement)
        if analyze:
            cursor.execute("ANALYZE _load_events")
        self._check_events_against_database(cursor, refuse)
        cursor.execute(_INSERT_NEW_EVENTS)
        cursor.execute("SELECT count(DISTINCT event_id) FROM _load_events WHERE is_new")
        counts["new_events"] = cursor.fetchone()[0]
        cursor.execute(_INSERT_EVENT_BOOKMAKERS)
        counts["rescheduled_events"] = _rowcount(cursor, _RESCHEDULE)
        cursor.execute(_INSERT_SNAPSHOTS, parameters=(run_id,))
        mapping = pl.from_arrow(cursor.fetch_arrow_table())
        assert isinstance(mapping, pl.DataFrame)
        return counts, mapping.with_columns(pl.col("captured_at").dt.convert_time_zone("UTC"))

    def _check_events_against_database(
        self, cursor: Any, refuse: type[Exception] | None = None
    ) -> None:
        cursor.execute(_CONFLICTS_WITH_DATABASE)
        conflicts = pl.from_arrow(cursor.fetch_arrow_table())
        assert isinstance(conflicts, pl.DataFrame)
        if not conflicts.height:
            return
        if refuse is not None:
            raise refuse
        errors = conflicts.select(
            pl.col("row").cast(pl.Int64),
            pl.lit("home_team").alias("column"),
            pl.format("{} v {}", "home_team", "away_team").alias("value"),
            pl.format(
                "bookmaker event {} of {} is stored as {} v {} (SportRadar id {}); this input says "
                "{} v {} (SportRadar id {}). Refused: an id must keep naming the same match",
                "bookmaker_event_id",
                "bookmaker",
                "stored_home",
                "stored_away",
                pl.col("stored_sportradar_id").fill_null("none"),
                "home_team",
                "away_team",
                pl.col("sportradar_id").fill_null("none"),
            ).alias("reason"),
        )
        self._record_errors(None, errors.cast(ERROR_SCHEMA))  # type: ignore[arg-type]
        if self.on_error == "raise":
            raise self._validation_error()
        self._exclude(conflicts.select(EVENT_KEY))
        cursor.execute(
            "DELETE FROM _load_events le USING _load_conflicts c "
            "WHERE le.bookmaker = c.bookmaker AND le.bookmaker_event_id = c.bookmaker_event_id"
        )

    # -- pass 2: write -----------------------------------------------------------------

    def _write_pass(self, cursor: Any, mapping: pl.DataFrame) -> int:
        """Stream the prices of new snapshots into ``market_odds``; return how many.

        The rows passed validation in the first pass, so only the price columns are
        parsed again; rows found bad then are left out by their row number.
        """
        loaded = 0
        bad_rows = pl.concat(self.bad_rows).unique() if self.bad_rows else None

        def prepare(raw: pl.DataFrame) -> pa.Table:
            if bad_rows is not None:
                raw = raw.filter(~pl.col("row").is_in(bad_rows.implode()))
            prices = parse_prices(raw)
            if self.had_duplicates:
                prices = prices.unique(PRICE_KEY, keep="first", maintain_order=True)
            prices = (
                prices.join(mapping, on=SNAPSHOT_KEY, how="inner")
                .select(PRICE_SCHEMA.names)
                .sort("snapshot_id")  # ids follow the file: index inserts stay at the right edge
            )
            return prices.to_arrow().cast(PRICE_SCHEMA)

        batches = iter_batches(
            self.source, columns=self.columns, batch_rows=self.batch_rows, delimiter=self.delimiter
        )
        with _progress(self.show_progress, "writing", total_rows(self.source)) as advance:
            # The next batch is read and prepared while the current one is COPYed.
            for rows, table in _prefetch((b.frame.height, prepare(b.frame)) for b in batches):
                loaded += self._copy_prices(cursor, table)
                advance(rows)
        return loaded

    def _copy_prices(self, cursor: Any, prices: pa.Table) -> int:
        """COPY ``prices`` into ``market_odds``; return how many rows.

        Repeated prices are found within a batch; the same price given again more than
        a batch away reaches the unique key, and is reported here for people.
        """
        if not prices.num_rows:
            return 0
        try:
            cursor.adbc_ingest("market_odds", prices, mode="append")
        except Exception as exc:
            if "23505" not in str(exc):  # unique_violation: the price key, on a partition
                raise
            raise ValidationError(
                f"{self.source.name} gives the same price (bookmaker, bookmaker event, "
                "captured_at, market, line, outcome) more than once, in rows more than "
                f"{self.batch_rows:,} rows apart; nothing from it was loaded. Remove the "
                "repeated rows, or load with a larger batch_rows so that they meet in one "
                f"batch. ({' '.join(str(exc).split())[:300]})"
            ) from None
        return prices.num_rows

    # -- errors and rejects ------------------------------------------------------------

    def _record_errors(self, raw: pl.DataFrame | None, errors: pl.DataFrame) -> None:
        """Count every problem, keep the first ones, and write skipped rows to the rejects."""
        self.error_count += errors.height
        self.problem_rows += errors["row"].n_unique()
        self.problem_counts.update(count_problems(errors))
        kept = sum(e.height for e in self.errors)
        if kept < MAX_STORED_ERRORS:
            self.errors.append(errors.head(MAX_STORED_ERRORS - kept))
        if self.on_error == "skip" and raw is not None and self.rejects is not None:
            reasons = errors.group_by("row", maintain_order=True).agg(
                pl.format("{}: {}", pl.col("column").fill_null("row"), "reason")
                .str.join("; ")
                .alias("reason")
            )
            rows = raw.join(reasons, on="row", how="inner")
            unreadable = reasons.join(raw.select("row"), on="row", how="anti")
            rows = (
                pl.concat([rows, unreadable], how="diagonal_relaxed") if unreadable.height else rows
            )
            self.rejects.append(rows.sort("row", nulls_last=True))

    def _exclude(self, events: pl.DataFrame) -> None:
        """Skip mode: leave these bookmaker events out and write their rows to the rejects."""
        for raw, valid, _ in self._batches("rejecting"):
            rows = valid.join(events, on=EVENT_KEY, how="semi")
            self.excluded_rows += rows.height
            self.excluded_snapshots += rows.unique(SNAPSHOT_KEY).height
            if rows.height and self.rejects is not None:
                out = raw.join(rows.select("row"), on="row", how="semi").with_columns(
                    pl.lit("teams or SportRadar id conflict with this bookmaker event id").alias(
                        "reason"
                    )
                )
                self.rejects.append(out)

    def _validation_error(self) -> ValidationError:
        """The refusal of this source: true counts, the common problems, the first ones."""
        errors = pl.concat(self.errors) if self.errors else pl.DataFrame(schema=ERROR_SCHEMA)
        problems, rows = self.error_count, self.problem_rows
        lines = [
            f"{self.source.name}: {problems:,} problem{'s' * (problems != 1)} "
            f"in {rows:,} row{'s' * (rows != 1)}; nothing from it was loaded."
        ]
        if problems > SHOWN_ERRORS:
            lines += ["Problems by kind:", summarise_problems(self.problem_counts)]
            lines.append(f"The first {SHOWN_ERRORS}:")
        lines.append(
            format_errors(errors, source=self.source.name, limit=SHOWN_ERRORS, total=problems)
        )
        lines.append(
            "Fix these rows, or load the good rows with on_error='skip' (CLI: --on-error skip), "
            "which writes the rejected ones with their reasons to a rejects file."
        )
        return ValidationError("\n".join(lines))

    # -- lineage (oddskit.runs) ---------------------------------------------------------

    def _start_run(self) -> RunRecord:
        return RunRecord.start(self.db, source=self.source.name, file_hash=self.file_hash)

    def _finish_run(self, cursor: Any, result: LoadResult) -> None:
        details = {
            "snapshots_new": result.snapshots_new,
            "snapshots_present": result.snapshots_present,
            "new_events": result.new_events,
            "new_bookmakers": result.new_bookmakers,
            "rescheduled_events": result.rescheduled_events,
            "partitions_created": list(result.partitions_created),
            "seconds": round(result.seconds, 3),
            "timings": {step: round(seconds, 3) for step, seconds in result.timings.items()},
            "rejects_path": str(result.rejects_path) if result.rejects_path else None,
            "problems": self.error_count,
        }
        if result.rejects_run_id is not None:
            details["rejects_run_id"] = result.rejects_run_id
        self.run_record.finish(
            cursor,
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_present=result.rows_present,
            rows_rejected=result.rows_rejected,
            details=details,
            errors=pl.concat(self.errors) if self.errors else None,
        )

    def _fail_run(self, exc: BaseException) -> None:
        """Mark the run failed (committed on its own) with its problems."""
        message = str(exc) if isinstance(exc, OddskitError) else f"{type(exc).__name__}: {exc}"
        message = self.db.mask(message)  # lineage rows never hold a password
        self.run_record.fail(
            message,
            rows_rejected=self.rejected_rows,
            details={"problems": self.error_count, "problem_rows": self.problem_rows},
            errors=pl.concat(self.errors) if self.errors else None,
        )


@dataclass(frozen=True)
class _CheckedBatch:
    """A batch that passed every check, ready for :meth:`_SourceLoader._one_pass`."""

    rows: int
    prices: pl.DataFrame  # snapshot key and price columns of its valid rows
    fresh: pl.DataFrame  # its snapshots not seen in earlier batches (SNAPSHOT_COLUMNS)
    snapshots_seen: int  # distinct snapshots in this batch and the ones before


class _Fallback(Exception):
    """The one-pass load met a problem: roll back and load in two passes instead."""


class _SeenSnapshots:
    """The snapshots a one-pass load has seen, kept small: key and a hash of its match.

    :meth:`add` takes a batch's distinct snapshots (:data:`SNAPSHOT_COLUMNS`) and
    returns those not seen before, or ``None`` when the batch describes a snapshot's
    match differently from an earlier batch, or names other teams or another
    SportRadar id for a bookmaker event — the problems
    :meth:`_SourceLoader._check_events_within_source` reports. About 50 bytes per
    snapshot (one in ~30 input rows) stay in memory.

    Example:
        >>> row = {"row": 1, "bookmaker": "b", "bookmaker_event_id": "1", "sport": "s",
        ...        "country": None, "tournament": "t", "sportradar_id": None,
        ...        "home_team": "A", "away_team": "B", "kickoff": 9, "captured_at": 1}
        >>> seen = _SeenSnapshots()
        >>> seen.add(pl.DataFrame([row])).height
        1
        >>> seen.add(pl.DataFrame([row, {**row, "captured_at": 2}])).height, seen.count
        (1, 2)
        >>> seen.add(pl.DataFrame([{**row, "captured_at": 3, "home_team": "C"}])) is None
        True
    """

    def __init__(self) -> None:
        self.keys = pl.DataFrame()  # SNAPSHOT_KEY and "described", one row per snapshot
        self.teams = pl.DataFrame()  # EVENT_KEY, teams and SportRadar id, one row per event

    @property
    def count(self) -> int:
        return self.keys.height

    def add(self, part: pl.DataFrame) -> pl.DataFrame | None:
        described = part.select(
            *SNAPSHOT_KEY, pl.struct(SNAPSHOT_ATTRIBUTES).hash().alias("described")
        ).unique()
        if described.select(SNAPSHOT_KEY).is_duplicated().any():
            return None
        teams = part.select(*EVENT_KEY, "home_team", "away_team", "sportradar_id").unique()
        if self.keys.height:
            # Semi-joins hash this batch's keys and scan the history: nothing the size
            # of the history is allocated, so memory stays flat as the source grows.
            earlier = self.keys.join(described.select(SNAPSHOT_KEY), on=SNAPSHOT_KEY, how="semi")
            again = earlier.join(described, on=SNAPSHOT_KEY, how="inner")
            if (again["described"] != again["described_right"]).any():
                return None
            known_teams = self.teams.join(teams.select(EVENT_KEY), on=EVENT_KEY, how="semi")
            teams = pl.concat([known_teams, teams]).unique()
            described = described.join(earlier.select(SNAPSHOT_KEY), on=SNAPSHOT_KEY, how="anti")
        if teams.select(EVENT_KEY).is_duplicated().any():
            return None
        self.teams = _owned(pl.concat([self.teams, teams]).unique() if self.teams.height else teams)
        self.keys = (
            pl.concat([self.keys, _owned(described)]) if self.keys.height else _owned(described)
        )
        return part.join(described.select(SNAPSHOT_KEY), on=SNAPSHOT_KEY, how="semi")


def _with_snapshot_ids(prices: pl.DataFrame, created: pl.DataFrame) -> pa.Table:
    """The prices whose snapshot this load created, as ``market_odds`` rows.

    Sorted by snapshot id: ids follow the input, so the unique index grows at its
    right edge.
    """
    keys = prices.select(SNAPSHOT_KEY).unique()
    ids = created.join(keys, on=SNAPSHOT_KEY, how="semi")  # hashes the batch, not `created`
    rows = (
        prices.join(ids, on=SNAPSHOT_KEY, how="inner")
        .select(PRICE_SCHEMA.names)
        .sort("snapshot_id")
    )
    return rows.to_arrow().cast(PRICE_SCHEMA)


def _owned(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` that holds only its own bytes, for results kept across batches.

    Polars strings are views: a few thousand snapshot rows picked out of a batch keep
    the whole batch's string buffers alive (about 100 bytes per input row), which made
    the loader's memory grow with the file. A round trip through Arrow copies out just
    the bytes in use (70 ms for 10M input rows; peak RSS 1.5 GB → 0.7 GB at 10M rows).

    Example:
        >>> _owned(pl.DataFrame({"a": ["x", "y"]})).filter(pl.col("a") == "y").to_dicts()
        [{'a': 'y'}]
    """
    owned = pl.from_arrow(frame.to_arrow())
    assert isinstance(owned, pl.DataFrame)
    return owned


def _prefetch(items: Iterator[Any]) -> Iterator[Any]:
    """Yield from ``items`` while a worker thread computes the next one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, _DONE)
        while (item := pending.result()) is not _DONE:
            pending = pool.submit(next, items, _DONE)
            yield item


_DONE = object()


class _Stopwatch:
    """Seconds spent in each step of a load."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step] = self.laps.get(step, 0.0) + now - self.last
        self.last = now


def _stage(cursor: Any, table: str, frame: pl.DataFrame) -> None:
    """COPY ``frame`` into a new temporary table ``table``."""
    cursor.adbc_ingest(table, _for_copy(frame), mode="create", temporary=True)


def _for_copy(frame: pl.DataFrame) -> pa.Table:
    """``frame`` as Arrow with plain ``string`` columns (what ADBC's COPY writer expects)."""
    table = frame.to_arrow()
    return table.cast(pa.schema([f.with_type(_plain(f.type)) for f in table.schema]))


def _plain(dtype: pa.DataType) -> pa.DataType:
    """Large/view strings as plain ``string`` (what ADBC's COPY writer expects)."""
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    return dtype


def _rowcount(cursor: Any, statement: str) -> int:
    cursor.execute(statement)
    return len(cursor.fetchall())


@contextmanager
def _progress(show: bool, description: str, total: int | None) -> Iterator[Any]:
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


_EVENT_STATEMENTS: tuple[str, ...] = (
    "CREATE TEMP TABLE _load_events AS "
    "SELECT b.id AS bookmaker_id, l.bookmaker, l.bookmaker_event_id, l.sportradar_id, "
    "t.id AS tournament_id, l.home_team, l.away_team, l.kickoff, l.latest_captured_at, l.row, "
    "CAST(NULL AS integer) AS event_id, false AS is_new "
    "FROM _load_event_rows l JOIN bookmakers b ON b.name = l.bookmaker "
    "JOIN sports s ON s.name = l.sport "
    "JOIN tournaments t ON t.sport_id = s.id AND t.country IS NOT DISTINCT FROM l.country "
    "AND t.name = l.tournament",
    # Known bookmaker event ids first, then the SportRadar id.
    "UPDATE _load_events le SET event_id = eb.event_id FROM event_bookmakers eb "
    "WHERE eb.bookmaker_id = le.bookmaker_id AND eb.bookmaker_event_id = le.bookmaker_event_id",
    "UPDATE _load_events le SET event_id = e.id FROM events e "
    "WHERE le.event_id IS NULL AND le.sportradar_id IS NOT NULL "
    "AND e.sportradar_id = le.sportradar_id",
    # Bookmaker event ids whose stored teams or SportRadar id differ from this input.
    "CREATE TEMP TABLE _load_conflicts AS "
    "SELECT le.row, le.bookmaker, le.bookmaker_event_id, le.home_team, le.away_team, "
    "le.sportradar_id, eb.home_team AS stored_home, eb.away_team AS stored_away, "
    "e.sportradar_id AS stored_sportradar_id "
    "FROM _load_events le JOIN event_bookmakers eb ON eb.bookmaker_id = le.bookmaker_id "
    "AND eb.bookmaker_event_id = le.bookmaker_event_id JOIN events e ON e.id = eb.event_id "
    "WHERE eb.home_team <> le.home_team OR eb.away_team <> le.away_team "
    "OR (le.sportradar_id IS NOT NULL AND e.sportradar_id IS NOT NULL "
    "AND le.sportradar_id <> e.sportradar_id)",
)

_CONFLICTS_WITH_DATABASE = "SELECT * FROM _load_conflicts ORDER BY row"

# New events: one per SportRadar id, else one per bookmaker event; ids drawn up front
# so that every bookmaker event can be linked to its new event.
_INSERT_NEW_EVENTS = (
    "WITH fresh AS ("
    "  SELECT DISTINCT ON (key) key, tournament_id, sportradar_id, home_team, away_team, kickoff "
    "  FROM (SELECT *, coalesce('sr:' || sportradar_id, "
    "               'bm:' || bookmaker_id || ':' || bookmaker_event_id) AS key "
    "        FROM _load_events WHERE event_id IS NULL) candidates "
    "  ORDER BY key, latest_captured_at DESC"
    "), numbered AS ("
    "  SELECT key, nextval(pg_get_serial_sequence('events', 'id')) AS id, tournament_id, "
    "  sportradar_id, home_team, away_team, kickoff FROM fresh"
    "), inserted AS ("
    "  INSERT INTO events (id, tournament_id, sportradar_id, home_team, away_team, kickoff) "
    "  SELECT id, tournament_id, sportradar_id, home_team, away_team, kickoff FROM numbered "
    "  RETURNING id"
    ") "
    "UPDATE _load_events le SET event_id = n.id, is_new = true FROM numbered n "
    "WHERE le.event_id IS NULL AND n.key = coalesce('sr:' || le.sportradar_id, "
    "'bm:' || le.bookmaker_id || ':' || le.bookmaker_event_id)"
)

_INSERT_EVENT_BOOKMAKERS = (
    "INSERT INTO event_bookmakers "
    "(event_id, bookmaker_id, bookmaker_event_id, home_team, away_team) "
    "SELECT event_id, bookmaker_id, bookmaker_event_id, home_team, away_team FROM _load_events "
    "ON CONFLICT (bookmaker_id, bookmaker_event_id) DO NOTHING"
)

# A kickoff that changed is a reschedule: keep the one reported by the newest snapshot.
_RESCHEDULE = (
    "WITH newest AS ("
    "  SELECT DISTINCT ON (event_id) event_id, kickoff, latest_captured_at FROM _load_events "
    "  WHERE NOT is_new ORDER BY event_id, latest_captured_at DESC"
    ") "
    "UPDATE events e SET kickoff = n.kickoff, updated_at = now() FROM newest n "
    "WHERE e.id = n.event_id AND e.kickoff <> n.kickoff AND n.latest_captured_at >= coalesce("
    "  (SELECT max(s.captured_at) FROM odds_snapshots s WHERE s.event_id = e.id), '-infinity') "
    "RETURNING e.id"
)

# Returns the id of every staged snapshot this run holds: the ones inserted now, and
# (second part) ones an earlier batch of the same run inserted under another bookmaker
# event id of the same match (the statement's own inserts are not visible there).
_INSERT_SNAPSHOTS = (
    "WITH staged AS ("
    "  SELECT le.event_id, le.bookmaker_id, le.bookmaker, le.bookmaker_event_id, "
    "  l.captured_at, l.row FROM _load_snapshots l "
    "  JOIN _load_events le ON le.bookmaker = l.bookmaker "
    "  AND le.bookmaker_event_id = l.bookmaker_event_id"
    "), inserted AS ("
    "  INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at, run_id) "
    "  SELECT event_id, bookmaker_id, captured_at, $1 FROM staged "
    "  ORDER BY row "  # ids in file order: each batch of prices appends to the index
    "  ON CONFLICT DO NOTHING RETURNING id, event_id, bookmaker_id, captured_at"
    ") "
    "SELECT i.id AS snapshot_id, s.bookmaker, s.bookmaker_event_id, s.captured_at "
    "FROM staged s JOIN inserted i ON i.event_id = s.event_id "
    "AND i.bookmaker_id = s.bookmaker_id AND i.captured_at = s.captured_at "
    "UNION ALL "
    "SELECT o.id, s.bookmaker, s.bookmaker_event_id, s.captured_at "
    "FROM (SELECT * FROM staged s WHERE NOT EXISTS (SELECT FROM inserted i "
    "  WHERE i.event_id = s.event_id AND i.bookmaker_id = s.bookmaker_id "
    "  AND i.captured_at = s.captured_at)) s "
    "JOIN odds_snapshots o ON o.event_id = s.event_id AND o.bookmaker_id = s.bookmaker_id "
    "AND o.captured_at = s.captured_at AND o.run_id = $1"
)
