"""Argument checks shared by every public function: one rule and one message per kind.

Each check takes the value and the argument's name, returns the value in the form
the code needs (a UTC datetime, a :class:`~datetime.timedelta`, a list of strings, …)
and raises :class:`~oddskit.errors.ConfigurationError` naming the argument otherwise.
:func:`renamed_arguments` keeps an old keyword working for one release, with a
:class:`DeprecationWarning`. The names themselves are listed in ``docs/vocabulary.md``.

Examples
--------
>>> from datetime import UTC, datetime
>>> duration("1h30m", "window")
datetime.timedelta(seconds=5400)
>>> texts("betPawa", "bookmakers")
['betPawa']
>>> choice("wide", "how", ("long", "wide"))
'wide'
>>> aware_datetime(datetime(2026, 5, 1, 12), "as_of")
Traceback (most recent call last):
...
oddskit.errors.ConfigurationError: `as_of` is a naive datetime (2026-05-01 12:00:00); ...
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar, get_args

from oddskit.errors import ConfigurationError

__all__ = [
    "aware_datetime",
    "choice",
    "columns",
    "deprecated",
    "duration",
    "integer",
    "integers",
    "number",
    "renamed_arguments",
    "require_aware",
    "text",
    "texts",
    "window",
]

#: The release that drops the deprecated argument names.
REMOVED_IN: Final = "oddskit 0.3"

_DURATION_UNITS: Final[dict[str, timedelta]] = {
    "us": timedelta(microseconds=1),
    "µs": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DURATION_RE: Final = re.compile(r"(\d+)(us|µs|ms|s|m|h|d|w)")

F = TypeVar("F", bound=Callable[..., Any])


# --- times ------------------------------------------------------------------------------------


def require_aware(value: datetime, name: str) -> datetime:
    """``value`` unchanged if it carries a time zone, else a helpful error.

    Examples
    --------
    >>> require_aware(datetime(2026, 1, 1), "since")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `since` is a naive datetime (2026-01-01 00:00:00); ...
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"`{name}` is a naive datetime ({value}); oddskit needs timezone-aware times. "
            f"Pass e.g. datetime(2026, 5, 1, 12, tzinfo=timezone.utc), or "
            f"{name}.replace(tzinfo=timezone.utc) if it is already in UTC."
        )
    return value


