r"""Benchmark: ``oddskit load`` against the practical bulk-load limits of PostgreSQL.

Issue requirement: on the generator's 5,000,000-row Parquet file, in one run on the
same server, measure ``oddskit load`` end to end into an empty database against

(a) server-side ``COPY ... FROM '<file>' (FORMAT binary)`` of the same rows into a bare
    copy of the price table with the same indexes (the practical limit),
(b) ``polars.DataFrame.write_database(engine="adbc")`` into that bare table,
(c) psycopg 3 ``COPY ... FROM STDIN (FORMAT csv)`` into it, and
(d) ``pandas.DataFrame.to_sql(method="multi")`` of a 500,000-row slice into it;

report rows/s and each as a ratio of (a); also a reload of the same file (all
duplicates) and the peak RSS of the loader at 1M and 5M rows (and 10M).
Targets: oddskit load ≥ 0.6× (a); ≥ 30× pandas ``to_sql``; the reload ≥ 5× faster than
the first load; peak RSS < 1.5 GB at 5M rows and no more at 10M than at 5M.

Usage::

    python benchmarks/bench_load.py --rows 5000000 \
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--out benchmarks/results] \
        [--rss-rows 1000000,10000000] [--pandas-rows 500000] [--seed 0] [--keep] \
        [--on-error raise|skip]

What is measured
----------------
A fresh database ``oddskit_bench_<random>`` is created on the server of ``--url`` and
migrated with :func:`oddskit.migrate`; the sample Parquet file
(:func:`oddskit.sample.write_sample`, ``--rows`` rows, ``--seed``) is written to a
temporary folder. The data start far enough in the past that every row is inside the
loader's retention window and none is in the future.

*oddskit load* runs in a **child process** (``oddskit.load(path, db=Database(url),
progress=False)``), so its peak RSS is its own ``VmHWM`` (cross-checked by
polling with psutil). The time reported is the wall time of the ``load()`` call
(connect, partition maintenance, file hash, checking and writing, commit); interpreter start
and imports are excluded but reported. The child also times the loader's internal
steps by wrapping them (no change to oddskit itself), to show which phase dominates.
The *reload* is the same file loaded again the same way (every row already present).

*Baselines*: after the oddskit load, ``bench_prices`` is created as ``LIKE market_odds
INCLUDING DEFAULTS INCLUDING CONSTRAINTS``, partitioned by range on ``captured_at``
with the same daily partitions, and the same indexes as ``market_odds`` (definitions
copied from ``pg_indexes``: the unique ``NULLS NOT DISTINCT`` one and the BRIN). The
prices oddskit stored are exported (untimed) with server-side ``COPY (SELECT ...) TO
'<file>' (FORMAT binary)`` and read once (untimed) into a Polars frame. Before each
baseline: ``TRUNCATE bench_prices; VACUUM bench_prices; CHECKPOINT`` (a ``CHECKPOINT``
also precedes each oddskit load). Each baseline's rows are checked afterwards
(count, ``count(line)``, ``sum(odds)``). Ratios are rows/s ÷ rows/s of (a).

*Peak RSS* at other sizes (``--rss-rows``): each is a separate child-process load of
a file of that many rows into another fresh database (a size equal to ``--rows``
reuses the main load).

Results go to ``<out>/load.md`` and ``<out>/load.json``. Benchmark databases and
temporary files are removed at the end (unless ``--keep``).

The server-side COPY needs the PostgreSQL server on this machine (it reads and
writes a file in a world-writable temporary folder) and a superuser (or the
``pg_read_server_files``/``pg_write_server_files`` and ``pg_checkpoint`` roles).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
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

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
PRICE_COLUMNS = ("snapshot_id", "captured_at", "market", "line", "outcome", "odds")
BARE = "bench_prices"
URL_ENV = "ODDSKIT_BENCH_CHILD_URL"
ON_ERROR_ENV = "ODDSKIT_BENCH_ON_ERROR"

TARGET_VS_COPY = 0.6
TARGET_VS_PANDAS = 30.0
TARGET_RELOAD_SPEEDUP = 5.0
TARGET_RSS_BYTES = 1.5e9  # 1.5 GB (decimal)
RSS_GROWTH_TOLERANCE = 0.05  # "no more at 10M than at 5M": allow 5 % measurement noise
PANDAS_CHUNKSIZE = 1_000  # the fastest of 500-10,000 in a trial (1,000-1,600 rows/s all)
CSV_BATCH_ROWS = 100_000
SAMPLE_ROWS_PER_DAY = 600_000  # conservative; the generator gives about 1.2M a day
#: Server settings recorded in the report header.
LOAD_SETTINGS = (
    "shared_buffers",
    "max_wal_size",
    "synchronous_commit",
    "wal_level",
    "maintenance_work_mem",
    "work_mem",
    "fsync",
    "full_page_writes",
    "max_parallel_maintenance_workers",
    "wal_compression",
)

# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def maxrss_bytes() -> int:
    """Peak RSS of this process so far: ``VmHWM`` of its own address space.

    Not ``ru_maxrss``: Linux carries that over from the parent across fork + exec, so
    a child started by a parent holding 1.3 GB (after generating a 10M-row sample)
    reported 1.3 GB "after imports". ``VmHWM`` starts afresh with the new program.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fmt_bytes(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:,.0f} MB"


