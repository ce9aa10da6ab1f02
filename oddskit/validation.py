"""The bulk-load input format and the checks every row must pass.

One row per priced outcome, columns matched by name (order does not matter):

==================  ===========================  ========  =======================================
column              type                         required  meaning
==================  ===========================  ========  =======================================
captured_at         timestamp with UTC offset    yes       when the bookmaker showed this price
bookmaker           text                         yes       e.g. ``betPawa``
sport               text                         yes       e.g. ``Football``
country             text                         no        e.g. ``Nigeria``; empty: international
tournament          text                         yes       e.g. ``NPFL``
sportradar_id       text                         no        cross-bookmaker id of the match
bookmaker_event_id  text                         yes       the bookmaker's own id of the match
home_team           text                         yes
away_team           text                         yes
kickoff             timestamp with UTC offset    yes       scheduled start
market              text                         yes       e.g. ``1x2``, ``over_under``
line                number                       no        e.g. ``2.5``; empty for 1X2, BTTS, …
outcome             text                         yes       e.g. ``home``, ``over``
odds                decimal odds (> 1)           yes       e.g. ``2.15``
==================  ===========================  ========  =======================================

Checks return error rows (``row``, ``column``, ``value``, ``reason``) rather than
raising, so that the loader can either refuse the file with every problem listed or
load the good rows and write the rejected ones to a rejects file.

Example:
    >>> check_header(["captured_at", "odds"], source="x.csv")
    Traceback (most recent call last):
    ...
    oddskit.errors.ValidationError: x.csv: missing required columns: bookmaker, sport, ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from oddskit.errors import ValidationError

#: Column name → (kind, required).
INPUT_COLUMNS: dict[str, tuple[str, bool]] = {
    "captured_at": ("timestamp", True),
    "bookmaker": ("text", True),
    "sport": ("text", True),
    "country": ("text", False),
    "tournament": ("text", True),
    "sportradar_id": ("text", False),
    "bookmaker_event_id": ("text", True),
    "home_team": ("text", True),
    "away_team": ("text", True),
    "kickoff": ("timestamp", True),
    "market": ("text", True),
    "line": ("number", False),
    "outcome": ("text", True),
    "odds": ("odds", True),
}
REQUIRED_COLUMNS = [name for name, (_, required) in INPUT_COLUMNS.items() if required]
OPTIONAL_COLUMNS = [name for name, (_, required) in INPUT_COLUMNS.items() if not required]

#: Natural key of one price inside a load.
PRICE_KEY = ["bookmaker", "bookmaker_event_id", "captured_at", "market", "line", "outcome"]

#: Types of a validated batch (plus ``row``).
VALID_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "captured_at": pl.Datetime("us", "UTC"),
    "bookmaker": pl.String(),
    "sport": pl.String(),
    "country": pl.String(),
    "tournament": pl.String(),
    "sportradar_id": pl.String(),
    "bookmaker_event_id": pl.String(),
    "home_team": pl.String(),
    "away_team": pl.String(),
    "kickoff": pl.Datetime("us", "UTC"),
    "market": pl.String(),
    "line": pl.Float64(),
    "outcome": pl.String(),
    "odds": pl.Float64(),
}

ERROR_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}

_AWARE_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M%#z",
]
_NAIVE_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
]

#: Rows captured further ahead than this are refused as implausible.
FUTURE_TOLERANCE = timedelta(days=1)


def check_header(names: Sequence[str], *, source: str) -> None:
    """Refuse a header with missing, unknown or repeated columns, naming them all.

    Example:
        >>> check_header([*INPUT_COLUMNS, "notes"], source="x.csv")
        Traceback (most recent call last):
        ...
        oddskit.errors.ValidationError: x.csv: unknown column: notes. ...
    """
    problems = []
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        problems.append(f"repeated columns: {', '.join(repeated)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if len(names) == 1 and any(sep in names[0] for sep in ";\t|"):
        sep = next(sep for sep in ";\t|" if sep in names[0])
        raise ValidationError(
            f"{source}: the header is one column, {names[0][:60]!r}…, which looks "
            f"{'tab' if sep == chr(9) else repr(sep)}-separated. oddskit reads comma-separated "
            f"CSV by default: pass delimiter={sep!r} (CLI: --delimiter) or convert the file."
        )
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    unknown = [name for name in dict.fromkeys(names) if name not in INPUT_COLUMNS]
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if problems:
        raise ValidationError(
            f"{source}: {'; '.join(problems)}. The input format has the columns "
            f"{', '.join(INPUT_COLUMNS)} (country, sportradar_id and line may be left out); "
            "rename, add or drop columns to match (see docs/input-format.md)."
        )


def _text(value: pl.Expr) -> pl.Expr:
    """A column as text, for error messages."""
    return value.cast(pl.String, strict=False)


def _errors(
    frame: pl.DataFrame, condition: pl.Expr, column: str, reason: str | pl.Expr
) -> pl.DataFrame:
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    return frame.filter(condition).select(
        pl.col("row"),
        pl.lit(column).alias("column"),
        _text(pl.col(column)).alias("value"),
        reason_expr.cast(pl.String).alias("reason"),
    )


def _parse_timestamp(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Parse a timestamp column to UTC; also return a mask of naive values."""
    if raw.dtype == pl.Datetime:
        if raw.dtype.time_zone is None:  # type: ignore[union-attr]
            return pl.Series(raw.name, [None] * raw.len(), dtype=VALID_SCHEMA["captured_at"]), (
                raw.is_not_null()
            )
        parsed = raw.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return parsed, pl.Series([False] * raw.len())
    if raw.dtype != pl.String:
        return pl.Series(
            raw.name, [None] * raw.len(), dtype=VALID_SCHEMA["captured_at"]
        ), pl.Series([False] * raw.len())
    text = raw.str.strip_chars()
    parsed = pl.select(
        pl.coalesce(
            [
                text.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
                for fmt in _AWARE_FORMATS
            ]
        )
    ).to_series()
    naive = pl.select(
        pl.coalesce(
            [text.str.to_datetime(fmt, time_unit="us", strict=False) for fmt in _NAIVE_FORMATS]
        )
    ).to_series()
    return parsed.alias(raw.name), (parsed.is_null() & naive.is_not_null())


