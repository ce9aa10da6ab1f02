"""What a database offers oddskit: the partition backend in use, versions, and roles.

Example:
    >>> str(ServerVersions("15.20", "4.7.2"))
    'PostgreSQL 15.20, pg_partman 4.7.2'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from oddskit.connection import Database
from oddskit.errors import ConfigurationError

BackendName = Literal["pg_partman", "native"]

#: The daily-partitioned parents (oddskit.models.PARTITIONED_TABLES, which needs the
#: SQLAlchemy ORM: the command line imports this module, not that one).
PARTITIONED_TABLES: tuple[str, ...] = ("odds_snapshots", "market_odds")

#: The function that creates daily partitions as the tables' owner (migration 0005).
CREATE_FUNCTION = "oddskit_create_daily_partitions(date[])"


@dataclass(frozen=True)
class ServerVersions:
    """The PostgreSQL server's version and pg_partman's in this database (if any)."""

    postgresql: str
    pg_partman: str | None

    def __str__(self) -> str:
        partman = f", pg_partman {self.pg_partman}" if self.pg_partman else ""
        return f"PostgreSQL {self.postgresql}{partman}"


@dataclass(frozen=True)
class Roles:
    """What the current role may do with the oddskit tables."""

    manager: bool  # the current role owns the tables (or is a member of their owner)
    creator: bool  # it may call the partition function (the owner, a loader)
    owner: str
    role: str


def detect_backend(conn: sa.Connection) -> BackendName:
    """Return ``pg_partman`` if the partition set is registered with it, else ``native``.

    Any role may ask (the answer comes from a function that runs as the owner).
    """
    current = conn.execute(
        sa.text("SELECT to_regprocedure('oddskit_partition_backend()') IS NOT NULL")
    ).scalar_one()
    if current:
        return conn.execute(sa.text("SELECT oddskit_partition_backend()")).scalar_one()
    registered = conn.execute(  # a schema older than migration 0005
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_partman') "
            "AND to_regclass('partman.part_config') IS NOT NULL"
        )
    ).scalar_one()
    if not registered:
        return "native"
    count = conn.execute(
        sa.text("SELECT count(*) FROM partman.part_config WHERE parent_table = ANY(:parents)"),
        {"parents": [f"{current_schema(conn)}.{parent}" for parent in PARTITIONED_TABLES]},
    ).scalar_one()
    return "pg_partman" if count else "native"


def server_versions(db: Database) -> ServerVersions:
    """Return the server's PostgreSQL version and the pg_partman version in ``db``.

    Example:
        >>> str(server_versions(db))  # doctest: +SKIP
        'PostgreSQL 15.20 (Debian 15.20-0+deb12u1), pg_partman 4.7.2'
    """
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT current_setting('server_version') AS server, "
                "(SELECT extversion FROM pg_extension WHERE extname = 'pg_partman') AS partman"
            )
        ).one()
    return ServerVersions(row.server, row.partman)


def current_schema(conn: sa.Connection) -> str:
    """The schema the oddskit tables are in (the session's current schema)."""
    return conn.execute(sa.text("SELECT current_schema()")).scalar_one()


def current_roles(conn: sa.Connection) -> Roles:
    """The current role: owner (may drop and change the policy), creator (may add partitions)."""
    row = conn.execute(
        sa.text(
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE') AS manager, "
            "coalesce(has_function_privilege(to_regprocedure(:function), 'EXECUTE'), false) "
            "AS creator, pg_get_userbyid(c.relowner) AS owner, current_user AS role "
            "FROM pg_class c "
            "WHERE c.oid = to_regclass(quote_ident(current_schema()) || '.odds_snapshots')"
        ),
        {"function": CREATE_FUNCTION},
    ).one_or_none()
    if row is None:
        raise ConfigurationError("This database has no oddskit schema. Run `oddskit migrate`.")
    return Roles(row.manager, row.manager or row.creator, row.owner, row.role)
