"""The plan's newer action kinds (issue 11): each on a small inventory, with its effect."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import residency
from residency.cli import app
from residency.plan import Plan
from residency.whatif import ScenarioError, parse_change

AS_OF = "2026-12-02"

CLAUSE = """\
organisation: {name: Clause Test SAS, country: FR}
staff:
  - {id: eve, country: FR, clients: [bonne, libre]}
clients:
  - {id: bonne, name: Bonne SA, country: FR, data: [messages], systems: [chat], residency: [EEA]}
  - {id: libre, name: Libre SA, country: FR, data: [messages], systems: [chat]}
systems:
  - id: chat
    name: ChatCo
    vendor: ChatCo Inc
    vendor_country: US
    safeguards: [EU SCC 2021]
    hosting: [{provider: aws, region: us-east-1}]
    data: [messages]
"""


def _load(tmp_path: Path, text: str) -> residency.DataMap:
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return residency.load(path)


@pytest.fixture
def clause(tmp_path: Path) -> tuple[residency.DataMap, Plan]:
    m = _load(tmp_path, CLAUSE)
    return m, m.plan(as_of=AS_OF)


def test_a_breached_clause_is_a_negotiation_item_not_a_fix(clause):
    m, plan = clause
    assert [a.change for a in plan.negotiations] == ["amend-residency:bonne=US"]
    item = plan.negotiations[0]
    assert item.kind == "negotiate-clause"
    assert "negotiation item, not a fix" in item.how
    breach = next(f for f in m.findings(as_of=AS_OF) if f.rule == "residency.contract_breach")
    assert item.findings == (breach.id,)
    assert item.resolves == {"high": 1, "medium": 0, "low": 0}
    # Never ranked among the fixes, nor applied with them.
    assert all(a.kind != "negotiate-clause" for a in plan.actions)
    assert "amend-residency:bonne=US" not in plan.combined_changes


def test_a_negotiation_items_effect_is_what_if_for_it_alone(clause):
    m, plan = clause
    item = plan.negotiations[0]
    result = m.what_if(list(item.changes), as_of=AS_OF)
    gone = [d for d in result.findings if d.change == "disappears"]
    assert [(d.subject, d.rule) for d in gone] == [("client:bonne", "residency.contract_breach")]
    assert not [d for d in result.findings if d.change == "appears"]


def test_amend_residency_widens_the_clause_and_undoes_exactly(tmp_path):
    from residency.whatif import apply_changes

    m = _load(tmp_path, CLAUSE)
    change = parse_change("amend-residency:bonne=US+CA")
    changed, undo = apply_changes(m.inventory, [change], m.assessment().as_of)
    assert next(c for c in changed.clients if c.id == "bonne").residency == ["EEA", "US", "CA"]
    assert next(c for c in m.inventory.clients if c.id == "bonne").residency == ["EEA"]
    back, _ = apply_changes(changed, undo, m.assessment().as_of)
    assert next(c for c in back.clients if c.id == "bonne").residency == ["EEA"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("amend-residency:libre=US", "no residency clause"),
        ("amend-residency:nobody=US", "unknown client"),
        ("amend-residency:bonne=ZZ", "ZZ"),
    ],
)
def test_amend_residency_refuses_what_cannot_be_amended(tmp_path, change, message):
    m = _load(tmp_path, CLAUSE)
    with pytest.raises(ScenarioError, match=message):
        m.what_if([change], as_of=AS_OF)


def test_cli_plan_lists_negotiations_apart(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(CLAUSE, encoding="utf-8")
    out = CliRunner().invoke(app, ["plan", "-i", str(path), "--as-of", AS_OF, "--no-pager"])
    assert out.exit_code == 0, out.output
    head, _, tail = out.output.partition("To negotiate")
    assert "amend-residency" not in head
    assert "Negotiate with Bonne SA: amend its residency clause (EEA) to allow US" in tail


SUBPROCESSOR = """\
organisation: {name: Sub Test SAS, country: FR}
staff:
  - {id: eve, country: FR, clients: [bonne]}
clients:
  - {id: bonne, name: Bonne SA, country: FR, data: [messages], systems: [chat]}
systems:
  - id: chat
    name: ChatCo
    vendor: ChatCo GmbH
    vendor_country: DE
    hosting: [{country: DE}]
    data: [messages]
    subprocessors:
      - {name: Far Support Pvt Ltd, purpose: customer support, countries: [IN]}
      - {name: Near Hosting SE, purpose: hosting, countries: [FR]}
"""


def test_a_sub_processor_with_no_basis_is_offered_for_removal(tmp_path):
    m = _load(tmp_path, SUBPROCESSOR)
    plan = m.plan(as_of=AS_OF)
    removal = next(a for a in plan.actions if a.kind == "remove-subprocessor")
    assert removal.change == "remove-subprocessor:chat=Far Support Pvt Ltd"
    assert "Far Support Pvt Ltd" in removal.title and "ChatCo" in removal.title
    assert "ChatCo GmbH" in removal.how  # whom to ask
    gap = [f for f in m.findings(as_of=AS_OF) if f.rule == "transfer.no_basis"]
    assert gap and set(removal.findings) == {f.id for f in gap}
    # Only the sub-processor without a basis is offered, never the one inside the EEA.
    offered = [a.change for a in plan.actions] + plan.no_effect + plan.not_evaluated
    assert not [c for c in offered if "Near Hosting SE" in c]
    # Its effect is what-if's answer for it alone.
    result = m.what_if(list(removal.changes), as_of=AS_OF)
    gone = {d.subject for d in result.findings if d.change == "disappears"}
    assert gone == {f.subject for f in gap}


def test_signing_ranks_before_removing_at_equal_effect(tmp_path):
    m = _load(tmp_path, SUBPROCESSOR)
    kinds = [a.kind for a in m.plan(as_of=AS_OF).actions]
    assert kinds.index("add-safeguard") < kinds.index("remove-subprocessor")


def test_a_removal_in_the_exported_plan_follows_the_schema(tmp_path):
    from residency.export import validate

    m = _load(tmp_path, SUBPROCESSOR)
    document = m.export(as_of=AS_OF, with_plan=True)
    kinds = {a["kind"] for a in document["action_plan"]["actions"]}
    assert "remove-subprocessor" in kinds
    validate(dict(document))


def test_a_removal_is_offered_only_where_it_alone_can_resolve_the_finding(tmp_path):
    # The vendor itself receives the data with no basis too: keeping the data from its
    # sub-processor would leave the finding, so the plan does not offer it.
    text = SUBPROCESSOR.replace("vendor_country: DE", "vendor_country: US")
    m = _load(tmp_path, text)
    assert any(f.rule == "transfer.no_basis" for f in m.findings(as_of=AS_OF))
    plan = m.plan(as_of=AS_OF)
    offered = [a.change for a in plan.actions] + plan.no_effect + plan.not_evaluated
    assert not [c for c in offered if c.startswith("remove-subprocessor:")]
    assert any(c.startswith("add-safeguard:chat=") for c in offered)
