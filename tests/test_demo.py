"""``oddskit demo`` end to end on real servers: seed, analyse, report; idempotent."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from oddskit import migrate
from oddskit.connection import Database
from oddskit.demo import DemoSummary, ensure_demo_data, run_demo
from oddskit.partitions import detect_backend
from oddskit.report import chart_titles
from oddskit.report_data import describe_database
from oddskit.sample import DEFAULT_BOOKMAKERS

SMALL = {"days": 1, "events_per_day": 8}


def count_rows(db: Database) -> tuple[int, int]:
    with db.engine.connect() as conn:
        prices = conn.execute(sa.text("SELECT count(*) FROM market_odds")).scalar_one()
        snapshots = conn.execute(sa.text("SELECT count(*) FROM odds_snapshots")).scalar_one()
    return prices, snapshots


def check_report(path: Path, db: Database) -> None:
    assert path.is_file()
    page = path.read_text(encoding="utf-8")
    # Self-contained: plotly.js inlined exactly once, nothing fetched from elsewhere.
    assert page.count("plotly.js v") == 1
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert page.count("Plotly.newPlot") >= 5
    for title in chart_titles("betPawa"):
        assert f">{title}</h2>" in page
    assert f"Database: {html.escape(describe_database(db))}." in page  # readable, no password


def run_twice(db: Database, tmp_path: Path) -> DemoSummary:
    lines: list[str] = []
    report = tmp_path / "demo.html"
    first = run_demo(url=db.url, output=report, progress=False, echo=lines.append, **SMALL)

    assert first.seeded and first.load is not None
    assert first.load.rows_loaded == first.sample_rows > 0
    assert first.report == report
    check_report(report, db)
    text = str(first)
    for bookmaker in DEFAULT_BOOKMAKERS:
        assert bookmaker in text
    assert "Mean closing margin" in text and "Biggest movers in the main markets" in text
    assert list(first.timings) == ["connect", "migrate", "generate", "load", "analyse", "report"]
    assert first.timings_text.endswith(" s") and "total" in first.timings_text
    # Each thing said once: no line repeats, the database and the report path once each.
    said = [line for line in lines if line.strip()]
    assert len(said) == len(set(said)), said
    assert lines == list(first.lines) and str(first) == "\n".join(lines)
    assert lines[0].startswith("Database: ") and sum("Database" in x for x in lines) == 1
    assert f"Report: {report.resolve()}" in lines
    assert f"        {report.resolve().as_uri()}" in lines
    assert sum("a listing is one bookmaker's offer of a match" in x for x in lines) == 1
    assert set(first.margins.get_column("bookmaker")) == set(DEFAULT_BOOKMAKERS)
    # Pinnacle is the sharp book: the smallest 1x2 margin.
    one_x_two = first.margins.filter(market="1x2").sort("overround_pct")
    assert one_x_two.get_column("bookmaker")[0] == "Pinnacle"
    assert first.data.featured and len(first.data.featured) <= 8  # the picker's matches

    before = count_rows(db)
    assert before[0] == first.load.rows_loaded
    report.unlink()
    second = run_demo(
        url=db.url, output=report, progress=False, echo=None, days=1, events_per_day=9, seed=4
    )
    assert not second.seeded and second.load is None
    assert "Reusing the demo data set made " in second.text
    assert "with --days 1 --events-per-day 8 --seed 0; --events-per-day 9 --seed 4 ignored." in (
        second.text
    )
    assert "generate" not in second.timings and "load" not in second.timings
    assert count_rows(db) == before
    assert ensure_demo_data(db, **SMALL) is None
    assert count_rows(db) == before
    check_report(report, db)
    return first


def test_demo_end_to_end_on_the_embedded_server(make_database, tmp_path: Path) -> None:
    db = make_database("embedded")
    summary = run_twice(db, tmp_path)
    assert "password" not in summary.database


@pytest.mark.partman
def test_demo_end_to_end_on_the_system_server_with_pg_partman(make_database, tmp_path) -> None:
    db = make_database("system")
    run_twice(db, tmp_path)
    with db.engine.connect() as conn:
        assert detect_backend(conn) == "pg_partman"


def test_ensure_demo_data_seeds_only_an_empty_window(make_database) -> None:
    db = make_database("embedded")
    migrate(db)
    report = ensure_demo_data(db, days=1, events_per_day=3, seed=5)
    assert report is not None and report.rows_loaded > 0 and report.rows_rejected == 0
    before = count_rows(db)
    assert ensure_demo_data(db, days=1, events_per_day=3, seed=5) is None
    assert count_rows(db) == before


def user_file(tmp_path: Path) -> Path:
    """Odds that the user loads: a file of their own name."""
    from oddskit.sample import write_sample

    return write_sample(tmp_path / "my-odds.parquet", days=1, events_per_day=2, seed=11).path


def test_fresh_replaces_only_the_demos_own_data(make_database, tmp_path: Path) -> None:
    db = make_database("embedded")
    first = run_demo(url=db.url, output=tmp_path / "a.html", echo=None, progress=False, **SMALL)
    before = count_rows(db)
    fresh = run_demo(
        url=db.url, output=tmp_path / "b.html", echo=None, progress=False, fresh=True,
        days=1, events_per_day=5, seed=2,
    )  # fmt: skip
    assert fresh.seeded and "Replacing the demo data set: as asked (--fresh)." in fresh.text
    assert count_rows(db) == (fresh.load.rows_loaded, fresh.load.results[0].snapshots_new)
    assert count_rows(db) != before and first.load is not None
    with db.engine.connect() as conn:
        sources = conn.execute(sa.text("SELECT source FROM scrape_runs")).scalars().all()
    assert [Path(s).name for s in sources] == ["oddskit-demo_days-1_matches-5_seed-2.parquet"]


def test_fresh_never_touches_data_the_user_loaded(make_database, tmp_path: Path) -> None:
    from oddskit import load
    from oddskit.errors import OddskitError

    db = make_database("embedded")
    migrate(db)
    mine = load(user_file(tmp_path), db=db, progress=False)
    before = count_rows(db)
    with pytest.raises(OddskitError, match=r"1 load that the demo did not make \('.*my-odds"):
        run_demo(url=db.url, output=tmp_path / "r.html", echo=None, fresh=True, **SMALL)
    assert count_rows(db) == before  # nothing deleted, nothing added
    summary = run_demo(url=db.url, output=tmp_path / "r.html", echo=None, **SMALL)
    assert not summary.seeded and count_rows(db) == before
    assert "the demo generates nothing here and reports on the newest 1 days" in summary.text
    assert mine.rows_loaded == before[0]


def test_the_default_demo_database_is_not_the_users(
    embedded_admin_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no URL anywhere the demo uses oddskit_demo on the embedded server; the user's
    database oddskit gets nothing."""
    import psycopg
    from sqlalchemy.engine import make_url

    from oddskit.connection import EMBEDDED_DATABASE
    from oddskit.demo import DEMO_DATABASE

    home = Path(make_url(embedded_admin_url).query["host"]).parent  # the session's server
    monkeypatch.setenv("ODDSKIT_HOME", str(home))
    for name in ("ODDSKIT_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    try:
        summary = run_demo(output=tmp_path / "r.html", echo=None, progress=False, **SMALL)
        assert summary.seeded
        assert summary.database.startswith(f"{DEMO_DATABASE} on the embedded local server")
        with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
            names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        assert EMBEDDED_DATABASE in names and DEMO_DATABASE in names
        url = make_url(embedded_admin_url).set(database=EMBEDDED_DATABASE)
        with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
            has_schema = conn.execute("SELECT to_regclass('odds_snapshots')").fetchone()[0]
        assert has_schema is None  # the demo never migrated, let alone loaded, the user's
    finally:
        with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DEMO_DATABASE}" WITH (FORCE)')
