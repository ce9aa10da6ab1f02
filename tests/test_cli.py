"""The command line: exact output, exit codes, masked passwords, help for every command."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database

runner = CliRunner()


def run(db: Database, *args: str):
    return runner.invoke(app, ["--database-url", db.libpq_url, *args])


@pytest.mark.parametrize(
    ("server", "backend"),
    [("embedded", "native"), pytest.param("system", "pg_partman", marks=pytest.mark.partman)],
)
def test_migrate_then_partitions(make_database, server: str, backend: str) -> None:
    db = make_database(server)
    result = run(db, "migrate")
    assert result.exit_code == 0, result.output
    assert "Schema at revision 0005 (head 0005)" in result.output
    assert f"Partition backend: {backend}" in result.output
    result = run(db, "partitions")
    assert result.exit_code == 0, result.output
    assert f"Backend: {backend}   premake: 4 days   retention: 30 days" in result.output
    today = datetime.now(timezone.utc).date()
    for i in range(5):
        day = today + timedelta(days=i)
        assert f"odds_snapshots_p{day:%Y_%m_%d}" in result.output
        assert f"market_odds_p{day:%Y_%m_%d}" in result.output
    assert "WARNING" not in result.output


def test_maintain_policy_and_their_errors(make_database) -> None:
    db = make_database("embedded")
    assert run(db, "migrate").exit_code == 0
    result = run(db, "maintain")
    assert result.exit_code == 0, result.output
    assert "Created 0 partitions" in result.output and "Dropped 0 partitions" in result.output
    result = run(db, "policy", "--retention-days", "none", "--premake-days", "6")
    assert result.exit_code == 0, result.output
    assert "premake: 6 days   retention: none" in result.output
    result = run(db, "maintain", "--now", "2026-01-01T00:00:00")
    assert result.exit_code == 1
    assert "naive" in result.output
    result = run(db, "policy", "--retention-days", "soon")
    assert result.exit_code == 1
    assert "whole number of days or 'none'" in result.output


def test_partitions_warns_about_rows_in_a_default_partition(make_database) -> None:
    db = make_database("system")
    assert run(db, "migrate", "--backend", "partman").exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE odds_snapshots_default PARTITION OF odds_snapshots DEFAULT")
        )
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
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) "
                "VALUES (1, 1, now() + interval '300 days')"
            )
        )
    result = run(db, "partitions")
    assert result.exit_code == 0
    assert "WARNING: 1 rows sit in the default partition odds_snapshots_default" in result.output


def test_errors_are_one_line_with_the_password_masked() -> None:
    url = "postgresql://ana:Sup3rSecret@127.0.0.1:1/odds"
    result = runner.invoke(app, ["--database-url", url, "migrate"])
    assert result.exit_code == 1
    assert "Sup3rSecret" not in result.output
    assert "Error: Cannot connect to postgresql://ana:***@127.0.0.1:1/odds" in result.output
    assert "Traceback" not in result.output


def test_partitions_on_an_empty_database_says_what_to_do(make_database) -> None:
    result = run(make_database("embedded"), "partitions")
    assert result.exit_code == 1
    assert "Run `oddskit migrate` first" in result.output


@pytest.mark.parametrize("command", [[], ["migrate"], ["partitions"], ["maintain"], ["policy"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
