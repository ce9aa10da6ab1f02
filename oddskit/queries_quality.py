"""Data quality and lineage: coverage per bookmaker, gaps between snapshots, load runs.

Conventions as in :mod:`oddskit.queries`, which re-exports these helpers.

Examples
--------
>>> runs = fetch_load_runs(db)
>>> runs.select("kind", "rows_read", "rows_loaded").rows()
[('load', 20466, 20466)]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final, Literal

import polars as pl

from oddskit.arguments import choice, deprecated, duration, integer, integers, texts, window
from oddskit.connection import Database
from oddskit.errors import ConfigurationError
from oddskit.queries_bounds import capture_bounds, narrow_window, selects_pairs
from oddskit.query_builder import (
    UTC_DATETIME,
    Query,
    any_of,
    bookmaker_ids,
    micros,
    run_query,
)
from oddskit.runs import recent_runs

__all__ = [
    "COVERAGE_EVERY",
    "COVERAGE_SCHEMA",
    "GAPS_SCHEMA",
    "LOAD_RUNS_SCHEMA",
    "RUN_ERRORS_SCHEMA",
    "RunKind",
    "RunStatus",
    "fetch_coverage",
    "fetch_gaps",
    "fetch_load_runs",
    "fetch_run_errors",
]

#: What a run in ``scrape_runs`` recorded.
RunKind = Literal["scrape", "load"]
#: Where a run in ``scrape_runs`` is.
RunStatus = Literal["running", "succeeded", "failed"]

#: Columns of :func:`fetch_coverage`.
COVERAGE_SCHEMA: pl.Schema = pl.Schema(
    {
        "bookmaker": pl.String,
        "bucket_start": UTC_DATETIME,
        "snapshots": pl.Int64,
        "events": pl.Int64,
    }
)

#: Columns of :func:`fetch_gaps`.
GAPS_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "bookmaker": pl.String,
        "gap_start": UTC_DATETIME,
        "gap_end": UTC_DATETIME,
        "gap": pl.Duration("us"),
        "missed": pl.Int64,
    }
)

#: Columns of :func:`fetch_load_runs`.
LOAD_RUNS_SCHEMA: pl.Schema = pl.Schema(
    {
        "run_id": pl.Int64,
        "kind": pl.String,
        "bookmaker": pl.String,
        "source": pl.String,
        "status": pl.String,
        "started_at": UTC_DATETIME,
        "finished_at": UTC_DATETIME,
        "rows_read": pl.Int64,
        "rows_loaded": pl.Int64,
        "rows_present": pl.Int64,
        "rows_rejected": pl.Int64,
        "errors": pl.Int64,
        "file_hash": pl.String,
        "error": pl.String,
    }
)

#: Columns of :func:`fetch_run_errors`.
RUN_ERRORS_SCHEMA: pl.Schema = pl.Schema(
    {
        "run_id": pl.Int64,
        "error_id": pl.Int64,
        "occurred_at": UTC_DATETIME,
        "row_number": pl.Int64,
        "column_name": pl.String,
        "value": pl.String,
        "message": pl.String,
    }
)

#: The PostgreSQL bucket widths :func:`fetch_coverage` took before 0.2 (deprecated:
#: pass durations such as ``"1h"``), with their seconds and new spelling.
_EVERY_SECONDS: Final[dict[str, int]] = {
    "1 minute": 60,
    "5 minutes": 300,
    "10 minutes": 600,
    "15 minutes": 900,
    "30 minutes": 1800,
    "1 hour": 3600,
    "2 hours": 7200,
    "3 hours": 10800,
    "6 hours": 21600,
    "12 hours": 43200,
    "1 day": 86400,
}
COVERAGE_EVERY: Final[tuple[str, ...]] = tuple(_EVERY_SECONDS)
_EVERY_NEW: Final[dict[str, str]] = {
    old: old.split()[0] + {"m": "m", "h": "h", "d": "d"}[old.split()[1][0]]
    for old in _EVERY_SECONDS
}
_MAX_BUCKETS = 200_000

#: date_bin origin: buckets start on UTC midnights (and whole UTC hours/minutes).
_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"


def _captures(
    db: Database,
    since: datetime,
    until: datetime,
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
) -> tuple[datetime, datetime]:
    """``[since, until)`` narrowed to the capture bounds of the selected pairs (an empty
    window at ``since`` when none of their snapshots is in it), so that only those
    days' partitions are planned (:mod:`oddskit.queries_bounds`)."""
    if not selects_pairs(event_ids, bookmakers):
        return since, until
    span = capture_bounds(db, event_ids=event_ids, bookmakers=bookmakers)
    narrowed = None if span is None else narrow_window(span, since, until)
    return narrowed or (since, since)


