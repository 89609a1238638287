"""What the library answers for the app and the CLI: the residency clause, a subject's
findings, display names, the map's colours and arcs (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import residency
from residency.cli import app

AGENCY = Path(__file__).parent / "data" / "agency"
TODAY = "2026-11-26"
runner = CliRunner()


@pytest.fixture(scope="module")
def agency():
    return residency.load(AGENCY)


def test_where_answers_the_residency_clause_and_what_lies_outside(agency):
    result = agency.where("client:corrmore")
    assert result.residency == ("EEA",)
    assert result.residency_text == "European Economic Area (EEA)"
    assert result.outside_residency == ["GB", "IN", "US"]
    assert result.within_residency("DE") and result.within_residency("GB") is False
    frame = result.to_frame()
    assert set(frame.loc[frame["residency_clause"] == "outside", "country"]) == {"GB", "IN", "US"}
    free = agency.where("client:vellacott")
    assert free.residency == () and free.within_residency("CN") is None
    assert "residency_clause" not in free.to_frame().columns


def test_findings_of_one_subject(agency):
    mine = agency.findings(as_of=TODAY, subject="client:corrmore")
    assert mine and {f.subject for f in mine} == {"client:corrmore"}
    assert "residency.contract_breach" in {f.rule for f in mine}
    labs = agency.findings(as_of=TODAY, subject="system:labs")
    assert {f.rule for f in labs} == {"concern.countries_of_concern"}
    everything = agency.findings(as_of=TODAY)
    assert len(mine) + len(agency.findings(as_of=TODAY, subject="client:vellacott")) <= len(
        everything
    )
    with pytest.raises(residency.UnknownSubjectError):
        agency.findings(as_of=TODAY, subject="client:nobody")


def test_cli_where_shows_the_clause_marks_rows_and_lists_findings():
    out = runner.invoke(app, ["where", "client:corrmore", "-i", str(AGENCY), "--as-of", TODAY])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Contractual residency clause: European Economic Area (EEA)" in text
    assert "OUTSIDE it: GB, IN, US" in text
    marked = [line for line in text.splitlines() if line.startswith("│ ! │")]
    assert marked and all(any(c in line for c in ("GB", "IN", "US")) for line in marked)
    assert "findings about Corrmore Ltd" in text
    assert "residency.contract_breach" in text
    as_json = runner.invoke(
        app, ["where", "client:corrmore", "-i", str(AGENCY), "--as-of", TODAY, "--json"]
    )
    doc = json.loads(as_json.output)
    assert doc["residency_clause"] == ["EEA"]
    assert doc["outside_residency_clause"] == ["GB", "IN", "US"]
    assert "residency.contract_breach" in {f["rule"] for f in doc["findings"]}


def test_a_country_is_coloured_by_the_worst_finding_that_names_it(agency):
    from residency import geo

    frame = geo.country_frame(agency.assessment(as_of=TODAY)).set_index("code")
    china = frame.loc["CN"]
    assert china["worst_basis"] == "unrestricted"  # the transfer alone looks harmless
    assert china["status"] == "medium"  # but a countries-of-concern finding names it
    assert "country of concern" in china["reason"]
    assert frame.loc["US", "status"] == "high"
    germany = frame.loc["DE"]  # Corrmore's origin: no data is held there
    assert germany["status"] == "origin" and germany["subjects"] == 0 and germany["origin_of"] == 1
    assert geo.worst_first(frame.reset_index())["status"].iloc[0] == "high"


def test_map_metrics_follow_the_filters(agency):
    from residency import geo

    a = agency.assessment(as_of=TODAY)
    everything = geo.findings(a)
    one = geo.findings(a, geo.Filters(subject="client:vellacott"))
    assert {f.subject for f in one} == {"client:vellacott"}
    assert len(one) < len(everything) == len(a.findings)


def test_arcs_are_one_per_origin_and_destination(demo):
    from residency import geo

    flows = geo.flow_frame(demo.assessment(as_of=TODAY), by_basis=False)
    assert not flows.duplicated(["origin", "destination"]).any()
    worst = {b: i for i, b in enumerate(geo.BASIS_ORDER)}
    per_basis = geo.flow_frame(demo.assessment(as_of=TODAY))
    for row in flows.itertuples():
        bases = per_basis[
            (per_basis["origin"] == row.origin) & (per_basis["destination"] == row.destination)
        ]["basis"]
        assert row.basis == min(bases, key=worst.__getitem__)


def test_views_fit_the_data_and_europe():
    from residency import geo

    europe = geo.view(geo.EUROPE, core=True)
    assert 40 < europe["latitude"] < 60 and -5 < europe["longitude"] < 20 and europe["zoom"] > 2
    world = geo.view([])
    assert world["zoom"] < 1.5
    assert geo.view(["DE", "FR"])["zoom"] > europe["zoom"]


def test_findings_and_evidence_name_subjects_and_subprocessors(agency, demo):
    found = agency.findings(as_of=TODAY, subject="client:corrmore")
    assert all(f.explanation.count("Corrmore Ltd (client:corrmore)") >= 1 for f in found)
    assert agency.display_name("client:corrmore") == "Corrmore Ltd (client:corrmore)"
    assert (
        agency.display_names("client")["client:vellacott"]
        == "Vellacott Health Inc (client:vellacott)"
    )
    # findings shared between alike subjects are re-addressed to each one's own name
    for f in demo.findings(as_of=TODAY):
        if f.rule.startswith(("transfer.", "localisation.", "concern.")):
            assert f.explanation.startswith(demo.display_name(f.subject)), f.explanation
    paths = [e for f in demo.findings(as_of=TODAY) for e in f.evidence if "subprocessor:" in e]
    assert paths
    sub = next(n for n in demo.graph.nodes if n.startswith("subprocessor:"))
    label = demo.graph.nodes[sub]["label"]
    text = demo.path_text(("system:" + sub.split(":")[1], sub))
    assert f"{label} ({sub})" in text


def test_the_export_carries_display_names(agency):
    doc = agency.export(as_of=TODAY)
    assert doc["subjects"]["client:corrmore"]["label"] == "Corrmore Ltd"
    for f in doc["findings"]:
        assert f["subject_label"] == doc["subjects"][f["subject"]]["label"]
    assert any("Corrmore Ltd (client:corrmore)" in f["explanation"] for f in doc["findings"])
    for route in doc["routes"]:
        assert all(s in doc["subjects"] for s in route["subjects"]["ids"])
        assert all(doc["systems"][s]["label"] for s in route["systems"])


def test_transfer_tables_read_as_a_lawyer_reads_them(agency):
    names = agency.display_names()
    one = agency.transfers("client:corrmore", as_of=TODAY).readable_frame(names)
    assert list(one.columns[:5]) == ["subject", "from → to", "basis", "instrument", "TIA required"]
    assert one.columns[-1] == "id"
    assert set(one["subject"]) == {"Corrmore Ltd (client:corrmore)"}
    assert "no legal basis" in set(one["basis"])
    register = agency.routes(as_of=TODAY).readable_frame()
    assert register.columns[-1] == "id"
    assert "Chatter" in set(register["systems"])


def test_app_refuses_a_broken_inventory_before_starting(tmp_path):
    bad = tmp_path / "inventory.yaml"
    bad.write_text("organisation: {name: X, country: XX}\n", encoding="utf-8")
    out = runner.invoke(app, ["app", "--inventory", str(bad), "--port", "1"])
    assert out.exit_code == 1
    assert "problem" in out.output and "Traceback" not in out.output
    missing = runner.invoke(
        app, ["app", "--stored", "Nobody", "--db", str(tmp_path / "s.db"), "--port", "1"]
    )
    assert missing.exit_code == 1 and "no inventory named 'Nobody'" in missing.output


def test_app_environment_names_the_organisation_with_absolute_paths(tmp_path, monkeypatch):
    from residency.cli import _app_environment
    from residency.inventory import read_inventory
    from residency.store import Store

    monkeypatch.chdir(tmp_path)
    env = _app_environment(Path(AGENCY), None, "store.db")
    assert env["RESIDENCY_APP_INVENTORY"] == str(AGENCY.resolve())
    assert env["RESIDENCY_DB"] == f"sqlite:///{tmp_path / 'store.db'}"  # absolute
    Store(tmp_path / "store.db").import_inventory(read_inventory(AGENCY))
    env = _app_environment(None, "Harbour & Pine Studio", str(tmp_path / "store.db"))
    assert env["RESIDENCY_APP_STORED"] == "Harbour & Pine Studio"
    assert env["RESIDENCY_APP_INVENTORY"] == ""


def test_make_demo_passes_the_inventory_on():
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = AGENCY.parent.parent.parent

    def dry(*args: str) -> str:
        done = subprocess.run(
            ["make", "--no-print-directory", "-n", "demo", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        return next(ln for ln in done.stdout.splitlines() if "residency app" in ln).strip()

    assert dry("INVENTORY=myorg/").endswith('residency app --inventory "myorg/"')
    assert dry().endswith("residency app")
