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
    ReportData,
    collect_report_data,
    days_as_lookback,
)
from oddskit.report_text import (
    coverage_table,
    describe_counts,
    describe_first_movers,
    describe_gaps,
    describe_margins,
    describe_movers,
    margin_table,
    match_name,
    price_gaps,
    summary_lines,
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
            f"{match_name(row)}, kickoff {row['kickoff']:%Y-%m-%d %H:%M} UTC — biggest move: "
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
