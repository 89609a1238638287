"""Findings a lawyer can act on, most severe first, each with evidence and sources.

>>> import residency
>>> m = residency.load()
>>> rules = {f.rule for f in m.findings()}
>>> "transfer.no_basis" in rules and "residency.contract_breach" in rules
True
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import networkx as nx

from residency import places
from residency._perf import bulk
from residency.ai import STRICT, Exposure, exposures
from residency.jurisdictions import LegalData, legal_data
from residency.query import Location, WhereResult, path_text, subjects, where
from residency.rules import SEVERITIES, Context, SourceRef, Transfer, _ref, assess_with, in_origin

RULES = {
    "transfer.no_basis": "high",
    "transfer.safeguard_not_accepted": "high",
    "localisation.breach": "high",
    "residency.contract_breach": "high",
    "concern.countries_of_concern": "high",
    "transfer.needs_review": "medium",
    "localisation.review": "medium",
    "transfer.fragile_basis": "low",
    "ai.default_training": "high",
    "ai.training_review": "medium",
    "ai.past_training": "medium",
}


@dataclass(frozen=True)
class Finding:
    """One thing to act on, for one subject."""

    severity: str
    rule: str
    subject: str
    countries: tuple[str, ...]
    title: str
    explanation: str
    evidence: tuple[str, ...]
    sources: tuple[SourceRef, ...] = ()
    transfers: tuple[str, ...] = ()
    legal_rule: str = ""
    system: str = ""  # for findings about one system (AI training): its id

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Return what identifies the finding across runs and scenarios (not its countries)."""
        return (self.rule, self.subject, self.legal_rule, self.system)

    @property
    def id(self) -> str:
        """Return a stable id derived from the rule, subject, legal rule, system, countries."""
        key = "|".join([self.rule, self.legal_rule, self.system, self.subject, *self.countries])
        return "f-" + hashlib.sha256(key.encode()).hexdigest()[:12]

    def as_dict(self) -> dict[str, Any]:
        """Return the finding in the export's shape."""
        return {
            "id": self.id,
            "severity": self.severity,
            "rule": self.rule,
            "legal_rule": self.legal_rule or None,
            "system": self.system or None,
            "subject": self.subject,
            "countries": list(self.countries),
            "title": self.title,
            "explanation": self.explanation,
            "evidence": list(self.evidence),
            "transfers": list(self.transfers),
            "sources": [s.as_dict() for s in self.sources],
        }


@dataclass
class Assessment:
    """Every subject's locations and transfers on one date, and the findings they raise."""

    as_of: date
    results: dict[str, WhereResult]
    transfers: list[Transfer]
    findings: list[Finding] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)


def assess_all(
    G: nx.DiGraph,
    *,
    as_of: date | None = None,
    data: LegalData | None = None,
    subject: str | None = None,
) -> Assessment:
    """Judge the transfers of every client and staff member (or one subject) and find issues."""
    ctx = Context(G, data or legal_data(), as_of or date.today())
    names = [subject] if subject else subjects(G, kind="client") + subjects(G, kind="staff")
    with bulk():
        results = {s: where(G, s) for s in names}
        transfers = [t for r in results.values() for t in assess_with(ctx, r)]
        found = _transfer_findings(ctx, transfers)
        exposed = exposures(G, results, ctx.data, ctx.as_of)
        found += _ai_findings(ctx, exposed)
        for result in results.values():
            found += _localisation(ctx, result)
            found += _contract(ctx, result)
            found += _concern(ctx, result)
    found.sort(key=lambda f: (SEVERITIES.index(f.severity), *f.key, f.countries))
    transfers.sort(
        key=lambda t: (
            t.location.subject,
            t.location.country,
            t.location.kind,
            t.location.system,
            t.location.recipient,
            t.id,
        )
    )
    return Assessment(ctx.as_of, results, transfers, found, exposed)


def _evidence(G: nx.DiGraph, locations: Iterable[Location]) -> tuple[str, ...]:
    return tuple(sorted({path_text(G, loc.path) for loc in locations}))


def _some(items: set[str], limit: int) -> str:
    """List up to ``limit`` items, sorted, and say how many more there are."""
    seen = sorted(items)
    more = f" and {len(seen) - limit} more" if len(seen) > limit else ""
    return "; ".join(seen[:limit]) + more


def _who(transfers: Iterable[Transfer]) -> str:
    return _some(
        {
            f"{t.location.recipient} in {t.location.country} via {t.location.system}"
            for t in transfers
        },
        4,
    )


def _transfer_findings(ctx: Context, transfers: list[Transfer]) -> list[Finding]:
    groups: dict[tuple[str, str], list[Transfer]] = defaultdict(list)
    for t in transfers:
        rule = _transfer_rule(t)
        if rule:
            groups[(rule, t.location.subject)].append(t)
        if any(j.risk for j in t.judgements if j.basis == "adequacy") and t.basis == "adequacy":
            groups[("transfer.fragile_basis", t.location.subject)].append(t)
    return [_transfer_finding(ctx, rule, subject, ts) for (rule, subject), ts in groups.items()]


