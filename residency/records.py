"""One transfer assessment record per route that needs one, pre-filled, the rest left open.

A route needs a record when its basis is a safeguard (standard clauses and the like) or
when it has no basis. The record follows the six steps of the EDPB Recommendations 01/2020
on supplementary measures; each step is a list of questions, each answered from the
inventory and the legal data (``data/jurisdictions``) where they record the answer, and
otherwise left ``None``: "to be completed" by a person. Nothing legal is stated here that
the legal data does not record, with its source and confidence.

>>> import residency
>>> from residency.jurisdictions import legal_data
>>> m = residency.load()
>>> records = route_records(m.assessment(as_of="2026-12-02"), legal_data())
>>> [s.number for s in records[0].steps]
[1, 2, 3, 4, 5, 6]
>>> any(item.answer is None for r in records for s in r.steps for item in s.items)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from residency import places, query
from residency.rules import SourceRef, _from_origins, _in_force, _ref

if TYPE_CHECKING:
    import networkx as nx

    from residency.findings import Assessment
    from residency.jurisdictions import LegalData
    from residency.model import AssessmentRecord
    from residency.routes import Route

TO_COMPLETE = "to be completed"
FRAMEWORK = "EDPB Recommendations 01/2020 on supplementary measures, six steps"
NEEDS_RECORD = ("safeguard", "no_basis")
SUBJECTS_NAMED = 20  # subjects named in a record; the register lists them all
STEP_TITLES = (
    "Know your transfer",
    "Identify the transfer tool",
    "Assess the law and practice of the destination",
    "Identify supplementary measures",
    "Procedural steps",
    "Re-evaluate at appropriate intervals",
)


@dataclass(frozen=True)
class Item:
    """One question of a step, with its answer (None: to be completed) and its sources."""

    question: str
    answer: str | None
    sources: tuple[SourceRef, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the item as JSON-ready data, its sources as the export's ids (``src-...``)."""
        from residency.export import source_id

        return {
            "question": self.question,
            "answer": self.answer,
            "to_complete": self.answer is None,
            "sources": sorted({source_id(s) for s in self.sources}),
        }


@dataclass(frozen=True)
class Step:
    """One of the six steps: its number, title and questions."""

    number: int
    title: str
    items: tuple[Item, ...]

    @property
    def complete(self) -> bool:
        """Tell whether every question of the step is answered."""
        return all(i.answer is not None for i in self.items)


@dataclass(frozen=True)
class RouteRecord:
    """The assessment record of one route, on one as-of date."""

    route: str  # the route's id (r-...)
    basis: str
    as_of: date
    review_by: date
    steps: tuple[Step, ...]

    @property
    def open_items(self) -> int:
        """Count the questions left to be completed."""
        return sum(i.answer is None for s in self.steps for i in s.items)

    @property
    def sources(self) -> tuple[SourceRef, ...]:
        """Return every legal source the record cites, without repeats."""
        return tuple(dict.fromkeys(src for s in self.steps for i in s.items for src in i.sources))

    def as_dict(self) -> dict[str, Any]:
        """Return the record as JSON-ready data (the export's ``transfer_assessments``)."""
        return {
            "route": self.route,
            "framework": FRAMEWORK,
            "basis": self.basis,
            "as_of": self.as_of.isoformat(),
            "review_by": self.review_by.isoformat(),
            "open_items": self.open_items,
            "steps": [
                {
                    "number": s.number,
                    "title": s.title,
                    "complete": s.complete,
                    "items": [i.as_dict() for i in s.items],
                }
                for s in self.steps
            ],
        }


def needs_record(route: Route) -> bool:
    """Tell whether a route needs an assessment record (a safeguard, or no basis)."""
    return route.basis in NEEDS_RECORD


def review_date(as_of: date) -> date:
    """Answer the proposed re-evaluation date: one year after ``as_of`` (28 Feb for 29 Feb)."""
    try:
        return as_of.replace(year=as_of.year + 1)
    except ValueError:
        return as_of.replace(year=as_of.year + 1, day=28)


