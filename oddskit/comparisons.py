r"""Comparisons across bookmakers: best prices, consensus, arbitrage, CLV, a common grid.

Pure, vectorised Polars functions over long odds frames (columns and *market keys* as
in :mod:`oddskit.odds_frames`). Nothing here touches a database.

Prices are compared on the *board*: for each market keys × bookmaker, its latest
snapshot at or before ``as_of`` (default: the market's latest capture), dropped when
it is older than ``lookback`` before ``as_of`` (or before the market's latest
capture). Outcomes missing from that snapshot are not offered: an older price of a
suspended outcome is never carried forward. With ``aligned=True`` a frame already on
a common grid (see :func:`oddskit.alignment.align_bookmakers`) is compared instant by
instant instead.
Fair probabilities come from :func:`oddskit.margins.remove_margin`; fair odds are
``1 / fair_prob``.

Aggregate books (names ending ``(aggregate)``, :data:`oddskit.markets.AGGREGATE_MARKER`,
e.g. football-data.co.uk's market maximum and average) are not bookmakers: best prices,
consensus, arbitrage and the consensus close of closing-line value leave them out.
Only ``closing_line_value(sharp=...)`` may name one, as the reference close.

Examples
--------
>>> from datetime import UTC, datetime
>>> t0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
>>> frame = pl.DataFrame({
...     "event_id": 1, "market": "btts", "captured_at": t0,
...     "bookmaker": ["A", "A", "B", "B"], "outcome": ["yes", "no"] * 2,
...     "odds": [1.80, 2.00, 1.90, 1.95],
... })
>>> best_prices(frame).filter(pl.col("is_best")).select("outcome", "bookmaker").rows()
[('no', 'A'), ('yes', 'B')]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from oddskit.arguments import (
    aware_datetime,
    choice,
    duration,
    number,
    renamed_arguments,
    texts,
)
from oddskit.errors import ConfigurationError, InsufficientDataWarning, ValidationError
from oddskit.margins import Method, remove_margin
from oddskit.markets import EXCLUSIVE_MARKETS, MARKET_OUTCOMES
from oddskit.odds_frames import (
    NULLS_EQUAL,
    ROW,
    THIN_SHARE,
    known_bookmaker,
    prepare_odds,
    user_stacklevel,
    utc_time_column,
    warn_if_thin,
    without_aggregates,
)

__all__ = [
    "best_prices",
    "closing_line_value",
    "consensus_line",
    "find_arbitrage",
]


def _board_of(
    frame: pl.DataFrame,
    market_keys: str | Sequence[str] | None,
    *,
    as_of: object,
    aligned: object,
    lookback: object,
    bookmakers: object = None,
    what: str,
) -> tuple[pl.DataFrame, list[str]]:
    """Check the board arguments, then :func:`_board` of the checked frame (warning when
    few matches are priced by two or more bookmakers: ``what`` names the answer)."""
    as_of = aware_datetime(as_of, "as_of")
    lookback = duration(lookback, "lookback", allow_none=True)
    chosen = texts(bookmakers, "bookmakers")
    df, keys = prepare_odds(frame, market_keys)
    df = without_aggregates(df, what, bookmakers=chosen)
    if chosen is not None:
        known = set(df.get_column("bookmaker").unique().to_list())
        unknown = [b for b in chosen if b not in known]
        if unknown or not chosen:
            raise ConfigurationError(
                f"`bookmakers` must be a non-empty subset of {sorted(known)}, got {chosen!r}"
            )
        df = df.filter(pl.col("bookmaker").is_in(chosen))
    warn_if_thin(df, keys, what=what)
    return _board(df, keys, as_of=as_of, aligned=bool(aligned), lookback=lookback)  # type: ignore[arg-type]


def _board(
    df: pl.DataFrame,
    keys: list[str],
    *,
    as_of: datetime | None,
    aligned: bool,
    lookback: timedelta | None,
    before: str | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Comparable prices: latest snapshot per market × bookmaker, or the aligned frame.

    Returns the rows and the comparison keys (market keys, plus ``captured_at`` when
    ``aligned``).
    """
    if aligned:
        if as_of is not None or lookback is not None:
            raise ConfigurationError(
                "`as_of` and `lookback` apply to raw snapshots; with aligned=True every "
                "captured_at is already a comparison instant (filter the frame instead)"
            )
        dup = df.filter(pl.len().over([*keys, "captured_at", "bookmaker", "outcome"]) > 1)
        if dup.height:
            raise ValidationError(
                "aligned=True expects one price per instant × bookmaker × outcome, but "
                f"{dup.height} rows share one; align the frame with align_bookmakers first"
            )
        return df, [*keys, "captured_at"]
    if as_of is not None:
        df = df.filter(pl.col("captured_at") <= as_of)
    if before is not None:
        df = df.filter(pl.col("captured_at") < pl.col(before))
    inst = [*keys, "bookmaker"]
    df = df.filter(pl.col("captured_at") == pl.col("captured_at").max().over(inst))
    if lookback is not None:
        ref = pl.lit(as_of) if as_of is not None else pl.col("captured_at").max().over(keys)
        df = df.filter(ref - pl.col("captured_at") <= lookback)
    return df, keys


