"""Read The Odds API (v4) JSON responses into oddskit's input format.

The Odds API returns, for ``/v4/sports/{sport}/odds``, a list of events; its
historical endpoint wraps the same list as ``{"timestamp", "previous_timestamp",
"next_timestamp", "data": [...]}``. Each event has an ``id``, ``sport_key``,
``sport_title``, ``commence_time``, ``home_team``, ``away_team`` and
``bookmakers[].{key, title, last_update, markets[].{key, last_update,
outcomes[].{name, price, point}}}``. Files may hold one JSON document or JSON lines.

Mapping:

* **identity**: the event ``id`` is the cross-bookmaker ``match_key``
  (``odds-api:<id>``) and each bookmaker's ``bookmaker_event_id``; no SportRadar ids.
* **markets**: ``h2h`` → ``1x2`` (outcome names are the team names or ``Draw`` →
  home/draw/away); ``spreads`` → ``asian_handicap`` with oddskit's **home line**
  convention (the home outcome's ``point``; the away outcome's ``point`` negated);
  ``totals`` → ``over_under`` (``Over``/``Under`` at ``point``); ``btts`` → ``btts``;
  ``h2h_lay`` (exchange lay prices) is kept as ``1x2_lay``; any other market is kept
  under its own key with outcomes as given (completeness unknown).
* **odds**: decimal; American odds (``oddsFormat=american``: ``-150``, ``+130``) are
  converted. ``odds_format="auto"`` detects them per file: American prices are never
  between -100 and +100 and decimal ones never negative, so a file with a negative
  price, or with every price 100 or more, is American; a file mixing negative prices
  with prices between 1 and 100 is refused (say which with ``odds_format``).
* **times**: ISO 8601 (``dateFormat=iso``, any offset) or Unix seconds
  (``dateFormat=unix``); times without an offset are UTC.
* **refused**: an event that is not an object or lacks ``id``, ``home_team``,
  ``away_team`` or ``commence_time``; an unreadable time; an outcome without a numeric
  ``price``; a ``spreads``/``totals`` outcome without a numeric ``point``. Each error
  names the file, line, event, bookmaker, market and outcome. Events without
  bookmakers, and bookmakers without markets or outcomes, give no rows.
* **captured_at**: the bookmaker's ``last_update`` — when The Odds API last saw that
  bookmaker's prices change. All of one bookmaker's markets form one snapshot, and a
  price repeated unchanged in consecutive responses carries the same time, so it
  lands on the same snapshot (stored once) instead of looking like a new price. A
  missing ``last_update`` falls back to the market's, then to the response's
  ``timestamp``.
* **sport and tournament**: ``soccer_*`` is ``football``; common soccer keys map to
  country and tournament (:data:`SOCCER_LEAGUES`), others use ``sport_title``.
* **bookmakers**: keys map to oddskit's display names (:data:`BOOKMAKERS`, e.g.
  ``williamhill`` → ``William Hill``), else the response's ``title``.

Example:
    >>> frame = read_odds_api("tests/data/odds_api/epl_live.json")
    >>> sorted(frame["market"].unique())
    ['1x2', '1x2_lay', 'asian_handicap', 'over_under']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from oddskit.errors import ValidationError
from oddskit.football_data import OUTPUT_SCHEMA

OddsFormat = Literal["auto", "decimal", "american"]

#: Bookmaker keys → oddskit display names (shared with the football-data importer).
BOOKMAKERS: dict[str, str] = {
    "pinnacle": "Pinnacle",
    "williamhill": "William Hill",
    "williamhill_us": "William Hill US",
    "bet365": "bet365",
    "betfair_ex_uk": "Betfair Exchange",
    "betfair_ex_eu": "Betfair Exchange",
    "betfair_sb_uk": "Betfair Sportsbook",
    "onexbet": "1xBet",
    "ladbrokes_uk": "Ladbrokes",
    "coral": "Coral",
    "betvictor": "BetVictor",
    "betfred_uk": "Betfred",
    "betmgm": "BetMGM",
    "sport888": "888sport",
    "unibet_uk": "Unibet",
    "unibet_eu": "Unibet",
    "paddypower": "Paddy Power",
    "skybet": "Sky Bet",
    "betway": "Betway",
    "marathonbet": "Marathonbet",
    "matchbook": "Matchbook",
    "draftkings": "DraftKings",
    "fanduel": "FanDuel",
}

#: Soccer sport keys → (country, tournament).
SOCCER_LEAGUES: dict[str, tuple[str | None, str]] = {
    "soccer_epl": ("England", "Premier League"),
    "soccer_efl_champ": ("England", "Championship"),
    "soccer_england_league1": ("England", "League One"),
    "soccer_england_league2": ("England", "League Two"),
    "soccer_spain_la_liga": ("Spain", "LaLiga"),
    "soccer_italy_serie_a": ("Italy", "Serie A"),
    "soccer_germany_bundesliga": ("Germany", "Bundesliga"),
    "soccer_france_ligue_one": ("France", "Ligue 1"),
    "soccer_netherlands_eredivisie": ("Netherlands", "Eredivisie"),
    "soccer_portugal_primeira_liga": ("Portugal", "Primeira Liga"),
    "soccer_brazil_campeonato": ("Brazil", "Serie A"),
    "soccer_uefa_champs_league": (None, "UEFA Champions League"),
    "soccer_fifa_world_cup": (None, "FIFA World Cup"),
}

_MARKETS = {"h2h": "1x2", "spreads": "asian_handicap", "totals": "over_under", "btts": "btts"}
_MARKETS_KEPT = {"h2h_lay": "1x2_lay"}


def american_to_decimal(price: float) -> float:
    """Decimal odds of an American price.

    Example:
        >>> american_to_decimal(-150), american_to_decimal(130)
        (1.6666666666666665, 2.3)
    """
    return 1 + (price / 100 if price > 0 else 100 / -price)


def read_odds_api(
    paths: str | Path | Iterable[str | Path], *, odds_format: OddsFormat = "auto"
) -> pl.DataFrame:
    """Read The Odds API JSON files (live or historical) into one input-format frame.

    Parameters
    ----------
    paths
        JSON or JSON-lines files, each a response of ``/v4/sports/{sport}/odds`` or of
        the historical odds endpoint.
    odds_format
        ``"decimal"``, ``"american"`` or ``"auto"`` (American when a price in the file
        is negative or every price is 100 or more; see the module's notes).

    Returns
    -------
    polars.DataFrame
        oddskit's input format with ``match_key`` (see the module's mapping notes).

    Examples
    --------
    >>> frame = read_odds_api("tests/data/odds_api/epl_live.json")
    >>> frame.filter(pl.col("market") == "1x2")["outcome"].unique().sort().to_list()
    ['away', 'draw', 'home']
    """
    frames = list(iter_odds_api(paths, odds_format=odds_format))
    return pl.concat(frames) if frames else pl.DataFrame(schema=OUTPUT_SCHEMA)


def iter_odds_api(
    paths: str | Path | Iterable[str | Path], *, odds_format: OddsFormat = "auto"
) -> Iterator[pl.DataFrame]:
    """:func:`read_odds_api`, one frame per file (memory bounded by one file).

    Example:
        >>> next(iter_odds_api("tests/data/odds_api/epl_live.json")).height > 0
        True
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for path in paths:
        yield _read_file(Path(path), odds_format)


