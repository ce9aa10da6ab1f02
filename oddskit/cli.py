"""The ``oddskit`` command line: a thin shell over the library.

Each command parses its options, calls one library function and prints the result.
Library errors become ``Error: …`` on stderr with exit code 1 and no traceback.

Example:
    $ oddskit migrate
    $ oddskit partitions
    $ oddskit --database-url postgresql://user@host/odds maintain
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from oddskit.connection import Database, connect
from oddskit.errors import ConfigurationError, OddskitError
from oddskit.partitions import (
    MaintenanceReport,
    detect_backend,
    get_policy,
    list_partitions,
    maintain,
    require_aware,
    server_versions,
    set_policy,
)
from oddskit.queries import fetch_load_runs
from oddskit.schema import BACKENDS, current_revision, head_revision, migrate

app = typer.Typer(
    name="oddskit",
    help="Bookmaker odds snapshots in partitioned PostgreSQL: load, query, analyse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Off a terminal (pipes, CI, tests) rich would wrap at 80 columns: give it room.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Options shared by every command."""

    url: str | None = None


def friendly_errors(command: F) -> F:
    """Turn oddskit errors into ``Error: …`` and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OddskitError as exc:
            err.print(f"[bold red]Error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def parse_instant(text: str, option: str) -> datetime:
    """Parse an ISO 8601 instant that must carry a UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"{option} must be an ISO 8601 time such as 2026-12-31T00:00:00+00:00, got {text!r}"
        ) from None
    return require_aware(value, option)


def open_database() -> Database:
    """Connect following the resolution order and say which database is in use."""
    db = connect(State.url)
    out.print(f"Database: {db.description}", soft_wrap=True)
    return db


