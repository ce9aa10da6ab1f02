"""Drop the default partitions that pg_partman's create_parent makes.

Without a default partition, a row for a day that has no partition fails loudly
instead of landing silently where retention never sees it, and a query for the
newest snapshot can walk the daily partitions in order and stop at the first hit.
oddskit creates the partitions a load needs before it writes. Rows already in a
default partition are first moved into daily partitions by pg_partman; if any
remain, the upgrade stops rather than lose them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE
            parent text;
            qualified text;
            stranded bigint;
        BEGIN
            FOREACH parent IN ARRAY ARRAY['market_odds', 'odds_snapshots'] LOOP
                qualified := format('%I.%I', current_schema(), parent);
                CONTINUE WHEN to_regclass(
                    format('%I.%I', current_schema(), parent || '_default')) IS NULL;
                IF to_regclass('partman.part_config') IS NOT NULL AND EXISTS (
                    SELECT 1 FROM partman.part_config WHERE parent_table = qualified
                ) THEN
                    PERFORM partman.partition_data_time(qualified, 100000);
                END IF;
                EXECUTE format('SELECT count(*) FROM ONLY %I.%I',
                               current_schema(), parent || '_default') INTO stranded;
                IF stranded > 0 THEN
                    RAISE EXCEPTION '% rows remain in %_default; move them into daily '
                        'partitions before upgrading', stranded, parent;
                END IF;
                EXECUTE format('DROP TABLE %I.%I', current_schema(), parent || '_default');
            END LOOP;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE
            parent text;
        BEGIN
            IF to_regclass('partman.part_config') IS NULL THEN
                RETURN;
            END IF;
            FOREACH parent IN ARRAY ARRAY['market_odds', 'odds_snapshots'] LOOP
                IF EXISTS (SELECT 1 FROM partman.part_config
                           WHERE parent_table = format('%I.%I', current_schema(), parent))
                   AND to_regclass(format('%I.%I', current_schema(), parent || '_default'))
                       IS NULL THEN
                    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT',
                                   current_schema(), parent || '_default',
                                   current_schema(), parent);
                END IF;
            END LOOP;
        END $$;
        """
    )
