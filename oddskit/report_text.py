"""The report's words: every sentence that states a finding is computed here, from the data.

Counts (matches and listings), the margin table, movers, who moved first in steam moves,
cheapest and dearest books per market, and a bookmaker's distance to the best prices (of
all bookmakers, the sharp one included, and of the retail books). :mod:`oddskit.report`
re-exports these names and puts them in the HTML page and the text summary.

Examples
--------
>>> print(describe_margins(collect_report_data(db, lookback="1d")))
Lowest mean closing margin in every market: Pinnacle; highest in every market: Bet9ja.
"""

from __future__ import annotations

import polars as pl

from oddskit.plots_common import market_label
from oddskit.report_data import MARKET_ORDER, STEAM, ReportData
from oddskit.report_data import collect_report_data as collect_report_data  # the examples

__all__ = [
    "LISTING_NOTE",
    "coverage_table",
    "describe_counts",
    "describe_first_movers",
    "describe_gaps",
    "describe_margins",
    "describe_movers",
    "margin_table",
    "match_name",
    "price_gaps",
    "summary_lines",
]

#: The words for matches and listings, said once wherever counts are shown.
LISTING_NOTE = "a listing is one bookmaker's offer of a match, under its own event id"


def match_name(row: dict) -> str:
    """``"Enyimba v Rivers United (Nigeria NPFL)"`` from a row with teams and tournament."""
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
            f"{match_name(row)}, kickoff {row['kickoff']:%Y-%m-%d %H:%M} UTC: "
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
