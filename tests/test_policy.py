"""Policies (docs/policy.md): each rule kind on a small inventory, validation, outputs, CLI."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import residency
from residency import places
from residency._errors import PolicyError
from residency.cli import app
from residency.datamap import DataMap
from residency.findings import Finding
from residency.inventory import parse_inventory_text
from residency.policy import parse_policy_text, read_policy, starter_path
from residency.policy_output import render, report_junit, report_sarif

from .conftest import DATA

ROOT = Path(__file__).resolve().parent.parent
FOLDER = DATA / "policy"
INVENTORY = FOLDER / "inventory.yaml"
EXAMPLE = FOLDER / "policy.yaml"
DAY = "2026-12-02"
runner = CliRunner()


@pytest.fixture(scope="module")
def org() -> DataMap:
    return residency.load(INVENTORY)


def check(m: DataMap, text: str, day: str = DAY):
    return m.check_policy(parse_policy_text(text), as_of=day)


def found(report, check_name: str | None = None) -> set[tuple[str, str, str]]:
    return {
        (v.subject, v.kind, v.country)
        for v in report.violations
        if check_name is None or v.check == check_name
    }


def rule(body: str) -> str:
    return "rules:\n  - id: r\n" + "".join(f"    {line}\n" for line in body.splitlines())


def variant(old: str, new: str) -> DataMap:
    text = INVENTORY.read_text(encoding="utf-8")
    assert old in text
    return DataMap.from_inventory(parse_inventory_text(text.replace(old, new)))


# -- each rule kind -------------------------------------------------------------------------

ACME_OUTSIDE_EEA = {
    ("client:acme", "processed", "CN"),
    ("client:acme", "processed", "US"),
    ("client:acme", "stored", "US"),
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The example rules, as written.
        (
            "subjects: {clients: {origin: [EEA]}}\nkinds: [stored, processed]\n"
            "allow: [EEA, GB, CH]",
            ACME_OUTSIDE_EEA,
        ),
        ("allow_not: [KP]", set()),
        # deny and allow_not are the same check; every subject, every kind.
        ("deny: [CN]", {("client:acme", "processed", "CN"), ("client:globex", "processed", "CN")}),
        (
            "allow_not: [CN]",
            {("client:acme", "processed", "CN"), ("client:globex", "processed", "CN")},
        ),
        # A subdivision of an allowed country is allowed; a bloc means its members.
        ("subjects: {clients: {ids: [initech]}}\nallow: [EU]", set()),
        (
            "subjects: {clients: {ids: [initech]}}\nallow: [FR]",
            {
                ("client:initech", "stored", "DE"),
                ("client:initech", "processed", "DE"),
                ("client:initech", "accessed", "DE"),
            },
        ),
        # Scoped by system and by data category.
        ("systems: [eudocs]\nallow: [DE]", set()),
        (
            "systems: [slack]\nkinds: [trained]\nallow: [EEA]",
            {
                ("client:acme", "trained", "US"),
                ("client:globex", "trained", "US"),
            },
        ),
        (
            "data: [files]\ndeny: [US]",
            {
                ("client:acme", "processed", "US"),
                ("client:acme", "stored", "US"),
                ("client:acme", "trained", "US"),
            },
        ),
        (
            "subjects: {clients: {origin: [US]}}\nkinds: [accessed]\nallow: [US]",
            {("client:globex", "accessed", "IN"), ("client:globex", "accessed", "CA-QC")},
        ),
        # A country allows its subdivisions; a subdivision only itself.
        (
            "subjects: {clients: {ids: [globex]}}\nkinds: [accessed]\nallow: [CA]",
            {("client:globex", "accessed", "IN")},
        ),
        ("subjects: {clients: {ids: [globex]}}\nkinds: [accessed]\ndeny: [CA-ON]", set()),
        (
            "subjects: {clients: {ids: [globex]}}\nkinds: [accessed]\ndeny: [CA]",
            {("client:globex", "accessed", "CA-QC")},
        ),
        ("subjects: {staff: {}}\ndeny: [CN, US, IN, DE]", set()),  # staff hold no data here
    ],
)
def test_location_rules(org, body, expected):
    report = check(org, rule(body))
    assert found(report) == expected
    assert report.passed is (not expected)
    assert all(v.check == "location" for v in report.violations)


def test_forbidden_bases_are_the_assessment_s(org):
    report = check(org, rule("forbid_bases: [no_basis]"))
    transfers = org.transfers(as_of=DAY)
    expected = {
        (t.location.subject, t.location.kind, t.location.country)
        for t in transfers
        if t.basis == "no_basis"
    }
    assert expected  # the test can fail: the inventory has transfers without a basis
    assert found(report, "basis") == expected
    assert all(v.route.startswith("r-") for v in report.violations)


def test_a_basis_forbidden_after_a_date(small):
    transfers = small.transfers(as_of=DAY)
    expected = {
        (t.location.subject, t.location.kind, t.location.country)
        for t in transfers
        if t.basis == "needs_review"
    }
    assert expected
    text = rule("forbid_bases:\n  - {basis: needs_review, after: %s}")
    assert found(check(small, text % "2026-01-01")) == expected
    assert check(small, text % "2027-01-01").passed  # not yet forbidden on the day


def test_default_training(org):
    text = rule("subjects: {clients: {}}\nforbid_default_training: true")
    report = check(org, text)
    assert found(report) == {("client:acme", "trained", "US"), ("client:globex", "trained", "US")}
    assert {v.system for v in report.violations} == {"system:slack"}
    opted_out = variant("opted_out: false", "opted_out: 2026-01-15")
    assert check(opted_out, text).passed
    staff_only = rule("subjects: {staff: {}}\nforbid_default_training: true")
    assert check(org, staff_only).passed


def test_training_window(org):
    # Slack trains from 2023-10-01: 1,158 days on 2026-12-02.
    assert check(org, rule("max_training_days: 1158")).passed
    report = check(org, rule("max_training_days: 1157"))
    assert found(report, "training_window") == {
        ("client:acme", "trained", "US"),
        ("client:globex", "trained", "US"),
    }
    unknown = variant("      since: 2023-10-01\n", "")
    report = check(unknown, rule("max_training_days: 100000"))
    assert len(report.violations) == 2
    assert "unrecorded" in report.violations[0].explanation


def test_clauses_hold(org):
    report = check(org, rule("clauses_hold: true"))
    eea = places.expand("EEA", residency.datamap.parse_as_of(DAY), law=False)
    expected = {
        ("client:acme", loc.kind, loc.country)
        for loc in org.where("client:acme").locations
        if not places.within(loc.country, eea)
    }
    assert ("client:acme", "accessed", "IN") in expected
    assert found(report, "clause") == expected
    assert "client:initech" not in {v.subject for v in report.violations}  # EU clause holds


def test_a_rule_can_combine_checks_and_each_violation_points_back(org):
    report = check(org, rule("deny: [CN]\nforbid_bases: [no_basis]\nseverity: medium"))
    assert {v.check for v in report.violations} == {"location", "basis"}
    lines = INVENTORY.read_text(encoding="utf-8").splitlines()
    for v in report.violations:
        assert v.severity == "medium"
        assert v.policy_file == "policy.yaml"
        assert v.policy_line == 2
        assert v.file == str(INVENTORY)
        owner = v.system if v.kind != "accessed" else v.evidence[0].split()[-3]
        ident = owner.split(":", 1)[1]
        assert lines[v.line - 1].strip() == f"- id: {ident}"
        assert v.evidence[0].startswith(v.subject)
        assert any(e.startswith(f"{v.subject} at {INVENTORY} line") for e in v.evidence)
        finding = v.as_finding()
        assert isinstance(finding, Finding)
        assert finding.rule == "policy.r"
        assert finding.countries == (v.country,)
    assert len({v.id for v in report.violations}) == len(report.violations)


def test_a_place_both_outside_allow_and_denied_is_one_violation(org):
    report = check(org, rule("allow: [EEA]\ndeny: [CN]"))
    china = [v for v in report.violations if v.country == "CN"]
    assert len(china) == 2  # acme's and globex's, once each
    assert all(
        "outside the places allowed (EEA) and in a place denied (CN)" in v.explanation
        for v in china
    )
    assert len({v.id for v in report.violations}) == len(report.violations)


def test_the_example_and_starter_policies_work_as_written(org):
    report = org.check_policy(EXAMPLE, as_of=DAY)
    by_rule = report.by_rule()
    assert list(by_rule) == [
        "eea-clients-stay-in-eea",
        "no-transfer-without-basis",
        "nothing-in-north-korea",
    ]
    assert found(check(org, EXAMPLE.read_text())) == found(report)
    assert {(v.subject, v.kind, v.country) for v in by_rule["eea-clients-stay-in-eea"]} == (
        ACME_OUTSIDE_EEA
    )
    assert by_rule["nothing-in-north-korea"] == []
    starter = org.check_policy(starter_path(), as_of=DAY)
    assert set(starter.by_rule()) >= {"no-default-ai-training-of-client-data"}
    assert not starter.passed


def test_every_policy_in_the_docs_is_valid():
    text = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    policies = [b for b in blocks if re.search(r"^rules:", b, re.MULTILINE)]
    assert len(policies) >= 3
    for block in policies:
        if not block.startswith("# bad.yaml"):
            parse_policy_text(block)
            continue
        with pytest.raises(PolicyError) as caught:
            parse_policy_text(block, name="bad.yaml")
        assert f"error: {caught.value}" in text  # the docs show the real message
    assert starter_path().read_text(encoding="utf-8") in text  # the docs show the starter


# -- validation -----------------------------------------------------------------------------

BAD = """\
rules:
  - id: eea
    subjects: {clients: {origin: [EAA]}}
    kinds: [stored, kept]
    allow: [EEA, UK]
  - id: eea
    forbid_bases: [no_basis, {basis: needs_reveiw, after: 2027-13-01}]
  - id: x
    alow: [DE]
  - id: nothing
    description: checks nothing
  - id: training
    forbid_default_training: yes
    max_training_days: -3
  - just text
  - id: empty
    subjects: {}
    allow: [DE]
