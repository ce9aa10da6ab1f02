r"""Benchmark: the Parquet archive — archive throughput, bytes per price, a year across both tiers.

Issue 15: measure archive throughput (rows/s) and bytes per row (target ≤ 10 bytes per
price row on the generated 30-day set; the live tables use ~90), and a one-year history
query across archive + live against the same query on a database holding the whole year.

Usage::

    python benchmarks/bench_archive.py [--days 30] [--events-per-day 100] \
        [--year-days 365] [--year-events-per-day 20] [--year-interval 15] \
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 3] \
        [--out benchmarks/results] [--seed 0] [--keep] [--skip-month] [--skip-year]

What is measured
----------------
*Part 1, the 30-day set* (the same data as ``bench_queries.py``): ``write_sample(days=30,
events_per_day=100, bookmakers=[betPawa, SportyBet, Bet9ja])``, 5-minute snapshots,
loaded with ``oddskit.load`` into a new database, then ``VACUUM ANALYZE``. The live
tables' size per price row is ``pg_total_relation_size`` of every partition of both
partitioned tables (heap, indexes, TOAST) over the price rows. Then
``oddskit.maintain(now=...)`` with the clock moved 31 days ahead archives every day and
drops it (each day: read in one snapshot of the database, checksum in SQL, written,
read back and verified, renamed, recorded, dropped): *archive throughput* is price
rows over the wall time of that call, *bytes per row* the archive files' total size
over the rows archived (from the ``archives`` catalogue, checked against the files).

*Part 2, a year*: ``write_sample(days=--year-days, events_per_day=--year-events-per-day,
interval_minutes=--year-interval)`` for the same three bookmakers (smaller than the
30-day set per day so that a year loads in minutes on 2 cores), loaded with retention
off into one database (*whole year live*), ``VACUUM ANALYZE``. Each query below is
timed there; then retention is set to 30 days with the archive on and
``oddskit.maintain()`` (the real clock) archives and drops every day but the last 30
(its throughput is reported too), ``VACUUM ANALYZE``, and the same queries are timed
again (*archive + live*). Every query's frame must be equal in both states (checked
with ``polars.testing.assert_frame_equal``). Queries (``newest`` = newest capture):

* history of one event (kicked off ~half a year ago: archived), with no window and
  with its kickoff ± 2 days as the window;
* one bookmaker's 1x2 prices over the whole year (``since = newest − year``);
* closing odds (1x2) of every event of the year, one bookmaker and all three;
* opening odds of one event;
* the board half a year ago (``as_of``, ``lookback = 1 day``) and now (live only: the
  cost of asking the archive catalogue);
* an analysis on ``scan_archive``: monthly count and mean of betPawa's 1x2 home odds
  over the archived days, against the same ``GROUP BY`` in SQL over the same days of
  the whole-year database.

One warm-up call, then best of ``--repeat``; times in seconds. Both states use one
``Database`` kept for the run (the helpers' shared ADBC connection), the archive is a
local folder (a temporary directory on the same disk as PostgreSQL's data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
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
SETTINGS = ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")


def live_bytes(url: str) -> dict[str, int]:
    """Price rows, snapshots and the bytes of every partition of both tables."""
    with autocommit(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM market_odds), (SELECT count(*) FROM odds_snapshots), "
            "(SELECT coalesce(sum(pg_total_relation_size(relid)), 0) "
            " FROM pg_partition_tree('market_odds')), "
            "(SELECT coalesce(sum(pg_total_relation_size(relid)), 0) "
            " FROM pg_partition_tree('odds_snapshots')), "
            "(SELECT coalesce(sum(pg_relation_size(relid)), 0) "
            " FROM pg_partition_tree('market_odds')), "
            "(SELECT coalesce(sum(pg_relation_size(relid)), 0) "
            " FROM pg_partition_tree('odds_snapshots'))"
        ).fetchone()
    return {
        "price_rows": row[0],
        "snapshots": row[1],
        "market_odds_bytes": int(row[2]),
        "odds_snapshots_bytes": int(row[3]),
        "heap_bytes": int(row[4]) + int(row[5]),  # the tables alone, without indexes
    }


def generate_and_load(
    url: str, folder: Path, *, days: int, events_per_day: int, interval: float, seed: int
) -> dict[str, Any]:
    """Write the sample, load it with retention off, VACUUM ANALYZE; return the numbers."""
    from oddskit import load
    from oddskit.connection import Database
    from oddskit.partitions import set_policy
    from oddskit.sample import write_sample

    now = dt.datetime.now(dt.UTC)
    start = (now - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    path = folder / f"sample_{days}d.parquet"
    log(f"writing {days} days × {events_per_day} events/day, every {interval} min")
    summary = write_sample(
        path,
        days=days,
        events_per_day=events_per_day,
        bookmakers=BOOKMAKERS,
        interval_minutes=interval,
        seed=seed,
        start=start,
    )
    log(f"generated {summary.rows:,} rows in {summary.seconds:.1f} s; loading")
    with Database(url) as db:
        set_policy(db, retention_days=None)  # a year of history goes in as it is
        began = time.perf_counter()
        report = load(path, db=db, progress=False)
        seconds = time.perf_counter() - began
    log(f"loaded {report.rows_loaded:,} rows in {seconds:.1f} s; VACUUM ANALYZE")
    with autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE")
    path.unlink()
    return {
        "days": days,
        "events_per_day": events_per_day,
        "interval_minutes": interval,
        "seed": seed,
        "start": start.isoformat(),
        "generated_rows": summary.rows,
        "generate_seconds": summary.seconds,
        "rows_loaded": report.rows_loaded,
        "load_seconds": seconds,
    }


def archive_all(url: str, root: Path, *, now: dt.datetime | None) -> dict[str, Any]:
    """Set retention 30 days with the archive at ``root``, run maintain; time it."""
    from oddskit.archive import list_archives
    from oddskit.connection import Database
    from oddskit.partitions import maintain, set_policy

    with Database(url) as db:
        set_policy(db, retention_days=30, archive=str(root), confirm=True)
        before = live_bytes(url)
        began = time.perf_counter()
        report = maintain(db, now=now)
        seconds = time.perf_counter() - began
        if report.archive_error:
            raise SystemExit(report.archive_error)
        catalogue = list_archives(db)
    after = live_bytes(url)
    files = sorted(root.rglob("*.parquet"))
    on_disk = sum(f.stat().st_size for f in files)
    rows = int(catalogue["rows"].sum())
    size = int(catalogue["bytes"].sum())
    assert on_disk == size and len(files) == catalogue.height, (on_disk, size, len(files))
    assert rows == before["price_rows"] - after["price_rows"], (rows, before, after)
    per_day = catalogue["rows"]
    log(f"archived {catalogue.height} days, {rows:,} rows in {seconds:.1f} s")
    return {
        "days_archived": catalogue.height,
        "rows_archived": rows,
        "seconds": seconds,
        "rows_per_second": rows / seconds if seconds else None,
        "archive_bytes": size,
        "bytes_per_row": size / rows if rows else None,
        "rows_per_day_min": int(per_day.min()),
        "rows_per_day_max": int(per_day.max()),
        "partitions_dropped": len(report.dropped),
        "transactions": report.transactions,
        "live_before": before,
        "live_after": after,
    }


def best_of(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Warm up once, then the best of ``repeat`` timed calls; the last result."""
    result = call()
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - began)
    return best, result


