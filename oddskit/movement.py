r"""Line movement over time: summaries, dropping odds, steam, lead–lag.

Pure, vectorised Polars functions over long odds frames (one row per priced outcome
per snapshot; columns and *market keys* as in :mod:`oddskit.odds_frames`). Nothing
here touches a database. Comparisons *across* bookmakers at one time (best prices,
consensus, arbitrage, closing-line value, a common time grid) live in
:mod:`oddskit.comparisons` and are re-exported here, so ``from oddskit.movement
import best_prices`` keeps working.

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

from oddskit.arguments import aware_datetime, duration, integer, number, renamed_arguments
from oddskit.comparisons import (
    align_bookmakers,
    best_prices,
    closing_line_value,
    consensus_line,
    find_arbitrage,
)
from oddskit.errors import ConfigurationError, ValidationError
from oddskit.odds_frames import (
    ASOF_KW,
    DEFAULT_MARKET_KEYS,
    EPS,
    GID,
    T,
    group_id,
    known_bookmaker,
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
