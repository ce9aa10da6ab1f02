"""Alembic environment for oddskit.

The database comes from the same resolution as everywhere else in oddskit:
a connection handed over by :func:`oddskit.schema.migrate` (``config.attributes``),
else ``-x url=...``, else ``ODDSKIT_DATABASE_URL`` / ``DATABASE_URL``, else the
embedded local server. Every migration session runs in UTC.

Partition children, pg_partman's schema and its template tables exist in the
database but not in the models; :func:`include_name` hides them from autogenerate,
which would otherwise offer to drop them all (alembic issue #539).
"""

from __future__ import annotations

import re
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine

from oddskit.connection import connect
from oddskit.models import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

#: Daily children (``odds_snapshots_p2026_11_29``) and pg_partman's default partitions.
PARTITION_CHILD = re.compile(r"^(odds_snapshots|market_odds)_(p\d{4}_?\d{2}_?\d{2}|default)$")


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Compare only what the models define: skip partition children and pg_partman."""
    if type_ == "schema":
        return name in (None, "public") or name == target_metadata.schema
    if type_ == "table" and name is not None:
        return not PARTITION_CHILD.match(name) and not name.startswith("template_")
    return True


def configure_and_run(connection: Connection) -> None:
    """Run the migrations on ``connection`` (one transaction per migration)."""
    connection.exec_driver_sql("SET TimeZone = 'UTC'")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live database."""
    given = config.attributes.get("connection")
    if isinstance(given, Engine):  # pytest-alembic hands over an engine
        with given.connect() as connection:
            configure_and_run(connection)
            connection.commit()
        return
    if given is not None:
        configure_and_run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    with connect(url) as db, db.engine.connect() as connection:
        configure_and_run(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit(
        "oddskit migrations need a live database (partition set-up inspects the server); "
        "offline --sql mode is not supported."
    )
run_migrations_online()
