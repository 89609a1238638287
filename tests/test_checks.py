"""The registry of checks: every finding rule is declared once, with its severities."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from residency.findings import CHECKS, RULES, severity
from residency.rules import SEVERITIES

ROOT = Path(__file__).resolve().parent.parent


def test_every_rule_belongs_to_one_check_with_known_severities():
    rules = [rule for check in CHECKS for rule in check.rules]
    assert len(rules) == len(set(rules)) == len(RULES)
    for check in CHECKS:
        for rule, levels in check.rules.items():
            assert levels and set(levels) <= set(SEVERITIES), rule
            assert RULES[rule] == levels[0]


@pytest.mark.parametrize("as_of", ["2021-06-01", "2026-12-02"])
def test_every_finding_has_a_severity_its_check_declares(demo, as_of):
    found = demo.findings(as_of=as_of)
    assert found
    declared = {rule: levels for check in CHECKS for rule, levels in check.rules.items()}
    for f in found:
        assert f.severity in declared[f.rule], (f.rule, f.severity)


def test_a_severity_the_check_does_not_declare_is_refused():
    assert severity("concern.countries_of_concern", "low") == "low"
    with pytest.raises(ValueError, match="cannot be 'low': its check allows high"):
        severity("transfer.no_basis", "low")


def test_every_rule_is_documented():
    text = "".join(
        (ROOT / "docs" / name).read_text(encoding="utf-8")
        for name in ("findings.md", "ai-and-whatif.md")
    )
    for rule in RULES:
        assert f"| `{rule}` |" in text, rule


def test_the_registry_drives_detection(monkeypatch):
    """assess_all runs the registered checks, and only those: leave one out and its rules
    are no longer raised, while every other finding stays as it was."""
    from residency import findings as module
    from residency.datamap import load

    graph = load().graph
    full = module.assess_all(graph, as_of=date(2026, 12, 2))
    assert any(f.rule == "residency.contract_breach" for f in full.findings)
    kept = tuple(c for c in module.CHECKS if c.name != "contract")
    monkeypatch.setattr(module, "CHECKS", kept)
    without = module.assess_all(graph, as_of=date(2026, 12, 2))
    assert [f.id for f in without.findings] == [
        f.id for f in full.findings if f.rule != "residency.contract_breach"
    ]
    for check in kept:
        assert check.scope in ("subject", "exposures") and callable(check.detect)
