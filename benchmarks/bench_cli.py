r"""Benchmark: how fast the ``oddskit`` command line answers, before and after a change.

Issue 13: "`oddskit --help` ≤ 0.3 s (import lazily: polars, plotly, pyarrow, sqlalchemy
only where used); a command on the embedded default ≤ 1 s when its server is already
running".

Usage::

    python benchmarks/bench_cli.py [--before 9ab208c] [--repeat 7] [--out benchmarks/results]

What is measured
----------------
Two copies of the code: *after*, this working tree, and *before*, ``oddskit/`` and
``migrations/`` of the git revision ``--before`` (extracted with ``git archive`` into a
temporary folder). Each command runs as a new process, ``python -c "from oddskit.cli
import main; main()" ARGS`` with ``PYTHONPATH`` at one copy, as the ``oddskit`` script
would; the embedded default server (a temporary ``ODDSKIT_HOME``) is started once by an
``oddskit migrate`` and kept up by its keeper (``ODDSKIT_SERVER_KEEP``, 10 minutes), so
each command finds it running. Commands: ``--help``, ``partitions``, ``loads``,
``server status``; ``--repeat`` runs of each, before and after in turn (so that the
machine's load falls on both alike): the best and the median wall time, and the best
CPU time of the process (user + system, from ``getrusage``; less sensitive to other work
on this shared 2-core machine than the wall time). For reference, the same for bare
imports: the interpreter alone, ``typer``, ``typer`` + ``rich.console``, typer's
parameter layer (``typer._adapters``, which imports pydantic when a command parses its
options), ``sqlalchemy``, ``psycopg``, ``polars``. Also the modules ``import
oddskit.cli`` loads and its cumulative import time (``-X importtime``), before and
after. At the end ``oddskit server stop`` stops the server, and ``server status`` must
then say it is not running (no keeper left behind).

Results go to ``<out>/cli.md`` and ``<out>/cli.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPOSITORY, git_state, log, write_results

COMMANDS = (["--help"], ["partitions"], ["loads"], ["server", "status"])
IMPORTS = {
    "python (nothing imported)": "pass",
    "import typer": "import typer",
    "import typer, rich.console": "import typer, rich.console",
    "typer's parameter layer (pydantic)": "import typer._adapters",
    "import sqlalchemy": "import sqlalchemy",
    "import psycopg": "import psycopg",
    "import polars": "import polars",
}
HEAVY = ("polars", "pyarrow", "plotly", "sqlalchemy", "adbc_driver_postgresql", "psycopg")
TARGETS = {"--help": 0.3, "partitions": 1.0, "loads": 1.0, "server status": 1.0}


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one process, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr or done.stdout}")
    return wall, cpu, done.stdout + done.stderr


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls = [w for w, _ in samples]
    return {
        "best_s": round(min(walls), 3),
        "median_s": round(statistics.median(walls), 3),
        "best_cpu_s": round(min(c for _, c in samples), 3),
        "runs": len(samples),
    }


def environment(root: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(root), ODDSKIT_HOME=str(home), ODDSKIT_SERVER_KEEP="10m")
    for name in ("ODDSKIT_DATABASE_URL", "DATABASE_URL"):
        env.pop(name, None)
    return env


def cli(args: list[str]) -> list[str]:
    return [sys.executable, "-c", "from oddskit.cli import main; main()", *args]


def import_profile(root: Path, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Modules that ``import oddskit.cli`` loads, and its cumulative import time."""
    probe = "import json, sys, oddskit.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {name.split(".")[0] for name in json.loads(done.stdout.strip().splitlines()[-1])}
    cumulative = 0
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == "oddskit.cli":
            cumulative = int(parts[1])
    return {
        "heavy_modules": sorted(m for m in HEAVY if m in modules),
        "modules": len(modules),
        "import_oddskit_cli_s": round(cumulative / 1e6, 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="oddskit-bench-cli-"))
    tmp.chmod(0o755)  # the embedded server runs as another user when this runs as root
    home = tmp / "home"
    home.mkdir()
    home.chmod(0o755)
    work = tmp / "work"
    work.mkdir()
    before_root = tmp / "before"
    before_root.mkdir()
    archive = subprocess.run(
        ["git", "archive", args.before, "oddskit", "migrations"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(before_root)], input=archive, check=True)
    roots = {"before": before_root, "after": REPOSITORY}
    envs = {name: environment(root, home) for name, root in roots.items()}
    report: dict[str, Any] = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(["python", *sys.argv]),
        "nproc": len(os.sched_getaffinity(0)),
        "python": sys.version.split()[0],
        "git": git_state(),
        "before_revision": args.before,
        "loadavg_1m_start": round(os.getloadavg()[0], 2),
    }
    try:
        log("starting the embedded server (oddskit migrate)")
        wall, _, output = timed(cli(["migrate"]), envs["after"], work)
        report["first_migrate_s"] = round(wall, 2)
        report["server_line"] = next(
            (line for line in output.splitlines() if line.startswith("Server:")), None
        )
        imports = {}
        for label, code in IMPORTS.items():
            samples = [
                timed([sys.executable, "-c", code], envs["after"], work)[:2]
                for _ in range(args.repeat)
            ]
            imports[label] = summary(samples)
        report["imports"] = imports
        report["import_profile"] = {
            name: import_profile(root, envs[name], work) for name, root in roots.items()
        }
        commands: dict[str, dict[str, Any]] = {}
        for command in COMMANDS:
            label = " ".join(command)
            samples: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
            log(f"timing `oddskit {label}`")
            for _ in range(args.repeat):
                for name in ("before", "after"):
                    samples[name].append(timed(cli(command), envs[name], work)[:2])
            commands[label] = {name: summary(runs) for name, runs in samples.items()}
            commands[label]["target_s"] = TARGETS[label]
            commands[label]["target_met"] = commands[label]["after"]["best_s"] <= TARGETS[label]
        report["commands"] = commands
    finally:
        stop = subprocess.run(
            cli(["server", "stop"]), env=envs["after"], cwd=work, capture_output=True, text=True
        )
        status = subprocess.run(
            cli(["server", "status"]), env=envs["after"], cwd=work, capture_output=True, text=True
        )
        report["server_stop"] = (stop.stdout + stop.stderr).strip()
        report["server_status_after_stop"] = (status.stdout + status.stderr).strip()
        shutil.rmtree(tmp, ignore_errors=True)
    report["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# How fast the command line answers",
        "",
        f"{report['date_utc']}, `{report['command']}`, {report['nproc']} cores, Python "
        f"{report['python']}, git {report['git'].get('head')} (after) against "
        f"{report['before_revision']} (before); load average {report['loadavg_1m_start']} at "
        f"the start, {report['loadavg_1m_end']} at the end (the machine is shared: wall times "
        "move with it, CPU times much less). Each command is a new process "
        "(`python -c 'from oddskit.cli import main; main()' ARGS`), the embedded server "
        f"already running ({report['server_line']}); best and median of "
        f"{report['commands']['--help']['after']['runs']} runs, before and after in turn.",
        "",
        "| command | before: best / median (CPU) | after: best / median (CPU) | target | met |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for label, row in report["commands"].items():
        b, a = row["before"], row["after"]
        lines.append(
            f"| `oddskit {label}` | {b['best_s']:.2f} / {b['median_s']:.2f} s "
            f"({b['best_cpu_s']:.2f} s) | {a['best_s']:.2f} / {a['median_s']:.2f} s "
            f"({a['best_cpu_s']:.2f} s) | ≤ {row['target_s']} s | "
            f"{'met' if row['target_met'] else '**NOT met**'} |"
        )
    lines += [
        "",
        "What a bare import costs on the same machine in the same run (best / median, CPU):",
        "",
        "| import | best / median (CPU) |",
        "| --- | --- |",
    ]
    for label, row in report["imports"].items():
        lines.append(
            f"| {label} | {row['best_s']:.2f} / {row['median_s']:.2f} s "
            f"({row['best_cpu_s']:.2f} s) |"
        )
    lines += ["", "`import oddskit.cli`:", ""]
    for name, profile in report["import_profile"].items():
        heavy = ", ".join(profile["heavy_modules"]) or "none"
        lines.append(
            f"- {name}: {profile['import_oddskit_cli_s']:.2f} s cumulative (`-X importtime`), "
            f"{profile['modules']} top-level modules; heavy ones loaded: {heavy}"
        )
    lines += [
        "",
        f"After `oddskit server stop`: {report['server_status_after_stop']!r}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", default="9ab208c", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    report = run(args)
    write_results(args.out, "cli", markdown(report), report)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
