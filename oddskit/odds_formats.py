r"""Odds formats: decimal, American, fractional and implied probability.

Every conversion takes a number (or a string, for American and fractional odds) and
returns a number, or takes a :class:`polars.Series` and returns a Series of the same
name; nulls (suspended prices) pass through. Decimal odds include the stake (evens is
2.0) and must be finite and > 1; anything else raises
:class:`~oddskit.errors.ValidationError` naming the first bad value.

Examples
--------
>>> decimal_to_implied_prob(2.5), american_to_decimal("+150"), fractional_to_decimal("5/2")
(0.4, 2.5, 3.5)
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import overload

import polars as pl

from oddskit.arguments import integer
from oddskit.errors import ValidationError

__all__ = [
    "american_to_decimal",
    "check_decimal_odds",
    "decimal_to_american",
    "decimal_to_fractional",
    "decimal_to_implied_prob",
    "fractional_to_decimal",
    "implied_prob_to_decimal",
]

Number = float | int


def check_decimal_odds(odds: pl.Series, name: str = "odds") -> pl.Series:
    """``odds`` as Float64 after checking that every non-null value is finite and > 1.

    Parameters
    ----------
    odds
        Decimal odds; nulls (suspended prices) pass.
    name
        How the error message names the values.

    Returns
    -------
    pl.Series
        ``odds`` cast to Float64; anything not finite and > 1 raises a
        :class:`~oddskit.errors.ValidationError` naming the first bad row.

    Examples
    --------
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

    Returns
    -------
    float | pl.Series
        ``1 / odds``, of the same kind as ``odds``.

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

    Parameters
    ----------
    prob
        A probability (a fraction, not a percentage), a number or a Series.

    Returns
    -------
    float | pl.Series
        ``1 / prob``, of the same kind as ``prob``.

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

    ``+A`` becomes ``1 + A/100`` and ``-A`` becomes ``1 + 100/A``.

    Parameters
    ----------
    american
        American odds (≤ -100 or ≥ +100): a number, a string such as ``"+150"``, or a
        Series of either.

    Returns
    -------
    float | pl.Series
        Decimal odds, of the same kind as ``american``.

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

    Parameters
    ----------
    odds
        Decimal odds (> 1), a number or a Series.

    Returns
    -------
    float | pl.Series
        American odds, of the same kind as ``odds``.

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

    Parameters
    ----------
    fractional
        Fractional odds such as ``"5/2"`` (also ``"5-2"`` and ``"evens"``), or a Series
        of them.

    Returns
    -------
    float | pl.Series
        Decimal odds, of the same kind as ``fractional``.

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

    Returns
    -------
    str | pl.Series
        Fractional odds such as ``"5/2"``, of the same kind as ``odds``.

    Examples
    --------
    >>> decimal_to_fractional(3.5), decimal_to_fractional(2.0), decimal_to_fractional(1.8)
    ('5/2', '1/1', '4/5')
    """
    max_denominator = integer(max_denominator, "max_denominator")  # type: ignore[assignment]
    if isinstance(odds, pl.Series):
        series = check_decimal_odds(odds)
        texts = [
            None if v is None else _to_fraction_text(v, max_denominator) for v in series.to_list()
        ]
        return pl.Series(odds.name, texts, dtype=pl.String)
    return _to_fraction_text(_check_decimal_scalar(odds), max_denominator)
