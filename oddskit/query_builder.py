r"""SQL for the query helpers: constant fragments, bound values, one place that runs them.

:class:`Query` collects SQL text made only of constant fragments and the values bound
to its ``$n`` placeholders (as one Arrow row with exact types); :func:`run_query`
executes it on the shared ADBC read connection and returns a Polars frame of a fixed
schema. The filter builders (:func:`any_of`, :func:`names_ci`, :func:`bookmaker_ids`,
:func:`time_window`) add the ``AND …`` fragments the helpers share. :func:`read_sql`
runs a user's own SQL with named parameters (``:name``), bound the same way; it is
:meth:`oddskit.connection.Database.read`.

Examples
--------
>>> q = Query()
>>> q.add("SELECT id FROM bookmakers WHERE true")
>>> any_of(q, "name", ["betPawa"], "text[]")
>>> print(q.sql)
SELECT id FROM bookmakers WHERE true
  AND name = ANY(CAST($1 AS text[]))
>>> q.values
[['betPawa']]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from oddskit.arguments import require_aware, text
from oddskit.errors import ConfigurationError, DatabaseError, OddskitError

if TYPE_CHECKING:
    from oddskit.connection import Database

__all__ = [
    "Query",
    "any_of",
    "bookmaker_ids",
    "explain",
    "like_escape",
    "micros",
    "names_ci",
    "pair_filter",
    "read_sql",
    "run_query",
    "time_window",
]

#: Returned timestamps: microseconds in UTC.
UTC_DATETIME = pl.Datetime("us", "UTC")

# Arrow types of bound parameters, with the SQL type each placeholder is cast to.
_TYPES: dict[str, tuple[pa.DataType, str]] = {
    "timestamptz": (pa.timestamp("us", tz="UTC"), "timestamptz"),
    "bigint": (pa.int64(), "bigint"),
    "text": (pa.string(), "text"),
    "text[]": (pa.list_(pa.string()), "text[]"),
    "bigint[]": (pa.list_(pa.int64()), "bigint[]"),
}


@dataclass
class Query:
    """SQL text made of constant fragments, and the values bound to its ``$n``."""

    parts: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    types: list[pa.DataType] = field(default_factory=list)

    def bind(self, value: Any, kind: str) -> str:
        """Add a parameter; return its placeholder, cast to the SQL type of ``kind``."""
        arrow_type, sql_type = _TYPES[kind]
        self.values.append(value)
        self.types.append(arrow_type)
        return f"CAST(${len(self.values)} AS {sql_type})"

    def add(self, *fragments: str) -> None:
        """Append constant SQL fragments (one line each)."""
        self.parts.extend(fragments)

    @property
    def sql(self) -> str:
        """The SQL text."""
        return "\n".join(self.parts)

    def parameters(self) -> pa.RecordBatch | None:
        """The values as one Arrow row with exact types (so empty lists bind too)."""
        if not self.values:
            return None
        arrays = [
            pa.array([value], type=arrow_type)
            for value, arrow_type in zip(self.values, self.types, strict=True)
        ]
        names = [f"p{i}" for i in range(1, len(arrays) + 1)]
        return pa.RecordBatch.from_arrays(arrays, names=names)


def _execute(
    db: Database, sql: str, parameters: pa.RecordBatch | None, what: str, *, copy: bool = True
) -> pa.Table:
    """Run one statement on the shared ADBC read connection; errors become DatabaseError."""
    try:
        with db.adbc_reader() as conn, conn.cursor() as cursor:
            if not copy:  # ADBC wraps a query without parameters in COPY (...) TO STDOUT
                cursor.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
            cursor.execute(sql, parameters=parameters)
            return cursor.fetch_arrow_table()
    except OddskitError:
        raise
    except Exception as exc:
        error = db.error(f"{what} failed", exc)
        if "does not exist" in str(error):
            error = DatabaseError(f"{error} — is the schema there? Run `oddskit migrate` first.")
        raise error from None


def run_query(db: Database, query: Query, schema: pl.Schema, what: str) -> pl.DataFrame:
    """Execute ``query`` over ADBC and return its Arrow result as a frame of ``schema``."""
    frame = pl.from_arrow(_execute(db, query.sql, query.parameters(), what))
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def explain(db: Database, query: Query, *, analyze: bool = False) -> str:
    """The plan PostgreSQL uses for ``query`` with its bound values (for tests and tuning)."""
    options = "ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF" if analyze else "COSTS OFF"
    sql = f"EXPLAIN ({options})\n{query.sql}"
    table = _execute(db, sql, query.parameters(), "EXPLAIN", copy=False)
    return "\n".join(str(line) for line in table.column(0).to_pylist())


# --- shared filters ---------------------------------------------------------------------------


def any_of(query: Query, column: str, values: list[Any] | None, kind: str) -> None:
    """``AND column = ANY($n)`` when ``values`` is given."""
    if values is not None:
        query.add(f"  AND {column} = ANY({query.bind(values, kind)})")


def names_ci(query: Query, column: str, values: list[str] | None) -> None:
    """Case-insensitive ``AND lower(column) IN (lower of each value)``."""
    if values is not None:
        placeholder = query.bind(values, "text[]")
        # ``column`` is a constant of the calling module; the values are bound.
        sql = f"  AND lower({column}) IN (SELECT lower(v) FROM unnest({placeholder}) v)"  # noqa: S608
        query.add(sql)


def bookmaker_ids(query: Query, column: str, names: list[str] | None) -> None:
    """Restrict an id column to the named bookmakers, in any letter case (resolved once,
    then an index probe)."""
    if names is not None:
        placeholder = query.bind(names, "text[]")
        # ``column`` is a constant of the calling module; the names are bound.
        ids = (
            "SELECT id FROM bookmakers "  # noqa: S608
            f"WHERE lower(name) IN (SELECT lower(v) FROM unnest({placeholder}) v)"
        )
        query.add(f"  AND {column} = ANY(ARRAY({ids}))")


def pair_filter(
    query: Query,
    alias: str,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> None:
    """Restrict the (event, bookmaker) pairs of table ``alias`` to the given event ids,
    bookmakers and kickoff window (``ev.kickoff``: the query joins ``events ev`` when it
    passes a window).

    Example:
        >>> q = Query()
        >>> pair_filter(q, "c", [1, 2], None)
        >>> q.parts
        ['  AND c.event_id = ANY(CAST($1 AS bigint[]))']
    """
    any_of(query, f"{alias}.event_id", event_ids, "bigint[]")
    bookmaker_ids(query, f"{alias}.bookmaker_id", bookmakers)
    time_window(query, ("ev.kickoff",), kickoff_since, kickoff_until)


def time_window(
    query: Query,
    columns: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    *,
    inclusive_until: bool = False,
) -> None:
    """``AND column >= since AND column < until`` on every column (one bound value each).

    The same bounds on both partitioned tables let PostgreSQL prune each to the days
    of the window.
    """
    for value, operator in ((since, ">="), (until, "<=" if inclusive_until else "<")):
        if value is not None:
            placeholder = query.bind(value, "timestamptz")
            query.add("  AND " + " AND ".join(f"{c} {operator} {placeholder}" for c in columns))


def like_escape(value: str) -> str:
    r"""Escape LIKE wildcards so that ``value`` matches literally (escape character ``\``).

    Examples
    --------
    >>> like_escape("100%_fit\\")
    '100\\%\\_fit\\\\'
    """
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def micros(value: timedelta) -> int:
    """A duration in whole microseconds (bound as ``bigint``)."""
    return value // timedelta(microseconds=1)


# --- users' own SQL ---------------------------------------------------------------------------

#: The first keyword of statements ADBC can stream through ``COPY (…) TO STDOUT``.
_COPYABLE = re.compile(r"\s*(\(\s*)*(select|with|values|table)\b", re.IGNORECASE)


def _parameter(name: str, value: Any) -> pa.Array:
    """One bound value as a one-row Arrow array (its type chooses the SQL type)."""
    if isinstance(value, pl.Series):
        value = value.to_list()
    elif isinstance(value, tuple | set | frozenset):
        value = list(value)
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            text(item, name)
        elif isinstance(item, datetime):
            require_aware(item, name)
    try:
        return pa.array([value])
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"parameter `{name}` has a value oddskit cannot bind ({type(value).__name__} "
            f"{value!r}): {exc}; pass a number, string, bool, date, aware datetime, "
            "Decimal, or a list of one of these"
        ) from None


def read_sql(db: Database, sql: str, params: Mapping[str, Any]) -> pl.DataFrame:
    """Run ``sql`` with ``:name`` placeholders bound to ``params``; the result as Polars.

    The SQL is parsed by SQLAlchemy's ``text()`` (``:name`` placeholders, ``\\:`` for a
    literal colon); each placeholder becomes ``$n`` and its value is sent separately,
    typed from its Python type, so a value never becomes part of the SQL text.
    """
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    text(sql, "sql")
    compiled = sa.text(sql).compile(dialect=postgresql.psycopg.dialect(paramstyle="numeric_dollar"))
    used = list(dict.fromkeys(compiled.positiontup or []))
    missing = [name for name in used if name not in params]
    if missing:
        raise ConfigurationError(
            f"the SQL uses {', '.join(':' + n for n in missing)} but no value was given; "
            f"pass it as a keyword argument, e.g. db.read(sql, {missing[0]}=...)"
        )
    unused = [name for name in params if name not in used]
    if unused:
        raise ConfigurationError(
            f"parameter(s) {unused} are not used by the SQL; write :{unused[0]} where the "
            f"value goes (CAST(:{unused[0]} AS type), not :{unused[0]}::type, which is not "
            "a placeholder)"
        )
    parameters = None
    if used:
        arrays = [_parameter(name, params[name]) for name in used]
        parameters = pa.RecordBatch.from_arrays(arrays, names=used)
    copy = bool(_COPYABLE.match(compiled.string))
    frame = pl.from_arrow(_execute(db, compiled.string, parameters, "Reading", copy=copy))
    assert isinstance(frame, pl.DataFrame)
    return frame
