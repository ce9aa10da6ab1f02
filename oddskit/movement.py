r"""Line movement across snapshots and bookmakers: summaries, steam, lead–lag, best prices.

Pure, vectorised Polars functions over long odds frames (one row per priced outcome
per snapshot). Nothing here touches a database.

Frames and keys
---------------
Input frames have the columns ``captured_at`` (``Datetime`` with a time zone; UTC
microseconds are used throughout, other zones and units are converted, naive
timestamps are rejected), ``bookmaker``, ``outcome``, ``odds`` (decimal, > 1; rows
with null odds, i.e. suspended outcomes, are ignored) and the *market keys*. The
market keys identify one market of one event across bookmakers and snapshots; the
default is the columns of ``event_id, market, line`` present in the frame
(``event_id`` is required unless ``by=`` is passed). ``bookmaker`` and ``outcome``
are never part of ``by=``; they are added where needed:

* a *price series* is ``market keys × bookmaker × outcome`` over ``captured_at``;
* a *market instance* is ``market keys × bookmaker × captured_at`` (one snapshot of
  one market at one bookmaker, as in :data:`~oddskit.markets.MARKET_INSTANCE_KEYS`);
* the *board* is, for each market keys × bookmaker, its latest snapshot (at or before
  ``at=`` when given). Outcomes missing from that snapshot are not offered: an
  older price of a suspended outcome is never carried forward. With
  ``aligned=True`` a frame already on a common grid (see :func:`align_bookmakers`)
  is compared instant by instant instead.

Definitions and units
---------------------
* implied probability ``p = 1/odds`` (margin included);
* *probability points* are fractions: ``0.02`` is two percentage points;
* log-odds ``logit(p) = log(p / (1 - p)) = -log(odds - 1)``; a positive change means
  the outcome became more likely (its odds shortened);
* a *move* of one bookmaker is a change between two consecutive snapshots of one
  price series. :func:`summarise_movement` counts moves with ``|Δodds| ≥ tick``;
  :func:`detect_steam` and :func:`lead_lag` use moves with ``|Δp| ≥`` a threshold in
  probability points. Direction is ``"shortening"`` (odds down, ``Δp > 0``) or
  ``"drifting"`` (odds up);
* fair probabilities come from :func:`oddskit.margins.remove_margin`; fair odds are
  ``1 / fair_prob``.

Durations are :class:`datetime.timedelta` values or Polars duration strings with
fixed units (``"5m"``, ``"1h30m"``; calendar units ``mo``/``y`` are refused).

Examples
--------
>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
>>> frame = pl.DataFrame({
...     "event_id": [1, 1, 1], "bookmaker": ["A"] * 3, "market": ["1x2"] * 3,
...     "outcome": ["home"] * 3, "odds": [2.10, 2.00, 1.95],
...     "captured_at": [t0, t0 + timedelta(minutes=5), t0 + timedelta(minutes=10)],
... })
>>> summarise_movement(frame).select("opening_odds", "current_odds", "n_moves").rows()
[(2.1, 1.95, 2)]
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from oddskit.errors import ConfigurationError, ValidationError
from oddskit.margins import METHODS, check_decimal_odds, remove_margin
from oddskit.markets import EXCLUSIVE_MARKETS, MARKET_OUTCOMES

__all__ = [
    "DEFAULT_MARKET_KEYS",
    "align_bookmakers",
    "best_prices",
    "closing_line_value",
    "consensus_line",
    "detect_steam",
    "dropping_odds",
    "find_arbitrage",
    "lead_lag",
    "lead_lag_summary",
    "summarise_movement",
]

#: Default market keys (those present in the frame are used; ``event_id`` is required).
DEFAULT_MARKET_KEYS: Final[tuple[str, ...]] = ("event_id", "market", "line")

#: Columns that can never be market keys.
_RESERVED: Final[frozenset[str]] = frozenset({"bookmaker", "outcome", "captured_at", "odds"})

#: Tolerance for comparing float price differences with a threshold (2.05 - 2.04 < 0.01).
_EPS: Final = 1e-9

_GID: Final = "__oddskit_gid"
_T: Final = "__oddskit_t"
_ROW: Final = "__oddskit_row"

# Keyword names that changed across the Polars versions oddskit supports.
_JOIN_PARAMS = inspect.signature(pl.DataFrame.join).parameters
_NULLS_EQUAL: Final[dict[str, bool]] = (
    {"nulls_equal": True} if "nulls_equal" in _JOIN_PARAMS else {"join_nulls": True}
)
_ASOF_KW: Final[dict[str, bool]] = (
    {"check_sortedness": False}
    if "check_sortedness" in inspect.signature(pl.DataFrame.join_asof).parameters
    else {}
)

_DURATION_UNITS: Final[dict[str, timedelta]] = {
    "us": timedelta(microseconds=1),
    "µs": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DURATION_RE: Final = re.compile(r"(\d+)(us|µs|ms|s|m|h|d|w)")

# --------------------------------------------------------------------------------------
# Argument and frame validation
# --------------------------------------------------------------------------------------


def _duration(value: object, name: str, *, allow_none: bool = False) -> timedelta | None:
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        text = value.strip()
        parts = _DURATION_RE.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ConfigurationError(
                f"`{name}` must be a timedelta or a duration string with fixed units "
                f"such as '5m' or '1h30m' (units us, ms, s, m, h, d, w), got {value!r}"
            )
        value = sum((int(n) * _DURATION_UNITS[u] for n, u in parts), timedelta())
    if not isinstance(value, timedelta):
        raise ConfigurationError(
            f"`{name}` must be a datetime.timedelta or a string such as '5m', "
            f"got {type(value).__name__} {value!r}"
        )
    if value <= timedelta(0):
        raise ConfigurationError(f"`{name}` must be positive, got {value!r}")
    return value


def _instant(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ConfigurationError(
            f"`{name}` must be a timezone-aware datetime, got {type(value).__name__} {value!r}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"`{name}` must be timezone-aware, got the naive datetime {value!r}; pass e.g. "
            f"datetime(2026, 5, 1, 12, tzinfo=UTC), or {name}.replace(tzinfo=UTC) if it "
            "is already in UTC"
        )
    return value.astimezone(UTC)


def _positive(value: object, name: str, *, below: float | None = None) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = math.isfinite(number) and number > 0 and (below is None or number < below)
    if not ok:
        where = f"in (0, {below})" if below is not None else "> 0"
        raise ConfigurationError(f"`{name}` must be a finite number {where}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _choice(value: object, name: str, options: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ConfigurationError(f"`{name}` must be one of {set(options)}, got {value!r}")
    return value


def _time_column(df: pl.DataFrame, col: str) -> pl.DataFrame:
    dtype = df.schema[col]
    if not isinstance(dtype, pl.Datetime):
        raise ValidationError(f"column {col!r} must be a Datetime column, got dtype {dtype}")
    if dtype.time_zone is None:
        raise ValidationError(
            f"column {col!r} holds naive datetimes; oddskit works in UTC. If they are UTC, "
            f'fix the frame with frame.with_columns(pl.col("{col}").dt.replace_time_zone("UTC"))'
        )
    if dtype.time_zone != "UTC" or dtype.time_unit != "us":
        df = df.with_columns(pl.col(col).dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC")))
    return df


def _resolve_by(frame: pl.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        if "event_id" not in frame.columns:
            raise ValidationError(
                "the frame has no 'event_id' column. Derive one, e.g. frame.with_columns("
                "event_id=pl.struct('home_team', 'away_team', 'kickoff').rank('dense')), "
                "or pass by=[...] with the columns that identify an event's market"
            )
        return [k for k in DEFAULT_MARKET_KEYS if k in frame.columns]
    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ConfigurationError(
            f"`by` names column(s) {missing} that the frame does not have; "
            f"available columns are {frame.columns}"
        )
    reserved = sorted(set(keys) & _RESERVED)
    if reserved:
        raise ConfigurationError(
            f"`by` lists market key columns and must not contain {reserved}; "
            "'bookmaker' and 'outcome' are added where needed"
        )
    return keys


def _prepare(
    frame: pl.DataFrame,
    by: str | Sequence[str] | None,
    *,
    bookmaker: bool = True,
    name: str = "frame",
) -> tuple[pl.DataFrame, list[str]]:
    """Validated copy of ``frame`` (UTC, Float64 odds, no null odds) and its market keys."""
    if not isinstance(frame, pl.DataFrame):
        raise ConfigurationError(
            f"`{name}` must be a polars DataFrame, got {type(frame).__name__}; "
            "collect a LazyFrame first"
        )
    required = ["captured_at", "outcome", "odds", *(["bookmaker"] if bookmaker else [])]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"`{name}` lacks column(s) {missing}; it has {frame.columns}. Odds frames are "
            "long: one row per priced outcome with captured_at, bookmaker, outcome, odds"
        )
    clash = [c for c in frame.columns if c.startswith("__oddskit")]
    if clash:
        raise ValidationError(f"column names starting with '__oddskit' are reserved: {clash}")
    keys = _resolve_by(frame, by)
    df = _time_column(frame, "captured_at")
    odds = check_decimal_odds(df.get_column("odds"), "'odds'")
    df = df.with_columns(odds).filter(pl.col("odds").is_not_null())
    return df, keys


def _group_id(cols: Sequence[str]) -> pl.Expr:
    """Dense integer id of the combination of ``cols`` (null-safe, for joins)."""
    if not cols:
        return pl.lit(1, dtype=pl.UInt32).alias(_GID)
    return pl.struct(list(cols)).rank("dense").alias(_GID)


def _check_bookmaker(df: pl.DataFrame, value: object, name: str) -> str | None:
    if value is None:
        return None
    books = sorted(df.get_column("bookmaker").unique().drop_nulls().to_list())
    if not isinstance(value, str) or value not in books:
        raise ConfigurationError(
            f"`{name}` must be one of the frame's bookmakers {books} or None, got {value!r}"
        )
    return value


def _moves(df: pl.DataFrame, keys: list[str], threshold: float) -> pl.DataFrame:
    """Consecutive-snapshot moves with ``|Δ implied prob| ≥ threshold`` (needs ``_GID``)."""
    series = [*keys, "bookmaker", "outcome"]
    prob = 1.0 / pl.col("odds")
    return (
        df.sort([*series, "captured_at"])
        .with_columns(
            pl.col("odds").shift(1).over(series).alias("prev_odds"),
            (prob - prob.shift(1)).over(series).alias("move"),
        )
        .filter(pl.col("move").abs() >= threshold - _EPS)
        .with_columns(
            pl.when(pl.col("move") > 0)
            .then(pl.lit("shortening"))
            .otherwise(pl.lit("drifting"))
            .alias("direction")
        )
    )


def _board(
    df: pl.DataFrame,
    keys: list[str],
    *,
    at: datetime | None,
    aligned: bool,
    max_age: timedelta | None,
    before: str | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Comparable prices: latest snapshot per market × bookmaker, or the aligned frame.

    Returns the rows and the comparison keys (market keys, plus ``captured_at`` when
    ``aligned``).
    """
    if aligned:
        if at is not None or max_age is not None:
            raise ConfigurationError(
                "`at` and `max_age` apply to raw snapshots; with aligned=True every "
                "captured_at is already a comparison instant (filter the frame instead)"
            )
        dup = df.filter(pl.len().over([*keys, "captured_at", "bookmaker", "outcome"]) > 1)
        if dup.height:
            raise ValidationError(
                "aligned=True expects one price per instant × bookmaker × outcome, but "
                f"{dup.height} rows share one; align the frame with align_bookmakers first"
            )
        return df, [*keys, "captured_at"]
    if at is not None:
        df = df.filter(pl.col("captured_at") <= at)
    if before is not None:
        df = df.filter(pl.col("captured_at") < pl.col(before))
    inst = [*keys, "bookmaker"]
    df = df.filter(pl.col("captured_at") == pl.col("captured_at").max().over(inst))
    if max_age is not None:
        ref = pl.lit(at) if at is not None else pl.col("captured_at").max().over(keys)
        df = df.filter(ref - pl.col("captured_at") <= max_age)
    return df, keys


