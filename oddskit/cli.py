"""The ``oddskit`` command line: a thin shell over the library.

Each command parses its options, calls one library function and prints the result.
Every error is one ``Error: …`` line on stderr with exit code 1 and no traceback: what
oddskit refuses says why, a database error says what the server said, anything else
says it is unexpected (``--debug`` or ``ODDSKIT_DEBUG=1`` shows the traceback). Ctrl-C
prints ``Interrupted.`` with exit code 130. Nothing is printed as rich markup, and
everything printed passes :func:`mask` first, so no password ever reaches the screen.

Example:
    $ oddskit migrate
    $ oddskit partitions
    $ oddskit --database-url postgresql://user@host/odds maintain
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from oddskit.cli_import import import_app
from oddskit.cli_links import aliases_app, links_app
from oddskit.cli_output import (
    State,
    err,
    fail,
    friendly_errors,
    notice,
    open_database,
    out,
    print_maintenance,
    warning,
)
from oddskit.cli_server import server_app
from oddskit.cli_tables import Column, check_format, print_table
from oddskit.errors import ConfigurationError, OddskitError

# `oddskit --help` must answer at once: SQLAlchemy, psycopg, Alembic, Polars and pyarrow
# are imported by the commands that use them (tests/test_cli_speed.py keeps it so).

#: The partition backends of `oddskit migrate --backend` (oddskit.schema.BACKENDS,
#: which imports SQLAlchemy and Alembic; tests/test_cli_speed.py keeps them equal).
BACKENDS: tuple[str, ...] = ("auto", "partman", "native")

app = typer.Typer(
    name="oddskit",
    help="Bookmaker odds snapshots in partitioned PostgreSQL: load, query, analyse.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs 0.1-0.3 s
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(import_app, name="import")
app.add_typer(links_app, name="links")
app.add_typer(aliases_app, name="aliases")
app.add_typer(server_app, name="server")


def parse_instant(text: str, option: str) -> datetime:
    """Parse an ISO 8601 instant that must carry a UTC offset."""
    from oddskit.arguments import require_aware

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"{option} must be an ISO 8601 time such as 2026-12-31T00:00:00+00:00, got {text!r}"
        ) from None
    return require_aware(value, option)


FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        help="table: a box table on a terminal, plain columns in a pipe or file; "
        "csv or json: the raw values (the other lines go to stderr).",
    ),
]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # slow to import: only for --version

        out.print(f"oddskit {version('oddskit')}")
        raise typer.Exit()


@app.callback()
def main_options(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            "-d",
            help="PostgreSQL URL (postgresql://user:password@host:5432/db) or libpq settings "
            "('host=... user=... dbname=...'). Default: $ODDSKIT_DATABASE_URL, $DATABASE_URL, "
            "else the embedded local server. Passwords are never printed.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="ODDSKIT_DEBUG",
            help="Show the traceback of an error (with passwords masked).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the oddskit version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Bookmaker odds snapshots in partitioned PostgreSQL: load, query, analyse."""
    State.url = database_url
    State.debug = debug


