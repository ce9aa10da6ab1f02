"""Bad input of every kind, shared by the checker tests (no database) and the loader
tests (a real database): the sample the cases corrupt, and one builder per kind of
problem. ``case.make(folder)`` writes the input and returns it with the fragments the
refusal must hold (file, row, column, value, reason)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from oddskit.sample import generate_sample

ISO = "%Y-%m-%dT%H:%M:%S%.6f%:z"

#: The input the error cases corrupt: 3 matches priced by two bookmakers (~450 rows).
SAMPLE = generate_sample(
    days=1, events_per_day=3, seed=11, bookmakers=["betPawa", "Pinnacle"], interval_minutes=120
)
#: Already in the module-wide database: a third bookmaker, so a leaked row would show.
BASELINE = generate_sample(
    days=1, events_per_day=3, seed=11, bookmakers=["Bet9ja"], interval_minutes=120
)
#: The 1-based data row that the single-cell cases corrupt.
ROW = 5


# -- helpers --------------------------------------------------------------------------


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, timestamps as ISO 8601 with an offset (as a CSV holds them)."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.to_string(ISO), pl.exclude(pl.Datetime).cast(pl.String)
    )


def write_csv(frame: pl.DataFrame, path: Path, **kwargs: Any) -> Path:
    as_text(frame).write_csv(path, **kwargs)
    return path


def set_cell(frame: pl.DataFrame, row: int, column: str, value: Any) -> pl.DataFrame:
    """``frame`` with the cell at 1-based ``row`` of ``column`` replaced (as text)."""
    text = as_text(frame)
    return text.with_columns(
        pl.when(pl.int_range(pl.len()) == row - 1)
        .then(pl.lit(value, dtype=pl.String))
        .otherwise(pl.col(column))
        .alias(column)
    )


# -- the cases --------------------------------------------------------------------------


@dataclass
class Case:
    """A corrupted input: ``make(folder)`` writes it and returns (input, fragments)."""

    id: str
    make: Callable[[Path], tuple[Any, list[str]]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: Callable[[Any], str | None] = str

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


def _csv_cell(column: str, value: str | None, reason: str, shown: str | None = None) -> Case:
    """One CSV cell at :data:`ROW` replaced by ``value``."""

    def make(folder: Path) -> tuple[Any, list[str]]:
        path = write_csv(set_cell(SAMPLE, ROW, column, value), folder / "odds.csv")
        value_text = shown if shown is not None else repr(value if value is not None else "")
        return path, [f"{path}, row {ROW}, column {column}, value {value_text}: {reason}"]

    return Case(f"csv-{column}={value!r}", make)


def _parquet_cell(
    column: str, value: Any, reason: str, dtype: pl.DataType, shown: str | None = None
) -> Case:
    def make(folder: Path) -> tuple[Any, list[str]]:
        frame = SAMPLE.with_columns(
            pl.when(pl.int_range(pl.len()) == ROW - 1)
            .then(pl.lit(value, dtype=dtype))
            .otherwise(pl.col(column))
            .alias(column)
        )
        path = folder / "odds.parquet"
        frame.write_parquet(path)
        text = shown or repr(None if value is None else str(value))
        return path, [f"{path}, row {ROW}, column {column}, value {text}: {reason}"]

    return Case(f"parquet-{column}={value!r}", make)


def _with_team(frame: pl.DataFrame, row: int, marker: str) -> bytes:
    text = set_cell(frame, row, "home_team", marker)
    return text.write_csv().encode()


def _bytes_in_team(name: str, raw: bytes, fragments: Callable[[Path], list[str]]) -> Case:
    def make(folder: Path) -> tuple[Any, list[str]]:
        path = folder / "odds.csv"
        path.write_bytes(_with_team(SAMPLE, ROW, "@@MARK@@").replace(b"@@MARK@@", raw))
        return path, fragments(path)

    return Case(name, make)


def _drop_columns(*names: str) -> Case:
    def make(folder: Path) -> tuple[Any, list[str]]:
        path = write_csv(SAMPLE.drop(names), folder / "odds.csv")
        return path, [f"{path}: missing required columns: {', '.join(names)}"]

    return Case(f"missing-columns-{'+'.join(names)}", make)


def _header_only(folder: Path) -> tuple[Any, list[str]]:
    path = write_csv(SAMPLE.head(0), folder / "odds.csv")
    return path, [f"{path} has a header but no data rows"]


def _empty_file(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "odds.csv"
    path.write_bytes(b"")
    return path, [f"{path} is empty: there is no header row"]


def _unknown_column(folder: Path) -> tuple[Any, list[str]]:
    path = write_csv(SAMPLE.with_columns(notes=pl.lit("x")), folder / "odds.csv")
    return path, [f"{path}: unknown column: notes"]


def _duplicate_header(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "odds.csv"
    write_csv(SAMPLE, path)
    lines = path.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    body = [line.rstrip("\n") + "," + line.rstrip("\n").split(",")[-1] + "\n" for line in lines[1:]]
    path.write_text(",".join([*header, "odds"]) + "\n" + "".join(body))
    return path, [f"{path}: repeated columns: odds"]


def _semicolons(folder: Path) -> tuple[Any, list[str]]:
    path = write_csv(SAMPLE, folder / "odds.csv", separator=";")
    return path, [f"{path}: the header is one column", "';'-separated", "delimiter=';'"]


def _ragged(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "odds.csv"
    write_csv(SAMPLE, path)
    lines = path.read_text().splitlines(keepends=True)
    lines[ROW] = lines[ROW].rstrip("\n") + ",extra\n"  # lines[0] is the header
    lines[ROW + 2] = ",".join(lines[ROW + 2].split(",")[:10]) + "\n"
    path.write_text("".join(lines))
    return path, [
        f"{path}, row {ROW}, value",
        "has 15 fields but the header has 14 (ragged row",
        f"{path}, row {ROW + 2}, value",
        "has 10 fields but the header has 14",
    ]


def _conflicting_duplicate(folder: Path) -> tuple[Any, list[str]]:
    copy = SAMPLE.slice(ROW - 1, 1).with_columns(pl.col("odds") + 0.5)
    path = write_csv(pl.concat([SAMPLE, copy]), folder / "odds.csv")
    last = SAMPLE.height + 1
    odds = SAMPLE[ROW - 1, "odds"]
    return path, [
        f"{path}, row {ROW}, column odds, value '{odds}': conflicting duplicate",
        f"{path}, row {last}, column odds, value '{odds + 0.5}': conflicting duplicate",
        f"priced {odds} and {odds + 0.5} (rows {ROW}, {last}); keep one",
    ]


def _teams_differ_from_database(folder: Path) -> tuple[Any, list[str]]:
    event = BASELINE["bookmaker_event_id"][0]
    rows = BASELINE.filter(pl.col("bookmaker_event_id") == event)
    home, away = rows["home_team"][0], rows["away_team"][0]
    renamed = rows.with_columns(
        pl.lit(home + " FC").alias("home_team"),
        pl.col("captured_at") + timedelta(minutes=1),  # new snapshots, not reloads
    )
    path = write_csv(renamed, folder / "odds.csv")
    return path, [
        f"{path}, row 1, column home_team, value '{home} FC v {away}'",
        f"bookmaker event {event} of Bet9ja is stored as {home} v {away}",
        f"this input says {home} FC v {away}",
    ]


def _teams_differ_across_snapshots(folder: Path) -> tuple[Any, list[str]]:
    first = SAMPLE.filter(pl.col("bookmaker_event_id") == SAMPLE["bookmaker_event_id"][0])
    last_snapshot = first.filter(pl.col("captured_at") == first["captured_at"].max())
    renamed = last_snapshot.with_columns(
        pl.col("home_team") + " FC", pl.col("captured_at") + timedelta(minutes=1)
    )
    path = write_csv(pl.concat([SAMPLE, renamed]), folder / "odds.csv")
    home, away = first["home_team"][0], first["away_team"][0]
    value = f"{home} FC v {away} / {home} v {away}"
    shown = value if len(value) <= 60 else value[:60] + "…"  # as format_errors shows it
    return path, [
        f"{path}, row 1, column home_team, value {shown!r}",
        "names different teams, SportRadar ids or match keys within this input",
    ]


def _differs_within_snapshot(column: str, value: str) -> Case:
    """One row of a snapshot describes another match than its siblings."""

    def make(folder: Path) -> tuple[Any, list[str]]:
        path = write_csv(set_cell(SAMPLE, ROW, column, value), folder / "odds.csv")
        key = SAMPLE.row(ROW - 1, named=True)
        rows = (
            SAMPLE.with_row_index("row", 1)
            .filter(
                (pl.col("bookmaker") == key["bookmaker"])
                & (pl.col("bookmaker_event_id") == key["bookmaker_event_id"])
                & (pl.col("captured_at") == key["captured_at"])
            )["row"]
            .to_list()
        )
        usual = as_text(SAMPLE)[rows[0] - 1, column] if column == "home_team" else ""
        return path, [
            f"{path}: 1 problem in 1 row",
            f"{path}, row {ROW}, column {column}, value",
            f"disagrees with the other rows of its snapshot (bookmaker {key['bookmaker']}, "
            f"bookmaker event {key['bookmaker_event_id']}, captured_at",
            f"which give {column} {usual}",
            f"(e.g. row {rows[0]}); every row of a snapshot must describe the same match",
        ]

    return Case(f"{column}-differs-within-snapshot", make)


def _shifted_captured_at(delta: timedelta, reason: str) -> Callable[[Path], Any]:
    def make(folder: Path) -> tuple[Any, list[str]]:
        when = datetime.now(UTC) + delta
        value = when.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        path = write_csv(set_cell(SAMPLE, ROW, "captured_at", value), folder / "odds.csv")
        return path, [f"{path}, row {ROW}, column captured_at, value", reason]

    return make


def _truncated_parquet(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "odds.parquet"
    SAMPLE.write_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path, [f"{path} is not a readable Parquet file (truncated or corrupt?)"]


def _corrupt_parquet(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "odds.parquet"
    path.write_bytes(os.urandom(4096))
    return path, [f"{path} is not a readable Parquet file (truncated or corrupt?)"]


def _naive_parquet(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "odds.parquet"
    SAMPLE.with_columns(pl.col("kickoff").dt.replace_time_zone(None)).write_parquet(path)
    return path, [f"{path}, row 1, column kickoff", "has no UTC offset (naive time)"]


def _polars_null(column: str) -> Case:
    def make(folder: Path) -> tuple[Any, list[str]]:
        frame = SAMPLE.with_columns(
            pl.when(pl.int_range(pl.len()) == ROW - 1)
            .then(None)
            .otherwise(pl.col(column))
            .alias(column)
        )
        return frame, [
            f"polars.DataFrame, row {ROW}, column {column}, value None: is empty; "
            f"every row needs a {column}"
        ]

    return Case(f"polars-null-{column}", make, source=lambda _: "polars.DataFrame")


def _missing(folder: Path) -> tuple[Any, list[str]]:
    path = folder / "no" / "such.csv"
    return path, [f"{path} does not exist"]


def _empty_folder(folder: Path) -> tuple[Any, list[str]]:
    (folder / "data").mkdir()
    (folder / "data" / "notes.txt").write_text("not data")
    return folder / "data", [f"The folder {folder / 'data'} holds no .csv or .parquet file"]


GREATER = "must be greater than 1 (decimal odds include the stake"
EMPTY = "is empty; every row needs a {}"
NOT_TIME = "is not a timestamp; write ISO 8601 with an offset"
NAIVE = "has no UTC offset (naive time); write it like 2026-11-29T18:00:00+00:00"

#: Problems of the source as a whole, found before its rows are checked (header, file,
#: path) or by the loader (no data rows).
SOURCE_CASES = [
    Case("empty-file", _empty_file),
    Case("header-only", _header_only),
    _drop_columns("bookmaker", "odds"),
    _drop_columns("captured_at", "kickoff", "market", "outcome"),
    Case("unknown-column", _unknown_column),
    Case("duplicate-header", _duplicate_header),
    Case("semicolon-delimiter", _semicolons),
    Case("truncated-parquet", _truncated_parquet),
    Case("corrupt-parquet", _corrupt_parquet),
    Case("path-does-not-exist", _missing, source=lambda _: None),
    Case("folder-without-data", _empty_folder, source=lambda _: None),
]

#: Problems of rows, found by the checker (:class:`oddskit.checker.SourceChecker`).
RULE_CASES = [
    Case("ragged-rows", _ragged),
    _bytes_in_team(
        "latin1-team",
        "América".encode("latin-1"),
        lambda p: [
            f"{p}, row {ROW}, column home_team, value 'Am\\\\xe9rica'",
            "is not valid UTF-8 text; save the file as UTF-8",
        ],
    ),
    _bytes_in_team(
        "nul-byte",
        b"Ama\x00zon",
        lambda p: [
            f"{p}, row {ROW}, column home_team, value 'Ama\\\\x00zon': contains a NUL byte",
        ],
    ),
    _csv_cell("captured_at", "yesterday", NOT_TIME),
    _csv_cell("captured_at", "2026-13-45T25:00:00+00:00", NOT_TIME),
    _csv_cell("kickoff", "29/11/2026 18:00", NOT_TIME),
    _csv_cell("captured_at", "2026-11-29T10:00:00", NAIVE),
    _csv_cell("kickoff", "2026-11-29 18:00", NAIVE),
    Case("parquet-naive-kickoff", _naive_parquet),
    _csv_cell("odds", "0.99", GREATER),
    _csv_cell("odds", "1", GREATER),
    _csv_cell("odds", "1.0", GREATER),
    _csv_cell("odds", "0", GREATER),
    _csv_cell("odds", "-2.5", GREATER),
    _csv_cell("odds", "NaN", "is not a finite number"),
    _csv_cell("odds", "inf", "is not a finite number"),
    _csv_cell("odds", "-inf", "is not a finite number"),
    _csv_cell("odds", "abc", "is not a number"),
    _csv_cell("odds", "", "is empty; every row needs odds"),
    _csv_cell("line", "two", "is not a number"),
    _parquet_cell("odds", 1.0, GREATER, pl.Float64()),
    _parquet_cell("odds", float("nan"), "is not a finite number", pl.Float64(), "'NaN'"),
    _parquet_cell("odds", float("inf"), "is not a finite number", pl.Float64()),
    _parquet_cell("odds", None, "is empty; every row needs odds", pl.Float64()),
    _parquet_cell("bookmaker", None, EMPTY.format("bookmaker"), pl.String()),
    _parquet_cell("kickoff", None, EMPTY.format("kickoff"), pl.Datetime("us", "UTC")),
    *(
        _csv_cell(column, "", EMPTY.format(column))
        for column in (
            "bookmaker",
            "sport",
            "tournament",
            "bookmaker_event_id",
            "home_team",
            "away_team",
            "market",
            "outcome",
            "kickoff",
            "captured_at",
        )
    ),
    _csv_cell("bookmaker", "   ", EMPTY.format("bookmaker")),
    _polars_null("outcome"),
    _polars_null("bookmaker_event_id"),
    Case("conflicting-duplicate", _conflicting_duplicate),
    Case("teams-differ-across-snapshots", _teams_differ_across_snapshots),
    _differs_within_snapshot("home_team", "Someone Else"),
    _differs_within_snapshot("kickoff", "2026-11-29T23:00:00+00:00"),
    Case(
        "older-than-retention",
        _shifted_captured_at(-timedelta(days=40), "older than the 30-day retention window"),
    ),
    Case(
        "far-future",
        _shifted_captured_at(timedelta(days=10), "is in the future"),
    ),
]

#: Problems found against what the database holds (BASELINE is loaded there).
DATABASE_CASES = [Case("teams-differ-from-database", _teams_differ_from_database)]
