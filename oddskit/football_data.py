"""Read football-data.co.uk season files into oddskit's input format.

football-data.co.uk publishes one CSV per league and season: one row per match, its
result, and the prices of about twenty bookmakers in columns named **bookmaker prefix
+ market suffix**: ``B365H``/``B365D``/``B365A`` (1x2), ``B365>2.5``/``B365<2.5``
(over/under 2.5 goals), ``AHh`` with ``B365AHH``/``B365AHA`` (Asian handicap at the
home line ``AHh``), and the same with a ``C`` for **closing** prices (``B365CH``,
``PSCH``, ``B365C>2.5``, ``AHCh``, ``PCAHH``). The "extra" leagues (``BRA.csv``,
``USA.csv``, …) use ``Country``, ``League``, ``Season``, ``Home``, ``Away`` and
closing prices only.

Conventions (all overridable in :func:`read_football_data`):

* **kickoff**: ``Date`` (dd/mm/yy or dd/mm/yyyy) and ``Time``, UK local time
  (Europe/London, so BST is handled), converted to UTC. Files before 2019-20 have
  no ``Time``: the kickoff is then 15:00 UK time on the match day (``default_time``).
* **captured_at**: the data carries no capture times. football-data.co.uk collects
  its (opening) prices on Friday afternoons for weekend games and on Tuesday
  afternoons for midweek games, and its closing prices just before kickoff. So the
  opening prices are stamped 15:00 UK time on the latest Tuesday or Friday at least
  two hours before the kickoff (:func:`collection_time`), the closing prices one
  minute before the kickoff (``closing_lead``). ``fetch_opening_odds`` and
  ``fetch_closing_odds`` then return the right columns.
* **identity**: one row is one match for every bookmaker in it: each row gets a
  ``match_key`` (``football-data:<division>:<date>:<home>:<away>``) and each
  bookmaker's listing a ``bookmaker_event_id`` derived from it. No SportRadar ids are
  invented. Division codes map to country and tournament (``E0`` → England,
  Premier League; :data:`DIVISIONS`).
* **bookmakers**: prefixes map to names (:data:`BOOKMAKERS`); ``BFE`` is the Betfair
  *Exchange*. ``Max``/``Avg`` (and the older ``BbMx``/``BbAv``) are market
  maximum/average, not bookmakers: left out unless ``aggregates=True``, which loads
  them as aggregate books ``football-data max (aggregate)`` and ``football-data
  average (aggregate)``: the ``(aggregate)`` marker
  (:data:`oddskit.markets.AGGREGATE_MARKER`) keeps them out of every cross-bookmaker
  answer (best prices, consensus, arbitrage, closing-line value's consensus, steam,
  lead–lag).
* **kickoff in the spring-forward gap** (01:00–02:00 UK on the last Sunday of March,
  which does not exist; it happens in the Americas' leagues): read as GMT.
* empty prices are no price; trailing empty columns and rows, a BOM, spaces around
  values and column names, ``Time`` with seconds and a repeated header row are
  ignored; a second table appended under a header of its own (a partial next season
  with other columns) is read under that header. A match given twice with the same
  values is read once. A row whose date or teams cannot be read, a price that is not
  a number, or a match given twice with different values is an error naming the
  file, row, line, column and value.

Example:
    >>> frame = read_football_data("tests/data/football_data/E0_2425.csv")
    >>> frame.select("bookmaker", "market", "outcome").unique().height > 0
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from oddskit.errors import ValidationError

UK = ZoneInfo("Europe/London")

#: Division codes of the main files → (country, tournament).
DIVISIONS: dict[str, tuple[str, str]] = {
    "E0": ("England", "Premier League"),
    "E1": ("England", "Championship"),
    "E2": ("England", "League One"),
    "E3": ("England", "League Two"),
    "EC": ("England", "National League"),
    "SC0": ("Scotland", "Premiership"),
    "SC1": ("Scotland", "Championship"),
    "SC2": ("Scotland", "League One"),
    "SC3": ("Scotland", "League Two"),
    "D1": ("Germany", "Bundesliga"),
    "D2": ("Germany", "2. Bundesliga"),
    "I1": ("Italy", "Serie A"),
    "I2": ("Italy", "Serie B"),
    "SP1": ("Spain", "LaLiga"),
    "SP2": ("Spain", "Segunda Division"),
    "F1": ("France", "Ligue 1"),
    "F2": ("France", "Ligue 2"),
    "N1": ("Netherlands", "Eredivisie"),
    "B1": ("Belgium", "Pro League"),
    "P1": ("Portugal", "Primeira Liga"),
    "T1": ("Turkey", "Super Lig"),
    "G1": ("Greece", "Super League"),
}

#: Column prefixes → bookmaker names. ``P`` is Pinnacle in the over/under and Asian
#: handicap columns (``P>2.5``, ``PAHH``), ``PS`` in the 1x2 ones.
BOOKMAKERS: dict[str, str] = {
    "B365": "bet365",
    "BS": "Blue Square",
    "BW": "bwin",
    "GB": "Gamebookers",
    "IW": "Interwetten",
    "LB": "Ladbrokes",
    "PS": "Pinnacle",
    "P": "Pinnacle",
    "SO": "Sporting Odds",
    "SB": "Sportingbet",
    "SJ": "Stan James",
    "SY": "Stanleybet",
    "VC": "VC Bet",
    "WH": "William Hill",
    "1XB": "1xBet",
    "BF": "Betfair Sportsbook",
    "BFD": "Betfred",
    "BMGM": "BetMGM",
    "BV": "BetVictor",
    "CL": "Coral",
    "BFE": "Betfair Exchange",
}
#: Market aggregates (not bookmakers): loaded only with ``aggregates=True``.
AGGREGATES: dict[str, str] = {
    "Max": "football-data max (aggregate)",
    "Avg": "football-data average (aggregate)",
    "BbMx": "football-data max (aggregate)",
    "BbAv": "football-data average (aggregate)",
}

_OUTCOMES_1X2 = {"H": "home", "D": "draw", "A": "away"}
_PRICE = re.compile(
    r"^(?P<book>[A-Za-z0-9]+?)(?P<closing>C?)"
    r"(?:(?P<x12>[HDA])|(?P<ou>[<>])2\.5|AH(?P<ah>[HA]))$"
)

#: Columns of the frames this module returns (oddskit's input format + match_key).
OUTPUT_SCHEMA = pl.Schema(
    {
        "captured_at": pl.Datetime("us", "UTC"),
        "bookmaker": pl.String,
        "sport": pl.String,
        "country": pl.String,
        "tournament": pl.String,
        "sportradar_id": pl.String,
        "match_key": pl.String,
        "bookmaker_event_id": pl.String,
        "home_team": pl.String,
        "away_team": pl.String,
        "kickoff": pl.Datetime("us", "UTC"),
        "market": pl.String,
        "line": pl.Float64,
        "outcome": pl.String,
        "odds": pl.Float64,
    }
)


def collection_time(kickoff: datetime) -> datetime:
    """When football-data.co.uk collected a match's opening prices (UTC).

    15:00 UK time on the latest Tuesday or Friday at least two hours before kickoff.

    Example:
        >>> from datetime import UTC
        >>> str(collection_time(datetime(2024, 8, 17, 14, 0, tzinfo=UTC)))  # a Saturday
        '2024-08-16 14:00:00+00:00'
        >>> str(collection_time(datetime(2024, 12, 4, 19, 30, tzinfo=UTC)))  # a Wednesday
        '2024-12-03 15:00:00+00:00'
    """
    local = kickoff.astimezone(UK) - timedelta(hours=2)
    day = local.date()
    while True:
        candidate = datetime.combine(day, time(15, 0), tzinfo=UK)
        if day.weekday() in (1, 4) and candidate <= local:
            return candidate.astimezone(ZoneInfo("UTC"))
        day -= timedelta(days=1)


def parse_price_column(name: str) -> tuple[str, bool, str, str, float | None] | None:
    """What a price column holds: (prefix, closing, market, outcome, line or None).

    ``None`` for a column that is not a price (results, statistics, counts, lines).

    Example:
        >>> parse_price_column("B365CH")
        ('B365', True, '1x2', 'home', None)
        >>> parse_price_column("P<2.5")
        ('P', False, 'over_under', 'under', 2.5)
        >>> parse_price_column("PCAHA")
        ('P', True, 'asian_handicap', 'away', None)
        >>> parse_price_column("FTHG") is None, parse_price_column("HC") is None
        (True, True)
    """
    match = _PRICE.match(name)
    if match is None:
        return None
    book, closing = match["book"], match["closing"] == "C"
    if book not in BOOKMAKERS and book not in AGGREGATES:
        # "BFCH" is Betfair closing, but "BFC" + "H" would be a prefix we do not know;
        # try the other reading of a trailing C before giving up.
        if closing and book + "C" in BOOKMAKERS:
            book, closing = book + "C", False
        else:
            return None
    if match["x12"]:
        return book, closing, "1x2", _OUTCOMES_1X2[match["x12"]], None
    if match["ou"]:
        return book, closing, "over_under", "over" if match["ou"] == ">" else "under", 2.5
    return book, closing, "asian_handicap", "home" if match["ah"] == "H" else "away", None


def read_football_data(
    paths: str | Path | Iterable[str | Path],
    *,
    aggregates: bool = False,
    bookmakers: Iterable[str] | None = None,
    opening_at: Callable[[datetime], datetime] = collection_time,
    closing_lead: timedelta = timedelta(minutes=1),
    default_time: time = time(15, 0),
) -> pl.DataFrame:
    """Read football-data.co.uk CSV files into one input-format frame (nothing written).

    Parameters
    ----------
    paths
        One or more season files (``E0.csv``, ``SP1.csv``, ``BRA.csv``, …).
    aggregates
        Also load the market maximum and average as the aggregate books
        ``football-data max (aggregate)`` and ``football-data average (aggregate)``
        (not bookmakers: cross-bookmaker answers leave them out).
    bookmakers
        Keep only these bookmakers (names as in :data:`BOOKMAKERS`).
    opening_at
        When the opening prices were captured, from the kickoff (UTC).
    closing_lead
        The closing prices are stamped this long before the kickoff.
    default_time
        UK kickoff time for files without a ``Time`` column.

    Returns
    -------
    polars.DataFrame
        oddskit's input format (:data:`OUTPUT_SCHEMA`, with ``match_key``), one row per
        bookmaker × match × opening/closing × market × outcome. Pass it to
        :func:`oddskit.load`.

    Examples
    --------
    >>> frame = read_football_data("tests/data/football_data/E0_2425.csv")
    >>> frame.filter(pl.col("bookmaker") == "Pinnacle", pl.col("market") == "1x2").height > 0
    True
    """
    frames = list(
        iter_football_data(
            paths,
            aggregates=aggregates,
            bookmakers=bookmakers,
            opening_at=opening_at,
            closing_lead=closing_lead,
            default_time=default_time,
        )
    )
    return pl.concat(frames) if frames else pl.DataFrame(schema=OUTPUT_SCHEMA)


def iter_football_data(
    paths: str | Path | Iterable[str | Path],
    *,
    aggregates: bool = False,
    bookmakers: Iterable[str] | None = None,
    opening_at: Callable[[datetime], datetime] = collection_time,
    closing_lead: timedelta = timedelta(minutes=1),
    default_time: time = time(15, 0),
) -> Iterator[pl.DataFrame]:
    """:func:`read_football_data`, one frame per file (memory bounded by one file).

    Example:
        >>> next(iter_football_data("tests/data/football_data/E0_2425.csv")).columns[:3]
        ['captured_at', 'bookmaker', 'sport']
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    wanted = set(bookmakers) if bookmakers is not None else None
    for path in paths:
        yield _read_file(
            Path(path),
            aggregates=aggregates,
            wanted=wanted,
            opening_at=opening_at,
            closing_lead=closing_lead,
            default_time=default_time,
        )


