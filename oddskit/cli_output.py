"""What the command line prints: masked consoles, warnings, and one ``Error:`` line per error.

Every line the CLI prints goes through :func:`mask`, so no password reaches the screen,
and nothing is rendered as rich markup (a value like ``[/x]`` prints as it is).
:func:`friendly_errors` turns any exception into one ``Error: …`` line: what oddskit
refuses says why, a database error says what the server said, anything else says it
is unexpected (``--debug`` or ``ODDSKIT_DEBUG=1`` shows the traceback first).

Example:
    >>> from oddskit.errors import ConfigurationError
    >>> describe_error(ConfigurationError("--now must be aware"))
    '--now must be aware'
"""

from __future__ import annotations

import functools
import re
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

import typer

from oddskit.errors import OddskitError
from oddskit.urls import mask_secrets, resolve_url

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from oddskit.connection import Database
    from oddskit.partitions import MaintenanceReport

F = TypeVar("F", bound=Callable[..., Any])


def _driver_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """The database drivers' exceptions (the server or the connection failed, not
    oddskit), and of those the ones that mean the connection could not be opened or
    was lost. Imported only when an error is described: the drivers are slow to import.
    """
    import adbc_driver_manager
    import psycopg
    import sqlalchemy as sa

    drivers = (psycopg.Error, adbc_driver_manager.Error, sa.exc.SQLAlchemyError)
    connection = (
        psycopg.OperationalError,
        adbc_driver_manager.OperationalError,
        sa.exc.OperationalError,
        sa.exc.DisconnectionError,
    )
    return drivers, connection


#: typer's own exceptions (usage errors, exits), which typer handles. Newer typer
#: versions vendor click, so its ClickException is found through BadParameter.
TYPER_EXCEPTIONS = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


class State:
    """Options shared by every command (set by the CLI's global options)."""

    url: str | None = None
    debug: bool = False


def mask(text: str) -> str:
    """``text`` without any password: every line the CLI prints passes through here.

    Masks the secrets of the database URL in use (``--database-url``, else the
    environment) and anything shaped like a password (see
    :func:`oddskit.urls.mask_secrets`).

    Example:
        >>> State.url = "postgresql://ana:s3cret@db/odds"
        >>> mask("cannot reach postgresql://ana:s3cret@db/odds (s3cret)")
        'cannot reach postgresql://ana:***@db/odds (***)'
        >>> State.url = None
    """
    return mask_secrets(text, resolve_url(State.url)[0])


class _MaskedStream:
    """A text stream that masks what it writes (stdout or stderr, looked up at each write
    so that test runners that swap ``sys.stdout`` still see the output)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def stream(self) -> TextIO:
        return getattr(sys, self.name)

    def write(self, text: str) -> int:
        return self.stream.write(mask(text))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"


def _console(name: str) -> Console:
    from rich.console import Console

    # Data is never markup or emoji codes: a value like "[/x]" or ":x:" prints as it is.
    # Off a terminal (pipes, CI, tests) rich would wrap at 80 columns: give it room.
    stream = _MaskedStream(name)
    width = None if getattr(sys, name).isatty() else 160
    return Console(
        file=stream,  # type: ignore[arg-type]
        highlight=False,
        markup=False,
        emoji=False,
        width=width,
    )


class _LazyConsole:
    """The console of ``stdout`` or ``stderr``, made (and rich imported) on first use:
    `oddskit --help` never needs it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._console: Console | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._console is None:
            self._console = _console(self._name)
        return getattr(self._console, attribute)


out: Console = _LazyConsole("stdout")  # type: ignore[assignment]
err: Console = _LazyConsole("stderr")  # type: ignore[assignment]


def _labelled(label: str, message: str) -> Text:
    from rich.text import Text

    return Text.assemble((label, "bold red"), " ", message)