def aware_datetime(value: object, name: str, *, allow_none: bool = True) -> datetime | None:
    """A timezone-aware datetime converted to UTC; ``None`` passes when allowed.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> aware_datetime(datetime(2026, 5, 1, 13, tzinfo=ZoneInfo("Africa/Lagos")), "as_of")
    datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    >>> aware_datetime("2026-05-01", "since")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `since` must be a timezone-aware datetime, got str ...
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, datetime):
        raise ConfigurationError(
            f"`{name}` must be a timezone-aware datetime, got {type(value).__name__} {value!r}"
        )
    return require_aware(value, name).astimezone(UTC)


def window(
    since: object, until: object, names: tuple[str, str] = ("since", "until")
) -> tuple[datetime | None, datetime | None]:
    """The half-open window ``[since, until)`` in UTC; either side may be ``None``.

    Examples
    --------
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> window(t, None)
    (datetime.datetime(2026, 5, 1, 0, 0, tzinfo=datetime.timezone.utc), None)
    >>> window(t, t.replace(day=1, hour=0) - timedelta(hours=1))
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `until` (2026-04-30T23:00:00+00:00) is before `since` ...
    """
    lower, upper = aware_datetime(since, names[0]), aware_datetime(until, names[1])
    if lower is not None and upper is not None and upper < lower:
        raise ConfigurationError(
            f"`{names[1]}` ({upper.isoformat()}) is before `{names[0]}` ({lower.isoformat()}); "
            f"the window is [{names[0]}, {names[1]}) — swap them?"
        )
    return lower, upper


def duration(
    value: object, name: str, *, allow_none: bool = False, allow_zero: bool = False
) -> timedelta | None:
    """A :class:`~datetime.timedelta`, or a duration string with fixed units (``"5m"``).

    Units: ``us``, ``ms``, ``s``, ``m``, ``h``, ``d``, ``w``, combined as in
    ``"1h30m"`` (the Polars spelling); calendar units (``mo``, ``y``) have no fixed
    length and are refused. The duration must be positive (or zero with
    ``allow_zero``).

    Examples
    --------
    >>> duration(timedelta(minutes=5), "every"), duration("2d", "lookback")
    (datetime.timedelta(seconds=300), datetime.timedelta(days=2))
    >>> duration("1mo", "every")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `every` must be a timedelta or a duration string ...
    """
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        text_value = value.strip()
        parts = _DURATION_RE.findall(text_value)
        if not parts or "".join(n + u for n, u in parts) != text_value:
            raise ConfigurationError(
                f"`{name}` must be a timedelta or a duration string with fixed units "
                f"such as '5m' or '1h30m' (units us, ms, s, m, h, d, w), got {value!r}"
            )
        value = sum((int(n) * _DURATION_UNITS[u] for n, u in parts), timedelta())
    if not isinstance(value, timedelta):
        raise ConfigurationError(
            f"`{name}` must be a datetime.timedelta or a string such as '5m', "
            f"got {type(value).__name__} {value!r}"
        )
    if value < timedelta(0) or (value == timedelta(0) and not allow_zero):
        sign = "≥ 0" if allow_zero else "positive"
        raise ConfigurationError(f"`{name}` must be {sign}, got {value!r}")
    return value


# --- text -------------------------------------------------------------------------------------


def text(value: object, name: str, *, allow_none: bool = False) -> str | None:
    """A string without NUL characters (PostgreSQL text cannot hold them).

    Examples
    --------
    >>> text("Enyimba", "team")
    'Enyimba'
    >>> text("Eny\\x00imba", "team")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `team` must not contain a NUL character (\\x00), ...
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"`{name}` must be a string, got {type(value).__name__} {value!r}")
    if "\x00" in value:
        raise ConfigurationError(
            f"`{name}` must not contain a NUL character (\\x00), got {value!r}; "
            "no name stored by oddskit contains one"
        )
    return value


def texts(value: object, name: str) -> list[str] | None:
    """One string or an iterable of strings (a Polars Series works) as a list.

    ``None`` stays ``None`` (no filter); an empty iterable gives an empty list.

    Examples
    --------
    >>> texts(["1x2", "btts"], "markets"), texts(None, "markets")
    (['1x2', 'btts'], None)
    >>> texts(["1x2", 2], "markets")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `markets` must be a string or a sequence of strings, ...
    """
    if value is None:
        return None
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        items = [value]
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(
                f"`{name}` must be a string or a sequence of strings, "
                f"got an element {item!r} of type {type(item).__name__}"
            )
        text(item, name)
    return items


def columns(value: object, name: str, available: Sequence[str]) -> list[str]:
    """Column names (one or a list) that must all be among ``available``.

    Examples
    --------
    >>> columns("market", "market_keys", ["event_id", "market"])
    ['market']
    >>> columns(["event_id", "lines"], "market_keys", ["event_id", "market"])
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `market_keys` names column(s) ['lines'] that the frame ...
    """
    keys = texts(value, name) or []
    missing = [k for k in keys if k not in available]
    if missing:
        raise ConfigurationError(
            f"`{name}` names column(s) {missing} that the frame does not have; "
            f"available columns are {list(available)}"
        )
    return keys


# --- numbers ----------------------------------------------------------------------------------


