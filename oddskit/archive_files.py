"""The archive's files: where they live, their columns, how they are written and checked.

An archive root is a local folder or a filesystem URL that pyarrow opens
(``s3://bucket/prefix``, ``gs://…``, ``hdfs://…``; credentials and endpoints come from
the usual environment, e.g. ``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, never from the
database). Under it each UTC day is one Parquet file, Hive-style::

    <root>/day=2026-10-02/part-0.parquet

with the columns of :data:`ARCHIVE_SCHEMA` (the day itself is the path's ``day=``
column), zstd-compressed, rows sorted by :data:`SORT_KEY` in row groups of
:data:`ROW_GROUP_ROWS` rows with statistics, so that readers skip days by path and
bookmakers and events by row-group statistics. The file of a day is replaced whole,
never appended to: :func:`write_day_file` writes a temporary name beside it
(``.part-0.parquet.<random>.tmp``, which no ``*.parquet`` glob and no Hive reader
picks up), reads it back and checks it, then renames it over the day's file.

:func:`price_checksum` is the checksum that proves a file holds the rows of a
partition: per (bookmaker, market, line, outcome) the row count and sums over every
other column, hashed. :mod:`oddskit.archive_live` computes the same numbers in SQL.

Example:
    >>> from datetime import UTC, datetime
    >>> frame = pl.DataFrame(
    ...     {"event_id": [7], "bookmaker": ["betPawa"], "market": ["1x2"], "line": [None],
    ...      "outcome": ["home"], "odds": [1.85],
    ...      "captured_at": [datetime(2026, 10, 2, 9, 30, tzinfo=UTC)]},
    ...     schema_overrides={"line": pl.Float64},
    ... )
    >>> price_checksum(frame)
    'v1:1:20290cc8a6d8aed5ccbf8b13320c095b'
    >>> day_path(date(2026, 10, 2))
    'day=2026-10-02/part-0.parquet'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from oddskit.connection import oddskit_home
from oddskit.errors import ConfigurationError, OddskitError

__all__ = [
    "ARCHIVE_SCHEMA",
    "PRICE_KEY",
    "SORT_KEY",
    "ArchiveError",
    "ArchiveRoot",
    "WrittenFile",
    "archive_setting",
    "day_path",
    "default_root",
    "price_checksum",
    "write_day_file",
]

UTC_DATETIME = pl.Datetime("us", "UTC")

#: The columns of an archive file, in order: one row per price, denormalised.
#: ``match_key`` stays null until match identity fills it.
ARCHIVE_SCHEMA: pl.Schema = pl.Schema(
    {
        "event_id": pl.Int64,
        "match_key": pl.String,
        "sportradar_id": pl.String,
        "sport": pl.String,
        "country": pl.String,
        "tournament": pl.String,
        "home_team": pl.String,
        "away_team": pl.String,
        "kickoff": UTC_DATETIME,
        "bookmaker": pl.String,
        "bookmaker_event_id": pl.String,
        "captured_at": UTC_DATETIME,
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)

#: What makes a price unique (the live tables' natural key, with the bookmaker by name).
PRICE_KEY: tuple[str, ...] = ("event_id", "bookmaker", "captured_at", "market", "line", "outcome")

#: Row order inside a file: runs of equal values compress well (a snapshot's time and
#: event columns repeat for its ~30 prices) and readers skip row groups by bookmaker
#: and event.
SORT_KEY: tuple[str, ...] = ("bookmaker", "event_id", "captured_at", "market", "line", "outcome")

#: Rows per row group: about a dozen per day of 100 matches × 3 bookmakers.
ROW_GROUP_ROWS = 65_536

#: File name of a day under its ``day=YYYY-MM-DD`` folder.
FILE_NAME = "part-0.parquet"

#: Set to a step name (see :data:`STEPS`) to kill the process right after that step:
#: the crash tests use it to prove that every point of the protocol is safe.
STOP_AFTER_ENV = "ODDSKIT_ARCHIVE_STOP_AFTER"

#: The steps of archiving a day, in order (the last two are :mod:`oddskit.archive`'s).
STEPS: tuple[str, ...] = ("written", "verified", "renamed", "recorded", "dropped")

_MODULUS = 2_147_483_647  # 2**31 - 1: products of two residues stay inside int64
_DAY_US = 86_400_000_000


class ArchiveError(OddskitError, RuntimeError):
    """An archive file could not be written, read or verified (nothing was dropped)."""


def stop_after(step: str) -> None:
    """Kill this process (SIGKILL, no clean-up) if :data:`STOP_AFTER_ENV` names ``step``."""
    if os.environ.get(STOP_AFTER_ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def day_path(day: date) -> str:
    """The path of ``day``'s file relative to the archive root."""
    return f"day={day:%Y-%m-%d}/{FILE_NAME}"


def default_root() -> Path:
    """The archive folder used when the policy says ``default``: ``<oddskit home>/archive``.

    Example:
        >>> default_root().name
        'archive'
    """
    return oddskit_home() / "archive"


