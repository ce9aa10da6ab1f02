"""Tests of oddskit.plots: figure structure, colours, values against independent sums."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest

from oddskit.errors import ConfigurationError, ValidationError
from oddskit.markets import MARKET_OUTCOMES
from oddskit.plots import (
    BOOKMAKER_COLORS,
    TEMPLATE,
    bookmaker_colors,
    plot_line_movement,
    plot_margin_distribution,
    plot_margin_heatmap,
    plot_margin_over_time,
    plot_vs_market,
    plot_vs_market_over_time,
)
from oddskit.sample import generate_sample

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
KEYS = ["event_id", "bookmaker", "captured_at", "market", "line"]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    # A fixed start: with the default (now − 1 day) the number of matches in the window
    # depends on the time of day.
    frame = generate_sample(
        start=datetime(2026, 11, 1, tzinfo=UTC), days=1, events_per_day=10, seed=1
    )
    event_id = pl.struct("home_team", "away_team", "kickoff").rank("dense").cast(pl.Int64)
    return frame.with_columns(event_id=event_id)


@pytest.fixture(scope="module")
def event(sample: pl.DataFrame) -> int:
    """The event with the most snapshots."""
    counts = sample.group_by("event_id").agg(pl.col("captured_at").n_unique().alias("n"))
    return int(counts.sort("n", "event_id", descending=[True, False])["event_id"][0])


@pytest.fixture
def tiny() -> pl.DataFrame:
    """Two bookmakers pricing one 1x2 market at three snapshots, kickoff at +60 min."""
    rows = [
        ("A", 0, (2.00, 3.40, 3.80)),
        ("A", 10, (1.95, 3.45, 3.90)),
        ("A", 20, (1.90, 3.50, 4.10)),
        ("B", 5, (2.05, 3.30, 3.70)),
        ("B", 15, (2.02, 3.35, 3.75)),
    ]
    data = [
        (book, at(minute), outcome, price)
        for book, minute, prices in rows
        for outcome, price in zip(MARKET_OUTCOMES["1x2"], prices, strict=True)
    ]
    return pl.DataFrame(
        {
            "event_id": 7,
            "bookmaker": [r[0] for r in data],
            "captured_at": [r[1] for r in data],
            "market": "1x2",
            "line": pl.Series([None] * len(data), dtype=pl.Float64),
            "outcome": [r[2] for r in data],
            "odds": [r[3] for r in data],
            "kickoff": at(60),
            "home_team": "Lions",
            "away_team": "Tigers",
        }
    )


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def as_naive_list(values: object) -> list[datetime]:
    """Trace x values (numpy datetime64 or datetimes) as naive datetimes."""
    arr = np.asarray(values, dtype="datetime64[us]")
    return [v.item() for v in arr]


def expected_overround(frame: pl.DataFrame) -> pl.DataFrame:
    """Overround (%) of complete market instances, computed from the raw rows."""
    size = {m: len(o) for m, o in MARKET_OUTCOMES.items()}
    target = pl.when(pl.col("market") == "double_chance").then(2.0).otherwise(1.0)
    return (
        frame.group_by(KEYS)
        .agg(
            pl.col("odds").is_not_null().sum().alias("n"),
            (1.0 / pl.col("odds")).sum().alias("booksum"),
        )
        .filter(pl.col("n") == pl.col("market").replace_strict(size, return_dtype=pl.UInt32))
        .with_columns((100.0 * (pl.col("booksum") - target)).alias("overround_pct"))
    )


def check_common(fig: go.Figure, *, x_title: str | None = None, y_title: str) -> None:
    """Title, template, axis titles; the figure serialises to JSON and HTML."""
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert TEMPLATE == "plotly_white"
    assert fig.layout.template == pio.templates[TEMPLATE]
    x_titles = [ax.title.text for ax in fig.select_xaxes() if ax.title.text]
    y_titles = [ax.title.text for ax in fig.select_yaxes() if ax.title.text]
    if x_title is not None:
        assert x_title in x_titles
    assert y_title in y_titles
    json.loads(fig.to_json())
    html = fig.to_html(include_plotlyjs="cdn")
    assert "cdn.plot.ly" in html and "<html>" in html
    for trace in fig.data:
        assert trace.hovertemplate, trace.name


def check_colors(fig: go.Figure, books: list[str]) -> None:
    """Every trace named after a bookmaker is drawn in that bookmaker's colour."""
    colors = bookmaker_colors(books)
    named = [t for t in fig.data if t.name in colors]
    assert {t.name for t in named} == set(books)
    for trace in named:
        assert trace.line.color == colors[trace.name], trace.name


