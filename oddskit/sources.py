"""Where bulk-load input comes from: files, folders, globs, Arrow and Polars objects.

Every source is read in bounded batches of raw columns, so a file is never held in
memory whole. CSV is read with all columns as text (validation parses them) and
problems that stop a row from being read at all (ragged rows, bytes that are not
UTF-8) are reported per row instead of failing the file.

Example:
    >>> import polars as pl
    >>> [s.name for s in resolve_sources(pl.DataFrame({"a": [1]}))]
    ['polars.DataFrame']
"""

from __future__ import annotations

import csv
import errno
import glob
import hashlib
import io
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa

from oddskit.errors import ValidationError

SourceKind = Literal["csv", "parquet", "arrow", "polars"]

#: File endings read as data files when a folder or glob is given.
DATA_SUFFIXES: dict[str, SourceKind] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

DEFAULT_BATCH_ROWS = 250_000

#: Rejects files the loader writes (``day.rejects.csv``, ``day.rejects.2.csv``): folders
#: and globs leave them out; name one explicitly to load it.
REJECTS_NAME = re.compile(r"\.rejects(\.\d+)?\.csv$", re.IGNORECASE)

#: The longest header row read (a file without line breaks is refused, not read whole).
MAX_HEADER_BYTES = 1 << 20

#: Bytes the CSV reader takes at a time: no row may be longer.
CSV_BLOCK_BYTES = 32 << 20


@dataclass(frozen=True)
class Source:
    """One input to load: a file, or an in-memory Arrow/Polars object."""

    name: str
    kind: SourceKind
    path: Path | None = None
    obj: Any = field(default=None, repr=False, compare=False)

    def file_hash(self) -> str | None:
        """SHA-256 of the file's bytes (``None`` for in-memory objects)."""
        if self.path is None:
            return None
        digest = hashlib.sha256()
        try:
            with self.path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as exc:
            raise unreadable(self.name, exc) from None
        return digest.hexdigest()


def unreadable(name: str, exc: OSError) -> ValidationError:
    """The error for a file the operating system will not let oddskit read.

    Example:
        >>> print(unreadable("day.csv", PermissionError(13, "Permission denied")))
        day.csv cannot be read: Permission denied. Check the file's permissions (ls -l) ...
    """
    hints = {
        errno.EACCES: "Check the file's permissions (ls -l) and load it as a user who may read it",
        errno.EPERM: "Check the file's permissions (ls -l) and load it as a user who may read it",
        errno.ENOENT: "It was moved or deleted after the load started; check the path",
        errno.EISDIR: "It is a folder; name the files in it, or the folder itself",
    }
    hint = hints.get(exc.errno or 0, "Check the file and the disk it is on")
    return ValidationError(f"{name} cannot be read: {exc.strerror or exc}. {hint}.")


@dataclass
class RawBatch:
    """A batch of raw columns, the 1-based input row number of each row, and the rows
    that could not be read at all (``row``, ``column``, ``value``, ``reason``)."""

    frame: pl.DataFrame
    problems: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def replayable(source: Source) -> Iterator[Source]:
    """The source, in a form that can be read more than once.

    The loader reads a source more than once (its time span, then its rows, and in
    two passes when it has problems), but a ``pyarrow.RecordBatchReader`` can be read
    only once: it is first streamed to a temporary Arrow IPC file, memory-mapped (so
    the batches stay on disk, not in memory) and removed afterwards. Every other
    source is returned as it is.

    Example:
        >>> table = pa.table({"odds": [2.0, 3.0]})
        >>> reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
        >>> with replayable(Source("r", "arrow", obj=reader)) as again:
        ...     [next(iter_batches(again, columns=["odds"])).frame.height for _ in range(2)]
        [2, 2]
    """
    if not isinstance(source.obj, pa.RecordBatchReader):
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="oddskit-reader-") as folder:
        path = Path(folder) / "batches.arrows"
        # The stream format, not the file format: batches may carry different
        # dictionaries (categorical columns), which only a stream can replace.
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, source.obj.schema) as out:
            for batch in source.obj:
                out.write_batch(batch)
        with pa.memory_map(str(path)) as mapped:
            yield Source(source.name, "arrow", obj=pa.ipc.open_stream(mapped).read_all())


