"""The demo's own data set: where it lives, how it is recognised, how it is replaced.

Where. With no database URL anywhere (no argument, no ``ODDSKIT_DATABASE_URL`` or
``DATABASE_URL``), the demo and the example notebooks use a database of their own,
:data:`DEMO_DATABASE` (``oddskit_demo``), on the embedded local server, next to the
database ``oddskit`` that holds what you load yourself: demo data never mixes with
yours. With a URL, they use that database.

How it is recognised. The demo loads its sample through the real loader from a file
named after its options (``oddskit-demo_days-3_matches-100_seed-0.parquet``), so each
demo load is a lineage row (``scrape_runs``) whose source says so, and every snapshot
records its run. *Demo data* is exactly the snapshots of those runs.

How it is replaced. :func:`clear_demo_data` empties the oddskit tables only when
every load run and every snapshot in the database is the demo's (checked under locks
that keep loads out meanwhile); otherwise it changes nothing and says why. Data you
loaded yourself is never deleted, changed or mixed with a new demo set.

Examples
--------
>>> demo_file_name(days=3, events_per_day=100, seed=0)
'oddskit-demo_days-3_matches-100_seed-0.parquet'
>>> demo_options("/tmp/oddskit-demo-x1/oddskit-demo_days-1_matches-10_seed-3.parquet")
{'days': 1, 'events_per_day': 10, 'seed': 3}
>>> demo_options("day1.csv") is None
True
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql

from oddskit.connection import Database, connect, start_embedded_server
from oddskit.errors import OddskitError
from oddskit.loading import LoadReport, load
from oddskit.sample import DEFAULT_BOOKMAKERS, SampleSummary, write_sample
from oddskit.urls import parse_database_url, render_url, resolve_url

__all__ = [
    "DEMO_DATABASE",
    "DemoState",
    "clear_demo_data",
    "connect_demo",
    "demo_file_name",
    "demo_options",
    "demo_state",
    "ensure_demo_data",
    "has_recent_data",
    "write_demo_sample",
]

#: The demo's own database on the embedded local server.
DEMO_DATABASE = "oddskit_demo"

#: Default size of the demo data: days of snapshots ending now, and matches per day.
DEFAULT_DAYS = 3
DEFAULT_EVENTS_PER_DAY = 100

_DEMO_FILE = re.compile(r"oddskit-demo_days-(\d+)_matches-(\d+)_seed-(-?\d+)\.parquet$")

#: Every table that holds loaded data, children first (emptied by :func:`clear_demo_data`).
DATA_TABLES = (
    "market_odds",
    "odds_snapshots",
    "scrape_errors",
    "scrape_runs",
    "match_keys",
    "link_decisions",
    "team_aliases",
    "event_bookmakers",
    "events",
    "tournaments",
    "sports",
    "bookmakers",
)


def demo_file_name(*, days: int, events_per_day: int, seed: int) -> str:
    """The name of the demo's sample file: it records the demo's options in the lineage."""
    return f"oddskit-demo_days-{days}_matches-{events_per_day}_seed-{seed}.parquet"


def demo_options(source: str) -> dict[str, int] | None:
    """The options of a demo load from its lineage ``source``; ``None`` for any other load."""
    found = _DEMO_FILE.search(source)
    if found is None:
        return None
    days, events, seed = (int(g) for g in found.groups())
    return {"days": days, "events_per_day": events, "seed": seed}


def connect_demo(url: str | None = None) -> Database:
    """The database of the demo: ``url`` or the environment's, else :data:`DEMO_DATABASE`
    on the embedded local server (created when missing).

    Examples
    --------
    >>> with connect_demo(db.url) as demo_db:  # a URL given: that database
    ...     demo_db.source
    'argument'
    """
    resolved, source = resolve_url(url)
    if resolved is not None:
        return connect(url)
    admin = start_embedded_server()  # the user's database "oddskit": only its server is used
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
    params = {**parse_database_url(admin), "dbname": DEMO_DATABASE}
    return Database(render_url(params, masked=False), source=source)


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


@dataclass(frozen=True)
class DemoState:
    """What a database holds, as the demo sees it (see the module docstring).

    ``demo_runs``: ``(run id, started_at, options)`` of every demo load, oldest first.
    ``other_sources``: the sources of the other load and scrape runs. ``other_data``:
    whether a snapshot belongs to no demo load. ``newest``: the newest capture.
    """

    demo_runs: tuple[tuple[int, datetime, dict[str, int]], ...]
    other_sources: tuple[str, ...]
    other_data: bool
    newest: datetime | None

    @property
    def only_demo(self) -> bool:
        """Every run and every snapshot is the demo's (so the demo may replace them)."""
        return not self.other_sources and not self.other_data

    @property
    def made(self) -> tuple[datetime, dict[str, int]] | None:
        """When the newest demo data set was loaded, and with which options."""
        return self.demo_runs[-1][1:] if self.demo_runs else None  # type: ignore[return-value]

    def others(self) -> str:
        """The other loads in words, for messages."""
        n = len(self.other_sources)
        if not n:
            return "snapshots that no load recorded"
        shown = ", ".join(repr(s) for s in self.other_sources[:3]) + (", …" if n > 3 else "")
        return f"{n:,} load{'s' if n != 1 else ''} that the demo did not make ({shown})"