# --------------------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------------------


def test_bookmaker_colors_fixed_stable_and_distinct() -> None:
    fixed = bookmaker_colors(["betPawa", "SportyBet", "Bet9ja", "Pinnacle"])
    assert fixed == BOOKMAKER_COLORS
    assert len(set(fixed.values())) == 4
    assert bookmaker_colors(["BETPAWA", "pinnacle"]) == {
        "BETPAWA": BOOKMAKER_COLORS["betPawa"],
        "pinnacle": BOOKMAKER_COLORS["Pinnacle"],
    }
    others = ["1xBet", "Betway", "MSport", "Betking", "Nairabet", "Merrybet"]
    colors = bookmaker_colors(others)
    # Independent of which other bookmakers are plotted, and of the order.
    assert colors == {b: bookmaker_colors([b])[b] for b in reversed(others)}
    assert not set(colors.values()) & set(BOOKMAKER_COLORS.values())
    # Stable across processes (BLAKE2, not the salted builtin hash).
    assert bookmaker_colors(["Betway"]) == {"Betway": colors["Betway"]}
    assert all(c.startswith("#") and len(c) == 7 for c in colors.values())


def test_bookmaker_colors_value_is_pinned() -> None:
    import hashlib

    from oddskit.plots_common import _PALETTE

    digest = hashlib.blake2b(b"betway", digest_size=8).digest()
    assert (
        bookmaker_colors(["Betway"])["Betway"]
        == _PALETTE[int.from_bytes(digest, "big") % len(_PALETTE)]
    )


def test_bookmaker_colors_takes_one_name_or_a_list_of_names() -> None:
    assert bookmaker_colors("betPawa") == {"betPawa": "#2CA02C"}
    with pytest.raises(ConfigurationError, match="`bookmakers` must be a string or a sequence"):
        bookmaker_colors([1, 2])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------
# Line movement
# --------------------------------------------------------------------------------------


def test_line_movement_tiny(tiny: pl.DataFrame) -> None:
    fig = plot_line_movement(tiny, event_id=7, market="1x2")
    check_common(fig, x_title="Time (UTC)", y_title="Decimal odds")
    assert fig.layout.title.text == "Lions v Tigers — 1x2: odds by bookmaker"
    assert fig.layout.legend.title.text == "Bookmaker"
    # One facet per outcome, one trace per bookmaker in each: 3 × 2.
    assert [(t.name, t.yaxis) for t in fig.data] == [
        ("A", "y"),
        ("B", "y"),
        ("A", "y2"),
        ("B", "y2"),
        ("A", "y3"),
        ("B", "y3"),
    ]
    assert [a.text for a in fig.layout.annotations][:3] == [
        "Outcome: home",
        "Outcome: draw",
        "Outcome: away",
    ]
    assert sum(t.showlegend is not False for t in fig.data) == 2  # legend once per book
    check_colors(fig, ["A", "B"])
    assert {t.line.shape for t in fig.data} == {"hv"}
    home_a = fig.data[0]
    assert list(home_a.y) == [2.00, 1.95, 1.90]
    assert as_naive_list(home_a.x) == [naive(at(m)) for m in (0, 10, 20)]
    assert "Bookmaker: A" in home_a.hovertemplate
    assert "Outcome: home" in home_a.hovertemplate
    assert "%{y:.3f}" in home_a.hovertemplate
    assert "%{x|%Y-%m-%d %H:%M:%S} UTC" in home_a.hovertemplate
    # Kickoff: a vertical line over the whole plot and an annotation.
    (shape,) = fig.layout.shapes
    assert shape.type == "line" and shape.yref == "paper"
    assert shape.x0 == shape.x1 == naive(at(60))
    assert any("Kickoff" in (a.text or "") for a in fig.layout.annotations)


