"""SQLAlchemy 2.0 models of the oddskit schema.

Dimensions (small, ordinary tables)::

    sports ─< tournaments ─< events ─< event_bookmakers >─ bookmakers

Facts (RANGE-partitioned by ``captured_at``, one partition per UTC day)::

    odds_snapshots   one row per event × bookmaker × captured_at
    market_odds      one row per priced outcome of a snapshot

Lineage: ``scrape_runs`` records every scrape and every bulk load (kind ``'load'``),
``scrape_errors`` the rows they rejected. ``partition_policies`` holds the premake,
retention and archive settings that partition maintenance applies; ``archives`` lists
the days kept as Parquet files after they left the live tables. ``current_odds``,
``opening_odds`` and ``closing_odds`` (derived) hold each event × bookmaker's newest,
first and last pre-kickoff live snapshot with its prices, kept by the loader in the
load's transaction.

Only the partitioned *parents* are modelled; their daily children are created by
partition maintenance (:mod:`oddskit.partitions`) and are invisible to Alembic.

``market_odds`` carries ``(snapshot_id, captured_at)`` of its snapshot but no
foreign key to ``odds_snapshots``: PostgreSQL refuses to drop a partition that a
foreign key references (``DROP ... CASCADE`` would drop the whole constraint), so
a key between the two partitioned tables would break pg_partman's retention, and
its per-row check would slow every bulk load. The loader writes a snapshot and
its prices in one transaction, and retention drops ``market_odds`` partitions
before the ``odds_snapshots`` partitions of the same day.

Example:
    >>> from oddskit.models import Base
    >>> sorted(Base.metadata.tables)[:3]
    ['archives', 'bookmakers', 'closing_odds']
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

#: Constraint names that Alembic can refer to and that never drift.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The two tables that are partitioned by day on ``captured_at``.
PARTITIONED_TABLES: tuple[str, ...] = ("odds_snapshots", "market_odds")

UtcDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Sport(Base):
    """A sport, e.g. ``Football``."""

    __tablename__ = "sports"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)

    tournaments: Mapped[list[Tournament]] = relationship(back_populates="sport", lazy="raise")


class Tournament(Base):
    """A competition within a sport and (optionally) a country."""

    __tablename__ = "tournaments"
    __table_args__ = (
        UniqueConstraint(
            "sport_id",
            "country",
            "name",
            name="uq_tournaments_sport_id_country_name",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    sport_id: Mapped[int] = mapped_column(ForeignKey("sports.id"), index=True)
    country: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)

    sport: Mapped[Sport] = relationship(back_populates="tournaments", lazy="raise")
    events: Mapped[list[Event]] = relationship(back_populates="tournament", lazy="raise")


class Bookmaker(Base):
    """A bookmaker whose odds are collected, e.g. ``betPawa``."""

    __tablename__ = "bookmakers"

    id: Mapped[int] = mapped_column(SmallInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class Event(Base):
    """A match. ``sportradar_id`` identifies it across bookmakers when known."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournaments.id"), index=True)
    sportradar_id: Mapped[str | None] = mapped_column(Text, unique=True)
    home_team: Mapped[str] = mapped_column(Text)
    away_team: Mapped[str] = mapped_column(Text)
    kickoff: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    tournament: Mapped[Tournament] = relationship(back_populates="events", lazy="raise")
    bookmaker_ids: Mapped[list[EventBookmaker]] = relationship(back_populates="event", lazy="raise")


#: How a listing can be linked to its match, from the strongest evidence down.
LINK_METHODS: tuple[str, ...] = (
    "new",
    "sportradar",
    "match_key",
    "exact",
    "alias",
    "fuzzy",
    "manual",
)