def _kind_of(path: Path) -> SourceKind | None:
    return DATA_SUFFIXES.get(path.suffix.lower())


def _is_data_file(path: Path) -> bool:
    """Whether a folder or glob means this file: a regular ``.csv``/``.parquet`` file
    that is not a rejects file."""
    return path.is_file() and _kind_of(path) is not None and not REJECTS_NAME.search(path.name)


def resolve_sources(inputs: Any) -> list[Source]:
    """Turn paths, folders, globs and Arrow/Polars objects into a list of sources.

    An existing path is that file or folder, whatever characters its name holds;
    only a path that does not exist is read as a glob (``*``, ``?``, ``[...]``). A
    folder or glob means its regular ``.csv``/``.parquet`` files, sorted by name,
    leaving out hidden files and rejects files (``*.rejects.csv``). A file named
    twice is loaded once. An empty path, and anything that is not a regular file or
    a folder (a FIFO, a device, a socket), is refused.

    Example:
        >>> resolve_sources("no/such/file.csv")
        Traceback (most recent call last):
        ...
        oddskit.errors.ValidationError: no/such/file.csv does not exist. ...
    """
    if isinstance(inputs, (str, Path, pl.DataFrame, pl.LazyFrame, pa.Table, pa.RecordBatchReader)):
        inputs = [inputs]
    sources: list[Source] = []
    seen: set[Path] = set()
    for item in inputs:
        if isinstance(item, pl.DataFrame):
            sources.append(Source("polars.DataFrame", "polars", obj=item))
        elif isinstance(item, pl.LazyFrame):
            sources.append(Source("polars.LazyFrame", "polars", obj=item))
        elif isinstance(item, pa.Table):
            sources.append(Source("pyarrow.Table", "arrow", obj=item))
        elif isinstance(item, pa.RecordBatchReader):
            sources.append(Source("pyarrow.RecordBatchReader", "arrow", obj=item))
        elif isinstance(item, (str, Path)):
            for source in _resolve_path(str(item)):
                assert source.path is not None
                if (key := source.path.resolve()) not in seen:
                    seen.add(key)
                    sources.append(source)
        else:
            raise ValidationError(
                f"Cannot load a {type(item).__name__}: give file paths (CSV, Parquet), folders, "
                "globs, pyarrow Tables/RecordBatchReaders or polars DataFrames/LazyFrames."
            )
    return sources


