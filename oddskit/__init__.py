"""oddskit: bookmaker odds snapshots in partitioned PostgreSQL.

Example:
    >>> import oddskit
    >>> oddskit.resolve_url("postgresql://localhost/odds")
    ('postgresql://localhost/odds', 'argument')
"""

from oddskit.archive import archive_day, list_archives, write_archive
from oddskit.connection import Database, connect
from oddskit.errors import (
    ConfigurationError,
    ConfirmationRequired,
    DatabaseError,
    OddskitError,
    PartitionError,
    ValidationError,
)
from oddskit.loading import LoadReport, LoadResult, load
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

__version__ = "0.1.0"

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
    "resolve_url",
    "scan_archive",
    "set_policy",
    "write_archive",
]
