"""Code shared by the database benchmarks (``bench_load.py``, ``bench_queries.py``).

Set-up of the benchmark databases and the header of the reports: logging, a psycopg
autocommit connection, URLs, creating and dropping ``oddskit_bench_<random>``
databases, how busy the machine is, and the machine, versions and git state recorded
with every result. The scripts are run as ``python benchmarks/bench_x.py``, so this
folder is on ``sys.path`` and they import it as ``from common import ...``.

Only the standard library is imported at module level: ``bench_load.py`` times the
imports of its loader child process, which imports this module too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REPOSITORY = Path(__file__).resolve().parent.parent

#: Distributions whose versions every report records.
PACKAGES = (
    "oddskit",
    "polars",
    "pyarrow",
    "adbc-driver-postgresql",
    "adbc-driver-manager",
    "psycopg",
    "pandas",
    "SQLAlchemy",
)


def log(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# URLs and connections
# --------------------------------------------------------------------------------------


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database``, in the plain ``postgresql://`` form."""
    from sqlalchemy.engine import make_url

    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


def database_of(url: str) -> str:
    """The database name in ``url`` (``postgres`` when it names none)."""
    from sqlalchemy.engine import make_url

    return make_url(url).database or "postgres"


def masked(url: str) -> str:
    """``url`` with its password masked, for logs and reports."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def autocommit(url: str) -> Iterator[Any]:
    """A psycopg connection in autocommit mode whose session runs in UTC."""
    import psycopg

    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        yield conn


def busy(url: str) -> dict[str, Any]:
    """How busy the machine and the server are right now (other work skews timings)."""
    with autocommit(url) as conn:
        others = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    return {"loadavg_1m": os.getloadavg()[0], "other_active_sessions": others}


def was_busy(samples: Iterable[dict[str, Any]], nproc: int) -> bool:
    """Whether any :func:`busy` sample saw a load above half the cores or other sessions."""
    samples = list(samples)
    return any(s["loadavg_1m"] > nproc / 2 for s in samples) or any(
        s["other_active_sessions"] for s in samples
    )


# --------------------------------------------------------------------------------------
# Benchmark databases
# --------------------------------------------------------------------------------------


def create_database(admin_url: str, created: list[str]) -> str:
    """Create and migrate ``oddskit_bench_<random>``; append its name to ``created``."""
    from psycopg import sql

    name = f"oddskit_bench_{secrets.token_hex(4)}"
    with autocommit(admin_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    created.append(name)
    url = with_database(admin_url, name)
    from oddskit import migrate
    from oddskit.connection import Database

    with Database(url) as db:
        migrate(db)
    log(f"created and migrated database {name}")
    return url


def drop_database(admin_url: str, name: str) -> None:
    from psycopg import sql

    with autocommit(admin_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --------------------------------------------------------------------------------------
# Report header: machine, versions, git
# --------------------------------------------------------------------------------------


def package_version(name: str) -> str | None:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:
        return None


def git_state() -> dict[str, str | None]:
    """The commit checked out and the uncommitted changes under ``oddskit/``."""
    git: dict[str, str | None] = {}
    for key, args in {
        "head": ["git", "rev-parse", "--short", "HEAD"],
        "dirty_oddskit": ["git", "status", "--porcelain", "--", "oddskit"],
    }.items():
        try:
            git[key] = subprocess.run(
                args, cwd=REPOSITORY, capture_output=True, text=True, check=True
            ).stdout.rstrip("\n")
        except Exception:
            git[key] = None
    return git


def machine_info(url: str, settings: Iterable[str]) -> dict[str, Any]:
    """Date, command, machine, server version and ``settings``, package versions, git."""
    cpu = "unknown"
    mem_total = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass
    with autocommit(url) as conn:
        server = conn.execute("SELECT version()").fetchone()[0]
        values = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                (list(settings),),
            ).fetchall()
        )
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", *sys.argv]),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_bytes": mem_total,
        "platform": platform.platform(),
        "postgresql": server,
        "postgresql_settings": values,
        "python": platform.python_version(),
        "versions": {name: package_version(name) for name in PACKAGES},
        "git": git_state(),
    }


def code_line(machine: dict[str, Any]) -> str:
    """``git <head>`` plus the files under ``oddskit/`` with uncommitted changes."""
    git = machine["git"]
    dirty = [line[3:] for line in (git.get("dirty_oddskit") or "").splitlines()]
    dirty_text = f"; uncommitted changes in {', '.join(dirty)}" if dirty else ""
    return f"git {git.get('head')}{dirty_text}"


def write_results(out: Path, name: str, markdown: str, report: dict[str, Any]) -> None:
    """Write ``<out>/<name>.md`` and ``<out>/<name>.json``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(markdown, encoding="utf-8")
    (out / f"{name}.json").write_text(
        json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8"
    )
