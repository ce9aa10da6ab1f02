"""The Parquet archive: its catalogue (``archives``) and where the policy keeps it.

Before retention drops a day, its prices are written to a Parquet file under an
archive root, verified, and recorded here; only then is the day dropped
(:mod:`oddskit.archive`).

- ``partition_policies.archive``: ``'default'`` (a folder in the oddskit home of the
  machine that runs maintenance), ``'none'`` (retention drops days without archiving
  them, as before), an absolute folder or a filesystem URL (``s3://bucket/prefix``).
  Archiving is on by default.
- ``archives``: one row per archived UTC day: the root and the file's path under it,
  its rows, bytes and checksum, and the rows and checksum of the live partition that
  the last archiving of the day copied (retention drops the partition only while it
  still holds that many rows).

With pg_partman, its own retention is switched off while archiving is on: oddskit
drops the partitions itself, each after its day is archived (pg_partman would drop a
day that could not be archived). ``oddskit maintain`` keeps ``part_config`` in step
with the policy; this revision does it once for existing databases.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partman_parents() -> tuple[str, list[str]] | None:
    """pg_partman's schema and oddskit's parents registered with it, if any."""
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT oddskit_partition_backend()").scalar_one() != "pg_partman":
        return None
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    partman = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_partman'"
    ).scalar_one()
    return partman, [f"{schema}.odds_snapshots", f"{schema}.market_odds"]


def upgrade() -> None:
    op.add_column(
        "partition_policies",
        sa.Column("archive", sa.Text(), server_default="default", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_partition_policies_archive"),
        "partition_policies",
        "archive IN ('none', 'default') OR archive LIKE '/%' OR archive LIKE '%://%'",
    )
    op.create_table(
        "archives",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.Column("live_rows", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("live_checksum", sa.Text(), nullable=True),
        sa.Column(
            "archived_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "rows >= 0 AND bytes >= 0 AND live_rows >= 0", name=op.f("ck_archives_counts")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_archives")),
    )
    found = _partman_parents()
    if found:
        partman, parents = found
        op.get_bind().execute(
            sa.text(
                f'UPDATE "{partman}".part_config SET retention = NULL '  # noqa: S608
                "WHERE parent_table = ANY(:parents)"
            ),
            {"parents": parents},
        )


def downgrade() -> None:
    found = _partman_parents()
    if found:
        partman, parents = found
        op.get_bind().execute(
            sa.text(
                f'UPDATE "{partman}".part_config p SET retention = '  # noqa: S608
                "(SELECT retention_days || ' days' FROM partition_policies "
                "WHERE parent_table = 'odds_snapshots') WHERE p.parent_table = ANY(:parents)"
            ),
            {"parents": parents},
        )
    op.drop_table("archives")
    op.drop_constraint(op.f("ck_partition_policies_archive"), "partition_policies", type_="check")
    op.drop_column("partition_policies", "archive")
