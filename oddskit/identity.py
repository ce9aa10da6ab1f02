"""Which bookmaker listings are the same match: team-name keys, similarity and linking.

A *match* (an ``events`` row) is one football game; a *listing* is one bookmaker's
event for it, with the bookmaker's own id and spelling of the teams. SportRadar ids
and ``match_key`` link listings when the data has them; this module links the rest by
what every source does have: sport, kickoff and the two team names.

Names are compared through a *team key* (:func:`team_key`): lower case, accents and
punctuation removed, ``&`` → ``and``, ``Utd`` → ``united``, ``St`` → ``saint``, and
club-form affixes (``FC``, ``AFC``, ``CF``, ``SC``, ``AC``, ``SV``, …) dropped. Words
that name a *different team* of the same club (``Women``, ``U21``, ``II``, ``B``,
``Reserves``) are kept, and two names that differ in them never match. A team alias
table (the user's own entries, or links they confirmed) maps one key to another.

:func:`link_by_names` links a listing to a match only when the evidence is strong and
the candidate unique (a false link is worse than a missed one):

``exact``  both team keys equal, kickoff within the tolerance;
``alias``  equal once the alias table is applied;
``fuzzy``  the same kickoff window and both names similar (:func:`name_similarity`),
           one of them exactly, or both strongly — and no other match in the window
           comes close.

Listings of one load that match none of the stored matches are grouped with each
other the same way, so that each new match is created once.

Example:
    >>> import polars as pl
    >>> pl.select(team_key(pl.lit("Man. Utd F.C."))).item()
    'man united'
    >>> round(name_similarity("man united", "manchester united"), 2)
    0.95
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

import polars as pl

#: Kickoffs this close are the same kickoff for linking (sources round times, and
#: some publish the scheduled time a few minutes off).
DEFAULT_TOLERANCE = timedelta(minutes=5)

#: Words dropped from team names: the club's legal form, not its identity.
_AFFIX_WORDS = (
    "fc afc cf sc ac as ss ssc sv cd ud sd ca fk sk bk if ik club calcio cfc kv krc rc rcd"
)
AFFIXES = frozenset([*_AFFIX_WORDS.split(), "sl", "sad", "cp"])
#: Words kept *and* required on both sides: they name another team of the same club.
_MARKER_WORDS = "women woman ladies w fem femenino feminin feminine frauen damen"
_YOUTH_WORDS = "u17 u18 u19 u20 u21 u22 u23 ii iii b c reserves reserve res youth academy"
TEAM_MARKERS = frozenset(
    [*_MARKER_WORDS.split(), *_YOUTH_WORDS.split(), "jong", "castilla", "primavera"]
)
#: Spellings of one word, applied word by word: abbreviations, and the English name of
#: cities and words that clubs carry in their own language.
SYNONYMS = {
    "utd": "united",
    "st": "saint",
    "ste": "sainte",
    "atletico": "athletic",
    "atletic": "athletic",
    "athletico": "athletic",
    "munchen": "munich",
    "koln": "cologne",
    "milano": "milan",
    "roma": "rome",
    "napoli": "naples",
    "torino": "turin",
    "sevilla": "seville",
    "lisboa": "lisbon",
    "praha": "prague",
    "wien": "vienna",
    "kobenhavn": "copenhagen",
    "bruxelles": "brussels",
    "moskva": "moscow",
    "warszawa": "warsaw",
}

#: Letters Unicode decomposition leaves whole.
_LETTERS = {"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "ı": "i", "ð": "d"}

#: Similarity at or above which a name is *plausibly* the same team.
PLAUSIBLE = 0.5
#: With the other team named exactly, this much similarity is enough.
ONE_EXACT_OTHER = 0.4
#: Both names at least this similar (on average ``STRONG_MEAN``) is strong evidence.
STRONG_EACH = 0.7
STRONG_MEAN = 0.8


def team_key(names: pl.Expr) -> pl.Expr:
    """The comparable form of team names: the expression ``names`` as a key.

    Example:
        >>> s = pl.Series(["Atlético Madrid", "Brighton & Hove Albion", "Nott'm Forest",
        ...                "1. FC Köln", "St. Pauli", "Arsenal Women"])
        >>> s.to_frame("n").select(team_key(pl.col("n"))).to_series().to_list()
        ['athletic madrid', 'brighton and hove albion', 'nottm forest', '1 cologne', \
'saint pauli', 'arsenal women']
    """
    text = names.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    for letter, plain in _LETTERS.items():
        text = text.str.replace_all(letter, plain, literal=True)
    text = (
        text.str.replace_all("&", " and ", literal=True)
        .str.replace_all(r"['’`´.]", "")
        .str.replace_all(r"[^a-z0-9]+", " ")
    )
    return text.map_batches(_tokens, return_dtype=pl.String)


def _tokens(series: pl.Series) -> pl.Series:
    """Token rules (synonyms, affixes) on distinct values only."""
    distinct = series.unique()
    mapped = [_key_tokens(value) for value in distinct.to_list()]
    lookup = pl.DataFrame(
        {"raw": distinct, "key": pl.Series(mapped, dtype=pl.String)},
        schema={"raw": pl.String, "key": pl.String},
    )
    return series.to_frame("raw").join(lookup, on="raw", how="left", nulls_equal=True)["key"]


@lru_cache(maxsize=65536)
def _key_tokens(text: str | None) -> str | None:
    if text is None:
        return None
    words = [SYNONYMS.get(word, word) for word in text.split()]
    kept = [word for word in words if word not in AFFIXES]
    return " ".join(kept or words)


def team_key_of(name: str) -> str:
    """:func:`team_key` of one name.

    Example:
        >>> team_key_of("Wolverhampton Wanderers FC")
        'wolverhampton wanderers'
    """
    return pl.select(team_key(pl.lit(name, dtype=pl.String))).item()


@lru_cache(maxsize=262144)
def name_similarity(a: str, b: str) -> float:
    """How alike two team keys are, from 0 (unrelated) to 1 (the same key).

    Word by word, the shorter name's words are paired with the longer name's: the same
    word, a prefix (``man`` / ``manchester``), an abbreviation with the same first
    letter (``nottm`` / ``nottingham``), initials (``psg`` / ``paris saint germain``)
    or a near spelling (``munich`` / ``munchen``) each count; words of the longer
    name left unpaired lower the score a little. Names that differ in a word that
    marks another team of the club (``women``, ``u21``, ``ii``, ``b``) score 0.

    Example:
        >>> round(name_similarity("nottm forest", "nottingham forest"), 2)
        0.93
        >>> round(name_similarity("wolves", "wolverhampton wanderers"), 2)
        0.66
        >>> name_similarity("arsenal", "arsenal women")
        0.0
        >>> name_similarity("chelsea", "everton")
        0.0
    """
    if a == b:
        return 1.0
    words_a, words_b = a.split(), b.split()
    if {w for w in words_a if w in TEAM_MARKERS} != {w for w in words_b if w in TEAM_MARKERS}:
        return 0.0
    words_a = [w for w in words_a if w not in TEAM_MARKERS] or words_a
    words_b = [w for w in words_b if w not in TEAM_MARKERS] or words_b
    short, long = sorted((words_a, words_b), key=len)
    if not short:
        return 0.0
    paired, used = 0.0, 0
    free = list(long)
    for word in short:
        best, best_at, best_span = 0.0, -1, 1
        for at, other in enumerate(free):
            if other is None:
                continue
            score, span = _word_score(word, other, free[at:])
            if score > best:
                best, best_at, best_span = score, at, span
        if best_at >= 0:
            for k in range(best_at, best_at + best_span):
                free[k] = None
            used += best_span
            paired += best
    if paired == 0.0:
        return _whole_name_score(a, b)
    covered = used / len(long)
    score = (paired / len(short)) * (0.75 + 0.25 * covered)
    return max(score, _whole_name_score(a, b))


def _word_score(word: str, other: str, rest: list[str | None]) -> tuple[float, int]:
    """Score of pairing ``word`` with ``other`` (and how many words of ``rest`` it uses)."""
    if word == other:
        return 1.0, 1
    short, long = (word, other) if len(word) <= len(other) else (other, word)
    if len(short) >= 3 and long.startswith(short):
        return 0.9, 1
    if len(word) >= 2 and len(rest) >= len(word):
        initials = [w[0] if w else "" for w in rest[: len(word)]]
        if all(w is not None for w in rest[: len(word)]) and "".join(initials) == word:
            return 0.9, len(word)
    if len(short) >= 3 and short[0] == long[0] and _is_subsequence(short, long):
        return 0.85, 1
    shared = next(
        (i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short)
    )
    if shared >= 4 and shared >= 0.6 * len(short):
        return 0.75, 1
    from rapidfuzz import fuzz

    near = fuzz.ratio(word, other) / 100
    return (near, 1) if near >= 0.75 else (0.0, 1)


def _whole_name_score(a: str, b: str) -> float:
    """A single word abbreviating a whole name (``wolves`` / ``wolverhampton wanderers``)."""
    short, long = sorted((a, b), key=len)
    if " " in short or len(short) < 4 or short[0] != long[0]:
        return 0.0
    return 0.6 if _is_subsequence(short, long.replace(" ", "")) else 0.0


def _is_subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(letter in letters for letter in short)


# -- linking -------------------------------------------------------------------------

_NAMES = {
    "bookmaker": pl.String,
    "sport": pl.String,
    "country": pl.String,
    "kickoff": pl.Datetime("us", "UTC"),
    "home_team": pl.String,
    "away_team": pl.String,
}
#: Columns :func:`link_by_names` reads from listings and from stored matches.
LISTING_SCHEMA = pl.Schema({"listing": pl.Int64, **_NAMES})
EVENT_SCHEMA = pl.Schema({"event_id": pl.Int64, **_NAMES})
#: Columns that may be left out (all null).
_OPTIONAL = ("bookmaker", "country")

#: Columns of :func:`link_by_names`'s result.
LINK_SCHEMA = pl.Schema(
    {
        "listing": pl.Int64,
        "event_id": pl.Int64,
        "new_match": pl.Int64,
        "link_method": pl.String,
        "link_score": pl.Float64,
    }
)


def link_by_names(
    listings: pl.DataFrame,
    events: pl.DataFrame,
    *,
    aliases: pl.DataFrame | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> pl.DataFrame:
    """Link listings to stored matches, and group the rest into new matches.

    Parameters
    ----------
    listings
        One row per listing to link: ``listing`` (an id), ``bookmaker``, ``sport``,
        ``country`` (nullable), ``kickoff``, ``home_team``, ``away_team``.
    events
        The stored matches near those kickoffs, one row per known spelling:
        ``event_id``, ``bookmaker`` (whose listing spells it so; nullable), ``sport``,
        ``country``, ``kickoff``, ``home_team``, ``away_team``.
    aliases
        ``alias`` → ``team`` (names or keys; both are turned into team keys).
    tolerance
        Kickoffs at most this far apart can be one match.

    Returns
    -------
    polars.DataFrame
        One row per listing (:data:`LINK_SCHEMA`): the stored ``event_id`` it links to,
        or null and ``new_match`` (the same number for listings that are one new
        match); ``link_method`` (``exact``, ``alias``, ``fuzzy`` or ``new``) and
        ``link_score`` (1.0 for exact and alias links).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> ko = datetime(2026, 5, 2, 14, tzinfo=UTC)
    >>> events = pl.DataFrame({"event_id": [7], "bookmaker": ["Pinnacle"],
    ...     "sport": ["football"], "country": ["England"], "kickoff": [ko],
    ...     "home_team": ["Manchester United"], "away_team": ["Nottingham Forest"]})
    >>> listings = pl.DataFrame({"listing": [1, 2, 3], "bookmaker": ["bet365", "WH", "WH"],
    ...     "sport": ["Football"] * 3, "country": [None] * 3, "kickoff": [ko] * 3,
    ...     "home_team": ["Man Utd", "Manchester Utd", "Chelsea"],
    ...     "away_team": ["Nott'm Forest", "Nottingham Forest", "Everton"]})
    >>> link_by_names(listings, events).select("listing", "event_id", "link_method").rows()
    [(1, 7, 'fuzzy'), (2, 7, 'exact'), (3, None, 'new')]
    """
    tolerance_us = int(tolerance / timedelta(microseconds=1))
    alias_map = _alias_map(aliases)
    pending = _keyed(_conform(listings, LISTING_SCHEMA), alias_map)
    pool = _keyed(_conform(events, EVENT_SCHEMA), alias_map)
    results: list[pl.DataFrame] = []
    new_number = 0
    # Bookmaker by bookmaker (the biggest first): each one's listings are linked to the
    # stored matches and to the new matches of the bookmakers before it.
    order = (
        pending.group_by("bookmaker")
        .len()
        .sort(["len", "bookmaker"], descending=[True, False])["bookmaker"]
        .to_list()
    )
    for bookmaker in order:
        mine = pending.filter(pl.col("bookmaker") == bookmaker)
        links = _link(mine, pool, tolerance_us)
        linked = links.filter(pl.col("event_id").is_not_null())
        fresh = mine.join(linked.select("listing"), on="listing", how="anti").sort(
            "kickoff", "listing"
        )
        # A new match for each listing left over; its own spelling joins the pool, under
        # a negative id so that later bookmakers can link to it.
        fresh = fresh.with_columns(
            event_id=-(pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + new_number)
        )
        new_number += fresh.height
        pool = pl.concat([pool, fresh.select(pool.columns)], how="vertical_relaxed")
        results.append(linked)
        results.append(
            fresh.select(
                "listing",
                "event_id",
                link_method=pl.lit("new"),
                link_score=pl.lit(None, dtype=pl.Float64),
            )
        )
    if not results:
        return pl.DataFrame(schema=LINK_SCHEMA)
    out = pl.concat(results, how="vertical_relaxed")
    return (
        out.with_columns(
            new_match=pl.when(pl.col("event_id") < 0).then(-pl.col("event_id")),
            event_id=pl.when(pl.col("event_id") > 0).then(pl.col("event_id")),
        )
        .select(LINK_SCHEMA.names())
        .cast(LINK_SCHEMA)  # type: ignore[arg-type]
        .sort("listing")
    )


def _conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """``frame``'s columns of ``schema``, cast; optional ones added as nulls when absent."""
    missing = [name for name in schema if name not in frame.columns]
    if not frame.height and not frame.columns:
        return pl.DataFrame(schema=schema)
    if absent := [name for name in missing if name not in _OPTIONAL]:
        raise ValueError(f"link_by_names needs the columns {absent}; got {frame.columns}")
    frame = frame.with_columns(pl.lit(None, dtype=schema[name]).alias(name) for name in missing)
    return frame.select(
        pl.col(name).cast(dtype).dt.convert_time_zone("UTC")
        if isinstance(dtype, pl.Datetime)
        else pl.col(name).cast(dtype)
        for name, dtype in schema.items()
    )


