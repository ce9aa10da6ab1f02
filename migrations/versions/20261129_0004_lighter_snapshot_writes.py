"""Make writing snapshots cheaper: drop two redundant indexes and the bookmaker FK.

Every snapshot row the loader inserts pays for each index and foreign key of
``odds_snapshots``; measured on 180k snapshots (a 5M-price load) the insert took
2.7 s, of which these three cost about 0.9 s:

- ``ix_odds_snapshots_event_id_captured_at`` repeats what the unique key
  ``(event_id, bookmaker_id, captured_at)`` already serves: look-ups by event
  (history, as-of probes per event × bookmaker) use the unique key's index.
- ``ix_odds_snapshots_bookmaker_id`` and ``fk_odds_snapshots_bookmaker_id_bookmakers``:
  bookmakers are a handful of rows that the loader creates in the same transaction
  as their snapshots and that nothing ever deletes; the per-row foreign-key check
  guarded against a deletion that does not happen, and the index served only it.

The foreign key to ``events`` stays: events can be merged or removed by hand.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        "fk_odds_snapshots_bookmaker_id_bookmakers", "odds_snapshots", type_="foreignkey"
    )
    op.drop_index("ix_odds_snapshots_bookmaker_id", table_name="odds_snapshots")
    op.drop_index("ix_odds_snapshots_event_id_captured_at", table_name="odds_snapshots")


def downgrade() -> None:
    op.create_index(
        "ix_odds_snapshots_event_id_captured_at",
        "odds_snapshots",
        ["event_id", sa.literal_column("captured_at DESC")],
    )
    op.create_index("ix_odds_snapshots_bookmaker_id", "odds_snapshots", ["bookmaker_id"])
    op.create_foreign_key(
        "fk_odds_snapshots_bookmaker_id_bookmakers",
        "odds_snapshots",
        "bookmakers",
        ["bookmaker_id"],
        ["id"],
    )
