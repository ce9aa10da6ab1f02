"""The current board: ``fetch_latest_odds(db)`` from ``current_odds`` against the as-of query.

Builds one database on the server of ``--url`` (dropped at the end unless ``--keep``):

1. **30-day set**: ``write_sample(days=--days, events_per_day=--events-per-day, 3
   bookmakers, 5-minute snapshots)`` starting ``--days - 1`` days ago, so that the last
   day's matches kick off in the coming hours; rows captured after now or before the
   30-day retention window are left out, and the last ``--holdout-minutes`` are held
   back for step 3. Loaded with ``oddskit.load`` (its *current odds* step timed by the
   loader itself), then ``VACUUM ANALYZE``.
2. **With history**: retention off, then ``--history-days`` days of older matches
   (``--history-events-per-day``, ``--history-interval`` minutes) loaded before the
   30-day set: hundreds more daily partitions per table.

In each state, each board is timed (best of ``--repeat`` after a warm-up, on kept
connections with the helper's session settings):

- *current*: ``fetch_latest_odds(db, ...)`` (now: reads ``current_odds``);
- *as-of*: ``fetch_latest_odds(db, as_of=now, ...)`` (probes the history per pair);
- *raw current SQL*: the current path's SQL (``oddskit.queries_current.current_sql``)
  on a raw ADBC connection, and its server time (``EXPLAIN ANALYZE``);
- *raw as-of SQL*: the as-of path's SQL the same way.

Boards: every event × bookmaker; the upcoming events (``event_ids`` = matches kicking
off after now, from ``fetch_events``); the pairs priced in the last 2 hours
(``lookback="2h"``). The current and as-of frames must be equal.

3. **Load overhead**: the held-back minutes as ``--slices`` files (in time order),
   loaded one by one into the history database, alternately with the current-odds
   step and without it (``LoadWriter.finish`` replaced by a no-op for that load);
   rows/s of both and their ratio (median per way).

    python benchmarks/bench_board.py [--days 30] [--events-per-day 100] \\
        [--history-days 730] [--history-events-per-day 10] [--history-interval 30] \\
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 5] [--keep]

Results: ``benchmarks/results/board.md`` and ``board.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
    write_results,
)

BOOKMAKERS = ["betPawa", "SportyBet", "Bet9ja"]
RETENTION_DAYS = 30
TARGET_SECONDS = 0.050
EXPLAIN = "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON)"
SETTINGS = ("shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather")


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def write_set(folder: Path, name: str, **sample: Any) -> Path:
    from oddskit.sample import write_sample

    path = folder / f"{name}.parquet"
    summary = write_sample(path, bookmakers=BOOKMAKERS, **sample)
    log(f"{name}: generated {summary.rows:,} rows, {summary.events:,} events")
    return path


def timed_load(url: str, path: Path, *, current: bool = True) -> dict[str, Any]:
    """``oddskit.load`` of ``path``; ``current=False``: without the current-odds step."""
    from oddskit import load
    from oddskit.connection import Database
    from oddskit.load_writer import LoadWriter

    finish = LoadWriter.finish
    if not current:
        LoadWriter.finish = lambda self: None  # type: ignore[method-assign]
    try:
        began = time.perf_counter()
        with Database(url) as db:
            report = load(path, db=db, progress=False, on_error="skip")
        seconds = time.perf_counter() - began
    finally:
        LoadWriter.finish = finish  # type: ignore[method-assign]
    timings: dict[str, float] = {}
    for result in report.results:
        for step, value in result.timings.items():
            timings[step] = timings.get(step, 0.0) + value
    return {
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "seconds": seconds,
        "rows_per_second": report.rows_loaded / seconds,
        "current_odds_seconds": timings.get("current odds"),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def vacuum(url: str) -> None:
    with autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE")


def counts(url: str) -> dict[str, Any]:
    with autocommit(url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        return {
            "price_rows": one("SELECT count(*) FROM market_odds")[0],
            "snapshots": one("SELECT count(*) FROM odds_snapshots")[0],
            "events": one("SELECT count(*) FROM events")[0],
            "current_odds_rows": one("SELECT count(*) FROM current_odds")[0],
            "pairs": one(
                "SELECT count(*) FROM (SELECT DISTINCT event_id, bookmaker_id FROM current_odds) p"
            )[0],
            "partitions": one(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'market_odds'::regclass"
            )[0],
            "bytes": one("SELECT pg_database_size(current_database())")[0],
            "current_odds_bytes": one("SELECT pg_total_relation_size('current_odds')")[0],
        }


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def raw_rows(conn: Any, query: Any, order: list[str] | None = None) -> int:
    """Rows of ``query`` on a raw ADBC connection (sorted by ``order`` in Polars, as the
    current path sorts)."""
    import polars as pl

    with conn.cursor() as cursor:
        cursor.execute(query.sql, parameters=query.parameters())
        frame = pl.from_arrow(cursor.fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    if order is not None:
        frame = frame.sort(order, nulls_last=True)
    return frame.height


def server_seconds(conn: Any, query: Any) -> dict[str, float]:
    with conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
        cursor.execute(f"{EXPLAIN}\n{query.sql}", parameters=query.parameters())
        value = cursor.fetch_arrow_table().column(0)[0].as_py()
    plan = (json.loads(value) if isinstance(value, str | bytes) else value)[0]
    return {
        "planning_s": plan["Planning Time"] / 1000,
        "execution_s": plan["Execution Time"] / 1000,
        "seconds": (plan["Planning Time"] + plan["Execution Time"]) / 1000,
    }


def measure_state(url: str, repeat: int) -> list[dict[str, Any]]:
    """Every board, every way, in the database as it is now."""
    import adbc_driver_postgresql.dbapi as adbc
    from polars.testing import assert_frame_equal

    from oddskit.connection import READER_SETTINGS, Database
    from oddskit.queries import fetch_events, fetch_latest_odds
    from oddskit.queries_board import _latest_sql
    from oddskit.queries_current import BOARD_ORDER, current_sql

    raw = adbc.connect(url, autocommit=True)
    with raw.cursor() as cursor:
        for statement in ("SET TimeZone = 'UTC'", *READER_SETTINGS):
            cursor.execute(statement)
    results = []
    with Database(url) as db:
        now = dt.datetime.now(dt.UTC)
        upcoming = fetch_events(db, kickoff_since=now)["event_id"].to_list()
        boards: dict[str, dict[str, Any]] = {
            "every event × bookmaker": {},
            f"upcoming events ({len(upcoming):,})": {"event_ids": upcoming},
            "priced in the last 6 h (lookback='6h')": {"lookback": "6h"},
        }
        for name, filters in boards.items():
            log(f"board: {name}")
            current = fetch_latest_odds(db, **filters)
            moment = dt.datetime.now(dt.UTC)
            as_of = fetch_latest_odds(db, as_of=moment, **filters)
            assert_frame_equal(current, as_of, check_exact=True)
            since = moment - dt.timedelta(hours=6) if "lookback" in filters else None
            ids = filters.get("event_ids")
            sql_current = current_sql(moment, since=since, event_ids=ids)
            sql_as_of = _latest_sql(moment, since=since, event_ids=ids)
            rounds = repeat
            row = {
                "board": name,
                "rows": current.height,
                "pairs": current.select("event_id", "bookmaker").n_unique(),
                "load": busy(url),
                "current_s": best_of(lambda f=filters: fetch_latest_odds(db, **f), rounds),
                "as_of_s": best_of(
                    lambda f=filters, m=moment: fetch_latest_odds(db, as_of=m, **f),
                    max(2, rounds // 2),
                ),
                "raw_current_s": best_of(
                    lambda q=sql_current: raw_rows(raw, q, BOARD_ORDER), rounds
                ),
                "raw_as_of_s": best_of(lambda q=sql_as_of: raw_rows(raw, q), max(2, rounds // 2)),
                "server_current": min(
                    (server_seconds(raw, sql_current) for _ in range(3)),
                    key=lambda s: s["seconds"],
                ),
                "server_as_of": server_seconds(raw, sql_as_of),
            }
            row["as_of_over_current"] = row["as_of_s"] / row["current_s"]
            row["current_over_raw"] = row["current_s"] / row["raw_current_s"]
            log(
                f"  {row['rows']:,} rows: current {row['current_s'] * 1000:.1f} ms, as-of "
                f"{row['as_of_s'] * 1000:.1f} ms, raw current SQL "
                f"{row['raw_current_s'] * 1000:.1f} ms (server "
                f"{row['server_current']['seconds'] * 1000:.1f} ms)"
            )
            results.append(row)
    raw.close()
    return results


def load_overhead(url: str, files: list[Path]) -> dict[str, Any]:
    """The held-back slices, in time order, alternately with and without the step."""
    runs = []
    for i, path in enumerate(files):
        with_step = i % 2 == 0
        result = timed_load(url, path, current=with_step)
        result["with_current_odds"] = with_step
        runs.append(result)
        log(
            f"slice {i}: {result['rows_loaded']:,} rows in {result['seconds']:.2f} s "
            f"({'with' if with_step else 'without'} current odds)"
        )
    on = [r["rows_per_second"] for r in runs if r["with_current_odds"]]
    off = [r["rows_per_second"] for r in runs if not r["with_current_odds"]]
    steps = [r["current_odds_seconds"] for r in runs if r["with_current_odds"]]
    return {
        "runs": runs,
        "median_rows_per_second_with": statistics.median(on),
        "median_rows_per_second_without": statistics.median(off),
        "ratio_with_over_without": statistics.median(on) / statistics.median(off),
        "median_current_odds_step_s": statistics.median(steps),
    }


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value * 1000:,.1f}"


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| board | rows | pairs | current ms | as-of ms | as-of / current | raw current SQL ms "
        "| current / raw | server (current) ms | raw as-of SQL ms | server (as-of) ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['board']} | {r['rows']:,} | {r['pairs']:,} | {ms(r['current_s'])} | "
            f"{ms(r['as_of_s'])} | {r['as_of_over_current']:.1f}× | {ms(r['raw_current_s'])} | "
            f"{r['current_over_raw']:.2f} | {ms(r['server_current']['seconds'])} | "
            f"{ms(r['raw_as_of_s'])} | {ms(r['server_as_of']['seconds'])} |"
        )
    return lines


def targets(report: dict[str, Any]) -> list[str]:
    lines = []
    for state in ("month", "history"):
        for row in report["states"][state]["boards"]:
            met = row["current_s"] <= TARGET_SECONDS
            lines.append(
                f"- current board ≤ 50 ms, {report['states'][state]['label']}, {row['board']}: "
                f"{'met' if met else '**NOT met**'} ({ms(row['current_s'])} ms for "
                f"{row['rows']:,} rows; server {ms(row['server_current']['seconds'])} ms)"
            )
    return lines


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    data = report["data"]
    lines = [
        "# Current board benchmark",
        "",
        f"- Date: {m['date_utc']}",
        f"- Command: `{m['command']}`",
        f"- Machine: nproc = {m['nproc']}, {m['cpu']}, RAM {m['ram_bytes'] / 2**20:,.0f} MB",
        f"- PostgreSQL: {m['postgresql']}; "
        + ", ".join(f"{k}={v}" for k, v in sorted(m["postgresql_settings"].items())),
        f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"- Code: {code_line(m)}",
        f"- Whole run: {report['seconds']:.0f} s",
        "",
        "## Data",
        "",
        f"- 30-day set: `write_sample(days={data['days']}, events_per_day="
        f"{data['events_per_day']}, bookmakers={BOOKMAKERS}, start={data['start']})`, rows "
        "captured after now or outside the 30-day retention left out, the last "
        f"{data['holdout_minutes']} minutes held back for the load-overhead runs. "
        f"Load: {data['month_load']['rows_loaded']:,} rows in "
        f"{data['month_load']['seconds']:.1f} s "
        f"({data['month_load']['rows_per_second']:,.0f} rows/s), of which the current-odds "
        f"step {data['month_load']['current_odds_seconds']:.2f} s "
        f"({data['month_load']['current_odds_seconds'] / data['month_load']['seconds']:.1%}).",
        f"- History: retention off, then `write_sample(days={data['history_days']}, "
        f"events_per_day={data['history_events_per_day']}, interval_minutes="
        f"{data['history_interval']}, start={data['history_start']})`: "
        f"{data['history_load']['rows_loaded']:,} rows in {data['history_load']['seconds']:.1f} s "
        f"(current-odds step {data['history_load']['current_odds_seconds']:.2f} s: an older "
        "file than the stored one, pairs of its own only).",
        "",
        "| state | price rows | snapshots | events | daily partitions per table | "
        "current_odds rows | pairs | current_odds MB | database MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for state in report["states"].values():
        c = state["counts"]
        lines.append(
            f"| {state['label']} | {c['price_rows']:,} | {c['snapshots']:,} | {c['events']:,} | "
            f"{c['partitions']:,} | {c['current_odds_rows']:,} | {c['pairs']:,} | "
            f"{c['current_odds_bytes'] / 2**20:,.1f} | {c['bytes'] / 2**20:,.0f} |"
        )
    lines += [
        "",
        "## Boards",
        "",
        "*current*: `fetch_latest_odds(db, ...)` (now, from `current_odds`); *as-of*: "
        "`fetch_latest_odds(db, as_of=now, ...)` (the per-pair probe of the history, as before "
        "this change); both frames were checked equal. *raw current SQL*: the current path's "
        "SQL on a raw ADBC connection (same session settings) and the same sort in Polars "
        "(the current path sorts on the client), *server*: PostgreSQL's planning "
        "+ execution (`EXPLAIN ANALYZE`, no rows sent). Best of "
        f"{report['repeat']} after a warm-up (as-of: of {max(2, report['repeat'] // 2)}).",
        "",
    ]
    for state in report["states"].values():
        lines += [f"### {state['label']}", "", *table(state["boards"]), ""]
    o = report["load_overhead"]
    lines += [
        "## Load overhead",
        "",
        f"The held-back last {data['holdout_minutes']} minutes of the 30-day set as "
        f"{len(o['runs'])} files in time order, loaded one by one into the database with "
        "history, alternately with the current-odds step and without it:",
        "",
        "| file | with current odds | rows | s | rows/s | current-odds step s |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for i, r in enumerate(o["runs"]):
        step = r["current_odds_seconds"]
        lines.append(
            f"| {i} | {'yes' if r['with_current_odds'] else 'no'} | {r['rows_loaded']:,} | "
            f"{r['seconds']:.3f} | {r['rows_per_second']:,.0f} | "
            f"{'' if step is None or not r['with_current_odds'] else f'{step:.3f}'} |"
        )
    lines += [
        "",
        f"Median rows/s with the step {o['median_rows_per_second_with']:,.0f}, without "
        f"{o['median_rows_per_second_without']:,.0f}: ratio {o['ratio_with_over_without']:.2f} "
        f"(median step {o['median_current_odds_step_s'] * 1000:.0f} ms per file). The bulk "
        f"load of the 30-day set spent {data['month_load']['current_odds_seconds']:.2f} s of "
        f"{data['month_load']['seconds']:.1f} s in it.",
        "",
        "## Targets",
        "",
        *targets(report),
        "",
        "Machine load before each board (1-minute load average / other active sessions): "
        + ", ".join(
            f"{r['load']['loadavg_1m']:.2f}/{r['load']['other_active_sessions']}"
            for s in report["states"].values()
            for r in s["boards"]
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    from oddskit.connection import Database
    from oddskit.partitions import set_policy

    began = time.perf_counter()
    created: list[str] = []
    report: dict[str, Any] = {"repeat": args.repeat, "states": {}}
    try:
        url = create_database(args.url, created)
        report["machine"] = machine_info(url, SETTINGS)
        with tempfile.TemporaryDirectory(prefix="oddskit-bench-board-") as tmp:
            folder = Path(tmp)
            now = dt.datetime.now(dt.UTC)
            start = (now - dt.timedelta(days=args.days - 1)).replace(
                minute=0, second=0, microsecond=0
            )
            raw = write_set(
                folder,
                "month_all",
                days=args.days,
                events_per_day=args.events_per_day,
                start=start,
                seed=args.seed,
            )
            earliest = now - dt.timedelta(days=RETENTION_DAYS) + dt.timedelta(minutes=30)
            holdout = now - dt.timedelta(minutes=args.holdout_minutes)
            month = folder / "month.parquet"
            frame = pl.scan_parquet(raw).filter(pl.col("captured_at") >= earliest)
            frame.filter(pl.col("captured_at") < holdout).sink_parquet(month)
            held = frame.filter(pl.col("captured_at") >= holdout, pl.col("captured_at") <= now)
            held = held.collect().sort("captured_at")
            edges = [
                holdout + dt.timedelta(minutes=args.holdout_minutes * i / args.slices)
                for i in range(args.slices + 1)
            ]
            slices = []
            for i in range(args.slices):
                part = held.filter(
                    pl.col("captured_at") >= edges[i],
                    pl.col("captured_at") < (edges[i + 1] if i + 1 < args.slices else now),
                )
                path = folder / f"slice_{i}.parquet"
                part.write_parquet(path)
                slices.append(path)
            log("loading the 30-day set ...")
            month_load = timed_load(url, month)
            vacuum(url)
            report["data"] = {
                "days": args.days,
                "events_per_day": args.events_per_day,
                "start": start.isoformat(timespec="minutes"),
                "holdout_minutes": args.holdout_minutes,
                "month_load": month_load,
            }
            report["states"]["month"] = {
                "label": f"{args.days}-day set",
                "counts": counts(url),
                "boards": measure_state(url, args.repeat),
            }
            with Database(url) as db:
                set_policy(db, retention_days=None)
            history_start = (start - dt.timedelta(days=args.history_days + 1)).replace(hour=0)
            history = write_set(
                folder,
                "history",
                days=args.history_days,
                events_per_day=args.history_events_per_day,
                interval_minutes=args.history_interval,
                start=history_start,
                seed=args.seed + 1,
            )
            log("loading the history ...")
            history_load = timed_load(url, history)
            vacuum(url)
            report["data"].update(
                history_days=args.history_days,
                history_events_per_day=args.history_events_per_day,
                history_interval=args.history_interval,
                history_start=history_start.isoformat(timespec="minutes"),
                history_load=history_load,
            )
            report["states"]["history"] = {
                "label": f"{args.days}-day set + {args.history_days} days of history",
                "counts": counts(url),
                "boards": measure_state(url, args.repeat),
            }
            report["load_overhead"] = load_overhead(url, slices)
    finally:
        if not args.keep:
            for name in created:
                drop_database(args.url, name)
        else:
            log(f"kept {', '.join(created)}")
    report["seconds"] = time.perf_counter() - began
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events-per-day", type=int, default=100)
    parser.add_argument("--history-days", type=int, default=730)
    parser.add_argument("--history-events-per-day", type=int, default=10)
    parser.add_argument("--history-interval", type=float, default=30)
    parser.add_argument("--holdout-minutes", type=int, default=120)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    log(f"server {masked(args.url)} (database {database_of(args.url)})")
    report = run(args)
    write_results(args.out, "board", render(report), report)
    log(f"wrote {args.out / 'board.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