def _documents(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read the file as UTF-8 JSON ({exc}).") from None
    try:
        yield 1, json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{path}: line {number} is not JSON ({exc.msg} at column {exc.colno}); each "
                "file must be one JSON response or JSON lines of responses."
            ) from None


# The rows read from a file: the output's columns but the SportRadar id (the API has none).
_ROW_SCHEMA = {name: dtype for name, dtype in OUTPUT_SCHEMA.items() if name != "sportradar_id"}


def _read_file(path: Path, odds_format: OddsFormat) -> pl.DataFrame:
    rows: list[tuple] = []
    for line, document in _documents(path):
        snapshot_time = None
        events = document
        if isinstance(document, dict) and "data" in document:
            snapshot_time = document.get("timestamp")
            events = document["data"]
        if isinstance(events, dict) and "id" in events:
            events = [events]
        if not isinstance(events, list):
            keys = f" with keys {', '.join(events)}" if isinstance(events, dict) else ""
            raise ValidationError(
                f"{path}: line {line} is not an odds response: expected a list of events or "
                f"{{timestamp, data: [...]}}, got {type(events).__name__}{keys}."
            )
        for event in events:
            rows.extend(_event_rows(path, line, event, snapshot_time))
    frame = pl.DataFrame(
        rows,
        schema=_ROW_SCHEMA,
        orient="row",
    )
    if odds_format == "american" or (odds_format == "auto" and _looks_american(path, frame)):
        frame = frame.with_columns(
            odds=pl.col("odds").map_elements(american_to_decimal, return_dtype=pl.Float64)
        )
    instant = pl.Datetime("us", "UTC")
    return frame.select(
        "captured_at",
        "bookmaker",
        "sport",
        "country",
        "tournament",
        sportradar_id=pl.lit(None, pl.String),
        match_key="match_key",
        bookmaker_event_id="bookmaker_event_id",
        home_team="home_team",
        away_team="away_team",
        kickoff="kickoff",
        market="market",
        line="line",
        outcome="outcome",
        odds="odds",
    ).cast({"captured_at": instant, "kickoff": instant})


