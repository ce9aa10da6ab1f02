"""What the HTML report shows, read from the database: :func:`collect_report_data`.

One window ``[since, until)`` of captures is read with the query helpers of
:mod:`oddskit.queries` and summarised (movers, margins, coverage) into a
:class:`ReportData`; :mod:`oddskit.report` turns it into text and HTML and
re-exports both names.

Examples
--------
>>> data = collect_report_data(db, lookback="1d")
>>> data.counts["matches"], data.counts["listings"], data.sharp
(6, 24, 'Pinnacle')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
import sqlalchemy as sa

from oddskit.arguments import aware_datetime, duration, integer, renamed_arguments, text
from oddskit.connection import Database
from oddskit.errors import ConfigurationError, OddskitError
from oddskit.margins import compute_overround
from oddskit.markets import MARKET_OUTCOMES, aggregate_book
from oddskit.movement import detect_steam, summarise_movement
from oddskit.queries import fetch_closing_odds, fetch_coverage, fetch_events, fetch_odds_history
from oddskit.urls import parse_database_url

__all__ = ["DEFAULT_LOOKBACK", "ReportData", "collect_report_data", "describe_database"]

#: Default ``lookback`` of the report: the last three days of captures.
DEFAULT_LOOKBACK = timedelta(days=3)


def days_as_lookback(days: float) -> timedelta:
    """The ``lookback`` of a deprecated ``days=`` (a number of days)."""
    return timedelta(days=days) if isinstance(days, int | float) else days  # type: ignore[return-value]


def describe_database(db: Database) -> str:
    """Which database, in words: its name, where its server is, the user; never a password.

    Examples
    --------
    >>> describe_database(Database("postgresql://ana:pw@db.example.com:5433/odds"))
    'odds on db.example.com:5433, user ana'
    >>> describe_database(Database("postgresql://postgres@/oddskit?host=/tmp/h/pgdata",
    ...                            source="embedded"))
    'oddskit on the embedded local server (socket in /tmp/h/pgdata), user postgres'
    >>> describe_database(Database("host=/run/postgresql dbname=odds", source="DATABASE_URL"))
    'odds via the local socket in /run/postgresql (from DATABASE_URL)'
    """
    params = parse_database_url(db.url)
    host, port = params.get("host", ""), params.get("port", "")
    name = params.get("dbname") or params.get("user") or "(the user's default)"
    if db.source == "embedded":
        where = f"on the embedded local server (socket in {host})"
    elif not host or host.startswith("/"):
        where = f"via the local socket in {host or 'the default folder'}"
    else:
        hosts = host.split(",")
        ports = port.split(",") if port else [""] * len(hosts)
        where = "on " + ", ".join(
            f"{h}:{p}" if p else h for h, p in zip(hosts, ports + [""] * len(hosts), strict=False)
        )
    text = f"{name} {where}"
    if user := params.get("user"):
        text += f", user {user}"
    if db.source not in ("embedded", "argument"):
        text += f" (from {db.source})"
    return text


#: Markets in display order (those of the vocabulary first).
MARKET_ORDER = {m: i for i, m in enumerate(MARKET_OUTCOMES)}
_EVENT_COLUMNS = ["event_id", "country", "tournament", "home_team", "away_team", "kickoff"]


#: The main markets the movers and the featured matches show (over/under at one line,
#: Asian handicap at each match's most balanced line).
MAIN_MARKETS = ("1x2", "over_under", "btts", "asian_handicap")
MAIN_OVER_UNDER_LINE = 2.5

#: What makes a steam move in the report (see :func:`oddskit.movement.detect_steam`).
STEAM = {"window": timedelta(minutes=10), "min_bookmakers": 3, "min_move": 0.02}


@dataclass(frozen=True, eq=False)
class ReportData:
    """What the report shows, read from one window ``[since, until)`` of captures.

    A *match* is one fixture (a row of ``events``); a *listing* is one bookmaker's offer
    of a match. ``counts``: matches, listings, matches listed by one bookmaker only,
    bookmakers, snapshots and prices in the window. ``history``: every 1x2 price
    captured in the window with the match's ``tournament``, ``home_team``,
    ``away_team`` and ``kickoff``; ``main_history``: the same for the main markets
    (:data:`MAIN_MARKETS`: over/under at 2.5, Asian handicap at each match's most
    balanced line). ``board``: each listing's closing snapshot (the last before
    kickoff; the latest one for a match not started yet), every market. ``movers``:
    one row per match × main market, its biggest move (the outcome whose implied
    probability moved most, opening → latest, averaged over the bookmakers quoting
    it), largest first; ``featured``: the matches with the biggest moves. ``steam``:
    the steam moves of the main markets (:data:`STEAM`). ``margins``: mean overround
    (%) of the closing board by bookmaker × market. ``coverage``: snapshots and
    listings per bookmaker. ``sharp``: the bookmaker with the lowest mean closing 1x2
    margin (``None`` with fewer than two; aggregate books are not bookmakers).

    Examples
    --------
    >>> data = collect_report_data(db, lookback="1d")
    >>> data.counts
    {'matches': 6, 'listings': 24, 'single_listed': 0, 'bookmakers': 4, 'snapshots': 735, \
'prices': 20466}
    >>> data.bookmakers, data.featured, data.sharp
    (['Bet9ja', 'betPawa', 'Pinnacle', 'SportyBet'], (3, 5, 4, 6, 2, 1), 'Pinnacle')
    """

    database: str
    since: datetime
    until: datetime
    first_captured_at: datetime
    last_captured_at: datetime
    counts: dict[str, int]
    history: pl.DataFrame
    main_history: pl.DataFrame
    board: pl.DataFrame
    movers: pl.DataFrame
    featured: tuple[int, ...]
    steam: pl.DataFrame
    margins: pl.DataFrame
    coverage: pl.DataFrame
    bookmaker: str
    sharp: str | None

    @property
    def bookmakers(self) -> list[str]:
        """Bookmakers with prices in the window, by name."""
        return sorted(self.coverage.get_column("bookmaker").to_list(), key=str.casefold)

    @property
    def retail(self) -> list[str]:
        """The bookmakers other than :attr:`sharp`."""
        return [b for b in self.bookmakers if b != self.sharp]


def _window(
    db: Database, since: object, until: object, lookback: object
) -> tuple[datetime, datetime]:
    """``[since, until)``; by default ``lookback`` up to the newest snapshot."""
    since, until = aware_datetime(since, "since"), aware_datetime(until, "until")
    span = duration(lookback, "lookback")
    assert span is not None
    if until is None:
        with db.engine.connect() as conn:
            newest = conn.execute(sa.text("SELECT max(captured_at) FROM odds_snapshots")).scalar()
        if newest is None:
            raise OddskitError(
                f"{db.masked_url} holds no odds snapshots; load some first "
                "(oddskit load FILE, or oddskit.demo.ensure_demo_data(db))"
            )
        until = newest.astimezone(UTC) + timedelta(microseconds=1)
    if since is None:
        since = until - span
    if since >= until:
        raise ConfigurationError(f"the window [{since}, {until}) is empty")
    return since, until


def _counts(
    db: Database, since: datetime, until: datetime
) -> tuple[dict[str, int], datetime | None, datetime | None]:
    params = {"since": since, "until": until}
    with db.engine.connect() as conn:
        snapshots, matches, listings, bookmakers, first, last = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT event_id), "
                "count(DISTINCT (event_id, bookmaker_id)), count(DISTINCT bookmaker_id), "
                "min(captured_at), max(captured_at) FROM odds_snapshots "
                "WHERE captured_at >= :since AND captured_at < :until"
            ),
            params,
        ).one()
        single = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT event_id FROM odds_snapshots "
                "WHERE captured_at >= :since AND captured_at < :until GROUP BY event_id "
                "HAVING count(DISTINCT bookmaker_id) = 1) AS single"
            ),
            params,
        ).scalar_one()
        prices = conn.execute(
            sa.text(
                "SELECT count(*) FROM market_odds "
                "WHERE captured_at >= :since AND captured_at < :until"
            ),
            params,
        ).scalar_one()
    counts = {
        "matches": int(matches),
        "listings": int(listings),
        "single_listed": int(single),
        "bookmakers": int(bookmakers),
        "snapshots": int(snapshots),
        "prices": int(prices),
    }
    return counts, first and first.astimezone(UTC), last and last.astimezone(UTC)


def main_lines(history: pl.DataFrame) -> pl.DataFrame:
    """The rows of the main markets: over/under at 2.5, Asian handicap at each match's
    most balanced line (home and away mean odds closest), everything else as it is.

    Examples
    --------
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "asian_handicap", "line": [-0.5, -0.5, 0.0, 0.0],
    ...     "outcome": ["home", "away"] * 2, "odds": [1.70, 2.20, 1.95, 1.90],
    ... })
    >>> main_lines(frame)["line"].to_list()
    [0.0, 0.0]
    """
    handicap = history.filter(pl.col("market") == "asian_handicap")
    balanced = (
        handicap.group_by("event_id", "line", "outcome")
        .agg(pl.col("odds").mean())
        .pivot(on="outcome", index=["event_id", "line"], values="odds")
    )
    if {"home", "away"} <= set(balanced.columns):
        balanced = (
            balanced.drop_nulls(["home", "away"])
            .sort((pl.col("home") - pl.col("away")).abs(), "line")
            .unique("event_id", keep="first")
            .select("event_id", "line")
        )
    else:
        balanced = balanced.select("event_id", "line").head(0)
    return pl.concat(
        [
            history.filter(~pl.col("market").is_in(["over_under", "asian_handicap"])),
            history.filter(
                (pl.col("market") == "over_under") & (pl.col("line") == MAIN_OVER_UNDER_LINE)
            ),
            handicap.join(balanced, on=["event_id", "line"], how="semi"),
        ]
    )


def _movers(history: pl.DataFrame) -> pl.DataFrame:
    """Each match × main market's biggest move (mean over bookmakers), biggest first."""
    history = history.filter(~aggregate_book())  # aggregate books are not bookmakers
    if not history.height:
        return pl.DataFrame()
    moves = summarise_movement(history)
    n_books = history.get_column("bookmaker").n_unique()
    keys = ["event_id", "market", "line"]
    per_outcome = (
        moves.group_by(*keys, "outcome")
        .agg(
            pl.col("prob_change").mean().alias("prob_change"),
            pl.col("bookmaker").n_unique().alias("n_bookmakers"),
            pl.col("opening_odds").mean().alias("opening_odds"),
            pl.col("current_odds").mean().alias("current_odds"),
            pl.col("n_moves").sum().alias("n_moves"),
        )
        .filter(pl.col("n_bookmakers") >= min(3, n_books))
    )
    biggest = (
        per_outcome.sort(pl.col("prob_change").abs(), "outcome", descending=[True, False])
        .unique(keys, keep="first", maintain_order=True)
        .with_columns(pl.col("market").replace_strict(MARKET_ORDER, default=99).alias("_order"))
    )
    names = history.select(_EVENT_COLUMNS).unique("event_id")
    return (
        biggest.join(names, on="event_id", how="left")
        .sort(pl.col("prob_change").abs(), "event_id", "_order", descending=[True, False, False])
        .drop("_order")
    )