extra: 1
"""


def test_every_problem_is_reported_with_its_line_and_field():
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(BAD, name="bad.yaml")
    got = {(p.line, p.field) for p in caught.value.problems}
    assert got == {
        (3, "rules[eea].subjects.clients.origin[0]"),
        (4, "rules[eea].kinds[1]"),
        (5, "rules[eea].allow[1]"),
        (6, "rules[eea].id"),
        (7, "rules[eea].forbid_bases[1].after"),
        (7, "rules[eea].forbid_bases[1].basis"),
        (9, "rules[x].alow"),
        (10, "rules[nothing]"),
        (13, "rules[training].forbid_default_training"),
        (14, "rules[training].max_training_days"),
        (15, "rules[5]"),
        (17, "rules[empty].subjects"),
        (19, "extra"),
    }
    text = str(caught.value)
    assert text.startswith("13 problems in the policy")
    assert "bad.yaml line 5: rules[eea].allow[1]: unknown code 'UK'" in text
    assert "the United Kingdom is 'GB'" in text
    assert "already used at line 2" in text
    assert "expected true or false, got 'yes'" in text


def test_references_the_inventory_lacks_are_problems(org):
    text = rule("systems: [slak]\ndata: [mesages]\nsubjects: {clients: {ids: [acm]}}\nallow: [DE]")
    with pytest.raises(PolicyError) as caught:
        check(org, text)
    shown = str(caught.value)
    assert "policy.yaml line 3: rules[r].systems[0]: unknown system 'slak'" in shown
    assert "did you mean 'slack'?" in shown
    assert "line 4: rules[r].data[0]: unknown data category 'mesages'" in shown
    assert "line 5: rules[r].subjects.clients.ids[0]: unknown client id 'acm'" in shown


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "expected a mapping with 'rules'"),
        ("rules: []\n", 1, "expected a list of rules"),
        ("rules: [\n", 2, "malformed YAML"),
        ("rules:\n  - !!python/object:os.system {}\n", 2, "tag '!!python/object:os.system'"),
        ("rules:\n  - id: a\n    allow: [DE]\n    allow: [FR]\n", 4, "duplicate key 'allow'"),
        ("rules:\n  - id: a\n    deny: [\x00]\n", 3, "a NUL byte"),
        ("rules:\n  - id: a\n    description: " + "x" * 20_000 + "\n", 3, "characters"),
    ],
)
def test_untrusted_policy_text_gets_a_located_error(text, line, message):
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(text)
    assert any(p.line == line and message in p.message for p in caught.value.problems), str(
        caught.value
    )


def test_policy_files_are_bounded_and_read_safely(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_text("rules:\n" + "#" * (1024 * 1024 + 10) + "\n")
    monkeypatch.setenv("RESIDENCY_MAX_FILE_MB", "1")
    with pytest.raises(PolicyError, match=r"larger than 1 MB; .*RESIDENCY_MAX_FILE_MB"):
        read_policy(big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"rules:\n  - id: caf\xe9\n")
    with pytest.raises(PolicyError, match=r"line 2: encoding: expected UTF-8"):
        read_policy(latin)
    with pytest.raises(PolicyError, match=r"no-such\.yaml: file: cannot be read"):
        read_policy(tmp_path / "no-such.yaml")
    with pytest.raises(PolicyError, match="is a folder"):
        read_policy(tmp_path)


def test_a_bloc_means_its_members_on_the_day():
    m = variant("country: FR\n    data: [files]", "country: GB\n    data: [files]")
    text = rule("subjects: {clients: {origin: [EU]}}\nkinds: [stored]\nallow: [DE]")
    subjects = {v.subject for v in check(m, text.replace("[DE]", "[US]"), "2019-06-01").violations}
    assert "client:initech" in subjects  # GB was an EU member in 2019
    subjects = {v.subject for v in check(m, text.replace("[DE]", "[US]"), DAY).violations}
    assert "client:initech" not in subjects


# -- outputs --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(org):
    return org.check_policy(EXAMPLE, as_of=DAY)


def test_sarif_has_the_2_1_0_shape(report):
    log = report_sarif(report)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "residency"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [r.id for r in report.policy.rules]
    for r in driver["rules"]:
        assert r["shortDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert len(run["results"]) == len(report.violations) > 0
    lines = INVENTORY.read_text(encoding="utf-8").splitlines()
    for result, v in zip(run["results"], report.violations, strict=True):
        assert result["ruleId"] == v.rule
        assert ids[result["ruleIndex"]] == v.rule
        assert result["level"] == "error"
        assert result["message"]["text"] == v.explanation
        (loc,) = result["locations"]
        physical = loc["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == str(INVENTORY.as_uri())
        start = physical["region"]["startLine"]
        assert isinstance(start, int) and start >= 1
        assert lines[start - 1].lstrip().startswith("- id: ")
        related = result["relatedLocations"][0]["physicalLocation"]
        assert related["artifactLocation"]["uri"] == EXAMPLE.as_uri()
        assert related["region"]["startLine"] == v.policy_line
    json.dumps(log)  # plain JSON all the way down


def test_sarif_uris_of_relative_paths_stay_relative(org, monkeypatch):
    monkeypatch.chdir(ROOT)
    m = residency.load(Path("tests/data/policy/inventory.yaml"))
    log = report_sarif(m.check_policy(Path("tests/data/policy/policy.yaml"), as_of=DAY))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"tests/data/policy/inventory.yaml"}


def test_sarif_against_the_schema_when_one_is_available_offline(report):
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = os.environ.get("RESIDENCY_SARIF_SCHEMA")
    if not schema_path or not Path(schema_path).is_file():
        pytest.skip("set RESIDENCY_SARIF_SCHEMA to a local sarif-2.1.0 schema file")
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    jsonschema.validate(report_sarif(report), schema)


def test_junit_has_a_case_per_rule_and_a_failure_per_violation(report):
    root = ET.fromstring(report_junit(report))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r.id for r in report.policy.rules]
    by_rule = report.by_rule()
    for case in cases:
        failures = case.findall("failure")
        assert len(failures) == len(by_rule[case.get("name")])
        for failure, v in zip(failures, by_rule[case.get("name")], strict=True):
            assert failure.get("type") == v.check
            assert v.where in failure.text
    failed = sum(1 for vs in by_rule.values() if vs)
    assert suite.get("failures") == root.get("failures") == str(failed) == "2"
    assert suite.get("tests") == "3"


def test_json_and_text(report):
    doc = json.loads(render(report, "json"))
    assert doc["passed"] is False
    assert [r["violations"] for r in doc["rules"]] == [
        3,
        len(report.by_rule()["no-transfer-without-basis"]),
        0,
    ]
    v = doc["violations"][0]
    assert v["policy"] == {"file": str(EXAMPLE), "line": 3}
    assert v["inventory"]["file"] == str(INVENTORY)
    text = render(report, "text")
    assert f"FAIL eea-clients-stay-in-eea ({EXAMPLE} line 3): 3 violations" in text
    assert f"ok   nothing-in-north-korea ({EXAMPLE} line 9)" in text


# -- the command ----------------------------------------------------------------------------


def cli(*args: str):
    return runner.invoke(app, ["check", "-i", str(INVENTORY), "--as-of", DAY, *args])


def test_cli_exit_codes(tmp_path):
    ok = tmp_path / "ok.yaml"
    ok.write_text(rule("allow_not: [KP]"))
    result = cli("--policy", str(ok))
    assert result.exit_code == 0, result.output
    assert "1 rules, 0 violated, 0 violations" in result.output
    result = cli("--policy", str(EXAMPLE))
    assert result.exit_code == 1
    assert "FAIL eea-clients-stay-in-eea" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = cli("--policy", str(bad))
    assert result.exit_code == 1
    assert "13 problems in the policy" in result.output
    assert "Traceback" not in result.output
    assert cli("--policy", str(ok), "--format", "xml").exit_code == 1
    result = runner.invoke(app, ["check", "-i", str(INVENTORY), "--format", "sarif"])
    assert result.exit_code == 1
    assert "need --policy" in result.output


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_cli_formats(fmt):
    result = cli("--policy", str(EXAMPLE), "--format", fmt)
    assert result.exit_code == 1
    if fmt == "junit":
        assert ET.fromstring(result.output).tag == "testsuites"
    else:
        doc = json.loads(result.output)
        assert (doc["version"] == "2.1.0") if fmt == "sarif" else (doc["passed"] is False)


# -- properties -----------------------------------------------------------------------------

POOL = ["EEA", "EU", "GB", "CH", "US", "DE", "FR", "IN", "CN", "BR", "CA", "CA-QC", "KP"]
ALL_COUNTRIES = sorted(c.alpha_2 for c in __import__("pycountry").countries)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    allow=st.lists(st.sampled_from(POOL), max_size=5, unique=True),
    kinds=st.lists(
        st.sampled_from(["stored", "processed", "accessed", "trained"]), min_size=1, unique=True
    ),
    everything=st.booleans(),
)
def test_location_violations_are_exactly_the_places_outside_allow(org, allow, kinds, everything):
    codes = ALL_COUNTRIES if everything else allow
    text = rule(f"kinds: {json.dumps(kinds)}\nallow: {json.dumps(codes)}")
    report = check(org, text)
    day = residency.datamap.parse_as_of(DAY)
    allowed = frozenset().union(*(places.expand(c, day, law=False) for c in codes))
    expected = {
        (loc.subject, loc.kind, loc.country)
        for subject in org.subjects("client") + org.subjects("staff")
        for loc in org.where(subject).locations
        if loc.kind in kinds and not places.within(loc.country, allowed)
    }
    assert found(report) == expected
    if everything:
        assert report.passed  # a policy allowing every country never reports a location


def test_an_access_points_at_the_staff_csv_row(demo):
    report = check(demo, rule("subjects: {clients: {}}\nkinds: [accessed]\nallow: [AQ]"))
    assert report.violations
    rows = {}
    for v in report.violations:
        assert v.kind == "accessed"
        assert v.file is not None and v.file.endswith("staff.csv")
        assert v.recipient.startswith("staff:")
        rows[v.recipient] = v.line
    lines = (Path(report.violations[0].file)).read_text(encoding="utf-8").splitlines()
    for staff, row in rows.items():  # row 1 is the header, as a spreadsheet counts
        assert lines[row - 1].split(",", 1)[0] == staff.removeprefix("staff:")
    uri = report_sarif(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert uri["artifactLocation"]["uri"].endswith("/staff.csv")
    assert uri["region"]["startLine"] == report.violations[0].line


def test_a_device_is_not_read_as_a_policy():
    with pytest.raises(PolicyError, match="is a character device"):
        read_policy("/dev/zero")


def test_the_docs_show_the_real_output(monkeypatch):
    monkeypatch.chdir(FOLDER)
    args = ["check", "--inventory", "inventory.yaml", "--policy", "policy.yaml", "--as-of", DAY]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    shown = "\n".join(result.output.splitlines()[:7])
    docs = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    assert f"$ residency {' '.join(args)}\n{shown}\n" in docs


YAML_BITS = st.sampled_from(
    [":", "-", " ", "\n", "[", "]", "{", "}", ",", "'", '"', "&a", "*a", "!!str", "#", "yes", "1e9"]
)


@settings(max_examples=150, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), st.integers(0, 3), YAML_BITS),
        max_size=6,
    )
)
def test_a_mangled_policy_is_accepted_or_refused_with_lines(edits):
    text = EXAMPLE.read_text(encoding="utf-8")
    for at, cut, bit in edits:
        at = min(at, len(text))
        text = text[:at] + bit + text[at + cut :]
    problems = []
    try:
        policy = parse_policy_text(text)
    except PolicyError as exc:  # the only error an untrusted policy may cause
        problems = exc.problems
    else:
        assert policy.rules
        return
    assert problems
    for p in problems:
        assert p.line is None or 1 <= p.line <= text.count("\n") + 2
        assert p.field and p.message
