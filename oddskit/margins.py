r"""Bookmaker margins: overround, margin removal and odds-format conversion.

Pure functions over long Polars frames (one row per priced outcome, columns
``event_id, bookmaker, captured_at, market, line, outcome, odds``). Nothing here
touches a database.

A *market instance* is the group :data:`~oddskit.markets.MARKET_INSTANCE_KEYS`
(only the key columns present in the frame are used; ``by=`` overrides). Every
function is vectorised over all instances at once: closed forms are plain array
arithmetic, and the iterative methods solve every instance simultaneously with a
bracketed root finder over a padded ``instances x outcomes`` array.

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
Illinois (modified regula falsi) iteration inside an analytic bracket, until
``|Σ p_i - 1| ≤ tol`` (default ``1e-12``).

Flag policy
-----------
Problems of one market instance never raise; they set boolean flags on its rows
(flags are never null):

``incomplete``
    an outcome is suspended (``odds`` null), missing from the frame (for a market
    of :data:`~oddskit.markets.MARKET_OUTCOMES`), or the instance has fewer than two
    priced outcomes. Fair values, ``overround`` and the parameter are null.
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

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, overload

import numpy as np
import polars as pl

from oddskit.errors import ConfigurationError, ValidationError
from oddskit.markets import EXCLUSIVE_MARKETS, MARKET_INSTANCE_KEYS, MARKET_OUTCOMES

__all__ = [
    "METHODS",
    "american_to_decimal",
    "compare_methods",
    "compute_overround",
    "decimal_to_american",
    "decimal_to_fractional",
    "decimal_to_implied_prob",
    "fractional_to_decimal",
    "implied_prob_to_decimal",
    "remove_margin",
]

#: Margin-removal methods of :func:`remove_margin`, in display order.
METHODS: Final[tuple[str, ...]] = (
    "multiplicative",
    "additive",
    "power",
    "shin",
    "odds_ratio",
    "balanced_book",
    "wpo",
)

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

#: Sum of fair probabilities of known non-exclusive markets (others sum to one).
_TARGET_SUM: Final[dict[str, float]] = {
    market: 2.0 for market in MARKET_OUTCOMES if market not in EXCLUSIVE_MARKETS
}

#: "market<US>outcome" strings of every known (market, outcome) pair.
_MARKET_OUTCOME_PAIRS: Final[list[str]] = [
    f"{market}\x1f{outcome}" for market, outcomes in MARKET_OUTCOMES.items() for outcome in outcomes
]

_UNDER_ROUND_TOL: Final = 1e-12
_ROW: Final = "__oddskit_row"

Number = float | int

# --------------------------------------------------------------------------------------
# Odds-format conversion
# --------------------------------------------------------------------------------------


def _check_decimal_series(odds: pl.Series, name: str = "decimal odds") -> pl.Series:
    if not odds.dtype.is_numeric():
        raise ValidationError(f"{name} must be numeric, got dtype {odds.dtype}")
    odds = odds.cast(pl.Float64)
    bad = odds.is_not_null() & ~(odds.is_finite() & (odds > 1.0))
    if bad.any():
        idx = int(bad.arg_true()[0])
        raise ValidationError(
            f"{name} must be finite and > 1; got {odds[idx]!r} at position {idx} "
            f"({int(bad.sum())} invalid value(s)). Use null for a suspended price and "
            "convert other formats with american_to_decimal / fractional_to_decimal."
        )
    return odds


def _check_decimal_scalar(odds: Number) -> float:
    value = float(odds)
    if not (math.isfinite(value) and value > 1.0):
        raise ValidationError(
            f"decimal odds must be finite and > 1, got {odds!r}. Decimal odds include "
            "the stake (evens is 2.0); convert other formats with american_to_decimal "
            "or fractional_to_decimal first."
        )
    return value


@overload
def decimal_to_implied_prob(odds: Number) -> float: ...
@overload
def decimal_to_implied_prob(odds: pl.Series) -> pl.Series: ...
def decimal_to_implied_prob(odds: Number | pl.Series) -> float | pl.Series:
    """Implied probability ``1 / odds`` of decimal odds (margin included).

    Parameters
    ----------
    odds
        Decimal odds, a number or a Series; each must be > 1 (nulls pass through).

    Examples
    --------
    >>> decimal_to_implied_prob(2.5)
    0.4
    >>> decimal_to_implied_prob(pl.Series([2.0, None, 4.0])).to_list()
    [0.5, None, 0.25]
    """
    if isinstance(odds, pl.Series):
        return (1.0 / _check_decimal_series(odds)).alias(odds.name)
    return 1.0 / _check_decimal_scalar(odds)


@overload
def implied_prob_to_decimal(prob: Number) -> float: ...
@overload
def implied_prob_to_decimal(prob: pl.Series) -> pl.Series: ...
def implied_prob_to_decimal(prob: Number | pl.Series) -> float | pl.Series:
    """Decimal odds ``1 / prob`` of a probability in ``(0, 1)``.

    Examples
    --------
    >>> implied_prob_to_decimal(0.25)
    4.0
    >>> implied_prob_to_decimal(pl.Series([0.5, 0.2])).to_list()
    [2.0, 5.0]
    """
    if isinstance(prob, pl.Series):
        if not prob.dtype.is_numeric():
            raise ValidationError(f"probabilities must be numeric, got dtype {prob.dtype}")
        prob = prob.cast(pl.Float64)
        bad = prob.is_not_null() & ~((prob > 0.0) & (prob < 1.0))
        if bad.any():
            idx = int(bad.arg_true()[0])
            raise ValidationError(
                f"probabilities must lie strictly between 0 and 1; got {prob[idx]!r} at "
                f"position {idx}. Percentages must be divided by 100 first."
            )
        return 1.0 / prob
    value = float(prob)
    if not 0.0 < value < 1.0:
        raise ValidationError(
            f"probability must lie strictly between 0 and 1, got {prob!r}. "
            "Percentages must be divided by 100 first."
        )
    return 1.0 / value


def _american_scalar(value: Number | str) -> float:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(
            f"American odds must be a number such as +150 or -200, got {value!r}"
        ) from None
    if not math.isfinite(number) or -100.0 < number < 100.0:
        raise ValidationError(
            f"American odds must be <= -100 or >= +100, got {value!r}. "
            "Values between -100 and +100 are not American odds (evens is +100)."
        )
    return 1.0 + number / 100.0 if number > 0 else 1.0 + 100.0 / -number


@overload
def american_to_decimal(american: Number | str) -> float: ...
@overload
def american_to_decimal(american: pl.Series) -> pl.Series: ...
def american_to_decimal(american: Number | str | pl.Series) -> float | pl.Series:
    """Decimal odds of American (moneyline) odds.

    ``+A`` becomes ``1 + A/100`` and ``-A`` becomes ``1 + 100/A``. Strings such as
    ``"+150"`` are accepted.

    Examples
    --------
    >>> american_to_decimal("+150"), american_to_decimal(-200)
    (2.5, 1.5)
    >>> american_to_decimal(pl.Series([170, 130, 340])).round(10).to_list()
    [2.7, 2.3, 4.4]
    """
    if isinstance(american, pl.Series):
        series = american
        if series.dtype == pl.String:
            values = [None if v is None else _american_scalar(v) for v in series.to_list()]
            return pl.Series(series.name, values, dtype=pl.Float64)
        if not series.dtype.is_numeric():
            raise ValidationError(f"American odds must be numeric, got dtype {series.dtype}")
        series = series.cast(pl.Float64)
        bad = series.is_not_null() & ~(series.is_finite() & (series.abs() >= 100.0))
        if bad.any():
            idx = int(bad.arg_true()[0])
            _american_scalar(series[idx])  # raises with the message for that value
        return (
            pl.select(
                pl.when(series > 0)
                .then(1.0 + series / 100.0)
                .otherwise(1.0 + 100.0 / -series)
                .alias(series.name)
            )
            .to_series()
            .cast(pl.Float64)
        )
    return _american_scalar(american)


@overload
def decimal_to_american(odds: Number) -> float: ...
@overload
def decimal_to_american(odds: pl.Series) -> pl.Series: ...
def decimal_to_american(odds: Number | pl.Series) -> float | pl.Series:
    """American odds of decimal odds: ``+100(O - 1)`` for ``O ≥ 2``, else ``-100/(O - 1)``.

    Evens (2.0) is returned as ``+100``. Values are not rounded.

    Examples
    --------
    >>> decimal_to_american(2.5), decimal_to_american(1.5)
    (150.0, -200.0)
    >>> decimal_to_american(pl.Series([2.0, 1.25])).to_list()
    [100.0, -400.0]
    """
    if isinstance(odds, pl.Series):
        series = _check_decimal_series(odds)
        return (
            pl.select(
                pl.when(series >= 2.0)
                .then(100.0 * (series - 1.0))
                .otherwise(-100.0 / (series - 1.0))
                .alias(odds.name)
            )
            .to_series()
            .cast(pl.Float64)
        )
    value = _check_decimal_scalar(odds)
    return 100.0 * (value - 1.0) if value >= 2.0 else -100.0 / (value - 1.0)


def _fractional_scalar(value: str) -> float:
    text = str(value).strip().lower()
    if text in {"evens", "evs", "even"}:
        return 2.0
    for sep in ("/", "-", "\u2013"):
        if sep in text:
            num_text, _, den_text = text.partition(sep)
            break
    else:
        raise ValidationError(
            f"fractional odds must look like '5/2' (or '5-2', 'evens'), got {value!r}"
        )
    try:
        num, den = Fraction(num_text.strip()), Fraction(den_text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValidationError(
            f"fractional odds must look like '5/2' with positive numbers, got {value!r}"
        ) from None
    if num <= 0 or den <= 0:
        raise ValidationError(
            f"fractional odds need a positive numerator and denominator, got {value!r}"
        )
    return float(1 + num / den)


@overload
def fractional_to_decimal(fractional: str) -> float: ...
@overload
def fractional_to_decimal(fractional: pl.Series) -> pl.Series: ...
def fractional_to_decimal(fractional: str | pl.Series) -> float | pl.Series:
    """Decimal odds of fractional odds ``"a/b"``: ``1 + a/b``.

    ``"a-b"`` and ``"evens"`` are accepted too.

    Examples
    --------
    >>> fractional_to_decimal("5/2"), fractional_to_decimal("6-4"), fractional_to_decimal("evens")
    (3.5, 2.5, 2.0)
    """
    if isinstance(fractional, pl.Series):
        values = [None if v is None else _fractional_scalar(v) for v in fractional.to_list()]
        return pl.Series(fractional.name, values, dtype=pl.Float64)
    return _fractional_scalar(fractional)


def _to_fraction_text(value: float, max_denominator: int) -> str:
    frac = Fraction(value - 1.0).limit_denominator(max_denominator)
    if frac <= 0:
        frac = Fraction(1, max_denominator)
    return f"{frac.numerator}/{frac.denominator}"


@overload
def decimal_to_fractional(odds: Number, *, max_denominator: int = ...) -> str: ...
@overload
def decimal_to_fractional(odds: pl.Series, *, max_denominator: int = ...) -> pl.Series: ...
def decimal_to_fractional(
    odds: Number | pl.Series, *, max_denominator: int = 100
) -> str | pl.Series:
    """Fractional odds ``"a/b"`` of decimal odds (the closest fraction of ``O - 1``).

    Parameters
    ----------
    odds
        Decimal odds (> 1).
    max_denominator
        Largest denominator used; decimal odds rarely come from fractions with
        more than two digits below the line.

    Examples
    --------
    >>> decimal_to_fractional(3.5), decimal_to_fractional(2.0), decimal_to_fractional(1.8)
    ('5/2', '1/1', '4/5')
    """
    if isinstance(max_denominator, bool) or not isinstance(max_denominator, int):
        raise ConfigurationError(
            f"`max_denominator` must be a positive integer, got {max_denominator!r}"
        )
    if max_denominator < 1:
        raise ConfigurationError(
            f"`max_denominator` must be a positive integer, got {max_denominator!r}"
        )
    if isinstance(odds, pl.Series):
        series = _check_decimal_series(odds)
        texts = [
            None if v is None else _to_fraction_text(v, max_denominator) for v in series.to_list()
        ]
        return pl.Series(odds.name, texts, dtype=pl.String)
    return _to_fraction_text(_check_decimal_scalar(odds), max_denominator)


# --------------------------------------------------------------------------------------
# Market-instance preparation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Instances:
    """Rows of a frame grouped into market instances, as numpy arrays."""

    keys: list[str]
    groups: pl.DataFrame  # one row per instance: key columns, first-appearance order
    gid: np.ndarray  # instance index of each row (input order)
    implied: np.ndarray  # 1/odds per row, NaN where odds is null
    n_priced: np.ndarray  # non-null odds per instance
    booksum: np.ndarray  # Σ 1/odds over priced outcomes
    incomplete: np.ndarray
    non_exclusive: np.ndarray
    target: np.ndarray  # fair probabilities should sum to this (1 or 2)
    order: np.ndarray  # rows sorted by instance (stable)
    starts: np.ndarray  # first position in `order` of each instance


def _resolve_keys(frame: pl.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return [k for k in MARKET_INSTANCE_KEYS if k in frame.columns]
    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ConfigurationError(
            f"`by` names column(s) {missing} that the frame does not have; "
            f"available columns are {frame.columns}"
        )
    if "odds" in keys or "outcome" in keys:
        raise ConfigurationError("`by` must not contain 'odds' or 'outcome'")
    return keys


def _validate_frame(frame: pl.DataFrame) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise ConfigurationError(
            f"`frame` must be a polars DataFrame, got {type(frame).__name__}; "
            "collect a LazyFrame first"
        )
    if "odds" not in frame.columns:
        raise ValidationError(
            f"the frame has no 'odds' column (decimal odds); columns are {frame.columns}"
        )
    if _ROW in frame.columns:
        raise ValidationError(f"column name {_ROW!r} is reserved")
    odds = frame.get_column("odds")
    if not odds.dtype.is_numeric():
        raise ValidationError(
            f"'odds' must be numeric decimal odds (Float64), got dtype {odds.dtype}; "
            "convert with american_to_decimal / fractional_to_decimal first"
        )
    odds = odds.cast(pl.Float64)
    bad = odds.is_not_null() & ~(odds.is_finite() & (odds > 1.0))
    if bad.any():
        idx = int(bad.arg_true()[0])
        where = {c: frame[c][idx] for c in (*MARKET_INSTANCE_KEYS, "outcome") if c in frame}
        raise ValidationError(
            f"'odds' must be decimal odds > 1; row {idx} {where} has {odds[idx]!r} "
            f"({int(bad.sum())} invalid row(s)). Set the odds of a suspended outcome "
            "to null instead of 0 or 1, and drop or fix the other rows."
        )


def _prepare(frame: pl.DataFrame, by: str | Sequence[str] | None) -> _Instances:
    _validate_frame(frame)
    keys = _resolve_keys(frame, by)
    df = frame.with_row_index(_ROW)
    n_rows = df.height

    if keys:
        grouped = df.group_by(keys, maintain_order=True).agg(pl.col(_ROW))
        groups = grouped.drop(_ROW)
        row_lists = grouped.get_column(_ROW)
        lengths = row_lists.list.len().to_numpy().astype(np.int64)
        order = row_lists.explode().to_numpy().astype(np.int64)
    else:
        groups = pl.DataFrame(height=1 if n_rows else 0)
        lengths = np.array([n_rows] if n_rows else [], dtype=np.int64)
        order = np.arange(n_rows, dtype=np.int64)
    m = len(lengths)
    starts = np.zeros(m, dtype=np.int64)
    if m:
        starts[1:] = np.cumsum(lengths)[:-1]
    gid = np.empty(n_rows, dtype=np.int64)
    gid[order] = np.repeat(np.arange(m, dtype=np.int64), lengths)

    odds = df.get_column("odds").cast(pl.Float64).to_numpy()
    implied = 1.0 / odds  # NaN where null
    priced = ~np.isnan(implied)
    n_priced = np.bincount(gid, weights=priced, minlength=m).astype(np.int64)
    booksum = np.bincount(gid, weights=np.where(priced, implied, 0.0), minlength=m)
    incomplete = (n_priced < lengths) | (n_priced < 2)

    target = np.ones(m)
    non_exclusive = np.zeros(m, dtype=bool)
    if "outcome" in df.columns:
        _check_outcomes(df, keys)
    if "market" in df.columns:
        market = df.get_column("market").cast(pl.String)
        market_by_group = market.to_numpy()[order[starts]] if m else np.array([])
        known = np.array([mk in MARKET_OUTCOMES for mk in market_by_group], dtype=bool)
        non_exclusive = np.array([mk in _TARGET_SUM for mk in market_by_group], dtype=bool)
        target = np.array([_TARGET_SUM.get(mk, 1.0) for mk in market_by_group])
        if "outcome" in df.columns and known.any():
            pairs = _MARKET_OUTCOME_PAIRS
            in_vocab = (
                df.select(
                    (
                        pl.col("market").cast(pl.String)
                        + "\x1f"
                        + pl.col("outcome").cast(pl.String)
                    ).is_in(pairs)
                    & pl.col("odds").is_not_null()
                )
                .to_series()
                .fill_null(False)
                .to_numpy()
            )
            n_expected_priced = np.bincount(gid, weights=in_vocab, minlength=m)
            expected = np.array(
                [len(MARKET_OUTCOMES.get(mk, ())) for mk in market_by_group], dtype=np.int64
            )
            incomplete |= known & (n_expected_priced < expected)
    return _Instances(
        keys=keys,
        groups=groups,
        gid=gid,
        implied=implied,
        n_priced=n_priced,
        booksum=booksum,
        incomplete=incomplete,
        non_exclusive=non_exclusive,
        target=target,
        order=order,
        starts=starts,
    )


def _check_outcomes(df: pl.DataFrame, keys: list[str]) -> None:
    group_keys = [*keys, "outcome"]
    dup = df.with_columns(pl.len().over(group_keys).alias("__n")).filter(pl.col("__n") > 1)
    if dup.height:
        first = dup.row(0, named=True)
        where = {k: first[k] for k in group_keys}
        raise ValidationError(
            f"outcome {first['outcome']!r} appears {first['__n']} times in one market "
            f"instance {where}; the instance keys {keys} do not identify instances. "
            "Pass by= with the missing key column(s), or deduplicate the snapshot."
        )
    if "market" not in df.columns:
        return
    pairs = _MARKET_OUTCOME_PAIRS
    foreign = df.filter(
        pl.col("market").cast(pl.String).is_in(list(MARKET_OUTCOMES))
        & ~(pl.col("market").cast(pl.String) + "\x1f" + pl.col("outcome").cast(pl.String)).is_in(
            pairs
        )
    )
    if foreign.height:
        first = foreign.row(0, named=True)
        market = first["market"]
        raise ValidationError(
            f"outcome {first['outcome']!r} is not an outcome of market {market!r} "
            f"(expected one of {MARKET_OUTCOMES[market]}); {foreign.height} row(s) affected"
        )


def _padded(inst: _Instances, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Implied probabilities of the instances ``sel`` as a NaN-padded 2-D array."""
    lengths = np.diff(np.append(inst.starts, len(inst.order)))[sel]
    width = int(lengths.max()) if len(lengths) else 0
    pad = np.full((len(sel), width), np.nan)
    row_of_sel = np.repeat(np.arange(len(sel)), lengths)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    col = np.arange(int(lengths.sum())) - offsets
    rows = inst.order[np.repeat(inst.starts[sel], lengths) + col]
    pad[row_of_sel, col] = inst.implied[rows]
    return pad, ~np.isnan(pad)


