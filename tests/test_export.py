from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency.cli import app
from residency.export import schema, transfers_csv, validate

runner = CliRunner()


def test_demo_export_validates_against_the_schema(demo):
    document = demo.export(as_of="2026-11-26")
    validate(document)
    assert document["schema"] == "residency-export/2"
    assert document["routes"] and document["findings"] and document["locations"]


def test_schema_is_draft_2020_12_and_rejects_bad_documents(demo):
    jsonschema.Draft202012Validator.check_schema(schema())
    document = demo.export(as_of="2026-11-26")
    document["routes"][0]["basis"] = "probably fine"
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_every_id_referenced_is_in_its_table(demo):
    document = demo.export(as_of="2026-11-26")
    routes = {r["id"] for r in document["routes"]}
    cited = {s for r in document["routes"] for s in r["sources"]}
    cited |= {s for f in document["findings"] for s in f["sources"]}
    assert cited == set(document["sources"])
    assert {n for r in document["routes"] for n in r["notes"]} == set(document["notes"])
    assert {r for t in document["transfers"] for r in t["routes"]} == routes
    assert {r for f in document["findings"] for r in f["routes"]} <= routes
    subjects = set(document["subjects"])
    assert {t["subject"] for t in document["transfers"]} <= subjects
    assert {s for r in document["routes"] for s in r["subjects"]["ids"]} <= subjects
    assert {x for loc in document["locations"] for x in loc["accessed_by"]} <= subjects


def test_subjects_carry_display_names(demo):
    document = demo.export(as_of="2026-11-26")
    assert document["subjects"]["client:fennwerk"]["label"] == "Fennwerk Mobility GmbH"
    finding = next(f for f in document["findings"] if f["subject"] == "client:fennwerk")
    assert finding["subject_label"] == "Fennwerk Mobility GmbH"


def test_routes_count_their_subjects_and_match_the_transfers(demo):
    document = demo.export(as_of="2026-11-26")
    for route in document["routes"]:
        assert route["subjects"]["count"] == len(route["subjects"]["ids"]) >= 1
    per_transfer = {
        (t.location.subject, t.location.country, t.location.kind, t.basis)
        for t in demo.transfers(as_of="2026-11-26")
    }
    by_id = {r["id"]: r for r in document["routes"]}
    per_route = {
        (s, by_id[r]["destination"], by_id[r]["kind"], by_id[r]["basis"])
        for t in document["transfers"]
        for r in t["routes"]
        for s in [t["subject"]]
    }
    assert per_route == per_transfer


def test_demo_export_is_small():
    from residency.datamap import load

    text = load().export_text(as_of="2026-11-26")
    assert len(text.encode()) <= 1_500_000  # issue 8: the demo's export stays under 1.5 MB


def test_streamed_file_equals_the_document(demo, tmp_path):
    out = tmp_path / "export.json"
    result = runner.invoke(app, ["export", "-o", str(out), "--as-of", "2026-11-26"])
    assert result.exit_code == 0, result.output
    streamed = json.loads(out.read_text(encoding="utf-8"))
    document = demo.export(as_of="2026-11-26")
    streamed.pop("generated_at")
    document.pop("generated_at")
    assert streamed == dict(document)
    assert not list(tmp_path.glob(".export.json.*"))  # no temporary file left behind


