from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency.cli import app
from residency.datamap import DataMap
from residency.inventory import parse_inventory_text
from residency.model import Subprocessor
from residency.whatif import (
    AddSafeguard,
    MoveHosting,
    Offboard,
    OptOut,
    ReplaceSubprocessor,
    ScenarioError,
    StopAccess,
    apply_changes,
    parse_change,
)

from .test_properties import inventories

TODAY = "2026-11-26"
runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("opt-out:slack", OptOut("slack")),
        ("opt-out:slack@2026-12-01", OptOut("slack", date(2026, 12, 1))),
        ("move:slack=aws/eu-central-1", MoveHosting("slack", "aws/eu-central-1")),
        ("move:slack=DE", MoveHosting("slack", "DE")),
        ("remove-subprocessor:slack=Zendesk, Inc.", ReplaceSubprocessor("slack", "Zendesk, Inc.")),
        (
            "replace-subprocessor:slack=Zendesk, Inc.>Freshdesk@IN;US",
            ReplaceSubprocessor(
                "slack", "Zendesk, Inc.", Subprocessor(name="Freshdesk", countries=["IN", "US"])
            ),
        ),
        ("add-safeguard:figma=EU SCC 2021", AddSafeguard("figma", "EU SCC 2021")),
        ("stop-access:cn=kestrelwood", StopAccess("CN", "kestrelwood")),
        ("offboard:figma", Offboard("figma")),
    ],
)
def test_parse_change(text, expected):
    assert parse_change(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("teleport:slack", "expected one of"),
        ("opt-out:slack@tomorrow", "expected opt-out:SYSTEM[@YYYY-MM-DD]"),
        ("move:slack", "expected move:SYSTEM=PROVIDER/REGION"),
        ("replace-subprocessor:slack=A>B", "expected replace-subprocessor"),
        ("replace-subprocessor:slack=A>B@XX", "unknown code 'XX'"),
    ],
)
def test_bad_changes_are_explained(text, words):
    with pytest.raises(ScenarioError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse_change(text)


def test_opt_out_of_slack_shows_what_disappears_and_what_remains(demo):
    before = demo.inventory.content_hash()
    result = demo.what_if(["opt-out:slack"], as_of=TODAY)
    gone = {(d.subject, d.rule) for d in result.findings if d.change == "disappears"}
    new = {(d.subject, d.rule) for d in result.findings if d.change == "appears"}
    assert ("client:fennwerk", "ai.default_training") in gone
    assert ("client:fennwerk", "ai.past_training") in new  # past exposure remains
    assert all(d.change == "changes" for d in result.ai_training)
    assert result.remaining
    assert demo.inventory.content_hash() == before  # scenarios never modify the inventory


def test_moving_slack_to_frankfurt_removes_us_storage(demo):
    result = demo.what_if(["move:slack=aws/eu-central-1"], as_of=TODAY)
    gone = [d for d in result.locations if d.change == "disappears" and d.rule == "stored"]
    assert gone and all(" in US via Slack" in d.before for d in gone)
    assert any(d.change == "appears" and " in DE via Slack" in d.after for d in result.locations)


def test_adding_a_safeguard_settles_no_basis(demo):
    result = demo.what_if(["add-safeguard:figma=EU SCC 2021"], as_of=TODAY)
    changed = [d for d in result.transfers if d.change == "changes"]
    assert changed and all(d.rule == "safeguard" and "no_basis" in d.before for d in changed)


def test_stop_access_from_china_clears_countries_of_concern(demo):
    result = demo.what_if(["stop-access:CN=*"], as_of=TODAY)
    gone = {d.rule for d in result.findings if d.change == "disappears"}
    assert "concern.countries_of_concern" in gone


def test_offboard_removes_every_location_of_the_system(demo):
    result = demo.what_if(["offboard:figma"], as_of=TODAY)
    assert result.locations and all(
        d.change == "disappears" for d in result.locations if "via Figma" in d.before + d.after
    )
    after = demo.scenario(["offboard:figma"], as_of=TODAY)
    assert "system:figma" not in after.graph


def test_unknown_names_get_a_clear_error(demo):
    with pytest.raises(ScenarioError, match="did you mean 'slack'"):
        demo.what_if(["opt-out:slak"], as_of=TODAY)
    with pytest.raises(ScenarioError, match="has no sub-processor 'Nobody'"):
        demo.what_if(["remove-subprocessor:slack=Nobody"], as_of=TODAY)


def test_cli_whatif():
    result = runner.invoke(app, ["whatif", "--opt-out", "slack", "--as-of", TODAY])
    assert result.exit_code == 0, result.output
    assert "ai.default_training" in result.output and "Nothing was saved" in result.output
    payload = json.loads(
        runner.invoke(app, ["whatif", "offboard:figma", "--json", "--as-of", TODAY]).output
    )
    assert payload["changes"] == ["offboard figma"]
    assert runner.invoke(app, ["whatif"]).exit_code == 1
    bad = runner.invoke(app, ["whatif", "move:slack=mars"])
    assert bad.exit_code == 1 and "unknown code 'MARS'" in bad.output


# ---- properties ---------------------------------------------------------------------

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EEA = ["DE", "FR", "IE", "NL", "SE", "NO"]


def _map(doc) -> DataMap:
    return DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc, sort_keys=False)))