def _transfer_rule(t: Transfer) -> str | None:
    if t.basis == "no_basis":
        unaccepted = any(j.unaccepted for j in t.judgements if j.basis == "no_basis")
        return "transfer.safeguard_not_accepted" if unaccepted else "transfer.no_basis"
    if t.basis == "needs_review":
        return "transfer.needs_review"
    return None


def _transfer_finding(ctx: Context, rule: str, subject: str, ts: list[Transfer]) -> Finding:
    countries = tuple(sorted({t.location.country for t in ts}))
    origin = ts[0].origin
    regimes = sorted({j.regime for t in ts for j in t.judgements})
    head = f"{subject} (origin {origin}, under {', '.join(regimes)})"
    if rule == "transfer.no_basis":
        note = ts[0].deciding.note or ""
        text = (
            f"{head}: data reaches {', '.join(countries)} with no transfer basis recorded: "
            f"{_who(ts)}. Record or sign an accepted safeguard ({note.rstrip('.')}), or check "
            "whether an exception in the origin's law covers the transfer (the regime's notes "
            "in data/jurisdictions list them)."
        )
        title = "Transfer with no legal basis"
    elif rule == "transfer.safeguard_not_accepted":
        written = sorted({s for t in ts for j in t.judgements for s in j.unaccepted})
        text = (
            f"{head}: the safeguards recorded ({', '.join(written)}) are not accepted by "
            f"the origin's regime for {_who(ts)}. {ts[0].deciding.note or ''}."
        )
        title = "Safeguard not accepted by the origin's regime"
    elif rule == "transfer.needs_review":
        missing = sorted({j.missing.rstrip(". ") for t in ts for j in t.judgements if j.missing})
        text = (
            f"{head}: the basis for {_who(ts)} depends on facts the inventory does not "
            f"hold: {'; '.join(missing)}."
        )
        title = "Transfer basis needs review"
    else:
        risks = sorted(
            {
                f"{j.risk} Fallback to consider: {j.fallback or 'another basis'}."
                for t in ts
                for j in t.judgements
                if j.risk
            }
        )
        text = f"{head}: relies on a basis under legal challenge for {_who(ts)}. {' '.join(risks)}"
        title = "Fragile transfer basis"
    sources = tuple(dict.fromkeys(s for t in ts for s in t.sources))
    return Finding(
        RULES[rule],
        rule,
        subject,
        countries,
        title,
        text,
        _evidence(ctx.G, (t.location for t in ts)),
        sources,
        tuple(sorted({t.id for t in ts})),
    )


def _localisation(ctx: Context, result: WhereResult) -> list[Finding]:
    found = []
    origin = result.origin
    stored = result.by_kind("stored")
    data = {c for loc in result.locations for c in loc.data}
    for regime in ctx.data.regimes_for(origin):
        for rule in regime.localisation:
            if rule.start is not None and rule.start > ctx.as_of:
                continue
            if rule.categories != "all" and not data & set(rule.categories):
                continue
            inside = [loc for loc in stored if in_origin(origin, loc.country)]
            outside = [loc for loc in stored if not in_origin(origin, loc.country)]
            breached = (
                (not inside) if rule.requirement == "primary_copy_in_origin" else bool(outside)
            )
            if not breached or not stored:
                continue
            key = "localisation.review" if rule.condition else "localisation.breach"
            countries = tuple(sorted({loc.country for loc in outside}))
            where_ = "no stored copy is in the origin" if not inside else "copies are stored abroad"
            cond = f" It applies if: {rule.condition}." if rule.condition else ""
            text = (
                f"{result.subject} (origin {origin}): {rule.summary} ({regime.id} {rule.id}); "
                f"{where_}: stored in {', '.join(countries)}.{cond}"
            )
            found.append(
                Finding(
                    RULES[key],
                    key,
                    result.subject,
                    countries,
                    "Localisation rule" + (" may apply" if rule.condition else " breached"),
                    text,
                    _evidence(ctx.G, outside),
                    (_ref(regime, rule),),
                    legal_rule=f"{regime.id}:{rule.id}",
                )
            )
    return found


def _contract(ctx: Context, result: WhereResult) -> list[Finding]:
    node = ctx.G.nodes[result.subject]
    limit = node.get("residency") or []
    if not limit:
        return []
    allowed = frozenset().union(*(places.expand(c) for c in limit))
    outside = [loc for loc in result.locations if not places.within(loc.country, allowed)]
    if not outside:
        return []
    countries = tuple(sorted({loc.country for loc in outside}))
    kinds = sorted({loc.kind for loc in outside})
    text = (
        f"{result.subject}'s contract limits its data to {', '.join(limit)}, but it is "
        f"{', '.join(kinds)} in {', '.join(countries)}: {_locations_who(outside)}."
    )
    return [
        Finding(
            "high",
            "residency.contract_breach",
            result.subject,
            countries,
            "Client's contractual residency limit breached",
            text,
            _evidence(ctx.G, outside),
        )
    ]


