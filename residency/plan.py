"""What to do first: the changes that resolve the most findings, ranked with what-if.

Candidate actions come from the findings and the inventory, each one a what-if change the
library can apply (:mod:`residency.whatif`): opt out of a vendor's AI training, stop using a
system whose plan allows no opt-out, sign the safeguard the origin's regime accepts (its
name from ``data/jurisdictions``), move a system to a residency option its vendor sells
(from ``data/vendors``), keep a system's data from a sub-processor that receives it with no
basis, stop access from a country, move a contractor's entity onto a safeguard. Each
candidate is judged alone on the same as-of date; the plan then orders them greedily, so
that the first actions resolve the most high-severity findings not already resolved by an
earlier one, and checks the top actions applied together.

>>> import residency
>>> plan = residency.load().plan(as_of="2026-12-02")
>>> plan.actions[0].resolves["high"] > 0
True
>>> plan.actions[0].change.split(":")[0] in {"opt-out", "add-safeguard", "offboard", "move"}
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from residency._perf import bulk
from residency._words import some
from residency.findings import Assessment, Finding
from residency.rules import BASES, SEVERITIES
from residency.whatif import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from residency.datamap import DataMap
    from residency.model import Inventory

TOP = 10  # actions checked together and shown by default
BUDGET = 40  # candidates judged with what-if, those addressing the most findings first
_RANK = {b: i for i, b in enumerate(BASES)}
_TRANSFER_RULES = ("transfer.no_basis", "transfer.safeguard_not_accepted")
_ACCESS = "accessed"


@dataclass(frozen=True)
class Candidate:
    """One action worth evaluating: its what-if changes and what a person must do."""

    kind: str
    changes: tuple[str, ...]
    title: str
    how: str = ""
    targets: frozenset[Finding] = frozenset()  # the findings it addresses (an upper bound)

    @property
    def potential(self) -> tuple[int, ...]:
        """Return how many findings it addresses, by severity (evaluation order)."""
        return tuple(sum(f.severity == s for f in self.targets) for s in SEVERITIES)

    @property
    def change(self) -> str:
        """Return the what-if change string (several joined by ``; ``)."""
        return "; ".join(self.changes)


@dataclass(frozen=True)
class Action:
    """One ranked action: the change, what it resolves, what it introduces, and why."""

    kind: str
    change: str  # the what-if change string that applies it, e.g. "opt-out:slack"
    changes: tuple[str, ...]  # the same, one what-if change per item
    title: str
    how: str
    resolves: dict[str, int]  # findings resolved, by severity
    introduces: dict[str, int]  # findings it introduces (never hidden), by severity
    findings: tuple[str, ...]  # ids of the findings it resolves
    introduced: tuple[str, ...]  # ids of the findings it introduces
    subjects: tuple[str, ...]  # subjects with at least one finding resolved
    transfers_improved: int  # transfers whose basis gets better (or that stop)
    evidence: tuple[str, ...]  # the resolved findings' titles and one evidence path each

    def as_dict(self) -> dict[str, Any]:
        """Return the action as JSON-ready data."""
        return {
            "kind": self.kind,
            "change": self.change,
            "changes": list(self.changes),
            "title": self.title,
            "how": self.how or None,
            "resolves": dict(self.resolves),
            "introduces": dict(self.introduces),
            "findings": list(self.findings),
            "introduced": list(self.introduced),
            "subjects": list(self.subjects),
            "transfers_improved": self.transfers_improved,
            "evidence": list(self.evidence),
        }


@dataclass
class Plan:
    """The ranked actions, best first, and the effect of the top ones applied together."""

    as_of: date
    before: dict[str, int]  # findings today, by severity
    actions: list[Action] = field(default_factory=list)
    top: int = TOP
    combined_changes: list[str] = field(default_factory=list)
    combined_resolves: dict[str, int] = field(default_factory=dict)
    combined_introduces: dict[str, int] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)  # after the top actions together
    not_evaluated: list[str] = field(default_factory=list)  # candidates not judged, and why
    no_effect: list[str] = field(default_factory=list)  # judged: resolve no finding alone
    # Changes of contract the other party must agree to: judged like the actions, but never
    # ranked among the fixes nor applied with them.
    negotiations: list[Action] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as JSON-ready data (``residency plan --json``)."""
        return {
            "as_of": self.as_of.isoformat(),
            "findings_before": dict(self.before),
            "actions": [a.as_dict() for a in self.actions],
            "combined": {
                "changes": self.combined_changes,
                "resolves": dict(self.combined_resolves),
                "introduces": dict(self.combined_introduces),
                "remaining": dict(self.remaining),
            },
            "negotiations": [a.as_dict() for a in self.negotiations],
            "not_evaluated": self.not_evaluated,
            "no_effect": self.no_effect,
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per action, best first."""
        import pandas as pd

        rows = [
            {
                "rank": i,
                "kind": a.kind,
                "change": a.change,
                "title": a.title,
                **{f"resolves_{s}": a.resolves[s] for s in SEVERITIES},
                **{f"introduces_{s}": a.introduces[s] for s in SEVERITIES},
                "subjects": len(a.subjects),
                "transfers_improved": a.transfers_improved,
                "how": a.how,
            }
            for i, a in enumerate(self.actions, 1)
        ]
        columns = [
            "rank",
            "kind",
            "change",
            "title",
            *(f"resolves_{s}" for s in SEVERITIES),
            *(f"introduces_{s}" for s in SEVERITIES),
            "subjects",
            "transfers_improved",
            "how",
        ]
        return pd.DataFrame(rows, columns=columns)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _by_severity(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {s: counts.get(s, 0) for s in SEVERITIES}


# ---------------------------------------------------------------- candidates


def candidates(m: DataMap, assessment: Assessment) -> list[Candidate]:
    """Answer which changes could resolve today's findings (not yet ranked).

    Derived from the findings (which system trains, which route has no basis) and the
    inventory (what each system records); instruments come from the legal data and
    residency options from the vendor catalogue, never from code.
    """
    found: dict[str, Candidate] = {}
    for c in (
        *_ai_candidates(m, assessment),
        *_safeguard_candidates(m, assessment),
        *_move_candidates(m, assessment),
        *_subprocessor_candidates(m, assessment),
        *_access_candidates(assessment),
    ):
        found.setdefault(c.change, c)
    return sorted(found.values(), key=lambda c: c.change)


def negotiations(m: DataMap, assessment: Assessment) -> list[Candidate]:
    """Answer which clients' residency clauses could be amended to match where data goes.

    One item per client whose contractual limit is breached, widening the clause to the
    places its data reaches (from the finding): a change for the client to agree to, so the
    plan lists it apart from the fixes.
    """
    clients = {c.id: c for c in m.inventory.clients}
    out = []
    for f in assessment.findings:
        if f.rule != "residency.contract_breach" or not f.subject.startswith("client:"):
            continue
        client = clients.get(f.subject.removeprefix("client:"))
        if client is None or not client.residency or not f.countries:
            continue
        where = ", ".join(f.countries)
        out.append(
            Candidate(
                "negotiate-clause",
                (f"amend-residency:{client.id}={'+'.join(f.countries)}",),
                f"Negotiate with {client.name or client.id}: amend its residency clause "
                f"({', '.join(client.residency)}) to allow {where}",
                "A negotiation item, not a fix: the client must agree to the amendment. "
                "The alternative is to keep its data within the clause (the other actions "
                "that resolve this finding).",
                frozenset({f}),
            )
        )
    return sorted(out, key=lambda c: c.change)


def _systems(m: DataMap) -> dict[str, Any]:
    return {s.id: s for s in m.inventory.systems}


def _ai_candidates(m: DataMap, assessment: Assessment) -> list[Candidate]:
    systems = _systems(m)
    by_system: dict[str, set[Finding]] = {}
    for f in assessment.findings:
        if f.rule.startswith("ai.") and f.system:
            by_system.setdefault(f.system, set()).add(f)
    out = []
    for system_id in sorted(by_system):
        targets = frozenset(by_system[system_id])
        system = systems.get(system_id)
        ai = system.ai_training if system is not None else None
        if system is None or ai is None:
            continue
        name = system.name or system.id
        if ai.opt_out == "not_possible":
            plan = f" ({system.plan})" if system.plan else ""
            how = "What remains: another plan that allows an opt-out (edit plan: in the "
            how += "inventory), or stop keeping that data there. " + (ai.how_to_opt_out or "")
            out.append(
                Candidate(
                    "offboard",
                    (f"offboard:{system_id}",),
                    f"Stop sending data to {name}: its plan{plan} allows no opt-out of AI training",
                    how,
                    targets,
                )
            )
        elif not ai.opted_out and ai.default == "opt-out":
            out.append(
                Candidate(
                    "opt-out",
                    (f"opt-out:{system_id}",),
                    f"Opt out of {name}'s AI training",
                    ai.how_to_opt_out or "",
                    targets,
                )
            )
    return out


def _signable(regime_id: str, as_of: date, held: set[str]) -> str | None:
    """Return the first safeguard the regime accepts on ``as_of`` that a vendor can sign."""
    from residency.jurisdictions import instruments, legal_data

    intra_group = {i.name for i in instruments() if i.intra_group}
    data = legal_data()
    try:
        regime = data.regime(regime_id)
    except KeyError:
        return None
    signed = {data.instrument_name(h) or h for h in held}  # an alias is the instrument too
    for fact in regime.safeguards:
        in_force = fact.start <= as_of and (fact.until is None or as_of < fact.until)
        if in_force and fact.name not in intra_group and fact.name not in signed:
            return fact.name
    return None


def _unsigned(
    assessment: Assessment, systems: dict[str, Any], entities: dict[str, Any]
) -> dict[tuple[str, str, str], set[Finding]]:
    """Answer, per (party kind, system id or entity name, regime) of a route with no basis,
    the findings it appears in."""
    routes = {r.id: r for r in assessment.routes}
    wanted: dict[tuple[str, str, str], set[Finding]] = {}
    for f in assessment.findings:
        if f.rule not in _TRANSFER_RULES:
            continue
        for r in (routes.get(rid) for rid in f.routes):
            if r is None or r.basis != "no_basis":
                continue
            if r.kind == _ACCESS:
                parties = [("entity", r.recipient)] if r.recipient in entities else []
            else:
                names = (n.removeprefix("system:") for n in r.systems)
                parties = [("system", n) for n in names if n in systems]
            for kind, name in parties:
                for regime in r.regimes:
                    wanted.setdefault((kind, name, regime), set()).add(f)
    return wanted


def _safeguard_candidates(m: DataMap, assessment: Assessment) -> list[Candidate]:
    systems = _systems(m)
    entities = {p.entity.name: p.entity for p in m.inventory.staff if p.entity is not None}
    # One action per (regime, instrument): sign it with every vendor and staff entity that
    # lacks it, since a subject's finding goes only when all its routes under it are covered.
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    targets: dict[tuple[str, str], set[Finding]] = {}
    for (kind, name, regime), found in sorted(_unsigned(assessment, systems, entities).items()):
        party = systems[name] if kind == "system" else entities[name]
        instrument = _signable(regime, assessment.as_of, set(party.safeguards))
        if instrument is not None:
            grouped.setdefault((regime, instrument), []).append((kind, name))
            targets.setdefault((regime, instrument), set()).update(found)
    out = []
    for (regime, instrument), parties in sorted(grouped.items()):
        names = [
            systems[n].name or n if kind == "system" else f"{n} ({entities[n].country})"
            for kind, n in parties
        ]
        changes = tuple(
            f"add-safeguard:{n}={instrument}"
            if kind == "system"
            else f"add-entity-safeguard:{n}={instrument}"
            for kind, n in parties
        )
        shown = some(names, 6)
        out.append(
            Candidate(
                "add-safeguard",
                changes,
                f"Sign {instrument} with {shown} for data under {regime}",
                f"{instrument} is a safeguard {regime} accepts (data/jurisdictions). Signed "
                "with a vendor it covers the vendor and, through its DPA, its sub-processors; "
                "signed with a staff entity, the people it employs or engages.",
                frozenset(targets[(regime, instrument)]),
            )
        )
    return out


def _move_candidates(m: DataMap, assessment: Assessment) -> list[Candidate]:
    """Offer the residency options a catalogue vendor sells, for systems with no-basis routes."""
    from residency.catalogue import vendors

    routes = {r.id: r for r in assessment.routes}
    troubled: dict[str, set[Finding]] = {}
    for f in assessment.findings:
        if f.rule in _TRANSFER_RULES or f.rule == "residency.contract_breach":
            for rid in f.routes:
                r = routes.get(rid)
                if r is not None and r.kind == "stored":
                    for n in r.systems:
                        troubled.setdefault(n.removeprefix("system:"), set()).add(f)
    if not troubled:
        return []
    catalogue = vendors(strict=False)
    out = []
    for system in m.inventory.systems:
        if system.id not in troubled or not system.catalogue or system.catalogue not in catalogue:
            continue
        vendor = catalogue[system.catalogue]
        for option in _other_options(system, vendor):
            target = "+".join(
                dict.fromkeys(
                    f"{h.provider}/{h.region}" if h.provider and h.region else h.place()
                    for h in option.hosting
                )
            )
            outside = "; ".join(option.outside) if option.outside else ""
            out.append(
                Candidate(
                    "move",
                    (f"move:{system.id}={target}",),
                    f"Move {system.name or system.id} to {vendor.name}'s {option.name} option",
                    f"residency_option: {option.key} in the inventory."
                    + (f" The vendor keeps outside the region: {outside}." if outside else ""),
                    frozenset(troubled[system.id]),
                )
            )
    return out


def _other_options(system: Any, vendor: Any) -> list[Any]:
    """Return the residency options the system's plan can buy that move its data elsewhere."""
    current = sorted({h.country for h in system.hosting if h.country})
    return [
        option
        for option in vendor.hosting.options  # the default (no residency) is never the fix
        if option.key != system.residency_option
        and option.hosting
        and sorted({h.place() for h in option.hosting}) != current
        and not (system.plan and option.plans is not None and system.plan not in option.plans)
    ]


def _subprocessor_candidates(m: DataMap, assessment: Assessment) -> list[Candidate]:
    """Offer to keep a system's data away from a sub-processor that receives it with no basis.

    One action per (system, sub-processor) named in the inventory, targeting the findings
    it alone can resolve: those whose every route goes to that sub-processor, through that
    system only, for the subject concerned (a vendor's own route, or the same sub-processor
    reached through another system, stays). No alternative sub-processor is offered: nothing
    in the inventory or the vendor catalogue records one.
    """
    systems = _systems(m)
    routes = {r.id: r for r in assessment.routes}
    resolvable: dict[tuple[str, str], set[Finding]] = {}
    for f in assessment.findings:
        if f.rule not in _TRANSFER_RULES or not f.routes:
            continue
        taken = assessment.subject_maps[f.subject].routes  # route -> systems, this subject's
        only: set[tuple[str, str]] = set()
        for r in (routes.get(rid) for rid in f.routes):
            if r is None or r.key.recipient_type != "subprocessor" or len(taken[r.key]) != 1:
                break
            (via,) = taken[r.key]
            only.add((via.removeprefix("system:"), r.recipient))
        else:
            if len(only) == 1:
                resolvable.setdefault(only.pop(), set()).add(f)
    out = []
    for (system_id, name), found in sorted(resolvable.items()):
        system = systems.get(system_id)
        if system is None or not any(s.name == name for s in system.subprocessors):
            continue
        out.append(
            Candidate(
                "remove-subprocessor",
                (f"remove-subprocessor:{system_id}={name}",),
                f"Keep {system.name or system_id}'s data away from its sub-processor {name}",
                f"Ask {system.vendor or 'the vendor'} whether your data can be kept from "
                f"{name}, or object to it under the sub-processor terms of the DPA (a vendor "
                "may answer by ending the service). Signing a safeguard, where another action "
                "offers one, keeps the service as it is.",
                frozenset(found),
            )
        )
    return out


def _access_candidates(assessment: Assessment) -> list[Candidate]:
    """Offer to stop access from a country where no basis covers it (one action per country)."""
    routes = {r.id: r for r in assessment.routes}
    by_country: dict[str, dict[str, set[Finding]]] = {}
    for f in assessment.findings:
        if f.rule not in _TRANSFER_RULES or not f.subject.startswith("client:"):
            continue
        for r in (routes.get(rid) for rid in f.routes):
            if r is not None and r.kind == _ACCESS and r.basis == "no_basis":
                client = f.subject.removeprefix("client:")
                by_country.setdefault(r.destination, {}).setdefault(client, set()).add(f)
    out = []
    for country, clients in sorted(by_country.items()):
        names = sorted(clients)
        shown = some(names, 5)
        out.append(
            Candidate(
                "stop-access",
                tuple(f"stop-access:{country}={c}" for c in names),
                f"Stop staff in {country} from accessing the data of {shown}",
                "Reassign these clients to people working from a country their data may "
                "reach, or record a basis for the access (the findings name what is missing).",
                frozenset(f for found in clients.values() for f in found),
            )
        )
    return out


# ---------------------------------------------------------------- ranking


@dataclass(frozen=True)
class _Effect:
    resolved: frozenset[tuple[str, ...]]
    introduced: frozenset[tuple[str, ...]]
    transfers_improved: int


def _bases(assessment: Assessment) -> dict[tuple[str, ...], int]:
    """Return the worst basis of each (subject, system, kind, destination) transfer."""
    out: dict[tuple[str, ...], int] = {}
    for subject, sm in assessment.subject_maps.items():
        for unit, shared, access in sm.units:
            for h in (*shared, *access):
                if h.verdict is not None:
                    key = (subject, unit.system, h.kind, h.country)
                    out[key] = max(out.get(key, 0), _RANK[h.verdict.basis])
    return out


def _effect(
    before: Assessment, after: Assessment, before_bases: dict[Any, int], only: set[str] | None
) -> _Effect:
    """Compare findings and bases; with ``only``, of those subjects (the others are unchanged)."""
    old = {f.key for f in before.findings if only is None or f.subject in only}
    new = {f.key for f in after.findings}
    after_bases = _bases(after)
    improved = sum(
        1
        for k, rank in before_bases.items()
        if rank >= _RANK["needs_review"]
        and (only is None or k[0] in only)
        and after_bases.get(k, -1) < rank
    )
    return _Effect(frozenset(old - new), frozenset(new - old), improved)


def build_plan(m: DataMap, *, as_of: date, top: int = TOP, budget: int = BUDGET) -> Plan:
    """Rank the candidate actions by the findings they resolve, most high-severity first.

    Candidates are judged with what-if on ``as_of``, those addressing the most findings
    first, up to ``budget`` of them (the rest are listed in ``not_evaluated``, never dropped
    silently). Each action is judged alone; the order is greedy (an action
    counts only the findings no earlier action resolved), ties broken by the change string,
    so the order is deterministic. The first ``top`` actions are then applied together and
    their combined effect reported (actions interact: an opt-out and a move may resolve the
    same finding).
    """
    before = m.assessment(as_of=as_of)
    with bulk():  # dozens of scenarios, each with its own findings: no collector mid-way
        return _ranked(m, before, as_of, top, budget)


def _ranked(m: DataMap, before: Assessment, as_of: date, top: int, budget: int) -> Plan:
    by_key: dict[tuple[str, ...], Finding] = {f.key: f for f in before.findings}
    before_bases = _bases(before)
    plan = Plan(as_of, _by_severity(before.findings), top=top)
    effects: dict[str, tuple[Candidate, _Effect, dict[tuple[str, ...], Finding]]] = {}
    judged: dict[tuple[Any, ...], Any] = {}  # most legal questions are the same in every scenario
    reach = _Reach(m, before)
    ranked = sorted(candidates(m, before), key=lambda c: tuple(-n for n in c.potential))
    for c, after, only in _judged(m, plan, ranked, as_of, judged, reach, budget):
        effects[c.change] = (c, _effect(before, after, before_bases, only), _keyed(after))
    covered: set[tuple[str, ...]] = set()
    pending = dict(effects)
    while pending:
        done = frozenset(covered)
        change, (c, eff, new_by_key) = min(
            pending.items(), key=lambda item: _rank(item, done, by_key)
        )
        del pending[change]
        if not eff.resolved:  # judged, but it resolves no finding on its own
            plan.no_effect.append(change)
            continue
        covered |= eff.resolved
        plan.actions.append(_action(c, eff, by_key, new_by_key, before))
    _combine(m, plan, before, as_of, judged, reach)
    _negotiate(m, plan, before, as_of, judged, reach, budget, before_bases)
    return plan


def _negotiate(
    m: DataMap,
    plan: Plan,
    before: Assessment,
    as_of: date,
    judged: dict[tuple[Any, ...], Any],
    reach: _Reach,
    budget: int,
    before_bases: dict[Any, int],
) -> None:
    """Judge the negotiation items like the actions, most high findings first."""
    by_key = _keyed(before)
    ranked = sorted(negotiations(m, before), key=lambda c: (*(-n for n in c.potential), c.change))
    found = []
    for c, after, only in _judged(m, plan, ranked, as_of, judged, reach, budget):
        eff = _effect(before, after, before_bases, only)
        if not eff.resolved:
            plan.no_effect.append(c.change)
            continue
        found.append(_action(c, eff, by_key, _keyed(after), before))
    found.sort(key=lambda a: (*(-a.resolves[s] for s in SEVERITIES), a.change))
    plan.negotiations = found


def _judged(
    m: DataMap,
    plan: Plan,
    ranked: list[Candidate],
    as_of: date,
    judged: dict[tuple[Any, ...], Any],
    reach: _Reach,
    budget: int,
) -> Iterator[tuple[Candidate, Assessment, set[str] | None]]:
    """Yield each candidate within the budget with its scenario's assessment; list the
    others, and those what-if refuses, in ``plan.not_evaluated`` with the reason."""
    for c in ranked[budget:]:
        plan.not_evaluated.append(f"{c.change}: beyond the evaluation budget of {budget}")
    for c in ranked[:budget]:
        try:
            only = reach.of(c.changes)
            after = _scenario(m, list(c.changes), as_of, judged, only)
        except ScenarioError as err:
            plan.not_evaluated.append(f"{c.change}: {err}")
            continue
        yield c, after, only


def _scenario(
    m: DataMap,
    changes: list[str],
    as_of: date,
    judged: dict[tuple[Any, ...], Any],
    only: set[str] | None = None,
) -> Assessment:
    from residency.findings import assess_all
    from residency.graph import build_graph
    from residency.whatif import apply_changes, parse_change

    changed, _ = apply_changes(m.inventory, [parse_change(c) for c in changes], as_of)
    # Rebuilding the whole graph was most of a scenario's time (docs/performance.md): the
    # subjects a change reaches need only their own entries and the people serving them.
    graph = build_graph(changed if only is None else _focus(changed, only))
    return assess_all(graph, as_of=as_of, judged=judged, only=only)


def _focus(inventory: Inventory, subjects: set[str]) -> Inventory:
    """Return the part of ``inventory`` the findings of ``subjects`` depend on.

    That is their own entries, the staff serving the clients among them (each serving
    only those clients) and every system; the organisation stays whole.
    """
    clients = [c for c in inventory.clients if f"client:{c.id}" in subjects]
    kept = {c.id for c in clients}
    staff = []
    for person in inventory.staff:
        served = [c for c in person.clients if c in kept]
        if served or f"staff:{person.id}" in subjects:
            if len(served) != len(person.clients):
                person = person.model_copy(update={"clients": served})
            staff.append(person)
    focused = inventory.model_copy(update={"clients": clients, "staff": staff})
    focused.origins.update(inventory.origins)
    return focused


class _Reach:
    """Which subjects a change can affect: the rest of the organisation is judged as before."""

    def __init__(self, m: DataMap, before: Assessment) -> None:
        self.by_system: dict[str, set[str]] = {}
        self.by_person: dict[str, set[str]] = {}
        for subject, sm in before.subject_maps.items():
            for unit, _, access in sm.units:
                self.by_system.setdefault(unit.system.removeprefix("system:"), set()).add(subject)
                for hit in access:
                    self.by_person.setdefault(hit.recipient, set()).add(subject)
        self.entities: dict[str, set[str]] = {}
        for person in m.inventory.staff:
            if person.entity is not None:
                self.entities.setdefault(person.entity.name, set()).add(f"staff:{person.id}")
        self.clients = {f"client:{c.id}" for c in m.inventory.clients}

    def of(self, changes: tuple[str, ...]) -> set[str] | None:
        """Return the subjects the changes can affect (None: anyone)."""
        from residency.whatif import (
            AddEntitySafeguard,
            AmendResidency,
            StopAccess,
            parse_change,
        )

        found: set[str] = set()
        for text in changes:
            change = parse_change(text)
            if isinstance(change, StopAccess):
                if change.client == "*":
                    found |= self.clients
                else:
                    found.add(f"client:{change.client}")
            elif isinstance(change, AmendResidency):
                found.add(f"client:{change.client}")
            elif isinstance(change, AddEntitySafeguard):
                for person in self.entities.get(change.entity, ()):
                    found.add(person)
                    found |= self.by_person.get(person, set())
            elif hasattr(change, "system"):
                found |= self.by_system.get(change.system, set())
            else:
                return None
        return found


def _rank(
    item: tuple[str, Any], covered: frozenset[tuple[str, ...]], by_key: dict[Any, Finding]
) -> tuple[Any, ...]:
    """Order actions by what each adds to those chosen before it, best first: high findings
    resolved net of those introduced, then medium, low, transfers improved, the change."""
    change, (_, eff, new_by_key) = item
    fresh = [by_key[k] for k in eff.resolved - covered]
    worse = [new_by_key[k] for k in eff.introduced]
    gain = [
        sum(f.severity == s for f in fresh) - sum(f.severity == s for f in worse)
        for s in SEVERITIES
    ]
    return (*(-g for g in gain), -eff.transfers_improved, change)


def _action(
    c: Candidate,
    eff: _Effect,
    by_key: dict[tuple[str, ...], Finding],
    new_by_key: dict[tuple[str, ...], Finding],
    before: Assessment,
) -> Action:
    resolved = sorted((by_key[k] for k in eff.resolved), key=lambda f: f.id)
    introduced = sorted((new_by_key[k] for k in eff.introduced), key=lambda f: f.id)
    titles = Counter(f.title for f in resolved)
    evidence = [f"{n} x {t}" for t, n in sorted(titles.items(), key=lambda x: (-x[1], x[0]))]
    first = next((f for f in resolved if f.evidence), None)
    if first is not None:
        evidence.append(f"e.g. {first.evidence[0]}")
    return Action(
        c.kind,
        c.change,
        c.changes,
        c.title,
        c.how,
        _by_severity(resolved),
        _by_severity(introduced),
        tuple(f.id for f in resolved),
        tuple(f.id for f in introduced),
        tuple(sorted({f.subject for f in resolved})),
        eff.transfers_improved,
        tuple(evidence[:6]),
    )


def _combine(
    m: DataMap,
    plan: Plan,
    before: Assessment,
    as_of: date,
    judged: dict[tuple[Any, ...], Any],
    reach: _Reach,
) -> None:
    # Two regimes may accept the same instrument: sign it once with each party.
    chosen = list(dict.fromkeys(change for a in plan.actions[: plan.top] for change in a.changes))
    plan.combined_changes = chosen
    if not chosen:
        plan.remaining = dict(plan.before)
        plan.combined_resolves = dict.fromkeys(SEVERITIES, 0)
        plan.combined_introduces = dict.fromkeys(SEVERITIES, 0)
        return
    only = reach.of(tuple(chosen))  # the others keep today's findings
    after = _scenario(m, chosen, as_of, judged, only)
    old = {f.key: f for f in before.findings if only is None or f.subject in only}
    new = {f.key: f for f in after.findings}
    plan.combined_resolves = _by_severity([old[k] for k in old.keys() - new.keys()])
    plan.combined_introduces = _by_severity([new[k] for k in new.keys() - old.keys()])
    untouched = [f for f in before.findings if only is not None and f.subject not in only]
    plan.remaining = _by_severity([*untouched, *after.findings])


def _keyed(assessment: Assessment) -> dict[tuple[str, ...], Finding]:
    """Return the assessment's findings by their natural key."""
    return {f.key: f for f in assessment.findings}