def year_queries(db: Any, newest: dt.datetime, event_id: int, kickoff: dt.datetime) -> dict:
    """The timed calls (name → zero-argument callable)."""
    import polars as pl

    import oddskit

    past = newest - dt.timedelta(days=180)
    year_ago = newest - dt.timedelta(days=366)
    archived_until = (newest - dt.timedelta(days=31)).replace(hour=0, minute=0, second=0)

    def monthly_archive() -> pl.DataFrame:
        return (
            oddskit.scan_archive(db, until=archived_until, bookmakers="betPawa", markets="1x2")
            .filter(pl.col("outcome") == "home")
            .group_by(month=pl.col("captured_at").dt.truncate("1mo"))
            .agg(rows=pl.len(), mean_odds=pl.col("odds").mean())
            .sort("month")
            .collect()
        )

    return {
        "history, one event (no window)": lambda: oddskit.fetch_odds_history(
            db, event_ids=event_id
        ),
        "history, one event (kickoff ± 2 d)": lambda: oddskit.fetch_odds_history(
            db,
            event_ids=event_id,
            since=kickoff - dt.timedelta(days=2),
            until=kickoff + dt.timedelta(days=2),
        ),
        "history, betPawa 1x2, one year": lambda: oddskit.fetch_odds_history(
            db, bookmakers="betPawa", markets="1x2", since=year_ago
        ),
        "closing odds 1x2, betPawa, every event": lambda: oddskit.fetch_closing_odds(
            db, bookmakers="betPawa", markets="1x2"
        ),
        "closing odds 1x2, 3 bookmakers, every event": lambda: oddskit.fetch_closing_odds(
            db, markets="1x2"
        ),
        "opening odds, one event": lambda: oddskit.fetch_opening_odds(db, event_ids=event_id),
        "board half a year ago (lookback 1 d)": lambda: oddskit.fetch_latest_odds(
            db, as_of=past, lookback="1d"
        ),
        "board now (lookback 1 d, live only)": lambda: oddskit.fetch_latest_odds(
            db, as_of=newest, lookback="1d"
        ),
        "monthly betPawa 1x2 home, archived days": monthly_archive,
    }


