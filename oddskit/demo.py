"""``oddskit demo``: a database with realistic odds, an analysis and an HTML report, end to end.

:func:`run_demo` connects (the embedded local server unless a URL is given or set),
creates the schema, seeds the database with the sample generator when it holds no
recent odds (:func:`ensure_demo_data`: a Parquet file loaded through the real
loader), analyses the data (margins, biggest movers, coverage) and writes a
self-contained HTML report (:mod:`oddskit.report`). Every step is timed.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from oddskit.demo import run_demo
>>> summary = run_demo(days=3650, output=Path(tempfile.mkdtemp()) / "demo.html", echo=None)
>>> summary.seeded, summary.report.name  # the database already held odds of those days
(False, 'demo.html')
>>> print(summary.timings_text)
connect ... s, migrate ... s, analyse ... s, report ... s, total ... s
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from oddskit.connection import Database, connect
from oddskit.loading import LoadReport, load
from oddskit.report import ReportData, collect_report_data, summary_lines, write_report
from oddskit.sample import DEFAULT_BOOKMAKERS, SampleSummary, write_sample
from oddskit.schema import migrate

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_EVENTS_PER_DAY",
    "DemoSummary",
    "ensure_demo_data",
    "open_demo_database",
    "run_demo",
]

#: Default size of the demo data: days of snapshots ending now, and matches per day.
DEFAULT_DAYS = 3
DEFAULT_EVENTS_PER_DAY = 100

Echo = Callable[[str], object]


def has_recent_data(db: Database, *, days: float) -> bool:
    """Whether ``db`` holds an odds snapshot captured in the last ``days`` days.

    Examples
    --------
    >>> has_recent_data(db, days=3650), has_recent_data(db, days=0)
    (True, False)
    """
    since = datetime.now(UTC) - timedelta(days=days)
    with db.engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text("SELECT EXISTS (SELECT 1 FROM odds_snapshots WHERE captured_at >= :since)"),
                {"since": since},
            ).scalar()
        )


def _write_demo_sample(folder: Path, *, days: int, events_per_day: int, seed: int) -> SampleSummary:
    return write_sample(
        folder / "oddskit-demo.parquet",
        days=days,
        events_per_day=events_per_day,
        bookmakers=DEFAULT_BOOKMAKERS,
        interval_minutes=5,
        seed=seed,
    )


def ensure_demo_data(
    db: Database,
    *,
    days: int = DEFAULT_DAYS,
    events_per_day: int = DEFAULT_EVENTS_PER_DAY,
    seed: int = 0,
    progress: bool | None = None,
) -> LoadReport | None:
    """Seed ``db`` with sample odds unless it holds snapshots of the last ``days`` days.

    The sample (:func:`oddskit.sample.write_sample`: all four bookmakers, a snapshot
    every 5 minutes, ``days`` days of matches ending now) is written as Parquet to a
    temporary folder and loaded with :func:`oddskit.load`. The schema must exist
    (:func:`oddskit.migrate`). Loading the same sample again adds nothing.

    Parameters
    ----------
    db
        The database.
    days
        Days of sample odds, ending now (and how recent existing odds must be).
    events_per_day
        Matches per day.
    seed
        Random seed of the sample.
    progress
        Show the loader's progress bar; default: when stderr is a terminal.

    Returns
    -------
    LoadReport | None
        The load's report, or ``None`` when the database already had recent data.

    Examples
    --------
    >>> ensure_demo_data(db, days=3650) is None  # odds of the last ten years are there
    True
    """
    if has_recent_data(db, days=days):
        return None
    with tempfile.TemporaryDirectory(prefix="oddskit-demo-") as folder:
        sample = _write_demo_sample(
            Path(folder), days=days, events_per_day=events_per_day, seed=seed
        )
        return load(sample.path, db=db, progress=progress)


def open_demo_database(
    url: str | None = None,
    *,
    days: int = DEFAULT_DAYS,
    events_per_day: int = DEFAULT_EVENTS_PER_DAY,
    echo: Echo = print,
) -> Database:
    """Connect, migrate and seed when needed: the first cell of the example notebooks.

    Uses :func:`oddskit.connect` (``url``, else the environment, else the embedded
    server), brings the schema to the latest revision and calls
    :func:`ensure_demo_data`; says through ``echo`` which database it is and whether
    sample data was loaded.

    Parameters
    ----------
    url
        A database URL; default: oddskit's resolution order.
    days, events_per_day
        Size of the sample odds loaded into a database without recent odds.
    echo
        Receives the messages (default: ``print``).

    Returns
    -------
    Database
        The open database (close it when done).

    Examples
    --------
    >>> demo_db = open_demo_database(days=3650)
    postgresql://... (from ODDSKIT_DATABASE_URL)
    The database already holds recent odds; nothing generated.
    >>> demo_db.close()
    """
    db = connect(url)
    echo(db.description)
    migrate(db)
    report = ensure_demo_data(db, days=days, events_per_day=events_per_day, progress=False)
    if report is None:
        echo("The database already holds recent odds; nothing generated.")
    else:
        echo(
            f"Seeded with sample data: {report.rows_read:,} rows read, "
            f"{report.rows_loaded:,} new, {report.rows_present:,} already present"
        )
    return db


@dataclass(frozen=True, eq=False)
class DemoSummary:
    """What :func:`run_demo` did and found; ``str()`` gives the text summary."""

    database: str
    report: Path
    seeded: bool
    load: LoadReport | None
    sample_rows: int | None
    data: ReportData
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def margins(self) -> pl.DataFrame:
        """Mean closing overround (%) by bookmaker × market."""
        return self.data.margins

    @property
    def movers(self) -> pl.DataFrame:
        """One row per event with its biggest 1x2 move, biggest first."""
        return self.data.movers

    @property
    def coverage(self) -> pl.DataFrame:
        """Snapshots and events per bookmaker."""
        return self.data.coverage

    @property
    def timings_text(self) -> str:
        """``"connect 0.4 s, migrate 0.3 s, …, total 52.0 s"``."""
        steps = [f"{name} {seconds:.1f} s" for name, seconds in self.timings.items()]
        return ", ".join([*steps, f"total {sum(self.timings.values()):.1f} s"])

    @property
    def text(self) -> str:
        """The text summary: database, what was loaded, data, margins, movers, coverage."""
        if self.seeded and self.load is not None:
            loaded = (
                f"Seeded with sample data: {self.load.rows_read:,} rows read, "
                f"{self.load.rows_loaded:,} new, {self.load.rows_present:,} already present"
            )
        else:
            loaded = "The database already holds recent odds: no sample data generated."
        return "\n".join(
            [
                f"Database: {self.database}",
                loaded,
                *summary_lines(self.data),
                "",
                f"Report: {self.report}",
                f"Timings: {self.timings_text}",
            ]
        )

    def __str__(self) -> str:
        return self.text


def run_demo(
    *,
    url: str | None = None,
    days: int = DEFAULT_DAYS,
    events_per_day: int = DEFAULT_EVENTS_PER_DAY,
    seed: int = 0,
    output: str | Path = Path("oddskit-demo-report.html"),
    progress: bool | None = None,
    echo: Echo | None = print,
) -> DemoSummary:
    """Connect, migrate, seed when empty, analyse, write the HTML report; time each step.

    Parameters
    ----------
    url
        A database URL; default: oddskit's resolution order (``ODDSKIT_DATABASE_URL``,
        ``DATABASE_URL``, else the embedded local server).
    days
        Days of sample odds (ending now) to generate when the database has none that
        recent; the report covers the last ``days`` days of captures.
    events_per_day
        Matches per day of the sample.
    seed
        Random seed of the sample.
    output
        Where to write the HTML report.
    progress
        The loader's progress bar; default: when stderr is a terminal.
    echo
        Receives one line per step; ``None`` for silence.

    Returns
    -------
    DemoSummary
        What was done and found; ``str()`` gives the text summary.

    Examples
    --------
    See the module docstring.
    """
    say: Echo = echo or (lambda _line: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = now - clock
        clock = now

    db = connect(url)
    try:
        say(f"Database: {db.description}")
        lap("connect")
        revision = migrate(db)
        lap("migrate")
        say(f"Schema at revision {revision}")
        report: LoadReport | None = None
        rows: int | None = None
        if has_recent_data(db, days=days):
            say(f"The database holds odds of the last {days} days: skipping the sample data.")
        else:
            with tempfile.TemporaryDirectory(prefix="oddskit-demo-") as folder:
                say(
                    f"Generating sample odds: {days} days × {events_per_day} matches, "
                    f"{len(DEFAULT_BOOKMAKERS)} bookmakers, a snapshot every 5 minutes …"
                )
                sample = _write_demo_sample(
                    Path(folder), days=days, events_per_day=events_per_day, seed=seed
                )
                rows = sample.rows
                lap("generate")
                say(f"Wrote {sample.rows:,} rows ({sample.events:,} matches); loading them …")
                report = load(sample.path, db=db, progress=progress)
                lap("load")
                say(str(report).replace(str(sample.path), "sample"))
        say("Analysing …")
        data = collect_report_data(db, lookback=timedelta(days=days))
        lap("analyse")
        path = write_report(db, output, data=data, title="oddskit demo report")
        lap("report")
        say(f"Report written to {path}")
        summary = DemoSummary(
            database=db.description,
            report=path,
            seeded=report is not None,
            load=report,
            sample_rows=rows,
            data=data,
            timings=timings,
        )
        say("")
        say(summary.text)
        return summary
    finally:
        db.close()