def test_line_movement_sample(sample: pl.DataFrame, event: int) -> None:
    fig = plot_line_movement(sample, event_id=event, market="over_under", line=2.5)
    check_common(fig, x_title="Time (UTC)", y_title="Decimal odds")
    rows = sample.filter(event_id=event, market="over_under", line=2.5)
    books = sorted(rows["bookmaker"].unique().to_list(), key=str.casefold)
    check_colors(fig, books)
    assert len(fig.data) == 2 * len(books)  # over, under
    assert {t.line.shape for t in fig.data} == {"hv"}
    # Each trace holds exactly the bookmaker's prices of that outcome, in time order.
    for trace, outcome in zip(
        fig.data, ["over"] * len(books) + ["under"] * len(books), strict=True
    ):
        expected = rows.filter(bookmaker=trace.name, outcome=outcome).sort("captured_at")
        assert list(trace.y) == expected["odds"].to_list()
    kickoff = rows["kickoff"][0]
    assert fig.layout.shapes[0].x0 == naive(kickoff)
    assert "over_under 2.5" in fig.layout.title.text


def test_line_movement_options(tiny: pl.DataFrame) -> None:
    fig = plot_line_movement(
        tiny, event_id=7, market="1x2", outcomes="draw", kickoff=at(30), title="Draw"
    )
    assert fig.layout.title.text == "Draw"
    assert {t.hovertemplate.split("<br>")[1] for t in fig.data} == {"Outcome: draw"}
    assert fig.layout.shapes[0].x0 == naive(at(30))
    no_kickoff = plot_line_movement(tiny.drop("kickoff", "home_team"), event_id=7, market="1x2")
    assert not no_kickoff.layout.shapes
    assert no_kickoff.layout.title.text.startswith("Event 7")


