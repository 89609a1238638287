"""Transfer routes, and the walk that judges each distinct legal question once.

A *hit* is one place a subject's data reaches: one of a system's reaches (hosting, vendor,
sub-processor, training) or a staff member's access. Every subject whose data of the same
categories sits in the same system, with the same origin, shares that system's hits: they
are computed once and reused, and each hit's basis comes from
:meth:`residency.rules.Context.verdict`, which judges each distinct key once. The walk
never builds one object per location, so an organisation of 100,000 staff is judged in
seconds; :class:`residency.query.Location` objects are made only when asked for.

A *route* is one row of the transfer register: one origin regime (or regimes), one
destination, one recipient, one kind of location, one basis and instrument, with the
subjects whose data takes it.

>>> import residency
>>> routes = residency.load().assessment(as_of="2026-11-26").routes
>>> r = next(r for r in routes if r.recipient == "Amazon Web Services, Inc.")
>>> r.id.startswith("r-") and r.kind
'processed'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import networkx as nx

from residency import query
from residency.graph import ORGANISATION
from residency.query import Location, Unit
from residency.rules import (
    CONFIDENCE,
    Context,
    Judgement,
    SourceRef,
    Verdict,
    in_origin,
)


class RouteKey(NamedTuple):
    """What makes a route: origin regime(s), destination, recipient, kind, basis, instrument."""

    regimes: tuple[str, ...]
    destination: str
    recipient: str
    recipient_type: str
    kind: str
    basis: str
    instrument: str | None

    @property
    def id(self) -> str:
        """Return the route's stable id, derived from its key (never from an order)."""
        parts = (
            *self.regimes,
            "|",
            self.destination,
            self.recipient,
            self.recipient_type,
            self.kind,
            self.basis,
            self.instrument or "",
        )
        return "r-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]

    def sort_key(self) -> tuple[str, ...]:
        """Return the order routes are listed in: regime, destination, kind, recipient."""
        return (
            " ".join(self.regimes),
            self.destination,
            self.kind,
            self.recipient,
            self.basis,
            self.instrument or "",
        )


@lru_cache(maxsize=1 << 20)
def route_id(key: RouteKey) -> str:
    """Return a route key's id (remembered: a route is named once per subject it carries)."""
    return key.id


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a subject's data reaches, with its verdict (None: inside the origin)."""

    kind: str
    country: str
    system: str  # the system node id
    system_label: str
    recipient: str
    recipient_type: str
    tail: tuple[str, str]  # the path's last two nodes: (hop, country) or (person, country)
    data: tuple[str, ...]
    detail: str
    verdict: Verdict | None
    route: RouteKey | None
    since: date | None = None
    until: date | None = None

    def location(self, subject: str, unit: Unit) -> Location:
        """Return the hit as a full :class:`~residency.query.Location` of ``subject``."""
        return Location(
            subject,
            self.kind,
            self.country,
            self.system_label,
            self.recipient,
            self.recipient_type,
            self.data,
            (*unit.prefix, *self.tail),
            self.detail,
            self.since,
            self.until,
        )


@dataclass(slots=True)
class SubjectMap:
    """One subject's data, system by system: the hits shared with others and its own access."""

    subject: str
    origin: str
    units: list[tuple[Unit, tuple[Hit, ...], tuple[Hit, ...]]]
    routes: dict[RouteKey, set[str]] = field(default_factory=dict)  # route -> systems

    def pairs(self) -> list[tuple[Unit, Hit]]:
        """Return every (unit, hit) of the subject: each place its data reaches."""
        return [(u, h) for u, shared, access in self.units for h in (*shared, *access)]


