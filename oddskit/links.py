"""Which listings make one match: list links and look-alikes, link and unlink by hand, aliases.

A *match* is an ``events`` row; a *listing* is one bookmaker's event for it (its own
event id and team spellings, ``event_bookmakers``). The loader links listings to
matches automatically (by SportRadar id, ``match_key``, then names: see
:mod:`oddskit.identity`) and records how. This module is the person's side:

* :func:`fetch_links` — every listing with its match and how it was linked;
* :func:`fetch_link_candidates` — listings that look like *another* match
  (similar names, kickoff within the tolerance) but are not linked to it;
* :func:`link_listing` / :func:`unlink_listing` — move a listing to a match, or give
  it a match of its own. The decision is kept (``link_decisions``): a linked listing
  keeps its match on every later load, and a pair kept apart is not proposed again.
  Linking also teaches the alias table the listing's spellings;
* :func:`add_team_alias`, :func:`fetch_team_aliases`, :func:`remove_team_alias` —
  the team alias table (nothing is seeded: aliases come from you or your links).

A listing's snapshots move with it. Moving is refused when the target match already
has a listing of the same bookmaker (their snapshots would collide) or when the
bookmaker lists the old match under two ids (whose snapshots cannot be told apart).

Example:
    >>> fetch_links(db).columns[:4]
    ['event_id', 'bookmaker', 'bookmaker_event_id', 'link_method']
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import sqlalchemy as sa

from oddskit.arguments import integers, texts, window
from oddskit.board_tables import move_pair
from oddskit.connection import Database
from oddskit.errors import ConfigurationError, DatabaseError
from oddskit.identity import DEFAULT_TOLERANCE, name_similarity, score_candidates, team_key_of

#: Columns of :func:`fetch_links`.
LINK_COLUMNS = [
    "event_id",
    "bookmaker",
    "bookmaker_event_id",
    "link_method",
    "link_score",
    "home_team",
    "away_team",
    "kickoff",
    "match_home_team",
    "match_away_team",
    "match_kickoff",
    "linked_at",
]

_LISTINGS = (
    "SELECT eb.id AS listing, eb.event_id, b.name AS bookmaker, eb.bookmaker_event_id, "
    "eb.link_method, eb.link_score, eb.home_team, eb.away_team, "
    "coalesce(eb.kickoff, e.kickoff) AS kickoff, e.home_team AS match_home_team, "
    "e.away_team AS match_away_team, e.kickoff AS match_kickoff, eb.linked_at, "
    "sp.name AS sport, t.country "
    "FROM event_bookmakers eb JOIN bookmakers b ON b.id = eb.bookmaker_id "
    "JOIN events e ON e.id = eb.event_id JOIN tournaments t ON t.id = e.tournament_id "
    "JOIN sports sp ON sp.id = t.sport_id "
)


def fetch_links(
    db: Database,
    *,
    event_ids: int | list[int] | None = None,
    bookmakers: str | list[str] | None = None,
    methods: str | list[str] | None = None,
) -> pl.DataFrame:
    """Every listing with its match and how it was linked (:data:`LINK_COLUMNS`).

    Parameters
    ----------
    db
        The database.
    event_ids
        Only these matches.
    bookmakers
        Only these bookmakers (any letter case).
    methods
        Only links made this way: ``new``, ``sportradar``, ``match_key``, ``exact``,
        ``alias``, ``fuzzy``, ``manual``.

    Examples
    --------
    >>> links = fetch_links(db, bookmakers="pinnacle")
    >>> links["bookmaker"].unique().to_list()
    ['Pinnacle']
    """
    wanted_methods = texts(methods, "methods")
    frame = db.read(
        _LISTINGS + "WHERE (CAST(:events AS integer[]) IS NULL OR eb.event_id = ANY(:events)) "
        "AND (CAST(:books AS text[]) IS NULL OR lower(b.name) = ANY(:books)) "
        "AND (CAST(:methods AS text[]) IS NULL OR eb.link_method = ANY(:methods)) "
        "ORDER BY e.kickoff, eb.event_id, b.name, eb.bookmaker_event_id",
        events=integers(event_ids, "event_ids"),
        books=[name.lower() for name in texts(bookmakers, "bookmakers") or []] or None,
        methods=wanted_methods,
    )
    return frame.select(LINK_COLUMNS)


def fetch_link_candidates(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    min_score: float = 0.5,
) -> pl.DataFrame:
    """Listings that look like another match they are not linked to.

    For each listing kicking off in ``[since, until)``: the other matches of the same
    sport within ``tolerance`` whose names are similar (``score`` ≥ ``min_score``),
    that the listing's bookmaker does not already list, and that were not kept apart
    by hand. Each pair of matches is proposed one way: the listings of the match with
    fewer listings (on a tie, the newer match) to the other. Link one with
    :func:`link_listing`; look-alikes that are really two matches can be left, or kept
    apart for good with :func:`unlink_listing`.

    Returns
    -------
    polars.DataFrame
        ``bookmaker``, ``bookmaker_event_id``, ``event_id`` (its match now),
        ``home_team``, ``away_team``, ``kickoff`` (the listing's),
        ``candidate_event_id``, ``candidate_home_team``, ``candidate_away_team``,
        ``candidate_kickoff``, ``home_score``, ``away_score``, ``score``.

    Examples
    --------
    >>> fetch_link_candidates(db).columns[:3]
    ['bookmaker', 'bookmaker_event_id', 'event_id']
    """
    lower, upper = window(since, until)
    listings = db.read(
        _LISTINGS + "WHERE (CAST(:since AS timestamptz) IS NULL OR coalesce(eb.kickoff, "
        "e.kickoff) >= :since) AND (CAST(:until AS timestamptz) IS NULL OR "
        "coalesce(eb.kickoff, e.kickoff) < :until)",
        since=lower,
        until=upper,
    )
    schema = {
        "bookmaker": pl.String,
        "bookmaker_event_id": pl.String,
        "event_id": pl.Int64,
        "home_team": pl.String,
        "away_team": pl.String,
        "kickoff": pl.Datetime("us", "UTC"),
        "candidate_event_id": pl.Int64,
        "candidate_home_team": pl.String,
        "candidate_away_team": pl.String,
        "candidate_kickoff": pl.Datetime("us", "UTC"),
        "home_score": pl.Float64,
        "away_score": pl.Float64,
        "score": pl.Float64,
    }
    if not listings.height:
        return pl.DataFrame(schema=schema)
    spellings = listings.select(
        "event_id", "bookmaker", "sport", "country", "kickoff", "home_team", "away_team"
    )
    matches = listings.select(
        "event_id",
        pl.lit(None, pl.String).alias("bookmaker"),
        "sport",
        "country",
        pl.col("match_kickoff").alias("kickoff"),
        pl.col("match_home_team").alias("home_team"),
        pl.col("match_away_team").alias("away_team"),
    ).unique()
    scored = score_candidates(
        listings.select(
            "listing", "bookmaker", "sport", "country", "kickoff", "home_team", "away_team"
        ),
        pl.concat([spellings, matches]),
        aliases=_alias_frame(db),
        tolerance=tolerance,
    )
    apart = db.read(
        "SELECT eb.id AS listing, d.event_id FROM link_decisions d "
        "JOIN event_bookmakers eb ON eb.bookmaker_id = d.bookmaker_id "
        "AND eb.bookmaker_event_id = d.bookmaker_event_id WHERE d.decision = 'apart'"
    ).cast({"listing": pl.Int64, "event_id": pl.Int64})
    own = listings.select("listing", pl.col("event_id").cast(pl.Int64))
    # One direction per pair of matches: a listing is proposed to move from the match
    # with fewer listings to the one with more (on a tie, to the older match).
    sizes = listings.group_by(pl.col("event_id").cast(pl.Int64)).len("listings")
    scored = (
        scored.filter(pl.col("score") >= min_score)
        .join(own, on=["listing", "event_id"], how="anti")
        .join(apart, on=["listing", "event_id"], how="anti")
        .rename({"event_id": "candidate_event_id"})
        .join(own.rename({"event_id": "current"}), on="listing")
        .join(sizes.rename({"event_id": "current", "listings": "current_size"}), on="current")
        .join(
            sizes.rename({"event_id": "candidate_event_id", "listings": "candidate_size"}),
            on="candidate_event_id",
        )
        .filter(
            (pl.col("candidate_size") > pl.col("current_size"))
            | (
                (pl.col("candidate_size") == pl.col("current_size"))
                & (pl.col("candidate_event_id") < pl.col("current"))
            )
        )
    )
    described = matches.select(
        pl.col("event_id").cast(pl.Int64).alias("candidate_event_id"),
        pl.col("home_team").alias("candidate_home_team"),
        pl.col("away_team").alias("candidate_away_team"),
        pl.col("kickoff").alias("candidate_kickoff"),
    )
    # A match that already has a listing of the same bookmaker cannot take this one by
    # hand (their snapshots could collide): not proposed.
    listed = listings.select(
        pl.col("event_id").cast(pl.Int64).alias("candidate_event_id"), "bookmaker"
    ).unique()
    return (
        scored.join(listings.cast({"listing": pl.Int64}), on="listing")
        .join(listed, on=["candidate_event_id", "bookmaker"], how="anti")
        .join(described, on="candidate_event_id")
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
        .sort(
            "kickoff", "bookmaker", "bookmaker_event_id", "score", descending=[False] * 3 + [True]
        )
    )


def link_listing(db: Database, bookmaker: str, bookmaker_event_id: str, event_id: int) -> list[str]:
    """Move a listing (and its snapshots) to match ``event_id``, by hand.

    The listing's link becomes ``manual`` and is kept on later loads; its spellings of
    the teams that differ from the match's become team aliases (``source =
    'confirmed'``). A match left without listings is removed (its match keys move
    along). Returns the aliases learnt, as ``"alias → team"``.

    Examples
    --------
    >>> link_listing(db, "Pinnacle", "no-such-id", 1)
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: Pinnacle has no listing with event id 'no-such-id'; ...
    """
    with db.engine.begin() as conn:
        listing = _listing(conn, bookmaker, bookmaker_event_id)
        target = conn.execute(
            sa.text(
                "SELECT e.id, e.home_team, e.away_team, t.sport_id FROM events e "
                "JOIN tournaments t ON t.id = e.tournament_id WHERE e.id = :id"
            ),
            {"id": event_id},
        ).one_or_none()
        if target is None:
            raise ConfigurationError(f"There is no match with event_id {event_id}.")
        if listing.event_id != event_id:
            _move(conn, listing, event_id)
        conn.execute(
            sa.text(
                "UPDATE event_bookmakers SET link_method = 'manual', link_score = NULL, "
                "linked_at = now() WHERE id = :id"
            ),
            {"id": listing.id},
        )
        _decide(conn, listing, event_id, "link")
        learnt = []
        for spelling, team in (
            (listing.home_team, target.home_team),
            (listing.away_team, target.away_team),
        ):
            if name_similarity(team_key_of(spelling), team_key_of(team)) < 1.0:
                _store_alias(conn, spelling, team, target.sport_id, "confirmed")
                learnt.append(f"{spelling} → {team}")
    return learnt


def unlink_listing(db: Database, bookmaker: str, bookmaker_event_id: str) -> int:
    """Give a listing (and its snapshots) a match of its own; return the new event_id.

    The new match takes the listing's teams and kickoff and its old match's
    tournament. The pair is kept apart: it is not proposed or linked again.

    Examples
    --------
    >>> unlink_listing(db, "Pinnacle", "no-such-id")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: Pinnacle has no listing with event id 'no-such-id'; ...
    """
    with db.engine.begin() as conn:
        listing = _listing(conn, bookmaker, bookmaker_event_id)
        others = conn.execute(
            sa.text("SELECT count(*) FROM event_bookmakers WHERE event_id = :e AND id <> :id"),
            {"e": listing.event_id, "id": listing.id},
        ).scalar_one()
        if not others:
            raise ConfigurationError(
                f"Listing {bookmaker_event_id!r} of {bookmaker} is the only listing of match "
                f"{listing.event_id}: there is nothing to unlink it from."
            )
        new_id = conn.execute(
            sa.text(
                "INSERT INTO events (tournament_id, home_team, away_team, kickoff) "
                "SELECT e.tournament_id, :home, :away, coalesce(:kickoff, e.kickoff) "
                "FROM events e WHERE e.id = :old RETURNING id"
            ),
            {
                "home": listing.home_team,
                "away": listing.away_team,
                "kickoff": listing.kickoff,
                "old": listing.event_id,
            },
        ).scalar_one()
        _decide(conn, listing, listing.event_id, "apart")
        _move(conn, listing, new_id)
        conn.execute(
            sa.text(
                "UPDATE event_bookmakers SET link_method = 'manual', link_score = NULL, "
                "linked_at = now() WHERE id = :id"
            ),
            {"id": listing.id},
        )
    return new_id


def add_team_alias(db: Database, alias: str, team: str, *, sport: str | None = None) -> None:
    """Teach oddskit that ``alias`` is another name of ``team`` (for ``sport``, or all).

    Both are compared as team keys (case, accents and punctuation do not matter); a
    later load links listings that spell the team either way.

    Examples
    --------
    >>> add_team_alias(db, "Spurs", "Tottenham Hotspur", sport="football")
    >>> fetch_team_aliases(db).filter(pl.col("alias") == "Spurs")["team"].to_list()
    ['Tottenham Hotspur']
    >>> remove_team_alias(db, "Spurs", sport="football")
    True
    """
    alias, team = _name(alias, "alias"), _name(team, "team")
    if team_key_of(alias) == team_key_of(team):
        raise ConfigurationError(
            f"{alias!r} and {team!r} are already the same name to oddskit (case, accents, "
            "punctuation and club affixes do not matter): no alias is needed."
        )
    with db.engine.begin() as conn:
        _store_alias(conn, alias, team, _sport_id(conn, sport), "user")


def remove_team_alias(db: Database, alias: str, *, sport: str | None = None) -> bool:
    """Remove an alias; ``True`` if there was one.

    Example:
        >>> remove_team_alias(db, "Never Added")
        False
    """
    with db.engine.begin() as conn:
        removed = conn.execute(
            sa.text(
                "DELETE FROM team_aliases WHERE alias_key = :key "
                "AND sport_id IS NOT DISTINCT FROM :sport"
            ),
            {"key": team_key_of(_name(alias, "alias")), "sport": _sport_id(conn, sport)},
        ).rowcount
    return bool(removed)


def fetch_team_aliases(db: Database) -> pl.DataFrame:
    """The team alias table: ``alias``, ``team``, ``sport`` (null: every sport), ``source``
    (``user`` or ``confirmed``), ``created_at``.

    Example:
        >>> fetch_team_aliases(db).columns
        ['alias', 'team', 'sport', 'source', 'created_at']
    """
    return db.read(
        "SELECT a.alias, a.team, s.name AS sport, a.source, a.created_at FROM team_aliases a "
        "LEFT JOIN sports s ON s.id = a.sport_id ORDER BY lower(a.team), lower(a.alias)"
    )


def alias_frame(db: Database) -> pl.DataFrame:
    """The aliases as :func:`oddskit.identity.link_by_names` takes them (``alias``, ``team``)."""
    return _alias_frame(db)


# -- helpers ----------------------------------------------------------------------------


def _alias_frame(db: Database) -> pl.DataFrame:
    return db.read("SELECT alias, team FROM team_aliases")


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"`{what}` must be a team name, got {value!r}")
    if "\x00" in value:
        raise ConfigurationError(f"`{what}` contains a NUL character")
    return value.strip()


def _sport_id(conn: sa.Connection, sport: str | None) -> int | None:
    if sport is None:
        return None
    found = conn.execute(
        sa.text("SELECT min(id) FROM sports WHERE lower(name) = lower(:name)"), {"name": sport}
    ).scalar_one()
    if found is None:
        raise ConfigurationError(f"There is no sport named {sport!r} in this database.")
    return found


def _store_alias(
    conn: sa.Connection, alias: str, team: str, sport_id: int | None, source: str
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO team_aliases (sport_id, alias, team, alias_key, team_key, source) "
            "VALUES (:sport, :alias, :team, :alias_key, :team_key, :source) "
            "ON CONFLICT ON CONSTRAINT uq_team_aliases_sport_id_alias_key DO UPDATE SET "
            "alias = excluded.alias, team = excluded.team, team_key = excluded.team_key, "
            "source = excluded.source, "
            "created_at = now()"
        ),
        {
            "sport": sport_id,
            "alias": alias,
            "team": team,
            "alias_key": team_key_of(alias),
            "team_key": team_key_of(team),
            "source": source,
        },
    )


def _listing(conn: sa.Connection, bookmaker: str, bookmaker_event_id: str) -> sa.Row:
    row = conn.execute(
        sa.text(
            "SELECT eb.id, eb.event_id, eb.bookmaker_id, eb.bookmaker_event_id, eb.home_team, "
            "eb.away_team, eb.kickoff FROM event_bookmakers eb "
            "JOIN bookmakers b ON b.id = eb.bookmaker_id "
            "WHERE lower(b.name) = lower(:book) AND eb.bookmaker_event_id = :id "
            "ORDER BY b.id LIMIT 1 FOR UPDATE OF eb"
        ),
        {"book": bookmaker, "id": bookmaker_event_id},
    ).one_or_none()
    if row is None:
        raise ConfigurationError(
            f"{bookmaker} has no listing with event id {bookmaker_event_id!r}; see "
            "`oddskit links list` (oddskit.fetch_links) for the listings."
        )
    return row


def _move(conn: sa.Connection, listing: sa.Row, event_id: int) -> None:
    """Move the listing and its snapshots to ``event_id``; drop an emptied match."""
    clash = conn.execute(
        sa.text(
            "SELECT bookmaker_event_id FROM event_bookmakers WHERE event_id = :target "
            "AND bookmaker_id = :book AND id <> :id"
        ),
        {"target": event_id, "book": listing.bookmaker_id, "id": listing.id},
    ).first()
    if clash is not None:
        raise ConfigurationError(
            f"Match {event_id} already has this bookmaker's listing {clash[0]!r}: two listings "
            "of one bookmaker cannot share a match (their snapshots would collide). Unlink "
            "that one first."
        )
    twin = conn.execute(
        sa.text(
            "SELECT count(*) FROM event_bookmakers WHERE event_id = :old AND bookmaker_id = :book"
        ),
        {"old": listing.event_id, "book": listing.bookmaker_id},
    ).scalar_one()
    if twin > 1:
        raise ConfigurationError(
            f"The bookmaker lists match {listing.event_id} under {twin} ids, and their snapshots "
            "cannot be told apart: this listing cannot be moved on its own."
        )
    try:
        conn.execute(
            sa.text(
                "UPDATE odds_snapshots SET event_id = :new WHERE event_id = :old "
                "AND bookmaker_id = :book"
            ),
            {"new": event_id, "old": listing.event_id, "book": listing.bookmaker_id},
        )
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"Moving the listing's snapshots failed: {exc.orig}") from None
    conn.execute(  # the current board (migration 0009) follows the snapshots
        sa.text(
            "UPDATE current_odds SET event_id = :new WHERE event_id = :old AND bookmaker_id = :book"
        ),
        {"new": event_id, "old": listing.event_id, "book": listing.bookmaker_id},
    )
    conn.execute(
        sa.text("UPDATE event_bookmakers SET event_id = :new WHERE id = :id"),
        {"new": event_id, "id": listing.id},
    )
    move_pair(conn, listing.event_id, event_id, listing.bookmaker_id)  # opening, closing
    emptied = conn.execute(
        sa.text("SELECT NOT EXISTS (SELECT FROM event_bookmakers WHERE event_id = :old)"),
        {"old": listing.event_id},
    ).scalar_one()
    if emptied:
        conn.execute(
            sa.text("UPDATE match_keys SET event_id = :new WHERE event_id = :old"),
            {"new": event_id, "old": listing.event_id},
        )
        conn.execute(sa.text("DELETE FROM events WHERE id = :old"), {"old": listing.event_id})


def _decide(conn: sa.Connection, listing: sa.Row, event_id: int, decision: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO link_decisions (bookmaker_id, bookmaker_event_id, event_id, decision) "
            "VALUES (:book, :id, :event, :decision) ON CONFLICT (bookmaker_id, "
            "bookmaker_event_id, event_id) DO UPDATE SET decision = excluded.decision, "
            "decided_at = now()"
        ),
        {
            "book": listing.bookmaker_id,
            "id": listing.bookmaker_event_id,
            "event": event_id,
            "decision": decision,
        },
    )
