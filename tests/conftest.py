from __future__ import annotations

from pathlib import Path

import pytest

import residency
from residency.datamap import DataMap

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def demo() -> DataMap:
    """The built-in demo organisation (read once per test session)."""
    return residency.load()


@pytest.fixture(scope="session")
def small() -> DataMap:
    """A three-system inventory small enough to reason about by hand."""
    return residency.load(DATA / "passing_small.yaml")


@pytest.fixture
def small_text() -> str:
    return (DATA / "passing_small.yaml").read_text(encoding="utf-8")
