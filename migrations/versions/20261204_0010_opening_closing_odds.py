"""Opening and closing odds kept on load: ``opening_odds`` and ``closing_odds``.

For every (event, bookmaker) pair with a snapshot in the live tables, ``opening_odds``
holds the prices of the pair's first snapshot and ``closing_odds`` those of its last
snapshot strictly before the event's kickoff: what ``fetch_opening_odds`` and
``fetch_closing_odds`` pick, without a probe per pair through every daily partition
of a season. Kept as ``current_odds`` is (:mod:`oddskit.board_tables`): by the loader in
the load's transaction (and again for a rescheduled match's closing odds), by
relinking, and by retention. Same columns and keys as ``current_odds``.

This revision fills them from the live tables, as the helpers pick them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("opening_odds", "closing_odds")

# The first (or last pre-kickoff) snapshot per pair in one pass over the snapshots,
# then its prices by index probe (OFFSET 0: one partition each, pruned at run time).
BACKFILL = """
INSERT INTO {table} (event_id, bookmaker_id, snapshot_id, captured_at, market, line,
                     outcome, odds)
SELECT n.event_id, n.bookmaker_id, n.id, n.captured_at, m.market, m.line, m.outcome, m.odds
FROM (
  SELECT DISTINCT ON (s.event_id, s.bookmaker_id) s.event_id, s.bookmaker_id, s.id,
         s.captured_at
  FROM odds_snapshots s JOIN events ev ON ev.id = s.event_id
  WHERE EXISTS (SELECT FROM event_bookmakers eb
                WHERE eb.event_id = s.event_id AND eb.bookmaker_id = s.bookmaker_id)
    {condition}
  ORDER BY s.event_id, s.bookmaker_id, s.captured_at {direction}
) n
CROSS JOIN LATERAL (
  SELECT m.market, m.line, m.outcome, m.odds FROM market_odds m
  WHERE m.snapshot_id = n.id AND m.captured_at = n.captured_at OFFSET 0
) m
"""
PICKS = {"opening_odds": ("", "ASC"), "closing_odds": ("AND s.captured_at < ev.kickoff", "DESC")}


def upgrade() -> None:
    for table in TABLES:
        op.create_table(
            table,
            sa.Column("event_id", sa.Integer(), nullable=False),
            sa.Column("bookmaker_id", sa.SmallInteger(), nullable=False),
            sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
            sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("market", sa.Text(), nullable=False),
            sa.Column("line", sa.Double(), nullable=True),
            sa.Column("outcome", sa.Text(), nullable=False),
            sa.Column("odds", sa.Double(), nullable=False),
        )
        op.create_index(
            f"uq_{table}_event_id_bookmaker_id_market_line_outcome",
            table,
            ["event_id", "bookmaker_id", "market", "line", "outcome"],
            unique=True,
            postgresql_nulls_not_distinct=True,
        )
        op.create_index(op.f(f"ix_{table}_captured_at"), table, ["captured_at"])
        condition, direction = PICKS[table]
        op.execute(BACKFILL.format(table=table, condition=condition, direction=direction))
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
