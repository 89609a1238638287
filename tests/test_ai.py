from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from residency.categories import TRAIN_AI_USE, fides_key, fides_keys, fides_uses
from residency.cli import app

from .rules_helpers import scenario, transfers_for  # noqa: F401 (shared builders)

TODAY = "2026-11-26"
runner = CliRunner()


def _map(doc):
    import yaml

    from residency.datamap import DataMap
    from residency.inventory import parse_inventory_text

    return DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))


def _training(default="opt-out", since="2023-09-01", opted_out=False, **extra):
    return {
        "uses_customer_data": True,
        "default": default,
        "since": since,
        "opted_out": opted_out,
        "scope": "global",
        **extra,
    }


def test_demo_slack_trains_on_clients_from_many_jurisdictions(demo):
    slack = [e for e in demo.ai_exposure(as_of=TODAY) if e.system_id == "slack"]
    assert len({e.subject for e in slack if e.subject.startswith("client:")}) >= 10
    assert len({e.origin for e in slack}) >= 10
    assert all(e.ongoing and str(e.start) >= "2023-09-01" for e in slack)


def test_window_runs_from_the_later_start_to_the_opt_out():
    doc = scenario("DE", "DE", data=("messages",))
    doc["systems"][0]["ai_training"] = _training(opted_out="2024-06-01")
    doc["clients"][0]["since"] = "2024-01-15"
    (e,) = _map(doc).ai_exposure(as_of=TODAY)
    assert (str(e.start), str(e.until), e.ongoing, e.days) == (
        "2024-01-15",
        "2024-06-01",
        False,
        138,
    )


def test_no_exposure_before_the_vendor_started():
    doc = scenario("DE", "DE")
    doc["systems"][0]["ai_training"] = _training(since="2027-01-01")
    assert list(_map(doc).ai_exposure(as_of=TODAY)) == []


def test_default_opt_out_under_a_consent_regime_is_high():
    doc = scenario("DE", "DE")
    doc["systems"][0]["ai_training"] = _training(how_to_opt_out="email the vendor")
    found = [f for f in _map(doc).findings(as_of=TODAY) if f.rule.startswith("ai.")]
    assert [(f.rule, f.severity) for f in found] == [("ai.default_training", "high")]
    assert "email the vendor" in found[0].explanation
    assert any(s.regime == "EU-GDPR" for s in found[0].sources)


def test_opted_out_data_stays_a_finding_for_global_models():
    doc = scenario("DE", "DE")
    doc["systems"][0]["ai_training"] = _training(opted_out="2024-06-01")
    (f,) = [f for f in _map(doc).findings(as_of=TODAY) if f.rule.startswith("ai.")]
    assert f.rule == "ai.past_training"
    assert "cannot be taken out of a trained global model" in f.explanation


def test_origin_without_a_position_gets_a_low_finding_not_silence():
    # Issue 16: ongoing training of data whose origin records no regulator position used to
    # raise nothing, while stopping it raised "past training": it reads backwards.
    doc = scenario("US", "US")
    doc["systems"][0]["ai_training"] = _training()
    m = _map(doc)
    assert len(m.ai_exposure(as_of=TODAY)) == 1
    (f,) = [f for f in m.findings(as_of=TODAY) if f.rule.startswith("ai.")]
    assert (f.rule, f.severity) == ("ai.training_unassessed", "low")


def test_training_limited_to_covered_categories():
    doc = scenario("DE", "DE", data=("messages", "contact_details"))
    doc["systems"][0]["ai_training"] = _training(data=["messages"])
    (e,) = _map(doc).ai_exposure(as_of=TODAY)
    assert e.data == ("messages",)


def test_fideslang_mapping():
    assert TRAIN_AI_USE in fides_uses()
    from residency.categories import categories

    assert all(c.fides in fides_keys() for c in categories().values())
    assert fides_key("messages") == "user.content.private"


def test_export_carries_fideslang_keys(demo):
    document = demo.export(as_of=TODAY)
    assert document["data_categories"]["health_data"]["fides"] == "user.health_and_medical"
    row = document["ai_training"][0]
    assert row["data_use"] == "train_ai_system" and row["fides_categories"]


def test_cli_ai():
    result = runner.invoke(app, ["ai", "--as-of", TODAY])
    assert result.exit_code == 0, result.output
    assert "Slack (global)" in result.output
    payload = json.loads(runner.invoke(app, ["ai", "--json", "--as-of", TODAY]).output)
    assert {"slack", "hubspot"} <= {e["system_id"] for e in payload}


def test_training_without_a_recorded_position_is_a_low_finding(demo):
    # US-origin data trained on by default: the US regime records no regulator position on
    # AI training, which must not read as an all-clear (issue 16).
    found = [
        f
        for f in demo.findings(as_of="2026-11-26")
        if f.rule == "ai.training_unassessed" and f.subject == "client:kestrelwood"
    ]
    assert found and all(f.severity == "low" for f in found)
    assert "no regulator position" in found[0].explanation
    assert "contract" in found[0].explanation


def test_a_plan_without_opt_out_is_never_offered_an_opt_out():
    # Issue 10 item 6: Atlassian's data contribution on Standard has no opt-out for metadata.
    from residency.datamap import load
    from residency.whatif import ScenarioError

    m = load(Path(__file__).parent / "data" / "catalogue_agency.yaml")
    jira = [e for e in m.ai_exposure(as_of="2026-11-26") if e.system_id == "jira"]
    assert jira and all(not e.can_opt_out for e in jira)
    texts = [f.explanation for f in m.findings(as_of="2026-11-26") if f.system == "jira"]
    assert texts and all("allows no opt-out" in t and "To opt out" not in t for t in texts)
    with pytest.raises(ScenarioError, match="allows no opt-out"):
        m.what_if(["opt-out:jira"], as_of="2026-11-26")
    assert m.what_if(["offboard:jira"], as_of="2026-11-26").ai_training  # what remains works
