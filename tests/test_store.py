from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from residency.datamap import DataMap
from residency.graph import build_graph
from residency.inventory import parse_inventory_text
from residency.store import LocationRecord, StaffRecord, Store, StoreError, database_url


@pytest.fixture
def store():
    return Store("sqlite://")


def test_round_trip_loses_nothing(store, demo):
    store.import_inventory(demo.inventory, source="demo")
    back = store.load_inventory(demo.name)
    assert back.model_dump() == demo.inventory.model_dump()
    assert back.content_hash() == demo.inventory.content_hash()
    assert back.origins == demo.inventory.origins
    G = build_graph(back)
    assert sorted(G.edges) == sorted(demo.graph.edges)


def test_reimport_is_idempotent(store, small):
    assert store.import_inventory(small.inventory).changed
    assert not store.import_inventory(small.inventory).changed
    with Session(store.engine) as session:
        assert session.exec(select(func.count()).select_from(StaffRecord)).one() == 3


def test_new_content_replaces_the_old(store, small, small_text):
    store.import_inventory(small.inventory)
    changed = parse_inventory_text(small_text.replace("country: BR", "country: PT"))
    assert store.import_inventory(changed).changed
    back = store.load_inventory("Tiny Agency")
    assert [p.country for p in back.staff] == ["IN", "PT", "CA-QC"]
    with Session(store.engine) as session:
        assert session.exec(select(func.count()).select_from(StaffRecord)).one() == 3


def test_failed_import_leaves_the_store_as_it_was(store, small, small_text, monkeypatch):
    store.import_inventory(small.inventory)
    before = store.load_inventory("Tiny Agency").model_dump()
    changed = parse_inventory_text(small_text.replace("country: BR", "country: PT"))
    import residency.store as module

    def broken(session, inventory_id, inventory):
        from sqlalchemy.exc import OperationalError

        session.add(
            StaffRecord(
                inventory_id=inventory_id,
                position=0,
                id="half",
                country="XX",
                type="employee",
                spec={},
            )
        )
        session.flush()
        raise OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(module, "_insert_rows", broken)
    with pytest.raises(StoreError, match="nothing was changed"):
        store.import_inventory(changed)
    assert store.load_inventory("Tiny Agency").model_dump() == before


def test_location_table_answers_sql_questions(store, small):
    store.import_inventory(small.inventory)
    with Session(store.engine) as session:
        rows = session.exec(select(LocationRecord.system_id).where(LocationRecord.country == "DE"))
        assert sorted(rows) == ["gworkspace", "zendesk"]


def test_several_inventories_need_a_name(store, small, demo):
    store.import_inventory(small.inventory)
    store.import_inventory(demo.inventory)
    assert [r.name for r in store.names()] == sorted([small.name, demo.name])
    with pytest.raises(StoreError, match="which one"):
        store.load_inventory()
    with pytest.raises(StoreError, match="no inventory named 'Nope'"):
        store.load_inventory("Nope")


def test_graph_from_store_answers_like_the_file(store, small):
    store.import_inventory(small.inventory)
    from_store = DataMap.from_inventory(store.load_inventory())
    assert from_store.where("client:acme").to_frame().equals(small.where("client:acme").to_frame())


def test_database_url(tmp_path, monkeypatch):
    monkeypatch.delenv("RESIDENCY_DB", raising=False)
    assert database_url("postgresql://u@localhost/r") == "postgresql://u@localhost/r"
    target = tmp_path / "sub" / "r.db"
    assert database_url(target) == f"sqlite:///{target}"
    assert target.parent.is_dir()
    monkeypatch.setenv("RESIDENCY_DB", "sqlite://")
    assert database_url() == "sqlite://"


def test_unopenable_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(f"sqlite:///{tmp_path}/missing-dir/x/../../nope/r.db")