def _read_text(path: Path) -> pl.DataFrame:
    """The file as text columns (``row``: data row number, ``line``: line in the file).

    A BOM, trailing empty columns and rows and repeated header rows are dropped. A file
    holding two tables (a partial next season appended under a header of its own) is
    read table by table, each under its own header.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc.strerror}).") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # older seasons are Windows-1252
        text = data.decode("cp1252", errors="replace")
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise ValidationError(f"{path}: the file is empty; expected a football-data.co.uk CSV.")
    first_field = numbered[0][1].split(",", 1)[0]
    starts = [i for i, (_, line) in enumerate(numbered) if line.split(",", 1)[0] == first_field]
    tables = [
        _read_table(path, numbered[start:stop])
        for start, stop in zip(starts, [*starts[1:], len(numbered)], strict=True)
    ]
    frame = pl.concat(tables, how="diagonal") if len(tables) > 1 else tables[0]
    frame = frame.with_row_index("row", offset=1).cast({"row": pl.Int64})
    team = "HomeTeam" if "HomeTeam" in frame.columns else "Home"
    if team not in frame.columns or "Date" not in frame.columns:
        raise ValidationError(
            f"{path}: not a football-data.co.uk file: it has no Date and HomeTeam (or Home) "
            f"columns; its header is {', '.join(frame.columns[:12])}…"
        )
    return frame


def _read_table(path: Path, lines: list[tuple[int, str]]) -> pl.DataFrame:
    """One header line and its data lines as text columns, with each row's ``line``."""
    frame = pl.read_csv(
        "\n".join(line for _, line in lines).encode(),
        infer_schema=False,
        truncate_ragged_lines=True,
    )
    empty_named = [c for c in frame.columns if c.strip() == "" or c.startswith("_duplicated_")]
    frame = frame.drop(empty_named).rename(lambda c: c.strip())
    if frame.height != len(lines) - 1:  # a quoted field spanning lines: no line numbers
        numbers = pl.Series("line", [None] * frame.height, dtype=pl.Int64)
    else:
        numbers = pl.Series("line", [n for n, _ in lines[1:]], dtype=pl.Int64)
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in frame.columns
    )
    return frame.with_columns(numbers).filter(~blank) if frame.width else frame


