"""``oddskit links …`` and ``oddskit aliases …``: which listings make one match, by hand.

Example:
    $ oddskit links list --method fuzzy
    $ oddskit links candidates --tolerance 10m
    $ oddskit links link bet365 b-123 42
    $ oddskit links unlink bet365 b-123
    $ oddskit aliases add "Spurs" "Tottenham Hotspur" --sport football
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from oddskit.cli_output import friendly_errors, open_database, out

if TYPE_CHECKING:
    from rich.table import Table

links_app = typer.Typer(
    help="Which listings (a bookmaker's event) make one match: list, look-alikes, link, unlink.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs 0.1-0.3 s
)
aliases_app = typer.Typer(
    help="The team alias table (nothing is seeded: aliases come from you or links you made).",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs 0.1-0.3 s
)


def _table(frame, columns: list[str]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns)
    for row in frame.select(columns).iter_rows():
        table.add_row(*(Text("" if value is None else f"{value}") for value in row))
    return table


@links_app.command("list")
@friendly_errors
def list_command(
    method: Annotated[
        list[str] | None,
        typer.Option(
            help="Only links made this way: new, sportradar, match_key, exact, "
            "alias, fuzzy, manual (repeatable)."
        ),
    ] = None,
    bookmaker: Annotated[list[str] | None, typer.Option(help="Only this bookmaker.")] = None,
    event_id: Annotated[list[int] | None, typer.Option(help="Only this match.")] = None,
) -> None:
    """List listings with their match and how each was linked."""
    from oddskit.links import fetch_links

    with open_database() as db:
        frame = fetch_links(db, event_ids=event_id, bookmakers=bookmaker, methods=method)
    out.print(
        _table(
            frame,
            [
                "event_id",
                "bookmaker",
                "bookmaker_event_id",
                "link_method",
                "link_score",
                "home_team",
                "away_team",
                "kickoff",
            ],
        )
    )
    out.print(f"{frame.height:,} listings of {frame['event_id'].n_unique():,} matches")


@links_app.command("candidates")
@friendly_errors
def candidates_command(
    tolerance: Annotated[
        str, typer.Option(help="Kickoffs at most this far apart (e.g. 5m, 2h).")
    ] = "5m",
    min_score: Annotated[float, typer.Option(help="Least name similarity (0-1).")] = 0.5,
) -> None:
    """List listings that look like another match they are not linked to."""
    from oddskit.arguments import duration
    from oddskit.links import fetch_link_candidates

    with open_database() as db:
        frame = fetch_link_candidates(
            db, tolerance=duration(tolerance, "--tolerance"), min_score=min_score
        )
    out.print(
        _table(
            frame,
            [
                "bookmaker",
                "bookmaker_event_id",
                "event_id",
                "home_team",
                "away_team",
                "candidate_event_id",
                "candidate_home_team",
                "candidate_away_team",
                "score",
            ],
        )
    )
    out.print(
        f"{frame.height:,} look-alikes. Link one with `oddskit links link BOOKMAKER "
        "BOOKMAKER_EVENT_ID EVENT_ID`."
    )


@links_app.command("link")
@friendly_errors
def link_command(
    bookmaker: Annotated[str, typer.Argument(help="The listing's bookmaker.")],
    bookmaker_event_id: Annotated[str, typer.Argument(help="The bookmaker's event id.")],
    event_id: Annotated[int, typer.Argument(help="The match to link it to.")],
) -> None:
    """Link a listing (and its snapshots) to a match; kept on every later load."""
    from oddskit.links import link_listing

    with open_database() as db:
        learnt = link_listing(db, bookmaker, bookmaker_event_id, event_id)
    out.print(f"Linked {bookmaker} {bookmaker_event_id} to match {event_id}.")
    for alias in learnt:
        out.print(f"Learnt the team alias {alias}.")


@links_app.command("unlink")
@friendly_errors
def unlink_command(
    bookmaker: Annotated[str, typer.Argument(help="The listing's bookmaker.")],
    bookmaker_event_id: Annotated[str, typer.Argument(help="The bookmaker's event id.")],
) -> None:
    """Give a listing a match of its own; the pair is never linked or proposed again."""
    from oddskit.links import unlink_listing

    with open_database() as db:
        new_id = unlink_listing(db, bookmaker, bookmaker_event_id)
    out.print(f"{bookmaker} {bookmaker_event_id} is now match {new_id} on its own.")


@aliases_app.command("list")
@friendly_errors
def aliases_list_command() -> None:
    """List the team aliases."""
    from oddskit.links import fetch_team_aliases

    with open_database() as db:
        frame = fetch_team_aliases(db)
    out.print(_table(frame, ["alias", "team", "sport", "source"]))


@aliases_app.command("add")
@friendly_errors
def aliases_add_command(
    alias: Annotated[str, typer.Argument(help="Another name of the team, e.g. Spurs.")],
    team: Annotated[str, typer.Argument(help="The team, e.g. Tottenham Hotspur.")],
    sport: Annotated[str | None, typer.Option(help="Only for this sport.")] = None,
) -> None:
    """Add (or change) a team alias; later loads link listings that use it."""
    from oddskit.links import add_team_alias

    with open_database() as db:
        add_team_alias(db, alias, team, sport=sport)
    out.print(f"{alias} → {team}")


@aliases_app.command("remove")
@friendly_errors
def aliases_remove_command(
    alias: Annotated[str, typer.Argument(help="The alias to remove.")],
    sport: Annotated[str | None, typer.Option(help="The alias's sport, if it has one.")] = None,
) -> None:
    """Remove a team alias (links already made stay)."""
    from oddskit.links import remove_team_alias

    with open_database() as db:
        removed = remove_team_alias(db, alias, sport=sport)
    out.print(f"Removed {alias}." if removed else f"There was no alias {alias}.")