def _consensus(
    board: pl.DataFrame, gkeys: list[str], *, method: str, instance: list[str]
) -> pl.DataFrame:
    fair = remove_margin(board, method=method, by=instance).filter(
        pl.col("fair_prob").is_not_null()
    )
    okeys = [*gkeys, "outcome"]
    out = (
        fair.group_by(okeys)
        .agg(
            pl.col("bookmaker").n_unique().alias("n_bookmakers"),
            pl.col("bookmaker").unique().sort().alias("bookmakers"),
            pl.col("fair_prob").mean().alias("__mean"),
            pl.col("fair_prob").min().alias("fair_prob_min"),
            pl.col("fair_prob").max().alias("fair_prob_max"),
            pl.col("overround").mean().alias("mean_overround"),
        )
        .with_columns((pl.col("__mean") / pl.col("__mean").sum().over(gkeys)).alias("fair_prob"))
        .with_columns((1.0 / pl.col("fair_prob")).alias("fair_odds"))
    )
    return out.select(
        *okeys,
        "fair_prob",
        "fair_odds",
        "n_bookmakers",
        "bookmakers",
        "fair_prob_min",
        "fair_prob_max",
        "mean_overround",
    ).sort(okeys, nulls_last=False)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def summarise_movement(
    frame: pl.DataFrame,
    *,
    kickoff_col: str | None = "kickoff",
    tick: float = 0.01,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Opening, current and closing prices and the movement of every price series.

    One row per market keys × bookmaker × outcome (``bookmaker`` optional here):

    * ``opening_odds/_at`` (first snapshot), ``current_odds/_at`` (last snapshot),
      ``closing_odds/_at`` (last snapshot strictly before the kickoff, null without a
      kickoff column; a rescheduled kickoff uses its last value), ``min_odds``,
      ``max_odds``, ``n_snapshots``;
    * ``odds_change`` (current − opening), ``odds_change_pct`` (current/opening − 1),
      ``prob_change`` (implied-probability points) and ``logit_change`` (log-odds of
      the implied probability), all opening → current;
    * ``largest_move`` (signed Δodds between consecutive snapshots with the largest
      ``|Δodds|``; the earliest on ties) and ``largest_move_at`` (capture of the new
      price; null when the price never moved);
    * ``n_moves``: consecutive-snapshot changes with ``|Δodds| ≥ tick`` (default 0.01,
      one unit of two-decimal odds, so the third decimal of sharp books is noise).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "bookmaker": "A", "market": "1x2", "outcome": "home",
    ...     "odds": [2.10, 2.105, 1.90, 1.95],
    ...     "captured_at": [t0 + timedelta(minutes=m) for m in (0, 5, 10, 15)],
    ...     "kickoff": t0 + timedelta(minutes=15),
    ... })
    >>> row = summarise_movement(frame).row(0, named=True)
    >>> row["closing_odds"], row["current_odds"], row["n_moves"], round(row["largest_move"], 3)
    (1.9, 1.95, 2, -0.205)
    >>> row["largest_move_at"] == t0 + timedelta(minutes=10)
    True
    """
    tick = _positive(tick, "tick")
    df, keys = _prepare(frame, by, bookmaker=False)
    series = [*keys, *(["bookmaker"] if "bookmaker" in df.columns else []), "outcome"]
    if kickoff_col is not None and kickoff_col not in df.columns and kickoff_col != "kickoff":
        raise ConfigurationError(
            f"`kickoff_col` names column {kickoff_col!r} that the frame does not have; "
            "pass kickoff_col=None to skip closing prices"
        )
    has_kickoff = kickoff_col is not None and kickoff_col in df.columns
    if has_kickoff:
        df = _time_column(df, kickoff_col)  # type: ignore[arg-type]
    delta = pl.col("__d")
    by_size = {"by": delta.abs(), "descending": True, "nulls_last": True, "maintain_order": True}
    aggs = [
        pl.len().alias("n_snapshots"),
        pl.col("odds").first().alias("opening_odds"),
        pl.col("captured_at").first().alias("opening_at"),
        pl.col("odds").last().alias("current_odds"),
        pl.col("captured_at").last().alias("current_at"),
        pl.col("odds").min().alias("min_odds"),
        pl.col("odds").max().alias("max_odds"),
        delta.sort_by(**by_size).first().alias("largest_move"),
        pl.col("captured_at").sort_by(**by_size).first().alias("largest_move_at"),
        (delta.abs() >= tick - _EPS).sum().alias("n_moves"),
    ]
    if has_kickoff:
        pre = pl.col("captured_at") < pl.col(kickoff_col)
        aggs += [
            pl.col(kickoff_col).last(),
            pl.col("odds").filter(pre).last().alias("closing_odds"),
            pl.col("captured_at").filter(pre).last().alias("closing_at"),
        ]
    out = (
        df.sort([*series, "captured_at"])
        .with_columns(pl.col("odds").diff().over(series).alias("__d"))
        .group_by(series)
        .agg(aggs)
    )
    if not has_kickoff:
        out = out.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("closing_odds"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("closing_at"),
        )
    moved = pl.col("largest_move").fill_null(0.0) != 0.0
    opening, current = pl.col("opening_odds"), pl.col("current_odds")
    out = out.with_columns(
        pl.when(moved).then(pl.col("largest_move")).otherwise(0.0).alias("largest_move"),
        pl.when(moved).then(pl.col("largest_move_at")).alias("largest_move_at"),
        (current - opening).alias("odds_change"),
        (current / opening - 1.0).alias("odds_change_pct"),
        (1.0 / current - 1.0 / opening).alias("prob_change"),
        ((opening - 1.0).log() - (current - 1.0).log()).alias("logit_change"),
    )
    kick = [kickoff_col] if has_kickoff else []
    return out.select(
        *series,
        *kick,
        "n_snapshots",
        "opening_odds",
        "opening_at",
        "current_odds",
        "current_at",
        "closing_odds",
        "closing_at",
        "min_odds",
        "max_odds",
        "odds_change",
        "odds_change_pct",
        "prob_change",
        "logit_change",
        "largest_move",
        "largest_move_at",
        "n_moves",
    ).sort(series, nulls_last=False)


def dropping_odds(
    frame: pl.DataFrame,
    *,
    window: timedelta | str = timedelta(hours=1),
    min_drop: float = 0.05,
    as_of: datetime | None = None,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Price series whose odds shortened by at least ``min_drop`` within ``window``.

    The window ends at each series' latest snapshot (at or before ``as_of`` when
    given). The reference is the highest price in the window, counting the price in
    force at its start (the last snapshot before it). ``min_drop`` is a fraction of
    the odds, as on "dropping odds" pages: ``0.05`` means the odds fell by ≥ 5 %
    (``drop_pct = 1 − to_odds/from_odds``). ``prob_change`` gives the same drop in
    implied-probability points. Sorted by ``drop_pct``, largest first.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "bookmaker": "A", "market": "1x2",
    ...     "outcome": ["home", "home", "away", "away"], "odds": [2.0, 1.8, 4.0, 3.9],
    ...     "captured_at": [t0, t0 + timedelta(minutes=30)] * 2,
    ... })
    >>> dropping_odds(frame, min_drop=0.05).select("outcome", "from_odds", "to_odds").rows()
    [('home', 2.0, 1.8)]
    """
    window = _duration(window, "window")  # type: ignore[assignment]
    min_drop = _positive(min_drop, "min_drop", below=1.0)
    as_of = _instant(as_of, "as_of")
    df, keys = _prepare(frame, by, bookmaker=False)
    series = [*keys, *(["bookmaker"] if "bookmaker" in df.columns else []), "outcome"]
    if as_of is not None:
        df = df.filter(pl.col("captured_at") <= as_of)
    t = pl.col("captured_at")
    in_window = t >= t.max().over(series) - window
    anchor = ~in_window & in_window.shift(-1).over(series).fill_null(False)
    top = {"by": pl.col("odds"), "descending": True, "maintain_order": True}
    out = (
        df.sort([*series, "captured_at"])
        .filter(in_window | anchor)
        .group_by(series)
        .agg(
            pl.col("odds").max().alias("from_odds"),
            t.sort_by(**top).first().alias("from_at"),
            pl.col("odds").last().alias("to_odds"),
            t.last().alias("to_at"),
        )
        .with_columns(
            (1.0 - pl.col("to_odds") / pl.col("from_odds")).alias("drop_pct"),
            (1.0 / pl.col("to_odds") - 1.0 / pl.col("from_odds")).alias("prob_change"),
        )
        .filter(pl.col("drop_pct") >= min_drop - _EPS)
    )
    return out.sort(["drop_pct", *series], descending=[True] + [False] * len(series))