@app.command("demo")
@friendly_errors
def demo_command(
    days: Annotated[int, typer.Option(help="Days of demo odds (ending now).")] = 3,
    events_per_day: Annotated[int, typer.Option(help="Matches per day.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed of the demo data.")] = 0,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Replace the demo data set with a new one made with these options. Data "
            "that the demo did not load is never touched: with any, nothing is changed.",
        ),
    ] = False,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the HTML report.")
    ] = Path("oddskit-demo-report.html"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Load demo odds into the demo's own database, analyse them, write an HTML report.

    With no database URL, the demo uses its own database (oddskit_demo) on the embedded
    local server, never the one your loads go to. A demo data set is made once and
    reused (options that differ are said to be ignored); --fresh makes a new one.
    """
    from oddskit.demo import run_demo

    run_demo(
        url=State.url,
        days=days,
        events_per_day=events_per_day,
        seed=seed,
        fresh=fresh,
        output=output,
        progress=not quiet,
        echo=lambda line: out.print(line, soft_wrap=True, markup=False, highlight=False),
    )


@app.command("migrate")
@friendly_errors
def migrate_command(
    revision: Annotated[str, typer.Option(help="Alembic revision to upgrade to.")] = "head",
    backend: Annotated[
        str,
        typer.Option(help=f"Partition backend for a new schema: {', '.join(BACKENDS)}."),
    ] = "auto",
) -> None:
    """Create or upgrade the oddskit schema, then run partition maintenance."""
    # What migrating and maintenance import is loaded before connecting, so that the
    # server's keep-up time (counted from the connection) covers only the work.
    import alembic.command  # noqa: F401

    import oddskit.models
    import oddskit.runs  # noqa: F401
    from oddskit.partitions import maintain, server_versions
    from oddskit.schema import head_revision, migrate

    with open_database() as db:
        at = migrate(db, revision=revision, backend=backend, notify=notice)  # type: ignore[arg-type]
        report = maintain(db)
        versions = server_versions(db)
    out.print(f"Server: PostgreSQL {versions.postgresql}", markup=False)
    out.print(f"Schema at revision {at} (head {head_revision()})")
    used = f"pg_partman {versions.pg_partman}" if report.backend == "pg_partman" else "native"
    out.print(f"Partition backend: {used}")
    if report.notice:
        notice(report.notice)


@app.command("partitions")
@friendly_errors
def partitions_command(fmt: FormatOption = "table") -> None:
    """Show the partition backend, the policy, and every partition with its rows."""
    from oddskit.partitions import detect_backend, get_policy, list_partitions, server_versions
    from oddskit.schema import current_revision

    fmt = check_format(fmt)
    info = out if fmt == "table" else err
    with open_database(quiet_stdout=fmt != "table") as db:
        if current_revision(db) is None:
            raise OddskitError("This database has no oddskit schema. Run `oddskit migrate` first.")
        policy = get_policy(db)
        with db.engine.connect() as conn:
            backend = detect_backend(conn)
        versions = server_versions(db)
        partman = f", pg_partman {versions.pg_partman}" if backend == "pg_partman" else ""
        info.print(f"Server: PostgreSQL {versions.postgresql}{partman}", markup=False)
        retention = f"{policy.retention_days} days" if policy.retention_days else "none (keep all)"
        info.print(
            f"Backend: {backend}   premake: {policy.premake_days} days   retention: {retention}"
        )
        partitions = list_partitions(db)
    columns = [
        Column("parent"),
        Column("partition"),
        Column("from (UTC)", text=lambda v: f"{v:%Y-%m-%d %H:%M}" if v else "DEFAULT", key="lower"),
        Column("to (UTC)", text=lambda v: f"{v:%Y-%m-%d %H:%M}" if v else "", key="upper"),
        Column("rows", number=True),
    ]
    rows = [[p.parent, p.name, p.lower, p.upper, p.rows] for p in partitions]
    print_table(columns, rows, fmt=fmt)
    for p in partitions:
        if p.is_default and p.rows:
            warning(
                f"{p.rows:,} rows sit in the default partition {p.name}. "
                "They are invisible to retention and block creating their day's partition. "
                "With pg_partman, move them out with "
                f"SELECT partman.partition_data_time('public.{p.parent}');"
            )


@app.command("maintain")
@friendly_errors
def maintain_command(
    now: Annotated[
        str | None,
        typer.Option(
            help="Clock to measure retention against, ISO 8601 with a UTC offset "
            "(e.g. 2026-12-31T00:00:00+00:00). Default: now.",
        ),
    ] = None,
) -> None:
    """Create partitions ahead and drop those past retention (safe to repeat)."""
    from oddskit.partitions import maintain

    clock = parse_instant(now, "--now") if now else None
    with open_database() as db:
        report = maintain(db, now=clock)
    print_maintenance(report)
    if report.archive_error:
        fail(report.archive_error)


@app.command("policy")
@friendly_errors
def policy_command(
    retention_days: Annotated[
        str | None,
        typer.Option(help="Days to keep, or 'none' to keep everything."),
    ] = None,
    premake_days: Annotated[
        int | None, typer.Option(help="Days of partitions to create ahead.")
    ] = None,
    archive: Annotated[
        str | None,
        typer.Option(
            help="Where retention archives a day (as Parquet) before dropping it: 'default' "
            "(the archive folder of the oddskit home), a folder, a URL such as "
            "s3://bucket/prefix, or 'none' (dropped days are gone).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Go ahead with a retention that drops partitions. Without it, such a change "
            "says how many partitions and rows it would drop, and changes nothing.",
        ),
    ] = False,
) -> None:
    """Show or change the partition policy (premake, retention, archive).

    A change is applied at once: maintenance runs right after it.
    """
    from oddskit.partitions import get_policy, maintain, set_policy

    with open_database() as db:
        if retention_days is None and premake_days is None and archive is None:
            policy, report = get_policy(db), None
        else:
            retention: int | str | None = "keep"
            if retention_days is not None:
                if retention_days.lower() == "none":
                    retention = None
                elif retention_days.isdigit():
                    retention = int(retention_days)
                else:
                    raise OddskitError(
                        f"--retention-days must be a whole number of days or 'none', "
                        f"got {retention_days!r}"
                    )
            policy = set_policy(
                db,
                premake_days=premake_days,
                retention_days=retention,  # type: ignore[arg-type]
                archive="keep" if archive is None else _archive_option(archive),
                confirm=yes,
            )
            report = maintain(db)
    retention_text = f"{policy.retention_days} days" if policy.retention_days else "none"
    out.print(
        f"premake: {policy.premake_days} days   retention: {retention_text}   "
        f"archive: {_archive_text(policy.archive)}",
        soft_wrap=True,
        markup=False,
    )
    if report is not None:
        print_maintenance(report)
        if report.archive_error:
            fail(report.archive_error)


def _archive_option(value: str) -> str | None:
    """``--archive``: 'none', 'default', a URL, or a folder (made absolute)."""
    if value.strip().lower() == "none":
        return None
    if value == "default" or "://" in value:
        return value
    return str(Path(value).expanduser().resolve())


def _archive_text(value: str | None) -> str:
    from oddskit.archive import policy_root

    if value is None:
        return "none (dropped days are gone)"
    root = policy_root(value)
    assert root is not None
    return f"{root.url} (default)" if value == "default" else root.url


@app.command("archive")
@friendly_errors
def archive_command(
    day: Annotated[
        list[str] | None,
        typer.Option(
            "--day",
            help="Archive this UTC day (YYYY-MM-DD) now, from the live tables, without "
            "dropping it (retention drops it when it expires). Repeat for several days.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """List the archived days (rows, bytes), or archive days on demand (--day)."""
    from oddskit.archive import archive_day, list_archives, policy_root
    from oddskit.partitions import get_policy

    fmt = check_format(fmt)
    days = [_parse_day(text) for text in day or []]
    info = out if fmt == "table" else err
    with open_database(quiet_stdout=fmt != "table") as db:
        for one in days:
            record = archive_day(db, one)
            if record is None:
                info.print(f"{one}: no live prices, nothing archived")
            else:
                info.print(
                    f"{one}: {record.rows:,} prices, {record.bytes:,} bytes "
                    f"({record.bytes / record.rows:.1f} bytes per price) in {record.location}",
                    soft_wrap=True,
                    markup=False,
                )
        if days:
            return
        policy = get_policy(db)
        frame = list_archives(db)
    info.print(f"Archive: {_archive_text(policy.archive)}", soft_wrap=True, markup=False)
    root = policy_root(policy.archive)
    prefix = f"{root.url}/" if root and fmt == "table" else None
    columns = [
        Column("day", text=lambda v: f"{v:%Y-%m-%d}"),
        Column("rows", number=True),
        Column("bytes", number=True),
        Column("bytes/row", number=True, text=lambda v: f"{v:.2f}" if v else "-"),
        Column("archived (UTC)", text=lambda v: f"{v:%Y-%m-%d %H:%M}", key="archived_at"),
        Column("file", key="location"),  # in a table: relative to the policy's root
    ]
    rows = [
        [
            row["day"],
            row["rows"],
            row["bytes"],
            row["bytes_per_row"],
            row["archived_at"],
            row["location"].removeprefix(prefix) if prefix else row["location"],
        ]
        for row in frame.iter_rows(named=True)
    ]
    print_table(columns, rows, fmt=fmt)
    rows_total, size = frame["rows"].sum(), frame["bytes"].sum()
    per_row = f", {size / rows_total:.2f} bytes per price" if rows_total else ""
    info.print(f"{frame.height:,} days, {rows_total:,} prices, {size:,} bytes{per_row}")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--day must be a date such as 2026-10-02, got {text!r}") from None


@app.command("load")
@friendly_errors
def load_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="CSV or Parquet files, folders or globs of them. An existing path is "
            "always that file or folder (even with [ ] * ? in its name); only a path that "
            "does not exist is read as a glob (quote it so the shell leaves it alone). "
            "Folders and globs leave out hidden files and *.rejects.csv files."
        ),
    ],
    on_error: Annotated[
        str,
        typer.Option(
            help="'raise': refuse a file with any bad row (nothing of it is written). "
            "'skip': load the good rows, write the bad ones with a reason to a rejects file. "
            "Either way, a refused file does not stop the others: every file is tried, "
            "each one's outcome is listed, and the exit code is 1."
        ),
    ] = "raise",
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where --on-error skip writes rejected rows: a file or a folder. Default: "
            "FILE.rejects.csv beside each FILE (day.1.csv -> day.1.rejects.csv). An existing "
            "file is never replaced: a taken name becomes NAME.2.csv, NAME.3.csv, ..."
        ),
    ] = None,
    delimiter: Annotated[str, typer.Option(help="CSV field delimiter.")] = ",",
    handicap_lines: Annotated[
        str,
        typer.Option(
            help="How the files write Asian-handicap lines: auto (turn a book into home "
            "lines when only that reading pairs its sides), own (each side's own handicap) "
            "or home (oddskit's convention: the home handicap on both rows)."
        ),
    ] = "auto",
    to: Annotated[
        str,
        typer.Option(
            help="live: the live tables (rows older than the retention window are refused); "
            "archive: straight to the Parquet archive, for history (same checks, no "
            "retention window)."
        ),
    ] = "live",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Load odds snapshots (oddskit's input format) from CSV or Parquet files."""
    from oddskit.arguments import choice
    from oddskit.loading import LoadReport, load
    from oddskit.markets import HandicapLines
    from oddskit.sources import resolve_sources

    resolve_sources(paths)  # a missing file or an empty folder is said before connecting
    with open_database() as db:
        try:
            report = load(
                paths,
                db=db,
                on_error=on_error,  # type: ignore[arg-type]
                rejects_path=rejects,
                delimiter=delimiter,
                progress=False if quiet else None,
                handicap_lines=choice(handicap_lines, "--handicap-lines", HandicapLines),
                to=choice(to, "--to", ("live", "archive")),
            )
        except OddskitError as exc:
            partial = getattr(exc, "report", None)
            if isinstance(partial, LoadReport):  # some files were committed: say which
                for result in partial.results:
                    out.print(str(result), soft_wrap=True, markup=False)
            raise
    for result in report.results:
        out.print(str(result), soft_wrap=True, markup=False)
    if len(report.results) > 1:
        out.print(str(report).splitlines()[-1], soft_wrap=True, markup=False)


@app.command("loads")
@friendly_errors
def loads_command(
    limit: Annotated[int, typer.Option(help="How many recent loads to list.")] = 20,
    fmt: FormatOption = "table",
) -> None:
    """List recent bulk loads: source, status, rows read/new/present/rejected.

    Loads whose loader is gone (killed, or cut off by a server restart) are marked
    failed first, as abandoned.
    """
    from oddskit.arguments import integer
    from oddskit.runs import close_abandoned_runs, recent_runs  # no Polars: answers at once

    fmt = check_format(fmt)
    limit = integer(limit, "limit")  # type: ignore[assignment]
    with open_database(quiet_stdout=fmt != "table") as db:
        close_abandoned_runs(db)
        runs = recent_runs(db, limit=limit, kind="load")
    columns = [
        Column("run", text=str, key="run_id"),
        Column("source"),
        Column("status"),
        Column("started (UTC)", key="started_at"),
        Column("read", number=True, key="rows_read"),
        Column("new", number=True, key="rows_loaded"),
        Column("present", number=True, key="rows_present"),
        Column("rejected", number=True, key="rows_rejected"),
    ]
    if fmt != "table":
        columns.insert(3, Column("error"))
    rows = []
    for row in runs:
        status = row["status"]
        if fmt == "table" and row["error"]:
            status = f"{status}: {row['error'][:60]}"
        values = [row["run_id"], row["source"], status, row["started_at"]]
        values += [row["rows_read"], row["rows_loaded"], row["rows_present"], row["rows_rejected"]]
        if fmt != "table":
            values.insert(3, row["error"])
        rows.append(values)
    print_table(columns, rows, fmt=fmt)


@app.command("sample")
@friendly_errors
def sample_command(
    path: Annotated[Path, typer.Argument(help="Output file, .csv or .parquet.")],
    rows: Annotated[int | None, typer.Option(help="Exact number of rows to write.")] = None,
    days: Annotated[int, typer.Option(help="Days of snapshots (ending now).")] = 3,
    events_per_day: Annotated[int, typer.Option(help="Matches per day.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 0,
    own_names: Annotated[
        bool,
        typer.Option(
            help="Each bookmaker spells teams and tournaments its own way and only Pinnacle "
            "has SportRadar ids (to see listings linked into matches by names)."
        ),
    ] = False,
) -> None:
    """Write realistic sample odds snapshots in oddskit's input format."""
    from oddskit.sample import write_sample

    summary = write_sample(
        path, rows=rows, days=days, events_per_day=events_per_day, seed=seed, own_names=own_names
    )
    out.print(
        f"Wrote {summary.rows:,} rows ({summary.events:,} events, "
        f"{len(summary.bookmakers)} bookmakers) to {summary.path} in {summary.seconds:.1f} s"
    )


def main() -> None:
    """Entry point of the ``oddskit`` console script."""
    try:
        app(prog_name="oddskit")
    except KeyboardInterrupt:  # outside a command (while starting up)
        err.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    sys.exit(main())
