"""The market vocabulary: canonical names, outcomes, and the Asian-handicap line convention."""

from __future__ import annotations

import polars as pl
import pytest

from oddskit.markets import canonical_market_names, home_handicap_lines


def rows(market: str, outcomes: list[str], home: str = "Arsenal", away: str = "Chelsea"):
    return pl.DataFrame(
        {
            "row": list(range(1, len(outcomes) + 1)),
            "market": [market] * len(outcomes),
            "outcome": outcomes,
            "home_team": [home] * len(outcomes),
            "away_team": [away] * len(outcomes),
        }
    )


@pytest.mark.parametrize(
    ("market", "outcomes", "expected_market", "expected"),
    [
        ("1X2", ["1", "X", "2"], "1x2", ["home", "draw", "away"]),
        ("h2h", ["Arsenal", "Draw", "Chelsea"], "1x2", ["home", "draw", "away"]),
        ("Match Odds", ["H", "D", "A"], "1x2", ["home", "draw", "away"]),
        ("FT Result", ["Home", "Draw", "Away"], "1x2", ["home", "draw", "away"]),
        ("totals", ["Over", "Under"], "over_under", ["over", "under"]),
        ("O/U", ["O", "U"], "over_under", ["over", "under"]),
        ("Over/Under", ["over", "under"], "over_under", ["over", "under"]),
        ("spreads", ["Arsenal", "Chelsea"], "asian_handicap", ["home", "away"]),
        ("AH", ["1", "2"], "asian_handicap", ["home", "away"]),
        (
            "Double Chance",
            ["1X", "12", "X2"],
            "double_chance",
            ["home_draw", "home_away", "draw_away"],
        ),
        ("BTTS", ["Yes", "No"], "btts", ["yes", "no"]),
        ("both teams to score", ["GG", "NG"], "btts", ["yes", "no"]),
    ],
)
def test_known_markets_and_outcomes_get_one_spelling(market, outcomes, expected_market, expected):
    canonical, errors = canonical_market_names(rows(market, outcomes))
    assert errors.height == 0
    assert canonical["market"].unique().to_list() == [expected_market]
    assert canonical["outcome"].to_list() == expected


def test_an_outcome_the_market_does_not_have_is_a_bad_row():
    canonical, errors = canonical_market_names(rows("1X2", ["1", "over", "2"]))
    assert canonical["row"].to_list() == [1, 3]
    assert errors.rows() == [
        (
            2,
            "outcome",
            "over",
            "is not an outcome of the 1x2 market (known as 1X2); use one of: home, draw, away",
        )
    ]


def test_unknown_markets_are_kept_verbatim():
    canonical, errors = canonical_market_names(rows("Corners Over/Under 9.5", ["Over", "Under"]))
    assert errors.height == 0
    assert canonical.select("market", "outcome").rows() == [
        ("Corners Over/Under 9.5", "Over"),
        ("Corners Over/Under 9.5", "Under"),
    ]


def handicap(lines: list[tuple[int, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot": [s for s, _, _ in lines],
            "market": ["asian_handicap"] * len(lines),
            "outcome": [o for _, o, _ in lines],
            "line": [x for _, _, x in lines],
        }
    )


def test_own_side_handicaps_are_turned_into_home_lines_when_unambiguous():
    books = handicap(
        [
            (1, "home", -0.75),
            (1, "away", 0.75),
            (1, "home", -0.5),
            (1, "away", 0.5),
            (2, "home", -0.25),
            (2, "away", -0.25),  # already home lines
            (3, "home", 0.0),
            (3, "away", 0.0),  # the same either way
        ]
    )
    fixed, counts = home_handicap_lines(books, by=["snapshot"])
    assert fixed["line"].to_list() == [-0.75, -0.75, -0.5, -0.5, -0.25, -0.25, 0.0, 0.0]
    assert counts == {"converted": 1, "unpaired": 0}


def test_a_book_with_sides_missing_is_reported_not_guessed():
    books = handicap([(1, "home", -0.75), (1, "away", 0.5), (1, "home", -0.5)])
    fixed, counts = home_handicap_lines(books, by=["snapshot"])
    assert fixed["line"].to_list() == [-0.75, 0.5, -0.5]
    assert counts == {"converted": 0, "unpaired": 1}


def test_declared_conventions_are_followed():
    books = handicap([(1, "home", -0.25), (1, "away", -0.25)])
    as_own, _ = home_handicap_lines(books, by=["snapshot"], lines="own")
    assert as_own["line"].to_list() == [-0.25, 0.25]
    as_home, counts = home_handicap_lines(
        handicap([(1, "home", -1.0), (1, "away", 1.0)]), by=["snapshot"], lines="home"
    )
    assert as_home["line"].to_list() == [-1.0, 1.0] and counts["unpaired"] == 1
