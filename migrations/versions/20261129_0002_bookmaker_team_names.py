"""Keep each bookmaker's own team names on event_bookmakers.

Bookmakers spell teams differently ("Man Utd", "Manchester United") while the
SportRadar id ties their events together, so the names a bookmaker used for its
event id are stored with that id. The loader refuses a file whose teams for a
known bookmaker event id differ from these.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event_bookmakers", sa.Column("home_team", sa.Text(), nullable=True))
    op.add_column("event_bookmakers", sa.Column("away_team", sa.Text(), nullable=True))
    op.execute(
        "UPDATE event_bookmakers eb SET home_team = e.home_team, away_team = e.away_team "
        "FROM events e WHERE e.id = eb.event_id"
    )
    op.alter_column("event_bookmakers", "home_team", nullable=False)
    op.alter_column("event_bookmakers", "away_team", nullable=False)


def downgrade() -> None:
    op.drop_column("event_bookmakers", "away_team")
    op.drop_column("event_bookmakers", "home_team")