MONTHLY_SQL = """
SELECT date_trunc('month', m.captured_at) AS month, count(*) AS rows, avg(m.odds) AS mean_odds
FROM market_odds m
JOIN odds_snapshots s ON s.id = m.snapshot_id AND s.captured_at = m.captured_at
WHERE s.bookmaker_id = (SELECT id FROM bookmakers WHERE name = 'betPawa')
  AND m.market = '1x2' AND m.outcome = 'home'
  AND m.captured_at < :until AND s.captured_at < :until
GROUP BY 1 ORDER BY 1
"""


def year(args: argparse.Namespace, admin_url: str, created: list[str], tmp: Path) -> dict:
    import polars as pl
    from polars.testing import assert_frame_equal

    import oddskit
    from oddskit.connection import Database

    url = create_database(admin_url, created)
    built = generate_and_load(
        url,
        tmp,
        days=args.year_days,
        events_per_day=args.year_events_per_day,
        interval=args.year_interval,
        seed=args.seed,
    )
    with Database(url) as db:
        newest = db.read("SELECT max(captured_at) AS t FROM odds_snapshots")["t"][0]
        target = newest - dt.timedelta(days=180)
        chosen = db.read(
            "SELECT e.id, e.kickoff FROM events e WHERE e.kickoff >= :t ORDER BY e.kickoff, e.id "
            "LIMIT 1",
            t=target,
        )
        event_id, kickoff = int(chosen["id"][0]), chosen["kickoff"][0]
        calls = year_queries(db, newest, event_id, kickoff)
        archived_until = (newest - dt.timedelta(days=31)).replace(hour=0, minute=0, second=0)
        live: dict[str, Any] = {}
        log("timing the queries on the whole year live")
        live_bytes_year = live_bytes(url)
        results: dict[str, pl.DataFrame] = {}
        for name, call in calls.items():
            if name.startswith("monthly"):
                sql = MONTHLY_SQL.replace(":until", "CAST(:until AS timestamptz)")
                seconds, frame = best_of(
                    lambda sql=sql: db.read(sql, until=archived_until), args.repeat
                )
                frame = frame.with_columns(
                    pl.col("month").cast(pl.Datetime("us", "UTC")),
                    pl.col("rows").cast(pl.UInt32),
                )
            else:
                seconds, frame = best_of(call, args.repeat)
            live[name] = {"seconds": seconds, "rows": frame.height}
            results[name] = frame
            log(f"  live   {name}: {seconds:.3f} s, {frame.height:,} rows")
    archived = archive_all(url, tmp / "archive", now=None)
    with autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE")
    both: dict[str, Any] = {}
    log("timing the same queries on archive + live")
    with Database(url) as db:
        calls = year_queries(db, newest, event_id, kickoff)
        for name, call in calls.items():
            seconds, frame = best_of(call, args.repeat)
            expected = results[name]
            if name.startswith("monthly"):
                frame = frame.with_columns(pl.col("month").dt.replace_time_zone("UTC"))
                assert_frame_equal(frame, expected, check_dtypes=False, rel_tol=1e-9)
            else:
                assert_frame_equal(frame, expected, check_exact=True)
            both[name] = {"seconds": seconds, "rows": frame.height}
            log(f"  both   {name}: {seconds:.3f} s ({seconds / live[name]['seconds']:.1f}×)")
        catalogue_days = oddskit.list_archives(db).height
    return {
        "build": built,
        "newest": newest.isoformat(),
        "event_id": event_id,
        "kickoff": kickoff.isoformat(),
        "live_tables_whole_year": live_bytes_year,
        "archive": archived,
        "archived_days": catalogue_days,
        "live": live,
        "both": both,
    }