def route_records(
    assessment: Assessment, data: LegalData, recorded: Sequence[AssessmentRecord] = ()
) -> list[RouteRecord]:
    """Return one pre-filled record per route that needs one, in register order.

    ``recorded`` are the assessments the inventory records (its ``assessments:``): with
    any, step 6 says which one covers the route on the as-of date, or that none does (and
    which is past its review date).
    """
    assert assessment.context is not None
    G = assessment.context.G
    day = assessment.as_of
    return [
        RouteRecord(
            r.id,
            r.basis,
            day,
            review_date(day),
            (
                Step(1, STEP_TITLES[0], _know(G, r)),
                Step(2, STEP_TITLES[1], _tool(r)),
                Step(3, STEP_TITLES[2], _destination(data, r, _origins(assessment, r), day)),
                Step(4, STEP_TITLES[3], _measures(G, r)),
                Step(5, STEP_TITLES[4], _procedure(data, r, _origins(assessment, r), day)),
                Step(6, STEP_TITLES[5], (*_recorded(recorded, r, day), *_reevaluate(day))),
            ),
        )
        for r in assessment.routes
        if needs_record(r)
    ]


def _origins(assessment: Assessment, route: Route) -> tuple[str, ...]:
    """Return the origin countries of the subjects whose data takes the route."""
    maps = assessment.subject_maps
    return tuple(sorted({maps[s].origin for s in route.subjects if s in maps}))


def _applies(fact: Any, origins: tuple[str, ...], day: date) -> bool:
    """Tell whether a dated fact, limited to some origins or not, holds for one of ``origins``."""
    return _in_force(fact.start, fact.until, day) and any(
        _from_origins(fact.origins, o, day) for o in origins
    )


def _unique(items: list[Item]) -> tuple[Item, ...]:
    return tuple(dict.fromkeys(items))


def _hops(G: nx.DiGraph, route: Route) -> list[tuple[str, query.Reach]]:
    """Return (system, reach) for each place in the route's systems the route describes."""
    return [
        (system, reach)
        for system in route.systems
        for reach in query.reaches(G, system)
        if reach.recipient == route.recipient
        and reach.country == route.destination
        and reach.kind == route.kind
    ]


def _who(subjects: tuple[str, ...]) -> str:
    counts: dict[str, int] = {}
    for s in subjects:
        kind = s.split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    told = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    named = ", ".join(subjects[:SUBJECTS_NAMED])
    more = f" and {len(subjects) - SUBJECTS_NAMED} more" if len(subjects) > SUBJECTS_NAMED else ""
    return f"{len(subjects)} ({told}): {named}{more}"


def _know(G: nx.DiGraph, route: Route) -> tuple[Item, ...]:
    systems = [G.nodes[s]["label"] for s in route.systems]
    # A sub-processor's detail is its purpose; a vendor's or a host's says what it is.
    purposes = route.key.recipient_type == "subprocessor"
    details = sorted({r.detail for _, r in _hops(G, route) if r.detail}) if purposes else []
    onward = _onward(G, route)
    return (
        Item("Data categories", ", ".join(route.data)),
        Item("Data subjects", _who(route.subjects)),
        Item(
            "Origin and destination",
            f"from data under {', '.join(route.regimes)} to {route.destination} "
            f"({places.place_name(route.destination)}); the data is {route.kind} there",
        ),
        Item(
            "Recipient and its role in the inventory",
            f"{route.recipient} ({route.key.recipient_type}), through {', '.join(systems)}",
        ),
        Item("Purpose, as recorded in the inventory", "; ".join(details) or None),
        Item("Controller or processor role under the contract", None),
        Item("Onward transfers (sub-processors recorded in the inventory)", onward),
    )


def _onward(G: nx.DiGraph, route: Route) -> str | None:
    if route.key.recipient_type != "vendor":
        return "none recorded in the inventory for this recipient"
    found: dict[str, set[str]] = {}
    for system in route.systems:
        for reach in query.reaches(G, system):
            if reach.recipient_type == "subprocessor":
                found.setdefault(reach.recipient, set()).add(reach.country)
    if not found:
        return "none recorded in the inventory"
    return "; ".join(f"{name} ({', '.join(sorted(c))})" for name, c in sorted(found.items()))


def _tool(route: Route) -> tuple[Item, ...]:
    items = []
    for j in route.judgements:
        items.append(
            Item(
                f"Under {j.regime}",
                f"{j.basis}" + (f": {j.instrument}" if j.instrument else ""),
                j.sources,
            )
        )
        if j.unaccepted:
            items.append(
                Item(
                    f"Recorded for the recipient but not accepted under {j.regime}",
                    ", ".join(j.unaccepted),
                )
            )
    if route.basis == "safeguard":
        items.append(Item("Instrument the transfer rests on", route.instrument))
        items.append(
            Item(
                "Transfer impact (risk) assessment required by the legal data",
                "yes" if route.tia_required else "no",
            )
        )
        items.append(Item("Signed version, date and parties of the instrument", None))
    else:
        notes = [n for n in route.notes if n.startswith("Safeguards this regime accepts")]
        items.append(
            Item(
                "Instrument the transfer rests on",
                "none: no instrument the origin's regime accepts is recorded for this recipient"
                + (f" ({'; '.join(notes)})" if notes else ""),
            )
        )
        items.append(Item("Instrument chosen, or derogation relied on", None))
    return tuple(items)


