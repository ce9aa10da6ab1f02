"""The market vocabulary shared by the loader, the sample generator and the analytics.

A *market instance* is one market of one event at one bookmaker in one snapshot,
at one line: ``event_id × bookmaker × captured_at × market × line``. Its outcomes
are listed here so that analytics can tell a complete market from one with an
outcome missing or suspended.

Example:
    >>> MARKET_OUTCOMES["1x2"]
    ('home', 'draw', 'away')
    >>> sorted(MARKETS_WITH_LINE)
    ['asian_handicap', 'over_under']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

#: Outcomes of each market, in display order.
MARKET_OUTCOMES: dict[str, tuple[str, ...]] = {
    "1x2": ("home", "draw", "away"),
    "double_chance": ("home_draw", "home_away", "draw_away"),
    "over_under": ("over", "under"),
    "btts": ("yes", "no"),
    "asian_handicap": ("home", "away"),
}

#: Markets whose outcomes are mutually exclusive and exhaustive, so that fair
#: probabilities sum to one. Double chance outcomes overlap (they sum to two).
EXCLUSIVE_MARKETS: frozenset[str] = frozenset({"1x2", "over_under", "btts", "asian_handicap"})

#: Markets priced at a line (goals for over/under, the home handicap for Asian handicap).
MARKETS_WITH_LINE: frozenset[str] = frozenset({"over_under", "asian_handicap"})

#: Columns that identify one market instance in every oddskit frame.
MARKET_INSTANCE_KEYS: tuple[str, ...] = ("event_id", "bookmaker", "captured_at", "market", "line")


# -- canonical names ------------------------------------------------------------------

#: Names of the known markets as sources write them (compared in lower case, with
#: spaces, dashes and slashes alike) → oddskit's name.
MARKET_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        [
            "1x2",
            "h2h",
            "match_odds",
            "match odds",
            "ft result",
            "full time result",
            "fulltime result",
            "match result",
            "1x2 ft",
            "3way",
            "3 way",
            "three way",
            "result",
        ],
        "1x2",
    ),
    **dict.fromkeys(
        [
            "over_under",
            "over/under",
            "over under",
            "totals",
            "total",
            "o/u",
            "ou",
            "total goals",
            "goals over/under",
        ],
        "over_under",
    ),
    **dict.fromkeys(
        ["asian_handicap", "asian handicap", "spreads", "spread", "handicap", "ah"],
        "asian_handicap",
    ),
    **dict.fromkeys(["double_chance", "double chance", "dc"], "double_chance"),
    **dict.fromkeys(
        ["btts", "both teams to score", "both_teams_to_score", "gg/ng", "gg_ng", "bts"], "btts"
    ),
}

#: Outcome names per known market (lower case) → oddskit's outcome. The event's own
#: team names also stand for ``home`` and ``away`` in 1x2 and Asian handicap.
OUTCOME_ALIASES: dict[str, dict[str, str]] = {
    "1x2": {
        **dict.fromkeys(["home", "1", "h", "home win", "w1"], "home"),
        **dict.fromkeys(["draw", "x", "d", "tie"], "draw"),
        **dict.fromkeys(["away", "2", "a", "away win", "w2"], "away"),
    },
    "double_chance": {
        **dict.fromkeys(["home_draw", "1x", "home or draw", "home/draw", "hd"], "home_draw"),
        **dict.fromkeys(["home_away", "12", "home or away", "home/away", "ha"], "home_away"),
        **dict.fromkeys(["draw_away", "x2", "draw or away", "draw/away", "da"], "draw_away"),
    },
    "over_under": {
        **dict.fromkeys(["over", "o", "+", "over_goals"], "over"),
        **dict.fromkeys(["under", "u", "-", "under_goals"], "under"),
    },
    "btts": {
        **dict.fromkeys(["yes", "y", "gg", "btts_yes"], "yes"),
        **dict.fromkeys(["no", "n", "ng", "btts_no"], "no"),
    },
    "asian_handicap": {
        **dict.fromkeys(["home", "1", "h"], "home"),
        **dict.fromkeys(["away", "2", "a"], "away"),
    },
}

#: Markets whose outcomes may be written as the team names.
_TEAM_OUTCOMES = frozenset({"1x2", "asian_handicap"})


def _folded(text: pl.Expr) -> pl.Expr:
    """Lower case, trimmed, runs of spaces, dashes and underscores as one space."""
    return text.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s_\-]+", " ")


def _fold(text: str) -> str:
    """:func:`_folded` of one name."""
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def canonical_market_names(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rewrite ``market`` and ``outcome`` in oddskit's vocabulary.

    ``rows`` has ``row``, ``market``, ``outcome``, ``home_team`` and ``away_team``.
    Known markets (:data:`MARKET_ALIASES`) get their canonical name and outcome
    (:data:`OUTCOME_ALIASES`, or the event's team names for home and away); a known
    market with an outcome it does not have is an error (``row``, ``column``,
    ``value``, ``reason``). Other markets are kept verbatim.

    Example:
        >>> rows = pl.DataFrame({"row": [1, 2, 3, 4], "market": ["1X2", "h2h", "totals", "corners"],
        ...     "outcome": ["X", "Arsenal", "Over", "Over 9.5"],
        ...     "home_team": ["Arsenal"] * 4, "away_team": ["Chelsea"] * 4})
        >>> canonical, errors = canonical_market_names(rows)
        >>> canonical.select("market", "outcome").rows()
        [('1x2', 'draw'), ('1x2', 'home'), ('over_under', 'over'), ('corners', 'Over 9.5')]
        >>> canonical_market_names(rows.with_columns(outcome=pl.lit("over")))[1]["row"].to_list()
        [1, 2]
    """
    alias_table = pl.DataFrame(
        {
            "market_folded": [_fold(name) for name in MARKET_ALIASES],
            "canonical_market": list(MARKET_ALIASES.values()),
        }
    ).unique("market_folded")
    outcome_table = pl.DataFrame(
        [
            {"canonical_market": market, "outcome_folded": _fold(name), "canonical_outcome": to}
            for market, names in OUTCOME_ALIASES.items()
            for name, to in names.items()
        ]
    )
    folded = (
        rows.with_columns(
            market_folded=_folded(pl.col("market")), outcome_folded=_folded(pl.col("outcome"))
        )
        .join(alias_table, on="market_folded", how="left")
        .join(outcome_table, on=["canonical_market", "outcome_folded"], how="left")
    )
    team = pl.col("canonical_market").is_in(list(_TEAM_OUTCOMES))
    by_team = (
        pl.when(team & (pl.col("outcome_folded") == _folded(pl.col("home_team"))))
        .then(pl.lit("home"))
        .when(team & (pl.col("outcome_folded") == _folded(pl.col("away_team"))))
        .then(pl.lit("away"))
    )
    folded = folded.with_columns(canonical_outcome=pl.coalesce("canonical_outcome", by_team))
    known = pl.col("canonical_market").is_not_null()
    bad = folded.filter(known & pl.col("canonical_outcome").is_null())
    errors = bad.select(
        pl.col("row"),
        pl.lit("outcome").alias("column"),
        pl.col("outcome").alias("value"),
        pl.format(
            "is not an outcome of the {} market (known as {}); use one of: {}",
            "canonical_market",
            "market",
            pl.col("canonical_market").replace_strict(
                {m: ", ".join(o) for m, o in MARKET_OUTCOMES.items()}, default=""
            ),
        ).alias("reason"),
    )
    canonical = folded.filter(~(known & pl.col("canonical_outcome").is_null())).with_columns(
        market=pl.coalesce("canonical_market", "market"),
        outcome=pl.when(known).then(pl.col("canonical_outcome")).otherwise(pl.col("outcome")),
    )
    return canonical.select(rows.columns), errors