def warning(message: str) -> None:
    """Print ``WARNING: message`` on stderr (the message is never markup)."""
    err.print(_labelled("WARNING:", message), soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    err.print(_labelled("Error:", message), soft_wrap=True)
    raise typer.Exit(code)


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _driver_text(error: BaseException) -> str:
    """The server's message of a driver error, without the echoed query."""
    diag = getattr(error, "diag", None)  # psycopg: the message parts, as the server sent them
    if primary := getattr(diag, "message_primary", None):
        text = primary
        if detail := getattr(diag, "message_detail", None):
            text += f" ({detail})"
        if hint := getattr(diag, "message_hint", None):
            text += f" Hint: {hint}"
    else:
        text = str(error).split("\n[SQL:")[0]  # SQLAlchemy appends the statement
        text = re.sub(r"\s*Query was: .*?(?=SQLSTATE:|$)", " ", text, flags=re.DOTALL)  # ADBC
    return _one_line(text) or type(error).__name__


def describe_error(exc: BaseException) -> str:
    """What to print after ``Error:`` for an exception that reached the command line.

    Example:
        >>> from oddskit.errors import ConfigurationError
        >>> describe_error(ConfigurationError("--now must be aware"))
        '--now must be aware'
        >>> describe_error(KeyError("x"))  # doctest: +ELLIPSIS
        "unexpected KeyError: 'x'. This is a bug in oddskit: run the command again with ..."
    """
    if isinstance(exc, OddskitError):
        return str(exc)
    from alembic.util import CommandError

    driver_errors, connection_errors = _driver_errors()
    if isinstance(exc, driver_errors):
        detail = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
        text = _driver_text(detail)
        if isinstance(exc, connection_errors) or isinstance(detail, connection_errors):
            return (
                f"the database connection failed: {_sentence(text)} Check that the server is "
                "up and reachable, then run the command again (what was committed is kept, "
                "and running it again is safe)."
            )
        if getattr(detail, "sqlstate", None) == "42P01":  # undefined_table
            text = f"{_sentence(text)} Is the oddskit schema there? Run `oddskit migrate` first."
        return f"the database refused an operation: {text}"
    if isinstance(exc, CommandError):  # Alembic: e.g. an unknown --revision
        return f"migration: {_one_line(str(exc))}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or _one_line(str(exc))}{where}"
    return (
        f"unexpected {type(exc).__name__}: {_one_line(str(exc), 300)}. This is a bug in "
        "oddskit: run the command again with --debug (or ODDSKIT_DEBUG=1) to see the "
        "traceback, and report it."
    )


def friendly_errors(command: F) -> F:
    """Turn every exception into one ``Error: …`` line and exit code 1 (130 on Ctrl-C)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TYPER_EXCEPTIONS:
            raise  # typer's own: usage errors, exits
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as exc:
            if State.debug:
                err.print("".join(traceback.format_exception(exc)), soft_wrap=True)
            fail(describe_error(exc))

    return wrapper  # type: ignore[return-value]


def open_database(*, quiet_stdout: bool = False) -> Database:
    """Connect following the resolution order and say which database is in use.

    With ``quiet_stdout`` (``--format csv|json``) that line goes to stderr, so that
    stdout holds only the data. The embedded server, when it is the one, stays up for
    ``ODDSKIT_SERVER_KEEP`` after the command (see :mod:`oddskit.embedded`).
    """
    from oddskit.connection import connect
    from oddskit.embedded import keep_time

    db = connect(State.url, keep_server=keep_time())
    (err if quiet_stdout else out).print(f"Database: {db.description}", soft_wrap=True)
    return db


def notice(message: str) -> None:
    """Print a one-line notice on stderr (data never rendered as markup)."""
    err.print(f"Notice: {message}", soft_wrap=True, markup=False)


def name_list(names: list[str]) -> str:
    """Partition names for one line: all of a few, the first and last of many."""
    if not names:
        return "-"
    return ", ".join(names) if len(names) <= 6 else f"{names[0]}, …, {names[-1]}"


def print_maintenance(report: MaintenanceReport) -> None:
    """What a maintenance run created, dropped and moved, and what it warns about."""
    out.print(f"Backend: {report.backend}")
    out.print(f"Created {len(report.created):,} partitions: {name_list(report.created)}")
    dropped = f"Dropped {len(report.dropped):,} partitions: {name_list(report.dropped)}"
    if report.dropped:
        dropped += f" ({report.transactions:,} transactions)"
    out.print(dropped)
    if report.archived:
        days = [f"{day:%Y-%m-%d}" for day in report.archived]
        out.print(f"Archived {len(days):,} days before dropping them: {name_list(days)}")
    for name, rows in report.moved_from_default.items():
        out.print(f"Moved {rows:,} rows out of the default partition {name}.")
    for name, rows in report.default_rows.items():
        warning(f"{rows:,} rows sit in the default partition {name}.")
    if report.notice:
        notice(report.notice)
