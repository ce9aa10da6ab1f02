"""``oddskit server status`` and ``oddskit server stop``: the embedded PostgreSQL server.

Example:
    $ oddskit server status
    $ oddskit server stop
"""

from __future__ import annotations

import typer

from oddskit.cli_output import friendly_errors, out

server_app = typer.Typer(
    help="The embedded PostgreSQL server: is it up, who keeps it, stop it.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs 0.1-0.3 s
)


@server_app.command("status")
@friendly_errors
def status_command() -> None:
    """Say whether the embedded server runs, who holds it and until when it is kept up."""
    from oddskit.embedded import server_status

    out.print(str(server_status()), soft_wrap=True)


@server_app.command("stop")
@friendly_errors
def stop_command() -> None:
    """Stop the embedded server now (the data stays); the next command starts it again."""
    from oddskit.embedded import oddskit_home, stop_embedded_server

    if stop_embedded_server():
        out.print(f"Stopped the embedded server in {oddskit_home() / 'pgdata'}.", soft_wrap=True)
    else:
        out.print("The embedded server was not running.")
