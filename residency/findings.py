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
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from itertools import pairwise
from typing import Any, Literal, TypeVar

import networkx as nx

from residency import places
from residency._perf import bulk
from residency._words import some
from residency.ai import STRICT, Exposure, exposures_of
from residency.jurisdictions import CountriesOfConcern, LegalData, Regime, legal_data
from residency.query import (
    Location,
    Unit,
    WhereResult,
    display_name,
    path_text,
    subjects,
    where_result,
)
from residency.routes import Hit, Route, SubjectMap, Walker, route_id
from residency.rules import (
    Context,
    SourceRef,
    Transfer,
    Verdict,
    _ref,
    in_origin,
)
from residency.vocabulary import SEVERITIES


@dataclass(frozen=True)
class Check:
    """One check of the data map: the finding rules it raises and their severities.

    Each rule lists the severities it may take, its default first; a check picks another
    only where its entry lists it (the legal data's own severity for a countries-of-concern
    rule whose condition is not established, a volume below the bulk threshold).
    """

    name: str
    summary: str
    rules: dict[str, tuple[str, ...]]
    # "subject": run per subject (subjects alike share the work); "exposures": run once
    # over every AI-training exposure of the assessment.
    scope: Literal["subject", "exposures"]
    detect: Callable[..., list[Finding]]
    shared: bool = True  # a subject's findings are re-addressed to subjects alike


def severity(rule: str, level: str | None = None) -> str:
    """Answer a finding rule's severity: its default, or ``level`` if its check allows it.

    >>> severity("transfer.no_basis"), severity("ai.past_training", "low")
    ('high', 'low')
    """
    levels = _SEVERITIES[rule]
    if level is None:
        return levels[0]
    if level not in levels:
        msg = f"finding rule {rule} cannot be {level!r}: its check allows {', '.join(levels)}"
        raise ValueError(msg)
    return level


@dataclass(frozen=True, eq=False)
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
    routes: tuple[str, ...] = ()  # ids of the transfer routes behind the finding
    legal_rule: str = ""
    system: str = ""  # for findings about one system (AI training): its id

    def _values(self) -> tuple[Any, ...]:
        return (
            self.severity,
            self.rule,
            self.subject,
            self.countries,
            self.title,
            self.explanation,
            self.evidence,
            self.sources,
            self.routes,
            self.legal_rule,
            self.system,
        )

    def __eq__(self, other: object) -> bool:
        # By value, whichever way the texts are held (see Readdressed).
        if not isinstance(other, Finding):
            return NotImplemented
        return self is other or self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.rule, self.subject, self.legal_rule, self.system, self.countries))

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Return what identifies the finding across runs and scenarios (not its countries)."""
        return (self.rule, self.subject, self.legal_rule, self.system)

    @cached_property  # asked for by the groups, the export and the plan: hashed once
    def id(self) -> str:
        """Return a stable id derived from the rule, subject, legal rule, system, countries."""
        key = "|".join([self.rule, self.legal_rule, self.system, self.subject, *self.countries])
        return "f-" + hashlib.sha256(key.encode()).hexdigest()[:12]

    def as_dict(self, *, sources: bool = True) -> dict[str, Any]:
        """Return the finding as a plain dict (``sources=False``: without its sources)."""
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
            "routes": list(self.routes),
            "sources": [s.as_dict() for s in self.sources] if sources else [],
        }


EVIDENCE_LIMIT = 10  # evidence paths shown per finding; the rest are counted, never hidden


_T = TypeVar("_T")


@dataclass
class Assessment:
    """Every subject's data, routes and findings on one date.

    ``results`` (where each subject's data lives) and ``transfers`` (one row per
    location outside the origin) are built when first asked for; the bulk answers
    (routes, findings, the export) come from the subject maps without them.
    """

    as_of: date
    subject_maps: dict[str, SubjectMap]
    routes: list[Route]
    findings: list[Finding] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)
    context: Context | None = field(default=None, repr=False)
    _results: dict[str, WhereResult] | None = field(default=None, repr=False)
    _transfers: list[Transfer] | None = field(default=None, repr=False)
    _derived: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """Return the answer ``build`` computes from this assessment, computed once per key.

        An assessment never changes once made, so what is derived from it (the map's
        country frame for some filters, the register as a table) holds for as long as it
        lives. Callers return a copy of anything mutable.
        """
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    @property
    def results(self) -> dict[str, WhereResult]:
        """Return where each subject's data lives (built on first use)."""
        if self._results is None:
            assert self.context is not None
            G = self.context.G
            # The walk already found every location (tests/test_walker.py checks it
            # against query.where): read them off the subject maps, not the graph again.
            with bulk():
                self._results = {
                    s: where_result(G, s, [h.location(s, u) for u, h in sm.pairs()])
                    for s, sm in self.subject_maps.items()
                }
        return self._results

    @property
    def transfers(self) -> list[Transfer]:
        """Return every location outside its subject's origin, with its basis, sorted."""
        if self._transfers is None:
            assert self.context is not None
            # Each hit outside the origin carries its verdict from the walk: the same object
            # rules.assess_with would judge again (tests/test_walker.py).
            with bulk():
                found = [
                    Transfer(loc, sm.origin, h.verdict)
                    for s, sm in self.subject_maps.items()
                    for (u, h), loc in zip(sm.pairs(), self.results[s].locations, strict=True)
                    if h.verdict is not None
                ]
                found.sort(key=_transfer_order)
            self._transfers = found
        return self._transfers