def detect_steam(
    frame: pl.DataFrame,
    *,
    window: timedelta | str = timedelta(minutes=10),
    min_bookmakers: int = 3,
    min_move: float = 0.02,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Steam moves: several bookmakers moving one outcome the same way within ``window``.

    A move is a change between consecutive snapshots of one bookmaker with
    ``|Δ implied prob| ≥ min_move`` (probability points; 0.02 = 2 points). For each
    outcome and direction, a window ``[t − window, t]`` ending at a move qualifies when
    it holds moves of at least ``min_bookmakers`` distinct bookmakers; overlapping
    qualifying windows merge into one steam episode (so a sustained steam may span
    more than ``window``). One row per episode: market keys, ``outcome``,
    ``direction``, ``window_start``/``window_end`` (first and last move),
    ``n_bookmakers``, ``bookmakers`` (in order of their first move), ``first_mover``
    (ties broken by name), ``n_moves`` and ``mean_move`` (mean Δp).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> rows = [(b, t0 + timedelta(minutes=m), o) for b, m0 in (("A", 0), ("B", 2), ("C", 4))
    ...         for m, o in ((m0 - 5, 2.0), (m0, 1.8))]
    >>> frame = pl.DataFrame(rows, schema=["bookmaker", "captured_at", "odds"], orient="row")
    >>> frame = frame.with_columns(event_id=1, market=pl.lit("1x2"), outcome=pl.lit("home"))
    >>> steam = detect_steam(frame, window=timedelta(minutes=5))
    >>> steam.select("direction", "first_mover", "bookmakers").rows()
    [('shortening', 'A', ['A', 'B', 'C'])]
    """
    window = _duration(window, "window")  # type: ignore[assignment]
    if isinstance(min_bookmakers, bool) or not isinstance(min_bookmakers, int):
        raise ConfigurationError(f"`min_bookmakers` must be an integer ≥ 2, got {min_bookmakers!r}")
    if min_bookmakers < 2:
        raise ConfigurationError(f"`min_bookmakers` must be an integer ≥ 2, got {min_bookmakers!r}")
    min_move = _positive(min_move, "min_move", below=1.0)
    df, keys = _prepare(frame, by)
    okeys = [*keys, "outcome"]
    grp = [_GID, "direction"]
    roll = {"index_column": "captured_at", "period": window, "closed": "both"}
    moves = (
        _moves(df.with_columns(_group_id(okeys)), keys, min_move)
        .sort([*grp, "captured_at", "bookmaker"])
        .with_columns(
            pl.col("bookmaker").n_unique().rolling(**roll).over(grp).alias("__nb"),
            pl.col("captured_at").min().rolling(**roll).over(grp).alias("__ws"),
        )
    )
    prev_end = pl.col("captured_at").shift(1).over(grp)
    episodes = (
        moves.filter(pl.col("__nb") >= min_bookmakers)
        .with_columns((prev_end.is_null() | (pl.col("__ws") > prev_end)).alias("__new"))
        .with_columns(pl.col("__new").cum_sum().over(grp).alias("__ep"))
        .group_by([*grp, "__ep"])
        .agg(pl.col("__ws").min().alias("__s"), pl.col("captured_at").max().alias("__e"))
    )
    first = {"by": ["captured_at", "bookmaker"]}
    out = (
        moves.join(episodes, on=grp)
        .filter(pl.col("captured_at").is_between(pl.col("__s"), pl.col("__e")))
        .group_by([*grp, "__ep"])
        .agg(
            *[pl.col(k).first() for k in okeys],
            pl.col("captured_at").min().alias("window_start"),
            pl.col("captured_at").max().alias("window_end"),
            pl.col("bookmaker").n_unique().alias("n_bookmakers"),
            pl.col("bookmaker").sort_by(**first).unique(maintain_order=True).alias("bookmakers"),
            pl.col("bookmaker").sort_by(**first).first().alias("first_mover"),
            pl.len().alias("n_moves"),
            pl.col("move").mean().alias("mean_move"),
        )
    )
    return out.select(
        *okeys,
        "direction",
        "window_start",
        "window_end",
        "n_bookmakers",
        "bookmakers",
        "first_mover",
        "n_moves",
        "mean_move",
    ).sort(["window_start", *okeys], nulls_last=False)


def lead_lag(
    frame: pl.DataFrame,
    *,
    leader: str | None = None,
    follower: str | None = "betPawa",
    threshold: float = 0.02,
    max_lag: timedelta | str = timedelta(hours=1),
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Who moves first, and how long the others take to follow in the same direction.

    Moves are consecutive-snapshot changes with ``|Δ implied prob| ≥ threshold``
    (probability points). *Lead moves*: with ``leader=None``, a move with no
    same-direction move of that outcome by any bookmaker in the preceding
    ``max_lag`` (the first move of a cluster; simultaneous moves are ordered by
    bookmaker name); with ``leader="Pinnacle"``, every move of that bookmaker not
    preceded by its own same-direction move within ``max_lag``. Each lead move is
    paired with every other bookmaker quoting the outcome (only ``follower`` when it
    is set; ``follower=None`` for all): ``followed`` when that bookmaker made a
    same-direction move in ``[lead_at, lead_at + max_lag]``, with ``follow_at`` and
    ``lag`` (a Duration) of its first such move. Summarise with
    :func:`lead_lag_summary`.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> rows = [("Pinnacle", -5, 2.0), ("Pinnacle", 0, 1.8),
    ...         ("betPawa", -5, 2.0), ("betPawa", 5, 2.0), ("betPawa", 10, 1.85)]
    >>> frame = pl.DataFrame(rows, schema=["bookmaker", "m", "odds"], orient="row")
    >>> frame = frame.select(
    ...     event_id=pl.lit(1), market=pl.lit("1x2"), outcome=pl.lit("home"),
    ...     bookmaker="bookmaker", odds="odds",
    ...     captured_at=pl.lit(t0) + pl.duration(minutes="m"))
    >>> pairs = lead_lag(frame)
    >>> pairs.select("leader", "bookmaker", "followed", "lag").rows()
    [('Pinnacle', 'betPawa', True, datetime.timedelta(seconds=600))]
    """
    threshold = _positive(threshold, "threshold", below=1.0)
    max_lag = _duration(max_lag, "max_lag")  # type: ignore[assignment]
    df, keys = _prepare(frame, by)
    leader = _check_bookmaker(df, leader, "leader")
    follower = _check_bookmaker(df, follower, "follower")
    if leader is not None and leader == follower:
        raise ConfigurationError(f"`leader` and `follower` must differ, both are {leader!r}")
    okeys = [*keys, "outcome"]
    df = df.with_columns(_group_id(okeys))
    grp = [_GID, "direction"]
    moves = _moves(df, keys, threshold).sort([*grp, "captured_at", "bookmaker"])
    t = pl.col("captured_at")
    if leader is None:
        prev = t.shift(1).over(grp)
        is_lead = prev.is_null() | (t - prev > max_lag)
    else:
        prev = t.shift(1).over([*grp, "bookmaker"])
        is_lead = (pl.col("bookmaker") == leader) & (prev.is_null() | (t - prev > max_lag))
    lead = moves.filter(is_lead).select(
        *okeys,
        _GID,
        "direction",
        pl.col("bookmaker").alias("leader"),
        t.alias("lead_at"),
        pl.col("move").alias("lead_move"),
    )
    quoting = df.select(_GID, "bookmaker").unique()
    if follower is not None:
        quoting = quoting.filter(pl.col("bookmaker") == follower)
    candidates = (
        lead.join(quoting, on=_GID).filter(pl.col("bookmaker") != pl.col("leader")).sort("lead_at")
    )
    follows = moves.select(
        _GID,
        "direction",
        "bookmaker",
        t.alias(_T),
        t.alias("follow_at"),
        pl.col("move").alias("follow_move"),
    ).sort(_T)
    pairs = candidates.join_asof(
        follows,
        left_on="lead_at",
        right_on=_T,
        by=[_GID, "direction", "bookmaker"],
        strategy="forward",
        tolerance=max_lag,
        **_ASOF_KW,
    )
    return (
        pairs.with_columns(
            pl.col("follow_at").is_not_null().alias("followed"),
            (pl.col("follow_at") - pl.col("lead_at")).alias("lag"),
        )
        .select(
            *okeys,
            "direction",
            "leader",
            "lead_at",
            "lead_move",
            "bookmaker",
            "followed",
            "follow_at",
            "lag",
            "follow_move",
        )
        .sort(["lead_at", *okeys, "bookmaker"], nulls_last=False)
    )


def lead_lag_summary(pairs: pl.DataFrame) -> pl.DataFrame:
    """Per bookmaker: lead moves made, and how often and how fast it followed others.

    ``pairs`` is the output of :func:`lead_lag`. Columns: ``bookmaker``, ``n_led``
    (distinct lead moves it made that had a candidate follower), ``n_opportunities``
    (lead moves of others it could follow), ``n_followed``, ``share_followed`` and
    ``median_lag`` / ``mean_lag`` (Durations, over followed moves). Counts are 0 and
    shares/lags null where a bookmaker never had that role.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> pairs = pl.DataFrame({
    ...     "event_id": [1, 2], "outcome": ["home", "away"], "direction": "shortening",
    ...     "leader": "Pinnacle", "lead_at": t0, "bookmaker": "betPawa",
    ...     "followed": [True, False], "follow_at": [t0 + timedelta(minutes=10), None],
    ... }).with_columns(lag=pl.col("follow_at") - pl.col("lead_at"))
    >>> lead_lag_summary(pairs).select("bookmaker", "n_led", "share_followed").rows()
    [('Pinnacle', 2, None), ('betPawa', 0, 0.5)]
    """
    if not isinstance(pairs, pl.DataFrame):
        raise ConfigurationError(f"`pairs` must be a polars DataFrame, got {type(pairs).__name__}")
    needed = ["leader", "lead_at", "bookmaker", "followed", "lag"]
    missing = [c for c in needed if c not in pairs.columns]
    if missing:
        raise ValidationError(f"`pairs` lacks column(s) {missing}; pass the output of lead_lag")
    follower_side = {"bookmaker", "followed", "follow_at", "lag", "follow_move"}
    lead_cols = [c for c in pairs.columns if c not in follower_side]
    led = (
        pairs.select(lead_cols)
        .unique()
        .group_by("leader")
        .agg(pl.len().cast(pl.UInt32).alias("n_led"))
        .rename({"leader": "bookmaker"})
    )
    lag = pl.col("lag").filter(pl.col("followed"))
    followed = (
        pairs.group_by("bookmaker")
        .agg(
            pl.len().cast(pl.UInt32).alias("n_opportunities"),
            pl.col("followed").sum().cast(pl.UInt32).alias("n_followed"),
            pl.col("followed").mean().alias("share_followed"),
            lag.median().alias("median_lag"),
            lag.mean().alias("mean_lag"),
        )
        .with_columns(pl.col("median_lag").cast(pairs.schema["lag"]))
    )
    return (
        led.join(followed, on="bookmaker", how="full", coalesce=True)
        .with_columns(pl.col("n_led", "n_opportunities", "n_followed").fill_null(0))
        .select(
            "bookmaker",
            "n_led",
            "n_opportunities",
            "n_followed",
            "share_followed",
            "median_lag",
            "mean_lag",
        )
        .sort("bookmaker")
    )


def best_prices(
    frame: pl.DataFrame,
    *,
    at: datetime | None = None,
    aligned: bool = False,
    max_age: timedelta | str | None = None,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Best price of every outcome across bookmakers, and each bookmaker's distance to it.

    Prices are compared on the board (each bookmaker's latest snapshot of the market,
    at or before ``at``; older than ``max_age`` before ``at`` — or before the
    market's latest capture — is dropped), or instant by instant with
    ``aligned=True``. One row per (instant,) market keys × outcome × bookmaker:
    ``odds``, ``best_odds``, ``best_bookmaker`` (ties broken by name), ``is_best``,
    ``odds_from_best`` (``best_odds − odds`` ≥ 0), ``pct_from_best``
    (``1 − odds/best_odds``: the share of the best price given up) and
    ``n_bookmakers``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "captured_at": t0,
    ...     "bookmaker": ["A", "A", "B", "B"], "outcome": ["yes", "no"] * 2,
    ...     "odds": [1.80, 2.00, 1.90, 1.95],
    ... })
    >>> out = best_prices(frame)
    >>> cols = ["outcome", "bookmaker", "best_bookmaker", "odds_from_best"]
    >>> [(o, b, best, round(gap, 2)) for o, b, best, gap in out.select(cols).rows()]
    [('no', 'A', 'A', 0.0), ('no', 'B', 'A', 0.05), ('yes', 'A', 'B', 0.1), ('yes', 'B', 'B', 0.0)]
    """
    at = _instant(at, "at")
    max_age = _duration(max_age, "max_age", allow_none=True)
    df, keys = _prepare(frame, by)
    board, gkeys = _board(df, keys, at=at, aligned=bool(aligned), max_age=max_age)
    okeys = [*gkeys, "outcome"]
    best_first = {"by": ["odds", "bookmaker"], "descending": [True, False]}
    out = board.with_columns(
        pl.col("odds").max().over(okeys).alias("best_odds"),
        pl.col("bookmaker").sort_by(**best_first).first().over(okeys).alias("best_bookmaker"),
        pl.col("bookmaker").n_unique().over(okeys).alias("n_bookmakers"),
    ).with_columns(
        (pl.col("odds") == pl.col("best_odds")).alias("is_best"),
        (pl.col("best_odds") - pl.col("odds")).alias("odds_from_best"),
        (1.0 - pl.col("odds") / pl.col("best_odds")).alias("pct_from_best"),
    )
    time = [] if aligned else ["captured_at"]
    return out.select(
        *okeys,
        "bookmaker",
        *time,
        "odds",
        "best_odds",
        "best_bookmaker",
        "is_best",
        "odds_from_best",
        "pct_from_best",
        "n_bookmakers",
    ).sort([*okeys, "bookmaker"], nulls_last=False)


def consensus_line(
    frame: pl.DataFrame,
    *,
    method: str = "multiplicative",
    bookmakers: Sequence[str] | None = None,
    at: datetime | None = None,
    aligned: bool = False,
    max_age: timedelta | str | None = None,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Consensus fair line: de-vig each bookmaker's market, average across bookmakers.

    Each board snapshot (see :func:`best_prices` for ``at``/``aligned``/``max_age``)
    is de-vigged with :func:`oddskit.margins.remove_margin` (``method``); incomplete
    and non-exclusive instances (double chance) get no fair probabilities and are
    left out. ``fair_prob`` is the mean fair probability across bookmakers,
    renormalised to sum to one per market; ``fair_odds = 1/fair_prob``. Also
    ``n_bookmakers``, ``bookmakers``, the spread ``fair_prob_min``/``fair_prob_max``
    and ``mean_overround``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "captured_at": t0,
    ...     "bookmaker": ["A", "A", "B", "B"], "outcome": ["yes", "no"] * 2,
    ...     "odds": [1.80, 2.00, 1.90, 1.90],
    ... })
    >>> out = consensus_line(frame)
    >>> [(o, round(p, 4)) for o, p in out.select("outcome", "fair_prob").rows()]
    [('no', 0.4868), ('yes', 0.5132)]
    """
    method = _choice(method, "method", METHODS)
    at = _instant(at, "at")
    max_age = _duration(max_age, "max_age", allow_none=True)
    df, keys = _prepare(frame, by)
    if bookmakers is not None:
        if isinstance(bookmakers, str):
            raise ConfigurationError(
                f"`bookmakers` must be a list of bookmaker names, not the string {bookmakers!r}"
            )
        chosen = list(bookmakers)
        known = set(df.get_column("bookmaker").unique().to_list())
        unknown = [b for b in chosen if b not in known]
        if unknown or not chosen:
            raise ConfigurationError(
                f"`bookmakers` must be a non-empty subset of {sorted(known)}, got {chosen!r}"
            )
        df = df.filter(pl.col("bookmaker").is_in(chosen))
    board, gkeys = _board(df, keys, at=at, aligned=bool(aligned), max_age=max_age)
    instance = list(dict.fromkeys([*gkeys, "bookmaker", "captured_at"]))
    return _consensus(board, gkeys, method=method, instance=instance)


def find_arbitrage(
    frame: pl.DataFrame,
    *,
    stake: float = 100.0,
    at: datetime | None = None,
    aligned: bool = False,
    max_age: timedelta | str | None = None,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Markets whose best prices across bookmakers add up to an arbitrage.

    On the board (see :func:`best_prices`), the best price of each outcome is taken;
    a market qualifies when all of its outcomes are priced (known exclusive markets
    of :data:`~oddskit.markets.EXCLUSIVE_MARKETS` only; double chance overlaps) and
    ``inverse_sum = Σ 1/best_odds < 1``. One row per outcome: ``bookmaker``,
    ``odds``, ``stake`` (``stake · (1/odds) / inverse_sum``, unrounded, so every
    outcome pays ``payout = stake / inverse_sum``), ``payout``, ``profit``
    (``payout − stake``), ``profit_pct`` (``1/inverse_sum − 1``) and ``arb_margin``
    (``1 − inverse_sum``). Asian handicap quarter lines settle in halves, so their
    payouts are only equal for full wins. Sorted by ``profit_pct``, largest first.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "captured_at": t0,
    ...     "bookmaker": ["A", "A", "B", "B"], "outcome": ["yes", "no"] * 2,
    ...     "odds": [2.10, 1.80, 1.90, 2.10],
    ... })
    >>> out = find_arbitrage(frame, stake=100)
    >>> [(r["outcome"], r["bookmaker"], round(r["stake"], 2)) for r in out.iter_rows(named=True)]
    [('no', 'B', 50.0), ('yes', 'A', 50.0)]
    >>> round(out["profit"][0], 2)
    5.0
    """
    stake = _positive(stake, "stake")
    at = _instant(at, "at")
    max_age = _duration(max_age, "max_age", allow_none=True)
    df, keys = _prepare(frame, by)
    board, gkeys = _board(df, keys, at=at, aligned=bool(aligned), max_age=max_age)
    okeys = [*gkeys, "outcome"]
    best_first = {"by": ["odds", "bookmaker"], "descending": [True, False]}
    time = [] if aligned else ["captured_at"]
    best = board.group_by(okeys).agg(
        *[pl.col(c).sort_by(**best_first).first() for c in ("bookmaker", *time)],
        pl.col("odds").max(),
    )
    n_outcomes = pl.len().over(gkeys)
    if "market" in best.columns:
        expected = {m: len(o) for m, o in MARKET_OUTCOMES.items() if m in EXCLUSIVE_MARKETS}
        want = pl.col("market").cast(pl.String).replace_strict(expected, default=None)
        complete = want.is_not_null() & (n_outcomes == want)
    else:
        complete = n_outcomes >= 2
    inverse_sum = (1.0 / pl.col("odds")).sum().over(gkeys)
    out = (
        best.filter(complete)
        .with_columns(inverse_sum.alias("inverse_sum"))
        .filter(pl.col("inverse_sum") < 1.0 - 1e-12)
        .with_columns(
            (stake / pl.col("odds") / pl.col("inverse_sum")).alias("stake"),
            (stake / pl.col("inverse_sum")).alias("payout"),
            (stake / pl.col("inverse_sum") - stake).alias("profit"),
            (1.0 / pl.col("inverse_sum") - 1.0).alias("profit_pct"),
            (1.0 - pl.col("inverse_sum")).alias("arb_margin"),
        )
    )
    return out.select(
        *okeys,
        "bookmaker",
        *time,
        "odds",
        "stake",
        "payout",
        "profit",
        "profit_pct",
        "arb_margin",
        "inverse_sum",
    ).sort(["profit_pct", *okeys], descending=[True] + [False] * len(okeys), nulls_last=False)


def closing_line_value(
    bets: pl.DataFrame,
    closing: pl.DataFrame,
    *,
    method: str = "multiplicative",
    sharp: str | None = None,
    kickoff_col: str | None = "kickoff",
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Closing line value of bets against the de-vigged closing line.

    ``closing`` is an odds frame; each bookmaker's closing snapshot of a market is its
    last one strictly before ``kickoff_col`` (or its last one when the frame has no
    kickoff column). The fair close is the consensus of all bookmakers (see
    :func:`consensus_line`) or, with ``sharp="Pinnacle"``, that bookmaker's de-vigged
    close (``method`` of :func:`~oddskit.margins.remove_margin`). ``bets`` holds the
    market keys, ``outcome`` and ``odds`` (the odds taken), optionally ``bookmaker``.
    Returned: the bets in input order plus ``fair_close_prob``, ``fair_close_odds``,
    ``close_source``, ``clv = odds × fair_close_prob − 1`` and ``clv_prob =
    fair_close_prob − 1/odds`` (probability points; both > 0 when the bet beat the
    close), and with a ``bookmaker`` column ``closing_odds`` (that bookmaker's own
    closing price, margin included) and ``clv_vs_book_close = odds/closing_odds − 1``.
    Bets without a close get nulls.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> closing = pl.DataFrame({
    ...     "event_id": 1, "market": "btts", "captured_at": t0, "bookmaker": "P",
    ...     "outcome": ["yes", "no"], "odds": [1.90, 1.90],
    ... })
    >>> bets = pl.DataFrame({"event_id": [1], "market": ["btts"], "outcome": ["yes"],
    ...                      "odds": [2.10]})
    >>> out = closing_line_value(bets, closing)
    >>> round(out["clv"][0], 4), round(out["clv_prob"][0], 4)
    (0.05, 0.0238)
    """
    method = _choice(method, "method", METHODS)
    df, keys = _prepare(closing, by, name="closing")
    if not isinstance(bets, pl.DataFrame):
        raise ConfigurationError(f"`bets` must be a polars DataFrame, got {type(bets).__name__}")
    needed = [*keys, "outcome", "odds"]
    missing = [c for c in needed if c not in bets.columns]
    if missing:
        raise ValidationError(
            f"`bets` lacks column(s) {missing}; it needs {needed} (add a null 'line' "
            "column for markets without a line)"
        )
    taken = bets.get_column("odds")
    if not taken.dtype.is_numeric() or not bool(
        (taken.cast(pl.Float64) > 1.0).fill_null(False).all()
    ):
        raise ValidationError("the bets' 'odds' (odds taken) must all be decimal odds > 1")
    produced = {"fair_close_prob", "fair_close_odds", "close_source", "clv", "clv_prob"}
    clash = sorted(produced & set(bets.columns))
    if clash:
        raise ValidationError(f"`bets` already has output column(s) {clash}; rename them")
    if kickoff_col is not None and kickoff_col not in df.columns and kickoff_col != "kickoff":
        raise ConfigurationError(
            f"`kickoff_col` names column {kickoff_col!r} that `closing` does not have; "
            "pass kickoff_col=None to use each bookmaker's last snapshot"
        )
    before = kickoff_col if kickoff_col is not None and kickoff_col in df.columns else None
    if before is not None:
        df = _time_column(df, before)
    sharp = _check_bookmaker(df, sharp, "sharp")
    board, gkeys = _board(df, keys, at=None, aligned=False, max_age=None, before=before)
    instance = [*gkeys, "bookmaker", "captured_at"]
    okeys = [*gkeys, "outcome"]
    if sharp is None:
        fair = _consensus(board, gkeys, method=method, instance=instance)
    else:
        fair = remove_margin(
            board.filter(pl.col("bookmaker") == sharp), method=method, by=instance
        ).filter(pl.col("fair_prob").is_not_null())
    fair = fair.select(
        *okeys,
        pl.col("fair_prob").alias("fair_close_prob"),
        pl.col("fair_odds").alias("fair_close_odds"),
    )
    cast = {k: df.schema[k] for k in okeys}
    out = (
        bets.with_row_index(_ROW)
        .with_columns(pl.col(k).cast(dtype) for k, dtype in cast.items())
        .join(fair, on=okeys, how="left", **_NULLS_EQUAL)
        .with_columns(
            pl.lit(sharp or "consensus").alias("close_source"),
            (pl.col("odds") * pl.col("fair_close_prob") - 1.0).alias("clv"),
            (pl.col("fair_close_prob") - 1.0 / pl.col("odds")).alias("clv_prob"),
        )
    )
    if "bookmaker" in bets.columns:
        own = board.select(*okeys, "bookmaker", pl.col("odds").alias("closing_odds"))
        out = out.join(own, on=[*okeys, "bookmaker"], how="left", **_NULLS_EQUAL).with_columns(
            (pl.col("odds") / pl.col("closing_odds") - 1.0).alias("clv_vs_book_close")
        )
    return out.sort(_ROW).drop(_ROW)


