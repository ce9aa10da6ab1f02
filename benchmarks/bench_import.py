r"""Benchmark: importing football-data.co.uk seasons (read + load), against pandas + COPY.

Issue 12: measure importing + loading a 10-season × 5-league football-data set
(generated to the real format): rows/s and peak memory.

Usage::

    python benchmarks/bench_import.py [--seasons 10] [--leagues 5] [--live-seasons 2] \
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--seed 0] \
        [--out benchmarks/results] [--keep]

The data
--------
``--leagues`` leagues (E0, SP1, D1, I1, F1) × ``--seasons`` seasons ending with 2024-25,
20 teams and 380 matches (a double round robin) per league and season, written as
football-data.co.uk writes them (its ``notes.txt`` column key):

* seasons from 2019-20: ``Div, Date (dd/mm/yyyy), Time (UK)``, results and match
  statistics, 1x2 of bet365, bwin, Interwetten, Pinnacle, William Hill and VC Bet
  (``B365H`` … ``VCA``), ``Max``/``Avg``, over/under 2.5 of bet365 and Pinnacle
  (``B365>2.5``, ``P<2.5``, ``Max``/``Avg``), Asian handicap at ``AHh`` (``B365AHH``,
  ``PAHH``, ``Max``/``Avg``), and all of it again as **closing** prices (``B365CH``,
  ``PSCH``, ``B365C>2.5``, ``AHCh``, ``PCAHH``, …): 103 price columns;
* older seasons: no ``Time``, ``dd/mm/yy`` dates, 1x2 of bet365, bwin, Interwetten,
  Ladbrokes, Pinnacle, William Hill and VC Bet, Betbrain aggregates (``BbMxH``,
  ``BbAvH``, ``BbAHh``, ``BbMx>2.5`` …) and Pinnacle's closing 1x2 (``PSCH``) only.

Prices come from team strengths (home advantage, a draw band), each bookmaker's own
margin and noise; closing prices drift from the opening ones; kickoffs are Saturday
and Sunday slots with some midweek rounds, UK time across the BST changes.

What is measured
----------------
* **oddskit**: a child process runs what ``oddskit import football-data --to
  archive`` runs (:func:`oddskit.cli_import._load_each`: one file at a time,
  ``iter_football_data`` then ``oddskit.load(frame, to="archive")``) into a new
  database whose archive is a temporary folder. Its ``VmHWM`` (peak RSS) is taken
  after every file, so the report shows whether memory grows with the number of
  files. Reading alone (``read_football_data`` per file, nothing written) is timed in
  the parent.
* **live**: the same for the last ``--live-seasons`` seasons into the live tables
  (retention off, so old days are accepted), in another new database.
* **pandas + COPY**, the obvious alternative: ``pandas.read_csv`` of each file, the
  same kickoffs and capture times (vectorised), ``melt`` of the price columns into the
  same long rows (the columns mapped by a dict made once), and one psycopg
  ``COPY … FROM STDIN (FORMAT csv)`` per file into a plain table with the input
  format's columns (no keys, no indexes, no checks, no matches or listings). Its row
  count must equal oddskit's.
* **linking**: after the oddskit import, matches, listings and how they were linked
  (``fetch_links``); every row of a file is one match, so there must be one match per
  generated match, each listing linked by its ``match_key``, and no match holding
  listings of two fixtures.

The ratio oddskit / (pandas + COPY) is the price of what oddskit does on top of a bare
COPY: checks, canonical names, identity (matches, listings, links), snapshots, and the
archive's verified Parquet day files.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_URL,
    busy,
    code_line,
    create_database,
    database_of,
    drop_database,
    log,
    machine_info,
    masked,
    was_busy,
    write_results,
)

LEAGUES = {
    "E0": [
        "Arsenal", "Aston Villa", "Bournemouth", "Brentford", "Brighton", "Chelsea",
        "Crystal Palace", "Everton", "Fulham", "Ipswich", "Leicester", "Liverpool",
        "Man City", "Man United", "Newcastle", "Nott'm Forest", "Southampton",
        "Tottenham", "West Ham", "Wolves",
    ],
    "SP1": [
        "Alaves", "Ath Bilbao", "Ath Madrid", "Barcelona", "Betis", "Celta", "Espanol",
        "Getafe", "Girona", "Las Palmas", "Leganes", "Mallorca", "Osasuna", "Real Madrid",
        "Sevilla", "Sociedad", "Valencia", "Valladolid", "Vallecano", "Villarreal",
    ],
    "D1": [
        "Augsburg", "Bayern Munich", "Bochum", "Dortmund", "Ein Frankfurt", "Freiburg",
        "Heidenheim", "Hoffenheim", "Holstein Kiel", "Leverkusen", "M'gladbach", "Mainz",
        "RB Leipzig", "St Pauli", "Stuttgart", "Union Berlin", "Werder Bremen", "Wolfsburg",
        "Hamburg", "Koln",
    ],
    "I1": [
        "Atalanta", "Bologna", "Cagliari", "Como", "Empoli", "Fiorentina", "Genoa",
        "Inter", "Juventus", "Lazio", "Lecce", "Milan", "Monza", "Napoli", "Parma", "Roma",
        "Torino", "Udinese", "Venezia", "Verona",
    ],
    "F1": [
        "Angers", "Auxerre", "Brest", "Le Havre", "Lens", "Lille", "Lyon", "Marseille",
        "Monaco", "Montpellier", "Nantes", "Nice", "Paris SG", "Reims", "Rennes",
        "St Etienne", "Strasbourg", "Toulouse", "Lorient", "Metz",
    ],
}  # fmt: skip

STATS = ["FTHG", "FTAG", "FTR", "HTHG", "HTAG", "HTR", "Referee", "HS", "AS", "HST", "AST"]
STATS += ["HF", "AF", "HC", "AC", "HY", "AY", "HR", "AR"]
NEW_BOOKS = {"B365": 0.050, "BW": 0.060, "IW": 0.070, "PS": 0.025, "WH": 0.060, "VC": 0.055}
OLD_BOOKS = {"B365": 0.060, "BW": 0.075, "IW": 0.090, "LB": 0.070, "PS": 0.030, "WH": 0.070}
OLD_BOOKS["VC"] = 0.065
#: First season (its starting year) with the new-style header.
NEW_FROM = 2019


# --------------------------------------------------------------------------------------
# Generating season files in football-data.co.uk's format
# --------------------------------------------------------------------------------------


def fixtures(teams: list[str], start: date, rng: random.Random) -> list[tuple[datetime, str, str]]:
    """A double round robin: 38 rounds, Saturday/Sunday slots, some midweek rounds (UK)."""
    n = len(teams)
    order = teams[:]
    rng.shuffle(order)
    rounds = []
    for r in range(n - 1):  # the circle method
        pairs = [(order[i], order[n - 1 - i]) for i in range(n // 2)]
        rounds.append([(a, b) if r % 2 else (b, a) for a, b in pairs])
        order = [order[0], order[-1], *order[1:-1]]
    rounds += [[(b, a) for a, b in rnd] for rnd in rounds]
    slots = [(0, "12:30"), (0, "15:00"), (0, "15:00"), (0, "15:00"), (0, "17:30")]
    slots += [(1, "14:00"), (1, "14:00"), (1, "16:30"), (1, "16:30"), (0, "20:00")]
    midweek = [(0, "19:45"), (0, "19:45"), (0, "19:45"), (0, "20:00"), (0, "20:00")]
    midweek += [(1, "19:45"), (1, "19:45"), (1, "20:00"), (1, "20:00"), (1, "20:15")]
    matches = []
    day = start  # a Saturday
    for number, rnd in enumerate(rounds):
        is_midweek = number in (5, 11, 17, 27)
        base = day + timedelta(days=3) if is_midweek else day
        for (offset, clock), (home, away) in zip(
            midweek if is_midweek else slots, rnd, strict=True
        ):
            hour, minute = map(int, clock.split(":"))
            kickoff = datetime.combine(base + timedelta(days=offset), datetime.min.time())
            matches.append((kickoff.replace(hour=hour, minute=minute), home, away))
        if not is_midweek:  # a fortnight over the international breaks
            day += timedelta(days=14 if number in (3, 7, 12, 25) else 7)
    return sorted(matches)


def probabilities(strength: float, rng: random.Random) -> tuple[float, float, float]:
    """Home/draw/away from the strength difference (home advantage included)."""
    home = 1 / (1 + math.exp(-(strength - 0.45)))
    away = 1 - 1 / (1 + math.exp(-(strength + 0.45)))
    draw = max(0.12, 1 - home - away)
    total = home + draw + away
    return home / total, draw / total, away / total


def priced(probs: list[float], margin: float, rng: random.Random, digits: int = 2) -> list[str]:
    """Odds of ``probs`` with ``margin`` and a little noise, as football-data writes them."""
    noisy = [max(0.01, p * (1 + rng.gauss(0, 0.03))) for p in probs]
    total = sum(noisy)
    return [f"{max(1.01, 1 / (p / total * (1 + margin))):.{digits}f}" for p in noisy]


def season_file(code: str, year: int, folder: Path, rng: random.Random) -> tuple[Path, int]:
    """Write ``<code>_<yy><yy+1>.csv`` of the season starting in August of ``year``."""
    teams = LEAGUES[code]
    new = year >= NEW_FROM
    strengths = {team: rng.gauss(0, 0.7) for team in teams}
    start = date(year, 8, 1)
    start += timedelta(days=(5 - start.weekday()) % 7 + 7)  # the second Saturday
    books = NEW_BOOKS if new else OLD_BOOKS
    header = ["Div", "Date", *(["Time"] if new else []), "HomeTeam", "AwayTeam", *STATS]
    header += [f"{b}{o}" for b in books for o in "HDA"]
    if new:
        header += [f"{a}{o}" for a in ("Max", "Avg") for o in "HDA"]
        header += [f"{b}{s}2.5" for b in ("B365", "P", "Max", "Avg") for s in "><"]
        header += ["AHh"] + [f"{b}AH{s}" for b in ("B365", "P", "Max", "Avg") for s in "HA"]
        header += [h.replace("PS", "PSC", 1) if h.startswith("PS") else _closing(h) for h in
                   header[header.index("B365H"):]]  # fmt: skip
    else:
        header += ["Bb1X2"] + [f"Bb{a}{o}" for o in "HDA" for a in ("Mx", "Av")]
        header += ["BbOU"] + [f"Bb{a}{s}2.5" for s in "><" for a in ("Mx", "Av")]
        header += ["BbAH", "BbAHh"] + [f"Bb{a}AH{s}" for s in "HA" for a in ("Mx", "Av")]
        header += ["PSCH", "PSCD", "PSCA"]
    rows = []
    for kickoff, home, away in fixtures(teams, start, rng):
        probs = list(probabilities(strengths[home] - strengths[away], rng))
        closing = [max(0.02, p + rng.gauss(0, 0.02)) for p in probs]
        closing = [p / sum(closing) for p in closing]
        over = min(0.75, max(0.3, rng.gauss(0.52, 0.08)))
        line = -round((strengths[home] - strengths[away] + 0.35) * 1.6 * 4) / 4
        goals = rng.choices(range(6), [22, 33, 25, 12, 5, 3], k=4)
        result = "H" if goals[0] > goals[1] else "A" if goals[0] < goals[1] else "D"
        stats = [goals[0], goals[1], result, min(goals[0], goals[2]), min(goals[1], goals[3])]
        stats += ["D", "A Referee", *(rng.randint(0, 20) for _ in range(12))]
        record = {
            "Div": code,
            "Date": kickoff.strftime("%d/%m/%Y" if new else "%d/%m/%y"),
            "Time": kickoff.strftime("%H:%M"),
            "HomeTeam": home,
            "AwayTeam": away,
            **dict(zip(STATS, map(str, stats), strict=True)),
        }
        for when, p in (("", probs), ("C", closing)):
            if not new and when:
                record.update(
                    zip(("PSCH", "PSCD", "PSCA"), priced(p, books["PS"], rng, 3), strict=True)
                )
                continue
            quotes = {b: priced(p, m, rng, 3 if b == "PS" else 2) for b, m in books.items()}
            for b, q in quotes.items():
                prefix = "PSC" if b == "PS" and when else f"{b}{when}"
                record.update(zip((f"{prefix}H", f"{prefix}D", f"{prefix}A"), q, strict=True))
            per_outcome = list(zip(*[[float(x) for x in q] for q in quotes.values()], strict=True))
            ou = {b: priced([over, 1 - over], m, rng) for b, m in (("B365", 0.06), ("P", 0.03))}
            ah = {b: priced([0.5, 0.5], m, rng) for b, m in (("B365", 0.055), ("P", 0.025))}
            if new:
                record.update(
                    (f"{a}{when}{o}", f"{f(v):.2f}")
                    for a, f in (("Max", max), ("Avg", lambda v: sum(v) / len(v)))
                    for o, v in zip("HDA", per_outcome, strict=True)
                )
                for b in ("B365", "P"):
                    record[f"{b}{when}>2.5"], record[f"{b}{when}<2.5"] = ou[b]
                    record[f"{b}{when}AHH"], record[f"{b}{when}AHA"] = ah[b]
                for s, i in ((">", 0), ("<", 1)):
                    values = [float(ou[b][i]) for b in ou]
                    record[f"Max{when}{s}2.5"] = f"{max(values):.2f}"
                    record[f"Avg{when}{s}2.5"] = f"{sum(values) / 2:.2f}"
                for s, i in (("H", 0), ("A", 1)):
                    values = [float(ah[b][i]) for b in ah]
                    record[f"Max{when}AH{s}"] = f"{max(values):.2f}"
                    record[f"Avg{when}AH{s}"] = f"{sum(values) / 2:.2f}"
                record["AHCh" if when else "AHh"] = f"{line:g}"
            else:
                record["Bb1X2"], record["BbOU"], record["BbAH"] = "40", "35", "20"
                for o, v in zip("HDA", per_outcome, strict=True):
                    record[f"BbMx{o}"] = f"{max(v):.2f}"
                    record[f"BbAv{o}"] = f"{sum(v) / len(v):.2f}"
                for s, i in ((">", 0), ("<", 1)):
                    record[f"BbMx{s}2.5"] = ou["B365"][i]
                    record[f"BbAv{s}2.5"] = ou["P"][i]
                record["BbAHh"] = f"{line:g}"
                for s, i in (("H", 0), ("A", 1)):
                    record[f"BbMxAH{s}"], record[f"BbAvAH{s}"] = ah["B365"][i], ah["P"][i]
        rows.append(",".join(str(record.get(column, "")) for column in header))
    path = folder / f"{code}_{year % 100:02d}{(year + 1) % 100:02d}.csv"
    # football-data's files: a BOM, CRLF, a trailing empty column on every line.
    text = "\ufeff" + "\r\n".join(",".join(header) + "," for _ in [0]) + "\r\n"
    text += "\r\n".join(row + "," for row in rows) + "\r\n"
    path.write_text(text, encoding="utf-8")
    return path, len(rows)


def _closing(column: str) -> str:
    """The closing column of an opening one: ``B365H`` → ``B365CH``, ``AHh`` → ``AHCh``."""
    if column == "AHh":
        return "AHCh"
    for prefix in ("B365", "BW", "IW", "WH", "VC", "Max", "Avg", "P"):
        if column.startswith(prefix):
            return f"{prefix}C{column[len(prefix) :]}"
    raise ValueError(column)


def generate(folder: Path, seasons: int, leagues: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    files = []
    for code in list(LEAGUES)[:leagues]:
        for year in range(2025 - seasons, 2025):
            path, matches = season_file(code, year, folder, rng)
            files.append({"path": path, "matches": matches, "season": year, "league": code})
    return files


# --------------------------------------------------------------------------------------
# The oddskit import, in a child process (peak RSS of its own)
# --------------------------------------------------------------------------------------


def vm_hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def child(files: list[str], url: str, to: str, archive: str | None, out: Path) -> None:
    """What ``oddskit import football-data --to <to>`` runs (one load of every file,
    each read when its turn comes), timed per file up to its check and link."""
    started = time.perf_counter()
    from oddskit.connection import Database
    from oddskit.football_data import iter_football_data
    from oddskit.loading import load_each
    from oddskit.partitions import set_policy
    from oddskit.sources import Source

    imports = time.perf_counter() - started
    per_file: list[dict[str, Any]] = []

    def sources() -> Any:  # cli_import._load_each
        for name in files:
            t0 = time.perf_counter()
            for frame in iter_football_data(Path(name)):
                yield Source(name, "polars", obj=frame)
            per_file.append(
                {
                    "file": Path(name).name,
                    "path": name,
                    "seconds": time.perf_counter() - t0,
                    "peak_rss": vm_hwm(),
                }
            )

    with Database(url) as db:
        if archive is not None:
            set_policy(db, retention_days=None, archive=archive)
        else:
            set_policy(db, retention_days=None)
        rss_start = vm_hwm()
        started = time.perf_counter()
        report = load_each(db, sources(), len(files), None, to=to, progress=False)
        seconds = time.perf_counter() - started
    for entry in per_file:
        path = entry.pop("path")
        mine = [r for r in report.results if r.source == path]
        entry["rows_read"] = sum(r.rows_read for r in mine)
        entry["rows_new"] = sum(r.rows_loaded for r in mine)
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "write_seconds": seconds - sum(f["seconds"] for f in per_file),
                "imports_seconds": imports,
                "rss_after_imports": rss_start,
                "peak_rss": vm_hwm(),
                "files": per_file,
            }
        )
    )


def run_child(files: list[Path], url: str, to: str, archive: Path | None) -> dict[str, Any]:
    out = Path(tempfile.mkstemp(prefix="oddskit_bench_import_", suffix=".json")[1])
    command = [sys.executable, str(Path(__file__).resolve()), "--child", to, str(out), url]
    command += ["--archive", str(archive) if archive else "", *map(str, files)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the {to} import failed:\n{done.stderr[-4000:]}")
    data = json.loads(out.read_text())
    out.unlink()
    data["process_wall_seconds"] = wall
    data["rows_read"] = sum(f["rows_read"] for f in data["files"])
    data["rows_new"] = sum(f["rows_new"] for f in data["files"])
    data["rows_per_second"] = data["rows_read"] / data["seconds"]
    return data


# --------------------------------------------------------------------------------------
# The alternative: pandas read_csv + melt + COPY
# --------------------------------------------------------------------------------------

LONG_TABLE = """
CREATE TABLE bench_import_long (
    captured_at timestamptz, bookmaker text, sport text, country text, tournament text,
    match_key text, bookmaker_event_id text, home_team text, away_team text,
    kickoff timestamptz, market text, line double precision, outcome text,
    odds double precision)
