"""How different sources spell the sample's teams and tournaments (for generated data).

Real odds sources name one club in their own ways: football-data.co.uk writes
``Man United`` and ``Nott'm Forest``, The Odds API ``Manchester United`` and
``Nottingham Forest``, African books often ``MANCHESTER UTD`` or ``Enyimba FC``.
The sample generator uses these styles so that linking listings without SportRadar
ids (:mod:`oddskit.identity`) is measured against a known truth.

Styles (:data:`STYLES`):

``canonical``  the sample's own names (Pinnacle in the sample);
``short``      football-data.co.uk's short names (``Man City``, ``Wolves``, ``Ath Madrid``);
``official``   full official names with accents (``Wolverhampton Wanderers``,
               ``Atlético Madrid``, ``1. FC Köln``), as odds APIs write them;
``upper``      upper case, ``Utd`` for United (``MANCHESTER UTD``);
``club``       a club-form affix added (``Enyimba FC``, ``AFC Bournemouth``), ``&`` for and.

A few spellings are nicknames no rule can resolve (``Spurs``, ``Sp Lisbon``): they
stand for the links that need the user's alias table.

Example:
    >>> spell_team("Manchester United", "short"), spell_team("Manchester United", "upper")
    ('Man United', 'MANCHESTER UTD')
    >>> spell_tournament("England", "Premier League", "short")
    'EPL'
"""

from __future__ import annotations

from typing import Literal

Style = Literal["canonical", "short", "official", "upper", "club"]
STYLES: tuple[Style, ...] = ("canonical", "short", "official", "upper", "club")

#: How each sample bookmaker spells names with ``own_names=True`` (oddskit.sample).
SAMPLE_STYLES: dict[str, Style] = {
    "Pinnacle": "canonical",
    "betPawa": "short",
    "SportyBet": "club",
    "Bet9ja": "upper",
}

#: football-data.co.uk-style short names.
SHORT: dict[str, str] = {
    "Manchester United": "Man United",
    "Manchester City": "Man City",
    "Nottingham Forest": "Nott'm Forest",
    "Wolverhampton": "Wolves",
    "Tottenham Hotspur": "Tottenham",
    "West Ham United": "West Ham",
    "Newcastle United": "Newcastle",
    "Leeds United": "Leeds",
    "Sheffield Wednesday": "Sheffield Weds",
    "West Bromwich Albion": "West Brom",
    "Queens Park Rangers": "QPR",
    "Preston North End": "Preston",
    "Birmingham City": "Birmingham",
    "Blackburn Rovers": "Blackburn",
    "Bristol City": "Bristol City",
    "Charlton Athletic": "Charlton",
    "Coventry City": "Coventry",
    "Derby County": "Derby",
    "Hull City": "Hull",
    "Ipswich Town": "Ipswich",
    "Leicester City": "Leicester",
    "Norwich City": "Norwich",
    "Stoke City": "Stoke",
    "Swansea City": "Swansea",
    "Atletico Madrid": "Ath Madrid",
    "Athletic Bilbao": "Ath Bilbao",
    "Real Betis": "Betis",
    "Real Sociedad": "Sociedad",
    "Celta Vigo": "Celta",
    "Espanyol": "Espanol",
    "Rayo Vallecano": "Vallecano",
    "Real Oviedo": "Oviedo",
    "Borussia Monchengladbach": "M'gladbach",
    "Eintracht Frankfurt": "Ein Frankfurt",
    "Bayer Leverkusen": "Leverkusen",
    "Borussia Dortmund": "Dortmund",
    "Hamburger SV": "Hamburg",
    "Mainz 05": "Mainz",
    "VfB Stuttgart": "Stuttgart",
    "Hellas Verona": "Verona",
    "AC Milan": "Milan",
    "Paris Saint-Germain": "Paris SG",
    "Sporting CP": "Sp Lisbon",  # a nickname: needs an alias
    "PSV Eindhoven": "PSV",
    "Kairat Almaty": "Kairat",
    "Union Saint-Gilloise": "St Gilloise",
    "Atletico Mineiro": "Atletico-MG",
    "Vasco da Gama": "Vasco",
    "Sport Recife": "Sport",
    "Kakamega Homeboyz": "Homeboyz",
    "Nairobi City Stars": "City Stars",
    "Mamelodi Sundowns": "Sundowns",
    "Bendel Insurance": "Insurance",
}

