"""Recorded transfer impact assessments: validation, matching to routes, the store."""

from __future__ import annotations

from datetime import date

import pytest

from residency import InventoryError
from residency.assessments import coverage
from residency.inventory import parse_inventory_text
from residency.model import AssessmentRecord
from residency.routes import Route, RouteKey
from residency.store import Store

RECORD = """
assessments:
  - id: tia-slack-us-2025
    type: tia
    system: slack
    destination: US
    origins: [EEA, GB]
    completed: 2025-03-01
    review_by: 2027-03-01
    reference: DPO/TIA/2025-014
"""


def _line_of(text: str, needle: str) -> int:
    """Answer the 1-based line of the first line of ``text`` holding ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_record_is_read_with_its_line(small_text):
    text = small_text + RECORD
    inv = parse_inventory_text(text, name="inv.yaml")
    (record,) = inv.assessments
    assert (record.id, record.system, record.destination) == ("tia-slack-us-2025", "slack", "US")
    assert (record.completed, record.review_by) == (date(2025, 3, 1), date(2027, 3, 1))
    assert record.origins == ["EEA", "GB"]
    line = _line_of(text, "- id: tia-slack-us-2025")
    assert inv.origins["assessment:tia-slack-us-2025"] == f"inv.yaml line {line}"


def test_type_defaults_to_tia_and_recipient_alone_is_enough(small_text):
    record = RECORD.replace("    type: tia\n", "").replace(
        "system: slack", "recipient: Amazon Web Services"
    )
    (got,) = parse_inventory_text(small_text + record).assessments
    assert (got.type, got.system, got.recipient) == ("tia", None, "Amazon Web Services")


# (case, text to replace in RECORD, replacement, the line holding, field, expected words)
BAD_RECORDS = [
    (
        "unknown system",
        "system: slack",
        "system: slak",
        "system: slak",
        "assessments[tia-slack-us-2025].system",
        "unknown system id 'slak'",
    ),
    (
        "bad country",
        "destination: US",
        "destination: UK",
        "destination: UK",
        "assessments[tia-slack-us-2025].destination",
        "the United Kingdom is 'GB'",
    ),
    (
        "bad origin",
        "origins: [EEA, GB]",
        "origins: [EEA, XY]",
        "origins: [EEA, XY]",
        "assessments[tia-slack-us-2025].origins[1]",
        "unknown code 'XY'",
    ),
    (
        "bad date",
        "completed: 2025-03-01",
        "completed: 2025-13-01",
        "completed: 2025-13-01",
        "assessments[tia-slack-us-2025].completed",
        "expected YYYY-MM-DD",
    ),
    (
        "review before completion",
        "review_by: 2027-03-01",
        "review_by: 2024-03-01",
        "review_by: 2024-03-01",
        "assessments[tia-slack-us-2025].review_by",
        "not after completed",
    ),
    (
        "no destination",
        "    destination: US\n",
        "",
        "- id: tia-slack-us-2025",
        "assessments[tia-slack-us-2025].destination",
        "missing: this field is required",
    ),
    (
        "neither system nor recipient",
        "    system: slack\n",
        "",
        "- id: tia-slack-us-2025",
        "assessments[tia-slack-us-2025]",
        "names neither a system nor a recipient",
    ),
    (
        "unknown field",
        "reference: DPO/TIA/2025-014",
        "refrence: DPO/TIA/2025-014",
        "refrence:",
        "assessments[tia-slack-us-2025].refrence",
        "unknown field",
    ),
    (
        "unknown type",
        "type: tia",
        "type: dpia",
        "type: dpia",
        "assessments[tia-slack-us-2025].type",
        "expected one of 'tia'",
    ),
    (
        "empty origins",
        "origins: [EEA, GB]",
        "origins: []",
        "origins: []",
        "assessments[tia-slack-us-2025].origins",
        "an empty list covers no origin",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "holding", "field", "words"),
    [c[1:] for c in BAD_RECORDS],
    ids=[c[0] for c in BAD_RECORDS],
)
def test_each_bad_record_field_is_named(small_text, old, new, holding, field, words):
    assert old in RECORD
    text = small_text + RECORD.replace(old, new, 1)
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(text, name="inv.yaml")
    (problem,) = info.value.problems
    line = _line_of(text, holding)
    assert (problem.file, problem.line, problem.field) == ("inv.yaml", line, field)
    assert words in problem.message


def test_a_duplicate_id_names_the_first(small_text):
    second = RECORD.split("\n", 2)[2].replace("destination: US", "destination: IN")
    text = small_text + RECORD + second
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(text, name="inv.yaml")
    (problem,) = info.value.problems
    first = _line_of(text, "- id: tia-slack-us-2025")
    assert problem.line == first + RECORD.count("\n") - 2  # the second record's id line
    assert problem.field == "assessments[tia-slack-us-2025].id"
    assert f"already used at inv.yaml line {first}" in problem.message


def test_assessments_must_be_a_list(small_text):
    with pytest.raises(InventoryError, match="assessments: expected a list of entries"):
        parse_inventory_text(small_text + "assessments: {id: x}\n")


def test_without_assessments_the_hash_is_unchanged(small_text, small):
    assert parse_inventory_text(small_text).content_hash() == small.inventory.content_hash()
    empty = parse_inventory_text(small_text + "assessments: []\n")
    assert empty.content_hash() == small.inventory.content_hash()
    recorded = parse_inventory_text(small_text + RECORD)
    assert recorded.content_hash() != small.inventory.content_hash()
    later = parse_inventory_text(small_text + RECORD.replace("2027-03-01", "2028-03-01"))
    assert later.content_hash() != recorded.content_hash()


def test_the_store_keeps_the_assessments(db_url, small_text):
    store = Store(db_url)
    recorded = parse_inventory_text(small_text + RECORD)
    store.import_inventory(parse_inventory_text(small_text))
    result = store.import_inventory(recorded)
    assert (result.changed, result.snapshot) == (True, 2)  # recording a TIA is a change
    back = store.load_inventory("Tiny Agency")
    assert back.assessments == recorded.assessments
    assert back.content_hash() == recorded.content_hash()
    assert (
        back.origins["assessment:tia-slack-us-2025"]
        == recorded.origins["assessment:tia-slack-us-2025"]
    )
    assert store.load_inventory("Tiny Agency@1").assessments == []
    assert not store.import_inventory(recorded).changed


# -- matching ------------------------------------------------------------------------------


def _route(
    *,
    regimes=("EU-GDPR",),
    destination="US",
    recipient="Amazon Web Services, Inc.",
    systems=("system:slack",),
):
    key = RouteKey(
        tuple(regimes), destination, recipient, "subprocessor", "processed", "safeguard", "EU SCC"
    )
    return Route(key, ("client:acme",), tuple(systems), ("messages",), ())


def _record(**fields):
    base = {"id": "tia-1", "system": "slack", "destination": "US", "completed": "2025-03-01"}
    return AssessmentRecord.model_validate({**base, **fields})


DAY = date(2026, 6, 1)

MATCHES = [
    ("same country", {}, {}, True),
    ("a country covers its subdivision", {}, {"destination": "US-VA"}, True),
    ("a subdivision does not cover its country", {"destination": "US-VA"}, {}, False),
    ("another country", {"destination": "IN"}, {}, False),
    ("system among several", {}, {"systems": ("system:hubspot", "system:slack")}, True),
    ("another system", {"system": "zendesk"}, {}, False),
    ("recipient, other case and spaces", {"recipient": "  amazon web SERVICES, inc. "}, {}, True),
    ("recipient alone", {"system": None, "recipient": "Amazon Web Services, Inc."}, {}, True),
    ("another recipient", {"recipient": "Google LLC"}, {}, False),
    ("origins: the EEA covers EU-GDPR", {"origins": ["EEA"]}, {}, True),
    ("origins: the EU does not (Norway...)", {"origins": ["EU"]}, {}, False),
    ("origins: GB does not cover EU-GDPR", {"origins": ["GB"]}, {}, False),
    (
        "origins: EEA and GB cover UK-GDPR",
        {"origins": ["EEA", "GB"]},
        {"regimes": ("UK-GDPR",)},
        True,
    ),
    (
        "origins: Quebec alone not PIPEDA too",
        {"origins": ["CA-QC"]},
        {"regimes": ("CA-PIPEDA", "CA-QC")},
        False,
    ),
    ("origins: CA covers both", {"origins": ["CA"]}, {"regimes": ("CA-PIPEDA", "CA-QC")}, True),
    (
        "origins: no regime data is covered by nothing",
        {"origins": ["AQ"]},
        {"regimes": ("AQ (no regime data)",)},
        False,
    ),
    ("no origins: every regime", {}, {"regimes": ("AQ (no regime data)",)}, True),
]


@pytest.mark.parametrize(
    ("record", "route", "covered"),
    [c[1:] for c in MATCHES],
    ids=[c[0] for c in MATCHES],
)
def test_matching(record, route, covered):
    found = coverage([_record(**record)], _route(**route), DAY)
    assert found.covered is covered
    assert found.expired == ()


@pytest.mark.parametrize(
    ("completed", "review_by", "covered", "expired"),
    [
        ("2025-03-01", None, True, False),
        ("2025-03-01", "2026-06-02", True, False),  # the day before review_by still counts
        ("2025-03-01", "2026-06-01", False, True),  # on review_by it no longer does
        ("2026-06-01", None, True, False),  # completed that day
        ("2026-06-02", None, False, False),  # completed after the date: not yet
    ],
)
def test_dates(completed, review_by, covered, expired):
    record = _record(completed=completed, review_by=review_by)
    found = coverage([record], _route(), DAY)
    assert (found.covered, bool(found.expired)) == (covered, expired)


def test_the_latest_covering_record_is_shown_and_expired_ones_listed():
    old = _record(id="tia-old", completed="2023-01-01", review_by="2025-01-01")
    new = _record(id="tia-new", completed="2025-06-01")
    newer = _record(id="tia-newer", completed="2026-01-01")
    found = coverage([old, new, newer], _route(), "2026-06-01")
    assert found.record is not None
    assert found.record.id == "tia-newer"
    assert [r.id for r in found.covering] == ["tia-newer", "tia-new"]
    assert [r.id for r in found.expired] == ["tia-old"]
    assert coverage([old], _route(), "2024-06-01").covered