HandicapLines = Literal["home", "own", "auto"]


def home_handicap_lines(
    rows: pl.DataFrame, *, by: list[str], lines: HandicapLines = "auto"
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Write every Asian-handicap row's ``line`` as the home team's handicap.

    oddskit's convention: both outcomes of an Asian-handicap book carry the **home**
    handicap (home −0.75 and away at −0.75 are one book: home gives 0.75 goals). Many
    feeds write each side's own handicap instead (home −0.75, away +0.75). ``lines``:

    ``"home"``  the rows already follow the convention; nothing is changed;
    ``"own"``   each row carries its own side's handicap: away lines are negated;
    ``"auto"``  per book (the rows of one ``by`` group), negate the away lines when that
                is the only reading that pairs them: the away lines are exactly the
                negated home lines, and not the home lines themselves.

    Returns the rows and counts: ``converted`` books, and ``unpaired`` books that look
    like the own-side mistake but could not be turned: a line with only the home side
    whose negation has only the away side (a side merely missing, e.g. suspended, is
    not counted).

    Example:
        >>> rows = pl.DataFrame({"snapshot": [1, 1, 2, 2],
        ...     "market": ["asian_handicap"] * 4, "outcome": ["home", "away"] * 2,
        ...     "line": [-0.75, 0.75, -0.25, -0.25]})
        >>> fixed, counts = home_handicap_lines(rows, by=["snapshot"])
        >>> fixed["line"].to_list(), counts
        ([-0.75, -0.75, -0.25, -0.25], {'converted': 1, 'unpaired': 0})
    """
    handicap = pl.col("market") == "asian_handicap"
    books = (
        rows.filter(handicap & pl.col("line").is_not_null())
        .group_by(by)
        .agg(
            home=pl.col("line").filter(pl.col("outcome") == "home").unique().sort(),
            away=pl.col("line").filter(pl.col("outcome") == "away").unique().sort(),
            mirrored=(-pl.col("line").filter(pl.col("outcome") == "away")).unique().sort(),
        )
    )
    # The usual mistake, when it cannot be undone: a line with only the home side whose
    # negation has only the away side (home -0.75 and away +0.75, nothing else there).
    mistake = (
        pl.col("home")
        .list.set_difference("away")
        .list.eval(-pl.element())
        .list.set_intersection(pl.col("away").list.set_difference("home"))
        .list.eval(pl.element().filter(pl.element() != 0))
        .list.len()
        > 0
    )
    if not books.height or lines == "home":
        unpaired = books.filter(mistake).height if books.height else 0
        return rows, {"converted": 0, "unpaired": unpaired}
    if lines == "own":
        flip = books.with_columns(flip=pl.lit(True))
    else:
        flip = books.with_columns(
            flip=(pl.col("home") != pl.col("away")) & (pl.col("home") == pl.col("mirrored"))
        )
    unpaired = flip.filter(~pl.col("flip") & mistake).height
    converted = int(flip["flip"].sum())
    flagged = rows.join(flip.select(*by, "flip"), on=by, how="left")
    fixed = flagged.with_columns(
        line=pl.when(handicap & (pl.col("outcome") == "away") & pl.col("flip").fill_null(False))
        .then(0.0 - pl.col("line"))  # 0.0 - x: a pushed line 0 stays +0.0
        .otherwise(pl.col("line"))
    ).drop("flip")
    return fixed, {"converted": converted, "unpaired": unpaired}


@dataclass
class VocabularyNotes:
    """What checking names in the vocabulary found over a load (for its summary).

    Example:
        >>> notes = VocabularyNotes()
        >>> notes.add(pl.DataFrame({"market": ["1x2", "corners"]}), {"converted": 2, "unpaired": 0})
        >>> notes.unknown_markets, notes.handicap_converted
        ({'corners'}, 2)
    """

    unknown_markets: set[str] = field(default_factory=set)
    handicap_converted: int = 0
    handicap_unpaired: int = 0

    def add(self, rows: pl.DataFrame, handicaps: dict[str, int]) -> None:
        """Note the markets of ``rows`` oddskit does not know, and the handicap counts."""
        markets = rows.get_column("market").unique().to_list()
        self.unknown_markets.update(m for m in markets if m not in MARKET_OUTCOMES)
        self.handicap_converted += handicaps["converted"]
        self.handicap_unpaired += handicaps["unpaired"]


# -- aggregate books --------------------------------------------------------------------

#: A book whose name ends with this marker (any case, trailing spaces ignored) holds
#: market aggregates, such as the best or the average price over many bookmakers
#: (football-data.co.uk's ``Max``/``Avg`` columns), not one bookmaker's prices.
#: Cross-bookmaker answers leave aggregate books out: best prices, consensus,
#: arbitrage, the consensus close of closing-line value, steam, lead–lag and the
#: "priced by two or more bookmakers" counts. Per-book answers (margins, histories,
#: charts) keep them under their marked name.
AGGREGATE_MARKER = "(aggregate)"


def is_aggregate_book(name: object) -> bool:
    """Whether a bookmaker name is an aggregate book (ends with :data:`AGGREGATE_MARKER`).

    Example:
        >>> is_aggregate_book("football-data max (aggregate)"), is_aggregate_book("Pinnacle")
        (True, False)
    """
    return isinstance(name, str) and name.rstrip().casefold().endswith(AGGREGATE_MARKER)


def aggregate_book(column: str = "bookmaker") -> pl.Expr:
    """Polars expression: is the book in ``column`` an aggregate book (never null).

    Example:
        >>> frame = pl.DataFrame({"bookmaker": ["bet365", "Market Average (Aggregate)", None]})
        >>> frame.select(aggregate_book())["bookmaker"].to_list()
        [False, True, False]
    """
    name = pl.col(column).cast(pl.String).str.strip_chars_end().str.to_lowercase()
    return name.str.ends_with(AGGREGATE_MARKER).fill_null(False)
