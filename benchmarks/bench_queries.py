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
    python benchmarks/bench_queries.py --database postgresql://host/loaded_oddskit_db \
        [--out benchmarks/results] [--repeat 3]

What is measured
----------------
*The data.* By default a fresh database ``oddskit_bench_<random>`` is created on the
server of ``--url`` and migrated. :func:`oddskit.sample.write_sample` writes ``--days``
days of ``--events-per-day`` matches for betPawa, SportyBet and Bet9ja (5-minute
snapshots, ``start`` = now − days, floored to the hour) to Parquet; rows older than the
30-day retention window (minus a 30-minute margin) are filtered out first, so the
loader rejects nothing. ``oddskit.load(path, db=Database(url), progress=False)`` loads
it (timed and reported separately), then ``VACUUM ANALYZE`` (untimed). With
``--database URL`` an already loaded oddskit database is measured as it is instead:
nothing is generated, loaded, vacuumed or analysed, and nothing is dropped. In both
modes the report gives the database's own counts (price rows, snapshots, events,
captured range, size).

*The queries.* Two windows, with ``newest`` = the newest ``captured_at`` stored: *7 d*
(``since = newest − 7 days``) and *full* (no lower bound). For each window:

* ``fetch_odds_history(event_ids=[e], since=...)`` for the event ``e`` with the most
  price rows in the last 7 days (the same event in both windows);
* ``fetch_latest_odds(as_of=newest, lookback=7 days | None)`` for all events;
* ``fetch_closing_odds(kickoff_since=... | None)`` for all events;
* ``fetch_events(kickoff_since=... | None)``.

*The ways.* Every way runs on connections opened once before timing and kept for the
whole run (as the helpers now keep one reader connection per ``Database``), and every
session has the helper's settings, ``TimeZone = 'UTC'`` and ``jit = off``
(``oddskit.connection.READER_SETTINGS``), except the last way:

* *helper*: the oddskit function on one ``Database`` kept for the whole run; it runs on
  ``Database.adbc_reader()``, one ADBC connection in autocommit mode, opened before
  timing;
* *raw ADBC*: the helper's exact SQL and bound parameters (from the module's private
  builders, checked against what the helper executes) on
  ``adbc_driver_postgresql.dbapi.connect(url, autocommit=True)`` with the same ``SET``
  statements: ``cursor.execute(sql, parameters=query.parameters())`` →
  ``fetch_arrow_table()`` → ``pl.from_arrow``;
* *pandas*: ``pandas.read_sql(sql, engine, params=...)`` on a SQLAlchemy psycopg 3
  engine with its default connection pool and ``connect_args={"options": "-c
  TimeZone=UTC -c jit=off"}``, ``$n`` rewritten to ``%(pn)s``;
* *psycopg*: one ``psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC -c
  jit=off")`` kept open: ``execute(sql, params).fetchall()`` →
  ``pl.DataFrame(rows, orient="row")``;
* *raw ADBC, JIT on*: raw ADBC on another kept connection with only ``TimeZone`` set
  (the server's default ``jit``), to show what the helper's ``jit = off`` buys.

*Server time.* ``EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON)`` of the same
SQL with the same parameters on the raw ADBC connection (statement option
``adbc.postgresql.use_copy = false``, as ``oddskit.queries._explain``): PostgreSQL's
``Planning Time`` + ``Execution Time``. EXPLAIN ANALYZE runs the query but discards its
rows, so a way's time minus the server time is its *client-side share*: the round
trip, the server encoding the rows for the wire, the transfer and the decoding into a
frame (for pandas also the pool check-out and SQLAlchemy).

Each case runs every way (and the EXPLAIN) once as a warm-up, then at least ``--repeat``
rounds of all of them in turn — more for fast queries, about a second of helper time,
at most 30 rounds — and time = best of the rounds (the server time from its best
EXPLAIN). Row counts must agree between ways, rounds and EXPLAIN's ``Actual Rows``;
every session's backend pid is checked to be the same at the end as before timing (no
way reconnected). Connection set-up (ADBC connect + the reader's ``SET`` statements vs
psycopg connect) is measured once, for information; it is in none of the times above.

Results go to ``<out>/queries.md`` and ``<out>/queries.json``. A database created by the
run and the temporary files are removed at the end, also on failure (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_URL,
    autocommit,
    busy,
    code_line,
    create_database,
    database_of,
    drop_database,
    log,
    machine_info,
    masked,
    was_busy,
    with_database,
    write_results,
)

