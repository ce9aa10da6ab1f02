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
from typing import Literal, NamedTuple

import polars as pl

from oddskit.errors import ValidationError
from oddskit.markets import (
    HandicapLines,
    VocabularyNotes,
    canonical_market_names,
    home_handicap_lines,
)


class InputColumn(NamedTuple):
    """How one input column is read: its kind, whether it is required, what it tells."""

    kind: Literal["timestamp", "text", "number", "odds"]
    required: bool
    part: Literal["snapshot", "match", "price"]
    """``snapshot``: names the snapshot (bookmaker, its event id, the instant);
    ``match``: describes the match, the same in every row of a snapshot;
    ``price``: one priced outcome."""


#: The input format, one line per column (a new optional column is one more line).
INPUT_COLUMNS: dict[str, InputColumn] = {
    "captured_at": InputColumn("timestamp", True, "snapshot"),
    "bookmaker": InputColumn("text", True, "snapshot"),
    "sport": InputColumn("text", True, "match"),
    "country": InputColumn("text", False, "match"),
    "tournament": InputColumn("text", True, "match"),
    "sportradar_id": InputColumn("text", False, "match"),
    "match_key": InputColumn("text", False, "match"),
    "bookmaker_event_id": InputColumn("text", True, "snapshot"),
    "home_team": InputColumn("text", True, "match"),
    "away_team": InputColumn("text", True, "match"),
    "kickoff": InputColumn("timestamp", True, "match"),
    "market": InputColumn("text", True, "price"),
    "line": InputColumn("number", False, "price"),
    "outcome": InputColumn("text", True, "price"),
    "odds": InputColumn("odds", True, "price"),
}
REQUIRED_COLUMNS = [name for name, column in INPUT_COLUMNS.items() if column.required]
OPTIONAL_COLUMNS = [name for name, column in INPUT_COLUMNS.items() if not column.required]

#: Natural key of one price inside a load.
PRICE_KEY = ["bookmaker", "bookmaker_event_id", "captured_at", "market", "line", "outcome"]

#: One snapshot: what one bookmaker showed for one of its events at one instant.
SNAPSHOT_KEY = ["bookmaker", "bookmaker_event_id", "captured_at"]

#: What every row of one snapshot must agree on (the match it describes).
SNAPSHOT_ATTRIBUTES = [name for name, column in INPUT_COLUMNS.items() if column.part == "match"]

#: The price columns of a row (besides its snapshot key).
PRICE_ATTRIBUTES = [name for name, column in INPUT_COLUMNS.items() if column.part == "price"]

_TYPES: dict[str, pl.DataType] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "text": pl.String(),
    "number": pl.Float64(),
    "odds": pl.Float64(),
}

#: Types of a validated batch (plus ``row``).
VALID_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    **{name: _TYPES[column.kind] for name, column in INPUT_COLUMNS.items()},
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
            f"{', '.join(INPUT_COLUMNS)} ({_in_words(OPTIONAL_COLUMNS)} may be left out); "
            "rename, add or drop columns to match (see docs/input-format.md)."
        )


def _in_words(names: Sequence[str]) -> str:
    """``a, b and c``.

    Example:
        >>> _in_words(["country", "sportradar_id", "line"])
        'country, sportradar_id and line'
    """
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _text(value: pl.Expr) -> pl.Expr:
    """A column as text, for error messages (and ``scrape_errors``, so NUL is escaped:
    PostgreSQL text cannot store it)."""
    return value.cast(pl.String, strict=False).str.replace_all("\x00", "\\x00", literal=True)


_NO_ERRORS = pl.DataFrame(schema=ERROR_SCHEMA)


def _errors(
    frame: pl.DataFrame, condition: pl.Expr, column: str, reason: str | pl.Expr
) -> pl.DataFrame:
    if isinstance(condition, pl.Series) and not condition.any():
        return _NO_ERRORS  # the common case: skip the filter
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    return frame.filter(condition).select(
        pl.col("row"),
        pl.lit(column).alias("column"),
        _text(pl.col(column)).alias("value"),
        reason_expr.cast(pl.String).alias("reason"),
    )