def test_line_movement_null_odds_break_the_line(tiny: pl.DataFrame) -> None:
    suspended = tiny.with_columns(
        odds=pl.when((pl.col("bookmaker") == "A") & (pl.col("captured_at") == at(10)))
        .then(None)
        .otherwise(pl.col("odds"))
    )
    fig = plot_line_movement(suspended, event_id=7, market="1x2", outcomes="home")
    assert fig.data[0].connectgaps is False
    values = list(fig.data[0].y)
    assert values[0] == 2.0 and np.isnan(values[1]) and values[2] == 1.9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event_id": 99, "market": "1x2"}, r"event_id 99 is not in the frame.*\[7\]"),
        ({"event_id": 7, "market": "btts"}, r"market 'btts' is not in event 7.*\['1x2'\]"),
        ({"event_id": 7, "market": "1x2", "outcomes": "over"}, r"outcomes \['home', 'draw'"),
        ({"event_id": 7, "market": "1x2", "line": 2.5}, "has no line"),
        ({"event_id": 7, "market": "1x2", "kickoff": datetime(2026, 5, 1)}, "timezone-aware"),
    ],
)
def test_line_movement_errors(tiny: pl.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        plot_line_movement(tiny, **kwargs)


def test_line_movement_needs_a_line_when_there_are_several(
    sample: pl.DataFrame, event: int
) -> None:
    with pytest.raises(ConfigurationError, match=r"has 5 lines.*0\.5.*pass line="):
        plot_line_movement(sample, event_id=event, market="over_under")
    with pytest.raises(ConfigurationError, match=r"line 9\.5 is not offered"):
        plot_line_movement(sample, event_id=event, market="over_under", line=9.5)


def test_frame_errors(tiny: pl.DataFrame) -> None:
    with pytest.raises(ValidationError, match="event_id"):
        plot_margin_heatmap(tiny.drop("event_id"))
    with pytest.raises(ConfigurationError, match="LazyFrame"):
        plot_margin_heatmap(tiny.lazy())  # type: ignore[arg-type]
    naive_times = tiny.with_columns(pl.col("captured_at").dt.replace_time_zone(None))
    with pytest.raises(ValidationError, match="naive"):
        plot_margin_over_time(naive_times)


# --------------------------------------------------------------------------------------
# Margins
# --------------------------------------------------------------------------------------


def test_margin_over_time_matches_hourly_means(sample: pl.DataFrame) -> None:
    fig = plot_margin_over_time(sample, market="1x2", every="1h")
    check_common(fig, x_title="Interval start (UTC)", y_title="Overround (%)")
    books = sorted(sample["bookmaker"].unique().to_list(), key=str.casefold)
    check_colors(fig, books)
    assert [t.name for t in fig.data] == books
    inst = expected_overround(sample.filter(market="1x2"))
    hourly = (
        inst.group_by("bookmaker", pl.col("captured_at").dt.truncate("1h"))
        .agg(pl.col("overround_pct").mean(), pl.len().alias("n"))
        .sort("captured_at")
    )
    for trace in fig.data:
        expected = hourly.filter(bookmaker=trace.name)
        assert as_naive_list(trace.x) == [naive(t) for t in expected["captured_at"]]
        np.testing.assert_allclose(trace.y, expected["overround_pct"].to_numpy(), rtol=1e-12)
        assert [int(c[0]) for c in trace.customdata] == expected["n"].to_list()
        assert "Mean overround: %{y:.2f}%" in trace.hovertemplate
        assert f"Bookmaker: {trace.name}" in trace.hovertemplate
    assert "1x2" in fig.layout.title.text and "1h" in fig.layout.title.text


def test_margin_over_time_raw_and_errors(tiny: pl.DataFrame) -> None:
    fig = plot_margin_over_time(tiny, every=None)
    assert fig.layout.xaxis.title.text == "Time (UTC)"
    a = fig.data[0]
    assert a.name == "A" and len(a.y) == 3
    assert a.y[0] == pytest.approx(100 * (1 / 2.0 + 1 / 3.4 + 1 / 3.8 - 1))
    fig = plot_margin_over_time(tiny, every=timedelta(minutes=30))
    assert [len(t.y) for t in fig.data] == [1, 1]
    with pytest.raises(ConfigurationError, match=r"market 'btts' is not in the frame.*'1x2'"):
        plot_margin_over_time(tiny, market="btts")
    with pytest.raises(ConfigurationError, match="every"):
        plot_margin_over_time(tiny, every="1 hour")
    incomplete = tiny.filter(pl.col("outcome") != "draw")
    with pytest.raises(ConfigurationError, match="no complete market instance"):
        plot_margin_over_time(incomplete)


def test_margin_distribution_box_stats(sample: pl.DataFrame) -> None:
    fig = plot_margin_distribution(sample, markets=["1x2", "btts"])
    check_common(fig, x_title="Market", y_title="Overround (%)")
    books = sorted(sample["bookmaker"].unique().to_list(), key=str.casefold)
    check_colors(fig, books)
    assert fig.layout.boxmode == "group"
    assert list(fig.layout.xaxis.categoryarray) == ["1x2", "btts"]
    inst = expected_overround(sample.filter(pl.col("market").is_in(["1x2", "btts"])))
    for trace in fig.data:
        assert trace.type == "box"
        assert "Overround: %{y:.2f}%" in trace.hovertemplate
        for i, market in enumerate(trace.x):
            values = inst.filter(bookmaker=trace.name, market=market)["overround_pct"].to_numpy()
            q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
            assert trace.median[i] == pytest.approx(med, rel=1e-12)
            assert trace.q1[i] == pytest.approx(q1, rel=1e-12)
            assert trace.q3[i] == pytest.approx(q3, rel=1e-12)
            assert trace.mean[i] == pytest.approx(values.mean(), rel=1e-12)
            inside = values[(values >= q1 - 1.5 * (q3 - q1)) & (values <= q3 + 1.5 * (q3 - q1))]
            assert trace.lowerfence[i] == pytest.approx(inside.min())
            assert trace.upperfence[i] == pytest.approx(inside.max())


def test_margin_distribution_violin(tiny: pl.DataFrame) -> None:
    fig = plot_margin_distribution(tiny, kind="violin", markets="1x2")
    check_common(fig, x_title="Market", y_title="Overround (%)")
    assert [t.type for t in fig.data] == ["violin", "violin"]
    assert len(fig.data[0].y) == 3 and len(fig.data[1].y) == 2
    check_colors(fig, ["A", "B"])
    with pytest.raises(ConfigurationError, match=r"`markets`.*\['1x2'\]"):
        plot_margin_distribution(tiny, markets=["btts"])
    with pytest.raises(ConfigurationError, match="kind"):
        plot_margin_distribution(tiny, kind="histogram")


def test_margin_heatmap_values(sample: pl.DataFrame) -> None:
    fig = plot_margin_heatmap(sample)
    check_common(fig, x_title="Market", y_title="Bookmaker")
    (heat,) = fig.data
    books = sorted(sample["bookmaker"].unique().to_list(), key=str.casefold)
    assert list(heat.y) == books
    assert list(heat.x) == [m for m in MARKET_OUTCOMES if m in set(sample["market"])]
    means = (
        expected_overround(sample)
        .group_by("bookmaker", "market")
        .agg(pl.col("overround_pct").mean(), pl.len())
    )
    for i, book in enumerate(heat.y):
        for j, market in enumerate(heat.x):
            row = means.filter(bookmaker=book, market=market)
            assert heat.z[i][j] == pytest.approx(row["overround_pct"][0], rel=1e-12)
            assert heat.customdata[i][j] == row["len"][0]
    assert heat.texttemplate == "%{z:.2f}"
    assert "Mean overround: %{z:.2f}%" in heat.hovertemplate
    assert heat.colorbar.title.text == "Overround (%)"
    colors = bookmaker_colors(books)
    for book, label in zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext, strict=True):
        assert colors[book] in label and book in label
    # Pinnacle is the sharp book: the lowest 1x2 margin.
    col = list(heat.x).index("1x2")
    assert min(books, key=lambda b: heat.z[books.index(b)][col]) == "Pinnacle"


