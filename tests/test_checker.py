"""The input rules, without a database: every row-level and cross-batch rule of
:class:`oddskit.checker.SourceChecker`, and the refusal message the loader builds from
what it finds (:class:`oddskit.load_tally.LoadTally`).

The bad inputs are those of ``bad_inputs.py``; ``test_loading_errors.py`` loads one
of each kind into a real database, to show that a refusal changes nothing there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from bad_inputs import RULE_CASES, SAMPLE, Case, as_text

from oddskit.checker import SNAPSHOT_COLUMNS, SourceChecker
from oddskit.load_tally import LoadTally
from oddskit.sources import DEFAULT_BATCH_ROWS, RawBatch, iter_batches, read_header, resolve_sources
from oddskit.validation import INPUT_COLUMNS, SNAPSHOT_KEY, check_header


def refusal(inputs: Any, *, batch_rows: int = DEFAULT_BATCH_ROWS, delimiter: str = ",") -> str:
    """The message the loader refuses ``inputs`` with, found as the loader finds it:
    the header, then the checker over every batch, then the tally's refusal."""
    (source,) = resolve_sources(inputs)
    header = read_header(source, delimiter=delimiter)
    check_header(header, source=source.name)
    columns = [name for name in header if name in INPUT_COLUMNS]
    checker = SourceChecker(now=datetime.now(UTC), retention_days=30)
    tally = LoadTally()
    for batch in iter_batches(source, columns=columns, batch_rows=batch_rows, delimiter=delimiter):
        tally.count(checker.check(batch))
    assert tally.problems, f"{source.name}: the checker found nothing wrong"
    return str(tally.refusal(source.name))


def checked_in_batches(frame: pl.DataFrame, batch_rows: int) -> tuple[SourceChecker, list[Any]]:
    """``frame`` (as text) checked ``batch_rows`` rows at a time."""
    checker = SourceChecker(now=datetime.now(UTC), retention_days=30)
    text = as_text(frame).with_row_index("row", 1).with_columns(pl.col("row").cast(pl.Int64))
    batches = [
        checker.check(RawBatch(text.slice(start, batch_rows)))
        for start in range(0, text.height, batch_rows)
    ]
    return checker, batches


@pytest.mark.parametrize("case", [case.param() for case in RULE_CASES])
def test_every_input_rule_names_the_problem(tmp_path: Path, case: Case) -> None:
    inputs, fragments = case.make(tmp_path)
    message = refusal(inputs, **case.kwargs)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_a_clean_input_in_small_batches_has_every_snapshot_once() -> None:
    # Batches of 40 rows split snapshots (about 30 prices each) between batches.
    checker, batches = checked_in_batches(SAMPLE, 40)
    assert all(batch.clean for batch in batches)
    assert sum(batch.rows for batch in batches) == SAMPLE.height
    assert sum(batch.prices.height for batch in batches) == SAMPLE.height
    snapshots = pl.concat([batch.new_snapshots for batch in batches])
    assert snapshots.columns == SNAPSHOT_COLUMNS
    assert snapshots.height == checker.snapshots_seen == SAMPLE.select(SNAPSHOT_KEY).n_unique()
    assert not snapshots.select(SNAPSHOT_KEY).is_duplicated().any()
    # Each snapshot with the first row that gave it.
    first_rows = (
        SAMPLE.with_row_index("row", 1).group_by(SNAPSHOT_KEY).agg(pl.col("row").min())["row"]
    )
    assert sorted(snapshots["row"]) == sorted(first_rows.cast(pl.Int64))


def test_a_snapshot_described_otherwise_in_a_later_batch_is_an_event_error() -> None:
    # Rows 5-8 (the second batch) give the snapshot of rows 1-28 another home team.
    frame = SAMPLE.head(28).with_columns(
        pl.when(pl.int_range(pl.len()).is_between(4, 7))
        .then(pl.lit("Someone Else"))
        .otherwise("home_team")
        .alias("home_team")
    )
    checker, batches = checked_in_batches(frame, 4)
    assert [b.event_errors.height for b in batches] == [0, 1, 0, 0, 0, 0, 0]
    assert all(b.errors.height == 0 for b in batches)
    ((row, column, value, reason),) = batches[1].event_errors.rows()
    first = SAMPLE.row(0, named=True)
    assert (row, column, value) == (5, "home_team", "Someone Else")
    assert reason.startswith(
        f"disagrees with row 1 of the same snapshot (bookmaker {first['bookmaker']}, "
        f"bookmaker event {first['bookmaker_event_id']}) about the match"
    )
    assert checker.conflicting_events.rows() == [(first["bookmaker"], first["bookmaker_event_id"])]
    assert checker.snapshots_seen == 1


def test_an_event_naming_other_teams_later_is_one_error_at_its_first_row() -> None:
    event = SAMPLE.filter(pl.col("bookmaker_event_id") == SAMPLE["bookmaker_event_id"][0])
    home, away = event["home_team"][0], event["away_team"][0]
    renamed = event.with_columns(
        pl.col("home_team") + " FC", pl.col("captured_at") + pl.duration(minutes=1)
    )
    other = renamed.with_columns(  # a third name, later: still the one error
        pl.col("home_team") + " II", pl.col("captured_at") + pl.duration(minutes=1)
    )
    checker, batches = checked_in_batches(pl.concat([event, renamed, other]), event.height)
    errors = pl.concat([b.event_errors for b in batches])
    assert errors.select("row", "column", "value").rows() == [
        (1, "home_team", f"{home} FC v {away} / {home} v {away}")
    ]
    assert (
        "names different teams, SportRadar ids or match keys within this input"
        in errors["reason"][0]
    )
    assert checker.conflicting_events.height == 1


def test_rows_that_cannot_be_read_are_counted_and_are_errors() -> None:
    checker = SourceChecker(now=datetime.now(UTC), retention_days=30)
    problem = {"row": 3, "column": None, "value": "a,b", "reason": "has 2 fields but ..."}
    checked = checker.check(
        RawBatch(pl.DataFrame({"row": pl.Series([], dtype=pl.Int64)}), [problem])
    )
    assert (checked.rows, checked.prices.height, checked.new_snapshots.height) == (1, 0, 0)
    assert checked.errors.rows() == [(3, None, "a,b", "has 2 fields but ...")]


def test_exact_duplicates_are_one_price_and_not_an_error() -> None:
    doubled = pl.concat([SAMPLE.head(30), SAMPLE.head(3)])
    _, (batch,) = checked_in_batches(doubled, 100)
    assert batch.clean and batch.rows == 33
    assert batch.prices.height == 30