@dataclass(frozen=True)
class Route:
    """One row of the transfer register, with the subjects whose data takes it."""

    key: RouteKey
    subjects: tuple[str, ...]
    systems: tuple[str, ...]
    data: tuple[str, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def id(self) -> str:
        """Return the route's stable id."""
        return route_id(self.key)

    @property
    def regimes(self) -> tuple[str, ...]:
        """Return the origin regime(s) the route is judged under."""
        return self.key.regimes

    @property
    def destination(self) -> str:
        """Return the destination country or subdivision."""
        return self.key.destination

    @property
    def recipient(self) -> str:
        """Return who receives the data (the legal party, for staff access)."""
        return self.key.recipient

    @property
    def kind(self) -> str:
        """Return the kind of location: stored, processed, accessed, trained."""
        return self.key.kind

    @property
    def basis(self) -> str:
        """Return the legal basis."""
        return self.key.basis

    @property
    def instrument(self) -> str | None:
        """Return the instrument the basis rests on, if any."""
        return self.key.instrument

    @cached_property
    def tia_required(self) -> bool:
        """Tell whether a transfer impact (or risk) assessment is required."""
        return any(v.tia_required for v in self.verdicts)

    @cached_property
    def confidence(self) -> str | None:
        """Return the lowest confidence of the facts the basis rests on."""
        levels = [v.confidence for v in self.verdicts if v.confidence]
        return max(levels, key=CONFIDENCE.index) if levels else None

    @cached_property
    def sources(self) -> tuple[SourceRef, ...]:
        """Return every legal source behind the route, without repeats."""
        return tuple(dict.fromkeys(s for v in self.verdicts for s in v.sources))

    @cached_property
    def notes(self) -> list[str]:
        """Return the notes, risks and missing facts a reader must see."""
        return list(dict.fromkeys(n for v in self.verdicts for n in v.notes))

    @cached_property
    def judgements(self) -> tuple[Judgement, ...]:
        """Return each regime's distinct judgement (regime, basis, instrument)."""
        seen: dict[tuple[str, str, str | None], Judgement] = {}
        for v in self.verdicts:
            for j in v.judgements:
                seen.setdefault((j.regime, j.basis, j.instrument), j)
        return tuple(seen[k] for k in sorted(seen, key=lambda k: (k[0], k[1], k[2] or "")))


class Walker:
    """Walks subjects, sharing hits between them and collecting the routes their data takes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.G: nx.DiGraph = ctx.G
        self._shared: dict[tuple[str, str, tuple[str, ...]], tuple[Hit, ...]] = {}
        self._parties: dict[str, tuple[str, str]] = {}
        self._regimes: dict[str, tuple[str, ...]] = {}
        self._keys: dict[tuple[Any, ...], RouteKey] = {}
        self.route_data: dict[RouteKey, set[str]] = {}
        self.route_verdicts: dict[RouteKey, dict[Verdict, None]] = {}

    def subject(self, subject: str) -> SubjectMap:
        """Answer where one subject's data goes, unit by unit, with every hit judged."""
        G = self.G
        node = G.nodes[subject]
        origin = node.get("country") or G.nodes[ORGANISATION]["country"]
        found = SubjectMap(subject, origin, [])
        routes = found.routes
        for unit in query.units(G, subject):
            shared = self._shared_hits(origin, unit)
            people = query.servers(G, subject, unit.system)
            access = tuple(self._access(origin, unit, who) for who in people)
            found.units.append((unit, shared, access))
            for hit in (*shared, *access):
                if hit.route is not None:
                    systems = routes.get(hit.route)
                    if systems is None:
                        routes[hit.route] = {unit.system}
                    else:
                        systems.add(unit.system)
        return found

    def routes(self, subjects: dict[str, SubjectMap]) -> list[Route]:
        """Return the register: every route with the subjects and systems it carries."""
        carried: dict[RouteKey, list[str]] = {}
        systems: dict[RouteKey, set[str]] = {}
        for name, found in subjects.items():
            for key, through in found.routes.items():
                carried.setdefault(key, []).append(name)
                systems.setdefault(key, set()).update(through)
        out = [
            Route(
                key,
                tuple(sorted(names)),
                tuple(sorted(systems[key])),
                tuple(sorted(self.route_data[key])),
                tuple(
                    sorted(
                        self.route_verdicts[key],
                        key=lambda v: repr(v.judgements),
                    )
                ),
            )
            for key, names in carried.items()
        ]
        return sorted(out, key=lambda r: r.key.sort_key())

    def _shared_hits(self, origin: str, unit: Unit) -> tuple[Hit, ...]:
        key = (origin, unit.system, unit.data)
        found = self._shared.get(key)
        if found is None:
            label = self.G.nodes[unit.system]["label"]
            hits = []
            for r in query.reaches(self.G, unit.system):
                data = r.data_for(unit.data)
                if not data:
                    continue
                judged = self._judge(origin, r.kind, r.country, r.hop, unit.system, data)
                route = self._route(judged, r.kind, r.country, r.recipient, r.recipient_type, data)
                hits.append(
                    Hit(
                        r.kind,
                        r.country,
                        unit.system,
                        label,
                        r.recipient,
                        r.recipient_type,
                        (r.hop, r.place),
                        data,
                        r.detail,
                        judged[0],
                        route,
                        r.since,
                        r.until,
                    )
                )
            found = tuple(hits)
            self._shared[key] = found
        return found

    def _access(self, origin: str, unit: Unit, who: str) -> Hit:
        code, rtype, detail = query.person(self.G, who)
        judged = self._judge(origin, "accessed", code, who, unit.system, unit.data)
        party, party_type = self._party(who)
        return Hit(
            "accessed",
            code,
            unit.system,
            self.G.nodes[unit.system]["label"],
            who,
            rtype,
            (who, f"country:{code}"),
            unit.data,
            detail,
            judged[0],
            self._route(judged, "accessed", code, party, party_type, unit.data),
        )

    def _judge(
        self, origin: str, kind: str, country: str, hop: str, system: str, data: tuple[str, ...]
    ) -> tuple[Verdict | None, tuple[str, ...] | None]:
        if in_origin(origin, country):
            return None, None
        regimes = self._regimes.get(origin)
        if regimes is None:
            found = self.ctx.origin(origin)[0]
            regimes = tuple(r.id for r in found) or (f"{origin} (no regime data)",)
            self._regimes[origin] = regimes
        return self.ctx.verdict(origin, kind, country, hop, system, data), regimes

    def _route(
        self,
        judged: tuple[Verdict | None, tuple[str, ...] | None],
        kind: str,
        country: str,
        recipient: str,
        recipient_type: str,
        data: tuple[str, ...],
    ) -> RouteKey | None:
        verdict, regimes = judged
        if verdict is None or regimes is None:
            return None
        memo = (id(verdict), kind, country, recipient, recipient_type, data)
        key = self._keys.get(memo)
        if key is None:
            key = RouteKey(
                regimes, country, recipient, recipient_type, kind, verdict.basis, verdict.instrument
            )
            self._keys[memo] = key
            self.route_data.setdefault(key, set()).update(data)
            self.route_verdicts.setdefault(key, {})[verdict] = None
        return key

    def _party(self, who: str) -> tuple[str, str]:
        """Answer which legal party receives a staff member's access, and what kind it is."""
        found = self._parties.get(who)
        if found is None:
            G = self.G
            node = G.nodes[who]
            employers = [v for v, e in G.succ[who].items() if e["kind"] == "employed_by"]
            if employers:
                found = (G.nodes[employers[0]]["label"], f"{node['type']} through an entity")
            elif node["type"] == "employee":
                found = (f"{G.nodes[ORGANISATION]['label']} (own staff)", "own staff")
            else:
                found = (who, "contractor")
            self._parties[who] = found
        return found
