"""Build the networkx graph of an organisation from a validated inventory.

Node ids read as ``kind:id`` (``client:acme``, ``system:slack``, ``country:DE``); every
node has a ``kind`` and a ``label``. Every edge has a ``kind`` and ``field``, the
inventory field it comes from, and ``origin``, the file and line of that entry, so
every answer traces back to the inventory. docs/architecture.md lists them all.

>>> from residency.inventory import read_inventory
>>> G = build_graph(read_inventory())
>>> G.nodes["system:slack"]["kind"]
'system'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

import networkx as nx

from residency import places
from residency._perf import bulk
from residency.model import AiTraining, Client, Hosting, Inventory, Staff, Subprocessor, System

T = TypeVar("T")

ORGANISATION = "organisation"

NODE_KINDS = (
    "organisation",
    "staff",
    "entity",
    "client",
    "system",
    "vendor",
    "hosting",
    "subprocessor",
    "training",
    "category",
    "country",
)
EDGE_KINDS = (
    "established_in",
    "works_from",
    "member_of",
    "employed_by",
    "located_in",
    "serves",
    "accesses",
    "uses",
    "holds",
    "stored_in",
    "provided_by",
    "processed_by",
    "trains",
    "keeps_staff_data_in",
    "part_of",
)


def country_node(code: str) -> str:
    """Return the node id of a country or subdivision (``country:DE``)."""
    return f"country:{code}"


def build_graph(inventory: Inventory) -> nx.DiGraph:
    """Build the organisation graph: who and what is where, and how data flows.

    The graph is a ``networkx.DiGraph``; each node and edge carries a ``kind``.
    Its ``graph`` attributes hold the organisation's name and country.
    """
    # The content hash is left to DataMap/export: hashing a 100,000-staff inventory costs
    # seconds, and the graph does not need it.
    G = nx.DiGraph(name=inventory.organisation.name, country=inventory.organisation.country)
    builder = _Builder(G, inventory)
    with bulk():
        builder.organisation()
        for system in inventory.systems:
            builder.system(system)
        builder.staff_data()
        for client in inventory.clients:
            builder.client(client)
        client_systems = {c.id: _unique(c.systems) for c in inventory.clients}
        for person in inventory.staff:
            builder.staff(person, client_systems)
        builder.flush()
    return G


def name_key(name: str) -> str:
    """Return the key a name is known by in node ids: lower case, words joined by ``-``.

    >>> name_key("Amazon Web Services, Inc.")
    'amazon-web-services-inc'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if slug:
        return slug
    return "x" + hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:10]


def hosting_key(host: Hosting) -> str:
    """Return a hosting location's natural key: provider/region, or country (and city).

    >>> hosting_key(Hosting(provider="aws", region="eu-central-1", country="DE"))
    'aws/eu-central-1'
    >>> hosting_key(Hosting(country="US", city="Ashburn"))
    'US/ashburn'
    """
    if host.region:
        return f"{host.provider or 'region'}/{host.region}"
    key = host.country or "unknown"
    if host.city:
        key += "/" + name_key(host.city)
    if host.provider:
        key += "@" + name_key(host.provider)
    return key


