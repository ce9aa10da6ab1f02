"""Create, upgrade and remove the oddskit schema with Alembic.

The migrations live in ``migrations/`` at the top of the repository; an installed
wheel carries them as ``oddskit/_migrations``. Both :func:`migrate` and the
``alembic`` command resolve the database like the rest of oddskit.

Example:
    >>> from oddskit import connect, migrate
    >>> with connect() as db:  # doctest: +SKIP
    ...     migrate(db)
    '0004'
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from oddskit.connection import Database
from oddskit.errors import ConfigurationError

Backend = Literal["auto", "partman", "native"]
BACKENDS: tuple[str, ...] = ("auto", "partman", "native")


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
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["skip_logging"] = True
    config.attributes["partition_backend"] = backend
    return config


def _run(db: Database, config: Config, action: str, revision: str) -> None:
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


def migrate(db: Database, *, revision: str = "head", backend: Backend = "auto") -> str | None:
    """Upgrade ``db`` to ``revision`` and return the revision it is then at.

    ``backend`` picks the partition backend for a fresh database: pg_partman when the
    server has it (``auto``), or force ``partman`` / ``native``.

    Example:
        >>> with connect() as db:  # doctest: +SKIP
        ...     migrate(db)
        '0004'
    """
    db.check()
    _run(db, alembic_config(db, backend=backend), "upgrade", revision)
    return current_revision(db)


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
        '0004'
    """
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision that the installed oddskit knows.

    Example:
        >>> head_revision()
        '0004'
    """
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
