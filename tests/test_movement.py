"""Tests of oddskit.movement: hand-built timelines with known answers, sample invariants."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from oddskit.errors import ConfigurationError, ValidationError
from oddskit.markets import EXCLUSIVE_MARKETS
from oddskit.movement import (
    align_bookmakers,
    best_prices,
    closing_line_value,
    consensus_line,
    detect_steam,
    dropping_odds,
    find_arbitrage,
    lead_lag,
    lead_lag_summary,
    summarise_movement,
)
from oddskit.sample import generate_sample

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def timeline(rows: list[tuple], *, market: str = "1x2") -> pl.DataFrame:
    """Frame of (event_id, bookmaker, minutes after T0, outcome, odds) rows."""
    return pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "bookmaker": [r[1] for r in rows],
            "captured_at": [at(r[2]) for r in rows],
            "market": market,
            "outcome": [r[3] for r in rows],
            "odds": [float(r[4]) for r in rows],
        },
        schema_overrides={"captured_at": pl.Datetime("us", "UTC")},
    )


def steps(event: int, book: str, outcome: str, points: list[tuple[float, float]]) -> list[tuple]:
    return [(event, book, m, outcome, o) for m, o in points]


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    frame = generate_sample(days=1, events_per_day=10, seed=1)
    event = pl.struct("home_team", "away_team", "kickoff").rank("dense").cast(pl.Int64)
    return frame.with_columns(event.alias("event_id"))


# --------------------------------------------------------------------------------------
# summarise_movement, dropping_odds
# --------------------------------------------------------------------------------------


def test_summary_of_a_known_timeline() -> None:
    # 2.00 → 2.005 is sub-tick noise; 2.10 → 2.09 is exactly one tick (float 0.00999…).
    odds = [2.00, 2.005, 2.10, 2.09, 1.80, 1.80, 1.85]
    rows = steps(1, "A", "home", [(5 * i, o) for i, o in enumerate(odds)])
    rows += steps(1, "B", "home", [(0, 2.2), (30, 2.2)])
    frame = timeline(rows).with_columns(kickoff=pl.lit(at(30)))  # last snapshot at kickoff
    out = summarise_movement(frame)
    a, b = out.rows(named=True)
    assert (a["bookmaker"], a["n_snapshots"], a["n_moves"]) == ("A", 7, 4)
    assert (a["opening_odds"], a["opening_at"]) == (2.00, at(0))
    assert (a["current_odds"], a["current_at"]) == (1.85, at(30))
    assert (a["closing_odds"], a["closing_at"]) == (1.80, at(25))  # strictly before kickoff
    assert (a["min_odds"], a["max_odds"]) == (1.80, 2.10)
    assert a["largest_move"] == pytest.approx(-0.29)
    assert a["largest_move_at"] == at(20)
    assert a["odds_change"] == pytest.approx(-0.15)
    assert a["odds_change_pct"] == pytest.approx(1.85 / 2.0 - 1)
    assert a["prob_change"] == pytest.approx(1 / 1.85 - 0.5)
    assert a["logit_change"] == pytest.approx(math.log(1.0) - math.log(0.85))
    # A price that never moves: no largest move, no moves.
    assert (b["n_moves"], b["largest_move"], b["largest_move_at"]) == (0, 0.0, None)
    # A coarser tick ignores the one-tick move; no kickoff column: no closing price.
    coarse = summarise_movement(frame.drop("kickoff"), tick=0.05)
    assert coarse["n_moves"].to_list() == [3, 0]
    assert coarse["closing_odds"].to_list() == [None, None]


def test_dropping_odds_uses_the_price_in_force_at_the_window_start() -> None:
    rows = steps(1, "A", "home", [(0, 2.0), (120, 1.8)])  # held 2.0 into the window
    rows += steps(2, "A", "home", [(0, 2.0), (60, 1.8), (180, 1.8)])  # dropped before it
    rows += steps(3, "A", "home", [(0, 2.0), (50, 1.95), (55, 2.0)])  # 2.5 %: too small
    frame = timeline(rows)
    out = dropping_odds(frame, window=timedelta(hours=1), min_drop=0.05)
    assert out["event_id"].to_list() == [1]
    row = out.row(0, named=True)
    assert (row["from_odds"], row["from_at"], row["to_odds"], row["to_at"]) == (
        2.0,
        at(0),
        1.8,
        at(120),
    )
    assert row["drop_pct"] == pytest.approx(0.1)
    assert row["prob_change"] == pytest.approx(1 / 1.8 - 0.5)
    # as_of moves the window back: at 90 minutes event 2 has just dropped.
    early = dropping_odds(frame, window="1h", min_drop=0.05, as_of=at(90))
    assert early["event_id"].to_list() == [2]


# --------------------------------------------------------------------------------------
# detect_steam
# --------------------------------------------------------------------------------------


def shortening(event: int, book: str, minute: float, outcome: str = "home") -> list[tuple]:
    return steps(event, book, outcome, [(minute - 10, 2.0), (minute, 1.8)])


def drifting(event: int, book: str, minute: float, outcome: str = "home") -> list[tuple]:
    return steps(event, book, outcome, [(minute - 10, 1.8), (minute, 2.0)])


def test_steam_across_three_bookmakers_within_five_minutes_is_found() -> None:
    rows = shortening(1, "B", 2) + shortening(1, "A", 0) + shortening(1, "C", 4)
    rows += shortening(1, "D", 240)  # a late fourth bookmaker is not part of the episode
    out = detect_steam(timeline(rows), window=timedelta(minutes=5), min_bookmakers=3)
    assert out.height == 1
    row = out.row(0, named=True)
    assert (row["event_id"], row["outcome"], row["direction"]) == (1, "home", "shortening")
    assert (row["window_start"], row["window_end"]) == (at(0), at(4))
    assert (row["first_mover"], row["bookmakers"], row["n_bookmakers"]) == ("A", ["A", "B", "C"], 3)
    assert row["mean_move"] == pytest.approx(1 / 1.8 - 1 / 2.0)


def test_no_steam_from_two_bookmakers_slow_moves_or_mixed_directions() -> None:
    rows = shortening(2, "A", 0) + shortening(2, "B", 1)  # only two bookmakers
    rows += shortening(3, "A", 0) + shortening(3, "B", 60) + shortening(3, "C", 120)  # 2 hours
    rows += shortening(4, "A", 0) + shortening(4, "B", 1) + drifting(4, "C", 2)  # mixed
    rows += shortening(5, "A", 0) + shortening(5, "B", 1)  # third moves a different outcome
    rows += shortening(5, "C", 2, outcome="away")
    frame = timeline(rows)
    assert detect_steam(frame, window=timedelta(minutes=5)).height == 0
    # Sanity: the same data holds two-bookmaker steam in events 2, 4 and 5.
    two = detect_steam(frame, window=timedelta(minutes=5), min_bookmakers=2)
    assert sorted(two["event_id"].to_list()) == [2, 4, 5]
    # A move below min_move is not a move.
    assert detect_steam(frame, window="5m", min_bookmakers=2, min_move=0.1).height == 0


# --------------------------------------------------------------------------------------
# lead_lag
# --------------------------------------------------------------------------------------


def lead_lag_frame() -> pl.DataFrame:
    rows = shortening(1, "Pinnacle", 0) + shortening(1, "SportyBet", 5)
    rows += shortening(1, "betPawa", 10) + steps(1, "Bet9ja", "home", [(-10, 2.0), (30, 2.0)])
    # Event 2: betPawa follows only after two hours, outside max_lag.
    rows += shortening(2, "Pinnacle", 0) + shortening(2, "betPawa", 120)
    return timeline(rows)


def test_lead_lag_finds_a_ten_minute_lag_for_betpawa() -> None:
    frame = lead_lag_frame()
    pairs = lead_lag(frame, max_lag=timedelta(hours=1))
    assert pairs.select("event_id", "leader", "bookmaker", "followed", "lag").rows() == [
        (1, "Pinnacle", "betPawa", True, timedelta(minutes=10)),
        (2, "Pinnacle", "betPawa", False, None),
    ]
    summary = lead_lag_summary(pairs).rows_by_key("bookmaker", named=True, unique=True)
    assert summary["betPawa"]["median_lag"] == timedelta(minutes=10)
    assert summary["betPawa"]["share_followed"] == 0.5
    assert summary["Pinnacle"]["n_led"] == 2
    # The named leader gives the same pairs here; follower=None pairs every other book.
    named = lead_lag(frame, leader="Pinnacle", max_lag="1h")
    assert named.select("event_id", "lag").rows() == pairs.select("event_id", "lag").rows()
    everyone = lead_lag(frame, follower=None).filter(pl.col("event_id") == 1)
    lags = dict(everyone.select("bookmaker", "lag").rows())
    assert lags == {
        "Bet9ja": None,
        "SportyBet": timedelta(minutes=5),
        "betPawa": timedelta(minutes=10),
    }


# --------------------------------------------------------------------------------------
# best_prices, consensus_line, find_arbitrage
# --------------------------------------------------------------------------------------


def test_best_prices_board_respects_at_and_suspensions() -> None:
    rows = [(1, "A", 0, "home", 2.0), (1, "A", 0, "away", 2.0)]
    rows += [(1, "A", 10, "home", 2.2)]  # away missing (suspended) in A's latest snapshot
    rows += [(1, "B", 0, "home", 2.1), (1, "B", 0, "away", 1.9)]
    rows += [(1, "B", 20, "home", 3.0), (1, "B", 20, "away", 1.5)]
    frame = timeline(rows, market="custom")
    now = best_prices(frame)
    assert now.filter(pl.col("outcome") == "away")["bookmaker"].to_list() == ["B"]
    home = now.filter(pl.col("outcome") == "home")
    assert home.select("bookmaker", "best_bookmaker", "is_best").rows() == [
        ("A", "B", False),
        ("B", "B", True),
    ]
    assert home["pct_from_best"][0] == pytest.approx(1 - 2.2 / 3.0)
    # At minute 15, B's 3.0 (captured at 20) is not known yet.
    earlier = best_prices(frame, as_of=at(15)).filter(pl.col("outcome") == "home")
    assert earlier.select("bookmaker", "odds", "best_bookmaker").rows() == [
        ("A", 2.2, "A"),
        ("B", 2.1, "A"),
    ]
    # lookback drops A's price, 10 minutes older than the market's latest capture.
    fresh = best_prices(frame, lookback=timedelta(minutes=5))
    assert set(fresh["bookmaker"]) == {"B"}


def test_consensus_line_hand_computed() -> None:
    rows = [(1, "P", 0, "yes", 1.90), (1, "P", 0, "no", 2.00)]
    rows += [(1, "B", 0, "yes", 1.80), (1, "B", 0, "no", 2.10)]
    rows += [(1, "C", 0, "yes", 1.70)]  # incomplete: left out
    frame = timeline(rows, market="btts")
    out = consensus_line(frame).rows_by_key("outcome", named=True, unique=True)
    # Multiplicative fair yes: P 2/3.9 = 20/39, B 2.1/3.9 = 21/39.
    assert out["yes"]["fair_prob"] == pytest.approx(20.5 / 39)
    assert out["no"]["fair_prob"] == pytest.approx(18.5 / 39)
    assert out["yes"]["fair_odds"] == pytest.approx(39 / 20.5)
    assert out["yes"]["bookmakers"] == ["B", "P"]
    only_p = consensus_line(frame, bookmakers=["P"])
    assert only_p.filter(pl.col("outcome") == "yes")["fair_prob"][0] == pytest.approx(20 / 39)


def test_arbitrage_with_known_stakes() -> None:
    rows = [(1, "A", 0, "home", 2.5), (1, "A", 0, "draw", 3.0), (1, "A", 0, "away", 3.0)]
    rows += [(1, "B", 0, "home", 2.0), (1, "B", 0, "draw", 4.0), (1, "B", 0, "away", 3.0)]
    rows += [(1, "C", 0, "home", 2.0), (1, "C", 0, "draw", 3.0), (1, "C", 0, "away", 5.0)]
    rows += [(2, "A", 0, "home", 2.5), (2, "B", 0, "draw", 4.0)]  # away unpriced: no arb
    rows += [(3, "A", 0, "home", 2.0), (3, "A", 0, "draw", 3.4), (3, "A", 0, "away", 4.0)]
    out = find_arbitrage(timeline(rows), stake=100)
    assert out["event_id"].unique().to_list() == [1]
    by_outcome = out.rows_by_key("outcome", named=True, unique=True)
    inverse = 1 / 2.5 + 1 / 4.0 + 1 / 5.0  # 0.85
    expected = {
        "home": ("A", 40 / inverse),
        "draw": ("B", 25 / inverse),
        "away": ("C", 20 / inverse),
    }
    for outcome, (book, stake) in expected.items():
        row = by_outcome[outcome]
        assert row["bookmaker"] == book
        assert row["stake"] == pytest.approx(stake)
        assert row["stake"] * row["odds"] == pytest.approx(100 / inverse)
        assert row["profit"] == pytest.approx(100 / inverse - 100)
        assert row["arb_margin"] == pytest.approx(0.15)
    assert out["stake"].sum() == pytest.approx(100)


# --------------------------------------------------------------------------------------
# closing_line_value
# --------------------------------------------------------------------------------------


def test_closing_line_value_hand_computed() -> None:
    rows = [(1, "P", 0, "yes", 1.90), (1, "P", 0, "no", 2.00)]
    rows += [(1, "B", 0, "yes", 1.80), (1, "B", 0, "no", 2.10)]
    rows += [(1, "P", 40, "yes", 1.50), (1, "P", 40, "no", 2.60)]  # in play: ignored
    closing = timeline(rows, market="btts").with_columns(kickoff=pl.lit(at(30)))
    bets = pl.DataFrame(
        {
            "event_id": [9, 1, 1],
            "market": ["btts"] * 3,
            "outcome": ["yes", "yes", "no"],
            "odds": [2.5, 2.10, 1.95],
            "bookmaker": ["B", "B", "P"],
        }
    )
    out = closing_line_value(bets, closing)
    assert out["event_id"].to_list() == [9, 1, 1]  # input order kept
    assert out["clv"][0] is None
    assert out["fair_close_prob"][1] == pytest.approx(20.5 / 39)
    assert out["clv"][1] == pytest.approx(2.10 * 20.5 / 39 - 1)
    assert out["clv_prob"][1] == pytest.approx(20.5 / 39 - 1 / 2.10)
    assert out["clv"][2] == pytest.approx(1.95 * 18.5 / 39 - 1)
    assert out["closing_odds"].to_list() == [None, 1.80, 2.00]
    assert out["clv_vs_book_close"][1] == pytest.approx(2.10 / 1.80 - 1)
    sharp = closing_line_value(bets, closing, sharp="P")
    assert sharp["clv"][1] == pytest.approx(2.10 * 20 / 39 - 1)  # 3/39
    assert sharp["close_source"][1] == "P"


# --------------------------------------------------------------------------------------
# align_bookmakers
# --------------------------------------------------------------------------------------


def test_alignment_never_uses_a_later_price() -> None:
    micro = timedelta(microseconds=1)
    frame = pl.DataFrame(
        {
            "event_id": 1,
            "market": "btts",
            "bookmaker": ["A", "A", "A", "B", "B", "B"],
            "outcome": ["yes", "no", "yes", "yes", "no", "yes"],
            "odds": [2.0, 1.8, 2.5, 1.9, 1.9, 1.7],
            "captured_at": [at(0), at(0), at(5) + micro, at(1), at(1), at(5)],
        }
    )
    out = align_bookmakers(frame, every="5m")
    assert out["captured_at"].unique().sort().to_list() == [at(0), at(5)]
    at5 = out.filter(pl.col("captured_at") == at(5))
    # A's 2.5 came 1 µs after the grid point: the 12:00 snapshot still stands. B's
    # 12:05 snapshot (exactly at the grid point) is used, and its missing 'no' is not
    # filled from the older snapshot.
    assert at5.select("bookmaker", "outcome", "odds", "source_captured_at").rows() == [
        ("A", "no", 1.8, at(0)),
        ("A", "yes", 2.0, at(0)),
        ("B", "yes", 1.7, at(5)),
    ]
    wide = align_bookmakers(frame, every=timedelta(minutes=5), how="wide")
    assert wide.columns == ["event_id", "market", "captured_at", "outcome", "A", "B"]
    assert wide.filter(pl.col("captured_at") == at(0)).select("A", "B").rows() == [
        (1.8, None),
        (2.0, None),
    ]
    stale = align_bookmakers(frame, every="5m", tolerance="2m")
    assert stale.filter(pl.col("captured_at") == at(5))["bookmaker"].to_list() == ["B"]
    # [since, until): the instant at `until` is not on the grid.
    window = align_bookmakers(frame, every="5m", since=at(0), until=at(5))
    assert window["captured_at"].unique().to_list() == [at(0)]
    to_10 = align_bookmakers(frame, every="5m", since=at(0), until=at(10))
    assert to_10["captured_at"].unique().sort().to_list() == [at(0), at(5)]


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def test_arguments_are_validated() -> None:
    frame = timeline(shortening(1, "A", 0))
    with pytest.raises(ConfigurationError, match=r"`as_of` is a naive datetime"):
        best_prices(frame, as_of=datetime(2026, 5, 1, 12))
    with pytest.raises(ConfigurationError, match=r"`method` must be one of \{.*\}, got 'vig'"):
        consensus_line(frame, method="vig")
    with pytest.raises(ConfigurationError, match=r"`how` must be one of"):
        align_bookmakers(frame, how="tall")
    with pytest.raises(ConfigurationError, match=r"`every`"):
        align_bookmakers(frame, every="1mo")
    with pytest.raises(ConfigurationError, match=r"`min_bookmakers`"):
        detect_steam(frame, min_bookmakers=1)
    with pytest.raises(ConfigurationError, match=r"`follower`"):
        lead_lag(frame, follower="Nobody")
    with pytest.raises(ConfigurationError, match=r"must not contain \['bookmaker'\]"):
        summarise_movement(frame, market_keys=["event_id", "bookmaker"])
    with pytest.raises(ValidationError, match=r"replace_time_zone"):
        summarise_movement(frame.with_columns(pl.col("captured_at").dt.replace_time_zone(None)))
    with pytest.raises(ValidationError, match=r"event_id"):
        summarise_movement(frame.drop("event_id"))
    assert summarise_movement(frame.drop("event_id"), market_keys="market").height == 1


# --------------------------------------------------------------------------------------
# Invariants on the sample generator's output
# --------------------------------------------------------------------------------------


def test_sample_invariants(sample: pl.DataFrame) -> None:
    summary = summarise_movement(sample)
    assert summary.height > 0
    assert summary["closing_at"].null_count() == 0
    assert (summary["opening_at"] <= summary["closing_at"]).all()
    assert (summary["closing_at"] < summary["kickoff"]).all()
    assert (summary["min_odds"] <= summary["closing_odds"]).all()
    assert (summary["closing_odds"] <= summary["max_odds"]).all()

    best = best_prices(sample)
    assert (best["odds"] <= best["best_odds"]).all()
    assert (best["pct_from_best"] >= 0).all()
    keys = ["event_id", "market", "line", "outcome"]
    top = best.group_by(keys).agg(pl.col("odds").max(), pl.col("best_odds").first())
    assert (top["odds"] == top["best_odds"]).all()

    consensus = consensus_line(sample)
    assert set(consensus["market"]) <= EXCLUSIVE_MARKETS
    sums = consensus.group_by("event_id", "market", "line").agg(pl.col("fair_prob").sum())
    assert sums.height > 0
    assert sums["fair_prob"].to_numpy() == pytest.approx(1.0, abs=1e-12)

    arbs = find_arbitrage(sample, stake=10.0)
    if arbs.height:
        per = arbs.group_by("event_id", "market", "line").agg(
            pl.col("stake").sum(), (pl.col("stake") * pl.col("odds")).std().alias("spread")
        )
        assert per["stake"].to_numpy() == pytest.approx(10.0)
        assert per["spread"].fill_null(0).max() < 1e-9

    aligned = align_bookmakers(sample, every="15m")
    assert (aligned["source_captured_at"] <= aligned["captured_at"]).all()
    aligned_best = best_prices(aligned, aligned=True)
    assert (aligned_best["odds"] <= aligned_best["best_odds"]).all()

    pairs = lead_lag(sample, leader="Pinnacle", follower=None, max_lag="1h")
    lags = pairs.filter("followed")["lag"]
    assert ((lags >= timedelta(0)) & (lags <= timedelta(hours=1))).all()

    steam = detect_steam(sample)
    assert (steam["n_bookmakers"] >= 3).all()
    assert (steam["window_start"] <= steam["window_end"]).all()