def fmt_rate(n: float | None) -> str:
    return "n/a" if n is None else f"{n:,.0f}"


# --------------------------------------------------------------------------------------
# Child process: one oddskit load, instrumented
# --------------------------------------------------------------------------------------


def child_load(path: str, out: str) -> None:
    """Run ``oddskit.load`` once and write its numbers to ``out`` (JSON)."""
    url = os.environ[URL_ENV]
    began = time.perf_counter()
    import adbc_driver_manager.dbapi as adbc_dbapi

    import oddskit.loading as loading
    import oddskit.sources as sources
    from oddskit.connection import Database

    import_seconds = time.perf_counter() - began
    rss_after_import = maxrss_bytes()
    phases: dict[str, dict[str, Any]] = {}
    local = threading.local()  # the loader may prepare batches in another thread

    def instrument(
        owner: Any,
        name: str,
        key: Callable[[tuple[Any, ...]], str] | str,
        optional: bool = False,
    ) -> None:
        original = getattr(owner, name, None)
        if original is None and optional:
            return
        if original is None:  # the loader changed; time what still exists
            phases.setdefault("(not instrumented)", {"names": []})["names"].append(name)
            return

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            label = key(args) if callable(key) else key
            stack = local.__dict__.setdefault("stack", [])
            if stack:
                label = f"{stack[-1]} › {label}"
            stack.append(label)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                stack.pop()
                entry = phases.setdefault(label, {"seconds": 0.0, "calls": 0})
                entry["seconds"] += time.perf_counter() - started
                entry["calls"] += 1
                entry["peak_rss_after"] = maxrss_bytes()

        setattr(owner, name, wrapper)

    instrument(loading, "maintain", "partition maintenance")
    instrument(sources.Source, "file_hash", "file hash")
    # on_error="raise": one pass, checking in worker threads while the main thread
    # writes (their times overlap); "check" and "write spooled" run with on_error="skip".
    try:  # the loader since issue 10: oddskit.loader, checker, load_writer
        import oddskit.checker as checker
        import oddskit.load_writer as load_writer
        import oddskit.loader as loader
        import oddskit.runs as runs
    except ImportError:  # the loader before it: one class in oddskit.loading
        source_loader = loading._SourceLoader
        instrument(source_loader, "_start_run", "start run record")
        instrument(source_loader, "_captured_span", "time span (captured_at only)")
        instrument(source_loader, "_one_pass", "one pass: check + write")
        instrument(source_loader, "_validate_pass", "pass 1: read + validate")
        instrument(source_loader, "_resolve_and_insert_snapshots", "dimensions + snapshots")
        instrument(source_loader, "_write_pass", "pass 2: re-read + write")
        instrument(source_loader, "_finish_run", "finish run record")
        instrument(loading, "ensure_partitions", "ensure partitions")
        instrument(loading, "validate_batch", "validate_batch")
        instrument(loading, "parse_prices", "parse_prices")
    else:
        instrument(runs.RunRecord, "start", "start run record")
        instrument(loader, "_captured_span", "time span (captured_at only)")
        instrument(loader, "_load_raising", "one pass: check + write")
        instrument(loader, "_check_to_spool", "check (skip mode)")
        instrument(load_writer.LoadWriter, "snapshots", "dimensions + snapshots")
        instrument(loader, "_write_spooled", "write spooled prices (skip mode)")
        instrument(runs.RunRecord, "finish", "finish run record")
        instrument(loader, "ensure_partitions", "ensure partitions")
        instrument(checker, "validate_batch", "validate_batch")
        instrument(loader, "parse_snapshot_keys", "parse_snapshot_keys")
    instrument(
        adbc_dbapi.Cursor,
        "adbc_ingest",
        lambda args: f"adbc_ingest {args[1] if len(args) > 1 else '?'}",
    )
    instrument(adbc_dbapi.Connection, "commit", "commit")

    started = time.perf_counter()
    db = Database(url)
    try:
        on_error = os.environ.get(ON_ERROR_ENV, "raise")
        report = loading.load(path, db=db, progress=False, on_error=on_error)
    finally:
        db.close()
    seconds = time.perf_counter() - started
    result = report.results[0]
    payload = {
        "seconds": seconds,
        "report_seconds": report.seconds,
        "import_seconds": import_seconds,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_present": report.rows_present,
        "rows_rejected": report.rows_rejected,
        "snapshots_new": result.snapshots_new,
        "snapshots_present": result.snapshots_present,
        "partitions_created": len(result.partitions_created),
        "report": str(report),
        "rss_after_import": rss_after_import,
        "peak_rss": maxrss_bytes(),
        "phases": phases,
    }
    Path(out).write_text(json.dumps(payload, indent=2), encoding="utf-8")


