"""``oddskit demo``: a database with realistic odds, an analysis and an HTML report, end to end.

:func:`run_demo` opens the demo's database (its own, ``oddskit_demo`` on the embedded
local server, unless a URL is given or set: see :mod:`oddskit.demo_data`), creates the
schema, loads a demo data set through the real loader when there is none recent
(``fresh=True``: a new one, replacing the old one; data you loaded yourself is never
touched), analyses it (margins, biggest movers, coverage) and writes a self-contained
HTML report (:mod:`oddskit.report`). It says each thing once, as it goes, and times
every step.

Words: a *match* is one fixture (a row of ``events``); a *listing* is one bookmaker's
offer of a match, under its own event id. A listing that the loader could not link to
a match of another bookmaker (no shared SportRadar id) counts as a match of its own.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from oddskit.demo import run_demo
>>> summary = run_demo(days=3650, output=Path(tempfile.mkdtemp()) / "demo.html", echo=None)
>>> summary.seeded, summary.report.name  # the database holds data loaded by someone else
(False, 'demo.html')
>>> print(summary.timings_text)
connect ... s, migrate ... s, analyse ... s, report ... s, total ... s
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import polars as pl

from oddskit.connection import Database
from oddskit.demo_data import (
    DEFAULT_DAYS,
    DEFAULT_EVENTS_PER_DAY,
    DEMO_DATABASE,
    clear_demo_data,
    connect_demo,
    demo_state,
    ensure_demo_data,
    has_recent_data,
    write_demo_sample,
)
from oddskit.loading import LoadReport, load
from oddskit.report import ReportData, collect_report_data, summary_lines, write_report
from oddskit.report_data import describe_database
from oddskit.sample import DEFAULT_BOOKMAKERS
from oddskit.schema import migrate

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_EVENTS_PER_DAY",
    "DEMO_DATABASE",
    "DemoSummary",
    "ensure_demo_data",
    "has_recent_data",
    "open_demo_database",
    "run_demo",
]

#: Where ``oddskit demo`` writes its report by default (in the working folder).
DEFAULT_OUTPUT = Path("oddskit-demo-report.html")

Echo = Callable[[str], object]

_OPTION_NAMES = {"days": "--days", "events_per_day": "--events-per-day", "seed": "--seed"}


def _options_text(options: dict[str, int]) -> str:
    return " ".join(f"{_OPTION_NAMES[k]} {v}" for k, v in options.items())


def _timings_text(timings: dict[str, float]) -> str:
    steps = [f"{name} {seconds:.1f} s" for name, seconds in timings.items()]
    return ", ".join([*steps, f"total {sum(timings.values()):.1f} s"])


def open_demo_database(
    url: str | None = None,
    *,
    days: int = DEFAULT_DAYS,
    events_per_day: int = DEFAULT_EVENTS_PER_DAY,
    echo: Echo = print,
) -> Database:
    """Connect, migrate and load demo data when needed: the first cell of the example notebooks.

    Opens the demo's database (:func:`oddskit.demo_data.connect_demo`: ``url``, else
    the environment's, else ``oddskit_demo`` on the embedded local server), brings the
    schema to the latest revision and calls :func:`ensure_demo_data`; says through
    ``echo`` which database it is and whether demo data was loaded.

    Parameters
    ----------
    url
        A database URL; default: oddskit's resolution order, else the demo's own database.
    days, events_per_day
        Size of the demo data loaded into a database without recent odds.
    echo
        Receives the messages (default: ``print``).

    Returns
    -------
    Database
        The open database (close it when done).

    Examples
    --------
    >>> demo_db = open_demo_database(days=3650)
    Database: ... (from ODDSKIT_DATABASE_URL)
    It holds odds of the last 3650 days: nothing generated.
    >>> demo_db.close()
    """
    db = connect_demo(url)
    echo(f"Database: {describe_database(db)}")
    migrate(db)
    report = ensure_demo_data(db, days=days, events_per_day=events_per_day, progress=False)
    if report is None:
        echo(f"It holds odds of the last {days} days: nothing generated.")
    else:
        echo(f"Loaded a demo data set: {report.rows_loaded:,} prices, {days} days ending now.")
    return db


@dataclass(frozen=True, eq=False)
class DemoSummary:
    """What :func:`run_demo` did and found; ``str()`` gives what it said, line by line."""

    database: str
    report: Path
    seeded: bool
    load: LoadReport | None
    sample_rows: int | None
    data: ReportData
    timings: dict[str, float] = field(default_factory=dict)
    lines: tuple[str, ...] = ()

    @property
    def margins(self) -> pl.DataFrame:
        """Mean closing overround (%) by bookmaker × market."""
        return self.data.margins

    @property
    def movers(self) -> pl.DataFrame:
        """One row per match and main market with its biggest move, biggest first."""
        return self.data.movers

    @property
    def coverage(self) -> pl.DataFrame:
        """Snapshots and listings per bookmaker."""
        return self.data.coverage

    @property
    def timings_text(self) -> str:
        """``"connect 0.4 s, migrate 0.3 s, …, total 52.0 s"``."""
        return _timings_text(self.timings)

    @property
    def text(self) -> str:
        """Everything the demo said, each thing once."""
        return "\n".join(self.lines)

    def __str__(self) -> str:
        return self.text


def run_demo(
    *,
    url: str | None = None,
    days: int = DEFAULT_DAYS,
    events_per_day: int = DEFAULT_EVENTS_PER_DAY,
    seed: int = 0,
    fresh: bool = False,
    output: str | Path = DEFAULT_OUTPUT,
    progress: bool | None = None,
    echo: Echo | None = print,
) -> DemoSummary:
    """Open the demo's database, load a demo data set if needed, analyse, write the report.

    Parameters
    ----------
    url
        A database URL; default: ``ODDSKIT_DATABASE_URL``, ``DATABASE_URL``, else the
        demo's own database ``oddskit_demo`` on the embedded local server.
    days
        Days of demo odds (ending now) to generate.
    events_per_day
        Matches per day of the demo data.
    seed
        Random seed of the demo data.
    fresh
        Replace the demo data set with a new one made with these options. Refused
        (nothing changed) when the database holds data that the demo did not load.
    output
        Where to write the HTML report.
    progress
        The loader's progress bar; default: when stderr is a terminal.
    echo
        Receives each line as it is said; ``None`` for silence.

    Without ``fresh``, an existing recent demo data set is reused (the options that
    differ from the ones it was made with are said to be ignored); one with no odds
    of the last ``days`` days is replaced. A database holding data that the demo did
    not load gets nothing generated: the report covers the newest ``days`` days of it.

    Returns
    -------
    DemoSummary
        What was done and found; ``str()`` gives what was said.

    Examples
    --------
    See the module docstring.
    """
    lines: list[str] = []

    def say(line: str = "") -> None:
        lines.append(line)
        if echo is not None:
            echo(line)

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = now - clock
        clock = now

    wanted = {"days": days, "events_per_day": events_per_day, "seed": seed}
    db = connect_demo(url)
    try:
        description = describe_database(db)
        say(f"Database: {description}")
        lap("connect")
        revision = migrate(db)
        lap("migrate")
        say(f"Schema at revision {revision}")
        state = demo_state(db)
        report: LoadReport | None = None
        rows: int | None = None
        lookback = timedelta(days=days)
        if not state.only_demo and state.newest is not None:
            if fresh:
                clear_demo_data(db)  # raises: it holds data the demo did not load
            say(
                f"It holds {state.others()}: the demo generates nothing here and reports "
                f"on the newest {days} days of those odds (--events-per-day and --seed "
                "do not apply)."
            )
        else:
            made = state.made
            if made and not fresh and has_recent_data(db, days=days):
                when, options = made
                ignored = {k: v for k, v in wanted.items() if options.get(k) != v}
                text = (
                    f"Reusing the demo data set made {when:%Y-%m-%d %H:%M} UTC with "
                    f"{_options_text(options)}"
                )
                if ignored:
                    text += f"; {_options_text(ignored)} ignored"
                say(f"{text}. `oddskit demo --fresh` makes a new one.")
                lookback = timedelta(days=options["days"])
            else:
                if state.newest is not None:
                    clear_demo_data(db)
                    why = "as asked (--fresh)" if fresh else f"none of it is {days} days recent"
                    say(f"Replacing the demo data set: {why}.")
                with tempfile.TemporaryDirectory(prefix="oddskit-demo-") as folder:
                    say(
                        f"Generating demo odds: {_options_text(wanted)} ({len(DEFAULT_BOOKMAKERS)} "
                        "bookmakers, a snapshot every 5 minutes) …"
                    )
                    sample = write_demo_sample(Path(folder), **wanted)
                    rows = sample.rows
                    lap("generate")
                    report = load(sample.path, db=db, progress=progress)
                    lap("load")
                    say(
                        f"Loaded {report.rows_loaded:,} prices ({report.results[0].snapshots_new:,}"
                        f" snapshots) through the loader in {report.seconds:.1f} s."
                    )
        data = collect_report_data(db, lookback=lookback)
        lap("analyse")
        path = write_report(db, output, data=data, title="oddskit demo report").resolve()
        lap("report")
        say()
        for line in summary_lines(data):
            say(line)
        say()
        say(f"Report: {path}")
        say(f"        {path.as_uri()}")
        say(f"Timings: {_timings_text(timings)}")
        return DemoSummary(
            database=description,
            report=path,
            seeded=report is not None,
            load=report,
            sample_rows=rows,
            data=data,
            timings=timings,
            lines=tuple(lines),
        )
    finally:
        db.close()
