"""Tables on the command line: boxes on a terminal, plain columns in a pipe, CSV or JSON.

One helper, :func:`print_table`, prints every table of the CLI (``oddskit loads``,
``oddskit partitions``) in the format asked for with ``--format``:

``table``  a box table on a terminal; plain columns (two spaces apart, numbers
           right-aligned, no box characters) when stdout is a pipe or a file;
``csv``    a header and one line per row, raw values (``200000``, ISO 8601 times);
``json``   one list of objects, raw values.

Everything goes through the CLI's masked stdout, so no password is ever printed.

Example:
    >>> columns = [Column("run"), Column("rows", number=True)]
    >>> print("\\n".join(plain_lines(columns, [[1, 200_000], [12, 5]])))
    run     rows
    1    200,000
    12         5
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

from oddskit.cli_output import out
from oddskit.errors import ConfigurationError

__all__ = ["FORMATS", "Column", "TableFormat", "check_format", "plain_lines", "print_table"]

TableFormat = Literal["table", "csv", "json"]

#: The values of ``--format``.
FORMATS: tuple[str, ...] = get_args(TableFormat)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@dataclass(frozen=True)
class Column:
    """One column: its header, how a value reads in a table, its alignment, and its
    name in CSV and JSON (``key``, default: the header)."""

    name: str
    number: bool = False
    text: Callable[[Any], str] = _text
    key: str | None = None

    @property
    def field(self) -> str:
        """The column's name in CSV and JSON."""
        return self.key or self.name


def check_format(value: str) -> TableFormat:
    """``value`` if it is a table format, else a readable error.

    Example:
        >>> check_format("csv")
        'csv'
    """
    if value not in FORMATS:
        raise ConfigurationError(f"--format must be one of {', '.join(FORMATS)}, got {value!r}")
    return value  # type: ignore[return-value]


def plain_lines(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The table as plain columns: two spaces apart, numbers right-aligned."""
    cells = [[c.name for c in columns]] + [
        [c.text(v) for c, v in zip(columns, row, strict=True)] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return [
        "  ".join(
            cell.rjust(w) if c.number else cell.ljust(w)
            for c, cell, w in zip(columns, line, widths, strict=True)
        ).rstrip()
        for line in cells
    ]


def _raw(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def print_table(
    columns: Sequence[Column], rows: Sequence[Sequence[Any]], *, fmt: TableFormat = "table"
) -> None:
    """Print ``rows`` under ``columns`` on stdout in format ``fmt`` (see the module doc)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.field for c in columns])
        writer.writerows([["" if v is None else _raw(v) for v in row] for row in rows])
        out.file.write(buffer.getvalue())
    elif fmt == "json":
        records = [{c.field: _raw(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        out.file.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    elif sys.stdout.isatty():
        from rich.table import Table  # only for a table on a terminal
        from rich.text import Text

        table = Table()
        for c in columns:
            table.add_column(c.name, justify="right" if c.number else "left")
        for row in rows:  # data is never markup: a source may be named "[/x].csv"
            table.add_row(*(Text(c.text(v)) for c, v in zip(columns, row, strict=True)))
        out.print(table)
    else:
        out.file.write("".join(line + "\n" for line in plain_lines(columns, rows)))
    out.file.flush()