class RssPoller(threading.Thread):
    """Polls a process's RSS with psutil (a cross-check of the child's VmHWM)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak: int | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            import psutil

            process = psutil.Process(self.pid)
            while not self.done.is_set():
                rss = process.memory_info().rss
                self.peak = rss if self.peak is None else max(self.peak, rss)
                time.sleep(self.interval)
        except Exception:  # psutil missing, or the process ended
            return


def run_loader(path: Path, url: str, label: str) -> dict[str, Any]:
    """Load ``path`` into ``url`` in a child process; return the child's numbers."""
    with autocommit(url) as conn:
        conn.execute("CHECKPOINT")
    before = busy(url)
    out = Path(tempfile.mkstemp(prefix="oddskit_bench_child_", suffix=".json")[1])
    command = [sys.executable, str(Path(__file__).resolve()), "--child-load", str(path)]
    command += ["--child-out", str(out)]
    log(f"{label}: loading {path.name} in a child process")
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env={**os.environ, URL_ENV: url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    poller = RssPoller(process.pid)
    poller.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    poller.done.set()
    poller.join()
    try:
        if process.returncode != 0:
            raise RuntimeError(f"{label}: the loader exited with {process.returncode}:\n{stderr}")
        data = json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)
    data |= {
        "label": label,
        "process_wall_seconds": wall,
        "peak_rss_polled": poller.peak,
        "busy_before": before,
        "rows_per_second": data["rows_read"] / data["seconds"],
    }
    log(
        f"{label}: {data['rows_read']:,} rows read, {data['rows_loaded']:,} new in "
        f"{data['seconds']:.2f} s ({data['rows_per_second']:,.0f} rows/s), "
        f"peak RSS {fmt_bytes(data['peak_rss'])}"
    )
    return data


# --------------------------------------------------------------------------------------
# Databases and data
# --------------------------------------------------------------------------------------


def write_file(folder: Path, rows: int, seed: int) -> dict[str, Any]:
    """The sample Parquet file, starting far enough back to be within retention."""
    from oddskit.sample import write_sample

    days_back = math.ceil(rows / SAMPLE_ROWS_PER_DAY) + 2
    if days_back > 28:
        raise SystemExit(
            f"{rows:,} rows span more days than the default 30-day retention window allows"
        )
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=days_back)
    path = folder / f"odds_{rows}.parquet"
    log(f"writing the {rows:,}-row sample to {path}")
    summary = write_sample(path, rows=rows, seed=seed, start=start)
    last = summary.last_captured_at
    if last is None or last > dt.datetime.now(dt.UTC):
        raise SystemExit(f"the sample runs into the future (last captured_at {last})")
    return {
        "path": str(path),
        "rows": summary.rows,
        "events": summary.events,
        "bytes": path.stat().st_size,
        "first_captured_at": str(summary.first_captured_at),
        "last_captured_at": str(last),
        "seed": seed,
        "seconds": summary.seconds,
    }


# --------------------------------------------------------------------------------------
# The bare price table and the baselines
# --------------------------------------------------------------------------------------


