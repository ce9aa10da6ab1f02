r"""Benchmark: oddskit's query helpers against the same SQL run raw over ADBC, pandas and psycopg.

Issue requirement: each query helper against the same SQL run raw over ADBC
(``fetch_arrow_table`` → ``polars.from_arrow``), ``pandas.read_sql`` and psycopg
``fetchall`` → Polars, on a database holding 30 days of generated snapshots at the scale
of ~100 concurrent events × 3 bookmakers × 5-minute snapshots (tens of millions of price
rows). Targets: helper overhead ≤ 1.2× the raw ADBC query; ≥ 5× faster than
``pandas.read_sql``; an odds-history query for one event over the whole 30 days and an
as-of query for all events stay interactive (report their times and how they change
from 7 to 30 days of data).

Usage::

    python benchmarks/bench_queries.py --days 30 [--events-per-day 100] \
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--out benchmarks/results] \
        [--repeat 3] [--seed 0] [--keep]

What is measured
----------------
A fresh database ``oddskit_bench_<random>`` is created on the server of ``--url`` and
migrated. :func:`oddskit.sample.write_sample` writes ``--days`` days of
``--events-per-day`` matches for betPawa, SportyBet and Bet9ja (5-minute snapshots,
``start`` = now − days, floored to the hour) to Parquet; rows older than the 30-day
retention window (minus a 30-minute margin) are filtered out first, so the loader
rejects nothing. ``oddskit.load(path, db=Database(url), progress=False)`` loads it
(timed and reported separately), then ``VACUUM ANALYZE`` (untimed).

Two windows, with ``newest`` = the newest ``captured_at`` stored: *7 d* (``since =
newest − 7 days``) and *full* (no lower bound). For each window and each query:

* ``fetch_odds_history(event_ids=[e], since=...)`` for the event ``e`` with the most
  price rows in the last 7 days (the same event in both windows);
* ``fetch_latest_odds(as_of=newest, lookback=7 days | None)`` for all events;
* ``fetch_closing_odds(kickoff_since=... | None)`` for all events;
* ``fetch_events(kickoff_since=... | None)``.

Each is run four ways: the helper; its exact SQL and bound parameters (from the
module's private builders, checked against what the helper actually executes) raw over
ADBC (``cursor.execute`` → ``fetch_arrow_table`` → ``pl.from_arrow``); the same SQL
through ``pandas.read_sql`` on a SQLAlchemy (psycopg 3) connection, with ``$n``
rewritten to ``%(pn)s``; and psycopg ``execute(...).fetchall()`` →
``pl.DataFrame(rows, orient="row")``. Every way opens its own connection per call, as
the helper does (the connection set-up time is reported). Time = best of ``--repeat``
runs after one warm-up run; row counts are checked to agree.

Results go to ``<out>/queries.md`` and ``<out>/queries.json``. The database and the
temporary file are removed at the end, also on failure (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BOOKMAKERS = ["betPawa", "SportyBet", "Bet9ja"]
RETENTION_DAYS = 30
WINDOW_DAYS = 7
INTERACTIVE_SECONDS = 1.0
HELPER_OVER_RAW_TARGET = 1.2
PANDAS_OVER_HELPER_TARGET = 5.0
WAYS = ("helper", "raw_adbc", "pandas", "psycopg", "adbc_reused")


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def log(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


@contextmanager
def autocommit(url: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        yield conn


def create_database(admin_url: str, created: list[str]) -> str:
    from psycopg import sql

    from oddskit import migrate
    from oddskit.connection import Database

    name = f"oddskit_bench_{secrets.token_hex(4)}"
    with autocommit(admin_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    created.append(name)
    url = with_database(admin_url, name)
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


def machine_info(url: str) -> dict[str, Any]:
    from importlib.metadata import version

    def pkg(name: str) -> str | None:
        try:
            return version(name)
        except Exception:
            return None

    cpu, mem_total = "unknown", None
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
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'effective_cache_size', 'jit', "
                "'max_parallel_workers_per_gather', 'random_page_cost')"
            ).fetchall()
        )
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except Exception:
        head = None
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", *sys.argv]),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_bytes": mem_total,
        "platform": platform.platform(),
        "postgresql": server,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "versions": {
            name: pkg(name)
            for name in (
                "oddskit",
                "polars",
                "pyarrow",
                "adbc-driver-postgresql",
                "adbc-driver-manager",
                "psycopg",
                "pandas",
                "SQLAlchemy",
            )
        },
        "git_head": head,
    }


def busy(url: str) -> dict[str, Any]:
    with autocommit(url) as conn:
        others = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    return {"loadavg_1m": os.getloadavg()[0], "other_active_sessions": others}


# --------------------------------------------------------------------------------------
# Building the database
# --------------------------------------------------------------------------------------


def build(url: str, folder: Path, days: int, events_per_day: int, seed: int) -> dict[str, Any]:
    """Generate the sample, keep it inside retention, load it with oddskit; return numbers."""
    import polars as pl

    from oddskit import load
    from oddskit.connection import Database
    from oddskit.sample import write_sample

    now = dt.datetime.now(dt.UTC)
    start = (now - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    raw = folder / "sample.parquet"
    log(f"writing {days} days × {events_per_day} events/day × {len(BOOKMAKERS)} bookmakers")
    summary = write_sample(
        raw,
        days=days,
        events_per_day=events_per_day,
        bookmakers=BOOKMAKERS,
        seed=seed,
        start=start,
    )
    log(f"generated {summary.rows:,} rows, {summary.events:,} events in {summary.seconds:.1f} s")
    earliest = now - dt.timedelta(days=RETENTION_DAYS) + dt.timedelta(minutes=30)
    path, dropped = raw, 0
    if summary.first_captured_at is not None and summary.first_captured_at < earliest:
        path = folder / "sample_in_retention.parquet"
        pl.scan_parquet(raw).filter(pl.col("captured_at") >= earliest).sink_parquet(path)
        kept = pl.scan_parquet(path).select(pl.len()).collect().item()
        dropped = summary.rows - kept
        log(f"dropped {dropped:,} rows older than the retention window (kept {kept:,})")
    log("loading with oddskit.load ...")
    began = time.perf_counter()
    with Database(url) as db:
        report = load(path, db=db, progress=False)
    seconds = time.perf_counter() - began
    log(f"loaded {report.rows_loaded:,} rows in {seconds:.1f} s")
    began = time.perf_counter()
    with autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM market_odds), (SELECT count(*) FROM odds_snapshots), "
            "(SELECT count(*) FROM events), (SELECT min(captured_at) FROM odds_snapshots), "
            "(SELECT max(captured_at) FROM odds_snapshots), "
            "pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
    vacuum_seconds = time.perf_counter() - began
    return {
        "days": days,
        "events_per_day": events_per_day,
        "bookmakers": BOOKMAKERS,
        "seed": seed,
        "start": start.isoformat(),
        "generated_rows": summary.rows,
        "generated_events": summary.events,
        "generate_seconds": summary.seconds,
        "file_bytes": path.stat().st_size,
        "dropped_outside_retention": dropped,
        "load_rows_read": report.rows_read,
        "load_rows_loaded": report.rows_loaded,
        "load_rows_rejected": report.rows_rejected,
        "load_seconds": seconds,
        "load_rows_per_second": report.rows_loaded / seconds if seconds else None,
        "vacuum_analyze_seconds": vacuum_seconds,
        "price_rows": counts[0],
        "snapshots": counts[1],
        "events": counts[2],
        "first_captured_at": counts[3].isoformat(),
        "newest_captured_at": counts[4].isoformat(),
        "database_size": counts[5],
    }


# --------------------------------------------------------------------------------------
# The four ways to run a query
# --------------------------------------------------------------------------------------


def pyformat(query: Any) -> tuple[str, dict[str, Any]]:
    """The query's SQL with ``$n`` as ``%(pn)s`` (and ``%`` escaped), and its values."""
    text = query.sql.replace("%", "%%")
    text = re.sub(r"\$(\d+)", r"%(p\1)s", text)
    return text, {f"p{i}": value for i, value in enumerate(query.values, start=1)}