def _kickoffs(frame: pl.DataFrame, path: Path, default_time: time) -> pl.Series:
    """``Date`` + ``Time`` (UK local) as UTC instants; unreadable ones refused."""
    text = pl.col("Date").str.strip_chars()
    day = (
        pl.when(text.str.contains(r"^\d{1,2}/\d{1,2}/\d{2}$"))
        .then(text.str.strptime(pl.Date, "%d/%m/%y", strict=False))
        .when(text.str.contains(r"^\d{1,2}/\d{1,2}/\d{4}$"))
        .then(text.str.strptime(pl.Date, "%d/%m/%Y", strict=False))
        .otherwise(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    )
    has_time = "Time" in frame.columns
    clock_text = pl.col("Time").str.strip_chars() if has_time else None
    clock = (
        pl.coalesce(
            clock_text.str.strptime(pl.Time, "%H:%M", strict=False),
            clock_text.str.strptime(pl.Time, "%H:%M:%S", strict=False),
        )
        if clock_text is not None
        else pl.lit(None, dtype=pl.Time)
    )
    parsed = frame.with_columns(day=day, clock=clock)
    bad = parsed.filter(pl.col("day").is_null())
    if bad.height:
        _refuse(path, bad, "Date", "is not a date like 16/08/2024 (dd/mm/yyyy or dd/mm/yy)")
    if has_time:
        given = pl.col("Time").is_not_null() & (pl.col("Time").str.strip_chars() != "")
        bad = parsed.filter(pl.col("clock").is_null() & given)
        if bad.height:
            _refuse(path, bad, "Time", "is not a time like 15:00 (UK local time)")
    local = pl.col("day").dt.combine(pl.col("clock").fill_null(default_time))
    # A clock time in the spring-forward gap (01:00-02:00 UK on the last Sunday of
    # March, possible in the Americas' leagues) does not exist: it is read as GMT.
    return parsed.select(
        pl.coalesce(
            local.dt.replace_time_zone(
                "Europe/London", ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC"),
            local.dt.replace_time_zone("UTC"),
        ).dt.cast_time_unit("us")
    ).to_series()


def _refuse(path: Path, rows: pl.DataFrame, column: str, reason: str) -> None:
    lines = [
        f"  row {row} (line {line}), column {column}: "
        f"{'an empty value' if value is None else repr(value)} {reason}"
        for row, line, value in rows.select("row", "line", column).head(10).iter_rows()
    ]
    more = f"\n  … and {rows.height - 10:,} more" if rows.height > 10 else ""
    raise ValidationError(
        f"{path}: {rows.height:,} row{'s' * (rows.height != 1)} cannot be read:\n"
        + "\n".join(lines)
        + more
    )


def _read_file(
    path: Path,
    *,
    aggregates: bool,
    wanted: set[str] | None,
    opening_at: Callable[[datetime], datetime],
    closing_lead: timedelta,
    default_time: time,
) -> pl.DataFrame:
    frame = _read_text(path)
    extra = "Home" in frame.columns and "HomeTeam" not in frame.columns
    home, away = ("Home", "Away") if extra else ("HomeTeam", "AwayTeam")
    for column in (home, away):
        missing = frame.filter(pl.col(column).is_null() | (pl.col(column).str.strip_chars() == ""))
        if missing.height:
            _refuse(path, missing, column, "is empty; every match needs both teams")
    kickoff = _kickoffs(frame, path, default_time)
    if extra:
        country = frame["Country"] if "Country" in frame.columns else pl.lit(None, pl.String)
        tournament = frame["League"] if "League" in frame.columns else pl.lit(path.stem)
        division = pl.lit(path.stem.upper())
    else:
        codes = (
            frame["Div"].str.strip_chars() if "Div" in frame.columns else pl.lit(path.stem.upper())
        )
        division = codes
        country = pl.select(
            pl.lit(codes).replace_strict(
                {code: c for code, (c, _) in DIVISIONS.items()}, default=None
            )
        ).to_series()
        tournament = pl.select(
            pl.lit(codes).replace_strict(
                {code: t for code, (_, t) in DIVISIONS.items()}, default=codes
            )
        ).to_series()
    matches = frame.select(
        "row",
        home=pl.col(home).str.strip_chars(),
        away=pl.col(away).str.strip_chars(),
    ).with_columns(
        kickoff=kickoff,
        division=division,
        country=country,
        tournament=tournament,
    )
    matches = matches.with_columns(
        match_key=pl.format(
            "football-data:{}:{}:{}:{}",
            "division",
            pl.col("kickoff").dt.convert_time_zone("Europe/London").dt.date(),
            "home",
            "away",
        ),
        opening=pl.col("kickoff").map_elements(opening_at, return_dtype=pl.Datetime("us", "UTC")),
        closing=pl.col("kickoff") - closing_lead,
    )
    keep = _first_of_repeated_matches(path, frame, matches)
    frame, matches = frame.filter(keep), matches.filter(keep)
    books = {**BOOKMAKERS, **(AGGREGATES if aggregates else {})}
    prices = []
    lines = {
        False: _line(frame, "AHh") if "AHh" in frame.columns else _line(frame, "BbAHh"),
        True: _line(frame, "AHCh"),
    }
    for column in frame.columns:
        parsed = parse_price_column(column)
        if parsed is None or parsed[0] not in books:
            continue
        prefix, closing, market, outcome, line = parsed
        name = books[prefix]
        if wanted is not None and name not in wanted:
            continue
        raw = frame[column].str.strip_chars()
        odds = raw.cast(pl.Float64, strict=False)
        bad = frame.filter(odds.is_null() & raw.is_not_null() & (raw != ""))
        if bad.height:
            _refuse(path, bad, column, "is not a number (decimal odds such as 2.10)")
        if market == "asian_handicap":
            # Older seasons give each bookmaker's own line (B365AH, GBAH); else AHh/AHCh.
            own = f"{prefix}{'C' if closing else ''}AH"
            line_values = _line(frame, own) if own in frame.columns else lines[closing]
        else:
            line_values = pl.Series([line] * frame.height, dtype=pl.Float64)
        prices.append(
            matches.select(
                "row",
                captured_at=pl.col("closing") if closing else pl.col("opening"),
                bookmaker=pl.lit(name),
                market=pl.lit(market),
                line=line_values,
                outcome=pl.lit(outcome),
                odds=odds,
            ).filter(pl.col("odds").is_not_null() & (pl.col("odds") > 1))
        )
    if not prices:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    long = pl.concat(prices).filter(
        (pl.col("market") != "asian_handicap") | pl.col("line").is_not_null()
    )
    # The same bookmaker's closing 1x2 and over/under come from different prefixes
    # (PSCH, PC>2.5): a price given twice is kept once.
    long = long.unique(["row", "captured_at", "bookmaker", "market", "line", "outcome"])
    out = long.join(matches, on="row").sort("row", "bookmaker", "captured_at", "market")
    return out.select(
        "captured_at",
        "bookmaker",
        sport=pl.lit("football"),
        country="country",
        tournament="tournament",
        sportradar_id=pl.lit(None, pl.String),
        match_key="match_key",
        bookmaker_event_id=pl.format("{}@{}", "match_key", "bookmaker"),
        home_team="home",
        away_team="away",
        kickoff="kickoff",
        market="market",
        line="line",
        outcome="outcome",
        odds="odds",
    ).cast(OUTPUT_SCHEMA)  # type: ignore[arg-type]


def _first_of_repeated_matches(path: Path, frame: pl.DataFrame, matches: pl.DataFrame) -> pl.Series:
    """Which rows to read: a match given twice with the same values is read once; given
    twice with different values (two versions of its prices) it is refused."""
    values = frame.drop("row", "line").hash_rows()
    keyed = matches.select("row", "match_key").with_columns(values=values)
    repeated = keyed.filter(pl.len().over("match_key") > 1)
    differing = repeated.filter(pl.col("values").n_unique().over("match_key") > 1)
    if differing.height:
        shown = differing.join(frame.select("row", "line"), on="row").head(10)
        lines = [
            f"  row {row} (line {line}): {key.removeprefix('football-data:')}"
            for row, key, line in shown.select("row", "match_key", "line").iter_rows()
        ]
        raise ValidationError(
            f"{path}: {differing['match_key'].n_unique():,} match(es) are given more than once "
            "with different values (results or prices); keep one row of each:\n" + "\n".join(lines)
        )
    first = keyed.select(pl.col("row") == pl.col("row").min().over("match_key"))
    return first.to_series()


def _line(frame: pl.DataFrame, column: str) -> pl.Series:
    if column not in frame.columns:
        return pl.Series([None] * frame.height, dtype=pl.Float64)
    return frame[column].str.strip_chars().cast(pl.Float64, strict=False)