def _alias_map(aliases: pl.DataFrame | None) -> dict[str, str]:
    if aliases is None or not aliases.height:
        return {}
    keyed = aliases.select(
        alias=team_key(pl.col("alias").cast(pl.String)),
        team=team_key(pl.col("team").cast(pl.String)),
    ).filter(pl.col("alias") != pl.col("team"))
    return dict(zip(keyed["alias"].to_list(), keyed["team"].to_list(), strict=True))


def _keyed(frame: pl.DataFrame, alias_map: dict[str, str]) -> pl.DataFrame:
    """``frame`` with the comparable columns: sport, country, kickoff in µs, team keys."""
    keyed = frame.with_columns(
        sport_key=pl.col("sport").cast(pl.String).str.to_lowercase().str.strip_chars(),
        country_key=pl.col("country").cast(pl.String).str.to_lowercase().str.strip_chars(),
        kickoff_us=pl.col("kickoff").dt.epoch("us"),
        home_key=team_key(pl.col("home_team")),
        away_key=team_key(pl.col("away_team")),
    )
    if alias_map:
        keyed = keyed.with_columns(
            home_alias=pl.col("home_key").replace(alias_map),
            away_alias=pl.col("away_key").replace(alias_map),
        )
    else:
        keyed = keyed.with_columns(home_alias=pl.col("home_key"), away_alias=pl.col("away_key"))
    return keyed