class Runner:
    def __init__(self, url: str) -> None:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        from oddskit.connection import Database

        self.url = url
        self.db = Database(url)
        self.libpq_url = self.db.libpq_url
        self.engine = sa.create_engine(
            self.db.engine.url,
            poolclass=NullPool,  # a new connection per call, as the helper opens one
            connect_args={"options": "-c TimeZone=UTC"},
        )

        self._reused: Any = None

    def close(self) -> None:
        if self._reused is not None:
            self._reused.close()
        self.engine.dispose()
        self.db.close()

    def adbc_reused(self, query: Any) -> int:
        """Raw ADBC on one connection kept open across calls (no connection set-up)."""
        import adbc_driver_postgresql.dbapi as adbc
        import polars as pl

        if self._reused is None:
            self._reused = adbc.connect(self.libpq_url)
        with self._reused.cursor() as cursor:
            cursor.execute(query.sql, parameters=query.parameters())
            table = cursor.fetch_arrow_table()
        return pl.from_arrow(table).height  # type: ignore[union-attr]

    def raw_adbc(self, query: Any) -> int:
        import adbc_driver_postgresql.dbapi as adbc
        import polars as pl

        with adbc.connect(self.libpq_url) as conn, conn.cursor() as cursor:
            cursor.execute(query.sql, parameters=query.parameters())
            table = cursor.fetch_arrow_table()
        return pl.from_arrow(table).height  # type: ignore[union-attr]

    def pandas(self, query: Any) -> int:
        import pandas as pd

        text, params = pyformat(query)
        with self.engine.connect() as conn:
            frame = pd.read_sql(text, conn, params=params)
        return len(frame)

    def psycopg(self, query: Any) -> int:
        import polars as pl
        import psycopg

        text, params = pyformat(query)
        with psycopg.connect(self.libpq_url, options="-c TimeZone=UTC") as conn:
            cursor = conn.execute(text, params)
            rows = cursor.fetchall()
            columns = [d.name for d in cursor.description]
        frame = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
        return frame.height