def _answers(m: DataMap):
    export = m.export(as_of=TODAY)
    export.pop("generated_at")
    return export


@st.composite
def change_for(draw, doc):
    system = draw(st.sampled_from(doc["systems"]))
    sid = system["id"]
    options = [
        MoveHosting(sid, draw(st.sampled_from(["aws/eu-central-1", "US", "IN"]))),
        AddSafeguard(sid, "BCR"),
        Offboard(sid),
        StopAccess(draw(st.sampled_from(["DE", "US", "IN", "CA"])), "*"),
    ]
    if system.get("ai_training"):
        options.append(OptOut(sid, date(2024, 1, 1)))
    if system["subprocessors"]:
        name = system["subprocessors"][0]["name"]
        options += [
            ReplaceSubprocessor(sid, name),
            ReplaceSubprocessor(sid, name, Subprocessor(name="New", countries=["SG"])),
        ]
    return draw(st.sampled_from(options))


@SETTINGS
@given(inventories(), st.data())
def test_applied_then_reverted_gives_back_the_original_answers(doc, data):
    m = _map(doc)
    change = data.draw(change_for(doc))
    changed, inverses = apply_changes(m.inventory, [change], date(2026, 11, 26))
    restored, _ = apply_changes(changed, inverses, date(2026, 11, 26))
    assert restored.content_hash() == m.inventory.content_hash()
    assert _answers(DataMap.from_inventory(restored)) == _answers(m)


@SETTINGS
@given(inventories(), st.data())
def test_a_move_into_the_free_flow_area_never_adds_a_finding(doc, data):
    for client in doc["clients"]:
        client["country"] = data.draw(st.sampled_from(EEA))
    doc["organisation"]["country"] = "DE"
    for person in doc["staff"]:
        person["country"] = data.draw(st.sampled_from(EEA))
    m = _map(doc)
    system = data.draw(st.sampled_from(doc["systems"]))["id"]
    target = data.draw(st.sampled_from(["DE", "FR", "aws/eu-west-1", "azure/westeurope"]))
    result = m.what_if([MoveHosting(system, target)], as_of=TODAY)
    assert not [d for d in result.findings if d.change == "appears"]


@pytest.mark.parametrize(
    "change",
    [
        "opt-out:slack",
        "move:slack=DE+FR",
        "remove-subprocessor:slack=Zendesk, Inc.",
        "add-safeguard:slack=UK IDTA",
        "add-entity-safeguard:Hoa Sen Studio Co. Ltd=EU SCC 2021",
        "stop-access:VN=*",
        "offboard:figma",
    ],
)
def test_a_scenario_copies_on_write_and_never_touches_the_original(change):
    import residency
    from residency.whatif import apply_changes, parse_change

    m = residency.load()
    before = m.inventory.content_hash()
    dumped = m.inventory.model_dump_json()
    changed, undo = apply_changes(m.inventory, [parse_change(change)], date(2026, 12, 2))
    assert changed.content_hash() != before
    assert m.inventory.model_dump_json() == dumped  # not one shared entry was changed
    restored, _ = apply_changes(changed, undo, date(2026, 12, 2))
    assert restored.content_hash() == before
