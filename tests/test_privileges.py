"""Least privilege on the system server: the owner/migrator, the loader, the analyst.

The roles get exactly the statements of the README's "Roles and privileges" section
(with unique names, so that parallel runs do not collide): if the README's grants are
not enough, or too much, these tests say so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

import oddskit
from oddskit.cli import app
from oddskit.connection import Database
from oddskit.errors import ConfigurationError, OddskitError, PartitionError
from oddskit.partitions import detect_backend, ensure_partitions, list_partitions, maintain
from oddskit.sample import generate_sample
from oddskit.schema import BackendNotice, downgrade, migrate

pytestmark = pytest.mark.partman

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SECTION = README.split("### Roles and privileges", 1)[1].split("\n## ", 1)[0]
#: The README's three SQL blocks: roles and database; pg_partman; the owner's grants.
ROLES_SQL, PARTMAN_SQL, GRANTS_SQL = re.findall(r"```sql\n(.*?)```", SECTION, flags=re.DOTALL)


@dataclass
class Cluster:
    """One database owned by a non-superuser, and a connection per role."""

    admin_url: str  # superuser, connected to the new database
    owner: Database
    loader: Database
    analyst: Database
    names: dict[str, str]


def noon_days_ago(days: int) -> datetime:
    """Noon UTC ``days`` ago, so a one-hour range never crosses midnight whatever the clock."""
    day = (datetime.now(UTC) - timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def statements(block: str, names: dict[str, str]) -> list[str]:
    """The statements of a README block, with the roles and database renamed."""
    text = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("--"))
    for old, new in names.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return [part.strip() for part in text.split(";") if part.strip()]


def run(url: str, block: str, names: dict[str, str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements(block, names):
            conn.execute(statement)  # type: ignore[arg-type]


def as_role(url: str, role: str | None = None, database: str | None = None) -> str:
    parsed = make_url(url)
    if role:
        parsed = parsed.set(username=role, password=None)
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def cluster(system_admin_url: str) -> Iterator[Cluster]:
    """README step 1: three roles and a database owned by the (non-superuser) owner."""
    prefix = f"oddskit_t{uuid.uuid4().hex[:10]}"
    names = {
        "odds_owner": f"{prefix}_owner",
        "odds_loader": f"{prefix}_loader",
        "odds_analyst": f"{prefix}_analyst",
        "odds": prefix,
    }
    run(system_admin_url, ROLES_SQL, names)
    admin = as_role(system_admin_url, database=prefix)
    found = Cluster(
        admin,
        *(
            Database(as_role(system_admin_url, names[role], prefix))
            for role in ("odds_owner", "odds_loader", "odds_analyst")
        ),
        names=names,
    )
    try:
        yield found
    finally:
        for db in (found.owner, found.loader, found.analyst):
            db.close()
        with psycopg.connect(system_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(prefix)))
            for role in ("odds_owner", "odds_loader", "odds_analyst"):
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(names[role])))


def install_partman(cluster: Cluster, version: str | None) -> None:
    """README step 2, with pg_partman ``version`` (None: the server's default)."""
    if version:
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_available_extension_versions "
                "WHERE name = 'pg_partman' AND version = %s",
                (version,),
            ).fetchone():
                pytest.skip(f"pg_partman {version} is not installed (make system-deps)")
            conn.execute("CREATE SCHEMA IF NOT EXISTS partman")
            conn.execute(
                sql.SQL("CREATE EXTENSION pg_partman SCHEMA partman VERSION {}").format(
                    sql.Literal(version)
                )
            )
    run(cluster.admin_url, PARTMAN_SQL, cluster.names)


def test_migrate_as_the_database_owner_falls_back_to_native(cluster: Cluster) -> None:
    result = cli(cluster.owner, "migrate")
    assert result.exit_code == 0, result.output
    notices = [line for line in result.output.splitlines() if line.startswith("Notice:")]
    assert len(notices) == 1, result.output
    assert "may not create the pg_partman extension" in notices[0]
    assert "using the native partition backend" in notices[0]
    assert "Partition backend: native" in result.output
    with cluster.owner.engine.connect() as conn:
        assert detect_backend(conn) == "native"
    # In Python: through `notify`, else as a warning.
    downgrade(cluster.owner)
    said: list[str] = []
    assert migrate(cluster.owner, notify=said.append) == oddskit.schema.head_revision()
    assert said == [notices[0].removeprefix("Notice: ")]
    downgrade(cluster.owner)
    with pytest.warns(BackendNotice, match="using the native partition backend"):
        migrate(cluster.owner)
    assert maintain(cluster.owner).backend == "native"
    # Insisting on pg_partman says what a superuser must run.
    downgrade(cluster.owner)
    result = cli(cluster.owner, "migrate", "--backend", "partman")
    assert result.exit_code == 1
    assert "Error: backend=partman: role" in result.output
    assert "CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;" in result.output


