"""Charts of prices: line movement, and a bookmaker against the market (now and over time).

Re-exported by :mod:`oddskit.plots`. The market reference of a bookmaker is the best
price (:func:`~oddskit.comparisons.best_prices`) and the consensus fair odds
(:func:`~oddskit.comparisons.consensus_line`) of every bookmaker, or of every other
one with ``exclude_self=True``.

Examples
--------
>>> from datetime import UTC, datetime
>>> frame = pl.DataFrame({
...     "event_id": 1, "market": "btts", "bookmaker": "A", "outcome": ["yes", "no"],
...     "captured_at": datetime(2026, 5, 1, 12, tzinfo=UTC), "odds": [1.8, 1.95],
... })
>>> plot_line_movement(frame, event_id=1, market="btts").layout.yaxis.title.text
'Decimal odds'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from oddskit.alignment import align_bookmakers
from oddskit.arguments import choice, deprecated, renamed_arguments
from oddskit.comparisons import best_prices, consensus_line
from oddskit.errors import ConfigurationError
from oddskit.margins import Method
from oddskit.markets import MARKET_OUTCOMES
from oddskit.odds_frames import NULLS_EQUAL
from oddskit.plots_common import (
    BEST_COLOR,
    FAIR_COLOR,
    TIME_FMT,
    apply_layout,
    book_order,
    bookmaker_colors,
    check_bookmaker,
    checked_frame,
    event_label,
    finish_outcome_subplots,
    kickoff_of,
    market_label,
    naive_utc,
    outcome_order,
    outcome_subplots,
    select_event,
    select_line,
    select_market,
    select_outcomes,
    unique_values,
)

__all__ = ["plot_line_movement", "plot_vs_market", "plot_vs_market_over_time"]

_REQUIRED = ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"]
#: The options of :func:`plot_vs_market_over_time` that plot_vs_market took before 0.2.
_OVER_TIME_OPTIONS = frozenset({"event_id", "every", "tolerance", "kickoff"})


@renamed_arguments(outcome="outcomes")
def plot_line_movement(
    frame: pl.DataFrame,
    *,
    event_id: Any,
    market: str,
    line: float | None = None,
    outcomes: str | Sequence[str] | None = None,
    kickoff: datetime | None = None,
    title: str | None = None,
) -> go.Figure:
    """Odds of one event's market over time: one step line per bookmaker and outcome.

    One subplot per outcome (shared time axis, outcomes in market order), one trace
    per bookmaker in each, drawn as steps (``line_shape="hv"``: a price holds until
    the next snapshot) with a marker at each snapshot. A suspended price (null odds)
    breaks the line. A dashed vertical line marks the kickoff: ``kickoff`` if given
    (timezone-aware), else the most common value of the frame's ``kickoff`` column.

    Parameters
    ----------
    frame
        Long odds frame (``event_id``, ``bookmaker``, ``captured_at``, ``market``,
        ``outcome``, ``odds``; ``kickoff``, ``home_team``, ``away_team`` are used
        when present).
    event_id
        The event to plot.
    market
        The market to plot.
    line
        The line, for a market priced at several lines (e.g. ``2.5``).
    outcomes
        An outcome or a list of outcomes; default: all. Called ``outcome`` before 0.2.
    kickoff
        Where to draw the kickoff line; default: from the frame's ``kickoff`` column.
    title
        Figure title; default: the event, the market and what is plotted.

    Returns
    -------
    plotly.graph_objects.Figure
        One subplot per outcome, one step line per bookmaker.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "bookmaker": ["A", "A", "B", "B"],
    ...     "captured_at": [t0, t0 + timedelta(minutes=5)] * 2,
    ...     "outcome": "yes", "odds": [1.80, 1.75, 1.90, 1.85],
    ...     "kickoff": t0 + timedelta(hours=1),
    ... })
    >>> fig = plot_line_movement(frame, event_id=1, market="btts")
    >>> fig.layout.title.text
    'Event 1 — btts: odds by bookmaker'
    >>> [(t.name, t.line.shape) for t in fig.data]
    [('A', 'hv'), ('B', 'hv')]
    """
    df = checked_frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    df = select_event(df, event_id)
    df = select_market(df, market, f"event {event_id!r}")
    df, line = select_line(df, market, line, required=True)
    outcomes = select_outcomes(df, market, outcomes)
    kick = kickoff_of(df, kickoff)
    df = df.filter(pl.col("outcome").is_in(outcomes)).sort("captured_at")
    books = book_order(unique_values(df, "bookmaker"))
    colors = bookmaker_colors(books)

    fig = outcome_subplots(outcomes)
    for row, out in enumerate(outcomes, start=1):
        rows = df.filter(pl.col("outcome") == out)
        for book in books:
            series = rows.filter(pl.col("bookmaker") == book)
            if not series.height:
                continue
            fig.add_trace(
                go.Scatter(
                    x=naive_utc(series.get_column("captured_at")),
                    y=series.get_column("odds").to_numpy(),
                    name=book,
                    legendgroup=book,
                    showlegend=not any(t.name == book for t in fig.data),
                    mode="lines+markers",
                    line={"color": colors[book], "shape": "hv", "width": 2},
                    marker={"color": colors[book], "size": 4},
                    connectgaps=False,
                    hovertemplate=(
                        f"Bookmaker: {book}<br>Outcome: {out}<br>Time: {TIME_FMT}"
                        "<br>Odds: %{y:.3f}<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
    name = event_label(df, event_id)
    default = f"{name[0].upper()}{name[1:]} — {market_label(market, line)}: odds by bookmaker"
    return finish_outcome_subplots(
        fig,
        len(outcomes),
        x_title="Time (UTC)",
        kickoff=kick,
        title=title or default,
        legend_title="Bookmaker",
    )


def _best_and_fair(
    ref: pl.DataFrame, keys: list[str], *, method: str, **board: Any
) -> pl.DataFrame:
    """Best price (and its bookmaker) and consensus fair odds per ``keys`` × outcome."""
    okeys = [*keys, "outcome"]
    best = (
        best_prices(ref, **board)
        .select(*okeys, "best_odds", "best_bookmaker", pl.col("n_bookmakers").alias("n_best"))
        .unique(okeys)
    )
    fair = consensus_line(ref, method=method, **board).select(*okeys, "fair_odds")
    return best.join(fair, on=okeys, how="left", **NULLS_EQUAL)


def _market_rows(
    frame: pl.DataFrame,
    *,
    bookmaker: str,
    market: str,
    line: float | None,
    exclude_self: bool,
    method: str,
    event_id: Any = None,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str], str, str]:
    """The chosen rows, the reference rows, the market keys, a "where" and a label."""
    choice(method, "method", Method)
    df = checked_frame(frame, _REQUIRED).filter(pl.col("odds").is_not_null())
    if event_id is None:
        df = select_market(df, market, "the frame")
        df, line = select_line(df, market, line, required=False)
        where = f"market {market_label(market, line)!r}"
    else:
        df = select_event(df, event_id)
        df = select_market(df, market, f"event {event_id!r}")
        df, line = select_line(df, market, line, required=True)
        where = f"market {market_label(market, line)!r} of event {event_id!r}"
    check_bookmaker(df, bookmaker, where)
    ref = df.filter(pl.col("bookmaker") != bookmaker) if exclude_self else df
    if not ref.height:
        raise ConfigurationError(
            f"no other bookmaker prices {where}, so there is no market to compare "
            f"{bookmaker!r} with; pass exclude_self=False"
        )
    keys = [k for k in ("event_id", "market", "line") if k in df.columns]
    label = market_label(market, line)
    return df, ref, keys, label, "other bookmakers" if exclude_self else "all bookmakers"


@renamed_arguments(at="as_of", max_age="lookback")
def plot_vs_market(
    frame: pl.DataFrame,
    *,
    bookmaker: str = "betPawa",
    market: str = "1x2",
    line: float | None = None,
    exclude_self: bool = False,
    method: Method = "multiplicative",
    as_of: datetime | None = None,
    lookback: timedelta | str | None = None,
    title: str | None = None,
    **over_time: Any,
) -> go.Figure:
    """Where a bookmaker's prices sit against the best price and the consensus, per outcome.

    On the board (each bookmaker's latest snapshot at or before ``as_of``, no older
    than ``lookback``), bars per outcome show the bookmaker's mean distance below
    the best price (``1 − odds/best``) and below the consensus fair odds
    (``1 − odds/fair``: the margin it charges on that outcome), in percent of the
    reference odds, averaged over events (and lines, unless ``line=`` is given). The
    hover adds how often it had the best price. This shows where its margin sits
    (favourites, draws, long shots) and how far it is from the top of the market.
    For one event over time, see :func:`plot_vs_market_over_time`.

    Parameters
    ----------
    frame
        Long odds frame (``event_id``, ``bookmaker``, ``captured_at``, ``market``,
        ``outcome``, ``odds``).
    bookmaker
        The bookmaker to compare.
    market
        The market to compare on.
    line
        Only this line of the market; default: all lines.
    exclude_self
        Compare with the other bookmakers only (then the bookmaker can beat the
        best price).
    method
        Margin-removal method of the consensus (one of :data:`oddskit.margins.METHODS`).
    as_of
        Use each bookmaker's latest snapshot at or before this instant (called
        ``at`` before 0.2).
    lookback
        Drop a board snapshot older than this before ``as_of`` (called ``max_age``
        before 0.2).
    title
        Figure title; default: what is compared, over how many events.
    **over_time
        ``event_id``, ``every``, ``tolerance``, ``kickoff``: deprecated, the options of
        :func:`plot_vs_market_over_time`, which a call with ``event_id`` is passed to.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bars per outcome.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "captured_at": t0,
    ...     "bookmaker": ["A", "A", "B", "B"], "outcome": ["yes", "no"] * 2,
    ...     "odds": [1.80, 2.00, 1.90, 1.95],
    ... })
    >>> fig = plot_vs_market(frame, bookmaker="A", market="btts")
    >>> for trace in fig.data:
    ...     print(trace.name, list(trace.x), [round(float(y), 2) for y in trace.y])
    A: below best price ['yes', 'no'] [5.26, 0.0]
    A: below consensus fair odds ['yes', 'no'] [7.05, 3.28]
    """
    unknown = sorted(set(over_time) - _OVER_TIME_OPTIONS)
    if unknown:
        raise TypeError(f"plot_vs_market() got unexpected keyword argument(s) {unknown}")
    if over_time.get("event_id") is not None:
        deprecated("plot_vs_market(event_id=...) is now plot_vs_market_over_time(event_id=...)")
        if as_of is not None or lookback is not None:
            raise ConfigurationError(
                "`as_of` and `lookback` apply to the summary over all events (event_id=None); "
                "with `event_id` the prices are compared on the `every` grid"
            )
        return plot_vs_market_over_time(
            frame,
            bookmaker=bookmaker,
            market=market,
            line=line,
            exclude_self=exclude_self,
            method=method,
            title=title,
            **over_time,
        )
    if over_time.get("kickoff") is not None:
        raise ConfigurationError("`kickoff` applies only with `event_id`")
    df, ref, keys, label, ref_label = _market_rows(
        frame,
        bookmaker=bookmaker,
        market=market,
        line=line,
        exclude_self=exclude_self,
        method=method,
    )
    colors = bookmaker_colors(book_order(unique_values(df, "bookmaker")))
    okeys = [*keys, "outcome"]
    market_ref = _best_and_fair(ref, keys, method=method, as_of=as_of, lookback=lookback)
    own = (
        best_prices(df, as_of=as_of, lookback=lookback)
        .filter(pl.col("bookmaker") == bookmaker)
        .select(*okeys, "odds")
        .join(market_ref, on=okeys, how="inner", **NULLS_EQUAL)
    )
    if not own.height:
        raise ConfigurationError(
            f"{bookmaker!r} has no price on the board of market {market!r} "
            f"(as_of={as_of!r}, lookback={lookback!r}) that other bookmakers also price"
        )
    summary = (
        own.group_by("outcome")
        .agg(
            (100 * (1 - pl.col("odds") / pl.col("best_odds"))).mean().alias("below_best"),
            (100 * (1 - pl.col("odds") / pl.col("fair_odds"))).mean().alias("below_fair"),
            (100 * (pl.col("odds") >= pl.col("best_odds")).mean()).alias("share_best"),
            pl.len().alias("n"),
            pl.col("fair_odds").is_not_null().sum().alias("n_fair"),
        )
        .sort(
            pl.col("outcome").replace_strict(
                {o: i for i, o in enumerate(MARKET_OUTCOMES.get(market, ()))},
                default=len(MARKET_OUTCOMES.get(market, ())),
                return_dtype=pl.Int64,
            ),
            "outcome",
        )
    )
    outcomes = summary.get_column("outcome").to_list()
    extra = summary.select("share_best", "n", "n_fair").to_numpy().astype(float)
    color = colors[bookmaker]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=outcomes,
            y=summary.get_column("below_best").to_numpy(),
            customdata=extra,
            name=f"{bookmaker}: below best price",
            marker={"color": color},
            hovertemplate=(
                f"Bookmaker: {bookmaker}<br>Outcome: %{{x}}<br>Mean distance below the best"
                f" price ({ref_label}): %{{y:.2f}}%<br>Best price in %{{customdata[0]:.2f}}%"
                " of %{customdata[1]} markets<extra></extra>"
            ),
        )
    )
    fig.add_trace(
        go.Bar(
            x=outcomes,
            y=summary.get_column("below_fair").to_numpy(),
            customdata=extra,
            name=f"{bookmaker}: below consensus fair odds",
            marker={"color": color, "pattern": {"shape": "/", "fgcolor": "white"}},
            hovertemplate=(
                f"Bookmaker: {bookmaker}<br>Outcome: %{{x}}<br>Mean distance below consensus"
                f" fair odds ({ref_label}, {method}): %{{y:.2f}}%"
                "<br>Markets with a consensus: %{customdata[2]:.0f}<extra></extra>"
            ),
        )
    )
    n_events = own.get_column("event_id").n_unique()
    default = (
        f"{bookmaker} vs the market — {label}: mean distance below "
        f"the best price and consensus fair odds ({n_events} events)"
    )
    apply_layout(
        fig,
        title=title or default,
        legend_title="Comparison",
        barmode="group",
        xaxis={
            "title": {"text": "Outcome"},
            "categoryorder": "array",
            "categoryarray": outcomes,
        },
        yaxis_title="Mean distance below reference (% of reference odds)",
    )
    fig.add_hline(y=0, line={"color": "#333333", "width": 1})
    return fig


def plot_vs_market_over_time(
    frame: pl.DataFrame,
    *,
    event_id: Any,
    bookmaker: str = "betPawa",
    market: str = "1x2",
    line: float | None = None,
    exclude_self: bool = False,
    method: Method = "multiplicative",
    every: timedelta | str = "5m",
    tolerance: timedelta | str | None = None,
    kickoff: datetime | None = None,
    title: str | None = None,
) -> go.Figure:
    """One event's market over time: a bookmaker's odds, the best price and the consensus.

    Prices are put on a common ``every`` grid (:func:`~oddskit.alignment.align_bookmakers`,
    as-of with ``tolerance``), one subplot per outcome. Traces: the bookmaker's odds
    (its colour), the best price (grey dashes, markers in the colour of the bookmaker
    offering it, one legend entry per such bookmaker) and the consensus fair odds
    (black dots), all as steps, with the kickoff line. The hover of the bookmaker's
    line gives its distance from both.

    Parameters
    ----------
    frame
        Long odds frame (``event_id``, ``bookmaker``, ``captured_at``, ``market``,
        ``outcome``, ``odds``).
    event_id
        The event to plot.
    bookmaker
        The bookmaker to compare.
    market
        The market to compare on.
    line
        The line, for a market priced at several lines.
    exclude_self
        Compare with the other bookmakers only.
    method
        Margin-removal method of the consensus (one of :data:`oddskit.margins.METHODS`).
    every
        Grid spacing (``"5m"``, a timedelta).
    tolerance
        Oldest snapshot still used at a grid instant; default: any age.
    kickoff
        Where to draw the kickoff line; default: from the frame's ``kickoff`` column.
    title
        Figure title; default: the bookmaker, the event and the market.

    Returns
    -------
    plotly.graph_objects.Figure
        One subplot per outcome with three step lines.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "captured_at": t0,
    ...     "bookmaker": ["A", "A", "B", "B"], "outcome": ["yes", "no"] * 2,
    ...     "odds": [1.80, 2.00, 1.90, 1.95],
    ... })
    >>> fig = plot_vs_market_over_time(frame, event_id=1, bookmaker="A", market="btts")
    >>> [t.name for t in fig.data][:3]
    ['Best price (all bookmakers)', 'Consensus fair odds (all bookmakers, multiplicative)', 'A']
    """
    df, _, keys, label, ref_label = _market_rows(
        frame,
        bookmaker=bookmaker,
        market=market,
        line=line,
        exclude_self=exclude_self,
        method=method,
        event_id=event_id,
    )
    colors = bookmaker_colors(book_order(unique_values(df, "bookmaker")))
    kick = kickoff_of(df, kickoff)
    grid = align_bookmakers(df, every=every, tolerance=tolerance)
    ref_grid = grid.filter(pl.col("bookmaker") != bookmaker) if exclude_self else grid
    tkeys = [*keys, "captured_at"]
    market_ref = _best_and_fair(ref_grid, tkeys, method=method, aligned=True)
    own = (
        grid.filter(pl.col("bookmaker") == bookmaker)
        .select(*tkeys, "outcome", "odds")
        .join(market_ref, on=[*tkeys, "outcome"], how="left", **NULLS_EQUAL)
        .with_columns(
            (100 * (1 - pl.col("odds") / pl.col("best_odds"))).alias("below_best"),
            (100 * (1 - pl.col("odds") / pl.col("fair_odds"))).alias("below_fair"),
        )
    )
    outcomes = outcome_order(market, unique_values(grid, "outcome"))
    fig = outcome_subplots(outcomes)
    color = colors[bookmaker]
    for row, out in enumerate(outcomes, start=1):
        ours = own.filter(pl.col("outcome") == out).sort("captured_at")
        mkt = market_ref.filter(pl.col("outcome") == out).sort("captured_at")
        first = row == 1
        best_colors = [colors.get(b, BEST_COLOR) for b in mkt.get_column("best_bookmaker")]
        fig.add_trace(
            go.Scatter(
                x=naive_utc(mkt.get_column("captured_at")),
                y=mkt.get_column("best_odds").to_numpy(),
                customdata=mkt.select("best_bookmaker", "n_best").to_numpy(),
                name=f"Best price ({ref_label})",
                legendgroup="best",
                showlegend=first,
                mode="lines+markers",
                line={"color": BEST_COLOR, "shape": "hv", "dash": "dash", "width": 1.5},
                marker={"color": best_colors, "size": 6},
                hovertemplate=(
                    f"Best price ({ref_label})<br>Outcome: {out}<br>Time: {TIME_FMT}"
                    "<br>Odds: %{y:.3f}<br>Bookmaker: %{customdata[0]}"
                    " (of %{customdata[1]})<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=naive_utc(mkt.get_column("captured_at")),
                y=mkt.get_column("fair_odds").to_numpy(),
                name=f"Consensus fair odds ({ref_label}, {method})",
                legendgroup="fair",
                showlegend=first,
                mode="lines",
                line={"color": FAIR_COLOR, "shape": "hv", "dash": "dot", "width": 1.5},
                hovertemplate=(
                    f"Consensus fair odds ({method})<br>Outcome: {out}<br>Time: {TIME_FMT}"
                    "<br>Fair odds: %{y:.3f}<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=naive_utc(ours.get_column("captured_at")),
                y=ours.get_column("odds").to_numpy(),
                customdata=ours.select("best_odds", "below_best", "fair_odds", "below_fair")
                .to_numpy()
                .astype(float),
                name=bookmaker,
                legendgroup=bookmaker,
                showlegend=first,
                mode="lines+markers",
                line={"color": color, "shape": "hv", "width": 2.5},
                marker={"color": color, "size": 4},
                hovertemplate=(
                    f"Bookmaker: {bookmaker}<br>Outcome: {out}<br>Time: {TIME_FMT}"
                    "<br>Odds: %{y:.3f}<br>Best: %{customdata[0]:.3f}"
                    " (%{customdata[1]:.2f}% below)<br>Fair: %{customdata[2]:.3f}"
                    " (%{customdata[3]:.2f}% below)<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
    # The best price's markers take the colour of the bookmaker offering it: say which.
    offering = set(market_ref.get_column("best_bookmaker").drop_nulls().to_list())
    for book in book_order(offering):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                name=f"Best price offered by {book}",
                legendgroup="best",
                mode="markers",
                marker={"color": colors.get(book, BEST_COLOR), "size": 8},
                hovertemplate=f"Best price offered by {book}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    name = event_label(df, event_id)
    default = (
        f"{bookmaker} vs the market — {name}, {label}: odds, best price and consensus fair odds"
    )
    return finish_outcome_subplots(
        fig,
        len(outcomes),
        x_title=f"Time (UTC), {every} grid",
        kickoff=kick,
        title=title or default,
        legend_title="Series",
    )
