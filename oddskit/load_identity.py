"""Identity inside a load: which match each staged listing is, and the new matches.

A *listing* is one bookmaker's event (its own event id); a *match* is an ``events``
row. For the listings of a batch (``_load_event_rows``, staged by
:func:`oddskit.load_sql.resolve_snapshots`), in the load's transaction:

1. :data:`STAGE` — ``_load_events``: each listing with the ids of its bookmaker, sport
   and tournament, matched by name in any letter case (``Football`` is ``football``);
2. a listing already stored keeps its match (a person's link or unlink included);
3. else its SportRadar id, then its ``match_key``, finds the stored match;
4. the stored listings whose teams or SportRadar id differ from the input's are
   *conflicts* (the loader refuses them, or leaves them out);
5. :func:`link_pending_by_names` — the rest are linked by sport, kickoff (within
   :data:`~oddskit.identity.DEFAULT_TOLERANCE`) and both team names, with the team
   alias table, to stored matches and to each other
   (:func:`oddskit.identity.link_by_names`: only a unique, strong candidate);
6. :func:`create_matches` — one new match per group of the listings left: those that
   share a SportRadar id, a match key, or a name link;
7. the new listings are stored with how they were linked (``link_method``,
   ``link_score``), their own kickoff, and their match keys;
8. :data:`RESCHEDULE` — a match takes the kickoff of the newest *pre-match* report
   (a snapshot captured before the kickoff it gives): an odds feed that rewrites the
   start time once the match is under way does not move it.

Example:
    >>> link_groups(pl.DataFrame({"row": [1, 2, 3], "sportradar_id": ["sr:1", None, "sr:1"],
    ...     "match_key": [None, "k", None], "new_match": [1, 1, 2]}))["match_group"].to_list()
    [1, 1, 1]
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from oddskit.identity import DEFAULT_TOLERANCE, link_by_names

#: ``_load_events``: the staged listings with their dimension ids (names in any case).
STAGE = (
    "CREATE TEMP TABLE _load_events AS "
    "SELECT b.id AS bookmaker_id, l.bookmaker, l.bookmaker_event_id, l.sportradar_id, "
    "l.match_key, t.id AS tournament_id, l.sport, l.country, l.home_team, l.away_team, "
    "l.kickoff, l.prematch, l.reported_at, l.latest_captured_at, l.row, "
    "CAST(NULL AS integer) AS event_id, false AS is_new, CAST(NULL AS text) AS link_method, "
    "CAST(NULL AS double precision) AS link_score, CAST(NULL AS bigint) AS match_group "
    "FROM _load_event_rows l "
    "CROSS JOIN LATERAL (SELECT id FROM bookmakers WHERE lower(name) = lower(l.bookmaker) "
    "  ORDER BY id LIMIT 1) b "
    "CROSS JOIN LATERAL (SELECT id FROM sports WHERE lower(name) = lower(l.sport) "
    "  ORDER BY id LIMIT 1) s "
    "CROSS JOIN LATERAL (SELECT id FROM tournaments WHERE sport_id = s.id "
    "  AND lower(country) IS NOT DISTINCT FROM lower(l.country) "
    "  AND lower(name) = lower(l.tournament) ORDER BY id LIMIT 1) t"
)

#: Steps 2 and 3: stored listings, then SportRadar ids, then match keys.
KNOWN: tuple[str, ...] = (
    "UPDATE _load_events le SET event_id = eb.event_id, link_method = eb.link_method, "
    "link_score = eb.link_score FROM event_bookmakers eb "
    "WHERE eb.bookmaker_id = le.bookmaker_id AND eb.bookmaker_event_id = le.bookmaker_event_id",
    "UPDATE _load_events le SET event_id = e.id, link_method = 'sportradar' FROM events e "
    "WHERE le.event_id IS NULL AND le.sportradar_id IS NOT NULL "
    "AND e.sportradar_id = le.sportradar_id",
    "UPDATE _load_events le SET event_id = k.event_id, link_method = 'match_key' "
    "FROM match_keys k WHERE le.event_id IS NULL AND le.match_key IS NOT NULL "
    "AND k.key = le.match_key",
)

#: Step 4: stored listings whose teams or SportRadar id differ from this input.
CONFLICTS: tuple[str, ...] = (
    "CREATE TEMP TABLE _load_conflicts AS "
    "SELECT le.row, le.bookmaker, le.bookmaker_event_id, le.home_team, le.away_team, "
    "le.sportradar_id, eb.home_team AS stored_home, eb.away_team AS stored_away, "
    "e.sportradar_id AS stored_sportradar_id "
    "FROM _load_events le JOIN event_bookmakers eb ON eb.bookmaker_id = le.bookmaker_id "
    "AND eb.bookmaker_event_id = le.bookmaker_event_id JOIN events e ON e.id = eb.event_id "
    "WHERE eb.home_team <> le.home_team OR eb.away_team <> le.away_team "
    "OR (le.sportradar_id IS NOT NULL AND e.sportradar_id IS NOT NULL "
    "AND le.sportradar_id <> e.sportradar_id)",
    "SELECT * FROM _load_conflicts ORDER BY row",
)

#: The listings left to link by names (step 5).
_PENDING = (
    "SELECT row AS listing, bookmaker, sport, country, kickoff, home_team, away_team, "
    "sportradar_id, match_key FROM _load_events WHERE event_id IS NULL"
)

#: Stored matches near the pending kickoffs, one row per spelling: the match's own
#: names, and each listing's (with its bookmaker, which may not link to it again).
_POOL = (
    "SELECT e.id AS event_id, CAST(NULL AS text) AS bookmaker, sp.name AS sport, t.country, "
    "e.kickoff, e.home_team, e.away_team, e.sportradar_id FROM events e "
    "JOIN tournaments t ON t.id = e.tournament_id JOIN sports sp ON sp.id = t.sport_id "
    "WHERE e.kickoff BETWEEN $1 AND $2 AND lower(sp.name) = ANY($3) "
    "UNION ALL "
    "SELECT e.id, b.name, sp.name, t.country, e.kickoff, eb.home_team, eb.away_team, "
    "e.sportradar_id FROM events e JOIN event_bookmakers eb ON eb.event_id = e.id "
    "JOIN bookmakers b ON b.id = eb.bookmaker_id "
    "JOIN tournaments t ON t.id = e.tournament_id JOIN sports sp ON sp.id = t.sport_id "
    "WHERE e.kickoff BETWEEN $1 AND $2 AND lower(sp.name) = ANY($3)"
)

_APPLY_LINKS = (
    "UPDATE _load_events le SET event_id = k.event_id, link_method = k.link_method, "
    "link_score = k.link_score, match_group = k.match_group FROM _load_links k "
    "WHERE le.row = k.row"
)

#: Step 6: one new match per group; ids drawn up front to link every listing to it.
_CREATE_MATCHES = (
    "WITH fresh AS ("
    "  SELECT DISTINCT ON (match_group) match_group, tournament_id, sportradar_id, "
    "  home_team, away_team, kickoff FROM _load_events WHERE event_id IS NULL "
    "  ORDER BY match_group, sportradar_id IS NULL, row"
    "), numbered AS ("
    "  SELECT match_group, nextval(pg_get_serial_sequence('events', 'id')) AS id, "
    "  tournament_id, sportradar_id, home_team, away_team, kickoff FROM fresh"
    "), inserted AS ("
    "  INSERT INTO events (id, tournament_id, sportradar_id, home_team, away_team, kickoff) "
    "  SELECT id, tournament_id, sportradar_id, home_team, away_team, kickoff FROM numbered "
    "  RETURNING id"
    ") "
    "UPDATE _load_events le SET event_id = n.id, is_new = true, "
    "link_method = coalesce(le.link_method, 'new') FROM numbered n "
    "WHERE le.event_id IS NULL AND n.match_group = le.match_group"
)

_COUNT_NEW_MATCHES = "SELECT count(DISTINCT event_id) FROM _load_events WHERE is_new"

#: Step 7: the new listings (how they were linked, their kickoff), then match keys.
STORE: tuple[str, ...] = (
    "INSERT INTO event_bookmakers (event_id, bookmaker_id, bookmaker_event_id, home_team, "
    "away_team, link_method, link_score, kickoff) "
    "SELECT event_id, bookmaker_id, bookmaker_event_id, home_team, away_team, "
    "coalesce(link_method, 'new'), link_score, kickoff FROM _load_events "
    "ON CONFLICT (bookmaker_id, bookmaker_event_id) DO NOTHING",
    "UPDATE event_bookmakers eb SET kickoff = le.kickoff FROM _load_events le "
    "WHERE eb.bookmaker_id = le.bookmaker_id AND eb.bookmaker_event_id = le.bookmaker_event_id "
    "AND le.prematch AND eb.kickoff IS DISTINCT FROM le.kickoff",
    "INSERT INTO match_keys (key, event_id) SELECT DISTINCT ON (match_key) match_key, event_id "
    "FROM _load_events WHERE match_key IS NOT NULL ORDER BY match_key, row "
    "ON CONFLICT (key) DO NOTHING",
)

#: Step 8: the kickoff of the newest pre-match report, if newer than what is stored.
RESCHEDULE = (
    "WITH newest AS ("
    "  SELECT DISTINCT ON (event_id) event_id, kickoff, reported_at FROM _load_events "
    "  WHERE NOT is_new AND prematch ORDER BY event_id, reported_at DESC"
    ") "
    "UPDATE events e SET kickoff = n.kickoff, updated_at = now() FROM newest n "
    "WHERE e.id = n.event_id AND e.kickoff <> n.kickoff AND n.reported_at >= coalesce("
    "  (SELECT max(s.captured_at) FROM odds_snapshots s WHERE s.event_id = e.id "
    "   AND s.captured_at < e.kickoff), '-infinity') "
    "RETURNING e.id"
)

_LINK_COUNTS = (
    "SELECT link_method, count(*) FROM _load_events WHERE link_method IS NOT NULL "
    "AND NOT EXISTS (SELECT FROM event_bookmakers eb WHERE eb.bookmaker_id = "
    "_load_events.bookmaker_id AND eb.bookmaker_event_id = _load_events.bookmaker_event_id) "
    "GROUP BY link_method"
)


def link_pending_by_names(cursor: Any, *, tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
    """Step 5: link the staged listings that no id linked, by names, and group the rest.

    Sets ``event_id`` (a stored match), or ``match_group`` (the listings that are one
    new match), ``link_method`` and ``link_score`` of each pending row of
    ``_load_events``.

    Example: run by :func:`oddskit.load_sql.resolve_snapshots` (see its module).
    """
    pending = _frame(cursor, _PENDING)
    if not pending.height:
        return
    low = pending["kickoff"].min() - tolerance  # type: ignore[operator]
    high = pending["kickoff"].max() + tolerance  # type: ignore[operator]
    sports = pending["sport"].str.to_lowercase().unique().to_list()
    cursor.execute(_POOL, parameters=(low, high, sports))
    pool = _from_arrow(cursor.fetch_arrow_table())
    aliases = _frame(cursor, "SELECT alias, team FROM team_aliases")
    links = link_by_names_frame(pending, pool, aliases, tolerance)
    stage_links(cursor, links)


def link_by_names_frame(
    pending: pl.DataFrame, pool: pl.DataFrame, aliases: pl.DataFrame, tolerance: timedelta
) -> pl.DataFrame:
    """The links of the pending listings (``row``, ``event_id``, ``link_method``,
    ``link_score``, ``match_group``): names first, then SportRadar and match-key groups.

    A name link to a stored match whose SportRadar id differs from the listing's is
    not made (the ids say these are two matches).

    Example:
        >>> from datetime import UTC, datetime
        >>> ko = datetime(2026, 5, 2, 14, tzinfo=UTC)
        >>> pending = pl.DataFrame({"listing": [5, 6], "bookmaker": ["A", "B"],
        ...     "sport": "football", "country": None, "kickoff": ko,
        ...     "home_team": ["Man Utd", "Manchester United"], "away_team": "Fulham",
        ...     "sportradar_id": None, "match_key": None})
        >>> pool = pl.DataFrame(schema={"event_id": pl.Int64, "bookmaker": pl.String,
        ...     "sport": pl.String, "country": pl.String, "kickoff": pl.Datetime("us", "UTC"),
        ...     "home_team": pl.String, "away_team": pl.String, "sportradar_id": pl.String})
        >>> links = link_by_names_frame(pending, pool, pl.DataFrame(), timedelta(minutes=5))
        >>> links.select("row", "link_method", "match_group").rows()
        [(5, 'new', 5), (6, 'fuzzy', 5)]
    """
    # Ids first: listings sharing a SportRadar id or match key are one match, so only
    # the first of each such group is linked by names; the others follow it.
    keyed = pending.with_columns(
        strong=pl.coalesce(
            pl.lit("sr:") + pl.col("sportradar_id"), pl.lit("mk:") + pl.col("match_key")
        )
    ).with_columns(leader=pl.col("listing").min().over("strong"))
    leaders = keyed.filter(pl.col("strong").is_null() | (pl.col("listing") == pl.col("leader")))
    linked = link_by_names(
        leaders.drop("strong", "leader"),
        pool.drop("sportradar_id"),
        aliases=aliases if aliases.height else None,
        tolerance=tolerance,
    )
    ids = pool.select(pl.col("event_id").cast(pl.Int64), "sportradar_id").unique("event_id")
    linked = (
        linked.join(pending.select("listing", "sportradar_id", "match_key"), on="listing")
        .join(ids.rename({"sportradar_id": "stored_sr"}), on="event_id", how="left")
        .with_columns(
            # A name link across two different SportRadar ids: two matches after all.
            contradicted=pl.col("sportradar_id").is_not_null()
            & pl.col("stored_sr").is_not_null()
            & (pl.col("sportradar_id") != pl.col("stored_sr"))
        )
        .with_columns(
            event_id=pl.when(pl.col("contradicted")).then(None).otherwise(pl.col("event_id")),
            link_method=pl.when(pl.col("contradicted"))
            .then(pl.lit("new"))
            .otherwise(pl.col("link_method")),
            link_score=pl.when(pl.col("contradicted")).then(None).otherwise("link_score"),
            new_match=pl.when(pl.col("contradicted"))
            .then(-pl.col("listing"))  # a cluster of its own
            .otherwise(pl.col("new_match")),
        )
    )
    followers = (
        keyed.filter(pl.col("strong").is_not_null() & (pl.col("listing") != pl.col("leader")))
        .join(
            linked.select(pl.col("listing").alias("leader"), "event_id", "new_match"),
            on="leader",
        )
        .select(
            "listing",
            "event_id",
            "new_match",
            link_method=pl.when(pl.col("sportradar_id").is_not_null())
            .then(pl.lit("sportradar"))
            .otherwise(pl.lit("match_key")),
            link_score=pl.lit(None, pl.Float64),
            sportradar_id="sportradar_id",
            match_key="match_key",
        )
    )
    linked = pl.concat(
        [linked.select(followers.columns), followers], how="vertical_relaxed"
    ).rename({"listing": "row"})
    new = link_groups(linked.filter(pl.col("event_id").is_null()))
    return pl.concat(
        [
            linked.filter(pl.col("event_id").is_not_null()).select(
                "row", "event_id", "link_method", "link_score", match_group=pl.lit(None, pl.Int64)
            ),
            new.select("row", "event_id", "link_method", "link_score", "match_group"),
        ],
        how="vertical_relaxed",
    ).sort("row")


def link_groups(pending: pl.DataFrame) -> pl.DataFrame:
    """``match_group`` of each pending listing: listings that share a SportRadar id, a
    match key or a name cluster (``new_match``) are one new match (the smallest row).

    Listings grouped only by an id get that id as their ``link_method`` (the first of
    a group stays ``new``).

    Example: see the module's.
    """
    if not pending.height:
        return pending.with_columns(match_group=pl.lit(None, pl.Int64))
    rows = pending["row"].to_list()
    parent = {row: row for row in rows}

    def find(row: int) -> int:
        while parent[row] != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    for column in ("sportradar_id", "match_key", "new_match"):
        if column not in pending.columns:
            continue
        groups = pending.filter(pl.col(column).is_not_null()).group_by(column).agg(pl.col("row"))
        for members in groups["row"].to_list():
            first = find(members[0])
            for other in members[1:]:
                root = find(other)
                if root != first:
                    parent[max(root, first)] = min(root, first)
                    first = min(root, first)
    grouped = pending.with_columns(
        match_group=pl.Series([find(row) for row in rows], dtype=pl.Int64)
    )
    method = pl.col("link_method") if "link_method" in pending.columns else pl.lit("new")
    by_id = (
        pl.when(pl.col("sportradar_id").is_not_null())
        .then(pl.lit("sportradar"))
        .when(pl.col("match_key").is_not_null())
        .then(pl.lit("match_key"))
        .otherwise(pl.lit("new"))
    )
    return grouped.with_columns(
        link_method=pl.when(pl.col("row") == pl.col("match_group"))
        .then(pl.lit("new"))
        .when(method.is_in(["exact", "alias", "fuzzy", "sportradar", "match_key"]))
        .then(method)
        .otherwise(by_id),
        link_score=pl.when(pl.col("row") == pl.col("match_group"))
        .then(None)
        .otherwise(pl.col("link_score") if "link_score" in pending.columns else None),
    )


def stage_links(cursor: Any, links: pl.DataFrame) -> None:
    """Write the links back into ``_load_events``."""
    from oddskit.load_sql import stage

    cursor.execute("DROP TABLE IF EXISTS _load_links")
    stage(
        cursor,
        "_load_links",
        links.select(
            pl.col("row").cast(pl.Int64),
            pl.col("event_id").cast(pl.Int32),
            pl.col("link_method").cast(pl.String),
            pl.col("link_score").cast(pl.Float64),
            pl.col("match_group").cast(pl.Int64),
        ),
    )
    cursor.execute(_APPLY_LINKS)


def create_matches(cursor: Any) -> int:
    """Step 6: a new match per group of listings no stored match took; how many.

    Example: run by :func:`oddskit.load_sql.resolve_snapshots` (see its module).
    """
    cursor.execute(
        "UPDATE _load_events SET match_group = row WHERE event_id IS NULL AND match_group IS NULL"
    )
    cursor.execute(_CREATE_MATCHES)
    cursor.execute(_COUNT_NEW_MATCHES)
    return int(cursor.fetchone()[0])


def link_counts(cursor: Any) -> dict[str, int]:
    """How the listings new to the database were linked (method → listings); run
    before they are stored.

    Example: run by :func:`oddskit.load_sql.resolve_snapshots` (see its module).
    """
    return dict(_frame(cursor, _LINK_COUNTS).iter_rows())


def _frame(cursor: Any, statement: str) -> pl.DataFrame:
    cursor.execute(statement)
    return _from_arrow(cursor.fetch_arrow_table())


def _from_arrow(table: Any) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    datetimes = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    return frame.with_columns(pl.col(datetimes).dt.convert_time_zone("UTC"))
