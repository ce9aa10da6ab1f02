"""Tests of the sample-data generator :mod:`oddskit.sample`."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from oddskit.errors import ConfigurationError
from oddskit.markets import MARKET_OUTCOMES, MARKETS_WITH_LINE
from oddskit.sample import (
    BOOKMAKERS,
    DEFAULT_BOOKMAKERS,
    SAMPLE_SCHEMA,
    SampleSummary,
    generate_sample,
    iter_sample,
    write_sample,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")
EXPECTED_SCHEMA = {
    "captured_at": UTC_US,
    "bookmaker": pl.String,
    "sport": pl.String,
    "country": pl.String,
    "tournament": pl.String,
    "sportradar_id": pl.String,
    "bookmaker_event_id": pl.String,
    "home_team": pl.String,
    "away_team": pl.String,
    "kickoff": UTC_US,
    "market": pl.String,
    "line": pl.Float64,
    "outcome": pl.String,
    "odds": pl.Float64,
}
NULLABLE = {"country", "sportradar_id", "line"}
SNAPSHOT = ["bookmaker", "bookmaker_event_id", "captured_at"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    """Two days, 60 matches a day, all bookmakers, defaults otherwise (~1M rows)."""
    return generate_sample(start=START, days=2, events_per_day=60, seed=7)


@pytest.fixture(scope="module")
def booksums(sample: pl.DataFrame) -> pl.DataFrame:
    """Complete 1x2 markets: odds of each outcome, booksum and no-vig home probability."""
    wide = (
        sample.filter(pl.col("market") == "1x2")
        .pivot(on="outcome", index=[*SNAPSHOT, "sportradar_id", "kickoff"], values="odds")
        .drop_nulls(["home", "draw", "away"])
    )
    booksum = 1 / pl.col("home") + 1 / pl.col("draw") + 1 / pl.col("away")
    return wide.with_columns(booksum=booksum).with_columns(
        p_home=1 / pl.col("home") / pl.col("booksum")
    )


def snapshot_gaps(df: pl.DataFrame) -> pl.Series:
    """Seconds between consecutive snapshots of each (bookmaker, match)."""
    return (
        df.select(SNAPSHOT)
        .unique()
        .sort(SNAPSHOT)
        .select(pl.col("captured_at").diff().over("bookmaker", "bookmaker_event_id").alias("gap"))
        .drop_nulls()["gap"]
        .dt.total_microseconds()
        / 1e6
    )


# --- format -----------------------------------------------------------------------------


def test_schema_is_exact(sample: pl.DataFrame) -> None:
    assert dict(sample.schema) == EXPECTED_SCHEMA
    assert list(sample.schema) == list(EXPECTED_SCHEMA)
    assert sample.schema == SAMPLE_SCHEMA
    nulls = sample.null_count().row(0, named=True)
    assert {c for c, n in nulls.items() if n} <= NULLABLE
    assert sample.height > 500_000


def test_vocabulary_follows_markets_module(sample: pl.DataFrame) -> None:
    pairs = set(sample.select("market", "outcome").unique().iter_rows())
    assert pairs == {(m, o) for m, outcomes in MARKET_OUTCOMES.items() for o in outcomes}
    has_line = sample.select(
        (pl.col("line").is_not_null() == pl.col("market").is_in(list(MARKETS_WITH_LINE))).all()
    ).item()
    assert has_line
    assert set(sample["bookmaker"].unique()) == set(DEFAULT_BOOKMAKERS)
    assert set(sample["sport"].unique()) == {"football"}
    assert sample["country"].null_count() > 0  # international competitions
    ou = set(sample.filter(pl.col("market") == "over_under")["line"].unique())
    assert {1.5, 2.5, 3.5} <= ou
    ah = sample.filter(pl.col("market") == "asian_handicap")["line"]
    assert ((ah * 4).round() == ah * 4).all()  # quarter-goal lines
    assert sample.select(pl.col("home_team") != pl.col("away_team")).to_series().all()


def test_ids_differ_between_seeds_and_dates() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [
        set(generate_sample(start=start + shift, days=1, events_per_day=5, seed=seed)[column])
        - {None}
        for shift, seed in ((timedelta(0), 1), (timedelta(0), 2), (timedelta(days=1), 1))
        for column in ("sportradar_id", "bookmaker_event_id")
    ]
    assert not ids[0] & ids[2] and not ids[0] & ids[4]  # sportradar ids
    assert not ids[1] & ids[3] and not ids[1] & ids[5]  # bookmaker ids


def test_a_club_plays_once_a_day_while_the_competitions_have_room() -> None:
    # 120 matches a day overfill some competitions by chance (the same fixture twice at
    # the same kickoff, which no bookmaker lists and identity cannot tell apart).
    frame = generate_sample(
        start=START, days=3, events_per_day=120, seed=1, bookmakers=["Pinnacle"]
    ).filter(pl.col("captured_at") < pl.col("kickoff"))
    matches = frame.select(
        "country", "tournament", "home_team", "away_team", "kickoff", "bookmaker_event_id"
    ).unique()
    assert matches.height == 3 * 120
    clubs = pl.concat(
        [
            matches.select("country", "tournament", pl.col(side).alias("club"), "kickoff")
            for side in ("home_team", "away_team")
        ]
    ).with_columns(day=pl.col("kickoff").dt.date())
    assert clubs.group_by("country", "tournament", "club", "day").len()["len"].max() == 1


def test_ids(sample: pl.DataFrame) -> None:
    events = sample.select(
        "bookmaker", "bookmaker_event_id", "sportradar_id", "home_team", "kickoff"
    ).unique()
    # a bookmaker's id names one match
    assert events.select("bookmaker", "bookmaker_event_id").is_unique().all()
    assert events["sportradar_id"].drop_nulls().str.contains(r"^sr:match:\d{8,11}$").all()
    # one sportradar id is one match, with a different own id at each bookmaker
    per_sr = (
        events.drop_nulls("sportradar_id")
        .group_by("sportradar_id")
        .agg(
            pl.col("home_team").n_unique().alias("homes"),
            pl.col("kickoff").n_unique().alias("kickoffs"),
            pl.col("bookmaker_event_id").n_unique().alias("ids"),
            pl.len().alias("books"),
        )
    )
    assert (per_sr["homes"] == 1).all() and (per_sr["kickoffs"] == 1).all()
    assert (per_sr["ids"] == per_sr["books"]).all()
    # about 5 % of matches lack the sportradar id at some bookmaker
    matches = events.group_by("home_team", "kickoff").agg(
        pl.col("sportradar_id").is_null().any().alias("lacking")
    )
    assert 0 < matches["lacking"].mean() < 0.15


# --- prices -----------------------------------------------------------------------------


def test_odds_are_valid_and_rounded_per_bookmaker(sample: pl.DataFrame) -> None:
    odds = sample["odds"]
    assert odds.is_finite().all() and (odds > 1).all()
    for name, book in BOOKMAKERS.items():
        scaled = sample.filter(pl.col("bookmaker") == name)["odds"].to_numpy() * 10**book.decimals
        assert np.allclose(scaled, np.round(scaled), atol=1e-6), name
        assert scaled.max() <= book.max_odds * 10**book.decimals


def test_overround_within_band_and_sharp_lowest(booksums: pl.DataFrame) -> None:
    mean = dict(booksums.group_by("bookmaker").agg((pl.col("booksum") - 1).mean()).iter_rows())
    for name, book in BOOKMAKERS.items():
        lo, hi = book.margin_band
        assert lo <= mean[name] <= hi, (name, mean[name], book.margin_band)
    assert min(mean, key=mean.get) == "Pinnacle"  # type: ignore[arg-type]
    assert mean["Pinnacle"] < 0.035
    assert 0.06 <= mean["betPawa"] <= 0.08


def test_prices_move_over_time(sample: pl.DataFrame) -> None:
    series = sample.group_by("bookmaker", "bookmaker_event_id", "market", "line", "outcome").agg(
        pl.col("odds").n_unique().alias("prices"), pl.len().alias("n")
    )
    moving = (
        series.filter(pl.col("n") >= 20)
        .group_by("bookmaker")
        .agg((pl.col("prices") > 1).mean().alias("share"))
    )
    share = dict(moving.iter_rows())
    assert share["Pinnacle"] > 0.9
    assert min(share.values()) > 0.5
    # but soft books repeat stale prices more often than the sharp one
    steps = (
        sample.filter(pl.col("market") == "1x2", pl.col("outcome") == "home")
        .sort(SNAPSHOT)
        .with_columns(
            changed=pl.col("odds").diff().over("bookmaker", "bookmaker_event_id").fill_null(0) != 0
        )
        .group_by("bookmaker")
        .agg(pl.col("changed").mean())
    )
    changed = dict(steps.iter_rows())
    assert changed["Pinnacle"] > max(v for k, v in changed.items() if k != "Pinnacle")


def test_no_vig_probabilities_agree_across_bookmakers(booksums: pl.DataFrame) -> None:
    hourly = (
        booksums.drop_nulls("sportradar_id")
        .with_columns(hour=pl.col("captured_at").dt.truncate("1h"))
        .group_by("bookmaker", "sportradar_id", "hour")
        .agg(pl.col("p_home").mean())
    )
    pinnacle = hourly.filter(pl.col("bookmaker") == "Pinnacle").drop("bookmaker")
    joined = hourly.filter(pl.col("bookmaker") != "Pinnacle").join(
        pinnacle, on=["sportradar_id", "hour"], suffix="_sharp"
    )
    diff = (joined["p_home"] - joined["p_home_sharp"]).abs()
    assert joined.height > 500
    assert diff.mean() < 0.03
    assert diff.quantile(0.99) < 0.12
    # and they are not copies of each other
    assert diff.mean() > 0.001


def test_sharp_bookmaker_leads(booksums: pl.DataFrame) -> None:
    """Hourly moves of a soft book correlate best with Pinnacle's moves some minutes earlier."""
    p = (
        booksums.drop_nulls("sportradar_id")
        .with_columns(slot=pl.col("captured_at").dt.truncate("5m"))
        .group_by("bookmaker", "sportradar_id", "slot")
        .agg(pl.col("p_home").mean())
    )
    sharp = p.filter(pl.col("bookmaker") == "Pinnacle").select(
        "sportradar_id", "slot", pl.col("p_home").alias("sharp")
    )
    best = {}
    for name in ("SportyBet", "Bet9ja"):
        corr = []
        for lag in range(8):
            joined = (
                p.filter(pl.col("bookmaker") == name)
                .join(
                    sharp.with_columns(pl.col("slot") + pl.duration(minutes=5 * lag)),
                    on=["sportradar_id", "slot"],
                )
                .sort("sportradar_id", "slot")
                .select(
                    pl.col("p_home").diff(12).over("sportradar_id"),
                    pl.col("sharp").diff(12).over("sportradar_id"),
                )
                .drop_nulls()
            )
            corr.append(np.corrcoef(joined["p_home"], joined["sharp"])[0, 1])
        assert max(corr) > 0.6, (name, corr)
        best[name] = int(np.argmax(corr))
    assert 1 <= best["SportyBet"] < best["Bet9ja"], best


