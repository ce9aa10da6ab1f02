"""A self-contained HTML report of the odds in a database: movement, margins, the market.

:func:`collect_report_data` (:mod:`oddskit.report_data`) reads a bounded window with the query
helpers of :mod:`oddskit.queries` and derives what the charts need (the 1x2 history
with each event's kickoff and teams, each event × bookmaker's closing board, the
biggest movers, margins and coverage); :func:`write_report` turns it into one HTML
file with the charts of :mod:`oddskit.plots`. plotly.js is inlined once, in the
``<head>``, so the file opens offline and can be mailed around (about 4 MB).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import oddskit
>>> with oddskit.connect() as db:
...     path = write_report(db, Path(tempfile.mkdtemp()) / "odds-report.html")
>>> path.name, path.stat().st_size > 1_000_000
('odds-report.html', True)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from oddskit.arguments import renamed_arguments
from oddskit.connection import Database
from oddskit.errors import ConfigurationError
from oddskit.plots import (
    plot_line_movement,
    plot_margin_distribution,
    plot_margin_heatmap,
    plot_margin_over_time,
    plot_vs_market,
    plot_vs_market_over_time,
)
from oddskit.plots_common import market_label
from oddskit.report_data import (
    DEFAULT_LOOKBACK,
    MARKET_ORDER,
    STEAM,
    ReportData,
    collect_report_data,
    days_as_lookback,
)

__all__ = [
    "DEFAULT_LOOKBACK",
    "ReportData",
    "chart_titles",
    "collect_report_data",
    "coverage_table",
    "describe_counts",
    "describe_first_movers",
    "describe_gaps",
    "describe_margins",
    "describe_movers",
    "margin_table",
    "price_gaps",
    "render_report",
    "summary_lines",
    "write_report",
]


def chart_titles(bookmaker: str = "betPawa") -> tuple[str, ...]:
    """The section titles of the report, in order (one section per kind of chart).

    Parameters
    ----------
    bookmaker
        The bookmaker the last section compares with the market.

    Returns
    -------
    tuple[str, ...]
        Five titles.

    Examples
    --------
    >>> chart_titles()[-1]
    'betPawa against the best price and the consensus'
    """
    return (
        "Featured matches: line movement",
        "Margins over time",
        "Margin heatmap",
        "Margin distribution",
        f"{bookmaker} against the best price and the consensus",
    )


# --- text: every sentence that states a finding is computed here, from the data shown ---------

#: The words for matches and listings, said once wherever counts are shown.
LISTING_NOTE = "a listing is one bookmaker's offer of a match, under its own event id"


def _event_name(row: dict) -> str:
    where = " ".join(x for x in (row.get("country"), row["tournament"]) if x)
    return f"{row['home_team']} v {row['away_team']} ({where})"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_counts(data: ReportData) -> list[str]:
    """What the window holds: captures, bookmakers, matches, listings, snapshots, prices.

    Examples
    --------
    >>> for line in describe_counts(collect_report_data(db, lookback="1d")):
    ...     print(line)
    Data: captured 2026-11-28 03:15 – 2026-11-28 16:45 UTC: 4 bookmakers, 6 matches, 24 listings,
    735 snapshots, 20,466 prices
    (a listing is one bookmaker's offer of a match, under its own event id; every match is listed
    by at least two bookmakers)
    """
    c = data.counts
    single = c["single_listed"]
    if single:
        verb = "is" if single == 1 else "are"
        listed = f"{single:,} of the matches {verb} listed by one bookmaker only"
    else:
        listed = "every match is listed by at least two bookmakers"
    return [
        f"Data: captured {data.first_captured_at:%Y-%m-%d %H:%M} – "
        f"{data.last_captured_at:%Y-%m-%d %H:%M} UTC: {c['bookmakers']} bookmakers, "
        f"{c['matches']:,} matches, {c['listings']:,} listings, {c['snapshots']:,} snapshots, "
        f"{c['prices']:,} prices",
        f"({LISTING_NOTE}; {listed})",
    ]


def describe_movers(data: ReportData, limit: int = 5) -> list[str]:
    """One line per big mover: match, market, outcome, mean odds opening → latest, Δ probability.

    Parameters
    ----------
    data
        What :func:`collect_report_data` read.
    limit
        At most this many movers, biggest first.

    Returns
    -------
    list[str]
        One sentence per mover (a match and one of its main markets).

    Examples
    --------
    >>> print(describe_movers(collect_report_data(db, lookback="1d"), limit=1)[0])
    AFC Leopards v Gor Mahia (Kenya Premier League), kickoff 2026-11-28 13:00 UTC: 1x2 home drifted
    1.73 → 2.35 (-14.9 pts of implied probability, mean of 4 bookmakers)
    """
    lines = []
    for row in data.movers.head(limit).iter_rows(named=True):
        direction = "shortened" if row["prob_change"] > 0 else "drifted"
        lines.append(
            f"{_event_name(row)}, kickoff {row['kickoff']:%Y-%m-%d %H:%M} UTC: "
            f"{market_label(row['market'], row['line'])} {row['outcome']} {direction} "
            f"{row['opening_odds']:.2f} → {row['current_odds']:.2f} "
            f"({100 * row['prob_change']:+.1f} pts of implied probability, "
            f"mean of {row['n_bookmakers']} bookmakers)"
        )
    return lines


def describe_first_movers(data: ReportData) -> str:
    """Who moved first in the window's steam moves, counted from the data.

    Examples
    --------
    >>> print(describe_first_movers(collect_report_data(db, lookback="1d")))  # 15-minute snapshots
    No steam move in the main markets in this window (3 or more bookmakers moving one price the
    same way by 2 points of implied probability or more within 10 minutes).
    """
    steam = data.steam
    rule = (
        f"{STEAM['min_bookmakers']} or more bookmakers moving one price the same way by "
        f"{100 * STEAM['min_move']:g} points of implied probability or more within "
        f"{STEAM['window'].seconds // 60} minutes"
    )
    if not steam.height:
        return f"No steam move in the main markets in this window ({rule})."
    counts = (
        steam.group_by("first_mover")
        .len()
        .sort(["len", "first_mover"], descending=[True, False])
        .rows()
    )
    parts = [f"{book} in {n:,}" for book, n in counts]
    (top_book, top_n), rest = counts[0], counts[1:]
    tie = [book for book, n in rest if n == top_n]
    lead = (
        f"{_names([top_book, *tie])} moved first equally often"
        if tie
        else f"{top_book} moved first most often"
    )
    return (
        f"Who moved first: of the {steam.height:,} steam moves in the main markets ({rule}), "
        f"{lead}: {', '.join(parts)}."
    )


def describe_margins(data: ReportData) -> str:
    """Which bookmaker's closing margin is lowest and highest, per market, from the table.

    Examples
    --------
    >>> print(describe_margins(collect_report_data(db, lookback="1d")))
    Lowest mean closing margin in every market: Pinnacle; highest in every market: Bet9ja.
    """
    margins = data.margins
    if margins.get_column("bookmaker").n_unique() < 2:
        return ""
    ordered = margins.sort("overround_pct", "bookmaker")
    low = ordered.group_by("market", maintain_order=True).first()
    high = ordered.group_by("market", maintain_order=True).last()
    markets = sorted(low.get_column("market").to_list(), key=lambda m: (MARKET_ORDER.get(m, 99), m))

    def said(frame: pl.DataFrame, what: str) -> str:
        books = dict(frame.select("market", "bookmaker").iter_rows())
        if len(set(books.values())) == 1:
            return f"{what} in every market: {next(iter(books.values()))}"
        return f"{what}: " + ", ".join(f"{books[m]} ({m})" for m in markets)

    return f"{said(low, 'Lowest mean closing margin')}; {said(high, 'highest')}."


def price_gaps(data: ReportData, market: str = "1x2") -> dict[str, float] | None:
    """How far :attr:`ReportData.bookmaker`'s closing odds sit below the best prices.

    Per match outcome of ``market`` on the closing board: ``below_best`` (% below the
    best price of all bookmakers, the sharp one included), ``below_retail`` (% below
    the best price of the other retail books), ``share_best_retail`` (% of outcomes
    where it offers the best retail price, ties included) and ``n`` (outcomes).
    ``None`` when it has no such prices.

    Examples
    --------
    >>> gaps = price_gaps(collect_report_data(db, lookback="1d"))
    >>> gaps["below_best"] > gaps["below_retail"] >= 0, gaps["n"]
    (True, 17.0)
    """
    board = data.board.filter(pl.col("market") == market).drop_nulls("odds")
    keys = ["event_id", "market", "line", "outcome"]
    retail = [b for b in data.retail if b != data.bookmaker]
    if not retail:
        return None
    best = board.group_by(keys).agg(pl.col("odds").max().alias("best"))
    best_retail = (
        board.filter(pl.col("bookmaker").is_in(retail))
        .group_by(keys)
        .agg(pl.col("odds").max().alias("best_retail"))
    )
    own = (
        board.filter(pl.col("bookmaker") == data.bookmaker)
        .join(best, on=keys, nulls_equal=True)
        .join(best_retail, on=keys, nulls_equal=True)
    )
    if not own.height:
        return None
    row = own.select(
        (100 * (1 - pl.col("odds") / pl.col("best"))).mean().alias("below_best"),
        (100 * (1 - pl.col("odds") / pl.col("best_retail")))
        .clip(lower_bound=0)
        .mean()
        .alias("below_retail"),
        (100 * (pl.col("odds") >= pl.col("best_retail")).mean()).alias("share_best_retail"),
        pl.len().cast(pl.Float64).alias("n"),
    ).row(0, named=True)
    return {k: float(v) for k, v in row.items()}


def describe_gaps(data: ReportData) -> str:
    """The bookmaker's distance to the best prices, in one sentence computed from the board.

    Examples
    --------
    >>> print(describe_gaps(collect_report_data(db, lookback="1d")))
    On the closing 1x2 board (17 match outcomes), betPawa's odds are on average 6.0 % below the
    best price of all bookmakers (which includes Pinnacle, the sharp book: the lowest 1x2 margin
    here, 2.60 %) and 3.2 % below the best price of the other retail books (Bet9ja and SportyBet);
    it offers the best retail price on 35 % of outcomes.
    """
    gaps = price_gaps(data)
    if gaps is None:
        return ""
    sharp_margin = data.margins.filter(
        (pl.col("bookmaker") == data.sharp) & (pl.col("market") == "1x2")
    ).get_column("overround_pct")
    retail = [b for b in data.retail if b != data.bookmaker]
    return (
        f"On the closing 1x2 board ({gaps['n']:,.0f} match outcomes), {data.bookmaker}'s odds "
        f"are on average {gaps['below_best']:.1f} % below the best price of all bookmakers "
        f"(which includes {data.sharp}, the sharp book: the lowest 1x2 margin here, "
        f"{sharp_margin[0]:.2f} %) and {gaps['below_retail']:.1f} % below the best price of "
        f"the other retail books ({_names(retail)}); it offers the best retail price on "
        f"{gaps['share_best_retail']:.0f} % of outcomes."
    )


def margin_table(data: ReportData) -> list[list[str]]:
    """Rows of the bookmaker × market table of mean closing overround (%), header first.

    Parameters
    ----------
    data
        What :func:`collect_report_data` read.

    Returns
    -------
    list[list[str]]
        A header row (``bookmaker`` and the markets), then one row per bookmaker.

    Examples
    --------
    >>> margin_table(collect_report_data(db, lookback="1d"))[0]
    ['bookmaker', '1x2', 'double_chance', 'over_under', 'btts', 'asian_handicap']
    """
    markets = sorted(
        set(data.margins.get_column("market").to_list()),
        key=lambda m: (MARKET_ORDER.get(m, 99), m),
    )
    cells = {(b, m): v for b, m, v, _ in data.margins.iter_rows()}
    rows = [["bookmaker", *markets]]
    for book in data.bookmakers:
        values = [cells.get((book, m)) for m in markets]
        rows.append([book, *("–" if v is None else f"{v:.2f}" for v in values)])
    return rows


def coverage_table(data: ReportData) -> list[list[str]]:
    """Rows of the coverage table: snapshots and listings per bookmaker, header first.

    Examples
    --------
    >>> header, first, *_ = coverage_table(collect_report_data(db, lookback="1d"))
    >>> header
    ['bookmaker', 'snapshots', 'listings', 'snapshots per listing']
    >>> first
    ['Bet9ja', '184', '6', '30.7']
    """
    rows = [["bookmaker", "snapshots", "listings", "snapshots per listing"]]
    for row in data.coverage.iter_rows(named=True):
        per = row["snapshots"] / row["listings"] if row["listings"] else 0.0
        rows.append(
            [row["bookmaker"], f"{row['snapshots']:,}", f"{row['listings']:,}", f"{per:.1f}"]
        )
    return rows


def _text_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def summary_lines(data: ReportData) -> list[str]:
    """A short plain-text summary: window, counts, margins, movers, who moved first, coverage.

    Parameters
    ----------
    data
        What :func:`collect_report_data` read.

    Returns
    -------
    list[str]
        The lines, to print or log.

    Examples
    --------
    >>> print(summary_lines(collect_report_data(db, lookback="1d"))[0])
    Data: captured 2026-11-28 03:15 – 2026-11-28 16:45 UTC: 4 bookmakers, 6 matches, ...
    """
    return [
        *describe_counts(data),
        "",
        "Mean closing margin (overround, %) by bookmaker and market:",
        *("  " + line for line in _text_table(margin_table(data))),
        *([text] if (text := describe_margins(data)) else []),
        "",
        "Biggest movers in the main markets (opening → latest):",
        *("  " + line for line in describe_movers(data)),
        describe_first_movers(data),
        "",
        "Coverage:",
        *("  " + line for line in _text_table(coverage_table(data))),
    ]


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; } .explain, .finding { max-width: 60rem; }
.finding { background: #f6f8fa; border-left: 3px solid #4c78a8; padding: .4rem .7rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
code { background: #f4f4f4; padding: 0 .2rem; }
label { font-weight: 600; } select { font-size: 1rem; padding: .2rem; max-width: 100%; }
"""

