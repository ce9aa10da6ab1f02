r"""Realistic, deterministic sample odds in oddskit's bulk-load input format.

The output is long ("tidy"): one row per priced outcome, with exactly the columns of
:data:`SAMPLE_SCHEMA`, in that order::

    captured_at         Datetime(us, UTC)  when the bookmaker's page was captured
    bookmaker           String             "betPawa", "SportyBet", "Bet9ja", "Pinnacle"
    sport               String             always "football"
    country             String, nullable   null for international club competitions
    tournament          String             e.g. "NPFL", "Premier League", "Serie A"
    sportradar_id       String, nullable   "sr:match:40001234"; missing at some bookmakers
    bookmaker_event_id  String             the bookmaker's own id (a different scheme each)
    home_team           String
    away_team           String
    kickoff             Datetime(us, UTC)
    market              String             a key of :data:`oddskit.markets.MARKET_OUTCOMES`
    line                Float64, nullable  goals (over_under) or home handicap (asian_handicap)
    outcome             String             an outcome of that market
    odds                Float64            decimal, > 1, rounded down as the bookmaker does

Model
-----
*Fixtures.* Each day (24 h from ``start``) has ``events_per_day`` football matches,
spread over twelve tournaments (Nigeria NPFL, England Premier League and Championship,
Spain LaLiga, Italy and Brazil Serie A, Germany Bundesliga, Kenya, Ghana and South Africa
premier leagues, UEFA and CAF Champions League) in proportion to fixed weights. Teams
are paired by shuffling each tournament's club list; kickoffs fall on the
tournament's usual UTC slots (so many matches run concurrently). Each match is priced
from a random 4–12 h before kickoff until kickoff (plus ``in_play_minutes``, default 0).

*Latent model.* Every team has a seeded rating; a match's goal expectations are
``λ_home, λ_away = (T ± s) / 2`` with the tournament's goal level ``T`` (plus noise) and
supremacy ``s = home advantage + rating difference + noise``. The true line is a
random walk on ``(log λ_home, log λ_away)`` (σ = 0.04 per √hour) with occasional jumps
(team news: 0.05 per team per hour, size N(0, 0.12)). Prices of every market come
from the same independent-Poisson score model, so they are mutually consistent:
1x2 and double chance from the goal difference (Skellam), over/under 0.5–4.5 from
total goals, BTTS from P(0 goals) of each side, Asian handicap at five lines (the
opening balanced quarter line ± 0.25 and ± 0.5, with pushes and half wins/losses
settled exactly). That is 28 outcomes per snapshot. In play, goals arrive as Poisson
events and the remaining expectation shrinks with the clock; markets already
decided (an over line passed, BTTS yes) are taken down.

*Bookmakers* (:data:`BOOKMAKERS`). Each prices the common true line with its own
persistent bias, update frequency (a stale price is repeated until the book
reprices), lag, per-update noise, margin and rounding. Pinnacle is the sharp
reference: 2–3 % on 1x2, 3 decimals, no lag, reprices at ~90 % of snapshots.
SportyBet (5–7 %), betPawa (6–8 %) and Bet9ja (7.5–10 %) lag 10–25 min, reprice less
often and round down to 2 decimals. The margin of a (bookmaker, match) is drawn
uniformly in its band and applied as ``q_i = p_i (1 + m(1 − α)) + α m S / n`` (α =
0.25: mostly proportional with some extra on long shots; ``S`` is 1, or 2 for double
chance), scaled by market (BTTS 1.25×, Asian handicap 0.9×). Odds are ``1 / q``
rounded down, clipped to [1.01, the book's maximum].

*Snapshots.* A bookmaker is scraped every ``interval_minutes`` on a grid anchored at
``start``; a scrape run starts up to 30 s late (≤ 20 % of the interval), each match
a few seconds into the run, with microsecond noise. About ``missing_snapshot_rate``
of (bookmaker, match) snapshots are missing (half as whole failed runs, half
individually), and ``suspended_outcome_rate`` of outcome rows are absent. About 5 %
of matches lack a ``sportradar_id`` at about half of the bookmakers. Snapshots before
``start`` are not produced (the scraper was not running yet), and nor is one captured
after kickoff (+ in-play tail): the run due exactly at kickoff starts a few seconds
late, so the last pre-match snapshot is usually about one interval before kickoff.

*Determinism and size.* Everything is drawn from ``numpy.random.Generator`` streams
keyed by ``(seed, day, chunk, bookmaker)`` and a counter-based hash for per-run
effects, so the same arguments (with an explicit ``start``: the default moves every
hour) give identical frames and byte-identical files, and a
subset of ``bookmakers`` gives exactly those bookmakers' rows of the full sample.
Matches are generated in chunks of consecutive kickoffs (about 50 000 rows per
bookmaker), fully vectorised; :func:`write_sample` streams chunks to disk, so memory
does not grow with the output size. Rows are sorted by ``captured_at`` within a
chunk, not across chunks (chunks overlap in time).

Examples:
    >>> from datetime import UTC, datetime
    >>> df = generate_sample(
    ...     start=datetime(2026, 11, 1, tzinfo=UTC), days=1, events_per_day=4
    ... )
    >>> df.schema == SAMPLE_SCHEMA
    True
    >>> sorted(df["bookmaker"].unique())
    ['Bet9ja', 'Pinnacle', 'SportyBet', 'betPawa']
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from oddskit.errors import ConfigurationError
from oddskit.markets import MARKET_OUTCOMES, MARKETS_WITH_LINE

__all__ = [
    "BOOKMAKERS",
    "DEFAULT_BOOKMAKERS",
    "SAMPLE_SCHEMA",
    "TOURNAMENTS",
    "Bookmaker",
    "SampleSummary",
    "Tournament",
    "generate_sample",
    "iter_sample",
    "write_sample",
]

#: Columns and types of the bulk-load input format, in order.
SAMPLE_SCHEMA: pl.Schema = pl.Schema(
    {
        "captured_at": pl.Datetime("us", "UTC"),
        "bookmaker": pl.String,
        "sport": pl.String,
        "country": pl.String,
        "tournament": pl.String,
        "sportradar_id": pl.String,
        "bookmaker_event_id": pl.String,
        "home_team": pl.String,
        "away_team": pl.String,
        "kickoff": pl.Datetime("us", "UTC"),
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)


@dataclass(frozen=True)
class Bookmaker:
    """How one bookmaker prices: margin band, rounding, and how it follows the line."""

    name: str
    #: 1x2 margin (overround) range; each match draws its margin uniformly in it.
    margin_band: tuple[float, float]
    #: Decimals of the posted odds (rounded down).
    decimals: int
    #: The book reprices from the true line as it was this many minutes earlier.
    lag_minutes: float
    #: Chance of repricing at a snapshot (otherwise the previous price is repeated).
    update_prob: float
    #: Persistent per-match disagreement with the true line (sd of log goal rates).
    bias_sd: float
    #: Noise added at each repricing (sd of log goal rates).
    noise_sd: float
    #: Largest odds the book posts.
    max_odds: float
    #: Own event ids are ``id_base + k * id_stride + offset`` (digits only).
    id_base: int
    id_stride: int


#: The bookmakers the generator knows, by name.
BOOKMAKERS: dict[str, Bookmaker] = {
    b.name: b
    for b in (
        # name, margin band, decimals, lag, update prob, bias sd, noise sd, max odds, ids
        Bookmaker("betPawa", (0.060, 0.080), 2, 15.0, 0.35, 0.035, 0.012, 101.0, 28_000_000, 7),
        Bookmaker("SportyBet", (0.050, 0.070), 2, 10.0, 0.45, 0.03, 0.01, 101.0, 610_000_000, 11),
        Bookmaker("Bet9ja", (0.075, 0.100), 2, 25.0, 0.25, 0.045, 0.015, 101.0, 480_000_000, 5),
        Bookmaker("Pinnacle", (0.020, 0.030), 3, 0.0, 0.90, 0.01, 0.002, 1001.0, 16 * 10**8, 13),
    )
}
#: Default ``bookmakers=``: all of them.
DEFAULT_BOOKMAKERS: tuple[str, ...] = tuple(BOOKMAKERS)
_BOOK_INDEX = {name: i for i, name in enumerate(BOOKMAKERS)}


@dataclass(frozen=True)
class Tournament:
    """A competition: its clubs, scoring level, home advantage and kickoff slots."""

    country: str | None
    name: str
    teams: tuple[str, ...]
    goals: float  # mean total goals
    home_adv: float  # mean goal supremacy of the home side
    rating_sd: float  # spread of team strength, in goals
    weight: float  # share of the day's matches
    slots: tuple[str, ...]  # kickoff times, "HH:MM" UTC


def _teams(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


#: The tournaments matches are drawn from.
TOURNAMENTS: tuple[Tournament, ...] = (
    Tournament(
        "Nigeria",
        "NPFL",
        _teams(
            "Enyimba, Kano Pillars, Rivers United, Shooting Stars, Enugu Rangers, Remo Stars,"
            "Plateau United, Akwa United, Lobi Stars, Kwara United, Sunshine Stars, Heartland,"
            "Bendel Insurance, Abia Warriors, Niger Tornadoes, Katsina United, Bayelsa United,"
            "Ikorodu City, El-Kanemi Warriors, Nasarawa United"
        ),
        2.15,
        0.75,
        0.25,
        0.12,
        ("14:00", "15:00", "16:00"),
    ),
    Tournament(
        "England",
        "Premier League",
        _teams(
            "Arsenal, Aston Villa, Bournemouth, Brentford, Brighton, Burnley, Chelsea,"
            "Crystal Palace, Everton, Fulham, Leeds United, Liverpool, Manchester City,"
            "Manchester United, Newcastle United, Nottingham Forest, Sunderland,"
            "Tottenham Hotspur, West Ham United, Wolverhampton"
        ),
        2.85,
        0.25,
        0.55,
        0.10,
        ("12:30", "14:00", "15:00", "16:30", "17:30", "19:30", "20:00"),
    ),
    Tournament(
        "England",
        "Championship",
        _teams(
            "Birmingham City, Blackburn Rovers, Bristol City, Charlton Athletic, Coventry City,"
            "Derby County, Hull City, Ipswich Town, Leicester City, Middlesbrough, Millwall,"
            "Norwich City, Oxford United, Portsmouth, Preston North End, Queens Park Rangers,"
            "Sheffield United, Sheffield Wednesday, Southampton, Stoke City, Swansea City,"
            "Watford, West Bromwich Albion, Wrexham"
        ),
        2.55,
        0.25,
        0.30,
        0.11,
        ("12:30", "15:00", "19:45", "20:00"),
    ),
    Tournament(
        "Spain",
        "LaLiga",
        _teams(
            "Alaves, Athletic Bilbao, Atletico Madrid, Barcelona, Celta Vigo, Elche, Espanyol,"
            "Getafe, Girona, Levante, Mallorca, Osasuna, Rayo Vallecano, Real Betis, Real Madrid,"
            "Real Oviedo, Real Sociedad, Sevilla, Valencia, Villarreal"
        ),
        2.55,
        0.30,
        0.50,
        0.09,
        ("13:00", "15:15", "17:30", "20:00"),
    ),
    Tournament(
        "Italy",
        "Serie A",
        _teams(
            "Atalanta, Bologna, Cagliari, Como, Cremonese, Fiorentina, Genoa, Hellas Verona,"
            "Inter, Juventus, Lazio, Lecce, AC Milan, Napoli, Parma, Pisa, Roma, Sassuolo,"
            "Torino, Udinese"
        ),
        2.65,
        0.25,
        0.45,
        0.08,
        ("11:30", "14:00", "17:00", "19:45"),
    ),
    Tournament(
        "Germany",
        "Bundesliga",
        _teams(
            "Augsburg, Bayer Leverkusen, Bayern Munich, Borussia Dortmund,"
            "Borussia Monchengladbach, Eintracht Frankfurt, FC Koln, Freiburg, Hamburger SV,"
            "Heidenheim, Hoffenheim, Mainz 05, RB Leipzig, St. Pauli, Union Berlin,"
            "VfB Stuttgart, Werder Bremen, Wolfsburg"
        ),
        3.10,
        0.30,
        0.55,
        0.07,
        ("14:30", "17:30", "19:30"),
    ),
    Tournament(
        "Kenya",
        "Premier League",
        _teams(
            "Gor Mahia, AFC Leopards, Tusker, KCB, Kakamega Homeboyz, Shabana, Posta Rangers,"
            "Bandari, Kariobangi Sharks, Sofapaka, Nairobi City Stars, Ulinzi Stars,"
            "Kenya Police, Mathare United, Murang'a Seal, Bidco United, APS Bomet, Mara Sugar"
        ),
        2.10,
        0.25,
        0.30,
        0.08,
        ("10:00", "12:00", "13:00"),
    ),
    Tournament(
        "Ghana",
        "Premier League",
        _teams(
            "Asante Kotoko, Hearts of Oak, Medeama, Aduana FC, Dreams FC, Bechem United,"
            "Berekum Chelsea, Nations FC, Legon Cities, Karela United, Samartex, Heart of Lions,"
            "Accra Lions, Great Olympics, Bibiani Gold Stars, Vision FC, Basake Holy Stars,"
            "Young Apostles"
        ),
        2.20,
        0.55,
        0.30,
        0.08,
        ("13:00", "15:00"),
    ),
    Tournament(
        "South Africa",
        "Premiership",
        _teams(
            "Mamelodi Sundowns, Orlando Pirates, Kaizer Chiefs, Stellenbosch, Sekhukhune United,"
            "AmaZulu, Polokwane City, TS Galaxy, Golden Arrows, Chippa United, Richards Bay,"
            "Magesi, Marumo Gallants, Durban City, Orbit College, Siwelele"
        ),
        2.20,
        0.25,
        0.35,
        0.06,
        ("13:30", "15:30", "17:30"),
    ),
    Tournament(
        "Brazil",
        "Serie A",
        _teams(
            "Flamengo, Palmeiras, Corinthians, Sao Paulo, Santos, Gremio, Internacional,"
            "Atletico Mineiro, Cruzeiro, Fluminense, Botafogo, Vasco da Gama, Bahia, Fortaleza,"
            "Bragantino, Vitoria, Juventude, Sport Recife, Ceara, Mirassol"
        ),
        2.40,
        0.45,
        0.35,
        0.06,
        ("19:00", "21:30", "22:00", "00:30"),
    ),
    Tournament(
        None,
        "UEFA Champions League",
        _teams(
            "Real Madrid, Barcelona, Bayern Munich, Manchester City, Liverpool, Arsenal,"
            "Paris Saint-Germain, Inter, Borussia Dortmund, Atletico Madrid, Juventus, Napoli,"
            "Benfica, Sporting CP, PSV Eindhoven, Ajax, Club Brugge, Galatasaray, Olympiacos,"
            "Slavia Prague, Copenhagen, Bodo/Glimt, Qarabag, Kairat Almaty, Pafos,"
            "Union Saint-Gilloise, Monaco, Marseille, Eintracht Frankfurt, Bayer Leverkusen,"
            "Atalanta, Chelsea, Tottenham Hotspur, Newcastle United, Villarreal, Athletic Bilbao"
        ),
        3.00,
        0.30,
        0.60,
        0.05,
        ("17:45", "20:00"),
    ),
    Tournament(
        None,
        "CAF Champions League",
        _teams(
            "Al Ahly, Mamelodi Sundowns, Esperance de Tunis, Wydad Casablanca, Pyramids FC,"
            "Simba SC, Young Africans, TP Mazembe, Petro de Luanda, Rivers United, Asante Kotoko,"
            "Al Hilal Omdurman, RS Berkane, MC Alger, Stade Malien, Remo Stars"
        ),
        2.20,
        0.50,
        0.40,
        0.02,
        ("13:00", "16:00", "19:00"),
    ),
)

# --- market layout: 28 outcome slots per snapshot ------------------------------------
_OU_LINES: tuple[float, ...] = (0.5, 1.5, 2.5, 3.5, 4.5)
_AH_OFFSETS: tuple[float, ...] = (-0.5, -0.25, 0.0, 0.25, 0.5)
# (market, line index or -1, outcome)
_SLOTS: list[tuple[str, int, str]] = (
    [("1x2", -1, o) for o in MARKET_OUTCOMES["1x2"]]
    + [("double_chance", -1, o) for o in MARKET_OUTCOMES["double_chance"]]
    + [("over_under", i, o) for i in range(len(_OU_LINES)) for o in MARKET_OUTCOMES["over_under"]]
    + [("btts", -1, o) for o in MARKET_OUTCOMES["btts"]]
    + [
        ("asian_handicap", i, o)
        for i in range(len(_AH_OFFSETS))
        for o in MARKET_OUTCOMES["asian_handicap"]
    ]
)
_N_SLOTS = len(_SLOTS)
_SLOT_MARKET = pl.Series("market", [s[0] for s in _SLOTS], dtype=pl.String)
_SLOT_OUTCOME = pl.Series("outcome", [s[2] for s in _SLOTS], dtype=pl.String)
#: margin multiplier, number of outcomes and fair-probability sum of each slot's market
_MARKET_MARGIN_FACTOR = {
    "1x2": 1.0,
    "double_chance": 1.0,
    "over_under": 1.0,
    "btts": 1.25,
    "asian_handicap": 0.9,
}
_SLOT_FACTOR = np.array([_MARKET_MARGIN_FACTOR[s[0]] for s in _SLOTS])
_SLOT_N = np.array([len(MARKET_OUTCOMES[s[0]]) for s in _SLOTS], dtype=np.float64)
_SLOT_SUM = np.array([2.0 if s[0] == "double_chance" else 1.0 for s in _SLOTS])
_AH_SLOTS = np.array([i for i, s in enumerate(_SLOTS) if s[0] == "asian_handicap"])
_OU_SLOTS = np.array([i for i, s in enumerate(_SLOTS) if s[0] == "over_under"])
_BTTS_SLOTS = np.array([i for i, s in enumerate(_SLOTS) if s[0] == "btts"])
assert {s[0] for s in _SLOTS if s[1] >= 0} == MARKETS_WITH_LINE
_ALPHA = 0.25  # share of the margin spread evenly over outcomes (long-shot loading)

# --- model constants --------------------------------------------------------------------
_G = 12  # most remaining goals per side modelled (tail mass folded into the last bucket)
_LEAD_HOURS = (4.0, 12.0)  # pricing starts this long before kickoff
_WALK_SD_PER_SQRT_HOUR = 0.04
_JUMP_RATE_PER_HOUR = 0.05
_JUMP_SD = 0.12
_SR_ID_MISSING_EVENT_RATE = 0.05
_SR_ID_MISSING_BOOK_RATE = 0.5
_CHUNK_EVENT_SNAPSHOTS = 1_800  # match-snapshots per chunk (x 28 outcomes per bookmaker)
_US = 1_000_000
_DAY_US = 86_400 * _US
_MAX_RUN_JITTER_US = 30 * _US
_MAX_EVENT_OFFSET_US = 15 * _US
_CSV_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f%:z"


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`write_sample` wrote."""

    path: Path
    format: Literal["csv", "parquet"]
    rows: int
    events: int
    bookmakers: tuple[str, ...]
    first_captured_at: datetime | None
    last_captured_at: datetime | None
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Write throughput."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class _Config:
    start_us: int
    days: int | None  # None: unlimited (write_sample with rows=)
    events_per_day: int
    books: tuple[int, ...]  # indices into BOOKMAKERS
    interval_us: int
    seed: int
    max_rows: int | None
    in_play_us: int
    missing_rate: float
    suspended_rate: float


