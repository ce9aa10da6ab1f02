r"""Read the database into Polars frames: events, odds history, the board as of a time, QA.

Every function takes a :class:`~oddskit.connection.Database` first and keyword-only
filters after it, runs one SQL statement over ADBC with ``$n`` bound parameters and
returns ``pl.from_arrow(cursor.fetch_arrow_table())`` — Arrow end to end, no pandas
and no Python row objects. Filter *values* are always bound parameters; the SQL text
is assembled only from constant fragments chosen by which filters were given, and
``every=`` is checked against an allowlist.

Conventions
-----------
* Times are timezone-aware ``datetime`` values; a naive one raises
  :class:`~oddskit.errors.ConfigurationError` saying how to fix it. Windows are
  half-open: ``since`` inclusive, ``until`` exclusive. Returned timestamps are
  ``Datetime("us", "UTC")``.
* Filters accept one value or a sequence of values; an empty sequence matches nothing.
  Text filters on names (``sport``, ``tournament``, ``country``) ignore case;
  ``bookmakers``, ``markets`` and ``outcomes`` match exactly.
* Rows come sorted; text sort keys use the ``"C"`` collation (byte order, as Polars
  sorts), so the order is the same on every server.
* One column vocabulary (see the ``*_SCHEMA`` constants): ``event_id`` (Int64),
  ``sportradar_id``, ``sport``, ``country``, ``tournament``, ``home_team``,
  ``away_team``, ``kickoff``, ``bookmaker``, ``captured_at``, ``market``, ``line``
  (Float64, null for markets without a line), ``outcome``, ``odds`` (Float64).

Performance
-----------
``fetch_odds_history`` bounds ``captured_at`` on *both* partitioned tables and joins
prices to snapshots on ``(snapshot_id, captured_at)``, so PostgreSQL reads only the
daily partitions of the window. ``fetch_latest_odds``, ``fetch_opening_odds`` and
``fetch_closing_odds`` take the (event, bookmaker) pairs from ``event_bookmakers`` and
find each pair's snapshot with a ``LATERAL ... ORDER BY captured_at LIMIT 1`` probe of
the ``(event_id, bookmaker_id, captured_at)`` unique index — a few index look-ups per
pair instead of sorting the whole table.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from oddskit.connection import connect
    >>> db = connect()  # doctest: +SKIP
    >>> events = fetch_events(db, country="Nigeria", team="enyimba")  # doctest: +SKIP
    >>> board = fetch_latest_odds(db, event_ids=events["event_id"])  # doctest: +SKIP
    >>> sorted(ODDS_SCHEMA)
    ['bookmaker', 'captured_at', 'event_id', 'line', 'market', 'odds', 'outcome']
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa

from oddskit.connection import Database
from oddskit.errors import ConfigurationError, DatabaseError, OddskitError
from oddskit.partitions import require_aware

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

_UTC = pl.Datetime("us", "UTC")

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
        "kickoff": _UTC,
    }
)

#: Columns of :func:`fetch_odds_history`: one row per price per snapshot.
ODDS_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "bookmaker": pl.String,
        "captured_at": _UTC,
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)

#: Columns of :func:`fetch_latest_odds`, :func:`fetch_opening_odds` and
#: :func:`fetch_closing_odds`: one snapshot per event × bookmaker, with its prices.
BOARD_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "bookmaker": pl.String,
        "kickoff": _UTC,
        "captured_at": _UTC,
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)

#: Columns of :func:`fetch_coverage`.
COVERAGE_SCHEMA: pl.Schema = pl.Schema(
    {
        "bookmaker": pl.String,
        "bucket_start": _UTC,
        "snapshots": pl.Int64,
        "events": pl.Int64,
    }
)

#: Columns of :func:`fetch_gaps`.
GAPS_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "bookmaker": pl.String,
        "gap_start": _UTC,
        "gap_end": _UTC,
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
        "started_at": _UTC,
        "finished_at": _UTC,
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
        "occurred_at": _UTC,
        "row_number": pl.Int64,
        "column_name": pl.String,
        "value": pl.String,
        "message": pl.String,
    }
)

#: Bucket widths accepted by :func:`fetch_coverage` (PostgreSQL interval literals).
COVERAGE_EVERY: tuple[str, ...] = (
    "1 minute",
    "5 minutes",
    "10 minutes",
    "15 minutes",
    "30 minutes",
    "1 hour",
    "2 hours",
    "3 hours",
    "6 hours",
    "12 hours",
    "1 day",
)
_EVERY_SECONDS = {
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
_MAX_BUCKETS = 200_000

#: date_bin origin: buckets start on UTC midnights (and whole UTC hours/minutes).
_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"

_RUN_KINDS = ("scrape", "load")
_RUN_STATUSES = ("running", "succeeded", "failed")

# Arrow types of bound parameters, with the SQL type each placeholder is cast to.
_TYPES: dict[str, tuple[pa.DataType, str]] = {
    "timestamptz": (pa.timestamp("us", tz="UTC"), "timestamptz"),
    "bigint": (pa.int64(), "bigint"),
    "text": (pa.string(), "text"),
    "text[]": (pa.list_(pa.string()), "text[]"),
    "bigint[]": (pa.list_(pa.int64()), "bigint[]"),
}


# --- query building ---------------------------------------------------------------------------


@dataclass
class _Query:
    """SQL text made of constant fragments, and the values bound to its ``$n``."""

    parts: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    types: list[pa.DataType] = field(default_factory=list)

    def bind(self, value: Any, kind: str) -> str:
        """Add a parameter; return its placeholder, cast to the SQL type of ``kind``."""
        arrow_type, sql_type = _TYPES[kind]
        self.values.append(value)
        self.types.append(arrow_type)
        return f"CAST(${len(self.values)} AS {sql_type})"

    def add(self, *fragments: str) -> None:
        self.parts.extend(fragments)

    @property
    def sql(self) -> str:
        return "\n".join(self.parts)

    def parameters(self) -> pa.RecordBatch | None:
        """The values as one Arrow row with exact types (so empty lists bind too)."""
        if not self.values:
            return None
        arrays = [
            pa.array([value], type=arrow_type)
            for value, arrow_type in zip(self.values, self.types, strict=True)
        ]
        names = [f"p{i}" for i in range(1, len(arrays) + 1)]
        return pa.RecordBatch.from_arrays(arrays, names=names)


def _run(db: Database, query: _Query, schema: pl.Schema, what: str) -> pl.DataFrame:
    """Execute ``query`` over ADBC and return its Arrow result as a frame of ``schema``."""
    try:
        with db.adbc_reader() as conn, conn.cursor() as cursor:
            cursor.execute(query.sql, parameters=query.parameters())
            table = cursor.fetch_arrow_table()
    except OddskitError:
        raise
    except Exception as exc:
        error = db.error(f"{what} failed", exc)
        if "does not exist" in str(error):
            error = DatabaseError(f"{error} — is the schema there? Run `oddskit migrate` first.")
        raise error from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def _explain(db: Database, query: _Query, *, analyze: bool = False) -> str:
    """The plan PostgreSQL uses for ``query`` with its bound values (for tests and tuning)."""
    options = "ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF" if analyze else "COSTS OFF"
    with db.adbc_reader() as conn, conn.cursor() as cursor:
        # Without parameters ADBC wraps a query in COPY (...) TO STDOUT, which EXPLAIN refuses.
        cursor.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
        cursor.execute(f"EXPLAIN ({options})\n{query.sql}", parameters=query.parameters())
        table = cursor.fetch_arrow_table()
    return "\n".join(str(line) for line in table.column(0).to_pylist())


# --- argument checks --------------------------------------------------------------------------


def _time(value: datetime | None, name: str) -> datetime | None:
    """``value`` in UTC, or None; naive datetimes and non-datetimes are refused."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ConfigurationError(
            f"`{name}` must be a timezone-aware datetime, got {type(value).__name__} {value!r}"
        )
    return require_aware(value, name).astimezone(UTC)


