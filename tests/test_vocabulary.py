"""One name per concept (docs/vocabulary.md): the new names work, the old ones still do.

Each renamed argument keeps working until oddskit 0.3 with a ``DeprecationWarning``
that names the new one, and gives the same answer; passing both is an error. The
shared checks of :mod:`oddskit.arguments` give one message per kind of argument.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import oddskit
from oddskit import arguments
from oddskit.alignment import align_bookmakers
from oddskit.comparisons import best_prices, consensus_line, find_arbitrage
from oddskit.connection import Database
from oddskit.errors import ConfigurationError
from oddskit.margins import compute_overround, remove_margin
from oddskit.movement import detect_steam, dropping_odds, lead_lag, summarise_movement
from oddskit.plots import plot_line_movement, plot_vs_market, plot_vs_market_over_time
from oddskit.report import collect_report_data
from oddskit.sample import generate_sample

PACKAGE = Path(oddskit.__file__).parent
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    frame = generate_sample(start=T0, days=1, events_per_day=4, seed=3)
    return frame.with_columns(
        event_id=pl.struct("home_team", "away_team", "kickoff").rank("dense").cast(pl.Int64)
    )


def new_and_old(
    call: Callable[..., Any], new: dict[str, Any], old: dict[str, Any], *, renamed: str
) -> tuple[Any, Any]:
    """Call with the new names (no warning) and the old ones (one DeprecationWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        fresh = call(**new)
    with pytest.warns(DeprecationWarning, match=renamed) as caught:
        legacy = call(**old)
    assert "oddskit 0.3" in str(caught[0].message)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    return fresh, legacy


def same_frames(a: Any, b: Any) -> None:
    assert isinstance(a, pl.DataFrame) and a.equals(b)


def same_figures(a: Any, b: Any) -> None:
    """The same traces with the same data (values compared, not their JSON encoding)."""
    assert a.layout.title.text == b.layout.title.text
    assert [(t.type, t.name) for t in a.data] == [(t.type, t.name) for t in b.data]
    for ta, tb in zip(a.data, b.data, strict=True):
        for key in ("x", "y", "customdata"):
            va, vb = getattr(ta, key, None), getattr(tb, key, None)
            if va is None:
                assert vb is None
                continue
            va, vb = np.asarray(va), np.asarray(vb)
            if va.dtype.kind == "f":  # consensus means: summation order varies by 1 ulp
                np.testing.assert_allclose(va, vb, rtol=1e-12)
            else:
                np.testing.assert_array_equal(va, vb)


# --- renamed arguments ------------------------------------------------------------------------


def test_board_as_of_and_lookback_were_at_and_max_age(sample: pl.DataFrame) -> None:
    as_of = sample["captured_at"].min() + timedelta(hours=6)
    for helper in (best_prices, consensus_line, find_arbitrage):
        fresh, legacy = new_and_old(
            lambda h=helper, **kw: h(sample, **kw),
            {"as_of": as_of, "lookback": "1h"},
            {"at": as_of, "max_age": timedelta(hours=1)},
            renamed=r"`at` of \w+\(\) is now called `as_of`",
        )
        same_frames(fresh, legacy)
    assert best_prices(sample, as_of=as_of)["captured_at"].max() <= as_of


def test_market_keys_and_instance_keys_were_by(sample: pl.DataFrame) -> None:
    keys = ["event_id", "market", "line"]
    for helper in (summarise_movement, dropping_odds, detect_steam, best_prices):
        fresh, legacy = new_and_old(
            lambda h=helper, **kw: h(sample, **kw),
            {"market_keys": keys},
            {"by": keys},
            renamed="`by` of .* is now called `market_keys`",
        )
        same_frames(fresh, legacy)
    instance = ["event_id", "bookmaker", "captured_at", "market", "line"]
    for helper in (compute_overround, remove_margin):
        fresh, legacy = new_and_old(
            lambda h=helper, **kw: h(sample.head(2000), **kw),
            {"instance_keys": instance},
            {"by": instance},
            renamed="`by` of .* is now called `instance_keys`",
        )
        same_frames(fresh, legacy)


def test_lead_lag_min_move_was_threshold(sample: pl.DataFrame) -> None:
    fresh, legacy = new_and_old(
        lambda **kw: lead_lag(sample, follower=None, **kw),
        {"min_move": 0.01},
        {"threshold": 0.01},
        renamed="`threshold` of lead_lag",
    )
    same_frames(fresh, legacy)
    # the same word and the same meaning as detect_steam's
    assert lead_lag(sample, follower=None, min_move=0.5).is_empty()
    assert detect_steam(sample, min_move=0.5).is_empty()


def test_align_bookmakers_since_until_were_start_end(sample: pl.DataFrame) -> None:
    one = sample.filter(event_id=sample["event_id"][0])
    start = one["captured_at"].min().replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    fresh, legacy = new_and_old(
        lambda **kw: align_bookmakers(one, every="15m", **kw),
        # `until` is exclusive: one microsecond after the old, inclusive `end`
        {"since": start, "until": end + timedelta(microseconds=1)},
        {"start": start, "end": end},
        renamed="`start` of align_bookmakers",
    )
    same_frames(fresh, legacy)
    assert fresh["captured_at"].max() == end
    exclusive = align_bookmakers(one, every="15m", since=start, until=end)
    assert exclusive["captured_at"].max() == end - timedelta(minutes=15)


def test_plot_line_movement_outcomes_was_outcome(sample: pl.DataFrame) -> None:
    event = int(sample["event_id"][0])
    fresh, legacy = new_and_old(
        lambda **kw: plot_line_movement(sample, event_id=event, market="1x2", **kw),
        {"outcomes": "draw"},
        {"outcome": "draw"},
        renamed="`outcome` of plot_line_movement",
    )
    same_figures(fresh, legacy)


def test_plot_vs_market_over_time_was_plot_vs_market_with_event_id(sample: pl.DataFrame) -> None:
    event = int(sample["event_id"][0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        fresh = plot_vs_market_over_time(sample, event_id=event, every="10m")
        summary = plot_vs_market(sample)
    with pytest.warns(DeprecationWarning, match="now plot_vs_market_over_time"):
        legacy = plot_vs_market(sample, event_id=event, every="10m")
    same_figures(fresh, legacy)
    assert {t.type for t in summary.data} == {"bar"}
    with pytest.raises(TypeError, match="unexpected keyword"):
        plot_vs_market(sample, evnt_id=event)
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(ConfigurationError, match="`as_of` and `lookback` apply to the summary"),
    ):
        plot_vs_market(sample, event_id=event, at=T0)


def test_compute_overround_flags_are_named_as_in_remove_margin(sample: pl.DataFrame) -> None:
    frame = sample.head(5000)
    books = compute_overround(frame)
    rows = remove_margin(frame)
    for flag in ("incomplete", "under_round"):
        assert flag in books.columns and flag in rows.columns
    assert books["incomplete"].any()  # the sample suspends some outcomes
    # the old names stay for one release, as the same facts
    assert books["is_complete"].equals(~books["incomplete"], check_names=False)
    assert books["is_under_round"].equals(books["under_round"], check_names=False)


def test_report_lookback_was_days(doctest_db: Database) -> None:
    fresh, legacy = new_and_old(
        lambda **kw: collect_report_data(doctest_db, featured=1, **kw),
        {"lookback": "2d"},
        {"days": 2},
        renamed="`days` of collect_report_data",
    )
    assert (fresh.since, fresh.until, fresh.counts) == (legacy.since, legacy.until, legacy.counts)


def test_fetch_events_filters_are_plural(doctest_db: Database) -> None:
    for new, old in (("sports", "sport"), ("tournaments", "tournament"), ("countries", "country")):
        value = {"sports": "FOOTBALL", "tournaments": "npfl", "countries": "Nigeria"}[new]
        fresh, legacy = new_and_old(
            lambda **kw: oddskit.fetch_events(doctest_db, **kw),
            {new: [value]},
            {old: value},
            renamed=f"`{old}` of fetch_events",
        )
        same_frames(fresh, legacy)
        assert fresh.height >= 1


def test_coverage_every_is_a_duration_and_the_postgresql_spelling_is_deprecated(
    doctest_db: Database,
) -> None:
    window = {
        "since": datetime(2026, 11, 28, tzinfo=UTC),
        "until": datetime(2026, 11, 29, tzinfo=UTC),
    }
    fresh = oddskit.fetch_coverage(doctest_db, every="1h", **window)
    assert fresh.equals(oddskit.fetch_coverage(doctest_db, every=timedelta(hours=1), **window))
    with pytest.warns(DeprecationWarning, match="every='1 hour' is spelled every='1h' now"):
        legacy = oddskit.fetch_coverage(doctest_db, every="1 hour", **window)
    same_frames(fresh, legacy)
    quarter = oddskit.fetch_coverage(doctest_db, every="15m", **window)
    assert quarter.height == 4 * fresh.height
    # lookback, expected and tolerance take the same duration strings
    as_of = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert oddskit.fetch_latest_odds(doctest_db, as_of=as_of, lookback="2h").equals(
        oddskit.fetch_latest_odds(doctest_db, as_of=as_of, lookback=timedelta(hours=2))
    )
    assert oddskit.fetch_gaps(doctest_db, expected="15m", tolerance="0s", **window).height > 0


def test_old_and_new_name_together_is_an_error(sample: pl.DataFrame) -> None:
    with pytest.raises(ConfigurationError, match="got both `as_of` and its old name `at`"):
        best_prices(sample, as_of=T0, at=T0)


# --- one check per kind of argument -----------------------------------------------------------


FREE_METHODS = "`method` must be one of {'multiplicative', 'additive', "
NO_DB: Any = None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: arguments.choice("x", "how", ("long", "wide")),
            "`how` must be one of {'long', 'wide'}, got 'x'",
        ),
        (lambda: remove_margin(pl.DataFrame({"odds": [2.0, 2.0]}), method="vig"), FREE_METHODS),
        (
            lambda: oddskit.fetch_load_runs(NO_DB, status="done"),
            "`status` must be one of {'running', 'succeeded', 'failed'} or None, got 'done'",
        ),
        (
            lambda: arguments.texts(["ok", "n\x00l"], "markets"),
            "`markets` must not contain a NUL character",
        ),
        (lambda: arguments.text(b"x", "team"), "`team` must be a string, got bytes"),
        (
            lambda: arguments.duration("90", "window"),
            "`window` must be a timedelta or a duration string",
        ),
        (lambda: arguments.duration(timedelta(0), "window"), "`window` must be positive"),
        (lambda: arguments.integer(True, "limit"), "`limit` must be an integer ≥ 1, got True"),
        (
            lambda: arguments.number(float("nan"), "stake", above=0),
            "`stake` must be a finite number > 0",
        ),
        (
            lambda: arguments.aware_datetime(datetime(2026, 1, 1), "as_of"),
            "`as_of` is a naive datetime",
        ),
    ],
)
def test_one_message_per_kind_of_argument(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        call()
    assert message in str(info.value)


def test_the_argument_checks_live_in_one_module() -> None:
    """No module keeps its own aware-datetime check or duration parser, and no module
    imports another module's private helpers (as plots once did from movement)."""
    for path in sorted(PACKAGE.glob("*.py")):
        source = path.read_text()
        if path.name != "arguments.py":
            assert "utcoffset() is None" not in source, path.name
            assert "_DURATION_RE" not in source, path.name
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("oddskit"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"


def test_no_module_is_over_600_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}


def test_the_package_imports_its_api_lazily_and_lists_it_once() -> None:
    import subprocess
    import sys

    import oddskit

    errors = {"ConfigurationError", "ConfirmationRequired", "DatabaseError", "OddskitError"}
    errors |= {"PartitionError", "ValidationError"}
    assert set(oddskit.__all__) == {*oddskit._EXPORTS, *errors}
    for name in oddskit.__all__:
        assert getattr(oddskit, name) is not None
    heavy = ["polars", "pyarrow", "sqlalchemy", "alembic", "psycopg", "adbc_driver_manager"]
    code = f"import sys, oddskit; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