BOOKMAKERS = ["betPawa", "SportyBet", "Bet9ja"]
RETENTION_DAYS = 30
WINDOW_DAYS = 7
INTERACTIVE_SECONDS = 1.0
HELPER_OVER_RAW_TARGET = 1.2
PANDAS_OVER_HELPER_TARGET = 5.0
#: The ways to run a query, in the order they run in each round, and their labels.
#: Fast queries are timed in more rounds: about this much helper time, at most MAX_ROUNDS.
ROUNDS_BUDGET_SECONDS = 1.0
MAX_ROUNDS = 30
WAYS = {
    "helper": "helper",
    "raw_adbc": "raw ADBC",
    "pandas": "pandas",
    "psycopg": "psycopg",
    "raw_adbc_jit": "raw ADBC, JIT on",
}
#: Server settings recorded in the report header.
QUERY_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "jit",
    "max_parallel_workers_per_gather",
    "random_page_cost",
)
EXPLAIN = "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON)"
TIMEZONE_SET = "SET TimeZone = 'UTC'"


# --------------------------------------------------------------------------------------
# Session settings: the helper's, for every way
# --------------------------------------------------------------------------------------


def helper_settings() -> tuple[str, ...]:
    """The ``SET`` statements of the helper's reader connection, ``TimeZone`` first."""
    from oddskit.connection import READER_SETTINGS

    return (TIMEZONE_SET, *READER_SETTINGS)


def setting_pairs(statements: tuple[str, ...]) -> list[tuple[str, str]]:
    """``SET name = value`` statements as ``(name, value)`` pairs."""
    pairs = []
    for statement in statements:
        match = re.fullmatch(r"SET\s+(\w+)\s*(?:=|TO)\s*'?([^']*)'?", statement.strip(), re.I)
        if match is None:
            raise SystemExit(f"cannot turn {statement!r} into a libpq option")
        pairs.append((match[1], match[2]))
    return pairs


def libpq_options(statements: tuple[str, ...]) -> str:
    """The same settings as a libpq ``options`` value: ``-c TimeZone=UTC -c jit=off``."""
    return " ".join(f"-c {name}={value}" for name, value in setting_pairs(statements))


# --------------------------------------------------------------------------------------
# The database: build it, or take an existing one; its counts
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
    }


def database_counts(url: str) -> dict[str, Any]:
    """What the database holds (read only): prices, snapshots, events, range, size."""
    with autocommit(url) as conn:
        missing = [
            table
            for table in ("market_odds", "odds_snapshots", "events")
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None
        ]
        if missing:
            raise SystemExit(
                f"{masked(url)} is not an oddskit database (no {', '.join(missing)}); "
                "run `oddskit migrate` and load data first"
            )
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM market_odds), (SELECT count(*) FROM odds_snapshots), "
            "(SELECT count(*) FROM events), (SELECT min(captured_at) FROM odds_snapshots), "
            "(SELECT max(captured_at) FROM odds_snapshots), "
            "pg_size_pretty(pg_database_size(current_database())), current_database()"
        ).fetchone()
    if not counts[0] or counts[3] is None:
        raise SystemExit(f"{masked(url)} holds no prices to query")
    return {
        "name": counts[6],
        "price_rows": counts[0],
        "snapshots": counts[1],
        "events": counts[2],
        "first_captured_at": counts[3].isoformat(),
        "newest_captured_at": counts[4].isoformat(),
        "span_days": (counts[4] - counts[3]).total_seconds() / 86400,
        "database_size": counts[5],
    }


# --------------------------------------------------------------------------------------
# The ways to run a query, on connections opened once
# --------------------------------------------------------------------------------------


def pyformat(query: Any) -> tuple[str, dict[str, Any]]:
    """The query's SQL with ``$n`` as ``%(pn)s`` (and ``%`` escaped), and its values."""
    text = query.sql.replace("%", "%%")
    text = re.sub(r"\$(\d+)", r"%(p\1)s", text)
    return text, {f"p{i}": value for i, value in enumerate(query.values, start=1)}


def adbc_session(url: str, statements: tuple[str, ...]) -> Any:
    """An ADBC connection in autocommit mode with ``statements`` run in its session."""
    import adbc_driver_postgresql.dbapi as adbc

    conn = adbc.connect(url, autocommit=True)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    except Exception:
        conn.close()
        raise
    return conn


def adbc_rows(conn: Any, query: Any) -> int:
    import polars as pl

    with conn.cursor() as cursor:
        cursor.execute(query.sql, parameters=query.parameters())
        table = cursor.fetch_arrow_table()
    return pl.from_arrow(table).height  # type: ignore[union-attr]


