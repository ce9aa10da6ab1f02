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

Examples
--------
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

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import polars as pl

from oddskit.arguments import aware_datetime, choice, integer, number, texts
from oddskit.errors import ConfigurationError
from oddskit.sample_chunks import SAMPLE_SCHEMA, Config, iter_chunks
from oddskit.sample_model import US
from oddskit.sample_world import (
    BOOK_INDEX,
    BOOKMAKERS,
    DEFAULT_BOOKMAKERS,
    TOURNAMENTS,
    Bookmaker,
    Tournament,
)

__all__ = [
    "BOOKMAKERS",
    "DEFAULT_BOOKMAKERS",
    "SAMPLE_SCHEMA",
    "TOURNAMENTS",
    "Bookmaker",
    "SampleFormat",
    "SampleSummary",
    "Tournament",
    "generate_sample",
    "iter_sample",
    "write_sample",
]

#: File formats of :func:`write_sample`.
SampleFormat = Literal["csv", "parquet"]

_CSV_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f%:z"


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`write_sample` wrote."""

    path: Path
    format: SampleFormat
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


# --- validation ---------------------------------------------------------------------------


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
    own_names: bool = False,
    unlimited_days: bool = False,
) -> Config:
    days = integer(days, "days")  # type: ignore[assignment]
    start = aware_datetime(start, "start") or _default_start(days)
    events_per_day = integer(events_per_day, "events_per_day")  # type: ignore[assignment]
    bookmakers = texts(bookmakers, "bookmakers") or []
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
    interval_minutes = number(interval_minutes, "interval_minutes", at_least=0.25, at_most=1440)
    seed = integer(seed, "seed", minimum=0)  # type: ignore[assignment]
    max_rows = integer(max_rows, "max_rows", allow_none=True)
    in_play_minutes = number(in_play_minutes, "in_play_minutes", at_least=0, at_most=90)
    for label, rate in (
        ("missing_snapshot_rate", missing_snapshot_rate),
        ("suspended_outcome_rate", suspended_outcome_rate),
    ):
        number(rate, label, at_least=0, at_most=0.5)
    start_utc = start.astimezone(UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return Config(
        start_us=(start_utc - epoch) // timedelta(microseconds=1),
        days=None if unlimited_days else int(days),
        events_per_day=int(events_per_day),
        books=tuple(BOOK_INDEX[n] for n in names),
        interval_us=round(float(interval_minutes) * 60 * US),
        seed=int(seed),
        max_rows=None if max_rows is None else int(max_rows),
        in_play_us=round(float(in_play_minutes) * 60 * US),
        missing_rate=float(missing_snapshot_rate),
        suspended_rate=float(suspended_outcome_rate),
        own_names=bool(own_names),
    )


# --- public API ------------------------------------------------------------------------------


def iter_sample(
    *,
    start: datetime | None = None,
    days: int = 3,
    events_per_day: int = 100,
    bookmakers: str | Sequence[str] = DEFAULT_BOOKMAKERS,
    interval_minutes: float = 5,
    seed: int = 0,
    max_rows: int | None = None,
    in_play_minutes: float = 0,
    missing_snapshot_rate: float = 0.02,
    suspended_outcome_rate: float = 0.005,
    own_names: bool = False,
) -> Iterator[pl.DataFrame]:
    """Yield the sample in chunks (runs of consecutive kickoffs), each sorted by time.

    Parameters
    ----------
    start
        The first day's start (timezone-aware): matches kick off in
        ``[start, start + days)``. Default: now (UTC) minus ``days``, floored to the
        hour; pass it explicitly for reproducible output.
    days
        Days of matches.
    events_per_day
        Matches per day.
    bookmakers
        A bookmaker or a list of those of :data:`BOOKMAKERS` (any case); a subset gives
        exactly those bookmakers' rows of the full sample.
    interval_minutes
        Minutes between two scrapes of a bookmaker (0.25 to 1440).
    seed
        Random seed (≥ 0).
    max_rows
        Stop after at most this many rows (cutting the last chunk mid-snapshot).
    in_play_minutes, missing_snapshot_rate, suspended_outcome_rate
        Tune the model (see the module docstring): prices after kickoff, the share of
        missing snapshots (≤ 0.5) and of suspended outcomes (≤ 0.5).
    own_names
        Each bookmaker spells teams and tournaments its own way
        (:data:`oddskit.team_spellings.SAMPLE_STYLES`: betPawa ``Man United``, Bet9ja
        ``MANCHESTER UTD``, SportyBet ``AFC Bournemouth``) and only Pinnacle carries
        SportRadar ids, as real feeds do: for testing how listings link into matches.

    Returns
    -------
    Iterator[pl.DataFrame]
        Chunks with the columns of :data:`SAMPLE_SCHEMA`. Invalid arguments raise
        :class:`~oddskit.errors.ConfigurationError` at the call, before any chunk.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> chunks = iter_sample(
    ...     start=datetime(2026, 11, 1, tzinfo=UTC),
    ...     days=1,
    ...     events_per_day=3,
    ...     bookmakers="Pinnacle",
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
        own_names=own_names,
    )
    return (df for df, _ in iter_chunks(cfg))


