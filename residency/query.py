"""Answer "where does this data live?" from the graph, with the path that proves it.

A *location* is one place a subject's data reaches, of one kind: ``stored`` (a hosting
region), ``processed`` (the vendor or a sub-processor), ``accessed`` (a staff member's
remote access) or ``trained`` (the vendor's AI training). The cost of :func:`where` is
linear in the subject's systems, their locations and the staff who serve it: no path
enumeration.

>>> from residency.inventory import read_inventory
>>> from residency.graph import build_graph
>>> G = build_graph(read_inventory())
>>> "US" in where(G, "system:slack").countries
True
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import networkx as nx

from residency import places
from residency._errors import UnknownSubjectError
from residency._perf import bulk
from residency._words import count
from residency.graph import ORGANISATION
from residency.vocabulary import KINDS as KINDS  # public here since v0.1

if TYPE_CHECKING:
    import pandas as pd

SUBJECT_KINDS = ("client", "staff", "system")


@dataclass(frozen=True, slots=True)
class Location:
    """One place a subject's data reaches, and the graph path that proves it."""

    subject: str
    kind: str
    country: str
    system: str
    recipient: str
    recipient_type: str
    data: tuple[str, ...]
    path: tuple[str, ...]
    detail: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def id(self) -> str:
        """Return a stable id from natural keys: subject, kind, country and the path's nodes.

        Node ids on the path are natural keys too (``subprocessor:slack:amazon-web-services``),
        so reordering entries in the inventory never changes an id.
        """
        key = "|".join((self.subject, self.kind, self.country, *self.path))
        return "l-" + hashlib.sha256(key.encode()).hexdigest()[:12]

    @property
    def country_name(self) -> str:
        """Return the readable name of the location's country or subdivision."""
        return places.place_name(self.country)

    def as_row(self) -> dict[str, Any]:
        """Return the location as a flat dict (lists joined) for tables."""
        row = asdict(self)
        row["country_name"] = self.country_name
        row["data"] = ", ".join(self.data)
        row["path"] = " -> ".join(self.path)
        return row


COLUMNS = [
    "subject",
    "kind",
    "country",
    "country_name",
    "system",
    "recipient",
    "recipient_type",
    "data",
    "detail",
    "since",
    "until",
    "path",
]


@dataclass
class WhereResult:
    """Where one subject's data lives: its origin and every location."""

    subject: str
    label: str
    origin: str
    locations: list[Location] = field(default_factory=list)
    residency: tuple[str, ...] = ()  # a client's contractual residency clause (codes, blocs)

    @property
    def countries(self) -> list[str]:
        """Return the sorted countries (or subdivisions) the data reaches."""
        return sorted({loc.country for loc in self.locations})

    @property
    def display(self) -> str:
        """Return the subject as a reader sees it: ``Corrmore Ltd (client:corrmore)``."""
        return self.subject if self.label == self.subject else f"{self.label} ({self.subject})"

    @property
    def residency_text(self) -> str:
        """Return the contractual residency clause in words ("" when the contract sets none)."""
        return ", ".join(f"{places.place_name(c)} ({c})" for c in self.residency)

    def within_residency(self, place: str) -> bool | None:
        """Tell whether a place lies inside the residency clause (None: no clause)."""
        if not self.residency:
            return None
        allowed = frozenset().union(*(places.expand(c) for c in self.residency))
        return places.within(place, allowed)

    @property
    def outside_residency(self) -> list[str]:
        """Return the sorted places the data reaches outside the residency clause."""
        return [c for c in self.countries if self.within_residency(c) is False]

    def by_kind(self, kind: str) -> list[Location]:
        """Return the locations of one kind (``stored``, ``processed``, ...)."""
        return [loc for loc in self.locations if loc.kind == kind]

    def to_frame(self, *, graph: nx.DiGraph | None = None) -> pd.DataFrame:
        """Return one row per location, sorted by country, kind and system.

        With the ``graph``, an ``evidence`` column renders each path with its edge kinds.
        With a residency clause, a ``residency_clause`` column says ``within`` or
        ``outside`` for each row.
        """
        frame = locations_frame(self.locations, graph)
        if self.residency:
            frame.insert(
                4,
                "residency_clause",
                ["within" if self.within_residency(c) else "outside" for c in frame["country"]],
            )
        return frame

    def _repr_html_(self) -> str:
        head = f"<p><b>{self.label}</b> ({self.subject}), origin {self.origin}</p>"
        return head + self.to_frame().to_html(index=False)


