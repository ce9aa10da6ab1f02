"""Plotly figures of odds movement, bookmaker margins and prices against the market.

Every function takes a long odds frame (one row per priced outcome, as in
:mod:`oddskit.margins` and :mod:`oddskit.movement`: ``event_id, bookmaker,
captured_at, market, line, outcome, odds``) and returns a
:class:`plotly.graph_objects.Figure`. Nothing is shown or written: call
``fig.show()``, ``fig.write_html(...)`` or ``fig.write_image(...)`` yourself.

Conventions shared by every chart:

* a bookmaker has the same colour in every chart (:func:`bookmaker_colors`);
* times are UTC, plotted as naive UTC timestamps (axis titles say "(UTC)");
* odds are decimal; margins are overrounds in percent (``100 · (Σ 1/odds − 1)``,
  ``− 2`` for double chance, see :func:`oddskit.margins.compute_overround`);
  incomplete market instances (an outcome suspended or missing) are left out;
* hovering shows the exact values: odds to 3 decimals, overrounds and percentages
  to 2 decimals, timestamps to the second;
* the template is ``"plotly_white"``; titles, axis titles (with units) and legend
  titles are always set.

Bad options raise :class:`~oddskit.errors.ConfigurationError` saying which values
exist (events, markets, lines, outcomes, bookmakers); a frame lacking a column
raises :class:`~oddskit.errors.ValidationError`.

Examples
--------
>>> bookmaker_colors(["Pinnacle", "betPawa"])
{'Pinnacle': '#F28E2B', 'betPawa': '#2CA02C'}
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from oddskit.errors import ConfigurationError, ValidationError
from oddskit.margins import METHODS, compute_overround
from oddskit.markets import MARKET_OUTCOMES
from oddskit.movement import (
    _NULLS_EQUAL,
    _duration,
    _instant,
    _time_column,
    align_bookmakers,
    best_prices,
    consensus_line,
)

__all__ = [
    "BOOKMAKER_COLORS",
    "TEMPLATE",
    "bookmaker_colors",
    "plot_line_movement",
    "plot_margin_distribution",
    "plot_margin_heatmap",
    "plot_margin_over_time",
    "plot_vs_market",
]

#: Plotly template of every figure.
TEMPLATE: Final = "plotly_white"

#: Fixed colours of the bookmakers oddskit knows (names matched case-insensitively).
BOOKMAKER_COLORS: Final[dict[str, str]] = {
    "betPawa": "#2CA02C",  # green
    "SportyBet": "#D62728",  # red
    "Bet9ja": "#1F5FAD",  # blue
    "Pinnacle": "#F28E2B",  # orange
}

#: Palette of other bookmakers, picked by a stable hash of the name. It avoids the
#: fixed colours above and the greys/black used for market references.
_PALETTE: Final[tuple[str, ...]] = (
    "#9467BD",  # purple
    "#8C564B",  # brown
    "#E377C2",  # pink
    "#BCBD22",  # olive
    "#17BECF",  # cyan
    "#1B7F79",  # teal
    "#B5179E",  # magenta
    "#C9A227",  # gold
    "#4C5B8C",  # slate blue
    "#7B2D26",  # maroon
    "#6A994E",  # moss
    "#FF9DA7",  # salmon
)
_FIXED_BY_KEY: Final[dict[str, tuple[str, str]]] = {
    name.casefold(): (name, color) for name, color in BOOKMAKER_COLORS.items()
}

#: Market-reference lines of :func:`plot_vs_market`.
_BEST_COLOR: Final = "#595959"
_FAIR_COLOR: Final = "#000000"

_TIME_FMT: Final = "%{x|%Y-%m-%d %H:%M:%S} UTC"
_MAX_LISTED: Final = 20


# --------------------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------------------


def bookmaker_colors(bookmakers: Iterable[str]) -> dict[str, str]:
    """Colour of each bookmaker, the same in every chart and every session.

    betPawa, SportyBet, Bet9ja and Pinnacle have fixed colours (names matched
    case-insensitively). Any other name gets a colour from a 12-colour palette
    chosen by a stable hash (BLAKE2) of its case-folded name, so it does not depend
    on which other bookmakers are plotted; two such names can share a colour.

    Examples
    --------
    >>> colors = bookmaker_colors(["SportyBet", "Bet9ja", "MyBook"])
    >>> colors["SportyBet"], colors["Bet9ja"]
    ('#D62728', '#1F5FAD')
    >>> colors["MyBook"] == bookmaker_colors(["mybook"])["mybook"]
    True
    """
    if isinstance(bookmakers, str):
        raise ConfigurationError(
            f"`bookmakers` must be a list of bookmaker names, not the string {bookmakers!r}"
        )
    out: dict[str, str] = {}
    for name in bookmakers:
        if not isinstance(name, str):
            raise ConfigurationError(
                f"bookmaker names must be strings, got {type(name).__name__} {name!r}"
            )
        key = name.casefold()
        if key in _FIXED_BY_KEY:
            out[name] = _FIXED_BY_KEY[key][1]
        else:
            digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
            out[name] = _PALETTE[int.from_bytes(digest, "big") % len(_PALETTE)]
    return out


# --------------------------------------------------------------------------------------
# Validation and frame helpers
# --------------------------------------------------------------------------------------


def _listing(values: Sequence[Any]) -> str:
    """``[a, b, ...]`` with at most ``_MAX_LISTED`` values and the total count."""
    shown = list(values[:_MAX_LISTED])
    more = f" … and {len(values) - _MAX_LISTED} more" if len(values) > _MAX_LISTED else ""
    return f"{shown}{more}"


def _frame(frame: object, required: Sequence[str]) -> pl.DataFrame:
    """Validated copy: UTC ``captured_at``, String keys, Float64 odds."""
    if not isinstance(frame, pl.DataFrame):
        raise ConfigurationError(
            f"`frame` must be a polars DataFrame, got {type(frame).__name__}; "
            "collect a LazyFrame first"
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        hint = ""
        if "event_id" in missing:
            hint = (
                ". Derive an event id, e.g. frame.with_columns(event_id=pl.struct("
                "'home_team', 'away_team', 'kickoff').rank('dense'))"
            )
        raise ValidationError(f"the frame lacks column(s) {missing}; it has {frame.columns}{hint}")
    odds = frame.get_column("odds")
    if not odds.dtype.is_numeric():
        raise ValidationError(f"'odds' must be numeric decimal odds, got dtype {odds.dtype}")
    df = frame.with_columns(
        pl.col("odds").cast(pl.Float64),
        *[pl.col(c).cast(pl.String) for c in ("bookmaker", "market", "outcome") if c in frame],
    )
    if "captured_at" in df.columns:
        df = _time_column(df, "captured_at")
    return df


def _naive(series: pl.Series) -> Any:
    """Naive-UTC numpy datetimes for Plotly (which ignores time zones)."""
    return series.dt.replace_time_zone(None).to_numpy()


def _market_order(markets: Iterable[str]) -> list[str]:
    known = list(MARKET_OUTCOMES)
    return sorted(set(markets), key=lambda m: (known.index(m) if m in known else len(known), m))


def _outcome_order(market: str, outcomes: Iterable[str]) -> list[str]:
    known = list(MARKET_OUTCOMES.get(market, ()))
    return sorted(set(outcomes), key=lambda o: (known.index(o) if o in known else len(known), o))


def _book_order(books: Iterable[str]) -> list[str]:
    return sorted(set(books), key=lambda b: (b.casefold(), b))


def _unique(df: pl.DataFrame, col: str) -> list[Any]:
    return sorted(df.get_column(col).drop_nulls().unique().to_list())


def _select_event(df: pl.DataFrame, event_id: object) -> pl.DataFrame:
    events = _unique(df, "event_id")
    if isinstance(event_id, bool) or event_id not in set(events):
        raise ConfigurationError(
            f"event_id {event_id!r} is not in the frame; it has {len(events)} event(s): "
            f"{_listing(events)}"
        )
    return df.filter(pl.col("event_id") == pl.lit(event_id))


def _select_market(df: pl.DataFrame, market: object, where: str) -> pl.DataFrame:
    markets = _market_order(_unique(df, "market"))
    if not isinstance(market, str) or market not in markets:
        raise ConfigurationError(
            f"market {market!r} is not in {where}; available markets: {markets}"
        )
    return df.filter(pl.col("market") == market)


def _select_markets(df: pl.DataFrame, markets: str | Sequence[str] | None) -> list[str]:
    available = _market_order(_unique(df, "market"))
    if markets is None:
        if not available:
            raise ConfigurationError("the frame has no rows with a market")
        return available
    chosen = [markets] if isinstance(markets, str) else list(markets)
    unknown = [m for m in chosen if m not in available]
    if unknown or not chosen:
        raise ConfigurationError(
            f"`markets` must be a non-empty list of the frame's markets {available}, got {chosen!r}"
        )
    return list(dict.fromkeys(chosen))


def _select_line(
    df: pl.DataFrame, market: str, line: float | None, *, required: bool
) -> tuple[pl.DataFrame, float | None]:
    """Rows of one line of ``market``; ``line=None`` is fine when there is one line."""
    lines = _unique(df, "line") if "line" in df.columns else []
    if line is None:
        if len(lines) > 1 and required:
            raise ConfigurationError(
                f"market {market!r} has {len(lines)} lines here: {_listing(lines)}; "
                "pass line=<one of them>"
            )
        if len(lines) == 1 and required:
            return df.filter(pl.col("line") == lines[0]), lines[0]
        return df, None
    if isinstance(line, bool) or not isinstance(line, int | float):
        raise ConfigurationError(f"`line` must be a number or None, got {line!r}")
    if not lines:
        raise ConfigurationError(f"market {market!r} has no line here; pass line=None")
    if float(line) not in lines:
        raise ConfigurationError(
            f"line {line!r} is not offered for market {market!r}; lines: {_listing(lines)}"
        )
    return df.filter(pl.col("line") == float(line)), float(line)


def _select_outcomes(
    df: pl.DataFrame, market: str, outcome: str | Sequence[str] | None
) -> list[str]:
    available = _outcome_order(market, _unique(df, "outcome"))
    if outcome is None:
        return available
    chosen = [outcome] if isinstance(outcome, str) else list(outcome)
    unknown = [o for o in chosen if o not in available]
    if unknown or not chosen:
        raise ConfigurationError(
            f"`outcome` must be one of market {market!r}'s outcomes {available} "
            f"(or a list of them, or None for all), got {outcome!r}"
        )
    return _outcome_order(market, chosen)


def _check_bookmaker(df: pl.DataFrame, bookmaker: object, where: str) -> str:
    books = _book_order(_unique(df, "bookmaker"))
    if not isinstance(bookmaker, str) or bookmaker not in books:
        raise ConfigurationError(
            f"bookmaker {bookmaker!r} does not price {where}; bookmakers: {books}"
        )
    return bookmaker


def _kickoff(df: pl.DataFrame, kickoff: datetime | None) -> datetime | None:
    """Naive-UTC kickoff: the argument, else the most common kickoff in the rows."""
    chosen = _instant(kickoff, "kickoff")
    if chosen is None and "kickoff" in df.columns:
        dtype = df.schema["kickoff"]
        if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
            raise ValidationError(
                f"column 'kickoff' must hold timezone-aware datetimes, got dtype {dtype}"
            )
        values = df.get_column("kickoff").drop_nulls()
        if values.len():
            chosen = values.mode().sort()[0].astimezone(UTC)
    return None if chosen is None else chosen.replace(tzinfo=None)


def _add_kickoff(fig: go.Figure, kickoff: datetime | None) -> None:
    """A dashed vertical line over all subplots with a "Kickoff" annotation."""
    if kickoff is None:
        return
    fig.add_shape(
        type="line",
        xref="x",
        yref="paper",
        x0=kickoff,
        x1=kickoff,
        y0=0,
        y1=1,
        line={"color": "#333333", "width": 1.5, "dash": "dash"},
        name="kickoff",
    )
    fig.add_annotation(
        x=kickoff,
        xref="x",
        y=1,
        yref="paper",
        text=f"Kickoff {kickoff:%Y-%m-%d %H:%M} UTC",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": 11},
    )


def _event_label(df: pl.DataFrame, event_id: object) -> str:
    if {"home_team", "away_team"} <= set(df.columns) and df.height:
        home, away = df.get_column("home_team")[0], df.get_column("away_team")[0]
        if home is not None and away is not None:
            return f"{home} v {away}"
    return f"event {event_id}"


def _market_label(market: str, line: float | None) -> str:
    return market if line is None else f"{market} {line:g}"


def _layout(fig: go.Figure, *, title: str, legend_title: str | None, **kwargs: Any) -> None:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left"},
        legend={"title": {"text": legend_title}} if legend_title else {},
        margin={"t": 90},
        **kwargs,
    )


def _instances(df: pl.DataFrame) -> pl.DataFrame:
    """Complete market instances with ``overround_pct`` (the rows given must be valid)."""
    out = compute_overround(df)
    return out.filter(pl.col("overround").is_not_null()).with_columns(
        (100.0 * pl.col("overround")).alias("overround_pct")
    )


def _every(every: timedelta | str | None) -> str | None:
    td = _duration(every, "every", allow_none=True)
    return None if td is None else f"{td // timedelta(microseconds=1)}us"


# --------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------


def plot_line_movement(
    frame: pl.DataFrame,
    *,
    event_id: Any,
    market: str,
    line: float | None = None,
    outcome: str | Sequence[str] | None = None,
    kickoff: datetime | None = None,
    title: str | None = None,
) -> go.Figure:
    """Odds of one event's market over time: one step line per bookmaker and outcome.

    One subplot per outcome (shared time axis, outcomes in market order), one trace
    per bookmaker in each, drawn as steps (``line_shape="hv"``: a price holds until
    the next snapshot) with a marker at each snapshot. A suspended price (null odds)
    breaks the line. A dashed vertical line marks the kickoff: ``kickoff`` if given
    (timezone-aware), else the most common value of the frame's ``kickoff`` column.
    Markets priced at several lines need ``line=``.

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
    df = _frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    df = _select_event(df, event_id)
    df = _select_market(df, market, f"event {event_id!r}")
    df, line = _select_line(df, market, line, required=True)
    outcomes = _select_outcomes(df, market, outcome)
    kick = _kickoff(df, kickoff)
    df = df.filter(pl.col("outcome").is_in(outcomes)).sort("captured_at")
    books = _book_order(_unique(df, "bookmaker"))
    colors = bookmaker_colors(books)

    fig = make_subplots(
        rows=len(outcomes),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06 if len(outcomes) > 1 else 0.0,
        subplot_titles=[f"Outcome: {o}" for o in outcomes],
    )
    for row, out in enumerate(outcomes, start=1):
        rows = df.filter(pl.col("outcome") == out)
        for book in books:
            series = rows.filter(pl.col("bookmaker") == book)
            if not series.height:
                continue
            fig.add_trace(
                go.Scatter(
                    x=_naive(series.get_column("captured_at")),
                    y=series.get_column("odds").to_numpy(),
                    name=book,
                    legendgroup=book,
                    showlegend=not any(t.name == book for t in fig.data),
                    mode="lines+markers",
                    line={"color": colors[book], "shape": "hv", "width": 2},
                    marker={"color": colors[book], "size": 4},
                    connectgaps=False,
                    hovertemplate=(
                        f"Bookmaker: {book}<br>Outcome: {out}<br>Time: {_TIME_FMT}"
                        "<br>Odds: %{y:.3f}<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="Decimal odds", row=row, col=1)
    fig.update_xaxes(title_text="Time (UTC)", row=len(outcomes), col=1)
    _add_kickoff(fig, kick)
    name = _event_label(df, event_id)
    default = f"{name[0].upper()}{name[1:]} — {_market_label(market, line)}: odds by bookmaker"
    _layout(
        fig,
        title=title or default,
        legend_title="Bookmaker",
        height=170 + 230 * len(outcomes),
    )
    return fig


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
    from the epoch), plotted at the interval's start. ``every=None`` averages per
    exact capture instant instead. The hover shows the mean and the number of
    market instances averaged.

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
    bucket = _every(every)
    df = _frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    df = _select_market(df, market, "the frame")
    inst = _instances(df)
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
    books = _book_order(_unique(agg, "bookmaker"))
    colors = bookmaker_colors(books)
    fig = go.Figure()
    for book in books:
        part = agg.filter(pl.col("bookmaker") == book)
        fig.add_trace(
            go.Scatter(
                x=_naive(part.get_column("t")),
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
                    + f": {_TIME_FMT}<br>Mean overround: %{{y:.2f}}%"
                    "<br>Market instances: %{customdata[0]}<extra></extra>"
                ),
            )
        )
    per = f" per {every if isinstance(every, str) else _duration(every, 'every')}" if bucket else ""
    _layout(
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
    kind: str = "box",
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
    if kind not in ("box", "violin"):
        raise ConfigurationError(f"`kind` must be 'box' or 'violin', got {kind!r}")
    df = _frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    chosen = _select_markets(df, markets)
    inst = _instances(df.filter(pl.col("market").is_in(chosen)))
    books = _book_order(_unique(inst, "bookmaker"))
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
    _layout(
        fig,
        title=title or "Overround by market and bookmaker (one sample per market snapshot)",
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
    title: str | None = None,
) -> go.Figure:
    """Bookmaker × market heatmap of the mean overround (%), values printed in the cells.

    Each cell is the mean overround of the bookmaker's complete market instances
    of that market (all events, snapshots and lines); a blank cell means the
    bookmaker does not price the market. Bookmaker names on the y axis take their
    chart colour; the hover also shows how many instances were averaged.

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
    """
    df = _frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    chosen = _select_markets(df, markets)
    inst = _instances(df.filter(pl.col("market").is_in(chosen)))
    mean = inst.group_by("bookmaker", "market").agg(
        pl.col("overround_pct").mean().alias("mean"), pl.len().alias("n")
    )
    books = _book_order(_unique(df, "bookmaker"))
    colors = bookmaker_colors(books)
    cells = {(b, m): (v, n) for b, m, v, n in mean.iter_rows()}
    z = [[cells.get((b, m), (None, 0))[0] for m in chosen] for b in books]
    counts = [[cells.get((b, m), (None, 0))[1] for m in chosen] for b in books]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=chosen,
            y=books,
            customdata=counts,
            colorscale=colorscale,
            texttemplate="%{z:.2f}",
            hoverongaps=False,
            colorbar={"title": {"text": "Overround (%)"}},
            hovertemplate=(
                "Bookmaker: %{y}<br>Market: %{x}<br>Mean overround: %{z:.2f}%"
                "<br>Market instances: %{customdata}<extra></extra>"
            ),
        )
    )
    _layout(
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
    return best.join(fair, on=okeys, how="left", **_NULLS_EQUAL)


def plot_vs_market(
    frame: pl.DataFrame,
    *,
    bookmaker: str = "betPawa",
    event_id: Any = None,
    market: str = "1x2",
    line: float | None = None,
    exclude_self: bool = False,
    method: str = "multiplicative",
    every: timedelta | str = "5m",
    tolerance: timedelta | str | None = None,
    at: datetime | None = None,
    max_age: timedelta | str | None = None,
    kickoff: datetime | None = None,
    title: str | None = None,
) -> go.Figure:
    """A bookmaker's prices against the best price and the consensus fair odds.

    The reference market is every bookmaker (``exclude_self=False``) or every other
    bookmaker (``exclude_self=True``: then the bookmaker can beat it). The best price
    is from :func:`~oddskit.movement.best_prices`; the consensus fair odds from
    :func:`~oddskit.movement.consensus_line` (de-vigged with ``method``).

    * With ``event_id``: the event's market over time, one subplot per outcome, on a
      common ``every`` grid (:func:`~oddskit.movement.align_bookmakers`, as-of with
      ``tolerance``). Traces: the bookmaker's odds (its colour), the best price
      (grey dashes, markers in the colour of the bookmaker offering it) and the
      consensus fair odds (black dots), all as steps, with the kickoff line. The
      hover of the bookmaker's line gives its distance from both.
    * Without: a summary over all events of the market. On the board (each
      bookmaker's latest snapshot at or before ``at``, no older than ``max_age``),
      bars per outcome show the bookmaker's mean distance below the best price
      (``1 − odds/best``) and below the consensus fair odds (``1 − odds/fair``:
      the margin it charges on that outcome), in percent of the reference odds,
      averaged over events (and lines, unless ``line=`` is given). The hover adds
      how often it had the best price. This shows where its margin sits (favourites,
      draws, long shots) and how far it is from the top of the market.

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
    method_ok = isinstance(method, str) and method in METHODS
    if not method_ok:
        raise ConfigurationError(f"`method` must be one of {list(METHODS)}, got {method!r}")
    df = _frame(frame, ["event_id", "bookmaker", "captured_at", "market", "outcome", "odds"])
    df = df.filter(pl.col("odds").is_not_null())
    if event_id is None:
        if kickoff is not None:
            raise ConfigurationError("`kickoff` applies only with `event_id`")
        df = _select_market(df, market, "the frame")
        df, line = _select_line(df, market, line, required=False)
    else:
        if at is not None or max_age is not None:
            raise ConfigurationError(
                "`at` and `max_age` apply to the summary over all events (event_id=None); "
                "with `event_id` the prices are compared on the `every` grid"
            )
        df = _select_event(df, event_id)
        df = _select_market(df, market, f"event {event_id!r}")
        df, line = _select_line(df, market, line, required=True)
    where = f"market {_market_label(market, line)!r}" + (
        f" of event {event_id!r}" if event_id is not None else ""
    )
    _check_bookmaker(df, bookmaker, where)
    ref = df.filter(pl.col("bookmaker") != bookmaker) if exclude_self else df
    if not ref.height:
        raise ConfigurationError(
            f"no other bookmaker prices {where}, so there is no market to compare "
            f"{bookmaker!r} with; pass exclude_self=False"
        )
    keys = [k for k in ("event_id", "market", "line") if k in df.columns]
    colors = bookmaker_colors(_book_order(_unique(df, "bookmaker")))
    ref_label = "other bookmakers" if exclude_self else "all bookmakers"
    if event_id is None:
        return _vs_market_summary(
            df, ref, keys, bookmaker=bookmaker, market=market, line=line, colors=colors,
            method=method, at=at, max_age=max_age, ref_label=ref_label, title=title,
        )  # fmt: skip

    kick = _kickoff(df, kickoff)
    grid = align_bookmakers(df, every=every, tolerance=tolerance)
    ref_grid = grid.filter(pl.col("bookmaker") != bookmaker) if exclude_self else grid
    tkeys = [*keys, "captured_at"]
    market_ref = _best_and_fair(ref_grid, tkeys, method=method, aligned=True)
    own = (
        grid.filter(pl.col("bookmaker") == bookmaker)
        .select(*tkeys, "outcome", "odds")
        .join(market_ref, on=[*tkeys, "outcome"], how="left", **_NULLS_EQUAL)
        .with_columns(
            (100 * (1 - pl.col("odds") / pl.col("best_odds"))).alias("below_best"),
            (100 * (1 - pl.col("odds") / pl.col("fair_odds"))).alias("below_fair"),
        )
    )
    outcomes = _outcome_order(market, _unique(grid, "outcome"))
    fig = make_subplots(
        rows=len(outcomes),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06 if len(outcomes) > 1 else 0.0,
        subplot_titles=[f"Outcome: {o}" for o in outcomes],
    )
    color = colors[bookmaker]
    for row, out in enumerate(outcomes, start=1):
        ours = own.filter(pl.col("outcome") == out).sort("captured_at")
        mkt = market_ref.filter(pl.col("outcome") == out).sort("captured_at")
        first = row == 1
        best_colors = [colors.get(b, _BEST_COLOR) for b in mkt.get_column("best_bookmaker")]
        fig.add_trace(
            go.Scatter(
                x=_naive(mkt.get_column("captured_at")),
                y=mkt.get_column("best_odds").to_numpy(),
                customdata=mkt.select("best_bookmaker", "n_best").to_numpy(),
                name=f"Best price ({ref_label})",
                legendgroup="best",
                showlegend=first,
                mode="lines+markers",
                line={"color": _BEST_COLOR, "shape": "hv", "dash": "dash", "width": 1.5},
                marker={"color": best_colors, "size": 6},
                hovertemplate=(
                    f"Best price ({ref_label})<br>Outcome: {out}<br>Time: {_TIME_FMT}"
                    "<br>Odds: %{y:.3f}<br>Bookmaker: %{customdata[0]}"
                    " (of %{customdata[1]})<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=_naive(mkt.get_column("captured_at")),
                y=mkt.get_column("fair_odds").to_numpy(),
                name=f"Consensus fair odds ({ref_label}, {method})",
                legendgroup="fair",
                showlegend=first,
                mode="lines",
                line={"color": _FAIR_COLOR, "shape": "hv", "dash": "dot", "width": 1.5},
                hovertemplate=(
                    f"Consensus fair odds ({method})<br>Outcome: {out}<br>Time: {_TIME_FMT}"
                    "<br>Fair odds: %{y:.3f}<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=_naive(ours.get_column("captured_at")),
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
                    f"Bookmaker: {bookmaker}<br>Outcome: {out}<br>Time: {_TIME_FMT}"
                    "<br>Odds: %{y:.3f}<br>Best: %{customdata[0]:.3f}"
                    " (%{customdata[1]:.2f}% below)<br>Fair: %{customdata[2]:.3f}"
                    " (%{customdata[3]:.2f}% below)<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="Decimal odds", row=row, col=1)
    fig.update_xaxes(title_text=f"Time (UTC), {every} grid", row=len(outcomes), col=1)
    _add_kickoff(fig, kick)
    name = _event_label(df, event_id)
    default = (
        f"{bookmaker} vs the market — {name}, {_market_label(market, line)}: "
        "odds, best price and consensus fair odds"
    )
    _layout(
        fig,
        title=title or default,
        legend_title="Series",
        height=170 + 230 * len(outcomes),
    )
    return fig


def _vs_market_summary(
    df: pl.DataFrame,
    ref: pl.DataFrame,
    keys: list[str],
    *,
    bookmaker: str,
    market: str,
    line: float | None,
    colors: dict[str, str],
    method: str,
    at: datetime | None,
    max_age: timedelta | str | None,
    ref_label: str,
    title: str | None,
) -> go.Figure:
    okeys = [*keys, "outcome"]
    market_ref = _best_and_fair(ref, keys, method=method, at=at, max_age=max_age)
    own = (
        best_prices(df, at=at, max_age=max_age)
        .filter(pl.col("bookmaker") == bookmaker)
        .select(*okeys, "odds")
        .join(market_ref, on=okeys, how="inner", **_NULLS_EQUAL)
    )
    if not own.height:
        raise ConfigurationError(
            f"{bookmaker!r} has no price on the board of market {market!r} "
            f"(at={at!r}, max_age={max_age!r}) that other bookmakers also price"
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
        f"{bookmaker} vs the market — {_market_label(market, line)}: mean distance below "
        f"the best price and consensus fair odds ({n_events} events)"
    )
    _layout(
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
