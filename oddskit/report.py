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
from oddskit.report_data import (
    DEFAULT_LOOKBACK,
    MARKET_ORDER,
    ReportData,
    collect_report_data,
    days_as_lookback,
)

__all__ = [
    "DEFAULT_LOOKBACK",
    "ReportData",
    "chart_titles",
    "collect_report_data",
    "describe_movers",
    "margin_table",
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
        "Line movement of the featured events",
        "Margins over time",
        "Margin heatmap",
        "Margin distribution",
        f"{bookmaker} against the best price and the consensus",
    )


# --- text -------------------------------------------------------------------------------------


def _event_name(row: dict) -> str:
    where = " ".join(x for x in (row.get("country"), row["tournament"]) if x)
    return f"{row['home_team']} v {row['away_team']} ({where})"


def describe_movers(data: ReportData, limit: int = 5) -> list[str]:
    """One line per big mover: event, outcome, mean odds opening → latest, Δ probability.

    Parameters
    ----------
    data
        What :func:`collect_report_data` read.
    limit
        At most this many movers, biggest first.

    Returns
    -------
    list[str]
        One sentence per mover.

    Examples
    --------
    >>> print(describe_movers(collect_report_data(db, lookback="1d"), limit=1)[0])
    AFC Leopards v Gor Mahia (Kenya Premier League), kickoff 2026-11-28 13:00 UTC: home drifted
    1.73 → 2.35 (-14.9 pts of implied probability, mean of 4 bookmakers)
    """
    lines = []
    for row in data.movers.head(limit).iter_rows(named=True):
        direction = "shortened" if row["prob_change"] > 0 else "drifted"
        lines.append(
            f"{_event_name(row)}, kickoff {row['kickoff']:%Y-%m-%d %H:%M} UTC: "
            f"{row['outcome']} {direction} {row['opening_odds']:.2f} → {row['current_odds']:.2f} "
            f"({100 * row['prob_change']:+.1f} pts of implied probability, "
            f"mean of {row['n_bookmakers']} bookmakers)"
        )
    return lines


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


def _text_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]