def _resolve_path(text: str) -> list[Source]:
    if not text:
        raise ValidationError(
            "An empty path was given: name a file, a folder or a glob (use . for the "
            "working folder)."
        )
    path = Path(text).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise unreadable(text, exc) from None
    if mode is None:
        if any(ch in text for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
            files = [p for p in matches if _is_data_file(p)]
            if not files:
                raise ValidationError(
                    f"The pattern {text} matches no .csv or .parquet file. Check the pattern."
                )
            return [Source(str(p), _kind_of(p), p) for p in files]  # type: ignore[arg-type]
        raise ValidationError(f"{text} does not exist. Check the path (and the working folder).")
    if stat.S_ISDIR(mode):
        try:
            # Hidden files too are left out (editors' and macOS's ._day.csv companions).
            files = sorted(
                p for p in path.iterdir() if _is_data_file(p) and not p.name.startswith(".")
            )
        except OSError as exc:
            raise unreadable(text, exc) from None
        if not files:
            raise ValidationError(
                f"The folder {text} holds no .csv or .parquet file, so there is nothing to load."
            )
        return [Source(str(p), _kind_of(p), p) for p in files]  # type: ignore[arg-type]
    if not stat.S_ISREG(mode):
        raise ValidationError(
            f"{text} is {_file_kind(mode)}, not a regular file: oddskit reads files and "
            "folders only (a pipe or device may never end). Save the data to a file first."
        )
    kind = _kind_of(path)
    if kind is None:
        raise ValidationError(
            f"{text}: oddskit loads .csv and .parquet files, not {path.suffix or 'extensionless'} "
            "files. Rename it if it is one of those."
        )
    return [Source(str(path), kind, path)]


def _file_kind(mode: int) -> str:
    """What a non-regular file is, in words.

    Example:
        >>> _file_kind(stat.S_IFIFO)
        'a FIFO (named pipe)'
    """
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_header(source: Source, *, delimiter: str = ",") -> list[str]:
    """The column names of a source, exactly as written (duplicates kept).

    Example:
        >>> read_header(Source("df", "polars", obj=pl.DataFrame({"odds": [2.0]})))
        ['odds']
    """
    if source.kind == "csv":
        assert source.path is not None
        try:
            with source.path.open("rb") as handle:
                start = handle.read(MAX_HEADER_BYTES + 1)
        except OSError as exc:
            raise unreadable(source.name, exc) from None
        # The header ends at the first line break: LF, CRLF or CR (old Mac files).
        ends = [at for at in (start.find(b"\n"), start.find(b"\r")) if at >= 0]
        if not ends and len(start) > MAX_HEADER_BYTES:
            raise ValidationError(
                f"{source.name}: no line break in the first {MAX_HEADER_BYTES >> 20} MiB, so "
                "there is no header row to read. Check that this is a CSV file with one row "
                "per line."
            )
        first = start[: min(ends)] if ends else start
        if not first.strip():
            raise ValidationError(
                f"{source.name} is empty: there is no header row. Export the file again."
            )
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(
                f"{source.name}, header row: the bytes are not UTF-8. "
                "Save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
            ) from None
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if source.kind == "parquet":
        return list(_parquet_file(source).schema_arrow.names)
    if source.kind == "arrow":
        return list(source.obj.schema.names)
    obj = source.obj
    return list(obj.collect_schema().names() if isinstance(obj, pl.LazyFrame) else obj.columns)


def total_rows(source: Source) -> int | None:
    """Number of rows when known cheaply (Parquet metadata, in-memory frames)."""
    if source.kind == "parquet":
        return _parquet_file(source).metadata.num_rows
    if source.kind == "arrow" and isinstance(source.obj, pa.Table):
        return source.obj.num_rows
    if source.kind == "polars" and isinstance(source.obj, pl.DataFrame):
        return source.obj.height
    return None


def _parquet_file(source: Source) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source.path)
    except OSError as exc:
        if exc.errno is not None:  # the operating system's refusal, not a bad file
            raise unreadable(source.name, exc) from None
        raise ValidationError(
            f"{source.name} is not a readable Parquet file (truncated or corrupt?): {exc}. "
            "Write it again, or check that the copy finished."
        ) from None
    except pa.ArrowInvalid as exc:
        raise ValidationError(
            f"{source.name} is not a readable Parquet file (truncated or corrupt?): {exc}. "
            "Write it again, or check that the copy finished."
        ) from None


def iter_batches(
    source: Source,
    *,
    columns: Sequence[str],
    batch_rows: int = DEFAULT_BATCH_ROWS,
    delimiter: str = ",",
) -> Iterator[RawBatch]:
    """Yield the source in batches with a ``row`` column (1-based data row number).

    Example:
        >>> src = Source("df", "polars", obj=pl.DataFrame({"odds": [2.0, 3.0]}))
        >>> next(iter_batches(src, columns=["odds"])).frame.to_dicts()
        [{'row': 1, 'odds': 2.0}, {'row': 2, 'odds': 3.0}]
    """
    if source.kind == "csv":
        yield from _iter_csv(source, columns, batch_rows, delimiter)
        return
    offset = 0
    for frame in _iter_frames(source, list(columns), batch_rows):
        rows = pl.Series("row", np.arange(offset + 1, offset + frame.height + 1, dtype=np.int64))
        offset += frame.height
        yield RawBatch(frame.select(columns).insert_column(0, rows))