def _transfer_order(t: Transfer) -> tuple[str, ...]:
    loc = t.location
    return (loc.subject, loc.country, loc.kind, loc.system, loc.recipient, *loc.path)


def assess_all(
    G: nx.DiGraph,
    *,
    as_of: date | None = None,
    data: LegalData | None = None,
    subject: str | None = None,
    judged: dict[tuple[Any, ...], Verdict] | None = None,
    only: Iterable[str] | None = None,
) -> Assessment:
    """Judge the transfers of every client and staff member (or one subject) and find issues.

    ``judged`` is a cache of verdicts shared between assessments of the same legal data
    and date over changed copies of one organisation (what-if scenarios, the plan);
    ``only`` limits the assessment to those subjects (the ones a change can affect).
    """
    ctx = Context(G, data or legal_data(), as_of or date.today(), shared=judged)
    names = [subject] if subject else subjects(G, kind="client") + subjects(G, kind="staff")
    if only is not None:
        wanted = set(only)
        names = [n for n in names if n in wanted]
    walker = Walker(ctx)
    with bulk():
        maps = {s: walker.subject(s) for s in names}
        found = []
        memo = _Memo()
        own = [c for c in CHECKS if c.scope == "subject" and not c.shared]
        for sm in maps.values():
            found += _shared_findings(ctx, sm, memo)
            for check in own:
                found += check.detect(ctx, sm, memo)
        exposed = exposures_of(G, _trained(maps), ctx.data, ctx.as_of)
        for check in CHECKS:
            if check.scope == "exposures":
                found += check.detect(ctx, exposed)
        routes = walker.routes(maps)
        found.sort(key=lambda f: (SEVERITIES.index(f.severity), *f.key, f.countries))
    return Assessment(ctx.as_of, maps, routes, found, exposed, ctx)


@dataclass
class _Memo:
    """What the findings of one assessment remember: work shared between subjects."""

    shared: dict[tuple[Any, ...], tuple[str, list[Finding]]] = field(default_factory=dict)
    rules: dict[Verdict, tuple[str, ...]] = field(default_factory=dict)  # transfer rules
    edges: dict[tuple[str, str], str] = field(default_factory=dict)  # a path's steps, as text


