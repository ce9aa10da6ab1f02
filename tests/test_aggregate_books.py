"""Aggregate books (football-data.co.uk's market max/average) are never counted as bookmakers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from oddskit.comparisons import best_prices, closing_line_value, consensus_line, find_arbitrage
from oddskit.errors import ConfigurationError, InsufficientDataWarning
from oddskit.football_data import read_football_data
from oddskit.markets import is_aggregate_book
from oddskit.moves import detect_steam, lead_lag

E0 = Path(__file__).parent / "data" / "football_data" / "E0_2425.csv"
MAX = "football-data max (aggregate)"
AVG = "football-data average (aggregate)"
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
KICKOFF = T0 + timedelta(hours=1)


def board(prices: dict[str, tuple[float, float, float]], at: datetime = T0) -> pl.DataFrame:
    """One 1x2 snapshot of event 1 per book."""
    return pl.DataFrame(
        [
            (1, "1x2", at, KICKOFF, book, outcome, odds)
            for book, triple in prices.items()
            for outcome, odds in zip(("home", "draw", "away"), triple, strict=True)
        ],
        schema=["event_id", "market", "captured_at", "kickoff", "bookmaker", "outcome", "odds"],
        orient="row",
    )


# Two bookmakers without an arbitrage, and the market maximum over many more (which,
# being the best of each outcome at different bookmakers, sums to less than one).
BOOKS = {"A": (2.00, 3.40, 3.60), "B": (1.95, 3.50, 3.70)}
FRAME = board({**BOOKS, MAX: (2.30, 3.90, 4.20), AVG: (2.02, 3.45, 3.65)})


def test_the_marker_is_the_name_suffix_in_any_case():
    assert is_aggregate_book(MAX) and is_aggregate_book("Market Average (Aggregate) ")
    assert not is_aggregate_book("Pinnacle") and not is_aggregate_book("aggregate bets")
    assert not is_aggregate_book(None)


def test_best_prices_never_come_from_an_aggregate_book():
    out = best_prices(FRAME)
    assert set(out["bookmaker"]) == {"A", "B"}
    assert set(out["best_bookmaker"]) == {"A", "B"}
    assert out["n_bookmakers"].unique().to_list() == [2]
    assert out.filter(pl.col("outcome") == "home")["best_odds"].unique().to_list() == [2.00]


def test_the_market_maximum_is_no_arbitrage():
    assert sum(1 / o for o in FRAME.filter(pl.col("bookmaker") == MAX)["odds"]) < 1
    assert find_arbitrage(FRAME).is_empty()


def test_consensus_counts_bookmakers_only():
    out = consensus_line(FRAME)
    assert out["n_bookmakers"].unique().to_list() == [2]
    assert out["bookmakers"].to_list()[0] == ["A", "B"]
    alone = consensus_line(board(BOOKS))
    assert out["fair_prob"].to_list() == alone["fair_prob"].to_list()
    with pytest.raises(ConfigurationError, match="aggregate book"):
        consensus_line(FRAME, bookmakers=["A", AVG])


def test_closing_line_value_consensus_leaves_aggregates_out_but_sharp_may_name_one():
    bets = pl.DataFrame({"event_id": [1], "market": ["1x2"], "outcome": ["home"], "odds": [2.1]})
    consensus = closing_line_value(bets, FRAME)
    alone = closing_line_value(bets, board(BOOKS))
    assert consensus["fair_close_prob"].item() == pytest.approx(alone["fair_close_prob"].item())
    average = closing_line_value(bets, FRAME, sharp=AVG)
    assert average["close_source"].item() == AVG
    inverse = [1 / o for o in (2.02, 3.45, 3.65)]
    assert average["fair_close_prob"].item() == pytest.approx(inverse[0] / sum(inverse))


def moving(books: list[str]) -> pl.DataFrame:
    """Each book's home price shortens from 2.0 to 1.8, a minute after the previous book."""
    return pl.concat(
        board({book: (odds, 3.4, 3.6)}, at=T0 + timedelta(minutes=i + step * 30))
        for i, book in enumerate(books)
        for step, odds in ((0, 2.0), (1, 1.8))
    )


def test_aggregates_neither_make_steam_nor_lead():
    frame = moving(["A", MAX, AVG])
    assert detect_steam(frame, window="10m", min_bookmakers=2).is_empty()
    assert detect_steam(moving(["A", "B", MAX]), window="10m", min_bookmakers=2).height == 1
    pairs = lead_lag(moving(["A", "B", MAX]), follower=None)
    assert set(pairs["leader"]) | set(pairs["bookmaker"]) == {"A", "B"}
    with pytest.raises(ConfigurationError, match="`leader` names"):
        lead_lag(frame, leader=MAX, follower=None)


def test_matches_priced_by_one_bookmaker_and_its_aggregates_are_thin():
    one_book = board({"A": BOOKS["A"], MAX: (2.3, 3.9, 4.2)})
    frame = pl.concat(
        [FRAME, *(one_book.with_columns(event_id=pl.lit(e, pl.Int64)) for e in (2, 3))]
    )
    with pytest.warns(InsufficientDataWarning, match="only 1 of 3 matches"):
        best_prices(frame)


def test_an_imported_season_with_aggregates_gives_the_same_comparisons():
    with_aggregates = read_football_data(E0, aggregates=True)
    assert {MAX, AVG} <= set(with_aggregates["bookmaker"])

    def compared(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        frame = frame.with_columns(event_id=pl.col("match_key").rank("dense"))
        closing = frame.filter(pl.col("captured_at") == pl.col("kickoff") - timedelta(minutes=1))
        return best_prices(closing), consensus_line(closing)

    best, consensus = compared(with_aggregates)
    best_alone, consensus_alone = compared(read_football_data(E0))
    assert_frame_equal(best, best_alone)
    assert_frame_equal(consensus, consensus_alone, check_exact=False)