def _by_key(items: list[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _joined(values: Iterable[str | None]) -> str | None:
    """Join the distinct values (sorted, so order in the inventory does not matter)."""
    found = sorted({v for v in values if v})
    return "; ".join(found) if found else None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _overlap(subject_data: list[str], system_data: list[str]) -> list[str]:
    """Return the subject's categories the system holds; all of them if it lists none or none
    overlap (``check`` warns about the latter)."""
    shared = [c for c in subject_data if c in system_data] if system_data else []
    return shared or list(subject_data)


class _Builder:
    def __init__(self, G: nx.DiGraph, inventory: Inventory) -> None:
        self.G = G
        self.inv = inventory
        self.origins = inventory.origins
        self.edges: list[tuple[str, str, dict[str, Any]]] = []

    def edge(self, u: str, v: str, kind: str, field: str, origin: str | None, **attrs: Any) -> None:
        # Edges are added in one batch at the end: much faster than add_edge one by one.
        self.edges.append((u, v, {"kind": kind, "field": field, "origin": origin, **attrs}))

    def flush(self) -> None:
        """Add the edges as ``add_edges_from`` does, keeping each edge's own attribute dict.

        ``add_edges_from`` copies every edge's attributes into a new dict: at enterprise
        size 1.5 million dicts made and 1.5 million dropped. The nodes, edges, their order
        and a repeated edge's merged attributes are the same.
        """
        G = self.G
        succ, pred, nodes = G._succ, G._pred, G._node
        for u, v, attrs in self.edges:
            if u not in succ:
                succ[u], pred[u], nodes[u] = {}, {}, {}
            if v not in succ:
                succ[v], pred[v], nodes[v] = {}, {}, {}
            known = succ[u].get(v)
            if known is not None:
                known.update(attrs)
                continue
            succ[u][v] = attrs
            pred[v][u] = attrs
        clear = getattr(nx, "_clear_cache", None)
        if clear is not None:  # networkx 3.3+ caches per graph; the direct writes bypass it
            clear(G)
        self.edges = []

    def place(self, code: str) -> str:
        node = country_node(code)
        if node not in self.G:
            self.G.add_node(node, kind="country", label=places.place_name(code), code=code)
            parent = places.country_of(code)
            if parent != code:
                self.edge(node, self.place(parent), "part_of", "ISO 3166-2", None)
        return node

    def organisation(self) -> None:
        org = self.inv.organisation
        self.G.add_node(ORGANISATION, kind="organisation", label=org.name, country=org.country)
        self.edge(
            ORGANISATION,
            self.place(org.country),
            "established_in",
            "organisation.country",
            "inventory",
        )

    def staff_data(self) -> None:
        """Link the organisation to the systems holding staff data (after the systems exist)."""
        staff_data = self.inv.organisation.staff_data
        if staff_data is None:
            return
        for sid in _unique(staff_data.systems):
            node = f"system:{sid}"
            self.edge(
                ORGANISATION,
                node,
                "keeps_staff_data_in",
                "organisation.staff_data.systems",
                "inventory",
                data=_overlap(staff_data.data, self.G.nodes[node]["data"]),
            )

    def system(self, system: System) -> None:
        node = f"system:{system.id}"
        origin = self.origins.get(node)
        self.G.add_node(
            node,
            kind="system",
            label=system.label,
            vendor=system.vendor,
            vendor_country=system.vendor_country,
            data=list(system.data),
            certifications=list(system.certifications),
            safeguards=list(system.safeguards),
            origin=origin,
            sources=list(system.sources),
            as_of=system.as_of,
        )
        for category in _unique(system.data):
            self.category(node, category, "systems.data", origin)
        vendor = f"vendor:{system.id}"
        self.G.add_node(
            vendor,
            kind="vendor",
            label=system.vendor,
            country=system.vendor_country,
            certifications=list(system.certifications),
            safeguards=list(system.safeguards),
        )
        self.edge(node, vendor, "provided_by", "systems.vendor", origin)
        self.edge(
            vendor,
            self.place(system.vendor_country),
            "located_in",
            "systems.vendor_country",
            origin,
        )
        for key, rows in _by_key(system.hosting, hosting_key).items():
            self.hosting(system, node, key, rows, origin)
        for key, subs in _by_key(system.subprocessors, lambda s: name_key(s.name)).items():
            self.subprocessor(system, node, key, subs, origin)
        if system.ai_training is not None:
            self.training(system, node, origin)

    def hosting(
        self, system: System, node: str, key: str, rows: list[Hosting], origin: str | None
    ) -> None:
        """One node per hosting location: rows naming the same place are one location."""
        host = rows[0]
        hnode = f"hosting:{system.id}:{key}"
        label = ", ".join(
            x for x in (host.region, host.city, places.place_name(host.country or "")) if x
        )
        self.G.add_node(
            hnode,
            kind="hosting",
            label=label,
            provider=host.provider,
            region=host.region,
            city=host.city,
            country=host.country,
            purpose=_joined(r.purpose for r in rows),
            source=_joined(r.source for r in rows),
        )
        self.edge(node, hnode, "stored_in", "systems.hosting", origin, key=key)
        self.edge(hnode, self.place(host.country or ""), "located_in", "systems.hosting", origin)

    def subprocessor(
        self, system: System, node: str, key: str, subs: list[Subprocessor], origin: str | None
    ) -> None:
        """One node per sub-processor name: entries repeating a name are one recipient."""
        sub = subs[0]
        snode = f"subprocessor:{system.id}:{key}"
        countries = _unique([c for s in subs for c in s.countries])
        self.G.add_node(
            snode,
            kind="subprocessor",
            label=sub.name,
            purpose=_joined(s.purpose for s in subs),
            countries=countries,
            certifications=sorted({c for s in subs for c in s.certifications}),
            safeguards=_unique(
                [*sorted({g for s in subs for g in s.safeguards}), *system.safeguards]
            ),
            source=_joined(s.source for s in subs),
            as_of=max((s.as_of for s in subs if s.as_of), default=None),
        )
        self.edge(node, snode, "processed_by", "systems.subprocessors", origin, key=key)
        for code in countries:
            self.edge(
                snode, self.place(code), "located_in", "systems.subprocessors.countries", origin
            )

    def training(self, system: System, node: str, origin: str | None) -> None:
        ai = system.ai_training
        assert ai is not None
        window = training_window(ai)
        if window is None:
            return
        tnode = f"training:{system.id}"
        start, end = window
        self.G.add_node(
            tnode,
            kind="training",
            label=f"{system.vendor} AI training",
            country=system.vendor_country,
            default=ai.default,
            scope=ai.scope,
            since=start,
            until=end,
            data=list(ai.data) if ai.data else None,
            source=ai.source,
            as_of=ai.as_of,
            how_to_opt_out=ai.how_to_opt_out,
            opt_out=ai.opt_out,
            opted_in=ai.opted_in or None,
        )
        self.edge(node, tnode, "trains", "systems.ai_training", origin)
        self.edge(
            tnode, self.place(system.vendor_country), "located_in", "systems.vendor_country", origin
        )

    def category(self, owner: str, name: str, field: str, origin: str | None) -> None:
        cnode = f"category:{name}"
        if cnode not in self.G:
            self.G.add_node(cnode, kind="category", label=name)
        self.edge(owner, cnode, "holds", field, origin)

    def client(self, client: Client) -> None:
        node = f"client:{client.id}"
        origin = self.origins.get(node)
        self.G.add_node(
            node,
            kind="client",
            label=client.name or client.id,
            country=client.country,
            data=list(client.data),
            residency=list(client.residency),
            since=client.since,
            data_subjects=client.data_subjects,
            origin=origin,
        )
        self.edge(node, self.place(client.country), "located_in", "clients.country", origin)
        for category in _unique(client.data):
            self.category(node, category, "clients.data", origin)
        for sid in _unique(client.systems):
            self.edge(
                node,
                f"system:{sid}",
                "uses",
                "clients.systems",
                origin,
                data=_overlap(client.data, self.G.nodes[f"system:{sid}"]["data"]),
            )

    def staff(self, person: Staff, client_systems: dict[str, list[str]]) -> None:
        node = f"staff:{person.id}"
        origin = self.origins.get(node)
        self.G.add_node(
            node,
            kind="staff",
            label=person.name or person.id,
            country=person.country,
            type=person.type,
            since=person.since,
            origin=origin,
        )
        self.edge(node, self.place(person.country), "works_from", "staff.country", origin)
        self.edge(node, ORGANISATION, "member_of", "staff.type", origin, type=person.type)
        if person.entity is not None:
            enode = f"entity:{person.entity.name}"
            if enode not in self.G:
                self.G.add_node(
                    enode,
                    kind="entity",
                    label=person.entity.name,
                    country=person.entity.country,
                    safeguards=list(person.entity.safeguards),
                )
                self.edge(
                    enode,
                    self.place(person.entity.country),
                    "located_in",
                    "staff.entity.country",
                    origin,
                )
            self.edge(node, enode, "employed_by", "staff.entity", origin)
        for cid in _unique(person.clients):
            self.edge(node, f"client:{cid}", "serves", "staff.clients", origin)
        explicit = person.systems is not None
        systems = (
            person.systems
            if explicit
            else [s for c in person.clients for s in client_systems.get(c, [])]
        )
        field = "staff.systems" if explicit else "staff.clients (default: their clients' systems)"
        for sid in _unique(systems or []):
            self.edge(node, f"system:{sid}", "accesses", field, origin)


def training_window(
    ai: AiTraining, *, today: date | None = None
) -> tuple[date | None, date | None] | None:
    """Answer from when to when a vendor trained on the data, or None if it never did.

    The end is the organisation's opt-out date (``None``: still going on).
    """
    if not ai.uses_customer_data or ai.default == "none":
        return None
    start: date | None
    if ai.default == "opt-in":
        if ai.opted_in is False:
            return None
        start = max(ai.opted_in, ai.since) if ai.since else ai.opted_in
        end = ai.opted_out or None
    else:
        start = ai.since
        end = ai.opted_out or None
    if end is not None and start is not None and end <= start:
        return None
    if today is not None and start is not None and start > today:
        return None
    return start, end