#: Shows the match picked in the dropdown, hides the others, and resizes its charts
#: (a chart drawn while hidden has no width).
_PICKER_JS = """
function oddskitShowMatch(id) {
  document.querySelectorAll('.match').forEach(function (div) {
    div.style.display = div.id === 'match-' + id ? 'block' : 'none';
  });
  document.querySelectorAll('#match-' + id + ' .plotly-graph-div').forEach(function (g) {
    Plotly.Plots.resize(g);
  });
}
"""


def _table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(fig: go.Figure) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        default_width="100%",
        config={"displaylogo": False, "responsive": True},
    )


def _finding(text: str) -> str:
    return f'<p class="finding">{html.escape(text)}</p>' if text else ""


def _section(title: str, explain: str, parts: Iterable[go.Figure | str]) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    out = [f'<h2 id="{anchor}">{html.escape(title)}</h2>', f'<p class="explain">{explain}</p>']
    out += [p if isinstance(p, str) else _figure(p) for p in parts]
    return "\n".join(out)


def _note(text: str) -> str:
    return f'<p class="explain"><em>{html.escape(text)}</em></p>'


def _match_figures(data: ReportData, event_id: int) -> list[go.Figure]:
    """Line movement of one match's main markets, then the bookmaker against the market."""
    frame = data.main_history.filter(pl.col("event_id") == event_id)
    figures = []
    pairs = frame.select("market", "line").unique().rows()
    pairs.sort(key=lambda ml: (MARKET_ORDER.get(ml[0], 99), ml[1] or 0))
    for market, line in pairs:
        figures.append(plot_line_movement(frame, event_id=event_id, market=market, line=line))
    if data.bookmaker in set(frame.get_column("bookmaker").to_list()):
        figures.append(plot_vs_market_over_time(frame, bookmaker=data.bookmaker, event_id=event_id))
    return figures