def month(args: argparse.Namespace, admin_url: str, created: list[str], tmp: Path) -> dict:
    url = create_database(admin_url, created)
    built = generate_and_load(
        url, tmp, days=args.days, events_per_day=args.events_per_day, interval=5, seed=args.seed
    )
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)  # every day loaded is expired
    archived = archive_all(url, tmp / "archive-30d", now=now)
    before = archived["live_before"]
    live_per_row = (before["market_odds_bytes"] + before["odds_snapshots_bytes"]) / before[
        "price_rows"
    ]
    heap_per_row = before["heap_bytes"] / before["price_rows"]
    return {
        "build": built,
        "archive": archived,
        "live_bytes_per_row": live_per_row,
        "live_heap_bytes_per_row": heap_per_row,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    admin_url = with_database(args.url, database_of(args.url))
    report: dict[str, Any] = {"repeat": args.repeat, "url": masked(admin_url)}
    report["busy_at_start"] = busy(admin_url)
    report["machine"] = machine_info(admin_url, SETTINGS)
    created: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="oddskit_bench_archive_"))
    try:
        if not args.skip_month:
            report["month"] = month(args, admin_url, created, tmp)
            report["busy_after_month"] = busy(admin_url)
        if not args.skip_year:
            report["year"] = year(args, admin_url, created, tmp)
            report["busy_after_year"] = busy(admin_url)
    finally:
        if not args.keep:
            for name in created:
                drop_database(admin_url, name)
                log(f"dropped database {name}")
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept databases {', '.join(created)} and the archive in {tmp}")
    report["seconds"] = time.perf_counter() - began
    return report


