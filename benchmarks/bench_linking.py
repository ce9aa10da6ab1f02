"""Benchmark: linking bookmaker listings without SportRadar ids into matches.

Generates matches with a known truth from the sample's tournaments (each team plays at
most once a day, kickoffs on the tournaments' slots), lists them at five bookmakers
that spell teams their own ways (:mod:`oddskit.team_spellings`: canonical, football-data
short names, official names with accents, upper case with ``Utd``, club affixes), with
3 % of listings' kickoffs a few minutes off and 0.5 % rescheduled by a day (those cannot
be linked by kickoff and are counted apart).

Two scenarios:

* **stored**: the canonical bookmaker's listings are the stored matches; every other
  bookmaker's listings are linked to them (one call per bookmaker: ~10,000 listings
  against ~10,000 matches).
* **fresh**: nothing stored; all five bookmakers' listings are grouped into matches
  in one call.

Compared, on the same data: oddskit's :func:`oddskit.identity.link_by_names`; *exact
keys* (team keys equal, nothing fuzzy); *rapidfuzz best match* (the obvious fuzzy
matcher: the candidate with the best ``token_set_ratio`` of "home away" ≥ 80 within the
kickoff window). Counted: true links found, false links, missed; seconds.

Run: ``python benchmarks/bench_linking.py [--matches 10000] [--seed 1]``; writes
``benchmarks/results/linking.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from oddskit.identity import DEFAULT_TOLERANCE, link_by_names, team_key
from oddskit.sample import TOURNAMENTS
from oddskit.team_spellings import Style, spell_team, spell_tournament

RESULTS = Path(__file__).resolve().parent / "results"
BOOKS: dict[str, Style] = {
    "Pinnacle": "canonical",
    "bet365": "short",
    "William Hill": "official",
    "Bet9ja": "upper",
    "SportyBet": "club",
}


def generate(matches: int, seed: int) -> pl.DataFrame:
    """One row per listing: truth (``match``), bookmaker, names as the book spells them."""
    rng = random.Random(seed)
    start = datetime(2025, 8, 1, tzinfo=UTC)
    fixtures = []
    day = 0
    last_met: dict[frozenset[str], int] = {}
    while len(fixtures) < matches:
        used: set[str] = set()
        for tournament in TOURNAMENTS:
            teams = list(tournament.teams)
            rng.shuffle(teams)
            for home, away in zip(teams[::2], teams[1::2], strict=False):
                pair = frozenset((home, away))
                if home in used or away in used or len(fixtures) >= matches:
                    continue
                if day - last_met.get(pair, -999) < 60:  # a pair meets twice a season
                    continue
                used |= {home, away}
                last_met[pair] = day
                hour, minute = map(int, rng.choice(tournament.slots).split(":"))
                kickoff = start + timedelta(days=day, hours=hour, minutes=minute)
                fixtures.append((len(fixtures), tournament, home, away, kickoff))
        day += 1
    rows = []
    for match, tournament, home, away, kickoff in fixtures:
        for book, style in BOOKS.items():
            if style != "canonical" and rng.random() < 0.05:
                continue  # not every book lists every match
            moved = "no"
            listed_kickoff = kickoff
            if style != "canonical":
                roll = rng.random()
                if roll < 0.005:
                    listed_kickoff, moved = kickoff + timedelta(days=1), "rescheduled"
                elif roll < 0.035:
                    shift = rng.choice([-4, -3, -2, -1, 1, 2, 3, 4])
                    listed_kickoff, moved = kickoff + timedelta(minutes=shift), "minutes"
            rows.append(
                {
                    "match": match,
                    "bookmaker": book,
                    "sport": "football" if style != "upper" else "FOOTBALL",
                    "country": tournament.country,
                    "tournament": spell_tournament(tournament.country, tournament.name, style),
                    "kickoff": listed_kickoff,
                    "home_team": spell_team(home, style),
                    "away_team": spell_team(away, style),
                    "moved": moved,
                }
            )
    return pl.DataFrame(rows).with_row_index("listing").cast({"listing": pl.Int64})


def exact_keys(listings: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Baseline: link when both team keys are equal and the kickoffs within tolerance."""
    tol = int(DEFAULT_TOLERANCE / timedelta(microseconds=1))
    keyed = [
        frame.with_columns(
            home=team_key(pl.col("home_team")),
            away=team_key(pl.col("away_team")),
            us=pl.col("kickoff").dt.epoch("us"),
        )
        for frame in (listings, events)
    ]
    pairs = keyed[0].join(keyed[1], on=["home", "away"], suffix="_e")
    pairs = pairs.filter((pl.col("us") - pl.col("us_e")).abs() <= tol)
    return pairs.filter(pl.len().over("listing") == 1).select("listing", "event_id")


