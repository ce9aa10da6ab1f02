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
# # Margin analysis
#
# How much does each bookmaker charge, on which markets, and how does betPawa compare with
# the rest of the market?
#
# A bookmaker's **margin** (overround) is what its implied probabilities add up to beyond
# 100 %. For a 1x2 market priced 2.70 / 3.30 / 2.80 the implied probabilities are
# 1/2.70 + 1/3.30 + 1/2.80 = 37.0 + 30.3 + 35.7 = 103.0 %: a 3 % overround. The higher it
# is, the less a bettor gets back in the long run. Removing the margin gives **fair**
# probabilities, which are what we compare bookmakers against.
#
# The notebook uses the database that `oddskit.connect()` resolves (`ODDSKIT_DATABASE_URL`,
# `DATABASE_URL`, else the embedded local server) and seeds it with sample data if it
# holds no recent odds.

# %%
from datetime import UTC, datetime, timedelta

import plotly.express as px
import plotly.io as pio
import polars as pl

import oddskit
from oddskit.demo import open_demo_database
from oddskit.margins import METHODS, compare_methods, compute_overround, remove_margin
from oddskit.markets import MARKET_OUTCOMES
from oddskit.plots import (
    bookmaker_colors,
    plot_margin_distribution,
    plot_margin_heatmap,
    plot_margin_over_time,
    plot_vs_market,
)

# Charts show in JupyterLab and also as plain HTML (nbconvert, VS Code, other viewers).
pio.renderers.default = "plotly_mimetype+notebook"

db = open_demo_database(days=2, events_per_day=30)

# %% [markdown]
# ## The data
#
# We look at the matches that kicked off in the last three days. The **closing board** is
# each bookmaker's last snapshot before kickoff, for every market: the most informed
# prices, and the usual basis for comparing bookmakers.

# %%
now = datetime.now(UTC)
since = now - timedelta(days=3)
events = oddskit.fetch_events(db, kickoff_since=since, kickoff_until=now)
closing = oddskit.fetch_closing_odds(db, kickoff_since=since, kickoff_until=now)
print(
    f"{events.height} matches, {closing['bookmaker'].n_unique()} bookmakers, "
    f"{closing.height:,} closing prices"
)
closing.head()

# %% [markdown]
# ## Overround by bookmaker and market
#
# `compute_overround` turns the long frame into one row per **market instance** (event ×
# bookmaker × snapshot × market × line) with its `booksum` (Σ 1/odds), `overround`
# (booksum − 1) and `hold`. An instance with a suspended or missing outcome is marked
# incomplete and gets no overround.

# %%
instances = compute_overround(closing)
instances.head()

# %% [markdown]
# Averaging the complete instances per bookmaker and market (in %): Pinnacle, the sharp
# book, charges least; BTTS usually carries the fattest margin. Double chance is measured
# against a booksum of 2, because its outcomes overlap.

# %%
(
    instances.filter(~pl.col("incomplete"))
    .group_by("bookmaker", "market")
    .agg((100 * pl.col("overround").mean()).round(2).alias("overround_pct"))
    .pivot(on="market", index="bookmaker", values="overround_pct")
    .select("bookmaker", *(m for m in MARKET_OUTCOMES if m in closing["market"]))
    .sort("bookmaker")
)

# %% [markdown]
# The same numbers as a heatmap. Read across a row for where a bookmaker takes its margin;
# read down a column for who is cheapest in a market. `scale="market"` colours each market
# (column) from its lowest to its highest margin, so that double chance (measured against
# a book of 2, so about twice the others) does not wash out the other markets; the numbers
# in the cells are the margins.

# %% tags=["chart"]
fig = plot_margin_heatmap(closing, scale="market")
fig

# %% [markdown]
# Averages hide the spread. Each box below is the distribution of the closing overround
# over matches (and lines): the box is the middle half, the line inside is the median,
# the whiskers reach the most extreme values within 1.5 IQR. A tall box means the
# bookmaker's margin depends on the match.

# %% tags=["chart"]
fig = plot_margin_distribution(closing, markets=["1x2", "over_under", "btts", "asian_handicap"])
fig

# %% [markdown]
# ## Margin and time to kickoff
#
# Do bookmakers price early markets with a wider margin and tighten it as kickoff nears
# and liquidity arrives? For that we need the whole history, not only the closing board.
# `fetch_odds_history` over a bounded window reads only those days' partitions; we take
# the 1x2 market and join each match's kickoff.

# %%
history = oddskit.fetch_odds_history(db, markets="1x2", since=since, until=now).join(
    events.select("event_id", "kickoff"), on="event_id"
)
margins = (
    compute_overround(history)
    .filter(~pl.col("incomplete"))
    .join(events.select("event_id", "kickoff"), on="event_id")
    .with_columns(
        ((pl.col("kickoff") - pl.col("captured_at")).dt.total_minutes() / 60)
        .ceil()
        .alias("hours_to_kickoff")
    )
)
by_lead = (
    margins.group_by("bookmaker", "hours_to_kickoff")
    .agg((100 * pl.col("overround").mean()).alias("overround_pct"), pl.len().alias("n"))
    .filter(pl.col("n") >= 5)
    .sort("bookmaker", "hours_to_kickoff")
)
by_lead.head()

