"""Tests of oddskit.margins: published reference values, properties, flags, errors.

Reference values are copied from public sources, cited next to each value. Each is
checked with the tolerance the source supports (printed digits, or the solver
tolerance of the implementation that produced it).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from fractions import Fraction

import numpy as np
import polars as pl
import pytest

from oddskit.errors import ConfigurationError, ValidationError
from oddskit.margins import (
    METHODS,
    american_to_decimal,
    compare_methods,
    compute_overround,
    decimal_to_american,
    decimal_to_fractional,
    decimal_to_implied_prob,
    fractional_to_decimal,
    implied_prob_to_decimal,
    remove_margin,
)

ITERATIVE = ("power", "shin", "odds_ratio")


def markets_frame(odds_rows: list[list[float | None]], market: str | None = None) -> pl.DataFrame:
    """One instance per row of odds, keyed by event_id (0, 1, ...)."""
    data: dict[str, list] = {
        "event_id": [i for i, row in enumerate(odds_rows) for _ in row],
        "odds": [o for row in odds_rows for o in row],
    }
    if market is not None:
        data["market"] = [market] * len(data["odds"])
        outcomes = {3: ["home", "draw", "away"], 2: ["over", "under"]}
        data["outcome"] = [o for row in odds_rows for o in outcomes[len(row)]]
    return pl.DataFrame(data, schema_overrides={"odds": pl.Float64})


def fair_matrix(out: pl.DataFrame, width: int) -> np.ndarray:
    return out.get_column("fair_prob").to_numpy().reshape(-1, width)


def params(out: pl.DataFrame) -> np.ndarray:
    return (
        out.group_by("event_id", maintain_order=True)
        .agg(pl.col("param").first())["param"]
        .to_numpy()
    )


# --------------------------------------------------------------------------------------
# Published reference values
# --------------------------------------------------------------------------------------

# Source A: R package `implied`, README.md (opisthokonta/implied, commit 0d10e07),
# odds `my_odds`, printed to 7 significant digits.
IMPLIED_ODDS = [[4.20, 3.70, 1.95], [2.45, 3.70, 2.90], [2.05, 3.20, 3.80]]
IMPLIED_README = {
    # res1$probabilities ("basic")
    "multiplicative": [
        [0.2331556, 0.2646631, 0.5021813],
        [0.3988848, 0.2641264, 0.3369888],
        [0.4586948, 0.2938514, 0.2474538],
    ],
    # res2$probabilities ("shin", Jullien-Salanie iteration, tol eps^0.25)
    "shin": [
        [0.2315716, 0.2635742, 0.5048542],
        [0.4000221, 0.2629271, 0.3370508],
        [0.4645882, 0.2919788, 0.2434331],
    ],
    # res3$probabilities ("wpo")
    "wpo": [
        [0.2310332, 0.2632083, 0.5057585],
        [0.4004096, 0.2625166, 0.3370739],
        [0.4666506, 0.2913457, 0.2420036],
    ],
    # res4$probabilities ("or", uniroot tol eps^0.25)
    "odds_ratio": [
        [0.2320048, 0.2636415, 0.5043537],
        [0.3996912, 0.2633869, 0.3369219],
        [0.4634406, 0.2919032, 0.2446562],
    ],
    # res4$probabilities ("power", uniroot tol eps^0.25)
    "power": [
        [0.2311414, 0.2630644, 0.5057942],
        [0.4003156, 0.2627189, 0.3369655],
        [0.4667139, 0.2908985, 0.2423876],
    ],
}
# The printed 7 digits bound "basic" and "wpo" (closed forms) to 5e-8; the iterative
# methods of `implied` stop at uniroot/JS tolerance .Machine$double.eps^0.25, which
# leaves their probabilities about 2e-6 from the exact root.
IMPLIED_TOL = {"multiplicative": 1e-7, "wpo": 1e-7, "shin": 1e-5, "odds_ratio": 1e-5, "power": 1e-5}


@pytest.mark.parametrize("method", sorted(IMPLIED_README))
def test_implied_readme_probabilities(method: str) -> None:
    out = remove_margin(markets_frame(IMPLIED_ODDS), method=method)
    np.testing.assert_allclose(
        fair_matrix(out, 3), IMPLIED_README[method], rtol=0, atol=IMPLIED_TOL[method]
    )


def test_implied_readme_additive_equals_wpo_values() -> None:
    # WPO is algebraically 1/O_i - M/n, i.e. the additive method, so the README's
    # res3 (wpo) numbers are also the additive reference (opisthokonta/implied README.md).
    out = remove_margin(markets_frame(IMPLIED_ODDS), method="additive")
    np.testing.assert_allclose(fair_matrix(out, 3), IMPLIED_README["wpo"], rtol=0, atol=1e-7)


def test_implied_readme_parameters() -> None:
    frame = markets_frame(IMPLIED_ODDS)
    # res2$zvalues, opisthokonta/implied README.md (JS iteration stops at ~1e-4 steps)
    np.testing.assert_allclose(
        params(remove_margin(frame, method="shin")),
        [0.01061048, 0.01163552, 0.03182353],
        rtol=0,
        atol=5e-5,
    )
    # res4$odds_ratios, opisthokonta/implied README.md (uniroot tol ~1.2e-4)
    np.testing.assert_allclose(
        params(remove_margin(frame, method="odds_ratio")),
        [1.034449, 1.035805, 1.102606],
        rtol=0,
        atol=1.2e-4,
    )
    # res4$exponents, opisthokonta/implied README.md: implied reports n with p = r^(1/n);
    # our power_k is 1/n.
    np.testing.assert_allclose(
        1.0 / params(remove_margin(frame, method="power")),
        [0.9797664, 0.9788115, 0.9419744],
        rtol=0,
        atol=1.2e-4,
    )
    # res1$margin, opisthokonta/implied README.md (closed form, 7 significant digits)
    np.testing.assert_allclose(
        compute_overround(frame)["overround"].to_numpy(),
        [0.02118602, 0.02326112, 0.06346277],
        rtol=1e-6,
    )
    # res3$specific_margins row 1, opisthokonta/implied README.md: margin of outcome i
    # is (M/n) * fair odds_i.
    wpo = remove_margin(frame, method="wpo").filter(pl.col("event_id") == 0)
    np.testing.assert_allclose(
        (wpo["param"] * wpo["fair_odds"]).to_numpy(),
        [0.03056706, 0.02683049, 0.01396320],
        rtol=1e-6,
    )


# Source B: penaltyblog, test/test_implied.py (martineastwood/penaltyblog, commit
# 000e5a3), odds [2.7, 2.3, 4.4], checked there with assertAlmostEqual(places=4).
PENALTYBLOG_ODDS = [[2.7, 2.3, 4.4]]
PENALTYBLOG_TEST = {
    "multiplicative": [0.358738, 0.4211273, 0.2201347],
    "additive": [0.3595618, 0.423974, 0.2164642],
    "power": [0.3591708, 0.4237291, 0.2171001],
    "shin": [0.3593461, 0.4232517, 0.2174022],
    "odds_ratio": [0.3588103, 0.4225611, 0.2186286],
    # penaltyblog's differential_margin_weighting is the WPO formula n*O/(n - M*O)
    "wpo": [0.3595618, 0.423974, 0.2164642],
}


@pytest.mark.parametrize("method", sorted(PENALTYBLOG_TEST))
def test_penaltyblog_test_values(method: str) -> None:
    out = remove_margin(markets_frame(PENALTYBLOG_ODDS), method=method)
    np.testing.assert_allclose(fair_matrix(out, 3)[0], PENALTYBLOG_TEST[method], rtol=0, atol=5e-5)


def test_penaltyblog_docs_values() -> None:
    # martineastwood/penaltyblog docs/implied/implied.ipynb (commit 343f28a), printed at
    # full precision; their Shin solver is scipy's ridder (xtol 2e-12).
    frame = markets_frame(PENALTYBLOG_ODDS)
    np.testing.assert_allclose(
        remove_margin(frame)["fair_prob"].to_numpy(),
        [0.35873803615739097, 0.4211272598369373, 0.22013470400567173],
        rtol=0,
        atol=1e-14,
    )
    assert round(compute_overround(frame)["overround"][0], 4) == 0.0324  # "Margin: 0.0324"
    # The same notebook feeds American odds "+170", "+130", "+340" to Shin's method.
    american = american_to_decimal(pl.Series(["+170", "+130", "+340"]))
    shin = remove_margin(pl.DataFrame({"odds": american}), method="shin")
    np.testing.assert_allclose(
        shin["fair_prob"].to_numpy(),
        [0.35934391959159157, 0.42324384818283234, 0.21741223222458853],
        rtol=0,
        atol=1e-9,
    )
    assert round(shin["param"][0], 4) == 0.0162  # "Shin's z parameter: 0.0162"


# Source C: the `shin` Python package (mberk/shin).
def test_mberk_shin_three_outcomes() -> None:
    out = remove_margin(markets_frame([[2.6, 2.4, 4.3]]), method="shin")
    # tests/test_shin.py (commit 1d06e56): pytest.approx, i.e. rel 1e-6
    np.testing.assert_allclose(
        out["fair_prob"].to_numpy(), [0.3729941, 0.4047794, 0.2222265], rtol=1e-6
    )
    np.testing.assert_allclose(out["param"][0], 0.01694251, rtol=1e-6)
    # README.md (commit 0d86554): full-precision output, converged to delta 9.7e-13
    np.testing.assert_allclose(
        out["fair_prob"].to_numpy(),
        [0.37299406033208965, 0.4047794109200184, 0.2222265287474275],
        rtol=0,
        atol=1e-9,
    )
    np.testing.assert_allclose(out["param"][0], 0.01694251276407055, rtol=0, atol=1e-9)


def test_mberk_shin_two_outcomes_closed_form() -> None:
    # mberk/shin README.md: [1.5, 2.74] -> analytic z; "with two outcomes, Shin's method
    # is equivalent to the Additive Method" (also asserted in tests/test_shin.py).
    expected = [0.6508515815085157, 0.3491484184914841]
    frame = markets_frame([[1.5, 2.74]])
    shin = remove_margin(frame, method="shin")
    np.testing.assert_allclose(shin["fair_prob"].to_numpy(), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(shin["param"][0], 0.03172728540646625, rtol=1e-13)
    additive = remove_margin(frame, method="additive")
    np.testing.assert_allclose(additive["fair_prob"].to_numpy(), expected, rtol=0, atol=1e-15)


def test_balanced_book_matches_implied_source_formula() -> None:
    # No published numbers were found for "bb". This checks the formula of
    # opisthokonta/implied R/implied_probabilities.R (grossmargin = 0, target 1):
    #   zz <- (inverted_odds_sum - 1) / (n_outcomes - 1); probs <- (inverted_odds - zz)/(1 - zz)
    out = remove_margin(markets_frame(IMPLIED_ODDS), method="balanced_book")
    for row, probs in zip(IMPLIED_ODDS, fair_matrix(out, 3), strict=True):
        io = [1 / o for o in row]
        zz = (sum(io) - 1) / (len(io) - 1)
        np.testing.assert_allclose(probs, [(x - zz) / (1 - zz) for x in io], atol=1e-15)
    np.testing.assert_allclose(
        params(out), [(sum(1 / o for o in r) - 1) / 2 for r in IMPLIED_ODDS], atol=1e-15
    )


def test_additive_and_wpo_flag_negative_probabilities() -> None:
    # opisthokonta/implied tests/testthat/test_1.R: my_odds2 "designed to be problematic
    # with the additive method. It is also problematic with the wpo method"
    # (expect_warning, problematic == TRUE); shin/power/basic are not problematic.
    frame = markets_frame([[1 / x for x in (0.870, 0.2, 0.1, 0.05, 0.02, 0.01)]])
    for method in METHODS:
        out = remove_margin(frame, method=method)
        expected = method in {"additive", "wpo", "balanced_book"}
        assert out["negative_prob"].all() == expected, method
        assert not out["negative_prob"].any() or expected
        np.testing.assert_allclose(out["fair_prob"].sum(), 1.0, atol=1e-12)
        negative = out.filter(pl.col("fair_prob") <= 0)
        assert negative["fair_odds"].null_count() == negative.height


# --------------------------------------------------------------------------------------
# Odds-format conversion
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("american", "decimal"),
    [
        # fantasyfootballer.net/sports-betting/betting-odds-converter-table/
        (-400, 1.25),
        (-200, 1.5),
        (100, 2.0),
        (125, 2.25),
        (300, 4.0),
        (900, 10.0),
        # smartgamblingclub.com/sports-betting-odds-explained-fractional-decimal-and-moneyline
        (200, 3.0),
        (140, 2.4),
        (-125, 1.8),
        (225, 3.25),
        (120, 2.2),
        # betting-tool.com/odds-and-conversion/moneyline-calculator/: +150 -> 2.50
        (150, 2.5),
    ],
)
def test_american_decimal_references(american: int, decimal: float) -> None:
    assert american_to_decimal(american) == pytest.approx(decimal, abs=1e-12)
    assert decimal_to_american(decimal) == pytest.approx(american, abs=1e-9)


def test_american_rounded_references() -> None:
    # betting-tool.com moneyline calculator: -150 -> 1.667; malteranalytics.com/odds-calculator:
    # -110 = 1.91 decimal = 52.4 %
    assert american_to_decimal(-150) == pytest.approx(1.667, abs=5e-4)
    assert american_to_decimal(-110) == pytest.approx(1.91, abs=5e-3)
    assert decimal_to_implied_prob(american_to_decimal(-110)) == pytest.approx(0.524, abs=5e-4)


@pytest.mark.parametrize(
    ("fractional", "decimal"),
    [
        ("6-4", 2.5),  # en.wikipedia.org/wiki/Mathematics_of_bookmaking: 6-4 pays 2.5
        ("1/4", 1.25),  # fantasyfootballer.net betting odds converter table
        ("5/4", 2.25),  # idem
        ("3/1", 4.0),  # idem
        ("9/4", 3.25),  # smartgamblingclub.com cheat sheet
        ("7/5", 2.4),  # idem
        ("4/5", 1.8),  # idem
        ("4/6", 1 + 2 / 3),  # idem: American -150, fractional 4/6
        ("10/11", 1 + 10 / 11),  # idem / malteranalytics.com: -110 = 10/11
    ],
)
def test_fractional_references(fractional: str, decimal: float) -> None:
    assert fractional_to_decimal(fractional) == pytest.approx(decimal, abs=1e-12)
    num, den = decimal_to_fractional(decimal).split("/")
    assert Fraction(int(num), int(den)) == Fraction(fractional.replace("-", "/"))


def test_conversion_series_and_round_trips() -> None:
    odds = pl.Series("odds", [1.01, 1.5, 2.0, 2.5, 13.0, None])
    assert american_to_decimal(decimal_to_american(odds)).to_list()[:5] == pytest.approx(
        odds.to_list()[:5], abs=1e-12
    )
    assert decimal_to_american(odds)[5] is None
    probs = decimal_to_implied_prob(odds)
    assert implied_prob_to_decimal(probs).to_list()[:5] == pytest.approx(odds.to_list()[:5])
    assert decimal_to_fractional(odds).to_list() == ["1/100", "1/2", "1/1", "3/2", "12/1", None]
    assert fractional_to_decimal(pl.Series(["5/2", None, "evens"])).to_list() == [3.5, None, 2.0]
    assert american_to_decimal(pl.Series([170.0, -200.0])).to_list() == pytest.approx([2.7, 1.5])


@pytest.mark.parametrize("bad", [1.0, 0.5, -2.0, float("nan"), float("inf")])
def test_conversion_rejects_invalid_decimal(bad: float) -> None:
    with pytest.raises(ValidationError, match="odds must be finite decimal odds > 1"):
        decimal_to_american(bad)
    with pytest.raises(ValidationError, match="row 1 has"):
        decimal_to_implied_prob(pl.Series([2.0, bad]))


def test_conversion_rejects_invalid_other_formats() -> None:
    with pytest.raises(ValidationError, match=r"<= -100 or >= \+100"):
        american_to_decimal(50)
    with pytest.raises(ValidationError, match=r"<= -100 or >= \+100"):
        american_to_decimal(pl.Series([150, -99]))
    with pytest.raises(ValidationError, match="like '5/2'"):
        fractional_to_decimal("2.5")
    with pytest.raises(ValidationError, match="positive"):
        fractional_to_decimal("0/1")
    with pytest.raises(ValidationError, match="strictly between 0 and 1"):
        implied_prob_to_decimal(45.0)
    with pytest.raises(ValidationError, match="strictly between 0 and 1"):
        implied_prob_to_decimal(pl.Series([0.5, 1.0]))
    with pytest.raises(ConfigurationError, match="max_denominator"):
        decimal_to_fractional(2.5, max_denominator=0)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


def random_markets(
    seed: int, count: int, *, margin: tuple[float, float] = (-0.03, 0.15)
) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        n = int(rng.integers(2, 9))
        p = rng.dirichlet(np.full(n, rng.uniform(0.5, 3.0)))
        p = np.clip(p, 0.01, None)
        p /= p.sum()
        implied = p * (1 + rng.uniform(*margin))
        implied = np.minimum(implied, 0.98)
        rows.append([float(x) for x in np.round(1 / implied, 2)])
    return rows


def ragged_frame(rows: list[list[float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": [i for i, row in enumerate(rows) for _ in row],
            "odds": [o for row in rows for o in row],
        }
    )


@pytest.mark.parametrize("method", METHODS)
def test_fair_probabilities_sum_to_one(method: str) -> None:
    out = remove_margin(ragged_frame(random_markets(1, 300)), method=method)
    assert not out["incomplete"].any()
    assert not out["not_converged"].any()
    sums = out.group_by("event_id").agg(pl.col("fair_prob").sum())["fair_prob"].to_numpy()
    assert np.max(np.abs(sums - 1.0)) < 1e-12


@pytest.mark.parametrize("method", ITERATIVE)
def test_iterative_parameter_reproduces_probabilities(method: str) -> None:
    # The returned parameter is the root: recomputing p from it by the formula of the
    # module docstring gives Σ p = 1 to 1e-12 (no final renormalisation hides errors).
    out = remove_margin(ragged_frame(random_markets(2, 200)), method=method)
    pi = out["implied_prob"].to_numpy()
    x = out["param"].to_numpy()
    booksum = out.group_by("event_id", maintain_order=True).agg(pl.col("implied_prob").sum())
    b = out.join(booksum, on="event_id", suffix="_sum")["implied_prob_sum"].to_numpy()
    n = out.group_by("event_id", maintain_order=True).agg(pl.len())
    n_rows = out.join(n, on="event_id")["len"].to_numpy()
    if method == "power":
        p = pi**x
    elif method == "odds_ratio":
        p = pi / (x + pi - x * pi)
    else:
        p = (np.sqrt(x**2 + 4 * (1 - x) * pi**2 / b) - x) / (2 * (1 - x))
    p = np.where((method == "shin") & (n_rows == 2), out["fair_prob"].to_numpy(), p)
    np.testing.assert_allclose(p, out["fair_prob"].to_numpy(), rtol=1e-12, atol=1e-15)


def test_shin_two_outcome_closed_form_solves_shin_equation() -> None:
    rows = [r for r in random_markets(3, 200) if len(r) == 2]
    out = remove_margin(ragged_frame(rows), method="shin")
    pi = out["implied_prob"].to_numpy().reshape(-1, 2)
    z = out["param"].to_numpy()[::2][:, None]
    b = pi.sum(axis=1, keepdims=True)
    shin = (np.sqrt(z**2 + 4 * (1 - z) * pi**2 / b) - z) / (2 * (1 - z))
    np.testing.assert_allclose(shin, out["fair_prob"].to_numpy().reshape(-1, 2), atol=1e-13)


def test_multiplicative_round_trip() -> None:
    out = remove_margin(ragged_frame(random_markets(4, 300)), method="multiplicative")
    booksum = (out["overround"] + 1.0).to_numpy()
    rebuilt = 1.0 / (out["fair_prob"].to_numpy() * booksum)
    np.testing.assert_allclose(rebuilt, out["odds"].to_numpy(), rtol=1e-13)


@pytest.mark.parametrize("method", METHODS)
def test_zero_margin_is_unchanged(method: str) -> None:
    # booksums exactly 1 in binary floating point
    exact = [[2.0, 4.0, 4.0], [2.0, 2.0], [4.0, 4.0, 4.0, 4.0], [2.0, 8.0, 8.0, 4.0]]
    out = remove_margin(ragged_frame(exact), method=method)
    np.testing.assert_allclose(
        out["fair_prob"].to_numpy(), out["implied_prob"].to_numpy(), rtol=0, atol=1e-15
    )
    assert not out["under_round"].any()
    # Fair books priced as 1/p (booksum 1 up to float rounding)
    rng = np.random.default_rng(5)
    fair = [list(1 / rng.dirichlet(np.ones(int(rng.integers(2, 7))))) for _ in range(100)]
    out = remove_margin(ragged_frame(fair), method=method)
    np.testing.assert_allclose(
        out["fair_prob"].to_numpy(), out["implied_prob"].to_numpy(), rtol=0, atol=1e-12
    )
    assert not out["under_round"].any()
    assert not out["negative_prob"].any()


@pytest.mark.parametrize("method", METHODS)
def test_batch_equals_one_market_at_a_time(method: str) -> None:
    rows = random_markets(6, 40)
    batch = remove_margin(ragged_frame(rows), method=method)
    single = pl.concat(
        [remove_margin(ragged_frame([row]), method=method) for row in rows]
    ).get_column("fair_prob")
    np.testing.assert_allclose(batch["fair_prob"].to_numpy(), single.to_numpy(), rtol=1e-14)


def test_shin_converges_where_fixed_point_iteration_oscillates() -> None:
    odds = [2.35, 3.64, 3.32]
    pi = 1 / np.array(odds)
    b = pi.sum()

    def js_step(z: float) -> float:  # Jullien-Salanie fixed-point map for z
        return (np.sqrt(z**2 + 4 * (1 - z) * pi**2 / b).sum() - 2) / (len(pi) - 2)

    z = 0.0
    for _ in range(1000):
        z_prev, z = z, js_step(z)
    assert abs(z - z_prev) > 1e-5  # still flipping between two values after 1000 steps

    out = remove_margin(markets_frame([odds]), method="shin")
    assert not out["not_converged"].any()
    z_root = out["param"][0]
    assert 0 < z_root < 0.01
    assert abs(js_step(z_root) - z_root) < 1e-12  # the root is the fixed point
    assert abs(out["fair_prob"].sum() - 1) < 1e-12


def test_polars_keys_group_instances() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "event_id": [7] * 10,
            "bookmaker": ["a"] * 3 + ["b"] * 3 + ["a"] * 4,
            "captured_at": [t0] * 10,
            "market": ["1x2"] * 6 + ["over_under"] * 4,
            "line": [None] * 6 + [2.5, 2.5, 3.5, 3.5],
            "outcome": ["home", "draw", "away"] * 2 + ["over", "under"] * 2,
            "odds": [2.7, 2.3, 4.4, 2.6, 2.4, 4.3, 1.9, 1.9, 2.8, 1.4],
        }
    )
    out = remove_margin(frame, method="power")
    assert out.columns[: len(frame.columns)] == frame.columns
    assert out.height == frame.height
    sums = out.group_by("bookmaker", "market", "line").agg(pl.col("fair_prob").sum())
    assert sums.height == 4
    np.testing.assert_allclose(sums["fair_prob"].to_numpy(), 1.0, atol=1e-12)
    overround = compute_overround(frame)
    assert overround.height == 4
    assert overround.columns[:5] == ["event_id", "bookmaker", "captured_at", "market", "line"]
    by_line = compute_overround(frame, instance_keys=["bookmaker", "market", "line"])
    assert by_line["n_outcomes"].to_list() == [3, 3, 2, 2]
    # Keys that do not identify instances put an outcome twice in one group: an error.
    with pytest.raises(ValidationError, match="do not identify instances"):
        compute_overround(frame, instance_keys=["bookmaker"])


# --------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------


def test_incomplete_instances_are_flagged_not_raised() -> None:
    frame = pl.DataFrame(
        {
            "event_id": [1, 1, 1, 2, 2, 3, 3, 3, 4],
            "market": ["1x2"] * 3 + ["1x2"] * 2 + ["1x2"] * 3 + ["my_market"],
            "outcome": ["home", "draw", "away", "home", "away", "home", "draw", "away", "x"],
            "odds": [2.7, 2.3, 4.4, 1.5, 5.0, 2.0, None, 3.0, 1.5],
        }
    )
    for method in METHODS:
        out = remove_margin(frame, method=method)
        flags = out.group_by("event_id", maintain_order=True).agg(pl.col("incomplete").first())
        # 2: outcome "draw" missing; 3: "draw" suspended; 4: a single priced outcome
        assert flags["incomplete"].to_list() == [False, True, True, True]
        bad = out.filter(pl.col("incomplete"))
        assert bad["fair_prob"].null_count() == bad.height
        assert bad["param"].null_count() == bad.height
        assert bad["overround"].null_count() == bad.height
        assert not out["not_converged"].any()
    summary = compute_overround(frame)
    assert summary["incomplete"].to_list() == [False, True, True, True]
    assert summary["n_outcomes"].to_list() == [3, 2, 2, 1]


def test_under_round_books_are_normalised_and_flagged() -> None:
    frame = markets_frame([[2.1, 2.1], [2.2, 3.4, 4.6], [2.7, 2.3, 4.4]])
    expected_sign = {
        "multiplicative": lambda x: x > 1,  # scale 1/B > 1
        "additive": lambda x: x < 0,
        "power": lambda x: x < 1,
        "shin": lambda x: x < 0,
        "odds_ratio": lambda x: x < 1,
        "balanced_book": lambda x: x < 0,
        "wpo": lambda x: x < 0,
    }
    for method in METHODS:
        out = remove_margin(frame, method=method)
        flags = out.group_by("event_id", maintain_order=True).agg(
            pl.col("under_round").first(), pl.col("param").first()
        )
        assert flags["under_round"].to_list() == [True, True, False]
        assert all(expected_sign[method](x) for x in flags["param"][:2]), method
        assert not out["not_converged"].any()
        sums = out.group_by("event_id").agg(pl.col("fair_prob").sum())["fair_prob"]
        np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-12)
    assert compute_overround(frame)["under_round"].to_list() == [True, True, False]


def test_double_chance_is_excluded_with_a_flag() -> None:
    frame = pl.DataFrame(
        {
            "event_id": [1, 1, 1],
            "market": ["double_chance"] * 3,
            "outcome": ["home_draw", "home_away", "draw_away"],
            "odds": [1.25, 1.30, 1.60],
        }
    )
    out = remove_margin(frame, method="shin")
    assert out["non_exclusive"].all()
    assert out["fair_prob"].null_count() == 3
    booksum = 1 / 1.25 + 1 / 1.30 + 1 / 1.60
    np.testing.assert_allclose(out["overround"][0], booksum - 2)
    summary = compute_overround(frame)
    assert not summary["incomplete"][0]
    np.testing.assert_allclose(summary["overround"][0], booksum - 2)


def test_not_converged_flag() -> None:
    out = remove_margin(markets_frame([[2.6, 2.4, 4.3]]), method="odds_ratio", max_iter=1)
    assert out["not_converged"].all()
    assert out["fair_prob"].null_count() == 0  # the last iterate is still returned


# --------------------------------------------------------------------------------------
# Errors, compare_methods, timing
# --------------------------------------------------------------------------------------


def test_argument_errors() -> None:
    frame = markets_frame([[2.7, 2.3, 4.4]])
    with pytest.raises(
        ConfigurationError, match=r"`method` must be one of \{.*\}, got 'logarithmic'"
    ):
        remove_margin(frame, method="logarithmic")
    with pytest.raises(ConfigurationError, match="`instance_keys` names column"):
        remove_margin(frame, instance_keys=["bookmaker"])
    with pytest.raises(ConfigurationError, match="`tol`"):
        remove_margin(frame, tol=0)
    with pytest.raises(ConfigurationError, match="`max_iter`"):
        remove_margin(frame, max_iter=0)
    with pytest.raises(ConfigurationError, match="`methods`"):
        compare_methods(frame, methods=["shin", "kl"])


@pytest.mark.parametrize("bad", [1.0, 0.0, -1.5, float("nan"), float("inf")])
def test_invalid_odds_raise(bad: float) -> None:
    frame = markets_frame([[2.7, bad, 4.4]])
    with pytest.raises(
        ValidationError, match=r"row 1 .*Set the odds of a suspended outcome to null"
    ):
        remove_margin(frame)
    with pytest.raises(ValidationError, match="decimal odds > 1"):
        compute_overround(frame)


def test_data_errors() -> None:
    with pytest.raises(ValidationError, match="no 'odds' column"):
        remove_margin(pl.DataFrame({"price": [2.0, 2.0]}))
    with pytest.raises(ValidationError, match="must be numeric"):
        remove_margin(pl.DataFrame({"odds": ["2.0", "2.0"]}))
    dup = pl.DataFrame(
        {
            "event_id": [1, 1, 1],
            "market": ["btts"] * 3,
            "outcome": ["yes", "no", "no"],
            "odds": [1.8, 2.0, 2.1],
        }
    )
    with pytest.raises(ValidationError, match="appears 2 times"):
        remove_margin(dup)
    foreign = pl.DataFrame(
        {
            "event_id": [1, 1],
            "market": ["btts"] * 2,
            "outcome": ["yes", "maybe"],
            "odds": [1.8, 2.0],
        }
    )
    with pytest.raises(ValidationError, match="not an outcome of market 'btts'"):
        remove_margin(foreign)
    with pytest.raises(ValidationError, match="one market instance"):
        compare_methods(markets_frame([[2.7, 2.3, 4.4], [2.6, 2.4, 4.3]]))


def test_compare_methods_side_by_side() -> None:
    frame = markets_frame([[2.7, 2.3, 4.4]], market="1x2")
    table = compare_methods(frame)
    assert table.columns == ["outcome", "odds", "implied_prob", *METHODS]
    assert table["outcome"].to_list() == ["home", "draw", "away"]
    for method in METHODS:
        expected = remove_margin(frame, method=method)["fair_prob"]
        np.testing.assert_allclose(table[method].to_numpy(), expected.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(table["shin"].to_numpy(), PENALTYBLOG_TEST["shin"], atol=5e-5)


def test_empty_frame() -> None:
    empty = pl.DataFrame(
        {"event_id": [], "odds": []}, schema={"event_id": pl.Int64, "odds": pl.Float64}
    )
    for method in METHODS:
        assert remove_margin(empty, method=method).height == 0
    assert compute_overround(empty).height == 0


@pytest.mark.parametrize("method", METHODS)
def test_timing_100k_1x2_markets(method: str) -> None:
    rng = np.random.default_rng(7)
    m = 100_000
    p = rng.dirichlet([3.0, 2.0, 2.5], size=m)
    odds = np.round(1 / (p * (1 + rng.uniform(0.02, 0.10, size=(m, 1)))), 2)
    odds = np.maximum(odds, 1.01)
    frame = pl.DataFrame(
        {
            "event_id": np.repeat(np.arange(m), 3),
            "bookmaker": ["book"] * (3 * m),
            "market": ["1x2"] * (3 * m),
            "line": pl.Series([None] * (3 * m), dtype=pl.Float64),
            "outcome": ["home", "draw", "away"] * m,
            "odds": odds.ravel(),
        }
    )
    start = time.perf_counter()
    out = remove_margin(frame, method=method)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"{method} took {elapsed:.2f}s for {m} markets"
    assert not out["not_converged"].any()
    assert out.height == 3 * m


# --------------------------------------------------------------------------------------
# Instance grouping: row layouts, repeated outcomes, root-finder edge cases
# --------------------------------------------------------------------------------------


def layout_frame() -> pl.DataFrame:
    """Two events x two bookmakers x (1X2, over/under at two lines), one suspended
    price, one instance with an outcome missing, a null bookmaker and a NaN line."""
    rows = []
    for event in (1, 2):
        for book in ("a", "b", None):
            shift = 0.05 * event + (0.1 if book == "b" else 0.0)
            for outcome, odds in zip(("home", "draw", "away"), (2.6, 3.3, 2.9), strict=True):
                rows.append((event, book, "1x2", None, outcome, odds + shift))
            for line in (1.5, 2.5, float("nan")):
                bump = shift + (0.35 if np.isnan(line) else line / 10)
                for outcome, odds in zip(("over", "under"), (1.8, 2.0), strict=True):
                    rows.append((event, book, "over_under", line, outcome, odds + bump))
    frame = pl.DataFrame(
        rows,
        schema=["event_id", "bookmaker", "market", "line", "outcome", "odds"],
        orient="row",
    )
    return (
        frame.with_row_index("i")
        .filter(pl.col("i") != 7)
        .with_columns(odds=pl.when(pl.col("i") == 20).then(None).otherwise(pl.col("odds")))
    )


def assert_same_frames(left: pl.DataFrame, right: pl.DataFrame) -> None:
    assert left.schema == right.schema
    for name in left.columns:
        a, b = left[name], right[name]
        if a.dtype == pl.Float64:
            np.testing.assert_allclose(
                a.to_numpy(), b.to_numpy(), rtol=1e-12, atol=1e-15, equal_nan=True
            )
            assert a.is_null().equals(b.is_null()), name
        else:
            assert a.equals(b), name


@pytest.mark.parametrize("method", METHODS)
def test_row_order_does_not_matter(method: str) -> None:
    frame = layout_frame()
    shuffled = frame[np.random.default_rng(9).permutation(frame.height)]
    expected = remove_margin(frame, method=method).drop("i")
    out = remove_margin(shuffled, method=method).sort("i").drop("i")
    assert_same_frames(out, expected)
    keys = ["event_id", "bookmaker", "market", "line"]
    assert expected.filter(pl.col("incomplete")).select(keys).unique().height == 2
    # compute_overround keeps the first-appearance order of the instances
    summary = compute_overround(shuffled)
    assert summary.select(keys).equals(shuffled.select(keys).unique(maintain_order=True))


def test_grouping_paths_agree() -> None:
    from oddskit.market_instances import _group_by_polars, _group_rows

    frame = layout_frame().drop("i")
    keys = ["event_id", "bookmaker", "market", "line"]
    zero = pl.DataFrame(
        {"event_id": [9, 9], "bookmaker": ["a", "a"], "market": ["btts"] * 2, "line": [-0.0, 0.0]}
    )
    for data in (
        frame,
        frame[np.random.default_rng(1).permutation(frame.height)],
        pl.concat([frame.select(keys), zero]),
    ):
        fast = _group_rows(data, keys)
        slow = _group_by_polars(data.select(keys))
        for got, want in zip(fast[:4], slow[:4], strict=True):  # gid, first row, lengths, starts
            np.testing.assert_array_equal(got, want)
    # -0.0 and 0.0 are one instance, as in group_by
    assert len(_group_rows(zero, keys)[2]) == 1


def test_repeated_outcomes_are_found_in_any_layout() -> None:
    interleaved = pl.DataFrame(
        {
            "event_id": [1, 2, 1, 2, 2],
            "market": ["btts"] * 5,
            "outcome": ["yes", "yes", "no", "no", "yes"],
            "odds": [1.8, 1.9, 2.0, 1.9, 2.1],
        }
    )
    with pytest.raises(ValidationError, match="outcome 'yes' appears 2 times"):
        remove_margin(interleaved)
    custom = pl.DataFrame(
        {"event_id": [1, 2, 1, 2, 1], "outcome": ["p1", "p1", "p2", "p2", "p1"], "odds": [2.0] * 5}
    )
    with pytest.raises(ValidationError, match="outcome 'p1' appears 2 times"):
        compute_overround(custom)
    nulls = pl.DataFrame({"event_id": [1, 1, 1], "outcome": ["p1", None, None], "odds": [2.0] * 3})
    with pytest.raises(ValidationError, match="outcome None appears 2 times"):
        remove_margin(nulls)
    # The same names in different instances, interleaved, are fine.
    fine = custom.filter(pl.int_range(pl.len()) < 4)
    assert remove_margin(fine, method="shin")["fair_prob"].sum() == pytest.approx(2.0)
    # A known outcome of another market is still foreign in a shuffled frame.
    foreign = interleaved.with_columns(
        outcome=pl.Series(["yes", "no", "no", "yes", "home"]), event_id=pl.Series([1, 2, 1, 2, 3])
    )
    with pytest.raises(ValidationError, match="'home' is not an outcome of market 'btts'"):
        remove_margin(foreign[[4, 0, 2, 1, 3]])


@pytest.mark.parametrize("method", ITERATIVE)
def test_root_on_the_analytic_bound_and_tiny_tolerance(method: str) -> None:
    # Equal odds put the power root exactly on its analytic upper bound.
    out = remove_margin(markets_frame([[1.86, 1.86], [2.9, 2.9, 2.9], [1.5, 2.74]]), method=method)
    assert not out["not_converged"].any()
    np.testing.assert_allclose(out["fair_prob"].to_numpy()[:5], [1 / 2] * 2 + [1 / 3] * 3)
    # A tolerance below float resolution stops on a collapsed bracket, not at max_iter.
    frame = ragged_frame(random_markets(8, 100))
    start = time.perf_counter()
    out = remove_margin(frame, method=method, tol=1e-18)
    assert time.perf_counter() - start < 5.0
    assert not out["not_converged"].any()
    sums = out.group_by("event_id").agg(pl.col("fair_prob").sum())["fair_prob"].to_numpy()
    assert np.max(np.abs(sums - 1.0)) < 1e-14


def test_completeness_of_a_market_oddskit_does_not_know_is_unknown_never_true() -> None:
    frame = pl.DataFrame(
        {
            "event_id": [1, 1, 2],
            "market": ["total corners"] * 3,
            "outcome": ["over", "under", "over"],
            "odds": [1.9, 1.9, 1.5],
        }
    )
    summary = compute_overround(frame)
    # 1: both outcomes priced, but is that the whole market? Unknown. 2: one outcome: incomplete.
    assert summary["incomplete"].to_list() == [None, True]
    assert summary["is_complete"].to_list() == [None, False]
    assert summary["overround"][0] == pytest.approx(2 / 1.9 - 1)
    fair = remove_margin(frame)
    assert fair["incomplete"].to_list() == [None, None, True]
