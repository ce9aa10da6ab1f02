"""The sample generator's engine: fixtures of each day and the rows of each chunk.

:func:`iter_chunks` yields the sample of a checked :class:`Config` in chunks of
consecutive kickoffs, fully vectorised (about 50 000 rows per bookmaker each). The
public functions and the model's description are in :mod:`oddskit.sample`.

Examples
--------
>>> from datetime import UTC, datetime
>>> from oddskit.sample import iter_sample
>>> chunk = next(iter_sample(start=datetime(2026, 11, 1, tzinfo=UTC), days=1, events_per_day=2))
>>> chunk.schema == SAMPLE_SCHEMA
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from oddskit.sample_model import (
    AH_OFFSETS,
    AH_SLOTS,
    ALPHA,
    N_SLOTS,
    OU_LINES,
    OU_SLOTS,
    SLOT_FACTOR,
    SLOT_MARKET,
    SLOT_N,
    SLOT_OUTCOME,
    SLOT_SUM,
    US,
    balanced_ah_line,
    fair_probs,
    hash_uniform,
    seeded_rng,
)
from oddskit.sample_world import BOOKMAKERS, DEFAULT_BOOKMAKERS, TOURNAMENTS
from oddskit.team_spellings import SAMPLE_STYLES, spell_team, spell_tournament

__all__ = ["SAMPLE_SCHEMA", "Config", "iter_chunks"]

#: Columns and types of the bulk-load input format, in order.
SAMPLE_SCHEMA: pl.Schema = pl.Schema(
    {
        "captured_at": pl.Datetime("us", "UTC"),
        "bookmaker": pl.String,
        "sport": pl.String,
        "country": pl.String,
        "tournament": pl.String,
        "sportradar_id": pl.String,
        "bookmaker_event_id": pl.String,
        "home_team": pl.String,
        "away_team": pl.String,
        "kickoff": pl.Datetime("us", "UTC"),
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)


_LEAD_HOURS = (4.0, 12.0)  # pricing starts this long before kickoff
_WALK_SD_PER_SQRT_HOUR = 0.04
_JUMP_RATE_PER_HOUR = 0.05
_JUMP_SD = 0.12
_SR_ID_MISSING_EVENT_RATE = 0.05
_SR_ID_MISSING_BOOK_RATE = 0.5
_CHUNK_EVENT_SNAPSHOTS = 1_800  # match-snapshots per chunk (x 28 outcomes per bookmaker)
_DAY_US = 86_400 * US
_MAX_RUN_JITTER_US = 30 * US
_MAX_EVENT_OFFSET_US = 15 * US
_REPLAY_GAP_US = 3 * 3600 * US  # a club's second match of a day, past all capacity


@dataclass(frozen=True)
class Config:
    start_us: int
    days: int | None  # None: unlimited (write_sample with rows=)
    events_per_day: int
    books: tuple[int, ...]  # indices into BOOKMAKERS
    interval_us: int
    seed: int
    max_rows: int | None
    in_play_us: int
    missing_rate: float
    suspended_rate: float
    own_names: bool = False  # each book spells names its own way; SportRadar ids at Pinnacle only


# --- fixtures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    kickoff_us: np.ndarray  # (E,) int64, sorted
    lead_us: np.ndarray
    tournament: np.ndarray  # (E,) index into TOURNAMENTS
    home: np.ndarray  # (E,) index into the tournament's teams
    away: np.ndarray
    lam_h: np.ndarray  # opening goal expectations
    lam_a: np.ndarray
    ah_main: np.ndarray
    sr_flag: np.ndarray  # (E,) bool: the match is poorly mapped (sr id missing somewhere)
    sr_id: np.ndarray  # (E,) int64
    first_event: int  # global number of the day's first match


def _ratings(seed: int) -> list[np.ndarray]:
    return [
        seeded_rng(seed, 11, t).normal(0.0, tour.rating_sd, len(tour.teams))
        for t, tour in enumerate(TOURNAMENTS)
    ]


def _spread(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Matches per competition with at most one match per club a day where the
    competitions have room: the excess of a full one goes to those with room, the
    heaviest first (no random draw, so days within capacity stay as they were).

    Example:
        >>> _spread(np.array([12, 3] + [0] * 10), np.ones(12)).tolist()[:3]
        [10, 5, 0]
    """
    room = np.array([len(t.teams) // 2 for t in TOURNAMENTS]) - counts
    excess = int(-room[room < 0].sum())
    counts = np.minimum(counts, counts + room)
    for t in np.argsort(-weights, kind="stable"):
        give = min(excess, max(0, int(room[t])))
        counts[t] += give
        excess -= give
    counts[np.argmax(weights)] += excess  # past every competition's capacity
    return counts


def _fixtures(cfg: Config, day: int, ratings: list[np.ndarray]) -> _Day:
    rng = seeded_rng(cfg.seed, 1, day)
    weights = np.array([t.weight for t in TOURNAMENTS])
    counts = _spread(rng.multinomial(cfg.events_per_day, weights / weights.sum()), weights)
    day_start = cfg.start_us + day * _DAY_US
    day_tod = day_start % _DAY_US
    tours, homes, aways, kicks = [], [], [], []
    for t, (tour, n) in enumerate(zip(TOURNAMENTS, counts, strict=True)):
        if n == 0:
            continue
        rounds = math.ceil(n / (len(tour.teams) // 2))
        order = np.concatenate([rng.permutation(len(tour.teams)) for _ in range(rounds)])
        pairs = order[: 2 * (len(order) // 2)].reshape(-1, 2)[:n]
        slots = np.array([int(s[:2]) * 60 + int(s[3:]) for s in tour.slots]) * 60 * US
        # A club plays twice a day only past every competition's capacity: its
        # second match kicks off hours later, never beside the first.
        replay = np.arange(n) // (len(tour.teams) // 2)
        tod = rng.choice(slots, n) + replay * _REPLAY_GAP_US
        kicks.append(day_start + (tod - day_tod) % _DAY_US)
        tours.append(np.full(n, t))
        homes.append(pairs[:, 0])
        aways.append(pairs[:, 1])
    tournament = np.concatenate(tours)
    home, away, kickoff = np.concatenate(homes), np.concatenate(aways), np.concatenate(kicks)
    order = np.lexsort((tournament, kickoff))
    tournament, home, away, kickoff = tournament[order], home[order], away[order], kickoff[order]
    e = tournament.size
    goals = np.array([t.goals for t in TOURNAMENTS])[tournament]
    adv = np.array([t.home_adv for t in TOURNAMENTS])[tournament]
    r_home = np.array([ratings[t][h] for t, h in zip(tournament, home, strict=True)])
    r_away = np.array([ratings[t][a] for t, a in zip(tournament, away, strict=True)])
    total = goals * np.exp(rng.normal(0.0, 0.1, e))
    sup = adv + r_home - r_away + rng.normal(0.0, 0.15, e)
    lam_h = np.clip(0.5 * (total + sup), 0.15, 4.5)
    lam_a = np.clip(0.5 * (total - sup), 0.15, 4.5)
    lead_h = rng.uniform(*_LEAD_HOURS, e)
    # Ids depend on the calendar day and the seed, so samples of different seeds (mod 1000)
    # or dates never reuse an id for another match (the loader refuses such a clash),
    # as long as there are at most 1000 matches a day.
    absolute_day = (day_start // _DAY_US) % 10_000
    first_event = (absolute_day * 1_000 + cfg.seed % 1_000) * 1_000
    return _Day(
        kickoff_us=kickoff.astype(np.int64),
        lead_us=(lead_h * 3600 * US).astype(np.int64),
        tournament=tournament,
        home=home,
        away=away,
        lam_h=lam_h,
        lam_a=lam_a,
        ah_main=balanced_ah_line(lam_h, lam_a),
        sr_flag=rng.random(e) < _SR_ID_MISSING_EVENT_RATE,
        sr_id=40_000_000 + (first_event + np.arange(e)) * 9 + rng.integers(0, 9, e),
        first_event=first_event,
    )


# --- one chunk: a run of consecutive kickoffs ------------------------------------------------


def _chunk(
    cfg: Config, day: _Day, day_no: int, chunk_no: int, sel: slice
) -> tuple[pl.DataFrame, np.ndarray] | None:
    """Generate the rows of the matches ``sel`` of one day, and each row's match index."""
    kick = day.kickoff_us[sel]
    e_count = kick.size
    iv = cfg.interval_us
    first = np.maximum(0, -((-(kick - day.lead_us[sel] - cfg.start_us)) // iv))
    last = (kick + cfg.in_play_us - cfg.start_us) // iv
    if not np.any(last >= first):
        return None
    k_lo, k_hi = int(first.min()), int(max(last.max(), first.min()))
    n_cols = k_hi - k_lo + 1
    cols = np.arange(n_cols)
    k_glob = k_lo + cols
    grid_us = cfg.start_us + k_glob * iv
    first_l = np.minimum(first - k_lo, n_cols - 1)
    in_window = (k_glob[None, :] >= first[:, None]) & (k_glob[None, :] <= last[:, None])

    rng = seeded_rng(cfg.seed, 2, day_no, chunk_no)
    dt_h = iv / (3600 * US)
    inc = rng.normal(0.0, _WALK_SD_PER_SQRT_HOUR * math.sqrt(dt_h), (2, e_count, n_cols))
    jumps = rng.random((2, e_count, n_cols)) < _JUMP_RATE_PER_HOUR * dt_h
    inc += jumps * rng.normal(0.0, _JUMP_SD, (2, e_count, n_cols))
    inc[:, cols[None, :] <= first_l[:, None]] = 0.0
    log_lam = np.cumsum(inc, axis=2)
    log_lam[0] += np.log(day.lam_h[sel])[:, None]
    log_lam[1] += np.log(day.lam_a[sel])[:, None]

    minute = np.clip((grid_us[None, :] - kick[:, None]) / (60 * US), 0.0, 90.0)
    remaining = (90.0 - minute) / 90.0
    if cfg.in_play_us > 0:
        played = np.diff(minute, axis=1, prepend=minute[:, :1])
        goals = rng.poisson(np.exp(log_lam) * (played / 90.0)[None])
        goals = np.cumsum(goals, axis=2).astype(np.int64)
    else:
        goals = np.zeros((2, e_count, n_cols), dtype=np.int64)

    ah_lines = day.ah_main[sel][:, None] + np.asarray(AH_OFFSETS)[None, :]
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("b", "e", "t", "lh", "la", "gh", "ga", "m", "susp")
    }
    sr_ids: list[str | None] = []
    book_ids: list[str] = []
    for b_local, b_glob in enumerate(cfg.books):
        book = BOOKMAKERS[DEFAULT_BOOKMAKERS[b_glob]]
        brng = seeded_rng(cfg.seed, 3, day_no, chunk_no, b_glob)
        margin = brng.uniform(*book.margin_band, e_count)
        bias = brng.normal(0.0, book.bias_sd, (2, e_count))
        update = brng.random((e_count, n_cols)) < book.update_prob
        update[:, 0] = True
        update[np.arange(e_count), first_l] = True
        last_update = np.maximum.accumulate(np.where(update, cols[None, :], 0), axis=1)
        lag = round(book.lag_minutes * 60 * US / iv)
        src = np.maximum(last_update - lag, first_l[:, None])
        eps = brng.normal(0.0, book.noise_sd, (2, e_count, n_cols))
        view = (
            np.take_along_axis(log_lam, src[None], axis=2)
            + bias[:, :, None]
            + np.take_along_axis(eps, last_update[None], axis=2)
        )
        rem = np.take_along_axis(remaining, src, axis=1)
        score = np.take_along_axis(goals, src[None], axis=2)
        missing = brng.random((e_count, n_cols)) < cfg.missing_rate / 2
        hash_seed = cfg.seed % 2**63
        run_missing = hash_uniform([hash_seed, 7, b_glob, k_glob]) < cfg.missing_rate / 2
        run_delay = (
            hash_uniform([hash_seed, 8, b_glob, k_glob]) * min(_MAX_RUN_JITTER_US, iv // 5)
        ).astype(np.int64)
        offset = brng.integers(0, max(1, min(_MAX_EVENT_OFFSET_US, iv // 10)), e_count)
        noise_us = brng.integers(0, US, (e_count, n_cols))
        captured = grid_us[None, :] + run_delay[None, :] + offset[:, None] + noise_us
        keep = (
            in_window
            & ~missing
            & ~run_missing[None, :]
            & (captured <= kick[:, None] + cfg.in_play_us)
        )
        ei, ki = np.nonzero(keep)
        parts["b"].append(np.full(ei.size, b_local, dtype=np.int64))
        parts["e"].append(ei)
        parts["t"].append(captured[ei, ki])
        parts["lh"].append(np.exp(view[0, ei, ki]) * rem[ei, ki])
        parts["la"].append(np.exp(view[1, ei, ki]) * rem[ei, ki])
        parts["gh"].append(score[0, ei, ki])
        parts["ga"].append(score[1, ei, ki])
        parts["m"].append(margin[ei])
        parts["susp"].append(brng.random((ei.size, N_SLOTS)) < cfg.suspended_rate)
        lacks_sr = day.sr_flag[sel] & (brng.random(e_count) < _SR_ID_MISSING_BOOK_RATE)
        global_no = day.first_event + np.arange(sel.start, sel.stop)
        own = book.id_base + global_no * book.id_stride + brng.integers(0, book.id_stride, e_count)
        if cfg.own_names and book.name != "Pinnacle":
            lacks_sr = np.ones(e_count, dtype=bool)
        sr_ids += [
            None if lack else f"sr:match:{sr}"
            for lack, sr in zip(lacks_sr, day.sr_id[sel], strict=True)
        ]
        book_ids += [str(x) for x in own]

    arr = {k: np.concatenate(v) for k, v in parts.items()}
    if arr["b"].size == 0:
        return None
    order = np.lexsort((arr["e"], arr["b"], arr["t"]))
    arr = {k: v[order] for k, v in arr.items()}
    b_idx, e_idx = arr["b"], arr["e"]
    probs, decided = fair_probs(arr["lh"], arr["la"], arr["gh"], arr["ga"], ah_lines[e_idx])

    books = [BOOKMAKERS[DEFAULT_BOOKMAKERS[g]] for g in cfg.books]
    m = arr["m"][:, None] * SLOT_FACTOR[None, :]
    q = probs * (1.0 + m * (1.0 - ALPHA)) + ALPHA * m * SLOT_SUM / SLOT_N
    scale = np.array([10.0**bk.decimals for bk in books])[b_idx][:, None]
    cap = np.array([bk.max_odds for bk in books])[b_idx][:, None]
    odds = np.clip(np.floor(scale / q + 1e-7) / scale, 1.01, cap)

    state, slot = np.nonzero(~arr["susp"] & ~decided)
    n_rows = state.size
    row_e = e_idx[state]
    row_be = b_idx[state] * e_count + row_e
    line_grid = np.full((e_count, N_SLOTS), np.nan)
    line_grid[:, OU_SLOTS] = np.repeat(np.asarray(OU_LINES), 2)[None, :]
    line_grid[:, AH_SLOTS] = np.repeat(ah_lines, 2, axis=1)
    tour = [TOURNAMENTS[t] for t in day.tournament[sel]]
    home = [t.teams[h] for t, h in zip(tour, day.home[sel], strict=True)]
    away = [t.teams[a] for t, a in zip(tour, day.away[sel], strict=True)]
    tournament = [t.name for t in tour]
    name_idx = row_e
    if cfg.own_names:  # one spelling per (bookmaker, match): gathered by book and match
        styles = [SAMPLE_STYLES.get(bk.name, "canonical") for bk in books]
        home = [spell_team(name, style) for style in styles for name in home]
        away = [spell_team(name, style) for style in styles for name in away]
        tournament = [spell_tournament(t.country, t.name, style) for style in styles for t in tour]
        name_idx = row_be
    utc = pl.Datetime("us", "UTC")

    def gather(values: Sequence[str | None], idx: np.ndarray) -> pl.Series:
        return pl.Series(values, dtype=pl.String).gather(idx)

    frame = pl.DataFrame(
        {
            "captured_at": pl.Series(arr["t"][state]).cast(utc),
            "bookmaker": gather([bk.name for bk in books], b_idx[state]),
            "sport": gather(["football"], np.zeros(n_rows, dtype=np.int64)),
            "country": gather([t.country for t in tour], row_e),
            "tournament": gather(tournament, name_idx),
            "sportradar_id": gather(sr_ids, row_be),
            "bookmaker_event_id": gather(book_ids, row_be),
            "home_team": gather(home, name_idx),
            "away_team": gather(away, name_idx),
            "kickoff": pl.Series(kick[row_e]).cast(utc),
            "market": SLOT_MARKET.gather(slot),
            "line": pl.Series(line_grid[row_e, slot], nan_to_null=True),
            "outcome": SLOT_OUTCOME.gather(slot),
            "odds": pl.Series(odds[state, slot]),
        },
        schema=SAMPLE_SCHEMA,
    )
    return frame, row_e


def iter_chunks(cfg: Config) -> Iterator[tuple[pl.DataFrame, int]]:
    """Yield (chunk, number of matches in it), stopping at ``cfg.max_rows``."""
    ratings = _ratings(cfg.seed)
    lead_mean_us = sum(_LEAD_HOURS) / 2 * 3600 * US + cfg.in_play_us
    per_chunk = max(1, int(_CHUNK_EVENT_SNAPSHOTS * cfg.interval_us / lead_mean_us))
    remaining = cfg.max_rows
    days = itertools.count() if cfg.days is None else range(cfg.days)
    for day_no in days:
        day = _fixtures(cfg, day_no, ratings)
        for chunk_no, lo in enumerate(range(0, day.kickoff_us.size, per_chunk)):
            sel = slice(lo, min(lo + per_chunk, day.kickoff_us.size))
            made = _chunk(cfg, day, day_no, chunk_no, sel)
            if made is None or made[0].height == 0:
                continue
            df, row_event = made
            if remaining is not None and df.height >= remaining:
                df = df.head(remaining)
                remaining = 0
            elif remaining is not None:
                remaining -= df.height
            yield df, int(np.unique(row_event[: df.height]).size)
            if remaining == 0:
                return
