"""The notebooks (jupytext py:percent files) run top to bottom against a seeded database.

Each notebook is converted with jupytext and executed by nbclient in a real ipykernel
whose environment points ``ODDSKIT_DATABASE_URL`` at a fresh database on the embedded
server, seeded once with small demo data. Every cell tagged ``chart`` must display a
Plotly figure, both as Plotly's own output (JupyterLab) and as HTML, so that the
executed notebook converted with nbconvert (or opened in VS Code or another viewer
without Plotly's extension) shows the chart too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jupytext
import nbformat
import psycopg
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from psycopg import sql
from sqlalchemy.engine import make_url

from oddskit.connection import Database
from oddskit.demo import ensure_demo_data
from oddskit.schema import migrate

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = ["quickstart.py", "margin_analysis.py", "line_movement.py", "football_data.py"]
PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: Each notebook must run in well under a minute on the test data.
MAX_SECONDS = 60


@pytest.fixture(scope="module")
def seeded_url(embedded_admin_url: str) -> Iterator[str]:
    """URL of a new database on the embedded server, migrated and seeded with demo data."""
    name = f"oddskit_test_nb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(embedded_admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url, source="argument")
    try:
        migrate(db)
        report = ensure_demo_data(db, days=1, events_per_day=10, progress=False)
        assert report is not None and report.rows_loaded > 0
        db.close()
        yield url
    finally:
        db.close()
        with psycopg.connect(embedded_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.py")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_shows_its_charts(
    name: str, seeded_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The kernel inherits this process's environment: the notebook's oddskit.connect()
    # resolves the test database, never the user's embedded one.
    monkeypatch.setenv("ODDSKIT_DATABASE_URL", seeded_url)
    monkeypatch.setenv("ODDSKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    nb = jupytext.read(NOTEBOOKS_DIR / name)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    began = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    seconds = time.perf_counter() - began
    nbformat.validate(nb)

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors
    charts = [cell for cell in code if "chart" in cell.metadata.get("tags", [])]
    assert charts, f"{name} has no cell tagged 'chart'"
    for cell in charts:
        shown = [o for o in cell.outputs if PLOTLY_MIME in o.get("data", {})]
        assert shown, f"{name}: chart cell shows no Plotly figure:\n{cell.source}"
        html = [o for o in shown if "plotly-graph-div" in o["data"].get("text/html", "")]
        assert html, f"{name}: chart cell has no HTML version of its figure:\n{cell.source}"
    markdown = [cell for cell in nb.cells if cell.cell_type == "markdown"]
    assert len(markdown) >= len(charts)
    assert seconds < MAX_SECONDS, f"{name} took {seconds:.0f} s"

    # Converted to HTML (nbconvert's default template), the page carries plotly.js once
    # and draws every chart.
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert page.count("plotly-graph-div") >= len(charts)
    assert page.count("Plotly.newPlot(") >= len(charts)
    assert "plotly.js v" in page
    (tmp_path / f"{name}.html").write_text(page, encoding="utf-8")