def align_bookmakers(
    frame: pl.DataFrame,
    *,
    every: timedelta | str = "5m",
    tolerance: timedelta | str | None = None,
    how: str = "long",
    start: datetime | None = None,
    end: datetime | None = None,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Put every bookmaker's prices on a common time grid with backward as-of joins.

    For each market (market keys), grid instants run every ``every`` from ``start``
    (default: its first capture, truncated to ``every`` from the Unix epoch) up to
    ``end`` (default: its last capture). At each instant each bookmaker's price is
    taken from its latest snapshot of the market captured at or before the instant —
    never a later one — and no older than ``tolerance`` (default: any age). An
    outcome missing from that snapshot (suspended) has no price.

    ``how="long"`` (default): one row per instant × bookmaker × priced outcome with
    the market keys, ``captured_at`` (the grid instant), ``bookmaker``, ``outcome``,
    ``odds`` and ``source_captured_at`` (the snapshot used). It can be passed to
    :func:`best_prices`, :func:`consensus_line` and :func:`find_arbitrage` with
    ``aligned=True``. ``how="wide"``: one row per instant × outcome, one odds column
    per bookmaker (sorted by name; null where it has no price).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> frame = pl.DataFrame({
    ...     "event_id": 1, "market": "1x2", "outcome": "home",
    ...     "bookmaker": ["A", "A", "B"], "odds": [2.0, 2.1, 1.9],
    ...     "captured_at": [t0, t0 + timedelta(minutes=6), t0 + timedelta(minutes=1)],
    ... })
    >>> wide = align_bookmakers(frame, every="5m", how="wide")
    >>> wide.select("captured_at", "A", "B").rows() == [(t0, 2.0, None),
    ...                                                 (t0 + timedelta(minutes=5), 2.0, 1.9)]
    True
    """
    every = _duration(every, "every")  # type: ignore[assignment]
    tolerance = _duration(tolerance, "tolerance", allow_none=True)
    how = _choice(how, "how", ("long", "wide"))
    start = _instant(start, "start")
    end = _instant(end, "end")
    if start is not None and end is not None and start > end:
        raise ConfigurationError(f"`start` ({start}) must not be after `end` ({end})")
    df, keys = _prepare(frame, by)
    df = df.with_columns(_group_id(keys))
    first = pl.lit(start) if start is not None else pl.col("captured_at").min().dt.truncate(every)
    last = pl.lit(end) if end is not None else pl.col("captured_at").max()
    grid = (
        df.group_by(_GID)
        .agg(first.alias("__s"), last.alias("__e"))
        .select(_GID, pl.datetime_ranges("__s", "__e", interval=every, time_unit="us").alias(_T))
        .explode(_T)
        .drop_nulls(_T)
        .with_columns(pl.col(_T).dt.replace_time_zone("UTC"))
    )
    snapshots = (
        df.select(_GID, "bookmaker", pl.col("captured_at").alias("source_captured_at"))
        .unique()
        .sort("source_captured_at")
    )
    asof = (
        grid.join(df.select(_GID, "bookmaker").unique(), on=_GID)
        .sort(_T)
        .join_asof(
            snapshots,
            left_on=_T,
            right_on="source_captured_at",
            by=[_GID, "bookmaker"],
            strategy="backward",
            tolerance=tolerance,
            coalesce=False,
            **_ASOF_KW,
        )
        .filter(pl.col("source_captured_at").is_not_null())
    )
    long = asof.join(
        df.select(*keys, _GID, "bookmaker", "outcome", "odds", "captured_at"),
        left_on=[_GID, "bookmaker", "source_captured_at"],
        right_on=[_GID, "bookmaker", "captured_at"],
    ).select(
        *keys,
        pl.col(_T).alias("captured_at"),
        "bookmaker",
        "outcome",
        "odds",
        "source_captured_at",
    )
    order = [*keys, "captured_at", "outcome"]
    if how == "long":
        return long.sort([*order, "bookmaker"], nulls_last=False)
    books = sorted(long.get_column("bookmaker").unique().to_list())
    wide = long.pivot(on="bookmaker", index=order, values="odds")
    return wide.select(*order, *books).sort(order, nulls_last=False)
