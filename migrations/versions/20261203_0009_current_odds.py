"""The current board: ``current_odds``, each event × bookmaker's newest stored snapshot.

``current_odds`` holds, for every (event, bookmaker) pair that has a snapshot in the
live tables, the prices of that pair's newest snapshot (``snapshot_id``,
``captured_at``, ``market``, ``line``, ``outcome``, ``odds``): what
``fetch_latest_odds`` returns for "now" without looking through the history. The
loader keeps it in the load's own transaction (:class:`oddskit.load_writer.LoadWriter`),
retention deletes the rows of the price partitions it drops, and relinking a listing
moves its rows with its snapshots. No foreign keys, as on the partitioned tables: the
loader replaces rows set-based, and a per-row check would cost every load.

This revision fills it from the live tables: per pair (of ``event_bookmakers``), the
newest snapshot and its prices, as the as-of query picks them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Newest snapshot per pair (one pass over the snapshots), then its prices by index probe
# (OFFSET 0 keeps the probe a nested loop: one partition each, pruned at run time).
BACKFILL = """
INSERT INTO current_odds (event_id, bookmaker_id, snapshot_id, captured_at, market, line,
                          outcome, odds)
SELECT n.event_id, n.bookmaker_id, n.id, n.captured_at, m.market, m.line, m.outcome, m.odds
FROM (
  SELECT DISTINCT ON (s.event_id, s.bookmaker_id) s.event_id, s.bookmaker_id, s.id,
         s.captured_at
  FROM odds_snapshots s
  WHERE EXISTS (SELECT FROM event_bookmakers eb
                WHERE eb.event_id = s.event_id AND eb.bookmaker_id = s.bookmaker_id)
  ORDER BY s.event_id, s.bookmaker_id, s.captured_at DESC
) n
CROSS JOIN LATERAL (
  SELECT m.market, m.line, m.outcome, m.odds FROM market_odds m
  WHERE m.snapshot_id = n.id AND m.captured_at = n.captured_at OFFSET 0
) m
"""


def upgrade() -> None:
    op.create_table(
        "current_odds",
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
        "uq_current_odds_event_id_bookmaker_id_market_line_outcome",
        "current_odds",
        ["event_id", "bookmaker_id", "market", "line", "outcome"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index(op.f("ix_current_odds_captured_at"), "current_odds", ["captured_at"])
    op.execute(BACKFILL)
    op.execute("ANALYZE current_odds")


def downgrade() -> None:
    op.drop_table("current_odds")