class Runner:
    """The connections of every way, opened once by :meth:`open` and kept until :meth:`close`."""

    def __init__(self, url: str) -> None:
        from oddskit.connection import Database

        self.db = Database(url)
        self.libpq_url = self.db.libpq_url
        self.settings = helper_settings()
        self.options = libpq_options(self.settings)
        self.adbc: Any = None
        self.adbc_jit: Any = None
        self.engine: Any = None
        self.psycopg: Any = None

    def open(self) -> None:
        import psycopg
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        with self.db.adbc_reader():  # the helper's reader: opened now, kept by the Database
            pass
        self.adbc = adbc_session(self.libpq_url, self.settings)
        self.adbc_jit = adbc_session(self.libpq_url, (TIMEZONE_SET,))
        self.engine = sa.create_engine(  # the default QueuePool
            make_url(self.libpq_url).set(drivername="postgresql+psycopg"),
            connect_args={"options": self.options},
        )
        with self.engine.connect():  # the pool's first connection, kept in the pool
            pass
        self.psycopg = psycopg.connect(self.libpq_url, autocommit=True, options=self.options)

    def close(self) -> None:
        for conn in (self.adbc, self.adbc_jit, self.psycopg):
            if conn is not None:
                conn.close()
        if self.engine is not None:
            self.engine.dispose()
        self.db.close()

    # -- the ways -----------------------------------------------------------------------

    def raw_adbc(self, query: Any) -> int:
        return adbc_rows(self.adbc, query)

    def raw_adbc_jit(self, query: Any) -> int:
        return adbc_rows(self.adbc_jit, query)

    def pandas(self, query: Any) -> int:
        import pandas as pd

        text, params = pyformat(query)
        return len(pd.read_sql(text, self.engine, params=params))

    def psycopg_rows(self, query: Any) -> int:
        import polars as pl

        text, params = pyformat(query)
        cursor = self.psycopg.execute(text, params)
        rows = cursor.fetchall()
        columns = [d.name for d in cursor.description]
        frame = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
        return frame.height

    def server(self, query: Any) -> dict[str, Any]:
        """PostgreSQL's planning and execution time of ``query`` (EXPLAIN ANALYZE)."""
        with self.adbc.cursor() as cursor:
            # Without parameters ADBC wraps a query in COPY (...) TO STDOUT, which EXPLAIN refuses.
            cursor.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
            cursor.execute(f"{EXPLAIN}\n{query.sql}", parameters=query.parameters())
            table = cursor.fetch_arrow_table()
        value = table.column(0)[0].as_py()
        plan = (json.loads(value) if isinstance(value, str | bytes) else value)[0]
        planning, execution = plan["Planning Time"] / 1000, plan["Execution Time"] / 1000
        return {
            "seconds": planning + execution,
            "planning_s": planning,
            "execution_s": execution,
            "rows": plan["Plan"]["Actual Rows"],
            "jit": "JIT" in plan,
        }

    # -- checks -------------------------------------------------------------------------

    def sessions(self) -> dict[str, dict[str, Any]]:
        """Each way's backend pid and session settings, read on its own connection."""
        names = ["TimeZone", *(name for name, _ in setting_pairs(self.settings[1:]))]
        probe = "SELECT pg_backend_pid(), " + ", ".join(
            f"current_setting('{name}')" for name in names
        )

        def adbc_probe(conn: Any) -> list[Any]:
            with conn.cursor() as cursor:
                cursor.execute(probe)
                return list(cursor.fetchone())

        with self.db.adbc_reader() as reader:
            helper = adbc_probe(reader)
        with self.engine.connect() as conn:
            pandas = list(conn.exec_driver_sql(probe).fetchone())
        values = {
            "helper": helper,
            "raw_adbc": adbc_probe(self.adbc),
            "pandas": pandas,
            "psycopg": list(self.psycopg.execute(probe).fetchone()),
            "raw_adbc_jit": adbc_probe(self.adbc_jit),
        }
        return {
            way: {"pid": row[0], "settings": dict(zip(names, row[1:], strict=True))}
            for way, row in values.items()
        }


def captured_sql(call: Callable[[], Any]) -> tuple[str, list[Any]]:
    """Run a helper once with ``run_query`` wrapped; return the SQL of its main query."""
    import oddskit.queries
    import oddskit.queries_board
    import oddskit.queries_current
    import oddskit.queries_quality
    import oddskit.query_builder

    modules = (
        oddskit.queries,
        oddskit.queries_board,
        oddskit.queries_current,
        oddskit.queries_quality,
    )
    seen: list[Any] = []
    original = oddskit.query_builder.run_query

    def spy(db: Any, query: Any, schema: Any, what: str) -> Any:
        seen.append(query)
        return original(db, query, schema, what)

    for module in modules:
        module.run_query = spy  # type: ignore[attr-defined]
    try:
        call()
    finally:
        for module in modules:
            module.run_query = original  # type: ignore[attr-defined]
    return seen[-1].sql, list(seen[-1].values)  # (after the capture bounds, if read)


