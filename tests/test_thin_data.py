"""Cross-bookmaker analytics say so when their input cannot support the answer."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from oddskit.comparisons import best_prices, closing_line_value, consensus_line, find_arbitrage
from oddskit.errors import InsufficientDataWarning, OddskitWarning
from oddskit.movement import align_bookmakers, lead_lag
from oddskit.plots import plot_vs_market

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def board(listings: dict[str, list[int]]) -> pl.DataFrame:
    """1x2 prices at two instants: each bookmaker prices the given event ids."""
    rows = []
    for book, events in listings.items():
        for event in events:
            for minutes, shift in ((0, 0.0), (30, 0.1)):
                for outcome, odds in (("home", 2.1), ("draw", 3.4), ("away", 3.6)):
                    rows.append(
                        {
                            "event_id": event,
                            "market": "1x2",
                            "line": None,
                            "bookmaker": book,
                            "captured_at": T0 + timedelta(minutes=minutes),
                            "outcome": outcome,
                            "odds": odds + shift,
                        }
                    )
    return pl.DataFrame(rows)


#: The same two matches stored under other event ids at each bookmaker (not linked).
UNLINKED = board({"Pinnacle": [1, 2], "betPawa": [11, 12]})
LINKED = board({"Pinnacle": [1, 2], "betPawa": [1, 2]})

CROSS_BOOKMAKER = [
    ("best_prices", lambda f: best_prices(f)),
    ("consensus_line", lambda f: consensus_line(f)),
    ("find_arbitrage", lambda f: find_arbitrage(f)),
    ("lead_lag", lambda f: lead_lag(f)),
    ("align_bookmakers", lambda f: align_bookmakers(f, every="15m")),
    ("best_prices", lambda f: plot_vs_market(f, bookmaker="betPawa", market="1x2")),
]


@pytest.mark.parametrize(("name", "call"), CROSS_BOOKMAKER)
def test_matches_priced_by_one_bookmaker_each_give_a_warning(name, call) -> None:
    with pytest.warns(InsufficientDataWarning) as caught:
        call(UNLINKED)
    message = str(caught[0].message)
    assert message.startswith(f"{name}: only 0 of 4 matches are priced by two or more")
    assert "oddskit links candidates" in message
    assert caught[0].filename == __file__  # points at the caller, not inside oddskit
    assert issubclass(InsufficientDataWarning, OddskitWarning)


@pytest.mark.parametrize(("name", "call"), CROSS_BOOKMAKER)
def test_matches_priced_by_several_bookmakers_give_none(name, call) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", OddskitWarning)
        call(LINKED)


def test_closing_line_value_says_when_the_sharp_close_is_missing() -> None:
    bets = pl.DataFrame(
        {"event_id": [11, 12], "market": "1x2", "line": None, "outcome": "home", "odds": 2.3}
    )
    with pytest.warns(InsufficientDataWarning, match="2 of 2 bets have no closing line"):
        out = closing_line_value(bets, UNLINKED, sharp="Pinnacle")
    assert out["clv"].null_count() == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", OddskitWarning)
        linked = closing_line_value(
            bets.with_columns(event_id=pl.Series([1, 2])), LINKED, sharp="Pinnacle"
        )
    assert linked["clv"].null_count() == 0