def _window(
    since: datetime | None, until: datetime | None, names: tuple[str, str] = ("since", "until")
) -> tuple[datetime | None, datetime | None]:
    lower, upper = _time(since, names[0]), _time(until, names[1])
    if lower is not None and upper is not None and upper < lower:
        raise ConfigurationError(
            f"`{names[1]}` ({upper.isoformat()}) is before `{names[0]}` ({lower.isoformat()}); "
            f"the window is [{names[0]}, {names[1]}) — swap them?"
        )
    return lower, upper


def _texts(value: str | Iterable[str] | None, name: str) -> list[str] | None:
    """One string or an iterable of strings as a list; None stays None."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(
                f"`{name}` must be a string or a sequence of strings, "
                f"got an element {item!r} of type {type(item).__name__}"
            )
    return items


def _ints(value: int | Iterable[int] | None, name: str) -> list[int] | None:
    """One integer or an iterable of integers (a Polars Series works) as a list."""
    if value is None:
        return None
    if isinstance(value, pl.Series):
        value = value.to_list()
    items = [value] if not isinstance(value, Iterable) else list(value)
    out = []
    for item in items:
        if isinstance(item, bool):
            item = None  # a bool is an int to Python, never an id
        try:
            out.append(operator.index(item))
        except TypeError:
            raise ConfigurationError(
                f"`{name}` must be an integer or a sequence of integers, got an element {item!r}"
            ) from None
    return out


def _positive_int(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"`{name}` must be a positive integer or None, got {value!r}")
    return value


def _duration(value: timedelta, name: str) -> timedelta:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigurationError(f"`{name}` must be a positive timedelta, got {value!r}")
    return value


def _micros(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


# --- shared filters ---------------------------------------------------------------------------


def _any(query: _Query, column: str, values: list[Any] | None, kind: str) -> None:
    """``AND column = ANY($n)`` when ``values`` is given."""
    if values is not None:
        query.add(f"  AND {column} = ANY({query.bind(values, kind)})")


def _names_ci(query: _Query, column: str, values: list[str] | None) -> None:
    """Case-insensitive ``AND lower(column) IN (lower of each value)``."""
    if values is not None:
        placeholder = query.bind(values, "text[]")
        # ``column`` is a constant of this module; the values are bound.
        sql = f"  AND lower({column}) IN (SELECT lower(v) FROM unnest({placeholder}) v)"  # noqa: S608
        query.add(sql)


def _bookmaker_ids(query: _Query, column: str, names: list[str] | None) -> None:
    """Restrict an id column to the named bookmakers (resolved once, then an index probe)."""
    if names is not None:
        placeholder = query.bind(names, "text[]")
        # ``column`` is a constant of this module; the names are bound.
        ids = f"SELECT id FROM bookmakers WHERE name = ANY({placeholder})"  # noqa: S608
        query.add(f"  AND {column} = ANY(ARRAY({ids}))")


def _like_escape(text: str) -> str:
    r"""Escape LIKE wildcards so that ``text`` matches literally (escape character ``\``).

    Examples:
        >>> _like_escape("100%_fit\\")
        '100\\%\\_fit\\\\'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- events -----------------------------------------------------------------------------------