@app.callback()
def main_options(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            "-d",
            help="PostgreSQL URL. Default: $ODDSKIT_DATABASE_URL, $DATABASE_URL, "
            "else the embedded local server.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Bookmaker odds snapshots in partitioned PostgreSQL: load, query, analyse."""
    State.url = database_url


@app.command("demo")
@friendly_errors
def demo_command(
    days: Annotated[int, typer.Option(help="Days of sample odds (ending now).")] = 3,
    events_per_day: Annotated[int, typer.Option(help="Matches per day.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed of the sample data.")] = 0,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the HTML report.")
    ] = Path("oddskit-demo-report.html"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Seed a database with sample odds if it has none, analyse them, write an HTML report."""
    from oddskit.demo import run_demo

    run_demo(
        url=State.url,
        days=days,
        events_per_day=events_per_day,
        seed=seed,
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


def notice(message: str) -> None:
    """Print a one-line notice on stderr (data never rendered as markup)."""
    err.print(f"Notice: {message}", soft_wrap=True, markup=False)


def name_list(names: list[str]) -> str:
    """Partition names for one line: all of a few, the first and last of many."""
    if not names:
        return "-"
    return ", ".join(names) if len(names) <= 6 else f"{names[0]}, …, {names[-1]}"


@app.command("partitions")
@friendly_errors
def partitions_command() -> None:
    """Show the partition backend, the policy, and every partition with its rows."""
    with open_database() as db:
        if current_revision(db) is None:
            raise OddskitError("This database has no oddskit schema. Run `oddskit migrate` first.")
        policy = get_policy(db)
        with db.engine.connect() as conn:
            backend = detect_backend(conn)
        versions = server_versions(db)
        partman = f", pg_partman {versions.pg_partman}" if backend == "pg_partman" else ""
        out.print(f"Server: PostgreSQL {versions.postgresql}{partman}", markup=False)
        retention = f"{policy.retention_days} days" if policy.retention_days else "none (keep all)"
        out.print(
            f"Backend: {backend}   premake: {policy.premake_days} days   retention: {retention}"
        )
        table = Table("parent", "partition", "from (UTC)", "to (UTC)", "rows")
        stranded = []
        for p in list_partitions(db):
            lower = p.lower.strftime("%Y-%m-%d %H:%M") if p.lower else "DEFAULT"
            upper = p.upper.strftime("%Y-%m-%d %H:%M") if p.upper else ""
            table.add_row(p.parent, p.name, lower, upper, f"{p.rows:,}")
            if p.is_default and p.rows:
                stranded.append(p)
        out.print(table)
        for p in stranded:
            err.print(
                f"[bold red]WARNING:[/] {p.rows:,} rows sit in the default partition {p.name}. "
                "They are invisible to retention and block creating their day's partition. "
                "With pg_partman, move them out with "
                f"SELECT partman.partition_data_time('public.{p.parent}');",
                soft_wrap=True,
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
    clock = parse_instant(now, "--now") if now else None
    with open_database() as db:
        report = maintain(db, now=clock)
    print_maintenance(report)


def print_maintenance(report: MaintenanceReport) -> None:
    """What a maintenance run created, dropped and moved, and what it warns about."""
    out.print(f"Backend: {report.backend}")
    out.print(f"Created {len(report.created):,} partitions: {name_list(report.created)}")
    dropped = f"Dropped {len(report.dropped):,} partitions: {name_list(report.dropped)}"
    if report.dropped:
        dropped += f" ({report.transactions:,} transactions)"
    out.print(dropped)
    for name, rows in report.moved_from_default.items():
        out.print(f"Moved {rows:,} rows out of the default partition {name}.")
    for name, rows in report.default_rows.items():
        err.print(f"[bold red]WARNING:[/] {rows:,} rows sit in the default partition {name}.")
    if report.notice:
        notice(report.notice)


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
    """Show or change the partition policy (premake and retention).

    A change is applied at once: maintenance runs right after it.
    """
    with open_database() as db:
        if retention_days is None and premake_days is None:
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
                confirm=yes,
            )
            report = maintain(db)
    retention_text = f"{policy.retention_days} days" if policy.retention_days else "none"
    out.print(f"premake: {policy.premake_days} days   retention: {retention_text}")
    if report is not None:
        print_maintenance(report)


@app.command("load")
@friendly_errors
def load_command(
    paths: Annotated[
        list[str], typer.Argument(help="CSV or Parquet files, folders or globs of them.")
    ],
    on_error: Annotated[
        str,
        typer.Option(
            help="'raise': refuse a file with any bad row (nothing of it is written). "
            "'skip': load the good rows, write the bad ones with a reason to a rejects file."
        ),
    ] = "raise",
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where --on-error skip writes rejected rows (default FILE.rejects.csv)."),
    ] = None,
    delimiter: Annotated[str, typer.Option(help="CSV field delimiter.")] = ",",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Load odds snapshots (oddskit's input format) from CSV or Parquet files."""
    from oddskit.loading import load

    with open_database() as db:
        report = load(
            paths,
            db=db,
            on_error=on_error,  # type: ignore[arg-type]
            rejects_path=rejects,
            delimiter=delimiter,
            progress=False if quiet else None,
        )
    for result in report.results:
        out.print(str(result), soft_wrap=True)
    if len(report.results) > 1:
        out.print(str(report).splitlines()[-1], soft_wrap=True)


@app.command("loads")
@friendly_errors
def loads_command(
    limit: Annotated[int, typer.Option(help="How many recent loads to list.")] = 20,
) -> None:
    """List recent bulk loads: source, status, rows read/new/present/rejected."""
    with open_database() as db:
        frame = fetch_load_runs(db, limit=limit, kind="load")
    table = Table("run", "source", "status", "started (UTC)", "read", "new", "present", "rejected")
    for row in frame.iter_rows(named=True):
        status = row["status"] if not row["error"] else f"{row['status']}: {row['error'][:60]}"
        table.add_row(
            str(row["run_id"]),
            row["source"],
            status,
            f"{row['started_at']:%Y-%m-%d %H:%M:%S}",
            f"{row['rows_read']:,}",
            f"{row['rows_loaded']:,}",
            f"{row['rows_present']:,}",
            f"{row['rows_rejected']:,}",
        )
    out.print(table)


@app.command("sample")
@friendly_errors
def sample_command(
    path: Annotated[Path, typer.Argument(help="Output file, .csv or .parquet.")],
    rows: Annotated[int | None, typer.Option(help="Exact number of rows to write.")] = None,
    days: Annotated[int, typer.Option(help="Days of snapshots (ending now).")] = 3,
    events_per_day: Annotated[int, typer.Option(help="Matches per day.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 0,
) -> None:
    """Write realistic sample odds snapshots in oddskit's input format."""
    from oddskit.sample import write_sample

    summary = write_sample(path, rows=rows, days=days, events_per_day=events_per_day, seed=seed)
    out.print(
        f"Wrote {summary.rows:,} rows ({summary.events:,} events, "
        f"{len(summary.bookmakers)} bookmakers) to {summary.path} in {summary.seconds:.1f} s"
    )


def main() -> None:
    """Entry point of the ``oddskit`` console script."""
    app(prog_name="oddskit")


if __name__ == "__main__":
    sys.exit(main())
