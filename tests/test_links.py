"""Links between listings and matches, by hand: candidates, link, unlink, team aliases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from oddskit.connection import Database
from oddskit.errors import ConfigurationError
from oddskit.links import (
    add_team_alias,
    fetch_link_candidates,
    fetch_links,
    fetch_team_aliases,
    link_listing,
    remove_team_alias,
    unlink_listing,
)
from oddskit.loading import load
from oddskit.queries import fetch_odds_history

KICKOFF = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=6)
CAPTURED = KICKOFF - timedelta(hours=10)


def rows(book: str, event_id: str, home: str, away: str, kickoff: datetime) -> list[dict]:
    return [
        {
            "captured_at": CAPTURED + timedelta(minutes=minutes),
            "bookmaker": book,
            "sport": "football",
            "country": "England",
            "tournament": "Premier League",
            "bookmaker_event_id": event_id,
            "home_team": home,
            "away_team": away,
            "kickoff": kickoff,
            "market": "1x2",
            "outcome": outcome,
            "odds": odds,
        }
        for minutes in (0, 30)
        for outcome, odds in (("home", 2.1), ("draw", 3.4), ("away", 3.6))
    ]


@pytest.fixture
def db(make_database) -> Database:
    """Two bookmakers' listings of one match kicking off 7 minutes apart (beyond the
    automatic linking's 5-minute tolerance), and an unrelated match."""
    database = make_database("embedded")
    from oddskit.schema import migrate

    migrate(database)
    frame = pl.DataFrame(
        rows("Pinnacle", "p1", "Manchester United", "Nottingham Forest", KICKOFF)
        + rows("bet365", "b1", "Man Utd", "Nott'm Forest", KICKOFF + timedelta(minutes=7))
        + rows("Pinnacle", "p2", "Chelsea", "Everton", KICKOFF)
    )
    load(frame, db=database, progress=False)
    return database


def event_of(db: Database, book: str, event_id: str) -> int:
    links = fetch_links(db, bookmakers=book)
    return links.filter(pl.col("bookmaker_event_id") == event_id)["event_id"].item()


def test_look_alikes_are_proposed_then_linked_by_hand_with_their_snapshots(db: Database) -> None:
    united = event_of(db, "Pinnacle", "p1")
    assert event_of(db, "bet365", "b1") != united
    assert fetch_link_candidates(db).is_empty()  # 7 minutes apart: not even proposed
    candidates = fetch_link_candidates(db, tolerance=timedelta(minutes=10))
    proposed = candidates.filter(pl.col("bookmaker") == "bet365")
    assert proposed["candidate_event_id"].to_list() == [united]
    assert proposed["score"].item() >= 0.9

    learnt = link_listing(db, "bet365", "b1", united)
    assert learnt == ["Man Utd → Manchester United", "Nott'm Forest → Nottingham Forest"]
    links = fetch_links(db, event_ids=united)
    assert links.select("bookmaker", "link_method").sort("bookmaker").rows() == [
        ("Pinnacle", "new"),
        ("bet365", "manual"),
    ]
    history = fetch_odds_history(db, event_ids=united)
    assert history.group_by("bookmaker").len().sort("bookmaker").rows() == [
        ("Pinnacle", 6),
        ("bet365", 6),
    ]
    assert (
        fetch_link_candidates(db, tolerance=timedelta(minutes=10))
        .filter(pl.col("bookmaker") == "bet365")
        .is_empty()
    )
    aliases = fetch_team_aliases(db)
    assert set(aliases.select("alias", "team", "source").rows()) == {
        ("Man Utd", "Manchester United", "confirmed"),
        ("Nott'm Forest", "Nottingham Forest", "confirmed"),
    }


def test_unlinked_listings_get_a_match_of_their_own_and_are_not_proposed_again(
    db: Database,
) -> None:
    united = event_of(db, "Pinnacle", "p1")
    link_listing(db, "bet365", "b1", united)
    own = unlink_listing(db, "bet365", "b1")
    assert own != united and event_of(db, "bet365", "b1") == own
    assert fetch_odds_history(db, event_ids=own)["bookmaker"].unique().to_list() == ["bet365"]
    assert fetch_odds_history(db, event_ids=united)["bookmaker"].unique().to_list() == ["Pinnacle"]
    assert (
        fetch_link_candidates(db, tolerance=timedelta(minutes=10))
        .filter(pl.col("bookmaker") == "bet365")
        .is_empty()
    )
    with pytest.raises(ConfigurationError, match="only listing of match"):
        unlink_listing(db, "bet365", "b1")


def test_moves_that_would_mix_snapshots_are_refused(db: Database) -> None:
    chelsea = event_of(db, "Pinnacle", "p2")
    with pytest.raises(ConfigurationError, match="already has this bookmaker's listing 'p2'"):
        link_listing(db, "Pinnacle", "p1", chelsea)
    with pytest.raises(ConfigurationError, match="no listing with event id 'nope'"):
        link_listing(db, "Pinnacle", "nope", chelsea)
    with pytest.raises(ConfigurationError, match="no match with event_id"):
        link_listing(db, "bet365", "b1", 10**9)


def test_team_aliases_are_the_users_and_compare_as_keys(db: Database) -> None:
    assert fetch_team_aliases(db).is_empty()  # nothing invented
    add_team_alias(db, "Spurs", "Tottenham Hotspur", sport="Football")
    add_team_alias(db, "SPURS", "Tottenham Hotspur FC", sport="football")  # the same alias key
    assert fetch_team_aliases(db).select("alias", "team", "sport", "source").rows() == [
        ("SPURS", "Tottenham Hotspur FC", "football", "user")
    ]
    with pytest.raises(ConfigurationError, match="already the same name"):
        add_team_alias(db, "Man. Utd", "MAN UTD")
    with pytest.raises(ConfigurationError, match="no sport named 'cricket'"):
        add_team_alias(db, "Spurs", "Tottenham", sport="cricket")
    assert remove_team_alias(db, "spurs", sport="football")
    assert not remove_team_alias(db, "spurs", sport="football")


def test_the_command_line_lists_proposes_links_and_keeps_aliases(db: Database) -> None:
    from typer.testing import CliRunner

    from oddskit.cli import app

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["--database-url", db.libpq_url, *args])
        assert result.exit_code == 0, result.output
        return result.output

    united = event_of(db, "Pinnacle", "p1")
    assert "3 listings of 3 matches" in run("links", "list")
    assert "1 look-alikes" in run("links", "candidates", "--tolerance", "10m")
    linked = run("links", "link", "bet365", "b1", str(united))
    assert f"Linked bet365 b1 to match {united}." in linked
    assert "Learnt the team alias Man Utd → Manchester United." in linked
    assert "manual" in run("links", "list", "--method", "manual")
    assert "is now match" in run("links", "unlink", "bet365", "b1")
    run("aliases", "add", "Spurs", "Tottenham Hotspur")
    assert "Tottenham Hotspur" in run("aliases", "list")
    assert "Removed Spurs." in run("aliases", "remove", "Spurs")
    refused = CliRunner().invoke(
        app, ["--database-url", db.libpq_url, "links", "link", "bet365", "nope", "1"]
    )
    assert refused.exit_code == 1
    assert "Error: bet365 has no listing with event id 'nope'" in refused.output