def rapidfuzz_best(listings: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Baseline: best token_set_ratio of "home away" (≥ 80) within the kickoff window."""
    from rapidfuzz import fuzz

    tol = int(DEFAULT_TOLERANCE / timedelta(microseconds=1))
    left = listings.with_columns(
        us=pl.col("kickoff").dt.epoch("us"),
        text=pl.concat_str("home_team", "away_team", separator=" ").str.to_lowercase(),
    ).with_columns(bucket=pl.concat_list([(pl.col("us") // tol) + s for s in (-1, 0, 1)]))
    right = events.with_columns(
        us=pl.col("kickoff").dt.epoch("us"),
        text=pl.concat_str("home_team", "away_team", separator=" ").str.to_lowercase(),
    ).with_columns(bucket=pl.col("us") // tol)
    pairs = (
        left.explode("bucket")
        .join(right, on="bucket", suffix="_e")
        .filter((pl.col("us") - pl.col("us_e")).abs() <= tol)
    )
    scores = [fuzz.token_set_ratio(a, b) for a, b in pairs.select("text", "text_e").iter_rows()]
    pairs = pairs.with_columns(score=pl.Series(scores))
    best = pairs.filter(pl.col("score") >= 80).sort("score", descending=True)
    return best.unique("listing", keep="first").select("listing", "event_id")


def score_stored(data: pl.DataFrame, links: pl.DataFrame, listings: pl.DataFrame) -> dict:
    """Listings linked to their own match, to another one, or not at all."""
    truth = listings.select("listing", "match", "moved")
    joined = truth.join(links, on="listing", how="left")
    linkable = joined.filter(pl.col("moved") != "rescheduled")
    found = linkable.filter(pl.col("event_id") == pl.col("match")).height
    false = joined.filter(
        pl.col("event_id").is_not_null() & (pl.col("event_id") != pl.col("match"))
    ).height
    return {
        "listings": joined.height,
        "linkable": linkable.height,
        "found": found,
        "false": false,
        "missed": linkable.height - found,
        "found_share": found / linkable.height if linkable.height else 1.0,
        "rescheduled_linked": joined.filter(
            (pl.col("moved") == "rescheduled") & pl.col("event_id").is_not_null()
        ).height,
    }


def score_fresh(listings: pl.DataFrame, clusters: pl.DataFrame) -> dict:
    """Pairs of listings of one match grouped together (found) or apart; pairs of
    different matches grouped together (false)."""
    grouped = listings.select("listing", "match", "moved").join(clusters, on="listing")
    linkable = grouped.filter(pl.col("moved") != "rescheduled")

    def pairs(frame: pl.DataFrame, by: list[str]) -> int:
        sizes = frame.group_by(by).len()["len"]
        return int((sizes * (sizes - 1) // 2).sum())

    true_pairs = pairs(linkable, ["match"])
    found = pairs(linkable, ["match", "cluster"])
    false = pairs(grouped, ["cluster"]) - pairs(grouped, ["cluster", "match"])
    return {
        "listings": grouped.height,
        "true_pairs": true_pairs,
        "found": found,
        "false": false,
        "missed": true_pairs - found,
        "found_share": found / true_pairs if true_pairs else 1.0,
    }


def run(matches: int, seed: int) -> dict:
    data = generate(matches, seed)
    stored = data.filter(pl.col("bookmaker") == "Pinnacle")
    events = stored.select(
        event_id="match",
        bookmaker=pl.lit(None, pl.String),
        sport="sport",
        country="country",
        kickoff="kickoff",
        home_team="home_team",
        away_team="away_team",
    )
    others = data.filter(pl.col("bookmaker") != "Pinnacle")
    report: dict = {"matches": matches, "seed": seed, "listings": data.height, "stored": {}}
    for name, method in (
        ("oddskit", None),
        ("exact keys", exact_keys),
        ("rapidfuzz best", rapidfuzz_best),
    ):
        seconds = []
        links = []
        for book in others["bookmaker"].unique().sort():
            mine = others.filter(pl.col("bookmaker") == book)
            started = time.perf_counter()
            if method is None:
                linked = link_by_names(mine, events).filter(pl.col("event_id").is_not_null())
                linked = linked.select("listing", "event_id")
            else:
                linked = method(mine, events)
            seconds.append((book, mine.height, time.perf_counter() - started))
            links.append(linked)
        result = score_stored(data, pl.concat(links), others)
        result["seconds_per_bookmaker"] = {book: round(s, 3) for book, _, s in seconds}
        result["listings_per_bookmaker"] = {book: n for book, n, _ in seconds}
        result["max_seconds"] = round(max(s for _, _, s in seconds), 3)
        report["stored"][name] = result
    started = time.perf_counter()
    fresh = link_by_names(data, events.clear())
    fresh_seconds = time.perf_counter() - started
    clusters = fresh.select("listing", cluster=pl.coalesce("event_id", "new_match"))
    report["fresh"] = {**score_fresh(data, clusters), "seconds": round(fresh_seconds, 3)}
    methods = fresh.join(data.select("listing", "bookmaker"), on="listing")
    report["fresh"]["methods"] = dict(
        methods.group_by("link_method").len().sort("link_method").iter_rows()
    )
    return report


def markdown(report: dict, command: str) -> str:
    stored = report["stored"]
    lines = [
        "# Linking listings without SportRadar ids",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Data: {report['matches']:,} matches of the sample's 12 tournaments, "
        f"{report['listings']:,} listings at 5 bookmakers (one per spelling style of "
        "`oddskit/team_spellings.py`); 5 % of matches missing at each non-canonical book, "
        "3 % of listings a few minutes off, 0.5 % rescheduled by a day (not linkable by "
        f"kickoff); kickoff tolerance {DEFAULT_TOLERANCE}.",
        "",
        "## Stored matches: each bookmaker's listings linked to the canonical book's matches",
        "",
        "| method | linkable | found | found % | false links | missed | slowest book (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in stored.items():
        lines.append(
            f"| {name} | {r['linkable']:,} | {r['found']:,} | {100 * r['found_share']:.2f} | "
            f"{r['false']:,} | {r['missed']:,} | {r['max_seconds']:.3f} |"
        )
    per_book = stored["oddskit"]["listings_per_bookmaker"]
    lines += [
        "",
        "Listings per bookmaker call: "
        + ", ".join(f"{b} {n:,}" for b, n in per_book.items())
        + f" (against {report['matches']:,} stored matches).",
        "",
        "## Nothing stored: all five bookmakers' listings grouped in one call",
        "",
        f"- {report['fresh']['listings']:,} listings, {report['fresh']['true_pairs']:,} "
        f"true pairs: found {report['fresh']['found']:,} "
        f"({100 * report['fresh']['found_share']:.2f} %), false pairs "
        f"{report['fresh']['false']:,}, in {report['fresh']['seconds']:.2f} s.",
        "- Link methods: " + ", ".join(f"{m} {n:,}" for m, n in report["fresh"]["methods"].items()),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print, do not record")
    args = parser.parse_args()
    report = run(args.matches, args.seed)
    command = "python benchmarks/bench_linking.py " + " ".join(sys.argv[1:])
    text = markdown(report, command.strip())
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "linking.md").write_text(text)
        (RESULTS / "linking.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
