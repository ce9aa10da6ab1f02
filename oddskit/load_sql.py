"""The loader's SQL: dimensions, events, snapshots and prices, inside one load's transaction.

Every function takes the ADBC cursor of the load's transaction. The steps, for a set
of snapshots (:data:`oddskit.checker.SNAPSHOT_COLUMNS`), are set-based:

1. :func:`lock_for_load` — a transaction-scoped advisory lock serialises loaders,
   then the two partitioned parents are locked (in the order retention locks them);
2. :func:`resolve_snapshots` stages one row per bookmaker event and the snapshot keys
   in temporary tables, creates the new bookmakers, sports and tournaments, then
   :func:`link_events` (identity: which stored match each bookmaker event is, and which
   ones contradict what is stored), creates the new events, records reschedules and
   inserts the snapshots with ``ON CONFLICT DO NOTHING``, returning the ids of the new
   ones; :func:`widen_capture_bounds` then widens each listing's capture bounds
   (``first_captured_at``/``last_captured_at``, which the query helpers prune by);
3. :func:`with_snapshot_ids` turns checked prices into ``market_odds`` rows and
   :func:`copy_prices` streams them in with ``adbc_ingest`` (binary COPY);
4. :func:`oddskit.board_tables.advance_boards` brings ``current_odds``, ``opening_odds``
   and ``closing_odds`` (each event × bookmaker's newest, first and closing snapshot)
   up to the snapshots the load created.

Identity resolution is one step, :func:`link_events`, so that it can be replaced
(by bookmaker event id, then SportRadar id today).

Example:
    One snapshot of a new bookmaker with one price, in a transaction rolled back (captured
    at kickoff: the current and opening odds, not the closing ones):

    >>> from datetime import UTC, datetime
    >>> from oddskit.board_tables import advance_boards
    >>> at = datetime(2026, 11, 28, 12, tzinfo=UTC)
    >>> snapshot = pl.DataFrame({"row": [1], "bookmaker": ["Doctest Bet"],
    ...     "bookmaker_event_id": ["X-1"], "captured_at": [at], "sport": ["football"],
    ...     "country": ["Nigeria"], "tournament": ["NPFL"], "sportradar_id": [None],
    ...     "home_team": ["Enyimba"], "away_team": ["Kano Pillars"], "kickoff": [at]})
    >>> prices = snapshot.select("bookmaker", "bookmaker_event_id", "captured_at",
    ...     market=pl.lit("1x2"), line=pl.lit(None, pl.Float64), outcome=pl.lit("home"),
    ...     odds=pl.lit(2.5))
    >>> with db.adbc() as conn, conn.cursor() as cursor:
    ...     lock_for_load(cursor)
    ...     done = resolve_snapshots(cursor, snapshot, 0, drop_conflicts=False, analyze=False)
    ...     widened = widen_capture_bounds(cursor)
    ...     written = copy_prices(cursor, with_snapshot_ids(prices, done.created))
    ...     boards = advance_boards(cursor, done.created, done.rescheduled_ids)
    ...     stored = count_stored_snapshots(cursor, snapshot.select(SNAPSHOT_KEY))
    ...     conn.rollback()
    >>> done.new_bookmakers, done.new_events, done.created.height, widened, written, boards, stored
    (1, 1, 1, 1, 1, 2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from oddskit import load_identity
from oddskit.checker import EVENT_KEY
from oddskit.validation import ERROR_SCHEMA, SNAPSHOT_ATTRIBUTES, SNAPSHOT_KEY

#: Serialises the dimension and snapshot step of concurrent loaders.
LOAD_LOCK_KEY = 0x0DD5_10AD

#: Exact Arrow types of ``market_odds`` (binary COPY needs them to the letter).
PRICE_SCHEMA = pa.schema(
    [
        ("snapshot_id", pa.int64()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("market", pa.string()),
        ("line", pa.float64()),
        ("outcome", pa.string()),
        ("odds", pa.float64()),
    ]
)

# The parents in the order retention drops their partitions (prices first): a load that
# took odds_snapshots first and market_odds a batch later could deadlock with it. ONLY
# the parents: dropping a partition locks its parent too, and locking every daily
# partition upfront ran out of lock slots with a few years of history.
_LOCK_TABLES = "LOCK TABLE ONLY market_odds, ONLY odds_snapshots IN ROW EXCLUSIVE MODE"

# New sports, tournaments and bookmakers: names are matched in any letter case, and the
# first spelling stored is the one shown ("football" and "Football" are one sport).
_INSERT_DIMENSIONS = (
    "INSERT INTO sports (name) SELECT DISTINCT ON (lower(sport)) sport FROM _load_event_rows l "
    "WHERE NOT EXISTS (SELECT FROM sports s WHERE lower(s.name) = lower(l.sport)) "
    "ORDER BY lower(sport), sport ON CONFLICT (name) DO NOTHING RETURNING id",
    "INSERT INTO tournaments (sport_id, country, name) "
    "SELECT DISTINCT ON (s.id, lower(l.country), lower(l.tournament)) s.id, l.country, "
    "l.tournament FROM _load_event_rows l "
    "CROSS JOIN LATERAL (SELECT id FROM sports WHERE lower(name) = lower(l.sport) "
    "  ORDER BY id LIMIT 1) s "
    "WHERE NOT EXISTS (SELECT FROM tournaments t WHERE t.sport_id = s.id "
    "  AND lower(t.country) IS NOT DISTINCT FROM lower(l.country) "
    "  AND lower(t.name) = lower(l.tournament)) "
    "ORDER BY s.id, lower(l.country), lower(l.tournament), l.country, l.tournament "
    "ON CONFLICT ON CONSTRAINT uq_tournaments_sport_id_country_name DO NOTHING RETURNING id",
)

_INSERT_BOOKMAKERS = (
    "INSERT INTO bookmakers (name) SELECT DISTINCT ON (lower(bookmaker)) bookmaker "
    "FROM _load_event_rows l "
    "WHERE NOT EXISTS (SELECT FROM bookmakers b WHERE lower(b.name) = lower(l.bookmaker)) "
    "ORDER BY lower(bookmaker), bookmaker ON CONFLICT (name) DO NOTHING RETURNING id"
)

_DROP_CONFLICTS = (
    "DELETE FROM _load_events le USING _load_conflicts c "
    "WHERE le.bookmaker = c.bookmaker AND le.bookmaker_event_id = c.bookmaker_event_id"
)

# Returns the id of every staged snapshot this run holds: the ones inserted now, and
# (second part) ones an earlier batch of the same run inserted under another bookmaker
# event id of the same match (the statement's own inserts are not visible there).
_INSERT_SNAPSHOTS = (
    "WITH staged AS ("
    "  SELECT le.event_id, le.bookmaker_id, le.bookmaker, le.bookmaker_event_id, "
    "  l.captured_at, l.row FROM _load_snapshots l "
    "  JOIN _load_events le ON le.bookmaker = l.bookmaker "
    "  AND le.bookmaker_event_id = l.bookmaker_event_id"
    "), inserted AS ("
    "  INSERT INTO odds_snapshots (event_id, bookmaker_id, captured_at, run_id) "
    "  SELECT event_id, bookmaker_id, captured_at, $1 FROM staged "
    "  ORDER BY row "  # ids in file order: each batch of prices appends to the index
    "  ON CONFLICT DO NOTHING RETURNING id, event_id, bookmaker_id, captured_at"
    ") "
    "SELECT i.id AS snapshot_id, s.bookmaker, s.bookmaker_event_id, s.captured_at "
    "FROM staged s JOIN inserted i ON i.event_id = s.event_id "
    "AND i.bookmaker_id = s.bookmaker_id AND i.captured_at = s.captured_at "
    "UNION ALL "
    "SELECT o.id, s.bookmaker, s.bookmaker_event_id, s.captured_at "
    "FROM (SELECT * FROM staged s WHERE NOT EXISTS (SELECT FROM inserted i "
    "  WHERE i.event_id = s.event_id AND i.bookmaker_id = s.bookmaker_id "
    "  AND i.captured_at = s.captured_at)) s "
    "JOIN odds_snapshots o ON o.event_id = s.event_id AND o.bookmaker_id = s.bookmaker_id "
    "AND o.captured_at = s.captured_at AND o.run_id = $1"
)

# The capture bounds of each staged listing widened to its staged snapshots (stored now,
# already stored, or going to the archive): LEAST/GREATEST ignore a NULL bound, and a
# listing whose bounds already cover its snapshots is not touched (reloads write nothing).
_WIDEN_CAPTURE_BOUNDS = (
    "UPDATE event_bookmakers eb SET first_captured_at = LEAST(eb.first_captured_at, s.first), "
    "last_captured_at = GREATEST(eb.last_captured_at, s.last) "
    "FROM (SELECT le.bookmaker_id, le.bookmaker_event_id, min(l.captured_at) AS first, "
    "  max(l.captured_at) AS last FROM _load_snapshots l "
    "  JOIN _load_events le ON le.bookmaker = l.bookmaker "
    "  AND le.bookmaker_event_id = l.bookmaker_event_id "
    "  GROUP BY le.bookmaker_id, le.bookmaker_event_id) s "
    "WHERE eb.bookmaker_id = s.bookmaker_id AND eb.bookmaker_event_id = s.bookmaker_event_id "
    "AND (eb.first_captured_at IS NULL OR eb.first_captured_at > s.first "
    "  OR eb.last_captured_at < s.last) RETURNING eb.id"
)

# How many of the staged snapshot keys (_reload_keys) are stored.
_COUNT_STORED_SNAPSHOTS = (
    "SELECT count(*) FROM _reload_keys k "
    "JOIN bookmakers b ON lower(b.name) = lower(k.bookmaker) "
    "JOIN event_bookmakers eb ON eb.bookmaker_id = b.id "
    "AND eb.bookmaker_event_id = k.bookmaker_event_id "
    "JOIN odds_snapshots s ON s.event_id = eb.event_id AND s.bookmaker_id = b.id "
    "AND s.captured_at = k.captured_at"
)

#: Each staged listing's match, described as the archive stores it (the match's own
#: names, the bookmaker's stored name, one of the match's keys).
_LISTINGS = (
    "SELECT le.bookmaker AS input_bookmaker, le.bookmaker_event_id, "
    "CAST(e.id AS bigint) AS event_id, b.name AS bookmaker, e.sportradar_id, "
    # (GROUP BY: without it PostgreSQL answers min() by walking the primary key's index
    # in key order, filtering on event_id: a scan of the whole table for each listing)
    "(SELECT min(k.key) FROM match_keys k WHERE k.event_id = e.id GROUP BY k.event_id) "
    "AS match_key, "
    "sp.name AS sport, t.country, t.name AS tournament, e.home_team, e.away_team, e.kickoff "
    "FROM _load_events le JOIN events e ON e.id = le.event_id "
    "JOIN bookmakers b ON b.id = le.bookmaker_id JOIN tournaments t ON t.id = e.tournament_id "
    "JOIN sports sp ON sp.id = t.sport_id"
)

#: The newest succeeded load of the same file (SHA-256) under the same name.
PREVIOUS_LOAD = (
    "SELECT id, rows_read, rows_rejected, details ->> 'rejects_path' "
    "FROM scrape_runs WHERE kind = 'load' "
    "AND status = 'succeeded' AND file_hash = :hash AND source = :source "
    "ORDER BY id DESC LIMIT 1"
)


@dataclass(frozen=True)
class Resolution:
    """What :func:`resolve_snapshots` did.

    ``created``: snapshot key (:data:`~oddskit.validation.SNAPSHOT_KEY`) → ``snapshot_id``
    of each snapshot this run inserted; ``conflicts``: the bookmaker events whose
    stored teams or SportRadar id differ from the input (see :func:`link_events`).

    Example:
        >>> Resolution().created.height
        0

    (See the module's example for one made by :func:`resolve_snapshots`.)
    """

    new_bookmakers: int = 0
    new_events: int = 0
    rescheduled_events: int = 0
    created: pl.DataFrame = field(default_factory=pl.DataFrame)
    conflicts: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: How the listings new to the database were linked: method → listings.
    linked: dict[str, int] = field(default_factory=dict)
    #: Listings whose snapshots gave more than one kickoff.
    kickoff_changes: int = 0
    #: With ``insert_snapshots=False``: each listing's match, as :data:`_LISTINGS` reads it.
    listings: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: The ids of the matches whose kickoff changed (``rescheduled_events`` of them).
    rescheduled_ids: list[int] = field(default_factory=list)


def lock_for_load(cursor: Any) -> None:
    """Wait for other loaders, then lock the two partitioned parents (until commit).

    Example: see the module's.
    """
    cursor.execute("SELECT pg_advisory_xact_lock($1)", parameters=(LOAD_LOCK_KEY,))
    cursor.execute(_LOCK_TABLES)


def resolve_snapshots(
    cursor: Any,
    snapshots: pl.DataFrame,
    run_id: int,
    *,
    drop_conflicts: bool,
    analyze: bool,
    insert_snapshots: bool = True,
) -> Resolution:
    """Create the dimensions ``snapshots`` need and insert the new snapshots.

    Parameters
    ----------
    cursor
        The load's ADBC cursor (its transaction holds :func:`lock_for_load`).
    snapshots
        One row per snapshot (:data:`~oddskit.checker.SNAPSHOT_COLUMNS`).
    run_id
        The load's run: new snapshots record it.
    drop_conflicts
        ``True``: leave out the bookmaker events that contradict what is stored, and
        insert the rest; ``False``: insert nothing more once there are any.
    analyze
        Gather statistics on the staged rows (worth it for one large set, not for each
        batch).
    insert_snapshots
        ``False``: resolve the matches only (for rows that go to the archive); the
        result's ``listings`` says which match each listing is.

    Returns
    -------
    Resolution
        With ``conflicts`` (empty when there are none); without ``drop_conflicts``
        and with conflicts, nothing else.

    Examples
    --------
    See the module's.
    """
    cursor.execute(
        "DROP TABLE IF EXISTS _load_snapshots, _load_event_rows, _load_events, _load_conflicts"
    )
    events = listing_rows(snapshots)
    stage(cursor, "_load_event_rows", events)
    stage(cursor, "_load_snapshots", snapshots.select("row", *SNAPSHOT_KEY))
    if analyze:  # temp tables have no statistics otherwise
        cursor.execute("ANALYZE _load_event_rows")
        cursor.execute("ANALYZE _load_snapshots")
    new_bookmakers = _rowcount(cursor, _INSERT_BOOKMAKERS)
    for statement in _INSERT_DIMENSIONS:
        _rowcount(cursor, statement)
    conflicts = link_events(cursor)
    if analyze:
        cursor.execute("ANALYZE _load_events")
    if conflicts.height:
        if not drop_conflicts:
            return Resolution(conflicts=conflicts)
        cursor.execute(_DROP_CONFLICTS)
    load_identity.link_pending_by_names(cursor)
    linked = load_identity.link_counts(cursor)
    new_events = load_identity.create_matches(cursor)
    for statement in load_identity.STORE:
        cursor.execute(statement)
    cursor.execute(load_identity.RESCHEDULE)
    rescheduled_ids = [row[0] for row in cursor.fetchall()]
    rescheduled = len(rescheduled_ids)
    kickoff_changes = int((events["kickoffs"] > 1).sum())
    if not insert_snapshots:
        cursor.execute(_LISTINGS)
        listings = _frame(cursor)
        return Resolution(
            new_bookmakers,
            new_events,
            rescheduled,
            conflicts=conflicts,
            linked=linked,
            kickoff_changes=kickoff_changes,
            listings=listings,
            rescheduled_ids=rescheduled_ids,
        )
    cursor.execute(_INSERT_SNAPSHOTS, parameters=(run_id,))
    created = _frame(cursor).with_columns(pl.col("captured_at").dt.convert_time_zone("UTC"))
    return Resolution(
        new_bookmakers,
        new_events,
        rescheduled,
        created,
        conflicts,
        linked,
        kickoff_changes,
        rescheduled_ids=rescheduled_ids,
    )


def widen_capture_bounds(cursor: Any) -> int:
    """Widen ``event_bookmakers.first_captured_at``/``last_captured_at`` of the listings
    that :func:`resolve_snapshots` just staged to cover their staged snapshots; return
    how many listings changed. One set-based statement per batch, in the load's
    transaction (the query helpers bound ``captured_at`` by these columns).

    Example: see the module's.
    """
    return _rowcount(cursor, _WIDEN_CAPTURE_BOUNDS)


def listing_rows(snapshots: pl.DataFrame) -> pl.DataFrame:
    """One row per listing (bookmaker event), described by its newest snapshot, with the
    kickoff of its newest *pre-match* report (``prematch``: one was captured before the
    kickoff it gives; ``reported_at``: when) and how many kickoffs it reported.

    Example:
        >>> from datetime import UTC, datetime
        >>> t = [datetime(2026, 5, 2, h, tzinfo=UTC) for h in (12, 14, 16)]
        >>> snaps = pl.DataFrame({"row": [1, 2, 3], "bookmaker": "A",
        ...     "bookmaker_event_id": "1", "captured_at": t, "sport": "football",
        ...     "country": None, "tournament": "T", "sportradar_id": None, "match_key": None,
        ...     "home_team": "H", "away_team": "W", "kickoff": [t[1], t[1], t[2]]})
        >>> listing_rows(snaps).select("kickoff", "prematch", "kickoffs").rows()[0][1:]
        (True, 2)
    """
    pre_match = pl.col("captured_at") < pl.col("kickoff")
    absent = [name for name in SNAPSHOT_ATTRIBUTES if name not in snapshots.columns]
    snapshots = snapshots.with_columns(pl.lit(None, pl.String).alias(name) for name in absent)
    return (
        snapshots.sort("captured_at", descending=True)
        .group_by(EVENT_KEY, maintain_order=True)
        .agg(
            *(pl.col(name).first() for name in SNAPSHOT_ATTRIBUTES if name != "kickoff"),
            pl.coalesce(
                pl.col("kickoff").filter(pre_match).first(), pl.col("kickoff").first()
            ).alias("kickoff"),
            pre_match.any().alias("prematch"),
            pl.coalesce(
                pl.col("captured_at").filter(pre_match).first(), pl.col("captured_at").first()
            ).alias("reported_at"),
            pl.col("kickoff").n_unique().alias("kickoffs"),
            pl.col("captured_at").first().alias("latest_captured_at"),
            pl.col("row").min(),
        )
    )


def link_events(cursor: Any) -> pl.DataFrame:
    """Identity by ids: find the stored match of each staged listing that has one.

    Fills ``_load_events`` (one row per listing of ``_load_event_rows``, with
    ``event_id`` where the match is known: by the bookmaker's event id, else by the
    SportRadar id, else by the ``match_key``; see :mod:`oddskit.load_identity`, which
    then links the rest by names) and returns the stored listings whose teams or
    SportRadar id differ from the input's: ``row``, the bookmaker event, the input's
    ``home_team``, ``away_team``, ``sportradar_id`` and the stored ``stored_home``,
    ``stored_away``, ``stored_sportradar_id`` (words for people:
    :func:`conflict_errors`).

    Example: :func:`resolve_snapshots` runs it (see the module's example).
    """
    cursor.execute(load_identity.STAGE)
    for statement in load_identity.KNOWN:
        cursor.execute(statement)
    *create, select = load_identity.CONFLICTS
    for statement in create:
        cursor.execute(statement)
    cursor.execute(select)
    return _frame(cursor)


def conflict_errors(conflicts: pl.DataFrame) -> pl.DataFrame:
    """The bookmaker events of :func:`link_events` as errors (``row``, ``column``,
    ``value``, ``reason``), one per event.

    Example:
        >>> conflict = pl.DataFrame({"row": [4], "bookmaker": ["betPawa"],
        ...     "bookmaker_event_id": ["7"], "home_team": ["Enyimba FC"], "away_team": ["Rivers"],
        ...     "sportradar_id": [None], "stored_home": ["Enyimba"], "stored_away": ["Rivers"],
        ...     "stored_sportradar_id": [None]}, schema_overrides={"sportradar_id": pl.String,
        ...     "stored_sportradar_id": pl.String})
        >>> print(conflict_errors(conflict)["reason"].item())
        bookmaker event 7 of betPawa is stored as Enyimba v Rivers (SportRadar id none); ...
    """
    errors = conflicts.select(
        pl.col("row").cast(pl.Int64),
        pl.lit("home_team").alias("column"),
        pl.format("{} v {}", "home_team", "away_team").alias("value"),
        pl.format(
            "bookmaker event {} of {} is stored as {} v {} (SportRadar id {}); this input says "
            "{} v {} (SportRadar id {}). Refused: an id must keep naming the same match",
            "bookmaker_event_id",
            "bookmaker",
            "stored_home",
            "stored_away",
            pl.col("stored_sportradar_id").fill_null("none"),
            "home_team",
            "away_team",
            pl.col("sportradar_id").fill_null("none"),
        ).alias("reason"),
    )
    return errors.cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def with_snapshot_ids(prices: pl.DataFrame, created: pl.DataFrame) -> pa.Table:
    """The prices whose snapshot this load created, as ``market_odds`` rows.

    Sorted by snapshot id: ids follow the input, so the unique index grows at its
    right edge. Prices of other snapshots (stored before, or left out) are dropped.

    Example:
        >>> with_snapshot_ids(
        ...     pl.DataFrame({"bookmaker": ["b", "b"], "bookmaker_event_id": ["1", "2"],
        ...                   "captured_at": [1, 1], "market": ["1x2"] * 2, "line": [None] * 2,
        ...                   "outcome": ["home"] * 2, "odds": [2.0, 3.0]}),
        ...     pl.DataFrame({"snapshot_id": [7], "bookmaker": ["b"], "bookmaker_event_id": ["1"],
        ...                   "captured_at": [1]}),
        ... ).to_pylist()[0]["odds"]
        2.0
    """
    keys = prices.select(SNAPSHOT_KEY).unique()
    ids = created.join(keys, on=SNAPSHOT_KEY, how="semi")  # hashes the batch, not `created`
    rows = (
        prices.join(ids, on=SNAPSHOT_KEY, how="inner")
        .select(PRICE_SCHEMA.names)
        .sort("snapshot_id")
    )
    return rows.to_arrow().cast(PRICE_SCHEMA)


def copy_prices(cursor: Any, prices: pa.Table) -> int:
    """COPY ``prices`` (:data:`PRICE_SCHEMA`) into ``market_odds``; return how many rows.

    Example: see the module's.
    """
    if not prices.num_rows:
        return 0
    cursor.adbc_ingest("market_odds", prices, mode="append")
    return prices.num_rows


def is_unique_violation(exc: BaseException) -> bool:
    """Whether a driver error is a unique-key violation (SQLSTATE 23505).

    Example:
        >>> is_unique_violation(RuntimeError("[SQLSTATE 23505] duplicate key value"))
        True
    """
    return "23505" in str(exc)


def analyze_snapshots(cursor: Any) -> None:
    """Fresh statistics for the planner (autovacuum would be minutes late): the
    snapshot table is small next to the prices, so this is cheap.

    Example:
        >>> with db.adbc() as conn, conn.cursor() as cursor:
        ...     analyze_snapshots(cursor)
    """
    cursor.execute("ANALYZE odds_snapshots")


def count_stored_snapshots(cursor: Any, keys: pl.DataFrame) -> int:
    """How many of the snapshot keys ``keys`` (distinct) are stored.

    Example: see the module's.
    """
    stage(cursor, "_reload_keys", keys)
    cursor.execute("ANALYZE _reload_keys")
    cursor.execute(_COUNT_STORED_SNAPSHOTS)
    return cursor.fetchone()[0]


def stage(cursor: Any, table: str, frame: pl.DataFrame) -> None:
    """COPY ``frame`` into a new temporary table ``table``.

    Example:
        >>> with db.adbc() as conn, conn.cursor() as cursor:
        ...     stage(cursor, "_example", pl.DataFrame({"a": ["x", "y"]}))
        ...     _ = cursor.execute("SELECT count(*) FROM _example")
        ...     cursor.fetchone()
        (2,)
    """
    cursor.adbc_ingest(table, _for_copy(frame), mode="create", temporary=True)


def _for_copy(frame: pl.DataFrame) -> pa.Table:
    """``frame`` as Arrow with plain ``string`` columns (what ADBC's COPY writer expects)."""
    table = frame.to_arrow()
    return table.cast(pa.schema([f.with_type(_plain(f.type)) for f in table.schema]))


def _plain(dtype: pa.DataType) -> pa.DataType:
    """Large/view strings as plain ``string`` (what ADBC's COPY writer expects).

    Example:
        >>> _plain(pa.large_string()), _plain(pa.int64())
        (DataType(string), DataType(int64))
    """
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    return dtype


def _rowcount(cursor: Any, statement: str) -> int:
    cursor.execute(statement)
    return len(cursor.fetchall())


def _frame(cursor: Any) -> pl.DataFrame:
    frame = pl.from_arrow(cursor.fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame
