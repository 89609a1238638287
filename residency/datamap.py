"""The Python entry point: ``residency.load()`` and the :class:`DataMap` it returns.

>>> import residency
>>> m = residency.load()
>>> m.where("client:fennwerk").subject
'client:fennwerk'
>>> m.what_lives_in("DE").country
'DE'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pandas as pd

from residency import query
from residency.graph import build_graph
from residency.inventory import read_inventory
from residency.model import Inventory
from residency.places import country_of


@dataclass
class DataMap:
    """An organisation's inventory, its graph, and the questions you can ask of them."""

    inventory: Inventory
    graph: nx.DiGraph = field(repr=False)

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> DataMap:
        """Build the map of an already validated inventory."""
        return cls(inventory, build_graph(inventory))

    @property
    def name(self) -> str:
        """Return the organisation's name."""
        return self.inventory.organisation.name

    def subjects(self, kind: str | None = None) -> list[str]:
        """Return the subject ids (``client:fennwerk``...), optionally of one kind."""
        return query.subjects(self.graph, kind=kind)

    def where(self, subject: str) -> query.WhereResult:
        """Answer where a subject's data is stored, processed, accessed and trained on.

        >>> load().where("client:fennwerk").to_frame().columns[0]
        'subject'
        """
        return query.where(self.graph, subject)

    def what_lives_in(self, country: str) -> query.CountryResult:
        """Answer what lives in a country: whose data, which categories, through what."""
        return query.what_lives_in(self.graph, country)

    def locations(self, kind: str | None = None) -> pd.DataFrame:
        """Return every location of every subject (or of one subject kind) as a table."""
        rows = [
            loc
            for result in query.where_all(self.graph, kind=kind).values()
            for loc in result.locations
        ]
        return query.WhereResult("*", "all", "", rows).to_frame()

    def path_text(self, path: tuple[str, ...] | list[str]) -> str:
        """Render an evidence path with its edge kinds."""
        return query.path_text(self.graph, path)

    def summary(self) -> dict[str, object]:
        """Return counts per entity and the countries the inventory covers."""
        inv = self.inventory
        countries = {
            n.removeprefix("country:") for n, k in self.graph.nodes(data="kind") if k == "country"
        }
        return {
            "organisation": inv.organisation.name,
            "staff": len(inv.staff),
            "clients": len(inv.clients),
            "systems": len(inv.systems),
            "subprocessors": sum(len(s.subprocessors) for s in inv.systems),
            "staff_countries": len({country_of(p.country) for p in inv.staff}),
            "client_countries": len({country_of(c.country) for c in inv.clients}),
            "countries": sorted(countries),
            "inventory_hash": inv.content_hash(),
        }

    def _repr_html_(self) -> str:
        s = self.summary()
        return (
            f"<p><b>{s['organisation']}</b>: {s['staff']} staff in {s['staff_countries']} "
            f"countries, {s['clients']} clients in {s['client_countries']} countries, "
            f"{s['systems']} systems, {s['subprocessors']} sub-processors.</p>"
        )


def load(path: str | Path | None = None) -> DataMap:
    """Load an inventory (YAML file or folder) into a :class:`DataMap`.

    With no path, the built-in demo organisation. Raises :class:`residency.InventoryError`
    listing every problem if the inventory is invalid.
    """
    return DataMap.from_inventory(read_inventory(path))
