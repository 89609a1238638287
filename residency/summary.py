"""Counts and countries of a validated inventory, without building its graph.

>>> from residency.inventory import read_inventory
>>> s = summarize(read_inventory())
>>> (s.staff, s.clients) == (61, 34) and "IN" in s.countries
True
"""

from __future__ import annotations

from dataclasses import dataclass

from residency import places
from residency.model import Inventory


@dataclass(frozen=True)
class Summary:
    """What an inventory holds: counts per entity and the countries it names."""

    organisation: str
    staff: int
    clients: int
    systems: int
    subprocessors: int
    staff_countries: int
    client_countries: int
    countries: tuple[str, ...]
    inventory_hash: str

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict (JSON-ready)."""
        return {
            "organisation": self.organisation,
            "staff": self.staff,
            "clients": self.clients,
            "systems": self.systems,
            "subprocessors": self.subprocessors,
            "staff_countries": self.staff_countries,
            "client_countries": self.client_countries,
            "countries": list(self.countries),
            "inventory_hash": self.inventory_hash,
        }


def summarize(inventory: Inventory) -> Summary:
    """Answer how many staff, clients, systems and sub-processors, and which countries.

    The countries are every country and subdivision the inventory names (with the country
    of each subdivision), the same set the graph has country nodes for.
    """
    inv = inventory
    named = {inv.organisation.country}
    named.update(p.country for p in inv.staff)
    named.update(p.entity.country for p in inv.staff if p.entity is not None)
    named.update(c.country for c in inv.clients)
    for s in inv.systems:
        named.add(s.vendor_country)
        named.update(h.country for h in s.hosting if h.country)
        named.update(c for sub in s.subprocessors for c in sub.countries)
    countries = named | {places.country_of(code) for code in named}
    return Summary(
        organisation=inv.organisation.name,
        staff=len(inv.staff),
        clients=len(inv.clients),
        systems=len(inv.systems),
        subprocessors=sum(len(s.subprocessors) for s in inv.systems),
        staff_countries=len({places.country_of(p.country) for p in inv.staff}),
        client_countries=len({places.country_of(c.country) for c in inv.clients}),
        countries=tuple(sorted(countries)),
        inventory_hash=inv.content_hash(),
    )
