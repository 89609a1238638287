"""Geography: country polygons (shipped, Natural Earth) and GeoDataFrames of what lives where.

Nothing is fetched: the polygons are ``data/jurisdictions/countries.geojson`` (built by
``scripts/build_countries.py``; provenance in ``countries.source.yaml``).

>>> import residency
>>> from residency import geo
>>> a = residency.load().assessment(as_of="2026-11-26")
>>> gdf = geo.country_frame(a)
>>> int(gdf.loc[gdf["code"] == "US", "subjects"].iloc[0]) > 0
True
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, shape

from residency import places
from residency._resources import data_file
from residency.findings import Assessment
from residency.query import Location
from residency.rules import BASES, Transfer

# Worst first. A country's status is the worst basis of the transfers into it.
STATUS_ORDER = (
    "no_basis",
    "needs_review",
    "safeguard",
    "adequacy",
    "unrestricted",
    "free_flow",
    "own_staff",
    "origin",
)
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "no_basis": (215, 48, 39),
    "needs_review": (244, 165, 30),
    "safeguard": (254, 224, 139),
    "adequacy": (102, 189, 99),
    "unrestricted": (145, 191, 219),
    "free_flow": (69, 117, 180),
    "own_staff": (171, 171, 171),
    "origin": (120, 120, 120),
}
STATUS_LABELS = {
    "no_basis": "no legal basis",
    "needs_review": "needs review",
    "safeguard": "safeguard (e.g. SCCs)",
    "adequacy": "adequacy decision",
    "unrestricted": "no restriction at origin",
    "free_flow": "free flow (e.g. within the EEA)",
    "own_staff": "own staff abroad",
    "origin": "only data originating here",
}


@cache
def _countries_json() -> dict[str, Any]:
    return json.loads(data_file("jurisdictions", "countries.geojson").read_text(encoding="utf-8"))


@cache
def _world() -> gpd.GeoDataFrame:
    raw = _countries_json()
    rows = [{**f["properties"], "geometry": shape(f["geometry"])} for f in raw["features"]]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def countries() -> gpd.GeoDataFrame:
    """Return the shipped country polygons: ``code``, ``name``, label point, geometry.

    Parsed once per process; each call returns a copy, so callers may change it.
    """
    return _world().copy()


@cache
def label_points() -> dict[str, tuple[float, float]]:
    """Return each country's label point (lon, lat): where arcs start and end."""
    return {
        f["properties"]["code"]: (f["properties"]["label_x"], f["properties"]["label_y"])
        for f in _countries_json()["features"]
    }


def point_of(code: str) -> tuple[float, float] | None:
    """Return the label point of a country or subdivision code (a subdivision uses its country)."""
    points = label_points()
    return points.get(code) or points.get(places.country_of(code))


@dataclass(frozen=True)
class Filters:
    """What to show: one subject, one data category, one system, some location kinds."""

    subject: str | None = None
    category: str | None = None
    system: str | None = None
    kinds: tuple[str, ...] = ("stored", "processed", "accessed", "trained")

    def keep(self, loc: Location) -> bool:
        """Tell whether a location passes the filters."""
        return (
            (self.subject is None or loc.subject == self.subject)
            and (self.category is None or self.category in loc.data)
            and (self.system is None or loc.system == self.system)
            and loc.kind in self.kinds
        )


def locations(assessment: Assessment, filters: Filters | None = None) -> list[Location]:
    """Return every location in the assessment that passes the filters."""
    f = filters or Filters()
    return [loc for r in assessment.results.values() for loc in r.locations if f.keep(loc)]


def transfers(assessment: Assessment, filters: Filters | None = None) -> list[Transfer]:
    """Return every transfer in the assessment whose location passes the filters."""
    f = filters or Filters()
    return [t for t in assessment.transfers if f.keep(t.location)]


