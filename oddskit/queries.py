r"""Read the database into Polars frames: events, odds history, the board as of a time, QA.

Every function takes a :class:`~oddskit.connection.Database` first and keyword-only
filters after it, runs one SQL statement over ADBC with ``$n`` bound parameters and
returns ``pl.from_arrow(cursor.fetch_arrow_table())`` — Arrow end to end, no pandas
and no Python row objects. Filter *values* are always bound parameters; the SQL text
is assembled only from constant fragments chosen by which filters were given
(:mod:`oddskit.query_builder`). For SQL of your own, :meth:`Database.read
<oddskit.connection.Database.read>` binds ``:name`` parameters the same way.

This module is the public face: events and the odds history are here, the board
(latest, opening, closing odds) in :mod:`oddskit.queries_board`, coverage, gaps and
load lineage in :mod:`oddskit.queries_quality`; all are re-exported here and as
``oddskit.fetch_*``.

Conventions
-----------
* Times are timezone-aware ``datetime`` values; a naive one raises
  :class:`~oddskit.errors.ConfigurationError` saying how to fix it. Windows are
  half-open: ``since`` inclusive, ``until`` exclusive (``kickoff_since`` /
  ``kickoff_until`` for a window of kickoffs). Returned timestamps are
  ``Datetime("us", "UTC")``. Durations are timedeltas or strings such as ``"2d"``.
* Filters are plural and accept one value or a sequence of values (an empty sequence
  matches nothing). Text filters on names (``sports``, ``tournaments``,
  ``countries``) ignore case; ``bookmakers``, ``markets`` and ``outcomes`` match
  exactly.
* Rows come sorted; text sort keys use the ``"C"`` collation (byte order, as Polars
  sorts), so the order is the same on every server.
* One column vocabulary (see the ``*_SCHEMA`` constants): ``event_id`` (Int64),
  ``sportradar_id``, ``sport``, ``country``, ``tournament``, ``home_team``,
  ``away_team``, ``kickoff``, ``bookmaker``, ``captured_at``, ``market``, ``line``
  (Float64, null for markets without a line), ``outcome``, ``odds`` (Float64).

Performance
-----------
Every helper bounds ``captured_at`` on *both* partitioned tables with constants, so
that PostgreSQL plans only the daily partitions that can hold rows: the window the
caller gives, narrowed — when event ids, bookmakers or a kickoff window select some
(event, bookmaker) pairs — to the first and last capture of those pairs, which each
listing keeps (:mod:`oddskit.queries_bounds`; one index look-up on
``event_bookmakers`` before the query). Prices are joined to snapshots on
``(snapshot_id, captured_at)``. ``fetch_latest_odds``, ``fetch_opening_odds`` and
``fetch_closing_odds`` take the pairs from ``event_bookmakers`` and find each pair's
snapshot with a ``LATERAL ... ORDER BY captured_at LIMIT 1`` probe of the
``(event_id, bookmaker_id, captured_at)`` unique index, bounded by that pair's own
first and last capture: at run time the probe visits only the partitions of the
pair's days (usually one or two), then its prices' one partition. Planning still
costs about 0.1 ms per partition between the constant bounds (see the README on
very large histories).

Archive
-------
Days that retention moved to the Parquet archive (:mod:`oddskit.archive`) are read
from their files when a window reaches them (:mod:`oddskit.queries_archive`): the
helpers return the same frames, row for row, whether a day is live, archived or its
window spans both. For analyses over many archived days, :func:`oddskit.scan_archive`
gives a Polars ``LazyFrame`` of the archive itself.

Examples
--------
>>> from datetime import UTC, datetime
>>> events = fetch_events(db, countries="Nigeria")
>>> events.select("event_id", "home_team", "away_team").rows()
[(2, 'El-Kanemi Warriors', 'Bendel Insurance')]
>>> as_of = datetime(2026, 11, 28, 14, tzinfo=UTC)
>>> board = fetch_latest_odds(db, event_ids=events["event_id"], markets="1x2", as_of=as_of)
>>> board.filter(bookmaker="Pinnacle").select("outcome", "odds").rows()
[('away', 5.231), ('draw', 3.381), ('home', 1.846)]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

from oddskit.arguments import integer, integers, renamed_arguments, text, texts, window
from oddskit.connection import Database
from oddskit.queries_archive import archive_files, archived_history, merge_rows
from oddskit.queries_board import (
    BOARD_SCHEMA,
    fetch_closing_odds,
    fetch_latest_odds,
    fetch_opening_odds,
)
from oddskit.queries_bounds import capture_bounds, narrow_window, selects_pairs
from oddskit.queries_quality import (
    COVERAGE_EVERY,
    COVERAGE_SCHEMA,
    GAPS_SCHEMA,
    LOAD_RUNS_SCHEMA,
    RUN_ERRORS_SCHEMA,
    fetch_coverage,
    fetch_gaps,
    fetch_load_runs,
    fetch_run_errors,
)
from oddskit.query_builder import (
    UTC_DATETIME,
    Query,
    any_of,
    bookmaker_ids,
    like_escape,
    names_ci,
    run_query,
    time_window,
)

__all__ = [
    "BOARD_SCHEMA",
    "COVERAGE_EVERY",
    "COVERAGE_SCHEMA",
    "EVENTS_SCHEMA",
    "GAPS_SCHEMA",
    "LOAD_RUNS_SCHEMA",
    "ODDS_SCHEMA",
    "RUN_ERRORS_SCHEMA",
    "fetch_closing_odds",
    "fetch_coverage",
    "fetch_events",
    "fetch_gaps",
    "fetch_latest_odds",
    "fetch_load_runs",
    "fetch_odds_history",
    "fetch_opening_odds",
    "fetch_run_errors",
]

#: Columns of :func:`fetch_events`.
EVENTS_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "sportradar_id": pl.String,
        "sport": pl.String,
        "country": pl.String,
        "tournament": pl.String,
        "home_team": pl.String,
        "away_team": pl.String,
        "kickoff": UTC_DATETIME,
    }
)

#: Columns of :func:`fetch_odds_history`: one row per price per snapshot.
ODDS_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "bookmaker": pl.String,
        "captured_at": UTC_DATETIME,
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)


# --- events -----------------------------------------------------------------------------------


def _events_sql(
    *,
    event_ids: list[int] | None = None,
    sports: list[str] | None = None,
    tournaments: list[str] | None = None,
    countries: list[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
    team: str | None = None,
    limit: int | None = None,
) -> Query:
    q = Query()
    q.add(
        "SELECT CAST(e.id AS bigint) AS event_id, e.sportradar_id, sp.name AS sport,",
        "       t.country, t.name AS tournament, e.home_team, e.away_team, e.kickoff",
        "FROM events e",
        "JOIN tournaments t ON t.id = e.tournament_id",
        "JOIN sports sp ON sp.id = t.sport_id",
        "WHERE true",
    )
    any_of(q, "e.id", event_ids, "bigint[]")
    names_ci(q, "sp.name", sports)
    names_ci(q, "t.name", tournaments)
    names_ci(q, "t.country", countries)
    time_window(q, ("e.kickoff",), kickoff_since, kickoff_until)
    if team is not None:
        pattern = q.bind(f"%{like_escape(team)}%", "text")
        q.add(
            f"  AND (e.home_team ILIKE {pattern} ESCAPE '\\' "
            f"OR e.away_team ILIKE {pattern} ESCAPE '\\'",
            "       OR EXISTS (SELECT 1 FROM event_bookmakers eb WHERE eb.event_id = e.id",
            f"                  AND (eb.home_team ILIKE {pattern} ESCAPE '\\'",
            f"                       OR eb.away_team ILIKE {pattern} ESCAPE '\\')))",
        )
    q.add("ORDER BY e.kickoff, e.id")
    if limit is not None:
        q.add(f"LIMIT {q.bind(limit, 'bigint')}")
    return q


@renamed_arguments(sport="sports", tournament="tournaments", country="countries")
def fetch_events(
    db: Database,
    *,
    sports: str | Iterable[str] | None = None,
    tournaments: str | Iterable[str] | None = None,
    countries: str | Iterable[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
    team: str | None = None,
    event_ids: int | Iterable[int] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Events (matches) with their sport and tournament, by kickoff.

    Parameters
    ----------
    db
        The database.
    sports, tournaments, countries
        A name or a list of names, matched whole, ignoring case. Called ``sport``,
        ``tournament``, ``country`` before 0.2 (still accepted, with a warning).
    kickoff_since, kickoff_until
        Only events kicking off in ``[kickoff_since, kickoff_until)``.
    team
        A case-insensitive substring of the home or away team (also as each
        bookmaker spells it); ``%`` and ``_`` in it are literal characters.
    event_ids
        An event id or a list of ids.
    limit
        At most this many events (the first by kickoff).

    Returns
    -------
    pl.DataFrame
        One row per event, columns :data:`EVENTS_SCHEMA`, sorted by kickoff.

    Examples
    --------
    >>> fetch_events(db, countries="kenya", team="sharks").select("home_team", "away_team").rows()
    [('Sofapaka', 'Kariobangi Sharks')]
    >>> fetch_events(db, limit=2)["event_id"].to_list()
    [1, 3]
    """
    since, until = window(kickoff_since, kickoff_until, ("kickoff_since", "kickoff_until"))
    query = _events_sql(
        event_ids=integers(event_ids, "event_ids"),
        sports=texts(sports, "sports"),
        tournaments=texts(tournaments, "tournaments"),
        countries=texts(countries, "countries"),
        kickoff_since=since,
        kickoff_until=until,
        team=text(team, "team", allow_none=True),
        limit=integer(limit, "limit", allow_none=True),
    )
    return run_query(db, query, EVENTS_SCHEMA, "Fetching events")