# %% [markdown]
# Each line is one bookmaker's mean 1x2 overround by hours before kickoff (1 = the last
# hour). In the sample data margins are drawn per match and stay put, so the lines are
# flat; on real data a downward slope towards kickoff is common.

# %% tags=["chart"]
fig = px.line(
    by_lead,
    x="hours_to_kickoff",
    y="overround_pct",
    color="bookmaker",
    color_discrete_map=bookmaker_colors(by_lead["bookmaker"].unique().to_list()),
    markers=True,
    hover_data=["n"],
    labels={
        "hours_to_kickoff": "Hours before kickoff",
        "overround_pct": "Mean 1x2 overround (%)",
        "bookmaker": "Bookmaker",
    },
    title="1x2 overround by time to kickoff",
    template="plotly_white",
)
fig.update_xaxes(autorange="reversed")
fig

# %% [markdown]
# The same history by clock time: the mean 1x2 overround of all matches captured in each
# hour. A step in one line is a bookmaker changing its pricing policy.

# %% tags=["chart"]
fig = plot_margin_over_time(history, market="1x2", every="1h")
fig

# %% [markdown]
# ## Removing the margin: the methods compared
#
# To get fair probabilities the margin has to be taken out, and there is more than one way
# to do it. `multiplicative` scales every implied probability down by the same factor;
# `additive` subtracts the same amount from each; `power`, `shin` and `odds_ratio` take
# more margin off long shots (bookmakers tend to overprice them: the favourite–long-shot
# bias); `shin` models the margin as protection against insiders. See
# `oddskit/margins.py` for the formulas.
#
# `compare_methods` shows one market instance under every method. Here betPawa's closing
# 1x2 of one match:

# %%
one_x_two = closing.filter(pl.col("market") == "1x2")
complete = compute_overround(one_x_two).filter(~pl.col("incomplete"))
pick = complete.filter(pl.col("bookmaker") == "betPawa").row(0, named=True)
instance = one_x_two.filter(
    (pl.col("event_id") == pick["event_id"]) & (pl.col("bookmaker") == pick["bookmaker"])
)
print(f"overround {100 * pick['overround']:.2f} %")
compare_methods(instance.select("event_id", "bookmaker", "market", "line", "outcome", "odds"))

# %% [markdown]
# `remove_margin` does the same for every market instance at once (vectorised) and adds
# `fair_prob`, `fair_odds`, the method's parameter and flags for problem markets. Below,
# for every closing 1x2 market we take the **long shot** (the highest odds) and ask how
# much of the margin each method loads onto it: the fair odds are higher than the posted
# odds by this much, on average. `multiplicative` spreads the margin proportionally; the
# others put more of it on the long shot.

# %%
rows = []
for method in METHODS:
    fair = remove_margin(one_x_two, method=method).filter(pl.col("fair_prob").is_not_null())
    longshot = fair.filter(pl.col("odds") == pl.col("odds").max().over("event_id", "bookmaker"))
    rows.append(
        longshot.group_by("bookmaker").agg(
            pl.lit(method).alias("method"),
            (100 * (pl.col("fair_odds") / pl.col("odds") - 1)).mean().alias("longshot_uplift_pct"),
        )
    )
(
    pl.concat(rows)
    .with_columns(pl.col("longshot_uplift_pct").round(2))
    .pivot(on="method", index="bookmaker", values="longshot_uplift_pct")
    .sort("bookmaker")
)

# %% [markdown]
# ## Where betPawa stands against the market
#
# `plot_vs_market` compares one bookmaker with the **best price** on offer for each outcome
# and with the **consensus fair odds** (every bookmaker's prices de-vigged and averaged).
# Bars are mean distances below each reference, in % of the reference odds, over all
# matches on the closing board:
#
# * *below best price*: how much a betPawa customer gives up against shopping around
#   (0 % = betPawa is the best price);
# * *below consensus fair odds*: the margin betPawa charges on that outcome. Differences
#   between home, draw and away show where it puts its margin.

# %% tags=["chart"]
fig = plot_vs_market(closing, bookmaker="betPawa", market="1x2")
fig

# %% [markdown]
# The same for over/under 2.5 goals, this time against the *other* bookmakers only
# (`exclude_self=True`), so that betPawa can beat the reference: a negative bar means its
# price is better than every other bookmaker's on average.

# %% tags=["chart"]
fig = plot_vs_market(closing, bookmaker="betPawa", market="over_under", line=2.5, exclude_self=True)
fig

# %%
db.close()
