"""Charts of bookmaker margins: over time, their distribution, a bookmaker × market heatmap.

Margins are overrounds in percent (``100 · (Σ 1/odds − 1)``, ``− 2`` for double
chance, see :func:`oddskit.margins.compute_overround`); incomplete market instances
(an outcome suspended or missing) are left out. Re-exported by :mod:`oddskit.plots`.

Examples
--------
>>> from datetime import UTC, datetime
>>> frame = pl.DataFrame({
...     "event_id": 1, "market": "btts", "bookmaker": "A", "outcome": ["yes", "no"],
...     "captured_at": datetime(2026, 5, 1, 12, tzinfo=UTC), "odds": [1.8, 1.95],
... })
>>> plot_margin_heatmap(frame).data[0].type
'heatmap'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final, Literal

import plotly.graph_objects as go
import polars as pl

from oddskit.arguments import choice, duration
from oddskit.errors import ConfigurationError
from oddskit.plots_common import (
    TIME_FMT,
    apply_layout,
    book_order,
    bookmaker_colors,
    checked_frame,
    complete_instances,
    every_interval,
    naive_utc,
    select_market,
    select_markets,
    unique_values,
)

__all__ = ["plot_margin_distribution", "plot_margin_heatmap", "plot_margin_over_time"]

#: Kinds of :func:`plot_margin_distribution`.
PlotKind = Literal["box", "violin"]
HeatmapScale = Literal["all", "market"]


def plot_margin_over_time(
    frame: pl.DataFrame,
    *,
    market: str = "1x2",
    every: timedelta | str | None = "1h",
    title: str | None = None,
) -> go.Figure:
    """Mean overround (%) of one market over time, one line per bookmaker.

    The overround of every complete market instance (event × bookmaker × snapshot
    × line, :func:`~oddskit.margins.compute_overround`) is averaged per bookmaker
    over all events (and lines) captured in each ``every`` interval (UTC, truncated
    from the epoch), plotted at the interval's start. The hover shows the mean and
    the number of market instances averaged.

    Parameters
    ----------
    frame
        Long odds frame (``event_id``, ``bookmaker``, ``captured_at``, ``market``,
        ``outcome``, ``odds``).
    market
        The market to plot.
    every
        Width of the averaging interval (``"1h"``, a timedelta); ``None`` averages
        per exact capture instant instead.
    title
        Figure title; default: one saying what is plotted.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per bookmaker.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "bookmaker": "A",
    ...     "captured_at": [t0, t0, t0 + timedelta(hours=1), t0 + timedelta(hours=1)],
    ...     "outcome": ["yes", "no"] * 2, "odds": [1.80, 1.95, 1.85, 1.90],
    ... })
    >>> fig = plot_margin_over_time(frame, market="btts", every="1h")
    >>> [round(float(y), 2) for y in fig.data[0].y]
    [6.84, 6.69]
    """
    bucket = every_interval(every)
    df = checked_frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    df = select_market(df, market, "the frame")
    inst = complete_instances(df)
    if not inst.height:
        raise ConfigurationError(
            f"market {market!r} has no complete market instance (every one has an outcome "
            "missing or suspended), so no overround can be plotted"
        )
    when = pl.col("captured_at")
    when = when.dt.truncate(bucket) if bucket else when
    agg = (
        inst.group_by("bookmaker", when.alias("t"))
        .agg(pl.col("overround_pct").mean().alias("mean"), pl.len().alias("n"))
        .sort("bookmaker", "t")
    )
    books = book_order(unique_values(agg, "bookmaker"))
    colors = bookmaker_colors(books)
    fig = go.Figure()
    for book in books:
        part = agg.filter(pl.col("bookmaker") == book)
        fig.add_trace(
            go.Scatter(
                x=naive_utc(part.get_column("t")),
                y=part.get_column("mean").to_numpy(),
                customdata=part.select("n").to_numpy(),
                name=book,
                legendgroup=book,
                mode="lines+markers",
                line={"color": colors[book], "width": 2},
                marker={"color": colors[book], "size": 5},
                hovertemplate=(
                    f"Bookmaker: {book}<br>Market: {market}<br>"
                    + ("Interval start" if bucket else "Time")
                    + f": {TIME_FMT}<br>Mean overround: %{{y:.2f}}%"
                    "<br>Market instances: %{customdata[0]}<extra></extra>"
                ),
            )
        )
    per = f" per {every if isinstance(every, str) else duration(every, 'every')}" if bucket else ""
    apply_layout(
        fig,
        title=title or f"Mean overround of {market}{per}, by bookmaker",
        legend_title="Bookmaker",
        xaxis_title="Interval start (UTC)" if bucket else "Time (UTC)",
        yaxis_title="Overround (%)",
    )
    return fig


_BOX_STATS: Final = ("q1", "median", "q3", "lowerfence", "upperfence", "mean")


def _box_stats(inst: pl.DataFrame) -> pl.DataFrame:
    """Box statistics of ``overround_pct`` per bookmaker × market (Tukey whiskers)."""
    y = pl.col("overround_pct")
    q1, q3 = y.quantile(0.25, "linear"), y.quantile(0.75, "linear")
    iqr = q3 - q1
    return (
        inst.group_by("bookmaker", "market")
        .agg(
            q1.alias("q1"),
            y.median().alias("median"),
            q3.alias("q3"),
            y.filter(y >= q1 - 1.5 * iqr).min().alias("lowerfence"),
            y.filter(y <= q3 + 1.5 * iqr).max().alias("upperfence"),
            y.mean().alias("mean"),
            pl.len().alias("n"),
        )
        .sort("bookmaker", "market")
    )


def plot_margin_distribution(
    frame: pl.DataFrame,
    *,
    markets: str | Sequence[str] | None = None,
    kind: PlotKind = "box",
    title: str | None = None,
) -> go.Figure:
    """Distribution of overround (%) by market and bookmaker (box or violin plot).

    One trace per bookmaker, grouped by market on the x axis (known markets in the
    order of :data:`~oddskit.markets.MARKET_OUTCOMES`). Each sample is one complete
    market instance (event × snapshot × line); double chance is measured against
    a booksum of 2. ``kind="box"`` (default) draws boxes from statistics computed
    here (quartiles with linear interpolation, mean, Tukey whiskers at the most
    extreme samples within 1.5 IQR; outliers are not drawn), so the figure stays
    small for any number of rows. ``kind="violin"`` embeds every sample.

    Parameters
    ----------
    frame
        Long odds frame (``event_id``, ``bookmaker``, ``captured_at``, ``market``,
        ``outcome``, ``odds``).
    markets
        A market or a list of markets; default: all in the frame.
    kind
        ``"box"`` or ``"violin"``.
    title
        Figure title; default: one saying what is plotted.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per bookmaker.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": [1, 1, 2, 2], "market": "btts", "bookmaker": "A",
    ...     "captured_at": t0, "outcome": ["yes", "no"] * 2,
    ...     "odds": [1.80, 1.95, 1.70, 2.00],
    ... })
    >>> fig = plot_margin_distribution(frame)
    >>> fig.data[0].type, fig.layout.yaxis.title.text
    ('box', 'Overround (%)')
    """
    kind = choice(kind, "kind", PlotKind)
    df = checked_frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    chosen = select_markets(df, markets)
    inst = complete_instances(df.filter(pl.col("market").is_in(chosen)))
    books = book_order(unique_values(inst, "bookmaker"))
    colors = bookmaker_colors(books)
    fig = go.Figure()
    hover = "Bookmaker: {book}<br>Market: %{{x}}<br>Overround: %{{y:.2f}}%<extra></extra>"
    if kind == "box":
        stats = _box_stats(inst)
        for book in books:
            part = stats.filter(pl.col("bookmaker") == book)
            fig.add_trace(
                go.Box(
                    x=part.get_column("market").to_list(),
                    **{c: part.get_column(c).to_numpy() for c in _BOX_STATS},
                    name=book,
                    legendgroup=book,
                    offsetgroup=book,
                    line={"color": colors[book]},
                    fillcolor=colors[book],
                    opacity=0.75,
                    boxpoints=False,
                    hovertemplate=hover.format(book=book),
                )
            )
    else:
        for book in books:
            part = inst.filter(pl.col("bookmaker") == book)
            fig.add_trace(
                go.Violin(
                    x=part.get_column("market").to_list(),
                    y=part.get_column("overround_pct").to_numpy(),
                    name=book,
                    legendgroup=book,
                    offsetgroup=book,
                    line={"color": colors[book]},
                    fillcolor=colors[book],
                    opacity=0.75,
                    points=False,
                    box_visible=True,
                    meanline_visible=True,
                    hovertemplate=hover.format(book=book),
                )
            )
    mode = {"boxmode": "group"} if kind == "box" else {"violinmode": "group"}
    apply_layout(
        fig,
        title=title
        or "Overround by market and bookmaker (one sample per match, snapshot and line)",
        legend_title="Bookmaker",
        xaxis={"title": {"text": "Market"}, "categoryorder": "array", "categoryarray": chosen},
        yaxis_title="Overround (%)",
        **mode,
    )
    return fig


def plot_margin_heatmap(
    frame: pl.DataFrame,
    *,
    markets: str | Sequence[str] | None = None,
    colorscale: str = "Reds",
    scale: HeatmapScale = "all",
    title: str | None = None,
) -> go.Figure:
    """Bookmaker × market heatmap of the mean overround (%), values printed in the cells.

    Each cell is the mean overround of the bookmaker's complete market instances
    of that market (all events, snapshots and lines); a blank cell means the
    bookmaker does not price the market. Bookmaker names on the y axis take their
    chart colour; the hover also shows how many instances were averaged. With
    ``scale="market"`` the colours run from the lowest to the highest margin within
    each market (column), so that a market with large margins (double chance) does
    not wash out the others; the printed numbers stay the margins.

    Parameters
    ----------
    frame
        Long odds frame (``event_id``, ``bookmaker``, ``captured_at``, ``market``,
        ``outcome``, ``odds``).
    markets
        A market or a list of markets; default: all in the frame.
    colorscale
        A Plotly colour scale name.
    scale
        ``"all"``: one colour scale for every cell; ``"market"``: one per market.
    title
        Figure title; default: one saying what is plotted.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap: bookmakers down, markets across.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "bookmaker": ["A", "A", "B", "B"],
    ...     "captured_at": t0, "outcome": ["yes", "no"] * 2,
    ...     "odds": [1.80, 1.95, 1.90, 1.90],
    ... })
    >>> fig = plot_margin_heatmap(frame)
    >>> fig.layout.title.text
    'Mean overround by bookmaker and market'
    >>> [[round(v, 2) for v in row] for row in fig.data[0].z]
    [[6.84], [5.26]]
    >>> [list(row) for row in plot_margin_heatmap(frame, scale="market").data[0].z]
    [[1.0], [0.0]]
    """
    scale = choice(scale, "scale", HeatmapScale)
    df = checked_frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    chosen = select_markets(df, markets)
    inst = complete_instances(df.filter(pl.col("market").is_in(chosen)))
    mean = inst.group_by("bookmaker", "market").agg(
        pl.col("overround_pct").mean().alias("mean"), pl.len().alias("n")
    )
    books = book_order(unique_values(df, "bookmaker"))
    colors = bookmaker_colors(books)
    cells = {(b, m): (v, n) for b, m, v, n in mean.iter_rows()}
    z = [[cells.get((b, m), (None, 0))[0] for m in chosen] for b in books]
    counts = [[cells.get((b, m), (None, 0))[1] for m in chosen] for b in books]
    colour, colorbar, value = z, {"title": {"text": "Overround (%)"}}, "%{z:.2f}"
    text = None
    if scale == "market":
        text = [["" if v is None else f"{v:.2f}" for v in row] for row in z]
        value = "%{text}"
        colour = [list(row) for row in z]
        for j in range(len(chosen)):
            column = [row[j] for row in z if row[j] is not None]
            low, high = (min(column), max(column)) if column else (0.0, 0.0)
            for row in colour:
                if row[j] is not None:
                    row[j] = (row[j] - low) / (high - low) if high > low else 0.5
        colorbar = {
            "title": {"text": "Within each market"},
            "tickvals": [0, 1],
            "ticktext": ["lowest", "highest"],
        }
    fig = go.Figure(
        go.Heatmap(
            z=colour,
            x=chosen,
            y=books,
            text=text,
            customdata=counts,
            colorscale=colorscale,
            texttemplate=value,
            hoverongaps=False,
            colorbar=colorbar,
            hovertemplate=(
                f"Bookmaker: %{{y}}<br>Market: %{{x}}<br>Mean overround: {value}%"
                "<br>Market instances: %{customdata}<extra></extra>"
            ),
        )
    )
    apply_layout(
        fig,
        title=title or "Mean overround by bookmaker and market",
        legend_title=None,
        xaxis_title="Market",
        yaxis={
            "title": {"text": "Bookmaker"},
            "autorange": "reversed",
            "tickmode": "array",
            "tickvals": books,
            "ticktext": [f'<span style="color:{colors[b]}"><b>{b}</b></span>' for b in books],
        },
    )
    return fig