def render(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# Archive benchmark",
        "",
        f"- Date: {machine['date_utc']}",
        f"- Command: `{machine['command']}`",
        f"- Machine: nproc = {machine['nproc']}, {machine['cpu']}, "
        f"RAM {machine['ram_bytes'] / 2**20:,.0f} MB, {machine['platform']}",
        f"- PostgreSQL: {machine['postgresql']}; "
        + ", ".join(f"{k}={v}" for k, v in sorted(machine["postgresql_settings"].items())),
        f"- Python {machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v),
        f"- Code: {code_line(machine)}",
        f"- Whole run: {report['seconds']:.0f} s",
    ]
    samples = [v for k, v in report.items() if k.startswith("busy")]
    load = ", ".join(f"{s['loadavg_1m']:.2f} / {s['other_active_sessions']}" for s in samples)
    busy_note = (
        " — **the machine was busy: other work skews these times**"
        if was_busy(samples, machine["nproc"])
        else ""
    )
    lines.append(f"- Load average / other active sessions (start, after parts): {load}{busy_note}")
    if "month" in report:
        m = report["month"]
        b, a = m["build"], m["archive"]
        lines += [
            "",
            "## The 30-day set: archive throughput and bytes per price",
            "",
            f"`write_sample(days={b['days']}, events_per_day={b['events_per_day']}, "
            f"bookmakers={BOOKMAKERS}, interval_minutes=5, seed={b['seed']})` → "
            f"{b['rows_loaded']:,} price rows loaded in {b['load_seconds']:.1f} s. "
            f"`maintain(now=now + 31 days)` with retention 30 days and the archive on "
            f"archived and dropped every day.",
            "",
            "| measure | value |",
            "| --- | ---: |",
            f"| days archived | {a['days_archived']} |",
            f"| price rows archived | {a['rows_archived']:,} |",
            f"| rows per day (min – max) | {a['rows_per_day_min']:,} – {a['rows_per_day_max']:,} |",
            f"| time of `maintain` (archive, verify, record, drop) | {a['seconds']:.1f} s |",
            f"| **archive throughput** | **{a['rows_per_second']:,.0f} rows/s** |",
            f"| archive size | {a['archive_bytes'] / 2**20:,.1f} MiB |",
            f"| **bytes per price row, archive** (target ≤ 10) | **{a['bytes_per_row']:.2f}** |",
            f"| bytes per price row, live tables (both tables, indexes included) | "
            f"{m['live_bytes_per_row']:.1f} |",
            f"| bytes per price row, live tables without their indexes | "
            f"{m['live_heap_bytes_per_row']:.1f} |",
            f"| live / archive | {m['live_bytes_per_row'] / a['bytes_per_row']:.0f}× |",
            f"| transactions to drop {a['partitions_dropped']} partitions | {a['transactions']} |",
        ]
    if "year" in report:
        y = report["year"]
        b, a = y["build"], y["archive"]
        lb = y["live_tables_whole_year"]
        lines += [
            "",
            "## A year across archive + live, against the whole year live",
            "",
            f"`write_sample(days={b['days']}, events_per_day={b['events_per_day']}, "
            f"bookmakers={BOOKMAKERS}, interval_minutes={b['interval_minutes']}, "
            f"seed={b['seed']})` → {b['rows_loaded']:,} price rows "
            f"(generated in {b['generate_seconds']:.0f} s, loaded in {b['load_seconds']:.0f} s), "
            f"{lb['snapshots']:,} snapshots, live tables "
            f"{(lb['market_odds_bytes'] + lb['odds_snapshots_bytes']) / 2**20:,.0f} MiB "
            f"({(lb['market_odds_bytes'] + lb['odds_snapshots_bytes']) / lb['price_rows']:.0f} "
            "bytes per price). Timed on that database (*whole year live*), then after "
            f"`maintain()` with retention 30 days archived {a['days_archived']} days "
            f"({a['rows_archived']:,} rows in {a['seconds']:.0f} s, "
            f"{a['rows_per_second']:,.0f} rows/s, {a['bytes_per_row']:.2f} bytes per price, "
            f"{a['archive_bytes'] / 2**20:,.0f} MiB) and dropped them (*archive + live*). "
            f"Event {y['event_id']} kicked off {y['kickoff'][:16]} (archived). Best of "
            f"{report['repeat']} after a warm-up; every frame was equal in both states.",
            "",
            "| query | rows | whole year live s | archive + live s | ratio |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, live in y["live"].items():
            both = y["both"][name]
            lines.append(
                f"| {name} | {both['rows']:,} | {live['seconds']:.3f} | {both['seconds']:.3f} | "
                f"{both['seconds'] / live['seconds']:.2f}× |"
            )
        lines += [
            "",
            "*monthly …*: on the whole-year database the same `GROUP BY` in SQL "
            "(`db.read`) over the same archived days; on archive + live "
            "`scan_archive(db, until=…, bookmakers='betPawa', markets='1x2')` → Polars.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=30, help="days of the 30-day set")
    parser.add_argument("--events-per-day", type=int, default=100)
    parser.add_argument("--year-days", type=int, default=365)
    parser.add_argument("--year-events-per-day", type=int, default=20)
    parser.add_argument("--year-interval", type=float, default=15, help="minutes")
    parser.add_argument("--url", default=DEFAULT_URL, help="a database on the server")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the databases and archive")
    parser.add_argument("--skip-month", action="store_true", help="only the year")
    parser.add_argument("--skip-year", action="store_true", help="only the 30-day set")
    args = parser.parse_args(argv)
    if args.year_days <= 31 and not args.skip_year:
        parser.error("--year-days must be more than the 30-day retention")
    report = run(args)
    write_results(args.out, "archive", render(report), report)
    log(f"wrote {args.out / 'archive.md'} and {args.out / 'archive.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
