"""Match identity: how each listing was linked, match keys, team aliases, manual decisions.

An *event* is one match; each bookmaker's listing of it (``event_bookmakers``: its own
event id and team spellings) now records how it was linked to the match:

``event_bookmakers.link_method``
    ``new`` (the listing created the match), ``sportradar``, ``match_key``, ``exact``
    (team names equal once normalised), ``alias`` (equal through the team alias
    table), ``fuzzy`` (similar names, a unique strong candidate; ``link_score`` holds
    the similarity) or ``manual`` (a person linked or unlinked it).
``event_bookmakers.kickoff``
    the kickoff the listing itself reports (the match keeps one kickoff; a listing
    whose kickoff differs is still the same match).
``match_keys``
    an input's own cross-bookmaker key of a match (the user's fixture id, an odds API's
    event id) → the event; several keys may name one match (two sources).
``team_aliases``
    ``alias`` → ``team`` per sport (or for every sport), written by the user or learnt
    from links they confirmed; both are stored with their normalised team keys.
``link_decisions``
    a person's decision about a listing and a match (``link`` or ``apart``): kept, and
    it wins over automatic linking on later loads.

Existing listings are marked ``sportradar`` when their match has a SportRadar id, else
``new``; their kickoff is the match's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_METHODS = "'new', 'sportradar', 'match_key', 'exact', 'alias', 'fuzzy', 'manual'"
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "event_bookmakers",
        sa.Column("link_method", sa.Text(), server_default="new", nullable=False),
    )
    op.add_column("event_bookmakers", sa.Column("link_score", sa.Double(), nullable=True))
    op.add_column(
        "event_bookmakers",
        sa.Column("linked_at", UTC, server_default=sa.func.now(), nullable=False),
    )
    op.add_column("event_bookmakers", sa.Column("kickoff", UTC, nullable=True))
    op.create_check_constraint(
        "link_method", "event_bookmakers", f"link_method IN ({LINK_METHODS})"
    )
    op.execute(
        "UPDATE event_bookmakers eb SET kickoff = e.kickoff, link_method = CASE WHEN "
        "e.sportradar_id IS NULL THEN 'new' ELSE 'sportradar' END FROM events e "
        "WHERE e.id = eb.event_id"
    )
    op.create_table(
        "match_keys",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_match_keys_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_match_keys")),
    )
    op.create_index(op.f("ix_match_keys_event_id"), "match_keys", ["event_id"])
    op.create_table(
        "team_aliases",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("sport_id", sa.Integer(), nullable=True),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("alias_key", sa.Text(), nullable=False),
        sa.Column("team_key", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), server_default="user", nullable=False),
        sa.Column("created_at", UTC, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("source IN ('user', 'confirmed')", name=op.f("ck_team_aliases_source")),
        sa.ForeignKeyConstraint(
            ["sport_id"], ["sports.id"], name=op.f("fk_team_aliases_sport_id_sports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_aliases")),
        sa.UniqueConstraint(
            "sport_id",
            "alias_key",
            name="uq_team_aliases_sport_id_alias_key",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table(
        "link_decisions",
        sa.Column("bookmaker_id", sa.SmallInteger(), nullable=False),
        sa.Column("bookmaker_event_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_at", UTC, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('link', 'apart')", name=op.f("ck_link_decisions_decision")
        ),
        sa.ForeignKeyConstraint(
            ["bookmaker_id"],
            ["bookmakers.id"],
            name=op.f("fk_link_decisions_bookmaker_id_bookmakers"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_link_decisions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "bookmaker_id", "bookmaker_event_id", "event_id", name=op.f("pk_link_decisions")
        ),
    )
    op.create_index(op.f("ix_link_decisions_event_id"), "link_decisions", ["event_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_link_decisions_event_id"), table_name="link_decisions")
    op.drop_table("link_decisions")
    op.drop_table("team_aliases")
    op.drop_index(op.f("ix_match_keys_event_id"), table_name="match_keys")
    op.drop_table("match_keys")
    op.drop_constraint("link_method", "event_bookmakers", type_="check")
    op.drop_column("event_bookmakers", "kickoff")
    op.drop_column("event_bookmakers", "linked_at")
    op.drop_column("event_bookmakers", "link_score")
    op.drop_column("event_bookmakers", "link_method")
