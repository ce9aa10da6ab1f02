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
# # Line movement
#
# Odds move between the opening and kickoff as news arrives and money comes in. This
# notebook follows one market across bookmakers, compares opening and closing prices,
# looks for **steam** (several bookmakers moving the same way at once) and **lead–lag**
# (who moves first, who follows and how late), and measures the **closing-line value** of
# a few example bets: the standard test of whether a bet was taken at a good price.
#
# A word on units: a move in odds means little on its own (2.00 → 1.90 is not the same as
# 10.0 → 9.9), so the analytics measure moves in **implied-probability points**
# (1/odds; 0.02 = two points). Odds going down ("shortening") means the outcome became
# more likely in the bookmaker's eyes.

# %%
from datetime import UTC, datetime, timedelta

import plotly.express as px
import plotly.io as pio
import polars as pl

import oddskit
from oddskit.demo import open_demo_database
from oddskit.movement import (
    closing_line_value,
    detect_steam,
    dropping_odds,
    lead_lag,
    lead_lag_summary,
    summarise_movement,
)
from oddskit.plots import bookmaker_colors, plot_line_movement, plot_vs_market_over_time

# Charts show in JupyterLab and also as plain HTML (nbconvert, VS Code, other viewers).
pio.renderers.default = "plotly_mimetype+notebook"

db = open_demo_database(days=2, events_per_day=30)

# %% [markdown]
# ## The history of the 1x2 market
#
# Matches that kicked off in the last three days, and every 1x2 price captured for them
# (a bounded window: PostgreSQL reads only those days' partitions). The analytics need
# each match's `kickoff` (closing prices are the last ones before it) and the charts like
# team names, so we join them from `fetch_events`.

# %%
now = datetime.now(UTC)
since = now - timedelta(days=3)
events = oddskit.fetch_events(db, kickoff_since=since, kickoff_until=now)
history = oddskit.fetch_odds_history(db, markets="1x2", since=since - timedelta(days=1), until=now)
history = history.join(
    events.select("event_id", "tournament", "home_team", "away_team", "kickoff"), on="event_id"
)
print(f"{events.height} matches, {history.height:,} 1x2 prices")

# %% [markdown]
# ## Opening, closing and the biggest movers
#
# `summarise_movement` gives one row per price series (event × market × bookmaker ×
# outcome): opening, closing (last before kickoff) and current prices, the number of
# moves, the largest single move, and the change from opening in odds, in %, in
# probability points and in log-odds.

# %%
movement = summarise_movement(history)
movement.select(
    "event_id",
    "bookmaker",
    "outcome",
    "opening_odds",
    "closing_odds",
    "prob_change",
    "n_moves",
    "largest_move",
).head()

# %% [markdown]
# To find the match whose market moved most, we average each outcome's probability change
# over the bookmakers (so one bookmaker's correction does not count as a market move) and
# keep matches priced by at least three of them.

# %%
movers = (
    movement.group_by("event_id", "outcome")
    .agg(
        pl.col("prob_change").mean().alias("mean_prob_change"),
        pl.col("bookmaker").n_unique().alias("n_bookmakers"),
    )
    .filter(pl.col("n_bookmakers") >= 3)
    .sort(pl.col("mean_prob_change").abs(), descending=True)
    .unique("event_id", keep="first", maintain_order=True)
    .join(events.select("event_id", "home_team", "away_team", "kickoff"), on="event_id")
    .sort(pl.col("mean_prob_change").abs(), descending=True)
    .head(5)
)
biggest = movers.row(0, named=True)
movers

# %% [markdown]
# The biggest mover, across bookmakers: one panel per outcome, a step line per bookmaker
# (a price holds until the next snapshot), kickoff dashed. Look at *when* each bookmaker
# reacts: Pinnacle moves first and in fine steps; betPawa, SportyBet and Bet9ja follow
# 10–25 minutes later, in coarser steps, and sometimes skip a repricing.

# %% tags=["chart"]
fig = plot_line_movement(history, event_id=biggest["event_id"], market="1x2")
fig

# %% [markdown]
# Opening against closing, per bookmaker: how far prices travel on average (in
# probability points), and how often each bookmaker's opening → closing move went the
# same way as Pinnacle's (the sharp reference).

# %%
sharp = movement.filter(pl.col("bookmaker") == "Pinnacle").select(
    "event_id", "outcome", pl.col("prob_change").alias("pinnacle_change")
)
(
    movement.join(sharp, on=["event_id", "outcome"])
    .group_by("bookmaker")
    .agg(
        (100 * pl.col("prob_change").abs().mean()).round(2).alias("mean_abs_move_pts"),
        (
            (pl.col("prob_change").sign() == pl.col("pinnacle_change").sign())
            .filter(pl.col("pinnacle_change").abs() >= 0.01)
            .mean()
            .round(3)
            .alias("same_direction_as_pinnacle")
        ),
        pl.col("n_moves").mean().round(1).alias("mean_moves"),
    )
    .sort("bookmaker")
)

