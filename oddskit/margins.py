r"""Bookmaker margins: overround, margin removal and odds-format conversion.

Pure functions over long Polars frames (one row per priced outcome, columns
``event_id, bookmaker, captured_at, market, line, outcome, odds``). Nothing here
touches a database.

A *market instance* is the group :data:`~oddskit.markets.MARKET_INSTANCE_KEYS`
(only the key columns present in the frame are used; ``instance_keys=`` overrides).
Every function is vectorised over all instances at once: closed forms are plain
array arithmetic, and the iterative methods solve every instance simultaneously with
a bracketed root finder over dense ``outcomes x instances`` arrays (one per number of
outcomes).

This module is the public face; the work is done in :mod:`oddskit.odds_formats`
(odds-format conversion, re-exported here), :mod:`oddskit.market_instances` (rows →
instances, input checks) and :mod:`oddskit.margin_solvers` (the iterative methods).

Notation
--------
For one instance with ``n`` outcomes and decimal odds ``O_i``:

* implied probability ``π_i = 1 / O_i``; booksum ``B = Σ π_i``;
* overround ``B - 1`` (a fraction: 0.05 is a 5 % overround);
* hold ``1 - 1/B``: the share of stakes kept on a book balanced to the odds;
* ``p_i`` is the fair (margin-free) probability, ``Σ p_i = 1``; fair odds ``1/p_i``.

Methods of :func:`remove_margin`
--------------------------------
``multiplicative``  (basic normalisation, R ``implied`` "basic")
    ``p_i = π_i / B``. Parameter ``scale = 1/B``.
``additive``  (R ``implied`` "additive")
    ``p_i = π_i - (B - 1)/n``. Parameter ``additive_shift = (B - 1)/n``. Can give
    negative probabilities for long shots in wide markets (flag ``negative_prob``).
``power``  (R ``implied`` "power"; Buchdahl's "logarithmic" method)
    ``p_i = π_i^k`` with ``k`` solved so that ``Σ p_i = 1``. Parameter ``power_k``
    (``k > 1`` for an over-round book; R ``implied`` reports ``1/k``).
``shin``  (Shin 1992/1993; Jullien & Salanié 1994)
    ``p_i = (√(z² + 4(1 - z) π_i²/B) - z) / (2(1 - z))`` with the insider share ``z``
    solved on ``[0, 1)`` by the bracketed root finder (the usual fixed-point
    iteration for ``z`` oscillates and is not used). Two-outcome markets use the
    closed form ``p_i = π_i - (B - 1)/2``,
    ``z = (B - 1)(d² - B) / (B(d² - 1))`` with ``d = π_1 - π_2``.
    Parameter ``shin_z``.
``odds_ratio``  (Cheung 2015; R ``implied`` "or")
    ``p_i = π_i / (c + π_i - c π_i)``, i.e. ``odds(π_i) = c · odds(p_i)``, with ``c``
    solved so that ``Σ p_i = 1``. Parameter ``odds_ratio_c``.
``balanced_book``  (Fingleton & Waldron 1999; R ``implied`` "bb", gross margin 0)
    ``z = (B - 1)/(n - 1)``, ``p_i = (π_i - z)/(1 - z)``. Parameter ``balanced_book_z``.
    Can give negative probabilities for long shots (flag ``negative_prob``).
``wpo``  (Margin Weights Proportional to the Odds, Buchdahl; R ``implied`` "wpo")
    fair odds ``F_i = n O_i / (n - M O_i)`` with ``M = B - 1``; ``p_i = 1/F_i``. The
    margin applied to outcome ``i`` is ``(M/n) · F_i``; parameter
    ``wpo_margin_per_odds = M/n``. Algebraically ``1/F_i = π_i - M/n``, so ``wpo``
    gives the same probabilities as ``additive``; it is kept for its name and its
    parameter.

The iterative methods (``power``, ``shin``, ``odds_ratio``) use a vectorised
safeguarded Halley iteration (analytic derivatives, bisection whenever a step leaves
the analytic bracket), started at the no-margin parameter, until
``|Σ p_i - 1| ≤ tol`` (default ``1e-12``); two or three iterations usually suffice.

Flag policy
-----------
Problems of one market instance never raise; they set boolean flags on its rows
(:func:`compute_overround` reports ``incomplete`` and ``under_round`` the same way,
per instance). Flags are never null, except ``incomplete``:

``incomplete``
    an outcome is suspended (``odds`` null), missing from the frame (for a market
    of :data:`~oddskit.markets.MARKET_OUTCOMES`), or the instance has fewer than two
    priced outcomes. Fair values, ``overround`` and the parameter are null. For a
    market oddskit does not know, with nothing seen missing, completeness is unknown:
    ``incomplete`` is null (never ``False``), and the numbers are computed as if the
    outcomes were all there.
``non_exclusive``
    a known market whose outcomes overlap (``double_chance``: fair probabilities
    sum to two). Margin removal does not apply; fair values are null. ``overround``
    is measured against that target (``B - 2``).
``under_round``
    ``B < 1`` (by more than ``1e-12``, so float noise on a fair book is not
    flagged). Policy: the book is still normalised by every method; the parameter
    then takes its "negative margin" value (``shin_z < 0``, ``power_k < 1``,
    ``odds_ratio_c < 1``, negative ``additive_shift`` / ``balanced_book_z``).
``negative_prob``
    some fair probability is negative (``additive``, ``wpo``, ``balanced_book`` on
    wide markets). The values are returned unclipped; ``fair_odds`` is null where
    ``fair_prob ≤ 0``.
``not_converged``
    the root finder did not reach ``tol`` within ``max_iter`` iterations (or found
    no bracket). The last iterate is returned.

Exceptions are raised only for invalid arguments (:class:`ConfigurationError`)
and for data that breaks the input format (:class:`ValidationError`): odds that
are not > 1 (use null for a suspended price), missing columns, an outcome twice
in one instance, or an outcome that does not belong to its market.

Examples
--------
>>> import polars as pl
>>> odds = pl.DataFrame({"event_id": [1, 1, 1], "market": ["1x2"] * 3,
...                      "outcome": ["home", "draw", "away"], "odds": [2.7, 2.3, 4.4]})
>>> out = remove_margin(odds, method="shin")
>>> [round(p, 4) for p in out["fair_prob"]]
[0.3593, 0.4232, 0.2174]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal, get_args

import numpy as np
import polars as pl

from oddskit.arguments import choice, integer, number, renamed_arguments, texts
from oddskit.errors import ConfigurationError, ValidationError
from oddskit.margin_solvers import odds_ratio_probs, shin_probs, solve
from oddskit.market_instances import UNDER_ROUND_TOL, instance_keys_of, prepare_instances
from oddskit.market_instances import validate_odds_frame as _validate_frame
from oddskit.odds_formats import (
    american_to_decimal,
    check_decimal_odds,
    decimal_to_american,
    decimal_to_fractional,
    decimal_to_implied_prob,
    fractional_to_decimal,
    implied_prob_to_decimal,
)

__all__ = [
    "METHODS",
    "PARAM_NAMES",
    "Method",
    "american_to_decimal",
    "check_decimal_odds",
    "compare_methods",
    "compute_overround",
    "decimal_to_american",
    "decimal_to_fractional",
    "decimal_to_implied_prob",
    "fractional_to_decimal",
    "implied_prob_to_decimal",
    "remove_margin",
]

#: A margin-removal method of :func:`remove_margin`.
Method = Literal[
    "multiplicative", "additive", "power", "shin", "odds_ratio", "balanced_book", "wpo"
]

#: Margin-removal methods of :func:`remove_margin`, in display order.
METHODS: Final[tuple[str, ...]] = get_args(Method)

#: Name of the parameter each method reports in the ``param`` column.
PARAM_NAMES: Final[dict[str, str]] = {
    "multiplicative": "scale",
    "additive": "additive_shift",
    "power": "power_k",
    "shin": "shin_z",
    "odds_ratio": "odds_ratio_c",
    "balanced_book": "balanced_book_z",
    "wpo": "wpo_margin_per_odds",
}

_ITERATIVE: Final = frozenset({"power", "shin", "odds_ratio"})


@renamed_arguments(by="instance_keys")
def compute_overround(
    frame: pl.DataFrame, *, instance_keys: str | Sequence[str] | None = None
) -> pl.DataFrame:
    """Overround of every market instance.

    Parameters
    ----------
    frame
        Long odds frame with at least an ``odds`` column (decimal, > 1, null for
        a suspended outcome).
    instance_keys
        Columns that identify a market instance; default: the columns of
        :data:`~oddskit.markets.MARKET_INSTANCE_KEYS` present in ``frame``. (Called
        ``by`` before 0.2; the old name still works, with a ``DeprecationWarning``.)

    Returns
    -------
    pl.DataFrame
        One row per instance (first-appearance order): the key columns,
        ``n_outcomes`` (priced outcomes), ``booksum`` (``Σ 1/odds``), ``overround``
        (``booksum - 1``; ``booksum - 2`` for double chance), ``hold``
        (``1 - target/booksum``) and the flags ``incomplete`` and ``under_round``
        (named as in :func:`remove_margin`). The numbers are null for incomplete
        instances. The columns ``is_complete`` and ``is_under_round`` (the flags'
        names before 0.2) follow for one more release.

    Examples
    --------
    >>> frame = pl.DataFrame({
    ...     "event_id": [1, 1, 1, 2, 2],
    ...     "market": ["1x2", "1x2", "1x2", "btts", "btts"],
    ...     "outcome": ["home", "draw", "away", "yes", "no"],
    ...     "odds": [2.7, 2.3, 4.4, 1.8, None],
    ... })
    >>> out = compute_overround(frame)
    >>> out.select("event_id", "n_outcomes", "incomplete", "under_round").rows()
    [(1, 3, False, False), (2, 1, True, False)]
    >>> round(out["overround"][0], 4), out["overround"][1]
    (0.0324, None)
    """
    inst = prepare_instances(frame, instance_keys)
    complete = ~inst.incomplete
    booksum = np.where(complete, inst.booksum, np.nan)
    overround = booksum - inst.target
    with np.errstate(divide="ignore", invalid="ignore"):
        hold = 1.0 - inst.target / booksum
    under_round = complete & (booksum < inst.target - UNDER_ROUND_TOL)
    return inst.groups().with_columns(
        pl.Series("n_outcomes", inst.n_priced, dtype=pl.Int64),
        pl.Series("booksum", booksum).fill_nan(None),
        pl.Series("overround", overround).fill_nan(None),
        pl.Series("hold", hold).fill_nan(None),
        _unknown_to_null(pl.Series("incomplete", inst.incomplete), inst.unknown_market & complete),
        pl.Series("under_round", under_round),
        # Deprecated names of the two flags, kept for one release (removed in 0.3).
        _unknown_to_null(pl.Series("is_complete", complete), inst.unknown_market & complete),
        pl.Series("is_under_round", under_round),
    )


def _unknown_to_null(flag: pl.Series, unknown: np.ndarray) -> pl.Series:
    """``flag`` with nulls where completeness is unknown: a market not in oddskit's
    vocabulary with nothing missing that oddskit can see."""
    if not unknown.any():
        return flag
    return flag.set(pl.Series(unknown), None)  # type: ignore[arg-type]


@renamed_arguments(by="instance_keys")
def remove_margin(
    frame: pl.DataFrame,
    *,
    method: Method = "multiplicative",
    instance_keys: str | Sequence[str] | None = None,
    tol: float = 1e-12,
    max_iter: int = 200,
) -> pl.DataFrame:
    """Fair (margin-free) probabilities and odds of every priced outcome.

    All market instances are processed at once (see the module docstring for the
    formulas of each method and the flag policy).

    Parameters
    ----------
    frame
        Long odds frame with at least an ``odds`` column (decimal, > 1, null for a
        suspended outcome); ``market`` and ``outcome`` enable completeness checks.
    method
        One of :data:`METHODS`.
    instance_keys
        Columns that identify a market instance; default: the columns of
        :data:`~oddskit.markets.MARKET_INSTANCE_KEYS` present in ``frame``. An empty
        list treats the whole frame as one instance. (Called ``by`` before 0.2.)
    tol
        Iterative methods stop when ``|Σ fair_prob - 1| ≤ tol``.
    max_iter
        Iteration cap of the root finder; instances that hit it are flagged
        ``not_converged``.

    Returns
    -------
    pl.DataFrame
        The input rows in input order, plus ``implied_prob``, ``fair_prob``,
        ``fair_odds``, ``overround``, ``method``, ``param``, ``param_name`` and the
        boolean flags ``incomplete``, ``non_exclusive``, ``under_round``,
        ``negative_prob``, ``not_converged``.

    Under-round books (``Σ 1/odds < 1``) are normalised like any other and flagged
    ``under_round``; the parameter then has its negative-margin value.

    Examples
    --------
    >>> frame = pl.DataFrame({"outcome": ["home", "draw", "away"], "odds": [2.7, 2.3, 4.4]})
    >>> out = remove_margin(frame, method="power")
    >>> [round(p, 4) for p in out["fair_prob"]], out["param_name"][0]
    ([0.3592, 0.4237, 0.2171], 'power_k')
    >>> round(out["fair_prob"].sum(), 12)
    1.0
    """
    method = choice(method, "method", Method)
    tol = number(tol, "tol", above=0, below=1e-3)
    max_iter = integer(max_iter, "max_iter")  # type: ignore[assignment]

    inst = prepare_instances(frame, instance_keys)
    m = len(inst.booksum)
    solvable = ~inst.incomplete & ~inst.non_exclusive
    booksum = inst.booksum
    n = inst.n_priced.astype(float)
    param = np.full(m, np.nan)
    converged = np.ones(m, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "multiplicative":
            param = 1.0 / booksum
        elif method == "additive":
            param = (booksum - 1.0) / n
        elif method == "balanced_book":
            param = (booksum - 1.0) / (n - 1.0)
        elif method == "wpo":
            param = (booksum - 1.0) / n
        elif method == "shin":
            two = np.flatnonzero(solvable & (inst.n_priced == 2))
            if len(two):
                # Closed form for two outcomes (Shin's p equals the additive p here).
                d2 = (inst.implied[inst.rows(two, 0)] - inst.implied[inst.rows(two, 1)]) ** 2
                b = booksum[two]
                param[two] = (b - 1.0) * (d2 - b) / (b * (d2 - 1.0))
            multi = np.flatnonzero(solvable & (inst.n_priced > 2))
            solve(method, inst, multi, param, converged, tol=tol, max_iter=max_iter)
        else:  # power, odds_ratio
            sel = np.flatnonzero(solvable)
            solve(method, inst, sel, param, converged, tol=tol, max_iter=max_iter)
    all_solvable = bool(solvable.all())
    if not all_solvable:
        param = np.where(solvable, param, np.nan)
        converged |= ~solvable

    per_row = inst.per_row
    pi = inst.implied
    row_param = per_row(param)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "multiplicative":
            fair = pi * row_param
        elif method == "additive":
            fair = pi - row_param
        elif method == "wpo":
            odds = 1.0 / pi
            row_n = per_row(n)
            fair = (row_n - (per_row(booksum) - 1.0) * odds) / (row_n * odds)
        elif method == "balanced_book":
            fair = (pi - row_param) / (1.0 - row_param)
        elif method == "power":
            fair = pi**row_param
        elif method == "odds_ratio":
            fair = odds_ratio_probs(row_param, pi)
        else:  # shin
            row_b = per_row(booksum)
            fair = shin_probs(row_param, pi, row_b)
            two_rows = per_row(inst.n_priced == 2)
            if two_rows.any():
                fair[two_rows] = pi[two_rows] - (row_b[two_rows] - 1.0) / 2.0
        if not all_solvable:
            fair = np.where(per_row(solvable), fair, np.nan)
        fair_odds = 1.0 / fair
        not_positive = fair <= 0.0  # NaN (not solvable) stays NaN
        if not_positive.any():
            fair_odds[not_positive] = np.nan
            negative = np.bincount(inst.gid, weights=fair < 0.0, minlength=m) > 0
        else:
            negative = np.zeros(m, dtype=bool)

    under_round = ~inst.incomplete & (booksum < inst.target - UNDER_ROUND_TOL)
    overround = np.where(inst.incomplete, np.nan, booksum - inst.target)
    all_complete = not inst.incomplete.any()

    def floats(name: str, values: np.ndarray, may_be_nan: bool) -> pl.Series:
        series = pl.Series(name, values)
        return series.fill_nan(None) if may_be_nan else series

    def flags(name: str, values: np.ndarray) -> pl.Series | pl.Expr:
        if not values.any():  # the usual case: a constant column, no gather
            return pl.lit(False, dtype=pl.Boolean).alias(name)
        return pl.Series(name, per_row(values))

    incomplete_flags = flags("incomplete", inst.incomplete)
    unknown = inst.unknown_market & ~inst.incomplete  # not known to lack anything
    if unknown.any():  # nor known to be complete: null
        incomplete_flags = _unknown_to_null(
            pl.Series("incomplete", per_row(inst.incomplete)), per_row(unknown)
        )
    return frame.with_columns(
        floats("implied_prob", pi, not inst.all_priced),
        floats("fair_prob", fair, True),
        floats("fair_odds", fair_odds, True),
        floats("overround", per_row(overround), not all_complete),
        pl.lit(method, dtype=pl.String).alias("method"),
        floats("param", row_param, not all_solvable or method in _ITERATIVE),
        pl.lit(PARAM_NAMES[method], dtype=pl.String).alias("param_name"),
        incomplete_flags,
        flags("non_exclusive", inst.non_exclusive),
        flags("under_round", under_round),
        flags("negative_prob", negative),
        flags("not_converged", ~converged),
    )


def compare_methods(
    frame: pl.DataFrame, *, methods: Method | Iterable[Method] | None = None
) -> pl.DataFrame:
    """Fair probabilities of one market instance under several methods, side by side.

    Parameters
    ----------
    frame
        Rows of exactly one market instance (filter a larger frame first).
    methods
        One method or a list of methods to compare; default: all of :data:`METHODS`.

    Returns
    -------
    pl.DataFrame
        One row per outcome (input order): ``outcome`` (if present), ``odds``,
        ``implied_prob`` and one fair-probability column per method, named after it.

    Examples
    --------
    >>> frame = pl.DataFrame({"outcome": ["home", "draw", "away"], "odds": [2.6, 2.4, 4.3]})
    >>> table = compare_methods(frame, methods=["multiplicative", "shin"])
    >>> table.columns
    ['outcome', 'odds', 'implied_prob', 'multiplicative', 'shin']
    >>> [round(p, 5) for p in table["shin"]]
    [0.37299, 0.40478, 0.22223]
    """
    chosen = list(METHODS) if methods is None else texts(methods, "methods") or []
    if not chosen:
        raise ConfigurationError(f"`methods` must name at least one of {METHODS}, got []")
    for mth in chosen:
        choice(mth, "methods", Method)
    _validate_frame(frame)
    keys = instance_keys_of(frame, None)
    if keys and frame.select(keys).unique().height > 1:
        raise ValidationError(
            f"compare_methods takes one market instance, but the frame holds "
            f"{frame.select(keys).unique().height} distinct {keys} combinations; "
            "filter it to one instance, or use remove_margin for many"
        )
    base = [c for c in ("outcome", "odds") if c in frame.columns]
    out = frame.select(base).with_columns(
        pl.col("odds").cast(pl.Float64),
        (1.0 / pl.col("odds").cast(pl.Float64)).alias("implied_prob"),
    )
    columns = [
        remove_margin(frame, method=mth, instance_keys=[]).get_column("fair_prob").alias(mth)
        for mth in chosen
    ]
    return out.with_columns(columns)