def captured_sql(call: Callable[[], Any]) -> tuple[str, list[Any]]:
    """Run a helper once with ``oddskit.queries._run`` wrapped; return the SQL it executed."""
    import oddskit.queries as q

    seen: list[Any] = []
    original = q._run

    def spy(db: Any, query: Any, schema: Any, what: str) -> Any:
        seen.append(query)
        return original(db, query, schema, what)

    q._run = spy  # type: ignore[assignment]
    try:
        call()
    finally:
        q._run = original  # type: ignore[assignment]
    return seen[0].sql, list(seen[0].values)


def best_of(fn: Callable[[], int], repeat: int) -> tuple[float, list[float], int]:
    rows = fn()  # warm-up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - began)
        if got != rows:
            raise AssertionError(f"row count changed between runs: {rows} then {got}")
    return min(times), times, rows


def connect_times(runner: Runner, repeat: int) -> dict[str, float]:
    import adbc_driver_postgresql.dbapi as adbc
    import psycopg

    def adbc_open() -> int:
        with adbc.connect(runner.libpq_url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetch_arrow_table()
        return 1

    def helper_open() -> int:
        with runner.db.adbc() as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetch_arrow_table()
        return 1

    def psycopg_open() -> int:
        with psycopg.connect(runner.libpq_url, options="-c TimeZone=UTC") as conn:
            conn.execute("SELECT 1").fetchall()
        return 1

    return {
        "adbc_connect_select1": best_of(adbc_open, repeat)[0],
        "db_adbc_connect_select1": best_of(helper_open, repeat)[0],
        "psycopg_connect_select1": best_of(psycopg_open, repeat)[0],
    }


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------


def cases(url: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each query × window: the helper call and the query object of its exact SQL."""
    import oddskit.queries as q

    with autocommit(url) as conn:
        newest = conn.execute("SELECT max(captured_at) FROM odds_snapshots").fetchone()[0]
        since7 = newest - dt.timedelta(days=WINDOW_DAYS)
        event_id, event_rows = conn.execute(
            "SELECT s.event_id, count(*) FROM odds_snapshots s "
            "JOIN market_odds m ON m.snapshot_id = s.id AND m.captured_at = s.captured_at "
            "WHERE s.captured_at >= %(t)s AND m.captured_at >= %(t)s "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            {"t": since7},
        ).fetchone()
    picked = {
        "newest": newest.isoformat(),
        "since_7d": since7.isoformat(),
        "history_event_id": event_id,
        "history_event_rows_7d": event_rows,
    }
    out = []
    for window, since in (("7 d", since7), ("full", None)):
        lookback = dt.timedelta(days=WINDOW_DAYS) if since is not None else None
        out += [
            {
                "query": "fetch_odds_history (1 event)",
                "window": window,
                "helper": lambda db, s=since: q.fetch_odds_history(
                    db, event_ids=[event_id], since=s
                ),
                "sql": q._history_sql(event_ids=[event_id], since=since),
                "interactive": True,
            },
            {
                "query": "fetch_latest_odds (as of newest, all events)",
                "window": window,
                "helper": lambda db, lb=lookback: q.fetch_latest_odds(
                    db, as_of=newest, lookback=lb
                ),
                "sql": q._latest_sql(as_of=newest, since=since),
                "interactive": True,
            },
            {
                "query": "fetch_closing_odds (all events)",
                "window": window,
                "helper": lambda db, s=since: q.fetch_closing_odds(db, kickoff_since=s),
                "sql": q._edge_sql(closing=True, kickoff_since=since),
                "interactive": False,
            },
            {
                "query": "fetch_events",
                "window": window,
                "helper": lambda db, s=since: q.fetch_events(db, kickoff_since=s),
                "sql": q._events_sql(kickoff_since=since),
                "interactive": False,
            },
        ]
    return out, picked


def measure(url: str, repeat: int) -> dict[str, Any]:
    runner = Runner(url)
    try:
        todo, picked = cases(url)
        results = []
        for case in todo:
            query = case["sql"]
            sql, values = captured_sql(lambda c=case: c["helper"](runner.db))
            if sql != query.sql or values != query.values:
                raise AssertionError(f"{case['query']}: the rebuilt SQL differs from the helper's")
            ways: dict[str, Callable[[], int]] = {
                "helper": lambda c=case: c["helper"](runner.db).height,
                "raw_adbc": lambda s=query: runner.raw_adbc(s),
                "pandas": lambda s=query: runner.pandas(s),
                "psycopg": lambda s=query: runner.psycopg(s),
                "adbc_reused": lambda s=query: runner.adbc_reused(s),
            }
            row: dict[str, Any] = {
                "query": case["query"],
                "window": case["window"],
                "interactive": case["interactive"],
                "sql": query.sql,
                "busy_before": busy(url),
            }
            counts = {}
            for way, fn in ways.items():
                best, times, rows = best_of(fn, repeat)
                row[f"{way}_s"], row[f"{way}_runs"] = best, times
                counts[way] = rows
            if len(set(counts.values())) != 1:
                raise AssertionError(f"{case['query']}: row counts differ: {counts}")
            row["rows"] = counts["helper"]
            row["helper_over_raw"] = row["helper_s"] / row["raw_adbc_s"]
            row["pandas_over_helper"] = row["pandas_s"] / row["helper_s"]
            row["psycopg_over_helper"] = row["psycopg_s"] / row["helper_s"]
            log(
                f"{case['query']} [{case['window']}]: {row['rows']:,} rows, "
                + ", ".join(f"{w} {row[f'{w}_s'] * 1000:.1f} ms" for w in WAYS)
            )
            results.append(row)
        connects = connect_times(runner, repeat)
    finally:
        runner.close()
    return {"picked": picked, "results": results, "connect_seconds": connects}


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def median_ratio(row: dict[str, Any], a: str, b: str) -> float:
    """Median of ``a``'s timed runs over the median of ``b``'s (less noisy than best-of)."""
    return statistics.median(row[f"{a}_runs"]) / statistics.median(row[f"{b}_runs"])


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = report["measure"]["results"]
    worst_overhead = max(rows, key=lambda r: r["helper_over_raw"])
    worst_pandas = min(rows, key=lambda r: r["pandas_over_helper"])
    worst_median = max(median_ratio(r, "helper", "raw_adbc") for r in rows)
    out = [
        {
            "target": f"helper ≤ {HELPER_OVER_RAW_TARGET}× raw ADBC (every query)",
            "met": worst_overhead["helper_over_raw"] <= HELPER_OVER_RAW_TARGET,
            "detail": f"worst {worst_overhead['helper_over_raw']:.2f}× "
            f"({worst_overhead['query']}, {worst_overhead['window']}); by medians of the "
            f"timed runs the worst is {worst_median:.2f}×",
        },
        {
            "target": f"helper ≥ {PANDAS_OVER_HELPER_TARGET:g}× faster than pandas.read_sql "
            "(every query)",
            "met": worst_pandas["pandas_over_helper"] >= PANDAS_OVER_HELPER_TARGET,
            "detail": f"worst {worst_pandas['pandas_over_helper']:.1f}× "
            f"({worst_pandas['query']}, {worst_pandas['window']})",
        },
    ]
    for row in rows:
        if row["interactive"] and row["window"] == "full":
            short = next(r for r in rows if r["query"] == row["query"] and r["window"] == "7 d")
            out.append(
                {
                    "target": f"{row['query']} over the full range interactive "
                    f"(≤ {INTERACTIVE_SECONDS:g} s)",
                    "met": row["helper_s"] <= INTERACTIVE_SECONDS,
                    "detail": f"{row['helper_s'] * 1000:.0f} ms full vs "
                    f"{short['helper_s'] * 1000:.0f} ms for 7 d "
                    f"({row['helper_s'] / short['helper_s']:.2f}×)",
                }
            )
    return out


def render_markdown(report: dict[str, Any]) -> str:
    m, b, meas = report["machine"], report["build"], report["measure"]
    v = m["versions"]
    settings = ", ".join(f"{k}={val}" for k, val in sorted(m["postgresql_settings"].items()))
    scale_note = ""
    if b["days"] != 30 or b["events_per_day"] != 100:
        scale_note = (
            f"\n> **Reduced scale:** {b['days']} days × {b['events_per_day']} events/day "
            "instead of the issue's 30 days × 100 events/day.\n"
        )
    lines = [
        "# Query benchmark",
        "",
        f"- Date: {m['date_utc']}",
        f"- Command: `{m['command']}`",
        f"- Machine: nproc = {m['nproc']}, {m['cpu']}, RAM {(m['ram_bytes'] or 0) / 1e6:,.0f} MB, "
        f"{m['platform']}",
        f"- PostgreSQL: {m['postgresql']}; {settings}",
        f"- Python {m['python']}; "
        + ", ".join(f"{k} {val}" for k, val in v.items() if val is not None),
        f"- Code: git {m['git_head']}",
        f"- Data: `write_sample(days={b['days']}, events_per_day={b['events_per_day']}, "
        f"bookmakers={b['bookmakers']}, seed={b['seed']}, start={b['start'][:16]}Z)` → "
        f"{b['generated_rows']:,} rows, {b['generated_events']:,} events "
        f"(generated in {b['generate_seconds']:.1f} s); {b['dropped_outside_retention']:,} rows "
        "older than the 30-day retention window (+30 min margin) left out",
        f"- Database after load: {b['price_rows']:,} price rows, {b['snapshots']:,} snapshots, "
        f"{b['events']:,} events, captured {b['first_captured_at'][:16]} to "
        f"{b['newest_captured_at'][:16]} UTC, {b['database_size']}",
        f"- Load (separate from the query timings): `oddskit.load` {b['load_rows_loaded']:,} rows "
        f"in {b['load_seconds']:.1f} s ({b['load_rows_per_second']:,.0f} rows/s, "
        f"{b['load_rows_rejected']:,} rejected); then `VACUUM ANALYZE` "
        f"{b['vacuum_analyze_seconds']:.1f} s (untimed for queries)",
        f"- Whole run: {report['seconds']:.0f} s",
        scale_note,
        "## Results",
        "",
        f"Best of {report['repeat']} after one warm-up; every way opens its own connection per "
        "call, as the helper does. Windows: *7 d* = `since = newest − 7 days` "
        f"(newest = {meas['picked']['newest'][:19]}), *full* = everything stored. "
        f"History event: id {meas['picked']['history_event_id']} (most price rows in the last "
        "7 days).",
        "",
        "| query | window | rows | helper s | raw ADBC s | pandas s | psycopg s "
        "| helper/raw | helper/raw (medians) | pandas/helper | psycopg/helper "
        "| raw ADBC, open connection s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in meas["results"]:
        lines.append(
            f"| {r['query']} | {r['window']} | {r['rows']:,} | {r['helper_s']:.4f} | "
            f"{r['raw_adbc_s']:.4f} | {r['pandas_s']:.4f} | {r['psycopg_s']:.4f} | "
            f"{r['helper_over_raw']:.2f} | {median_ratio(r, 'helper', 'raw_adbc'):.2f} | "
            f"{r['pandas_over_helper']:.1f} | "
            f"{r['psycopg_over_helper']:.1f} | {r['adbc_reused_s']:.4f} |"
        )
    c = meas["connect_seconds"]
    lines += [
        "",
        "Connection set-up included in every time above (connect + `SELECT 1`, best of "
        f"{report['repeat']}): ADBC {c['adbc_connect_select1'] * 1000:.1f} ms, "
        "`Database.adbc()` (connect + `SET TimeZone`) "
        f"{c['db_adbc_connect_select1'] * 1000:.1f} ms, "
        f"psycopg {c['psycopg_connect_select1'] * 1000:.1f} ms. The last column runs the same "
        "SQL raw over ADBC on one connection opened once (untimed) and kept open: the query "
        "cost without connection set-up.",
        "",
        "Parameters per way: the helper and raw ADBC bind the same Arrow parameters "
        "(`_Query.parameters()`); pandas (`read_sql` on a SQLAlchemy psycopg connection) and "
        "psycopg bind the same values with `$n` rewritten to `%(pn)s`, the SQL text otherwise "
        "identical. The rebuilt SQL was checked equal to what each helper executed.",
        "",
        "## Targets",
        "",
    ]
    for t in report["targets"]:
        verdict = "met" if t["met"] else "**NOT met**"
        lines.append(f"- {t['target']}: {verdict} ({t['detail']}).")
    lines += [
        "",
        f"'Interactive' is taken as ≤ {INTERACTIVE_SECONDS:g} s for the helper call. "
        "The 7 d → full change is measured on the same database (the window's lower bound, "
        "or its absence), not on a separate 7-day database.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    created: list[str] = []
    report: dict[str, Any] = {"repeat": args.repeat}
    with tempfile.TemporaryDirectory(prefix="oddskit_bench_q_") as tmp:
        try:
            report["machine"] = machine_info(args.url)
            url = create_database(args.url, created)
            report["build"] = build(url, Path(tmp), args.days, args.events_per_day, args.seed)
            report["measure"] = measure(url, args.repeat)
        finally:
            if not args.keep:
                for name in created:
                    drop_database(args.url, name)
                    log(f"dropped database {name}")
            elif created:
                log(f"kept databases: {', '.join(created)}")
    report["seconds"] = time.perf_counter() - began
    report["targets"] = targets(report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events-per-day", type=int, default=100)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    if not 1 <= args.days <= RETENTION_DAYS:
        parser.error(f"--days must be between 1 and {RETENTION_DAYS} (the retention window)")
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "queries.md").write_text(render_markdown(report))
    (args.out / "queries.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    for t in report["targets"]:
        log(f"{'met    ' if t['met'] else 'NOT MET'} {t['target']}: {t['detail']}")
    log(f"wrote {args.out / 'queries.md'} and {args.out / 'queries.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
