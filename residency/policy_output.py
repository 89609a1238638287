"""A policy report as text, JSON, SARIF 2.1.0 or JUnit XML (docs/policy.md, "Outputs").

SARIF results sit at the inventory file and line that put the data there, so a
code-scanning UI shows them against the inventory; each result's related location is the
policy rule. JUnit has one test case per rule and one failure per violation.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from residency import __version__

if TYPE_CHECKING:
    from residency.policy import PolicyReport, PolicyRule, Violation

FORMATS = ("text", "json", "sarif", "junit")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
JSON_SCHEMA_ID = "residency-policy-report/1"


def render(report: PolicyReport, fmt: str) -> str:
    """Return the report in ``fmt`` (one of :data:`FORMATS`), ending in a newline."""
    if fmt == "text":
        return report_text(report)
    if fmt == "json":
        return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        return json.dumps(report_sarif(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        return report_junit(report)
    from residency._errors import ResidencyError

    msg = f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}"
    raise ResidencyError(msg)


def _rule_where(report: PolicyReport, index: int) -> str:
    line = report.policy.rule_line(index)
    return f"{report.policy.file} line {line}" if line else report.policy.file


def report_text(report: PolicyReport) -> str:
    """Return the report as plain text: each rule, then each violation with its evidence."""
    by_rule = report.by_rule()
    failed = sum(1 for vs in by_rule.values() if vs)
    head = (
        f"{report.policy.file}: {len(report.policy.rules)} rules, {failed} violated, "
        f"{len(report.violations)} violations as of {report.as_of}"
    )
    if report.organisation:
        head += f" ({report.organisation})"
    lines = [head]
    for index, rule in enumerate(report.policy.rules):
        found = by_rule[rule.id]
        status = "FAIL" if found else "ok  "
        count = f": {len(found)} violation{'s' if len(found) != 1 else ''}" if found else ""
        lines.append(f"{status} {rule.id} ({_rule_where(report, index)}){count}")
        for v in found:
            lines.append(f"  {v.severity}: {v.explanation}")
            lines.append(f"    at {v.where}")
            lines.extend(f"    evidence: {e}" for e in v.evidence)
    lines.append("Not legal advice.")
    return "\n".join(lines) + "\n"


def report_json(report: PolicyReport) -> dict[str, Any]:
    """Return the report as a plain dict: the rules with their counts, and every violation."""
    by_rule = report.by_rule()
    return {
        "schema": JSON_SCHEMA_ID,
        "policy": report.policy.file,
        "name": report.policy.name,
        "organisation": report.organisation or None,
        "as_of": report.as_of.isoformat(),
        "passed": report.passed,
        "rules": [
            {
                "id": rule.id,
                "line": report.policy.rule_line(index),
                "severity": rule.severity,
                "checks": rule.checks,
                "description": rule.description or rule.summary(),
                "violations": len(by_rule[rule.id]),
            }
            for index, rule in enumerate(report.policy.rules)
        ],
        "violations": [v.as_dict() for v in report.violations],
    }


def artifact_uri(path: str) -> str:
    """Return a SARIF ``artifactLocation.uri`` for a file path (relative stays relative)."""
    pure = PurePath(path)
    if pure.is_absolute():
        return Path(path).as_uri()
    return quote(pure.as_posix(), safe="/-._~")


def _physical(file: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(file)}}
    if line:
        location["region"] = {"startLine": line}
    return {"physicalLocation": location}


def _sarif_rule(report: PolicyReport, index: int, rule: PolicyRule) -> dict[str, Any]:
    text = rule.description or rule.summary()
    return {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": text},
        "fullDescription": {"text": f"{text} ({_rule_where(report, index)})"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "policy": report.policy.file,
            "line": report.policy.rule_line(index),
            "checks": rule.checks,
        },
    }


def _sarif_result(report: PolicyReport, index: dict[str, int], v: Violation) -> dict[str, Any]:
    here = (
        _physical(v.file, v.line) if v.file is not None else _physical(v.policy_file, v.policy_line)
    )
    return {
        "ruleId": v.rule,
        "ruleIndex": index[v.rule],
        "level": LEVELS[v.severity],
        "message": {"text": v.explanation},
        "locations": [here],
        "relatedLocations": [
            {
                "id": 1,
                **_physical(v.policy_file, v.policy_line),
                "message": {"text": f"policy rule {v.rule}"},
            }
        ],
        "partialFingerprints": {"residencyViolation/v1": v.id},
        "properties": {
            "check": v.check,
            "subject": v.subject,
            "kind": v.kind,
            "country": v.country,
            "system": v.system.removeprefix("system:"),
            "recipient": v.recipient,
            "evidence": list(v.evidence),
        },
    }


def report_sarif(report: PolicyReport) -> dict[str, Any]:
    """Return the report as a SARIF 2.1.0 log: one run, a rule per policy rule."""
    rules = report.policy.rules
    index = {rule.id: i for i, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "residency",
                        "version": __version__,
                        "rules": [_sarif_rule(report, i, r) for i, r in enumerate(rules)],
                    }
                },
                "results": [_sarif_result(report, index, v) for v in report.violations],
                "properties": {"as_of": report.as_of.isoformat(), "policy": report.policy.file},
            }
        ],
    }


# XML 1.0 forbids most control characters; inventories and policies are checked for them
# when read, this keeps the document well-formed whatever a caller passes in.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def report_junit(report: PolicyReport) -> str:
    """Return the report as JUnit XML: a test case per rule, a failure per violation."""
    by_rule = report.by_rule()
    rules = report.policy.rules
    failed = sum(1 for vs in by_rule.values() if vs)
    suites = ET.Element(
        "testsuites",
        name="residency policy",
        tests=str(len(rules)),
        failures=str(failed),
        errors="0",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=_x(report.policy.name or report.policy.file),
        tests=str(len(rules)),
        failures=str(failed),
        errors="0",
        skipped="0",
        timestamp=report.as_of.isoformat() + "T00:00:00",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="as_of", value=report.as_of.isoformat())
    ET.SubElement(properties, "property", name="policy", value=_x(report.policy.file))
    for i, rule in enumerate(rules):
        case = ET.SubElement(
            suite,
            "testcase",
            name=_x(rule.id),
            classname=_x(f"policy.{PurePath(report.policy.file).stem}"),
            file=_x(report.policy.file),
            line=str(report.policy.rule_line(i) or 0),
            time="0",
        )
        for v in by_rule[rule.id]:
            failure = ET.SubElement(case, "failure", message=_x(v.title), type=_x(v.check))
            body = [v.explanation, f"at {v.where}", *(f"evidence: {e}" for e in v.evidence)]
            failure.text = _x("\n".join(body))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
