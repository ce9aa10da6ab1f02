"""What every oddskit chart shares: colours, frame checks, option checks, layout.

The chart modules (:mod:`oddskit.plots_prices`, :mod:`oddskit.plots_margins`, both
re-exported by :mod:`oddskit.plots`) build on these helpers, so a bookmaker has the
same colour, a bad option the same message and a figure the same look everywhere.

Examples
--------
>>> market_label("over_under", 2.5), book_order(["betPawa", "Bet9ja", "Pinnacle"])
('over_under 2.5', ['Bet9ja', 'betPawa', 'Pinnacle'])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from oddskit.arguments import aware_datetime, duration, texts
from oddskit.errors import ConfigurationError, ValidationError
from oddskit.margins import compute_overround
from oddskit.markets import MARKET_OUTCOMES
from oddskit.odds_frames import utc_time_column

__all__ = ["BOOKMAKER_COLORS", "TEMPLATE", "bookmaker_colors"]

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
BEST_COLOR: Final = "#595959"
FAIR_COLOR: Final = "#000000"

TIME_FMT: Final = "%{x|%Y-%m-%d %H:%M:%S} UTC"
_MAX_LISTED: Final = 20


# --------------------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------------------


def bookmaker_colors(bookmakers: str | Iterable[str]) -> dict[str, str]:
    """Colour of each bookmaker, the same in every chart and every session.

    betPawa, SportyBet, Bet9ja and Pinnacle have fixed colours (names matched
    case-insensitively). Any other name gets a colour from a 12-colour palette
    chosen by a stable hash (BLAKE2) of its case-folded name, so it does not depend
    on which other bookmakers are plotted; two such names can share a colour.

    Parameters
    ----------
    bookmakers
        A bookmaker name or a list of names.

    Returns
    -------
    dict[str, str]
        Each name with its colour (``"#RRGGBB"``).

    Examples
    --------
    >>> colors = bookmaker_colors(["SportyBet", "Bet9ja", "MyBook"])
    >>> colors["SportyBet"], colors["Bet9ja"]
    ('#D62728', '#1F5FAD')
    >>> colors["MyBook"] == bookmaker_colors(["mybook"])["mybook"]
    True
    """
    out: dict[str, str] = {}
    for name in texts(bookmakers, "bookmakers") or []:
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


def listing(values: Sequence[Any]) -> str:
    """``[a, b, ...]`` with at most ``_MAX_LISTED`` values and the total count."""
    shown = list(values[:_MAX_LISTED])
    more = f" … and {len(values) - _MAX_LISTED} more" if len(values) > _MAX_LISTED else ""
    return f"{shown}{more}"


def checked_frame(frame: object, required: Sequence[str]) -> pl.DataFrame:
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
        df = utc_time_column(df, "captured_at")
    return df


def naive_utc(series: pl.Series) -> Any:
    """Naive-UTC numpy datetimes for Plotly (which ignores time zones)."""
    return series.dt.replace_time_zone(None).to_numpy()


def market_order(markets: Iterable[str]) -> list[str]:
    """Known markets in vocabulary order, then the others by name."""
    known = list(MARKET_OUTCOMES)
    return sorted(set(markets), key=lambda m: (known.index(m) if m in known else len(known), m))


def outcome_order(market: str, outcomes: Iterable[str]) -> list[str]:
    """The market's outcomes in vocabulary order, then the others by name."""
    known = list(MARKET_OUTCOMES.get(market, ()))
    return sorted(set(outcomes), key=lambda o: (known.index(o) if o in known else len(known), o))


def book_order(books: Iterable[str]) -> list[str]:
    """Bookmakers by name, ignoring case."""
    return sorted(set(books), key=lambda b: (b.casefold(), b))


def unique_values(df: pl.DataFrame, col: str) -> list[Any]:
    """The column's distinct non-null values, sorted."""
    return sorted(df.get_column(col).drop_nulls().unique().to_list())


def select_event(df: pl.DataFrame, event_id: object) -> pl.DataFrame:
    """The rows of one event, or an error listing the events."""
    events = unique_values(df, "event_id")
    if isinstance(event_id, bool) or event_id not in set(events):
        raise ConfigurationError(
            f"event_id {event_id!r} is not in the frame; it has {len(events)} event(s): "
            f"{listing(events)}"
        )
    return df.filter(pl.col("event_id") == pl.lit(event_id))


def select_market(df: pl.DataFrame, market: object, where: str) -> pl.DataFrame:
    """The rows of one market, or an error listing the markets."""
    markets = market_order(unique_values(df, "market"))
    if not isinstance(market, str) or market not in markets:
        raise ConfigurationError(
            f"market {market!r} is not in {where}; available markets: {markets}"
        )
    return df.filter(pl.col("market") == market)


