"""Recorded transfer impact assessments: validation, matching to routes, the store."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import residency
from residency import InventoryError
from residency._errors import PolicyError
from residency.assessments import coverage
from residency.inventory import demo_path, parse_inventory_text
from residency.model import AssessmentRecord
from residency.policy import evaluate, parse_policy_text, starter_path
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


# -- the policy rule require_tia ------------------------------------------------------------

POLICY_DAY = "2026-12-02"
REQUIRE_TIA = "rules:\n  - id: tias-recorded\n    require_tia: true\n"
SLACK_EU = """
assessments:
  - id: tia-slack-eu-us
    system: slack
    recipient: Slack Technologies, LLC
    destination: US
    origins: [EEA]
    completed: 2025-03-01
"""


def _tia_routes(m) -> dict[str, object]:
    return {r.id: r for r in m.assessment(as_of=POLICY_DAY).routes if r.tia_required}


def _demo_with(tmp_path: Path, extra: str):
    folder = tmp_path / "demo"
    shutil.copytree(demo_path(), folder)
    with (folder / "inventory.yaml").open("a", encoding="utf-8") as f:
        f.write(extra)
    return residency.load(folder)


def test_every_route_needing_a_tia_is_a_violation_on_the_demo(demo):
    report = demo.check_policy(parse_policy_text(REQUIRE_TIA), as_of=POLICY_DAY)
    needing = _tia_routes(demo)
    assert len(needing) > 10
    assert [v.route for v in report.violations] == sorted(needing)  # one per route
    assert {v.check for v in report.violations} == {"tia"}
    v = next(v for v in report.violations if needing[v.route].kind == "processed")
    route = needing[v.route]
    assert v.subject == f"route:{route.id}"
    assert (v.country, v.recipient, v.system) == (
        route.destination,
        route.recipient,
        route.systems[0],
    )
    assert f"{len(route.subjects)} subject" in v.explanation
    assert f"{' + '.join(route.regimes)} -> {route.destination}" in v.explanation
    assert v.file is not None
    assert v.file.endswith("inventory.yaml")
    assert v.line  # the system's entry
    assert v.evidence[0].startswith(route.subjects[0])


def test_recording_a_tia_removes_exactly_that_route_s_violation(demo, tmp_path):
    policy = parse_policy_text(REQUIRE_TIA)
    before = {v.route for v in demo.check_policy(policy, as_of=POLICY_DAY).violations}
    recorded = _demo_with(tmp_path, SLACK_EU)
    after = {v.route for v in recorded.check_policy(policy, as_of=POLICY_DAY).violations}
    expected = {
        r.id
        for r in _tia_routes(demo).values()
        if r.regimes == ("EU-GDPR",)
        and r.destination == "US"
        and r.recipient == "Slack Technologies, LLC"
    }
    assert len(expected) == 1
    assert before - after == expected
    assert after < before


def test_an_out_of_date_record_is_named_with_its_review_date(tmp_path):
    expired = SLACK_EU + "    review_by: 2026-06-30\n"
    m = _demo_with(tmp_path, expired)
    report = m.check_policy(parse_policy_text(REQUIRE_TIA), as_of=POLICY_DAY)
    (v,) = [v for v in report.violations if "tia-slack-eu-us" in v.explanation]
    assert "was due for review by 2026-06-30" in v.explanation
    assert v.recipient == "Slack Technologies, LLC"
    assert any(e.startswith("assessment:tia-slack-eu-us at ") for e in v.evidence)
    earlier = m.check_policy(parse_policy_text(REQUIRE_TIA), as_of="2026-06-01")
    assert v.route not in {x.route for x in earlier.violations}  # in force then


@pytest.mark.parametrize(
    ("scope", "keep"),
    [
        ("systems: [slack]", lambda r: "system:slack" in r.systems),
        ("kinds: [accessed]", lambda r: r.kind == "accessed"),
        ("subjects: {clients: {origin: [CH]}}", lambda r: r.regimes == ("CH-FADP",)),
        ("subjects: {staff: {}}", lambda r: any(s.startswith("staff:") for s in r.subjects)),
    ],
)
def test_the_rule_is_scoped_like_the_others(demo, scope, keep):
    text = REQUIRE_TIA + f"    {scope}\n"
    report = demo.check_policy(parse_policy_text(text), as_of=POLICY_DAY)
    expected = {rid for rid, r in _tia_routes(demo).items() if keep(r)}
    assert expected
    assert {v.route for v in report.violations} == expected


def test_require_tia_is_validated_and_summarised():
    with pytest.raises(PolicyError, match=r"rules\[t\]\.require_tia: expected true or false"):
        parse_policy_text("rules:\n  - id: t\n    require_tia: yes\n")
    (rule,) = parse_policy_text(REQUIRE_TIA).rules
    assert rule.checks == ["tia"]
    assert "transfer impact assessment" in rule.summary()


# Which code of the demo's origins each of its TIA regimes needs (an oracle written out by
# hand, not computed by the code under test).
NEEDS = {"EU-GDPR": "EEA", "UK-GDPR": "GB", "CH-FADP": "CH"}


def _oracle(record: AssessmentRecord, route) -> bool:
    if record.completed > date.fromisoformat(POLICY_DAY):
        return False
    if record.review_by is not None and record.review_by <= date.fromisoformat(POLICY_DAY):
        return False
    if route.destination != record.destination and not route.destination.startswith(
        record.destination + "-"
    ):
        return False
    if record.system is not None and f"system:{record.system}" not in route.systems:
        return False
    if record.recipient is not None and record.recipient.strip().lower() != (
        route.recipient.lower()
    ):
        return False
    return record.origins is None or all(NEEDS[g] in record.origins for g in route.regimes)


@st.composite
def _records(draw, routes):
    route = draw(st.sampled_from(routes))
    system = draw(st.one_of(st.none(), st.sampled_from(route.systems)))
    recipient = draw(st.sampled_from([route.recipient, route.recipient.upper() + " "]))
    return AssessmentRecord(
        id="tia-x",
        system=system.removeprefix("system:") if system else None,
        recipient=None if system and draw(st.booleans()) else recipient,
        destination=draw(st.sampled_from([route.destination, "US", "IN", "AU"])),
        origins=draw(st.sampled_from([None, ["EEA"], ["GB"], ["CH"], ["EEA", "GB"], ["EU"]])),
        completed=draw(st.sampled_from([date(2024, 1, 1), date(2027, 1, 1)])),
        review_by=draw(st.sampled_from([None, date(2026, 12, 2), date(2028, 1, 1)])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_record_never_adds_violations_and_removes_those_of_the_routes_it_covers(demo, data):
    routes = sorted(_tia_routes(demo).values(), key=lambda r: r.id)
    record = data.draw(_records(routes))
    policy = parse_policy_text(REQUIRE_TIA)
    assessment = demo.assessment(as_of=POLICY_DAY)
    before = {v.route for v in evaluate(policy, assessment, demo.inventory).violations}
    with_record = demo.inventory.model_copy(update={"assessments": [record]})
    after = {v.route for v in evaluate(policy, assessment, with_record).violations}
    assert after <= before
    assert before - after == {r.id for r in routes if _oracle(record, r)}


def test_the_starter_policy_requires_tias(demo):
    report = demo.check_policy(starter_path(), as_of=POLICY_DAY)
    found = report.by_rule()["tias-recorded"]
    assert {v.route for v in found} == set(_tia_routes(demo))
    assert {v.severity for v in found} == {"medium"}


def test_the_check_passes_in_ci_once_every_tia_is_recorded(demo, tmp_path):
    from typer.testing import CliRunner

    from residency.cli import app

    pairs = sorted({(r.systems[0], r.destination) for r in _tia_routes(demo).values()})
    lines = ["", "assessments:"]
    for system, destination in pairs:
        sid = system.removeprefix("system:")
        lines += [
            f"  - id: tia-{sid}-{destination.lower()}",
            f"    system: {sid}",
            f"    destination: {destination}",
            "    completed: 2026-01-15",
        ]
    recorded = _demo_with(tmp_path, "\n".join(lines) + "\n").inventory  # valid as written
    assert len(recorded.assessments) == len(pairs)
    policy = tmp_path / "policy.yaml"
    policy.write_text(REQUIRE_TIA, encoding="utf-8")
    args = ["check", "-i", str(tmp_path / "demo"), "-p", str(policy), "--as-of", POLICY_DAY]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ok   tias-recorded" in result.output
    before = CliRunner().invoke(app, [*args[:2], str(demo_path()), *args[3:]])
    assert before.exit_code == 1
    assert "FAIL tias-recorded" in before.output
    early = CliRunner().invoke(app, [*args[:-1], "2025-12-31"])  # before they were completed
    assert early.exit_code == 1


def _step_six(document, route_id):
    record = document["transfer_assessments"][route_id]
    return [i for i in record["steps"][5]["items"] if i["question"].startswith("Assessment")]


def test_the_prefilled_record_names_the_recorded_assessment(demo, tmp_path):
    plain = demo.export(as_of=POLICY_DAY, with_assessments=True)
    assert not any(_step_six(plain, rid) for rid in plain["transfer_assessments"])  # unchanged
    m = _demo_with(tmp_path, SLACK_EU + "    reference: DPO/TIA/2025-014\n")
    document = m.export(as_of=POLICY_DAY, with_assessments=True)
    (covered,) = [
        r.id
        for r in _tia_routes(m).values()
        if r.regimes == ("EU-GDPR",) and r.recipient == "Slack Technologies, LLC"
    ]
    (item,) = _step_six(document, covered)
    assert item["answer"].startswith("tia-slack-eu-us (completed 2025-03-01")
    assert "DPO/TIA/2025-014" in item["answer"] and not item["to_complete"]
    others = [rid for rid in document["transfer_assessments"] if rid != covered]
    assert others
    for rid in others:
        (open_item,) = _step_six(document, rid)
        assert (
            open_item["to_complete"] and "none in the inventory covers it" in open_item["question"]
        )
    records = document["transfer_assessments"]
    assert records[covered]["open_items"] == plain["transfer_assessments"][covered]["open_items"]


def test_the_prefilled_record_names_an_assessment_past_its_review(tmp_path):
    m = _demo_with(tmp_path, SLACK_EU + "    review_by: 2026-06-30\n")
    document = m.export(as_of=POLICY_DAY, with_assessments=True)
    late = [
        i
        for rid in document["transfer_assessments"]
        for i in _step_six(document, rid)
        if "tia-slack-eu-us was due for review on 2026-06-30" in i["question"]
    ]
    assert len(late) == 1 and late[0]["to_complete"]