def create_bare_table(conn: Any) -> dict[str, Any]:
    """``bench_prices``: market_odds's columns, CHECKs, partitions and indexes only."""
    from psycopg import sql

    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(BARE)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (LIKE market_odds INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (captured_at)"
        ).format(sql.Identifier(BARE))
    )
    parts = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'market_odds'::regclass ORDER BY 1"
    ).fetchall()
    for name, bound in parts:
        conn.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF {} {}").format(
                sql.Identifier(name.replace("market_odds", BARE, 1)),
                sql.Identifier(BARE),
                sql.SQL(bound),
            )
        )
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = 'market_odds' ORDER BY 1"
    ).fetchall()
    created = []
    for name, definition in indexes:
        new = re.sub(r" ON (?:ONLY )?((?:\w+\.)?)market_odds ", rf" ON \1{BARE} ", definition)
        new = new.replace(f" INDEX {name} ", f" INDEX {name.replace('market_odds', BARE)} ", 1)
        conn.execute(new)
        created.append(new)
    checks = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'c'",
        (BARE,),
    ).fetchall()
    return {
        "partitions": len(parts),
        "indexes": created,
        "checks": [c for (c,) in checks],
    }


def table_check(conn: Any, table: str) -> dict[str, Any]:
    from psycopg import sql

    count, lines, odds = conn.execute(
        sql.SQL("SELECT count(*), count(line), sum(odds) FROM {}").format(sql.Identifier(table))
    ).fetchone()
    return {"rows": count, "lines": lines, "sum_odds": float(odds or 0.0)}


def same_rows(got: dict[str, Any], want: dict[str, Any]) -> bool:
    return (
        got["rows"] == want["rows"]
        and got["lines"] == want["lines"]
        and math.isclose(got["sum_odds"], want["sum_odds"], rel_tol=1e-9)
    )


def prepare_bare(url: str) -> dict[str, Any]:
    """Empty the bare table, vacuum, checkpoint; say how busy the machine is."""
    from psycopg import sql

    with autocommit(url) as conn:
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(BARE)))
        conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(BARE)))
        conn.execute("CHECKPOINT")
    return busy(url)


def timed_baseline(
    label: str, url: str, rows: int, expected: dict[str, Any], action: Callable[[], None]
) -> dict[str, Any]:
    before = prepare_bare(url)
    log(f"{label}: {rows:,} rows")
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    with autocommit(url) as conn:
        got = table_check(conn, BARE)
    if not same_rows(got, expected):
        raise RuntimeError(f"{label}: bench_prices holds {got}, expected {expected}")
    log(f"{label}: {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    return {
        "label": label,
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "busy_before": before,
        "check": got,
    }


def copy_binary_file(url: str, path: Path) -> None:
    from psycopg import sql

    with autocommit(url) as conn:
        conn.execute(
            sql.SQL("COPY {} ({}) FROM {} (FORMAT binary)").format(
                sql.Identifier(BARE),
                sql.SQL(", ").join(map(sql.Identifier, PRICE_COLUMNS)),
                sql.Literal(str(path)),
            )
        )


def polars_adbc(url: str, frame: Any) -> None:
    frame.write_database(BARE, connection=url, engine="adbc", if_table_exists="append")


def psycopg_copy_csv(url: str, frame: Any) -> None:
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from psycopg import sql

    table = frame.to_arrow()
    plain = pa.schema(
        [f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f for f in table.schema]
    )
    table = table.cast(plain)
    options = pacsv.WriteOptions(include_header=False)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(BARE), sql.SQL(", ").join(map(sql.Identifier, PRICE_COLUMNS))
    )
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for batch in table.to_batches(max_chunksize=CSV_BATCH_ROWS):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())
        conn.commit()


def pandas_to_sql(engine: Any, frame: Any) -> None:
    frame.to_sql(
        BARE,
        engine,
        if_exists="append",
        index=False,
        method="multi",
        chunksize=PANDAS_CHUNKSIZE,
    )


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs, with every run's seconds (``runs_seconds``)."""
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "runs_seconds": [r["seconds"] for r in runs]}