def integer(value: object, name: str, *, minimum: int = 1, allow_none: bool = False) -> int | None:
    """An integer ≥ ``minimum`` (numpy integers too; ``True`` is not a number here).

    Examples
    --------
    >>> integer(3, "limit")
    3
    >>> integer(0, "limit")
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `limit` must be an integer ≥ 1, got 0
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < minimum:  # type: ignore[operator]
        also = " or None" if allow_none else ""
        raise ConfigurationError(f"`{name}` must be an integer ≥ {minimum}{also}, got {value!r}")
    return int(value)  # type: ignore[arg-type]


def integers(value: object, name: str) -> list[int] | None:
    """One integer or an iterable of integers (a Polars Series works) as a list.

    Examples
    --------
    >>> import polars as pl
    >>> integers(pl.Series([3, 1]), "event_ids"), integers(7, "event_ids")
    ([3, 1], [7])
    """
    if value is None:
        return None
    polars = sys.modules.get("polars")  # not imported here: a Series means it was loaded
    if polars is not None and isinstance(value, polars.Series):
        value = value.to_list()
    items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else [value]
    out = []
    for item in items:
        try:
            if isinstance(item, bool):  # a bool is an int to Python, never an id
                raise TypeError
            out.append(operator.index(item))
        except TypeError:
            raise ConfigurationError(
                f"`{name}` must be an integer or a sequence of integers, got an element {item!r}"
            ) from None
    return out


def number(
    value: object,
    name: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
) -> float:
    """A finite real number inside the given bounds (``above``/``below`` are strict).

    Examples
    --------
    >>> number(0.02, "min_move", above=0, below=1)
    0.02
    >>> number(1.5, "min_move", above=0, below=1)
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `min_move` must be a finite number > 0 and < 1, got 1.5
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        x = float(value)  # type: ignore[arg-type]
        ok = (
            math.isfinite(x)
            and (above is None or x > above)
            and (at_least is None or x >= at_least)
            and (below is None or x < below)
            and (at_most is None or x <= at_most)
        )
    if not ok:
        bounds = [
            f"{sign} {bound:g}"
            for sign, bound in ((">", above), ("≥", at_least), ("<", below), ("≤", at_most))
            if bound is not None
        ]
        where = (" " + " and ".join(bounds)) if bounds else ""
        raise ConfigurationError(f"`{name}` must be a finite number{where}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


# --- options ----------------------------------------------------------------------------------


def choice(value: object, name: str, options: Any, *, allow_none: bool = False) -> Any:
    """One of ``options`` (a sequence of strings, or a ``Literal`` type).

    Examples
    --------
    >>> from typing import Literal
    >>> choice("violin", "kind", Literal["box", "violin"])
    'violin'
    >>> choice("tall", "how", ("long", "wide"))
    Traceback (most recent call last):
    ...
    oddskit.errors.ConfigurationError: `how` must be one of {'long', 'wide'}, got 'tall'
    """
    allowed: Sequence[Any] = get_args(options) or tuple(options)
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or value not in allowed:
        listed = "{" + ", ".join(repr(o) for o in allowed) + "}"
        also = " or None" if allow_none else ""
        raise ConfigurationError(f"`{name}` must be one of {listed}{also}, got {value!r}")
    return value


# --- deprecations -----------------------------------------------------------------------------


def deprecated(message: str) -> None:
    """Warn (``DeprecationWarning``) at the caller of the public function."""
    warnings.warn(f"{message}; the old form goes in {REMOVED_IN}", DeprecationWarning, stacklevel=3)


def renamed_arguments(**renames: str | tuple[str, Callable[[Any], Any]]) -> Callable[[F], F]:
    """Accept old keyword names for one release: ``old="new"`` (or ``old=("new", convert)``).

    A call with the old name warns with a :class:`DeprecationWarning` and passes the
    value (converted, if a function is given) as the new name; passing both is an error.

    Examples
    --------
    >>> @renamed_arguments(at="as_of")
    ... def board(*, as_of=None):
    ...     return as_of
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     board(at=1)
    1
    >>> str(caught[0].message)
    '`at` of board() is now called `as_of`; the old form goes in oddskit 0.3'
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                target, convert = (new, None) if isinstance(new, str) else new
                if target in kwargs:
                    raise ConfigurationError(
                        f"{func.__name__}() got both `{target}` and its old name `{old}`; "
                        f"pass `{target}` only"
                    )
                value = kwargs.pop(old)
                kwargs[target] = value if convert is None else convert(value)
                warnings.warn(
                    f"`{old}` of {func.__name__}() is now called `{target}`; "
                    f"the old form goes in {REMOVED_IN}",
                    DeprecationWarning,
                    stacklevel=2,
                )
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
