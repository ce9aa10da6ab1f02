"""Reading the archive: :func:`scan_archive`, and the query helpers' archive side.

:func:`scan_archive` (also ``oddskit.scan_archive``) is a Polars ``LazyFrame`` over the
archive's day files, for analyses of many days.

When the window of a helper reaches days that the archive catalogue lists
(:func:`oddskit.archive.archived_days`), the helper reads those days' files with
Polars (only the columns it needs, with its filters pushed down to the Parquet
reader) and merges them with what the live tables returned, so that the answer is
the same frame, row for row, as before the days were archived:

* the odds history is the union of both, sorted as the SQL sorts it (``"C"``
  collation, nulls last);
* the board (latest, opening, closing) picks each (event, bookmaker) pair's snapshot
  among the live pick and the archived snapshots, then keeps that snapshot's prices.

A day can be in both places for a while (archived on demand, or a drop that was
interrupted after the day was recorded): its prices are then counted once, the
archived row winning a tie on the natural key, as in the archive itself.

Example:
    >>> from datetime import UTC
    >>> live = pl.DataFrame({"event_id": [1], "captured_at": [datetime(2026, 10, 2, tzinfo=UTC)]})
    >>> old = pl.DataFrame({"event_id": [1], "captured_at": [datetime(2026, 10, 1, tzinfo=UTC)]})
    >>> merge_rows(live, old, key=("event_id", "captured_at"))["captured_at"].dt.day().to_list()
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa

from oddskit.archive import archived_days
from oddskit.archive_files import ARCHIVE_SCHEMA, ArchiveError, ArchiveRoot, default_root
from oddskit.arguments import integers, require_aware, texts, window
from oddskit.connection import Database
from oddskit.days import utc_day
from oddskit.errors import ConfigurationError

__all__ = [
    "SCAN_SCHEMA",
    "archive_files",
    "archived_board",
    "archived_history",
    "merge_rows",
    "scan_archive",
    "scan_files",
]

#: (root, path) of archived day files.
Files = list[tuple[str, str]]


def archive_files(db: Database, since: datetime | None, until: datetime | None) -> Files:
    """The catalogued files of the days that overlap ``[since, until)``."""
    return [(r.root, r.path) for r in archived_days(db, since, until)]


def merge_rows(
    live: pl.DataFrame, archived: pl.DataFrame, *, key: Sequence[str], order: Sequence[str] = ()
) -> pl.DataFrame:
    """Live and archived rows as one frame sorted by ``order`` (default ``key``); a row
    of a day that is in both places counts once (the archived one).

    Example:
        >>> from datetime import UTC, datetime
        >>> t = datetime(2026, 10, 1, 9, tzinfo=UTC)
        >>> live = pl.DataFrame({"captured_at": [t], "odds": [2.0]})
        >>> merge_rows(live, live.with_columns(odds=pl.lit(2.1)), key=["captured_at"]).rows()
        [(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 2.1)]
    """
    order = list(order or key)
    if archived.height == 0:
        return live
    archived = archived.select(live.columns).cast(live.schema)  # type: ignore[arg-type]
    if live.height:
        days = archived["captured_at"].dt.date().unique().to_list()
        in_both = pl.col("captured_at").dt.date().is_in(days)
        both = live.filter(in_both)
        if both.height:
            keys = archived.select(key).filter(in_both)
            stays = both.join(keys, on=list(key), how="anti", nulls_equal=True)
            live = pl.concat([live.filter(~in_both), stays])
    return pl.concat([live, archived]).sort(order, nulls_last=True)


def scan_archive(
    db: Database | None = None,
    *,
    root: str | Path | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    event_ids: int | Iterable[int] | None = None,
    bookmakers: str | Iterable[str] | None = None,
    markets: str | Iterable[str] | None = None,
) -> pl.LazyFrame:
    """The archived prices as a Polars ``LazyFrame`` (the columns of
    :data:`ARCHIVE_SCHEMA` plus ``day``, a ``Date``).

    With ``db``, the days its catalogue lists (verified files only); with ``root``
    instead, every day file under that folder or URL (default: the default archive
    folder). Filters on ``day``, ``bookmaker``, ``market``, ``event_id`` and
    ``captured_at`` — the arguments here, or your own ``.filter()`` — are pushed down
    to the Parquet reader: it skips the files of other days and the row groups whose
    statistics rule them out.

    Parameters
    ----------
    db
        The database whose archive catalogue to read.
    root
        An archive folder or URL, read without a database.
    since, until
        Only prices captured in ``[since, until)`` (timezone-aware).
    event_ids, bookmakers, markets
        One value or a list; matched exactly.

    Returns
    -------
    pl.LazyFrame
        One row per archived price.

    Examples
    --------
    >>> lazy = scan_archive(db, bookmakers="Pinnacle", markets="1x2")
    >>> lazy.collect_schema().names()[-3:]
    ['outcome', 'odds', 'day']
    >>> lazy.select(pl.len()).collect().item()
    0
    """
    lower, upper = window(since, until)
    event_list = integers(event_ids, "event_ids")
    bookmaker_list = texts(bookmakers, "bookmakers")
    market_list = texts(markets, "markets")
    if db is not None and root is not None:
        raise ConfigurationError("pass `db` (its catalogue) or `root` (a folder), not both")
    if db is not None:
        records = archived_days(db, lower, upper)
        frame = scan_files([(r.root, r.path) for r in records])
    else:
        frame = _scan_root(ArchiveRoot.of(root or default_root()))
    if lower is not None:
        frame = frame.filter(pl.col("day") >= utc_day(lower), pl.col("captured_at") >= lower)
    if upper is not None:
        last = utc_day(require_aware(upper, "until") - timedelta(microseconds=1))
        frame = frame.filter(pl.col("day") <= last, pl.col("captured_at") < upper)
    if event_list is not None:
        frame = frame.filter(pl.col("event_id").is_in(event_list))
    if bookmaker_list is not None:
        frame = frame.filter(pl.col("bookmaker").is_in(bookmaker_list))
    if market_list is not None:
        frame = frame.filter(pl.col("market").is_in(market_list))
    return frame


#: The schema of :func:`scan_archive`.
SCAN_SCHEMA: pl.Schema = pl.Schema({**ARCHIVE_SCHEMA, "day": pl.Date})


def _empty() -> pl.LazyFrame:
    return pl.LazyFrame(schema=SCAN_SCHEMA)


def scan_files(files: list[tuple[str, str]]) -> pl.LazyFrame:
    """Scan (root, relative path) files, Hive-style, one scan per root."""
    by_root: dict[str, list[str]] = {}
    for root, path in files:
        by_root.setdefault(root, []).append(ArchiveRoot(root).file_url(path))
    frames = [
        pl.scan_parquet(
            urls,
            hive_partitioning=True,
            hive_schema={"day": pl.Date},
            schema=ARCHIVE_SCHEMA,
        )
        for urls in by_root.values()
    ]
    if not frames:
        return _empty()
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")


def _scan_root(root: ArchiveRoot) -> pl.LazyFrame:
    import pyarrow.fs as pafs

    fs, base = root.filesystem()
    try:
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveError(f"cannot list the archive root {root.url}: {exc}") from None
    prefix = base.rstrip("/") + "/"
    files = sorted(
        (root.url, info.path.removeprefix(prefix))
        for info in infos
        if info.is_file
        and info.base_name.endswith(".parquet")
        and not info.base_name.startswith(".")
        and info.path.removeprefix(prefix).startswith("day=")
    )
    return scan_files(files)


def _filtered(
    files: Files,
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    inclusive_until: bool = False,
) -> pl.LazyFrame:
    """The archived prices of ``files`` with the filters a helper shares (pushed down)."""
    frame = scan_files(files)
    if event_ids is not None:
        frame = frame.filter(pl.col("event_id").is_in(event_ids))
    if bookmakers is not None:
        frame = frame.filter(pl.col("bookmaker").is_in(bookmakers))
    if since is not None:
        frame = frame.filter(pl.col("captured_at") >= since)
    if until is not None:
        upper = pl.col("captured_at") <= until if inclusive_until else pl.col("captured_at") < until
        frame = frame.filter(upper)
    return frame


def archived_history(
    files: Files,
    schema: pl.Schema,
    *,
    event_ids: list[int] | None,
    bookmakers: list[str] | None,
    markets: list[str] | None,
    outcomes: list[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> pl.DataFrame:
    """The archived part of :func:`oddskit.queries.fetch_odds_history` (columns ``schema``)."""
    frame = _filtered(files, event_ids=event_ids, bookmakers=bookmakers, since=since, until=until)
    if markets is not None:
        frame = frame.filter(pl.col("market").is_in(markets))
    if outcomes is not None:
        frame = frame.filter(pl.col("outcome").is_in(outcomes))
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items()).collect()


def archived_board(
    files: Files,
    live: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    newest: bool,
    markets: list[str] | None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_kickoff: bool = False,
) -> pl.DataFrame:
    """The board from the live picks (``live``: every market of each pair's live
    snapshot) and the archived snapshots of ``pairs`` (event_id, bookmaker, kickoff).

    Each pair gets its newest (``newest``) or first snapshot among both, captured in
    ``[since, until]`` and, with ``before_kickoff``, before its kickoff; then that
    snapshot's prices of ``markets``. Sorted as the SQL of the board sorts.
    """
    pair = ["event_id", "bookmaker"]
    columns = live.columns
    event_ids = pairs["event_id"].unique().to_list() if pairs.height <= 10_000 else None
    frame = _filtered(
        files,
        event_ids=event_ids,
        bookmakers=pairs["bookmaker"].unique().to_list(),
        since=since,
        until=until,
        inclusive_until=True,
    )
    frame = frame.select(*pair, "captured_at", "market", "line", "outcome", "odds").join(
        pairs.lazy(), on=pair, how="inner"
    )
    if before_kickoff:
        frame = frame.filter(pl.col("captured_at") < pl.col("kickoff"))
    pick = pl.col("captured_at").max() if newest else pl.col("captured_at").min()
    picks = pl.concat(
        [
            live.lazy().select(*pair, "captured_at"),
            frame.group_by(pair).agg(pick),
        ]
    )
    best = picks.group_by(pair).agg(pick).collect()
    on = [*pair, "captured_at"]
    chosen = frame.join(best.lazy(), on=on, how="semi").select(columns).collect()
    kept = live.join(best, on=on, how="semi")
    if markets is not None:
        chosen = chosen.filter(pl.col("market").is_in(markets))
        kept = kept.filter(pl.col("market").is_in(markets))
    order = ["event_id", "bookmaker", "market", "line", "outcome"]
    merged = merge_rows(kept, chosen, key=[*on, "market", "line", "outcome"], order=order)
    return merged.sort(order, nulls_last=True)