"""


def pandas_copy(files: list[Path], url: str) -> dict[str, Any]:
    """Each file: read_csv, kickoffs and capture times, melt, one COPY (plain table)."""
    import numpy as np
    import pandas as pd
    import psycopg

    from oddskit.football_data import AGGREGATES, BOOKMAKERS, DIVISIONS, parse_price_column

    rows = 0
    read_seconds = 0.0
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LONG_TABLE)
        for path in files:
            t0 = time.perf_counter()
            df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=True)
            df = df.loc[:, [c for c in df.columns if not c.startswith("Unnamed")]]
            df = df.dropna(how="all")
            clock = df["Time"] if "Time" in df.columns else "15:00"
            local = pd.to_datetime(df["Date"] + " " + clock, dayfirst=True, format="mixed")
            kickoff = local.dt.tz_localize(
                "Europe/London", ambiguous="NaT", nonexistent="shift_forward"
            ).dt.tz_convert("UTC")
            # Opening: 15:00 UK on the latest Tuesday or Friday at least 2 h before kickoff.
            before = local - pd.Timedelta(hours=2)
            opening = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
            for back in range(7, -1, -1):
                day = before.dt.normalize() - pd.Timedelta(days=back)
                candidate = day + pd.Timedelta(hours=15)
                ok = day.dt.day_of_week.isin([1, 4]) & (candidate <= before)
                opening = opening.where(~ok, candidate)
            opening = opening.dt.tz_localize("Europe/London").dt.tz_convert("UTC")
            columns = {
                c: parse_price_column(c)
                for c in df.columns
                if parse_price_column(c) and parse_price_column(c)[0] not in AGGREGATES
            }
            division = df["Div"]
            df = df.assign(
                kickoff=kickoff,
                opening=opening,
                closing=kickoff - pd.Timedelta(minutes=1),
                country=division.map(lambda d: DIVISIONS.get(d, (None, d))[0]),
                tournament=division.map(lambda d: DIVISIONS.get(d, (None, d))[1]),
                match_key="football-data:" + division + ":" + local.dt.strftime("%Y-%m-%d")
                + ":" + df["HomeTeam"] + ":" + df["AwayTeam"],
                open_line=pd.to_numeric(df.get("AHh", df.get("BbAHh")), errors="coerce"),
                close_line=pd.to_numeric(df.get("AHCh"), errors="coerce"),
            )  # fmt: skip
            ids = ["match_key", "HomeTeam", "AwayTeam", "kickoff", "opening", "closing"]
            ids += ["country", "tournament", "open_line", "close_line"]
            long = df.melt(id_vars=ids, value_vars=list(columns), var_name="column")
            long["odds"] = pd.to_numeric(long.pop("value"), errors="coerce")
            long = long[long["odds"] > 1]
            meaning = pd.DataFrame(
                [(c, BOOKMAKERS[p], closing, m, o, line) for c, (p, closing, m, o, line)
                 in columns.items()],
                columns=["column", "bookmaker", "is_closing", "market", "outcome", "line"],
            )  # fmt: skip
            long = long.merge(meaning, on="column")
            handicap = long["market"] == "asian_handicap"
            line = np.where(long["is_closing"], long["close_line"], long["open_line"])
            long["line"] = np.where(handicap, line, long["line"].astype(float))
            long = long[~handicap | long["line"].notna()]
            long["captured_at"] = long["closing"].where(long["is_closing"], long["opening"])
            long = long.drop_duplicates(
                ["match_key", "captured_at", "bookmaker", "market", "line", "outcome"]
            )
            out = pd.DataFrame(
                {
                    "captured_at": long["captured_at"],
                    "bookmaker": long["bookmaker"],
                    "sport": "football",
                    "country": long["country"],
                    "tournament": long["tournament"],
                    "match_key": long["match_key"],
                    "bookmaker_event_id": long["match_key"] + "@" + long["bookmaker"],
                    "home_team": long["HomeTeam"],
                    "away_team": long["AwayTeam"],
                    "kickoff": long["kickoff"],
                    "market": long["market"],
                    "line": long["line"],
                    "outcome": long["outcome"],
                    "odds": long["odds"],
                }
            )
            buffer = io.StringIO()
            out.to_csv(buffer, index=False, header=False)
            read_seconds += time.perf_counter() - t0
            copy_sql = "COPY bench_import_long FROM STDIN (FORMAT csv)"
            with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
                copy.write(buffer.getvalue())
            rows += len(out)
        seconds = time.perf_counter() - started
        stored = conn.execute("SELECT count(*) FROM bench_import_long").fetchone()[0]
    return {
        "seconds": seconds,
        "read_melt_seconds": read_seconds,
        "rows": rows,
        "rows_stored": stored,
        "rows_per_second": rows / seconds,
    }


# --------------------------------------------------------------------------------------
# Checks and the report
# --------------------------------------------------------------------------------------


def read_only(files: list[Path]) -> dict[str, Any]:
    from oddskit.football_data import read_football_data

    started = time.perf_counter()
    rows = sum(read_football_data(path).height for path in files)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "rows_per_second": rows / seconds}


def linking(url: str, matches: int) -> dict[str, Any]:
    import polars as pl

    from oddskit.connection import Database
    from oddskit.links import fetch_links
    from oddskit.queries import fetch_events

    with Database(url) as db:
        events = fetch_events(db).height
        links = fetch_links(db)
    fixture = pl.col("bookmaker_event_id").str.replace(r"@[^@]*$", "")
    per_match = links.group_by("event_id").agg(fixture.n_unique().alias("fixtures"))
    methods = dict(links.group_by("link_method").len().sort("link_method").iter_rows())
    return {
        "matches_generated": matches,
        "matches_stored": events,
        "listings": links.height,
        "link_methods": methods,
        "matches_with_two_fixtures": int((per_match["fixtures"] > 1).sum()),
        "bookmakers": sorted(links["bookmaker"].unique().to_list()),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    admin_url = args.url
    created: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="oddskit_bench_import_"))
    report: dict[str, Any] = {"machine": machine_info(admin_url, ["shared_buffers", "work_mem"])}
    report["busy"] = [busy(admin_url)]
    try:
        started = time.perf_counter()
        files = generate(tmp, args.seasons, args.leagues, args.seed)
        paths = [f["path"] for f in files]
        matches = sum(f["matches"] for f in files)
        report["data"] = {
            "files": len(files),
            "seasons": args.seasons,
            "leagues": list(LEAGUES)[: args.leagues],
            "matches": matches,
            "bytes": sum(p.stat().st_size for p in paths),
            "seconds": time.perf_counter() - started,
            "seed": args.seed,
        }
        log(f"generated {len(files)} files, {matches:,} matches in {tmp}")
        report["read_only"] = read_only(paths)
        log(f"read only: {report['read_only']}")
        url = create_database(admin_url, created)
        report["busy"].append(busy(admin_url))
        archive = tmp / "archive"
        report["archive"] = run_child(paths, url, "archive", archive)
        report["archive"]["archive_bytes"] = sum(
            p.stat().st_size for p in archive.rglob("*") if p.is_file()
        )
        report["archive"]["days"] = len(list(archive.glob("day=*")))
        log(f"archive import: {report['archive']['seconds']:.1f} s")
        report["linking"] = linking(url, matches)
        log(f"linking: {report['linking']}")
        report["busy"].append(busy(admin_url))
        alt_url = create_database(admin_url, created)
        report["pandas_copy"] = pandas_copy(paths, alt_url)
        log(f"pandas + COPY: {report['pandas_copy']}")
        if args.live_seasons:
            live_files = [f["path"] for f in files if f["season"] >= 2025 - args.live_seasons]
            live_url = create_database(admin_url, created)
            report["busy"].append(busy(admin_url))
            report["live"] = run_child(live_files, live_url, "live", None)
            report["live"]["seasons"] = args.live_seasons
            log(f"live import: {report['live']['seconds']:.1f} s")
            pandas_live = pandas_copy(live_files, create_database(admin_url, created))
            report["live"]["pandas_copy"] = pandas_live
        report["busy"].append(busy(admin_url))
        report["ratios"] = {
            "archive_vs_pandas_copy": report["archive"]["seconds"]
            / report["pandas_copy"]["seconds"],
            "read_vs_pandas_read_melt": report["read_only"]["seconds"]
            / report["pandas_copy"]["read_melt_seconds"],
        }
        if "live" in report:
            report["ratios"]["live_vs_pandas_copy"] = (
                report["live"]["seconds"] / report["live"]["pandas_copy"]["seconds"]
            )
        report["rows_agree"] = (
            report["archive"]["rows_read"]
            == report["read_only"]["rows"]
            == report["pandas_copy"]["rows"]
        )
    finally:
        if args.keep:
            log(f"kept databases {created} and {tmp}")
        else:
            for name in created:
                drop_database(admin_url, name)
            shutil.rmtree(tmp, ignore_errors=True)
    return report


#: The archive import of the default run before each day file was written once
#: (benchmarks/results/import.md at commit 240740b).
BEFORE = {
    "code": "git 481eccb",
    "date": "2026-12-01 20:24 UTC",
    "rows": 775_200,
    "seconds": 892.1,
    "rows_per_second": 869,
    "ratio": 8.53,
}


def markdown(report: dict[str, Any], admin_url: str) -> str:
    from oddskit.load_archive import WRITE_THREADS

    m, data, archive = report["machine"], report["data"], report["archive"]
    alt, read, link = report["pandas_copy"], report["read_only"], report["linking"]
    mb = 1e6
    busy_text = ", ".join(
        f"{s['loadavg_1m']:.2f} / {s['other_active_sessions']}" for s in report["busy"]
    )
    flag = (
        " — **the machine was busy: other work skews these times**"
        if was_busy(report["busy"], m["nproc"])
        else ""
    )
    files = archive["files"]
    rss = [f["peak_rss"] for f in files]
    one_each = link["matches_stored"] == link["matches_generated"]
    linked = one_each and not link["matches_with_two_fixtures"]
    fifth = max(1, len(files) // 5)
    half = max(1, len(files) // 2)
    bounded = archive["peak_rss"] <= 1.25 * rss[fifth - 1]
    lines = [
        "# Importing football-data.co.uk seasons",
        "",
        f"- Date: {m['date_utc']}",
        f"- Command: `{m['command']}`",
        f"- Machine: nproc = {m['nproc']}, {m['cpu']}, RAM {m['ram_bytes'] / 2**20:,.0f} MB, "
        f"{m['platform']}",
        f"- PostgreSQL: {m['postgresql']} ({masked(admin_url)}, database {database_of(admin_url)}"
        " for set-up)",
        f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"- Code: {code_line(m)}",
        f"- Load average / other active sessions (start, before each part, end): {busy_text}"
        + flag,
        "",
        "## Data",
        "",
        f"{data['files']} season files ({', '.join(data['leagues'])} × {data['seasons']} "
        f"seasons to 2024-25; {data['matches']:,} matches, {data['bytes'] / mb:,.1f} MB, "
        f"generated in {data['seconds']:.1f} s, seed {data['seed']}) in football-data.co.uk's "
        f"format: seasons from 2019-20 with `Time`, 6 bookmakers' 1x2, over/under 2.5 and "
        f"Asian handicap of bet365 and Pinnacle, `Max`/`Avg`, and all of it again as closing "
        f"prices; older seasons with `dd/mm/yy` dates, 7 bookmakers' 1x2, Betbrain aggregates "
        f"and Pinnacle's closing 1x2. BOM, CRLF and a trailing empty column, as the real "
        f"files. Aggregates are left out (the default): {read['rows']:,} price rows.",
        "",
        "## Import: read + load",
        "",
        "| path | rows | seconds | rows/s | ratio to pandas + COPY |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| **oddskit import football-data --to archive** (read, check, link, archive) | "
        f"{archive['rows_read']:,} | {archive['seconds']:.1f} | "
        f"{archive['rows_per_second']:,.0f} | "
        f"{report['ratios']['archive_vs_pandas_copy']:.2f}× |",
    ]
    if "live" in report:
        live = report["live"]
        lines.append(
            f"| oddskit import football-data --to live, last {live['seasons']} seasons "
            f"(retention off) | {live['rows_read']:,} | {live['seconds']:.1f} | "
            f"{live['rows_per_second']:,.0f} | {report['ratios']['live_vs_pandas_copy']:.2f}× "
            f"(pandas + COPY of the same files: {live['pandas_copy']['seconds']:.1f} s) |"
        )
    lines += [
        f"| pandas `read_csv` + `melt` + psycopg `COPY` (plain table) | {alt['rows']:,} | "
        f"{alt['seconds']:.1f} | {alt['rows_per_second']:,.0f} | 1.00× |",
        f"| oddskit `read_football_data` only (nothing written) | {read['rows']:,} | "
        f"{read['seconds']:.1f} | {read['rows_per_second']:,.0f} | "
        f"{report['ratios']['read_vs_pandas_read_melt']:.2f}× of pandas read + melt "
        f"({alt['read_melt_seconds']:.1f} s) |",
        "",
        f"Rows agree between the three (oddskit import, oddskit read, pandas): "
        f"**{report['rows_agree']}**. New rows stored by the archive import: "
        f"{archive['rows_new']:,}; archive size {archive['archive_bytes'] / mb:,.1f} MB. "
        f"The oddskit child process: {archive['imports_seconds']:.1f} s of imports, "
        f"{archive['process_wall_seconds']:.1f} s wall in all.",
        "",
        "## Memory (the oddskit archive import, one child process)",
        "",
        f"Peak RSS (`VmHWM`) after the imports and the connection: "
        f"{archive['rss_after_imports'] / mb:,.0f} MB; after file 1: {rss[0] / mb:,.0f} MB; "
        f"after file {fifth}: {rss[fifth - 1] / mb:,.0f} MB; after "
        f"file {half}: {rss[half - 1] / mb:,.0f} MB; after all "
        f"{len(files)} were checked and linked: {rss[-1] / mb:,.0f} MB; after the archive "
        f"write (the end): **{archive['peak_rss'] / mb:,.0f} MB** (files are read, checked and "
        "linked one at a time; their prices wait on disk; the write holds a month of rows).",
        "",
        "## Linking",
        "",
        f"- Matches generated: {link['matches_generated']:,}; matches stored: "
        f"**{link['matches_stored']:,}**",
        f"- Listings: {link['listings']:,} ({len(link['bookmakers'])} bookmakers: "
        f"{', '.join(link['bookmakers'])})",
        f"- Link methods: {', '.join(f'{k} {v:,}' for k, v in link['link_methods'].items())}",
        f"- Matches holding listings of two fixtures (false links): "
        f"**{link['matches_with_two_fixtures']}**",
        "",
        "## Targets",
        "",
        f"- one match per generated match, no false link: {'met' if linked else 'NOT met'}",
        f"- bounded memory (peak RSS after all files ≤ 1.25 × after file {fifth}): "
        f"{'met' if bounded else 'NOT met'}",
        "",
        "## Before / after: each day file written once",
        "",
        "The same 10 × 5 files (seed 0) before this change (each file read, checked, linked "
        f"and merged into the archive in turn; {BEFORE['code']}, {BEFORE['date']}, a busy "
        "machine) and now (every file checked and linked, then each day file merged once, "
        f"{WRITE_THREADS} day files at a time):",
        "",
        "| run | rows | seconds | rows/s | ratio to pandas + COPY (same run) |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| before | {BEFORE['rows']:,} | {BEFORE['seconds']:.1f} | {BEFORE['rows_per_second']:,} "
        f"| {BEFORE['ratio']:.2f}× |",
        f"| now | {archive['rows_read']:,} | {archive['seconds']:.1f} | "
        f"{archive['rows_per_second']:,.0f} | {report['ratios']['archive_vs_pandas_copy']:.2f}× |",
        "",
        f"Now: {sum(f['seconds'] for f in files):.1f} s reading, checking and linking the "
        f"{len(files)} files (below), then {archive['write_seconds']:.1f} s merging the "
        f"archive's {archive.get('days', 0):,} day files, each once, and recording the runs.",
        "",
        "## Per file (oddskit archive import: read, check, link; the archive write follows)",
        "",
        "| file | rows | seconds | rows/s | peak RSS so far |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {f['file']} | {f['rows_read']:,} | {f['seconds']:.2f} | "
            f"{f['rows_read'] / f['seconds']:,.0f} | {f['peak_rss'] / mb:,.0f} MB |"
            for f in files
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        to, out, url = argv[1], Path(argv[2]), argv[3]
        archive = argv[5] or None
        child(argv[6:], url, to, archive, out)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seasons", type=int, default=10)
    parser.add_argument("--leagues", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--live-seasons", type=int, default=2, help="0: no live import")
    parser.add_argument("--url", default=DEFAULT_URL, help="a database on the server")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    args = parser.parse_args(argv)
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    report = run(args)
    write_results(args.out, "import", markdown(report, args.url), report)
    log(f"wrote {args.out}/import.md and import.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
