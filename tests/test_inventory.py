"""Validation: each bad input gets one clear problem naming file, line, field, expectation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from residency import InventoryError
from residency.inventory import parse_inventory_text, read_inventory

from .conftest import DATA

# (description, text to replace, replacement, expected line, expected field, expected words)
YAML_CASES = [
    (
        "unknown country",
        "country: IN\n    type: contractor",
        "country: XX\n    type: contractor",
        7,
        "staff[s-001].country",
        "unknown code 'XX'",
    ),
    (
        "UK is not ISO",
        "  country: GB\n  staff_data",
        "  country: UK\n  staff_data",
        3,
        "organisation.country",
        "the United Kingdom is 'GB'",
    ),
    (
        "lower-case code",
        "country: BR",
        "country: br",
        13,
        "staff[s-002].country",
        "did you mean 'BR'",
    ),
    (
        "bad subdivision",
        "country: CA-QC",
        "country: CA-ZZ",
        16,
        "staff[s-003].country",
        "ISO 3166-2",
    ),
    (
        "unknown client id",
        "clients: [acme, globex]",
        "clients: [acme, globx]",
        10,
        "staff[s-001].clients[1]",
        "did you mean 'globex'?",
    ),
    (
        "unknown system id",
        "systems: [slack, gworkspace, zendesk]",
        "systems: [slack, gworkspace, zendsk]",
        23,
        "clients[acme].systems[2]",
        "unknown system id 'zendsk'",
    ),
    (
        "unknown region",
        "region: us-east-1}",
        "region: us-east-9}",
        38,
        "systems[slack].hosting[0].region",
        "unknown aws region 'us-east-9'",
    ),
    (
        "unknown provider",
        "{provider: aws, region: us-east-1}",
        "{provider: ovh, region: gra}",
        38,
        "systems[slack].hosting[0].region",
        "unknown cloud provider 'ovh'",
    ),
    (
        "bad date",
        "since: 2023-10-01",
        "since: 2023-13-01",
        46,
        "systems[slack].ai_training.since",
        "expected YYYY-MM-DD",
    ),
    (
        "bad opted_out",
        "opted_out: false",
        "opted_out: yes please",
        47,
        "systems[slack].ai_training.opted_out",
        "expected false or a date",
    ),
    (
        "bad default",
        "default: opt-out",
        "default: maybe",
        45,
        "systems[slack].ai_training.default",
        "expected one of",
    ),
    (
        "typo field",
        "    residency: [EEA]",
        "    residncy: [EEA]",
        24,
        "clients[acme].residncy",
        "unknown field",
    ),
    (
        "bad bloc",
        "residency: [EEA]",
        "residency: [EEZ]",
        24,
        "clients[acme].residency[0]",
        "or a bloc (EEA, EU)",
    ),
    (
        "duplicate id",
        "  - id: s-003",
        "  - id: s-002",
        15,
        "staff[s-002].id",
        "duplicate id 's-002': already used at",
    ),
    ("missing vendor", "    vendor: Zendesk, Inc.\n", "", 56, "systems[zendesk].vendor", "missing"),
    (
        "bad staff type",
        "type: contractor",
        "type: freelancer",
        8,
        "staff[s-001].type",
        "expected one of",
    ),
    (
        "contradictory ai default",
        "default: opt-out",
        "default: none",
        45,
        "systems[slack].ai_training.default",
        "contradicts uses_customer_data",
    ),
    (
        "region vs country",
        "{provider: aws, region: us-east-1}",
        "{provider: aws, region: us-east-1, country: DE}",
        38,
        "systems[slack].hosting[0].country",
        "contradicts region us-east-1 in US",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [c[1:] for c in YAML_CASES],
    ids=[c[0] for c in YAML_CASES],
)
def test_each_bad_yaml_field_is_named(small_text, old, new, line, field, words):
    assert old in small_text
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(small_text.replace(old, new, 1), name="inv.yaml")
    problems = info.value.problems
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.field) == ("inv.yaml", line, field)
    assert words in problem.message
    assert f"inv.yaml line {line}: {field}: " in str(info.value)


def test_all_problems_are_reported_in_one_run(small_text):
    text = small_text.replace("country: IN", "country: XX").replace(
        "region: us-east-1", "region: nowhere"
    )
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(text)
    assert len(info.value.problems) == 3  # staff, entity and the region
    assert str(info.value).startswith("3 problems in the inventory")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("organisation: [unclosed", "malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("organisation: {name: X, country: GB}\nsystemz: []\n", "unknown top-level field"),
        ("systems: []\n", "organisation: missing"),
    ],
)
def test_document_level_problems(text, words):
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(text)
    assert words in str(info.value)


def _folder(tmp_path: Path, staff: str | None = None, clients: str | None = None) -> Path:
    data = yaml.safe_load((DATA / "passing_small.yaml").read_text())
    data.pop("staff")
    data.pop("clients")
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "staff.csv").write_text(
        staff
        or (
            "id,country,type,entity.name,entity.country,entity.safeguards,clients,systems\n"
            "s-001,IN,contractor,Lumen Talent Pvt Ltd,IN,,acme;globex,slack;gworkspace\n"
            "s-002,BR,employee,,,,acme,\n"
        )
    )
    (tmp_path / "clients.csv").write_text(
        clients
        or (
            "id,name,country,data,systems,residency\n"
            "acme,Acme GmbH,DE,messages;files;contact_details,slack;gworkspace;zendesk,EEA\n"
            "globex,Globex Inc,US,messages,slack,\n"
        )
    )
    return tmp_path


def test_folder_inventory_reads_csv(tmp_path):
    inv = read_inventory(_folder(tmp_path))
    assert [p.id for p in inv.staff] == ["s-001", "s-002"]
    assert inv.staff[0].entity is not None and inv.staff[0].entity.country == "IN"
    assert inv.staff[1].systems is None  # empty cell: the systems of their clients
    assert inv.clients[0].residency == ["EEA"]
    assert inv.origins["client:globex"].endswith("clients.csv row 3")


@pytest.mark.parametrize(
    ("staff", "row", "field", "words"),
    [
        ("id,country,clients\ns-001,IN,acme\ns-002,ZZ,acme\n", 3, "country", "unknown code 'ZZ'"),
        ("id,country,clients\ns-001,IN,acme;nobody\n", 2, "clients[1]", "unknown client id"),
        ("id,country,clients,sytems\ns-001,IN,acme,\n", 1, "sytems", "unknown column"),
        ("id,country,clients\ns-001,IN\n", 2, "row", "expected 3 cells"),
        ("id,country,type\ns-001,IN,intern\n", 2, "type", "expected one of"),
        ("id,country\ns-001,IN\ns-001,GB\n", 3, "id", "duplicate id 's-001'"),
        (
            "id,country,entity.name,entity.country\ns-001,IN,Lumen,XX\n",
            2,
            "entity.country",
            "unknown code",
        ),
    ],
)
def test_csv_problems_name_the_row(tmp_path, staff, row, field, words):
    folder = _folder(tmp_path, staff=staff)
    with pytest.raises(InventoryError) as info:
        read_inventory(folder)
    problem = info.value.problems[0]
    assert Path(problem.file).name == "staff.csv"
    assert (problem.line, problem.field) == (row, field)
    assert words in problem.message
    assert f"staff.csv row {row}: {field}:" in str(info.value)


def test_missing_path_is_a_problem_not_a_traceback(tmp_path):
    with pytest.raises(InventoryError, match="no such file or folder"):
        read_inventory(tmp_path / "nope.yaml")


def test_folder_without_inventory_yaml(tmp_path):
    with pytest.raises(InventoryError, match=r"needs an inventory\.yaml"):
        read_inventory(tmp_path)


def test_region_resolves_to_city_and_country(small):
    slack = next(s for s in small.inventory.systems if s.id == "slack")
    assert (slack.hosting[0].country, slack.hosting[0].city) == ("US", "N. Virginia")


def test_warnings_do_not_fail_validation(small_text):
    text = small_text.replace("clients: [acme, globex]", "clients: [acme]").replace(
        "clients: [globex]", "clients: [acme]"
    )
    inv = parse_inventory_text(text)
    assert "client globex: no staff member serves it" in inv.warnings


def test_demo_is_valid_and_large_enough(demo):
    s = demo.summary()
    assert s.staff_countries == 30
    assert 25 <= s.client_countries <= 30
    assert {"slack", "gworkspace", "zendesk", "hr"} <= {x.id for x in demo.inventory.systems}


def test_norway_is_not_false():
    """YAML 1.1 would read NO as a boolean; inventories and legal data read it as Norway."""
    inv = parse_inventory_text(
        "organisation: {name: X, country: NO}\n"
        "systems: [{id: s, vendor: V, vendor_country: NO, hosting: [{country: NO}]}]\n"
        "clients: [{id: c, country: NO, residency: [NO, EEA]}]\n"
    )
    assert inv.organisation.country == "NO"
    assert inv.clients[0].residency == ["NO", "EEA"]


def test_quebec_regions_resolve_to_the_subdivision():
    inv = parse_inventory_text(
        "organisation: {name: X, country: CA}\n"
        "systems: [{id: s, vendor: V, vendor_country: CA,\n"
        "  hosting: [{provider: gcp, region: northamerica-northeast1},\n"
        "            {provider: azure, region: canadacentral}]}]\n"
    )
    assert [h.country for h in inv.systems[0].hosting] == ["CA-QC", "CA"]


def test_aws_canada_central_is_in_montreal_quebec():
    """AWS ca-central-1 is in Montréal (vendors-interop-review-2026-12 A1): data of a Québec
    client kept there by a Québec organisation does not leave Québec."""
    from residency import DataMap

    inv = parse_inventory_text(
        "organisation: {name: X, country: CA-QC}\n"
        "systems: [{id: s, vendor: V, vendor_country: CA-QC, data: [contact_details],\n"
        "  hosting: [{provider: aws, region: ca-central-1}]}]\n"
        "clients: [{id: c, country: CA-QC, systems: [s]}]\n"
    )
    assert inv.systems[0].hosting[0].country == "CA-QC"
    assert DataMap.from_inventory(inv).transfers(subject="client:c") == []


def test_unmapped_categories_are_a_warning(small_text):
    inv = parse_inventory_text(small_text.replace("data: [messages]", "data: [cat_pictures]"))
    assert any("'cat_pictures' has no fideslang mapping" in w for w in inv.warnings)


def _zip(files: dict[str, str]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_upload_yaml_and_zip(small_text):
    from residency.inventory import read_upload

    assert read_upload("inv.yaml", small_text.encode()).organisation.name == "Tiny Agency"
    demo = {
        f"org/{n}": (DATA.parent.parent / "data" / "demo" / n).read_text()
        for n in ("inventory.yaml", "staff.csv", "clients.csv")
    }
    inv = read_upload("org.zip", _zip(demo))
    assert len(inv.staff) == 61
    assert inv.origins["client:fennwerk"].startswith("org.zip:clients.csv row ")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("inv.txt", b"x", "expected a .yaml file or a .zip"),
        ("inv.zip", b"not a zip", "not a valid zip file"),
        ("inv.yaml", b"\xff\xfe\x00", "expected UTF-8"),
    ],
)
def test_bad_uploads(name, content, words):
    from residency.inventory import read_upload

    with pytest.raises(InventoryError, match=words):
        read_upload(name, content)


def test_upload_errors_name_the_file_in_the_zip():
    from residency.inventory import read_upload

    bad = _zip(
        {
            "inventory.yaml": "organisation: {name: X, country: GB}\n",
            "staff.csv": "id,country\ns-1,ZZ\n",
        }
    )
    with pytest.raises(InventoryError) as info:
        read_upload("bad.zip", bad)
    assert str(info.value.problems[0]).startswith("bad.zip:staff.csv row 2: country:")
    unsafe = _zip({"../evil.yaml": "x", "inventory.yaml": "x"})
    with pytest.raises(InventoryError, match="unsafe path"):
        read_upload("evil.zip", unsafe)


def test_unknown_instruments_are_warned_about_with_the_closest_name():
    # Issue 9 item 4: unknown names used to pass silently and cost transfers their basis.
    from residency.inventory import parse_inventory_text

    text = (
        "organisation: {name: O, country: GB}\n"
        "systems:\n"
        "  - {id: s, vendor: V, vendor_country: US, hosting: [{country: US}],\n"
        "     certifications: [Privacy Shield], safeguards: [Signed DPA with SCCs 2010, EU SCCs]}\n"
    )
    warnings = parse_inventory_text(text).warnings
    shield = [w for w in warnings if "'Privacy Shield' (EU-US Privacy Shield) ended on" in w]
    assert shield and "system s" in shield[0] and "2020-07-16" in shield[0]
    assert any("did you mean 'EU SCC 2010'" in w for w in warnings)
    assert not any("'EU SCCs'" in w for w in warnings)  # an alias of EU SCC 2021


def test_every_instrument_name_and_alias_is_documented():
    from pathlib import Path

    from residency.jurisdictions import instruments

    doc = (Path(__file__).resolve().parent.parent / "docs" / "inventory.md").read_text()
    for i in instruments():
        assert f"| {i.name} |" in doc, i.name
        assert all(alias in doc for alias in i.aliases), i.name


def test_checking_changes_nothing_and_normalising_is_its_own_step():
    """Regions become countries in `normalise`, on a copy; the parsed inventory is normalised."""
    from residency.inventory import normalise
    from residency.model import Hosting, Inventory, Organisation, System

    raw = Inventory.model_construct(
        organisation=Organisation(name="X", country="DE"),
        staff=[],
        clients=[],
        systems=[
            System(
                id="s",
                vendor="V",
                vendor_country="US",
                hosting=[Hosting(provider="aws", region="us-east-1"), Hosting(country="FR")],
            )
        ],
    )
    done = normalise(raw)
    assert [h.country for h in raw.systems[0].hosting] == [None, "FR"]  # the input is untouched
    from residency import regions

    virginia = regions.resolve("aws", "us-east-1")
    assert virginia is not None
    assert [h.country for h in done.systems[0].hosting] == [virginia.place, "FR"]
    assert done.systems[0].hosting[0].city == virginia.city
    assert done.systems[0].hosting[1] is raw.systems[0].hosting[1]
    assert normalise(done).systems[0].hosting == done.systems[0].hosting  # idempotent
    text = (
        "organisation: {name: X, country: DE}\n"
        "systems: [{id: s, vendor: V, vendor_country: US,"
        " hosting: [{provider: aws, region: us-east-1}]}]\n"
        "clients: [{id: c, country: DE, systems: [s]}]\n"
        "staff: [{id: p, country: DE, clients: [c]}]\n"
    )
    parsed = parse_inventory_text(text)
    assert parsed.systems[0].hosting[0].country == virginia.place
    assert parsed.origins["client:c"].endswith("line 3")