def _events_sql(
    *,
    event_ids: list[int] | None = None,
    sport: list[str] | None = None,
    tournament: list[str] | None = None,
    country: list[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
    team: str | None = None,
    limit: int | None = None,
) -> _Query:
    q = _Query()
    q.add(
        "SELECT CAST(e.id AS bigint) AS event_id, e.sportradar_id, sp.name AS sport,",
        "       t.country, t.name AS tournament, e.home_team, e.away_team, e.kickoff",
        "FROM events e",
        "JOIN tournaments t ON t.id = e.tournament_id",
        "JOIN sports sp ON sp.id = t.sport_id",
        "WHERE true",
    )
    _any(q, "e.id", event_ids, "bigint[]")
    _names_ci(q, "sp.name", sport)
    _names_ci(q, "t.name", tournament)
    _names_ci(q, "t.country", country)
    if kickoff_since is not None:
        q.add(f"  AND e.kickoff >= {q.bind(kickoff_since, 'timestamptz')}")
    if kickoff_until is not None:
        q.add(f"  AND e.kickoff < {q.bind(kickoff_until, 'timestamptz')}")
    if team is not None:
        pattern = q.bind(f"%{_like_escape(team)}%", "text")
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


def fetch_events(
    db: Database,
    *,
    sport: str | Iterable[str] | None = None,
    tournament: str | Iterable[str] | None = None,
    country: str | Iterable[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
    team: str | None = None,
    event_ids: int | Iterable[int] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Events (matches) with their sport and tournament, by kickoff (:data:`EVENTS_SCHEMA`).

    ``sport``, ``tournament`` and ``country`` match whole names, ignoring case.
    ``team`` is a case-insensitive substring of the home or away team (also as each
    bookmaker spells it); ``%`` and ``_`` in it are literal characters.
    ``kickoff_since`` is inclusive, ``kickoff_until`` exclusive.

    Examples:
        >>> fetch_events(db, country="Nigeria", team="pillars", limit=5)  # doctest: +SKIP
        shape: (5, 8)
        ...
    """
    since, until = _window(kickoff_since, kickoff_until, ("kickoff_since", "kickoff_until"))
    if team is not None and not isinstance(team, str):
        raise ConfigurationError(f"`team` must be a string, got {type(team).__name__}")
    query = _events_sql(
        event_ids=_ints(event_ids, "event_ids"),
        sport=_texts(sport, "sport"),
        tournament=_texts(tournament, "tournament"),
        country=_texts(country, "country"),
        kickoff_since=since,
        kickoff_until=until,
        team=team,
        limit=_positive_int(limit, "limit"),
    )
    return _run(db, query, EVENTS_SCHEMA, "Fetching events")


# --- odds history -----------------------------------------------------------------------------


def _history_sql(
    *,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    markets: list[str] | None = None,
    outcomes: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> _Query:
    q = _Query()
    q.add(
        "SELECT CAST(s.event_id AS bigint) AS event_id, b.name AS bookmaker, s.captured_at,",
        "       m.market, m.line, m.outcome, m.odds",
        "FROM odds_snapshots s",
        "JOIN market_odds m ON m.snapshot_id = s.id AND m.captured_at = s.captured_at",
        "JOIN bookmakers b ON b.id = s.bookmaker_id",
        "WHERE true",
    )
    # The same bounds on both partitioned tables: each is pruned to the window's days.
    if since is not None:
        lower = q.bind(since, "timestamptz")
        q.add(f"  AND s.captured_at >= {lower} AND m.captured_at >= {lower}")
    if until is not None:
        upper = q.bind(until, "timestamptz")
        q.add(f"  AND s.captured_at < {upper} AND m.captured_at < {upper}")
    _any(q, "s.event_id", event_ids, "bigint[]")
    _bookmaker_ids(q, "s.bookmaker_id", bookmakers)
    _any(q, "m.market", markets, "text[]")
    _any(q, "m.outcome", outcomes, "text[]")
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
    """Every price captured in ``[since, until)``, long (:data:`ODDS_SCHEMA`).

    Only the daily partitions of the window are read; leaving ``since``/``until``
    out reads every partition on that side. Sorted by event, bookmaker, time, market,
    line, outcome.

    Examples:
        >>> t = datetime(2026, 11, 28, tzinfo=UTC)
        >>> history = fetch_odds_history(
        ...     db, event_ids=[42], markets="1x2", since=t, until=t + timedelta(days=1)
        ... )  # doctest: +SKIP
    """
    lower, upper = _window(since, until)
    query = _history_sql(
        event_ids=_ints(event_ids, "event_ids"),
        bookmakers=_texts(bookmakers, "bookmakers"),
        markets=_texts(markets, "markets"),
        outcomes=_texts(outcomes, "outcomes"),
        since=lower,
        until=upper,
    )
    return _run(db, query, ODDS_SCHEMA, "Fetching the odds history")


# --- one snapshot per event × bookmaker: latest (as of), opening, closing ---------------------

_BOARD_SELECT = (
    "SELECT CAST(p.event_id AS bigint) AS event_id, b.name AS bookmaker, p.kickoff,",
    "       s.captured_at, m.market, m.line, m.outcome, m.odds",
)
_BOARD_ORDER = (
    'ORDER BY p.event_id, b.name COLLATE "C", m.market COLLATE "C", m.line, m.outcome COLLATE "C"'
)


def _pairs(
    q: _Query,
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> None:
    """``WITH pairs``: the (event, bookmaker) pairs to look up, with the event's kickoff."""
    q.add(
        "WITH pairs AS (",
        "  SELECT DISTINCT eb.event_id, eb.bookmaker_id, ev.kickoff FROM event_bookmakers eb",
        "  JOIN events ev ON ev.id = eb.event_id",
        "  WHERE true",
    )
    _any(q, "eb.event_id", event_ids, "bigint[]")
    _bookmaker_ids(q, "eb.bookmaker_id", bookmakers)
    if kickoff_since is not None:
        q.add(f"  AND ev.kickoff >= {q.bind(kickoff_since, 'timestamptz')}")
    if kickoff_until is not None:
        q.add(f"  AND ev.kickoff < {q.bind(kickoff_until, 'timestamptz')}")
    q.add(")")


def _board_tail(q: _Query, markets: list[str] | None, price_bounds: list[str]) -> None:
    """Join the chosen snapshot ``s`` to its prices and bookmaker name."""
    q.add(
        "JOIN market_odds m ON m.snapshot_id = s.id AND m.captured_at = s.captured_at",
        *price_bounds,
        "JOIN bookmakers b ON b.id = p.bookmaker_id",
        "WHERE true",
    )
    _any(q, "m.market", markets, "text[]")
    q.add(_BOARD_ORDER)


def _latest_sql(
    *,
    as_of: datetime,
    since: datetime | None = None,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    markets: list[str] | None = None,
) -> _Query:
    q = _Query()
    _pairs(q, event_ids=event_ids, bookmakers=bookmakers)
    upper = q.bind(as_of, "timestamptz")
    lower = q.bind(since, "timestamptz") if since is not None else None
    q.add(
        *_BOARD_SELECT,
        "FROM pairs p",
        "CROSS JOIN LATERAL (",
        "  SELECT o.id, o.captured_at FROM odds_snapshots o",
        "  WHERE o.event_id = p.event_id AND o.bookmaker_id = p.bookmaker_id",
        f"    AND o.captured_at <= {upper}",
    )
    if lower is not None:
        q.add(f"    AND o.captured_at >= {lower}")
    q.add("  ORDER BY o.captured_at DESC LIMIT 1", ") s")
    # Redundant bounds on the prices let the planner drop market_odds partitions up front.
    bounds = [f"  AND m.captured_at <= {upper}"]
    if lower is not None:
        bounds.append(f"  AND m.captured_at >= {lower}")
    _board_tail(q, markets, bounds)
    return q


def fetch_latest_odds(
    db: Database,
    *,
    as_of: datetime | None = None,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    lookback: timedelta | None = None,
) -> pl.DataFrame:
    """The board at ``as_of``: each event × bookmaker's newest snapshot, with its prices.

    For every (event, bookmaker) pair the newest snapshot captured at or before
    ``as_of`` (default: now) — never a later one — and its prices
    (:data:`BOARD_SCHEMA`). An outcome missing from that snapshot (suspended) is
    missing here too: older prices are not carried forward. ``lookback`` ignores
    snapshots older than ``as_of - lookback`` (and lets PostgreSQL skip the older
    partitions). ``markets`` filters the prices of the chosen snapshot.

    Examples:
        >>> as_of = datetime(2026, 11, 29, 18, tzinfo=UTC)
        >>> board = fetch_latest_odds(
        ...     db, as_of=as_of, bookmakers=["betPawa", "Pinnacle"], lookback=timedelta(days=2)
        ... )  # doctest: +SKIP
    """
    moment = _time(as_of, "as_of") if as_of is not None else datetime.now(UTC)
    assert moment is not None
    since = None
    if lookback is not None:
        since = moment - _duration(lookback, "lookback")
    query = _latest_sql(
        as_of=moment,
        since=since,
        event_ids=_ints(event_ids, "event_ids"),
        bookmakers=_texts(bookmakers, "bookmakers"),
        markets=_texts(markets, "markets"),
    )
    return _run(db, query, BOARD_SCHEMA, "Fetching the latest odds")


def _edge_sql(
    *,
    closing: bool,
    event_ids: list[int] | None = None,
    bookmakers: list[str] | None = None,
    markets: list[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> _Query:
    q = _Query()
    _pairs(
        q,
        event_ids=event_ids,
        bookmakers=bookmakers,
        kickoff_since=kickoff_since,
        kickoff_until=kickoff_until,
    )
    q.add(
        *_BOARD_SELECT,
        "FROM pairs p",
        "CROSS JOIN LATERAL (",
        "  SELECT o.id, o.captured_at FROM odds_snapshots o",
        "  WHERE o.event_id = p.event_id AND o.bookmaker_id = p.bookmaker_id",
    )
    if closing:
        q.add("    AND o.captured_at < p.kickoff", "  ORDER BY o.captured_at DESC LIMIT 1")
    else:
        q.add("  ORDER BY o.captured_at ASC LIMIT 1")
    q.add(") s")
    _board_tail(q, markets, [])
    return q


def fetch_opening_odds(
    db: Database,
    *,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> pl.DataFrame:
    """Each event × bookmaker's first snapshot and its prices (:data:`BOARD_SCHEMA`).

    ``kickoff_since``/``kickoff_until`` choose events by kickoff (half-open window).

    Examples:
        >>> opening = fetch_opening_odds(db, event_ids=[42], markets="1x2")  # doctest: +SKIP
    """
    since, until = _window(kickoff_since, kickoff_until, ("kickoff_since", "kickoff_until"))
    query = _edge_sql(
        closing=False,
        event_ids=_ints(event_ids, "event_ids"),
        bookmakers=_texts(bookmakers, "bookmakers"),
        markets=_texts(markets, "markets"),
        kickoff_since=since,
        kickoff_until=until,
    )
    return _run(db, query, BOARD_SCHEMA, "Fetching the opening odds")


def fetch_closing_odds(
    db: Database,
    *,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> pl.DataFrame:
    """Each event × bookmaker's last snapshot strictly before kickoff (:data:`BOARD_SCHEMA`).

    Kickoff is ``events.kickoff`` (the latest reported schedule); in-play snapshots,
    including one captured exactly at kickoff, are never the closing line.

    Examples:
        >>> closing = fetch_closing_odds(
        ...     db, kickoff_since=datetime(2026, 11, 28, tzinfo=UTC), bookmakers="Pinnacle"
        ... )  # doctest: +SKIP
    """
    since, until = _window(kickoff_since, kickoff_until, ("kickoff_since", "kickoff_until"))
    query = _edge_sql(
        closing=True,
        event_ids=_ints(event_ids, "event_ids"),
        bookmakers=_texts(bookmakers, "bookmakers"),
        markets=_texts(markets, "markets"),
        kickoff_since=since,
        kickoff_until=until,
    )
    return _run(db, query, BOARD_SCHEMA, "Fetching the closing odds")


# --- coverage and data quality ----------------------------------------------------------------


def _coverage_sql(
    *, since: datetime, until: datetime, every: str, bookmakers: list[str] | None
) -> _Query:
    q = _Query()
    lower, upper = q.bind(since, "timestamptz"), q.bind(until, "timestamptz")
    width = q.bind(every, "text")
    q.add(
        "WITH books AS (SELECT id, name FROM bookmakers WHERE true",
    )
    _any(q, "name", bookmakers, "text[]")
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
        f"  WHERE s.captured_at >= {lower} AND s.captured_at < {upper}",
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
    every: str = "1 hour",
    bookmakers: str | Iterable[str] | None = None,
) -> pl.DataFrame:
    """Snapshots (and distinct events) per bookmaker per time bucket (:data:`COVERAGE_SCHEMA`).

    Buckets of width ``every`` (one of :data:`COVERAGE_EVERY`) start on UTC
    midnights; every bucket touching ``[since, until)`` is listed for every
    bookmaker, with zero counts where nothing was captured. The first and last
    buckets count only the part inside the window.

    Examples:
        >>> t = datetime(2026, 11, 28, tzinfo=UTC)
        >>> fetch_coverage(db, since=t, until=t + timedelta(days=1)).columns  # doctest: +SKIP
        ['bookmaker', 'bucket_start', 'snapshots', 'events']
    """
    lower, upper = _window(since, until)
    if lower is None or upper is None:
        raise ConfigurationError("`since` and `until` are required (timezone-aware datetimes)")
    if every not in _EVERY_SECONDS:
        raise ConfigurationError(
            f"`every` must be one of {', '.join(map(repr, COVERAGE_EVERY))}; got {every!r}"
        )
    buckets = (upper - lower).total_seconds() / _EVERY_SECONDS[every]
    if buckets > _MAX_BUCKETS:
        raise ConfigurationError(
            f"{buckets:,.0f} buckets of {every} between `since` and `until` is too many "
            f"(at most {_MAX_BUCKETS:,}); use a wider `every` or a shorter window"
        )
    query = _coverage_sql(
        since=lower, until=upper, every=every, bookmakers=_texts(bookmakers, "bookmakers")
    )
    return _run(db, query, COVERAGE_SCHEMA, "Fetching coverage")


def _gaps_sql(
    *,
    since: datetime,
    until: datetime,
    threshold: timedelta,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
) -> _Query:
    q = _Query()
    lower, upper = q.bind(since, "timestamptz"), q.bind(until, "timestamptz")
    q.add(
        "WITH ordered AS (",
        "  SELECT s.event_id, s.bookmaker_id, s.captured_at,",
        "         lag(s.captured_at) OVER (PARTITION BY s.event_id, s.bookmaker_id",
        "                                  ORDER BY s.captured_at) AS previous",
        "  FROM odds_snapshots s",
        f"  WHERE s.captured_at >= {lower} AND s.captured_at < {upper}",
    )
    _any(q, "s.event_id", event_ids, "bigint[]")
    _bookmaker_ids(q, "s.bookmaker_id", bookmakers)
    limit = q.bind(_micros(threshold), "bigint")
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
    expected: timedelta = timedelta(minutes=5),
    tolerance: timedelta | None = None,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
) -> pl.DataFrame:
    """Gaps longer than ``expected + tolerance`` between consecutive snapshots.

    Consecutive means of the same event × bookmaker, both inside ``[since, until)``;
    the time before an event's first snapshot and after its last is not a gap.
    ``tolerance`` defaults to half of ``expected``. ``gap`` is ``gap_end - gap_start``
    and ``missed`` estimates the snapshots missed: ``max(round(gap / expected) - 1, 1)``.
    Columns: :data:`GAPS_SCHEMA`.

    Examples:
        >>> t = datetime(2026, 11, 28, tzinfo=UTC)
        >>> gaps = fetch_gaps(db, since=t, until=t + timedelta(days=1))  # doctest: +SKIP
    """
    lower, upper = _window(since, until)
    if lower is None or upper is None:
        raise ConfigurationError("`since` and `until` are required (timezone-aware datetimes)")
    expected = _duration(expected, "expected")
    if tolerance is None:
        tolerance = expected / 2
    elif not isinstance(tolerance, timedelta) or tolerance < timedelta(0):
        raise ConfigurationError(f"`tolerance` must be a timedelta ≥ 0, got {tolerance!r}")
    query = _gaps_sql(
        since=lower,
        until=upper,
        threshold=expected + tolerance,
        event_ids=_ints(event_ids, "event_ids"),
        bookmakers=_texts(bookmakers, "bookmakers"),
    )
    frame = _run(
        db,
        query,
        pl.Schema({k: v for k, v in GAPS_SCHEMA.items() if k not in ("gap", "missed")}),
        "Fetching gaps",
    )
    gap = pl.col("gap_end") - pl.col("gap_start")
    ratio = gap.dt.total_microseconds() / _micros(expected)
    missed = pl.max_horizontal(ratio.round(0).cast(pl.Int64) - 1, pl.lit(1, pl.Int64))
    return frame.with_columns(gap.alias("gap"), missed.alias("missed")).cast(dict(GAPS_SCHEMA))


def _runs_sql(*, limit: int, kind: str | None, status: str | None) -> _Query:
    q = _Query()
    q.add(
        "SELECT r.id AS run_id, r.kind, b.name AS bookmaker, r.source, r.status,",
        "       r.started_at, r.finished_at, r.rows_read, r.rows_loaded, r.rows_present,",
        "       r.rows_rejected,",
        "       (SELECT count(*) FROM scrape_errors x WHERE x.run_id = r.id) AS errors,",
        "       r.file_hash, r.details ->> 'error' AS error",
        "FROM scrape_runs r LEFT JOIN bookmakers b ON b.id = r.bookmaker_id",
        "WHERE true",
    )
    if kind is not None:
        q.add(f"  AND r.kind = {q.bind(kind, 'text')}")
    if status is not None:
        q.add(f"  AND r.status = {q.bind(status, 'text')}")
    q.add(f"ORDER BY r.id DESC LIMIT {q.bind(limit, 'bigint')}")
    return q


def fetch_load_runs(
    db: Database, *, limit: int = 20, kind: str | None = None, status: str | None = None
) -> pl.DataFrame:
    """The most recent scrape and load runs, newest first, with their error counts.

    ``kind`` is ``'scrape'`` or ``'load'``; ``status`` is ``'running'``,
    ``'succeeded'`` or ``'failed'``. ``errors`` counts the run's rows in
    ``scrape_errors`` (see :func:`fetch_run_errors`); ``error`` is the message of a
    failed run. Columns: :data:`LOAD_RUNS_SCHEMA`.

    Examples:
        >>> fetch_load_runs(db, limit=5, status="failed")  # doctest: +SKIP
    """
    if kind is not None and kind not in _RUN_KINDS:
        raise ConfigurationError(f"`kind` must be one of {_RUN_KINDS} or None, got {kind!r}")
    if status is not None and status not in _RUN_STATUSES:
        raise ConfigurationError(f"`status` must be one of {_RUN_STATUSES} or None, got {status!r}")
    query = _runs_sql(limit=_positive_int(limit, "limit") or 20, kind=kind, status=status)
    return _run(db, query, LOAD_RUNS_SCHEMA, "Fetching runs")


def fetch_run_errors(db: Database, run_id: int) -> pl.DataFrame:
    """The problems recorded for one run, in order (:data:`RUN_ERRORS_SCHEMA`).

    Raises :class:`~oddskit.errors.ConfigurationError` when there is no such run.

    Examples:
        >>> runs = fetch_load_runs(db, limit=1)  # doctest: +SKIP
        >>> fetch_run_errors(db, runs["run_id"][0])  # doctest: +SKIP
    """
    try:
        run = operator.index(run_id)
        if isinstance(run_id, bool):
            raise TypeError
    except TypeError:
        raise ConfigurationError(f"`run_id` must be an integer, got {run_id!r}") from None
    q = _Query()
    placeholder = q.bind(run, "bigint")
    q.add(
        "SELECT r.id AS run_id, x.id AS error_id, x.occurred_at, x.row_number,",
        "       x.column_name, x.value, x.message",
        "FROM scrape_runs r LEFT JOIN scrape_errors x ON x.run_id = r.id",
        f"WHERE r.id = {placeholder}",
        "ORDER BY x.id",
    )
    frame = _run(db, q, RUN_ERRORS_SCHEMA, "Fetching run errors")
    if frame.is_empty():
        raise ConfigurationError(
            f"there is no run with id {run}; fetch_load_runs(db) lists the recent ones"
        )
    return frame.filter(pl.col("error_id").is_not_null())