def best_of(fn: Callable[[], int], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def connect_times(url: str, settings: tuple[str, ...], repeat: int) -> dict[str, float]:
    """Connection set-up, for information: connect + session settings + ``SELECT 1``."""
    import psycopg

    def adbc_open() -> int:
        conn = adbc_session(url, settings)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetch_arrow_table()
        finally:
            conn.close()
        return 1

    def psycopg_open() -> int:
        with psycopg.connect(url, autocommit=True, options=libpq_options(settings)) as conn:
            conn.execute("SELECT 1").fetchall()
        return 1

    return {
        "adbc_connect_select1": best_of(adbc_open, repeat),
        "psycopg_connect_select1": best_of(psycopg_open, repeat),
    }


# --------------------------------------------------------------------------------------
# The cases and the measurement
# --------------------------------------------------------------------------------------


def cases(url: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each query × window: the helper call and the query object of its exact SQL."""
    import oddskit.queries as q
    import oddskit.queries_board as qb
    import oddskit.queries_current as qc

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
    from oddskit.connection import Database
    from oddskit.queries_bounds import capture_bounds, narrow_window

    with Database(url) as db:  # the helper narrows its window to the event's captures
        span = capture_bounds(db, event_ids=[event_id])
    out = []
    for window, since in (("7 d", since7), ("full", None)):
        lookback = dt.timedelta(days=WINDOW_DAYS) if since is not None else None
        lower, upper = narrow_window(span, since, None)  # type: ignore[arg-type,misc]
        out += [
            {
                "query": "fetch_odds_history (1 event)",
                "window": window,
                "helper": lambda db, s=since: q.fetch_odds_history(
                    db, event_ids=[event_id], since=s
                ),
                "sql": q._history_sql(event_ids=[event_id], since=lower, until=upper),
                "interactive": True,
            },
            {
                "query": "fetch_latest_odds (as of newest, all events)",
                "window": window,
                "helper": lambda db, lb=lookback: q.fetch_latest_odds(
                    db, as_of=newest, lookback=lb
                ),
                # as of the newest snapshot: from current_odds (no pair is newer)
                "sql": qc.current_sql(newest, since=since),
                "interactive": True,
            },
            {
                "query": "fetch_closing_odds (all events)",
                "window": window,
                "helper": lambda db, s=since: q.fetch_closing_odds(db, kickoff_since=s),
                "sql": qb._edge_sql(closing=True, kickoff_since=since),
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


def measure_case(runner: Runner, case: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Warm-up, then rounds of every way and the EXPLAIN; best of the rounds.

    At least ``repeat`` rounds; a fast query gets more (up to ``MAX_ROUNDS``, about a
    second of helper time), since a few milliseconds of noise would otherwise decide
    its ratios.
    """
    query = case["sql"]
    ways: dict[str, Callable[[], int]] = {
        "helper": lambda: case["helper"](runner.db).height,
        "raw_adbc": lambda: runner.raw_adbc(query),
        "pandas": lambda: runner.pandas(query),
        "psycopg": lambda: runner.psycopg_rows(query),
        "raw_adbc_jit": lambda: runner.raw_adbc_jit(query),
    }
    began = time.perf_counter()
    counts = {"helper": ways["helper"]()}  # warm-up
    warm = time.perf_counter() - began
    counts |= {way: fn() for way, fn in ways.items() if way != "helper"}
    rounds = max(repeat, min(MAX_ROUNDS, int(ROUNDS_BUDGET_SECONDS / max(warm, 1e-3))))
    server_warm = runner.server(query)
    counts["server (EXPLAIN ANALYZE)"] = server_warm["rows"]
    if len(set(counts.values())) != 1:
        raise AssertionError(f"{case['query']} [{case['window']}]: row counts differ: {counts}")
    rows = counts["helper"]
    runs: dict[str, list[float]] = {way: [] for way in ways}
    explains = []
    for _ in range(rounds):
        for way, fn in ways.items():
            began = time.perf_counter()
            got = fn()
            runs[way].append(time.perf_counter() - began)
            if got != rows:
                raise AssertionError(f"{case['query']}: {way} returned {got} rows, then {rows}")
        explains.append(runner.server(query))
    best_explain = min(explains, key=lambda e: e["seconds"])
    row: dict[str, Any] = {
        "query": case["query"],
        "window": case["window"],
        "interactive": case["interactive"],
        "sql": query.sql,
        "rows": rows,
    }
    for way in ways:
        row[f"{way}_s"], row[f"{way}_runs"] = min(runs[way]), runs[way]
    row |= {
        "server_s": best_explain["seconds"],
        "server_planning_s": best_explain["planning_s"],
        "server_execution_s": best_explain["execution_s"],
        "server_runs": [e["seconds"] for e in explains],
        "rounds": rounds,
        "server_jit_used": any(e["jit"] for e in explains),
    }
    server = row["server_s"]
    row["helper_over_raw"] = row["helper_s"] / row["raw_adbc_s"]
    row["pandas_over_helper"] = row["pandas_s"] / row["helper_s"]
    row["psycopg_over_helper"] = row["psycopg_s"] / row["helper_s"]
    row["jit_over_raw"] = row["raw_adbc_jit_s"] / row["raw_adbc_s"]
    row["helper_client_s"] = row["helper_s"] - server
    row["pandas_client_s"] = row["pandas_s"] - server
    row["pandas_over_helper_client"] = (
        row["pandas_client_s"] / row["helper_client_s"] if row["helper_client_s"] > 0 else None
    )
    row["pandas_over_server"] = row["pandas_s"] / server if server > 0 else None
    return row


def measure(url: str, repeat: int) -> dict[str, Any]:
    runner = Runner(url)
    try:
        runner.open()
        before = runner.sessions()
        expected = before["helper"]["settings"]
        for way in ("raw_adbc", "pandas", "psycopg"):
            if before[way]["settings"] != expected:
                raise AssertionError(
                    f"{way} session settings {before[way]['settings']} differ from the "
                    f"helper's {expected}"
                )
        todo, picked = cases(url)
        results = []
        for case in todo:
            sql, values = captured_sql(lambda c=case: c["helper"](runner.db))
            if sql != case["sql"].sql or values != case["sql"].values:
                raise AssertionError(f"{case['query']}: the rebuilt SQL differs from the helper's")
            load = busy(url)
            row = measure_case(runner, case, repeat)
            row["busy_before"] = load
            log(
                f"{case['query']} [{case['window']}]: {row['rows']:,} rows, "
                f"server {row['server_s'] * 1000:.1f} ms, "
                + ", ".join(f"{label} {row[f'{w}_s'] * 1000:.1f} ms" for w, label in WAYS.items())
            )
            results.append(row)
        after = runner.sessions()
        for way, session in before.items():
            session["pid_at_end"] = after[way]["pid"]
            if after[way]["pid"] != session["pid"]:
                raise AssertionError(f"{way} reconnected during the run")
        connects = connect_times(runner.libpq_url, runner.settings, repeat)
    finally:
        runner.close()
    return {
        "picked": picked,
        "results": results,
        "sessions": before,
        "libpq_options": runner.options,
        "connect_seconds": connects,
    }


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def median_ratio(row: dict[str, Any], a: str, b: str) -> float:
    """Median of ``a``'s timed runs over the median of ``b``'s (less noisy than best-of)."""
    return statistics.median(row[f"{a}_runs"]) / statistics.median(row[f"{b}_runs"])


def fmt_ratio(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = report["measure"]["results"]
    n = len(rows)
    worst_overhead = max(rows, key=lambda r: r["helper_over_raw"])
    worst_median = max(rows, key=lambda r: median_ratio(r, "helper", "raw_adbc"))
    worst_pandas = min(rows, key=lambda r: r["pandas_over_helper"])
    pandas_met = sum(r["pandas_over_helper"] >= PANDAS_OVER_HELPER_TARGET for r in rows)
    capped = [
        r
        for r in rows
        if r["pandas_over_server"] is not None
        and r["pandas_over_server"] < PANDAS_OVER_HELPER_TARGET
    ]
    client = [r for r in rows if r["pandas_over_helper_client"] is not None]
    client_met = sum(r["pandas_over_helper_client"] >= PANDAS_OVER_HELPER_TARGET for r in client)
    worst_client = min(client, key=lambda r: r["pandas_over_helper_client"]) if client else None
    pandas_detail = (
        f"met for {pandas_met} of {n} queries; worst {worst_pandas['pandas_over_helper']:.1f}× "
        f"({worst_pandas['query']}, {worst_pandas['window']}). "
        f"For {len(capped)} of {n} queries pandas takes less than "
        f"{PANDAS_OVER_HELPER_TARGET:g}× the server's own planning + execution time, so not "
        "even a helper with no client-side cost at all could be "
        f"{PANDAS_OVER_HELPER_TARGET:g}× faster"
    )
    if capped:
        lowest = min(capped, key=lambda r: r["pandas_over_server"])
        pandas_detail += (
            f" (lowest ceiling pandas/server {lowest['pandas_over_server']:.1f}×: "
            f"{lowest['query']}, {lowest['window']})"
        )
    if worst_client is not None:
        pandas_detail += (
            f". On the client side alone (time − server time) pandas/helper is ≥ "
            f"{PANDAS_OVER_HELPER_TARGET:g}× for {client_met} of {len(client)} queries, worst "
            f"{worst_client['pandas_over_helper_client']:.1f}× ({worst_client['query']}, "
            f"{worst_client['window']})"
        )
    out = [
        {
            "target": f"helper ≤ {HELPER_OVER_RAW_TARGET}× raw ADBC (every query)",
            "met": worst_overhead["helper_over_raw"] <= HELPER_OVER_RAW_TARGET,
            "detail": f"worst {worst_overhead['helper_over_raw']:.2f}× "
            f"({worst_overhead['query']}, {worst_overhead['window']}); by medians of the "
            f"timed runs the worst is {median_ratio(worst_median, 'helper', 'raw_adbc'):.2f}× "
            f"({worst_median['query']}, {worst_median['window']})",
        },
        {
            "target": f"helper ≥ {PANDAS_OVER_HELPER_TARGET:g}× faster than pandas.read_sql "
            "(every query)",
            "met": pandas_met == n,
            "detail": pandas_detail,
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
                    f"({row['helper_s'] / short['helper_s']:.2f}×); of the full-range time "
                    f"{row['server_s'] * 1000:.0f} ms is the server's planning + execution "
                    f"({row['server_s'] / row['helper_s']:.0%}; 7 d: "
                    f"{short['server_s'] * 1000:.0f} ms)",
                }
            )
    return out


def data_lines(report: dict[str, Any]) -> list[str]:
    d = report["database"]
    counts = (
        f"{d['price_rows']:,} price rows, {d['snapshots']:,} snapshots, {d['events']:,} events, "
        f"captured {d['first_captured_at'][:16]} to {d['newest_captured_at'][:16]} UTC "
        f"({d['span_days']:.1f} days), {d['database_size']}"
    )
    b = report.get("build")
    if b is None:
        note = ""
        if d["span_days"] < RETENTION_DAYS - 1:
            note = (
                f"\n> **Reduced scale:** the database spans {d['span_days']:.1f} days instead "
                f"of the issue's {RETENTION_DAYS}.\n"
            )
        return [
            f"- Data: not generated in this run. Measured the existing database "
            f"`{d['name']}` (`--database {report['database_url']}`) as it is: nothing "
            "generated, loaded, vacuumed, analysed or dropped",
            f"- Database: {counts}",
            f"- Whole run: {report['seconds']:.0f} s",
            note,
        ]
    note = ""
    if b["days"] != RETENTION_DAYS or b["events_per_day"] != 100:
        note = (
            f"\n> **Reduced scale:** {b['days']} day{'s' if b['days'] != 1 else ''} × "
            f"{b['events_per_day']} events/day "
            f"instead of the issue's {RETENTION_DAYS} days × 100 events/day.\n"
        )
    return [
        f"- Data: generated in this run, `write_sample(days={b['days']}, "
        f"events_per_day={b['events_per_day']}, bookmakers={b['bookmakers']}, "
        f"seed={b['seed']}, start={b['start'][:16]}Z)` → {b['generated_rows']:,} rows, "
        f"{b['generated_events']:,} events (generated in {b['generate_seconds']:.1f} s); "
        f"{b['dropped_outside_retention']:,} rows older than the 30-day retention window "
        "(+30 min margin) left out",
        f"- Database after load: {counts}",
        f"- Load (separate from the query timings): `oddskit.load` {b['load_rows_loaded']:,} rows "
        f"in {b['load_seconds']:.1f} s ({b['load_rows_per_second']:,.0f} rows/s, "
        f"{b['load_rows_rejected']:,} rejected); then `VACUUM ANALYZE` "
        f"{b['vacuum_analyze_seconds']:.1f} s (untimed for queries)",
        f"- Whole run: {report['seconds']:.0f} s",
        note,
    ]


def render_markdown(report: dict[str, Any]) -> str:
    m, meas = report["machine"], report["measure"]
    v = m["versions"]
    settings = ", ".join(f"{k}={val}" for k, val in sorted(m["postgresql_settings"].items()))
    repeat = report["repeat"]
    rounds = f"{repeat} round{'s' if repeat != 1 else ''}"
    results = meas["results"]
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
        f"- Code: {code_line(m)}",
        *data_lines(report),
        "## Results",
        "",
        "Every way runs on connections opened once before timing and kept for the whole run, "
        f"with the helper's session settings (`{meas['libpq_options']}`), except *raw ADBC, "
        "JIT on*, whose session sets only the time zone (server default `jit`). Each query ran "
        f"every way once as a warm-up, then at least {rounds} of all ways in turn (fast "
        f"queries more: about {ROUNDS_BUDGET_SECONDS:g} s of helper time, at most {MAX_ROUNDS}; "
        "the *rounds* column); times are the fastest round's, in seconds. *server* is "
        "PostgreSQL's own planning + execution "
        "time (`EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON)` on the raw ADBC "
        "connection, `jit = off`, fastest round): the query without sending its rows. "
        "Windows: *7 d* = "
        f"`since = newest − 7 days` (newest = {meas['picked']['newest'][:19]}), *full* = "
        f"everything stored. History event: id {meas['picked']['history_event_id']} (most "
        "price rows in the last 7 days).",
        "",
        "| query | window | rows | server s | helper s | raw ADBC s | pandas s | psycopg s "
        "| raw ADBC, JIT on s | rounds |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['query']} | {r['window']} | {r['rows']:,} | {r['server_s']:.4f} | "
            f"{r['helper_s']:.4f} | {r['raw_adbc_s']:.4f} | {r['pandas_s']:.4f} | "
            f"{r['psycopg_s']:.4f} | {r['raw_adbc_jit_s']:.4f} | {r.get('rounds', '')} |"
        )
    lines += [
        "",
        "Ratios, and the client-side share of the time (the way's time − server time: round "
        "trip, the server encoding the rows for the wire, transfer, decoding into a frame). "
        "*pandas/server* is roughly the most the helper could be faster than pandas: the "
        "ratio it would reach with no client-side share at all. *JIT on/raw* is raw ADBC "
        "with the server's default `jit` over raw ADBC with `jit = off`.",
        "",
        "| query | window | helper/raw | helper/raw (medians) | pandas/helper | psycopg/helper "
        "| helper client s | pandas client s | pandas/helper client side | pandas/server "
        "| JIT on/raw |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['query']} | {r['window']} | {r['helper_over_raw']:.2f} | "
            f"{median_ratio(r, 'helper', 'raw_adbc'):.2f} | {r['pandas_over_helper']:.1f} | "
            f"{r['psycopg_over_helper']:.1f} | {r['helper_client_s']:.4f} | "
            f"{r['pandas_client_s']:.4f} | {fmt_ratio(r['pandas_over_helper_client'])} | "
            f"{fmt_ratio(r['pandas_over_server'])} | {r['jit_over_raw']:.2f} |"
        )
    c, s = meas["connect_seconds"], meas["sessions"]
    same = all(x["pid"] == x["pid_at_end"] for x in s.values())
    lines += [
        "",
        "Connection set-up, in none of the times above (connect + session settings + "
        f"`SELECT 1`, fastest of {repeat} after a warm-up): ADBC "
        f"{c['adbc_connect_select1'] * 1000:.1f} ms (what a helper's first call on a new "
        f"`Database` pays to open its reader), psycopg {c['psycopg_connect_select1'] * 1000:.1f} "
        "ms.",
        "",
        "Sessions (read on each way's own connection before timing): "
        + "; ".join(
            f"{WAYS[way]} pid {x['pid']}, "
            + ", ".join(f"{k}={val}" for k, val in x["settings"].items())
            for way, x in s.items()
        )
        + (
            "; every way was on the same backend at the end of the run (no reconnects)."
            if same
            else "; **some way reconnected during the run**."
        ),
        "",
        "Parameters per way: the helper and raw ADBC bind the same Arrow parameters "
        "(`_Query.parameters()`); pandas (`read_sql(sql, engine, params=...)` on a SQLAlchemy "
        "psycopg engine, default pool) and psycopg (one connection, autocommit) bind the same "
        "values with `$n` rewritten to `%(pn)s`, the SQL text otherwise identical. The rebuilt "
        "SQL was checked equal to what each helper executed, and every way and EXPLAIN ANALYZE "
        "returned the same number of rows.",
    ]
    start = report["busy_at_start"]
    samples = [r["busy_before"] for r in results]
    lines += [
        "",
        "Other work: 1-minute load average at the start of the run "
        f"{start['loadavg_1m']:.2f} with {start['other_active_sessions']} other active "
        "PostgreSQL session(s); before each query (load average / other active sessions; the "
        "load average now includes this benchmark's own client and server work): "
        + ", ".join(f"{b['loadavg_1m']:.2f} / {b['other_active_sessions']}" for b in samples)
        + ".",
    ]
    if was_busy([start], m["nproc"]) or any(b["other_active_sessions"] for b in samples):
        lines.append(
            f"**Warning: the machine ({m['nproc']} cores) or the server was busy with other "
            "work during this run; times and ratios are noisy. Re-run on a quiet machine for "
            "final numbers.**"
        )
    lines += ["", "## Targets", ""]
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
    if report.get("history"):
        from queries_history import render_history

        lines += [*render_history(report["history"]), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def run_history(args: argparse.Namespace) -> dict[str, Any]:
    """The history data set (:mod:`queries_history`): build or take it, measure it."""
    from queries_history import build_history, history_counts, history_targets, measure_history

    history: dict[str, Any] = {"repeat": args.repeat, "before_ref": args.before_ref}
    admin_url = with_database(args.url, database_of(args.url))
    created: list[str] = []
    try:
        if args.history_database:
            from oddskit.connection import Database

            url = Database(args.history_database).libpq_url
            history["mode"] = "existing database (built before by the same generator)"
        else:
            url = create_database(admin_url, created)
            history["mode"] = "generated"
            history["build"] = build_history(url, args.history_days, args.seed)
        history["busy_at_start"] = busy(url)
        history["database"] = history_counts(url)
        history["measure"] = measure_history(url, args.repeat, args.before_ref)
    finally:
        for name in created if not args.keep else []:
            drop_database(admin_url, name)
            log(f"dropped database {name}")
    history["targets"] = history_targets(history)
    return history


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.history_only:  # keep the recorded 30-day section as it is
        report = json.loads((args.out / "queries.json").read_text(encoding="utf-8"))
        report["history"] = run_history(args)
        return report
    began = time.perf_counter()
    report: dict[str, Any] = {"repeat": args.repeat}
    if args.database:
        from oddskit.connection import Database

        url = Database(args.database).libpq_url
        report["mode"] = "existing database"
        report["database_url"] = masked(url)
        report["busy_at_start"] = busy(url)
        report["machine"] = machine_info(url, QUERY_SETTINGS)
        report["database"] = database_counts(url)
        report["measure"] = measure(url, args.repeat)
    else:
        admin_url = with_database(args.url, database_of(args.url))
        report["mode"] = "generated"
        created: list[str] = []
        with tempfile.TemporaryDirectory(prefix="oddskit_bench_q_") as tmp:
            try:
                report["busy_at_start"] = busy(admin_url)
                report["machine"] = machine_info(admin_url, QUERY_SETTINGS)
                url = create_database(admin_url, created)
                report["build"] = build(url, Path(tmp), args.days, args.events_per_day, args.seed)
                report["database"] = database_counts(url)
                report["measure"] = measure(url, args.repeat)
            finally:
                if not args.keep:
                    for name in created:
                        drop_database(admin_url, name)
                        log(f"dropped database {name}")
                elif created:
                    log(f"kept databases: {', '.join(created)}")
    report["seconds"] = time.perf_counter() - began
    report["targets"] = targets(report)
    if args.history_days or args.history_database:
        report["history"] = run_history(args)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=30, help="days of data to generate")
    parser.add_argument("--events-per-day", type=int, default=100)
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="a database on the server (for CREATE DATABASE)"
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="measure this already loaded oddskit database as it is (no generating, loading "
        "or dropping; --days, --events-per-day, --url, --seed and --keep are ignored)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--history-days",
        type=int,
        default=760,
        help="days of the history data set (retention off; 0: skip it)",
    )
    parser.add_argument(
        "--history-database", metavar="URL", help="measure this history database as it is"
    )
    parser.add_argument(
        "--history-only",
        action="store_true",
        help="run only the history data set; keep the 30-day section of <out>/queries.json",
    )
    parser.add_argument(
        "--before-ref", default="main", help="git revision of the helpers to compare with"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.days <= RETENTION_DAYS:
        parser.error(f"--days must be between 1 and {RETENTION_DAYS} (the retention window)")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    report = run(args)
    write_results(args.out, "queries", render_markdown(report), report)
    for t in report["targets"] + report.get("history", {}).get("targets", []):
        log(f"{'met    ' if t['met'] else 'NOT MET'} {t['target']}: {t['detail']}")
    log(f"wrote {args.out / 'queries.md'} and {args.out / 'queries.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
