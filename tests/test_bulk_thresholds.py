"""The DOJ Data Security Program's bulk thresholds (28 CFR 202.205) judged against a
client's optional ``data_subjects`` count: above a threshold high, at or below every one
that applies low, without a count medium (issue 16)."""

from __future__ import annotations

import pytest
import yaml

from residency._errors import InventoryError
from residency.datamap import DataMap
from residency.inventory import parse_inventory_text
from residency.jurisdictions import legal_data
from residency.model import Inventory
from tests.rules_helpers import scenario

RULE = "US:us-doj-dsp-bulk-sensitive"
TODAY = "2026-12-02"


def _threshold(category: str) -> int:
    (rule,) = [
        r for r in legal_data().regime("US").countries_of_concern if r.id == RULE.split(":")[1]
    ]
    (found,) = [t for t in rule.thresholds if category in t.categories]
    return found.more_than


def _doj(data: tuple[str, ...], count: int | None, *, staff: bool = False):
    doc = scenario("US", "CN", data=data)
    if count is not None:
        doc["clients"][0]["data_subjects"] = count
    m = DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))
    found = [f for f in m.findings(as_of=TODAY) if f.legal_rule == RULE]
    assert len(found) == 1, found
    return found[0]


def test_thresholds_are_recorded_from_28_cfr_202_205():
    rule = next(r for r in legal_data().regime("US").countries_of_concern if r.thresholds)
    limits = {(t.what, t.more_than, t.unit) for t in rule.thresholds}
    assert ("human genomic data", 100, "persons") in limits
    assert ("biometric identifiers", 1000, "persons") in limits
    assert ("precise geolocation data", 1000, "devices") in limits
    assert ("personal health data", 10000, "persons") in limits
    assert ("personal financial data", 10000, "persons") in limits
    assert ("covered personal identifiers", 100000, "persons") in limits
    us = legal_data().regime("US")
    assert {t.source for t in rule.thresholds} == {"28-cfr-202-205"}
    assert "202.205" in (us.source("28-cfr-202-205").citation or "")


@pytest.mark.parametrize(
    ("data", "category"),
    [
        (("health_data",), "health_data"),
        (("financial_data",), "financial_data"),
        (("biometric_data",), "biometric_data"),
        (("genetic_data",), "genetic_data"),
    ],
)
def test_above_is_high_at_or_below_is_low_without_a_count_medium(data, category):
    limit = _threshold(category)
    above = _doj(data, limit + 1)
    assert above.severity == "high"
    assert "above the bulk threshold" in above.title
    assert f"{limit + 1:,} people" in above.explanation
    assert ("US", "28-cfr-202-205") in {(s.regime, s.id) for s in above.sources}
    at = _doj(data, limit)
    assert at.severity == "low"
    assert "below the bulk threshold" in at.title
    assert _doj(data, None).severity == "medium"


def test_a_device_threshold_is_not_judged_from_a_count_of_people():
    f = _doj(("precise_geolocation",), 50)
    assert f.severity == "medium"
    assert "devices" in f.explanation


def test_any_category_above_its_threshold_makes_it_high():
    # 20,000 people: below the identifiers' 100,000 but above health data's 10,000.
    assert _doj(("health_data", "government_id"), 20_000).severity == "high"
    assert _doj(("government_id",), 20_000).severity == "low"


def test_alike_subjects_with_different_volumes_do_not_share_findings():
    doc = scenario("US", "CN", data=("health_data",))
    first = doc["clients"][0]
    doc["clients"] = [
        {**first, "id": "big", "data_subjects": 50_000},
        {**first, "id": "small", "data_subjects": 50},
    ]
    m = DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))
    by_subject = {f.subject: f.severity for f in m.findings(as_of=TODAY) if f.legal_rule == RULE}
    assert by_subject == {"client:big": "high", "client:small": "low"}


def test_the_count_is_part_of_the_inventory_identity():
    doc = scenario("US", "CN", data=("health_data",))
    without = parse_inventory_text(yaml.safe_dump(doc))
    doc["clients"][0]["data_subjects"] = 10
    assert isinstance(without, Inventory)
    assert parse_inventory_text(yaml.safe_dump(doc)).content_hash != without.content_hash


@pytest.mark.parametrize("bad", [-1, True, 1.5, "12,000", "lots", 10**12, [3]])
def test_a_bad_count_is_a_located_problem(bad):
    doc = scenario("US", "CN", data=("health_data",))
    doc["clients"][0]["data_subjects"] = bad
    with pytest.raises(InventoryError) as err:
        parse_inventory_text(yaml.safe_dump(doc))
    text = str(err.value)
    assert "data_subjects" in text
    assert "expected a whole number of people" in text


def test_the_count_reads_from_a_csv_cell(tmp_path):
    from residency.inventory import read_inventory

    (tmp_path / "inventory.yaml").write_text(
        "organisation: {name: X, country: US}\n"
        "systems:\n"
        "  - {id: s, vendor: V, vendor_country: US, hosting: [{country: CN}],\n"
        "     data: [health_data]}\n",
        encoding="utf-8",
    )
    (tmp_path / "clients.csv").write_text(
        "id,country,data,systems,data_subjects\na,US,health_data,s,20000\nb,US,health_data,s,\n",
        encoding="utf-8",
    )
    inv = read_inventory(tmp_path)
    assert {c.id: c.data_subjects for c in inv.clients} == {"a": 20000, "b": None}
    (tmp_path / "clients.csv").write_text(
        "id,country,data,systems,data_subjects\na,US,health_data,s,20 000\n", encoding="utf-8"
    )
    with pytest.raises(InventoryError) as err:
        read_inventory(tmp_path)
    assert "clients.csv row 2: data_subjects: expected a whole number" in str(err.value)