def _locations_who(locations: list[Location]) -> str:
    return _some(
        {f"{loc.recipient} ({loc.kind}, {loc.country}) via {loc.system}" for loc in locations}, 5
    )


def _concern(ctx: Context, result: WhereResult) -> list[Finding]:
    found = []
    for regime in ctx.data.regimes_for(result.origin):
        for rule in regime.countries_of_concern:
            if rule.start > ctx.as_of:
                continue
            concern = frozenset(rule.countries)
            hits = [
                loc
                for loc in result.locations
                if places.within(loc.country, concern) and set(loc.data) & set(rule.categories)
            ]
            if not hits:
                continue
            countries = tuple(sorted({loc.country for loc in hits}))
            cats = sorted({c for loc in hits for c in loc.data if c in rule.categories})
            cond = f" Applies if: {rule.condition}." if rule.condition else ""
            text = (
                f"{result.subject} (origin {result.origin}): {', '.join(cats)} reach "
                f"{', '.join(countries)}, a country of concern under {regime.id} "
                f"({rule.id}): {_locations_who(hits)}. {rule.summary}{cond}"
            )
            found.append(
                Finding(
                    "high",
                    "concern.countries_of_concern",
                    result.subject,
                    countries,
                    "Sensitive data reaches a country of concern",
                    text,
                    _evidence(ctx.G, hits),
                    (_ref(regime, rule),),
                    legal_rule=f"{regime.id}:{rule.id}",
                )
            )
    return found


def _ai_rule(e: Exposure) -> tuple[str, str] | None:
    """Return the finding rule and severity for one exposure (None: listed, not a finding)."""
    strict = e.requirement in STRICT
    if not e.ongoing:
        return "ai.past_training", "medium" if strict else "low"
    if strict and e.default == "opt-out":
        return "ai.default_training", "high"
    if e.requirement is None:
        return None  # no regulator position recorded: shown by `residency ai`, not judged
    return "ai.training_review", "medium"


def _ai_findings(ctx: Context, exposed: list[Exposure]) -> list[Finding]:
    # One finding per subject and system: opting out of one vendor settles only its own.
    groups: dict[tuple[str, str, str, str], list[Exposure]] = defaultdict(list)
    for e in exposed:
        judged = _ai_rule(e)
        if judged is not None:
            groups[(*judged, e.subject, e.system_id)].append(e)
    found = []
    for (rule, severity, subject, _system), group in groups.items():
        countries = tuple(sorted({e.vendor_country for e in group}))
        parts = [_ai_sentence(rule, e) for e in sorted(group, key=lambda e: e.system)]
        regimes = ", ".join(group[0].regimes) or "no regime data"
        head = f"{subject} (origin {group[0].origin}, under {regimes})"
        position = (
            group[0].position or "no regulator position on AI training is recorded for this origin"
        )
        text = f"{head}: {' '.join(parts)} What the origin's regime requires: {position}"
        positions = [(r, p) for r in ctx.data.regimes_for(group[0].origin) for p in r.ai_training]
        sources = tuple(dict.fromkeys(_ref(r, p) for r, p in positions))
        applied = [f"{r.id}:{p.id}" for r, p in positions if p.requires == group[0].requirement]
        title = {
            "ai.default_training": "{} trains AI models on the data by default",
            "ai.training_review": "{} trains AI models on the data: basis to document",
            "ai.past_training": "{} used the data for AI training before the opt-out",
        }[rule].format(group[0].system)
        evidence = tuple(sorted(path_text(ctx.G, e.path) for e in group))
        found.append(
            Finding(
                severity,
                rule,
                subject,
                countries,
                title,
                text,
                evidence,
                sources,
                legal_rule=applied[0] if applied else "",
                system=group[0].system_id,
            )
        )
    return found


def _ai_sentence(rule: str, e: Exposure) -> str:
    window = f"from {e.start}" if e.start else "since an unrecorded date"
    what = f"{e.vendor} ({e.system}) uses {', '.join(e.data)}"
    scope = {
        "global": "global models shared across customers",
        "per_customer": "models for this customer only",
    }.get(e.scope or "", "its models")
    if rule == "ai.past_training":
        undo = {
            "global": "it cannot be taken out of a trained global model",
            "per_customer": "ask the vendor to delete the models trained on it",
        }.get(e.scope or "", "ask the vendor whether models trained on it were deleted")
        days = f" ({e.days} days)" if e.days is not None else ""
        return f"{what} to train {scope} {window} until the opt-out on {e.until}{days}; {undo}."
    how = f" To opt out: {e.how_to_opt_out.rstrip('.')}." if e.how_to_opt_out else ""
    default = (
        "by default (opt-out), and the organisation has not opted out"
        if e.default == "opt-out"
        else "after the organisation opted in"
    )
    days = f" ({e.days} days so far)" if e.days is not None else ""
    return f"{what} to train {scope} {default}, {window}{days}.{how}"
