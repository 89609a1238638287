from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import residency
from residency.datamap import DataMap
from tests import pg

DATA = Path(__file__).parent / "data"


def inventory_problems(path: Path) -> list[object]:
    """Return the problems ``residency check`` reports for an inventory (none: valid)."""
    from residency._errors import InventoryError
    from residency.inventory import read_inventory

    try:
        read_inventory(path)
    except InventoryError as exc:
        return list(exc.problems)
    return []


@pytest.fixture(autouse=True)
def _plain_process() -> Iterator[None]:
    """Each test starts as a plain process: an app test before it (AppTest runs the app in
    this process) must not leave the collector told to freeze what maps keep."""
    from residency import _perf

    yield
    _perf._serving = False
    if gc.get_freeze_count():
        gc.unfreeze()


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of a PostgreSQL server for this test session.

    ``RESIDENCY_TEST_PG_URL`` if set, else a throwaway cluster started here. A server that
    cannot be started fails the PostgreSQL tests, unless ``RESIDENCY_SKIP_PG=1``.
    """
    if os.environ.get(pg.PG_URL_ENV):
        yield os.environ[pg.PG_URL_ENV]
        return
    cluster = pg.throwaway_cluster()
    try:
        url = cluster.__enter__()
    except pg.PostgresUnavailable as exc:
        if os.environ.get(pg.SKIP_ENV) == "1":
            pytest.skip(f"PostgreSQL unavailable ({pg.SKIP_ENV}=1): {exc}")
        pytest.fail(f"PostgreSQL could not be started (set {pg.SKIP_ENV}=1 to skip): {exc}")
    try:
        yield url
    finally:
        cluster.__exit__(None, None, None)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped after it."""
    name = f"residency_test_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(pg_server, name)
    yield url
    gc.collect()  # close the test's pooled connections before the database goes
    pg.drop_database(pg_server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL, on each engine: a SQLite file, and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))
