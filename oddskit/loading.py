"""Bulk loading: files, folders, globs and frames into the database, one source at a time.

:func:`load` resolves its inputs into sources (:mod:`oddskit.sources`) and loads each
in its own transaction (:func:`oddskit.loader.load_source`): checked
(:mod:`oddskit.checker`), then dimensions, snapshots and prices written
(:mod:`oddskit.load_sql`), recorded in ``scrape_runs`` (:mod:`oddskit.runs`), rejected
rows to rejects files (:mod:`oddskit.rejects`). It collects one
:class:`~oddskit.load_tally.LoadResult` per committed source and what became of every
source into a :class:`LoadReport`.

Examples
--------
>>> import oddskit
>>> oddskit.load("no/such/file.csv")
Traceback (most recent call last):
...
oddskit.errors.ValidationError: no/such/file.csv does not exist. Check the path (and the working folder).
"""  # noqa: E501

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from oddskit.arguments import choice, text
from oddskit.connection import Database, connect
from oddskit.errors import ConfigurationError, OddskitError, RejectsError, ValidationError
from oddskit.load_archive import ArchiveStage
from oddskit.load_tally import LoadResult
from oddskit.loader import Destination, OnError, load_source
from oddskit.markets import HandicapLines
from oddskit.partitions import maintain
from oddskit.rejects import check_rejects_path, rejects_target
from oddskit.runs import close_abandoned_runs
from oddskit.sources import DEFAULT_BATCH_ROWS, Source, resolve_sources
from oddskit.validation import SNAPSHOT_KEY

__all__ = ["SNAPSHOT_KEY", "LoadReport", "LoadResult", "OnError", "SourceOutcome", "load"]


@dataclass(frozen=True)
class SourceOutcome:
    """What became of one source of a :func:`load`: ``committed``, ``refused`` (its input
    or its rejects file), ``failed`` (the database) or ``not tried``.

    Examples
    --------
    >>> SourceOutcome("b.csv", "refused", "3 problems in 3 rows").status
    'refused'
    """

    source: str
    status: Literal["committed", "refused", "failed", "not tried"]
    detail: str = ""