def _bind_window(q: Query, window: tuple[datetime, datetime]) -> tuple[str, str]:
    """Bind a window of captures; its two placeholders."""
    return q.bind(window[0], "timestamptz"), q.bind(window[1], "timestamptz")


def _coverage_sql(
    *,
    since: datetime,
    until: datetime,
    every: timedelta,
    bookmakers: list[str] | None,
    captures: tuple[datetime, datetime] | None = None,
) -> Query:
    """``captures``: the part of ``[since, until)`` the snapshots are read from (the
    window narrowed to the bookmakers' capture bounds; default the whole window)."""
    q = Query()
    lower, upper = q.bind(since, "timestamptz"), q.bind(until, "timestamptz")
    first, last = (lower, upper) if captures is None else _bind_window(q, captures)
    width = q.bind(f"{micros(every)} microseconds", "text")
    q.add(
        "WITH books AS (SELECT id, name FROM bookmakers WHERE true",
    )
    any_of(q, "name", bookmakers, "text[]")
    q.add(
        "), buckets AS (",
        f"  SELECT generate_series(date_bin(CAST({width} AS interval), {lower}, {_ORIGIN}),",
        f"                         {upper} - interval '1 microsecond',",
        f"                         CAST({width} AS interval)) AS bucket_start",
        "), counts AS (",
        "  SELECT s.bookmaker_id,",
        f"         date_bin(CAST({width} AS interval), s.captured_at, {_ORIGIN}) AS bucket_start,",
        "         count(*) AS snapshots, count(DISTINCT s.event_id) AS events",
        "  FROM odds_snapshots s",
        f"  WHERE s.captured_at >= {first} AND s.captured_at < {last}",
        "    AND s.bookmaker_id IN (SELECT id FROM books)",
        "  GROUP BY 1, 2",
        ")",
        "SELECT b.name AS bookmaker, k.bucket_start,",
        "       coalesce(c.snapshots, 0) AS snapshots, coalesce(c.events, 0) AS events",
        "FROM books b CROSS JOIN buckets k",
        "LEFT JOIN counts c ON c.bookmaker_id = b.id AND c.bucket_start = k.bucket_start",
        'ORDER BY b.name COLLATE "C", k.bucket_start',
    )
    return q


