"""Move an odds file's times to the present, so that it loads whatever today's date is.

The example file ``examples/data/snapshots.csv`` was captured on 2026-11-28; the loader
refuses rows older than the retention window (30 days by default), so from 2026-12-28 on
every row of it is refused. This script shifts ``captured_at`` and ``kickoff`` by the same
whole number of days, so that the last capture falls on the day before ``--now`` (default:
now, UTC), and writes a copy; times of day, gaps and every other column stay as they were.

    python examples/recent.py examples/data/snapshots.csv recent-snapshots.csv
    oddskit load recent-snapshots.csv

(To keep the original dates instead, load it into a database whose retention keeps them:
``oddskit policy --retention-days none`` there, which changes that database's policy.)
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

TIME_COLUMNS = ("captured_at", "kickoff")
FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"


def shift_to_present(frame: pl.DataFrame, now: datetime) -> tuple[pl.DataFrame, timedelta]:
    """``frame`` (times as ISO text) with its times moved by whole days; and the shift.

    The last ``captured_at`` lands on the (UTC) day before ``now``.
    """
    times = {c: frame[c].str.to_datetime(FORMAT, time_zone="UTC") for c in TIME_COLUMNS}
    last = times["captured_at"].max()
    shift = timedelta(days=(now.astimezone(UTC).date() - timedelta(days=1) - last.date()).days)
    shifted = frame.with_columns(
        (times[c] + shift).dt.strftime("%Y-%m-%dT%H:%M:%S.%6f+00:00").alias(c) for c in TIME_COLUMNS
    )
    return shifted, shift


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="an odds file in oddskit's CSV input format")
    parser.add_argument("target", type=Path, help="where to write the shifted copy")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=datetime.now(UTC),
        help="the present, ISO 8601 with an offset (default: now)",
    )
    args = parser.parse_args(argv)
    frame = pl.read_csv(args.source, infer_schema=False)
    shifted, shift = shift_to_present(frame, args.now)
    shifted.write_csv(args.target)
    print(
        f"Wrote {shifted.height:,} rows to {args.target}, {shift.days:+,} days from {args.source}"
    )


if __name__ == "__main__":
    main()