def test_markets_are_consistent(sample: pl.DataFrame) -> None:
    pin = sample.filter(pl.col("bookmaker") == "Pinnacle")
    keys = ["bookmaker_event_id", "captured_at"]
    implied = 1 / pl.col("odds")
    no_vig = (implied / implied.sum().over([*keys, "market", "line"])).alias("p")
    complete = pin.filter(
        pl.len().over([*keys, "market", "line"])
        == pl.col("market").replace_strict(
            {m: len(o) for m, o in MARKET_OUTCOMES.items()}, return_dtype=pl.UInt32
        )
    ).with_columns(no_vig)

    def prob(market: str, outcome: str, line: float | None = None) -> pl.DataFrame:
        rows = complete.filter(pl.col("market") == market, pl.col("outcome") == outcome)
        if line is not None:
            rows = rows.filter(pl.col("line") == line)
        name = f"{market}_{outcome}_{line}"
        return rows.select(*keys, pl.col("p").alias(name))

    wide = (
        prob("1x2", "home")
        .join(prob("1x2", "draw"), on=keys)
        .join(prob("1x2", "away"), on=keys)
        .join(prob("over_under", "over", 1.5), on=keys)
        .join(prob("over_under", "over", 2.5), on=keys)
        .join(prob("over_under", "over", 3.5), on=keys)
        .join(prob("double_chance", "draw_away"), on=keys)
    )
    assert wide.height > 1000
    assert (wide["over_under_over_1.5"] > wide["over_under_over_2.5"]).all()
    assert (wide["over_under_over_2.5"] > wide["over_under_over_3.5"]).all()
    # double chance "draw or away" ≈ draw + away, with the double chance margin (2m) spread
    dc = wide["double_chance_draw_away_None"] * 2  # no-vig of a market summing to 2
    assert (dc - wide["1x2_draw_None"] - wide["1x2_away_None"]).abs().max() < 0.02
    # Asian handicap 0 (draw no bet) ≈ home / (home + away)
    ah0 = complete.filter(
        pl.col("market") == "asian_handicap", pl.col("line") == 0.0, pl.col("outcome") == "home"
    ).select(*keys, pl.col("p").alias("ah0"))
    dnb = wide.join(ah0, on=keys)
    expected = dnb["1x2_home_None"] / (dnb["1x2_home_None"] + dnb["1x2_away_None"])
    assert dnb.height > 100
    assert (dnb["ah0"] - expected).abs().max() < 0.02
    # the middle Asian handicap line is the balanced one at the opening
    ah = complete.filter(pl.col("market") == "asian_handicap", pl.col("outcome") == "home")
    middle = ah.filter(pl.col("line") == pl.col("line").median().over(keys))
    assert abs(middle["p"].mean() - 0.5) < 0.05