def _consensus(
    board: pl.DataFrame, gkeys: list[str], *, method: str, instance: list[str]
) -> pl.DataFrame:
    fair = remove_margin(board, method=method, instance_keys=instance).filter(
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


@renamed_arguments(by="market_keys", at="as_of", max_age="lookback")
def best_prices(
    frame: pl.DataFrame,
    *,
    as_of: datetime | None = None,
    aligned: bool = False,
    lookback: timedelta | str | None = None,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Best price of every outcome across bookmakers, and each bookmaker's distance to it.

    Prices are compared on the board (see the module docstring), or instant by
    instant with ``aligned=True``.

    Parameters
    ----------
    frame
        Long odds frame.
    as_of
        Compare each bookmaker's latest snapshot at or before this (timezone-aware)
        instant; default: its latest one. Called ``at`` before 0.2.
    aligned
        The frame is already on a common grid (:func:`~oddskit.alignment.align_bookmakers`): compare
        instant by instant instead of on the board.
    lookback
        Drop a board snapshot older than this before ``as_of`` (or before the
        market's latest capture); ``"2h"`` or a timedelta. Called ``max_age`` before 0.2.
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2.

    Returns
    -------
    pl.DataFrame
        One row per (instant,) market keys × outcome × bookmaker: ``odds``,
        ``best_odds``, ``best_bookmaker`` (ties broken by name), ``is_best``,
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
    board, gkeys = _board_of(
        frame,
        market_keys,
        as_of=as_of,
        aligned=aligned,
        lookback=lookback,
        what="best_prices",
    )
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


@renamed_arguments(by="market_keys", at="as_of", max_age="lookback")
def consensus_line(
    frame: pl.DataFrame,
    *,
    method: Method = "multiplicative",
    bookmakers: str | Sequence[str] | None = None,
    as_of: datetime | None = None,
    aligned: bool = False,
    lookback: timedelta | str | None = None,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Consensus fair line: de-vig each bookmaker's market, average across bookmakers.

    Each board snapshot is de-vigged with :func:`oddskit.margins.remove_margin`;
    incomplete and non-exclusive instances (double chance) get no fair
    probabilities and are left out. The mean fair probability across bookmakers is
    renormalised to sum to one per market.

    Parameters
    ----------
    frame
        Long odds frame.
    method
        Margin-removal method (one of :data:`oddskit.margins.METHODS`).
    bookmakers
        Only these bookmakers (a name or a list of names); default: all.
    as_of, aligned, lookback, market_keys
        As in :func:`best_prices` (called ``at``, ``max_age`` and ``by`` before 0.2).

    Returns
    -------
    pl.DataFrame
        One row per (instant,) market keys × outcome: ``fair_prob``, ``fair_odds``
        (``1/fair_prob``), ``n_bookmakers``, ``bookmakers``, the spread
        ``fair_prob_min``/``fair_prob_max`` and ``mean_overround``.

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
    method = choice(method, "method", Method)
    board, gkeys = _board_of(
        frame,
        market_keys,
        as_of=as_of,
        aligned=aligned,
        lookback=lookback,
        bookmakers=bookmakers,
        what="consensus_line",
    )
    instance = list(dict.fromkeys([*gkeys, "bookmaker", "captured_at"]))
    return _consensus(board, gkeys, method=method, instance=instance)


@renamed_arguments(by="market_keys", at="as_of", max_age="lookback")
def find_arbitrage(
    frame: pl.DataFrame,
    *,
    stake: float = 100.0,
    as_of: datetime | None = None,
    aligned: bool = False,
    lookback: timedelta | str | None = None,
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Markets whose best prices across bookmakers add up to an arbitrage.

    On the board, the best price of each outcome is taken; a market qualifies when
    all of its outcomes are priced (known exclusive markets of
    :data:`~oddskit.markets.EXCLUSIVE_MARKETS` only; double chance overlaps) and
    ``inverse_sum = Σ 1/best_odds < 1``. Asian handicap quarter lines settle in
    halves, so their payouts are only equal for full wins.

    Parameters
    ----------
    frame
        Long odds frame.
    stake
        Total stake spread over the outcomes (> 0).
    as_of, aligned, lookback, market_keys
        As in :func:`best_prices` (called ``at``, ``max_age`` and ``by`` before 0.2).

    Returns
    -------
    pl.DataFrame
        One row per outcome: ``bookmaker``, ``odds``, ``stake`` (``stake ·
        (1/odds) / inverse_sum``, unrounded, so every outcome pays ``payout = stake /
        inverse_sum``), ``payout``, ``profit`` (``payout − stake``), ``profit_pct``
        (``1/inverse_sum − 1``), ``arb_margin`` (``1 − inverse_sum``) and
        ``inverse_sum``; sorted by ``profit_pct``, largest first.

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
    stake = number(stake, "stake", above=0)
    board, gkeys = _board_of(
        frame,
        market_keys,
        as_of=as_of,
        aligned=aligned,
        lookback=lookback,
        what="find_arbitrage",
    )
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


@renamed_arguments(by="market_keys")
def closing_line_value(
    bets: pl.DataFrame,
    closing: pl.DataFrame,
    *,
    method: Method = "multiplicative",
    sharp: str | None = None,
    kickoff_col: str | None = "kickoff",
    market_keys: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Closing line value of bets against the de-vigged closing line.

    Each bookmaker's closing snapshot of a market is its last one strictly before
    ``kickoff_col`` (or its last one when the frame has no kickoff column). The fair
    close is the consensus of all bookmakers (see :func:`consensus_line`; aggregate
    books left out) or, with ``sharp="Pinnacle"``, that bookmaker's de-vigged close
    (an aggregate book such as ``"football-data average (aggregate)"`` may be named
    here: the market's average close).

    Parameters
    ----------
    bets
        The bets: the market keys, ``outcome`` and ``odds`` (the odds taken),
        optionally ``bookmaker``.
    closing
        Long odds frame holding the closing prices.
    method
        Margin-removal method (one of :data:`oddskit.margins.METHODS`).
    sharp
        De-vig only this bookmaker's close; default: the consensus of all.
    kickoff_col
        Column of ``closing`` holding each event's kickoff; ``None``: each
        bookmaker's last snapshot closes.
    market_keys
        Columns that identify one market of one event (see
        :mod:`oddskit.odds_frames`); default: those of ``event_id, market, line`` in
        the frame. Called ``by`` before 0.2.

    Returns
    -------
    pl.DataFrame
        The bets in input order plus ``fair_close_prob``, ``fair_close_odds``,
        ``close_source``, ``clv = odds × fair_close_prob − 1`` and ``clv_prob =
        fair_close_prob − 1/odds`` (probability points; both > 0 when the bet beat
        the close), and with a ``bookmaker`` column ``closing_odds`` (that
        bookmaker's own closing price, margin included) and ``clv_vs_book_close =
        odds/closing_odds − 1``. Bets without a close get nulls.

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
    method = choice(method, "method", Method)
    df, keys = prepare_odds(closing, market_keys, name="closing")
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
        df = utc_time_column(df, before)
    sharp = known_bookmaker(df, sharp, "sharp")
    board, gkeys = _board(df, keys, as_of=None, aligned=False, lookback=None, before=before)
    instance = [*gkeys, "bookmaker", "captured_at"]
    okeys = [*gkeys, "outcome"]
    if sharp is None:
        books = without_aggregates(board, "closing_line_value")
        fair = _consensus(books, gkeys, method=method, instance=instance)
    else:
        fair = remove_margin(
            board.filter(pl.col("bookmaker") == sharp), method=method, instance_keys=instance
        ).filter(pl.col("fair_prob").is_not_null())
    fair = fair.select(
        *okeys,
        pl.col("fair_prob").alias("fair_close_prob"),
        pl.col("fair_odds").alias("fair_close_odds"),
    )
    cast = {k: df.schema[k] for k in okeys}
    out = (
        bets.with_row_index(ROW)
        .with_columns(pl.col(k).cast(dtype) for k, dtype in cast.items())
        .join(fair, on=okeys, how="left", **NULLS_EQUAL)
        .with_columns(
            pl.lit(sharp or "consensus").alias("close_source"),
            (pl.col("odds") * pl.col("fair_close_prob") - 1.0).alias("clv"),
            (pl.col("fair_close_prob") - 1.0 / pl.col("odds")).alias("clv_prob"),
        )
    )
    if "bookmaker" in bets.columns:
        own = board.select(*okeys, "bookmaker", pl.col("odds").alias("closing_odds"))
        out = out.join(own, on=[*okeys, "bookmaker"], how="left", **NULLS_EQUAL).with_columns(
            (pl.col("odds") / pl.col("closing_odds") - 1.0).alias("clv_vs_book_close")
        )
    _warn_if_unclosed(out, source=sharp or "the consensus of the closing bookmakers")
    return out.sort(ROW).drop(ROW)


def _warn_if_unclosed(out: pl.DataFrame, *, source: str) -> None:
    """Warn when most bets found no fair closing price (their clv is null)."""
    unclosed = out.get_column("clv").null_count()
    if out.height and unclosed > THIN_SHARE * out.height:
        warnings.warn(
            f"closing_line_value: {unclosed:,} of {out.height:,} bets have no closing line "
            f"(clv is null): {source} gives no de-vigged close for their market, line and "
            "outcome. Check that the bets and `closing` use the same event ids, markets and "
            "lines; one match under several event ids (listings not linked) is the usual "
            "cause: `oddskit links candidates`, oddskit.links",
            InsufficientDataWarning,
            stacklevel=user_stacklevel(),
        )
