"""Rows of a long odds frame grouped into market instances, as numpy arrays.

The engine under :mod:`oddskit.margins`: :func:`prepare_instances` checks the frame
(odds > 1 or null, each outcome once per instance, outcomes that belong to their
market), numbers the instances in order of first appearance and measures each one
(priced outcomes, booksum, completeness, the target sum of fair probabilities).

Everything here is O(rows) numpy work on one integer instance id per row; Polars is
used only for what it does fastly on whole columns (row hashes, comparisons with the
previous row, dictionary look-ups of market and outcome names).

Examples
--------
>>> frame = pl.DataFrame({"event_id": [1, 1, 2, 2], "outcome": ["yes", "no"] * 2,
...                       "market": "btts", "odds": [1.8, 2.0, 1.9, None]})
>>> inst = prepare_instances(frame, None)
>>> inst.keys, inst.n_priced.tolist(), inst.incomplete.tolist()
(['event_id', 'market'], [2, 1], [False, True])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import polars as pl

from oddskit.arguments import columns
from oddskit.errors import ConfigurationError, ValidationError
from oddskit.markets import EXCLUSIVE_MARKETS, MARKET_INSTANCE_KEYS, MARKET_OUTCOMES

__all__ = [
    "UNDER_ROUND_TOL",
    "Instances",
    "dense",
    "instance_keys_of",
    "prepare_instances",
    "validate_odds_frame",
]

#: A booksum this far below its target is under-round (float noise on a fair book is not).
UNDER_ROUND_TOL: Final = 1e-12

#: Sum of fair probabilities of known non-exclusive markets (others sum to one).
_TARGET_SUM: Final[dict[str, float]] = {
    market: 2.0 for market in MARKET_OUTCOMES if market not in EXCLUSIVE_MARKETS
}

#: "market<US>outcome" strings of every known (market, outcome) pair.
_MARKET_OUTCOME_PAIRS: Final[list[str]] = [
    f"{market}\x1f{outcome}" for market, outcomes in MARKET_OUTCOMES.items() for outcome in outcomes
]

_ROW: Final = "__oddskit_row"

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
class Instances:
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
    #: The instance's market is not in the vocabulary: its completeness is unknown.
    unknown_market: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

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


def instance_keys_of(frame: pl.DataFrame, instance_keys: str | Sequence[str] | None) -> list[str]:
    """The instance key columns: ``instance_keys`` checked, or the default ones present."""
    if instance_keys is None:
        return [k for k in MARKET_INSTANCE_KEYS if k in frame.columns]
    keys = columns(instance_keys, "instance_keys", frame.columns)
    if "odds" in keys or "outcome" in keys:
        raise ConfigurationError("`instance_keys` must not contain 'odds' or 'outcome'")
    return keys


def validate_odds_frame(frame: pl.DataFrame) -> None:
    """Refuse a frame without numeric ``odds`` > 1 (nulls pass), naming the first bad row."""
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


def prepare_instances(frame: pl.DataFrame, instance_keys: str | Sequence[str] | None) -> Instances:
    """Check ``frame`` and group its rows into market instances (see the module docstring)."""
    validate_odds_frame(frame)
    keys = instance_keys_of(frame, instance_keys)
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
    unknown_market = np.zeros(m, dtype=bool)
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
            unknown_market = group_market == _UNKNOWN_MARKET
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
        unknown_market = group_market == _UNKNOWN_MARKET
    return Instances(
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
        unknown_market=unknown_market,
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
            "Pass instance_keys= with the missing key column(s), or deduplicate the snapshot."
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


def dense(inst: Instances, sel: np.ndarray, width: int) -> np.ndarray:
    """Implied probabilities of the instances ``sel`` (all with ``width`` priced rows)
    as a ``(width, len(sel))`` array: one row per outcome position."""
    return np.stack([inst.implied[inst.rows(sel, j)] for j in range(width)])