#: Columns of :func:`score_candidates`'s result.
CANDIDATE_SCHEMA = pl.Schema(
    {
        "listing": pl.Int64,
        "event_id": pl.Int64,
        "home_score": pl.Float64,
        "away_score": pl.Float64,
        "score": pl.Float64,
        "exact_keys": pl.Boolean,
        "plausible": pl.Boolean,
        "strong": pl.Boolean,
    }
)


def score_candidates(
    listings: pl.DataFrame,
    events: pl.DataFrame,
    *,
    aliases: pl.DataFrame | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> pl.DataFrame:
    """Every stored match that could be each listing's, with how alike the names are.

    Candidates share the sport (and the country when both have one), kick off within
    ``tolerance`` (a match the listing's bookmaker already lists under another id
    counts: the same bookmaker seen through two sources lists a match twice). Columns
    (:data:`CANDIDATE_SCHEMA`): ``home_score``/``away_score`` (:func:`name_similarity`
    of the best spelling), ``score`` (their mean), ``exact_keys`` (both keys equal
    before aliases), ``plausible`` (could be the same match) and ``strong`` (enough
    evidence to link, were it the only plausible one). :func:`link_by_names` links a
    listing only to a strong candidate that is its only plausible one.

    Example:
        >>> from datetime import datetime, UTC
        >>> ko = datetime(2026, 5, 2, 14, tzinfo=UTC)
        >>> events = pl.DataFrame({"event_id": [7, 8], "sport": ["football"] * 2,
        ...     "kickoff": [ko] * 2, "home_team": ["Manchester United", "Chelsea"],
        ...     "away_team": ["Nottingham Forest", "Everton"]})
        >>> listings = pl.DataFrame({"listing": [1], "sport": ["football"], "kickoff": [ko],
        ...     "home_team": ["Man Utd"], "away_team": ["Nott'm Forest"]})
        >>> score_candidates(listings, events).select("event_id", "score", "strong").rows()
        [(7, 0.94, True), (8, 0.0, False)]
    """
    tolerance_us = int(tolerance / timedelta(microseconds=1))
    alias_map = _alias_map(aliases)
    keyed_listings = _keyed(_conform(listings, LISTING_SCHEMA), alias_map)
    pool = _keyed(_conform(events, EVENT_SCHEMA), alias_map)
    return _scored(keyed_listings, pool, tolerance_us).with_columns(pl.col("score").round(2))


def _scored(listings: pl.DataFrame, pool: pl.DataFrame, tolerance_us: int) -> pl.DataFrame:
    """:func:`score_candidates` on keyed frames (unrounded scores)."""
    if not listings.height or not pool.height:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    candidates = _candidates(listings, pool, tolerance_us)
    if not candidates.height:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    # Score each distinct pair of names once.
    names = pl.concat(
        [
            candidates.select(a="home_alias", b="home_alias_right"),
            candidates.select(a="away_alias", b="away_alias_right"),
        ]
    ).unique()
    scores = names.with_columns(
        score=pl.Series(
            [name_similarity(a, b) for a, b in names.iter_rows()],
            dtype=pl.Float64,
        )
    )
    exact_keys = (pl.col("home_key") == pl.col("home_key_right")) & (
        pl.col("away_key") == pl.col("away_key_right")
    )
    scored = (
        candidates.join(
            scores.rename({"a": "home_alias", "b": "home_alias_right", "score": "home_score"}),
            on=["home_alias", "home_alias_right"],
        )
        .join(
            scores.rename({"a": "away_alias", "b": "away_alias_right", "score": "away_score"}),
            on=["away_alias", "away_alias_right"],
        )
        .with_columns(
            score=(pl.col("home_score") + pl.col("away_score")) / 2, exact_keys=exact_keys
        )
        # The best spelling of each candidate match.
        .sort(["score", "exact_keys"], descending=True)
        .unique(["listing", "event_id"], keep="first")
    )
    # A team plays one match at a time: one team named exactly at this kickoff all but
    # identifies the match, and the other name need only not contradict it.
    one_exact = pl.max_horizontal("home_score", "away_score") == 1.0
    low = pl.min_horizontal("home_score", "away_score")
    return (
        scored.with_columns(
            plausible=(one_exact & (low >= ONE_EXACT_OTHER)) | (low >= PLAUSIBLE),
            strong=(one_exact & (low >= ONE_EXACT_OTHER))
            | ((low >= STRONG_EACH) & (pl.col("score") >= STRONG_MEAN)),
        )
        .select(CANDIDATE_SCHEMA.names())
        .cast(CANDIDATE_SCHEMA)  # type: ignore[arg-type]
        .sort("listing", "score", "event_id", descending=[False, True, False])
    )


def _link(listings: pl.DataFrame, pool: pl.DataFrame, tolerance_us: int) -> pl.DataFrame:
    """Links of ``listings`` to matches in ``pool`` (listing, event_id, method, score)."""
    schema = {
        "listing": pl.Int64,
        "event_id": pl.Int64,
        "link_method": pl.String,
        "link_score": pl.Float64,
    }
    plausible = _scored(listings, pool, tolerance_us).filter("plausible")
    unique = plausible.filter(pl.len().over("listing") == 1)
    return (
        unique.filter("strong")
        .select(
            "listing",
            "event_id",
            link_method=pl.when(pl.col("score") < 1.0)
            .then(pl.lit("fuzzy"))
            .when(pl.col("exact_keys"))
            .then(pl.lit("exact"))
            .otherwise(pl.lit("alias")),
            link_score=pl.col("score"),
        )
        .cast(schema)  # type: ignore[arg-type]
    )


def _candidates(listings: pl.DataFrame, pool: pl.DataFrame, tolerance_us: int) -> pl.DataFrame:
    """Pairs (listing, match spelling) of the same sport and country within the tolerance,
    whatever bookmakers already list them."""
    bucket = tolerance_us or 1
    left = listings.with_columns(
        bucket=pl.concat_list([(pl.col("kickoff_us") // bucket) + shift for shift in (-1, 0, 1)])
    ).explode("bucket")
    right = pool.with_columns(bucket=pl.col("kickoff_us") // bucket)
    pairs = left.join(right, on=["sport_key", "bucket"], suffix="_right").filter(
        ((pl.col("kickoff_us") - pl.col("kickoff_us_right")).abs() <= tolerance_us)
        & (
            pl.col("country_key").is_null()
            | pl.col("country_key_right").is_null()
            | (pl.col("country_key") == pl.col("country_key_right"))
        )
    )
    return pairs


def similar_names(name: str, names: Iterable[str], *, limit: int = 5) -> list[tuple[str, float]]:
    """The names most similar to ``name`` (by :func:`name_similarity` of their keys).

    Example:
        >>> similar_names("Man Utd", ["Manchester City", "Manchester United", "Chelsea"])
        [('Manchester United', 0.95), ('Manchester City', 0.39)]
    """
    key = team_key_of(name)
    scored = [(other, round(name_similarity(key, team_key_of(other)), 2)) for other in names]
    return sorted([item for item in scored if item[1] > 0], key=lambda item: (-item[1], item[0]))[
        :limit
    ]