def fetch_coverage(
    db: Database,
    *,
    since: datetime,
    until: datetime,
    every: timedelta | str = "1h",
    bookmakers: str | Iterable[str] | None = None,
) -> pl.DataFrame:
    """Snapshots (and distinct events) per bookmaker per time bucket.

    Every bucket touching ``[since, until)`` is listed for every bookmaker, with zero
    counts where nothing was captured. The first and last buckets count only the
    part inside the window.

    Parameters
    ----------
    db
        The database.
    since, until
        The window of captures (required, timezone-aware).
    every
        Bucket width (``"1h"``, ``"15m"``, a timedelta). Buckets start at whole
        multiples of ``every`` from 2000-01-01 UTC, so on UTC midnights for widths
        that divide a day. The PostgreSQL spellings of :data:`COVERAGE_EVERY`
        (``"1 hour"``) still work until 0.3, with a ``DeprecationWarning``.
    bookmakers
        A bookmaker or a list of bookmakers; default: all.

    Returns
    -------
    pl.DataFrame
        Columns :data:`COVERAGE_SCHEMA`, by bookmaker and bucket.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2026, 11, 28, 12, tzinfo=UTC)
    >>> coverage = fetch_coverage(db, since=t, until=t + timedelta(hours=2), bookmakers="Pinnacle")
    >>> coverage.select(pl.col("bucket_start").dt.hour(), "snapshots", "events").rows()
    [(12, 19, 5), (13, 12, 3)]
    """
    lower, upper = window(since, until)
    if lower is None or upper is None:
        raise ConfigurationError("`since` and `until` are required (timezone-aware datetimes)")
    if isinstance(every, str) and every in _EVERY_SECONDS:
        deprecated(f"every={every!r} is spelled every={_EVERY_NEW[every]!r} now")
        every = timedelta(seconds=_EVERY_SECONDS[every])
    width = duration(every, "every")
    assert width is not None
    buckets = (upper - lower) / width
    if buckets > _MAX_BUCKETS:
        raise ConfigurationError(
            f"{buckets:,.0f} buckets of {every} between `since` and `until` is too many "
            f"(at most {_MAX_BUCKETS:,}); use a wider `every` or a shorter window"
        )
    names = texts(bookmakers, "bookmakers")
    captures = _captures(db, lower, upper, event_ids=None, bookmakers=names)
    query = _coverage_sql(
        since=lower, until=upper, every=width, bookmakers=names, captures=captures
    )
    return run_query(db, query, COVERAGE_SCHEMA, "Fetching coverage")


def _gaps_sql(
    *,
    since: datetime,
    until: datetime,
    threshold: timedelta,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
) -> Query:
    q = Query()
    lower, upper = _bind_window(q, (since, until))
    q.add(
        "WITH ordered AS (",
        "  SELECT s.event_id, s.bookmaker_id, s.captured_at,",
        "         lag(s.captured_at) OVER (PARTITION BY s.event_id, s.bookmaker_id",
        "                                  ORDER BY s.captured_at) AS previous",
        "  FROM odds_snapshots s",
        f"  WHERE s.captured_at >= {lower} AND s.captured_at < {upper}",
    )
    any_of(q, "s.event_id", event_ids, "bigint[]")
    bookmaker_ids(q, "s.bookmaker_id", bookmakers)
    limit = q.bind(micros(threshold), "bigint")
    q.add(
        ")",
        "SELECT CAST(o.event_id AS bigint) AS event_id, b.name AS bookmaker,",
        "       o.previous AS gap_start, o.captured_at AS gap_end",
        "FROM ordered o JOIN bookmakers b ON b.id = o.bookmaker_id",
        f"WHERE o.captured_at - o.previous > {limit} * interval '1 microsecond'",
        'ORDER BY o.event_id, b.name COLLATE "C", o.previous',
    )
    return q


def fetch_gaps(
    db: Database,
    *,
    since: datetime,
    until: datetime,
    expected: timedelta | str = timedelta(minutes=5),
    tolerance: timedelta | str | None = None,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
) -> pl.DataFrame:
    """Gaps longer than ``expected + tolerance`` between consecutive snapshots.

    Consecutive means of the same event × bookmaker, both inside ``[since, until)``;
    the time before an event's first snapshot and after its last is not a gap.

    Parameters
    ----------
    db
        The database.
    since, until
        The window of captures (required, timezone-aware).
    expected
        The scraping interval (``"5m"``, a timedelta).
    tolerance
        Lateness still not a gap (≥ 0); default: half of ``expected``.
    event_ids
        An event id or a list of ids.
    bookmakers
        A bookmaker or a list of bookmakers.

    Returns
    -------
    pl.DataFrame
        Columns :data:`GAPS_SCHEMA`: ``gap`` is ``gap_end - gap_start`` and
        ``missed`` estimates the snapshots missed: ``max(round(gap / expected) - 1, 1)``.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2026, 11, 28, tzinfo=UTC)
    >>> gaps = fetch_gaps(db, since=t, until=t + timedelta(days=1), expected="15m")
    >>> bool((gaps["gap"] > timedelta(minutes=22, seconds=30)).all()), gaps["missed"].min()
    (True, 1)
    """
    lower, upper = window(since, until)
    if lower is None or upper is None:
        raise ConfigurationError("`since` and `until` are required (timezone-aware datetimes)")
    expected = duration(expected, "expected")  # type: ignore[assignment]
    assert isinstance(expected, timedelta)
    if tolerance is None:
        tolerance = expected / 2
    tolerance = duration(tolerance, "tolerance", allow_zero=True)  # type: ignore[assignment]
    ids, names = integers(event_ids, "event_ids"), texts(bookmakers, "bookmakers")
    lower, upper = _captures(db, lower, upper, event_ids=ids, bookmakers=names)
    query = _gaps_sql(
        since=lower,
        until=upper,
        threshold=expected + tolerance,  # type: ignore[operator]
        event_ids=ids,
        bookmakers=names,
    )
    frame = run_query(
        db,
        query,
        pl.Schema({k: v for k, v in GAPS_SCHEMA.items() if k not in ("gap", "missed")}),
        "Fetching gaps",
    )
    gap = pl.col("gap_end") - pl.col("gap_start")
    ratio = gap.dt.total_microseconds() / micros(expected)
    missed = pl.max_horizontal(ratio.round(0).cast(pl.Int64) - 1, pl.lit(1, pl.Int64))
    return frame.with_columns(gap.alias("gap"), missed.alias("missed")).cast(dict(GAPS_SCHEMA))


