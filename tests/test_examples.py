"""The example file loads whatever today's date is: ``examples/recent.py`` moves it to the
present (checked against a frozen "now" years ahead, then loaded for real)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import oddskit
from oddskit.validation import validate_batch

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "data" / "snapshots.csv"


def recent_module():
    spec = importlib.util.spec_from_file_location("recent", ROOT / "examples" / "recent.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def problems(path: Path, now: datetime) -> pl.DataFrame:
    """What the loader's row checks say about ``path`` at ``now`` (30-day retention)."""
    raw = pl.read_csv(path, infer_schema=False).with_row_index("row", offset=1)
    raw = raw.with_columns(pl.col("row").cast(pl.Int64))
    good, errors = validate_batch(raw, now=now, retention_days=30)
    assert good.height + errors["row"].n_unique() == raw.height
    return errors


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2031, 6, 15, 0, 30, tzinfo=UTC)],
    ids=["2026", "2031"],
)
def test_the_shifted_example_passes_the_loaders_checks_at_any_date(
    now: datetime, tmp_path: Path
) -> None:
    target = tmp_path / "recent.csv"
    recent_module().main([str(EXAMPLE), str(target), "--now", now.isoformat()])
    assert problems(target, now).height == 0
    before, after = pl.read_csv(EXAMPLE), pl.read_csv(target)
    assert after.drop("captured_at", "kickoff").equals(before.drop("captured_at", "kickoff"))
    captured = after["captured_at"].str.to_datetime(time_zone="UTC")
    assert captured.max() < now and captured.max().date() == now.date() - timedelta(days=1)
    shift = captured - before["captured_at"].str.to_datetime(time_zone="UTC")
    kickoff_shift = after["kickoff"].str.to_datetime(time_zone="UTC") - before[
        "kickoff"
    ].str.to_datetime(time_zone="UTC")
    assert shift.n_unique() == 1 and (shift == kickoff_shift).all()  # whole days, both


def test_the_example_as_shipped_is_refused_once_it_is_older_than_retention() -> None:
    """Why the script exists: the same checks refuse every row of the original in 2031."""
    errors = problems(EXAMPLE, datetime(2031, 6, 15, tzinfo=UTC))
    assert errors["row"].n_unique() == 810
    assert errors["reason"].str.contains("retention window").all()


def test_the_shifted_example_loads(make_migrated, tmp_path: Path) -> None:
    db = make_migrated("embedded", "native")
    target = tmp_path / "recent.csv"
    recent_module().main([str(EXAMPLE), str(target)])
    report = oddskit.load(target, db=db, progress=False)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (810, 810, 0)
