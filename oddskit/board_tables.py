r"""The board tables kept on load: ``current_odds``, ``opening_odds`` and ``closing_odds``.

:func:`advance_boards` keeps all three on load: ``current_odds`` (migration 0009, read
by :mod:`oddskit.queries_current`), and the opening and closing odds (migration 0010),
which the rest of this module also keeps when a listing is relinked or a day dropped.

Each table holds, per (event, bookmaker) pair with a snapshot in the live tables, the
prices of one snapshot: ``opening_odds`` the pair's first, ``closing_odds`` its last
strictly before the event's kickoff — what :func:`oddskit.queries.fetch_opening_odds`
and :func:`oddskit.queries.fetch_closing_odds` pick from the live tables. Reading a
season's board is then one scan of a small table, instead of a probe per pair whose
plan holds every daily partition of the season (with two seasons of daily
partitions: 130-200 ms of planning alone per call).

They are kept exact, as ``current_odds`` is, by every writer of the live tables:

* a load (:func:`advance_boards`, in the load's transaction, after its prices): per
  pair, the first snapshot the load created replaces the stored opening when it is
  older, the last one before kickoff the stored closing when it is newer; a match the
  load rescheduled gets its closing picked again from the live tables (a later kickoff
  can make an in-play snapshot the closing one, an earlier one the reverse);
* relinking a listing (:func:`move_pair`): its opening moves with it, its closing
  is picked again against the kickoff of the match it joins;
* retention (:func:`after_price_drop`): the pairs whose opening or closing lay in a
  dropped day get them picked again from the days left.

A pick from the live tables (:func:`repick`) is the helpers' own probe: per pair the
first (or last pre-kickoff) snapshot within the pair's capture bounds, and its prices.

Example:
    The opening odds of match 1 are the rows stored for it:

    >>> from oddskit.queries import fetch_opening_odds
    >>> with db.engine.connect() as conn:
    ...     stored = conn.exec_driver_sql(
    ...         "SELECT count(*), min(captured_at) FROM opening_odds WHERE event_id = 1"
    ...     ).one()
    >>> opening = fetch_opening_odds(db, event_ids=[1])
    >>> (opening.height, opening["captured_at"].min()) == tuple(stored)
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from oddskit.load_sql import stage

__all__ = [
    "EDGE_TABLES",
    "advance_boards",
    "after_price_drop",
    "move_pair",
    "repick",
]

#: The two tables, each with its pick: the first snapshot, or the last before kickoff.
EDGE_TABLES: tuple[str, ...] = ("opening_odds", "closing_odds")

#: Each board table's pick per (event, bookmaker) pair: which snapshots may be it,
#: which of them wins, and when a stored row gives way to a load's candidate.
_BOARDS = {
    "current_odds": ("true", "DESC", "<"),  # the newest
    "opening_odds": ("true", "ASC", ">"),  # the first
    "closing_odds": ("captured_at < kickoff", "DESC", "<"),  # the last before kickoff
}

# A load's created snapshots (_board_created: with their listing) with their pair and
# its kickoff, once; then per table and pair the one of them the table would pick.
_LISTED = (
    "CREATE TEMP TABLE _board_listed AS "
    "SELECT eb.event_id, eb.bookmaker_id, ev.kickoff, n.snapshot_id, n.captured_at "
    "FROM _board_created n JOIN bookmakers b ON lower(b.name) = lower(n.bookmaker) "
    "JOIN event_bookmakers eb ON eb.bookmaker_id = b.id "
    "AND eb.bookmaker_event_id = n.bookmaker_event_id JOIN events ev ON ev.id = eb.event_id"
)
_CANDIDATES = (
    "CREATE TEMP TABLE _board_pairs AS "
    "SELECT DISTINCT ON (event_id, bookmaker_id) event_id, bookmaker_id, snapshot_id, "
    "captured_at FROM _board_listed WHERE {condition} "
    "ORDER BY event_id, bookmaker_id, captured_at {order}"
)
# The stored rows a candidate beats go; then the candidates of pairs whose stored rows
# stay (they won) are left out (before the insert: an anti-join against the table being
# written would scan the rows it is adding, once per pair).
_DROP_BEATEN = (
    "DELETE FROM {table} x USING _board_pairs n WHERE x.event_id = n.event_id "
    "AND x.bookmaker_id = n.bookmaker_id AND x.captured_at {beaten} n.captured_at",
    "DELETE FROM _board_pairs n USING {table} x "
    "WHERE x.event_id = n.event_id AND x.bookmaker_id = n.bookmaker_id",
)
# The remaining candidates' prices, read back by index probe ($1, $2: the load's span
# prune the plan; OFFSET 0 keeps one probe per pair, pruned to its partition at run
# time) — the price COPY itself stays as it is.
_INSERT_CANDIDATES = (
    "WITH written AS (INSERT INTO {table} (event_id, bookmaker_id, snapshot_id, captured_at, "
    "market, line, outcome, odds) "
    "SELECT n.event_id, n.bookmaker_id, n.snapshot_id, n.captured_at, m.market, m.line, "
    "m.outcome, m.odds FROM _board_pairs n "
    "CROSS JOIN LATERAL (SELECT m.market, m.line, m.outcome, m.odds FROM market_odds m "
    "  WHERE m.snapshot_id = n.snapshot_id AND m.captured_at = n.captured_at "
    "  AND m.captured_at >= $1 AND m.captured_at <= $2 OFFSET 0) m RETURNING 1) "
    "SELECT count(*) FROM written"
)

# The pairs to pick again (_edge_repick: event_id, bookmaker_id, since): delete their
# rows, then pick from the live tables, at or after ``since`` when it is set (retention).
_REPICK_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS _edge_repick "
    "(event_id integer NOT NULL, bookmaker_id smallint NOT NULL, since timestamptz)"
)
_REPICK = (
    "DELETE FROM {table} x USING _edge_repick r "
    "WHERE x.event_id = r.event_id AND x.bookmaker_id = r.bookmaker_id",
    "INSERT INTO {table} (event_id, bookmaker_id, snapshot_id, captured_at, market, line, "
    "outcome, odds) "
    "SELECT p.event_id, p.bookmaker_id, s.id, s.captured_at, m.market, m.line, m.outcome, "
    "m.odds FROM ("
    "  SELECT r.event_id, r.bookmaker_id, ev.kickoff, max(r.since) AS since, "
    "         min(eb.first_captured_at) AS first_at, max(eb.last_captured_at) AS last_at "
    "  FROM _edge_repick r JOIN events ev ON ev.id = r.event_id "
    "  JOIN event_bookmakers eb ON eb.event_id = r.event_id "
    "  AND eb.bookmaker_id = r.bookmaker_id "
    "  GROUP BY r.event_id, r.bookmaker_id, ev.kickoff"
    ") p CROSS JOIN LATERAL ("
    "  SELECT o.id, o.captured_at FROM odds_snapshots o "
    "  WHERE o.event_id = p.event_id AND o.bookmaker_id = p.bookmaker_id "
    "  AND o.captured_at >= greatest(p.first_at, p.since) AND o.captured_at <= p.last_at "
    "  {pick}"
    ") s CROSS JOIN LATERAL ("
    "  SELECT m.market, m.line, m.outcome, m.odds FROM market_odds m "
    "  WHERE m.snapshot_id = s.id AND m.captured_at = s.captured_at OFFSET 0"
    ") m",
)
_PICKS = {
    "opening_odds": "ORDER BY o.captured_at ASC LIMIT 1",
    "closing_odds": "AND o.captured_at < p.kickoff ORDER BY o.captured_at DESC LIMIT 1",
}


def _execute(runner: Any, statement: str) -> None:
    """Run ``statement`` (no parameters) on an ADBC cursor or a SQLAlchemy connection."""
    if isinstance(runner, sa.Connection):
        runner.exec_driver_sql(statement)
    else:
        runner.execute(statement)


def repick(runner: Any, tables: Iterable[str] = EDGE_TABLES) -> None:
    """Pick the rows of the pairs listed in ``_edge_repick`` again from the live tables,
    in ``tables``; empties ``_edge_repick``. ``runner``: an ADBC cursor or a SQLAlchemy
    connection, in the transaction that changed the pairs.

    Example:
        >>> with db.engine.begin() as conn:
        ...     _execute(conn, _REPICK_TABLE)
        ...     _ = conn.exec_driver_sql(
        ...         "INSERT INTO _edge_repick SELECT 1, id, NULL FROM bookmakers"
        ...     )
        ...     repick(conn)
        ...     conn.exec_driver_sql("SELECT count(*) FROM _edge_repick").scalar_one()
        0
    """
    _execute(runner, "SET LOCAL jit = off")  # index probes per pair (see advance_boards)
    for table in tables:
        for statement in _REPICK:
            _execute(runner, statement.format(table=table, pick=_PICKS[table]))
    _execute(runner, "TRUNCATE _edge_repick")


def advance_boards(cursor: Any, created: pl.DataFrame, rescheduled: Iterable[int] = ()) -> int:
    """Bring ``current_odds``, ``opening_odds`` and ``closing_odds`` up to the snapshots
    a load created (``created``: snapshot key → ``snapshot_id``, as
    :attr:`oddskit.load_sql.Resolution.created`), after their prices were written, and
    pick the closing odds of the matches it rescheduled (event ids) again; return how
    many rows it wrote.

    Per (event, bookmaker) pair, the created snapshot a table would pick replaces the
    pair's rows when it wins over the stored one (newer, older, newer and before
    kickoff); otherwise they stay: an older file loaded later changes only openings.
    Run in the load's transaction (which holds :func:`~oddskit.load_sql.lock_for_load`),
    so a reader sees the prices and the boards change together.

    Example: see :mod:`oddskit.load_sql`'s.
    """
    written = 0
    # Index probes per pair: JIT would compile each statement for ~0.3 s (the planner's
    # cost for a probe per pair is far above jit_above_cost) to save nothing.
    cursor.execute("SET LOCAL jit = off")
    if created.height:
        cursor.execute("DROP TABLE IF EXISTS _board_created, _board_listed")
        columns = ("bookmaker", "bookmaker_event_id", "captured_at", "snapshot_id")
        stage(cursor, "_board_created", created.select(columns))
        cursor.execute("ANALYZE _board_created")
        cursor.execute(_LISTED)
        stamp = pa.timestamp("us", tz="UTC")
        span = pa.record_batch(
            {
                "since": pa.array([created["captured_at"].min()], stamp),
                "until": pa.array([created["captured_at"].max()], stamp),
            }
        )
        for table, (condition, order, beaten) in _BOARDS.items():
            cursor.execute("DROP TABLE IF EXISTS _board_pairs")
            cursor.execute(_CANDIDATES.format(condition=condition, order=order))
            cursor.execute("ANALYZE _board_pairs")
            for statement in _DROP_BEATEN:
                cursor.execute(statement.format(table=table, beaten=beaten))
            cursor.execute(_INSERT_CANDIDATES.format(table=table), parameters=span)
            written += cursor.fetchone()[0]
    events = sorted(set(rescheduled))
    if events:
        cursor.execute("DROP TABLE IF EXISTS _board_rescheduled")
        ids = pl.DataFrame({"event_id": events}, schema={"event_id": pl.Int64})
        stage(cursor, "_board_rescheduled", ids)
        cursor.execute(_REPICK_TABLE)
        cursor.execute(
            "INSERT INTO _edge_repick SELECT DISTINCT eb.event_id, eb.bookmaker_id, "
            "CAST(NULL AS timestamptz) "
            "FROM event_bookmakers eb JOIN _board_rescheduled r ON r.event_id = eb.event_id"
        )
        repick(cursor, ["closing_odds"])
    return written


def move_pair(conn: sa.Connection, old_event: int, new_event: int, bookmaker_id: int) -> None:
    """Follow a listing moved from ``old_event`` to ``new_event`` (its snapshots already
    moved, in ``conn``'s transaction): its opening moves, its closing is picked again
    against the new match's kickoff.

    Example:
        >>> with db.engine.begin() as conn:
        ...     move_pair(conn, 999_998, 999_999, 1)
    """
    conn.execute(
        sa.text(
            "UPDATE opening_odds SET event_id = :new WHERE event_id = :old AND bookmaker_id = :book"
        ),
        {"new": new_event, "old": old_event, "book": bookmaker_id},
    )
    conn.execute(
        sa.text("DELETE FROM closing_odds WHERE event_id = :old AND bookmaker_id = :book"),
        {"old": old_event, "book": bookmaker_id},
    )
    _execute(conn, _REPICK_TABLE)
    conn.execute(
        sa.text("INSERT INTO _edge_repick VALUES (:new, :book, CAST(NULL AS timestamptz))"),
        {"new": new_event, "book": bookmaker_id},
    )
    repick(conn, ["closing_odds"])


def after_price_drop(conn: sa.Connection, low: datetime, high: datetime) -> None:
    """After retention dropped the prices captured in ``[low, high)`` (in ``conn``'s
    transaction): the pairs whose opening or closing odds were captured then get them
    picked again from the days left (at or after ``high``).

    Example:
        >>> from datetime import UTC, datetime
        >>> with db.engine.begin() as conn:
        ...     after_price_drop(conn, datetime(2000, 1, 1, tzinfo=UTC),
        ...                      datetime(2000, 1, 2, tzinfo=UTC))
    """
    _execute(conn, _REPICK_TABLE)
    for table in EDGE_TABLES:
        conn.execute(
            sa.text(
                "INSERT INTO _edge_repick SELECT DISTINCT event_id, bookmaker_id, "  # noqa: S608
                f"CAST(:high AS timestamptz) FROM {table} "
                "WHERE captured_at >= :low AND captured_at < :high"
            ),
            {"low": low, "high": high},
        )
    repick(conn)