def _picker(data: ReportData) -> list[str]:
    """The featured-match dropdown and one block of charts per match (the first shown)."""
    names = {
        row["event_id"]: row
        for row in data.movers.unique("event_id", keep="first").iter_rows(named=True)
    }
    options, blocks = [], []
    for i, event_id in enumerate(data.featured):
        row = names[event_id]
        label = (
            f"{_event_name(row)}, kickoff {row['kickoff']:%Y-%m-%d %H:%M} UTC — biggest move: "
            f"{market_label(row['market'], row['line'])} {row['outcome']} "
            f"{100 * row['prob_change']:+.1f} pts"
        )
        options.append(f'<option value="{event_id}">{html.escape(label)}</option>')
        shown = "block" if i == 0 else "none"
        charts = "\n".join(_figure(f) for f in _match_figures(data, event_id))
        blocks.append(
            f'<div class="match" id="match-{event_id}" style="display:{shown}">{charts}</div>'
        )
    picker = (
        f'<p><label for="match-picker">Match ({len(options)} with the biggest moves):</label> '
        '<select id="match-picker" onchange="oddskitShowMatch(this.value)">'
        + "".join(options)
        + "</select></p>"
    )
    return [picker, *blocks]


def render_report(data: ReportData, *, title: str = "oddskit report") -> str:
    """The report as one HTML document (plotly.js inlined once).

    Parameters
    ----------
    data
        What :func:`collect_report_data` read.
    title
        The page title.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> page = render_report(collect_report_data(db, lookback="1d", featured=1), title="Odds")
    >>> page.startswith("<!DOCTYPE html>"), page.count("Plotly.newPlot") >= 5
    (True, True)
    """
    titles = chart_titles(data.bookmaker)
    counts, listing_note = describe_counts(data)
    header = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Database: {html.escape(data.database)}.<br>'
        f"{html.escape(counts.replace('Data: captured', 'Captured'))} "
        f"{html.escape(listing_note)}. "
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>",
        "<h3>Coverage</h3>",
        _table(coverage_table(data)),
        "<h3>Mean closing margin (overround, %) by bookmaker and market</h3>",
        _table(margin_table(data)),
        _finding(describe_margins(data)),
    ]
    movers = describe_movers(data)
    if movers:
        header += [
            "<h3>Biggest movers in the main markets</h3>",
            "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in movers) + "</ul>",
        ]
    header.append(_finding(describe_first_movers(data)))
    sections = [
        _section(
            titles[0],
            "Pick a match: the matches whose prices moved most between the first and the last "
            "capture (implied probability, averaged over the bookmakers) in a main market (1x2, "
            "over/under 2.5, both teams to score, Asian handicap at the match's most balanced "
            "line). One chart per market, one panel per outcome, one step line per bookmaker: "
            "a price holds until the next snapshot, the dashed line is kickoff. Falling odds "
            f"(shortening) mean money or news for that outcome. The last chart puts "
            f"{html.escape(data.bookmaker)}'s 1x2 odds against the best price and the consensus "
            "on a 5-minute grid; the best price's markers take the colour of the bookmaker "
            "offering it.",
            _picker(data)
            if data.featured
            else [_note("No match is priced by three or more bookmakers in the window.")],
        ),
        _section(
            titles[1],
            "Mean 1x2 overround per hour and bookmaker, over all matches captured in that hour "
            "(100 · (Σ 1/odds − 1); 5 means the book keeps about 5 % of a balanced stake). "
            "A flat line is a stable pricing policy; steps show a bookmaker changing its margin; "
            "hours with few matches are noisier.",
            [plot_margin_over_time(data.history, market="1x2", every="1h")],
        ),
        _section(
            titles[2],
            "Mean overround of the closing prices (each listing's last snapshot before kickoff) "
            "for every bookmaker and market. Colours run from the lowest to the highest margin "
            "within each market (column), so every market can be read on its own scale; the "
            "numbers are the margins. Double chance is measured against a book of 2 (its "
            "outcomes overlap).",
            [plot_margin_heatmap(data.board, scale="market"), _finding(describe_margins(data))],
        ),
        _section(
            titles[3],
            "The spread of the closing overround: one sample per match, market and line of each "
            "bookmaker's closing snapshot. The box spans the middle half, the line inside is "
            "the median, whiskers reach the most extreme values within 1.5 IQR. A wide box "
            "means the margin varies from match to match.",
            [
                plot_margin_distribution(
                    data.board,
                    title="Closing overround by market and bookmaker "
                    "(one sample per match, market and line)",
                )
            ],
        ),
        _section(titles[4], _vs_market_text(data), _vs_market_parts(data)),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            '<script type="text/javascript">'
            'window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            f'<script type="text/javascript">{_PICKER_JS}</script>',
            "</head><body>",
            *header,
            *sections,
            "</body></html>",
        ]
    )