# --- snapshots ----------------------------------------------------------------------------


def test_outcomes_per_snapshot(sample: pl.DataFrame) -> None:
    per = sample.group_by(SNAPSHOT).len()["len"]
    assert per.max() == 28
    assert 27.5 < per.mean() <= 28


def test_captured_before_kickoff_and_after_start(sample: pl.DataFrame) -> None:
    assert (sample["captured_at"] <= sample["kickoff"]).all()
    assert sample["captured_at"].min() >= START
    assert sample["kickoff"].min() >= START
    assert sample["kickoff"].max() < START + timedelta(days=2)
    lead = (sample["kickoff"] - sample["captured_at"]).max()
    assert timedelta(hours=6) < lead <= timedelta(hours=12)
    # matches overlap: many are priced at the same time
    concurrent = sample.group_by(pl.col("captured_at").dt.truncate("5m")).agg(
        pl.col("bookmaker_event_id").n_unique()
    )
    assert concurrent["bookmaker_event_id"].max() > 60


def test_in_play_tail() -> None:
    df = generate_sample(start=START, days=1, events_per_day=20, in_play_minutes=20, seed=2)
    late = df["captured_at"] - df["kickoff"]
    assert late.max() <= timedelta(minutes=20)
    assert (late > timedelta(0)).sum() > 0
    in_play = df.filter(pl.col("captured_at") > pl.col("kickoff"))
    assert in_play["odds"].is_finite().all() and (in_play["odds"] > 1).all()


