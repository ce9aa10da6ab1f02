"""Create, upgrade and remove the oddskit schema with Alembic.

The migrations live in ``migrations/`` at the top of the repository; an installed
wheel carries them as ``oddskit/_migrations``. Both :func:`migrate` and the
``alembic`` command resolve the database like the rest of oddskit.

Example:
    >>> from oddskit import connect, migrate
    >>> with connect() as db:  # doctest: +SKIP
    ...     migrate(db)
    '0006'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa
from psycopg import sql

from oddskit.connection import Database
from oddskit.errors import ConfigurationError

if TYPE_CHECKING:  # Alembic is imported where migrations run, not by `oddskit partitions`
    from alembic.config import Config

Backend = Literal["auto", "partman", "native"]
BACKENDS: tuple[str, ...] = ("auto", "partman", "native")


class BackendNotice(UserWarning):
    """oddskit chose another partition backend than the server offers, and says why."""


def migrations_dir() -> Path:
    """Return the folder holding ``env.py`` and ``versions/``.

    Example:
        >>> (migrations_dir() / "env.py").exists()
        True
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise ConfigurationError(
        "oddskit cannot find its migrations (looked for oddskit/_migrations and ./migrations). "
        "Reinstall the package: pip install --force-reinstall oddskit."
    )


def alembic_config(db: Database | None = None, *, backend: Backend = "auto") -> Config:
    """Return an Alembic :class:`Config` for oddskit's migrations.

    Example:
        >>> alembic_config().get_main_option("script_location").endswith("migrations")
        True
    """
    if backend not in BACKENDS:
        raise ConfigurationError(f"`backend` must be one of {set(BACKENDS)}, got {backend!r}")
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["skip_logging"] = True
    config.attributes["partition_backend"] = backend
    return config


def _run(db: Database, config: Config, action: str, revision: str) -> None:
    from alembic import command

    try:
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    except sa.exc.SQLAlchemyError as exc:
        raise db.error(
            f"Migration ({action} to {revision}) failed on {db.masked_url}", exc
        ) from None
    finally:
        config.attributes.pop("connection", None)


def migrate(
    db: Database,
    *,
    revision: str = "head",
    backend: Backend = "auto",
    notify: Callable[[str], None] | None = None,
) -> str | None:
    """Upgrade ``db`` to ``revision`` and return the revision it is then at.

    ``backend`` picks the partition backend for a fresh database: pg_partman when the
    server has it and this role may use it (``auto``), or force ``partman`` / ``native``.
    When ``auto`` falls back to native although pg_partman is installed on the server,
    ``notify`` gets a one-line notice (default: a :class:`BackendNotice` warning).

    Example:
        >>> with connect() as db:  # doctest: +SKIP
        ...     migrate(db)
        '0006'
    """
    db.check()
    if backend not in BACKENDS:
        raise ConfigurationError(f"`backend` must be one of {set(BACKENDS)}, got {backend!r}")
    if current_revision(db) is None:  # a new schema: its partition backend is chosen now
        with db.engine.connect() as conn:
            backend, notice = choose_backend(conn, backend)  # type: ignore[assignment]
        if notice and notify:
            notify(notice)
        elif notice:
            warnings.warn(notice, BackendNotice, stacklevel=2)
    _run(db, alembic_config(db, backend=backend), "upgrade", revision)
    return current_revision(db)


def choose_backend(conn: sa.Connection, wanted: str) -> tuple[str, str | None]:
    """Return the backend to set up (``partman`` or ``native``) and a notice, if any.

    pg_partman is used when the server has it and the current role may use it: it
    already exists in this database with grants on its schema and tables, or the role
    may create it (a superuser; pg_partman is not a trusted extension). ``auto``
    falls back to ``native`` otherwise, with a notice when pg_partman is installed on
    the server; ``partman`` raises :class:`ConfigurationError` with the exact commands
    a superuser must run.

    Example:
        >>> choose_backend(conn, "native")  # doctest: +SKIP
        ('native', None)
    """
    if wanted not in BACKENDS:
        raise ConfigurationError(f"`backend` must be one of {set(BACKENDS)}, got {wanted!r}")
    if wanted == "native":
        return "native", None
    found = conn.execute(
        sa.text(
            "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_partman') "
            "AS available, (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman') AS schema, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser, "
            "current_user AS role, current_database() AS database"
        )
    ).one()
    if not found.available:
        if wanted == "partman":
            raise ConfigurationError(
                "backend=partman was asked for, but this server has no pg_partman extension "
                "(on Debian: apt-get install postgresql-15-partman)."
            )
        return "native", None
    if found.schema is not None:
        usable = _partman_granted(conn, found.schema)
        why = f"pg_partman exists in database {found.database!r}, but role {found.role!r} has no "
        why += "privileges on its schema and tables"
    else:
        usable = bool(found.superuser)
        why = f"role {found.role!r} may not create the pg_partman extension (it needs a superuser)"
    if usable:
        return "partman", None
    if wanted == "partman":
        raise ConfigurationError(
            f"backend=partman: {why}. As a superuser, connected to database "
            f"{found.database!r}, run: {partman_grants(conn, found.role)} "
            "Then run `oddskit migrate --backend partman` again (or use --backend native)."
        )
    return "native", (
        f"{why}; using the native partition backend (the same daily partitions, kept by "
        "oddskit). `oddskit migrate --backend partman` says what a superuser must run."
    )


def _partman_granted(conn: sa.Connection, schema: str) -> bool:
    """Whether the current role may use pg_partman installed in ``schema``."""
    if not conn.execute(
        sa.text("SELECT has_schema_privilege(:s, 'USAGE, CREATE')"), {"s": schema}
    ).scalar_one():
        return False
    return conn.execute(
        sa.text(
            "SELECT has_table_privilege(format('%I.part_config', CAST(:s AS text)), "
            "'SELECT, INSERT, UPDATE, DELETE')"
        ),
        {"s": schema},
    ).scalar_one()


def partman_grants(conn: sa.Connection, role: str) -> str:
    """The statements a superuser runs so that ``role`` can use pg_partman (one line).

    Example:
        >>> partman_grants(conn, "odds_owner")  # doctest: +SKIP
        'CREATE SCHEMA IF NOT EXISTS partman; CREATE EXTENSION IF NOT EXISTS pg_partman ...'
    """
    who = sql.Identifier(role).as_string(conn.connection.driver_connection)
    return (
        "CREATE SCHEMA IF NOT EXISTS partman; "
        "CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman; "
        f"GRANT ALL ON SCHEMA partman TO {who}; "
        f"GRANT ALL ON ALL TABLES IN SCHEMA partman TO {who}; "
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO {who}; "
        f"GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO {who};"
    )


def downgrade(db: Database, *, revision: str = "base") -> str | None:
    """Downgrade ``db`` to ``revision`` (``base`` removes every oddskit object).

    Example:
        >>> with connect() as db:  # doctest: +SKIP
        ...     downgrade(db) is None
        True
    """
    _run(db, alembic_config(db), "downgrade", revision)
    return current_revision(db)


def current_revision(db: Database) -> str | None:
    """Return the revision ``db`` is at, or ``None`` for an empty database.

    Example:
        >>> with connect() as db:  # doctest: +SKIP
        ...     current_revision(db)
        '0006'
    """
    with db.engine.connect() as conn:  # Alembic's version table, read without Alembic
        if conn.execute(sa.text("SELECT to_regclass('alembic_version')")).scalar_one() is None:
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def head_revision() -> str | None:
    """Return the newest revision that the installed oddskit knows.

    Example:
        >>> head_revision()
        '0010'
    """
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
