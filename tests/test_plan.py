"""The plan (issue 11): actions derived from the findings, ranked with what-if."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import residency
from residency.cli import app
from residency.plan import Plan, build_plan
from residency.rules import SEVERITIES
from residency.whatif import parse_change

AS_OF = "2026-12-02"
SMALL = Path(__file__).parent / "data" / "plan_small.yaml"


@pytest.fixture(scope="module")
def small_plan() -> tuple[residency.DataMap, Plan]:
    m = residency.load(SMALL)
    return m, m.plan(as_of=AS_OF)


@pytest.fixture(scope="module")
def demo_plan() -> tuple[residency.DataMap, Plan]:
    m = residency.load()
    return m, m.plan(as_of=AS_OF)


def _by_change(plan: Plan) -> dict[str, object]:
    return {a.change: a for a in plan.actions}


# ---------------------------------------------------------------- table: each action kind


@pytest.mark.parametrize(
    ("change", "kind", "rules"),
    [
        # The UK organisation's client data reaches US vendors with only EU SCCs recorded and
        # an Indian contractor's company with none: UK-GDPR's first signable safeguard.
        (
            "add-entity-safeguard:Lumen Talent Pvt Ltd=UK IDTA; add-safeguard:chat=UK IDTA; "
            "add-safeguard:team=UK IDTA; add-safeguard:tracker=UK IDTA",
            "add-safeguard",
            {"transfer.no_basis", "transfer.safeguard_not_accepted"},
        ),
        # Atlassian Standard contributes metadata with no opt-out: what remains is to stop.
        ("offboard:tracker", "offboard", {"ai.default_training"}),
        ("opt-out:chat", "opt-out", {"ai.default_training"}),
    ],
)
def test_each_action_kind_resolves_what_it_says(small_plan, change, kind, rules):
    m, plan = small_plan
    action = _by_change(plan)[change]
    assert action.kind == kind
    resolved = {f.id: f for f in m.findings(as_of=AS_OF)}
    assert {resolved[i].rule for i in action.findings} == rules
    assert action.resolves["high"] == len(action.findings)


def test_opt_out_is_offered_with_the_vendors_own_how(small_plan):
    _, plan = small_plan
    action = _by_change(plan)["opt-out:chat"]
    assert action.how == "An admin turns off model training in Settings > Privacy."
    assert action.introduces["medium"] == 1  # past training stays on record, and says so


def test_no_opt_out_plan_gets_the_remaining_choices_not_an_opt_out(small_plan):
    _, plan = small_plan
    changes = {c for a in plan.actions for c in a.changes}
    assert "opt-out:tracker" not in changes
    offboard = _by_change(plan)["offboard:tracker"]
    assert "another plan" in offboard.how


def test_actions_without_effect_are_listed_not_hidden(small_plan):
    _, plan = small_plan
    # Moving Slack alone leaves its US sub-processors without a basis: judged, no effect.
    assert "move:team=GB" in plan.no_effect
    assert "stop-access:IN=acme" in plan.no_effect


def test_intra_group_rules_are_never_proposed_to_a_vendor(demo_plan):
    from residency.jurisdictions import instruments

    _, plan = demo_plan
    intra = {i.name for i in instruments() if i.intra_group}
    assert intra
    for change in (c for a in plan.actions for c in a.changes):
        assert change.rpartition("=")[2] not in intra


# ---------------------------------------------------------------- the demo


def test_a_handful_of_demo_actions_resolve_most_high_findings(demo_plan):
    _, plan = demo_plan
    assert len(plan.actions) >= 5
    assert plan.combined_resolves["high"] >= 0.8 * plan.before["high"]
    top = plan.actions[0]
    assert top.change == "opt-out:slack"
    assert "feedback@slack.com" in top.how
    assert top.evidence and top.evidence[-1].startswith("e.g. ")


def test_combined_effect_adds_up(demo_plan):
    _, plan = demo_plan
    for s in SEVERITIES:
        assert (
            plan.remaining[s]
            == plan.before[s] - plan.combined_resolves[s] + plan.combined_introduces[s]
        )


def test_the_greedy_order_puts_the_most_high_findings_first(demo_plan):
    m, plan = demo_plan
    severity = {f.id: f.severity for f in m.findings(as_of=AS_OF)}
    seen: set[str] = set()
    gains = []
    for action in plan.actions:
        fresh = {i for i in action.findings if severity[i] == "high"} - seen
        introduced = action.introduces["high"]
        gains.append(len(fresh) - introduced)
        seen |= set(action.findings)
    assert gains[0] == max(gains)


def test_the_plan_is_deterministic():
    m = residency.load(SMALL)
    first = build_plan(m, as_of=m.assessment(as_of=AS_OF).as_of)
    again = build_plan(residency.load(SMALL), as_of=first.as_of)
    assert first.as_dict() == again.as_dict()


def test_a_small_budget_lists_what_was_not_judged():
    m = residency.load(SMALL)
    plan = build_plan(m, as_of=m.assessment(as_of=AS_OF).as_of, budget=1)
    assert len(plan.actions) <= 1
    assert any("beyond the evaluation budget of 1" in n for n in plan.not_evaluated)


# ---------------------------------------------------------------- properties


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_actions_effect_is_what_if_for_that_change_alone(demo_plan, data):
    m, plan = demo_plan
    action = data.draw(st.sampled_from(plan.actions))
    result = m.what_if(list(action.changes), as_of=AS_OF)
    before = {f.id: f for f in m.findings(as_of=AS_OF)}
    fixed = sorted((d.subject, d.rule) for d in result.findings if d.change == "disappears")
    assert fixed == sorted((before[i].subject, before[i].rule) for i in action.findings)
    new = [d for d in result.findings if d.change == "appears"]
    assert len(new) == sum(action.introduces.values())
    after = m.scenario(list(action.changes), as_of=AS_OF).findings(as_of=AS_OF)
    high_after = sum(f.severity == "high" for f in after)
    # Never more high findings than the action says it introduces.
    assert high_after == plan.before["high"] - action.resolves["high"] + action.introduces["high"]


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_change_of_the_plan_is_a_what_if_change(demo_plan, data):
    _, plan = demo_plan
    action = data.draw(st.sampled_from(plan.actions))
    for change in action.changes:
        assert parse_change(change) is not None


# ---------------------------------------------------------------- surfaces


def test_plan_to_frame_one_row_per_action(demo_plan):
    _, plan = demo_plan
    frame = plan.to_frame()
    assert list(frame["change"]) == [a.change for a in plan.actions]
    assert frame["rank"].tolist() == list(range(1, len(plan.actions) + 1))


def test_cli_plan_json_has_the_promised_shape():
    result = CliRunner().invoke(app, ["plan", "--json", "--top", "3", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["actions"]) == 3
    for action in payload["actions"]:
        assert {"kind", "title", "change", "resolves", "introduces", "findings"} <= set(action)
        assert set(action["resolves"]) == {"high", "medium", "low"}
    assert payload["combined"]["changes"]


def test_cli_plan_prints_the_changes_to_try():
    result = CliRunner().invoke(app, ["plan", "-i", str(SMALL), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "1. Sign UK IDTA with" in result.stdout
    assert "try it: residency whatif opt-out:chat" in result.stdout
    assert "together resolve" in result.stdout


def test_what_if_counts_fixed_new_and_changed(demo_plan):
    m, _ = demo_plan
    result = m.what_if(["move:slack=DE"], as_of=AS_OF)
    counts = result.counts()
    assert set(counts["findings"]) == {"fixed", "new", "changed"}
    assert counts["transfers"]["gone"] > 0  # a move changes transfers even where findings stay
    assert result.as_dict()["counts"] == counts


# ---------------------------------------------------------------- grouped findings


def test_findings_grouped_by_what_fixes_them(demo_plan):
    m, _ = demo_plan
    findings = m.findings(as_of=AS_OF)
    groups = m.finding_groups(as_of=AS_OF)
    assert len(groups) <= 40 < len(findings)  # fits on a screen
    assert sorted(i for g in groups for i in g.findings) == sorted(f.id for f in findings)
    slack = next(g for g in groups if g.rule == "ai.default_training" and g.system == "slack")
    by_subject = {
        f.subject for f in findings if f.rule == "ai.default_training" and f.system == "slack"
    }
    assert set(slack.subjects) == by_subject
    assert "clients" in slack.who or "client" in slack.who
    assert "feedback@slack.com" in slack.fix
    frame = groups.to_frame()
    assert list(frame["count"]) == [len(g.subjects) for g in groups]
    assert groups.to_csv().startswith("severity,rule,title,count")


def test_cli_findings_prints_groups_and_each_on_request():
    grouped = CliRunner().invoke(app, ["findings", "--as-of", AS_OF])
    assert grouped.exit_code == 0, grouped.output
    assert "groups by what fixes them" in grouped.stdout
    each = CliRunner().invoke(app, ["findings", "--each", "--as-of", AS_OF])
    assert each.exit_code == 0, each.output
    assert len(each.stdout) > len(grouped.stdout)


def test_the_export_carries_the_plan_on_request(tmp_path):
    import jsonschema

    from residency.export import schema

    out = tmp_path / "review.json"
    result = CliRunner().invoke(app, ["export", "--plan", "--as-of", AS_OF, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith('{\n  "action_plan": ')  # at the top of the file
    document = json.loads(text)
    jsonschema.validate(document, schema())
    assert document["action_plan"]["actions"][0]["change"] == "opt-out:slack"
    plain = residency.load().export(as_of=AS_OF)
    assert "action_plan" not in plain  # optional: the export's time budget stays the same
    refused = CliRunner().invoke(app, ["export", "--plan", "--format", "csv", "-o", str(out)])
    assert refused.exit_code == 1 and "--plan goes with the JSON export only" in refused.output


def test_an_instrument_two_regimes_accept_is_signed_once_in_the_combined_plan():
    # In 2021 EU-GDPR and CH-FADP both accept EU SCC 2010 for Figma: one change, not two.
    m = residency.load()
    plan = m.plan(as_of="2021-06-01")
    assert len(plan.combined_changes) == len(set(plan.combined_changes))
    assert plan.combined_resolves["high"] > 0


@pytest.mark.parametrize("source", [SMALL, None], ids=["small", "demo"])
def test_a_scenario_judged_on_the_focused_graph_equals_the_full_graph(source):
    """The plan builds each scenario's graph from only the entries the reached subjects
    depend on; their findings and bases must be those of the whole organisation's graph."""
    from datetime import date

    from residency.findings import assess_all
    from residency.plan import _bases, _Reach, _scenario, candidates, negotiations

    m = residency.load(source) if source else residency.load()
    day = date.fromisoformat(AS_OF)
    before = m.assessment(as_of=day)
    reach = _Reach(m, before)
    tried = 0
    for c in [*candidates(m, before), *negotiations(m, before)]:
        only = reach.of(c.changes)
        if only is None:
            continue
        focused = _scenario(m, list(c.changes), day, {}, only)
        full = assess_all(m.scenario(list(c.changes), as_of=day).graph, as_of=day, only=only)
        assert [repr(f) for f in focused.findings] == [repr(f) for f in full.findings], c.change
        assert _bases(focused) == _bases(full), c.change
        assert [repr(r) for r in focused.routes] == [repr(r) for r in full.routes], c.change
        tried += 1
    assert tried >= 3