def run_baselines(url: str, folder: Path, pandas_rows: int, repeat: int) -> dict[str, Any]:
    import polars as pl
    import sqlalchemy as sa
    from psycopg import sql

    with autocommit(url) as conn:
        bare = create_bare_table(conn)
        expected = table_check(conn, "market_odds")
        export = folder / "prices.bin"
        log(f"exporting {expected['rows']:,} prices to {export} (untimed)")
        conn.execute(
            sql.SQL("COPY (SELECT {} FROM market_odds) TO {} (FORMAT binary)").format(
                sql.SQL(", ").join(map(sql.Identifier, PRICE_COLUMNS)),
                sql.Literal(str(export)),
            )
        )
    rows = expected["rows"]
    log("reading the prices into a Polars frame (untimed)")
    frame = pl.read_database_uri(
        f"SELECT {', '.join(PRICE_COLUMNS)} FROM market_odds",  # noqa: S608 - constant
        url,
        engine="adbc",
    )
    if frame.height != rows:
        raise RuntimeError(f"read {frame.height:,} prices, expected {rows:,}")
    results = {"bare_table": bare, "export_bytes": export.stat().st_size}
    results["a"] = best_of(
        [
            timed_baseline(
                "(a) COPY FROM file (binary)",
                url,
                rows,
                expected,
                functools.partial(copy_binary_file, url, export),
            )
            for _ in range(repeat)
        ]
    )
    export.unlink()
    results["b"] = timed_baseline(
        "(b) polars write_database adbc",
        url,
        rows,
        expected,
        functools.partial(polars_adbc, url, frame),
    )
    results["c"] = timed_baseline(
        "(c) psycopg COPY FROM STDIN csv",
        url,
        rows,
        expected,
        functools.partial(psycopg_copy_csv, url, frame),
    )
    part = frame.head(pandas_rows)
    part_expected = {
        "rows": part.height,
        "lines": part.height - part["line"].null_count(),
        "sum_odds": float(part["odds"].sum()),
    }
    pdf = part.to_pandas()
    del frame, part
    engine = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        connect_args={"options": "-c TimeZone=UTC"},
    )
    try:
        results["d"] = timed_baseline(
            f"(d) pandas to_sql multi ({len(pdf):,}-row slice)",
            url,
            len(pdf),
            part_expected,
            functools.partial(pandas_to_sql, engine, pdf),
        )
    finally:
        engine.dispose()
    prepare_bare(url)
    return results


# --------------------------------------------------------------------------------------
# Machine and versions
# --------------------------------------------------------------------------------------


def partition_backend(url: str) -> str:
    """What manages the daily partitions in the migrated benchmark database."""
    with autocommit(url) as conn:
        partman = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'"
        ).fetchone()
    return f"pg_partman {partman[0]}" if partman else "native partitioning (no pg_partman)"


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def summarise(report: dict[str, Any]) -> None:
    """Add the results table rows and the target verdicts to ``report``."""
    first, reload, base = report["first_load"], report["reload"], report["baselines"]
    limit = base["a"]["rows_per_second"]
    table = [
        {
            "run": "oddskit load (first, empty database)",
            "rows": first["rows_loaded"],
            "seconds": first["seconds"],
            "rows_per_second": first["rows_loaded"] / first["seconds"],
            "peak_rss": first["peak_rss"],
        },
        {
            "run": "oddskit load (reload, all duplicates)",
            "rows": reload["rows_read"],
            "seconds": reload["seconds"],
            "rows_per_second": reload["rows_read"] / reload["seconds"],
            "peak_rss": reload["peak_rss"],
        },
    ]
    table += [
        {
            "run": base[key]["label"],
            "rows": base[key]["rows"],
            "seconds": base[key]["seconds"],
            "rows_per_second": base[key]["rows_per_second"],
            "peak_rss": None,
        }
        for key in ("a", "b", "c", "d")
    ]
    for row in table:
        row["vs_copy"] = row["rows_per_second"] / limit
    report["table"] = table

    oddskit_rate = table[0]["rows_per_second"]
    vs_copy = oddskit_rate / limit
    vs_pandas = oddskit_rate / base["d"]["rows_per_second"]
    reload_speedup = first["seconds"] / reload["seconds"]
    rss = {run["rows"]: run["peak_rss"] for run in report["rss"]}
    rss5, rss10 = rss.get(5_000_000), rss.get(10_000_000)
    targets = {
        "vs_copy": {"value": vs_copy, "target": TARGET_VS_COPY, "met": vs_copy >= TARGET_VS_COPY},
        "vs_pandas": {
            "value": vs_pandas,
            "target": TARGET_VS_PANDAS,
            "met": vs_pandas >= TARGET_VS_PANDAS,
        },
        "reload_speedup": {
            "value": reload_speedup,
            "target": TARGET_RELOAD_SPEEDUP,
            "met": reload_speedup >= TARGET_RELOAD_SPEEDUP,
        },
        "rss_5m": {
            "value": rss5,
            "target": TARGET_RSS_BYTES,
            "met": None if rss5 is None else rss5 < TARGET_RSS_BYTES,
        },
        "rss_10m_vs_5m": {
            "value": None if rss5 is None or rss10 is None else rss10 / rss5,
            "target": 1.0 + RSS_GROWTH_TOLERANCE,
            "met": None
            if rss5 is None or rss10 is None
            else rss10 <= rss5 * (1.0 + RSS_GROWTH_TOLERANCE),
        },
    }
    report["targets"] = targets


def verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "**NOT met**")


def phase_rows(load: dict[str, Any]) -> list[str]:
    lines = []
    for name, entry in sorted(load["phases"].items(), key=lambda kv: kv[0]):
        if "seconds" not in entry:
            lines.append(f"| {name} | not instrumented: {', '.join(entry['names'])} | | | |")
            continue
        lines.append(
            f"| {name} | {entry['calls']} | {entry['seconds']:.2f} | "
            f"{entry['seconds'] / load['seconds']:.0%} | {fmt_bytes(entry['peak_rss_after'])} |"
        )
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    m, data, tg = report["machine"], report["data"], report["targets"]
    first, reload = report["first_load"], report["reload"]
    base = report["baselines"]
    runs = (first, reload, base["a"], base["b"], base["c"], base["d"])
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    settings = ", ".join(f"{k}={v}" for k, v in sorted(m["postgresql_settings"].items()))
    out = [
        "# Bulk-load benchmark",
        "",
        f"- Date: {m['date_utc']}",
        f"- Command: `{m['command']}`",
        f"- Machine: nproc = {m['nproc']}, {m['cpu']}, RAM {fmt_bytes(m['ram_bytes'])}, "
        f"{m['platform']}",
        f"- PostgreSQL: {m['postgresql']}; partitions by {m['partition_backend']}; {settings}",
        f"- Python {m['python']}; {versions}",
        f"- Loader code: {code_line(m)}",
        f"- Data: `write_sample(rows={data['rows']:,}, seed={data['seed']})` Parquet, "
        f"{data['bytes'] / 1e6:,.1f} MB, {data['events']:,} events, captured "
        f"{data['first_captured_at'][:16]} to {data['last_captured_at'][:16]} UTC "
        f"(generated in {data['seconds']:.1f} s, untimed)",
        f"- Whole run: {report['run_seconds']:.0f} s",
        "",
        "## Results",
        "",
        "| run | rows | seconds | rows/s | × (a) | loader peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["table"]:
        out.append(
            f"| {row['run']} | {row['rows']:,} | {row['seconds']:.2f} | "
            f"{fmt_rate(row['rows_per_second'])} | {row['vs_copy']:.2f} | "
            f"{fmt_bytes(row['peak_rss']) if row['peak_rss'] else ''} |"
        )
    out += [
        "",
        "oddskit rows/s are rows loaded (first load) or rows read (reload) per second of the "
        "`load()` call. The reload loaded "
        f"{reload['rows_loaded']:,} rows; for a file loaded before (same SHA-256, every "
        "snapshot still stored) the loader checks only the snapshot keys.",
        "",
        "The two sides of the main ratio are the best of several runs (this machine's timings "
        "vary by about ±10 % from run to run): oddskit's first load, each into a new empty "
        "database: "
        + ", ".join(f"{t:.2f}" for t in first.get("runs_seconds", [first["seconds"]]))
        + " s; (a): "
        + ", ".join(f"{t:.2f}" for t in base["a"].get("runs_seconds", [base["a"]["seconds"]]))
        + " s. The other baselines ran once.",
        "",
        "## Targets",
        "",
        f"- oddskit load ≥ {TARGET_VS_COPY}× (a): {verdict(tg['vs_copy']['met'])} "
        f"({tg['vs_copy']['value']:.2f}×).",
        f'- oddskit load ≥ {TARGET_VS_PANDAS:.0f}× pandas `to_sql(method="multi")`: '
        f"{verdict(tg['vs_pandas']['met'])} ({tg['vs_pandas']['value']:.1f}×).",
        f"- Reload ≥ {TARGET_RELOAD_SPEEDUP:.0f}× faster than the first load: "
        f"{verdict(tg['reload_speedup']['met'])} ({tg['reload_speedup']['value']:.1f}×: "
        f"{first['seconds']:.1f} s vs {reload['seconds']:.1f} s).",
        f"- Peak RSS < {TARGET_RSS_BYTES / 1e9} GB at 5M rows: {verdict(tg['rss_5m']['met'])}"
        + (f" ({fmt_bytes(tg['rss_5m']['value'])})." if tg["rss_5m"]["value"] else "."),
        f"- Peak RSS at 10M rows no more than at 5M (within {RSS_GROWTH_TOLERANCE:.0%}): "
        f"{verdict(tg['rss_10m_vs_5m']['met'])}"
        + (
            f" (10M/5M = {tg['rss_10m_vs_5m']['value']:.2f})."
            if tg["rss_10m_vs_5m"]["value"]
            else "."
        ),
        "",
        "## Loader peak RSS by size",
        "",
        "| rows | peak RSS (VmHWM) | psutil polled | after imports | load seconds | run |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in report["rss"]:
        out.append(
            f"| {run['rows']:,} | {fmt_bytes(run['peak_rss'])} | "
            f"{fmt_bytes(run['peak_rss_polled'])} | {fmt_bytes(run['rss_after_import'])} | "
            f"{run['seconds']:.1f} | {run['source']} |"
        )
    out += [
        "",
        "## Where the oddskit load spends its time",
        "",
        "Loader steps timed in the child by wrapping them (nested steps are shown as "
        "`outer › inner`; shares are of the `load()` call; RSS is the peak so far when the "
        "step returned). In the one-pass load, `validate_batch` runs in worker threads while "
        "the main thread writes: its seconds overlap the others' and the shares add up to "
        "more than 100 %.",
        "",
    ]
    for load in (first, reload):
        out += [
            f"### {load['label']} ({load['seconds']:.2f} s; process wall "
            f"{load['process_wall_seconds']:.2f} s, of which imports "
            f"{load['import_seconds']:.2f} s)",
            "",
            "| step | calls | seconds | share | peak RSS after |",
            "| --- | ---: | ---: | ---: | ---: |",
            *phase_rows(load),
            "",
        ]
    out += [
        "## Notes",
        "",
        "- (a) is server-side `COPY bench_prices FROM '<file>' (FORMAT binary)` of the prices "
        "oddskit stored (exported with `COPY (SELECT ...) TO '<file>' (FORMAT binary)`, "
        "untimed), one statement, autocommit.",
        '- (b) is `frame.write_database("bench_prices", connection=url, engine="adbc", '
        'if_table_exists="append")` of the same rows read once (untimed) from `market_odds`.',
        f"- (c) streams the same frame as CSV (pyarrow `write_csv` of {CSV_BATCH_ROWS:,}-row "
        'Arrow batches, timed) through psycopg 3 `cursor.copy("COPY ... FROM STDIN '
        '(FORMAT csv)")`.',
        f'- (d) is pandas `to_sql(..., if_exists="append", index=False, method="multi", '
        f"chunksize={PANDAS_CHUNKSIZE:,})` (SQLAlchemy {m['versions'].get('SQLAlchemy')} on "
        f"psycopg) on the first {base['d']['rows']:,} rows; its rate is extrapolated from the "
        "slice.",
        "- `bench_prices` = `LIKE market_odds INCLUDING DEFAULTS INCLUDING CONSTRAINTS`, "
        f"{base['bare_table']['partitions']} partitions copied from `market_odds`, indexes: "
        + "; ".join(f"`{d}`" for d in base["bare_table"]["indexes"])
        + ". Before each baseline: TRUNCATE, VACUUM, CHECKPOINT; a CHECKPOINT also precedes "
        "each oddskit load. Every baseline's row count, `count(line)` and `sum(odds)` were "
        "checked against `market_odds`.",
        "- oddskit additionally resolves dimensions, inserts "
        f"{first['snapshots_new']:,} snapshots into `odds_snapshots`, reads the file's "
        "`captured_at` column once more (its time span, for the partitions) and records the "
        "run; the baselines only write prices.",
        "- Other work before each timed run (1-minute load average / other active "
        "PostgreSQL sessions): "
        + ", ".join(
            f"{r['label'].split(' (')[0]} {r['busy_before']['loadavg_1m']:.2f} / "
            f"{r['busy_before']['other_active_sessions']}"
            for r in runs
        )
        + ".",
    ]
    if was_busy((r["busy_before"] for r in runs), m["nproc"]):
        out.append(
            f"- **Warning: the machine ({m['nproc']} cores) or the server was busy with other "
            "work during this run; absolute rates and ratios are noisy. Re-run on a quiet "
            "machine for final numbers.**"
        )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    run_started = time.perf_counter()
    admin_url = with_database(args.url, database_of(args.url))
    created: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="oddskit_bench_"))
    folder.chmod(0o777)  # the server's OS user writes and reads the binary COPY file here
    try:
        machine = machine_info(admin_url, LOAD_SETTINGS)
        url = create_database(admin_url, created)
        machine["partition_backend"] = partition_backend(url)
        data = write_file(folder, args.rows, args.seed)
        firsts = []
        for attempt in range(args.repeat):
            if attempt:  # every first load goes into an empty database
                drop_database(admin_url, created.pop())
                url = create_database(admin_url, created)
            first = run_loader(Path(data["path"]), url, "oddskit load (first)")
            if first["rows_loaded"] != data["rows"]:
                raise RuntimeError(
                    f"first load loaded {first['rows_loaded']:,} of {data['rows']:,}"
                )
            firsts.append(first)
        first = best_of(firsts)
        reload = run_loader(Path(data["path"]), url, "oddskit load (reload)")
        if reload["rows_loaded"] != 0:
            raise RuntimeError(f"the reload loaded {reload['rows_loaded']:,} rows")
        baselines = run_baselines(url, folder, args.pandas_rows, args.repeat)
        Path(data["path"]).unlink()
        rss = [{**first, "rows": data["rows"], "source": "main run (first load)"}]
        for rows in args.rss_rows:
            if rows == args.rows:
                continue
            other_url = create_database(admin_url, created)
            other = write_file(folder, rows, args.seed)
            result = run_loader(Path(other["path"]), other_url, f"oddskit load ({rows:,} rows)")
            Path(other["path"]).unlink()
            rss.append({**result, "rows": other["rows"], "source": "separate fresh database"})
            if not args.keep:
                drop_database(admin_url, created.pop())
        rss.sort(key=lambda r: r["rows"])
        report = {
            "machine": machine,
            "data": data,
            "first_load": first,
            "reload": reload,
            "baselines": baselines,
            "rss": [
                {
                    k: r[k]
                    for k in (
                        "rows",
                        "peak_rss",
                        "peak_rss_polled",
                        "rss_after_import",
                        "seconds",
                        "source",
                    )
                }
                for r in rss
            ],
            "databases_kept": created if args.keep else [],
        }
    finally:
        if not args.keep:
            for name in created:
                try:
                    drop_database(admin_url, name)
                except Exception as exc:  # report, and keep cleaning up
                    log(f"could not drop database {name}: {exc}")
            shutil.rmtree(folder, ignore_errors=True)
        else:
            log(f"kept databases {created} and folder {folder}")
    report["run_seconds"] = time.perf_counter() - run_started
    summarise(report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of the sample file")
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="a database on the server (for CREATE DATABASE)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results go")
    parser.add_argument(
        "--rss-rows",
        type=parse_sizes,
        default=[1_000_000, 10_000_000],
        help="comma-separated sizes of extra loads measured for peak RSS ('' for none)",
    )
    parser.add_argument("--pandas-rows", type=int, default=500_000, help="rows for (d)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the first oddskit load and of (a), best taken (the ratio's two sides)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--on-error",
        choices=["raise", "skip"],
        default="raise",
        help="the oddskit loads' on_error mode (skip: check, spool the prices, then write)",
    )
    parser.add_argument("--keep", action="store_true", help="keep databases and files")
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_load:
        child_load(args.child_load, args.child_out)
        return 0
    if args.rows < 1 or args.pandas_rows < 1:
        parser.error("--rows and --pandas-rows must be >= 1")
    os.environ[ON_ERROR_ENV] = args.on_error  # for the loader child processes

    log(f"database server: {masked(args.url)}")
    report = run(args)
    markdown = render_markdown(report)
    write_results(args.out, "load", markdown, report)
    print(markdown)
    log(f"results written to {args.out / 'load.md'} and {args.out / 'load.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
