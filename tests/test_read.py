"""Database.read: users' own SQL with bound ``:name`` parameters, returned as Polars."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from oddskit.connection import Database
from oddskit.errors import ConfigurationError, DatabaseError

PAYLOAD = "x'); DROP TABLE notes; --"


@pytest.fixture
def db(make_database) -> Database:
    database = make_database("embedded")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id bigint, body text, at timestamptz)")
        conn.exec_driver_sql(
            "INSERT INTO notes VALUES (1, 'one', '2026-11-28 10:00+00'), "
            "(2, 'two', '2026-11-28 11:00+00'), (3, NULL, NULL)"
        )
    return database


def test_read_binds_named_parameters_and_returns_polars(db: Database) -> None:
    frame = db.read(
        "SELECT id, body FROM notes WHERE id = ANY(:ids) AND at < :before ORDER BY id",
        ids=[1, 2, 3],
        before=datetime(2026, 11, 28, 10, 30, tzinfo=UTC),
    )
    assert isinstance(frame, pl.DataFrame)
    assert frame.rows() == [(1, "one")]
    assert frame.schema == pl.Schema({"id": pl.Int64, "body": pl.String})
    # a placeholder used twice takes one value; every Python type binds as its SQL type
    assert db.read("SELECT :n + :n AS twice", n=21)["twice"].to_list() == [42]
    typed = db.read(
        "SELECT :day AS day, :flag AS flag, :price AS price, :nothing AS nothing, :t AS t",
        day=date(2026, 11, 28),
        flag=True,
        price=Decimal("1.25"),
        nothing=None,
        t=datetime(2026, 11, 28, 12, tzinfo=UTC),
    )
    assert typed.row(0) == (
        date(2026, 11, 28),
        True,
        "1.25",  # NUMERIC comes back as text through ADBC
        None,
        datetime(2026, 11, 28, 12, tzinfo=UTC),
    )
    # statements ADBC cannot stream through COPY work too
    assert db.read("SHOW TimeZone").item() == "UTC"


def test_a_parameter_value_is_never_pasted_into_the_sql(db: Database) -> None:
    seen = db.read("SELECT current_query() AS sql, :body AS body", body=PAYLOAD)
    sent, echoed = seen.row(0)
    assert echoed == PAYLOAD  # the value comes back verbatim ...
    assert "$1" in sent and "DROP" not in sent  # ... and never was part of the SQL text
    assert db.read("SELECT count(*) AS n FROM notes WHERE body = :body", body=PAYLOAD).item() == 0
    assert db.read("SELECT count(*) AS n FROM notes").item() == 3  # the table is still there


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("SELECT :a AS a, :b AS b", {"a": 1}, r"uses :b but no value was given"),
        ("SELECT 1", {"a": 1}, r"\['a'\] are not used"),
        ("SELECT :a::int AS a", {"a": 1}, r"CAST\(:a AS type\), not :a::type"),
        ("SELECT :t AS t", {"t": datetime(2026, 1, 1)}, r"`t` is a naive datetime"),
        ("SELECT :s AS s", {"s": "a\x00b"}, r"`s` must not contain a NUL"),
        ("SELECT :s AS s", {"s": ["ok", "a\x00b"]}, r"`s` must not contain a NUL"),
        ("SELECT :o AS o", {"o": object()}, r"parameter `o` has a value oddskit cannot bind"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(
    db: Database, sql: str, params: dict, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        db.read(sql, **params)


def test_sql_errors_are_database_errors(db: Database) -> None:
    with pytest.raises(DatabaseError, match=r"Reading failed: .*no_such_table"):
        db.read("SELECT * FROM no_such_table WHERE id = :id", id=1)
    with pytest.raises(DatabaseError, match="Reading failed"):
        db.read("SELEC 1")
    # the shared read connection is usable again afterwards
    assert db.read("SELECT :x AS x", x="ok").item() == "ok"
