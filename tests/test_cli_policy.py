"""The partition commands of the command line: versions, retention that asks first."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database
from oddskit.partitions import day_bounds, ensure_partitions, get_policy, list_partitions

runner = CliRunner()


def run(db: Database, *args: str):
    return runner.invoke(app, ["--database-url", db.libpq_url, *args])


@pytest.mark.parametrize(
    ("server", "backend", "shown"),
    [
        ("embedded", "native", "native"),
        pytest.param("system", "partman", "pg_partman 4.7.2", marks=pytest.mark.partman),
        pytest.param("system", "partman5", "pg_partman 5.1.0", marks=pytest.mark.partman),
    ],
)
def test_migrate_and_partitions_name_the_server_and_pg_partman_versions(
    make_database, server: str, backend: str, shown: str
) -> None:
    db = make_database(server, partman5=backend == "partman5")
    backend = backend.removesuffix("5")
    with db.engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
    result = run(db, "migrate", "--backend", backend)
    assert result.exit_code == 0, result.output
    assert f"Server: PostgreSQL {version}\n" in result.output
    assert f"Partition backend: {shown}\n" in result.output
    result = run(db, "partitions")
    assert result.exit_code == 0, result.output
    partman = f", {shown}" if shown != "native" else ""
    assert f"Server: PostgreSQL {version}{partman}\n" in result.output


def test_policy_says_what_a_retention_drops_and_waits_for_yes(make_database) -> None:
    db = make_database("embedded")
    assert run(db, "migrate").exit_code == 0
    assert run(db, "policy", "--retention-days", "none").exit_code == 0
    today = day_bounds(datetime.now(timezone.utc))[0]
    ensure_partitions(db, today - timedelta(days=20), today)
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sports (name) VALUES ('Football')"))
        conn.execute(sa.text("INSERT INTO tournaments (sport_id, name) VALUES (1, 'NPFL')"))
        conn.execute(sa.text("INSERT INTO bookmakers (name) VALUES ('betPawa')"))
        conn.execute(
            sa.text(
                "INSERT INTO events (tournament_id, home_team, away_team, kickoff) "
                "VALUES (1, 'A', 'B', now())"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) VALUES (1, 1, :t)"
            ),
            {"t": today - timedelta(days=19, hours=-3)},
        )
    before = list_partitions(db)

    result = run(db, "policy", "--retention-days", "10")
    assert result.exit_code == 1
    assert re.search(
        r"Error: A retention of 10 days drops 2\d partitions \(\S+ to \S+ UTC\) holding 1 rows "
        r"\(1 snapshots, 0 prices\) at the next maintenance\. Nothing was changed\. To go ahead: "
        r"`oddskit policy --retention-days 10 --yes`",
        result.output,
    ), result.output
    assert "Traceback" not in result.output
    assert get_policy(db).retention_days is None and list_partitions(db) == before

    result = run(db, "policy", "--retention-days", "10", "--yes")
    assert result.exit_code == 0, result.output
    assert "premake: 4 days   retention: 10 days" in result.output
    dropped = re.search(
        r"Dropped (\d+) partitions: (\S+), …, (\S+) \((\d+) transactions\)", result.output
    )
    assert dropped, result.output
    assert int(dropped[1]) == len(before) - len(list_partitions(db)) >= 18
    assert dropped[2] == f"market_odds_p{today - timedelta(days=20):%Y_%m_%d}"