def _destination(
    data: LegalData, route: Route, origins: tuple[str, ...], day: date
) -> tuple[Item, ...]:
    items = []
    for regime in data.regimes_for(route.destination, day):
        laws = "; ".join(
            f"{law.name} ({law.citation}; confidence {law.confidence})" for law in regime.laws
        )
        items.append(
            Item(
                f"Data protection regime recorded for {route.destination} in the legal data",
                f"{regime.name} (regime {regime.id}, data as of {regime.as_of}, confidence "
                f"{regime.confidence})" + (f": {laws}" if laws else ""),
                tuple(_ref(regime, law) for law in regime.laws),
            )
        )
    for rid in route.regimes:
        try:
            origin = data.regime(rid)
        except KeyError:
            continue
        for fact in origin.adequacy:
            inside = places.within(route.destination, places.expand(fact.destination, day))
            if not inside or not _applies(fact, origins, day):
                continue
            risk = f"; risk recorded: {fact.risk}" if fact.risk else ""
            items.append(
                Item(
                    f"{rid} adequacy recorded for {fact.destination}",
                    f"{fact.instrument}; scope: {fact.scope} (confidence {fact.confidence})" + risk,
                    (_ref(origin, fact),),
                )
            )
    risks = [n for n in route.notes if n.startswith("risk:")]
    if risks:
        items.append(Item("Risks recorded for this route's basis", "; ".join(risks)))
    if not any(i.question.startswith("Data protection regime") for i in items):
        items.append(Item(f"Data protection law of {route.destination}", None))
    items.append(
        Item(
            "Laws and practice of public authorities' access to the data (the legal data "
            "records none)",
            None,
        )
    )
    return _unique(items)


def _measures(G: nx.DiGraph, route: Route) -> tuple[Item, ...]:
    certified = sorted(
        {c for _, reach in _hops(G, route) for c in G.nodes[reach.hop].get("certifications") or ()}
    )
    return (
        Item(
            "Certifications recorded for the recipient",
            ", ".join(certified) if certified else "none recorded in the inventory",
        ),
        Item("Technical measures (e.g. encryption, pseudonymisation)", None),
        Item("Contractual and organisational measures", None),
    )


def _procedure(
    data: LegalData, route: Route, origins: tuple[str, ...], day: date
) -> tuple[Item, ...]:
    items = []
    if route.basis == "safeguard":
        for j in route.judgements:
            if j.basis == "safeguard" and j.note:
                items.append(
                    Item(f"Recorded under {j.regime} for the instrument", j.note, j.sources)
                )
    else:
        for rid in route.regimes:
            try:
                regime = data.regime(rid)
            except KeyError:
                continue
            for fact in regime.safeguards:
                if fact.note and _applies(fact, origins, day):
                    items.append(
                        Item(
                            f"If {fact.name} is chosen ({rid})",
                            fact.note,
                            (_ref(regime, fact),),
                        )
                    )
    items.append(Item("Steps taken (notifications, approvals, signatures) and when", None))
    return _unique(items)


def _recorded(records: Sequence[AssessmentRecord], route: Route, day: date) -> tuple[Item, ...]:
    """Say which recorded assessment covers the route (nothing when none are recorded)."""
    if not records:
        return ()
    from residency.assessments import coverage

    found = coverage(records, route, day)
    record = found.record
    if record is not None:
        parts = [f"completed {record.completed}"]
        if record.review_by is not None:
            parts.append(f"to be reviewed by {record.review_by}")
        if record.reference:
            parts.append(f"document {record.reference}")
        answer = f"{record.id} ({', '.join(parts)}), from the inventory's assessments:"
        return (Item("Assessment recorded for this route", answer),)
    question = "Assessment recorded for this route (none in the inventory covers it"
    if found.expired:
        late = found.expired[0]
        question += f"; {late.id} was due for review on {late.review_by}"
    return (Item(question + ")", None),)


def _reevaluate(day: date) -> tuple[Item, ...]:
    return (
        Item(
            "Proposed re-evaluation date",
            f"{review_date(day)}: one year after this assessment's as-of date ({day}), a "
            "default chosen by the tool, not a date set by law; earlier if the inventory "
            "or the law changes",
        ),
        Item("Who re-evaluates, and the date agreed", None),
    )