def summary_lines(data: ReportData) -> list[str]:
    """A short plain-text summary: window, counts, margins, movers, coverage.

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
    Data: captured 2026-11-28 03:15 – 2026-11-28 16:45 UTC; 6 events, 4 bookmakers, ...
    """
    c = data.counts
    lines = [
        f"Data: captured {data.first_captured_at:%Y-%m-%d %H:%M} – "
        f"{data.last_captured_at:%Y-%m-%d %H:%M} UTC; "
        f"{c['events']:,} events, {c['bookmakers']} bookmakers, {c['snapshots']:,} snapshots, "
        f"{c['prices']:,} prices",
        "",
        "Mean closing margin (overround, %) by bookmaker and market:",
        *("  " + line for line in _text_table(margin_table(data))),
        "",
        "Biggest 1x2 movers (opening → latest):",
        *("  " + line for line in describe_movers(data)),
        "",
        "Coverage (snapshots and events per bookmaker):",
    ]
    for row in data.coverage.iter_rows(named=True):
        per_event = row["snapshots"] / row["events"] if row["events"] else 0.0
        lines.append(
            f"  {row['bookmaker']:<10} {row['snapshots']:>9,} snapshots  {row['events']:>6,} events"
            f"  {per_event:>6.1f} snapshots per event"
        )
    return lines


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; } .explain { max-width: 60rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
code { background: #f4f4f4; padding: 0 .2rem; }
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


def _section(title: str, explain: str, figures: Iterable[go.Figure | str]) -> str:
    parts = [f"<h2>{html.escape(title)}</h2>", f'<p class="explain">{explain}</p>']
    for fig in figures:
        parts.append(fig if isinstance(fig, str) else _figure(fig))
    return "\n".join(parts)


def _note(text: str) -> str:
    return f'<p class="explain"><em>{html.escape(text)}</em></p>'


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
    c = data.counts
    coverage_rows = [["bookmaker", "snapshots", "events", "snapshots per event"]]
    for row in data.coverage.iter_rows(named=True):
        per_event = row["snapshots"] / row["events"] if row["events"] else 0.0
        coverage_rows.append(
            [row["bookmaker"], f"{row['snapshots']:,}", f"{row['events']:,}", f"{per_event:.1f}"]
        )
    header = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Database: <code>{html.escape(data.database)}</code><br>'
        f"Captured from {data.first_captured_at:%Y-%m-%d %H:%M} to "
        f"{data.last_captured_at:%Y-%m-%d %H:%M} UTC: "
        f"{c['events']:,} events, {c['bookmakers']} bookmakers, {c['snapshots']:,} snapshots, "
        f"{c['prices']:,} prices. Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>",
        "<h3>Coverage</h3>",
        _table(coverage_rows),
        "<h3>Mean closing margin (overround, %) by bookmaker and market</h3>",
        _table(margin_table(data)),
    ]
    movers = describe_movers(data)
    if movers:
        header += [
            "<h3>Biggest 1x2 movers</h3>",
            "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in movers) + "</ul>",
        ]
    sections = []

    line_figs: list[go.Figure | str] = [
        plot_line_movement(data.history, event_id=e, market="1x2") for e in data.featured
    ]
    sections.append(
        _section(
            titles[0],
            "The matches whose 1x2 prices moved most between the first and the last capture "
            "(implied probability, averaged over the bookmakers). One panel per outcome, one "
            "step line per bookmaker: a price holds until the next snapshot, the dashed line is "
            "kickoff. Pinnacle, the sharp book, usually moves first; the others follow with a "
            "lag and in coarser steps. Falling odds (shortening) mean money or news for that "
            "outcome.",
            line_figs or [_note("No event is priced by three or more bookmakers in the window.")],
        )
    )
    sections.append(
        _section(
            titles[1],
            "Mean 1x2 overround per hour and bookmaker, over all matches captured in that hour "
            "(100 · (Σ 1/odds − 1); 5 means the book keeps about 5 % of a balanced stake). "
            "A flat line is a stable pricing policy; steps show a bookmaker changing its margin, "
            "hours with few matches are noisier.",
            [plot_margin_over_time(data.history, market="1x2", every="1h")],
        )
    )
    sections.append(
        _section(
            titles[2],
            "Mean overround of the closing prices (each match's last snapshot before kickoff) "
            "for every bookmaker and market. Read across a row for where a bookmaker takes its "
            "margin, down a column for who is cheapest in a market. Double chance is measured "
            "against a book of 2 (its outcomes overlap).",
            [plot_margin_heatmap(data.board)],
        )
    )
    sections.append(
        _section(
            titles[3],
            "The spread of the closing overround, one sample per match, market and line. The "
            "box spans the middle half, the line inside is the median, whiskers reach the most "
            "extreme values within 1.5 IQR. A wide box means the margin varies by match (e.g. "
            "higher on lower leagues).",
            [plot_margin_distribution(data.board)],
        )
    )
    book = data.bookmaker
    vs: list[go.Figure | str] = []
    if book in set(data.board.get_column("bookmaker").to_list()):
        vs.append(plot_vs_market(data.board, bookmaker=book, market="1x2"))
        event = next(
            (
                e
                for e in data.featured
                if book in data.history.filter(pl.col("event_id") == e)["bookmaker"].to_list()
            ),
            None,
        )
        if event is not None:
            vs.append(
                plot_vs_market_over_time(data.history, bookmaker=book, event_id=event, market="1x2")
            )
    else:
        vs.append(_note(f"{book} has no prices in the window."))
    sections.append(
        _section(
            titles[4],
            f"Bars: on the closing board, how far {html.escape(book)}'s 1x2 odds sit below the "
            "best price any bookmaker offers and below the consensus fair odds (every "
            "bookmaker's prices de-vigged and averaged), in % of the reference. The gap to the "
            "fair odds is the margin it charges on that outcome; a gap near 0 to the best price "
            "means it is often the best price. Below: the same comparison over time for the "
            "biggest mover, on a 5-minute grid.",
            vs,
        )
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            '<script type="text/javascript">'
            'window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            "</head><body>",
            *header,
            *sections,
            "</body></html>",
        ]
    )


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
