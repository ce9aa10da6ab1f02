r"""Bookmaker margins: overround, margin removal and odds-format conversion.

Pure functions over long Polars frames (one row per priced outcome, columns
``event_id, bookmaker, captured_at, market, line, outcome, odds``). Nothing here
touches a database.

A *market instance* is the group :data:`~oddskit.markets.MARKET_INSTANCE_KEYS`
(only the key columns present in the frame are used; ``by=`` overrides). Every
function is vectorised over all instances at once: closed forms are plain array
arithmetic, and the iterative methods solve every instance simultaneously with a
bracketed root finder over dense ``outcomes x instances`` arrays (one per number of
outcomes).

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
_ITERATIVE: Final = frozenset({"power", "shin", "odds_ratio"})
_ROW: Final = "__oddskit_row"

Number = float | int

# --------------------------------------------------------------------------------------
# Odds-format conversion
# --------------------------------------------------------------------------------------


def check_decimal_odds(odds: pl.Series, name: str = "odds") -> pl.Series:
    """``odds`` as Float64 after checking that every non-null value is finite and > 1.

    Nulls (suspended prices) pass; anything else raises a
    :class:`~oddskit.errors.ValidationError` naming the first bad row.

    Example:
        >>> check_decimal_odds(pl.Series([2, None])).to_list()
        [2.0, None]
        >>> check_decimal_odds(pl.Series([2.0, 0.5]), "'odds'")
        Traceback (most recent call last):
        ...
        oddskit.errors.ValidationError: 'odds' must be finite decimal odds > 1; row 1 has 0.5 ...
    """
    if not odds.dtype.is_numeric():
        raise ValidationError(f"{name} must be numeric decimal odds, got dtype {odds.dtype}")
    odds = odds.cast(pl.Float64)
    bad = odds.is_not_null() & ~(odds.is_finite() & (odds > 1.0))
    if bad.any():
        idx = int(bad.arg_true()[0])
        raise ValidationError(
            f"{name} must be finite decimal odds > 1; row {idx} has {odds[idx]!r} "
            f"({int(bad.sum())} invalid value(s)). Use null for a suspended price and "
            "convert other formats with american_to_decimal / fractional_to_decimal."
        )
    return odds


def _check_decimal_scalar(odds: Number) -> float:
    value = float(odds)
    if not (math.isfinite(value) and value > 1.0):
        raise ValidationError(
            f"odds must be finite decimal odds > 1, got {odds!r}. Decimal odds include "
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
        return (1.0 / check_decimal_odds(odds)).alias(odds.name)
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
        series = check_decimal_odds(odds)
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
        series = check_decimal_odds(odds)
        texts = [
            None if v is None else _to_fraction_text(v, max_denominator) for v in series.to_list()
        ]
        return pl.Series(odds.name, texts, dtype=pl.String)
    return _to_fraction_text(_check_decimal_scalar(odds), max_denominator)


# --------------------------------------------------------------------------------------
# Market-instance preparation
# --------------------------------------------------------------------------------------
#
# Everything here is O(rows) numpy work on one integer instance id per row; Polars is
# used only for what it does fastly on whole columns (row hashes, comparisons with the
# previous row, dictionary look-ups of market and outcome names).

#: Market codes: index in ``_MARKETS``; ``_UNKNOWN_MARKET`` for any other name or null.
_MARKETS: Final[tuple[str, ...]] = tuple(MARKET_OUTCOMES)
_UNKNOWN_MARKET: Final = len(_MARKETS)
#: Outcome codes: index in ``_OUTCOMES`` (every outcome name of a known market);
#: ``_UNKNOWN_OUTCOME`` for any other name, ``_NULL_OUTCOME`` for null.
_OUTCOMES: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(name for names in MARKET_OUTCOMES.values() for name in names)
)
_UNKNOWN_OUTCOME: Final = len(_OUTCOMES)
_NULL_OUTCOME: Final = len(_OUTCOMES) + 1
assert len(_OUTCOMES) < 62, "outcome codes are used as bit positions of an int64"


def _position_table() -> np.ndarray:
    table = np.full((len(_MARKETS) + 1, len(_OUTCOMES) + 2), -1, dtype=np.int8)
    for i, names in enumerate(MARKET_OUTCOMES.values()):
        for j, name in enumerate(names):
            table[i, _OUTCOMES.index(name)] = j
    return table


#: ``_POSITION[market code, outcome code]``: position of the outcome in the outcomes
#: of the market, -1 when the pair is not in :data:`MARKET_OUTCOMES`.
_POSITION: Final = _position_table()
#: Per market code: number of outcomes, target sum of fair probabilities, non-exclusive.
_EXPECTED_BY_CODE: Final = np.array(
    [len(names) for names in MARKET_OUTCOMES.values()] + [0], dtype=np.int64
)
_TARGET_BY_CODE: Final = np.array([_TARGET_SUM.get(mk, 1.0) for mk in _MARKETS] + [1.0])
_NON_EXCLUSIVE_BY_CODE: Final = np.array([mk in _TARGET_SUM for mk in _MARKETS] + [False])
#: Per market code: bit mask of its outcome codes; per outcome code: its bit (as float
#: for np.bincount weights), 0 for an unknown or null outcome.
_MASK_BY_CODE: Final = np.array(
    [sum(1 << _OUTCOMES.index(name) for name in names) for names in MARKET_OUTCOMES.values()] + [0],
    dtype=np.int64,
)
_BIT_BY_CODE: Final = np.array([float(1 << code) for code in range(len(_OUTCOMES))] + [0.0, 0.0])
_NO_MARKET: Final = (_UNKNOWN_MARKET, _UNKNOWN_MARKET)  # codes of an unknown / null market


@dataclass(frozen=True)
class _Instances:
    """Rows of a frame grouped into market instances, as numpy arrays.

    Instances are numbered in order of first appearance. ``order`` lists the rows
    grouped by instance (input order inside each instance); it is ``None`` when the
    rows of every instance are contiguous in the frame (the usual layout), i.e. when
    ``order`` would be the identity.
    """

    keys: list[str]
    frame: pl.DataFrame
    gid: np.ndarray  # instance index of each row (input order)
    first_row: np.ndarray  # first row of each instance
    lengths: np.ndarray  # rows per instance
    starts: np.ndarray  # first position in `order` of each instance
    order: np.ndarray | None  # rows sorted by instance (stable); None: identity
    implied: np.ndarray  # 1/odds per row, NaN where odds is null
    n_priced: np.ndarray  # non-null odds per instance
    booksum: np.ndarray  # Σ 1/odds over priced outcomes
    incomplete: np.ndarray
    non_exclusive: np.ndarray
    target: np.ndarray  # fair probabilities should sum to this (1 or 2)

    def rows(self, sel: np.ndarray, j: int) -> np.ndarray:
        """Row index of the ``j``-th row (input order) of each instance in ``sel``."""
        pos = self.starts[sel] + j
        return pos if self.order is None else self.order[pos]

    @property
    def all_priced(self) -> bool:
        return bool(np.array_equal(self.n_priced, self.lengths))

    def per_row(self, values: np.ndarray) -> np.ndarray:
        """Per-instance ``values`` broadcast to the rows (input order)."""
        if self.order is None:  # contiguous instances: a sequential repeat
            return np.repeat(values, self.lengths)
        return values[self.gid]

    def groups(self) -> pl.DataFrame:
        """One row per instance: its key columns (values of its first row)."""
        if not self.keys:
            return pl.DataFrame(height=len(self.lengths))
        return self.frame.select(self.keys)[self.first_row]


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


_Grouping = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def _group_rows(frame: pl.DataFrame, keys: list[str]) -> _Grouping:
    """``(gid, first_row, lengths, starts, order)`` of the instances of ``frame``.

    Same groups and numbering as ``group_by(keys, maintain_order=True)`` (nulls equal,
    NaN equal, 0.0 equal to -0.0). Usual case: the rows of each instance are
    contiguous, found in O(rows) as runs of equal keys (``rle_id``); the runs are
    distinct instances if their key hashes are distinct. Otherwise rows are grouped
    by key hash (verified exactly against each instance's first row), with
    ``group_by`` as the last resort on a hash collision.
    """
    n = frame.height
    if not keys or n == 0:
        m = 1 if n else 0
        zeros = np.zeros(m, dtype=np.int64)
        return np.zeros(n, dtype=np.int64), zeros, np.full(m, n, dtype=np.int64), zeros, None
    key_frame = frame.select(keys)
    run = key_frame.select(pl.struct(keys).rle_id()).to_series().to_numpy()
    starts = np.flatnonzero(run[1:] != run[:-1]) + 1
    starts = np.concatenate([np.zeros(1, dtype=np.int64), starts.astype(np.int64)])
    hashes = key_frame.hash_rows().to_numpy()
    run_hashes = np.sort(hashes[starts])
    if not np.any(run_hashes[1:] == run_hashes[:-1]):
        return run.astype(np.int64), starts, np.diff(np.append(starts, n)), starts, None
    grouping = _group_by_hash(key_frame, hashes)
    return grouping if grouping is not None else _group_by_polars(key_frame)


def _group_by_hash(key_frame: pl.DataFrame, hashes: np.ndarray) -> _Grouping | None:
    """Instances as runs of equal row hashes; ``None`` if two keys share a hash."""
    n = len(hashes)
    by_hash = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[by_hash]
    new = np.ones(n, dtype=bool)
    np.not_equal(sorted_hashes[1:], sorted_hashes[:-1], out=new[1:])
    run_pos = np.flatnonzero(new)
    run_first = by_hash[run_pos]
    run_len = np.diff(np.append(run_pos, n))
    perm = np.argsort(run_first)  # instance i is run perm[i] (first-appearance order)
    m = len(run_pos)
    label = np.empty(m, dtype=np.int64)
    label[perm] = np.arange(m, dtype=np.int64)
    gid = np.empty(n, dtype=np.int64)
    gid[by_hash] = np.repeat(label, run_len)
    first_row = run_first[perm]
    lengths = run_len[perm]
    starts = np.zeros(m, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    order = by_hash[np.repeat(run_pos[perm] - starts, lengths) + np.arange(n)]
    first = key_frame[first_row[gid]]
    for k in key_frame.columns:
        if not key_frame.get_column(k).eq_missing(first.get_column(k)).all():
            return None
    return gid, first_row, lengths, starts, order


def _group_by_polars(key_frame: pl.DataFrame) -> _Grouping:
    keys = key_frame.columns
    grouped = key_frame.with_row_index(_ROW).group_by(keys, maintain_order=True).agg(pl.col(_ROW))
    row_lists = grouped.get_column(_ROW)
    lengths = row_lists.list.len().to_numpy().astype(np.int64)
    order = row_lists.explode().to_numpy().astype(np.int64)
    m = len(lengths)
    starts = np.zeros(m, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    gid = np.empty(len(order), dtype=np.int64)
    gid[order] = np.repeat(np.arange(m, dtype=np.int64), lengths)
    return gid, order[starts], lengths, starts, order


def _codes(values: pl.Series, vocabulary: Sequence[str], unknown: int, null: int) -> np.ndarray:
    """Index of each value in ``vocabulary``; ``unknown`` if absent, ``null`` if null."""
    value = pl.col(values.name).cast(pl.String)
    expr = pl.when(value.is_null()).then(pl.lit(null, dtype=pl.Int8))
    for code, word in enumerate(vocabulary):
        expr = expr.when(value == word).then(pl.lit(code, dtype=pl.Int8))
    return (
        values.to_frame()
        .select(expr.otherwise(pl.lit(unknown, dtype=pl.Int8)))
        .to_series()
        .to_numpy()
    )


def _popcount(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(values)
    rest = values.astype(np.uint64)  # pragma: no cover - numpy 1.x
    count = np.zeros(len(rest), dtype=np.int64)  # pragma: no cover
    while rest.any():  # pragma: no cover
        count += (rest & np.uint64(1)).astype(np.int64)
        rest >>= np.uint64(1)
    return count  # pragma: no cover


def _prepare(frame: pl.DataFrame, by: str | Sequence[str] | None) -> _Instances:
    _validate_frame(frame)
    keys = _resolve_keys(frame, by)
    gid, first_row, lengths, starts, order = _group_rows(frame, keys)
    m = len(lengths)

    implied = 1.0 / frame.get_column("odds").cast(pl.Float64).to_numpy()  # NaN where null
    priced = ~np.isnan(implied)
    all_priced = bool(priced.all())
    if all_priced:
        n_priced = lengths.copy()
        booksum = np.bincount(gid, weights=implied, minlength=m)
    else:
        n_priced = np.bincount(gid, weights=priced, minlength=m).astype(np.int64)
        booksum = np.bincount(gid, weights=np.where(priced, implied, 0.0), minlength=m)
    incomplete = (n_priced < lengths) | (n_priced < 2)

    target = np.ones(m)
    non_exclusive = np.zeros(m, dtype=bool)
    if not m:
        pass
    elif "outcome" in frame.columns:
        market_key = "market" in keys
        group_market = row_market = None
        if "market" in frame.columns:
            market = frame.get_column("market")
            if market_key:  # every row of an instance has the market of its first row
                group_market = _codes(market.gather(first_row), _MARKETS, *_NO_MARKET)
            else:
                row_market = _codes(market, _MARKETS, *_NO_MARKET)
                group_market = row_market[first_row]
            non_exclusive = _NON_EXCLUSIVE_BY_CODE[group_market]
            target = _TARGET_BY_CODE[group_market]
        outcome = _codes(frame.get_column("outcome"), _OUTCOMES, _UNKNOWN_OUTCOME, _NULL_OUTCOME)
        named = outcome < _UNKNOWN_OUTCOME
        all_named = bool(named.all())
        n_named = lengths if all_named else np.bincount(gid, weights=named, minlength=m)
        # Bits 1 << code of the named outcomes of an instance add up without a carry
        # (popcount = count) exactly when no name repeats; then the sum is their union.
        bits = np.bincount(gid, weights=_BIT_BY_CODE[outcome], minlength=m).astype(np.int64)
        suspect = bool(np.any(_popcount(bits) != n_named))
        if not suspect and not all_named:
            suspect = _may_repeat(frame.get_column("outcome"), gid, ~named)
        position = None
        if not suspect and group_market is not None:
            if market_key:
                stray = (bits & ~_MASK_BY_CODE[group_market]) != 0
                if not all_named:
                    stray |= np.bincount(gid, weights=outcome == _UNKNOWN_OUTCOME, minlength=m) > 0
                suspect = bool(np.any(stray & (group_market != _UNKNOWN_MARKET)))
            else:
                position = _POSITION[row_market, outcome]
                foreign = (
                    (row_market != _UNKNOWN_MARKET) & (outcome != _NULL_OUTCOME) & (position < 0)
                )
                suspect = bool(foreign.any())
        if suspect:
            _check_outcomes(frame, keys)  # raises with the exact message
        if group_market is not None:
            known = group_market != _UNKNOWN_MARKET
            if known.any():
                if market_key:
                    # No foreign outcomes: in a known market every named outcome is its own.
                    n_expected_priced = (
                        n_named
                        if all_priced
                        else np.bincount(gid, weights=named & priced, minlength=m)
                    )
                else:
                    if position is None:
                        position = _POSITION[row_market, outcome]
                    in_vocab = (position >= 0) & priced
                    n_expected_priced = np.bincount(gid, weights=in_vocab, minlength=m)
                incomplete |= known & (n_expected_priced < _EXPECTED_BY_CODE[group_market])
    elif "market" in frame.columns:
        group_market = _codes(frame.get_column("market").gather(first_row), _MARKETS, *_NO_MARKET)
        non_exclusive = _NON_EXCLUSIVE_BY_CODE[group_market]
        target = _TARGET_BY_CODE[group_market]
    return _Instances(
        keys=keys,
        frame=frame,
        gid=gid,
        first_row=first_row,
        lengths=lengths,
        starts=starts,
        order=order,
        implied=implied,
        n_priced=n_priced,
        booksum=booksum,
        incomplete=incomplete,
        non_exclusive=non_exclusive,
        target=target,
    )


def _may_repeat(outcome: pl.Series, gid: np.ndarray, rows: np.ndarray) -> bool:
    """Whether an outcome value may repeat inside an instance among ``rows`` (a hash
    screen: no false negatives, a rare false positive on a hash collision)."""
    pairs = pl.DataFrame({"g": gid[rows], "o": outcome.filter(pl.Series(rows))})
    hashes = np.sort(pairs.hash_rows().to_numpy())
    return bool(np.any(hashes[1:] == hashes[:-1]))


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


def _dense(inst: _Instances, sel: np.ndarray, width: int) -> np.ndarray:
    """Implied probabilities of the instances ``sel`` (all with ``width`` priced rows)
    as a ``(width, len(sel))`` array: one row per outcome position."""
    return np.stack([inst.implied[inst.rows(sel, j)] for j in range(width)])


# --------------------------------------------------------------------------------------
# Vectorised safeguarded Halley root finder
# --------------------------------------------------------------------------------------

_EPS: Final = float(np.finfo(float).eps)
_Derivatives = tuple[np.ndarray, np.ndarray, np.ndarray]  # f, f', f'' per instance
#: Iterations after which the root finder also checks for a collapsed bracket.
_CAREFUL_AFTER: Final = 8


def _halley(
    evaluate: Callable[..., _Derivatives],
    data: tuple[np.ndarray, ...],
    x: np.ndarray,
    f: np.ndarray,
    df: np.ndarray,
    d2f: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``f(x) = 0`` for every column of ``data`` at once, inside ``[lo, hi]``.

    ``evaluate(x, *data)`` returns the residual ``f = Σ p - 1`` and its first and
    second derivatives at ``x`` (one value per column of the ``data`` arrays); ``f``,
    ``df`` and ``d2f`` are their values at the start ``x`` (the no-margin parameter,
    where they have closed forms: a fair book stops there and is returned exactly
    unchanged). The bracket must satisfy ``f(lo) ≥ 0 ≥ f(hi)`` (all three methods
    decrease in their parameter). Each step is a Halley step (cubic convergence);
    every evaluation tightens the bracket, and a step that leaves it is replaced by
    bisection, so the iteration always converges. Columns stop when ``|f| ≤ tol``
    (or, after a few iterations, when the bracket has collapsed to adjacent floats)
    and are dropped from the working set.
    Returns the last iterate and a "converged" mask.
    """
    k = len(x)
    root = x.copy()
    converged = np.zeros(k, dtype=bool)
    active = np.arange(k)
    for it in range(max_iter + 1):
        if it:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                f, df, d2f = evaluate(x, *data)
        stop = np.abs(f) <= tol
        careful = it >= _CAREFUL_AFTER  # float noise may keep |f| above a tiny tol
        if careful:
            stop |= hi - lo <= 4.0 * _EPS * np.maximum(np.abs(lo), np.abs(hi))
        if it == max_iter:
            root[active] = x
            converged[active[stop]] = True
            break
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pos = f > 0.0
            lo = np.where(pos, x, lo)
            hi = np.where(pos, hi, x)
            # Halley step (the Newton step, corrected by at most a factor of 2).
            newton = f / df
            step = newton / np.clip(1.0 - (0.5 * newton) * (d2f / df), 0.5, 2.0)
            if careful:  # at least about one ulp, so that the bracket keeps shrinking
                min_step = 2.0 * _EPS * np.abs(x)
                step = np.where(np.abs(step) < min_step, np.copysign(min_step, step), step)
            nxt = x - step
            inside = (nxt > lo) & (nxt < hi)
        if not inside.all():
            nxt = np.where(inside, nxt, 0.5 * (lo + hi))
        n_stop = int(np.count_nonzero(stop))
        if n_stop:
            done = active[stop]
            root[done] = x[stop]
            converged[done] = True
            if n_stop == len(stop):
                break
            keep = ~stop
            active, nxt, lo, hi = active[keep], nxt[keep], lo[keep], hi[keep]
            data = tuple(a[:, keep] for a in data)
        x = nxt
    return root, converged


def _power_eval(k: np.ndarray, log_pi: np.ndarray) -> _Derivatives:
    p = np.exp(k * log_pi)
    p_log = p * log_pi
    return p.sum(axis=0) - 1.0, p_log.sum(axis=0), (p_log * log_pi).sum(axis=0)


def _odds_ratio_eval(c: np.ndarray, pi: np.ndarray, one_minus_pi: np.ndarray) -> _Derivatives:
    den = pi + c * one_minus_pi
    p = pi / den
    t = one_minus_pi / den
    pt = p * t  # -dp/dc; d²p/dc² = 2 p t²
    return p.sum(axis=0) - 1.0, -pt.sum(axis=0), 2.0 * (pt * t).sum(axis=0)


def _shin_eval(z: np.ndarray, q: np.ndarray) -> _Derivatives:
    # Σ p = N/D with N = Σ s_i - n z, D = 2(1 - z), s_i = √(z² + 4(1 - z) q_i),
    # q_i = π_i²/B; s_i' = (z - 2 q_i)/s_i and s_i'' = (1 - s_i'²)/s_i.
    n = q.shape[0]
    zc = 1.0 - z
    s = np.sqrt(z * z + (4.0 * zc) * q)
    ds = (z - 2.0 * q) / s
    num = s.sum(axis=0) - n * z
    dnum = ds.sum(axis=0) - n
    d2num = ((1.0 - ds * ds) / s).sum(axis=0)
    den = 2.0 * zc
    return (
        num / den - 1.0,
        (dnum * den + 2.0 * num) / (den * den),
        d2num / den + 4.0 * (dnum * den + 2.0 * num) / den**3,
    )


#: Relative widening of the analytic brackets, so that rounding cannot put a root that
#: sits on a bound (e.g. power with equal odds) just outside.
_PAD: Final = 1e-12
#: Values (outcomes x instances) per chunk of the iterative solve.
_CHUNK: Final = 1 << 15


def _solve_dense(
    method: str, pi: np.ndarray, booksum: np.ndarray, *, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter of an iterative method for instances given as a dense
    ``(outcomes, instances)`` array of implied probabilities (all priced).

    The residual and its derivatives at the no-margin start have closed forms, so the
    first step costs no evaluation.
    """
    n = pi.shape[0]
    k = pi.shape[1]
    if method == "power":
        log_pi = np.log(pi)
        # n·π_max^k ≤ 1 at k ≥ ln n / -ln π_max; n·π_min^k ≥ 1 at k ≤ ln n / -ln π_min.
        lo = np.minimum(math.log(n) / -log_pi.min(axis=0), 1.0) * (1.0 - _PAD)
        hi = np.maximum(math.log(n) / -log_pi.max(axis=0), 1.0) * (1.0 + _PAD)
        pi_log = pi * log_pi  # derivatives at k = 1
        f, df, d2f = pi.sum(axis=0) - 1.0, pi_log.sum(axis=0), (pi_log * log_pi).sum(axis=0)
        return _halley(
            _power_eval, (log_pi,), np.ones(k), f, df, d2f, lo, hi, tol=tol, max_iter=max_iter
        )
    if method == "odds_ratio":
        # Σ p ≥ n·π_min/(π_min + c) ≥ 1 at c ≤ (n-1)π_min; Σ p ≤ Σ π/(1-π) / c.
        one_minus_pi = 1.0 - pi
        lo = np.minimum((n - 1.0) * pi.min(axis=0), 1.0) * (1.0 - _PAD)
        hi = np.maximum((pi / one_minus_pi).sum(axis=0), 1.0) * (1.0 + _PAD)
        pi_q = pi * one_minus_pi  # derivatives at c = 1
        f, df, d2f = (
            pi.sum(axis=0) - 1.0,
            -pi_q.sum(axis=0),
            2.0 * (pi_q * one_minus_pi).sum(axis=0),
        )
        return _halley(
            _odds_ratio_eval,
            (pi, one_minus_pi),
            np.ones(k),
            f,
            df,
            d2f,
            lo,
            hi,
            tol=tol,
            max_iter=max_iter,
        )
    if method == "shin":
        # Σ p(0) = √B; Σ p(z→1) → Σπ²/B ≤ π_max < 1; every p(-1) > 1/2.
        over = booksum >= 1.0
        lo = np.where(over, 0.0, -1.0)
        hi = np.where(over, 1.0 - 1e-9, 0.0)
        root_b = np.sqrt(booksum)
        # Derivatives at z = 0, where s_i = 2π_i/√B and s_i' = -π_i/√B.
        f, df = root_b - 1.0, 0.5 * (root_b - n)
        d2f = 0.25 * root_b * ((1.0 / pi).sum(axis=0) - 1.0) + root_b - n
        q = pi * pi / booksum
        return _halley(
            _shin_eval, (q,), np.zeros(k), f, df, d2f, lo, hi, tol=tol, max_iter=max_iter
        )
    raise AssertionError(method)  # pragma: no cover - guarded by the caller


def _shin_probs(z: np.ndarray, pi: np.ndarray, booksum: np.ndarray) -> np.ndarray:
    return (np.sqrt(z * z + 4.0 * (1.0 - z) * pi * pi / booksum) - z) / (2.0 * (1.0 - z))


def _odds_ratio_probs(c: np.ndarray, pi: np.ndarray) -> np.ndarray:
    return pi / (c + pi - c * pi)


def _solve(
    method: str,
    inst: _Instances,
    sel: np.ndarray,
    param: np.ndarray,
    converged: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> None:
    """Solve an iterative method for the instances ``sel`` (all solvable) in place.

    One dense ``(outcomes, instances)`` block per number of outcomes, solved in chunks
    of about ``_CHUNK`` values so that the arrays of an iteration stay in cache (whole
    800k-instance arrays spend most of their time in allocation and page faults).
    """
    if not len(sel):
        return
    widths = inst.lengths[sel]
    for width in np.flatnonzero(np.bincount(widths)):
        block = sel[widths == width]
        size = max(1, _CHUNK // int(width))
        for begin in range(0, len(block), size):
            chunk = block[begin : begin + size]
            param[chunk], converged[chunk] = _solve_dense(
                method,
                _dense(inst, chunk, int(width)),
                inst.booksum[chunk],
                tol=tol,
                max_iter=max_iter,
            )


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
    return inst.groups().with_columns(
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
            two = np.flatnonzero(solvable & (inst.n_priced == 2))
            if len(two):
                # Closed form for two outcomes (Shin's p equals the additive p here).
                d2 = (inst.implied[inst.rows(two, 0)] - inst.implied[inst.rows(two, 1)]) ** 2
                b = booksum[two]
                param[two] = (b - 1.0) * (d2 - b) / (b * (d2 - 1.0))
            multi = np.flatnonzero(solvable & (inst.n_priced > 2))
            _solve(method, inst, multi, param, converged, tol=tol, max_iter=max_iter)
        else:  # power, odds_ratio
            sel = np.flatnonzero(solvable)
            _solve(method, inst, sel, param, converged, tol=tol, max_iter=max_iter)
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
            fair = _odds_ratio_probs(row_param, pi)
        else:  # shin
            row_b = per_row(booksum)
            fair = _shin_probs(row_param, pi, row_b)
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

    under_round = ~inst.incomplete & (booksum < inst.target - _UNDER_ROUND_TOL)
    overround = np.where(inst.incomplete, np.nan, booksum - inst.target)
    all_complete = not inst.incomplete.any()

    def floats(name: str, values: np.ndarray, may_be_nan: bool) -> pl.Series:
        series = pl.Series(name, values)
        return series.fill_nan(None) if may_be_nan else series

    def flags(name: str, values: np.ndarray) -> pl.Series | pl.Expr:
        if not values.any():  # the usual case: a constant column, no gather
            return pl.lit(False, dtype=pl.Boolean).alias(name)
        return pl.Series(name, per_row(values))

    return frame.with_columns(
        floats("implied_prob", pi, not inst.all_priced),
        floats("fair_prob", fair, True),
        floats("fair_odds", fair_odds, True),
        floats("overround", per_row(overround), not all_complete),
        pl.lit(method, dtype=pl.String).alias("method"),
        floats("param", row_param, not all_solvable or method in _ITERATIVE),
        pl.lit(PARAM_NAMES[method], dtype=pl.String).alias("param_name"),
        flags("incomplete", inst.incomplete),
        flags("non_exclusive", inst.non_exclusive),
        flags("under_round", under_round),
        flags("negative_prob", negative),
        flags("not_converged", ~converged),
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
