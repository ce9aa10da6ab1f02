"""What loading one source did: the running tally and the :class:`LoadResult` it becomes.

The loader keeps one :class:`LoadTally` per source. It counts as the load goes —
rows read, written and left out, snapshots, new dimensions, every problem (only the
first :data:`~oddskit.runs.MAX_STORED_ERRORS` are kept for ``scrape_errors``), the
seconds of each step — and it alone turns those counts into the :class:`LoadResult`,
the run record's details, and the refusal of a source with problems.

Example:
    >>> tally = LoadTally()
    >>> tally.rows_read, tally.rows_loaded = 10, 8
    >>> tally.record(pl.DataFrame({"row": [4, 9], "column": ["odds", "odds"],
    ...     "value": ["1.0", "x"], "reason": ["must be greater than 1", "is not a number"]}))
    >>> tally.rows_rejected += 2
    >>> result = tally.result("day.csv", run_id=7)
    >>> result.rows_present, result.rows_rejected
    (0, 2)
    >>> print(tally.refusal("day.csv"))
    day.csv: 2 problems in 2 rows; nothing from it was loaded.
    day.csv, row 4, column odds, value '1.0': must be greater than 1
    day.csv, row 9, column odds, value 'x': is not a number
    Fix these rows, or load the good rows with on_error='skip' ...
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from oddskit.errors import ValidationError
from oddskit.markets import VocabularyNotes
from oddskit.runs import MAX_STORED_ERRORS
from oddskit.validation import ERROR_SCHEMA, count_problems, format_errors, summarise_problems

if TYPE_CHECKING:
    from oddskit.checker import CheckedBatch

#: Problems listed one by one in a refusal's message (all are counted).
SHOWN_ERRORS = 10


@dataclass(frozen=True)
class LoadResult:
    """What loading one source did.

    Attributes
    ----------
    source
        The file's path, or ``polars.DataFrame``, ``pyarrow.Table``, ….
    run_id
        Its row in ``scrape_runs`` (:func:`oddskit.fetch_load_runs`).
    rows_read, rows_loaded, rows_present, rows_rejected
        Input rows read; of those, written as new prices, already stored (their
        snapshot was stored before, or the row repeated another), and left out.
    snapshots_new, snapshots_present
        Snapshots (bookmaker × bookmaker event × ``captured_at``) created, and found
        stored already.
    new_events, new_bookmakers, rescheduled_events
        Matches and bookmakers created; matches whose kickoff changed.
    partitions_created
        Daily partitions made for the data's days.
    seconds, timings
        The whole load, and the seconds of each of its steps.
    rejects_path
        Where this load's rejected rows are (``on_error="skip"``); for a file
        recognised as loaded before, where run ``rejects_run_id`` wrote them.
    rejects_run_id
        Set when the same file was loaded before: the run that checked its rows.
    rows_repeated
        Input rows that repeated another row of the input exactly (stored once; not
        counted as already present).
    linked
        How the listings new to the database were linked to their match: ``new`` (the
        listing made the match), ``sportradar``, ``match_key``, ``exact``, ``alias``,
        ``fuzzy`` → how many (see :mod:`oddskit.load_identity`).
    kickoff_changes
        Listings whose snapshots in the input gave more than one kickoff (the match
        keeps the newest pre-match one; ``rescheduled_events`` counts the stored
        matches whose kickoff changed).
    unknown_markets
        Market names oddskit does not know (kept as given; their completeness is
        unknown).
    to
        ``"live"``, or ``"archive"``: the prices went straight to the Parquet archive
        (``rows_loaded`` counts those new there).
    handicap_converted, handicap_unpaired
        Asian-handicap books written with each side's own handicap and turned into
        home lines; books left with a side missing at a line (the usual mistake when
        it cannot be told apart).

    Examples
    --------
    >>> result = LoadResult("day.csv", 7, 10, 8, 0, 2, 1, 0, 1, 1, 0, (), 0.5,
    ...                     rejects_path=Path("day.rejects.csv"))
    >>> result.rows_per_second
    20.0
    >>> print(result)
    day.csv: 10 rows read, 8 new, 0 already present, 2 rejected; 1 new snapshots, 1 new events, 1 new bookmakers, 0 rescheduled, 0 partitions created; 0.5 s, 20 rows/s; rejected rows written to day.rejects.csv
    """  # noqa: E501

    source: str
    run_id: int | None
    rows_read: int
    rows_loaded: int
    rows_present: int
    rows_rejected: int
    snapshots_new: int
    snapshots_present: int
    new_events: int
    new_bookmakers: int
    rescheduled_events: int
    partitions_created: tuple[str, ...]
    seconds: float
    rejects_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    rejects_run_id: int | None = None
    rows_repeated: int = 0
    linked: dict[str, int] = field(default_factory=dict)
    kickoff_changes: int = 0
    unknown_markets: tuple[str, ...] = ()
    handicap_converted: int = 0
    handicap_unpaired: int = 0
    to: str = "live"

    @property
    def rows_per_second(self) -> float:
        """Rows read per second, end to end."""
        return self.rows_read / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        text = (
            f"{self.source}: {self.rows_read:,} rows read, {self.rows_loaded:,} new, "
            f"{self.rows_present:,} already present, {self.rows_rejected:,} rejected; "
            f"{self.snapshots_new:,} new snapshots, {self.new_events:,} new events, "
            f"{self.new_bookmakers:,} new bookmakers, {self.rescheduled_events:,} rescheduled, "
            f"{len(self.partitions_created)} partitions created; "
            f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"
        )
        return text + self._rejects_note() + self._notes()

    def _notes(self) -> str:
        """What the summary adds when there is something to say: repeats, links, names."""
        notes = []
        if self.to == "archive":
            notes.append("written to the archive (Parquet), not to the live tables")
        if self.rows_repeated:
            notes.append(f"{self.rows_repeated:,} rows repeated others of the input (kept once)")
        linked = {m: n for m, n in self.linked.items() if m != "new" and n}
        if linked:
            ways = ", ".join(f"{n:,} by {m.replace('_', ' ')}" for m, n in sorted(linked.items()))
            notes.append(f"listings linked to a match: {ways}")
        if self.kickoff_changes:
            notes.append(
                f"{self.kickoff_changes:,} listings changed kickoff within the input (the "
                "match keeps the newest pre-match kickoff)"
            )
        if self.unknown_markets:
            notes.append(
                "markets kept as given, not in oddskit's vocabulary: "
                + ", ".join(self.unknown_markets[:10])
                + (" …" if len(self.unknown_markets) > 10 else "")
            )
        if self.handicap_converted:
            notes.append(
                f"{self.handicap_converted:,} Asian-handicap books turned from each side's own "
                "handicap into home lines"
            )
        if self.handicap_unpaired:
            notes.append(
                f"{self.handicap_unpaired:,} Asian-handicap books have a side missing at some "
                "line (home -0.75 with away +0.75 is two half books: oddskit's lines are the "
                "home handicap on both rows; load with handicap_lines='own' if the file gives "
                "each side its own)"
            )
        return "".join(f"\n  {note}" for note in notes)

    def _rejects_note(self) -> str:
        if self.rejects_run_id is None:
            return f"; rejected rows written to {self.rejects_path}" if self.rejects_path else ""
        if not self.rows_rejected:
            return ""
        if self.rejects_path is None:
            return (
                f"; its rejected rows were reported by run {self.rejects_run_id} "
                f"(oddskit.fetch_run_errors(db, {self.rejects_run_id}))"
            )
        gone = "" if self.rejects_path.exists() else ", which is no longer there"
        return (
            f"; its rejected rows were written to {self.rejects_path} by run "
            f"{self.rejects_run_id}{gone}"
        )


@dataclass
class LoadTally:
    """The counts of one source's load while it runs; :meth:`result` builds its
    :class:`LoadResult`.

    ``snapshots_seen`` counts the distinct snapshot keys read, ``snapshot_keys_created``
    those this load created (two bookmaker event ids of one match at one instant are
    two keys of one snapshot), ``snapshots_excluded`` those left out with their event.

    Examples
    --------
    >>> tally = LoadTally(rows_read=3, rows_loaded=3, snapshots_seen=1, snapshots_new=1,
    ...                   snapshot_keys_created=1)
    >>> tally.lap("write")
    >>> tally.result("df", run_id=None).snapshots_present, list(tally.timings)
    (0, ['write'])
    """

    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    snapshots_seen: int = 0
    snapshots_new: int = 0
    snapshot_keys_created: int = 0
    snapshots_excluded: int = 0
    new_events: int = 0
    new_bookmakers: int = 0
    rescheduled_events: int = 0
    partitions_created: tuple[str, ...] = ()
    rejects_path: Path | None = None
    rejects_run_id: int | None = None
    rows_repeated: int = 0
    linked: Counter[str] = field(default_factory=Counter)
    kickoff_changes: int = 0
    vocabulary: VocabularyNotes = field(default_factory=VocabularyNotes)
    to: str = "live"
    problems: int = 0  # every problem found
    problem_rows: int = 0  # every row with a problem
    problem_counts: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    kept_errors: list[pl.DataFrame] = field(default_factory=list)  # the first problems
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    _last_lap: float | None = field(default=None, init=False, repr=False)

    def lap(self, step: str) -> None:
        """Add the seconds since the last lap (or the start) to ``step``."""
        now = time.perf_counter()
        last = self.started if self._last_lap is None else self._last_lap
        self.timings[step] = self.timings.get(step, 0.0) + now - last
        self._last_lap = now

    def count(self, checked: CheckedBatch) -> None:
        """Count a checked batch: its rows, its problems, the rows they leave out."""
        self.rows_read += checked.rows
        self.rows_repeated += checked.repeated
        self.record(checked.errors)
        self.record(checked.event_errors)
        if checked.errors.height:
            self.rows_rejected += checked.errors["row"].n_unique()

    def record(self, errors: pl.DataFrame) -> None:
        """Count every problem of ``errors`` (``row``, ``column``, ``value``, ``reason``)
        and keep the first ones."""
        if not errors.height:
            return
        self.problems += errors.height
        self.problem_rows += errors["row"].n_unique()
        self.problem_counts.update(count_problems(errors))
        kept = sum(e.height for e in self.kept_errors)
        if kept < MAX_STORED_ERRORS:
            self.kept_errors.append(errors.head(MAX_STORED_ERRORS - kept))

    def stored_errors(self) -> pl.DataFrame | None:
        """The problems kept for ``scrape_errors`` (``None`` when there are none)."""
        return pl.concat(self.kept_errors) if self.kept_errors else None

    def result(self, source: str, run_id: int | None) -> LoadResult:
        """The :class:`LoadResult` of these counts, timed to now."""
        return LoadResult(
            source=source,
            run_id=run_id,
            rows_read=self.rows_read,
            rows_loaded=self.rows_loaded,
            rows_present=self.rows_read
            - self.rows_rejected
            - self.rows_loaded
            - self.rows_repeated,
            rows_rejected=self.rows_rejected,
            snapshots_new=self.snapshots_new,
            snapshots_present=(
                self.snapshots_seen - self.snapshot_keys_created - self.snapshots_excluded
            ),
            new_events=self.new_events,
            new_bookmakers=self.new_bookmakers,
            rescheduled_events=self.rescheduled_events,
            partitions_created=self.partitions_created,
            seconds=time.perf_counter() - self.started,
            rejects_path=self.rejects_path,
            timings=dict(self.timings),
            rejects_run_id=self.rejects_run_id,
            rows_repeated=self.rows_repeated,
            linked=dict(self.linked),
            kickoff_changes=self.kickoff_changes,
            unknown_markets=tuple(sorted(self.vocabulary.unknown_markets)),
            handicap_converted=self.vocabulary.handicap_converted,
            handicap_unpaired=self.vocabulary.handicap_unpaired,
            to=self.to,
        )

    def run_details(self, result: LoadResult) -> dict[str, Any]:
        """``scrape_runs.details`` of a load that succeeded with ``result``."""
        details = {
            "snapshots_new": result.snapshots_new,
            "snapshots_present": result.snapshots_present,
            "new_events": result.new_events,
            "new_bookmakers": result.new_bookmakers,
            "rescheduled_events": result.rescheduled_events,
            "partitions_created": list(result.partitions_created),
            "seconds": round(result.seconds, 3),
            "timings": {step: round(seconds, 3) for step, seconds in result.timings.items()},
            "rejects_path": str(result.rejects_path) if result.rejects_path else None,
            "problems": self.problems,
            "rows_repeated": result.rows_repeated,
            "linked": result.linked,
            "kickoff_changes": result.kickoff_changes,
            "unknown_markets": list(result.unknown_markets),
            "handicap_converted": result.handicap_converted,
            "handicap_unpaired": result.handicap_unpaired,
        }
        if result.rejects_run_id is not None:
            details["rejects_run_id"] = result.rejects_run_id
        return details

    def failure_details(self) -> dict[str, Any]:
        """``scrape_runs.details`` of a load that failed (besides its error)."""
        return {"problems": self.problems, "problem_rows": self.problem_rows}

    def refusal(self, source: str) -> ValidationError:
        """The refusal of a source with problems: true counts, the common problems, the
        first ones, and what to do."""
        errors = self.stored_errors()
        if errors is None:
            errors = pl.DataFrame(schema=ERROR_SCHEMA)
        problems, rows = self.problems, self.problem_rows
        lines = [
            f"{source}: {problems:,} problem{'s' * (problems != 1)} "
            f"in {rows:,} row{'s' * (rows != 1)}; nothing from it was loaded."
        ]
        if problems > SHOWN_ERRORS:
            lines += ["Problems by kind:", summarise_problems(self.problem_counts)]
            lines.append(f"The first {SHOWN_ERRORS}:")
        lines.append(format_errors(errors, source=source, limit=SHOWN_ERRORS, total=problems))
        lines.append(
            "Fix these rows, or load the good rows with on_error='skip' (CLI: --on-error skip), "
            "which writes the rejected ones with their reasons to a rejects file."
        )
        return ValidationError("\n".join(lines))