def generate_sample(
    *,
    start: datetime | None = None,
    days: int = 3,
    events_per_day: int = 100,
    bookmakers: str | Sequence[str] = DEFAULT_BOOKMAKERS,
    interval_minutes: float = 5,
    seed: int = 0,
    max_rows: int | None = None,
    in_play_minutes: float = 0,
    missing_snapshot_rate: float = 0.02,
    suspended_outcome_rate: float = 0.005,
    own_names: bool = False,
) -> pl.DataFrame:
    """Return the whole sample as one frame (for small samples; see :func:`iter_sample`).

    Parameters
    ----------
    start, days, events_per_day, bookmakers, interval_minutes, seed, max_rows
        As in :func:`iter_sample`.
    in_play_minutes, missing_snapshot_rate, suspended_outcome_rate, own_names
        As in :func:`iter_sample`.

    Returns
    -------
    pl.DataFrame
        The columns of :data:`SAMPLE_SCHEMA`.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> df = generate_sample(start=datetime(2026, 11, 1, tzinfo=UTC), days=1, events_per_day=2)
    >>> bool((df["odds"] > 1).all()), bool((df["captured_at"] <= df["kickoff"]).all())
    (True, True)
    >>> generate_sample(start=datetime(2026, 11, 1), days=1)
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `start` is a naive datetime (2026-11-01 00:00:00); ...
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
            own_names=own_names,
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
    format: SampleFormat | None = None,
    start: datetime | None = None,
    days: int = 3,
    events_per_day: int = 100,
    bookmakers: str | Sequence[str] = DEFAULT_BOOKMAKERS,
    interval_minutes: float = 5,
    seed: int = 0,
    in_play_minutes: float = 0,
    missing_snapshot_rate: float = 0.02,
    suspended_outcome_rate: float = 0.005,
    own_names: bool = False,
) -> SampleSummary:
    """Stream the sample to a CSV or Parquet file, chunk by chunk, in bounded memory.

    CSV timestamps are ISO 8601 with offset (``2026-11-29T10:05:00.123456+00:00``). The
    file is written under a temporary name and renamed when complete.

    Parameters
    ----------
    path
        The file to write (its folder must exist).
    rows
        Write exactly this many rows (more days are generated as needed; ``days``
        then only sets the default ``start``, so a large ``rows`` with the default
        ``start`` runs past the present). Default: ``days`` days.
    format
        ``"csv"`` or ``"parquet"``; default: from the suffix (``.csv``,
        ``.parquet``/``.pq``).
    start, days, events_per_day, bookmakers, interval_minutes, seed
        As in :func:`iter_sample`.
    in_play_minutes, missing_snapshot_rate, suspended_outcome_rate, own_names
        As in :func:`iter_sample`.

    Returns
    -------
    SampleSummary
        What was written: path, rows, matches, bookmakers, time span, seconds.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import UTC, datetime
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "odds.parquet"
    >>> summary = write_sample(target, rows=5_000, start=datetime(2026, 11, 1, tzinfo=UTC))
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
    else:
        fmt = choice(format, "format", SampleFormat)
    integer(rows, "rows", allow_none=True)
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
        own_names=own_names,
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
                for df, events in iter_chunks(cfg):
                    writer.write_table(df.to_arrow().cast(schema))
                    n_rows, n_events = n_rows + df.height, n_events + events
                    first, last = _bounds(df, first, last)
        else:
            with open(partial, "wb") as fh:
                header = True
                for df, events in iter_chunks(cfg):
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