#: Full official names, accents included.
OFFICIAL: dict[str, str] = {
    "Wolverhampton": "Wolverhampton Wanderers",
    "Brighton": "Brighton and Hove Albion",
    "Bournemouth": "AFC Bournemouth",
    "Inter": "Inter Milan",
    "Atletico Madrid": "Atlético Madrid",
    "Alaves": "Deportivo Alavés",
    "FC Koln": "1. FC Köln",
    "Borussia Monchengladbach": "Borussia Mönchengladbach",
    "Bayern Munich": "Bayern München",
    "Mainz 05": "1. FSV Mainz 05",
    "Sao Paulo": "São Paulo",
    "Gremio": "Grêmio",
    "Vitoria": "Vitória",
    "Ceara": "Ceará",
    "Atletico Mineiro": "Atlético Mineiro",
    "Bodo/Glimt": "Bodø/Glimt",
    "Qarabag": "Qarabağ",
    "Copenhagen": "FC København",
    "Galatasaray": "Galatasaray SK",
    "Sporting CP": "Sporting Lisbon",
    "Slavia Prague": "Slavia Praha",
    "Tottenham Hotspur": "Tottenham Hotspur",
    "Murang'a Seal": "Murang’a Seal",
    "Heartland": "Heartland FC",
    "Hearts of Oak": "Accra Hearts of Oak",
}

#: Club-form affixes some books add.
CLUB: dict[str, str] = {
    "Enyimba": "Enyimba FC",
    "Bournemouth": "AFC Bournemouth",
    "Brentford": "Brentford FC",
    "Remo Stars": "Remo Stars FC",
    "Shooting Stars": "Shooting Stars SC",
    "Tusker": "Tusker FC",
    "Stellenbosch": "Stellenbosch FC",
    "Medeama": "Medeama SC",
    "Flamengo": "CR Flamengo",
    "Barcelona": "FC Barcelona",
    "Valencia": "Valencia CF",
    "Sevilla": "Sevilla FC",
    "Napoli": "SSC Napoli",
    "Lazio": "SS Lazio",
    "Roma": "AS Roma",
    "Monaco": "AS Monaco",
    "Hoffenheim": "TSG Hoffenheim",
    "Freiburg": "SC Freiburg",
    "Brighton": "Brighton & Hove Albion",
}

#: How each style names the sample's tournaments (by country and name).
TOURNAMENT_NAMES: dict[Style, dict[tuple[str | None, str], str]] = {
    "short": {
        ("England", "Premier League"): "EPL",
        ("Spain", "LaLiga"): "La Liga",
        ("Nigeria", "NPFL"): "Nigeria Premier League",
        ("None", "UEFA Champions League"): "Champions League",
    },
    "official": {
        ("England", "Premier League"): "English Premier League",
        ("Spain", "LaLiga"): "LaLiga EA Sports",
        ("South Africa", "Premiership"): "Betway Premiership",
        ("Kenya", "Premier League"): "FKF Premier League",
    },
    "upper": {
        ("England", "Premier League"): "ENGLAND PREMIER LEAGUE",
        ("Nigeria", "NPFL"): "NPFL",
    },
    "club": {("South Africa", "Premiership"): "DStv Premiership"},
}


def spell_team(name: str, style: Style) -> str:
    """``name`` (a sample team) as a source of ``style`` writes it.

    Example:
        >>> [spell_team("Atletico Madrid", s) for s in STYLES]
        ['Atletico Madrid', 'Ath Madrid', 'Atlético Madrid', 'ATLETICO MADRID', \
'Atletico Madrid']
    """
    if style == "short":
        return SHORT.get(name, name)
    if style == "official":
        return OFFICIAL.get(name, name)
    if style == "upper":
        return name.replace("United", "Utd").upper()
    if style == "club":
        return CLUB.get(name, name)
    return name


def spell_tournament(country: str | None, name: str, style: Style) -> str:
    """A sample tournament's name as a source of ``style`` writes it.

    Example:
        >>> spell_tournament("South Africa", "Premiership", "official")
        'Betway Premiership'
    """
    return TOURNAMENT_NAMES.get(style, {}).get((country or "None", name), name)
