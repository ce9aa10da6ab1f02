"""``oddskit import football-data …`` and ``oddskit import odds-api …``: read and load.

Each file is read into oddskit's input format (:mod:`oddskit.football_data`,
:mod:`oddskit.odds_api`) and loaded like any source, one file at a time (memory is
bounded by one file), all in one load (:func:`oddskit.loading.load_each`).
``--to archive`` puts history straight into the Parquet archive: every file is checked
and linked, then the prices are merged into the archive's day files, each once (files
of leagues that share match days do not rewrite each other's days); ``--to live``
loads the live tables (whose retention window refuses old rows).

Example:
    $ oddskit import football-data E0.csv SP1.csv --to archive
    $ oddskit import odds-api snapshots/*.json
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from oddskit.cli_output import friendly_errors, open_database, out

import_app = typer.Typer(
    help="Import public odds formats (football-data.co.uk CSVs, The Odds API JSON) and load them.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs 0.1-0.3 s
)

ToOption = Annotated[
    str,
    typer.Option(
        help="archive (the default for football-data): straight to the Parquet archive, for "
        "history; live: the live tables (rows older than the retention window are refused).",
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _files(paths: list[str], suffixes: tuple[str, ...]) -> list[Path]:
    """The files named (folders: their files with ``suffixes``, sorted)."""
    from oddskit.errors import ValidationError

    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
        elif path.is_file():
            files.append(path)
        else:
            raise ValidationError(f"{text} does not exist (or is not a file or folder).")
    if not files:
        raise ValidationError(f"No {'/'.join(suffixes)} files in {', '.join(paths)}.")
    return files


def _load_each(
    files: list[Path], read: Callable[[Path], Iterator], *, to: str, quiet: bool
) -> None:
    """Read and load the files in one load (each file a source, read when its turn
    comes); print each one's result. To the archive, each day file is written once,
    after every file was checked and linked."""
    from oddskit.arguments import choice
    from oddskit.errors import OddskitError
    from oddskit.loading import LoadReport, Unreadable, load_each
    from oddskit.sources import Source

    destination = choice(to, "--to", ("live", "archive"))

    def sources() -> Iterator[Source | Unreadable]:
        for path in files:
            try:
                for frame in read(path):
                    yield Source(str(path), "polars", obj=frame)
            except OddskitError as exc:  # refused like a file with bad rows; go on
                yield Unreadable(str(path), exc)

    show = sys.stderr.isatty() and not quiet
    with open_database() as db:
        try:
            report = load_each(db, sources(), len(files), None, to=destination, progress=show)
        except OddskitError as exc:  # the files committed, then what became of the others
            for result in getattr(exc, "report", LoadReport()).results:
                out.print(str(result), soft_wrap=True, markup=False)
            raise
    for result in report.results:
        out.print(str(result), soft_wrap=True, markup=False)


@import_app.command("football-data")
@friendly_errors
def football_data_command(
    paths: Annotated[list[str], typer.Argument(help="football-data.co.uk CSV files or folders.")],
    to: ToOption = "archive",
    aggregates: Annotated[
        bool,
        typer.Option(
            help="Also load the market maximum and average (as books named "
            "'football-data max (aggregate)' and 'football-data average (aggregate)')."
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Import football-data.co.uk season files: opening and closing prices of each match."""
    from oddskit.football_data import iter_football_data

    files = _files(paths, (".csv",))
    _load_each(
        files,
        lambda path: iter_football_data(path, aggregates=aggregates),
        to=to,
        quiet=quiet,
    )


@import_app.command("odds-api")
@friendly_errors
def odds_api_command(
    paths: Annotated[list[str], typer.Argument(help="The Odds API JSON files or folders.")],
    to: ToOption = "live",
    odds_format: Annotated[
        str,
        typer.Option(
            help="decimal, american, or auto (american when a price is negative or all are "
            "100 or more)."
        ),
    ] = "auto",
    quiet: QuietOption = False,
) -> None:
    """Import The Odds API (v4) responses, live or historical snapshots."""
    from oddskit.arguments import choice
    from oddskit.odds_api import iter_odds_api

    fmt = choice(odds_format, "--odds-format", ("auto", "decimal", "american"))
    files = _files(paths, (".json", ".jsonl"))
    _load_each(files, lambda path: iter_odds_api(path, odds_format=fmt), to=to, quiet=quiet)
