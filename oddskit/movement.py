r"""Line movement over time: opening/current/closing summaries and dropping odds.

Pure, vectorised Polars functions over long odds frames (one row per priced outcome
per snapshot; columns and *market keys* as in :mod:`oddskit.odds_frames`). Nothing
here touches a database. Moves across bookmakers (steam, lead–lag) live in
:mod:`oddskit.moves`, comparisons at one time (best prices, consensus, arbitrage,
closing-line value) in :mod:`oddskit.comparisons` and the common time grid in
:mod:`oddskit.alignment`; all are re-exported here, so ``from oddskit.movement import
best_prices`` keeps working.

Definitions and units
---------------------
* implied probability ``p = 1/odds`` (margin included);
* *probability points* are fractions: ``0.02`` is two percentage points;
* log-odds ``logit(p) = log(p / (1 - p)) = -log(odds - 1)``; a positive change means
  the outcome became more likely (its odds shortened);
* a *move* of one bookmaker is a change between two consecutive snapshots of one
  price series. :func:`summarise_movement` counts moves with ``|Δodds| ≥ tick``;
  :func:`detect_steam` and :func:`lead_lag` use moves with ``|Δp| ≥ min_move``
  (probability points). Direction is ``"shortening"`` (odds down, ``Δp > 0``) or
  ``"drifting"`` (odds up).

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

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from oddskit.alignment import align_bookmakers
from oddskit.arguments import aware_datetime, duration, number, renamed_arguments
from oddskit.comparisons import (
    best_prices,
    closing_line_value,
    consensus_line,
    find_arbitrage,
)
from oddskit.errors import ConfigurationError
from oddskit.moves import detect_steam, lead_lag, lead_lag_summary
from oddskit.odds_frames import (
    DEFAULT_MARKET_KEYS,
    EPS,
    prepare_odds,
    utc_time_column,
)

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


@renamed_arguments(by="market_keys")
def summarise_movement(
    frame: pl.DataFrame,
    *,
    kickoff_col: str | None = "kickoff",
    tick: float = 0.01,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Opening, current and closing prices and the movement of every price series.

    Parameters
    ----------
    frame
        Long odds frame (``captured_at``, ``outcome``, ``odds``, the market keys;
        ``bookmaker`` is optional here).
    kickoff_col
        Column holding each event's kickoff, for the closing price; ``None`` (or a
        frame without the default ``kickoff`` column) leaves the closing price null.
    tick
        Smallest ``|Δodds|`` counted as a move (default 0.01, one unit of
        two-decimal odds, so the third decimal of sharp books is noise).
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2 (still accepted, with a warning).

    Returns
    -------
    pl.DataFrame
        One row per market keys × bookmaker × outcome:

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
        * ``n_moves``: consecutive-snapshot changes with ``|Δodds| ≥ tick``.

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
    tick = number(tick, "tick", above=0)
    df, keys = prepare_odds(frame, market_keys, bookmaker=False)
    series = [*keys, *(["bookmaker"] if "bookmaker" in df.columns else []), "outcome"]
    if kickoff_col is not None and kickoff_col not in df.columns and kickoff_col != "kickoff":
        raise ConfigurationError(
            f"`kickoff_col` names column {kickoff_col!r} that the frame does not have; "
            "pass kickoff_col=None to skip closing prices"
        )
    has_kickoff = kickoff_col is not None and kickoff_col in df.columns
    if has_kickoff:
        df = utc_time_column(df, kickoff_col)  # type: ignore[arg-type]
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
        (delta.abs() >= tick - EPS).sum().alias("n_moves"),
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


@renamed_arguments(by="market_keys")
def dropping_odds(
    frame: pl.DataFrame,
    *,
    window: timedelta | str = timedelta(hours=1),
    min_drop: float = 0.05,
    as_of: datetime | None = None,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Price series whose odds shortened by at least ``min_drop`` within ``window``.

    The window ends at each series' latest snapshot (at or before ``as_of`` when
    given). The reference is the highest price in the window, counting the price in
    force at its start (the last snapshot before it).

    Parameters
    ----------
    frame
        Long odds frame (``bookmaker`` optional).
    window
        How far back from each series' latest snapshot to look (``"1h"``, a timedelta).
    min_drop
        Smallest drop, as a fraction of the odds as on "dropping odds" pages: ``0.05``
        means the odds fell by ≥ 5 % (``drop_pct = 1 − to_odds/from_odds``).
    as_of
        Ignore snapshots captured after this (timezone-aware) instant.
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2 (still accepted, with a warning).

    Returns
    -------
    pl.DataFrame
        One row per qualifying price series: ``from_odds``/``from_at`` (the
        reference), ``to_odds``/``to_at`` (the latest price), ``drop_pct`` and
        ``prob_change`` (the same drop in implied-probability points); sorted by
        ``drop_pct``, largest first.

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
    window = duration(window, "window")  # type: ignore[assignment]
    min_drop = number(min_drop, "min_drop", above=0, below=1)
    as_of = aware_datetime(as_of, "as_of")
    df, keys = prepare_odds(frame, market_keys, bookmaker=False)
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
        .filter(pl.col("drop_pct") >= min_drop - EPS)
    )
    return out.sort(["drop_pct", *series], descending=[True] + [False] * len(series))
