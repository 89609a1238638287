"""Run every notebook in notebooks/ from top to bottom and save it with its outputs.

``make notebooks`` runs this, so that a reader on a code host sees the maps, graphs and
tables without running anything. The test suite executes the notebooks too
(tests/test_notebooks.py), without saving them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def run(path: Path) -> nbformat.NotebookNode:
    """Answer the notebook at ``path`` executed top to bottom (raises on a cell's error)."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,  # no timestamps: a re-run changes only what the answers change
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb


def main() -> int:
    """Execute and save each notebook; answer the exit code."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend: figures become outputs
    for path in NOTEBOOKS:
        print(f"running {path.relative_to(ROOT)} ...", flush=True)
        nb = run(path)
        nbformat.write(nb, path)
        size = path.stat().st_size
        print(f"saved {path.relative_to(ROOT)} with its outputs ({size:,} bytes)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
