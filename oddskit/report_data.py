"""What the HTML report shows, read from the database: :func:`collect_report_data`.

One window ``[since, until)`` of captures is read with the query helpers of
:mod:`oddskit.queries` and summarised (movers, margins, coverage) into a
:class:`ReportData`; :mod:`oddskit.report` turns it into text and HTML and
re-exports both names.

Examples
--------
>>> data = collect_report_data(db, lookback="1d")
>>> data.counts
{'events': 6, 'bookmakers': 4, 'snapshots': 735, 'prices': 20466}
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
from oddskit.markets import MARKET_OUTCOMES
from oddskit.movement import summarise_movement
from oddskit.queries import fetch_closing_odds, fetch_coverage, fetch_events, fetch_odds_history

__all__ = ["DEFAULT_LOOKBACK", "ReportData", "collect_report_data"]

#: Default ``lookback`` of the report: the last three days of captures.
DEFAULT_LOOKBACK = timedelta(days=3)


def days_as_lookback(days: float) -> timedelta:
    """The ``lookback`` of a deprecated ``days=`` (a number of days)."""
    return timedelta(days=days) if isinstance(days, int | float) else days  # type: ignore[return-value]


#: Markets in display order (those of the vocabulary first).
MARKET_ORDER = {m: i for i, m in enumerate(MARKET_OUTCOMES)}
_EVENT_COLUMNS = ["event_id", "country", "tournament", "home_team", "away_team", "kickoff"]


@dataclass(frozen=True, eq=False)
class ReportData:
    """What the report shows, read from one window ``[since, until)`` of captures.

    ``history``: every 1x2 price captured in the window with the event's
    ``tournament``, ``home_team``, ``away_team`` and ``kickoff``. ``board``: each
    event × bookmaker's closing snapshot (the last before kickoff; the latest one for
    a match not started yet), every market. ``movers``: one row per event, its
    biggest 1x2 move (outcome whose implied probability moved most, opening → latest,
    averaged over the bookmakers quoting it), largest first. ``margins``: mean
    overround (%) of the closing board by bookmaker × market. ``coverage``:
    snapshots and events per bookmaker in the window.

    Examples
    --------
    >>> data = collect_report_data(db, lookback="1d")
    >>> data.counts
    {'events': 6, 'bookmakers': 4, 'snapshots': 735, 'prices': 20466}
    >>> data.bookmakers, data.featured
    (['Bet9ja', 'betPawa', 'Pinnacle', 'SportyBet'], (3, 6, 4))
    """

    database: str
    since: datetime
    until: datetime
    first_captured_at: datetime
    last_captured_at: datetime
    counts: dict[str, int]
    history: pl.DataFrame
    board: pl.DataFrame
    movers: pl.DataFrame
    featured: tuple[int, ...]
    margins: pl.DataFrame
    coverage: pl.DataFrame
    bookmaker: str

    @property
    def bookmakers(self) -> list[str]:
        """Bookmakers with prices in the window, by name."""
        return sorted(self.coverage.get_column("bookmaker").to_list(), key=str.casefold)


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
        snapshots, events, bookmakers, first, last = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT event_id), count(DISTINCT bookmaker_id), "
                "min(captured_at), max(captured_at) "
                "FROM odds_snapshots WHERE captured_at >= :since AND captured_at < :until"
            ),
            params,
        ).one()
        prices = conn.execute(
            sa.text(
                "SELECT count(*) FROM market_odds "
                "WHERE captured_at >= :since AND captured_at < :until"
            ),
            params,
        ).scalar_one()
    counts = {
        "events": int(events),
        "bookmakers": int(bookmakers),
        "snapshots": int(snapshots),
        "prices": int(prices),
    }
    return counts, first and first.astimezone(UTC), last and last.astimezone(UTC)


def _movers(history: pl.DataFrame) -> pl.DataFrame:
    """Each event's biggest 1x2 move (mean over bookmakers), biggest first."""
    if not history.height:
        return pl.DataFrame()
    moves = summarise_movement(history)
    n_books = history.get_column("bookmaker").n_unique()
    per_outcome = (
        moves.group_by("event_id", "outcome")
        .agg(
            pl.col("prob_change").mean().alias("prob_change"),
            pl.col("bookmaker").n_unique().alias("n_bookmakers"),
            pl.col("opening_odds").mean().alias("opening_odds"),
            pl.col("current_odds").mean().alias("current_odds"),
            pl.col("n_moves").sum().alias("n_moves"),
        )
        .filter(pl.col("n_bookmakers") >= min(3, n_books))
    )
    best = per_outcome.sort(pl.col("prob_change").abs(), descending=True).unique(
        "event_id", keep="first", maintain_order=True
    )
    names = history.select(_EVENT_COLUMNS).unique("event_id")
    return best.join(names, on="event_id", how="left").sort(
        pl.col("prob_change").abs(), "event_id", descending=[True, False]
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
    featured: int = 3,
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
        How many events (those with the biggest 1x2 moves, priced by at least three
        bookmakers) get their own line-movement chart.
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
    raw = fetch_odds_history(db, markets="1x2", since=since, until=until)
    event_ids = raw.get_column("event_id").unique().sort()
    events = fetch_events(db, event_ids=event_ids).select(_EVENT_COLUMNS)
    history = raw.join(events, on="event_id", how="left")
    board = fetch_closing_odds(db, event_ids=event_ids).join(
        events.drop("kickoff"), on="event_id", how="left"
    )
    coverage = (
        fetch_coverage(db, since=since, until=until, every="1h")
        .group_by("bookmaker")
        .agg(pl.col("snapshots").sum())
        .join(
            board.group_by("bookmaker").agg(pl.col("event_id").n_unique().alias("events")),
            on="bookmaker",
            how="left",
        )
        .with_columns(pl.col("events").fill_null(0))
        .filter(pl.col("snapshots") > 0)
        .sort(pl.col("bookmaker").str.to_lowercase())
    )
    movers = _movers(history)
    top = movers.head(featured).get_column("event_id").to_list() if movers.height else []
    return ReportData(
        database=db.description,
        since=since,
        until=until,
        first_captured_at=first,
        last_captured_at=last,
        counts=counts,
        history=history,
        board=board,
        movers=movers,
        featured=tuple(int(e) for e in top),
        margins=_margins(board),
        coverage=coverage,
        bookmaker=bookmaker,
    )