def test_snapshot_spacing_is_interval_with_jitter(sample: pl.DataFrame) -> None:
    gaps = snapshot_gaps(sample).to_numpy()
    regular = gaps[gaps < 450]
    assert np.median(regular) == pytest.approx(300, abs=5)
    assert regular.min() > 300 - 50 and regular.max() < 300 + 50
    assert regular.std() > 1  # there is jitter
    ten = generate_sample(start=START, days=1, events_per_day=5, interval_minutes=10, seed=1)
    assert np.median(snapshot_gaps(ten).to_numpy()) == pytest.approx(600, abs=5)


def missing_share(df: pl.DataFrame, interval_s: float) -> float:
    gaps = snapshot_gaps(df).to_numpy()
    skipped = np.rint(gaps / interval_s) - 1
    return float(skipped.sum() / (gaps.size + skipped.sum()))


def suspended_share(df: pl.DataFrame) -> float:
    per = df.group_by(SNAPSHOT).len()["len"]
    return 1 - per.sum() / (28 * per.len())


def test_missing_and_suspended_rates(sample: pl.DataFrame) -> None:
    assert missing_share(sample, 300) == pytest.approx(0.02, abs=0.008)
    assert suspended_share(sample) == pytest.approx(0.005, abs=0.002)
    other = generate_sample(
        start=START,
        days=1,
        events_per_day=20,
        missing_snapshot_rate=0.1,
        suspended_outcome_rate=0.05,
    )
    assert missing_share(other, 300) == pytest.approx(0.1, abs=0.025)
    assert suspended_share(other) == pytest.approx(0.05, abs=0.01)
    clean = generate_sample(
        start=START,
        days=1,
        events_per_day=5,
        missing_snapshot_rate=0,
        suspended_outcome_rate=0,
    )
    assert missing_share(clean, 300) == 0 and suspended_share(clean) == 0


# --- determinism ------------------------------------------------------------------------


def test_same_seed_same_data_different_seed_different_data() -> None:
    kwargs = {"start": START, "days": 1, "events_per_day": 10}
    a = generate_sample(**kwargs, seed=5)
    assert a.equals(generate_sample(**kwargs, seed=5))
    b = generate_sample(**kwargs, seed=6)
    assert not a.equals(b)
    assert set(a["home_team"]) != set(b["home_team"]) or not a["odds"].equals(b["odds"])