# --- validation ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if not _is_int(value):
        raise ConfigurationError(f"`{name}` must be an integer, got {value!r}")
    if value < minimum:  # type: ignore[operator]
        raise ConfigurationError(f"`{name}` must be ≥ {minimum}, got {value!r}")


def _default_start(days: int) -> datetime:
    now = datetime.now(UTC) - timedelta(days=days)
    return now.replace(minute=0, second=0, microsecond=0)


def _config(
    *,
    start: datetime | None,
    days: int,
    events_per_day: int,
    bookmakers: Sequence[str],
    interval_minutes: float,
    seed: int,
    max_rows: int | None,
    in_play_minutes: float,
    missing_snapshot_rate: float,
    suspended_outcome_rate: float,
    unlimited_days: bool = False,
) -> _Config:
    _check_int("days", days, minimum=1)
    if start is None:
        start = _default_start(days)
    if not isinstance(start, datetime):
        raise ConfigurationError(
            f"`start` must be a timezone-aware datetime, got {type(start).__name__} {start!r}"
        )
    if start.tzinfo is None or start.utcoffset() is None:
        raise ConfigurationError(
            f"`start` must be timezone-aware, got the naive datetime {start.isoformat()}; "
            "pass e.g. datetime(2026, 11, 1, tzinfo=timezone.utc) or tzinfo=datetime.UTC"
        )
    _check_int("events_per_day", events_per_day, minimum=1)
    if isinstance(bookmakers, str) or not isinstance(bookmakers, Sequence):
        raise ConfigurationError(
            f"`bookmakers` must be a sequence of names such as ({bookmakers!r},), "
            f"got {bookmakers!r}"
        )
    if not bookmakers:
        raise ConfigurationError(
            f"`bookmakers` must name at least one of {', '.join(DEFAULT_BOOKMAKERS)}"
        )
    by_lower = {name.lower(): name for name in BOOKMAKERS}
    names: list[str] = []
    for name in bookmakers:
        canonical = by_lower.get(str(name).lower())
        if canonical is None:
            raise ConfigurationError(
                f"unknown bookmaker {name!r} in `bookmakers`; "
                f"choose from {', '.join(DEFAULT_BOOKMAKERS)}"
            )
        if canonical in names:
            raise ConfigurationError(f"bookmaker {canonical!r} is listed twice in `bookmakers`")
        names.append(canonical)
    if not _is_real(interval_minutes) or not 0.25 <= interval_minutes <= 1440:
        raise ConfigurationError(
            f"`interval_minutes` must be between 0.25 and 1440, got {interval_minutes!r}"
        )
    _check_int("seed", seed, minimum=0)
    if max_rows is not None:
        _check_int("max_rows", max_rows, minimum=1)
    if not _is_real(in_play_minutes) or not 0 <= in_play_minutes <= 90:
        raise ConfigurationError(
            f"`in_play_minutes` must be between 0 and 90, got {in_play_minutes!r}"
        )
    for label, rate in (
        ("missing_snapshot_rate", missing_snapshot_rate),
        ("suspended_outcome_rate", suspended_outcome_rate),
    ):
        if not _is_real(rate) or not 0 <= rate <= 0.5:
            raise ConfigurationError(f"`{label}` must be between 0 and 0.5, got {rate!r}")
    start_utc = start.astimezone(UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return _Config(
        start_us=(start_utc - epoch) // timedelta(microseconds=1),
        days=None if unlimited_days else int(days),
        events_per_day=int(events_per_day),
        books=tuple(_BOOK_INDEX[n] for n in names),
        interval_us=round(float(interval_minutes) * 60 * _US),
        seed=int(seed),
        max_rows=None if max_rows is None else int(max_rows),
        in_play_us=round(float(in_play_minutes) * 60 * _US),
        missing_rate=float(missing_snapshot_rate),
        suspended_rate=float(suspended_outcome_rate),
    )


# --- random helpers -------------------------------------------------------------------------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (uint64 arrays wrap silently)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _hash_uniform(keys: Sequence[int | np.ndarray]) -> np.ndarray:
    """Uniform [0, 1) numbers that depend only on the integer keys (counter-based RNG)."""
    arrays = np.broadcast_arrays(*[np.atleast_1d(np.asarray(k, dtype=np.int64)) for k in keys])
    h = np.zeros(arrays[0].shape, dtype=np.uint64)
    for a in arrays:
        h = _mix64(h ^ (a.astype(np.uint64) + _GOLDEN))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


# --- the score model ---------------------------------------------------------------------


def _poisson_pmf(lam: np.ndarray) -> np.ndarray:
    """P(X = 0..G) for X ~ Poisson(lam), the tail folded into the last bucket."""
    out = np.empty((lam.shape[0], _G + 1))
    out[:, 0] = np.exp(-lam)
    for i in range(1, _G + 1):
        out[:, i] = out[:, i - 1] * lam / i
    out[:, _G] += np.clip(1.0 - out.sum(axis=1), 0.0, None)
    return out


def _cdfs(ph: np.ndarray, pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CDFs of goal difference (value d at index d + G) and total goals (index t),
    each padded with a leading zero column so that index -1 means "below support"."""
    n = ph.shape[0]
    pd = np.zeros((n, 2 * _G + 1))
    pt = np.zeros((n, 2 * _G + 1))
    pa_rev = pa[:, ::-1]
    for i in range(_G + 1):
        w = ph[:, i : i + 1]
        pd[:, i : i + _G + 1] += w * pa_rev
        pt[:, i : i + _G + 1] += w * pa
    zero = np.zeros((n, 1))
    return (
        np.concatenate([zero, np.cumsum(pd, axis=1)], axis=1),
        np.concatenate([zero, np.cumsum(pt, axis=1)], axis=1),
    )


def _p_le(cdf: np.ndarray, index: np.ndarray) -> np.ndarray:
    """P(X ≤ x) for integer index = x + offset (any shape (n, m)), outside support clipped."""
    idx = np.clip(index, -1, cdf.shape[1] - 2) + 1
    return np.take_along_axis(cdf, idx.astype(np.intp), axis=1)


def _ah_home(cdf_d: np.ndarray, shift: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Effective (push/half-win aware) home probability of Asian handicap ``lines`` (n, m).

    Final difference D = shift + d. A quarter line stakes half on each neighbour.
    Win and loss masses W = P(D + h > 0), L = P(D + h < 0); p = W / (W + L).
    """
    quarter = (np.rint(lines * 4).astype(np.int64) % 2) == 1
    w = np.zeros(lines.shape)
    loss = np.zeros(lines.shape)
    for sign in (-1.0, 1.0):
        h = np.where(quarter, lines + sign * 0.25, lines)
        le_floor = _p_le(cdf_d, np.floor(-h).astype(np.int64) - shift[:, None] + _G)
        lt = _p_le(cdf_d, np.ceil(-h).astype(np.int64) - 1 - shift[:, None] + _G)
        w += 1.0 - le_floor
        loss += lt
    return w / np.maximum(w + loss, 1e-300)


def _fair_probs(
    lam_h: np.ndarray,
    lam_a: np.ndarray,
    goals_h: np.ndarray,
    goals_a: np.ndarray,
    ah_lines: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fair probabilities of the 28 slots, and which slots are already decided (in play)."""
    n = lam_h.shape[0]
    ph, pa = _poisson_pmf(lam_h), _poisson_pmf(lam_a)
    cdf_d, cdf_t = _cdfs(ph, pa)
    shift = (goals_h - goals_a).astype(np.int64)
    total = (goals_h + goals_a).astype(np.int64)
    p = np.empty((n, _N_SLOTS))
    away = _p_le(cdf_d, (-1 - shift + _G)[:, None])[:, 0]
    home = 1.0 - _p_le(cdf_d, (0 - shift + _G)[:, None])[:, 0]
    draw = np.clip(1.0 - home - away, 0.0, 1.0)
    p[:, 0], p[:, 1], p[:, 2] = home, draw, away
    p[:, 3], p[:, 4], p[:, 5] = home + draw, home + away, draw + away
    ou = np.asarray(_OU_LINES)
    over = 1.0 - _p_le(cdf_t, np.floor(ou)[None, :].astype(np.int64) - total[:, None])
    p[:, _OU_SLOTS[0::2]] = over
    p[:, _OU_SLOTS[1::2]] = 1.0 - over
    yes = (1.0 - (goals_h == 0) * ph[:, 0]) * (1.0 - (goals_a == 0) * pa[:, 0])
    p[:, _BTTS_SLOTS[0]], p[:, _BTTS_SLOTS[1]] = yes, 1.0 - yes
    ah = _ah_home(cdf_d, shift, ah_lines)
    p[:, _AH_SLOTS[0::2]] = ah
    p[:, _AH_SLOTS[1::2]] = 1.0 - ah
    decided = np.zeros((n, _N_SLOTS), dtype=bool)
    decided[:, _OU_SLOTS] = np.repeat(total[:, None] > ou[None, :], 2, axis=1)
    decided[:, _BTTS_SLOTS] = ((goals_h > 0) & (goals_a > 0))[:, None]
    return np.clip(p, 1e-4, 1.0), decided


def _balanced_ah_line(lam_h: np.ndarray, lam_a: np.ndarray) -> np.ndarray:
    """The quarter-goal home handicap whose home probability is nearest 1/2."""
    candidates = np.arange(-3.5, 3.5001, 0.25)
    ph, pa = _poisson_pmf(lam_h), _poisson_pmf(lam_a)
    cdf_d, _ = _cdfs(ph, pa)
    lines = np.broadcast_to(candidates, (lam_h.shape[0], candidates.size))
    p = _ah_home(cdf_d, np.zeros(lam_h.shape[0], dtype=np.int64), np.ascontiguousarray(lines))
    return candidates[np.argmin(np.abs(p - 0.5), axis=1)]


# --- fixtures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    kickoff_us: np.ndarray  # (E,) int64, sorted
    lead_us: np.ndarray
    tournament: np.ndarray  # (E,) index into TOURNAMENTS
    home: np.ndarray  # (E,) index into the tournament's teams
    away: np.ndarray
    lam_h: np.ndarray  # opening goal expectations
    lam_a: np.ndarray
    ah_main: np.ndarray
    sr_flag: np.ndarray  # (E,) bool: the match is poorly mapped (sr id missing somewhere)
    sr_id: np.ndarray  # (E,) int64
    first_event: int  # global number of the day's first match


def _ratings(seed: int) -> list[np.ndarray]:
    return [
        _rng(seed, 11, t).normal(0.0, tour.rating_sd, len(tour.teams))
        for t, tour in enumerate(TOURNAMENTS)
    ]


def _fixtures(cfg: _Config, day: int, ratings: list[np.ndarray]) -> _Day:
    rng = _rng(cfg.seed, 1, day)
    weights = np.array([t.weight for t in TOURNAMENTS])
    counts = rng.multinomial(cfg.events_per_day, weights / weights.sum())
    day_start = cfg.start_us + day * _DAY_US
    day_tod = day_start % _DAY_US
    tours, homes, aways, kicks = [], [], [], []
    for t, (tour, n) in enumerate(zip(TOURNAMENTS, counts, strict=True)):
        if n == 0:
            continue
        rounds = math.ceil(n / (len(tour.teams) // 2))
        order = np.concatenate([rng.permutation(len(tour.teams)) for _ in range(rounds)])
        pairs = order[: 2 * (len(order) // 2)].reshape(-1, 2)[:n]
        slots = np.array([int(s[:2]) * 60 + int(s[3:]) for s in tour.slots]) * 60 * _US
        tod = rng.choice(slots, n)
        kicks.append(day_start + (tod - day_tod) % _DAY_US)
        tours.append(np.full(n, t))
        homes.append(pairs[:, 0])
        aways.append(pairs[:, 1])
    tournament = np.concatenate(tours)
    home, away, kickoff = np.concatenate(homes), np.concatenate(aways), np.concatenate(kicks)
    order = np.lexsort((tournament, kickoff))
    tournament, home, away, kickoff = tournament[order], home[order], away[order], kickoff[order]
    e = tournament.size
    goals = np.array([t.goals for t in TOURNAMENTS])[tournament]
    adv = np.array([t.home_adv for t in TOURNAMENTS])[tournament]
    r_home = np.array([ratings[t][h] for t, h in zip(tournament, home, strict=True)])
    r_away = np.array([ratings[t][a] for t, a in zip(tournament, away, strict=True)])
    total = goals * np.exp(rng.normal(0.0, 0.1, e))
    sup = adv + r_home - r_away + rng.normal(0.0, 0.15, e)
    lam_h = np.clip(0.5 * (total + sup), 0.15, 4.5)
    lam_a = np.clip(0.5 * (total - sup), 0.15, 4.5)
    lead_h = rng.uniform(*_LEAD_HOURS, e)
    # Ids depend on the calendar day and the seed, so samples of different seeds (mod 1000)
    # or dates never reuse an id for another match (the loader refuses such a clash),
    # as long as there are at most 1000 matches a day.
    absolute_day = (day_start // _DAY_US) % 10_000
    first_event = (absolute_day * 1_000 + cfg.seed % 1_000) * 1_000
    return _Day(
        kickoff_us=kickoff.astype(np.int64),
        lead_us=(lead_h * 3600 * _US).astype(np.int64),
        tournament=tournament,
        home=home,
        away=away,
        lam_h=lam_h,
        lam_a=lam_a,
        ah_main=_balanced_ah_line(lam_h, lam_a),
        sr_flag=rng.random(e) < _SR_ID_MISSING_EVENT_RATE,
        sr_id=40_000_000 + (first_event + np.arange(e)) * 9 + rng.integers(0, 9, e),
        first_event=first_event,
    )


# --- one chunk: a run of consecutive kickoffs ------------------------------------------------


def _chunk(
    cfg: _Config, day: _Day, day_no: int, chunk_no: int, sel: slice
) -> tuple[pl.DataFrame, np.ndarray] | None:
    """Generate the rows of the matches ``sel`` of one day, and each row's match index."""
    kick = day.kickoff_us[sel]
    e_count = kick.size
    iv = cfg.interval_us
    first = np.maximum(0, -((-(kick - day.lead_us[sel] - cfg.start_us)) // iv))
    last = (kick + cfg.in_play_us - cfg.start_us) // iv
    if not np.any(last >= first):
        return None
    k_lo, k_hi = int(first.min()), int(max(last.max(), first.min()))
    n_cols = k_hi - k_lo + 1
    cols = np.arange(n_cols)
    k_glob = k_lo + cols
    grid_us = cfg.start_us + k_glob * iv
    first_l = np.minimum(first - k_lo, n_cols - 1)
    in_window = (k_glob[None, :] >= first[:, None]) & (k_glob[None, :] <= last[:, None])

    rng = _rng(cfg.seed, 2, day_no, chunk_no)
    dt_h = iv / (3600 * _US)
    inc = rng.normal(0.0, _WALK_SD_PER_SQRT_HOUR * math.sqrt(dt_h), (2, e_count, n_cols))
    jumps = rng.random((2, e_count, n_cols)) < _JUMP_RATE_PER_HOUR * dt_h
    inc += jumps * rng.normal(0.0, _JUMP_SD, (2, e_count, n_cols))
    inc[:, cols[None, :] <= first_l[:, None]] = 0.0
    log_lam = np.cumsum(inc, axis=2)
    log_lam[0] += np.log(day.lam_h[sel])[:, None]
    log_lam[1] += np.log(day.lam_a[sel])[:, None]

    minute = np.clip((grid_us[None, :] - kick[:, None]) / (60 * _US), 0.0, 90.0)
    remaining = (90.0 - minute) / 90.0
    if cfg.in_play_us > 0:
        played = np.diff(minute, axis=1, prepend=minute[:, :1])
        goals = rng.poisson(np.exp(log_lam) * (played / 90.0)[None])
        goals = np.cumsum(goals, axis=2).astype(np.int64)
    else:
        goals = np.zeros((2, e_count, n_cols), dtype=np.int64)

    ah_lines = day.ah_main[sel][:, None] + np.asarray(_AH_OFFSETS)[None, :]
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("b", "e", "t", "lh", "la", "gh", "ga", "m", "susp")
    }
    sr_ids: list[str | None] = []
    book_ids: list[str] = []
    for b_local, b_glob in enumerate(cfg.books):
        book = BOOKMAKERS[DEFAULT_BOOKMAKERS[b_glob]]
        brng = _rng(cfg.seed, 3, day_no, chunk_no, b_glob)
        margin = brng.uniform(*book.margin_band, e_count)
        bias = brng.normal(0.0, book.bias_sd, (2, e_count))
        update = brng.random((e_count, n_cols)) < book.update_prob
        update[:, 0] = True
        update[np.arange(e_count), first_l] = True
        last_update = np.maximum.accumulate(np.where(update, cols[None, :], 0), axis=1)
        lag = round(book.lag_minutes * 60 * _US / iv)
        src = np.maximum(last_update - lag, first_l[:, None])
        eps = brng.normal(0.0, book.noise_sd, (2, e_count, n_cols))
        view = (
            np.take_along_axis(log_lam, src[None], axis=2)
            + bias[:, :, None]
            + np.take_along_axis(eps, last_update[None], axis=2)
        )
        rem = np.take_along_axis(remaining, src, axis=1)
        score = np.take_along_axis(goals, src[None], axis=2)
        missing = brng.random((e_count, n_cols)) < cfg.missing_rate / 2
        hash_seed = cfg.seed % 2**63
        run_missing = _hash_uniform([hash_seed, 7, b_glob, k_glob]) < cfg.missing_rate / 2
        run_delay = (
            _hash_uniform([hash_seed, 8, b_glob, k_glob]) * min(_MAX_RUN_JITTER_US, iv // 5)
        ).astype(np.int64)
        offset = brng.integers(0, max(1, min(_MAX_EVENT_OFFSET_US, iv // 10)), e_count)
        noise_us = brng.integers(0, _US, (e_count, n_cols))
        captured = grid_us[None, :] + run_delay[None, :] + offset[:, None] + noise_us
        keep = (
            in_window
            & ~missing
            & ~run_missing[None, :]
            & (captured <= kick[:, None] + cfg.in_play_us)
        )
        ei, ki = np.nonzero(keep)
        parts["b"].append(np.full(ei.size, b_local, dtype=np.int64))
        parts["e"].append(ei)
        parts["t"].append(captured[ei, ki])
        parts["lh"].append(np.exp(view[0, ei, ki]) * rem[ei, ki])
        parts["la"].append(np.exp(view[1, ei, ki]) * rem[ei, ki])
        parts["gh"].append(score[0, ei, ki])
        parts["ga"].append(score[1, ei, ki])
        parts["m"].append(margin[ei])
        parts["susp"].append(brng.random((ei.size, _N_SLOTS)) < cfg.suspended_rate)
        lacks_sr = day.sr_flag[sel] & (brng.random(e_count) < _SR_ID_MISSING_BOOK_RATE)
        global_no = day.first_event + np.arange(sel.start, sel.stop)
        own = book.id_base + global_no * book.id_stride + brng.integers(0, book.id_stride, e_count)
        sr_ids += [
            None if lack else f"sr:match:{sr}"
            for lack, sr in zip(lacks_sr, day.sr_id[sel], strict=True)
        ]
        book_ids += [str(x) for x in own]

    arr = {k: np.concatenate(v) for k, v in parts.items()}
    if arr["b"].size == 0:
        return None
    order = np.lexsort((arr["e"], arr["b"], arr["t"]))
    arr = {k: v[order] for k, v in arr.items()}
    b_idx, e_idx = arr["b"], arr["e"]
    probs, decided = _fair_probs(arr["lh"], arr["la"], arr["gh"], arr["ga"], ah_lines[e_idx])

    books = [BOOKMAKERS[DEFAULT_BOOKMAKERS[g]] for g in cfg.books]
    m = arr["m"][:, None] * _SLOT_FACTOR[None, :]
    q = probs * (1.0 + m * (1.0 - _ALPHA)) + _ALPHA * m * _SLOT_SUM / _SLOT_N
    scale = np.array([10.0**bk.decimals for bk in books])[b_idx][:, None]
    cap = np.array([bk.max_odds for bk in books])[b_idx][:, None]
    odds = np.clip(np.floor(scale / q + 1e-7) / scale, 1.01, cap)

    state, slot = np.nonzero(~arr["susp"] & ~decided)
    n_rows = state.size
    row_e = e_idx[state]
    row_be = b_idx[state] * e_count + row_e
    line_grid = np.full((e_count, _N_SLOTS), np.nan)
    line_grid[:, _OU_SLOTS] = np.repeat(np.asarray(_OU_LINES), 2)[None, :]
    line_grid[:, _AH_SLOTS] = np.repeat(ah_lines, 2, axis=1)
    tour = [TOURNAMENTS[t] for t in day.tournament[sel]]
    home = [t.teams[h] for t, h in zip(tour, day.home[sel], strict=True)]
    away = [t.teams[a] for t, a in zip(tour, day.away[sel], strict=True)]
    utc = pl.Datetime("us", "UTC")

    def gather(values: Sequence[str | None], idx: np.ndarray) -> pl.Series:
        return pl.Series(values, dtype=pl.String).gather(idx)

    frame = pl.DataFrame(
        {
            "captured_at": pl.Series(arr["t"][state]).cast(utc),
            "bookmaker": gather([bk.name for bk in books], b_idx[state]),
            "sport": gather(["football"], np.zeros(n_rows, dtype=np.int64)),
            "country": gather([t.country for t in tour], row_e),
            "tournament": gather([t.name for t in tour], row_e),
            "sportradar_id": gather(sr_ids, row_be),
            "bookmaker_event_id": gather(book_ids, row_be),
            "home_team": gather(home, row_e),
            "away_team": gather(away, row_e),
            "kickoff": pl.Series(kick[row_e]).cast(utc),
            "market": _SLOT_MARKET.gather(slot),
            "line": pl.Series(line_grid[row_e, slot], nan_to_null=True),
            "outcome": _SLOT_OUTCOME.gather(slot),
            "odds": pl.Series(odds[state, slot]),
        },
        schema=SAMPLE_SCHEMA,
    )
    return frame, row_e


def _iter(cfg: _Config) -> Iterator[tuple[pl.DataFrame, int]]:
    """Yield (chunk, number of matches in it), stopping at ``cfg.max_rows``."""
    ratings = _ratings(cfg.seed)
    lead_mean_us = sum(_LEAD_HOURS) / 2 * 3600 * _US + cfg.in_play_us
    per_chunk = max(1, int(_CHUNK_EVENT_SNAPSHOTS * cfg.interval_us / lead_mean_us))
    remaining = cfg.max_rows
    days = itertools.count() if cfg.days is None else range(cfg.days)
    for day_no in days:
        day = _fixtures(cfg, day_no, ratings)
        for chunk_no, lo in enumerate(range(0, day.kickoff_us.size, per_chunk)):
            sel = slice(lo, min(lo + per_chunk, day.kickoff_us.size))
            made = _chunk(cfg, day, day_no, chunk_no, sel)
            if made is None or made[0].height == 0:
                continue
            df, row_event = made
            if remaining is not None and df.height >= remaining:
                df = df.head(remaining)
                remaining = 0
            elif remaining is not None:
                remaining -= df.height
            yield df, int(np.unique(row_event[: df.height]).size)
            if remaining == 0:
                return


# --- public API ------------------------------------------------------------------------------


def iter_sample(
    *,
    start: datetime | None = None,
    days: int = 3,
    events_per_day: int = 100,
    bookmakers: Sequence[str] = DEFAULT_BOOKMAKERS,
    interval_minutes: float = 5,
    seed: int = 0,
    max_rows: int | None = None,
    in_play_minutes: float = 0,
    missing_snapshot_rate: float = 0.02,
    suspended_outcome_rate: float = 0.005,
) -> Iterator[pl.DataFrame]:
    """Yield the sample in chunks (runs of consecutive kickoffs), each sorted by time.

    ``start`` must be timezone-aware; it defaults to now (UTC) minus ``days``, floored
    to the hour (pass it explicitly for reproducible output). Matches kick off in
    ``[start, start + days)``. ``max_rows`` stops after at most that many rows (cutting
    the last chunk mid-snapshot). The keyword-only rates and ``in_play_minutes`` tune
    the model (see the module docstring).
    Raises :class:`~oddskit.errors.ConfigurationError` for invalid arguments.

    Examples:
        >>> from datetime import UTC, datetime
        >>> chunks = iter_sample(
        ...     start=datetime(2026, 11, 1, tzinfo=UTC),
        ...     days=1,
        ...     events_per_day=3,
        ...     bookmakers=["Pinnacle"],
        ...     max_rows=1000,
        ... )
        >>> sum(chunk.height for chunk in chunks)
        1000
    """
    cfg = _config(
        start=start,
        days=days,
        events_per_day=events_per_day,
        bookmakers=bookmakers,
        interval_minutes=interval_minutes,
        seed=seed,
        max_rows=max_rows,
        in_play_minutes=in_play_minutes,
        missing_snapshot_rate=missing_snapshot_rate,
        suspended_outcome_rate=suspended_outcome_rate,
    )
    return (df for df, _ in _iter(cfg))


def generate_sample(
    *,
    start: datetime | None = None,
    days: int = 3,
    events_per_day: int = 100,
    bookmakers: Sequence[str] = DEFAULT_BOOKMAKERS,
    interval_minutes: float = 5,
    seed: int = 0,
    max_rows: int | None = None,
    in_play_minutes: float = 0,
    missing_snapshot_rate: float = 0.02,
    suspended_outcome_rate: float = 0.005,
) -> pl.DataFrame:
    """Return the whole sample as one frame (for small samples; see :func:`iter_sample`).

    Examples:
        >>> from datetime import UTC, datetime
        >>> df = generate_sample(
        ...     start=datetime(2026, 11, 1, tzinfo=UTC), days=1, events_per_day=2
        ... )
        >>> bool((df["odds"] > 1).all()), bool((df["captured_at"] <= df["kickoff"]).all())
        (True, True)
        >>> generate_sample(start=datetime(2026, 11, 1), days=1)
        Traceback (most recent call last):
        ...
        oddskit.errors.ConfigurationError: `start` must be timezone-aware, ...
    """
    chunks = list(
        iter_sample(
            start=start,
            days=days,
            events_per_day=events_per_day,
            bookmakers=bookmakers,
            interval_minutes=interval_minutes,
            seed=seed,
            max_rows=max_rows,
            in_play_minutes=in_play_minutes,
            missing_snapshot_rate=missing_snapshot_rate,
            suspended_outcome_rate=suspended_outcome_rate,
        )
    )
    return pl.concat(chunks, how="vertical") if chunks else SAMPLE_SCHEMA.to_frame()


def _arrow_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("captured_at", pa.timestamp("us", tz="UTC")),
            ("bookmaker", pa.string()),
            ("sport", pa.string()),
            ("country", pa.string()),
            ("tournament", pa.string()),
            ("sportradar_id", pa.string()),
            ("bookmaker_event_id", pa.string()),
            ("home_team", pa.string()),
            ("away_team", pa.string()),
            ("kickoff", pa.timestamp("us", tz="UTC")),
            ("market", pa.string()),
            ("line", pa.float64()),
            ("outcome", pa.string()),
            ("odds", pa.float64()),
        ]
    )


def write_sample(
    path: str | os.PathLike[str],
    *,
    rows: int | None = None,
    format: Literal["csv", "parquet"] | None = None,
    start: datetime | None = None,
    days: int = 3,
    events_per_day: int = 100,
    bookmakers: Sequence[str] = DEFAULT_BOOKMAKERS,
    interval_minutes: float = 5,
    seed: int = 0,
    in_play_minutes: float = 0,
    missing_snapshot_rate: float = 0.02,
    suspended_outcome_rate: float = 0.005,
) -> SampleSummary:
    """Stream the sample to a CSV or Parquet file, chunk by chunk, in bounded memory.

    ``format`` defaults from the suffix (``.csv``, ``.parquet``/``.pq``). Without
    ``rows`` the file holds ``days`` days; with ``rows`` it holds exactly that many rows
    (more days are generated as needed; ``days`` then only sets the default ``start``,
    so a large ``rows`` with the default ``start`` runs past the present).
    CSV timestamps are ISO 8601 with offset (``2026-11-29T10:05:00.123456+00:00``). The
    file is written under a temporary name and renamed when complete.

    Examples:
        >>> import tempfile
        >>> from datetime import UTC, datetime
        >>> from pathlib import Path
        >>> target = Path(tempfile.mkdtemp()) / "odds.parquet"
        >>> summary = write_sample(
        ...     target, rows=5_000, start=datetime(2026, 11, 1, tzinfo=UTC)
        ... )
        >>> summary.rows, pl.read_parquet(target).height
        (5000, 5000)
    """
    target = Path(path)
    if format is None:
        suffix = target.suffix.lower()
        fmt = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix)
        if fmt is None:
            raise ConfigurationError(
                f"cannot tell the format of {str(target)!r} from its suffix {suffix!r}; "
                "use a .csv or .parquet path or pass format='csv' or format='parquet'"
            )
    elif format in ("csv", "parquet"):
        fmt = format
    else:
        raise ConfigurationError(f"`format` must be 'csv', 'parquet' or None, got {format!r}")
    if rows is not None:
        _check_int("rows", rows, minimum=1)
    if not target.parent.is_dir():
        raise ConfigurationError(
            f"the directory {str(target.parent)!r} of `path` does not exist; create it first"
        )
    cfg = _config(
        start=start,
        days=days,
        events_per_day=events_per_day,
        bookmakers=bookmakers,
        interval_minutes=interval_minutes,
        seed=seed,
        max_rows=rows,
        in_play_minutes=in_play_minutes,
        missing_snapshot_rate=missing_snapshot_rate,
        suspended_outcome_rate=suspended_outcome_rate,
        unlimited_days=rows is not None,
    )
    began = time.perf_counter()
    partial = target.with_name(target.name + ".partial")
    n_rows = n_events = 0
    first: datetime | None = None
    last: datetime | None = None
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            schema = _arrow_schema()
            with pq.ParquetWriter(partial, schema, compression="zstd") as writer:
                for df, events in _iter(cfg):
                    writer.write_table(df.to_arrow().cast(schema))
                    n_rows, n_events = n_rows + df.height, n_events + events
                    first, last = _bounds(df, first, last)
        else:
            with open(partial, "wb") as fh:
                header = True
                for df, events in _iter(cfg):
                    df.write_csv(fh, include_header=header, datetime_format=_CSV_DATETIME_FORMAT)
                    header = False
                    n_rows, n_events = n_rows + df.height, n_events + events
                    first, last = _bounds(df, first, last)
                if header:
                    SAMPLE_SCHEMA.to_frame().write_csv(fh)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return SampleSummary(
        path=target,
        format=fmt,  # type: ignore[arg-type]
        rows=n_rows,
        events=n_events,
        bookmakers=tuple(DEFAULT_BOOKMAKERS[b] for b in cfg.books),
        first_captured_at=first,
        last_captured_at=last,
        seconds=time.perf_counter() - began,
    )


def _bounds(
    df: pl.DataFrame, first: datetime | None, last: datetime | None
) -> tuple[datetime | None, datetime | None]:
    lo = df["captured_at"].min().astimezone(UTC)  # type: ignore[union-attr]
    hi = df["captured_at"].max().astimezone(UTC)  # type: ignore[union-attr]
    return (
        lo if first is None or lo < first else first,  # type: ignore[operator]
        hi if last is None or hi > last else last,  # type: ignore[operator]
    )
