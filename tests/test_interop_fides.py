"""Fides interop: the export is a fideslang-valid manifest that round-trips categories."""

from __future__ import annotations

import pytest
import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import System, Taxonomy
from typer.testing import CliRunner

import residency
from residency.categories import categories, fides_key
from residency.cli import app
from residency.interop.fides import dump_manifest, fides_manifest, transfer_basis

from .conftest import DATA

AS_OF = "2026-11-26"
INTEROP = DATA / "interop"
TWO = INTEROP / "two_systems.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_manifest():
    return fides_manifest(residency.load(), as_of=AS_OF)


def _by_key(manifest):
    return {s["fides_key"]: s for s in manifest["system"]}


def test_demo_export_validates_with_fideslang_and_its_taxonomy(demo_manifest):
    Taxonomy.model_validate(demo_manifest)
    keys = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    uses = {u.fides_key for u in DEFAULT_TAXONOMY.data_use}
    subjects = {s.fides_key for s in DEFAULT_TAXONOMY.data_subject}
    systems = {s["fides_key"] for s in demo_manifest["system"]}
    for raw in demo_manifest["system"]:
        system = System.model_validate(raw)
        for d in system.privacy_declarations:
            assert set(d.data_categories) <= keys, system.fides_key
            assert d.data_use in uses
            assert d.data_subjects and set(d.data_subjects) <= subjects
        for flow in [*(system.egress or []), *(system.ingress or [])]:
            assert flow.fides_key in systems  # every data flow names a system of the manifest


def test_one_system_per_vendor_and_per_subprocessor(demo_manifest):
    inv = residency.load().inventory
    found = _by_key(demo_manifest)
    assert {s.id for s in inv.systems} <= set(found)
    names = {sub.name for s in inv.systems for sub in s.subprocessors}
    subs = [s for s in demo_manifest["system"] if s["responsibility"] == ["Sub-Processor"]]
    assert {s["name"] for s in subs} == names
    assert len(found) == len(inv.systems) + len(names)


def test_categories_round_trip(demo_manifest):
    inv = residency.load().inventory
    found = _by_key(demo_manifest)
    back: dict[str, set[str]] = {}
    for c in categories().values():
        back.setdefault(c.fides, set()).add(c.name)
    for system in inv.systems:
        service = found[system.id]["privacy_declarations"][0]
        assert service["data_use"] == "essential.service"
        assert set(service["data_categories"]) == {fides_key(c) for c in system.data}
        # each residency category is among the names its fideslang key maps back to
        recovered = set().union(*(back.get(k, {k}) for k in service["data_categories"]))
        assert set(system.data) <= recovered
        assert found[system.id]["meta"]["residency"]["categories"] == list(system.data)


def test_training_declaration_exactly_where_training_happens(demo_manifest):
    m = residency.load()
    trained = {e.system_id for e in m.ai_exposure(as_of=AS_OF)}
    assert trained  # the demo trains somewhere, so the test can fail
    declared = {
        s["fides_key"]
        for s in demo_manifest["system"]
        if any(d["data_use"] == "train_ai_system" for d in s["privacy_declarations"])
    }
    assert declared == trained


def test_transfer_fields_follow_the_computed_routes():
    manifest = fides_manifest(residency.load(TWO), as_of=AS_OF)
    Taxonomy.model_validate(manifest)
    found = _by_key(manifest)
    local = found["localhr"]
    assert local["does_international_transfers"] is False
    assert local["legal_basis_for_transfers"] == []
    assert local["requires_data_protection_assessments"] is False
    assert local["privacy_declarations"][0]["data_subjects"] == ["employee"]
    desk = found["helpdesk"]
    assert desk["does_international_transfers"] is True
    assert desk["legal_basis_for_transfers"] == ["SCCs"]
    assert desk["requires_data_protection_assessments"] is True
    assert desk["egress"][0]["fides_key"] == "subprocessor-example_cloud_llc"
    origin = desk["meta"]["residency"]["transfers_by_origin"]
    assert list(origin) == ["EU-GDPR"]
    assert {(t["destination"], t["kind"], t["basis"]) for t in origin["EU-GDPR"]} == {
        ("US", "processed", "safeguard"),
        ("US", "stored", "safeguard"),
        ("US", "trained", "safeguard"),
    }
    sub = found["subprocessor-example_cloud_llc"]
    assert sub["ingress"][0]["fides_key"] == "helpdesk"
    assert sub["meta"]["residency"]["countries"] == ["US"]


@pytest.mark.parametrize(
    ("basis", "instrument", "expected"),
    [
        ("adequacy", "Decision 2002/2/EC", "Adequacy Decision"),
        ("safeguard", "UK Addendum (International Data Transfer Addendum ...)", "SCCs"),
        ("safeguard", "BCR", "BCRs"),
        ("needs_review", None, "Other"),
        ("no_basis", None, "Other"),
        ("unrestricted", None, None),
        ("free_flow", None, None),
    ],
)
def test_transfer_basis_labels(basis, instrument, expected):
    assert transfer_basis(basis, instrument) == expected


def test_yaml_has_no_aliases_and_reads_back(demo_manifest):
    text = dump_manifest(demo_manifest)
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == demo_manifest


def test_cli_writes_the_manifest(tmp_path):
    out = tmp_path / "systems.yml"
    result = runner.invoke(
        app, ["export", "--format", "fides", "-o", str(out), "-i", str(TWO), "--as-of", AS_OF]
    )
    assert result.exit_code == 0, result.output
    assert "Fides manifest of 3 systems" in result.output
    Taxonomy.model_validate(yaml.safe_load(out.read_text()))


def test_cli_refuses_plan_with_fides(tmp_path):
    out = tmp_path / "systems.yml"
    result = runner.invoke(app, ["export", "--format", "fides", "--plan", "-o", str(out)])
    assert result.exit_code == 1
    assert "goes with the JSON export only" in result.output
    assert not out.exists()