# --- odds history -----------------------------------------------------------------------------

#: The order of :func:`fetch_odds_history` (also its rows' natural key).
HISTORY_ORDER = ("event_id", "bookmaker", "captured_at", "market", "line", "outcome")


def _history_sql(
    *,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    markets: list[str] | None = None,
    outcomes: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Query:
    q = Query()
    q.add(
        "SELECT CAST(s.event_id AS bigint) AS event_id, b.name AS bookmaker, s.captured_at,",
        "       m.market, m.line, m.outcome, m.odds",
        "FROM odds_snapshots s",
        "JOIN market_odds m ON m.snapshot_id = s.id AND m.captured_at = s.captured_at",
        "JOIN bookmakers b ON b.id = s.bookmaker_id",
        "WHERE true",
    )
    # The same bounds on both partitioned tables: each is pruned to the window's days.
    time_window(q, ("s.captured_at", "m.captured_at"), since, until)
    any_of(q, "s.event_id", event_ids, "bigint[]")
    bookmaker_ids(q, "s.bookmaker_id", bookmakers)
    any_of(q, "m.market", markets, "text[]")
    any_of(q, "m.outcome", outcomes, "text[]")
    q.add(
        'ORDER BY s.event_id, b.name COLLATE "C", s.captured_at, m.market COLLATE "C", m.line, '
        'm.outcome COLLATE "C"'
    )
    return q


def fetch_odds_history(
    db: Database,
    *,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    outcomes: str | Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """Every price captured in ``[since, until)``, long: one row per price per snapshot.

    Only the daily partitions of the window are read; with ``event_ids`` or
    ``bookmakers`` only those between the first and the last capture of the selected
    (event, bookmaker) pairs too (:mod:`oddskit.queries_bounds`), so leaving
    ``since``/``until`` out costs nothing then; without either, it reads every
    partition on that side. Days that left the live tables for the
    archive are read from their Parquet files (only the archived days of the window),
    so the answer is the same before and after a day is archived.

    Parameters
    ----------
    db
        The database.
    event_ids
        An event id or a list of ids.
    bookmakers, markets, outcomes
        A name or a list of names, matched exactly.
    since, until
        Only snapshots captured in ``[since, until)`` (timezone-aware).

    Returns
    -------
    pl.DataFrame
        Columns :data:`ODDS_SCHEMA`, sorted by event, bookmaker, time, market, line,
        outcome.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 11, 28, 14, tzinfo=UTC)
    >>> history = fetch_odds_history(
    ...     db, event_ids=5, bookmakers="Pinnacle", markets="1x2",
    ...     since=t, until=t + timedelta(hours=1),
    ... )
    >>> history.height, history["captured_at"].dt.strftime("%H:%M").unique().sort().to_list()
    (12, ['14:00', '14:15', '14:30', '14:45'])
    """
    lower, upper = window(since, until)
    ids, names = integers(event_ids, "event_ids"), texts(bookmakers, "bookmakers")
    if selects_pairs(ids, names):  # only the days between the pairs' first and last capture
        span = capture_bounds(db, event_ids=ids, bookmakers=names)
        narrowed = None if span is None else narrow_window(span, lower, upper)
        if narrowed is None:
            return pl.DataFrame(schema=ODDS_SCHEMA)
        lower, upper = narrowed
    filters = {
        "event_ids": ids,
        "bookmakers": names,
        "markets": texts(markets, "markets"),
        "outcomes": texts(outcomes, "outcomes"),
        "since": lower,
        "until": upper,
    }
    files = archive_files(db, lower, upper)
    live = run_query(db, _history_sql(**filters), ODDS_SCHEMA, "Fetching the odds history")
    if not files:
        return live
    archived = archived_history(files, ODDS_SCHEMA, **filters)
    return merge_rows(live, archived, key=HISTORY_ORDER)
