"""The command line starts light: importing it, and `oddskit --help`, load none of the
heavy libraries (each is imported by the commands that use it). Not a timing test: the
figures are in benchmarks/results/cli.md (benchmarks/bench_cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oddskit import cli, schema

#: Imported only by the commands that need them (each costs 0.1-1 s to import).
HEAVY = (
    "polars",
    "pyarrow",
    "plotly",
    "sqlalchemy",
    "adbc_driver_postgresql",
    "adbc_driver_manager",
    "psycopg",
    "alembic",
    "numpy",
    "pandas",
)

REPOSITORY = Path(__file__).resolve().parent.parent


def modules_after(code: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        check=True,
    )
    last = result.stdout.strip().splitlines()[-1]
    return {name.split(".")[0] for name in json.loads(last)}


def test_importing_the_cli_loads_no_heavy_library() -> None:
    loaded = modules_after("import oddskit.cli")
    assert "typer" in loaded  # the probe sees the imports
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize("arguments", [["--help"], ["server", "--help"], ["load", "--help"]])
def test_help_loads_no_heavy_library(arguments: list[str]) -> None:
    code = (
        "import sys\n"
        "from oddskit.cli import main\n"
        f"sys.argv = ['oddskit', *{arguments!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass"
    )
    loaded = modules_after(code)
    assert not loaded & set(HEAVY)
    assert "rich" not in loaded  # plain help; the consoles are made on first use


def test_the_cli_knows_the_schemas_backends() -> None:
    assert cli.BACKENDS == schema.BACKENDS


def test_the_light_list_of_partitioned_tables_is_the_models_one() -> None:
    from oddskit.backends import PARTITIONED_TABLES
    from oddskit.models import PARTITIONED_TABLES as MODELS

    assert PARTITIONED_TABLES == MODELS


@pytest.mark.parametrize("command", ["loads", "partitions"])
def test_listing_commands_read_without_polars_or_adbc(make_migrated, command: str) -> None:
    # Listing loads or partitions answers in well under a second (cli.md): no frame
    # library and no ADBC driver, only the SQL layer.
    db = make_migrated("system", "native")
    code = (
        "import sys\n"
        "from oddskit.cli import main\n"
        f"sys.argv = ['oddskit', '--database-url', {db.libpq_url!r}, {command!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code"
    )
    loaded = modules_after(code)
    assert "sqlalchemy" in loaded  # the probe ran the command
    heavy = {"polars", "pyarrow", "adbc_driver_postgresql", "adbc_driver_manager", "pandas"}
    assert not loaded & heavy, loaded & heavy
