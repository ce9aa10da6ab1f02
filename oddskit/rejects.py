"""Rejects files: where ``on_error="skip"`` writes the rows it leaves out, with a reason.

The rules, all for one promise: a rejects file never replaces anything.

* **Name.** The source's whole file name with its data suffix replaced:
  ``day.1.csv`` → ``day.1.rejects.csv``, ``day.parquet`` → ``day.rejects.csv``, in the
  source's folder; in-memory sources write ``rejects-<UTC time>.csv`` in the working
  folder. ``rejects_path`` names a file (several sources: ``<stem>.<source>.csv`` beside
  it) or an existing folder (the usual names, in that folder).
* **Never replace.** When the name is taken — by an input, by another source's rejects,
  by an earlier load's rejects you may have edited — the rows go to the next free name
  (``day.rejects.2.csv``, ``.3``, …). The load's summary says where they went.
* **Only when the load commits.** Rows are written to a hidden temporary file beside the
  target (``.day.rejects.csv.<random>.tmp``); just before the commit it is moved to its
  final name, and removed again if the commit fails. A refused or failed load leaves
  no rejects file; a load that rejects nothing writes none (and deletes none).
* **A failed write fails the load.** :class:`~oddskit.errors.RejectsError`, with nothing
  of the source committed: rejected rows are never silently lost.

Example:
    >>> from oddskit.sources import Source
    >>> rejects_target(Source("day.1.csv", "csv", Path("data/day.1.csv")), None, 1)
    PosixPath('data/day.1.rejects.csv')
"""

from __future__ import annotations

import os
import stat
import tempfile
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import IO

import polars as pl

from oddskit.errors import RejectsError, ValidationError
from oddskit.sources import DATA_SUFFIXES, Source


def rejects_target(source: Source, rejects_path: str | Path | None, sources: int) -> Path:
    """The name a source's rejects file gets when it is free (see the module rules).

    ``sources``: how many sources the load has (with ``rejects_path`` a file and more
    than one source, each gets its own name beside it).

    Example:
        >>> day = Source("in/day.csv", "csv", Path("in/day.csv"))
        >>> rejects_target(day, "out/bad.csv", 3), rejects_target(day, None, 3)
        (PosixPath('out/bad.day.csv'), PosixPath('in/day.rejects.csv'))
    """
    base = _base_name(source)
    if rejects_path is None:
        if source.path is not None:
            return source.path.with_name(f"{base}.rejects.csv")
        return Path(f"rejects-{datetime.now(UTC):%Y%m%dT%H%M%S}.csv")
    path = Path(rejects_path).expanduser()
    if path.is_dir():
        return path / (f"{base}.rejects.csv" if source.path is not None else f"{base}.csv")
    if sources > 1:
        return path.with_name(f"{path.stem}.{base}{path.suffix or '.csv'}")
    return path


def _base_name(source: Source) -> str:
    """The source's file name without its data suffix (all of it: ``day.1``).

    Example:
        >>> _base_name(Source("x", "csv", Path("a/day.1.CSV"))), _base_name(Source("df", "polars"))
        ('day.1', 'rejects-df')
    """
    if source.path is None:
        return f"rejects-{source.name.rsplit('.', 1)[-1]}"
    name = source.path.name
    suffix = source.path.suffix
    return name[: -len(suffix)] if suffix.lower() in DATA_SUFFIXES else name


def check_rejects_path(rejects_path: str | Path | None) -> None:
    """Refuse, before anything is loaded, a ``rejects_path`` that cannot take a file.

    Example:
        >>> check_rejects_path("/dev/null")
        Traceback (most recent call last):
        ...
        oddskit.errors.ValidationError: The rejects path /dev/null is a device...
    """
    if rejects_path is None:
        return
    path = Path(rejects_path).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise ValidationError(f"The rejects path {path} cannot be used: {exc.strerror}.") from None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
        raise ValidationError(
            f"The rejects path {path} is {kind}: rejected rows must go to a file or a "
            "folder where they can be read again. Name a .csv file or a folder."
        )
    folder = path if mode is not None and stat.S_ISDIR(mode) else path.parent
    if not folder.is_dir():
        raise ValidationError(
            f"The folder of the rejects path {path} does not exist: create {folder} first, "
            "or name another place."
        )