# --------------------------------------------------------------------------------------
# Vectorised bracketed root finder
# --------------------------------------------------------------------------------------


def _illinois(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    neutral: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``func(x, idx) = 0`` for every row at once inside ``[lo, hi]``.

    ``func(x, idx)`` evaluates the residual of rows ``idx`` at ``x`` (same length).
    Uses the Illinois variant of regula falsi, falling back to bisection whenever
    the secant point is not strictly inside the bracket. Returns the roots and a
    boolean "converged" array (``|residual| ≤ tol`` or the bracket collapsed to
    adjacent floats).
    """
    lo = lo.astype(float).copy()
    hi = hi.astype(float).copy()
    everyone = np.arange(len(lo))
    flo = func(lo, everyone)
    fhi = func(hi, everyone)
    if neutral is not None:
        # The no-margin parameter value splits the bracket; a fair book stops here
        # and is returned exactly unchanged.
        fn = func(np.full(len(lo), neutral), everyone)
        inside = (lo < neutral) & (neutral < hi)
        to_lo = inside & (np.sign(fn) == np.sign(flo))
        to_hi = inside & ~to_lo
        lo, flo = np.where(to_lo, neutral, lo), np.where(to_lo, fn, flo)
        hi, fhi = np.where(to_hi, neutral, hi), np.where(to_hi, fn, fhi)
        exact = inside & (np.abs(fn) <= tol)
        lo, flo = np.where(exact, neutral, lo), np.where(exact, fn, flo)
        hi, fhi = np.where(exact, neutral, hi), np.where(exact, fn, fhi)
    x = np.where(np.abs(flo) <= np.abs(fhi), lo, hi)
    fx = np.where(np.abs(flo) <= np.abs(fhi), flo, fhi)
    bracketed = np.sign(flo) * np.sign(fhi) <= 0
    done = np.abs(fx) <= tol
    side = np.zeros(len(lo), dtype=np.int8)
    for _ in range(max_iter):
        active = np.flatnonzero(bracketed & ~done)
        if not len(active):
            break
        a, b, fa, fb = lo[active], hi[active], flo[active], fhi[active]
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = (a * fb - b * fa) / (fb - fa)
        mid = 0.5 * (a + b)
        xs = np.where(np.isfinite(xs) & (xs > a) & (xs < b), xs, mid)
        fs = func(xs, active)
        x[active], fx[active] = xs, fs
        left = np.sign(fs) == np.sign(fa)  # root is in [xs, b]
        s = side[active]
        # Illinois: halve the retained end-point value when the same side moves twice.
        new_fhi = np.where(left & (s == 1), fb * 0.5, fb)
        new_flo = np.where(~left & (s == -1), fa * 0.5, fa)
        lo[active] = np.where(left, xs, a)
        flo[active] = np.where(left, fs, new_flo)
        hi[active] = np.where(left, b, xs)
        fhi[active] = np.where(left, new_fhi, fs)
        side[active] = np.where(left, 1, -1)
        width = hi[active] - lo[active]
        collapsed = width <= 4.0 * np.finfo(float).eps * np.maximum(
            np.abs(lo[active]), np.abs(hi[active])
        )
        done[active] = (np.abs(fs) <= tol) | (fs == 0) | collapsed
    converged = bracketed & (done | (np.abs(fx) <= tol))
    return x, converged


def _row_sum(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, values, 0.0).sum(axis=1)


def _shin_probs(z: np.ndarray, pi: np.ndarray, booksum: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    zc = z[..., None] if pi.ndim == 2 else z
    bc = booksum[..., None] if pi.ndim == 2 else booksum
    return (np.sqrt(zc * zc + 4.0 * (1.0 - zc) * pi * pi / bc) - zc) / (2.0 * (1.0 - zc))


def _odds_ratio_probs(c: np.ndarray, pi: np.ndarray) -> np.ndarray:
    cc = c[..., None] if pi.ndim == 2 else c
    return pi / (cc + pi - cc * pi)


def _power_probs(k: np.ndarray, pi: np.ndarray) -> np.ndarray:
    kk = k[..., None] if pi.ndim == 2 else k
    return pi**kk


def _solve(
    method: str, inst: _Instances, sel: np.ndarray, *, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter of an iterative method for the instances ``sel`` (all solvable)."""
    pad, mask = _padded(inst, sel)
    booksum = inst.booksum[sel]
    n = mask.sum(axis=1).astype(float)
    pmin = np.where(mask, pad, np.inf).min(axis=1)
    pmax = np.where(mask, pad, -np.inf).max(axis=1)

    if method == "power":
        # n·π_max^k ≤ 1 at k ≥ ln n / -ln π_max; n·π_min^k ≥ 1 at k ≤ ln n / -ln π_min.
        lo = np.minimum(np.log(n) / -np.log(pmin), 1.0)
        hi = np.maximum(np.log(n) / -np.log(pmax), 1.0)

        def residual(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return _row_sum(_power_probs(x, pad[idx]), mask[idx]) - 1.0

    elif method == "odds_ratio":
        # Σ p ≥ n·π_min/(π_min + c) ≥ 1 at c ≤ (n-1)π_min; Σ p ≤ Σ π/(1-π) / c.
        lo = np.minimum((n - 1.0) * pmin, 1.0)
        hi = np.maximum(_row_sum(pad / (1.0 - pad), mask), 1.0)

        def residual(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return _row_sum(_odds_ratio_probs(x, pad[idx]), mask[idx]) - 1.0

    elif method == "shin":
        # Σ p(0) = √B; Σ p(z→1) → Σπ²/B < 1; every p(-1) > 1/2.
        over = booksum >= 1.0
        lo = np.where(over, 0.0, -1.0)
        hi = np.where(over, 1.0 - 1e-9, 0.0)

        def residual(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return _row_sum(_shin_probs(x, pad[idx], booksum[idx]), mask[idx]) - 1.0

    else:  # pragma: no cover - guarded by the caller
        raise AssertionError(method)

    neutral = {"power": 1.0, "odds_ratio": 1.0, "shin": 0.0}[method]
    return _illinois(residual, lo, hi, tol=tol, max_iter=max_iter, neutral=neutral)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def compute_overround(
    frame: pl.DataFrame, *, by: str | Sequence[str] | None = None
) -> pl.DataFrame:
    """Overround of every market instance.

    Parameters
    ----------
    frame
        Long odds frame with at least an ``odds`` column (decimal, > 1, null for
        a suspended outcome).
    by
        Instance key columns; default: the columns of ``MARKET_INSTANCE_KEYS``
        present in ``frame``.

    Returns
    -------
    pl.DataFrame
        One row per instance (first-appearance order): the key columns,
        ``n_outcomes`` (priced outcomes), ``booksum`` (``Σ 1/odds``), ``overround``
        (``booksum - 1``; ``booksum - 2`` for double chance), ``hold``
        (``1 - target/booksum``), ``is_complete`` and ``is_under_round``. The
        numbers are null for incomplete instances.

    Examples
    --------
    >>> frame = pl.DataFrame({
    ...     "event_id": [1, 1, 1, 2, 2],
    ...     "market": ["1x2", "1x2", "1x2", "btts", "btts"],
    ...     "outcome": ["home", "draw", "away", "yes", "no"],
    ...     "odds": [2.7, 2.3, 4.4, 1.8, None],
    ... })
    >>> out = compute_overround(frame)
    >>> out.select("event_id", "n_outcomes", "is_complete", "is_under_round").rows()
    [(1, 3, True, False), (2, 1, False, False)]
    >>> round(out["overround"][0], 4), out["overround"][1]
    (0.0324, None)
    """
    inst = _prepare(frame, by)
    complete = ~inst.incomplete
    booksum = np.where(complete, inst.booksum, np.nan)
    overround = booksum - inst.target
    with np.errstate(divide="ignore", invalid="ignore"):
        hold = 1.0 - inst.target / booksum
    return inst.groups.with_columns(
        pl.Series("n_outcomes", inst.n_priced, dtype=pl.Int64),
        pl.Series("booksum", booksum).fill_nan(None),
        pl.Series("overround", overround).fill_nan(None),
        pl.Series("hold", hold).fill_nan(None),
        pl.Series("is_complete", complete),
        pl.Series(
            "is_under_round",
            complete & (booksum < inst.target - _UNDER_ROUND_TOL),
        ),
    )


def remove_margin(
    frame: pl.DataFrame,
    *,
    method: str = "multiplicative",
    by: str | Sequence[str] | None = None,
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
    by
        Instance key columns; default: the columns of ``MARKET_INSTANCE_KEYS``
        present in ``frame``. An empty list treats the whole frame as one instance.
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
    if method not in METHODS:
        raise ConfigurationError(f"`method` must be one of {set(METHODS)}, got {method!r}")
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 < tol < 1e-3:
        raise ConfigurationError(f"`tol` must be a float in (0, 1e-3), got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ConfigurationError(f"`max_iter` must be a positive integer, got {max_iter!r}")

    inst = _prepare(frame, by)
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
            two = solvable & (inst.n_priced == 2)
            if two.any():
                # Closed form for two outcomes (Shin's p equals the additive p here).
                first = inst.order[inst.starts[two]]
                second = inst.order[inst.starts[two] + 1]
                d2 = (inst.implied[first] - inst.implied[second]) ** 2
                b = booksum[two]
                param[two] = (b - 1.0) * (d2 - b) / (b * (d2 - 1.0))
            multi = np.flatnonzero(solvable & (inst.n_priced > 2))
            if len(multi):
                param[multi], converged[multi] = _solve(
                    method, inst, multi, tol=tol, max_iter=max_iter
                )
        else:  # power, odds_ratio
            sel = np.flatnonzero(solvable)
            if len(sel):
                param[sel], converged[sel] = _solve(method, inst, sel, tol=tol, max_iter=max_iter)
    param = np.where(solvable, param, np.nan)
    converged |= ~solvable

    gid = inst.gid
    pi = inst.implied
    row_param = param[gid]
    row_b = booksum[gid]
    row_n = n[gid]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "multiplicative":
            fair = pi * row_param
        elif method == "additive":
            fair = pi - row_param
        elif method == "wpo":
            odds = 1.0 / pi
            fair = (row_n - (row_b - 1.0) * odds) / (row_n * odds)
        elif method == "balanced_book":
            fair = (pi - row_param) / (1.0 - row_param)
        elif method == "power":
            fair = _power_probs(row_param, pi)
        elif method == "odds_ratio":
            fair = _odds_ratio_probs(row_param, pi)
        else:  # shin
            two_rows = (inst.n_priced == 2)[gid]
            fair = np.where(
                two_rows,
                pi - (row_b - 1.0) / 2.0,
                _shin_probs(row_param, pi, row_b),
            )
        fair = np.where(solvable[gid], fair, np.nan)
        fair_odds = np.where(fair > 0.0, 1.0 / fair, np.nan)

    negative = np.bincount(gid, weights=fair < 0.0, minlength=m) > 0
    under_round = ~inst.incomplete & (booksum < inst.target - _UNDER_ROUND_TOL)
    overround = np.where(inst.incomplete, np.nan, booksum - inst.target)
    return frame.with_columns(
        pl.Series("implied_prob", pi).fill_nan(None),
        pl.Series("fair_prob", fair).fill_nan(None),
        pl.Series("fair_odds", fair_odds).fill_nan(None),
        pl.Series("overround", overround[gid]).fill_nan(None),
        pl.lit(method, dtype=pl.String).alias("method"),
        pl.Series("param", row_param).fill_nan(None),
        pl.lit(PARAM_NAMES[method], dtype=pl.String).alias("param_name"),
        pl.Series("incomplete", inst.incomplete[gid]),
        pl.Series("non_exclusive", inst.non_exclusive[gid]),
        pl.Series("under_round", under_round[gid]),
        pl.Series("negative_prob", negative[gid]),
        pl.Series("not_converged", ~converged[gid]),
    )


def compare_methods(frame: pl.DataFrame, *, methods: Iterable[str] | None = None) -> pl.DataFrame:
    """Fair probabilities of one market instance under several methods, side by side.

    Parameters
    ----------
    frame
        Rows of exactly one market instance (filter a larger frame first).
    methods
        Methods to compare; default: all of :data:`METHODS`.

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
    if isinstance(methods, str):
        raise ConfigurationError("`methods` must be a list of method names, not a string")
    chosen = list(METHODS) if methods is None else list(methods)
    unknown = [mth for mth in chosen if mth not in METHODS]
    if unknown or not chosen:
        raise ConfigurationError(
            f"`methods` must be a non-empty subset of {set(METHODS)}, got {chosen!r}"
        )
    _validate_frame(frame)
    keys = _resolve_keys(frame, None)
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
        remove_margin(frame, method=mth, by=[]).get_column("fair_prob").alias(mth) for mth in chosen
    ]
    return out.with_columns(columns)