def _shared_findings(ctx: Context, sm: SubjectMap, memo: _Memo) -> list[Finding]:
    """Find transfer, localisation and concern issues; subjects alike share the work.

    Subjects whose data sits only in shared hits (no access of their own: typically staff
    data) with the same origin and systems get the same findings but for their own id, so
    those are built once and re-addressed: every such text starts with the subject.
    """
    if any(access for _, _, access in sm.units):
        return _own_findings(ctx, sm, memo)
    # The volume is part of the key: it decides countries-of-concern severities.
    volume = ctx.G.nodes[sm.subject].get("data_subjects")
    signature = (
        sm.origin,
        volume,
        tuple((u.system, u.data, u.prefix[1:]) for u, _, _ in sm.units),
    )
    known = memo.shared.get(signature)
    if known is None:
        found = _own_findings(ctx, sm, memo)
        memo.shared[signature] = (sm.subject, found)
        return found
    first, found = known
    return [_readdressed(ctx.G, f, first, sm.subject) for f in found]


def _own_findings(ctx: Context, sm: SubjectMap, memo: _Memo) -> list[Finding]:
    return [f for c in CHECKS if c.scope == "subject" and c.shared for f in c.detect(ctx, sm, memo)]


def _readdressed(G: nx.DiGraph, f: Finding, old: str, new: str) -> Finding:
    was = display_name(G, old)
    assert f.explanation.startswith(was), f.explanation
    assert all(e.startswith((old, "... and")) for e in f.evidence), f.evidence
    return Readdressed.of(f, new, display_name(G, new), len(was))


class Readdressed(Finding):
    """The finding of a subject alike to an earlier one (the same origin, systems and
    data), for its own id: its explanation and evidence are made from the earlier
    finding's texts when read.

    Subjects alike are mostly staff, whose data sits only in the systems the organisation
    keeps staff data in; at enterprise size their copied texts took about 200 MB. It is a
    :class:`Finding` in every way: equal to, and hashed as, one made with the same texts.
    """

    _template: Finding
    _named: str  # the subject's display name, which starts the explanation
    _cut: int  # how much of the template's explanation named its own subject

    @classmethod
    def of(cls, template: Finding, subject: str, label: str, cut: int) -> Readdressed:
        """Return ``template``'s finding for ``subject`` (made directly: this runs per
        subject, and a dataclass's checks would cost more than the finding)."""
        made = object.__new__(cls)
        fields = made.__dict__
        fields.update(template.__dict__)
        fields.pop("explanation", None)
        fields.pop("evidence", None)
        fields.pop("id", None)  # the template's, once asked for: this subject has its own
        fields["subject"] = subject
        fields["_template"], fields["_named"], fields["_cut"] = template, label, cut
        return made

    @property
    def template(self) -> Finding:
        """Return the earlier subject's finding whose texts this one's are made from."""
        return self._template

    @property
    def explanation(self) -> str:
        """Return the explanation, naming this subject."""
        return self._named + self._template.explanation[self._cut :]

    @property
    def evidence(self) -> tuple[str, ...]:
        """Return the evidence paths, starting from this subject."""
        cut, new = len(self._template.subject), self.subject
        return tuple(
            e if e.startswith("... and") else new + e[cut:] for e in self._template.evidence
        )


def _trained(maps: dict[str, SubjectMap]) -> Iterator[tuple[str, str, list[Location]]]:
    for sm in maps.values():
        locations = [
            h.location(sm.subject, u)
            for u, shared, _ in sm.units
            for h in shared
            if h.kind == "trained"
        ]
        yield sm.subject, sm.origin, locations


Pair = tuple[Unit, Hit]


def _evidence(
    G: nx.DiGraph, pairs: Iterable[Pair], edges: dict[tuple[str, str], str] | None = None
) -> tuple[str, ...]:
    """Return up to ``EVIDENCE_LIMIT`` paths as text, then a line counting the rest.

    ``edges`` remembers each step's text (``path_text``'s, one step at a time) across calls.
    """
    paths = sorted({(*u.prefix, *h.tail) for u, h in pairs})
    if edges is None:
        shown = tuple(path_text(G, p) for p in paths[:EVIDENCE_LIMIT])
        more = len(paths) - EVIDENCE_LIMIT
        return (*shown, f"... and {more} more paths") if more > 0 else shown
    return _shown(G, paths, edges)


