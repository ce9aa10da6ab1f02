"""oddskit: bookmaker odds snapshots in daily-partitioned PostgreSQL, analysed with Polars.

The main path, from a file of odds to a chart::

    import oddskit
    from oddskit.margins import remove_margin
    from oddskit.plots import plot_line_movement

    db = oddskit.connect()          # $ODDSKIT_DATABASE_URL, $DATABASE_URL, else an embedded server
    oddskit.migrate(db)             # create or upgrade the schema (safe to repeat)
    oddskit.load("snapshots.csv", db=db)              # CSV, Parquet, Arrow, Polars
    history = oddskit.fetch_odds_history(db, markets="1x2", since=..., until=...)
    fair = remove_margin(history, method="shin")      # fair probabilities per market
    plot_line_movement(history, event_id=history["event_id"][0], market="1x2").show()

Where to look next:

* ``oddskit.queries`` (``fetch_*``, also here): events, history, the latest/opening/closing
  board, coverage and load runs, as Polars frames, live and archived days alike;
  ``oddskit.scan_archive``: the Parquet archive of days past retention as a LazyFrame;
* ``oddskit.margins``: overround and margin removal; ``oddskit.movement``: line movement,
  steam, lead–lag, best prices, consensus, arbitrage, closing-line value;
* ``oddskit.plots``: Plotly charts of all of these;
* ``oddskit.sample``: realistic sample data; ``oddskit.demo``: the demo and its report;
* the command line: ``oddskit --help``; the guide: README.md; the argument vocabulary:
  docs/vocabulary.md.

Example:
    >>> import oddskit
    >>> oddskit.resolve_url("postgresql://localhost/odds")
    ('postgresql://localhost/odds', 'argument')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oddskit.errors import (
    ConfigurationError,
    ConfirmationRequired,
    DatabaseError,
    OddskitError,
    PartitionError,
    ValidationError,
)

__version__ = "0.1.0"

#: The public API, by the module that holds it. Imported on first use, so that
#: ``import oddskit`` (and the command line) does not load Polars, Arrow, SQLAlchemy
#: and Alembic before it needs them.
_EXPORTS: dict[str, str] = {
    "archive_day": "oddskit.archive",
    "list_archives": "oddskit.archive",
    "write_archive": "oddskit.archive",
    "Database": "oddskit.connection",
    "connect": "oddskit.connection",
    "LoadReport": "oddskit.loading",
    "LoadResult": "oddskit.loading",
    "load": "oddskit.loading",
    "ensure_partitions": "oddskit.partitions",
    "get_policy": "oddskit.partitions",
    "list_partitions": "oddskit.partitions",
    "maintain": "oddskit.partitions",
    "set_policy": "oddskit.partitions",
    "fetch_closing_odds": "oddskit.queries",
    "fetch_coverage": "oddskit.queries",
    "fetch_events": "oddskit.queries",
    "fetch_gaps": "oddskit.queries",
    "fetch_latest_odds": "oddskit.queries",
    "fetch_load_runs": "oddskit.queries",
    "fetch_odds_history": "oddskit.queries",
    "fetch_opening_odds": "oddskit.queries",
    "fetch_run_errors": "oddskit.queries",
    "downgrade": "oddskit.schema",
    "migrate": "oddskit.schema",
    "scan_archive": "oddskit.queries_archive",
    "mask_url": "oddskit.urls",
    "read_football_data": "oddskit.football_data",
    "read_odds_api": "oddskit.odds_api",
    "resolve_url": "oddskit.urls",
}

__all__ = [
    "ConfigurationError",
    "ConfirmationRequired",
    "Database",
    "DatabaseError",
    "LoadReport",
    "LoadResult",
    "OddskitError",
    "PartitionError",
    "ValidationError",
    "archive_day",
    "connect",
    "downgrade",
    "ensure_partitions",
    "fetch_closing_odds",
    "fetch_coverage",
    "fetch_events",
    "fetch_gaps",
    "fetch_latest_odds",
    "fetch_load_runs",
    "fetch_odds_history",
    "fetch_opening_odds",
    "fetch_run_errors",
    "get_policy",
    "list_archives",
    "list_partitions",
    "load",
    "maintain",
    "mask_url",
    "migrate",
    "read_football_data",
    "read_odds_api",
    "resolve_url",
    "scan_archive",
    "set_policy",
    "write_archive",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'oddskit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # for type checkers and editors: the names as if imported here
    from oddskit.archive import archive_day, list_archives, write_archive
    from oddskit.connection import Database, connect
    from oddskit.football_data import read_football_data
    from oddskit.loading import LoadReport, LoadResult, load
    from oddskit.odds_api import read_odds_api
    from oddskit.partitions import (
        ensure_partitions,
        get_policy,
        list_partitions,
        maintain,
        set_policy,
    )
    from oddskit.queries import (
        fetch_closing_odds,
        fetch_coverage,
        fetch_events,
        fetch_gaps,
        fetch_latest_odds,
        fetch_load_runs,
        fetch_odds_history,
        fetch_opening_odds,
        fetch_run_errors,
    )
    from oddskit.queries_archive import scan_archive
    from oddskit.schema import downgrade, migrate
    from oddskit.urls import mask_url, resolve_url
