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
# # oddskit quickstart
#
# From nothing to a first chart in five steps: connect to a database, write a small file of
# sample odds, load it, query it back, and plot how the prices moved.
#
# oddskit keeps **odds snapshots**: every few minutes a scraper captures each bookmaker's
# page for a match, and every priced outcome of that page becomes one row
# (`captured_at, bookmaker, market, line, outcome, odds`). Everything below works on that
# long format.

# %% [markdown]
# ## 1. Connect
#
# `oddskit.connect()` picks the database the same way as the command line and the tests:
# an explicit URL, else `ODDSKIT_DATABASE_URL`, else `DATABASE_URL`, else an **embedded
# PostgreSQL server** whose data lives in `~/.local/share/oddskit` (nothing to install).
# The description says which one is in use, with the password masked.
#
# `oddskit.migrate` creates the schema (or upgrades it); it is safe to run every time.

# %%
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.io as pio
import polars as pl

import oddskit
from oddskit.plots import plot_line_movement
from oddskit.sample import write_sample

# Charts show in JupyterLab and also as plain HTML (nbconvert, VS Code, other viewers).
pio.renderers.default = "plotly_mimetype+notebook"

db = oddskit.connect()
print(db.description)
print("schema at revision", oddskit.migrate(db))

# %% [markdown]
# ## 2. Write a small sample file
#
# `write_sample` produces realistic odds in oddskit's input format: football matches,
# four bookmakers (Pinnacle, the sharp reference with a 2–3 % margin, and betPawa,
# SportyBet and Bet9ja with 5–10 %), a snapshot every 5 minutes from a few hours before
# kickoff. Prices of all markets come from one goal model, so they move together.
#
# We fix `start` to yesterday (UTC midnight) so that running this notebook again on the
# same day writes the very same file.

# %%
today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
folder = Path(tempfile.mkdtemp(prefix="oddskit-quickstart-"))
sample = write_sample(
    folder / "snapshots.parquet",
    start=today - timedelta(days=1),
    days=1,
    events_per_day=6,
    seed=7,
)
print(f"{sample.rows:,} rows, {sample.events} matches, bookmakers: {', '.join(sample.bookmakers)}")
pl.read_parquet(sample.path).head(5)

# %% [markdown]
# ## 3. Load it
#
# `oddskit.load` validates every row, creates the daily partitions it needs and streams the
# prices into PostgreSQL in one transaction (all or nothing). The report counts rows read,
# new, already present and rejected.
#
# Loading the same file again adds nothing: each snapshot is stored once, so re-running a
# load (or two loaders with overlapping files) is safe.

# %%
first = oddskit.load(sample.path, db=db, progress=False)
print(first)
again = oddskit.load(sample.path, db=db, progress=False)
print(again)
assert again.rows_loaded == 0

# %% [markdown]
# Every load is recorded with its counts (lineage):

# %%
oddskit.fetch_load_runs(db, limit=3, kind="load").select(
    "run_id", "status", "rows_read", "rows_loaded", "rows_present", "rows_rejected"
)

# %% [markdown]
# ## 4. Query
#
# The `fetch_*` helpers return Polars frames with one shared vocabulary (`event_id`,
# `bookmaker`, `captured_at`, `market`, `line`, `outcome`, `odds`, all times in UTC).
#
# `fetch_events` lists matches (filters: sports, tournaments, countries, team, kickoff
# window). The database may hold other data too, so we keep the matches of our file.

# %%
ours = pl.read_parquet(sample.path, columns=["home_team", "away_team", "kickoff"]).unique()
events = oddskit.fetch_events(
    db, kickoff_since=today - timedelta(days=1), kickoff_until=today
).join(ours, on=["home_team", "away_team", "kickoff"])
events

# %% [markdown]
# `fetch_odds_history` returns every price captured in a time window (always bound the
# window: PostgreSQL then reads only those days' partitions). Here: the 1x2 market (home /
# draw / away) of the first match, from all bookmakers.

# %%
event = events.row(0, named=True)
history = oddskit.fetch_odds_history(
    db,
    event_ids=[event["event_id"]],
    markets="1x2",
    since=sample.first_captured_at,
    until=sample.last_captured_at + timedelta(seconds=1),
)
print(f"{event['home_team']} v {event['away_team']}, kickoff {event['kickoff']:%H:%M} UTC")
print(f"{history.height} prices in {history['captured_at'].n_unique()} captures")
history.head(6)

# %% [markdown]
# `fetch_latest_odds` gives the **board**: each bookmaker's newest snapshot at a moment
# (`as_of`, default now). Here, the board half an hour before kickoff, pivoted to one
# column per bookmaker. The highest price of each outcome is the best a bettor could get.

# %%
board = oddskit.fetch_latest_odds(
    db,
    event_ids=[event["event_id"]],
    markets="1x2",
    as_of=event["kickoff"] - timedelta(minutes=30),
)
board.pivot(on="bookmaker", index="outcome", values="odds")

# %% [markdown]
# ## 5. First chart
#
# `plot_line_movement` draws one panel per outcome and one step line per bookmaker (a
# price holds until the next snapshot); the dashed line is kickoff. Hover for exact values;
# click a bookmaker in the legend to hide it. Odds going **down** mean the outcome became
# more likely in the bookmakers' eyes (money or news on it). Pinnacle usually moves first
# and in small steps; the others follow later, rounded to two decimals.
#
# The chart needs the kickoff (for the dashed line) and team names (for the title), so we
# join them from `events`.

# %% tags=["chart"]
frame = history.join(events.select("event_id", "home_team", "away_team", "kickoff"), on="event_id")
fig = plot_line_movement(frame, event_id=event["event_id"], market="1x2")
fig

# %% [markdown]
# ## Next
#
# * `margin_analysis.py`: how much each bookmaker charges, and where.
# * `line_movement.py`: who moves first, steam moves and closing-line value.
# * `oddskit demo` on the command line writes an HTML report of the whole database.

# %%
db.close()
