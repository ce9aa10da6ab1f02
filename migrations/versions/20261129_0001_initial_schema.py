"""Initial schema: dimensions, lineage, and the two daily-partitioned fact tables.

Partition set-up is literal SQL frozen in this revision (it must not follow later
changes to ``oddskit.partitions``):

- pg_partman, when the server offers it, the migrating role may use it (see
  ``oddskit.schema.choose_backend``) and the backend is not forced to ``native``:
  ``create_parent`` with the 4.x signature ('native', 'daily') or the
  5.x one ('1 day', 'range'), 30-day retention that drops tables, partitions
  created through infinite time;
- otherwise the native fallback: daily partitions from today (UTC) through the
  premake horizon; ``oddskit maintain`` keeps them going.

Choose the backend with ``-x backend=native|partman|auto`` or
``ODDSKIT_PARTITION_BACKEND`` (default ``auto``).

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARENTS = ("market_odds", "odds_snapshots")  # retention order: prices before snapshots
PREMAKE_DAYS = 4  # also written literally in the partition SQL below
RETENTION_DAYS = 30


def _backend() -> str:
    """The partition backend asked for: 'auto', 'partman' or 'native'."""
    wanted = (
        context.config.attributes.get("partition_backend")
        or context.get_x_argument(as_dictionary=True).get("backend")
        or os.environ.get("ODDSKIT_PARTITION_BACKEND")
        or "auto"
    )
    if wanted not in ("auto", "partman", "native"):
        raise ValueError(f"backend must be one of auto, partman, native; got {wanted!r}")
    return wanted


def upgrade() -> None:
    op.create_table(
        "sports",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sports"),
        sa.UniqueConstraint("name", name="uq_sports_name"),
    )
    op.create_table(
        "bookmakers",
        sa.Column("id", sa.SmallInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bookmakers"),
        sa.UniqueConstraint("name", name="uq_bookmakers_name"),
    )
    op.create_table(
        "tournaments",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("sport_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["sport_id"], ["sports.id"], name="fk_tournaments_sport_id_sports"),
        sa.PrimaryKeyConstraint("id", name="pk_tournaments"),
        sa.UniqueConstraint(
            "sport_id",
            "country",
            "name",
            name="uq_tournaments_sport_id_country_name",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index("ix_tournaments_sport_id", "tournaments", ["sport_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("tournament_id", sa.Integer(), nullable=False),
        sa.Column("sportradar_id", sa.Text(), nullable=True),
        sa.Column("home_team", sa.Text(), nullable=False),
        sa.Column("away_team", sa.Text(), nullable=False),
        sa.Column("kickoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tournament_id"], ["tournaments.id"], name="fk_events_tournament_id_tournaments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("sportradar_id", name="uq_events_sportradar_id"),
    )
    op.create_index("ix_events_kickoff", "events", ["kickoff"])
    op.create_index("ix_events_tournament_id", "events", ["tournament_id"])
    op.create_table(
        "event_bookmakers",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("bookmaker_id", sa.SmallInteger(), nullable=False),
        sa.Column("bookmaker_event_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bookmaker_id"],
            ["bookmakers.id"],
            name="fk_event_bookmakers_bookmaker_id_bookmakers",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_event_bookmakers_event_id_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_bookmakers"),
        sa.UniqueConstraint(
            "bookmaker_id",
            "bookmaker_event_id",
            name="uq_event_bookmakers_bookmaker_id_bookmaker_event_id",
        ),
    )
    op.create_index("ix_event_bookmakers_bookmaker_id", "event_bookmakers", ["bookmaker_id"])
    op.create_index("ix_event_bookmakers_event_id", "event_bookmakers", ["event_id"])
    op.create_table(
        "scrape_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("bookmaker_id", sa.SmallInteger(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_read", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rows_loaded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rows_present", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rows_rejected", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=True),
        sa.CheckConstraint("kind IN ('scrape', 'load')", name=op.f("ck_scrape_runs_kind")),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name=op.f("ck_scrape_runs_status")
        ),
        sa.ForeignKeyConstraint(
            ["bookmaker_id"], ["bookmakers.id"], name="fk_scrape_runs_bookmaker_id_bookmakers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scrape_runs"),
    )
    op.create_index("ix_scrape_runs_bookmaker_id", "scrape_runs", ["bookmaker_id"])
    op.create_index("ix_scrape_runs_file_hash", "scrape_runs", ["file_hash"])
    op.create_table(
        "scrape_errors",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("row_number", sa.BigInteger(), nullable=True),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scrape_runs.id"],
            name="fk_scrape_errors_run_id_scrape_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scrape_errors"),
    )
    op.create_index("ix_scrape_errors_run_id", "scrape_errors", ["run_id"])
    op.create_table(
        "partition_policies",
        sa.Column("parent_table", sa.Text(), nullable=False),
        sa.Column("premake_days", sa.Integer(), server_default="4", nullable=False),
        sa.Column("retention_days", sa.Integer(), server_default="30", nullable=True),
        sa.CheckConstraint(
            "premake_days BETWEEN 1 AND 366", name=op.f("ck_partition_policies_premake_days")
        ),
        sa.CheckConstraint(
            "retention_days IS NULL OR retention_days >= 1",
            name=op.f("ck_partition_policies_retention_days"),
        ),
        sa.PrimaryKeyConstraint("parent_table", name="pk_partition_policies"),
    )
    op.create_table(
        "odds_snapshots",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("bookmaker_id", sa.SmallInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("raw_response", postgresql.JSONB(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bookmaker_id"],
            ["bookmakers.id"],
            name="fk_odds_snapshots_bookmaker_id_bookmakers",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_odds_snapshots_event_id_events"
        ),
        sa.PrimaryKeyConstraint("id", "captured_at", name="pk_odds_snapshots"),
        sa.UniqueConstraint(
            "event_id",
            "bookmaker_id",
            "captured_at",
            name="uq_odds_snapshots_event_id_bookmaker_id_captured_at",
        ),
        postgresql_partition_by="RANGE (captured_at)",
    )
    op.create_index("ix_odds_snapshots_bookmaker_id", "odds_snapshots", ["bookmaker_id"])
    op.create_index(
        "ix_odds_snapshots_captured_at_brin",
        "odds_snapshots",
        ["captured_at"],
        postgresql_using="brin",
    )
    op.create_index(
        "ix_odds_snapshots_event_id_captured_at",
        "odds_snapshots",
        ["event_id", sa.literal_column("captured_at DESC")],
    )
    op.create_table(
        "market_odds",
        sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("market", sa.Text(), nullable=False),
        sa.Column("line", sa.Double(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("odds", sa.Double(), nullable=False),
        sa.CheckConstraint(
            "odds > 1 AND odds < 'Infinity'::float8", name=op.f("ck_market_odds_odds_gt_one")
        ),
        postgresql_partition_by="RANGE (captured_at)",
    )
    op.create_index(
        "uq_market_odds_snapshot_id_market_line_outcome",
        "market_odds",
        ["snapshot_id", "market", "line", "outcome", "captured_at"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index(
        "ix_market_odds_captured_at_brin",
        "market_odds",
        ["captured_at"],
        postgresql_using="brin",
    )
    op.bulk_insert(
        sa.table(
            "partition_policies",
            sa.column("parent_table", sa.Text),
            sa.column("premake_days", sa.Integer),
            sa.column("retention_days", sa.Integer),
        ),
        [
            {"parent_table": p, "premake_days": PREMAKE_DAYS, "retention_days": RETENTION_DAYS}
            for p in PARENTS
        ],
    )
    # oddskit.migrate resolves 'auto' before it starts (and says why it falls back);
    # from the alembic command line the same rule applies here.
    from oddskit.schema import choose_backend

    backend, notice = choose_backend(op.get_bind(), _backend())
    if notice:
        print(f"Notice: {notice}")
    if backend == "partman":
        _set_up_partman()
    else:
        _set_up_native()


def _set_up_partman() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS partman")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman")
    op.execute(
        """
        DO $$
        DECLARE
            parent text;
            major int := split_part(
                (SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'), '.', 1)::int;
            start_day text := to_char(date_trunc('day', now() AT TIME ZONE 'UTC'),
                                      'YYYY-MM-DD 00:00:00+00');
        BEGIN
            FOREACH parent IN ARRAY ARRAY['market_odds', 'odds_snapshots'] LOOP
                parent := format('%I.%I', current_schema(), parent);
                IF major >= 5 THEN
                    PERFORM partman.create_parent(
                        p_parent_table := parent, p_control := 'captured_at',
                        p_interval := '1 day', p_type := 'range',
                        p_premake := 4, p_start_partition := start_day);
                ELSE
                    PERFORM partman.create_parent(
                        p_parent_table := parent, p_control := 'captured_at',
                        p_type := 'native', p_interval := 'daily',
                        p_premake := 4, p_start_partition := start_day);
                END IF;
                UPDATE partman.part_config
                   SET retention = '30 days',
                       retention_keep_table = false,
                       infinite_time_partitions = true
                 WHERE parent_table = parent;
            END LOOP;
        END $$;
        """
    )


def _set_up_native() -> None:
    op.execute(
        """
        DO $$
        DECLARE
            parent text;
            day date;
            today date := (now() AT TIME ZONE 'UTC')::date;
        BEGIN
            FOREACH parent IN ARRAY ARRAY['market_odds', 'odds_snapshots'] LOOP
                FOR day IN SELECT generate_series(today, today + 4, '1 day')::date
                LOOP
                    EXECUTE format(
                        'CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.%I '
                        'FOR VALUES FROM (%L) TO (%L)',
                        current_schema(), parent || '_p' || to_char(day, 'YYYY_MM_DD'),
                        current_schema(), parent,
                        day::timestamp AT TIME ZONE 'UTC',
                        (day + 1)::timestamp AT TIME ZONE 'UTC');
                END LOOP;
            END LOOP;
        END $$;
        """
    )


def downgrade() -> None:
    bind = op.get_bind()
    has_partman = bind.exec_driver_sql(
        "SELECT 1 FROM pg_extension WHERE extname = 'pg_partman'"
    ).scalar()
    if has_partman:
        op.execute(
            """
            DO $$
            DECLARE
                config record;
            BEGIN
                FOR config IN
                    SELECT parent_table, template_table FROM partman.part_config
                     WHERE parent_table IN (format('%I.%I', current_schema(), 'market_odds'),
                                            format('%I.%I', current_schema(), 'odds_snapshots'))
                LOOP
                    DELETE FROM partman.part_config_sub
                     WHERE sub_parent = config.parent_table;
                    DELETE FROM partman.part_config
                     WHERE parent_table = config.parent_table;
                    IF config.template_table IS NOT NULL THEN
                        EXECUTE format('DROP TABLE IF EXISTS %s', config.template_table);
                    END IF;
                END LOOP;
                -- Drop the extension only when nothing else uses it and this role owns
                -- it (a superuser may have created it for a non-superuser owner).
                IF NOT EXISTS (SELECT 1 FROM partman.part_config) AND pg_has_role(
                    (SELECT extowner FROM pg_extension WHERE extname = 'pg_partman'), 'USAGE'
                ) THEN
                    DROP EXTENSION pg_partman;
                    IF NOT EXISTS (
                        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = 'partman'
                    ) THEN
                        DROP SCHEMA partman;
                    END IF;
                END IF;
            END $$;
            """
        )
    # Dropping a partitioned parent drops all of its partitions.
    op.drop_table("market_odds")
    op.drop_table("odds_snapshots")
    op.drop_table("partition_policies")
    op.drop_table("scrape_errors")
    op.drop_table("scrape_runs")
    op.drop_table("event_bookmakers")
    op.drop_table("events")
    op.drop_table("tournaments")
    op.drop_table("bookmakers")
    op.drop_table("sports")