@pytest.mark.parametrize("version", [None, "5.1.0"], ids=["partman-default", "partman5"])
def test_partman_for_the_owner_takes_exactly_the_commands_it_names(
    cluster: Cluster, version: str | None
) -> None:
    if version:  # a superuser created pg_partman 5.1 in the database, without grants
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA partman")
            conn.execute(
                sql.SQL("CREATE EXTENSION pg_partman SCHEMA partman VERSION {}").format(
                    sql.Literal(version)
                )
            )
    with pytest.raises(ConfigurationError) as refused:
        migrate(cluster.owner, backend="partman")
    message = str(refused.value)
    assert "\n" not in message and oddskit.schema.current_revision(cluster.owner) is None
    commands = message.split(" run: ", 1)[1].split(" Then run", 1)[0]
    assert "GRANT ALL ON SCHEMA partman TO" in commands
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        for statement in commands.split(";"):
            if statement.strip():
                conn.execute(statement)  # type: ignore[arg-type]
    migrate(cluster.owner, backend="partman")
    with cluster.owner.engine.connect() as conn:
        assert detect_backend(conn) == "pg_partman"
    # The owner keeps the partitions: history, retention, and it can remove it all.
    old = noon_days_ago(40)  # noon: the hour after it stays on the same day
    assert ensure_partitions(cluster.owner, old, old + timedelta(hours=1))
    report = maintain(cluster.owner)
    assert report.backend == "pg_partman" and len(report.dropped) == 2
    assert downgrade(cluster.owner) is None
    assert migrate(cluster.owner, backend="partman") == oddskit.schema.head_revision()


@pytest.mark.parametrize("backend", ["native", "partman", "partman5"])
def test_the_loader_loads_and_the_analyst_only_reads(cluster: Cluster, backend: str) -> None:
    if backend != "native":
        install_partman(cluster, "5.1.0" if backend == "partman5" else None)
    migrate(cluster.owner, backend="native" if backend == "native" else "partman")
    run(cluster.owner.libpq_url, GRANTS_SQL, cluster.names)

    # The loader loads two past days, which need new partitions.
    past = generate_sample(start=datetime.now(UTC) - timedelta(days=6), days=2, events_per_day=3)
    report = oddskit.load(past, db=cluster.loader, progress=False)
    assert report.rows_loaded == past.height
    days = {d.strftime("%Y%m%d") for d in past["captured_at"].dt.date().unique()}
    made = {
        name.rsplit("_p", 1)[1].replace("_", "") for name in report.results[0].partitions_created
    }
    assert days <= made
    assert oddskit.load(past, db=cluster.loader, progress=False).rows_loaded == 0
    # ... but creates no partition the policy would not keep, drops nothing, sets nothing.
    too_old = noon_days_ago(45)
    with pytest.raises(PartitionError, match="may create daily partitions only for"):
        ensure_partitions(cluster.loader, too_old, too_old + timedelta(hours=1))
    ensure_partitions(cluster.owner, too_old, too_old + timedelta(hours=1))  # the owner may
    kept = cli(cluster.loader, "maintain")
    assert kept.exit_code == 0, kept.output
    assert "Dropped 0 partitions" in kept.output
    assert re.search(r"Notice: 2 partitions are past .* run `oddskit maintain` as", kept.output)
    with pytest.raises(PartitionError, match="may not change the partition policy"):
        oddskit.set_policy(cluster.loader, retention_days=60)
    assert_refused(lambda: downgrade(cluster.loader))

    # The analyst runs every query helper ...
    events = oddskit.fetch_events(cluster.analyst)
    run_id = int(oddskit.fetch_load_runs(cluster.analyst)["run_id"][0])
    since, until = past["captured_at"].min(), past["captured_at"].max()
    calls = {
        "fetch_events": {},
        "fetch_odds_history": {"event_ids": events["event_id"].to_list()},
        "fetch_latest_odds": {},
        "fetch_opening_odds": {},
        "fetch_closing_odds": {},
        "fetch_coverage": {"since": since, "until": until},
        "fetch_gaps": {"since": since, "until": until},
        "fetch_load_runs": {},
        "fetch_run_errors": {"run_id": run_id},
    }
    assert set(calls) == {name for name in oddskit.__all__ if name.startswith("fetch_")}
    for name, arguments in calls.items():
        frame = getattr(oddskit, name)(cluster.analyst, **arguments)
        assert name == "fetch_run_errors" or frame.height > 0, name
    assert sum(p.rows for p in list_partitions(cluster.analyst)) > 0
    # ... and nothing else: no load, no partitions, no policy, no DDL.
    before = oddskit.fetch_load_runs(cluster.analyst).height
    fresh = generate_sample(start=datetime.now(UTC) - timedelta(days=3), days=1, events_per_day=2)
    assert_refused(lambda: oddskit.load(fresh, db=cluster.analyst, progress=False))
    assert_refused(lambda: ensure_partitions(cluster.analyst, too_old, too_old + timedelta(days=2)))
    assert_refused(lambda: oddskit.set_policy(cluster.analyst, premake_days=6))
    assert_refused(lambda: downgrade(cluster.analyst))
    assert oddskit.fetch_load_runs(cluster.analyst).height == before
    result = cli(cluster.analyst, "maintain")
    assert (
        result.exit_code == 1
        and "Error: Role" in result.output
        and "Traceback" not in (result.output)
    )


def cli(db: Database, *args: str):
    return CliRunner().invoke(app, ["--database-url", db.libpq_url, *args])


def assert_refused(action) -> None:
    """``action`` fails with a one-line oddskit error that says permission was refused."""
    with pytest.raises(OddskitError) as refused:
        action()
    message = str(refused.value)
    assert "\n" not in message
    assert re.search(r"permission denied|may not|must be owner", message), message
