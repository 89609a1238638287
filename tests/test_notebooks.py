"""The notebooks run from top to bottom, and ship with the outputs ``make notebooks`` saved."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def _errors(nb: nbformat.NotebookNode) -> list[dict]:
    return [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own (inline) backend
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    assert not _errors(nb)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the map and the graph, as a Jupyter reader sees them


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_ships_with_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # Run top to bottom once (make notebooks), every cell with an answer, none an error.
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert all(c.get("outputs") for c in code)
    assert not _errors(nb)
    pngs = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2
    assert os.path.getsize(path) < 2_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_uses_today_and_the_default_backend(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "matplotlib.use(" not in source and "MPLBACKEND" not in source
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", source), "a fixed date: use today"