class EventBookmaker(Base):
    """A *listing*: a bookmaker's event id for a match, its own spelling of the teams,
    and how it was linked to the match."""

    __tablename__ = "event_bookmakers"
    __table_args__ = (
        CheckConstraint(
            "link_method IN ('new', 'sportradar', 'match_key', 'exact', 'alias', 'fuzzy', "
            "'manual')",
            name="link_method",
        ),
        CheckConstraint("first_captured_at <= last_captured_at", name="capture_bounds"),
        UniqueConstraint(
            "bookmaker_id",
            "bookmaker_event_id",
            name="uq_event_bookmakers_bookmaker_id_bookmaker_event_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    bookmaker_id: Mapped[int] = mapped_column(ForeignKey("bookmakers.id"), index=True)
    bookmaker_event_id: Mapped[str] = mapped_column(Text)
    home_team: Mapped[str] = mapped_column(Text)
    away_team: Mapped[str] = mapped_column(Text)
    #: How the listing was linked to its match (see :data:`LINK_METHODS`).
    link_method: Mapped[str] = mapped_column(Text, server_default="new")
    #: Name similarity of a ``fuzzy`` link (0–1).
    link_score: Mapped[float | None] = mapped_column(Double)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    #: The kickoff this listing reports (the match keeps one kickoff).
    kickoff: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The first and last capture of the listing's snapshots, live or archived (the
    #: query helpers bound ``captured_at`` by them; never narrower, may be wider).
    first_captured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_captured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    event: Mapped[Event] = relationship(back_populates="bookmaker_ids", lazy="raise")
    bookmaker: Mapped[Bookmaker] = relationship(lazy="raise")


class MatchKey(Base):
    """An input's own key of a match (``match_key``): a fixture id, an odds API event id."""

    __tablename__ = "match_keys"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class TeamAlias(Base):
    """Another name of a team (per sport, or for every sport when ``sport_id`` is null)."""

    __tablename__ = "team_aliases"
    __table_args__ = (
        CheckConstraint("source IN ('user', 'confirmed')", name="source"),
        UniqueConstraint(
            "sport_id",
            "alias_key",
            name="uq_team_aliases_sport_id_alias_key",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    sport_id: Mapped[int | None] = mapped_column(ForeignKey("sports.id"))
    alias: Mapped[str] = mapped_column(Text)
    team: Mapped[str] = mapped_column(Text)
    alias_key: Mapped[str] = mapped_column(Text)
    team_key: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, server_default="user")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class LinkDecision(Base):
    """A person's decision that a listing is (``link``) or is not (``apart``) a match."""

    __tablename__ = "link_decisions"
    __table_args__ = (CheckConstraint("decision IN ('link', 'apart')", name="decision"),)

    bookmaker_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("bookmakers.id"), primary_key=True
    )
    bookmaker_event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    decision: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class ScrapeRun(Base):
    """One scrape or one bulk load (``kind = 'load'``), with its counts and outcome."""

    __tablename__ = "scrape_runs"
    __table_args__ = (
        CheckConstraint("kind IN ('scrape', 'load')", name="kind"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    bookmaker_id: Mapped[int | None] = mapped_column(ForeignKey("bookmakers.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    file_hash: Mapped[str | None] = mapped_column(Text, index=True)
    status: Mapped[str] = mapped_column(Text, server_default="running")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_loaded: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_present: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_rejected: Mapped[int] = mapped_column(BigInteger, server_default="0")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    errors: Mapped[list[ScrapeError]] = relationship(back_populates="run", lazy="raise")


class ScrapeError(Base):
    """A problem met by a run: a rejected row, or the error that failed it."""

    __tablename__ = "scrape_errors"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("scrape_runs.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    row_number: Mapped[int | None] = mapped_column(BigInteger)
    column_name: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)

    run: Mapped[ScrapeRun] = relationship(back_populates="errors", lazy="raise")


class PartitionPolicy(Base):
    """How far ahead to create daily partitions and how long to keep them."""

    __tablename__ = "partition_policies"
    __table_args__ = (
        CheckConstraint("premake_days BETWEEN 1 AND 366", name="premake_days"),
        CheckConstraint("retention_days IS NULL OR retention_days >= 1", name="retention_days"),
        CheckConstraint(
            "archive IN ('none', 'default') OR archive LIKE '/%' OR archive LIKE '%://%'",
            name="archive",
        ),
    )

    parent_table: Mapped[str] = mapped_column(Text, primary_key=True)
    premake_days: Mapped[int] = mapped_column(Integer, server_default="4")
    retention_days: Mapped[int | None] = mapped_column(Integer, server_default="30")
    #: Where retention archives a day before dropping it: 'default' (the oddskit
    #: home's archive folder), 'none', an absolute folder or a URL (migration 0006).
    archive: Mapped[str] = mapped_column(Text, server_default="default")


class OddsSnapshot(Base):
    """What one bookmaker offered on one event at one instant (partitioned by day)."""

    __tablename__ = "odds_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "event_id",
            "bookmaker_id",
            "captured_at",
            name="uq_odds_snapshots_event_id_bookmaker_id_captured_at",
        ),
        Index(
            "ix_odds_snapshots_captured_at_brin",
            "captured_at",
            postgresql_using="brin",
        ),
        {"postgresql_partition_by": "RANGE (captured_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    # References to events and bookmakers are checked by statement-level triggers
    # (migration 0004), not foreign keys: one set-based check per INSERT statement
    # instead of a look-up per row, which cost bulk loads ~0.6 s per 180k snapshots.
    event_id: Mapped[int] = mapped_column(Integer)
    bookmaker_id: Mapped[int] = mapped_column(SmallInteger)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    raw_response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    event: Mapped[Event] = relationship(
        lazy="raise", primaryjoin="foreign(OddsSnapshot.event_id) == Event.id"
    )
    bookmaker: Mapped[Bookmaker] = relationship(
        lazy="raise", primaryjoin="foreign(OddsSnapshot.bookmaker_id) == Bookmaker.id"
    )


class MarketOdds(Base):
    """One priced outcome of a snapshot: market, line, outcome and decimal odds."""

    __tablename__ = "market_odds"
    __table_args__ = (
        CheckConstraint("odds > 1 AND odds < 'Infinity'::float8", name="odds_gt_one"),
        Index(
            "uq_market_odds_snapshot_id_market_line_outcome",
            "snapshot_id",
            "market",
            "line",
            "outcome",
            "captured_at",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index(
            "ix_market_odds_captured_at_brin",
            "captured_at",
            postgresql_using="brin",
        ),
        {"postgresql_partition_by": "RANGE (captured_at)"},
    )

    snapshot_id: Mapped[int] = mapped_column(BigInteger)
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    market: Mapped[str] = mapped_column(Text)
    line: Mapped[float | None] = mapped_column(Double)
    outcome: Mapped[str] = mapped_column(Text)
    odds: Mapped[float] = mapped_column(Double)

    # No primary key (``line`` is nullable): the unique index above is the natural key.
    __mapper_args__ = {"primary_key": [snapshot_id, captured_at, market, line, outcome]}  # noqa: RUF012


class Archive(Base):
    """One UTC day in the Parquet archive: its file and what was verified about it
    (migration 0006; see :mod:`oddskit.archive`)."""

    __tablename__ = "archives"
    __table_args__ = (
        CheckConstraint("rows >= 0 AND bytes >= 0 AND live_rows >= 0", name="counts"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    root: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(Text)
    live_rows: Mapped[int] = mapped_column(BigInteger, server_default="0")
    live_checksum: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class _PairBoard:
    """Columns of a derived board table: one snapshot of each event × bookmaker pair
    with its prices, one row per price; the unique index is the natural key (``line``
    is nullable, so there is no primary key). No foreign keys, as on the partitioned
    tables: the loader replaces rows set-based, and a per-row check would cost every load.
    """

    event_id: Mapped[int] = mapped_column(Integer)
    bookmaker_id: Mapped[int] = mapped_column(SmallInteger)
    snapshot_id: Mapped[int] = mapped_column(BigInteger)
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    market: Mapped[str] = mapped_column(Text)
    line: Mapped[float | None] = mapped_column(Double)
    outcome: Mapped[str] = mapped_column(Text)
    odds: Mapped[float] = mapped_column(Double)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        return (
            Index(
                f"uq_{cls.__tablename__}_event_id_bookmaker_id_market_line_outcome",
                "event_id",
                "bookmaker_id",
                "market",
                "line",
                "outcome",
                unique=True,
                postgresql_nulls_not_distinct=True,
            ),
        )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"primary_key": ["event_id", "bookmaker_id", "market", "line", "outcome"]}


class CurrentOdds(_PairBoard, Base):
    """The prices of each event × bookmaker's newest snapshot in the live tables
    (migration 0009): the current board, kept by the loader in the load's transaction
    (:mod:`oddskit.load_sql`), trimmed by retention (:mod:`oddskit.partitions`) and read
    by :mod:`oddskit.queries_current`."""

    __tablename__ = "current_odds"


class OpeningOdds(_PairBoard, Base):
    """The prices of each event × bookmaker's first snapshot in the live tables
    (migration 0010), kept as :class:`CurrentOdds` is (:mod:`oddskit.board_tables`)."""

    __tablename__ = "opening_odds"


class ClosingOdds(_PairBoard, Base):
    """The prices of each event × bookmaker's last snapshot before its event's kickoff in
    the live tables (migration 0010), kept as :class:`CurrentOdds` is, and again for an
    event whose kickoff changes (:mod:`oddskit.board_tables`)."""

    __tablename__ = "closing_odds"
