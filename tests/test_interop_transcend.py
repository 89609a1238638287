"""Transcend interop: a transcend.yml becomes a draft whose gaps `check` lists exactly."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import residency
from residency.cli import app
from residency.interop.transcend_import import (
    TranscendImportError,
    address_places,
    convert_transcend,
    draft_from_transcend,
    place_code,
)

from .conftest import DATA, inventory_problems

AS_OF = "2026-11-26"
TRANSCEND = DATA / "interop" / "transcend" / "transcend.yml"
runner = CliRunner()


@pytest.fixture(scope="module")
def draft():
    return convert_transcend(TRANSCEND)


def _systems(draft):
    return {s["id"]: s for s in draft.data["systems"]}


def test_silos_become_systems_with_their_country(draft):
    systems = _systems(draft)
    assert set(systems) == {
        "tulip-crm",
        "newsletter",
        "zephyr-analytics",
        "payroll-db",
        "support-desk",
        "data-warehouse",
        "legacy-files",
    }
    crm = systems["tulip-crm"]
    assert crm["name"] == "Tulip CRM"
    assert crm["hosting"] == [{"country": "NL", "source": "transcend.yml data silo country"}]
    # the subdivision is the finer code, and the activity repeating it adds no row
    assert [h["country"] for h in systems["payroll-db"]["hosting"]] == ["CA-QC"]
    # a silo whose country contradicts its subdivision gets no hosting
    assert "hosting" not in systems["legacy-files"]


def test_vendors_give_vendor_and_country_by_name(draft):
    systems = _systems(draft)
    assert systems["tulip-crm"]["vendor"] == "Tulip CRM"
    assert systems["tulip-crm"]["vendor_country"] == "NL"
    assert systems["tulip-crm"]["sources"] == ["https://tulipcrm.example/dpa"]
    # matched through integrationName (nordlys-mail)
    assert systems["newsletter"]["vendor"] == "Nordlys Mail"
    assert systems["newsletter"]["vendor_country"] == "SE"
    # headquarterCountry EU is a bloc: never read as a country
    assert systems["zephyr-analytics"]["vendor"] == "Zephyr Analytics"
    assert "vendor_country" not in systems["zephyr-analytics"]
    # no vendor of that name: transcend.yml links none to the silo
    assert "vendor" not in systems["payroll-db"]
    assert any("'Quill Print Ltd' matches no data silo" in n for n in draft.notes)
    # a catalogue match brings vendor, hosting and sub-processors from the catalogue
    assert systems["support-desk"] == {
        "id": "support-desk",
        "name": "Support Desk",
        "catalogue": "zendesk",
    }


def test_single_silo_activity_gives_hosting_and_recipient_countries(draft):
    zephyr = _systems(draft)["zephyr-analytics"]
    assert zephyr["hosting"] == [
        {
            "country": "US-CA",
            "purpose": "Product analytics",
            "source": "transcend.yml processing activity storageRegions",
        }
    ]
    assert zephyr["subprocessors"] == [
        {
            "purpose": "transfer regions of processing activity 'Product analytics'",
            "countries": ["IN"],
            "source": "transcend.yml",
        }
    ]
    newsletter = _systems(draft)["newsletter"]
    # storageRegions EU is left out (a bloc), transferRegions NO stays NO (not false)
    assert [h["country"] for h in newsletter["hosting"]] == ["DE"]
    assert newsletter["subprocessors"][0]["countries"] == ["NO"]
    assert any("'Newsletters': storageRegions: EU is a bloc" in n for n in draft.notes)


def test_multi_silo_activity_is_flagged_ambiguous(draft):
    assert len(draft.ambiguous) == 1
    flagged = draft.ambiguous[0]
    assert flagged.activity == "Marketing analytics"
    assert flagged.silos == ("Data Warehouse", "Tulip CRM")
    assert (flagged.storage, flagged.transfer) == (("IE",), ("US",))
    systems = _systems(draft)
    # its regions go to neither silo
    assert [h["country"] for h in systems["tulip-crm"]["hosting"]] == ["NL"]
    assert "subprocessors" not in systems["tulip-crm"]
    assert "hosting" not in systems["data-warehouse"]
    hint = next(t.what for t in draft.todos if t.field == "systems[data-warehouse].hosting")
    assert "'Marketing analytics' stores in IE" in hint
    assert str(flagged) in draft.to_yaml()


def test_address_and_country_conflicts_are_reported(draft):
    found = {(c.record, c.declared) for c in draft.conflicts}
    assert found == {
        ("business entity 'Kestrel Works AG'", "headquarterCountry DE"),
        ("vendor 'Nordlys Mail'", "headquarterCountry SE"),
        ("data silo 'Legacy Files'", "country FR"),
    }
    # an address that agrees with its country is not a conflict
    assert not any("Kestrel Works GmbH" in c.record for c in draft.conflicts)
    assert not any("Tulip CRM" in c.record for c in draft.conflicts)
    assert "'Zurich' is in CH" in str(
        next(c for c in draft.conflicts if "Kestrel Works AG" in c.record)
    )


def test_business_entities_give_the_organisation():
    one = draft_from_transcend(
        {
            "business-entities": [
                {
                    "title": "Kestrel Works Inc",
                    "headquarterCountry": "CA",
                    "headquarterSubDivision": "CA-QC",
                }
            ]
        }
    )
    assert one.data["organisation"] == {"name": "Kestrel Works Inc", "country": "CA-QC"}
    assert not [t for t in one.todos if t.field.startswith("organisation")]
    # several entities: which is the organisation is not guessed
    two = convert_transcend(TRANSCEND)
    assert two.data["organisation"] == {}
    hint = next(t.what for t in two.todos if t.field == "organisation.name")
    assert "Kestrel Works GmbH (DE)" in hint and "Kestrel Works AG (DE)" in hint


def test_check_on_the_draft_lists_exactly_the_missing_facts(tmp_path, draft):
    out = tmp_path / "inventory.yaml"
    out.write_text(draft.to_yaml())
    problems = inventory_problems(out)
    assert sorted(p.field for p in problems) == sorted(t.field for t in draft.todos)
    assert {t.field for t in draft.todos} >= {
        "organisation.name",
        "organisation.country",
        "systems[zephyr-analytics].vendor_country",
        "systems[zephyr-analytics].subprocessors[0].name",
        "systems[newsletter].subprocessors[0].name",
        "systems[payroll-db].vendor",
        "systems[data-warehouse].hosting",
        "systems[legacy-files].hosting",
    }
    assert len(draft.todos) == 13
    assert out.read_text().count("# TODO") == len(draft.todos)


def _filled(draft):
    data = yaml.safe_load(draft.to_yaml())  # what the user edits is the YAML text
    data["organisation"] = {"name": "Kestrel Works GmbH", "country": "DE"}
    for system in data["systems"]:
        if "catalogue" in system:
            continue
        system.setdefault("vendor", "Example Hosting GmbH")
        system.setdefault("vendor_country", "DE")
        system.setdefault("hosting", [{"country": "IE"}])
        for i, sub in enumerate(system.get("subprocessors", [])):
            sub.setdefault("name", f"Recipient {system['id']} {i}")
    return data


def test_filled_draft_is_a_valid_inventory_that_runs_through_the_chain(tmp_path, draft):
    out = tmp_path / "inventory.yaml"
    out.write_text(yaml.safe_dump(_filled(draft), sort_keys=False))
    assert inventory_problems(out) == []
    m = residency.load(out)
    assert {s.id for s in m.inventory.systems} == set(_systems(draft))
    zephyr = next(s for s in m.inventory.systems if s.id == "zephyr-analytics")
    assert [h.country for h in zephyr.hosting] == ["US-CA"]
    subs = [c for s in m.inventory.systems for sub in s.subprocessors for c in sub.countries]
    assert "IN" in subs and "NO" in subs


@pytest.mark.parametrize(
    ("country", "subdivision", "expected"),
    [
        ("DE", None, "DE"),
        ("CA", "CA-QC", "CA-QC"),
        (None, "US-CA", "US-CA"),
        ("EU", None, None),
        ("FR", "DE-BY", None),
        ("XX", None, None),
        (None, None, None),
    ],
)
def test_place_code_never_guesses(country, subdivision, expected):
    assert place_code(country, subdivision)[0] == expected


def test_address_places_fold_accents_and_postcodes():
    assert address_places("Bahnhofstrasse 1, 8001 Zürich") == [("Zürich", frozenset({"CH"}))]
    assert address_places("1 Main St, Springfield") == []


def test_cli_convert_writes_the_draft_and_reports(tmp_path):
    out = tmp_path / "inventory.yaml"
    result = runner.invoke(app, ["convert", "transcend", str(TRANSCEND), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "7 systems with 13 missing facts marked # TODO" in result.output
    assert "warning: processing activity 'Marketing analytics' is ambiguous" in result.output
    assert "warning: vendor 'Nordlys Mail': headquarterCountry SE conflicts" in result.output
    assert out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "data-silos: {a: 1}\n",
            "t.yml line 1: data-silos: expected a list of records, got a mapping",
        ),
        ("data-silos:\n  - integrationName: x\n", "t.yml line 2: data-silos[0].title: expected"),
        ("data-silos:\n  - just a name\n", "t.yml line 2: data-silos[0]: expected a mapping"),
        (
            "vendors:\n  - title: A\n    headquarterCountry: [DE]\n",
            "t.yml line 3: vendors[0].headquarterCountry: expected text, got a list",
        ),
        (
            "processing-activities:\n  - title: P\n    storageRegions: DE\n",
            "t.yml line 3: processing-activities[0].storageRegions: expected a list of",
        ),
        (
            "data-silos:\n  - {title: A, integrationName: x}\n  - {title: A, integrationName: y}\n",
            "t.yml line 3: data-silos[1].title: title 'A' given twice (also line 2)",
        ),
        ("system:\n  - fides_key: a\n", "use `residency convert fides`"),
        ("- 1\n", "t.yml line 1: document: a list: expected a mapping"),
        ("data-silos: [\n", "t.yml line 2: yaml: malformed YAML"),
        ("a: &x [*x]\n", "t.yml line 1"),
    ],
)
def test_cli_convert_untrusted_input_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "t.yml"
    path.write_text(text)
    out = tmp_path / "inventory.yaml"
    result = runner.invoke(app, ["convert", "transcend", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_library_error_lists_every_problem():
    with pytest.raises(TranscendImportError) as caught:
        draft_from_transcend({"vendors": [{"title": 3}, {"title": "B", "address": 1}]})
    assert [p.field for p in caught.value.problems] == ["vendors[0].title", "vendors[1].address"]