@dataclass(frozen=True)
class ArchiveRoot:
    """Where archive files live: an absolute local folder or a filesystem URL.

    Example:
        >>> ArchiveRoot.of("/data/odds/").url
        '/data/odds'
        >>> ArchiveRoot.of("s3://odds-archive/oddskit/").file_url("day=2026-10-02/part-0.parquet")
        's3://odds-archive/oddskit/day=2026-10-02/part-0.parquet'
        >>> ArchiveRoot.of("archive")
        Traceback (most recent call last):
        ...
        oddskit.errors.ConfigurationError: the archive root must be an absolute folder ...
    """

    url: str

    @classmethod
    def of(cls, value: str | Path) -> ArchiveRoot:
        """Check and normalise a root given by a user (a relative folder is refused)."""
        text = os.fspath(value).strip()
        if text.startswith("file://"):
            text = text.removeprefix("file://")
        if "://" in text:
            scheme = text.split("://", 1)[0]
            if not scheme.isidentifier() or not text.split("://", 1)[1].strip("/"):
                raise ConfigurationError(
                    f"the archive root {text!r} is not a filesystem URL such as s3://bucket/prefix"
                )
            return cls(text.rstrip("/"))
        path = Path(text).expanduser()
        if not path.is_absolute():
            raise ConfigurationError(
                f"the archive root must be an absolute folder or a URL such as "
                f"s3://bucket/prefix, got {text!r} (try {str(path.resolve())!r})"
            )
        return cls(str(path).rstrip("/") or "/")

    @property
    def is_local(self) -> bool:
        """Whether the root is a folder on this machine."""
        return "://" not in self.url

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """The pyarrow filesystem and the root's path inside it."""
        if self.is_local:
            return pafs.LocalFileSystem(), self.url
        try:
            return pafs.FileSystem.from_uri(self.url)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise ArchiveError(f"cannot open the archive root {self.url}: {exc}") from None

    def file_url(self, relative: str) -> str:
        """``relative`` (e.g. :func:`day_path`) as a path or URL that Polars can scan."""
        return f"{self.url}/{relative}"


def archive_setting(value: object) -> str | None:
    """The policy's ``archive`` as given by a user: ``None`` (off; also ``'none'``),
    ``'default'``, ``'keep'`` (unchanged), or a checked absolute folder or URL.

    Example:
        >>> archive_setting("NONE") is None, archive_setting("/srv/odds/")
        (True, '/srv/odds')
    """
    if value is None or value in ("keep", "default"):
        return value  # type: ignore[return-value]
    if not isinstance(value, str | Path):
        raise ConfigurationError(
            f"`archive` must be 'default', a folder, a URL or None, got {value!r}"
        )
    if str(value).strip().lower() == "none":
        return None
    return ArchiveRoot.of(value).url


@dataclass(frozen=True)
class WrittenFile:
    """A day's archive file, written and verified."""

    root: str
    path: str
    rows: int
    bytes: int
    checksum: str


def price_checksum(frame: pl.DataFrame | pl.LazyFrame) -> str:
    """A checksum of a set of prices that does not depend on row order.

    Per (bookmaker, market, line, outcome): the row count, the sums of ``event_id``,
    of the time of day in microseconds, of the odds in millionths (mod 2³¹ − 1) and of
    a product of the three (so rows cannot swap values unnoticed), hashed with SHA-256.
    ``CHECKSUM_SQL`` in :mod:`oddskit.archive_live` computes the same numbers in PostgreSQL.
    The number after ``v1:`` is the row count.
    """
    groups = (
        frame.lazy()
        .select(
            "bookmaker",
            "market",
            "line",
            "outcome",
            pl.col("event_id").cast(pl.Int64),
            tod=pl.col("captured_at").dt.epoch("us") % _DAY_US,
            micro=(pl.col("odds") * 1_000_000).floor().cast(pl.Int64) % _MODULUS,
        )
        .with_columns(mix=((pl.col("event_id") * 1_000_003 + pl.col("tod")) % _MODULUS))
        .group_by("bookmaker", "market", "line", "outcome")
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("event_id").sum(),
            pl.col("tod").sum(),
            pl.col("micro").sum(),
            ((pl.col("mix") * (pl.col("micro") + 1)) % _MODULUS).sum().alias("mixed"),
        )
        .collect()
    )
    return checksum_of_groups(groups.rows())


def checksum_of_groups(groups: Iterable[tuple[Any, ...]]) -> str:
    """Hash the rows (bookmaker, market, line, outcome, rows, 4 sums) of a checksum."""
    canonical = [
        (str(b), str(m), None if line is None else float(line), str(o), *(int(v) for v in sums))
        for b, m, line, o, *sums in groups
    ]
    canonical.sort(key=lambda g: (g[0], g[1], g[2] is not None, g[2] or 0.0, g[3]))
    digest = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
    rows = sum(group[4] for group in canonical)
    return f"v1:{rows}:{digest[:32]}"


