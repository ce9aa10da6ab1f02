"""UTC days: the bounds and names of daily partitions, and how far ahead they are made.

Partition bounds are UTC midnights whatever the server's or the client's time zone.

Example:
    >>> [b.isoformat() for b in day_bounds(datetime(2026, 11, 29, 17, 5, tzinfo=UTC))]
    ['2026-11-29T00:00:00+00:00', '2026-11-30T00:00:00+00:00']
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from oddskit.arguments import require_aware


def utc_day(moment: datetime) -> date:
    """Return the UTC calendar day of a timezone-aware ``moment``.

    Example:
        >>> from zoneinfo import ZoneInfo
        >>> utc_day(datetime(2026, 11, 30, 0, 30, tzinfo=ZoneInfo("Africa/Lagos")))
        datetime.date(2026, 11, 29)
    """
    return require_aware(moment, "moment").astimezone(UTC).date()


def day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """Return the UTC midnights around ``moment``: the bounds of its daily partition."""
    lower = datetime.combine(utc_day(moment), datetime.min.time(), tzinfo=UTC)
    return lower, lower + timedelta(days=1)


def partition_name(parent: str, day: date) -> str:
    """Return the name of ``parent``'s partition for ``day`` (pg_partman 4.x style).

    Example:
        >>> partition_name("market_odds", date(2026, 11, 29))
        'market_odds_p2026_11_29'
    """
    return f"{parent}_p{day:%Y_%m_%d}"


def midnight(day: date) -> datetime:
    """The UTC midnight that starts ``day`` (a partition's lower bound)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def premake_days(now: datetime, premake: int) -> list[date]:
    """Days that must have partitions: today through the premake horizon.

    Counted the way pg_partman 4.x counts with ``infinite_time_partitions``: the newest
    partition must start ``round((start - now) / 1 day) >= premake`` days ahead, so in
    the afternoon (UTC) the horizon reaches one day further. Both backends therefore
    make the same partitions at the same moment.

    Example:
        >>> [f"{d:%d}" for d in premake_days(datetime(2026, 11, 29, 9, tzinfo=UTC), 2)]
        ['29', '30', '01']
        >>> [f"{d:%d}" for d in premake_days(datetime(2026, 11, 29, 15, tzinfo=UTC), 2)]
        ['29', '30', '01', '02']
    """
    today = utc_day(now)
    days = [today]
    while math.floor((midnight(days[-1]) - now).total_seconds() / 86400 + 0.5) < premake:
        days.append(days[-1] + timedelta(days=1))
    return days
