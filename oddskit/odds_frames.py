"""Checks and keys of long odds frames, shared by the movement, comparison and chart modules.

A long odds frame has one row per priced outcome per snapshot: ``captured_at``
(``Datetime`` with a time zone; UTC microseconds are used throughout, other zones and
units are converted, naive timestamps are refused), ``bookmaker``, ``outcome``,
``odds`` (decimal, > 1; null for a suspended outcome) and the *market keys*.

The market keys identify one market of one event across bookmakers and snapshots;
the default is the columns of :data:`DEFAULT_MARKET_KEYS` present in the frame
(``event_id`` is required unless ``market_keys=`` is passed). ``bookmaker``,
``outcome``, ``captured_at`` and ``odds`` are never market keys; they are added
where needed:

* a *price series* is ``market keys × bookmaker × outcome`` over ``captured_at``;
* a *market instance* is ``market keys × bookmaker × captured_at`` (one snapshot of
  one market at one bookmaker, as in :data:`~oddskit.markets.MARKET_INSTANCE_KEYS`).

Examples
--------
>>> from datetime import UTC, datetime
>>> frame = pl.DataFrame({"event_id": [1], "market": ["1x2"], "bookmaker": ["A"],
...                       "outcome": ["home"], "odds": [2.0],
...                       "captured_at": [datetime(2026, 5, 1, tzinfo=UTC)]})
>>> df, keys = prepare_odds(frame, None)
>>> keys, df.schema["captured_at"]
(['event_id', 'market'], Datetime(time_unit='us', time_zone='UTC'))
"""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Sequence
from typing import Final

import polars as pl

from oddskit.arguments import columns
from oddskit.errors import ConfigurationError, InsufficientDataWarning, ValidationError
from oddskit.markets import aggregate_book, is_aggregate_book
from oddskit.odds_formats import check_decimal_odds

__all__ = [
    "DEFAULT_MARKET_KEYS",
    "group_id",
    "known_bookmaker",
    "market_keys_of",
    "prepare_odds",
    "user_stacklevel",
    "utc_time_column",
    "warn_if_thin",
    "without_aggregates",
]

#: Below this share of matches priced by two or more bookmakers (or by the sharp
#: bookmaker), a cross-bookmaker answer warns that it covers only part of the data.
THIN_SHARE: Final = 0.5

#: Default market keys (those present in the frame are used; ``event_id`` is required).
DEFAULT_MARKET_KEYS: Final[tuple[str, ...]] = ("event_id", "market", "line")

#: Columns that can never be market keys.
RESERVED: Final[frozenset[str]] = frozenset({"bookmaker", "outcome", "captured_at", "odds"})

#: Tolerance for comparing float price differences with a threshold (2.05 - 2.04 < 0.01).
EPS: Final = 1e-9

#: Helper column names (frames with a column starting ``__oddskit`` are refused).
GID: Final = "__oddskit_gid"
T: Final = "__oddskit_t"
ROW: Final = "__oddskit_row"

# Keyword names that changed across the Polars versions oddskit supports.
_JOIN_PARAMS = inspect.signature(pl.DataFrame.join).parameters
#: ``join(..., **NULLS_EQUAL)``: null keys match each other (markets without a line).
NULLS_EQUAL: Final[dict[str, bool]] = (
    {"nulls_equal": True} if "nulls_equal" in _JOIN_PARAMS else {"join_nulls": True}
)
#: ``join_asof(..., **ASOF_KW)``: the frames are sorted by the helpers themselves.
ASOF_KW: Final[dict[str, bool]] = (
    {"check_sortedness": False}
    if "check_sortedness" in inspect.signature(pl.DataFrame.join_asof).parameters
    else {}
)


