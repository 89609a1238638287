"""Where the shipped data lives: found through importlib.resources, never the repo."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def data_root() -> Traversable:
    """Return the root of the data shipped with the package (``data/`` in the repo)."""
    return resources.files("residency") / "data"


def data_file(*parts: str) -> Traversable:
    """Return one shipped data file, e.g. ``data_file("regions", "cloud-regions.csv")``."""
    node = data_root()
    for part in parts:
        node = node / part
    return node