def _shown(
    G: nx.DiGraph, paths: list[tuple[str, ...]], edges: dict[tuple[str, str], str]
) -> tuple[str, ...]:
    """Return :func:`_evidence` of paths already sorted, without repeats."""
    shown = tuple(_path_text(G, p, edges) for p in paths[:EVIDENCE_LIMIT])
    more = len(paths) - EVIDENCE_LIMIT
    return (*shown, f"... and {more} more paths") if more > 0 else shown


def _path_text(G: nx.DiGraph, path: tuple[str, ...], edges: dict[tuple[str, str], str]) -> str:
    """Render a path exactly as :func:`~residency.query.path_text`, each step remembered."""
    parts = [path[0]]
    for step in pairwise(path):
        text = edges.get(step)
        if text is None:
            # Cut the first node as path_text shows it: a sub-processor by its name.
            text = edges[step] = path_text(G, step)[len(path_text(G, step[:1])) :]
        parts.append(text)
    return "".join(parts)


def _some(items: set[str], limit: int) -> str:
    """List up to ``limit`` items, sorted, and say how many more there are."""
    return some(sorted(items), limit, "; ")


def _who(pairs: Iterable[Pair]) -> str:
    return _some({f"{h.recipient} in {h.country} via {h.system_label}" for _, h in pairs}, 4)


def _transfer_findings(ctx: Context, sm: SubjectMap, memo: _Memo) -> list[Finding]:
    groups: dict[str, list[Pair]] = defaultdict(list)
    known = memo.rules
    for unit, shared, access in sm.units:
        for hit in (*shared, *access):
            v = hit.verdict
            if v is None:
                continue
            rules = known.get(v)
            if rules is None:
                rules = known[v] = _transfer_rules(v)
            for rule in rules:
                groups[rule].append((unit, hit))
    return [_transfer_finding(ctx, rule, sm, pairs, memo) for rule, pairs in groups.items()]


def _transfer_rules(v: Verdict) -> tuple[str, ...]:
    """Return the transfer finding rules a verdict raises (in the order they are grouped)."""
    if v.basis in _SETTLED:
        return ()
    rule = _transfer_rule(v)
    rules = (rule,) if rule else ()
    if v.basis == "adequacy" and any(j.risk for j in v.judgements if j.basis == "adequacy"):
        rules = (*rules, "transfer.fragile_basis")
    return rules


_SETTLED = frozenset({"own_staff", "free_flow", "unrestricted", "safeguard"})


def _transfer_rule(v: Verdict) -> str | None:
    if v.basis == "no_basis":
        unaccepted = any(j.unaccepted for j in v.judgements if j.basis == "no_basis")
        return "transfer.safeguard_not_accepted" if unaccepted else "transfer.no_basis"
    if v.basis == "needs_review":
        return "transfer.needs_review"
    return None


def _transfer_finding(
    ctx: Context, rule: str, sm: SubjectMap, pairs: list[Pair], memo: _Memo
) -> Finding:
    keys = [(*u.prefix, *h.tail) for u, h in pairs]  # each pair's path
    order = sorted(range(len(pairs)), key=keys.__getitem__)  # the inventory's order never shows
    pairs = [pairs[i] for i in order]
    paths = list(dict.fromkeys(keys[i] for i in order))
    verdicts = list(dict.fromkeys(h.verdict for _, h in pairs if h.verdict is not None))
    countries = tuple(sorted({h.country for _, h in pairs}))
    regimes = sorted({j.regime for v in verdicts for j in v.judgements})
    head = f"{display_name(ctx.G, sm.subject)} (origin {sm.origin}, under {', '.join(regimes)})"
    first = pairs[0][1].verdict
    assert first is not None
    if rule == "transfer.no_basis":
        note = first.deciding.note or ""
        text = (
            f"{head}: data reaches {', '.join(countries)} with no transfer basis recorded: "
            f"{_who(pairs)}. Record or sign an accepted safeguard ({note.rstrip('.')}), or check "
            "whether an exception in the origin's law covers the transfer (the regime's notes "
            "in data/jurisdictions list them)."
        )
        title = "Transfer with no legal basis"
    elif rule == "transfer.safeguard_not_accepted":
        written = sorted({s for v in verdicts for j in v.judgements for s in j.unaccepted})
        text = (
            f"{head}: the safeguards recorded ({', '.join(written)}) are not accepted by "
            f"the origin's regime for {_who(pairs)}. {first.deciding.note or ''}."
        )
        title = "Safeguard not accepted by the origin's regime"
    elif rule == "transfer.needs_review":
        missing = sorted(
            {j.missing.rstrip(". ") for v in verdicts for j in v.judgements if j.missing}
        )
        text = (
            f"{head}: the basis for {_who(pairs)} depends on facts the inventory does not "
            f"hold: {'; '.join(missing)}."
        )
        title = "Transfer basis needs review"
    else:
        risks = sorted(
            {
                f"{j.risk} Fallback to consider: {j.fallback or 'another basis'}."
                for v in verdicts
                for j in v.judgements
                if j.risk
            }
        )
        text = (
            f"{head}: relies on a basis under legal challenge for {_who(pairs)}. {' '.join(risks)}"
        )
        title = "Fragile transfer basis"
    sources = tuple(dict.fromkeys(s for v in verdicts for s in v.sources))
    keyed = {id(h.route): h.route for _, h in pairs}  # one object per route: hash by identity
    routes = {route_id(key) for key in keyed.values() if key is not None}
    return Finding(
        severity(rule),
        rule,
        sm.subject,
        countries,
        title,
        text,
        _shown(ctx.G, paths, memo.edges),
        sources,
        tuple(sorted(routes)),
    )


