"""The store on both engines: snapshots, history, loading by reference, migrations."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

import residency.store as store_module
from residency.datamap import DataMap
from residency.graph import build_graph
from residency.inventory import parse_inventory_text
from residency.store import (
    SCHEMA_VERSION,
    Store,
    StoreError,
    database_url,
    location_table,
    parse_ref,
    snapshot_table,
    staff_table,
)

from .conftest import DATA

OLD_SCHEMA = DATA / "store"


@pytest.fixture
def store(db_url):
    return Store(db_url)


def _moved(small_text: str):
    return parse_inventory_text(small_text.replace("country: BR", "country: PT"))


def _count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_round_trip_loses_nothing(store, demo):
    store.import_inventory(demo.inventory, source="demo")
    back = store.load_inventory(demo.name)
    assert back.model_dump() == demo.inventory.model_dump()
    assert back.content_hash() == demo.inventory.content_hash()
    assert back.origins == demo.inventory.origins
    assert sorted(build_graph(back).edges) == sorted(demo.graph.edges)


def test_reimport_adds_no_snapshot(store, small):
    first = store.import_inventory(small.inventory)
    again = store.import_inventory(small.inventory)
    assert (first.changed, first.snapshot) == (True, 1)
    assert (again.changed, again.snapshot) == (False, 1)
    assert len(store.history("Tiny Agency")) == 1
    assert _count(store, staff_table) == 3


def test_every_change_is_a_new_snapshot_and_the_old_ones_stay(store, small, small_text):
    store.import_inventory(small.inventory, source="a.yaml", by="ana")
    moved = _moved(small_text)
    assert store.import_inventory(moved, source="b.yaml").snapshot == 2
    assert store.import_inventory(small.inventory).snapshot == 3  # back again: a new one
    history = store.history("Tiny Agency")
    assert [s.number for s in history] == [1, 2, 3]
    assert [s.imported_by for s in history] == ["ana", None, None]
    assert [s.source for s in history] == ["a.yaml", "b.yaml", None]
    assert history[0].content_hash == history[2].content_hash == small.inventory.content_hash()
    assert history[1].content_hash == moved.content_hash()
    assert history[0].counts == {"staff": 3, "clients": 2, "systems": 3}
    assert history[0].imported_at <= history[1].imported_at <= history[2].imported_at
    assert [p.country for p in store.load_inventory("Tiny Agency").staff] == ["IN", "BR", "CA-QC"]
    assert [p.country for p in store.load_inventory("Tiny Agency@2").staff] == ["IN", "PT", "CA-QC"]
    assert store.load_inventory("Tiny Agency@1").model_dump() == small.inventory.model_dump()
    assert _count(store, staff_table) == 9
    (record,) = store.names()
    assert (record.snapshots, record.content_hash) == (3, small.inventory.content_hash())


def test_a_date_reads_the_snapshot_current_then(store, small, small_text):
    store.import_inventory(small.inventory)
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    store.import_inventory(_moved(small_text))
    today = datetime.now(UTC).date().isoformat()
    assert store.snapshot(f"Tiny Agency@{today}").number == 2
    assert store.snapshot(f"Tiny Agency@{between.isoformat()}").number == 1
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    with pytest.raises(StoreError, match="had no snapshot yet"):
        store.snapshot(f"Tiny Agency@{yesterday}")
    with pytest.raises(StoreError, match="has no snapshot 7: it has 1 to 2"):
        store.load_inventory("Tiny Agency@7")


def test_parse_ref():
    assert parse_ref("Tiny Agency") == ("Tiny Agency", None)
    assert parse_ref("Tiny Agency@3") == ("Tiny Agency", 3)
    assert parse_ref("Tiny Agency@3@latest") == ("Tiny Agency@3", None)
    assert parse_ref("ops@example.com") == ("ops@example.com", None)
    assert parse_ref("A@2026-01-31T10:00")[1] == datetime(2026, 1, 31, 10, tzinfo=UTC)
    with pytest.raises(StoreError, match="not a valid date"):
        parse_ref("A@2026-02-31")


def test_failed_import_leaves_the_previous_snapshot(store, small, small_text, monkeypatch):
    store.import_inventory(small.inventory)
    before = store.load_inventory("Tiny Agency").model_dump()
    real = store_module._insert_rows

    def broken(conn, inventory_id, snapshot_id, inventory):
        real(conn, inventory_id, snapshot_id, inventory)  # every row written, then a fault
        from sqlalchemy.exc import OperationalError

        raise OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(store_module, "_insert_rows", broken)
    with pytest.raises(StoreError, match="nothing was changed: disk full"):
        store.import_inventory(_moved(small_text))
    monkeypatch.undo()
    assert store.load_inventory("Tiny Agency").model_dump() == before
    assert [s.number for s in store.history("Tiny Agency")] == [1]
    assert store.names()[0].content_hash == small.inventory.content_hash()
    assert _count(store, staff_table) == 3
    assert store.import_inventory(_moved(small_text)).snapshot == 2  # the number was not used


def test_location_table_answers_sql_questions(store, small):
    store.import_inventory(small.inventory)
    latest = store.snapshot("Tiny Agency")
    with store.engine.connect() as conn:
        sid = conn.execute(
            select(snapshot_table.c.id).where(snapshot_table.c.number == latest.number)
        ).scalar_one()
        rows = conn.execute(
            select(location_table.c.system_id)
            .where(location_table.c.country == "DE", location_table.c.snapshot_id == sid)
            .order_by(location_table.c.system_id)
        ).scalars()
        assert list(rows) == ["gworkspace", "zendesk"]


def test_several_inventories_need_a_name(store, small, demo):
    store.import_inventory(small.inventory)
    store.import_inventory(demo.inventory)
    assert [r.name for r in store.names()] == sorted([small.name, demo.name])
    with pytest.raises(StoreError, match="which one"):
        store.load_inventory()
    with pytest.raises(StoreError, match="no inventory named 'Nope'"):
        store.load_inventory("Nope")
    with pytest.raises(StoreError, match="no inventory named 'Nope'"):
        store.history("Nope")


def test_loading_one_reads_only_its_rows(store, small, demo):
    store.import_inventory(demo.inventory)
    store.import_inventory(small.inventory)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        store.load_inventory("Tiny Agency")
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    selects = [s for s in statements if s.upper().startswith("SELECT")]
    assert selects, statements
    for statement in selects:  # each one picks its rows: no scan of every stored inventory
        assert " WHERE " in statement.upper(), statement


def test_graph_from_store_answers_like_the_file(store, small):
    store.import_inventory(small.inventory)
    from_store = DataMap.from_inventory(store.load_inventory())
    assert from_store.where("client:acme").to_frame().equals(small.where("client:acme").to_frame())


def _old_store(url: str, inventory) -> None:
    """Write a store as residency made it before snapshots and schema versions."""
    from sqlalchemy import create_engine

    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = create_engine(database_url(url))
    org = json.dumps(inventory.organisation.model_dump(mode="json"))
    with engine.begin() as conn:
        for statement in (OLD_SCHEMA / f"v0_{dialect}.sql").read_text().split(";"):
            if statement.strip():
                conn.execute(text(statement))
        conn.execute(
            text(
                "INSERT INTO inventory (id, name, country, content_hash, source, imported_at,"
                " organisation, origins) VALUES (1, :name, 'GB', :hash, 'old.yaml', :at, :org,"
                " '{}')"
            ),
            {
                "name": inventory.organisation.name,
                "hash": inventory.content_hash(),
                "at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
                "org": org,
            },
        )
        for i, p in enumerate(inventory.staff):
            conn.execute(
                text(
                    "INSERT INTO staff (inventory_id, position, id, country, type, spec)"
                    " VALUES (1, :i, :id, :country, :type, :spec)"
                ),
                {"i": i, "id": p.id, "country": p.country, "type": p.type,
                 "spec": json.dumps(p.model_dump(mode="json"))},
            )  # fmt: skip
        for name, items in (("client", inventory.clients), ("system", inventory.systems)):
            for i, item in enumerate(items):
                extra = (
                    {"name": item.name, "country": item.country}
                    if name == "client"
                    else {"vendor": item.vendor, "vendor_country": item.vendor_country}
                )
                columns = ", ".join(extra)
                values = ", ".join(f":{k}" for k in extra)
                conn.execute(
                    text(
                        f"INSERT INTO {name} (inventory_id, position, id, {columns}, spec)"
                        f" VALUES (1, :i, :id, {values}, :spec)"
                    ),
                    {"i": i, "id": item.id, **extra,
                     "spec": json.dumps(item.model_dump(mode="json"))},
                )  # fmt: skip
    engine.dispose()


def test_an_old_store_is_upgraded_and_keeps_its_inventory(db_url, small, small_text):
    _old_store(db_url, small.inventory)
    store = Store(db_url)
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == SCHEMA_VERSION
    (first,) = store.history("Tiny Agency")
    assert (first.number, first.source, first.imported_by) == (1, "old.yaml", None)
    assert first.imported_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert first.counts == {"staff": 3, "clients": 2, "systems": 3}
    assert store.load_inventory("Tiny Agency@1").model_dump() == small.inventory.model_dump()
    assert not store.import_inventory(small.inventory).changed
    assert store.import_inventory(_moved(small_text)).snapshot == 2
    assert Store(db_url).history("Tiny Agency")[1].number == 2  # opened again: no migration


def test_a_newer_store_says_how(db_url, small):
    Store(db_url).import_inventory(small.inventory)
    from sqlalchemy import create_engine

    engine = create_engine(database_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"schema version 0099, newer than this residency.*"
                       r"pip install --upgrade residency"):  # fmt: skip
        Store(db_url)


def test_the_shipped_migrations_end_at_the_schema_version():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(store_module.MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [SCHEMA_VERSION]
    chain = [r.revision for r in script.walk_revisions()][::-1]
    assert tuple(chain) == store_module.SCHEMA_VERSIONS


def test_a_migrated_store_has_the_tables_a_new_one_has(tmp_path, small):
    """Upgrading an old store and creating a new one give the same schema."""
    from sqlalchemy import create_engine, inspect

    old, new = tmp_path / "old.db", tmp_path / "new.db"
    _old_store(f"sqlite:///{old}", small.inventory)
    Store(old), Store(new)

    def shape(path: Path) -> dict:
        engine = create_engine(f"sqlite:///{path}")
        insp = inspect(engine)
        out = {
            t: (
                sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                sorted(i["name"] for i in insp.get_indexes(t)),
            )
            for t in insp.get_table_names()
        }
        engine.dispose()
        return out

    assert shape(old) == shape(new)
    assert set(shape(new)) == {*store_module.metadata.tables, "alembic_version"}


def test_database_url(tmp_path, monkeypatch):
    monkeypatch.delenv("RESIDENCY_DB", raising=False)
    assert database_url("postgresql://u@localhost/r") == "postgresql+psycopg://u@localhost/r"
    assert database_url("postgres://u@localhost/r") == "postgresql+psycopg://u@localhost/r"
    assert database_url("postgresql+psycopg://u@h/r") == "postgresql+psycopg://u@h/r"
    target = tmp_path / "sub" / "r.db"
    assert database_url(target) == f"sqlite:///{target}"
    assert target.parent.is_dir()
    monkeypatch.setenv("RESIDENCY_DB", "sqlite://")
    assert database_url() == "sqlite://"


def test_the_default_store_is_in_the_user_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("RESIDENCY_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    expected = tmp_path / "data" / "residency" / "residency.db"
    assert database_url() == f"sqlite:///{expected}"
    Store()
    assert expected.is_file()
    assert not (tmp_path / ".residency").exists()


def test_unopenable_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(f"sqlite:///{tmp_path}/missing-dir/x/../../nope/r.db")


def test_the_password_is_never_shown(pg_url):
    url = pg_url.replace("postgres@", "postgres:s3cret@")
    store = Store(url)
    assert "s3cret" not in store.shown_url
    with pytest.raises(StoreError) as info:
        store.load_inventory("Nope")
    assert "s3cret" not in str(info.value)


def test_no_postgresql_binaries_is_a_clear_reason(monkeypatch):
    from tests import pg

    monkeypatch.setattr(pg.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pg.shutil, "which", lambda name: None)
    with pytest.raises(pg.PostgresUnavailable, match="make postgres"), pg.throwaway_cluster():
        pass