def demo_state(db: Database, conn: sa.Connection | None = None) -> DemoState:
    """Read :class:`DemoState` (on ``conn`` when given: inside its transaction).

    Examples
    --------
    >>> state = demo_state(db)  # the doctest database was loaded from a DataFrame
    >>> state.only_demo, state.demo_runs, state.other_sources
    (False, (), ('polars.DataFrame',))
    """
    if conn is None:
        with db.engine.connect() as own:
            return demo_state(db, own)
    demo: list[tuple[int, datetime, dict[str, int]]] = []
    others: list[str] = []
    for run_id, source, started in conn.execute(
        sa.text("SELECT id, source, started_at FROM scrape_runs ORDER BY id")
    ):
        options = demo_options(source)
        if options is None:
            others.append(source)
        else:
            demo.append((run_id, started, options))
    other_data, newest = conn.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM odds_snapshots "
            "WHERE run_id IS NULL OR run_id <> ALL(CAST(:ids AS bigint[]))), "
            "(SELECT max(captured_at) FROM odds_snapshots)"
        ),
        {"ids": [r[0] for r in demo]},
    ).one()
    return DemoState(tuple(demo), tuple(others), bool(other_data), newest)


def clear_demo_data(db: Database) -> DemoState:
    """Empty the oddskit tables of ``db`` if everything in them is the demo's data.

    Raises :class:`~oddskit.errors.OddskitError` (and changes nothing) when the
    database holds anything else. The check and the emptying run in one transaction
    that first locks out loads, so nothing loaded meanwhile can be lost. Partitions
    and the partition policy stay.

    Returns
    -------
    DemoState
        What the database held before.
    """
    with db.engine.begin() as conn:
        tables = sql.SQL(", ").join(sql.Identifier(t) for t in DATA_TABLES)
        raw = conn.connection.driver_connection
        raw.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(tables))
        state = demo_state(db, conn)
        if not state.only_demo:
            raise OddskitError(
                f"{db.masked_url} holds {state.others()}, so the demo will not replace "
                "anything in it: nothing was changed. `oddskit demo --fresh` replaces only "
                "the demo's own data set: run it without a database URL (the demo then uses "
                f"its own database, {DEMO_DATABASE}, on the embedded local server) or point "
                "it at an empty database."
            )
        # Prices and snapshots first: the reference triggers refuse to empty events or
        # bookmakers while snapshots still refer to them.
        for group in (DATA_TABLES[:2], DATA_TABLES[2:]):
            names = sql.SQL(", ").join(sql.Identifier(t) for t in group)
            raw.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(names))
    return state


def write_demo_sample(folder: Path, *, days: int, events_per_day: int, seed: int) -> SampleSummary:
    """Write the demo's sample (all four bookmakers, a snapshot every 5 minutes) in ``folder``."""
    return write_sample(
        folder / demo_file_name(days=days, events_per_day=events_per_day, seed=seed),
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
    """Load a demo data set into ``db`` unless it holds snapshots of the last ``days`` days.

    The sample (:func:`oddskit.sample.write_sample`: all four bookmakers, a snapshot
    every 5 minutes, ``days`` days of matches ending now) is written as Parquet to a
    temporary folder and loaded with :func:`oddskit.load`, so its lineage row says it
    is demo data. Nothing already in ``db`` is changed. The schema must exist
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
        sample = write_demo_sample(
            Path(folder), days=days, events_per_day=events_per_day, seed=seed
        )
        return load(sample.path, db=db, progress=progress)