# %% [markdown]
# `dropping_odds` lists prices that shortened sharply in the last hours of each series —
# the "dropping odds" screens bettors watch. Here: drops of at least 8 % within the two
# hours before each series' last capture.

# %%
dropping_odds(history, window="2h", min_drop=0.08).join(
    events.select("event_id", "home_team", "away_team"), on="event_id"
).select("home_team", "away_team", "bookmaker", "outcome", "from_odds", "to_odds", "drop_pct").head(
    10
)

# %% [markdown]
# ## Steam moves
#
# A **steam move** is several bookmakers moving the same outcome the same way within a
# short window: a sign of news or of sharp money hitting the market. `detect_steam` merges
# overlapping windows into episodes and names the first mover.

# %%
steam = detect_steam(history, window="20m", min_bookmakers=3, min_move=0.015)
print(f"{steam.height} steam episodes")
steam.select(
    "event_id",
    "outcome",
    "direction",
    "window_start",
    "window_end",
    "bookmakers",
    "first_mover",
    "mean_move",
).head(10)

# %% [markdown]
# Who starts the steam? Counting first movers over all episodes:

# %%
steam.group_by("first_mover").len().sort("len", descending=True)

# %% [markdown]
# ## Lead–lag: who moves first, who follows
#
# `lead_lag` takes every move of a leader (here Pinnacle) of at least one probability
# point and checks, for each other bookmaker quoting the outcome, whether and when it made
# a move the same way within an hour. `lead_lag_summary` condenses that per bookmaker:
# how often it followed (`share_followed`) and how late (`median_lag`).

# %%
pairs = lead_lag(history, leader="Pinnacle", follower=None, min_move=0.01, max_lag="1h")
lead_lag_summary(pairs).with_columns(
    (pl.col("median_lag", "mean_lag").dt.total_seconds() / 60).round(1).name.suffix("_minutes")
).drop("median_lag", "mean_lag")

# %% [markdown]
# The distribution of the lags: a bookmaker whose mass sits far to the right reprices
# late, so its stale prices are the ones sharp bettors pick off. (The sample generator
# gives SportyBet a 10-minute lag, betPawa 15 and Bet9ja 25, plus the wait for each
# book's next repricing.)

# %% tags=["chart"]
lags = pairs.filter(pl.col("followed")).with_columns(
    (pl.col("lag").dt.total_seconds() / 60).alias("lag_minutes")
)
fig = px.histogram(
    lags,
    x="lag_minutes",
    color="bookmaker",
    color_discrete_map=bookmaker_colors(lags["bookmaker"].unique().to_list()),
    barmode="overlay",
    nbins=24,
    opacity=0.6,
    labels={"lag_minutes": "Minutes after Pinnacle's move", "bookmaker": "Bookmaker"},
    title="How long each bookmaker takes to follow Pinnacle (moves ≥ 1 probability point)",
    template="plotly_white",
)
fig.update_yaxes(title_text="Moves followed")
fig

# %% [markdown]
# The lag seen from betPawa's side, on the biggest mover: its odds (green) against the
# best price on offer (grey dashes, markers in the colour of the bookmaker offering it)
# and the consensus fair odds (black dots), on a 5-minute grid. Where betPawa's line sits
# above the best price, it is offering the best odds in the market — usually because it
# has not yet followed a move.

# %% tags=["chart"]
fig = plot_vs_market_over_time(
    history, event_id=biggest["event_id"], bookmaker="betPawa", market="1x2"
)
fig

# %% [markdown]
# ## Closing-line value of example bets
#
# The closing line is the best estimate of the true probability, so a bet that beat it
# was taken at a good price, whatever its result. **Closing-line value**
# `clv = odds taken × fair closing probability − 1` is the expected return of the bet
# measured at the close; `clv > 0` means it beat the close.
#
# Example bets: for five matches, the outcome of the biggest move, backed at betPawa's
# **opening** price. The fair close is Pinnacle's de-vigged closing price (`sharp=`);
# `clv_vs_book_close` compares with betPawa's own closing price instead.

# %%
bets = (
    movement.filter(pl.col("bookmaker") == "betPawa")
    .join(movers.select("event_id", "outcome"), on=["event_id", "outcome"])
    .select(
        "event_id", "market", "line", "outcome", "bookmaker", pl.col("opening_odds").alias("odds")
    )
)
clv = closing_line_value(bets, history, sharp="Pinnacle", method="shin")
clv.join(events.select("event_id", "home_team", "away_team"), on="event_id").select(
    "home_team",
    "away_team",
    "outcome",
    "odds",
    "fair_close_odds",
    "closing_odds",
    pl.col("clv").round(4),
    pl.col("clv_vs_book_close").round(4),
)

# %% [markdown]
# Bets on outcomes that later shortened beat the close (positive CLV): backing early,
# before the market moved, was worth it. The same bets backed on outcomes that drifted
# would show negative CLV. Over many bets, average CLV is a far quicker and less noisy
# judge of a bettor (or of a tipster, or of a model) than profit and loss.

# %%
db.close()
