"""The world of the sample generator: bookmakers (how each prices) and tournaments.

Used by :mod:`oddskit.sample`; see its docstring for the model.

Examples
--------
>>> BOOKMAKERS["Pinnacle"].decimals, len(TOURNAMENTS)
(3, 12)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BOOKMAKERS", "DEFAULT_BOOKMAKERS", "TOURNAMENTS", "Bookmaker", "Tournament"]


@dataclass(frozen=True)
class Bookmaker:
    """How one bookmaker prices: margin band, rounding, and how it follows the line."""

    name: str
    #: 1x2 margin (overround) range; each match draws its margin uniformly in it.
    margin_band: tuple[float, float]
    #: Decimals of the posted odds (rounded down).
    decimals: int
    #: The book reprices from the true line as it was this many minutes earlier.
    lag_minutes: float
    #: Chance of repricing at a snapshot (otherwise the previous price is repeated).
    update_prob: float
    #: Persistent per-match disagreement with the true line (sd of log goal rates).
    bias_sd: float
    #: Noise added at each repricing (sd of log goal rates).
    noise_sd: float
    #: Largest odds the book posts.
    max_odds: float
    #: Own event ids are ``id_base + k * id_stride + offset`` (digits only).
    id_base: int
    id_stride: int


#: The bookmakers the generator knows, by name.
BOOKMAKERS: dict[str, Bookmaker] = {
    b.name: b
    for b in (
        # name, margin band, decimals, lag, update prob, bias sd, noise sd, max odds, ids
        Bookmaker("betPawa", (0.060, 0.080), 2, 15.0, 0.35, 0.035, 0.012, 101.0, 28_000_000, 7),
        Bookmaker("SportyBet", (0.050, 0.070), 2, 10.0, 0.45, 0.03, 0.01, 101.0, 610_000_000, 11),
        Bookmaker("Bet9ja", (0.075, 0.100), 2, 25.0, 0.25, 0.045, 0.015, 101.0, 480_000_000, 5),
        Bookmaker("Pinnacle", (0.020, 0.030), 3, 0.0, 0.90, 0.01, 0.002, 1001.0, 16 * 10**8, 13),
    )
}
#: Default ``bookmakers=``: all of them.
DEFAULT_BOOKMAKERS: tuple[str, ...] = tuple(BOOKMAKERS)
BOOK_INDEX = {name: i for i, name in enumerate(BOOKMAKERS)}


@dataclass(frozen=True)
class Tournament:
    """A competition: its clubs, scoring level, home advantage and kickoff slots."""

    country: str | None
    name: str
    teams: tuple[str, ...]
    goals: float  # mean total goals
    home_adv: float  # mean goal supremacy of the home side
    rating_sd: float  # spread of team strength, in goals
    weight: float  # share of the day's matches
    slots: tuple[str, ...]  # kickoff times, "HH:MM" UTC


def _teams(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


#: The tournaments matches are drawn from.
TOURNAMENTS: tuple[Tournament, ...] = (
    Tournament(
        "Nigeria",
        "NPFL",
        _teams(
            "Enyimba, Kano Pillars, Rivers United, Shooting Stars, Enugu Rangers, Remo Stars,"
            "Plateau United, Akwa United, Lobi Stars, Kwara United, Sunshine Stars, Heartland,"
            "Bendel Insurance, Abia Warriors, Niger Tornadoes, Katsina United, Bayelsa United,"
            "Ikorodu City, El-Kanemi Warriors, Nasarawa United"
        ),
        2.15,
        0.75,
        0.25,
        0.12,
        ("14:00", "15:00", "16:00"),
    ),
    Tournament(
        "England",
        "Premier League",
        _teams(
            "Arsenal, Aston Villa, Bournemouth, Brentford, Brighton, Burnley, Chelsea,"
            "Crystal Palace, Everton, Fulham, Leeds United, Liverpool, Manchester City,"
            "Manchester United, Newcastle United, Nottingham Forest, Sunderland,"
            "Tottenham Hotspur, West Ham United, Wolverhampton"
        ),
        2.85,
        0.25,
        0.55,
        0.10,
        ("12:30", "14:00", "15:00", "16:30", "17:30", "19:30", "20:00"),
    ),
    Tournament(
        "England",
        "Championship",
        _teams(
            "Birmingham City, Blackburn Rovers, Bristol City, Charlton Athletic, Coventry City,"
            "Derby County, Hull City, Ipswich Town, Leicester City, Middlesbrough, Millwall,"
            "Norwich City, Oxford United, Portsmouth, Preston North End, Queens Park Rangers,"
            "Sheffield United, Sheffield Wednesday, Southampton, Stoke City, Swansea City,"
            "Watford, West Bromwich Albion, Wrexham"
        ),
        2.55,
        0.25,
        0.30,
        0.11,
        ("12:30", "15:00", "19:45", "20:00"),
    ),
    Tournament(
        "Spain",
        "LaLiga",
        _teams(
            "Alaves, Athletic Bilbao, Atletico Madrid, Barcelona, Celta Vigo, Elche, Espanyol,"
            "Getafe, Girona, Levante, Mallorca, Osasuna, Rayo Vallecano, Real Betis, Real Madrid,"
            "Real Oviedo, Real Sociedad, Sevilla, Valencia, Villarreal"
        ),
        2.55,
        0.30,
        0.50,
        0.09,
        ("13:00", "15:15", "17:30", "20:00"),
    ),
    Tournament(
        "Italy",
        "Serie A",
        _teams(
            "Atalanta, Bologna, Cagliari, Como, Cremonese, Fiorentina, Genoa, Hellas Verona,"
            "Inter, Juventus, Lazio, Lecce, AC Milan, Napoli, Parma, Pisa, Roma, Sassuolo,"
            "Torino, Udinese"
        ),
        2.65,
        0.25,
        0.45,
        0.08,
        ("11:30", "14:00", "17:00", "19:45"),
    ),
    Tournament(
        "Germany",
        "Bundesliga",
        _teams(
            "Augsburg, Bayer Leverkusen, Bayern Munich, Borussia Dortmund,"
            "Borussia Monchengladbach, Eintracht Frankfurt, FC Koln, Freiburg, Hamburger SV,"
            "Heidenheim, Hoffenheim, Mainz 05, RB Leipzig, St. Pauli, Union Berlin,"
            "VfB Stuttgart, Werder Bremen, Wolfsburg"
        ),
        3.10,
        0.30,
        0.55,
        0.07,
        ("14:30", "17:30", "19:30"),
    ),
    Tournament(
        "Kenya",
        "Premier League",
        _teams(
            "Gor Mahia, AFC Leopards, Tusker, KCB, Kakamega Homeboyz, Shabana, Posta Rangers,"
            "Bandari, Kariobangi Sharks, Sofapaka, Nairobi City Stars, Ulinzi Stars,"
            "Kenya Police, Mathare United, Murang'a Seal, Bidco United, APS Bomet, Mara Sugar"
        ),
        2.10,
        0.25,
        0.30,
        0.08,
        ("10:00", "12:00", "13:00"),
    ),
    Tournament(
        "Ghana",
        "Premier League",
        _teams(
            "Asante Kotoko, Hearts of Oak, Medeama, Aduana FC, Dreams FC, Bechem United,"
            "Berekum Chelsea, Nations FC, Legon Cities, Karela United, Samartex, Heart of Lions,"
            "Accra Lions, Great Olympics, Bibiani Gold Stars, Vision FC, Basake Holy Stars,"
            "Young Apostles"
        ),
        2.20,
        0.55,
        0.30,
        0.08,
        ("13:00", "15:00"),
    ),
    Tournament(
        "South Africa",
        "Premiership",
        _teams(
            "Mamelodi Sundowns, Orlando Pirates, Kaizer Chiefs, Stellenbosch, Sekhukhune United,"
            "AmaZulu, Polokwane City, TS Galaxy, Golden Arrows, Chippa United, Richards Bay,"
            "Magesi, Marumo Gallants, Durban City, Orbit College, Siwelele"
        ),
        2.20,
        0.25,
        0.35,
        0.06,
        ("13:30", "15:30", "17:30"),
    ),
    Tournament(
        "Brazil",
        "Serie A",
        _teams(
            "Flamengo, Palmeiras, Corinthians, Sao Paulo, Santos, Gremio, Internacional,"
            "Atletico Mineiro, Cruzeiro, Fluminense, Botafogo, Vasco da Gama, Bahia, Fortaleza,"
            "Bragantino, Vitoria, Juventude, Sport Recife, Ceara, Mirassol"
        ),
        2.40,
        0.45,
        0.35,
        0.06,
        ("19:00", "21:30", "22:00", "00:30"),
    ),
    Tournament(
        None,
        "UEFA Champions League",
        _teams(
            "Real Madrid, Barcelona, Bayern Munich, Manchester City, Liverpool, Arsenal,"
            "Paris Saint-Germain, Inter, Borussia Dortmund, Atletico Madrid, Juventus, Napoli,"
            "Benfica, Sporting CP, PSV Eindhoven, Ajax, Club Brugge, Galatasaray, Olympiacos,"
            "Slavia Prague, Copenhagen, Bodo/Glimt, Qarabag, Kairat Almaty, Pafos,"
            "Union Saint-Gilloise, Monaco, Marseille, Eintracht Frankfurt, Bayer Leverkusen,"
            "Atalanta, Chelsea, Tottenham Hotspur, Newcastle United, Villarreal, Athletic Bilbao"
        ),
        3.00,
        0.30,
        0.60,
        0.05,
        ("17:45", "20:00"),
    ),
    Tournament(
        None,
        "CAF Champions League",
        _teams(
            "Al Ahly, Mamelodi Sundowns, Esperance de Tunis, Wydad Casablanca, Pyramids FC,"
            "Simba SC, Young Africans, TP Mazembe, Petro de Luanda, Rivers United, Asante Kotoko,"
            "Al Hilal Omdurman, RS Berkane, MC Alger, Stade Malien, Remo Stars"
        ),
        2.20,
        0.50,
        0.40,
        0.02,
        ("13:00", "16:00", "19:00"),
    ),
)
