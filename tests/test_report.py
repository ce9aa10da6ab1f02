"""The report's findings are computed from the data it shows: change the data, the sentence
follows. Small hand-made odds, loaded into real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

import oddskit
from oddskit.connection import Database
from oddskit.plots import plot_margin_heatmap
from oddskit.report import (
    collect_report_data,
    describe_first_movers,
    describe_gaps,
    describe_margins,
    render_report,
)

KICKOFF = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)

#: Margin of each bookmaker (fraction); "Sharp" has the lowest.
MARGINS = {"Sharp": 0.02, "Alpha": 0.06, "Beta": 0.08}


def one_match(first: str, lag_minutes: dict[str, int]) -> pl.DataFrame:
    """One match priced by three bookmakers every minute for an hour before kickoff. At
    minute 30 ``first`` moves home up and away down by 6 points of probability (two steam
    moves when the others follow); each other
    bookmaker follows ``lag_minutes[book]`` minutes later."""
    rows = []
    for book, margin in MARGINS.items():
        moves_at = 30 if book == first else 30 + lag_minutes[book]
        for minute in range(60):
            home = 0.40 + (0.06 if minute >= moves_at else 0.0)
            probs = {"home": home, "draw": 0.28, "away": 0.72 - home}
            at = KICKOFF - timedelta(minutes=60 - minute, seconds=-1)
            for outcome, p in probs.items():
                rows.append(
                    {
                        "captured_at": at,
                        "bookmaker": book,
                        "sport": "football",
                        "country": "Nigeria",
                        "tournament": "NPFL",
                        "sportradar_id": "sr:match:1",
                        "bookmaker_event_id": f"{book}-1",
                        "home_team": "Enyimba",
                        "away_team": "Rivers United",
                        "kickoff": KICKOFF,
                        "market": "1x2",
                        "line": None,
                        "outcome": outcome,
                        "odds": round(1 / (p * (1 + margin)), 3),
                    }
                )
    return pl.DataFrame(rows)


@pytest.mark.parametrize(
    ("first", "lags", "expected"),
    [
        ("Sharp", {"Alpha": 2, "Beta": 4}, "Sharp moved first most often: Sharp in 2."),
        ("Beta", {"Sharp": 3, "Alpha": 1}, "Beta moved first most often: Beta in 2."),
    ],
)
def test_who_moved_first_follows_the_data(
    make_migrated, first: str, lags: dict[str, int], expected: str
) -> None:
    db: Database = make_migrated("embedded", "native")
    oddskit.load(one_match(first, lags), db=db, progress=False)
    data = collect_report_data(db, lookback="1d")
    sentence = describe_first_movers(data)
    assert sentence.startswith("Who moved first: of the 2 steam moves in the main markets")
    assert sentence.endswith(expected)
    page = render_report(data)
    assert expected in page
    assert "usually moves first" not in page  # no hard-coded claim left
    # The sharp book is the one with the lowest margin in the data, named as such.
    assert data.sharp == "Sharp" and data.retail == ["Alpha", "Beta"]
    assert describe_margins(data) == (
        "Lowest mean closing margin in every market: Sharp; highest in every market: Beta."
    )
    assert describe_gaps(data) == ""  # the default bookmaker, betPawa, is not in the data


def test_gaps_of_a_bookmaker_follow_its_prices(make_migrated) -> None:
    db: Database = make_migrated("embedded", "native")
    oddskit.load(one_match("Sharp", {"Alpha": 2, "Beta": 4}), db=db, progress=False)
    data = collect_report_data(db, lookback="1d", bookmaker="Alpha")
    text = describe_gaps(data)
    # Alpha (6 %) beats Beta (8 %) on every outcome: the best retail price on all of them.
    assert text.startswith("On the closing 1x2 board (3 match outcomes), Alpha's odds are")
    assert "(which includes Sharp, the sharp book: the lowest 1x2 margin here, 2.01 %)" in text
    assert "0.0 % below the best price of the other retail books (Beta)" in text
    assert text.endswith("it offers the best retail price on 100 % of outcomes.")


def test_the_report_names_the_database_readably(make_migrated) -> None:
    db: Database = make_migrated("embedded", "native")
    oddskit.load(one_match("Sharp", {"Alpha": 2, "Beta": 4}), db=db, progress=False)
    page = render_report(collect_report_data(db, lookback="1d"))
    name = db.url.split("?")[0].rsplit("/", 1)[1]
    assert f"Database: {name} via the local socket in /" in page
    assert "%2F" not in page.split("<script")[0]  # no URL-encoded socket path in the header
    assert '<select id="match-picker"' in page and "Enyimba v Rivers United" in page


def test_the_margin_heatmap_can_scale_each_market_on_its_own() -> None:
    frame = one_match("Sharp", {"Alpha": 2, "Beta": 4}).with_columns(event_id=pl.lit(1))
    double = frame.with_columns(
        market=pl.lit("btts"),
        outcome=pl.col("outcome").replace({"home": "yes", "draw": "no", "away": "drop"}),
        odds=pl.col("odds") * 1.5,
    ).filter(pl.col("outcome") != "drop")
    fig = plot_margin_heatmap(pl.concat([frame, double]), scale="market")
    (heat,) = fig.data
    for j in range(len(heat.x)):  # every market from 0 (lowest) to 1 (highest)
        column = [row[j] for row in heat.z]
        assert min(column) == 0 and max(column) == 1
    assert all("." in cell for row in heat.text for cell in row)  # the margins, printed
