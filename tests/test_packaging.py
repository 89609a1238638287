"""The wheel carries data/ and the code finds it without the repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("residency-*.whl"))


@pytest.mark.slow
def test_wheel_contains_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"residency/data/{p.relative_to(ROOT / 'data').as_posix()}"
        for p in (ROOT / "data").rglob("*")
        if p.is_file()
    }
    assert shipped, "data/ is empty"
    assert shipped <= names
    assert "residency/data/demo/inventory.yaml" in names
    app = {
        "residency/_app/app.py",
        "residency/_app/app_support.py",
        "residency/_app/app_pages/map.py",
        "residency/_app/.streamlit/config.toml",
        "residency/_app/static/countries.geojson",
        "residency/schema/export-1.schema.json",
        "residency/schema/export-2.schema.json",
        "residency/migrations/env.py",  # the store upgrades itself from the installed package
        "residency/migrations/versions/0001_initial.py",
        "residency/migrations/versions/0002_snapshots.py",
    }
    assert app <= names, app - names


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_outside_the_repository(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import residency, sys; m = residency.load(); "
        "assert residency.__file__.startswith(sys.argv[1]), residency.__file__; "
        "print(m.name, len(m.inventory.staff))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split()[-1].isdigit()