def _parse_timestamp(raw: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Parse a timestamp column to UTC; also return masks of naive values and of leap
    seconds (``…:59:60``, null in the parsed column: the parser would silently move
    them to the next minute)."""
    no = pl.repeat(False, raw.len(), dtype=pl.Boolean, eager=True)
    if raw.dtype == pl.Datetime:
        if raw.dtype.time_zone is None:  # type: ignore[union-attr]
            nulls = pl.Series(raw.name, [None] * raw.len(), dtype=VALID_SCHEMA["captured_at"])
            return nulls, raw.is_not_null(), no
        parsed = raw.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return parsed, no, no
    if raw.dtype != pl.String:
        return pl.Series(raw.name, [None] * raw.len(), dtype=VALID_SCHEMA["captured_at"]), no, no
    text = raw.str.strip_chars()
    parsed = _first_format(text, _AWARE_FORMATS, time_zone="UTC")
    leap = no
    if text.str.contains(":60", literal=True).any():
        leap = (text.str.contains(r"\d:\d\d:60") & parsed.is_not_null()).fill_null(False)
        parsed = parsed.zip_with(~leap, pl.Series([None], dtype=parsed.dtype))
    unparsed = parsed.is_null() & text.is_not_null() & ~leap
    if not unparsed.any():
        return parsed.alias(raw.name), unparsed, leap
    naive = _first_format(
        text.zip_with(unparsed, pl.Series([None], dtype=pl.String)), _NAIVE_FORMATS
    )
    return parsed.alias(raw.name), (unparsed & naive.is_not_null()), leap


def parse_timestamps(raw: pl.Series) -> pl.Series:
    """A timestamp column in UTC, exactly as :func:`validate_batch` parses it; null
    where a value is missing, naive or not a timestamp.

    Example:
        >>> parse_timestamps(pl.Series(["2026-11-29T10:00:00+01:00", "soon"])).to_list()
        [datetime.datetime(2026, 11, 29, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), None]
        >>> parse_timestamps(pl.Series(["2016-12-31T23:59:60+00:00"])).to_list()  # leap second
        [None]
    """
    return _parse_timestamp(raw)[0]


def _first_format(text: pl.Series, formats: list[str], time_zone: str | None = None) -> pl.Series:
    """Parse with the first format, then try the next ones only on what is still unparsed."""
    parsed = text.str.to_datetime(formats[0], time_unit="us", time_zone=time_zone, strict=False)
    for fmt in formats[1:]:
        left = parsed.is_null() & text.is_not_null()
        if not left.any():
            break
        retry = text.zip_with(left, pl.Series([None], dtype=pl.String))
        parsed = parsed.fill_null(
            retry.str.to_datetime(fmt, time_unit="us", time_zone=time_zone, strict=False)
        )
    return parsed


def _blank(column: pl.Series) -> pl.Series:
    """Null, or (for text) empty after trimming."""
    if column.dtype == pl.String:
        return (column.is_null() | (column.str.strip_chars() == "")).fill_null(True)
    return column.is_null()


def _parse_number(raw: pl.Series) -> pl.Series:
    """A number column as ``Float64``.

    A ``Float32`` column is read as the decimals it stands for: float32 holds 4.01 as
    4.0100002288…, which widened bit for bit would be stored as 4.010000228881836.
    Its shortest round-trip text (``"4.01"``) is parsed instead (0.25 s per 5M values).

    Example:
        >>> _parse_number(pl.Series([4.01, 2.15], dtype=pl.Float32)).to_list()
        [4.01, 2.15]
    """
    if raw.dtype == pl.String:
        text = raw.str.strip_chars()
        return text.replace("", None).cast(pl.Float64, strict=False)
    if raw.dtype == pl.Float32:
        return raw.cast(pl.String).cast(pl.Float64)
    if raw.dtype.is_numeric() or raw.dtype == pl.Decimal:
        return raw.cast(pl.Float64)
    return pl.Series(raw.name, [None] * raw.len(), dtype=pl.Float64)


def validate_batch(
    raw: pl.DataFrame,
    *,
    now: datetime,
    retention_days: int | None,
    handicap_lines: HandicapLines = "auto",
    vocabulary: VocabularyNotes | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse and check one batch; return (valid rows typed as :data:`VALID_SCHEMA`, errors).

    Market and outcome names are rewritten in oddskit's vocabulary and Asian-handicap
    lines as the home team's (:mod:`oddskit.markets`; ``handicap_lines`` says how the
    input writes them); ``vocabulary`` collects what that found (markets oddskit does
    not know, books converted or left unpaired).

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
    for name, (kind, required, _) in INPUT_COLUMNS.items():
        column = raw[name]
        if kind == "text":
            text = column.cast(pl.String, strict=False)
            # Feeds repeat a few hundred names over many rows: check each value once.
            values = text.unique()
            empty_values = values.is_null() | (values.str.strip_chars() == "")
            if empty_values.any():
                empty = text.is_null() | (text.str.strip_chars() == "")
                if required:
                    errors.append(_errors(raw, empty, name, f"is empty; every row needs a {name}"))
                else:
                    text = pl.select(pl.when(empty).then(None).otherwise(text)).to_series()
                    text = text.alias(name)
            if values.str.contains("\x00", literal=True).any():
                nul = text.str.contains("\x00", literal=True).fill_null(False)
                errors.append(
                    _errors(
                        raw, nul, name, "contains a NUL byte, which PostgreSQL text cannot store"
                    )
                )
            typed[name] = text
        elif kind == "timestamp":
            parsed, naive, leap = _parse_timestamp(column)
            missing_mask = _blank(column)
            errors.append(_errors(raw, missing_mask, name, f"is empty; every row needs a {name}"))
            errors.append(
                _errors(
                    raw,
                    naive,
                    name,
                    "has no UTC offset (naive time); write it like 2026-11-29T18:00:00+00:00",
                )
            )
            errors.append(
                _errors(
                    raw,
                    leap,
                    name,
                    "is a leap second (second 60), which cannot be stored: it would silently "
                    "become the next minute. Write the instant the feed means, e.g. :59.999999 "
                    "or the next minute's :00",
                )
            )
            unparsed = parsed.is_null() & ~missing_mask & ~naive & ~leap
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
            blank = _blank(column)
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
    valid, wrong_outcomes = canonical_market_names(valid)
    valid, handicaps = home_handicap_lines(valid, by=SNAPSHOT_KEY, lines=handicap_lines)
    if vocabulary is not None:
        vocabulary.add(valid, handicaps)
    error_frame = pl.concat([error_frame, wrong_outcomes.cast(ERROR_SCHEMA)])  # type: ignore[arg-type]
    valid, disagreeing = _split_disagreeing_snapshots(valid)
    valid, conflicts = _split_conflicting_duplicates(valid)
    return valid, pl.concat([error_frame, disagreeing, conflicts]).sort("row")


def _split_disagreeing_snapshots(valid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Report rows that describe another match than the rest of their snapshot.

    The loader keeps one description (teams, kickoff, …) per snapshot, so such rows
    would otherwise be filed silently under the other match. The description most
    rows of the snapshot give (on a tie: the earliest row's) is taken as the snapshot's.
    """
    described = valid.select([*SNAPSHOT_KEY, *SNAPSHOT_ATTRIBUTES]).unique()
    if not described.select(SNAPSHOT_KEY).is_duplicated().any():
        return valid, _NO_ERRORS  # the common case: one description per snapshot
    suspects = valid.filter(pl.struct(SNAPSHOT_ATTRIBUTES).n_unique().over(SNAPSHOT_KEY) > 1).sort(
        "row"
    )
    errors = []
    for name in SNAPSHOT_ATTRIBUTES:
        usual = (
            suspects.with_columns(pl.len().over([*SNAPSHOT_KEY, name]).alias("_rows"))
            .with_columns(
                pl.col(name)
                .sort_by("_rows", descending=True, maintain_order=True)
                .first()
                .over(SNAPSHOT_KEY)
                .alias("_usual")
            )
            .with_columns(
                pl.col("row")
                .filter(pl.col(name).eq_missing(pl.col("_usual")))
                .first()
                .over(SNAPSHOT_KEY)
                .alias("_usual_row")
            )
        )
        errors.append(
            usual.filter(pl.col(name).ne_missing(pl.col("_usual"))).select(
                "row",
                pl.lit(name).alias("column"),
                _text(pl.col(name)).alias("value"),
                pl.format(
                    "disagrees with the other rows of its snapshot (bookmaker {}, bookmaker "
                    "event {}, captured_at {}), which give {} {} (e.g. row {}); every row of "
                    "a snapshot must describe the same match",
                    "bookmaker",
                    "bookmaker_event_id",
                    pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"),
                    pl.lit(name),
                    _text(pl.col("_usual")).fill_null("none"),
                    "_usual_row",
                ).alias("reason"),
            )
        )
    error_frame = pl.concat([e.cast(ERROR_SCHEMA) for e in errors])  # type: ignore[arg-type]
    return valid.filter(~pl.col("row").is_in(error_frame["row"].unique().implode())), error_frame


def _split_conflicting_duplicates(valid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop exact duplicate prices; report prices given twice with different odds."""
    if not valid.select(PRICE_KEY).is_duplicated().any():
        return valid, _NO_ERRORS
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


def parse_snapshot_keys(raw: pl.DataFrame) -> pl.DataFrame:
    """The snapshot key of each row (:data:`SNAPSHOT_KEY`), parsed exactly as
    :func:`validate_batch` parses it; null where a value is missing or invalid.

    For a source known to have passed validation before: much cheaper than checking
    it again.

    Example:
        >>> raw = pl.DataFrame({"row": [1], "captured_at": ["2026-11-29T10:00:00+01:00"],
        ...     "bookmaker": ["betPawa"], "bookmaker_event_id": ["7"]})
        >>> key = parse_snapshot_keys(raw).row(0)
        >>> key[:2], key[2].isoformat()
        (('betPawa', '7'), '2026-11-29T09:00:00+00:00')
    """
    return pl.DataFrame(
        {
            "bookmaker": raw["bookmaker"].cast(pl.String, strict=False),
            "bookmaker_event_id": raw["bookmaker_event_id"].cast(pl.String, strict=False),
            "captured_at": parse_timestamps(raw["captured_at"]),
        }
    ).cast({name: VALID_SCHEMA[name] for name in SNAPSHOT_KEY})  # type: ignore[arg-type]


def format_errors(
    errors: pl.DataFrame, *, source: str, limit: int = 10, total: int | None = None
) -> str:
    """A readable list of the first ``limit`` problems of a source.

    ``total``: how many problems there are in all, when ``errors`` holds only the
    first of them.

    Example:
        >>> errs = pl.DataFrame({"row": [3], "column": ["odds"], "value": ["1.0"],
        ...                      "reason": ["must be greater than 1"]})
        >>> print(format_errors(errs, source="day1.csv"))
        day1.csv, row 3, column odds, value '1.0': must be greater than 1
        >>> print(format_errors(errs, source="day1.csv", limit=0, total=29_234))
        … and 29,234 more problems
    """
    lines = []
    for error in errors.head(limit).iter_rows(named=True):
        where = f"{source}, row {error['row']}" if error["row"] is not None else source
        if error["column"]:
            where += f", column {error['column']}"
        value = error["value"]
        shown = repr(value if value is None or len(value) <= 60 else value[:60] + "…")
        lines.append(f"{where}, value {shown}: {error['reason']}")
    total = errors.height if total is None else total
    if total > min(limit, errors.height):
        lines.append(f"… and {total - min(limit, errors.height):,} more problems")
    return "\n".join(lines)


def count_problems(errors: pl.DataFrame) -> dict[tuple[str | None, str], int]:
    """How many problems share each (column, reason), for a summary of many problems.

    Example:
        >>> errs = pl.DataFrame({"row": [1, 2, 3], "column": ["odds", "odds", None],
        ...     "value": ["0", "1", "x"], "reason": ["must be > 1", "must be > 1", "ragged"]})
        >>> count_problems(errs)
        {('odds', 'must be > 1'): 2, (None, 'ragged'): 1}
    """
    counted = errors.group_by("column", "reason", maintain_order=True).len()
    return {(c, r): n for c, r, n in counted.iter_rows()}


def summarise_problems(counts: dict[tuple[str | None, str], int], *, limit: int = 5) -> str:
    """The most common problems, one line each: count, column and reason.

    Example:
        >>> print(summarise_problems({("captured_at", "is older than ..."): 29_234}))
        29,234 × captured_at is older than ...
    """
    common = sorted(counts.items(), key=lambda item: -item[1])
    lines = [f"{n:,} × {column or 'row'} {reason}" for (column, reason), n in common[:limit]]
    if len(common) > limit:
        rest = sum(n for _, n in common[limit:])
        lines.append(f"{rest:,} × other problems ({len(common) - limit:,} other kinds)")
    return "\n".join(lines)
