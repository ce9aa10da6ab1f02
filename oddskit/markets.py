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
