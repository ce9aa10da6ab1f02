"""The boards picked in Polars from every stored price: the oracle for the board tables.

``current_odds``, ``opening_odds`` and ``closing_odds`` answer the board helpers; the
tests compare them with the pick made here from :func:`oddskit.fetch_odds_history`,
which reads the partitioned tables (and the archive) directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from oddskit.connection import Database
from oddskit.queries import fetch_events, fetch_odds_history
from oddskit.queries_board import BOARD_SCHEMA
from oddskit.queries_current import BOARD_ORDER


def reference_board(
    db: Database,
    kind: str,
    *,
    as_of: datetime | None = None,
    lookback: timedelta | None = None,
    event_ids: list[int] | int | None = None,
    bookmakers: list[str] | str | None = None,
    markets: list[str] | str | None = None,
    kickoff_since: datetime | None = None,
    kickoff_until: datetime | None = None,
) -> pl.DataFrame:
    """The ``kind`` board (``"latest"`` as of ``as_of``, ``"opening"``, ``"closing"``)."""
    rows = fetch_odds_history(db, event_ids=event_ids, bookmakers=bookmakers).join(
        fetch_events(db).select("event_id", "kickoff"), on="event_id"
    )
    at = pl.col("captured_at")
    if kind == "latest":
        assert as_of is not None
        rows = rows.filter(at <= as_of)
        if lookback is not None:
            rows = rows.filter(at >= as_of - lookback)
    if kind == "closing":
        rows = rows.filter(at < pl.col("kickoff"))
    if kickoff_since is not None:
        rows = rows.filter(pl.col("kickoff") >= kickoff_since)
    if kickoff_until is not None:
        rows = rows.filter(pl.col("kickoff") < kickoff_until)
    pick = at.min() if kind == "opening" else at.max()
    rows = rows.filter(at == pick.over("event_id", "bookmaker"))
    if markets is not None:
        rows = rows.filter(
            pl.col("market").is_in([markets] if isinstance(markets, str) else markets)
        )
    return rows.select(list(BOARD_SCHEMA)).cast(BOARD_SCHEMA).sort(BOARD_ORDER, nulls_last=True)


def board_filters(**filters: Any) -> dict[str, Any]:
    """``filters`` without the ones left out (for calling a helper and the oracle alike)."""
    return {name: value for name, value in filters.items() if value is not None}