def utc_time_column(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """``df`` with the aware ``Datetime`` column ``col`` as ``Datetime("us", "UTC")``.

    Examples
    --------
    >>> from datetime import datetime
    >>> naive = pl.DataFrame({"captured_at": [datetime(2026, 5, 1)]})
    >>> utc_time_column(naive, "captured_at")
    Traceback (most recent call last):
    ...
    oddskit.errors.ValidationError: column 'captured_at' holds naive datetimes; ...
    """
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


def market_keys_of(frame: pl.DataFrame, market_keys: str | Sequence[str] | None) -> list[str]:
    """The market key columns: ``market_keys`` checked, or the default ones present."""
    if market_keys is None:
        if "event_id" not in frame.columns:
            raise ValidationError(
                "the frame has no 'event_id' column. Derive one, e.g. frame.with_columns("
                "event_id=pl.struct('home_team', 'away_team', 'kickoff').rank('dense')), "
                "or pass market_keys=[...] with the columns that identify an event's market"
            )
        return [k for k in DEFAULT_MARKET_KEYS if k in frame.columns]
    keys = columns(market_keys, "market_keys", frame.columns)
    reserved = sorted(set(keys) & RESERVED)
    if reserved:
        raise ConfigurationError(
            f"`market_keys` lists the columns that identify a market and must not contain "
            f"{reserved}; 'bookmaker' and 'outcome' are added where needed"
        )
    return keys


def prepare_odds(
    frame: pl.DataFrame,
    market_keys: str | Sequence[str] | None,
    *,
    bookmaker: bool = True,
    name: str = "frame",
) -> tuple[pl.DataFrame, list[str]]:
    """Checked copy of ``frame`` (UTC, Float64 odds, no null odds) and its market keys."""
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
    keys = market_keys_of(frame, market_keys)
    df = utc_time_column(frame, "captured_at")
    odds = check_decimal_odds(df.get_column("odds"), "'odds'")
    df = df.with_columns(odds).filter(pl.col("odds").is_not_null())
    return df, keys


def group_id(cols: Sequence[str]) -> pl.Expr:
    """Dense integer id of the combination of ``cols`` (null-safe, for joins)."""
    if not cols:
        return pl.lit(1, dtype=pl.UInt32).alias(GID)
    return pl.struct(list(cols)).rank("dense").alias(GID)


def known_bookmaker(df: pl.DataFrame, value: object, name: str) -> str | None:
    """``value`` if it is one of the frame's bookmakers (or ``None``), else an error."""
    if value is None:
        return None
    books = sorted(df.get_column("bookmaker").unique().drop_nulls().to_list())
    if not isinstance(value, str) or value not in books:
        raise ConfigurationError(
            f"`{name}` must be one of the frame's bookmakers {books} or None, got {value!r}"
        )
    return value


def without_aggregates(df: pl.DataFrame, what: str, **named: object) -> pl.DataFrame:
    """``df`` without its aggregate books (:data:`~oddskit.markets.AGGREGATE_MARKER`):
    they are not bookmakers, so cross-bookmaker answers (``what``) leave them out.

    ``named`` are arguments naming bookmakers (a name or a list); naming an aggregate
    book there is an error.

    Example:
        >>> frame = pl.DataFrame({"bookmaker": ["A", "football-data max (aggregate)"]})
        >>> without_aggregates(frame, "best_prices")["bookmaker"].to_list()
        ['A']
        >>> without_aggregates(frame, "lead_lag", leader="Max (aggregate)")
        Traceback (most recent call last):
        ...
        oddskit.errors.ConfigurationError: lead_lag: `leader` names 'Max (aggregate)', an ...
    """
    for argument, value in named.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        aggregates = [v for v in values if is_aggregate_book(v)]
        if aggregates:
            raise ConfigurationError(
                f"{what}: `{argument}` names {', '.join(map(repr, aggregates))}, an aggregate "
                "book (market maximum or average, not a bookmaker); cross-bookmaker answers "
                "leave aggregate books out. Name bookmakers only"
            )
    if "bookmaker" not in df.columns:
        return df
    return df.filter(~aggregate_book())


def warn_if_thin(
    df: pl.DataFrame, keys: Sequence[str], *, what: str, sharp: str | None = None
) -> None:
    """Warn (:class:`~oddskit.errors.InsufficientDataWarning`) when ``df`` holds several
    bookmakers but most of its matches are priced by one of them only, or lack the
    ``sharp`` bookmaker: a cross-bookmaker answer (``what``) then covers only a few of
    them, or none. Aggregate books are not counted as bookmakers.

    A match is ``event_id`` when the frame has it, else the first market key.

    Example:
        >>> from datetime import UTC, datetime
        >>> frame = pl.DataFrame({"event_id": [1, 2], "bookmaker": ["A", "B"],
        ...     "market": "1x2", "outcome": "home", "odds": 2.0,
        ...     "captured_at": datetime(2026, 5, 1, tzinfo=UTC)})
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_if_thin(frame, ["event_id", "market"], what="best prices")
        >>> print(caught[0].message)  # doctest: +ELLIPSIS
        best prices: only 0 of 2 matches are priced by two or more bookmakers...
    """
    match = "event_id" if "event_id" in df.columns else (keys[0] if keys else None)
    if "bookmaker" in df.columns:
        df = df.filter(~aggregate_book())
    if match is None or df.is_empty() or df.get_column("bookmaker").n_unique() < 2:
        return  # one bookmaker asked for (or given): nothing to compare, nothing to warn
    books = df.group_by(match).agg(
        pl.col("bookmaker").n_unique().alias("books"),
        (pl.col("bookmaker") == sharp).any().alias("sharp") if sharp else pl.lit(True),
    )
    total = books.height
    shared = int((books["books"] >= 2).sum())
    problems = []
    if shared < THIN_SHARE * total:
        problems.append(
            f"only {shared:,} of {total:,} matches are priced by two or more bookmakers, so "
            f"the answer covers those alone. If one match is stored under several event "
            "ids (listings not linked: no SportRadar id or match_key, names spelled "
            "differently), link them: `oddskit links candidates`, oddskit.links"
        )
    if sharp:
        with_sharp = int(books["sharp"].sum())
        if with_sharp < THIN_SHARE * total:
            problems.append(
                f"the sharp bookmaker {sharp!r} prices only {with_sharp:,} of {total:,} "
                "matches; the others get no closing line from it"
            )
    if problems:
        warnings.warn(
            f"{what}: " + "; ".join(problems) + ".",
            InsufficientDataWarning,
            stacklevel=user_stacklevel(),
        )


def user_stacklevel() -> int:
    """``stacklevel`` of the first caller outside oddskit (the user's call), for a warning
    given by the function that calls this one."""
    frame = sys._getframe(1)  # the function that warns: stacklevel 1
    level = 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("oddskit"):
        frame = frame.f_back
        level += 1
    return level