def test_bookmaker_subset_is_a_subset() -> None:
    kwargs = {"start": START, "days": 1, "events_per_day": 10, "seed": 3}
    full = generate_sample(**kwargs)
    part = generate_sample(**kwargs, bookmakers=["Bet9ja", "Pinnacle"])
    expected = full.filter(pl.col("bookmaker").is_in(["Bet9ja", "Pinnacle"]))
    assert part.sort(pl.all()).equals(expected.sort(pl.all()))
    assert set(part["bookmaker"]) == {"Bet9ja", "Pinnacle"}


def test_iter_sample_chunks_are_time_ordered_and_capped() -> None:
    chunks = list(iter_sample(start=START, days=1, events_per_day=80, max_rows=300_000))
    assert len(chunks) > 1
    assert sum(c.height for c in chunks) == 300_000
    for chunk in chunks:
        assert chunk["captured_at"].is_sorted()
        assert chunk.schema == SAMPLE_SCHEMA


def test_default_start_is_recent_hour() -> None:
    df = generate_sample(days=1, events_per_day=3, bookmakers=["Pinnacle"])
    now = datetime.now(UTC)
    assert df["kickoff"].min() >= now - timedelta(days=1, hours=1)
    assert df["captured_at"].max() <= now


# --- files ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_sample_round_trips(tmp_path: Path, suffix: str) -> None:
    kwargs = {"start": START, "days": 1, "events_per_day": 4, "seed": 9}
    path = tmp_path / f"odds{suffix}"
    summary = write_sample(path, **kwargs)
    expected = generate_sample(**kwargs)
    if suffix == ".csv":
        text = path.read_text().splitlines()
        assert text[0] == ",".join(EXPECTED_SCHEMA)
        assert text[1].startswith("2026-11-01T") and "+00:00," in text[1]
        inferred = pl.read_csv(path, try_parse_dates=True)
        assert inferred.schema["captured_at"] == UTC_US
        assert inferred.schema["kickoff"] == UTC_US
        back = pl.read_csv(path, schema=SAMPLE_SCHEMA)
    else:
        back = pl.read_parquet(path)
    assert back.schema == SAMPLE_SCHEMA
    assert back.equals(expected)
    assert isinstance(summary, SampleSummary)
    assert summary.path == path and summary.format == suffix[1:]
    assert summary.rows == expected.height
    assert summary.events == expected.select("home_team", "kickoff").n_unique()
    assert summary.bookmakers == DEFAULT_BOOKMAKERS
    assert summary.first_captured_at == expected["captured_at"].min()
    assert summary.last_captured_at == expected["captured_at"].max()
    assert summary.seconds > 0
    with pytest.raises(AttributeError):
        summary.rows = 1  # type: ignore[misc]
    assert not list(tmp_path.glob("*.partial"))


def test_write_sample_is_byte_identical(tmp_path: Path) -> None:
    kwargs = {"start": START, "days": 1, "events_per_day": 5, "seed": 4}
    for suffix in (".csv", ".parquet"):
        a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        write_sample(a, **kwargs)
        write_sample(b, **kwargs)
        assert a.read_bytes() == b.read_bytes()


def test_rows_caps_exactly_and_extends_days(tmp_path: Path) -> None:
    path = tmp_path / "capped.parquet"
    summary = write_sample(path, rows=12_345, start=START, days=3)
    assert summary.rows == 12_345 == pl.read_parquet(path).height
    # one day of 3 matches is ~30k rows: 100k rows need more days than `days`
    path = tmp_path / "more.csv"
    summary = write_sample(path, rows=100_000, start=START, days=1, events_per_day=3)
    back = pl.read_csv(path, schema=SAMPLE_SCHEMA)
    assert summary.rows == back.height == 100_000
    assert back["kickoff"].max() > START + timedelta(days=2)


def test_format_argument(tmp_path: Path) -> None:
    path = tmp_path / "odds.data"
    with pytest.raises(ConfigurationError, match="suffix"):
        write_sample(path, rows=10, start=START)
    summary = write_sample(path, rows=10, start=START, format="csv")
    assert summary.format == "csv" and pl.read_csv(path).height == 10
    with pytest.raises(ConfigurationError, match="`format`"):
        write_sample(path, rows=10, start=START, format="json")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="does not exist"):
        write_sample(tmp_path / "nope" / "x.csv", rows=10, start=START)


# --- validation ---------------------------------------------------------------------------