def _localisation(ctx: Context, sm: SubjectMap, memo: _Memo) -> list[Finding]:
    regimes = [r for r in ctx.origin(sm.origin)[0] if r.localisation]
    if not regimes:
        return []
    found = []
    origin = sm.origin
    pairs = sm.pairs()
    stored = [(u, h) for u, h in pairs if h.kind == "stored"]
    data = {c for _, h in pairs for c in h.data}
    for regime in regimes:
        for rule in regime.localisation:
            if rule.start is not None and rule.start > ctx.as_of:
                continue
            if rule.categories != "all" and not data & set(rule.categories):
                continue
            inside = [p for p in stored if in_origin(origin, p[1].country)]
            outside = [p for p in stored if not in_origin(origin, p[1].country)]
            breached = (
                (not inside) if rule.requirement == "primary_copy_in_origin" else bool(outside)
            )
            if not breached or not stored:
                continue
            key = "localisation.review" if rule.condition else "localisation.breach"
            countries = tuple(sorted({h.country for _, h in outside}))
            where_ = "no stored copy is in the origin" if not inside else "copies are stored abroad"
            cond = f" It applies if: {rule.condition}." if rule.condition else ""
            text = (
                f"{display_name(ctx.G, sm.subject)} (origin {origin}): {rule.summary} "
                f"({regime.id} {rule.id}); "
                f"{where_}: stored in {', '.join(countries)}.{cond}"
            )
            found.append(
                Finding(
                    severity(key),
                    key,
                    sm.subject,
                    countries,
                    "Localisation rule" + (" may apply" if rule.condition else " breached"),
                    text,
                    _evidence(ctx.G, outside, memo.edges),
                    (_ref(regime, rule),),
                    legal_rule=f"{regime.id}:{rule.id}",
                )
            )
    return found


def _contract(ctx: Context, sm: SubjectMap, memo: _Memo) -> list[Finding]:
    node = ctx.G.nodes[sm.subject]
    limit = node.get("residency") or []
    if not limit:
        return []
    # A contract's bloc means its members on the as-of date (not the bloc's law after
    # a member left: the United Kingdom was no EU member after 31 January 2020).
    allowed = frozenset().union(*(places.expand(c, ctx.as_of, law=False) for c in limit))
    outside = [(u, h) for u, h in sm.pairs() if not places.within(h.country, allowed)]
    if not outside:
        return []
    countries = tuple(sorted({h.country for _, h in outside}))
    kinds = sorted({h.kind for _, h in outside})
    text = (
        f"The contract of {display_name(ctx.G, sm.subject)} limits its data to "
        f"{', '.join(limit)}, but it is "
        f"{', '.join(kinds)} in {', '.join(countries)}: {_locations_who(outside)}."
    )
    return [
        Finding(
            severity("residency.contract_breach"),
            "residency.contract_breach",
            sm.subject,
            countries,
            "Client's contractual residency limit breached",
            text,
            _evidence(ctx.G, outside),
        )
    ]


