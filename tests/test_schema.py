"""The migrated schema as the catalog sees it, on both servers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from oddskit.connection import Database

TABLES = {
    "sports",
    "tournaments",
    "events",
    "bookmakers",
    "event_bookmakers",
    "odds_snapshots",
    "market_odds",
    "scrape_runs",
    "scrape_errors",
    "partition_policies",
    "match_keys",
    "team_aliases",
    "link_decisions",
    "archives",
    "current_odds",
    "opening_odds",
    "closing_odds",
}


def scalar(db: Database, query: str, **params: object) -> object:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar()


def rows(db: Database, query: str, **params: object) -> list[sa.Row]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text(query), params))


def test_tables_exist_and_facts_are_range_partitioned(migrated: Database) -> None:
    found = {
        r.relname
        for r in rows(
            migrated,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        )
    }
    assert found == TABLES | {"alembic_version"}
    for parent in ("odds_snapshots", "market_odds"):
        key = scalar(
            migrated,
            "SELECT pg_get_partkeydef(to_regclass(:t))",
            t=parent,
        )
        assert key == "RANGE (captured_at)"


def test_constraints_follow_the_naming_convention(migrated: Database) -> None:
    names = {
        (r.table, r.conname, r.contype)
        for r in rows(
            migrated,
            "SELECT conrelid::regclass::text AS table, conname, contype FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text = ANY(:t)",
            t=sorted(TABLES),
        )
    }
    expected = {
        ("odds_snapshots", "pk_odds_snapshots", "p"),
        ("odds_snapshots", "uq_odds_snapshots_event_id_bookmaker_id_captured_at", "u"),
        ("market_odds", "ck_market_odds_odds_gt_one", "c"),
        ("events", "uq_events_sportradar_id", "u"),
        ("event_bookmakers", "uq_event_bookmakers_bookmaker_id_bookmaker_event_id", "u"),
        ("event_bookmakers", "fk_event_bookmakers_event_id_events", "f"),
        ("tournaments", "uq_tournaments_sport_id_country_name", "u"),
        ("scrape_errors", "fk_scrape_errors_run_id_scrape_runs", "f"),
    }
    assert expected <= names
    assert all(
        name.startswith(("pk_", "uq_", "fk_", "ck_")) for _, name, kind in names if kind != "n"
    )


def test_indexes_btree_on_foreign_keys_composite_and_brin(migrated: Database) -> None:
    indexes = {
        r.indexname: r.indexdef
        for r in rows(
            migrated, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname='public'"
        )
    }
    # Look-ups by event use the unique key (event_id, bookmaker_id, captured_at); the
    # separate event index and the bookmaker index/FK were dropped in migration 0004.
    assert (
        "(event_id, bookmaker_id, captured_at)"
        in (indexes["uq_odds_snapshots_event_id_bookmaker_id_captured_at"])
    )
    assert "ix_odds_snapshots_event_id_captured_at" not in indexes
    assert "ix_odds_snapshots_bookmaker_id" not in indexes
    assert "USING brin (captured_at)" in indexes["ix_odds_snapshots_captured_at_brin"]
    assert "USING brin (captured_at)" in indexes["ix_market_odds_captured_at_brin"]
    assert "btree (event_id)" in indexes["ix_event_bookmakers_event_id"]
    assert "btree (tournament_id)" in indexes["ix_events_tournament_id"]
    price_key = indexes["uq_market_odds_snapshot_id_market_line_outcome"]
    assert price_key.startswith("CREATE UNIQUE INDEX")
    assert "NULLS NOT DISTINCT" in price_key
    # Partition children carry the parent's indexes.
    child_indexes = scalar(
        migrated,
        "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'market_odds_p%' "
        "AND indexdef LIKE '%NULLS NOT DISTINCT%'",
    )
    assert child_indexes >= 5


def _seed_snapshot(conn: sa.Connection, captured_at: datetime) -> int:
    conn.execute(sa.text("INSERT INTO sports (name) VALUES ('Football')"))
    conn.execute(
        sa.text("INSERT INTO tournaments (sport_id, country, name) VALUES (1, NULL, 'Friendlies')")
    )
    conn.execute(sa.text("INSERT INTO bookmakers (name) VALUES ('betPawa')"))
    conn.execute(
        sa.text(
            "INSERT INTO events (tournament_id, home_team, away_team, kickoff) "
            "VALUES (1, 'Enyimba', 'Rivers United', :k)"
        ),
        {"k": captured_at},
    )
    return conn.execute(
        sa.text(
            "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) "
            "VALUES (1, 1, :t) RETURNING id"
        ),
        {"t": captured_at},
    ).scalar_one()


def test_price_natural_key_treats_null_line_as_one_value(migrated: Database) -> None:
    now = datetime.now(timezone.utc)
    with migrated.engine.begin() as conn:
        snapshot = _seed_snapshot(conn, now)
        insert = sa.text(
            "INSERT INTO market_odds (snapshot_id, captured_at, market, line, outcome, odds) "
            "VALUES (:s, :t, '1x2', NULL, 'home', 2.1) ON CONFLICT DO NOTHING"
        )
        assert conn.execute(insert, {"s": snapshot, "t": now}).rowcount == 1
        assert conn.execute(insert, {"s": snapshot, "t": now}).rowcount == 0
    with pytest.raises(sa.exc.IntegrityError), migrated.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) VALUES (1, 1, :t)"
            ),
            {"t": now},
        )


@pytest.mark.parametrize("bad_odds", ["1.0", "0.5", "-2", "'NaN'", "'Infinity'"])
def test_database_refuses_odds_that_must_never_be_stored(migrated: Database, bad_odds: str) -> None:
    now = datetime.now(timezone.utc)
    with migrated.engine.begin() as conn:
        snapshot = _seed_snapshot(conn, now)
    with (
        pytest.raises(sa.exc.IntegrityError, match="ck_market_odds_odds_gt_one"),
        migrated.engine.begin() as conn,
    ):
        conn.execute(
            sa.text(
                "INSERT INTO market_odds (snapshot_id, captured_at, market, outcome, odds) "
                f"VALUES (:s, :t, '1x2', 'home', {bad_odds}::float8)"
            ),
            {"s": snapshot, "t": now},
        )


def test_partition_policy_defaults(migrated: Database) -> None:
    assert rows(
        migrated,
        "SELECT parent_table, premake_days, retention_days FROM partition_policies "
        "ORDER BY parent_table",
    ) == [("market_odds", 4, 30), ("odds_snapshots", 4, 30)]


def _statement(db: Database, sql: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_snapshot_references_are_checked_per_statement(migrated: Database) -> None:
    """Triggers stand in for the foreign keys of odds_snapshots (migration 0004)."""
    from oddskit.partitions import ensure_partitions

    now = datetime.now(timezone.utc)
    ensure_partitions(migrated, now, now)
    _statement(migrated, "INSERT INTO sports (name) VALUES ('Soccer')")
    _statement(
        migrated,
        "INSERT INTO tournaments (sport_id, country, name) "
        "SELECT id, 'Nigeria', 'NPFL' FROM sports",
    )
    _statement(
        migrated,
        "INSERT INTO events (tournament_id, home_team, away_team, kickoff) "
        "SELECT id, 'Enyimba', 'Rivers United', now() FROM tournaments",
    )
    _statement(migrated, "INSERT INTO bookmakers (name) VALUES ('betPawa'), ('Unused')")
    event = scalar(migrated, "SELECT id FROM events")
    bookmaker = scalar(migrated, "SELECT id FROM bookmakers WHERE name = 'betPawa'")
    insert = (
        "INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at) "
        "VALUES (:event, :bookmaker, :at)"
    )
    _statement(migrated, insert, event=event, bookmaker=bookmaker, at=now)

    with pytest.raises(sa.exc.IntegrityError, match="event_id 999999 is not in events"):
        _statement(migrated, insert, event=999999, bookmaker=bookmaker, at=now)
    with pytest.raises(sa.exc.IntegrityError, match="bookmaker_id 999 is not in bookmakers"):
        _statement(migrated, insert, event=event, bookmaker=999, at=now)
    with pytest.raises(sa.exc.IntegrityError, match="event_id 999999 is not in events"):
        _statement(migrated, "UPDATE odds_snapshots SET event_id = 999999")
    with pytest.raises(sa.exc.IntegrityError, match="still referenced by odds_snapshots"):
        _statement(migrated, "DELETE FROM events")
    with pytest.raises(sa.exc.IntegrityError, match="still referenced by odds_snapshots"):
        _statement(migrated, "DELETE FROM bookmakers")
    with pytest.raises(sa.exc.IntegrityError, match="cannot truncate events"):
        _statement(migrated, "TRUNCATE events CASCADE")
    _statement(migrated, "DELETE FROM bookmakers WHERE name = 'Unused'")  # unreferenced: fine
    assert scalar(migrated, "SELECT count(*) FROM odds_snapshots") == 1
    assert scalar(migrated, "SELECT count(*) FROM bookmakers") == 1
