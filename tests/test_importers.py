"""Importers of public odds formats: football-data.co.uk CSVs and The Odds API JSON.

These tests read the files only (no database); loading them is tested with the loader.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from oddskit.errors import ValidationError
from oddskit.football_data import (
    OUTPUT_SCHEMA,
    collection_time,
    parse_price_column,
    read_football_data,
)
from oddskit.odds_api import read_odds_api

DATA = Path(__file__).parent / "data"
E0 = DATA / "football_data" / "E0_2425.csv"
OLD = DATA / "football_data" / "E0_0506.csv"
BRA = DATA / "football_data" / "BRA.csv"
LIVE = DATA / "odds_api" / "epl_live.json"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("B365H", ("B365", False, "1x2", "home", None)),
        ("PSCA", ("PS", True, "1x2", "away", None)),
        ("BFD", ("BF", False, "1x2", "draw", None)),  # Betfair's draw, not Betfred
        ("BFDH", ("BFD", False, "1x2", "home", None)),  # Betfred
        ("BFECD", ("BFE", True, "1x2", "draw", None)),
        ("MaxC>2.5", ("Max", True, "over_under", "over", 2.5)),
        ("P<2.5", ("P", False, "over_under", "under", 2.5)),
        ("B365CAHH", ("B365", True, "asian_handicap", "home", None)),
        ("1XBCA", ("1XB", True, "1x2", "away", None)),
        ("VCCH", ("VC", True, "1x2", "home", None)),
        ("HC", None),
        ("AHh", None),
        ("Bb1X2", None),
        ("FTR", None),
    ],
)
def test_price_columns_are_read_by_prefix_and_suffix(column, expected):
    assert parse_price_column(column) == expected


def test_football_data_file_becomes_input_rows_with_match_keys_and_no_invented_ids():
    frame = read_football_data(E0)
    assert frame.schema == OUTPUT_SCHEMA
    assert frame["sportradar_id"].null_count() == frame.height
    first = frame.filter(pl.col("home_team") == "Man United", pl.col("away_team") == "Fulham")
    # 20:00 UK summer time is 19:00 UTC; one match key for every bookmaker.
    assert first["kickoff"].unique().to_list() == [utc(2024, 8, 16, 19)]
    assert first["match_key"].unique().to_list() == [
        "football-data:E0:2024-08-16:Man United:Fulham"
    ]
    assert first["bookmaker_event_id"].n_unique() == first["bookmaker"].n_unique()
    assert first.select("country", "tournament").unique().rows() == [("England", "Premier League")]
    # Opening prices on the Friday 15:00 UK collection, closing a minute before kickoff.
    assert sorted(first["captured_at"].unique()) == [utc(2024, 8, 16, 14), utc(2024, 8, 16, 18, 59)]


def test_football_data_prices_are_the_files_prices():
    raw = pl.read_csv(E0, infer_schema=False).filter(pl.col("HomeTeam") == "Chelsea")
    frame = read_football_data(E0).filter(pl.col("home_team") == "Chelsea")

    def price(book: str, when: datetime, market: str, outcome: str) -> float:
        return frame.filter(
            pl.col("bookmaker") == book,
            pl.col("captured_at") == when,
            pl.col("market") == market,
            pl.col("outcome") == outcome,
        )["odds"].item()

    kickoff = frame["kickoff"][0]
    opening = collection_time(kickoff)
    closing = kickoff.replace(minute=kickoff.minute - 1)
    assert price("Pinnacle", opening, "1x2", "home") == float(raw["PSH"][0])
    assert price("Pinnacle", closing, "1x2", "away") == float(raw["PSCA"][0])
    assert price("bet365", closing, "over_under", "under") == float(raw["B365C<2.5"][0])
    assert price("Pinnacle", opening, "asian_handicap", "home") == float(raw["PAHH"][0])
    line = frame.filter(
        pl.col("bookmaker") == "Pinnacle",
        pl.col("captured_at") == closing,
        pl.col("market") == "asian_handicap",
    )["line"].unique()
    assert line.to_list() == [float(raw["AHCh"][0])]


def test_aggregates_are_left_out_unless_asked_for_and_then_clearly_named():
    books = set(read_football_data(E0)["bookmaker"])
    assert not any("max" in b.lower() or "av" in b.lower() for b in books)
    assert {"Betfair Exchange", "Pinnacle", "bet365"} <= books
    with_aggregates = set(read_football_data(E0, aggregates=True)["bookmaker"])
    assert with_aggregates - books == {
        "football-data max (aggregate)",
        "football-data average (aggregate)",
    }


def test_old_seasons_and_extra_leagues():
    old = read_football_data(OLD)
    # dd/mm/yy, no Time column: 15:00 UK time (BST in August).
    assert old["kickoff"].min() == utc(2005, 8, 13, 14)
    # Each bookmaker's own handicap line (GBAH, LBAH) is used.
    lines = (
        old.filter(pl.col("market") == "asian_handicap")
        .group_by("bookmaker")
        .agg(pl.col("line").unique())
    )
    assert dict(lines.iter_rows()) == {
        "Gamebookers": [-0.5],
        "Ladbrokes": [-0.25],
        "bet365": [-0.5],
    }
    extra = read_football_data(BRA)
    assert extra.select("country", "tournament").unique().rows() == [("Brazil", "Serie A")]
    assert extra["captured_at"].n_unique() == 3  # closing prices only, one per match


def test_bst_change_is_handled():
    frame = read_football_data(E0)
    kickoffs = dict(
        frame.select("home_team", "kickoff")
        .unique()
        .filter(pl.col("home_team").is_in(["Man City", "Liverpool"]))
        .iter_rows()
    )
    assert kickoffs["Man City"] == utc(2024, 10, 26, 14)  # 15:00 BST
    assert kickoffs["Liverpool"] == utc(2024, 10, 27, 14)  # 14:00 GMT


def test_broken_football_data_rows_are_refused_with_row_column_and_value(tmp_path):
    bad = tmp_path / "E0.csv"
    bad.write_text(
        "Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
        "E0,16/08/2024,20:00,Man United,Fulham,1.6,4.2,5.5\n"
        "E0,31/02/2024,15:00,Arsenal,Wolves,1.2,6.5,13\n"
    )
    with pytest.raises(ValidationError, match=r"row 2 \(line 3\), column Date: '31/02/2024'"):
        read_football_data(bad)
    bad.write_text(
        "Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A\n"
        "E0,16/08/2024,20:00,Man United,Fulham,1.6,four,5.5\n"
    )
    with pytest.raises(ValidationError, match=r"column B365D: 'four' is not a number"):
        read_football_data(bad)
    bad.write_text("Season,Team,Points\n2024,Arsenal,89\n")
    with pytest.raises(ValidationError, match=r"not a football-data\.co\.uk file"):
        read_football_data(bad)


def test_odds_api_live_response_maps_markets_and_the_home_line_convention():
    frame = read_odds_api(LIVE)
    event = json.loads(LIVE.read_text())[0]
    pinnacle = next(b for b in event["bookmakers"] if b["key"] == "pinnacle")
    spreads = next(m for m in pinnacle["markets"] if m["key"] == "spreads")["outcomes"]
    rows = frame.filter(
        pl.col("bookmaker") == "Pinnacle",
        pl.col("match_key") == f"odds-api:{event['id']}",
        pl.col("market") == "asian_handicap",
    )
    # Both sides of the book carry the home team's handicap.
    assert rows["line"].unique().to_list() == [spreads[0]["point"]]
    assert sorted(rows["outcome"]) == ["away", "home"]
    h2h = frame.filter(pl.col("market") == "1x2")
    assert set(h2h["outcome"]) == {"home", "draw", "away"}
    assert set(frame["market"]) == {"1x2", "1x2_lay", "asian_handicap", "over_under"}
    assert frame.filter(pl.col("market") == "1x2_lay")["bookmaker"].unique().to_list() == [
        "Betfair Exchange"
    ]
    assert frame.select("country", "tournament", "sport").unique().rows() == [
        ("England", "Premier League", "football")
    ]


def test_odds_api_american_odds_and_json_lines():
    frame = read_odds_api(DATA / "odds_api" / "american.jsonl")
    assert frame["match_key"].n_unique() == 2
    pinnacle = frame.filter(
        pl.col("bookmaker") == "Pinnacle", pl.col("home_team") == "Manchester United"
    )
    odds = {(m, o): x for m, o, x in pinnacle.select("market", "outcome", "odds").rows()}
    assert odds[("1x2", "home")] == pytest.approx(2.25)  # +125
    assert odds[("1x2", "away")] == pytest.approx(1 + 100 / 161)  # -161
    assert odds[("over_under", "over")] == pytest.approx(1 + 100 / 115)  # -115
    assert (
        read_odds_api(DATA / "odds_api" / "american.jsonl", odds_format="decimal")["odds"].min() < 0
    )


def odds_api_file(tmp_path: Path, outcomes: list[dict], key: str = "h2h", **event) -> Path:
    """One event, one Pinnacle market with these outcomes."""
    document = [
        {
            "id": "e1",
            "sport_key": "soccer_epl",
            "sport_title": "EPL",
            "commence_time": "2024-08-17T14:00:00Z",
            "home_team": "Arsenal",
            "away_team": "Wolverhampton Wanderers",
            "bookmakers": [
                {
                    "key": "pinnacle",
                    "title": "Pinnacle",
                    "last_update": "2024-08-16T10:00:00Z",
                    "markets": [{"key": key, "outcomes": outcomes}],
                }
            ],
            **event,
        }
    ]
    path = tmp_path / "odds.json"
    path.write_text(json.dumps(document))
    return path


def h2h(*prices: float) -> list[dict]:
    names = ("Arsenal", "Draw", "Wolverhampton Wanderers")
    return [{"name": n, "price": p} for n, p in zip(names, prices, strict=True)]


def test_odds_api_american_odds_without_a_favourite_are_still_american(tmp_path):
    # A three-way market can have no negative price; decimal odds are never 100 or more
    # across a whole market, American ones always are.
    path = odds_api_file(tmp_path, h2h(150, 240, 220))
    assert read_odds_api(path)["odds"].to_list() == [2.5, 3.4, 3.2]
    mixed = odds_api_file(tmp_path, h2h(-150, 3.4, 5))
    with pytest.raises(ValidationError, match="mix American odds"):
        read_odds_api(mixed)
    assert read_odds_api(mixed, odds_format="american")["odds"].min() > 1


def test_odds_api_times_in_unix_seconds_and_with_offsets(tmp_path):
    outcomes = h2h(1.5, 4.2, 6.0)
    unix = odds_api_file(tmp_path, outcomes, commence_time=1723903200)  # dateFormat=unix
    assert read_odds_api(unix)["kickoff"].unique().to_list() == [utc(2024, 8, 17, 14)]
    offset = odds_api_file(tmp_path, outcomes, commence_time="2024-08-17T15:00:00.000+01:00")
    assert read_odds_api(offset)["kickoff"].unique().to_list() == [utc(2024, 8, 17, 14)]
    broken = odds_api_file(tmp_path, outcomes, commence_time="next Saturday")
    with pytest.raises(ValidationError, match="event e1: commence_time 'next Saturday'"):
        read_odds_api(broken)


def test_odds_api_outcomes_without_a_price_or_a_line_are_refused_where_they_are(tmp_path):
    no_price = odds_api_file(tmp_path, [{"name": "Arsenal"}, {"name": "Draw", "price": 3.4}])
    with pytest.raises(ValidationError, match="event e1, Pinnacle h2h 'Arsenal': price None"):
        read_odds_api(no_price)
    no_point = odds_api_file(
        tmp_path, [{"name": "Over", "price": 1.9}, {"name": "Under", "price": 1.9}], key="totals"
    )
    with pytest.raises(ValidationError, match="'Over': point None is not a number"):
        read_odds_api(no_point)
    with pytest.raises(ValidationError, match="an event is a str"):
        read_odds_api(odds_api_file(tmp_path, [])).clear()  # the file is fine
        (tmp_path / "odds.json").write_text('["e1"]')
        read_odds_api(tmp_path / "odds.json")


def test_odds_api_level_handicap_is_line_zero_on_both_sides(tmp_path):
    sides = [
        {"name": "Arsenal", "price": 1.9, "point": 0},
        {"name": "Wolverhampton Wanderers", "price": 1.95, "point": 0},
    ]
    lines = read_odds_api(odds_api_file(tmp_path, sides, key="spreads"))["line"].to_list()
    assert lines == [0.0, 0.0]
    assert [math.copysign(1, line) for line in lines] == [1, 1]  # no -0.0 line of its own


def test_odds_api_unchanged_prices_in_consecutive_snapshots_keep_their_time():
    frame = read_odds_api(
        [DATA / "odds_api" / "historical_1200.json", DATA / "odds_api" / "historical_1205.json"]
    )
    pinnacle = frame.filter(pl.col("bookmaker") == "Pinnacle")
    # Pinnacle did not change between the two responses: one capture time, rows repeated.
    assert pinnacle["captured_at"].n_unique() == 1
    # (the kickoff of one match moved between them; prices and capture times did not)
    assert pinnacle.drop("kickoff").unique().height == pinnacle.height // 2
    moved = frame.filter(pl.col("home_team") == "Ipswich Town")["kickoff"].unique().sort()
    assert moved.to_list() == [utc(2024, 8, 17, 11, 30), utc(2024, 8, 17, 11, 35)]


def test_odds_api_broken_files_say_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"message": "Invalid api key"}')
    with pytest.raises(ValidationError, match=r"not an odds response.*keys message"):
        read_odds_api(bad)
    bad.write_text('[{"id": "x", "home_team": "A"}]')
    with pytest.raises(ValidationError, match="lacks 'away_team'"):
        read_odds_api(bad)
    bad.write_text("[1, 2\n{]")
    with pytest.raises(ValidationError, match="line 1 is not JSON"):
        read_odds_api(bad)


HEADER = "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,B365H,B365D,B365A,PSCH,PSCD,PSCA\n"
ARSENAL = "E0,17/08/2024,15:00,Arsenal,Wolves,2,0,H,1.25,6.5,12,1.22,7,13\n"


def test_a_football_data_row_without_a_date_is_refused_not_dropped(tmp_path):
    path = tmp_path / "E0.csv"
    path.write_text(HEADER + ARSENAL + "E0,,15:00,Chelsea,Man City,0,2,A,4.5,4,1.7,4.6,4.1,1.7\n")
    with pytest.raises(ValidationError, match=r"row 2 \(line 3\), column Date: an empty value"):
        read_football_data(path)


def test_a_kickoff_in_the_spring_forward_gap_is_read_as_gmt(tmp_path):
    # UK clocks jump from 01:00 to 02:00 on 31/03/2024: 01:30 UK time does not exist.
    path = tmp_path / "USA.csv"
    path.write_text(
        "Country,League,Season,Date,Time,Home,Away,HG,AG,Res,PSCH,PSCD,PSCA\n"
        "USA,MLS,2024,31/03/2024,01:30,Inter Miami,Orlando City,1,0,H,2.1,3.6,3.3\n"
    )
    frame = read_football_data(path)
    assert frame["kickoff"].unique().to_list() == [utc(2024, 3, 31, 1, 30)]
    assert frame["match_key"].null_count() == 0
    assert frame["captured_at"].unique().to_list() == [utc(2024, 3, 31, 1, 29)]


def test_a_table_appended_under_its_own_header_is_read_under_that_header(tmp_path):
    # A partial next season appended with fewer bookmakers: its third price column is
    # Pinnacle's, not bet365's.
    path = tmp_path / "E0.csv"
    path.write_text(
        HEADER
        + ARSENAL
        + "\n"
        + "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,PSCH,PSCD,PSCA\n"
        + "E0,16/08/2025,20:00,Liverpool,Bournemouth,4,2,H,1.3,6,10\n"
    )
    frame = read_football_data(path)
    liverpool = frame.filter(pl.col("home_team") == "Liverpool")
    assert set(liverpool["bookmaker"]) == {"Pinnacle"}
    assert sorted(liverpool["odds"]) == [1.3, 6.0, 10.0]
    assert frame.filter(pl.col("home_team") == "Arsenal")["bookmaker"].n_unique() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(path.read_text().replace("16/08/2025", "16/08/2O25"))
    with pytest.raises(ValidationError, match=r"row 2 \(line 5\), column Date: '16/08/2O25'"):
        read_football_data(bad)


def test_football_data_spacing_and_clock_seconds(tmp_path):
    path = tmp_path / "E0.csv"
    path.write_text(
        " Div , Date ,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,B365H,B365D,B365A\n"
        "E0 , 17/08/2024 ,12:30:00, Arsenal ,Wolves ,2,0,H, 1.25 ,6.5,12\n"
    )
    frame = read_football_data(path)
    assert frame.select("tournament", "home_team", "away_team").unique().rows() == [
        ("Premier League", "Arsenal", "Wolves")
    ]
    assert frame["kickoff"].unique().to_list() == [utc(2024, 8, 17, 11, 30)]
    assert sorted(frame["odds"]) == [1.25, 6.5, 12.0]


def test_a_match_given_twice_is_read_once_and_two_versions_are_refused(tmp_path):
    path = tmp_path / "E0.csv"
    path.write_text(HEADER + ARSENAL + ARSENAL)
    assert read_football_data(path).height == 6  # bet365 opening + Pinnacle closing, once
    path.write_text(HEADER + ARSENAL + ARSENAL.replace("1.25,6.5", "1.28,6.5"))
    with pytest.raises(ValidationError, match=r"more than once(.|\n)*row 2 \(line 3\)"):
        read_football_data(path)