@dataclass
class CountryResult:
    """What lives in one country: every location there, and who works from there."""

    country: str
    locations: list[Location] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        """Return the subjects whose data reaches the country."""
        return sorted({loc.subject for loc in self.locations})

    @property
    def categories(self) -> list[str]:
        """Return the data categories that reach the country."""
        return sorted({c for loc in self.locations for c in loc.data})

    def to_frame(self, *, graph: nx.DiGraph | None = None) -> pd.DataFrame:
        """Return one row per location in the country (``graph``: add an evidence column)."""
        return locations_frame(self.locations, graph)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{places.place_name(self.country)}</b> ({self.country}): "
            f"{count(len(self.subjects), 'subject')}, {count(len(self.staff), 'staff member')}</p>"
        )
        return head + self.to_frame().to_html(index=False)


def sort_locations(locations: Iterable[Location]) -> list[Location]:
    """Return locations in the order every listing shows them: by subject, country, kind
    (stored, processed, accessed, trained), system, recipient, then evidence path."""
    return sorted(locations, key=_sort_key)


def locations_frame(locations: Iterable[Location], graph: nx.DiGraph | None = None) -> pd.DataFrame:
    """Return one row per location (the columns of :data:`COLUMNS`), in listing order;
    with the ``graph``, an ``evidence`` column renders each path with its edge kinds."""
    ordered = sort_locations(locations)
    import pandas as pd

    frame = pd.DataFrame([loc.as_row() for loc in ordered], columns=COLUMNS)
    if graph is not None:
        frame["evidence"] = [path_text(graph, loc.path) for loc in ordered]
    return frame


def _sort_key(loc: Location) -> tuple[str, ...]:
    return (
        loc.subject,
        loc.country,
        str(KINDS.index(loc.kind)),
        loc.system,
        loc.recipient,
        " ".join(loc.path),
    )


def subjects(G: nx.DiGraph, *, kind: str | None = None) -> list[str]:
    """Return every subject node id (``client:...``, ``staff:...``, ``system:...``), sorted."""
    kinds = (kind,) if kind else SUBJECT_KINDS
    return sorted(n for n, k in G.nodes(data="kind") if k in kinds)


def categories(G: nx.DiGraph) -> list[str]:
    """Return the data categories the inventory names (without ``category:``), sorted."""
    return sorted(n.split(":", 1)[1] for n, k in G.nodes(data="kind") if k == "category")


def systems(G: nx.DiGraph) -> dict[str, str]:
    """Return each system's id (as what-if changes name it) with its label, by id."""
    return {
        n.split(":", 1)[1]: G.nodes[n]["label"]
        for n in sorted(n for n, k in G.nodes(data="kind") if k == "system")
    }


def where(G: nx.DiGraph, subject: str) -> WhereResult:
    """Answer where a subject's data is stored, processed, accessed from and trained on.

    ``subject`` is ``client:<id>``, ``staff:<id>`` or ``system:<id>``.
    """
    node = G.nodes.get(subject)
    if node is None or node.get("kind") not in SUBJECT_KINDS:
        raise UnknownSubjectError(_unknown_subject(G, subject))
    return where_result(G, subject, list(_locations(G, subject, node["kind"])))


def where_result(G: nx.DiGraph, subject: str, locations: list[Location]) -> WhereResult:
    """Return the :class:`WhereResult` of a subject whose locations are already known."""
    node = G.nodes[subject]
    origin = node.get("country") or G.nodes[ORGANISATION]["country"]
    clause = tuple(node.get("residency") or ())
    return WhereResult(subject, node.get("label", subject), origin, locations, clause)


