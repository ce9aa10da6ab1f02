"""Database resolution, the embedded server, UTC sessions and password masking."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import adbc_driver_manager as adbc_errors
import pytest

import oddskit
from oddskit.connection import Database, connect
from oddskit.errors import ConfigurationError, DatabaseError
from oddskit.urls import mask_url, resolve_url

SECRET = "Sup3r-s3cret_pw"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("ODDSKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return monkeypatch


def test_resolution_order(clean_env: pytest.MonkeyPatch) -> None:
    assert resolve_url(None) == (None, "embedded")
    clean_env.setenv("DATABASE_URL", "postgresql://c@h/c")
    assert resolve_url(None) == ("postgresql://c@h/c", "DATABASE_URL")
    clean_env.setenv("ODDSKIT_DATABASE_URL", "postgresql://b@h/b")
    assert resolve_url(None) == ("postgresql://b@h/b", "ODDSKIT_DATABASE_URL")
    assert resolve_url("postgresql://a@h/a") == ("postgresql://a@h/a", "argument")


def test_environment_url_is_used_by_connect(
    clean_env: pytest.MonkeyPatch, system_admin_url: str
) -> None:
    clean_env.setenv("DATABASE_URL", system_admin_url)
    with connect() as db:
        assert db.source == "DATABASE_URL"
        assert int(db.check()) >= 150000


def test_password_masked_in_repr_description_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://ana:{SECRET}@db.example.com:5432/odds"
    caplog.set_level(logging.INFO, logger="oddskit")
    db = connect(url)
    assert SECRET not in repr(db)
    assert SECRET not in db.description
    assert "ana:***@db.example.com" in repr(db)
    assert SECRET not in caplog.text
    assert "db.example.com" in caplog.text
    assert mask_url(url) == "postgresql://ana:***@db.example.com:5432/odds"


def test_password_masked_in_connection_errors() -> None:
    db = Database(f"postgresql://ana:{SECRET}@127.0.0.1:1/odds")
    with pytest.raises(DatabaseError) as info:
        db.check()
    assert SECRET not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)
    with pytest.raises(DatabaseError) as info, db.adbc():
        pass
    assert SECRET not in str(info.value)


def test_password_masked_in_server_errors(system_admin_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(system_admin_url).set(password=SECRET, database="no_such_db_oddskit")
    db = Database(url.render_as_string(hide_password=False))
    with pytest.raises(DatabaseError) as info:
        db.check()
    assert "no_such_db_oddskit" in str(info.value)
    assert SECRET not in str(info.value)


def test_rejects_non_postgres_and_accepts_postgres_scheme() -> None:
    with pytest.raises(ConfigurationError, match="needs PostgreSQL"):
        Database("mysql://a:b@h/d")
    db = Database("postgres://a@h/d")
    assert db.libpq_url.startswith("postgresql://")


@pytest.mark.parametrize("server", ["embedded", "system"])
def test_engine_and_adbc_sessions_run_in_utc(make_database, server: str) -> None:
    db = make_database(server)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TimeZone").scalar_one() == "UTC"
    with db.adbc() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting('TimeZone') AS tz")
        assert cur.fetchone() == ("UTC",)
        cur.execute("SELECT 41 + 1 AS answer")
        assert cur.fetch_arrow_table().to_pydict() == {"answer": [42]}


def _backend_state(db: Database, pid: int) -> str | None:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT state FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": pid}
        ).scalar_one_or_none()


def test_adbc_reader_is_reused_and_holds_no_transaction(make_database) -> None:
    db = make_database("system")
    with db.adbc_reader() as first, first.cursor() as cur:
        cur.execute(
            "SELECT pg_backend_pid() AS pid, current_setting('TimeZone') AS tz, "
            "current_setting('jit') AS jit"
        )
        pid, tz, jit = cur.fetchone()
    assert (tz, jit) == ("UTC", "off")
    with db.adbc_reader() as second, second.cursor() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        assert cur.fetchone() == (pid,)  # the same server session: no new connection
    assert second is first
    # Autocommit: between calls the session is idle, not "idle in transaction" holding
    # locks that would block partition maintenance.
    assert _backend_state(db, pid) == "idle"
    db.close()
    assert _backend_state(db, pid) is None  # closed with the Database


def test_adbc_reader_nested_use_gets_its_own_connection(make_database) -> None:
    db = make_database("embedded")
    with db.adbc_reader() as outer, db.adbc_reader() as inner:
        assert inner is not outer
        with outer.cursor() as a, inner.cursor() as b:
            a.execute("SELECT pg_backend_pid() AS pid")
            b.execute("SELECT pg_backend_pid() AS pid")
            assert a.fetchone() != b.fetchone()
    with db.adbc_reader() as again:
        assert again is outer  # the shared one is still the shared one


def test_adbc_reader_recovers_after_an_error(make_database) -> None:
    db = make_database("system")
    with db.adbc_reader() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        (pid,) = cur.fetchone()
    with db.engine.connect() as admin:
        admin.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": pid})
    with (
        pytest.raises(adbc_errors.OperationalError),
        db.adbc_reader() as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT 1 AS one")
        cur.fetchall()
    with db.adbc_reader() as conn, conn.cursor() as cur:  # a new connection, working
        cur.execute("SELECT pg_backend_pid() AS pid")
        assert cur.fetchone() != (pid,)


def test_close_disposes_engine(make_database) -> None:
    db = make_database("embedded")
    with db:
        first = db.engine
        with first.connect():
            pass
    assert first.pool.checkedin() == 0
    assert db.engine is not first  # a new engine after close


def test_embedded_default_keeps_data_between_processes(tmp_path: Path) -> None:
    """Two separate processes with no URL anywhere use the same embedded database."""
    env = {k: v for k, v in os.environ.items() if k not in ("ODDSKIT_DATABASE_URL", "DATABASE_URL")}
    env["ODDSKIT_HOME"] = str(tmp_path / "home")
    write = (
        "import oddskit\n"
        "db = oddskit.connect()\n"
        "print(db.source)\n"
        "with db.engine.begin() as conn:\n"
        "    conn.exec_driver_sql('CREATE TABLE kept (x int)')\n"
        "    conn.exec_driver_sql('INSERT INTO kept VALUES (7)')\n"
    )
    read = (
        "import oddskit\n"
        "with oddskit.connect().engine.connect() as conn:\n"
        "    print(conn.exec_driver_sql('SELECT x FROM kept').scalar_one())\n"
    )
    first = subprocess.run([sys.executable, "-c", write], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "embedded"
    second = subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "7"
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()


def test_public_api_is_importable() -> None:
    for name in oddskit.__all__:
        assert getattr(oddskit, name) is not None