def _locations_who(pairs: list[Pair]) -> str:
    return _some(
        {f"{h.recipient} ({h.kind}, {h.country}) via {h.system_label}" for _, h in pairs}, 5
    )


def _concern(ctx: Context, sm: SubjectMap, memo: _Memo) -> list[Finding]:
    regimes = [r for r in ctx.origin(sm.origin)[0] if r.countries_of_concern]
    if not regimes:
        return []
    found = []
    pairs = sm.pairs()
    for regime in regimes:
        for rule in regime.countries_of_concern:
            if rule.start > ctx.as_of:
                continue
            concern = frozenset(rule.countries)
            hits = [
                (u, h)
                for u, h in pairs
                if places.within(h.country, concern) and set(h.data) & set(rule.categories)
            ]
            if not hits:
                continue
            countries = tuple(sorted({h.country for _, h in hits}))
            cats = sorted({c for _, h in hits for c in h.data if c in rule.categories})
            volume = ctx.G.nodes[sm.subject].get("data_subjects")
            severity, title, judged, refs = _volume_judgement(regime, rule, cats, volume)
            cond = f" Applies if: {rule.condition}." if rule.condition else ""
            text = (
                f"{display_name(ctx.G, sm.subject)} (origin {sm.origin}): {', '.join(cats)} reach "
                f"{', '.join(countries)}, a country of concern under {regime.id} "
                f"({rule.id}): {_locations_who(hits)}. {rule.summary}{cond}{judged}"
            )
            found.append(
                Finding(
                    severity,
                    "concern.countries_of_concern",
                    sm.subject,
                    countries,
                    title,
                    text,
                    _evidence(ctx.G, hits, memo.edges),
                    (_ref(regime, rule), *refs),
                    legal_rule=f"{regime.id}:{rule.id}",
                )
            )
    return found


def _volume_judgement(
    regime: Regime, rule: CountriesOfConcern, cats: list[str], volume: int | None
) -> tuple[str, str, str, tuple[SourceRef, ...]]:
    """Answer a countries-of-concern finding's severity, title and volume sentence.

    Without a condition the rule applies: high. With one, the rule's bulk thresholds for
    the categories reached are judged against the subject's ``data_subjects``: above any
    threshold counted in persons, high; at or below every threshold that applies, low;
    without a count (or only thresholds counted in devices), the rule's own severity.
    """
    title = "Sensitive data reaches a country of concern"
    key = "concern.countries_of_concern"
    if not rule.condition:
        return severity(key), title, "", ()
    maybe = title + ": the rule may apply"
    applicable = [t for t in rule.thresholds if set(t.categories) & set(cats)]
    if volume is None or not applicable:
        return severity(key, rule.severity), maybe, "", ()
    refs = tuple(dict.fromkeys(_ref(regime, t) for t in applicable))
    persons = [t for t in applicable if t.unit == "persons"]
    above = [t for t in persons if volume > t.more_than]
    if above:
        limits = "; ".join(f"{t.what}: more than {t.more_than:,} persons" for t in above)
        judged = (
            f" The client's data concern {volume:,} people, above the bulk threshold ({limits})."
        )
        return (
            severity(key),
            title + ": above the bulk threshold",
            judged,
            refs,
        )
    shown = "; ".join(f"{t.what}: more than {t.more_than:,} {t.unit}" for t in applicable)
    if len(persons) < len(applicable):
        judged = (
            f" The client's data concern {volume:,} people; a threshold counted in devices "
            f"cannot be judged from that ({shown})."
        )
        return severity(key, rule.severity), maybe, judged, refs
    judged = (
        f" The client's data concern {volume:,} people, not above the bulk thresholds "
        f"({shown}); other subjects' data reaching the same recipient are not added up."
    )
    return severity(key, "low"), maybe + " (below the bulk threshold)", judged, refs