@dataclass(frozen=True)
class LoadReport:
    """The results of one :func:`load` call, one per committed source, with totals.

    ``outcomes`` says what became of every source, in order; when some were not
    loaded, :func:`load` raises an error that carries this report as ``.report``.

    Examples
    --------
    >>> one = LoadResult("a.csv", 1, 10, 10, 0, 0, 1, 0, 1, 1, 0, (), 0.5)
    >>> two = LoadResult("b.csv", 2, 10, 0, 10, 0, 0, 1, 0, 0, 0, (), 0.5)
    >>> report = LoadReport((one, two))
    >>> report.rows_read, report.rows_loaded, report.rows_present
    (20, 10, 10)
    >>> print(str(report).splitlines()[-1])
    total: 20 rows read, 10 new, 10 already present, 0 rejected in 1.0 s
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
    handicap_lines: HandicapLines = "auto",
    to: Destination = "live",
    source_name: str | None = None,
) -> LoadReport:
    """Load odds snapshots in oddskit's input format into the database.

    Each source is loaded in its own transaction, whole or not at all. A refused
    source does not stop the others: every source is tried, then one error for the
    refused ones is raised, ending with every source's outcome (committed, refused,
    failed, not tried). A database failure stops the load: the sources after it are
    not tried. The error carries ``.report``, a :class:`LoadReport` of the committed
    sources and every source's outcome. Loading the same data again adds nothing.

    Parameters
    ----------
    inputs
        A path (CSV or Parquet), a folder or glob of them, a list of those, a
        ``pyarrow.Table``/``RecordBatchReader`` or a ``polars.DataFrame``/``LazyFrame``
        (see ``docs/input-format.md``). An existing path is always that file or folder;
        only a path that does not exist is read as a glob. Folders and globs leave out
        hidden files and rejects files.
    db
        The database (default: :func:`oddskit.connect`).
    on_error
        ``"raise"`` (default): a source with any bad row is refused whole with every
        problem listed. ``"skip"``: the good rows are loaded and the rejected ones
        written, with a ``reason`` column, to a rejects file, never replacing an
        existing file (see :mod:`oddskit.rejects`).
    rejects_path
        With ``"skip"``: a file or a folder for the rejects files (default
        ``<file>.rejects.csv`` beside each source).
    delimiter
        The CSV field delimiter.
    batch_rows
        Rows read, checked and written at a time (memory stays bounded by it).
    progress
        Show progress bars (default: when stderr is a terminal).
    handicap_lines
        How the input writes Asian-handicap lines: ``"auto"`` (default: a book is
        turned into home lines when only that reading pairs its sides), ``"own"``
        (each row carries its own side's handicap) or ``"home"`` (both rows carry the
        home team's handicap, oddskit's convention); see ``docs/input-format.md``.
    to
        ``"live"`` (default): the live tables (rows older than the retention window are
        refused); ``"archive"``: straight to the Parquet archive, for history
        (:mod:`oddskit.load_archive`; the same checks, no retention window). Several
        sources are checked and linked one by one, then their prices merged into the
        archive together, each day file written once.
    source_name
        The name an in-memory input (a frame or table) is recorded and reported under,
        e.g. the file it was read from (default: ``polars.DataFrame``, …).

    Returns
    -------
    LoadReport
        One :class:`~oddskit.load_tally.LoadResult` per source, with totals.

    Raises
    ------
    ValidationError
        A source was refused (its problems, and every source's outcome).
    RejectsError
        Rejected rows could not be written (nothing of that source was committed).
    DatabaseError
        The database failed.

    Examples
    --------
    A path that does not exist is refused before anything is loaded:

    >>> load("no/such/file.csv")
    Traceback (most recent call last):
    ...
    oddskit.errors.ValidationError: no/such/file.csv does not exist. ...

    A load, and the same data again (a sketch: it writes to your database):

    >>> from oddskit.sample import generate_sample
    >>> sample = generate_sample(days=1, events_per_day=5)
    >>> report = load(sample)  # doctest: +SKIP
    >>> report.rows_loaded == sample.height  # doctest: +SKIP
    True
    >>> load(sample).rows_present == sample.height  # doctest: +SKIP
    True
    """
    if on_error not in ("raise", "skip"):
        raise ValidationError(f"`on_error` must be one of {{'raise', 'skip'}}, got {on_error!r}")
    if on_error == "skip":
        check_rejects_path(rejects_path)
    handicap_lines = choice(handicap_lines, "handicap_lines", HandicapLines)
    to = choice(to, "to", Destination)
    sources = resolve_sources(inputs)
    if source_name is not None:
        if len(sources) != 1 or sources[0].path is not None:
            raise ConfigurationError(
                "`source_name` names one in-memory input (a frame or table); files keep "
                "their own names"
            )
        sources = [replace(sources[0], name=text(source_name, "source_name"))]
    own_db = db is None
    db = db or connect()
    show = sys.stderr.isatty() if progress is None else progress
    try:
        options = {
            "on_error": on_error,
            "delimiter": delimiter,
            "batch_rows": batch_rows,
            "progress": show,
            "handicap_lines": handicap_lines,
            "to": to,
        }
        return load_each(db, sources, len(sources), rejects_path, **options)
    finally:
        if own_db:
            db.close()


@dataclass(frozen=True)
class Unreadable:
    """A source :func:`load_each` is given that could not be read (e.g. a file that
    could not be converted to the input format): reported refused with ``error``."""

    name: str
    error: OddskitError


def load_each(
    db: Database,
    sources: Iterable[Source | Unreadable],
    count: int,
    rejects_path: str | Path | None,
    **options: Any,
) -> LoadReport:
    """Load ``count`` sources, each in its own transaction; what became of each.

    What :func:`load` does once its inputs are resolved; ``sources`` may be read
    lazily (e.g. a generator reading one file at a time, giving an
    :class:`Unreadable` for a file it could not read), and ``options`` are
    :func:`~oddskit.loader.load_source`'s. With ``to="archive"`` each source is
    checked and linked in turn, and their prices are merged into the archive at the
    end, each day file once (:class:`~oddskit.load_archive.ArchiveStage`); each
    source's result is known only then.

    Example:
        >>> unread = Unreadable("E0.csv", ValidationError("E0.csv: row 3 cannot be read"))
        >>> load_each(db, [unread], 1, None, to="archive")
        Traceback (most recent call last):
        ...
        oddskit.errors.ValidationError: E0.csv: row 3 cannot be read
    """
    close_abandoned_runs(db)
    maintain(db)
    to = options.get("to", "live")
    results: dict[int, LoadResult] = {}
    outcomes: list[SourceOutcome] = []
    errors: list[OddskitError] = []
    staged: list[int] = []  # the outcomes waiting for the stage's write
    with contextlib.ExitStack() as cleanup:
        stage = cleanup.enter_context(ArchiveStage(db)) if to == "archive" else None
        for source in sources:
            if errors and not _goes_on_after(errors[-1]):
                outcomes.append(SourceOutcome(source.name, "not tried"))
                continue
            if isinstance(source, Unreadable):
                detail = str(source.error).splitlines()[0].removeprefix(source.name).lstrip(": ")
                outcomes.append(SourceOutcome(source.name, "refused", detail))
                errors.append(source.error)
                continue
            target = rejects_target(source, rejects_path, count)
            skip = options.get("on_error") == "skip"
            try:
                result = load_source(
                    db, source, rejects_path=target if skip else None, stage=stage, **options
                )
            except OddskitError as exc:
                status = "refused" if _goes_on_after(exc) else "failed"
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                detail = first.removeprefix(source.name).lstrip(": ")
                outcomes.append(SourceOutcome(source.name, status, detail))
                errors.append(exc)
                continue
            if result is None:  # waiting in the stage
                staged.append(len(outcomes))
                outcomes.append(SourceOutcome(source.name, "committed"))
                continue
            results[len(outcomes)] = result
            outcomes.append(SourceOutcome(source.name, "committed"))
        if stage is not None and len(stage):
            failed: list[OddskitError] = []
            for index, (name, outcome) in zip(staged, stage.write(), strict=True):
                if isinstance(outcome, LoadResult):
                    results[index] = outcome
                    continue
                detail = str(outcome).splitlines()[0].removeprefix(name).lstrip(": ")
                outcomes[index] = SourceOutcome(name, "failed", detail)
                failed.append(outcome)
            errors += failed[:1]  # (the others say the same of their source: see outcomes)
    report = LoadReport(tuple(results[i] for i in sorted(results)), tuple(outcomes))
    if errors:
        if count == 1:
            errors[0].report = report  # type: ignore[attr-defined]
            raise errors[0]
        raise _not_all_loaded(report, errors)
    return report


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
