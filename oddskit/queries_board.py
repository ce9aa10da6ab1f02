r"""The board: one snapshot per event × bookmaker (latest as of a time, opening, closing).

Opening and closing odds are read from ``opening_odds`` and ``closing_odds``, and the
board now (or at any instant no selected pair has a newer snapshot than) from
``current_odds``: tables of one snapshot per pair that the loader keeps in the load's
transaction (:mod:`oddskit.board_tables`, :mod:`oddskit.queries_current`), so that
a season's board is one scan of a small table, whatever the history stored.

The latest odds as of a past instant take the (event, bookmaker) pairs from
``event_bookmakers`` and find each pair's snapshot with a ``LATERAL ... ORDER BY
captured_at LIMIT 1`` probe of the ``(event_id, bookmaker_id, captured_at)`` unique
index, then join that snapshot's prices. The probe is bounded by the pair's first and
last capture, and the whole query by those of every selected pair (constants: the
planner keeps only the partitions between them, :mod:`oddskit.queries_bounds`).
When archived days can hold a pair's snapshot (the window of
:func:`fetch_latest_odds` reaches them; for opening and closing odds, the archived
days within the pairs' bounds), the live pick (with every market) and the archived
snapshots are compared per pair (:func:`oddskit.queries_archive.archived_board`).
Conventions as in :mod:`oddskit.queries`, which re-exports these helpers.

Examples
--------
>>> closing = fetch_closing_odds(db, bookmakers="Pinnacle", markets="btts")
>>> closing.select("event_id", "outcome", "odds").head(2).rows()
[(1, 'no', 1.592), (1, 'yes', 2.483)]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import polars as pl

from oddskit.arguments import aware_datetime, duration, integers, texts, window
from oddskit.connection import Database
from oddskit.queries_archive import archive_files, archived_board
from oddskit.queries_bounds import capture_bounds, selects_pairs
from oddskit.queries_current import BOARD_ORDER, any_ahead, current_board
from oddskit.query_builder import UTC_DATETIME, Query, any_of, pair_filter, run_query

__all__ = ["BOARD_SCHEMA", "fetch_closing_odds", "fetch_latest_odds", "fetch_opening_odds"]

#: Columns of :func:`fetch_latest_odds`, :func:`fetch_opening_odds` and
#: :func:`fetch_closing_odds`: one snapshot per event × bookmaker, with its prices.
BOARD_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "bookmaker": pl.String,
        "kickoff": UTC_DATETIME,
        "captured_at": UTC_DATETIME,
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)

_BOARD_SELECT = (
    "SELECT CAST(p.event_id AS bigint) AS event_id, b.name AS bookmaker, p.kickoff,",
    "       s.captured_at, m.market, m.line, m.outcome, m.odds",
)
_US = timedelta(microseconds=1)
_BOARD_ORDER = (
    'ORDER BY p.event_id, b.name COLLATE "C", m.market COLLATE "C", m.line, m.outcome COLLATE "C"'
)


#: Columns of the (event, bookmaker) pairs a board is made of.
PAIRS_SCHEMA: pl.Schema = pl.Schema(
    {"event_id": pl.Int64, "bookmaker": pl.String, "kickoff": UTC_DATETIME}
)


def _pairs_sql(
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> Query:
    """The (event, bookmaker) pairs of a board with their kickoff (for archived days)."""
    q = Query()
    q.add(
        "SELECT DISTINCT CAST(eb.event_id AS bigint) AS event_id, b.name AS bookmaker,",
        "       ev.kickoff",
        "FROM event_bookmakers eb",
        "JOIN events ev ON ev.id = eb.event_id",
        "JOIN bookmakers b ON b.id = eb.bookmaker_id",
        "WHERE true",
    )
    pair_filter(q, "eb", event_ids, bookmakers, kickoff_since, kickoff_until)
    return q


def _latest_sql(
    as_of: datetime,
    *,
    since: datetime | None = None,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    markets: list[str] | None = None,
) -> Query:
    """Each (event, bookmaker) pair's newest snapshot in ``[since, as_of]`` and its prices
    (``markets=None`` for archived days: the pick needs every market of a snapshot).

    ``since`` and ``as_of`` are constants, the same on the prices, so that the planner
    keeps only the partitions between them (:mod:`oddskit.queries_bounds`). Each pair's
    probe is also bounded by the pair's own first and last capture, so that it visits
    only those days.
    """
    q = Query()
    q.add(
        "WITH pairs AS (",
        "  SELECT eb.event_id, eb.bookmaker_id, ev.kickoff,",
        "         min(eb.first_captured_at) AS first_at, max(eb.last_captured_at) AS last_at",
        "  FROM event_bookmakers eb",
        "  JOIN events ev ON ev.id = eb.event_id",
        "  WHERE eb.first_captured_at IS NOT NULL",
    )
    pair_filter(q, "eb", event_ids, bookmakers)
    q.add("  GROUP BY eb.event_id, eb.bookmaker_id, ev.kickoff", ")")
    upper_sql = q.bind(as_of, "timestamptz")
    lower_sql = q.bind(since, "timestamptz") if since is not None else None
    q.add(
        *_BOARD_SELECT,
        "FROM pairs p",
        "CROSS JOIN LATERAL (",
        "  SELECT o.id, o.captured_at FROM odds_snapshots o",
        "  WHERE o.event_id = p.event_id AND o.bookmaker_id = p.bookmaker_id",
        "    AND o.captured_at >= p.first_at AND o.captured_at <= p.last_at",
    )
    price_bounds = []
    for column_bound, sql in (("<=", upper_sql), (">=", lower_sql)):
        if sql is not None:
            q.add(f"    AND o.captured_at {column_bound} {sql}")
            price_bounds.append(f"  AND m.captured_at {column_bound} {sql}")
    q.add("  ORDER BY o.captured_at DESC LIMIT 1", ") s")
    q.add(
        "JOIN market_odds m ON m.snapshot_id = s.id AND m.captured_at = s.captured_at",
        *price_bounds,
        "JOIN bookmakers b ON b.id = p.bookmaker_id",
        "WHERE true",
    )
    any_of(q, "m.market", markets, "text[]")
    q.add(_BOARD_ORDER)
    return q


def _edge_sql(
    *,
    closing: bool,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    markets: list[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> Query:
    """The opening (or closing) board of the live tables, from ``opening_odds`` (or
    ``closing_odds``, :mod:`oddskit.board_tables`), in no order (sort by
    :data:`~oddskit.queries_current.BOARD_ORDER`)."""
    q = Query()
    table = "closing_odds" if closing else "opening_odds"
    q.add(
        "SELECT CAST(x.event_id AS bigint) AS event_id, b.name AS bookmaker, ev.kickoff,",
        "       x.captured_at, x.market, x.line, x.outcome, x.odds",
        f"FROM {table} x",
        "JOIN events ev ON ev.id = x.event_id",
        "JOIN bookmakers b ON b.id = x.bookmaker_id",
        "WHERE true",
    )
    pair_filter(q, "x", event_ids, bookmakers, kickoff_since, kickoff_until)
    any_of(q, "x.market", markets, "text[]")
    return q


def _bounded(
    db: Database,
    lower: datetime | None,
    upper: datetime | None,
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> tuple[datetime | None, datetime | None] | None:
    """``[lower, upper]`` (inclusive) narrowed to the capture bounds of the selected
    pairs; ``None`` when no snapshot of theirs can be in it. Without filters every
    pair is selected: the bounds are left as they are."""
    if not selects_pairs(event_ids, bookmakers, kickoff_since, kickoff_until):
        return lower, upper
    span = capture_bounds(
        db,
        event_ids=event_ids,
        bookmakers=bookmakers,
        kickoff_since=kickoff_since,
        kickoff_until=kickoff_until,
    )
    if span is None:
        return None
    lower = span.first if lower is None else max(lower, span.first)
    upper = span.last if upper is None else min(upper, span.last)
    return (lower, upper) if lower <= upper else None


def fetch_latest_odds(
    db: Database,
    *,
    as_of: datetime | None = None,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    lookback: timedelta | str | None = None,
) -> pl.DataFrame:
    """The board at ``as_of``: each event × bookmaker's newest snapshot, with its prices.

    For every (event, bookmaker) pair the newest snapshot captured at or before
    ``as_of`` — never a later one — and its prices. An outcome missing from that
    snapshot (suspended) is missing here too: older prices are not carried forward.

    Left out, ``as_of`` is now, and the board is read from ``current_odds`` (each
    pair's newest snapshot, kept by the loader; :mod:`oddskit.queries_current`): the
    same rows as ``as_of=datetime.now(UTC)``, in about the time it takes to send
    them, however much history is stored. Archived days within ``lookback`` are read
    and merged either way (a short ``lookback`` keeps the board off the archive).

    Parameters
    ----------
    db
        The database.
    as_of
        The instant of the board (timezone-aware); default: now.
    event_ids
        An event id or a list of ids.
    bookmakers
        A bookmaker or a list of bookmakers.
    markets
        Only these markets' prices of the chosen snapshot.
    lookback
        Ignore snapshots older than ``as_of - lookback`` (``"2d"``, a timedelta); it
        also lets PostgreSQL skip the older partitions.

    Returns
    -------
    pl.DataFrame
        Columns :data:`BOARD_SCHEMA`, sorted by event, bookmaker, market, line, outcome.

    Examples
    --------
    >>> as_of = datetime(2026, 11, 28, 12, tzinfo=UTC)
    >>> board = fetch_latest_odds(
    ...     db, as_of=as_of, bookmakers=["betPawa", "Pinnacle"], lookback="2h"
    ... )
    >>> bool((board["captured_at"] <= as_of).all()), sorted(board["bookmaker"].unique())
    (True, ['Pinnacle', 'betPawa'])
    >>> sorted(board["event_id"].unique())
    [2, 3, 4, 5, 6]
    """
    moment = aware_datetime(as_of, "as_of") or datetime.now(UTC)
    span = duration(lookback, "lookback", allow_none=True)
    since = None if span is None else moment - span
    ids, names, market_list = (
        integers(event_ids, "event_ids"),
        texts(bookmakers, "bookmakers"),
        texts(markets, "markets"),
    )
    what = "Fetching the latest odds"
    bounds = _bounded(db, since, moment, event_ids=ids, bookmakers=names)
    if bounds is None:
        return pl.DataFrame(schema=BOARD_SCHEMA)
    lower, upper = bounds
    assert upper is not None

    # From current_odds when it is exact at `moment`: now, or no selected pair's newest
    # snapshot after it (the same rows, without probing the history).
    current = as_of is None or not any_ahead(db, moment, event_ids=ids, bookmakers=names)

    def fetch_live(markets: list[str] | None) -> pl.DataFrame:
        if current:
            return current_board(
                db,
                moment,
                BOARD_SCHEMA,
                since=since,
                event_ids=ids,
                bookmakers=names,
                markets=markets,
                ahead=False if as_of is not None else None,
                exact_instant=as_of is not None,
            )
        query = _latest_sql(upper, since=lower, event_ids=ids, bookmakers=names, markets=markets)
        return run_query(db, query, BOARD_SCHEMA, what)

    files = archive_files(db, lower, upper + _US)
    if not files:
        return fetch_live(market_list)
    live = fetch_live(None)
    pairs = run_query(db, _pairs_sql(event_ids=ids, bookmakers=names), PAIRS_SCHEMA, what)
    return archived_board(
        files, live, pairs, newest=True, markets=market_list, since=lower, until=upper
    )


def _fetch_edge(
    db: Database,
    what: str,
    *,
    closing: bool,
    event_ids: object,
    bookmakers: object,
    markets: object,
    kickoff_since: object,
    kickoff_until: object,
) -> pl.DataFrame:
    since, until = window(kickoff_since, kickoff_until, ("kickoff_since", "kickoff_until"))
    filters = {
        "event_ids": integers(event_ids, "event_ids"),
        "bookmakers": texts(bookmakers, "bookmakers"),
        "kickoff_since": since,
        "kickoff_until": until,
    }
    market_list = texts(markets, "markets")
    # A closing snapshot is captured before a kickoff before ``until``: no later day.
    latest = until - _US if closing and until is not None else None
    bounds = _bounded(db, None, latest, **filters)
    if bounds is None:
        return pl.DataFrame(schema=BOARD_SCHEMA)
    lower, upper = bounds
    files = archive_files(db, lower, None if upper is None else upper + _US)

    def fetch_live(markets: list[str] | None) -> pl.DataFrame:
        query = _edge_sql(closing=closing, markets=markets, **filters)
        return run_query(db, query, BOARD_SCHEMA, what).sort(BOARD_ORDER, nulls_last=True)

    if not files:
        return fetch_live(market_list)
    live = fetch_live(None)
    pairs = run_query(db, _pairs_sql(**filters), PAIRS_SCHEMA, what)
    return archived_board(
        files, live, pairs, newest=closing, markets=market_list, before_kickoff=closing
    )


def fetch_opening_odds(
    db: Database,
    *,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> pl.DataFrame:
    """Each event × bookmaker's first snapshot and its prices.

    Parameters
    ----------
    db
        The database.
    event_ids
        An event id or a list of ids.
    bookmakers
        A bookmaker or a list of bookmakers.
    markets
        Only these markets' prices of the chosen snapshot.
    kickoff_since, kickoff_until
        Only events kicking off in ``[kickoff_since, kickoff_until)``.

    Returns
    -------
    pl.DataFrame
        Columns :data:`BOARD_SCHEMA`.

    Examples
    --------
    >>> opening = fetch_opening_odds(db, event_ids=[1], markets="1x2")
    >>> opening.group_by("bookmaker").len().sort("bookmaker").rows()
    [('Bet9ja', 3), ('Pinnacle', 3), ('SportyBet', 3), ('betPawa', 3)]
    """
    return _fetch_edge(
        db,
        "Fetching the opening odds",
        closing=False,
        event_ids=event_ids,
        bookmakers=bookmakers,
        markets=markets,
        kickoff_since=kickoff_since,
        kickoff_until=kickoff_until,
    )


def fetch_closing_odds(
    db: Database,
    *,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> pl.DataFrame:
    """Each event × bookmaker's last snapshot strictly before kickoff, and its prices.

    Kickoff is ``events.kickoff`` (the latest reported schedule); in-play snapshots,
    including one captured exactly at kickoff, are never the closing line.

    Parameters
    ----------
    db, event_ids, bookmakers, markets, kickoff_since, kickoff_until
        As in :func:`fetch_opening_odds`.

    Returns
    -------
    pl.DataFrame
        Columns :data:`BOARD_SCHEMA`.

    Examples
    --------
    >>> closing = fetch_closing_odds(
    ...     db, kickoff_since=datetime(2026, 11, 28, 15, tzinfo=UTC), bookmakers="Pinnacle"
    ... )
    >>> bool((closing["captured_at"] < closing["kickoff"]).all())
    True
    >>> closing["event_id"].unique().sort().to_list()
    [2, 5]
    """
    return _fetch_edge(
        db,
        "Fetching the closing odds",
        closing=True,
        event_ids=event_ids,
        bookmakers=bookmakers,
        markets=markets,
        kickoff_since=kickoff_since,
        kickoff_until=kickoff_until,
    )