def test_margin_heatmap_gap_for_unpriced_market(tiny: pl.DataFrame) -> None:
    btts = pl.DataFrame(
        {
            "event_id": 7,
            "bookmaker": "B",
            "captured_at": at(0),
            "market": "btts",
            "line": pl.Series([None, None], dtype=pl.Float64),
            "outcome": ["yes", "no"],
            "odds": [1.9, 1.9],
        }
    )
    fig = plot_margin_heatmap(pl.concat([tiny.select(btts.columns), btts]))
    heat = fig.data[0]
    assert list(heat.x) == ["1x2", "btts"]
    assert heat.z[0][1] is None  # A does not price btts
    assert heat.z[1][1] == pytest.approx(100 * (2 / 1.9 - 1))
    with pytest.raises(ConfigurationError, match="markets"):
        plot_margin_heatmap(tiny, markets=["over_under"])


# --------------------------------------------------------------------------------------
# Bookmaker against the market
# --------------------------------------------------------------------------------------


def test_vs_market_event_tiny(tiny: pl.DataFrame) -> None:
    fig = plot_vs_market_over_time(tiny, bookmaker="A", event_id=7, market="1x2", every="5m")
    check_common(fig, x_title="Time (UTC), 5m grid", y_title="Decimal odds")
    # 3 outcomes × (best, fair, bookmaker), then a legend entry per bookmaker offering
    # the best price (the colour of the best price's markers)
    assert len(fig.data) == 11
    assert [t.name for t in fig.data[9:]] == ["Best price offered by A", "Best price offered by B"]
    assert [t.marker.color for t in fig.data[9:]] == list(bookmaker_colors(["A", "B"]).values())
    assert {t.line.shape for t in fig.data[:9]} == {"hv"}
    home_best, home_fair, home_a = fig.data[:3]
    assert home_a.name == "A" and home_a.line.color == bookmaker_colors(["A"])["A"]
    grid = [naive(at(m)) for m in range(0, 25, 5)]
    assert as_naive_list(home_a.x) == grid
    assert list(home_a.y) == [2.00, 2.00, 1.95, 1.95, 1.90]
    # Best price per instant: A's 2.00 at 0 (B not yet priced), then B's 2.05, 2.02.
    assert list(home_best.y) == [2.00, 2.05, 2.05, 2.02, 2.02]
    colors = bookmaker_colors(["A", "B"])
    assert list(home_best.marker.color) == [colors[b] for b in "ABBBB"]
    # Consensus fair odds (multiplicative) at +20 min: A's third and B's second snapshot.
    prob_a = (1 / 1.90) / (1 / 1.90 + 1 / 3.50 + 1 / 4.10)
    prob_b = (1 / 2.02) / (1 / 2.02 + 1 / 3.35 + 1 / 3.75)
    assert home_fair.y[-1] == pytest.approx(1 / ((prob_a + prob_b) / 2), rel=1e-9)
    # Hover data of the bookmaker: best, % below best, fair, % below fair.
    best, below_best, fair, below_fair = home_a.customdata[-1]
    assert best == 2.02 and below_best == pytest.approx(100 * (1 - 1.90 / 2.02))
    assert fair == pytest.approx(home_fair.y[-1])
    assert below_fair == pytest.approx(100 * (1 - 1.90 / fair))
    assert "Odds: %{y:.3f}" in home_a.hovertemplate
    assert "%{customdata[1]:.2f}% below" in home_a.hovertemplate
    assert fig.layout.shapes[0].x0 == naive(at(60))