def _parse_number(raw: pl.Series) -> pl.Series:
    if raw.dtype == pl.String:
        text = raw.str.strip_chars()
        return text.replace("", None).cast(pl.Float64, strict=False)
    if raw.dtype.is_numeric() or raw.dtype == pl.Decimal:
        return raw.cast(pl.Float64)
    return pl.Series(raw.name, [None] * raw.len(), dtype=pl.Float64)


def validate_batch(
    raw: pl.DataFrame, *, now: datetime, retention_days: int | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse and check one batch; return (valid rows typed as :data:`VALID_SCHEMA`, errors).

    Example:
        >>> from datetime import datetime, timezone
        >>> raw = pl.DataFrame({"row": [1], **{c: ["x"] for c in INPUT_COLUMNS}})
        >>> good, errors = validate_batch(raw, now=datetime.now(timezone.utc), retention_days=30)
        >>> good.height, sorted(errors["column"].unique())
        (0, ['captured_at', 'kickoff', 'line', 'odds'])
    """
    for name in OPTIONAL_COLUMNS:
        if name not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    typed: dict[str, pl.Series] = {"row": raw["row"]}
    errors: list[pl.DataFrame] = []
    for name, (kind, required) in INPUT_COLUMNS.items():
        column = raw[name]
        if kind == "text":
            text = column.cast(pl.String, strict=False)
            empty = text.is_null() | (text.str.strip_chars() == "")
            if required:
                errors.append(_errors(raw, empty, name, f"is empty; every row needs a {name}"))
            else:
                text = pl.select(pl.when(empty).then(None).otherwise(text)).to_series().alias(name)
            nul = text.str.contains("\x00", literal=True).fill_null(False)
            errors.append(
                _errors(raw, nul, name, "contains a NUL byte, which PostgreSQL text cannot store")
            )
            typed[name] = text
        elif kind == "timestamp":
            parsed, naive = _parse_timestamp(column)
            missing_mask = pl.select(
                column.is_null() | (column.cast(pl.String, strict=False).str.strip_chars() == "")
            ).to_series()
            errors.append(_errors(raw, missing_mask, name, f"is empty; every row needs a {name}"))
            errors.append(
                _errors(
                    raw,
                    naive,
                    name,
                    "has no UTC offset (naive time); write it like 2026-11-29T18:00:00+00:00",
                )
            )
            unparsed = parsed.is_null() & ~missing_mask & ~naive
            errors.append(
                _errors(
                    raw,
                    unparsed,
                    name,
                    "is not a timestamp; write ISO 8601 with an offset: 2026-11-29T18:00:00+01:00",
                )
            )
            typed[name] = parsed
        else:
            number = _parse_number(column)
            blank = pl.select(
                column.is_null() | (column.cast(pl.String, strict=False).str.strip_chars() == "")
            ).to_series()
            not_number = number.is_null() & ~blank
            errors.append(_errors(raw, not_number, name, "is not a number"))
            finite = number.is_finite().fill_null(True)
            errors.append(_errors(raw, ~finite, name, "is not a finite number"))
            if kind == "odds":
                errors.append(_errors(raw, blank, name, "is empty; every row needs odds"))
                too_low = (number <= 1).fill_null(False) & finite
                errors.append(
                    _errors(
                        raw,
                        too_low,
                        name,
                        "must be greater than 1 (decimal odds include the stake: 2.5 returns 2.5)",
                    )
                )
            typed[name] = number.alias(name)
    valid = pl.DataFrame(typed).cast(VALID_SCHEMA)  # type: ignore[arg-type]
    earliest = now - timedelta(days=retention_days) if retention_days else None
    captured = valid["captured_at"]
    if earliest is not None:
        old = (captured < earliest).fill_null(False)
        errors.append(
            _errors(
                valid,
                old,
                "captured_at",
                f"is older than the {retention_days}-day retention window (before "
                f"{earliest:%Y-%m-%dT%H:%M}Z), so maintenance would drop it; raise retention "
                "with `oddskit policy --retention-days N` or leave these rows out",
            )
        )
    latest = now + FUTURE_TOLERANCE
    future = (captured > latest).fill_null(False)
    errors.append(
        _errors(
            valid,
            future,
            "captured_at",
            f"is in the future (after {latest:%Y-%m-%dT%H:%M}Z); check the feed's clock and zone",
        )
    )
    error_frame = pl.concat([e.cast(ERROR_SCHEMA) for e in errors])  # type: ignore[arg-type]
    bad_rows = error_frame["row"].unique()
    valid = valid.filter(~pl.col("row").is_in(bad_rows.implode()))
    valid, conflicts = _split_conflicting_duplicates(valid)
    return valid, pl.concat([error_frame, conflicts]).sort("row")


def _split_conflicting_duplicates(valid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop exact duplicate prices; report prices given twice with different odds."""
    per_key = pl.col("odds").n_unique().over(PRICE_KEY)
    conflicting = valid.filter(per_key > 1)
    errors = conflicting.select(
        "row",
        pl.lit("odds").alias("column"),
        _text(pl.col("odds")).alias("value"),
        (
            pl.lit("conflicting duplicate: the same outcome at the same captured_at is priced ")
            + pl.col("odds").cast(pl.String).unique().sort().str.join(" and ").over(PRICE_KEY)
            + pl.lit(" (rows ")
            + pl.col("row").cast(pl.String).str.join(", ").over(PRICE_KEY)
            + pl.lit("); keep one")
        ).alias("reason"),
    )
    rest = valid.filter(per_key == 1).unique(PRICE_KEY, keep="first", maintain_order=True)
    return rest, errors.cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def format_errors(errors: pl.DataFrame, *, source: str, limit: int = 10) -> str:
    """A readable list of the first ``limit`` problems of a source.

    Example:
        >>> errs = pl.DataFrame({"row": [3], "column": ["odds"], "value": ["1.0"],
        ...                      "reason": ["must be greater than 1"]})
        >>> print(format_errors(errs, source="day1.csv"))
        day1.csv, row 3, column odds, value '1.0': must be greater than 1
    """
    lines = []
    for error in errors.head(limit).iter_rows(named=True):
        where = f"{source}, row {error['row']}" if error["row"] is not None else source
        if error["column"]:
            where += f", column {error['column']}"
        value = error["value"]
        shown = repr(value if value is None or len(value) <= 60 else value[:60] + "…")
        lines.append(f"{where}, value {shown}: {error['reason']}")
    if errors.height > limit:
        lines.append(f"… and {errors.height - limit} more problems")
    return "\n".join(lines)
