"""The embedded server between commands: kept up for a while, then stopped, never orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oddskit.embedded import server_status, stop_embedded_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def home() -> Iterator[Path]:
    # World-readable, outside pytest's 0700 folders: the server runs as 'pgserver' as root.
    path = Path(tempfile.mkdtemp(prefix="oddskit-embedded-"))
    path.chmod(0o755)
    yield path
    stop_embedded_server(path)
    subprocess.run(["rm", "-rf", str(path)], check=False)


def oddskit(home: Path, *args: str, keep: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ODDSKIT_HOME": str(home), "ODDSKIT_SERVER_KEEP": keep}
    env.pop("ODDSKIT_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "oddskit.cli", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_command_leaves_the_server_up_for_the_next_then_stop_ends_it(home: Path) -> None:
    oddskit(home, "migrate", keep="2m")
    first = server_status(home)
    assert first.running and first.keeper_pid is not None
    assert "Kept up by process" in oddskit(home, "server", "status", keep="2m").stdout
    oddskit(home, "partitions", keep="2m")
    assert server_status(home).pid == first.pid  # found running, not started again
    assert "Stopped the embedded server" in oddskit(home, "server", "stop", keep="2m").stdout
    stopped = server_status(home)
    assert not stopped.running and stopped.keeper_pid is None
    assert "not running" in oddskit(home, "server", "status", keep="2m").stdout


def test_without_keeping_the_server_stops_with_the_command(home: Path) -> None:
    oddskit(home, "migrate", keep="0")
    assert wait_until(lambda: not server_status(home).running, timeout=10)


def test_the_keeper_lets_go_after_its_time_even_if_a_holder_was_killed(home: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from oddskit.embedded import start_embedded_server; "
            "start_embedded_server(Path(sys.argv[1])); print('up', flush=True); time.sleep(600)",
            str(home),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "up"
    holder.send_signal(signal.SIGKILL)  # its id stays in the server's list of holders
    holder.wait()
    oddskit(home, "migrate", keep="3s")
    assert server_status(home).keeper_pid is not None
    assert wait_until(lambda: not server_status(home).running, timeout=30)