def test_vs_market_event_exclude_self(tiny: pl.DataFrame) -> None:
    fig = plot_vs_market_over_time(tiny, bookmaker="A", event_id=7, exclude_self=True, every="5m")
    home_best = fig.data[0]
    # Only B is the market: nothing before B's first price at +5 min.
    assert list(home_best.y) == [2.05, 2.05, 2.02, 2.02]
    assert "other bookmakers" in home_best.name


def test_vs_market_summary_matches_board(sample: pl.DataFrame) -> None:
    book = "betPawa"
    fig = plot_vs_market(sample, bookmaker=book)
    check_common(fig, x_title="Outcome", y_title=fig.layout.yaxis.title.text)
    assert "%" in fig.layout.yaxis.title.text
    below_best, below_fair = fig.data
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert list(below_best.x) == ["home", "draw", "away"]
    color = bookmaker_colors([book])[book]
    assert below_best.marker.color == below_fair.marker.color == color
    # Independent board: each bookmaker's latest 1x2 snapshot per event.
    rows = sample.filter(market="1x2")
    board = rows.filter(
        pl.col("captured_at") == pl.col("captured_at").max().over("event_id", "bookmaker")
    )
    best = board.group_by("event_id", "outcome").agg(pl.col("odds").max().alias("best"))
    complete = board.filter(pl.len().over("event_id", "bookmaker") == 3)  # no suspension
    probs = complete.with_columns(
        prob=(1 / pl.col("odds")) / (1 / pl.col("odds")).sum().over("event_id", "bookmaker")
    )
    fair = (
        probs.group_by("event_id", "outcome")
        .agg(pl.col("prob").mean())
        .with_columns(fair=1 / (pl.col("prob") / pl.col("prob").sum().over("event_id")))
    )
    own = (
        board.filter(bookmaker=book)
        .join(best, on=["event_id", "outcome"])
        .join(fair, on=["event_id", "outcome"])
    )
    for i, outcome in enumerate(below_best.x):
        mine = own.filter(outcome=outcome)
        exp_best = (100 * (1 - mine["odds"] / mine["best"])).mean()
        exp_fair = (100 * (1 - mine["odds"] / mine["fair"])).mean()
        assert below_best.y[i] == pytest.approx(exp_best, rel=1e-9)
        assert below_fair.y[i] == pytest.approx(exp_fair, rel=1e-9)
        share = 100 * (mine["odds"] >= mine["best"]).mean()
        assert below_best.customdata[i][0] == pytest.approx(share)
    assert all(y >= 0 for y in below_best.y)  # the best price includes betPawa itself
    assert all(y > 0 for y in below_fair.y)  # a margin on every outcome
    assert "%{y:.2f}%" in below_best.hovertemplate
    assert "10 events" in fig.layout.title.text


