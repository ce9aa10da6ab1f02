"""Reading a live day for the archive: its prices and their checksum, in one snapshot.

:func:`read_live_day` is step 1 of archiving a day (:mod:`oddskit.archive`): the day's
prices with the archive's columns, the checksum PostgreSQL computes over the day's
partitions (:func:`oddskit.archive_files.price_checksum`'s numbers), and how many
prices the partition holds, all read in one ``REPEATABLE READ`` transaction.

Example:
    >>> frame, checksum, count = read_live_day(db, date(2026, 11, 28))  # doctest: +SKIP
    >>> count == frame.height  # doctest: +SKIP
    True
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pyarrow as pa

from oddskit.archive_files import checksum_of_groups, conform
from oddskit.connection import Database
from oddskit.days import midnight
from oddskit.errors import OddskitError

#: The day's snapshots (between $1 and $2) with their event-level columns: joined to
#: their ~30 prices each in Polars, so these columns cross the wire once per snapshot.
SNAPSHOTS_SQL = """
SELECT s.id AS snapshot_id, s.captured_at, CAST(s.event_id AS bigint) AS event_id,
       e.sportradar_id, sp.name AS sport, t.country, t.name AS tournament, e.home_team,
       e.away_team, e.kickoff, b.name AS bookmaker,
       (SELECT min(eb.bookmaker_event_id) FROM event_bookmakers eb
        WHERE eb.event_id = s.event_id AND eb.bookmaker_id = s.bookmaker_id) AS bookmaker_event_id
FROM odds_snapshots s
JOIN events e ON e.id = s.event_id
JOIN tournaments t ON t.id = e.tournament_id
JOIN sports sp ON sp.id = t.sport_id
JOIN bookmakers b ON b.id = s.bookmaker_id
WHERE s.captured_at >= $1 AND s.captured_at < $2
"""

#: Every price of the day (between $1 and $2), whether its snapshot is there or not.
PRICES_SQL = """
SELECT snapshot_id, captured_at, market, line, outcome, odds FROM market_odds
WHERE captured_at >= $1 AND captured_at < $2
"""

#: The numbers of :func:`oddskit.archive_files.price_checksum`, computed by PostgreSQL
#: over the day's partitions between $1 and $2.
CHECKSUM_SQL = """
SELECT b.name AS bookmaker, g.market, g.line, g.outcome, g.rows, g.event_id, g.tod, g.micro, g.mixed
FROM (
  SELECT s.bookmaker_id, m.market, m.line, m.outcome, count(*) AS rows,
         sum(x.event_id) AS event_id, sum(x.tod) AS tod, sum(x.micro) AS micro,
         sum((y.mix * (x.micro + 1)) % 2147483647) AS mixed
  FROM market_odds m
  JOIN odds_snapshots s ON s.id = m.snapshot_id AND s.captured_at = m.captured_at
  CROSS JOIN LATERAL (
    SELECT CAST(s.event_id AS bigint) AS event_id,
           CAST(extract(epoch FROM m.captured_at) * 1000000 AS bigint) % 86400000000 AS tod,
           CAST(floor(m.odds * 1000000) AS bigint) % 2147483647 AS micro
  ) x
  CROSS JOIN LATERAL (SELECT (x.event_id * 1000003 + x.tod) % 2147483647 AS mix) y
  WHERE m.captured_at >= $1 AND m.captured_at < $2
    AND s.captured_at >= $1 AND s.captured_at < $2
  GROUP BY s.bookmaker_id, m.market, m.line, m.outcome
) g
JOIN bookmakers b ON b.id = g.bookmaker_id
"""


def read_live_day(db: Database, day: date) -> tuple[pl.DataFrame, str, int]:
    """The day's prices (archive columns), their SQL checksum and how many prices the
    partition holds, all in one snapshot of the database."""
    bounds = pa.record_batch(
        {
            "since": pa.array([midnight(day)], pa.timestamp("us", tz="UTC")),
            "until": pa.array([midnight(day + timedelta(days=1))], pa.timestamp("us", tz="UTC")),
        }
    )
    try:
        with db.adbc() as conn, conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # The planner estimates one row for the join of a day's two partitions; a
            # sort of the whole day then costs twice the hash aggregate of ~200 groups.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(CHECKSUM_SQL, parameters=bounds)
            checksum = checksum_of_groups(
                tuple(row.values()) for row in cursor.fetch_arrow_table().to_pylist()
            )
            cursor.execute(SNAPSHOTS_SQL, parameters=bounds)
            snapshots = cursor.fetch_arrow_table()
            cursor.execute(PRICES_SQL, parameters=bounds)
            prices = cursor.fetch_arrow_table()
            conn.rollback()
    except OddskitError:
        raise
    except Exception as exc:
        raise db.error(f"Reading the prices of {day} for the archive failed", exc) from None
    price_frame, snapshot_frame = pl.from_arrow(prices), pl.from_arrow(snapshots)
    assert isinstance(price_frame, pl.DataFrame) and isinstance(snapshot_frame, pl.DataFrame)
    frame = price_frame.join(snapshot_frame, on=["snapshot_id", "captured_at"], how="inner")
    frame = frame.with_columns(match_key=pl.lit(None, pl.String))
    return conform(frame, f"the prices of {day}"), checksum, price_frame.height
