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
    Context,
    Judgement,
    SourceRef,
    Verdict,
    in_origin,
)
from residency.vocabulary import least_confident


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


class Hit(NamedTuple):
    """One place a subject's data reaches, with its verdict (None: inside the origin).

    A named tuple: an enterprise makes about a million of them, and a tuple is made
    several times faster than a frozen dataclass.
    """

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
    # route -> systems; subjects alike may share one dict: never change it after the walk
    routes: dict[RouteKey, frozenset[str]] = field(default_factory=dict)

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
        return least_confident(v.confidence for v in self.verdicts if v.confidence)

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
    """Walks subjects, sharing hits between them and collecting the routes their data takes.

    What is remembered, and on what it depends (so that nothing is judged twice):

    - a system's reaches, judged, per (origin, system, the categories the origin's rules
      look at): a reach's verdict and route depend on nothing else;
    - a system's hits per (origin, system, categories held): shared by every subject alike;
    - a staff member's access per (origin, person, categories judged): their country,
      legal party, verdict and route.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.G: nx.DiGraph = ctx.G
        self._shared: dict[tuple[str, str, tuple[str, ...]], _Shared] = {}
        self._judged: dict[tuple[str, str, tuple[str, ...]], list[_Judged | None]] = {}
        self._people: dict[str, _Person] = {}
        self._access_memo: dict[tuple[str, str, tuple[str, ...]], _Judged] = {}
        self._origins: dict[str, tuple[tuple[str, ...], frozenset[str], bool]] = {}
        self._relevant: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        self._inside: dict[tuple[str, str], bool] = {}
        self._labels: dict[str, str] = {}
        self._staff_units: list[tuple[str, tuple[str, ...]]] | None = None
        self._alike: dict[tuple[Any, ...], dict[RouteKey, frozenset[str]]] = {}
        # The few distinct sets of systems a route goes through, each kept once: a set per
        # subject and route was a third of the walk's memory at enterprise size.
        self._through: dict[frozenset[str], frozenset[str]] = {}
        self._keys: dict[tuple[Any, ...], RouteKey] = {}
        self.route_data: dict[RouteKey, set[str]] = {}
        self.route_verdicts: dict[RouteKey, dict[Verdict, None]] = {}

    def subject(self, subject: str) -> SubjectMap:
        """Answer where one subject's data goes, unit by unit, with every hit judged."""
        G = self.G
        node = G.nodes[subject]
        origin = node.get("country") or G.nodes[ORGANISATION]["country"]
        found = SubjectMap(subject, origin, [])
        routes: dict[RouteKey, set[str]] = {}
        units = found.units
        serving = None
        if node["kind"] == "client":  # query.servers, with the client's people found once
            succ = G._succ  # the graph's own dicts: no mapping view per step
            serving = [u for u, e in G._pred[subject].items() if e["kind"] == "serves"]
        for unit in self._units(subject, node["kind"]):
            system = unit.system
            shared, shared_routes = self._shared_hits(origin, unit)
            if serving is None:
                people = query.servers(G, subject, system)
            else:
                people = [u for u in serving if system in succ[u]]
            if people:
                access, access_routes = self._access_hits(origin, unit, people)
            else:
                access, access_routes = (), ()
            units.append((unit, shared, access))
            for key in (*shared_routes, *access_routes):
                systems = routes.get(key)
                if systems is None:
                    routes[key] = {system}
                else:
                    systems.add(system)
        alike = None
        if not any(access for _, _, access in units):
            # Subjects alike (staff data: the same origin and systems) take the same routes:
            # one dict serves them all (it is only read from here on).
            alike = (origin, tuple((u.system, u.data) for u, _, _ in units))
            known = self._alike.get(alike)
            if known is not None:
                found.routes = known
                return found
        found.routes = self._frozen(routes)
        if alike is not None:
            self._alike[alike] = found.routes
        return found

    def _frozen(self, routes: dict[RouteKey, set[str]]) -> dict[RouteKey, frozenset[str]]:
        """Return the routes with each set of systems as one shared frozenset."""
        seen = self._through
        out = {}
        for key, systems in routes.items():
            frozen = frozenset(systems)
            out[key] = seen.setdefault(frozen, frozen)
        return out

    def _units(self, subject: str, kind: str) -> list[Unit]:
        """Answer :func:`residency.query.units`, reading the graph's own dicts."""
        G = self.G
        if kind == "client":
            return [
                Unit(system, tuple(attrs["data"]), (subject, system))
                for system, attrs in G._succ[subject].items()
                if attrs["kind"] == "uses"
            ]
        if kind == "staff":
            if self._staff_units is None:  # the organisation's staff data: one list for all
                self._staff_units = [
                    (system, tuple(attrs["data"]))
                    for system, attrs in G._succ[ORGANISATION].items()
                    if attrs["kind"] == "keeps_staff_data_in"
                ]
            return [
                Unit(system, data, (subject, ORGANISATION, system))
                for system, data in self._staff_units
            ]
        return query.units(G, subject)

    def routes(self, subjects: dict[str, SubjectMap]) -> list[Route]:
        """Return the register: every route with the subjects and systems it carries."""
        carried: dict[RouteKey, list[str]] = {}
        systems: dict[RouteKey, set[str]] = {}
        alike: dict[int, tuple[dict[RouteKey, frozenset[str]], list[str]]] = {}
        for name, found in subjects.items():  # subjects sharing one routes dict: one pass
            group = alike.get(id(found.routes))
            if group is None:
                alike[id(found.routes)] = (found.routes, [name])
            else:
                group[1].append(name)
        for routes, names_of in alike.values():  # in order of each group's first subject
            for key, through in routes.items():
                names = carried.get(key)
                if names is None:
                    carried[key] = list(names_of)
                    systems[key] = set(through)
                else:
                    names.extend(names_of)
                    systems[key].update(through)
        order: dict[Verdict, str] = {}

        def by_judgements(v: Verdict) -> str:
            text = order.get(v)
            if text is None:
                text = order[v] = repr(v.judgements)
            return text

        out = []
        while carried:  # each list goes as its route is made: never two copies of them all
            key, names = carried.popitem()
            names.sort()
            out.append(
                Route(
                    key,
                    tuple(names),
                    tuple(sorted(systems.pop(key))),
                    tuple(sorted(self.route_data[key])),
                    tuple(sorted(self.route_verdicts[key], key=by_judgements)),
                )
            )
        return sorted(out, key=lambda r: r.key.sort_key())

    def _origin(self, origin: str) -> tuple[tuple[str, ...], frozenset[str], bool]:
        """Return the origin's regime ids, the categories they judge, whether any regime."""
        found = self._origins.get(origin)
        if found is None:
            regimes, judged = self.ctx.origin(origin)
            ids = tuple(r.id for r in regimes) or (f"{origin} (no regime data)",)
            found = self._origins[origin] = (ids, judged, bool(regimes))
        return found

    def _relevant_of(
        self, origin: str, judged: frozenset[str], data: tuple[str, ...]
    ) -> tuple[str, ...]:
        key = (origin, data)
        found = self._relevant.get(key)
        if found is None:
            found = tuple(c for c in data if c in judged) if judged else ()
            self._relevant[key] = found
        return found

    def _in_origin(self, origin: str, country: str) -> bool:
        key = (origin, country)
        found = self._inside.get(key)
        if found is None:
            found = self._inside[key] = in_origin(origin, country)
        return found

    def _label(self, system: str) -> str:
        found = self._labels.get(system)
        if found is None:
            found = self._labels[system] = self.G.nodes[system]["label"]
        return found

    def _shared_hits(self, origin: str, unit: Unit) -> _Shared:
        key = (origin, unit.system, unit.data)
        found = self._shared.get(key)
        if found is not None:
            return found
        system, data = unit.system, unit.data
        label = self._label(system)
        reaches = query.reaches(self.G, system)
        relevant = self._relevant_of(origin, self._origin(origin)[1], data)
        judged = self._judged.get((origin, system, relevant))
        if judged is None:
            judged = self._judged[(origin, system, relevant)] = [None] * len(reaches)
        hits = []
        seen: dict[RouteKey, None] = {}
        for i, r in enumerate(reaches):
            reached = data if r.covers is None else tuple(c for c in data if c in r.covers)
            if not reached:
                continue  # judged only where data arrives: a route's verdicts are its own
            answer = judged[i]
            if answer is None:
                answer = judged[i] = self._judge_reach(origin, system, r, relevant)
            verdict, route = answer
            hits.append(
                Hit(
                    r.kind,
                    r.country,
                    system,
                    label,
                    r.recipient,
                    r.recipient_type,
                    (r.hop, r.place),
                    reached,
                    r.detail,
                    verdict,
                    route,
                    r.since,
                    r.until,
                )
            )
            if route is not None:
                self.route_data[route].update(reached)
                seen[route] = None
        found = self._shared[key] = (tuple(hits), tuple(seen))
        return found

    def _judge_reach(
        self, origin: str, system: str, r: query.Reach, relevant: tuple[str, ...]
    ) -> _Judged:
        """Return one reach's (verdict, route) for data of these judged categories."""
        if self._in_origin(origin, r.country):
            return None, None
        regimes, _, any_regime = self._origin(origin)
        recipient = self.ctx.recipient(r.hop, system) if any_regime else None
        if r.covers is not None:
            relevant = tuple(c for c in relevant if c in r.covers)
        verdict = self.ctx.judged(origin, r.kind, r.country, recipient, relevant)
        return verdict, self._route(
            verdict, regimes, r.kind, r.country, r.recipient, r.recipient_type
        )

    def _access_hits(self, origin: str, unit: Unit, people: list[str]) -> _Shared:
        system, data = unit.system, unit.data
        label = self._label(system)
        relevant: tuple[str, ...] | None = None
        hits = []
        seen: dict[RouteKey, None] = {}
        memo = self._access_memo
        for who in people:
            person = self._people.get(who)
            if person is None:
                person = self._person(who)
            code, rtype, detail, tail = person[0], person[1], person[2], person[3]
            if self._in_origin(origin, code):
                hits.append(
                    Hit("accessed", code, system, label, who, rtype, tail, data, detail, None, None)
                )
                continue
            if relevant is None:
                relevant = self._relevant_of(origin, self._origin(origin)[1], data)
            judged = memo.get((origin, who, relevant))
            if judged is None:
                judged = memo[(origin, who, relevant)] = self._judge_access(
                    origin, person, relevant
                )
            verdict, route = judged
            hits.append(
                Hit("accessed", code, system, label, who, rtype, tail, data, detail, verdict, route)
            )
            seen[route] = None  # type: ignore[index]
        for route in seen:
            self.route_data[route].update(data)
        return tuple(hits), tuple(seen)

    def _judge_access(self, origin: str, person: _Person, relevant: tuple[str, ...]) -> _Judged:
        code, _, _, _, who, party, party_type = person
        regimes, _, any_regime = self._origin(origin)
        recipient = self.ctx.recipient(who, "") if any_regime else None
        verdict = self.ctx.judged(origin, "accessed", code, recipient, relevant)
        return verdict, self._route(verdict, regimes, "accessed", code, party, party_type)

    def _route(
        self,
        verdict: Verdict,
        regimes: tuple[str, ...],
        kind: str,
        country: str,
        recipient: str,
        recipient_type: str,
    ) -> RouteKey:
        memo = (id(verdict), kind, country, recipient, recipient_type)
        key = self._keys.get(memo)
        if key is None:
            key = RouteKey(
                regimes, country, recipient, recipient_type, kind, verdict.basis, verdict.instrument
            )
            self._keys[memo] = key
            self.route_data.setdefault(key, set())
            self.route_verdicts.setdefault(key, {})[verdict] = None
        return key

    def _person(self, who: str) -> _Person:
        """Answer where a staff member works from and which legal party receives their access."""
        code, rtype, detail = query.person(self.G, who)
        party, party_type = self._party(who)
        found = self._people[who] = (
            code,
            rtype,
            detail,
            (who, f"country:{code}"),
            who,
            party,
            party_type,
        )
        return found

    def _party(self, who: str) -> tuple[str, str]:
        """Answer which legal party receives a staff member's access, and what kind it is."""
        G = self.G
        node = G.nodes[who]
        employers = [v for v, e in G._succ[who].items() if e["kind"] == "employed_by"]
        if employers:
            return (G.nodes[employers[0]]["label"], f"{node['type']} through an entity")
        if node["type"] == "employee":
            return (f"{G.nodes[ORGANISATION]['label']} (own staff)", "own staff")
        return (who, "contractor")


_Judged = tuple[Verdict | None, RouteKey | None]
_Shared = tuple[tuple[Hit, ...], tuple[RouteKey, ...]]
# (country, recipient type, detail, path tail, person, legal party, party type)
_Person = tuple[str, str, str, tuple[str, str], str, str, str]
