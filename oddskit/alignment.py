r"""Every bookmaker's prices on a common time grid: :func:`align_bookmakers`.

Backward as-of joins put each bookmaker's latest price at every grid instant, so that
prices can be compared instant by instant (``aligned=True`` in
:mod:`oddskit.comparisons`) or plotted side by side. Frames and market keys as in
:mod:`oddskit.odds_frames`; re-exported by :mod:`oddskit.movement`.

Examples
--------
>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
>>> frame = pl.DataFrame({
...     "event_id": 1, "market": "btts", "outcome": "yes", "bookmaker": ["A", "B"],
...     "odds": [1.9, 1.8], "captured_at": [t0, t0 + timedelta(minutes=3)],
... })
>>> grid = align_bookmakers(frame, every="5m", until=t0 + timedelta(minutes=10))
>>> grid.select(pl.col("captured_at").dt.minute(), "bookmaker", "odds").rows()
[(0, 'A', 1.9), (5, 'A', 1.9), (5, 'B', 1.8)]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from oddskit.arguments import choice, duration, renamed_arguments, window
from oddskit.odds_frames import ASOF_KW, GID, T, group_id, prepare_odds, warn_if_thin

__all__ = ["Layout", "align_bookmakers"]

#: Layout of :func:`align_bookmakers`' output.
Layout = Literal["long", "wide"]

_TICK = timedelta(microseconds=1)


def _inclusive_end(end: datetime | None) -> datetime | None:
    """The exclusive ``until`` of a deprecated, inclusive ``end`` of align_bookmakers."""
    return end + _TICK if isinstance(end, datetime) else end


@renamed_arguments(by="market_keys", start="since", end=("until", _inclusive_end))
def align_bookmakers(
    frame: pl.DataFrame,
    *,
    every: timedelta | str = "5m",
    tolerance: timedelta | str | None = None,
    how: Layout = "long",
    since: datetime | None = None,
    until: datetime | None = None,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Put every bookmaker's prices on a common time grid with backward as-of joins.

    For each market, grid instants run every ``every`` from ``since`` up to
    ``until``. At each instant each bookmaker's price is taken from its latest
    snapshot of the market captured at or before the instant — never a later one —
    and no older than ``tolerance``. An outcome missing from that snapshot
    (suspended) has no price.

    Parameters
    ----------
    frame
        Long odds frame.
    every
        Grid spacing (``"5m"``, a timedelta).
    tolerance
        Oldest snapshot still used at an instant; default: any age.
    how
        ``"long"``: one row per instant × bookmaker × priced outcome, to pass to
        :func:`best_prices`, :func:`consensus_line` and :func:`find_arbitrage` with
        ``aligned=True``; ``"wide"``: one row per instant × outcome, one odds column
        per bookmaker.
    since
        First grid instant (inclusive); default: the market's first capture,
        truncated to ``every`` from the Unix epoch. Called ``start`` before 0.2.
    until
        End of the grid (exclusive); default: up to the market's last capture,
        inclusive. Called ``end`` before 0.2, when it was inclusive (an old ``end=``
        is converted, so it still includes that instant).
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2.

    Returns
    -------
    pl.DataFrame
        ``how="long"``: the market keys, ``captured_at`` (the grid instant),
        ``bookmaker``, ``outcome``, ``odds`` and ``source_captured_at`` (the snapshot
        used). ``how="wide"``: the market keys, ``captured_at``, ``outcome`` and one
        odds column per bookmaker (sorted by name; null where it has no price).

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
    every = duration(every, "every")  # type: ignore[assignment]
    tolerance = duration(tolerance, "tolerance", allow_none=True)
    how = choice(how, "how", Layout)
    since, until = window(since, until)
    df, keys = prepare_odds(frame, market_keys)
    warn_if_thin(df, keys, what="align_bookmakers")
    df = df.with_columns(group_id(keys))
    first = pl.lit(since) if since is not None else pl.col("captured_at").min().dt.truncate(every)
    # The grid's last instant is inclusive: the last one before `until`.
    last = pl.lit(until - _TICK) if until is not None else pl.col("captured_at").max()
    grid = (
        df.group_by(GID)
        .agg(first.alias("__s"), last.alias("__e"))
        .select(GID, pl.datetime_ranges("__s", "__e", interval=every, time_unit="us").alias(T))
        .explode(T)
        .drop_nulls(T)
        .with_columns(pl.col(T).dt.replace_time_zone("UTC"))
    )
    snapshots = (
        df.select(GID, "bookmaker", pl.col("captured_at").alias("source_captured_at"))
        .unique()
        .sort("source_captured_at")
    )
    asof = (
        grid.join(df.select(GID, "bookmaker").unique(), on=GID)
        .sort(T)
        .join_asof(
            snapshots,
            left_on=T,
            right_on="source_captured_at",
            by=[GID, "bookmaker"],
            strategy="backward",
            tolerance=tolerance,
            coalesce=False,
            **ASOF_KW,
        )
        .filter(pl.col("source_captured_at").is_not_null())
    )
    long = asof.join(
        df.select(*keys, GID, "bookmaker", "outcome", "odds", "captured_at"),
        left_on=[GID, "bookmaker", "source_captured_at"],
        right_on=[GID, "bookmaker", "captured_at"],
    ).select(
        *keys,
        pl.col(T).alias("captured_at"),
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