def conform(frame: pl.DataFrame, where: str) -> pl.DataFrame:
    """``frame`` with exactly the archive's columns and types, or a readable error."""
    missing = [name for name in ARCHIVE_SCHEMA if name not in frame.columns]
    if missing:
        raise ArchiveError(f"{where}: the archive needs the columns {missing}, which are missing")
    try:
        return frame.select(pl.col(name).cast(dtype) for name, dtype in ARCHIVE_SCHEMA.items())
    except pl.exceptions.PolarsError as exc:
        raise ArchiveError(f"{where}: a column does not fit the archive's types: {exc}") from None


def sort_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in :data:`SORT_KEY` order (deterministic: the same rows give the same file)."""
    return frame.sort(SORT_KEY, nulls_last=True)


def read_day_file(root: ArchiveRoot, path: str) -> pl.DataFrame:
    """Every row of one archive file, with the archive's column types."""
    fs, base = root.filesystem()
    try:
        table = pq.read_table(f"{base}/{path}", filesystem=fs)
    except (pa.ArrowException, OSError) as exc:
        raise ArchiveError(f"cannot read {root.file_url(path)}: {exc}") from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return conform(frame, root.file_url(path))


def _write(fs: pafs.FileSystem, target: str, table: pa.Table, *, local: bool) -> None:
    if local:  # flushed to disk before the rename, so a crash cannot leave an empty file
        with open(target, "wb") as handle:
            pq.write_table(
                table,
                handle,
                compression="zstd",
                row_group_size=ROW_GROUP_ROWS,
                write_statistics=True,
            )
            handle.flush()
            os.fsync(handle.fileno())
        return
    with fs.open_output_stream(target) as stream:
        pq.write_table(
            table, stream, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_statistics=True
        )


def _sync_folder(path: str) -> None:
    """Flush a folder's entries (the rename) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_leftovers(root: ArchiveRoot, day: date) -> int:
    """Delete temporary files of ``day`` left by an interrupted run; return how many."""
    fs, base = root.filesystem()
    folder = f"{base}/{PurePosixPath(day_path(day)).parent}"
    try:
        infos = fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    except (pa.ArrowException, OSError) as exc:
        raise ArchiveError(f"cannot list {root.file_url(str(folder))}: {exc}") from None
    stale = [i.path for i in infos if i.base_name.startswith(f".{FILE_NAME}.") and i.is_file]
    for path in stale:
        fs.delete_file(path)
    return len(stale)


def write_day_file(
    root: ArchiveRoot,
    day: date,
    frame: pl.DataFrame,
    *,
    expected: str | None = None,
    check: Callable[[pl.DataFrame], None] | None = None,
) -> WrittenFile:
    """Write ``frame`` (one day's rows, archive columns) as ``day``'s file, safely.

    Writes a temporary name, reads it back and verifies row count, checksum (against
    ``expected`` when given, else against ``frame``), types and that every row is of
    ``day``; ``check`` may verify more on the rows read back. Only then renames it
    over the day's file. Raises :class:`ArchiveError` and leaves the day's previous
    file as it was when anything fails.
    """
    frame = sort_rows(conform(frame, f"the rows of {day}"))
    outside = frame.filter(pl.col("captured_at").dt.date() != day).height
    if outside:
        raise ArchiveError(f"{outside:,} rows given for the archive of {day} are of another day")
    expected = expected or price_checksum(frame)
    fs, base = root.filesystem()
    relative = day_path(day)
    final = f"{base}/{relative}"
    folder = str(PurePosixPath(final).parent)
    temporary = f"{folder}/.{FILE_NAME}.{secrets.token_hex(6)}.tmp"
    where = root.file_url(relative)
    try:
        if root.is_local:  # object stores need no folders (pyarrow would add marker objects)
            fs.create_dir(folder, recursive=True)
        _write(fs, temporary, frame.to_arrow(), local=root.is_local)
    except (pa.ArrowException, OSError) as exc:
        raise ArchiveError(f"cannot write the archive of {day} to {where}: {exc}") from None
    stop_after("written")
    try:
        # Read back by the reader the query helpers use (Polars), not the writer's own.
        back = pl.read_parquet(root.file_url(temporary.removeprefix(f"{base}/")))
        problem = None
        if back.schema != ARCHIVE_SCHEMA:
            problem = f"its columns are {back.schema}, not the archive's"
        elif back.height != frame.height:
            problem = f"it holds {back.height:,} rows, not {frame.height:,}"
        elif (found := price_checksum(back)) != expected:
            problem = f"its checksum is {found}, not {expected}"
        if problem is None and check is not None:
            check(back)
        if problem:
            raise ArchiveError(f"the archive file of {day} failed verification: {problem}")
        stop_after("verified")
        fs.move(temporary, final)
        if root.is_local:
            _sync_folder(folder)
        size = fs.get_file_info(final).size
    except BaseException as exc:
        with contextlib.suppress(pa.ArrowException, OSError):
            fs.delete_file(temporary)
        if isinstance(exc, (pa.ArrowException, OSError)):
            raise ArchiveError(f"cannot write the archive of {day} to {where}: {exc}") from None
        raise
    stop_after("renamed")
    return WrittenFile(root.url, relative, frame.height, int(size or 0), expected)
