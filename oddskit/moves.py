r"""Moves across bookmakers: steam (several moving together) and lead–lag (who moves first).

A *move* of one bookmaker is a change between two consecutive snapshots of one price
series with ``|Δ implied prob| ≥ min_move`` (probability points); its direction is
``"shortening"`` (odds down, ``Δp > 0``) or ``"drifting"`` (odds up). Frames and
market keys as in :mod:`oddskit.odds_frames`; re-exported by :mod:`oddskit.movement`.
Aggregate books (:data:`oddskit.markets.AGGREGATE_MARKER`) are not bookmakers: they
never lead, follow or count towards steam.

Examples
--------
>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
>>> frame = pl.DataFrame({
...     "event_id": 1, "market": "1x2", "outcome": "home", "bookmaker": ["A", "A", "B", "B"],
...     "odds": [2.0, 1.8, 2.0, 1.85],
...     "captured_at": [t0, t0 + timedelta(minutes=5), t0, t0 + timedelta(minutes=8)],
... })
>>> lead_lag(frame, follower="B").select("leader", "bookmaker", "lag").rows()
[('A', 'B', datetime.timedelta(seconds=180))]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from oddskit.arguments import duration, integer, number, renamed_arguments
from oddskit.errors import ConfigurationError, ValidationError
from oddskit.odds_frames import (
    ASOF_KW,
    EPS,
    GID,
    T,
    group_id,
    known_bookmaker,
    prepare_odds,
    warn_if_thin,
    without_aggregates,
)

__all__ = ["detect_steam", "lead_lag", "lead_lag_summary"]


def _moves(df: pl.DataFrame, keys: list[str], min_move: float) -> pl.DataFrame:
    """Consecutive-snapshot moves with ``|Δ implied prob| ≥ min_move`` (needs ``GID``)."""
    series = [*keys, "bookmaker", "outcome"]
    prob = 1.0 / pl.col("odds")
    return (
        df.sort([*series, "captured_at"])
        .with_columns(
            pl.col("odds").shift(1).over(series).alias("prev_odds"),
            (prob - prob.shift(1)).over(series).alias("move"),
        )
        .filter(pl.col("move").abs() >= min_move - EPS)
        .with_columns(
            pl.when(pl.col("move") > 0)
            .then(pl.lit("shortening"))
            .otherwise(pl.lit("drifting"))
            .alias("direction")
        )
    )


@renamed_arguments(by="market_keys")
def detect_steam(
    frame: pl.DataFrame,
    *,
    window: timedelta | str = timedelta(minutes=10),
    min_bookmakers: int = 3,
    min_move: float = 0.02,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Steam moves: several bookmakers moving one outcome the same way within ``window``.

    For each outcome and direction, a window ``[t − window, t]`` ending at a move
    qualifies when it holds moves of at least ``min_bookmakers`` distinct bookmakers;
    overlapping qualifying windows merge into one steam episode (so a sustained steam
    may span more than ``window``).

    Parameters
    ----------
    frame
        Long odds frame.
    window
        Width of the window the bookmakers' moves must fall in (``"10m"``, a timedelta).
    min_bookmakers
        Distinct bookmakers needed (≥ 2).
    min_move
        Smallest ``|Δ implied prob|`` between consecutive snapshots of one bookmaker
        that counts as a move (probability points; 0.02 = 2 points).
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2 (still accepted, with a warning).

    Returns
    -------
    pl.DataFrame
        One row per episode: market keys, ``outcome``, ``direction``,
        ``window_start``/``window_end`` (first and last move), ``n_bookmakers``,
        ``bookmakers`` (in order of their first move), ``first_mover`` (ties broken
        by name), ``n_moves`` and ``mean_move`` (mean Δp).

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
    window = duration(window, "window")  # type: ignore[assignment]
    min_bookmakers = integer(min_bookmakers, "min_bookmakers", minimum=2)  # type: ignore[assignment]
    min_move = number(min_move, "min_move", above=0, below=1)
    df, keys = prepare_odds(frame, market_keys)
    df = without_aggregates(df, "detect_steam")
    okeys = [*keys, "outcome"]
    grp = [GID, "direction"]
    roll = {"index_column": "captured_at", "period": window, "closed": "both"}
    moves = (
        _moves(df.with_columns(group_id(okeys)), keys, min_move)
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


@renamed_arguments(by="market_keys", threshold="min_move")
def lead_lag(
    frame: pl.DataFrame,
    *,
    leader: str | None = None,
    follower: str | None = "betPawa",
    min_move: float = 0.02,
    max_lag: timedelta | str = timedelta(hours=1),
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Who moves first, and how long the others take to follow in the same direction.

    Moves are consecutive-snapshot changes with ``|Δ implied prob| ≥ min_move``
    (probability points). *Lead moves*: with ``leader=None``, a move with no
    same-direction move of that outcome by any bookmaker in the preceding
    ``max_lag`` (the first move of a cluster; simultaneous moves are ordered by
    bookmaker name); with ``leader="Pinnacle"``, every move of that bookmaker not
    preceded by its own same-direction move within ``max_lag``. Each lead move is
    paired with every other bookmaker quoting the outcome (only ``follower`` when it
    is set; ``follower=None`` for all): ``followed`` when that bookmaker made a
    same-direction move in ``[lead_at, lead_at + max_lag]``.

    Parameters
    ----------
    frame
        Long odds frame.
    leader
        Only this bookmaker's moves lead; ``None``: the first mover of each cluster.
    follower
        Only pair lead moves with this bookmaker; ``None``: with every other one.
    min_move
        Smallest ``|Δ implied prob|`` that counts as a move (probability points).
        Called ``threshold`` before 0.2 (still accepted, with a warning).
    max_lag
        How long after a lead move a same-direction move still follows it.
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2 (still accepted, with a warning).

    Returns
    -------
    pl.DataFrame
        One row per lead move × candidate follower: market keys, ``outcome``,
        ``direction``, ``leader``, ``lead_at``, ``lead_move``, ``bookmaker``,
        ``followed``, ``follow_at`` and ``lag`` (a Duration) of its first following
        move, ``follow_move``. Summarise with :func:`lead_lag_summary`.

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
    min_move = number(min_move, "min_move", above=0, below=1)
    max_lag = duration(max_lag, "max_lag")  # type: ignore[assignment]
    df, keys = prepare_odds(frame, market_keys)
    df = without_aggregates(df, "lead_lag", leader=leader, follower=follower)
    warn_if_thin(df, keys, what="lead_lag")
    leader = known_bookmaker(df, leader, "leader")
    follower = known_bookmaker(df, follower, "follower")
    if leader is not None and leader == follower:
        raise ConfigurationError(f"`leader` and `follower` must differ, both are {leader!r}")
    okeys = [*keys, "outcome"]
    df = df.with_columns(group_id(okeys))
    grp = [GID, "direction"]
    moves = _moves(df, keys, min_move).sort([*grp, "captured_at", "bookmaker"])
    t = pl.col("captured_at")
    if leader is None:
        prev = t.shift(1).over(grp)
        is_lead = prev.is_null() | (t - prev > max_lag)
    else:
        prev = t.shift(1).over([*grp, "bookmaker"])
        is_lead = (pl.col("bookmaker") == leader) & (prev.is_null() | (t - prev > max_lag))
    lead = moves.filter(is_lead).select(
        *okeys,
        GID,
        "direction",
        pl.col("bookmaker").alias("leader"),
        t.alias("lead_at"),
        pl.col("move").alias("lead_move"),
    )
    quoting = df.select(GID, "bookmaker").unique()
    if follower is not None:
        quoting = quoting.filter(pl.col("bookmaker") == follower)
    candidates = (
        lead.join(quoting, on=GID).filter(pl.col("bookmaker") != pl.col("leader")).sort("lead_at")
    )
    follows = moves.select(
        GID,
        "direction",
        "bookmaker",
        t.alias(T),
        t.alias("follow_at"),
        pl.col("move").alias("follow_move"),
    ).sort(T)
    pairs = candidates.join_asof(
        follows,
        left_on="lead_at",
        right_on=T,
        by=[GID, "direction", "bookmaker"],
        strategy="forward",
        tolerance=max_lag,
        **ASOF_KW,
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

    Parameters
    ----------
    pairs
        The output of :func:`lead_lag`.

    Returns
    -------
    pl.DataFrame
        ``bookmaker``, ``n_led`` (distinct lead moves it made that had a candidate
        follower), ``n_opportunities`` (lead moves of others it could follow),
        ``n_followed``, ``share_followed`` and ``median_lag`` / ``mean_lag``
        (Durations, over followed moves). Counts are 0 and shares/lags null where a
        bookmaker never had that role.

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