def _vs_market_text(data: ReportData) -> str:
    book = html.escape(data.bookmaker)
    sharp = html.escape(data.sharp or "the sharp book")
    return (
        f"Bars: on the closing board, how far {book}'s 1x2 odds sit below the best price and "
        "below the consensus fair odds (every bookmaker's prices de-vigged and averaged), in % "
        f"of the reference. First chart: the best price of all bookmakers, which includes "
        f"{sharp}, the sharp book (the lowest 1x2 margin here). Second chart: the same among "
        f"the retail books only ({sharp} left out of the best price and the consensus): the "
        f"difference between the two is what {sharp}'s prices add. The gap to the fair odds "
        "is the margin charged on that outcome; a gap near 0 to the best price means it is "
        "often the best price."
    )


def _vs_market_parts(data: ReportData) -> list[go.Figure | str]:
    book = data.bookmaker
    if book not in set(data.board.get_column("bookmaker").to_list()):
        return [_note(f"{book} has no prices in the window.")]
    parts: list[go.Figure | str] = [
        plot_vs_market(
            data.board,
            bookmaker=book,
            market="1x2",
            title=f"{book} vs the best price of all bookmakers (including {data.sharp}, the "
            "sharp book) and the consensus — 1x2 closing board",
        )
    ]
    retail = data.board.filter(pl.col("bookmaker") != data.sharp)
    if data.sharp and data.sharp != book and retail.get_column("bookmaker").n_unique() >= 2:
        parts.append(
            plot_vs_market(
                retail,
                bookmaker=book,
                market="1x2",
                title=f"{book} vs the best retail price ({data.sharp} left out) and the retail "
                "consensus — 1x2 closing board",
            )
        )
    parts.append(_finding(describe_gaps(data)))
    return parts


@renamed_arguments(days=("lookback", days_as_lookback))
def write_report(
    db: Database,
    path: str | Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    lookback: timedelta | str = DEFAULT_LOOKBACK,
    featured: int = 3,
    bookmaker: str = "betPawa",
    title: str = "oddskit report",
    data: ReportData | None = None,
) -> Path:
    """Write the HTML report of ``db`` to ``path`` and return the path.

    The file is written under a temporary name and renamed when complete.

    Parameters
    ----------
    db
        The database.
    path
        Where to write the HTML file (its folder must exist).
    since, until, lookback, featured, bookmaker
        As in :func:`collect_report_data` (``lookback`` was ``days`` before 0.2).
    title
        The page title.
    data
        What :func:`collect_report_data` already read: skips reading the database again.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(db, target, lookback="1d", featured=1) == target
    True
    """
    if data is None:
        data = collect_report_data(
            db,
            since=since,
            until=until,
            lookback=lookback,
            featured=featured,
            bookmaker=bookmaker,
        )
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigurationError(f"the directory of {str(target)!r} does not exist")
    partial = target.with_name(target.name + ".partial")
    partial.write_text(render_report(data, title=title), encoding="utf-8")
    partial.replace(target)
    return target
