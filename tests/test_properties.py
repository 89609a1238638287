"""Property tests (hypothesis) for the importer, the graph and the query layer."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency import InventoryError
from residency.datamap import DataMap
from residency.inventory import parse_inventory_text
from residency.store import Store

COUNTRIES = ["DE", "FR", "US", "IN", "BR", "JP", "GB", "CA-QC", "SG", "ZA", "CN", "IE"]
REGIONS = [
    ("aws", "us-east-1"),
    ("aws", "eu-central-1"),
    ("gcp", "asia-south1"),
    ("azure", "westeurope"),
]
CATEGORIES = ["messages", "files", "contact_details", "health_data"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

countries = st.sampled_from(COUNTRIES)


@st.composite
def hosting(draw):
    if draw(st.booleans()):
        provider, region = draw(st.sampled_from(REGIONS))
        return {"provider": provider, "region": region}
    return {"country": draw(countries)}


@st.composite
def system(draw, index):
    return {
        "id": f"sys{index}",
        "vendor": f"Vendor {index}",
        "vendor_country": draw(countries),
        "hosting": draw(st.lists(hosting(), min_size=1, max_size=3)),
        "data": draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3)),
        "subprocessors": [
            {
                "name": f"Sub {index}.{j}",
                "countries": draw(st.lists(countries, min_size=1, max_size=2, unique=True)),
            }
            for j in range(draw(st.integers(0, 2)))
        ],
        "ai_training": draw(
            st.sampled_from(
                [
                    None,
                    {"uses_customer_data": True, "default": "opt-out", "since": "2023-09-01"},
                    {"uses_customer_data": False},
                ]
            )
        ),
    }


@st.composite
def inventories(draw):
    n_systems = draw(st.integers(1, 4))
    systems = [draw(system(i)) for i in range(n_systems)]
    system_ids = [s["id"] for s in systems]
    clients = [
        {
            "id": f"c{i}",
            "country": draw(countries),
            "data": draw(
                st.lists(st.sampled_from(CATEGORIES), unique=True, min_size=1, max_size=3)
            ),
            "systems": draw(st.lists(st.sampled_from(system_ids), unique=True, max_size=3)),
        }
        for i in range(draw(st.integers(1, 4)))
    ]
    client_ids = [c["id"] for c in clients]
    staff = []
    for i in range(draw(st.integers(0, 5))):
        person = {
            "id": f"s{i}",
            "country": draw(countries),
            "type": draw(st.sampled_from(["employee", "contractor"])),
            "clients": draw(st.lists(st.sampled_from(client_ids), unique=True, max_size=2)),
        }
        if draw(st.booleans()):
            person["systems"] = draw(st.lists(st.sampled_from(system_ids), unique=True, max_size=2))
        staff.append(person)
    for s in systems:
        if s["ai_training"] is None:
            del s["ai_training"]
    return {
        "organisation": {
            "name": "Gen",
            "country": draw(countries),
            "staff_data": {"data": ["employment_records"], "systems": system_ids[:1]},
        },
        "staff": staff,
        "clients": clients,
        "systems": systems,
    }


def _map(doc) -> DataMap:
    return DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc, sort_keys=False)))


def _countries(m: DataMap) -> dict[str, set[str]]:
    return {s: set(m.where(s).countries) for s in m.subjects()}


def _grows(before: dict[str, set[str]], after: dict[str, set[str]]) -> None:
    for subject, places in before.items():
        assert places <= after[subject], subject


@SETTINGS
@given(inventories(), st.data())
def test_adding_staff_never_removes_a_country(doc, data):
    before = _countries(_map(doc))
    client_ids = [c["id"] for c in doc["clients"]]
    doc["staff"].append(
        {
            "id": "s-new",
            "country": data.draw(countries),
            "clients": data.draw(st.lists(st.sampled_from(client_ids), unique=True)),
        }
    )
    _grows(before, _countries(_map(doc)))


@SETTINGS
@given(inventories(), st.data())
def test_adding_a_subprocessor_never_removes_a_country(doc, data):
    before = _countries(_map(doc))
    target = data.draw(st.sampled_from(doc["systems"]))
    target["subprocessors"].append({"name": "New Sub", "countries": [data.draw(countries)]})
    _grows(before, _countries(_map(doc)))


@SETTINGS
@given(inventories(), st.data())
def test_adding_a_system_never_removes_a_country(doc, data):
    before = _countries(_map(doc))
    new = data.draw(system(99))
    if "ai_training" in new and new["ai_training"] is None:
        del new["ai_training"]
    doc["systems"].append(new)
    client = data.draw(st.sampled_from(doc["clients"]))
    client["systems"].append("sys99")
    _grows(before, _countries(_map(doc)))


@SETTINGS
@given(inventories())
def test_loading_is_deterministic(doc):
    text = yaml.safe_dump(doc, sort_keys=False)
    a = DataMap.from_inventory(parse_inventory_text(text))
    b = DataMap.from_inventory(parse_inventory_text(text))
    assert a.inventory.content_hash() == b.inventory.content_hash()
    assert a.locations().equals(b.locations())


@SETTINGS
@given(inventories())
def test_yaml_store_graph_round_trip_loses_nothing(doc):
    m = _map(doc)
    store = Store("sqlite://")
    store.import_inventory(m.inventory)
    back = DataMap.from_inventory(store.load_inventory())
    assert back.inventory.model_dump() == m.inventory.model_dump()
    assert sorted(back.graph.edges(data="kind")) == sorted(m.graph.edges(data="kind"))
    assert back.locations().equals(m.locations())


junk = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.none(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.floats(allow_nan=False),
)


@SETTINGS
@given(inventories(), st.data())
def test_importer_never_crashes_on_junk(doc, data):
    """Any value in any field gives a valid inventory or an InventoryError, never a traceback."""
    section = data.draw(st.sampled_from(["staff", "clients", "systems", "organisation"]))
    entries = doc[section] if section != "organisation" else [doc["organisation"]]
    if not entries:
        return
    entry = data.draw(st.sampled_from(entries))
    key = data.draw(st.sampled_from([*entry.keys(), "unexpected"]))
    entry[key] = data.draw(junk)
    try:
        inv = parse_inventory_text(yaml.safe_dump(doc, sort_keys=False))
    except InventoryError as exc:
        problems = exc.problems
    else:
        problems = []
        DataMap.from_inventory(inv).locations()
    assert all(p.field and p.message for p in problems)
