"""Plotly figures of odds movement, bookmaker margins and prices against the market.

Every function takes a long odds frame (one row per priced outcome, as in
:mod:`oddskit.margins` and :mod:`oddskit.movement`: ``event_id, bookmaker,
captured_at, market, line, outcome, odds``) and returns a
:class:`plotly.graph_objects.Figure`. Nothing is shown or written: call
``fig.show()``, ``fig.write_html(...)`` or ``fig.write_image(...)`` yourself.

Conventions shared by every chart:

* a bookmaker has the same colour in every chart (:func:`bookmaker_colors`);
* times are UTC, plotted as naive UTC timestamps (axis titles say "(UTC)");
* odds are decimal; margins are overrounds in percent (``100 · (Σ 1/odds − 1)``,
  ``− 2`` for double chance, see :func:`oddskit.margins.compute_overround`);
  incomplete market instances (an outcome suspended or missing) are left out;
* hovering shows the exact values: odds to 3 decimals, overrounds and percentages
  to 2 decimals, timestamps to the second;
* the template is ``"plotly_white"``; titles, axis titles (with units) and legend
  titles are always set.

Bad options raise :class:`~oddskit.errors.ConfigurationError` saying which values
exist (events, markets, lines, outcomes, bookmakers); a frame lacking a column
raises :class:`~oddskit.errors.ValidationError`.

This module is the public face: the charts live in :mod:`oddskit.plots_prices`
(:func:`plot_line_movement`, :func:`plot_vs_market`, :func:`plot_vs_market_over_time`)
and :mod:`oddskit.plots_margins` (:func:`plot_margin_over_time`,
:func:`plot_margin_distribution`, :func:`plot_margin_heatmap`), on the shared colours,
checks and layout of :mod:`oddskit.plots_common`.

Examples
--------
>>> bookmaker_colors(["Pinnacle", "betPawa"])
{'Pinnacle': '#F28E2B', 'betPawa': '#2CA02C'}
"""

from oddskit.plots_common import BOOKMAKER_COLORS, TEMPLATE, bookmaker_colors
from oddskit.plots_margins import (
    plot_margin_distribution,
    plot_margin_heatmap,
    plot_margin_over_time,
)
from oddskit.plots_prices import plot_line_movement, plot_vs_market, plot_vs_market_over_time

__all__ = [
    "BOOKMAKER_COLORS",
    "TEMPLATE",
    "bookmaker_colors",
    "plot_line_movement",
    "plot_margin_distribution",
    "plot_margin_heatmap",
    "plot_margin_over_time",
    "plot_vs_market",
    "plot_vs_market_over_time",
]
