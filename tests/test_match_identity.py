"""Loading links listings into matches, in one vocabulary, and says what it did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from oddskit.connection import Database
from oddskit.errors import ValidationError
from oddskit.links import add_team_alias, fetch_links, link_listing, unlink_listing
from oddskit.loading import load
from oddskit.queries import fetch_events, fetch_odds_history
from oddskit.sample import BOOKMAKERS, generate_sample
from oddskit.schema import migrate

KICKOFF = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=6)
EARLY = KICKOFF - timedelta(hours=8)


def rows(
    book: str,
    event_id: str,
    home: str,
    away: str,
    *,
    kickoff: datetime = KICKOFF,
    at: datetime = EARLY,
    market: str = "1x2",
    outcomes: tuple[str, ...] = ("home", "draw", "away"),
    lines: tuple[float | None, ...] | None = None,
    **extra: str | None,
) -> list[dict]:
    return [
        {
            "captured_at": at,
            "bookmaker": book,
            "sport": extra.get("sport", "football"),
            "country": "England",
            "tournament": extra.get("tournament", "Premier League"),
            "sportradar_id": extra.get("sportradar_id"),
            "match_key": extra.get("match_key"),
            "bookmaker_event_id": event_id,
            "home_team": home,
            "away_team": away,
            "kickoff": kickoff,
            "market": market,
            "line": None if lines is None else lines[i],
            "outcome": outcome,
            "odds": 2.0 + i / 10,
        }
        for i, outcome in enumerate(outcomes)
    ]


@pytest.fixture
def db(make_database) -> Database:
    database = make_database("embedded")
    migrate(database)
    return database


def one(report):
    (result,) = report.results
    return result


def matches(db: Database) -> int:
    return fetch_events(db).height


def test_listings_without_ids_are_linked_by_names_and_say_how(db: Database) -> None:
    frame = pl.DataFrame(
        rows("Pinnacle", "p1", "Manchester United", "Nottingham Forest")
        + rows("bet365", "b1", "Man Utd", "Nott'm Forest", tournament="EPL")
        + rows("William Hill", "w1", "MANCHESTER UTD", "NOTTINGHAM FOREST")
        + rows("Pinnacle", "p2", "Chelsea", "Everton")
    )
    result = one(load(frame, db=db, progress=False))
    assert result.new_events == 2
    assert result.linked == {"new": 2, "fuzzy": 1, "exact": 1}
    assert "listings linked to a match: 1 by exact, 1 by fuzzy" in str(result)
    links = fetch_links(db).sort("bookmaker")
    united = links.filter(pl.col("bookmaker_event_id") == "p1")["event_id"].item()
    assert links.filter(pl.col("event_id") == united)["bookmaker"].to_list() == [
        "Pinnacle",
        "William Hill",
        "bet365",
    ]
    history = fetch_odds_history(db, event_ids=united)
    assert history["bookmaker"].n_unique() == 3  # cross-bookmaker analytics see one match


def test_match_keys_link_across_loads_and_sources(db: Database) -> None:
    first = pl.DataFrame(
        rows("Pinnacle", "p1", "Arsenal", "Wolves", match_key="fx-42")
        + rows("bet365", "b1", "Arsenal FC", "Wolverhampton", match_key="fx-42")
    )
    assert one(load(first, db=db, progress=False)).linked == {"new": 1, "match_key": 1}
    # A later load of another source with the same key, under other spellings.
    later = pl.DataFrame(rows("1xBet", "x9", "The Gunners", "Wolves", match_key="fx-42"))
    assert one(load(later, db=db, progress=False)).linked == {"match_key": 1}
    assert matches(db) == 1


def test_aliases_and_hand_decisions_win_on_later_loads(db: Database) -> None:
    load(
        pl.DataFrame(rows("Pinnacle", "p1", "Tottenham Hotspur", "Everton")), db=db, progress=False
    )
    nickname = pl.DataFrame(rows("bet365", "b1", "Spurs", "Everton Toffees"))
    add_team_alias(db, "Spurs", "Tottenham Hotspur")
    add_team_alias(db, "Everton Toffees", "Everton")
    assert one(load(nickname, db=db, progress=False)).linked == {"alias": 1}
    assert matches(db) == 1
    own = unlink_listing(db, "bet365", "b1")
    load(
        nickname.with_columns(captured_at=pl.lit(EARLY + timedelta(minutes=5))),
        db=db,
        progress=False,
    )
    assert fetch_links(db, bookmakers="bet365")["event_id"].to_list() == [own]  # kept apart
    pinnacle = fetch_links(db, bookmakers="Pinnacle")["event_id"].item()
    link_listing(db, "bet365", "b1", pinnacle)
    load(
        nickname.with_columns(captured_at=pl.lit(EARLY + timedelta(minutes=9))),
        db=db,
        progress=False,
    )
    assert fetch_links(db, bookmakers="bet365").select("event_id", "link_method").rows() == [
        (pinnacle, "manual")
    ]


def test_names_spelled_in_another_case_are_one_sport_bookmaker_and_tournament(
    db: Database,
) -> None:
    load(pl.DataFrame(rows("Pinnacle", "p1", "Arsenal", "Chelsea")), db=db, progress=False)
    other = pl.DataFrame(
        rows("PINNACLE", "p2", "Everton", "Fulham", sport="Football", tournament="premier league")
    )
    result = one(load(other, db=db, progress=False))
    assert result.new_bookmakers == 0
    with db.engine.connect() as conn:
        counts = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM sports), (SELECT count(*) FROM bookmakers), "
                "(SELECT count(*) FROM tournaments)"
            )
        ).one()
    assert tuple(counts) == (1, 1, 1)
    assert fetch_odds_history(db, bookmakers="pinnacle")["bookmaker"].unique().to_list() == [
        "Pinnacle"
    ]


def test_markets_and_outcomes_are_stored_in_one_vocabulary(db: Database) -> None:
    frame = pl.DataFrame(
        rows("Pinnacle", "p1", "Arsenal", "Chelsea", market="1X2", outcomes=("1", "X", "2"))
        + rows(
            "bet365",
            "b1",
            "Arsenal",
            "Chelsea",
            market="h2h",
            outcomes=("Arsenal", "Draw", "Chelsea"),
        )
        + rows(
            "bet365",
            "b1",
            "Arsenal",
            "Chelsea",
            market="Total Corners",
            outcomes=("Over 9.5", "Under 9.5"),
        )
    )
    result = one(load(frame, db=db, progress=False))
    assert result.unknown_markets == ("Total Corners",)
    assert "markets kept as given, not in oddskit's vocabulary: Total Corners" in str(result)
    history = fetch_odds_history(db, markets="1x2")
    assert sorted(set(history["outcome"])) == ["away", "draw", "home"]
    assert history.height == 6
    wrong = pl.DataFrame(
        rows("Pinnacle", "p9", "Leeds", "Burnley", market="1x2", outcomes=("home", "over", "away"))
    )
    with pytest.raises(ValidationError, match="'over': is not an outcome of the 1x2 market"):
        load(wrong, db=db, progress=False)


def test_asian_handicap_books_become_home_lines_and_odd_ones_are_reported(db: Database) -> None:
    own_side = rows(
        "bet365",
        "b1",
        "Arsenal",
        "Chelsea",
        market="asian_handicap",
        outcomes=("home", "away", "home", "away"),
        lines=(-0.75, 0.75, -0.5, 0.5),
    )
    odd = rows(  # one line written each way: cannot be told apart, so reported
        "Pinnacle",
        "p1",
        "Arsenal",
        "Chelsea",
        market="AH",
        outcomes=("home", "away", "home", "away"),
        lines=(-0.75, 0.75, -0.5, -0.5),
    )
    result = one(load(pl.DataFrame(own_side + odd), db=db, progress=False))
    assert (result.handicap_converted, result.handicap_unpaired) == (1, 1)
    lines = (
        fetch_odds_history(db, bookmakers="bet365").group_by("outcome").agg(pl.col("line").sort())
    )
    assert dict(lines.iter_rows()) == {"home": [-0.75, -0.5], "away": [-0.75, -0.5]}
    assert "1 Asian-handicap books have a side missing" in str(result)


def test_rows_repeated_in_the_input_are_not_already_present(db: Database) -> None:
    frame = pl.DataFrame(rows("Pinnacle", "p1", "Arsenal", "Chelsea"))
    result = one(load(pl.concat([frame, frame.head(2)]), db=db, progress=False))
    assert (result.rows_loaded, result.rows_repeated, result.rows_present) == (3, 2, 0)
    assert "2 rows repeated others of the input (kept once)" in str(result)


def test_a_kickoff_rewritten_in_play_does_not_move_the_match(db: Database) -> None:
    scheduled = rows("Pinnacle", "p1", "Arsenal", "Chelsea", at=KICKOFF - timedelta(hours=1))
    in_play = rows(
        "Pinnacle",
        "p1",
        "Arsenal",
        "Chelsea",
        kickoff=KICKOFF + timedelta(minutes=3),
        at=KICKOFF + timedelta(minutes=10),
    )
    result = one(load(pl.DataFrame(scheduled + in_play), db=db, progress=False))
    assert result.kickoff_changes == 1
    assert fetch_events(db)["kickoff"].to_list() == [KICKOFF]
    moved = rows(  # a real reschedule, reported before the new kickoff
        "Pinnacle",
        "p1",
        "Arsenal",
        "Chelsea",
        kickoff=KICKOFF + timedelta(hours=2),
        at=KICKOFF + timedelta(minutes=30),
    )
    assert one(load(pl.DataFrame(moved), db=db, progress=False)).rescheduled_events == 1
    assert fetch_events(db)["kickoff"].to_list() == [KICKOFF + timedelta(hours=2)]


def test_generated_bookmakers_spelling_their_own_ways_link_into_the_true_matches(
    db: Database,
) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    sample = generate_sample(start=start, days=1, events_per_day=60, own_names=True, seed=3)
    load(sample, db=db, progress=False)
    # The generator's truth: each bookmaker's event id encodes the match's number.
    truth = (
        sample.select("bookmaker", "bookmaker_event_id")
        .unique()
        .with_columns(
            match=pl.struct("bookmaker", "bookmaker_event_id").map_elements(
                lambda r: (
                    (int(r["bookmaker_event_id"]) - BOOKMAKERS[r["bookmaker"]].id_base)
                    // BOOKMAKERS[r["bookmaker"]].id_stride
                ),
                return_dtype=pl.Int64,
            )
        )
    )
    links = fetch_links(db).join(truth, on=["bookmaker", "bookmaker_event_id"])
    per_match = links.group_by("event_id").agg(pl.col("match").n_unique())
    assert per_match["match"].max() == 1  # no false link
    # A listing is found when it is in the match that holds most of its match's listings.
    main = links.group_by("match", "event_id").len().sort("len", descending=True)
    main = main.unique("match", keep="first").select("match", "event_id")
    found = links.join(main, on=["match", "event_id"]).height
    assert found / links.height >= 0.99


def test_declared_handicap_lines_are_followed(db: Database) -> None:
    book = rows(
        "bet365",
        "b1",
        "Arsenal",
        "Chelsea",
        market="asian_handicap",
        outcomes=("home", "away"),
        lines=(-0.25, -0.25),
    )
    load(pl.DataFrame(book), db=db, progress=False, handicap_lines="own")
    lines = dict(fetch_odds_history(db).select("outcome", "line").iter_rows())
    assert lines == {"home": -0.25, "away": 0.25}  # each side's own: away +0.25 is home -0.25
    with pytest.raises(Exception, match="`handicap_lines` must be one of"):
        load(pl.DataFrame(book), db=db, progress=False, handicap_lines="theirs")