def select_markets(df: pl.DataFrame, markets: str | Sequence[str] | None) -> list[str]:
    """The chosen markets (all by default), known ones in vocabulary order."""
    available = market_order(unique_values(df, "market"))
    chosen = texts(markets, "markets")
    if chosen is None:
        if not available:
            raise ConfigurationError("the frame has no rows with a market")
        return available
    unknown = [m for m in chosen if m not in available]
    if unknown or not chosen:
        raise ConfigurationError(
            f"`markets` must be a non-empty list of the frame's markets {available}, got {chosen!r}"
        )
    return list(dict.fromkeys(chosen))


def select_line(
    df: pl.DataFrame, market: str, line: float | None, *, required: bool
) -> tuple[pl.DataFrame, float | None]:
    """Rows of one line of ``market``; ``line=None`` is fine when there is one line."""
    lines = unique_values(df, "line") if "line" in df.columns else []
    if line is None:
        if len(lines) > 1 and required:
            raise ConfigurationError(
                f"market {market!r} has {len(lines)} lines here: {listing(lines)}; "
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
            f"line {line!r} is not offered for market {market!r}; lines: {listing(lines)}"
        )
    return df.filter(pl.col("line") == float(line)), float(line)


def select_outcomes(df: pl.DataFrame, market: str, outcomes: object) -> list[str]:
    """The chosen outcomes of ``market`` (all by default), in market order."""
    available = outcome_order(market, unique_values(df, "outcome"))
    chosen = texts(outcomes, "outcomes")
    if chosen is None:
        return available
    unknown = [o for o in chosen if o not in available]
    if unknown or not chosen:
        raise ConfigurationError(
            f"`outcomes` must be one of market {market!r}'s outcomes {available} "
            f"(or a list of them, or None for all), got {outcomes!r}"
        )
    return outcome_order(market, chosen)


def check_bookmaker(df: pl.DataFrame, bookmaker: object, where: str) -> str:
    """``bookmaker`` if it prices the rows, or an error listing who does."""
    books = book_order(unique_values(df, "bookmaker"))
    if not isinstance(bookmaker, str) or bookmaker not in books:
        raise ConfigurationError(
            f"bookmaker {bookmaker!r} does not price {where}; bookmakers: {books}"
        )
    return bookmaker


def kickoff_of(df: pl.DataFrame, kickoff: datetime | None) -> datetime | None:
    """Naive-UTC kickoff: the argument, else the most common kickoff in the rows."""
    chosen = aware_datetime(kickoff, "kickoff")
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


def add_kickoff(fig: go.Figure, kickoff: datetime | None) -> None:
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


def event_label(df: pl.DataFrame, event_id: object) -> str:
    """``"Home v Away"`` when the frame has team names, else ``"event <id>"``."""
    if {"home_team", "away_team"} <= set(df.columns) and df.height:
        home, away = df.get_column("home_team")[0], df.get_column("away_team")[0]
        if home is not None and away is not None:
            return f"{home} v {away}"
    return f"event {event_id}"


def market_label(market: str, line: float | None) -> str:
    """``"over_under 2.5"``, or the market alone without a line."""
    return market if line is None else f"{market} {line:g}"


def apply_layout(fig: go.Figure, *, title: str, legend_title: str | None, **kwargs: Any) -> None:
    """The template, title, legend title and margins every chart shares."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left"},
        legend={"title": {"text": legend_title}} if legend_title else {},
        margin={"t": 90},
        **kwargs,
    )


def complete_instances(df: pl.DataFrame) -> pl.DataFrame:
    """Complete market instances with ``overround_pct`` (the rows given must be valid)."""
    out = compute_overround(df)
    return out.filter(pl.col("overround").is_not_null()).with_columns(
        (100.0 * pl.col("overround")).alias("overround_pct")
    )


def every_interval(every: timedelta | str | None) -> str | None:
    """``every`` as a Polars interval string (``"3600000000us"``), or ``None``."""
    td = duration(every, "every", allow_none=True)
    return None if td is None else f"{td // timedelta(microseconds=1)}us"


def outcome_subplots(outcomes: Sequence[str]) -> go.Figure:
    """One row of subplots per outcome, sharing the time axis."""
    return make_subplots(
        rows=len(outcomes),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06 if len(outcomes) > 1 else 0.0,
        subplot_titles=[f"Outcome: {o}" for o in outcomes],
    )


def finish_outcome_subplots(
    fig: go.Figure,
    n_outcomes: int,
    *,
    x_title: str,
    kickoff: datetime | None,
    title: str,
    legend_title: str,
) -> go.Figure:
    """Axis titles, the kickoff line and the layout of :func:`outcome_subplots`."""
    for row in range(1, n_outcomes + 1):
        fig.update_yaxes(title_text="Decimal odds", row=row, col=1)
    fig.update_xaxes(title_text=x_title, row=n_outcomes, col=1)
    add_kickoff(fig, kickoff)
    apply_layout(fig, title=title, legend_title=legend_title, height=170 + 230 * n_outcomes)
    return fig