def _unknown_subject(G: nx.DiGraph, subject: str) -> str:
    import difflib

    kind = subject.split(":", 1)[0]
    if ":" not in subject or kind not in SUBJECT_KINDS:
        return f"unknown subject {subject!r}: expected client:<id>, staff:<id> or system:<id>"
    close = difflib.get_close_matches(subject, subjects(G, kind=kind), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown subject {subject!r}: not in the inventory{hint}"


@dataclass(frozen=True, slots=True)
class Reach:
    """One place a system takes the data it holds: the same for every subject using it."""

    kind: str
    country: str
    recipient: str
    recipient_type: str
    hop: str  # the node the data reaches: hosting, vendor, sub-processor or training
    place: str  # the country node
    detail: str
    covers: tuple[str, ...] | None = None  # training only: the categories trained on
    since: date | None = None
    until: date | None = None

    @property
    def id(self) -> str:
        """Return the reach's natural key, e.g. ``subprocessor:slack:amazon-web-services@US``."""
        return f"{self.hop}@{self.country}"

    def data_for(self, data: tuple[str, ...]) -> tuple[str, ...]:
        """Return which of a subject's categories reach here (training covers only some)."""
        if self.covers is None:
            return data
        return tuple(c for c in data if c in self.covers)


@dataclass(frozen=True, slots=True)
class Unit:
    """A subject's data in one system: the categories it holds and the path that puts it there."""

    system: str
    data: tuple[str, ...]
    prefix: tuple[str, ...]


def units(G: nx.DiGraph, subject: str) -> list[Unit]:
    """Answer which systems hold a subject's data, with the categories and the path there.

    >>> from residency.inventory import read_inventory
    >>> from residency.graph import build_graph
    >>> [u.system for u in units(build_graph(read_inventory()), "client:fennwerk")][:2]
    ['system:slack', 'system:gworkspace']
    """
    kind = G.nodes[subject]["kind"]
    if kind == "system":
        return [Unit(subject, tuple(G.nodes[subject]["data"]), (subject,))]
    if kind == "staff":
        return [
            Unit(system, tuple(attrs["data"]), (subject, ORGANISATION, system))
            for _, system, attrs in _out(G, ORGANISATION, "keeps_staff_data_in")
        ]
    return [
        Unit(system, tuple(attrs["data"]), (subject, system))
        for _, system, attrs in _out(G, subject, "uses")
    ]


def reaches(G: nx.DiGraph, system: str) -> list[Reach]:
    """Answer every place a system takes its data: hosting, vendor, sub-processors, training."""
    return _index(G).reaches(system)


def servers(G: nx.DiGraph, subject: str, system: str) -> list[str]:
    """Answer which staff reach a subject's data in a system (a staff member's own: none)."""
    kind = G.nodes[subject]["kind"]
    if kind == "system":
        return [u for u, e in G.pred[system].items() if e["kind"] == "accesses"]
    if kind == "staff":
        return []  # who reaches staff data is not modelled (docs/architecture.md)
    return [u for u, e in G.pred[subject].items() if e["kind"] == "serves" and system in G.succ[u]]


def person(G: nx.DiGraph, staff: str) -> tuple[str, str, str]:
    """Answer where a staff member works from, their recipient type and who engages them."""
    return _index(G).person(staff)


def _locations(G: nx.DiGraph, subject: str, kind: str) -> Iterator[Location]:
    index = _index(G)
    for unit in units(G, subject):
        yield from index.system_locations(subject, unit.system, unit.data, unit.prefix)
        label = G.nodes[unit.system]["label"]
        for who in servers(G, subject, unit.system):
            code, rtype, detail = index.person(who)
            yield Location(
                subject,
                "accessed",
                code,
                label,
                who,
                rtype,
                unit.data,
                (*unit.prefix, who, f"country:{code}"),
                detail,
            )


def _out(G: nx.DiGraph, node: str, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for u, v, attrs in G.out_edges(node, data=True):
        if attrs["kind"] == kind:
            yield u, v, attrs


class _Index:
    """Per-graph cache of each system's reaches and each person's place (computed once)."""

    def __init__(self, G: nx.DiGraph) -> None:
        self.G = G
        self._systems: dict[str, list[Reach]] = {}
        self._people: dict[str, tuple[str, str, str]] = {}

    def reaches(self, system: str) -> list[Reach]:
        cached = self._systems.get(system)
        if cached is not None:
            return cached
        G = self.G
        rows = []
        kinds = {
            "stored_in": "stored",
            "provided_by": "processed",
            "processed_by": "processed",
            "trains": "trained",
        }
        for _, hop, attrs in G.out_edges(system, data=True):
            kind = kinds.get(attrs["kind"])
            if kind is None:
                continue
            hop_node = G.nodes[hop]
            recipient, rtype, detail = _recipient(G, system, hop, hop_node)
            for _, place, e in G.out_edges(hop, data=True):
                if e["kind"] != "located_in":
                    continue
                code = G.nodes[place]["code"]
                if kind == "trained":
                    covered = hop_node.get("data")
                    rows.append(
                        Reach(
                            kind,
                            code,
                            recipient,
                            rtype,
                            hop,
                            place,
                            detail,
                            tuple(covered) if covered else None,
                            hop_node.get("since"),
                            hop_node.get("until"),
                        )
                    )
                else:
                    rows.append(Reach(kind, code, recipient, rtype, hop, place, detail))
        self._systems[system] = rows
        return rows

    def system_locations(
        self, subject: str, system: str, data: tuple[str, ...], prefix: tuple[str, ...]
    ) -> Iterator[Location]:
        label = self.G.nodes[system]["label"]
        for r in self.reaches(system):
            reached = r.data_for(data)
            if not reached:
                continue
            yield Location(
                subject,
                r.kind,
                r.country,
                label,
                r.recipient,
                r.recipient_type,
                reached,
                (*prefix, r.hop, r.place),
                r.detail,
                r.since,
                r.until,
            )

    def person(self, who: str) -> tuple[str, str, str]:
        cached = self._people.get(who)
        if cached is None:
            node = self.G.nodes[who]
            cached = (node["country"], f"staff ({node['type']})", _staff_detail(self.G, who))
            self._people[who] = cached
        return cached


def _recipient(G: nx.DiGraph, system: str, hop: str, node: dict[str, Any]) -> tuple[str, str, str]:
    kind = node["kind"]
    if kind == "hosting":
        provider = node.get("provider") or G.nodes[system]["vendor"]
        return (
            provider,
            "hosting",
            node["label"] + (f"; {node['purpose']}" if node.get("purpose") else ""),
        )
    if kind == "vendor":
        return node["label"], "vendor", "the system's vendor"
    if kind == "subprocessor":
        return node["label"], "subprocessor", node.get("purpose") or ""
    window = f"since {node.get('since') or 'unknown'}"
    window += f" until opt-out {node['until']}" if node.get("until") else ", not opted out"
    scope = f"{node['scope']} models; " if node.get("scope") else ""
    return node["label"], "vendor AI training", f"{scope}default {node['default']}; {window}"


def _staff_detail(G: nx.DiGraph, person: str) -> str:
    employer = [v for v, e in G._succ[person].items() if e["kind"] == "employed_by"]
    node = G.nodes[person]
    if employer:
        entity = G.nodes[employer[0]]
        return f"{node['type']} engaged through {entity['label']} ({entity['country']})"
    return f"{node['type']} of the organisation"


# The index lives beside the graph, never inside it: ``G.copy()`` copies ``G.graph``, so an
# index kept there would make a changed copy answer with the original's locations.
_INDEXES: weakref.WeakKeyDictionary[nx.DiGraph, tuple[int, _Index]] = weakref.WeakKeyDictionary()


def _index(G: nx.DiGraph) -> _Index:
    cached = _INDEXES.get(G)
    if cached is None or cached[0] != len(G):  # nodes added or removed in place: rebuild
        cached = (len(G), _Index(G))
        _INDEXES[G] = cached
    return cached[1]


def forget(G: nx.DiGraph) -> None:
    """Drop what was remembered about ``G`` (call it after editing edges of a graph in place).

    Copies never need it: each graph object has its own index.
    """
    _INDEXES.pop(G, None)


def where_all(G: nx.DiGraph, *, kind: str | None = None) -> dict[str, WhereResult]:
    """Answer :func:`where` for every subject (or every subject of one kind)."""
    with bulk():
        return {s: where(G, s) for s in subjects(G, kind=kind)}


def what_lives_in(G: nx.DiGraph, code: str) -> CountryResult:
    """Answer what lives in a country (or subdivision): whose data, which categories, how.

    A country includes its subdivisions: ``CA`` includes ``CA-QC``.
    """
    problem = places.place_problem(code)
    if problem:
        raise UnknownSubjectError(problem)
    locations = [
        loc
        for s in subjects(G, kind="client") + subjects(G, kind="staff")
        for loc in where(G, s).locations
        if _in_place(loc.country, code)
    ]
    staff = sorted(
        n
        for n, attrs in G.nodes(data=True)
        if attrs["kind"] == "staff" and _in_place(attrs["country"], code)
    )
    return CountryResult(code, locations, staff)


def _in_place(location: str, code: str) -> bool:
    return location == code or places.country_of(location) == code


def display_name(G: nx.DiGraph, node: str) -> str:
    """Return a node as a reader sees it: its label and id, ``Corrmore Ltd (client:corrmore)``."""
    attrs = G.nodes.get(node)
    label = attrs.get("label") if attrs else None
    return f"{label} ({node})" if label and label != node else node


def path_text(G: nx.DiGraph, path: tuple[str, ...] | list[str]) -> str:
    """Render a path with its edge kinds, e.g. ``client:acme -uses-> system:slack``.

    A sub-processor shows its name: ``Amazon Web Services, Inc. (subprocessor:slack:...)``.
    """
    parts = [_node_text(G, path[0])]
    for u, v in pairwise(path):
        node = _node_text(G, v)
        if G.has_edge(u, v):
            parts.append(f" -{G.edges[u, v]['kind']}-> {node}")
        elif G.has_edge(v, u):
            parts.append(f" <-{G.edges[v, u]['kind']}- {node}")
        else:
            parts.append(f" ~ {node}")
    return "".join(parts)


def _node_text(G: nx.DiGraph, node: str) -> str:
    return display_name(G, node) if node.startswith("subprocessor:") else node