def _ai_rule(e: Exposure) -> tuple[str, str] | None:
    """Return the finding rule and severity for one exposure (None: listed, not a finding)."""
    strict = e.requirement in STRICT
    if not e.ongoing:
        # Past training weighs less where the origin asks for no consent.
        rule = "ai.past_training"
        return rule, severity(rule) if strict else severity(rule, "low")
    if strict and e.default == "opt-out":
        rule = "ai.default_training"
    elif e.requirement is None:
        # No recorded position is not an all-clear: say so, and ask for the contract and the
        # notice to be checked (stopping the training must never read as the only issue).
        rule = "ai.training_unassessed"
    else:
        rule = "ai.training_review"
    return rule, severity(rule)


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
        head = f"{display_name(ctx.G, subject)} (origin {group[0].origin}, under {regimes})"
        position = (
            group[0].position or "no regulator position on AI training is recorded for this origin"
        )
        text = f"{head}: {' '.join(parts)} What the origin's regime requires: {position}"
        if rule == "ai.training_unassessed":
            text += (
                ". Check the vendor's contract and the notice given to the people concerned "
                "for this use, or opt out."
            )
        positions = [(r, p) for r in ctx.origin(group[0].origin)[0] for p in r.ai_training]
        sources = tuple(dict.fromkeys(_ref(r, p) for r, p in positions))
        applied = [f"{r.id}:{p.id}" for r, p in positions if p.requires == group[0].requirement]
        title = {
            "ai.default_training": "{} trains AI models on the data by default",
            "ai.training_review": "{} trains AI models on the data: basis to document",
            "ai.past_training": "{} used the data for AI training before the opt-out",
            "ai.training_unassessed": "{} trains AI models on the data: no regulator position "
            "recorded",
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
    if not e.can_opt_out:
        # Never offer a fix the plan does not allow (Atlassian's Free/Standard/Premium).
        how = (
            f" This plan allows no opt-out: move to a plan that does, or stop putting this "
            f"data into {e.system}."
        )
    elif e.how_to_opt_out:
        how = f" To opt out: {e.how_to_opt_out.rstrip('.')}."
    else:
        how = ""
    default = (
        "by default (opt-out), and the organisation has not opted out"
        if e.default == "opt-out"
        else "after the organisation opted in"
    )
    days = f" ({e.days} days so far)" if e.days is not None else ""
    return f"{what} to train {scope} {default}, {window}{days}.{how}"


# The registry: every finding rule belongs to one check, with its severities
# (docs/findings.md). Policies (residency.policy) raise findings-like violations on top.
CHECKS: tuple[Check, ...] = (
    Check(
        "transfer",
        "each place data reaches outside its origin, judged under the origin's regime(s)",
        {
            "transfer.no_basis": ("high",),
            "transfer.safeguard_not_accepted": ("high",),
            "transfer.needs_review": ("medium",),
            "transfer.fragile_basis": ("low",),
        },
        "subject",
        _transfer_findings,
    ),
    Check(
        "localisation",
        "the origin's localisation rules against the stored copies",
        {"localisation.breach": ("high",), "localisation.review": ("medium",)},
        "subject",
        _localisation,
    ),
    Check(
        "concern",
        "sensitive data reaching a country of concern of the origin's regime",
        {"concern.countries_of_concern": ("high", "medium", "low")},
        "subject",
        _concern,
    ),
    Check(
        "contract",
        "a client's contractual residency limit against every place its data reaches",
        {"residency.contract_breach": ("high",)},
        "subject",
        _contract,
        shared=False,
    ),
    Check(
        "ai",
        "vendors training AI models on the data, against the origin's regulator position",
        {
            "ai.default_training": ("high",),
            "ai.training_review": ("medium",),
            "ai.past_training": ("medium", "low"),
            "ai.training_unassessed": ("low",),
        },
        "exposures",
        _ai_findings,
    ),
)
_SEVERITIES = {rule: levels for c in CHECKS for rule, levels in c.rules.items()}
RULES = {rule: levels[0] for rule, levels in _SEVERITIES.items()}  # each rule's default