def test_vs_market_summary_exclude_self_can_beat_the_market(sample: pl.DataFrame) -> None:
    fig = plot_vs_market(sample, bookmaker="Pinnacle", exclude_self=True)
    below_best = fig.data[0]
    # Pinnacle (lowest margin) often beats the best of the soft books: negative distance.
    assert min(below_best.y) < 0
    assert fig.layout.legend.title.text == "Comparison"
    lines = plot_vs_market(sample, bookmaker="Bet9ja", market="over_under", line=2.5)
    assert list(lines.data[0].x) == ["over", "under"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bookmaker": "Nobody"}, r"bookmaker 'Nobody' does not price.*'Bet9ja'"),
        ({"market": "corners"}, r"market 'corners' is not in the frame.*'1x2'"),
        ({"method": "nope"}, "`method` must be one of"),
        ({"as_of": datetime(2026, 5, 1)}, "`as_of` is a naive datetime"),
    ],
)
def test_vs_market_errors(sample: pl.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        plot_vs_market(sample, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event_id": -1}, r"event_id -1 is not in the frame; it has 10 event\(s\)"),
        ({"event_id": 1, "bookmaker": "Nobody"}, r"bookmaker 'Nobody' does not price"),
        ({"event_id": 1, "method": "nope"}, "`method` must be one of"),
        ({"event_id": 1, "market": "asian_handicap"}, "pass line="),
        ({"event_id": 1, "every": "five minutes"}, "every"),
    ],
)
def test_vs_market_over_time_errors(sample: pl.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        plot_vs_market_over_time(sample, **kwargs)


def test_vs_market_alone_has_no_market(tiny: pl.DataFrame) -> None:
    with pytest.raises(ConfigurationError, match="no other bookmaker prices"):
        plot_vs_market(tiny.filter(bookmaker="A"), bookmaker="A", exclude_self=True)


# --------------------------------------------------------------------------------------
# Every chart
# --------------------------------------------------------------------------------------

CHARTS: dict[str, Callable[[pl.DataFrame, int], go.Figure]] = {
    "line_movement": lambda f, e: plot_line_movement(f, event_id=e, market="1x2"),
    "margin_over_time": lambda f, e: plot_margin_over_time(f),
    "margin_distribution": lambda f, e: plot_margin_distribution(f),
    "margin_violin": lambda f, e: plot_margin_distribution(f, kind="violin", markets="btts"),
    "margin_heatmap": lambda f, e: plot_margin_heatmap(f),
    "vs_market_event": lambda f, e: plot_vs_market_over_time(f, event_id=e),
    "vs_market_summary": lambda f, e: plot_vs_market(f),
}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_is_complete(name: str, sample: pl.DataFrame, event: int) -> None:
    fig = CHARTS[name](sample, event)
    assert fig.layout.template.layout.plot_bgcolor == "white"
    assert fig.layout.title.text
    assert any(ax.title.text for ax in fig.select_xaxes())
    assert any(ax.title.text for ax in fig.select_yaxes())
    if name != "margin_heatmap":
        assert fig.layout.legend.title.text
    colors = bookmaker_colors(sample["bookmaker"].unique().to_list())
    for trace in fig.data:
        assert trace.hovertemplate and "<extra></extra>" in trace.hovertemplate
        if trace.name in colors:
            assert trace.line.color == colors[trace.name]
    payload = json.loads(fig.to_json())
    assert payload["layout"]["title"]["text"] == fig.layout.title.text
    assert len(fig.to_html(include_plotlyjs="cdn", full_html=False)) < 2_000_000


@pytest.mark.skipif(importlib.util.find_spec("kaleido") is None, reason="kaleido not installed")
def test_png_export(tiny: pl.DataFrame) -> None:  # pragma: no cover - optional dependency
    png = plot_line_movement(tiny, event_id=7, market="1x2").to_image(format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
