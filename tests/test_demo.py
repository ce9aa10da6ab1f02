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
    assert f"<code>{html.escape(db.description)}</code>" in page  # password masked


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
    assert "Mean closing margin" in text and "Biggest 1x2 movers" in text
    assert list(first.timings) == ["connect", "migrate", "generate", "load", "analyse", "report"]
    assert first.timings_text.endswith(" s") and "total" in first.timings_text
    assert lines[0].startswith("Database: ") and "Report written to" in "\n".join(lines)
    assert set(first.margins.get_column("bookmaker")) == set(DEFAULT_BOOKMAKERS)
    # Pinnacle is the sharp book: the smallest 1x2 margin.
    one_x_two = first.margins.filter(market="1x2").sort("overround_pct")
    assert one_x_two.get_column("bookmaker")[0] == "Pinnacle"
    assert first.data.featured and len(first.data.featured) <= 3

    before = count_rows(db)
    assert before[0] == first.load.rows_loaded
    report.unlink()
    second = run_demo(url=db.url, output=report, progress=False, echo=None, **SMALL)
    assert not second.seeded and second.load is None
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
