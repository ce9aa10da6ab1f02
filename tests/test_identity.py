"""Linking listings by names: team keys, similarity, and when a link is (not) made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from oddskit.identity import link_by_names, name_similarity, team_key_of

KICKOFF = datetime(2026, 5, 2, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Atlético Madrid", "Atletico Madrid"),
        ("Brighton & Hove Albion", "Brighton and Hove Albion"),
        ("Man. Utd", "Man United"),
        ("AFC Bournemouth", "Bournemouth"),
        ("Aduana FC", "Aduana"),
        ("St. Pauli", "Saint Pauli"),
        ("MANCHESTER UTD", "Manchester United"),
        ("Bayern München", "Bayern Munich"),
        ("Bodø/Glimt", "Bodo Glimt"),
        ("Murang’a Seal", "Murang'a Seal"),
    ],
)
def test_spellings_that_share_a_team_key(a: str, b: str) -> None:
    assert team_key_of(a) == team_key_of(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Arsenal", "Arsenal Women"),
        ("Real Madrid", "Real Madrid Castilla"),
        ("Manchester City", "Manchester United"),
        ("Sheffield United", "Sheffield Wednesday"),
        ("Jong Ajax", "Ajax"),
    ],
)
def test_other_teams_of_a_club_keep_their_own_key(a: str, b: str) -> None:
    assert team_key_of(a) != team_key_of(b)


@pytest.mark.parametrize(
    ("short", "full", "at_least"),
    [
        # football-data.co.uk's names against The Odds API's
        ("Man United", "Manchester United", 0.9),
        ("Nott'm Forest", "Nottingham Forest", 0.9),
        ("Wolves", "Wolverhampton Wanderers", 0.5),
        ("West Brom", "West Bromwich Albion", 0.8),
        ("QPR", "Queens Park Rangers", 0.85),
        ("Sheffield Weds", "Sheffield Wednesday", 0.9),
        ("Paris SG", "Paris Saint Germain", 0.9),
        ("M'gladbach", "Borussia Monchengladbach", 0.7),
        ("Ath Bilbao", "Athletic Bilbao", 0.9),
        ("Tottenham", "Tottenham Hotspur", 0.8),
    ],
)
def test_abbreviations_score_as_similar(short: str, full: str, at_least: float) -> None:
    assert name_similarity(team_key_of(short), team_key_of(full)) >= at_least


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Man City", "Manchester United"),
        ("Chelsea", "Charlton Athletic"),
        ("Arsenal", "Arsenal Women"),
        ("Inter", "AC Milan"),
    ],
)
def test_different_teams_score_low(a: str, b: str) -> None:
    assert name_similarity(team_key_of(a), team_key_of(b)) < 0.5


def listing(n: int, book: str, home: str, away: str, **extra) -> dict:
    return {
        "listing": n,
        "bookmaker": book,
        "sport": "football",
        "country": extra.get("country"),
        "kickoff": extra.get("kickoff", KICKOFF),
        "home_team": home,
        "away_team": away,
    }


def event(event_id: int, home: str, away: str, **extra) -> dict:
    return {
        "event_id": event_id,
        "bookmaker": extra.get("bookmaker"),
        "sport": "Football",
        "country": extra.get("country", "England"),
        "kickoff": extra.get("kickoff", KICKOFF),
        "home_team": home,
        "away_team": away,
    }


def link(listings: list[dict], events: list[dict], **options) -> dict[int, tuple]:
    result = link_by_names(
        pl.DataFrame(listings),
        pl.DataFrame(events, schema_overrides={"bookmaker": pl.String, "country": pl.String}),
        **options,
    )
    return {
        row["listing"]: (row["event_id"], row["new_match"], row["link_method"])
        for row in result.iter_rows(named=True)
    }


def test_exact_alias_and_fuzzy_links_say_how_they_were_made() -> None:
    links = link(
        [
            listing(1, "A", "Manchester Utd", "Nottingham Forest"),
            listing(2, "B", "Man United", "Nott'm Forest"),
            listing(3, "C", "Red Devils", "Nottingham Forest"),
        ],
        [event(7, "Manchester United", "Nottingham Forest")],
        aliases=pl.DataFrame({"alias": ["Red Devils"], "team": ["Manchester United"]}),
    )
    assert links == {1: (7, None, "exact"), 2: (7, None, "fuzzy"), 3: (7, None, "alias")}


def test_kickoff_beyond_the_tolerance_is_not_linked() -> None:
    later = KICKOFF + timedelta(minutes=6)
    links = link(
        [listing(1, "A", "Arsenal", "Chelsea", kickoff=later)], [event(7, "Arsenal", "Chelsea")]
    )
    assert links[1][0] is None
    assert link(
        [listing(1, "A", "Arsenal", "Chelsea", kickoff=later)],
        [event(7, "Arsenal", "Chelsea")],
        tolerance=timedelta(minutes=10),
    )[1] == (7, None, "exact")


def test_two_plausible_matches_link_to_neither() -> None:
    # Two stored matches (a duplicate the data already had): which is right is unknown.
    links = link(
        [listing(1, "A", "Man United", "Leeds")],
        [event(7, "Manchester United", "Leeds United"), event(8, "Manchester Utd", "Leeds")],
    )
    assert links[1][0] is None


def test_namesakes_in_other_countries_or_other_teams_of_a_club_are_not_linked() -> None:
    links = link(
        [
            listing(1, "A", "Nacional", "Penarol", country="Uruguay"),
            listing(2, "A", "Arsenal Women", "Chelsea Women"),
        ],
        [
            event(7, "Nacional", "Penarol", country="Portugal"),
            event(8, "Arsenal", "Chelsea"),
        ],
    )
    assert links[1][0] is None and links[2][0] is None


def test_one_exact_team_needs_an_opponent_that_does_not_contradict() -> None:
    links = link(
        [listing(1, "A", "Arsenal", "Wolves"), listing(2, "B", "Arsenal", "Everton")],
        [event(7, "Arsenal", "Wolverhampton Wanderers")],
    )
    assert links[1] == (7, None, "fuzzy")
    assert links[2][0] is None


def test_a_bookmaker_seen_through_a_second_source_links_to_the_match_it_lists() -> None:
    # The same bookmaker, another source (another id scheme): one match, two listings.
    links = link(
        [listing(1, "A", "Man United", "Fulham")],
        [event(7, "Manchester United", "Fulham", bookmaker="A")],
    )
    assert links[1] == (7, None, "fuzzy")


def test_new_listings_of_different_bookmakers_group_into_one_new_match() -> None:
    links = link(
        [
            listing(1, "A", "Manchester United", "Nottingham Forest"),
            listing(2, "B", "Man Utd", "Nott'm Forest"),
            listing(3, "C", "MANCHESTER UTD", "NOTTINGHAM FOREST"),
            listing(4, "A", "Chelsea", "Everton"),
            listing(5, "B", "Chelsea", "Everton", kickoff=KICKOFF + timedelta(days=1)),
        ],
        [],
    )
    assert links[1][1] == links[2][1] == links[3][1]
    assert len({links[n][1] for n in (1, 4, 5)}) == 3
    assert {links[n][2] for n in (1, 4, 5)} == {"new"}