class RejectsFile:
    """The rejected rows of one source, on their way to a rejects file.

    :meth:`append` writes rows to a temporary file beside ``target``; :meth:`publish`
    (before the load commits) moves it to the first free name and returns it;
    :meth:`discard` (when the load fails) removes whatever this object wrote, unless
    :meth:`keep` said the load is committing.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> (folder / "day.rejects.csv").write_text("mine\\n")
        5
        >>> rejects = RejectsFile(folder / "day.rejects.csv", ["row", "odds", "reason"], "day.csv")
        >>> rejects.append(pl.DataFrame({"row": [3], "odds": ["abc"], "reason": ["odds: …"]}))
        >>> rejects.publish().name, (folder / "day.rejects.csv").read_text()
        ('day.rejects.2.csv', 'mine\\n')
    """

    def __init__(self, target: Path, columns: list[str], source: str) -> None:
        self.target = target
        self.columns = columns
        self.source = source
        self.rows = 0
        self.path: Path | None = None  # where the rows went (after publish)
        self._temp: Path | None = None
        self._handle: IO[bytes] | None = None
        self._kept = False

    def append(self, rows: pl.DataFrame) -> None:
        """Write ``rows`` (input columns, ``row`` and ``reason``) to the temporary file."""
        if not rows.height:
            return
        rows = rows.select(
            pl.col(name) if name in rows.columns else pl.lit(None, dtype=pl.String).alias(name)
            for name in self.columns
        ).with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z"))
        try:
            if self._handle is None:
                fd, name = tempfile.mkstemp(
                    prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent
                )
                self._temp = Path(name)
                self._handle = os.fdopen(fd, "wb")
            # Polars renders the text; the write itself is ours, so its OSError is too.
            self._handle.write(rows.write_csv(include_header=self.rows == 0).encode())
        except OSError as exc:
            raise self._error(exc) from None
        self.rows += rows.height

    def publish(self) -> Path | None:
        """Move the rows to the first free name (``None`` when there are none)."""
        if self._handle is None or self._temp is None:
            return None
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())  # a full disk shows here, before the commit
            self._handle.close()
            self._handle = None
            for number in count(1):
                candidate = self.target if number == 1 else _numbered(self.target, number)
                try:  # claim the name without replacing anything, then fill it
                    os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                except FileExistsError:
                    continue
                self.path = candidate
                os.replace(self._temp, candidate)
                self._temp = None
                return candidate
        except OSError as exc:
            raise self._error(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def keep(self) -> None:
        """The load is committing: keep the published file, whatever happens next (a
        commit that may have happened keeps its rejects); :meth:`discard` then removes
        nothing."""
        self._kept = True

    def discard(self) -> None:
        """Remove what this object wrote (the load failed; nothing was committed)."""
        if self._kept:
            return
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        for path in (self._temp, self.path):
            if path is not None:
                path.unlink(missing_ok=True)
        self._temp = self.path = None

    def _error(self, exc: OSError) -> RejectsError:
        self.discard()
        return RejectsError(
            f"{self.source}: could not write its rejected rows next to {self.target} "
            f"({exc.strerror or exc}); nothing from it was loaded. Free disk space or fix "
            "the folder's permissions, or pass another rejects path (CLI: --rejects)."
        )


def _numbered(path: Path, number: int) -> Path:
    """``day.rejects.csv`` → ``day.rejects.2.csv``.

    Example:
        >>> _numbered(Path("a/day.rejects.csv"), 3)
        PosixPath('a/day.rejects.3.csv')
    """
    return path.with_name(f"{path.stem}.{number}{path.suffix or '.csv'}")
