from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
from typer.testing import CliRunner

from residency.cli import app
from residency.export import schema, to_json, transfers_csv, validate

runner = CliRunner()


def test_demo_export_validates_against_the_schema(demo):
    document = demo.export(as_of="2026-11-26")
    validate(document)
    assert document["schema"] == "residency-export/1"
    assert document["transfers"] and document["findings"] and document["locations"]


def test_schema_is_draft_2020_12_and_rejects_bad_documents(demo):
    jsonschema.Draft202012Validator.check_schema(schema())
    document = demo.export(as_of="2026-11-26")
    document["transfers"][0]["basis"] = "probably fine"
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_same_inventory_and_date_give_the_same_bytes(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for p in paths:
        assert runner.invoke(app, ["export", "-o", str(p), "--as-of", "2026-11-26"]).exit_code == 0
    a, b = (json.loads(p.read_text()) for p in paths)
    a.pop("generated_at")
    b.pop("generated_at")
    assert to_json(a) == to_json(b)


def test_as_of_across_the_dpf_start_date(demo):
    before = {t.id: t.basis for t in demo.transfers(as_of="2022-01-01")}
    after = {t.id: t.basis for t in demo.transfers(as_of="2026-11-26")}
    changed = {tid for tid in before if tid in after and before[tid] != after[tid]}
    assert changed, "the DPF (2023-07-10) must change some bases"
    assert any(after[t] == "adequacy" and before[t] in ("safeguard", "no_basis") for t in changed)


def test_subjects_are_typed_ids(demo):
    document = demo.export(as_of="2026-11-26")
    subjects = {t["subject"] for t in document["transfers"]}
    assert all(s.split(":", 1)[0] in ("client", "staff") for s in subjects)


def test_csv_register_escapes_formulas():
    document = {
        "transfers": [
            {
                "id": "t-000000000000",
                "subject": "client:x",
                "origin": "DE",
                "destination": "US",
                "kind": "stored",
                "system": '=HYPERLINK("http://evil")',
                "recipient": "+1 Corp",
                "recipient_type": "vendor",
                "data": ["messages"],
                "basis": "no_basis",
                "instrument": None,
                "tia_required": False,
                "regimes": [{"regime": "EU-GDPR", "basis": "no_basis", "instrument": None}],
                "notes": ["-note"],
                "sources": [],
                "path": ["client:x", "country:US"],
            }
        ]
    }
    rows = list(csv.DictReader(io.StringIO(transfers_csv(document))))
    assert rows[0]["system"].startswith("'=")
    assert rows[0]["recipient"] == "'+1 Corp"
    assert rows[0]["notes"] == "'-note"


def test_cli_export_csv_and_schema(tmp_path):
    out = tmp_path / "register.csv"
    result = runner.invoke(app, ["export", "-o", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0]
    assert header.startswith("id,subject,origin,destination,kind,system,recipient")
    printed = json.loads(runner.invoke(app, ["schema"]).output)
    assert printed["$schema"].endswith("2020-12/schema")


def test_cli_rejects_bad_dates_and_formats(tmp_path):
    result = runner.invoke(app, ["findings", "--as-of", "2026-02-30"])
    assert result.exit_code == 1 and "invalid --as-of date" in result.output
    result = runner.invoke(app, ["export", "-o", str(tmp_path / "x"), "--format", "xml"])
    assert result.exit_code == 1 and "unknown --format" in result.output


def test_export_document_conveniences(demo):
    document = demo.export(as_of="2026-11-26")
    frame = document.to_frame()
    assert len(frame) == len(document["transfers"])
    assert list(frame.columns[:4]) == ["id", "subject", "origin", "destination"]
    assert document.to_json().startswith("{\n")


def test_transfer_list_csv_is_the_export_register(demo):
    assert demo.transfers(as_of="2026-11-26").to_csv() == transfers_csv(
        demo.export(as_of="2026-11-26")
    )
    assert "<table" in demo.transfers(as_of="2026-11-26")._repr_html_()
