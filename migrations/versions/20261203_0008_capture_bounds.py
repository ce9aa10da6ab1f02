"""Capture bounds per listing: ``event_bookmakers.first_captured_at`` / ``last_captured_at``.

The query helpers bound ``captured_at`` by them so that PostgreSQL reads only the
daily partitions that can hold an (event, bookmaker) pair's snapshots, whatever the
caller passes (:mod:`oddskit.queries_bounds`). The invariant: every snapshot of an
(event, bookmaker) pair, live or archived, lies within the smallest
``first_captured_at`` and the largest ``last_captured_at`` of the pair's listings.
Bounds may be wider than the snapshots (a day dropped by retention), never narrower.

The loader widens them in the load's transaction (live loads and loads to the
archive). Here they are filled from the live snapshots: every listing of a pair gets
the pair's bounds (snapshots do not record which of a bookmaker's ids of one match
they came through). Days that were archived before this revision are not read back:
when the archive catalogue lists days, every listing's bounds are widened to cover
them (correct, as wide as before for those listings; listings loaded from now on get
their own bounds).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("event_bookmakers", sa.Column("first_captured_at", UTC, nullable=True))
    op.add_column("event_bookmakers", sa.Column("last_captured_at", UTC, nullable=True))
    op.create_check_constraint(
        "capture_bounds",
        "event_bookmakers",
        "first_captured_at <= last_captured_at",
    )
    # One pass over the snapshots' unique index (event_id, bookmaker_id, captured_at).
    op.execute(
        "UPDATE event_bookmakers eb SET first_captured_at = s.first, last_captured_at = s.last "
        "FROM (SELECT event_id, bookmaker_id, min(captured_at) AS first, "
        "max(captured_at) AS last FROM odds_snapshots GROUP BY event_id, bookmaker_id) s "
        "WHERE s.event_id = eb.event_id AND s.bookmaker_id = eb.bookmaker_id"
    )
    op.execute(
        "UPDATE event_bookmakers SET "
        "first_captured_at = LEAST(first_captured_at, a.first), "
        "last_captured_at = GREATEST(last_captured_at, a.last) "
        "FROM (SELECT CAST(min(day) AS timestamp) AT TIME ZONE 'UTC' AS first, "
        "(CAST(max(day) + 1 AS timestamp) AT TIME ZONE 'UTC') - interval '1 microsecond' "
        "AS last FROM archives WHERE rows > 0) a WHERE a.first IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint("capture_bounds", "event_bookmakers", type_="check")
    op.drop_column("event_bookmakers", "last_captured_at")
    op.drop_column("event_bookmakers", "first_captured_at")