def _margins(board: pl.DataFrame) -> pl.DataFrame:
    """Mean overround (%) by bookmaker × market over complete closing markets."""
    inst = compute_overround(board).filter(~pl.col("incomplete"))
    return (
        inst.group_by("bookmaker", "market")
        .agg((100 * pl.col("overround")).mean().alias("overround_pct"), pl.len().alias("n"))
        .sort(
            pl.col("bookmaker").str.to_lowercase(),
            pl.col("market").replace_strict(MARKET_ORDER, default=99, return_dtype=pl.Int64),
        )
    )


@renamed_arguments(days=("lookback", days_as_lookback))
def collect_report_data(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    lookback: timedelta | str = DEFAULT_LOOKBACK,
    featured: int = 8,
    bookmaker: str = "betPawa",
) -> ReportData:
    """Read and derive what the report shows, over captures in ``[since, until)``.

    Parameters
    ----------
    db
        The database.
    since
        Start of the window (inclusive); default: ``lookback`` before ``until``.
    until
        End of the window (exclusive); default: just after the newest snapshot.
    lookback
        Length of the default window (``"3d"``, a timedelta). Called ``days`` (a
        number of days) before 0.2; that still works, with a ``DeprecationWarning``.
    featured
        How many matches (those with the biggest moves in a main market, priced by at
        least three bookmakers) the report's match picker offers.
    bookmaker
        The bookmaker compared with the market.

    Returns
    -------
    ReportData
        What the report shows.

    Examples
    --------
    >>> data = collect_report_data(db, lookback="1d", featured=1)
    >>> data.featured, data.margins.filter(market="1x2").sort("overround_pct")["bookmaker"][0]
    ((3,), 'Pinnacle')
    """
    featured = integer(featured, "featured", minimum=0)  # type: ignore[assignment]
    bookmaker = text(bookmaker, "bookmaker")  # type: ignore[assignment]
    since, until = _window(db, since, until, lookback)
    counts, first, last = _counts(db, since, until)
    if first is None or last is None:
        raise OddskitError(
            f"no odds snapshots were captured in [{since:%Y-%m-%d %H:%M}, "
            f"{until:%Y-%m-%d %H:%M}) UTC in {db.masked_url}"
        )
    raw = main_lines(fetch_odds_history(db, markets=MAIN_MARKETS, since=since, until=until))
    event_ids = raw.get_column("event_id").unique().sort()
    events = fetch_events(db, event_ids=event_ids).select(_EVENT_COLUMNS)
    main_history = raw.join(events, on="event_id", how="left")
    history = main_history.filter(pl.col("market") == "1x2")
    board = fetch_closing_odds(db, event_ids=event_ids).join(
        events.drop("kickoff"), on="event_id", how="left"
    )
    coverage = (
        fetch_coverage(db, since=since, until=until, every="1h")
        .group_by("bookmaker")
        .agg(pl.col("snapshots").sum())
        .join(
            board.group_by("bookmaker").agg(pl.col("event_id").n_unique().alias("listings")),
            on="bookmaker",
            how="left",
        )
        .with_columns(pl.col("listings").fill_null(0))
        .filter(pl.col("snapshots") > 0)
        .sort(pl.col("bookmaker").str.to_lowercase())
    )
    movers = _movers(main_history)
    top = movers.get_column("event_id").unique(maintain_order=True) if movers.height else []
    margins = _margins(board)
    one_x_two = margins.filter(pl.col("market") == "1x2", ~aggregate_book()).sort(
        "overround_pct", "bookmaker"
    )
    sharp = one_x_two.get_column("bookmaker")[0] if one_x_two.height >= 2 else None
    steam = detect_steam(main_history, **STEAM) if main_history.height else pl.DataFrame()
    return ReportData(
        database=describe_database(db),
        since=since,
        until=until,
        first_captured_at=first,
        last_captured_at=last,
        counts=counts,
        history=history,
        main_history=main_history,
        board=board,
        movers=movers,
        featured=tuple(int(e) for e in list(top)[:featured]),
        steam=steam,
        margins=margins,
        coverage=coverage,
        bookmaker=bookmaker,
        sharp=sharp,
    )
