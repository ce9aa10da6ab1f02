# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A football-data.co.uk season: closing margins and closing-line value
#
# football-data.co.uk publishes a CSV per league and season with the opening and closing
# prices of about twenty bookmakers. This notebook imports one season and answers two
# questions:
#
# 1. How much margin does each bookmaker charge at the close?
# 2. Did bet365's **opening** prices beat the sharp book's (Pinnacle's) de-vigged close?
#    That is *closing-line value* (CLV): a price above the fair closing price is a good
#    price, whatever the result.
#
# By default it reads the small example file in `examples/data/football-data/`; point
# `SEASON` at a real season (e.g. `E0.csv` from football-data.co.uk) for real answers. The
# season goes straight to the Parquet archive (`to="archive"`: old data never touches the
# live tables), in the database that `oddskit.connect()` resolves. Importing it again adds
# nothing.

# %%
import os
from pathlib import Path

import plotly.express as px
import plotly.io as pio
import polars as pl

import oddskit
from oddskit.margins import compute_overround
from oddskit.movement import closing_line_value

# Charts show in JupyterLab and also as plain HTML (nbconvert, VS Code, other viewers).
pio.renderers.default = "plotly_mimetype+notebook"

SEASON = Path(os.environ.get("ODDSKIT_SEASON", "../examples/data/football-data/E0_2425.csv"))
SHARP, BOOK = "Pinnacle", "bet365"

# %% [markdown]
# ## Import
#
# `read_football_data` turns the file into oddskit's input format (nothing written yet):
# one row per bookmaker × match × opening/closing × market × outcome. Opening prices are
# stamped when football-data collects them (15:00 UK time on the Tuesday or Friday before
# the match), closing prices a minute before kickoff; every bookmaker's listing of a row
# shares the row's `match_key`, so they are one match.

# %%
season = oddskit.read_football_data(SEASON)
print(
    f"{season.height:,} prices, {season['match_key'].n_unique()} matches, "
    f"bookmakers: {', '.join(sorted(season['bookmaker'].unique()))}"
)

db = oddskit.connect()
oddskit.migrate(db)
report = oddskit.load(season, db=db, to="archive", source_name=str(SEASON), progress=False)
print(report)

# %% [markdown]
# ## Closing margins by bookmaker
#
# The closing 1x2 book of each bookmaker and match, its overround, averaged per bookmaker.

# %%
first, last = season["kickoff"].min(), season["kickoff"].max()
closing = oddskit.fetch_closing_odds(db, markets="1x2", kickoff_since=first)
closing = closing.filter(pl.col("kickoff") <= last)  # this season's matches
margins = (
    compute_overround(closing)
    .filter(~pl.col("incomplete"))
    .group_by("bookmaker")
    .agg(pl.col("overround").mean().alias("mean closing overround"), pl.len().alias("matches"))
    .sort("mean closing overround")
)
margins

# %% tags=["chart"]
px.bar(
    margins,
    x="bookmaker",
    y="mean closing overround",
    title="Mean closing 1x2 overround by bookmaker",
).update_yaxes(tickformat=".1%")

# %% [markdown]
# ## bet365's opening prices against Pinnacle's fair close
#
# Each opening 1x2 price of bet365 is a bet; `closing_line_value` compares it with
# Pinnacle's closing price with the margin removed (multiplicative method). Positive CLV:
# the opening price was better than the fair close.

# %%
opening = oddskit.fetch_opening_odds(db, bookmakers=BOOK, markets="1x2", kickoff_since=first)
bets = opening.filter(pl.col("kickoff") <= last).select(
    "event_id", "market", "line", "outcome", "odds", "bookmaker"
)
clv = closing_line_value(bets, closing, sharp=SHARP)
summary = (
    clv.group_by("outcome")
    .agg(pl.col("clv").mean().alias("mean CLV"), pl.col("clv").count().alias("bets"))
    .sort("outcome")
)
summary

# %% tags=["chart"]
px.histogram(
    clv.drop_nulls("clv"),
    x="clv",
    color="outcome",
    nbins=20,
    title=f"CLV of {BOOK}'s opening prices against {SHARP}'s fair close",
).update_xaxes(tickformat=".0%")

# %%
db.close()
