r"""Capture bounds: the days that can hold the snapshots a query helper asks for.

Each listing (``event_bookmakers``) keeps the first and last ``captured_at`` of its
snapshots, live or archived (``first_captured_at``, ``last_captured_at``; the loader
widens them in the load's transaction). Before a helper reads the partitioned tables
it reads the bounds of the (event, bookmaker) pairs it selects — one index look-up
per event id on a small table — and binds them as *constant* ``captured_at`` bounds
on ``odds_snapshots`` and ``market_odds``: PostgreSQL then plans only the daily
partitions between the first and the last capture of those pairs, whatever else
the caller passed (event ids alone, a kickoff window, no ``since``). The board's
``LATERAL`` probe also bounds each pair by its own first and last capture, so that
at run time it visits only the partitions of that pair's days.

Bounds are never narrower than the snapshots (a day that retention dropped may
leave them wider, which costs nothing: the partition is gone). A pair without
bounds has no snapshot.

Example:
    >>> span = capture_bounds(db, event_ids=[1])
    >>> span.first <= span.last
    True
    >>> capture_bounds(db, event_ids=[999_999]) is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from oddskit.connection import Database
from oddskit.query_builder import UTC_DATETIME, Query, pair_filter, run_query

__all__ = ["Span", "capture_bounds", "narrow_window", "selects_pairs"]

_BOUNDS_SCHEMA = pl.Schema({"first": UTC_DATETIME, "last": UTC_DATETIME})
_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Span:
    """The first and last capture (both inclusive) of the selected pairs.

    Example:
        >>> from datetime import UTC, datetime
        >>> Span(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)).last.day
        2
    """

    first: datetime
    last: datetime


def _bounds_sql(
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> Query:
    q = Query()
    q.add("SELECT min(eb.first_captured_at) AS first, max(eb.last_captured_at) AS last")
    q.add("FROM event_bookmakers eb")
    if kickoff_since is not None or kickoff_until is not None:
        q.add("JOIN events ev ON ev.id = eb.event_id")
    q.add("WHERE true")
    pair_filter(q, "eb", event_ids, bookmakers, kickoff_since, kickoff_until)
    return q


def selects_pairs(
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> bool:
    """Whether the filters select some of the pairs (else every pair: no bounds to read).

    Example:
        >>> selects_pairs(None, None), selects_pairs([1], None)
        (False, True)
    """
    return any(f is not None for f in (event_ids, bookmakers, kickoff_since, kickoff_until))


def capture_bounds(
    db: Database,
    *,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> Span | None:
    """The first and last capture of the (event, bookmaker) pairs the filters select;
    ``None`` when none of them has a snapshot (arguments already checked).

    Example: see the module's.
    """
    query = _bounds_sql(
        event_ids=event_ids,
        bookmakers=bookmakers,
        kickoff_since=kickoff_since,
        kickoff_until=kickoff_until,
    )
    first, last = run_query(db, query, _BOUNDS_SCHEMA, "Reading capture bounds").row(0)
    if first is None or last is None:
        return None
    return Span(first, last)


def narrow_window(
    span: Span, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime] | None:
    """``[since, until)`` narrowed to ``span`` (half-open); ``None`` when they do not meet.

    Example:
        >>> from datetime import UTC, datetime
        >>> day = Span(datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 17, tzinfo=UTC))
        >>> [t.hour for t in narrow_window(day, None, datetime(2026, 1, 1, 12, tzinfo=UTC))]
        [9, 12]
        >>> narrow_window(day, datetime(2026, 1, 2, tzinfo=UTC), None) is None
        True
    """
    lower = span.first if since is None else max(since, span.first)
    upper = span.last + _US if until is None else min(until, span.last + _US)
    return (lower, upper) if lower < upper else None