def test_naive_start_is_rejected_with_a_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"tzinfo=timezone\.utc"):
        generate_sample(start=datetime(2026, 11, 1), days=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        list(iter_sample(start="2026-11-01", days=1))  # type: ignore[arg-type]


def test_non_utc_start_is_converted() -> None:
    lagos = timezone(timedelta(hours=1))
    a = generate_sample(start=datetime(2026, 11, 1, 1, tzinfo=lagos), days=1, events_per_day=3)
    b = generate_sample(start=START, days=1, events_per_day=3)
    assert a.equals(b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "`days` must be an integer ≥ 1, got 0"),
        ({"days": 1.5}, "`days` must be an integer ≥ 1, got 1.5"),
        ({"events_per_day": 0}, "`events_per_day` must be an integer ≥ 1, got 0"),
        ({"seed": -1}, "`seed` must be an integer ≥ 0, got -1"),
        ({"max_rows": 0}, "`max_rows` must be an integer ≥ 1 or None, got 0"),
        ({"interval_minutes": 0}, "`interval_minutes` must be a finite number ≥ 0.25 and ≤ 1440"),
        ({"bookmakers": []}, "at least one"),
        ({"bookmakers": [1]}, "`bookmakers` must be a string or a sequence of strings"),
        ({"bookmakers": ["Betway"]}, "unknown bookmaker 'Betway'"),
        ({"bookmakers": ["Pinnacle", "pinnacle"]}, "listed twice"),
        ({"in_play_minutes": -1}, "`in_play_minutes`"),
        ({"missing_snapshot_rate": 0.9}, "`missing_snapshot_rate`"),
        ({"suspended_outcome_rate": -0.1}, "`suspended_outcome_rate`"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        iter_sample(start=START, **kwargs)  # type: ignore[arg-type]


def test_bookmaker_names_are_case_insensitive() -> None:
    df = generate_sample(start=START, days=1, events_per_day=2, bookmakers=["pinnacle"])
    assert set(df["bookmaker"]) == {"Pinnacle"}
    one = generate_sample(start=START, days=1, events_per_day=2, bookmakers="Pinnacle")
    assert one.equals(df)  # one name or a list of names, as everywhere


# --- memory -------------------------------------------------------------------------------

_PEAK = """
import json, resource, sys
from datetime import datetime, timezone
from oddskit.sample import write_sample
start = datetime(2026, 11, 1, tzinfo=timezone.utc)
s = write_sample(sys.argv[1], rows=int(sys.argv[2]), start=start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": s.rows, "peak_mib": peak, "seconds": s.seconds}))
"""


def _peak(path: Path, rows: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path), str(rows)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    return json.loads(out.stdout)


def test_memory_does_not_grow_with_rows(tmp_path: Path) -> None:
    small = _peak(tmp_path / "small.parquet", 300_000)
    large = _peak(tmp_path / "large.parquet", 1_200_000)
    assert large["rows"] == 1_200_000
    # 4x the rows, (almost) the same peak: a collected 1.2M-row frame alone is > 150 MiB
    assert large["peak_mib"] - small["peak_mib"] < 80, (small, large)
    assert math.isfinite(large["seconds"]) and large["seconds"] < 20


def test_own_names_spell_teams_per_bookmaker_and_leave_sportradar_ids_to_pinnacle() -> None:
    from oddskit.team_spellings import SAMPLE_STYLES, spell_team

    start = datetime(2026, 11, 1, tzinfo=UTC)
    plain = generate_sample(start=start, days=1, events_per_day=40)
    own = generate_sample(start=start, days=1, events_per_day=40, own_names=True)
    names = ["home_team", "away_team", "tournament", "sportradar_id"]
    assert own.drop(names).equals(plain.drop(names))  # the same prices and listings
    assert own.filter(pl.col("bookmaker") != "Pinnacle")["sportradar_id"].null_count() == (
        own.filter(pl.col("bookmaker") != "Pinnacle").height
    )
    pairs = (
        plain.select("bookmaker", "bookmaker_event_id", "home_team")
        .unique()
        .join(
            own.select(
                "bookmaker", "bookmaker_event_id", pl.col("home_team").alias("own")
            ).unique(),
            on=["bookmaker", "bookmaker_event_id"],
        )
    )
    for book, _, canonical, spelled in pairs.iter_rows():
        assert spelled == spell_team(canonical, SAMPLE_STYLES[book])
    assert pairs.filter(pl.col("home_team") != pl.col("own")).height > 0