def _iter_frames(source: Source, columns: list[str], batch_rows: int) -> Iterator[pl.DataFrame]:
    if source.kind == "parquet":
        parquet = _parquet_file(source)
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
                yield pl.from_arrow(batch)  # type: ignore[misc]
        except (pa.ArrowInvalid, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise unreadable(source.name, exc) from None
            raise ValidationError(
                f"{source.name} could not be read to the end (truncated or corrupt Parquet?): "
                f"{exc}. Write it again."
            ) from None
    elif source.kind == "arrow":
        batches = (
            source.obj.to_batches(max_chunksize=batch_rows)
            if isinstance(source.obj, pa.Table)
            else source.obj
        )
        for batch in batches:
            yield pl.from_arrow(pa.Table.from_batches([batch]))  # type: ignore[misc]
    elif isinstance(source.obj, pl.LazyFrame):
        yield from source.obj.select(columns).collect_batches(chunk_size=batch_rows)
    else:
        yield from source.obj.iter_slices(batch_rows)


def _iter_csv(
    source: Source, columns: Sequence[str], batch_rows: int, delimiter: str
) -> Iterator[RawBatch]:
    skipped: list[dict[str, Any]] = []

    def on_invalid_row(row: Any) -> str:
        skipped.append(
            {
                "row": row.number - 1 if row.number and row.number > 0 else None,
                "column": None,
                "value": _printable((row.text or "")[:200]),
                "reason": f"has {row.actual_columns} fields but the header has "
                f"{row.expected_columns} (ragged row, or a delimiter inside an unquoted value)",
            }
        )
        return "skip"

    def unreadable_csv(exc: Exception, kept: int) -> ValidationError:
        if isinstance(exc, OSError) and exc.errno is not None:
            return unreadable(source.name, exc)
        where = f"after data row {kept:,}" if kept else "in its first rows"
        if "straddling" in str(exc):  # a "row" that does not fit in one block
            return ValidationError(
                f"{source.name} cannot be read as CSV {where}: a row is longer than "
                f"{CSV_BLOCK_BYTES >> 20} MiB, or a double quote opens a value that never "
                "closes (so the rest of the file reads as one value). Check the file there for "
                "an unbalanced quote or missing line breaks."
            )
        return ValidationError(f"{source.name} cannot be read as CSV {where}: {exc}")

    try:
        reader = _open_csv(source, columns, delimiter, on_invalid_row)
    except (pa.ArrowInvalid, OSError) as exc:
        raise unreadable_csv(exc, 0) from None
    kept = 0
    skipped_rows: list[int] = []
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            raise unreadable_csv(exc, kept) from None
        problems, skipped[:] = list(skipped), []
        skipped_rows.extend(p["row"] for p in problems if p["row"] is not None)
        skipped_rows.sort()
        rows = np.arange(kept + 1, kept + batch.num_rows + 1, dtype=np.int64)
        for number in skipped_rows:  # shift past rows that could not be read
            rows[rows >= number] += 1
        kept += batch.num_rows
        frame, decode_problems = _decode_utf8(batch, rows)
        yield RawBatch(frame, problems + decode_problems)
    if skipped:
        yield RawBatch(pl.DataFrame({"row": pl.Series([], dtype=pl.Int64)}), list(skipped))


def _open_csv(source: Source, columns: Sequence[str], delimiter: str, on_invalid_row: Any) -> Any:
    import pyarrow.csv as pcsv

    return pcsv.open_csv(
        source.path,
        read_options=pcsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
        # Quoted values may hold line breaks; without this a 32 MiB block boundary
        # inside one stops the reader ("got out of sync with chunker").
        parse_options=pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.binary() for name in columns},
            include_columns=list(columns),
            strings_can_be_null=False,
            null_values=[],
        ),
    )


def _decode_utf8(batch: pa.RecordBatch, rows: np.ndarray) -> tuple[pl.DataFrame, list[dict]]:
    """Turn binary CSV columns into text; cells that are not UTF-8 become problems."""
    columns = {"row": pl.Series("row", rows)}
    problems = []
    for name in batch.schema.names:
        values = batch.column(name)
        try:
            columns[name] = pl.from_arrow(values.cast(pa.string()))  # type: ignore[assignment]
        except pa.ArrowInvalid:
            decoded = []
            for row, raw in zip(rows.tolist(), values.to_pylist(), strict=True):
                try:
                    decoded.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    decoded.append(None)
                    problems.append(
                        {
                            "row": row,
                            "column": name,
                            "value": _printable(raw.decode("utf-8", "backslashreplace")[:200]),
                            "reason": "is not valid UTF-8 text; save the file as UTF-8",
                        }
                    )
            columns[name] = pl.Series(name, decoded, dtype=pl.String)
        columns[name] = columns[name].alias(name)
    return pl.DataFrame(columns), problems


def _printable(value: str) -> str:
    """A raw value for an error message and ``scrape_errors`` (PostgreSQL text cannot
    hold NUL, so it is escaped like the other unprintable bytes)."""
    return value.replace("\x00", "\\x00")