def fetch_load_runs(
    db: Database,
    *,
    limit: int = 20,
    kind: RunKind | None = None,
    status: RunStatus | None = None,
) -> pl.DataFrame:
    """The most recent scrape and load runs, newest first, with their error counts.

    Parameters
    ----------
    db
        The database.
    limit
        At most this many runs.
    kind
        ``"scrape"`` or ``"load"``; default: both.
    status
        ``"running"``, ``"succeeded"`` or ``"failed"``; default: any.

    Returns
    -------
    pl.DataFrame
        Columns :data:`LOAD_RUNS_SCHEMA`: ``errors`` counts the run's rows in
        ``scrape_errors`` (see :func:`fetch_run_errors`); ``error`` is the message of
        a failed run.

    Examples
    --------
    >>> fetch_load_runs(db, limit=1, kind="load").select("source", "status", "rows_rejected").rows()
    [('polars.DataFrame', 'succeeded', 0)]
    """
    runs = recent_runs(
        db,
        limit=integer(limit, "limit"),  # type: ignore[arg-type]
        kind=choice(kind, "kind", RunKind, allow_none=True),
        status=choice(status, "status", RunStatus, allow_none=True),
    )
    frame = pl.DataFrame(runs, schema=list(LOAD_RUNS_SCHEMA), orient="row")
    return frame.select(pl.col(name).cast(dtype) for name, dtype in LOAD_RUNS_SCHEMA.items())


def fetch_run_errors(db: Database, run_id: int) -> pl.DataFrame:
    """The problems recorded for one run, in order.

    Parameters
    ----------
    db
        The database.
    run_id
        The run (see :func:`fetch_load_runs`); an unknown one raises
        :class:`~oddskit.errors.ConfigurationError`.

    Returns
    -------
    pl.DataFrame
        Columns :data:`RUN_ERRORS_SCHEMA`, one row per recorded problem.

    Examples
    --------
    >>> runs = fetch_load_runs(db, limit=1)
    >>> fetch_run_errors(db, runs["run_id"][0]).height
    0
    """
    run = integer(run_id, "run_id")
    q = Query()
    placeholder = q.bind(run, "bigint")
    q.add(
        "SELECT r.id AS run_id, x.id AS error_id, x.occurred_at, x.row_number,",
        "       x.column_name, x.value, x.message",
        "FROM scrape_runs r LEFT JOIN scrape_errors x ON x.run_id = r.id",
        f"WHERE r.id = {placeholder}",
        "ORDER BY x.id",
    )
    frame = run_query(db, q, RUN_ERRORS_SCHEMA, "Fetching run errors")
    if frame.is_empty():
        raise ConfigurationError(
            f"there is no run with id {run}; fetch_load_runs(db) lists the recent ones"
        )
    return frame.filter(pl.col("error_id").is_not_null())