def test_same_inventory_and_date_give_the_same_bytes(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for p in paths:
        assert runner.invoke(app, ["export", "-o", str(p), "--as-of", "2026-11-26"]).exit_code == 0
    a, b = (p.read_text(encoding="utf-8").splitlines() for p in paths)
    assert [x for x in a if '"generated_at"' not in x] == [
        x for x in b if '"generated_at"' not in x
    ]


def test_same_bytes_under_another_hash_seed(tmp_path):
    import os
    import subprocess
    import sys

    texts = []
    for seed in ("1", "2"):
        out = tmp_path / f"{seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "residency", "export", "-o", str(out), "--as-of", "2026-11-26"],
            check=True,
            env=env,
            capture_output=True,
        )
        texts.append([x for x in out.read_text().splitlines() if '"generated_at"' not in x])
    assert texts[0] == texts[1]


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
    transfers = [
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
    rows = list(csv.DictReader(io.StringIO(transfers_csv(transfers))))
    assert rows[0]["system"].startswith("'=")
    assert rows[0]["recipient"] == "'+1 Corp"
    assert rows[0]["notes"] == "'-note"


def test_cli_export_csv_and_schema(tmp_path):
    out = tmp_path / "register.csv"
    result = runner.invoke(app, ["export", "-o", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0]
    assert header.startswith("id,regimes,destination,recipient,recipient_type,kind,basis")
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
    routes = document["routes"]
    assert list(frame["id"]) == [r["id"] for r in routes]  # one row per route, in order
    assert list(frame["destination"]) == [r["destination"] for r in routes]
    assert [int(n) for n in frame["subject_count"]] == [r["subjects"]["count"] for r in routes]
    notes = document["notes"]  # referenced once in the document, written out in the table
    first = routes[0]
    assert frame["notes"].iloc[0] == " | ".join(notes[n] for n in first["notes"])
    assert "src-" not in " ".join(frame["sources"])  # citations, not the table's keys
    assert list(frame.columns[:3]) == ["id", "regimes", "destination"]
    assert document.to_json().startswith("{\n")


def test_csv_register_is_the_routes_of_the_map(demo):
    text = demo.export_text(as_of="2026-11-26", fmt="csv")
    assert text == demo.routes(as_of="2026-11-26").to_csv()
    assert len(text.splitlines()) == len(demo.routes(as_of="2026-11-26")) + 1
    assert "<table" in demo.transfers(as_of="2026-11-26")._repr_html_()


def test_assessment_records_are_in_the_export_by_route_id_on_request(demo):
    from residency.records import needs_record

    plain = demo.export(as_of="2026-12-02")
    assert "transfer_assessments" not in plain
    doc = demo.export(as_of="2026-12-02", with_assessments=True)
    validate(doc)
    records = doc["transfer_assessments"]
    routes = demo.assessment(as_of="2026-12-02").routes
    assert set(records) == {r.id for r in routes if needs_record(r)}
    assert list(records) == sorted(records)
    for route_id, record in records.items():
        assert record["route"] == route_id
        assert [s["number"] for s in record["steps"]] == [1, 2, 3, 4, 5, 6]
        items = [i for s in record["steps"] for i in s["items"]]
        assert record["open_items"] == sum(i["answer"] is None for i in items)
        assert all(i["to_complete"] == (i["answer"] is None) for i in items)
        assert {s for i in items for s in i["sources"]} <= set(doc["sources"])
    # Adding the records changes nothing else (but the sources they cite).
    rest = {k: v for k, v in doc.items() if k not in ("transfer_assessments", "sources")}
    assert rest == {k: v for k, v in plain.items() if k != "sources"} | {
        "generated_at": doc["generated_at"]
    }
    assert set(plain["sources"]) <= set(doc["sources"])


def test_a_bad_record_fails_the_schema(demo):
    import jsonschema

    doc = demo.export(as_of="2026-12-02", with_assessments=True)
    record = next(iter(doc["transfer_assessments"].values()))
    record["steps"] = record["steps"][:5]
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_fast_encoder_writes_what_json_dumps_writes(value):
    # The export's rows go through orjson; the file must stay the text json.dumps gives
    # (sorted keys, compact, non-ASCII kept), control characters and surrogates included.
    from residency.export import _dump

    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert _dump(value) == expected


def test_the_fast_encoder_falls_back_where_orjson_refuses():
    from residency.export import _dump

    for value in ({"a": ["\ud800", 2**70]}, {1: 2, 3: "b"}):
        expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert _dump(value) == expected