def _looks_american(path: Path, frame: pl.DataFrame) -> bool:
    """American odds are never between -100 and +100, decimal odds never negative: a file
    with a negative price, or only prices of 100 or more, is American; one with both a
    negative price and one between 1 and 100 is refused."""
    odds = frame["odds"]
    if not frame.height:
        return False
    negative = bool((odds < 0).any())
    decimal_like = bool(((odds > 1) & (odds < 100)).any())
    if negative and decimal_like:
        raise ValidationError(
            f"{path}: the prices mix American odds (negative, e.g. {odds.min()}) with decimal "
            "ones (between 1 and 100); pass odds_format='decimal' or 'american' (CLI "
            "--odds-format) if the file holds one kind, or split it."
        )
    return negative or not decimal_like


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 time (``dateFormat=iso``) or Unix seconds (``dateFormat=unix``), in UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # The Odds API's times are UTC
        return parsed.astimezone(UTC)
    return None


def _number(value: Any) -> float | None:
    """A JSON number (or a numeric string) as a float; anything else is ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no number


def _time_of(path: Path, line: int, event_id: object, field: str, value: Any) -> datetime:
    instant = _instant(value)
    if instant is None:
        raise ValidationError(
            f"{path}: line {line}, event {event_id}: {field} {value!r} is not a time (ISO 8601 "
            "such as 2024-08-16T19:00:00Z, or Unix seconds)."
        )
    return instant


def _event_rows(path: Path, line: int, event: Any, snapshot_time: str | None) -> Iterator[tuple]:
    if not isinstance(event, dict):
        raise ValidationError(
            f"{path}: line {line}: an event is a {type(event).__name__} ({str(event)[:40]!r}), "
            "not an object with id, home_team, away_team, commence_time and bookmakers."
        )
    try:
        event_id = event["id"]
        home, away = event["home_team"], event["away_team"]
        kickoff = _time_of(path, line, event_id, "commence_time", event["commence_time"])
        sport_key = event.get("sport_key") or ""
        bookmakers = event.get("bookmakers") or []
    except KeyError as exc:
        raise ValidationError(
            f"{path}: line {line}: an event lacks {exc} (every event needs id, home_team, "
            "away_team and commence_time)."
        ) from None
    sport = "football" if sport_key.startswith("soccer") else sport_key.split("_")[0] or None
    country, tournament = SOCCER_LEAGUES.get(sport_key, (None, event.get("sport_title")))
    sides = {home: "home", away: "away", "Draw": "draw", "draw": "draw"}
    for book in bookmakers:
        name = BOOKMAKERS.get(book.get("key"), book.get("title") or book.get("key"))
        for market in book.get("markets") or []:
            captured = book.get("last_update") or market.get("last_update") or snapshot_time
            key = market.get("key")
            if captured is None or key is None:
                continue
            captured = _time_of(path, line, event_id, "last_update", captured)
            oddskit_market = _MARKETS.get(key) or _MARKETS_KEPT.get(key, key)
            for outcome in market.get("outcomes") or []:
                label = outcome.get("name")
                price = _number(outcome.get("price"))
                point = _number(outcome.get("point"))
                where = f"{path}: line {line}, event {event_id}, {name} {key} {label!r}"
                if price is None:
                    raise ValidationError(
                        f"{where}: price {outcome.get('price')!r} is not a number; every outcome "
                        "needs one."
                    )
                if key in ("spreads", "totals") and point is None:
                    raise ValidationError(
                        f"{where}: point {outcome.get('point')!r} is not a number; {key} "
                        "outcomes need their line in 'point'."
                    )
                side = sides.get(label) if key in ("h2h", "h2h_lay", "spreads") else None
                if key in ("totals", "btts") and label:
                    side = label.lower()
                line_value = point
                if key == "spreads" and point is not None and side == "away":
                    line_value = 0.0 - point  # oddskit's lines are the home handicap
                rows_line = (
                    captured,
                    name,
                    sport,
                    country,
                    tournament,
                    f"odds-api:{event_id}",
                    str(event_id),
                    home,
                    away,
                    kickoff,
                    oddskit_market,
                    None if key in ("h2h", "h2h_lay", "btts") else line_value,
                    side or label,
                    price,
                )
                yield rows_line
