"""The command line: exact output, exit codes, masked passwords, help for every command."""

from __future__ import annotations

import glob
import io
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import rich
import sqlalchemy as sa
from rich.console import Console
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database
from oddskit.sample import write_sample
from oddskit.schema import head_revision

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
    head = head_revision()
    assert f"Schema at revision {head} (head {head})" in result.output
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


def test_version_is_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert result.output == f"oddskit {project['project']['version']}\n"


def test_markup_in_an_error_message_is_printed_as_it_is() -> None:
    result = runner.invoke(app, ["maintain", "--now", "[/x] [bold]soon"])
    assert result.exit_code == 1
    assert "got '[/x] [bold]soon'" in result.output
    assert result.output.startswith("Error: --now must be an ISO 8601 time")


def test_markup_in_a_source_file_name_is_printed_as_it_is(
    make_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_database("embedded")
    assert run(db, "migrate").exit_code == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "[bold]odds[").mkdir()
    name = "[bold]odds[/x].csv"  # the folder "[bold]odds[" and the file "x].csv"
    write_sample(name, days=1, events_per_day=1, seed=4)
    lines = Path(name).read_text().splitlines()
    Path(name).write_text("\n".join([*lines[:5], lines[5].rsplit(",", 1)[0] + ",[/x]"]) + "\n")
    # glob.escape: today's loader reads '[' as a glob (issue 9 item 4 changes that)
    result = run(db, "load", "-q", glob.escape(name))
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1
    assert f"Error: {name}: 1 problem" in result.output
    assert "[/x]" in result.output.split(f"Error: {name}")[1]  # the bad value, listed
    result = run(db, "load", "-q", "--on-error", "skip", glob.escape(name))
    assert result.exit_code == 0, result.output
    summary = result.output.splitlines()[1]
    assert summary.startswith(f"{name}: 5 rows read, 4 new") and "1 rejected" in summary
    result = run(db, "loads")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert name in result.output


def test_a_server_error_is_one_line_that_says_what_to_do(make_database) -> None:
    result = run(make_database("system"), "policy")
    assert result.exit_code == 1
    assert result.output.splitlines()[1] == (
        'Error: the database refused an operation: relation "partition_policies" does not '
        "exist. Is the oddskit schema there? Run `oddskit migrate` first."
    )


def test_a_lost_connection_is_one_line(make_database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real ADBC OperationalError: the server ends the session during the command."""

    def terminated(db: Database, **_: object) -> None:
        with db.adbc() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            cur.fetchall()

    monkeypatch.setattr("oddskit.partitions.maintain", terminated)
    result = run(make_database("system"), "maintain")
    assert result.exit_code == 1
    (error,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: the database connection failed: ")
    assert "terminating connection due to administrator command" in error
    assert "run the command again" in error
    assert "Traceback" not in result.output


def test_an_unexpected_error_says_so_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(db: Database, **_: object) -> None:
        raise KeyError("[/x] [bold]key")

    monkeypatch.setattr("oddskit.partitions.maintain", broken)
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    result = runner.invoke(app, ["-d", url, "maintain"])
    assert result.exit_code == 1
    assert result.output.splitlines()[1] == (
        "Error: unexpected KeyError: '[/x] [bold]key'. This is a bug in oddskit: run the "
        "command again with --debug (or ODDSKIT_DEBUG=1) to see the traceback, and report it."
    )
    assert "Traceback" not in result.output
    monkeypatch.setenv("ODDSKIT_DEBUG", "1")
    result = runner.invoke(app, ["-d", url, "maintain"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output
    assert "in broken" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Error: unexpected KeyError")


def test_a_file_error_is_one_line() -> None:
    result = runner.invoke(app, ["sample", "/proc/odds.csv"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: No such file or directory: /proc/odds.csv")
    assert "Traceback" not in result.output


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("oddskit.partitions.maintain", interrupted)
    result = runner.invoke(app, ["-d", "postgresql://postgres@127.0.0.1:5432/postgres", "maintain"])
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == "Interrupted."


def test_the_progress_bar_prints_a_file_name_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from oddskit.load_steps import progress_bar as _progress

    screen = io.StringIO()
    terminal = Console(force_terminal=True, file=screen, width=100)
    monkeypatch.setattr(rich, "_console", terminal)  # what Progress() draws on
    with _progress(True, "[/x] [bold]odds.csv", 3) as advance:
        advance(3)
    assert "[/x] [bold]odds.csv rows" in screen.getvalue()
