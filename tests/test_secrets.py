"""No password is ever printed, in any URL form, through any output path.

A role with a sentinel password on the system server, reached through each accepted form
(password in the user info, in the query, in libpq key=value settings, as ``sslpassword``
with a ``passfile``, and from ``$PGPASSWORD``). Every CLI command and its errors, reprs,
exceptions, DEBUG logs of every logger and the lineage rows a load writes are searched for
the password (raw, percent-encoded, and its first half). The system server trusts
127.0.0.1, so a wrong password would still connect: the failure paths use a refused port,
a missing database and a role that may not log in.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from oddskit.cli import app
from oddskit.connection import Database, connect
from oddskit.errors import ConfigurationError, DatabaseError
from oddskit.sample import write_sample
from oddskit.urls import mask_secrets, mask_url

SECRET = "Sentinel-Pw@7x z"  # '@' and a space: URL forms must percent-encode it
LEAKS = (SECRET, quote(SECRET, safe=""), quote_plus(SECRET), "Sentinel-Pw", "7x z")
HOST = "127.0.0.1:5432"
runner = CliRunner()


def assert_clean(text: str, where: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{where} shows the password ({leak!r}):\n{text}"


@dataclass
class Role:
    name: str
    database: str
    passfile: Path


@pytest.fixture
def role(system_admin_url: str, tmp_path: Path) -> Iterator[Role]:
    """A login role with the sentinel password, owning a new empty database."""
    suffix = uuid.uuid4().hex[:10]
    name, database = f"oddskit_secret_{suffix}", f"oddskit_test_secret_{suffix}"
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:5432:*:{name}:{SECRET}\n")
    passfile.chmod(0o600)
    with psycopg.connect(system_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(SECRET)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(name)
            )
        )
    yield Role(name, database, passfile)
    with psycopg.connect(system_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


ENCODED = quote(SECRET, safe="")
FORMS = {
    "userinfo": "postgresql://{role}:" + ENCODED + "@{host}/{db}",
    "query": "postgresql://{role}@{host}/{db}?password=" + ENCODED + "&sslmode=disable",
    "keyword": "host={h} port={p} user={role} password='" + SECRET + "' dbname={db}",
    "sqlalchemy": "postgresql+psycopg://{role}:" + ENCODED + "@{host}/{db}",
    "sslpassword-passfile": "postgresql://{role}@{host}/{db}?sslpassword="
    + ENCODED
    + "&passfile={passfile}",
    "PGPASSWORD": "postgresql://{role}@{host}/{db}",
}


def url_for(form: str, role: Role, *, host: str = HOST, db: str | None = None) -> str:
    h, p = host.split(":")
    return FORMS[form].format(
        role=role.name, host=host, h=h, p=p, db=db or role.database, passfile=role.passfile
    )


@pytest.fixture(params=list(FORMS))
def form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("ODDSKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if request.param == "PGPASSWORD":
        monkeypatch.setenv("PGPASSWORD", SECRET)
    return request.param


def cli(url: str, *args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["--database-url", url, *map(str, args)])
    return result.exit_code, result.output


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.csv"
    write_sample(good, days=1, events_per_day=2, seed=5)
    lines = good.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:20], lines[20].rsplit(",", 1)[0] + ",0.5"]) + "\n")
    return {"good": good, "bad": bad, "sample": tmp_path / "written.csv"}


def test_no_command_shows_the_password(
    role: Role, form: str, files: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: oddskit, sqlalchemy, alembic, psycopg
    url = url_for(form, role)
    steps = [
        ("policy", "--retention-days", "30"),  # before migrate: a server error
        ("migrate",),
        ("partitions",),
        ("maintain",),
        ("policy",),
        ("policy", "--premake-days", "4"),
        ("load", "-q", files["good"]),
        ("load", "-q", files["bad"]),
        ("load", "-q", "--on-error", "skip", files["bad"]),
        ("loads",),
        ("migrate", "--revision", "nonsense"),
        ("sample", files["sample"], "--days", "1", "--events-per-day", "1"),
    ]
    codes = []
    for step in steps:
        code, output = cli(url, *step)
        codes.append(code)
        assert_clean(output, f"oddskit {step}")
        assert "Traceback" not in output, output
        assert code == 0 or output.count("Error:") == 1, output
    assert codes == [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0], list(zip(steps, codes, strict=True))
    assert_clean(caplog.text, "the logs")

    db = Database(url)
    for text in (repr(db), db.description, db.masked_url, repr(db.engine), str(db.engine.url)):
        assert_clean(text, "a repr")
    assert role.name in db.description
    with db.engine.connect() as conn:  # the lineage rows the loads wrote
        rows = conn.exec_driver_sql(
            "SELECT row_to_json(r)::text FROM scrape_runs r "
            "UNION ALL SELECT row_to_json(e)::text FROM scrape_errors e"
        ).scalars()
        lineage = "\n".join(rows)
    db.close()
    assert "good.csv" in lineage and "bad.csv" in lineage
    assert_clean(lineage, "scrape_runs/scrape_errors")


@pytest.mark.parametrize("form", ["query", "keyword", "sslpassword-passfile"], indirect=True)
def test_a_real_process_shows_no_password(role: Role, form: str, files: dict[str, Path]) -> None:
    """The CLI in a process of its own: what libpq or a driver writes to stderr counts too."""
    assert cli(url_for(form, role), "migrate")[0] == 0
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    runs = {
        0: [url_for(form, role), "load", "-q", str(files["good"])],
        1: [url_for(form, role, host="127.0.0.1:1"), "loads"],
    }
    for expected, args in runs.items():
        result = subprocess.run(
            [sys.executable, "-m", "oddskit.cli", "--database-url", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == expected, result.stdout + result.stderr
        assert_clean(result.stdout + result.stderr, f"oddskit {args[1:]} in a process")
        assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error:"), result.stderr


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("refused", "Connection refused"),
        ("no database", "does not exist"),
        ("no login", "not permitted to log in"),
    ],
)
def test_failures_show_no_password(
    role: Role,
    form: str,
    failure: str,
    expected: str,
    system_admin_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    if failure == "no login":
        with psycopg.connect(system_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role.name)))
    url = url_for(
        form,
        role,
        host="127.0.0.1:1" if failure == "refused" else HOST,
        db="no_such_db_oddskit" if failure == "no database" else None,
    )
    for step in (["migrate"], ["policy"], ["maintain"], ["load", "x.csv"], ["loads"]):
        code, output = cli(url, *step)
        assert code == 1, output
        assert_clean(output, f"oddskit {step}")
        assert "Traceback" not in output
        error_lines = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1, output
        if step != ["load", "x.csv"]:  # (a missing file may be reported first)
            assert expected in output, output
    db = Database(url)
    with pytest.raises(DatabaseError) as info:
        db.check()
    assert expected in str(info.value)
    assert_clean(str(info.value), "DatabaseError")
    assert_clean(repr(info.value), "DatabaseError")
    with pytest.raises(DatabaseError) as info, db.adbc():
        pass
    assert_clean(str(info.value), "an ADBC DatabaseError")
    db.close()
    assert_clean(caplog.text, "the logs")


def test_debug_traceback_is_masked(role: Role, form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error that carries the URL: one Error line; --debug adds the traceback."""
    url = url_for(form, role)

    def broken(db: Database, **_: object) -> None:
        raise RuntimeError(f"boom near {db.libpq_url} with {SECRET}")

    monkeypatch.setattr("oddskit.partitions.maintain", broken)
    code, output = cli(url, "maintain")
    assert code == 1
    assert_clean(output, "an unexpected error")
    assert "Error: unexpected RuntimeError: boom near postgresql://" in output
    assert "--debug" in output and "Traceback" not in output
    result = runner.invoke(app, ["--debug", "--database-url", url, "maintain"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output
    assert "RuntimeError: boom near" in result.output
    assert_clean(result.output, "a --debug traceback")


def test_demo_and_its_report_show_no_password(role: Role, tmp_path: Path) -> None:
    url = url_for("query", role)
    report = tmp_path / "report.html"
    code, output = cli(
        url, "demo", "--days", "1", "--events-per-day", "2", "-q", "--output", report
    )
    assert code == 0, output
    assert_clean(output, "oddskit demo")
    assert f"Database: {role.database} on {HOST}, user {role.name}" in output  # readable
    assert_clean(report.read_text(), "the demo report")


# -- URL forms without a server ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://ana:{ENCODED}@db:5432/odds", "postgresql://ana:***@db:5432/odds"),
        (f"postgresql://ana@db/odds?password={ENCODED}", "postgresql://ana:***@db/odds"),
        (
            f"postgres://ana@db/odds?sslpassword={ENCODED}",
            "postgresql://ana@db/odds?sslpassword=***",
        ),
        (
            f"postgresql://ana@db/odds?passfile=/home/ana/{ENCODED}&sslmode=require",
            "postgresql://ana@db/odds?passfile=***&sslmode=require",
        ),
        (f"host=db user=ana password='{SECRET}' dbname=odds", "postgresql://ana:***@db/odds"),
        (
            f"host=/run/pg port=5433 password={ENCODED} dbname=o",
            "postgresql://:***@/o?host=/run/pg&port=5433",
        ),
        (
            f"postgresql+psycopg://ana:{ENCODED}@[::1]:5432/odds",
            "postgresql://ana:***@[::1]:5432/odds",
        ),
        (
            f"postgresql://ana:{ENCODED}@h1:5432,h2:5433/odds",
            "postgresql://ana:***@/odds?host=h1,h2&port=5432,5433",
        ),
    ],
)
def test_every_accepted_form_is_masked(url: str, shown: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    db = connect(url)
    assert db.masked_url == shown == mask_url(url)
    assert repr(db) == f"Database({shown!r}, source='argument')"
    for text in (repr(db), db.description, repr(db.engine), caplog.text):
        assert_clean(text, "a repr or log")
    assert "Sentinel" in db.libpq_url  # what the drivers get


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ana:{SECRET}@db/odds",  # raw '@' and space in the password
        "postgresql://ana:Sentinel-Pw/7x@db/odds",  # raw '/'
        "postgresql://ana:Sentinel-Pw%zz@db/odds",  # bad percent-encoding
        f"host=db user=ana password={SECRET} dbname=odds",  # unquoted space
        f"host=db password='{SECRET}",  # unterminated quote
        f"mysql://ana:{ENCODED}@db/odds",
        f"postgresql://ana@db/odds?password={ENCODED}=x",
        "Sentinel-Pw",
    ],
)
def test_urls_that_cannot_be_used_are_refused_without_echoing_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Database(url)
    message = str(info.value)
    assert_clean(message, "the parse error")
    assert "postgresql://user:password@host" in message  # says what to write instead
    assert_clean(mask_url(url), "mask_url")
    code, output = cli(url, "migrate")
    assert code == 1
    assert output == f"Error: {message}\n"  # one line, nothing of it masked away
    assert_clean(output, "the CLI")


def test_mask_secrets_covers_free_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "env-Sentinel-Pw")
    text = (
        f"a postgresql://u:{ENCODED}@h/d b ?password={ENCODED}&x=1 c password='{SECRET}' "
        "d PGPASSWORD=env-Sentinel-Pw e {'password': 'Sentinel-Pw'} f env-Sentinel-Pw"
    )
    masked = mask_secrets(text, f"postgresql://u:{ENCODED}@h/d")
    assert_clean(masked, "mask_secrets")
    assert "env-Sentinel-Pw" not in masked
    assert masked.startswith("a postgresql://u:***@h/d b ?password=***&x=1 c password=***")
