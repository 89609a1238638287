"""Findings grouped by what fixes them: one row per rule, system or regime, and legal rule.

A finding is about one subject; a lawyer acts on groups ("Slack trains on 25 clients' and
36 staff members' data by default: opt out by email"). Each group lists its subjects and
the ids of its findings, so the per-subject detail stays one step away.

>>> import residency
>>> groups = residency.load().finding_groups(as_of="2026-12-02")
>>> len(groups) < len(residency.load().findings(as_of="2026-12-02"))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from residency.vocabulary import SEVERITIES

if TYPE_CHECKING:
    from residency.findings import Assessment, Finding

KINDS = {"client": ("client", "clients"), "staff": ("staff member", "staff members")}


@dataclass(frozen=True)
class FindingGroup:
    """Findings that one action addresses: same rule, system or regimes, and legal rule."""

    severity: str
    rule: str
    title: str
    system: str  # the system id, for findings about one system (AI training)
    regimes: tuple[str, ...]  # the origin regimes the findings are judged under
    legal_rule: str
    subjects: tuple[str, ...]
    countries: tuple[str, ...]
    findings: tuple[str, ...]  # ids of the findings in the group
    fix: str  # what to do, where the data says (the vendor's opt-out, the regime)

    @property
    def who(self) -> str:
        """Count the subjects as subjects: "25 clients and 36 staff members"."""
        counts: dict[str, int] = {}
        for s in self.subjects:
            kind = s.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        parts = []
        for kind, n in sorted(counts.items()):
            one, many = KINDS.get(kind, (kind, kind + "s"))
            parts.append(f"{n} {one if n == 1 else many}")
        return " and ".join(parts)

    @property
    def summary(self) -> str:
        """Say the group in one sentence a lawyer can act on."""
        where = f" ({' '.join(self.countries)})" if self.countries else ""
        under = f", under {', '.join(self.regimes)}" if self.regimes else ""
        if self.legal_rule and not self.rule.startswith("ai."):
            under += f" ({self.legal_rule})"
        fix = f" {self.fix}" if self.fix else ""
        return f"{self.title}: {self.who}{where}{under}.{fix}"

    def as_dict(self) -> dict[str, Any]:
        """Return the group as JSON-ready data."""
        return {
            "severity": self.severity,
            "rule": self.rule,
            "title": self.title,
            "system": self.system or None,
            "regimes": list(self.regimes),
            "legal_rule": self.legal_rule or None,
            "subjects": list(self.subjects),
            "countries": list(self.countries),
            "findings": list(self.findings),
            "fix": self.fix or None,
            "summary": self.summary,
        }


def group_findings(assessment: Assessment) -> list[FindingGroup]:
    """Group an assessment's findings by what fixes them, most severe and largest first."""
    routes = {r.id: r for r in assessment.routes}
    fixes = _ai_fixes(assessment)
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    # Subjects alike share one tuple of route ids (a re-addressed finding keeps its
    # template's): their regimes are found once. The tuples live as long as the findings.
    regimes_of: dict[int, tuple[str, ...]] = {}
    for f in assessment.findings:
        regimes = regimes_of.get(id(f.routes))
        if regimes is None:
            regimes = regimes_of[id(f.routes)] = tuple(
                sorted({g for rid in f.routes if rid in routes for g in routes[rid].regimes})
            )
        # One vendor's AI training has one fix (its opt-out) whatever each origin requires.
        legal = "" if f.rule.startswith("ai.") else f.legal_rule
        # A missing basis is fixed per regime (each names its own safeguards); a review is
        # one piece of work, whatever regimes ask for it.
        split = f.rule in ("transfer.no_basis", "transfer.safeguard_not_accepted")
        key = (f.severity, f.rule, f.title, f.system, regimes if split else (), legal)
        groups.setdefault(key, []).append(f)
    out = []
    for (severity, rule, title, system, split, legal_rule), found in groups.items():
        rules = legal_rule or "; ".join(sorted({f.legal_rule for f in found if f.legal_rule}))
        regimes = split or tuple(sorted({g for f in found for g in regimes_of[id(f.routes)]}))
        out.append(
            FindingGroup(
                severity,
                rule,
                title,
                system,
                regimes,
                rules,
                tuple(sorted({f.subject for f in found})),
                tuple(sorted({c for f in found for c in f.countries})),
                tuple(sorted(f.id for f in found)),
                _fix(rule, regimes, fixes.get(system, "")),
            )
        )
    out.sort(key=lambda g: (SEVERITIES.index(g.severity), -len(g.subjects), g.rule, g.title))
    return out


def _ai_fixes(assessment: Assessment) -> dict[str, str]:
    fixes: dict[str, str] = {}
    for e in assessment.exposures:
        if e.system_id in fixes:
            continue
        if not e.can_opt_out:
            fixes[e.system_id] = (
                "The plan allows no opt-out: another plan, or stop keeping this data there."
            )
        elif e.how_to_opt_out:
            fixes[e.system_id] = f"To opt out: {e.how_to_opt_out}"
    return fixes


def _fix(rule: str, regimes: tuple[str, ...], opt_out: str) -> str:
    if rule == "ai.past_training":
        return ""  # already opted out: the finding says what stays in the trained models
    if rule.startswith("ai."):
        return opt_out
    if rule in ("transfer.no_basis", "transfer.safeguard_not_accepted") and regimes:
        return (
            f"Sign a safeguard {', '.join(regimes)} accepts with each recipient "
            "(residency plan names it)."
        )
    return ""
