r"""The history data set of ``bench_queries.py``: ≥ 2 years of daily partitions (issue 13).

Targets, with ≥ 2 years of daily partitions and retention off: opening, closing and
latest odds for a season's 380 events ≤ 0.3 s each; one event's history ≤ 50 ms;
planning time ≤ 20 ms per helper call.

*The data.* ``write_sample(days=--history-days, events_per_day=1)`` for betPawa,
SportyBet and Bet9ja (5-minute snapshots from 4–12 h before each kickoff; ``start`` =
today − days, midnight UTC), loaded with ``oddskit.load`` into a new database whose
policy keeps everything (``set_policy(retention_days=None, archive=None)``), then
``VACUUM ANALYZE``. Or ``--history-database URL``: a database built that way before,
measured as it is.

*The cases.* The season = the 380 events with the latest kickoffs. ``fetch_opening_odds``,
``fetch_closing_odds`` and ``fetch_latest_odds`` (as of now) with ``event_ids`` = the
season; ``fetch_odds_history(event_ids=[e])`` for the season's event with the most
snapshots. Each case runs three ways on connections kept open: *helper* (this code),
*before* (the same helper from the ``--before-ref`` git revision's
``oddskit/queries.py`` / ``queries_board.py``, loaded beside this code: no capture
bounds), and *raw ADBC* (the helper's main SQL and values on a plain ADBC connection
with the reader's settings, without the capture-bounds look-up). Time = best of
``--repeat`` rounds after a warm-up. *Planning* = ``Planning Time`` of ``EXPLAIN
(SUMMARY ON, FORMAT JSON)`` of the main query (best of the rounds), for this code and
for the before-state's SQL; *partitions* = how many partitions the plan names.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import REPOSITORY, autocommit, log

SEASON_EVENTS = 380
BOARD_TARGET_S = 0.3
HISTORY_TARGET_S = 0.05
PLANNING_TARGET_S = 0.02
BOOKMAKERS = ["betPawa", "SportyBet", "Bet9ja"]
_PARTITION = re.compile(r"\b(?:odds_snapshots|market_odds)_p\d{4}_\d{2}_\d{2}\b")


def build_history(url: str, days: int, seed: int) -> dict[str, Any]:
    """Generate ``days`` days of one match a day, keep everything, load; the numbers."""
    from oddskit import load
    from oddskit.connection import Database
    from oddskit.partitions import set_policy
    from oddskit.sample import write_sample

    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    with tempfile.TemporaryDirectory(prefix="oddskit_bench_h_") as tmp, Database(url) as db:
        set_policy(db, retention_days=None, archive=None, confirm=True)
        path = Path(tmp) / "history.parquet"
        summary = write_sample(
            path, days=days, events_per_day=1, bookmakers=BOOKMAKERS, seed=seed, start=start
        )
        log(f"history: generated {summary.rows:,} rows, {summary.events:,} events")
        began = time.perf_counter()
        report = load(path, db=db, progress=False)
        seconds = time.perf_counter() - began
    log(f"history: loaded {report.rows_loaded:,} rows in {seconds:.1f} s")
    with autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "days": days,
        "events_per_day": 1,
        "bookmakers": BOOKMAKERS,
        "seed": seed,
        "start": start.isoformat(),
        "rows_loaded": report.rows_loaded,
        "load_seconds": seconds,
    }


def history_counts(url: str) -> dict[str, Any]:
    with autocommit(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM market_odds), (SELECT count(*) FROM odds_snapshots), "
            "(SELECT count(*) FROM events), (SELECT min(captured_at) FROM odds_snapshots), "
            "(SELECT max(captured_at) FROM odds_snapshots), "
            "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'odds_snapshots'::regclass), "
            "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'market_odds'::regclass), "
            "(SELECT retention_days FROM partition_policies LIMIT 1), "
            "pg_size_pretty(pg_database_size(current_database())), current_database()"
        ).fetchone()
    return {
        "price_rows": row[0],
        "snapshots": row[1],
        "events": row[2],
        "first_captured_at": row[3].isoformat(),
        "newest_captured_at": row[4].isoformat(),
        "partitions_odds_snapshots": row[5],
        "partitions_market_odds": row[6],
        "retention_days": row[7],
        "database_size": row[8],
        "name": row[9],
    }


def load_before(ref: str) -> tuple[Any, Any]:
    """``oddskit/queries_board.py`` and ``oddskit/queries.py`` of git ``ref``, loaded as
    modules beside this code (they import the rest of oddskit from here)."""
    modules = []
    folder = Path(tempfile.mkdtemp(prefix="oddskit_before_"))
    for name in ("queries_board", "queries"):
        source = subprocess.run(
            ["git", "show", f"{ref}:oddskit/{name}.py"],
            cwd=REPOSITORY,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        path = folder / f"before_{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"before_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        modules.append(module)
    return modules[0], modules[1]


def _main_queries(call: Callable[[], Any], modules: tuple[Any, ...]) -> list[Any]:
    """The queries a helper runs (``run_query`` spied); its main query is the last: the
    look-ups before it read ``event_bookmakers`` and ``current_odds``."""
    seen: list[Any] = []
    originals = [m.run_query for m in modules]

    def spy(db: Any, query: Any, *args: Any) -> Any:
        seen.append(query)
        return originals[0](db, query, *args)

    for m in modules:
        m.run_query = spy
    try:
        call()
    finally:
        for m, original in zip(modules, originals, strict=True):
            m.run_query = original
    return seen


def _plan(conn: Any, query: Any) -> tuple[float, int]:
    """Planning seconds and partitions named in the plan of ``query``."""
    with conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
        cursor.execute(
            f"EXPLAIN (SUMMARY ON, FORMAT JSON)\n{query.sql}", parameters=query.parameters()
        )
        value = cursor.fetch_arrow_table().column(0)[0].as_py()
    plan = (json.loads(value) if isinstance(value, str | bytes) else value)[0]
    return plan["Planning Time"] / 1000, len(_PARTITION.findall(json.dumps(plan)))


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), result


def measure_history(url: str, repeat: int, before_ref: str) -> dict[str, Any]:
    """Time the cases three ways, with planning times and planned partitions."""
    from bench_queries import adbc_rows, adbc_session, helper_settings

    import oddskit.queries as q
    import oddskit.queries_board as qb
    import oddskit.queries_current as qc
    import oddskit.queries_quality as qq
    from oddskit.connection import Database

    old_board, old_queries = load_before(before_ref)
    with autocommit(url) as conn:
        season = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM events ORDER BY kickoff DESC, id LIMIT %s", (SEASON_EVENTS,)
            )
        ]
        one = conn.execute(
            "SELECT event_id FROM odds_snapshots WHERE event_id = ANY(%s) "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            (season,),
        ).fetchone()[0]
    now = dt.datetime.now(dt.UTC)
    cases = [
        ("fetch_opening_odds (season)", "fetch_opening_odds", {"event_ids": season}),
        ("fetch_closing_odds (season)", "fetch_closing_odds", {"event_ids": season}),
        ("fetch_latest_odds (season, as of now)", "fetch_latest_odds", {"event_ids": season}),
        ("fetch_odds_history (1 event)", "fetch_odds_history", {"event_ids": [one]}),
    ]
    db = Database(url)
    raw = adbc_session(db.libpq_url, helper_settings())
    rows = []
    try:
        for label, name, kwargs in cases:
            if name == "fetch_latest_odds":
                kwargs = {**kwargs, "as_of": now}
            new = getattr(q, name)
            old = getattr(old_queries if name == "fetch_odds_history" else old_board, name)
            log(f"history: {label}")
            helper_s, frame = _best(lambda f=new, k=kwargs: f(db, **k), repeat)
            before_s, old_frame = _best(lambda f=old, k=kwargs: f(db, **k), repeat)
            same = frame.sort(frame.columns).equals(old_frame.sort(old_frame.columns))
            main = _main_queries(lambda f=new, k=kwargs: f(db, **k), (q, qb, qc, qq))[-1]
            old_main = _main_queries(lambda f=old, k=kwargs: f(db, **k), (old_queries, old_board))[
                -1
            ]
            raw_s, raw_rows = _best(lambda m=main: adbc_rows(raw, m), repeat)
            with db.adbc_reader() as reader:
                plans = [_plan(reader, main) for _ in range(max(repeat, 3))]
                old_plans = [_plan(reader, old_main) for _ in range(max(repeat, 3))]
            rows.append(
                {
                    "query": label,
                    "rows": frame.height,
                    "same_as_before": same,
                    "raw_rows": raw_rows,
                    "helper_s": helper_s,
                    "before_s": before_s,
                    "raw_adbc_s": raw_s,
                    "planning_s": min(p[0] for p in plans),
                    "before_planning_s": min(p[0] for p in old_plans),
                    "partitions": plans[0][1],
                    "before_partitions": old_plans[0][1],
                    "target_s": HISTORY_TARGET_S if "history" in label else BOARD_TARGET_S,
                }
            )
    finally:
        raw.close()
        db.close()
    return {"season_events": len(season), "history_event_id": one, "rows": rows}


def history_targets(history: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in history["measure"]["rows"]:
        out.append(
            {
                "target": f"{row['query']} ≤ {row['target_s'] * 1000:g} ms",
                "met": row["helper_s"] <= row["target_s"],
                "detail": f"{row['helper_s'] * 1000:.0f} ms, before {row['before_s'] * 1000:.0f} "
                f"ms ({row['before_s'] / row['helper_s']:.1f}× faster)",
            }
        )
    worst = max(history["measure"]["rows"], key=lambda r: r["planning_s"])
    out.append(
        {
            "target": f"planning ≤ {PLANNING_TARGET_S * 1000:g} ms per helper call",
            "met": worst["planning_s"] <= PLANNING_TARGET_S,
            "detail": ", ".join(
                f"{r['query']} {r['planning_s'] * 1000:.1f} ms ({r['partitions']} partitions; "
                f"before {r['before_planning_s'] * 1000:.0f} ms, {r['before_partitions']})"
                for r in history["measure"]["rows"]
            ),
        }
    )
    return out


def render_history(history: dict[str, Any]) -> list[str]:
    """The history section of ``queries.md``."""
    d, m = history["database"], history["measure"]
    lines = [
        "",
        "## History: ≥ 2 years of daily partitions (issue 13)",
        "",
        f"- Mode: {history['mode']}; database {d['name']}: {d['price_rows']:,} price rows, "
        f"{d['snapshots']:,} snapshots, {d['events']:,} events, captured "
        f"{d['first_captured_at'][:16]} to {d['newest_captured_at'][:16]} UTC; "
        f"{d['partitions_odds_snapshots']:,} + {d['partitions_market_odds']:,} daily partitions, "
        f"retention {d['retention_days'] or 'off'}; {d['database_size']}",
    ]
    if history.get("build"):
        b = history["build"]
        lines.append(
            f"- Built in this run: `write_sample(days={b['days']}, events_per_day=1, "
            f"bookmakers={b['bookmakers']}, seed={b['seed']}, start={b['start'][:10]})`, loaded "
            f"{b['rows_loaded']:,} rows in {b['load_seconds']:.0f} s"
        )
    lines += [
        f"- Season: the {m['season_events']} events with the latest kickoffs; history event "
        f"{m['history_event_id']} (most snapshots among them). *before* = the helpers of git "
        f"`{history['before_ref']}` run beside this code on the same connection; *raw ADBC* = "
        "this helper's main SQL and values, without the capture-bounds look-up. Best of "
        f"{history['repeat']} rounds after a warm-up; planning = `EXPLAIN (SUMMARY)` of the "
        "main query, best of the rounds; partitions = partitions named in that plan.",
        "",
        "| query | rows | helper s | before s | before/helper | raw ADBC s | planning ms | "
        "before planning ms | partitions | before partitions | same rows as before |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in m["rows"]:
        lines.append(
            f"| {r['query']} | {r['rows']:,} | {r['helper_s']:.4f} | {r['before_s']:.4f} | "
            f"{r['before_s'] / r['helper_s']:.1f} | {r['raw_adbc_s']:.4f} | "
            f"{r['planning_s'] * 1000:.1f} | {r['before_planning_s'] * 1000:.1f} | "
            f"{r['partitions']} | {r['before_partitions']} | {r['same_as_before']} |"
        )
    busy = history.get("busy_at_start")
    if busy:
        lines += [
            "",
            f"Other work: 1-minute load average {busy['loadavg_1m']:.2f} at the start (2 cores: "
            "above ~1.5 the times are inflated by other processes; re-run on a quiet machine "
            f"for final numbers), {busy['other_active_sessions']} other active session(s).",
        ]
    lines += ["", "### History targets", ""]
    for t in history["targets"]:
        lines.append(f"- {t['target']}: {'met' if t['met'] else '**NOT met**'} ({t['detail']}).")
    return lines