def country_frame(assessment: Assessment, filters: Filters | None = None) -> gpd.GeoDataFrame:
    """Answer, per country, what lives there: a GeoDataFrame of the countries that hold data.

    Columns: ``code``, ``name``, ``subjects`` (how many subjects' data reach it),
    ``categories``, ``systems``, one ``basis_*`` count per transfer basis, ``findings``
    (how many findings name it), ``status`` (the worst basis into it) and geometry.
    """
    locs = locations(assessment, filters)
    moved = transfers(assessment, filters)
    by_country: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"subjects": set(), "categories": set(), "systems": set(), "bases": Counter()}
    )
    for loc in locs:
        row = by_country[places.country_of(loc.country)]
        row["subjects"].add(loc.subject)
        row["categories"].update(loc.data)
        row["systems"].add(loc.system)
    for t in moved:
        by_country[places.country_of(t.location.country)]["bases"][t.basis] += 1
    shown = {t.location.subject for t in moved} | {loc.subject for loc in locs}
    finding_counts: Counter[str] = Counter(
        places.country_of(c) for f in assessment.findings if f.subject in shown for c in f.countries
    )
    world = _world().set_index("code")  # read-only use: no copy needed
    rows = []
    for code, row in sorted(by_country.items()):
        if code not in world.index:
            continue
        bases = row["bases"]
        status = next((b for b in STATUS_ORDER if bases.get(b)), "origin")
        rows.append(
            {
                "code": code,
                "name": world.at[code, "name"],
                "subjects": len(row["subjects"]),
                "categories": ", ".join(sorted(row["categories"])),
                "systems": ", ".join(sorted(row["systems"])),
                **{f"basis_{b}": bases.get(b, 0) for b in BASES},
                "transfers": sum(bases.values()),
                "findings": finding_counts.get(code, 0),
                "status": status,
                "status_label": STATUS_LABELS[status],
                "geometry": world.at[code, "geometry"],
            }
        )
    columns = [
        "code",
        "name",
        "subjects",
        "categories",
        "systems",
        *[f"basis_{b}" for b in BASES],
        "transfers",
        "findings",
        "status",
        "status_label",
        "geometry",
    ]
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326")


def flow_frame(
    assessment: Assessment, filters: Filters | None = None, *, by_basis: bool = True
) -> gpd.GeoDataFrame:
    """Answer which transfers go from where to where: one LineString per origin, destination
    and basis (or, with ``by_basis=False``, per origin and destination with the worst basis),
    with how many transfers and subjects it carries."""
    groups: dict[tuple[str, str, str], list[Transfer]] = defaultdict(list)
    for t in transfers(assessment, filters):
        pair = (places.country_of(t.origin), places.country_of(t.location.country))
        groups[(*pair, t.basis if by_basis else "")].append(t)
    rows = []
    for (origin, destination, grouped), ts in sorted(groups.items()):
        basis = grouped or next(b for b in STATUS_ORDER if any(t.basis == b for t in ts))
        a, b = point_of(origin), point_of(destination)
        if a is None or b is None or origin == destination:
            continue
        rows.append(
            {
                "origin": origin,
                "destination": destination,
                "basis": basis,
                "basis_label": STATUS_LABELS[basis],
                "transfers": len(ts),
                "subjects": len({t.location.subject for t in ts}),
                "systems": ", ".join(sorted({t.location.system for t in ts})),
                "kinds": ", ".join(sorted({t.location.kind for t in ts})),
                "geometry": LineString([a, b]),
            }
        )
    columns = [
        "origin",
        "destination",
        "basis",
        "basis_label",
        "transfers",
        "subjects",
        "systems",
        "kinds",
        "geometry",
    ]
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326")


def legend() -> pd.DataFrame:
    """Return the colour legend of legal statuses (worst first)."""
    return pd.DataFrame(
        [
            {
                "status": s,
                "meaning": STATUS_LABELS[s],
                "colour": "#{:02x}{:02x}{:02x}".format(*STATUS_COLOURS[s]),
            }
            for s in STATUS_ORDER
        ]
    )
