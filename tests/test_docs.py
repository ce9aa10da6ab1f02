"""The README stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from oddskit.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_cli_reference_lists_every_command_with_its_help() -> None:
    group = typer.main.get_group(app)
    listed = dict(re.findall(r"^  (\w+) {2,}(.+)$", README, flags=re.MULTILINE))
    assert set(listed) == set(group.commands)
    for name, command in group.commands.items():
        first_line = (command.help or "").strip().splitlines()[0]
        assert listed[name] == first_line, name


def test_readme_names_its_two_commands_and_ci_runs_the_test_one() -> None:
    assert "make demo" in README and "make test" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci
