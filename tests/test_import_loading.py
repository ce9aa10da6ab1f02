"""Imported public formats, loaded: prices come back as the files give them, and two
sources of the same fixtures end as one match per fixture."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database
from oddskit.football_data import read_football_data
from oddskit.links import fetch_links
from oddskit.loading import load
from oddskit.odds_api import read_odds_api
from oddskit.queries import fetch_closing_odds, fetch_events, fetch_opening_odds
from oddskit.schema import migrate

DATA = Path(__file__).parent / "data"
E0 = DATA / "football_data" / "E0_2425.csv"
LIVE = DATA / "odds_api" / "epl_live.json"


@pytest.fixture
def db(make_database) -> Database:
    database = make_database("embedded")
    migrate(database)
    return database


def run(db: Database, *args: str) -> str:
    done = CliRunner().invoke(app, ["--database-url", db.libpq_url, *args])
    assert done.exit_code == 0, done.output
    return done.output


def priced(frame: pl.DataFrame, events: pl.DataFrame) -> dict[tuple, float]:
    named = frame.join(events.select("event_id", "home_team", "away_team"), on="event_id")
    return {
        (r["bookmaker"], r["home_team"], r["market"], r["line"], r["outcome"]): r["odds"]
        for r in named.iter_rows(named=True)
    }


def test_a_football_data_season_round_trips_opening_and_closing(db: Database) -> None:
    output = run(db, "import", "football-data", "-q", str(E0))
    assert f"{E0}: 855 rows read, 855 new" in output
    assert "written to the archive" in output
    frame = read_football_data(E0)
    events = fetch_events(db)
    assert events.height == 13  # one match per row of the file, every bookmaker linked
    opening_at = frame.group_by("match_key").agg(pl.col("captured_at").min())
    for fetch, pick in ((fetch_opening_odds, "min"), (fetch_closing_odds, "max")):
        # Each bookmaker's first (last) snapshot of each match: where a book has no
        # opening price in the file, its first snapshot is its closing one.
        expected = frame.filter(
            pl.col("captured_at")
            == getattr(pl.col("captured_at"), pick)().over("match_key", "bookmaker")
        )
        got = priced(fetch(db), events)
        want = {
            (r["bookmaker"], r["home_team"], r["market"], r["line"], r["outcome"]): r["odds"]
            for r in expected.iter_rows(named=True)
        }
        assert got == want
    assert opening_at.height == 13
    run(db, "import", "football-data", "-q", str(E0))  # again: nothing new
    assert fetch_events(db).height == 13


def test_two_sources_of_the_same_fixtures_end_as_one_match_each(db: Database) -> None:
    load(read_football_data(E0), db=db, progress=False, to="archive", source_name=str(E0))
    (result,) = load(read_odds_api(LIVE), db=db, progress=False, to="archive").results
    assert result.new_events == 0  # every odds-API event found its football-data match
    events = fetch_events(db)
    assert events.height == 13
    links = fetch_links(db)
    # Pinnacle and William Hill come through both sources: one bookmaker each, two
    # listings of each shared match.
    books = links.group_by("bookmaker").agg(pl.col("event_id").n_unique(), pl.len())
    shared = dict(books.select("bookmaker", "len").iter_rows())
    assert shared["Pinnacle"] == 13 + 10 and shared["William Hill"] == 13 + 10
    united = events.filter(pl.col("home_team") == "Man United")["event_id"].first()
    assert set(links.filter(pl.col("event_id") == united)["home_team"]) == {
        "Man United",
        "Manchester United",
    }
    # No false link: each match's listings name the same fixture.
    per_match = links.group_by("event_id").agg(pl.col("kickoff").n_unique())
    assert per_match["kickoff"].max() == 1
    assert set(links["link_method"]) <= {"new", "match_key", "exact", "fuzzy"}


def test_odds_api_snapshots_load_and_repeat_nothing(db: Database) -> None:
    snapshots = sorted((DATA / "odds_api").glob("historical_*.json"))
    output = run(db, "import", "odds-api", "-q", "--to", "archive", *map(str, snapshots))
    assert output.count("rows read") == 2
    closing = fetch_closing_odds(db, bookmakers="Pinnacle", markets="asian_handicap")
    assert closing.height and closing["line"].n_unique() <= 3
    again = run(db, "import", "odds-api", "-q", "--to", "archive", *map(str, snapshots))
    assert " 0 new" in again


def test_importing_several_files_reports_each_one_and_archives_the_good_ones(
    db: Database, tmp_path: Path
) -> None:
    old = DATA / "football_data" / "E0_0506.csv"
    broken = tmp_path / "E0_broken.csv"
    broken.write_text("Div,Date,HomeTeam,AwayTeam\nE0,not a date,Arsenal,Chelsea\n")
    files = [str(E0), str(broken), str(old)]
    done = CliRunner().invoke(
        app, ["--database-url", db.libpq_url, "import", "football-data", "-q", *files]
    )
    assert done.exit_code == 1, done.output
    new = {path: read_football_data(path).height for path in (E0, old)}
    for path, rows in new.items():  # both good files committed, each reported
        assert f"{path}: {rows:,} rows read, {rows:,} new" in done.output
    assert "2 of 3 sources loaded: 2 committed, 1 refused." in done.output
    assert f"refused    {broken}" in done.output
    assert fetch_events(db).height == 13 + read_football_data(old)["match_key"].n_unique()
