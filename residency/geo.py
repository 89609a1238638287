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
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, shape

from residency import places
from residency._perf import bulk
from residency._resources import data_file
from residency.findings import Assessment, Finding
from residency.query import Location
from residency.routes import Hit
from residency.rules import Transfer
from residency.vocabulary import (
    BASES,
    BASES_WORST_FIRST,
    BASIS_LABELS,
    KINDS,
    SEVERITIES,
    Basis,
)

# Worst first: the legal basis of a transfer (arcs are coloured by the worst on a route),
# in the one ranking judgement uses (residency.vocabulary.Basis).
BASIS_ORDER = BASES_WORST_FIRST
# Worst first: a country's status is the most severe finding that names it or, with no
# finding, the worst basis of the transfers into it ("origin": data only comes from there).
# No basis and needs review always make a finding, so they stand for high and medium.
STATUS_ORDER = (
    *SEVERITIES,
    *(b for b in BASES_WORST_FIRST if b not in (Basis.NO_BASIS, Basis.NEEDS_REVIEW)),
    "origin",
)
# A basis a country status stands for when no finding names the country (never expected:
# a transfer with no basis or one to review always makes a finding).
_BASIS_STATUS = {"no_basis": "high", "needs_review": "medium"}
# ColorBrewer RdYlBu (colour-blind safe) for severity and bases; greys told apart by
# lightness: own staff abroad (mid), origin only (dark), no data (the light world).
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "high": (215, 48, 39),
    "medium": (252, 141, 89),
    "low": (254, 224, 144),
    "no_basis": (215, 48, 39),
    "needs_review": (252, 141, 89),
    "safeguard": (171, 217, 233),
    "adequacy": (116, 173, 209),
    "unrestricted": (69, 117, 180),
    "free_flow": (49, 54, 149),
    "own_staff": (170, 170, 170),
    "origin": (110, 110, 110),
}
EUROPE = ("EEA",)  # the map's Europe view: the EEA bloc's members, overseas parts left out
NO_DATA_COLOUR = (225, 228, 232)  # the world's countries that hold none of the data
STATUS_LABELS = {
    "high": "high-severity finding",
    "medium": "medium-severity finding",
    "low": "low-severity finding",
    **BASIS_LABELS,
    "origin": "data originates here (no transfer into it)",
}
COUNTRY_LEGEND = (
    "Country colour: the most severe finding that names the country; with none, the worst "
    "legal basis of the transfers into it. Dark grey: the data originates there and no "
    "transfer goes into it; light grey: none of the data."
)
ARC_LEGEND = (
    "Arcs: one per origin and destination country; width by the number of subjects whose "
    "data takes it, colour by the worst legal basis on it."
)


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
def _geometries() -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["geometry"] for f in _countries_json()["features"]}


def geometry_json(code: str) -> dict[str, Any] | None:
    """Return a country's shape as a GeoJSON geometry: the shipped file's own, so drawing a
    map never converts polygons again (do not change the dict returned; None: unknown).

    >>> geometry_json("FR")["type"]
    'MultiPolygon'
    """
    return _geometries().get(code)


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
    kinds: tuple[str, ...] = KINDS

    def keep(self, loc: Location) -> bool:
        """Tell whether a location passes the filters."""
        return self.passes(loc.subject, loc.kind, loc.data, loc.system)

    def passes(self, subject: str, kind: str, data: tuple[str, ...], system: str) -> bool:
        """Tell whether a place a subject's data reaches passes (``system``: its label)."""
        return (
            (self.subject is None or subject == self.subject)
            and (self.category is None or self.category in data)
            and (self.system is None or system == self.system)
            and kind in self.kinds
        )


def locations(assessment: Assessment, filters: Filters | None = None) -> list[Location]:
    """Return every location in the assessment that passes the filters."""
    f = filters or Filters()
    return list(assessment.derived(("geo.locations", f), lambda: _locations(assessment, f)))


def _locations(assessment: Assessment, f: Filters) -> list[Location]:
    return [loc for r in assessment.results.values() for loc in r.locations if f.keep(loc)]


def transfers(assessment: Assessment, filters: Filters | None = None) -> list[Transfer]:
    """Return every transfer in the assessment whose location passes the filters."""
    f = filters or Filters()
    return list(
        assessment.derived(
            ("geo.transfers", f), lambda: [t for t in assessment.transfers if f.keep(t.location)]
        )
    )


def findings(
    assessment: Assessment, filters: Filters | None = None, *, subjects: set[str] | None = None
) -> list[Finding]:
    """Return the findings about the subjects whose data passes the filters (most severe
    first): what the map's metrics count."""
    if subjects is None:
        f = filters or Filters()
        return list(assessment.derived(("geo.findings", f), lambda: _findings(assessment, f)))
    return [f for f in assessment.findings if f.subject in subjects]


def _findings(assessment: Assessment, filters: Filters) -> list[Finding]:
    subjects = {subject for subject, _, _ in _hits(assessment, filters)}
    return [f for f in assessment.findings if f.subject in subjects]


def _hits(assessment: Assessment, f: Filters) -> Iterator[tuple[str, str, Hit]]:
    """Yield (subject, origin, hit) for each place the data reaches that passes the filters.

    The frames count these off the walk: one hit is one of :func:`locations`, and one with
    a verdict is one of :func:`transfers` (tests/test_geo.py checks both), so the map never
    makes a Location or Transfer object per row.
    """
    everything = f.category is None and f.system is None and set(KINDS) <= set(f.kinds)
    for subject, sm in assessment.subject_maps.items():
        if f.subject is None or subject == f.subject:
            for _, shared, access in sm.units:  # sm.pairs() without its list of pairs
                for h in (*shared, *access):
                    if everything or f.passes(subject, h.kind, h.data, h.system_label):
                        yield subject, sm.origin, h


class _CountryOf(dict[str, str]):
    """:func:`places.country_of` of each code asked for, remembered: the frames ask once
    per hit (800,000 times at 100x the demo) about a few hundred codes."""

    def __missing__(self, code: str) -> str:
        found = self[code] = places.country_of(code)
        return found


def country_frame(assessment: Assessment, filters: Filters | None = None) -> gpd.GeoDataFrame:
    """Answer, per country, what lives there: a GeoDataFrame of the countries that hold data.

    Columns: ``code``, ``name``, ``subjects`` (how many subjects' data reach it),
    ``origin_of`` (how many shown subjects' data originate there), ``categories``,
    ``systems``, one ``basis_*`` count per transfer basis, ``findings`` (how many findings
    name it), ``worst_basis`` (of the transfers into it), ``status`` (the most severe
    finding naming it, else the worst basis, else ``own_staff`` or ``origin``: see
    :data:`STATUS_ORDER`), ``status_label``, ``reason`` (the worst finding's title or the
    basis) and geometry. A country the data only comes from is a row too.
    """
    # An app rerun asks again for the same filters: answer from the assessment's memo.
    f = filters or Filters()
    with bulk():  # millions of hits counted: no full collections meanwhile
        frame = assessment.derived(("geo.country_frame", f), lambda: _country_frame(assessment, f))
    return frame.copy()


def _country_frame(assessment: Assessment, filters: Filters) -> gpd.GeoDataFrame:
    by_country: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "subjects": set(),
            "categories": set(),
            "systems": set(),
            "bases": Counter(),
            "origin_of": set(),
        }
    )
    shown: dict[str, str] = {}
    country_of = _CountryOf()
    for subject, origin, h in _hits(assessment, filters):
        row = by_country[country_of[h.country]]
        row["subjects"].add(subject)
        row["categories"].update(h.data)
        row["systems"].add(h.system_label)
        if h.verdict is not None:
            row["bases"][h.verdict.basis] += 1
        shown[subject] = origin
    for subject, origin in sorted(shown.items()):  # where the data comes from is drawn too
        by_country[places.country_of(origin)]["origin_of"].add(subject)
    named: dict[str, list[Finding]] = defaultdict(list)
    for f in findings(assessment, filters, subjects=set(shown)):
        for c in dict.fromkeys(places.country_of(c) for c in f.countries):
            named[c].append(f)
    world = _world().set_index("code")  # read-only use: no copy needed
    rows = []
    for code, row in sorted(by_country.items()):
        if code not in world.index:
            continue
        bases = row["bases"]
        worst = min(named.get(code, []), key=lambda f: SEVERITIES.index(f.severity), default=None)
        basis = next((b for b in BASIS_ORDER if bases.get(b)), None)
        if worst is not None:
            status, reason = worst.severity, worst.title
        elif basis is not None:
            status, reason = _BASIS_STATUS.get(basis, basis), STATUS_LABELS[basis]
        else:
            status, reason = "origin", STATUS_LABELS["origin"]
        rows.append(
            {
                "code": code,
                "name": world.at[code, "name"],
                "subjects": len(row["subjects"]),
                "origin_of": len(row["origin_of"]),
                "categories": ", ".join(sorted(row["categories"])),
                "systems": ", ".join(sorted(row["systems"])),
                **{f"basis_{b}": bases.get(b, 0) for b in BASES},
                "transfers": sum(bases.values()),
                "findings": len(named.get(code, [])),
                "worst_basis": basis or "",
                "status": status,
                "status_label": STATUS_LABELS[status],
                "reason": reason,
                "geometry": world.at[code, "geometry"],
            }
        )
    columns = [
        "code",
        "name",
        "subjects",
        "origin_of",
        "categories",
        "systems",
        *[f"basis_{b}" for b in BASES],
        "transfers",
        "findings",
        "worst_basis",
        "status",
        "status_label",
        "reason",
        "geometry",
    ]
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326")


def worst_first(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a country frame sorted worst status first, then by subjects (most first)."""
    rank = frame["status"].map(STATUS_ORDER.index)
    order = sorted(range(len(frame)), key=lambda i: (rank.iloc[i], -frame["subjects"].iloc[i]))
    return frame.iloc[order]


def flow_frame(
    assessment: Assessment, filters: Filters | None = None, *, by_basis: bool = True
) -> gpd.GeoDataFrame:
    """Answer which transfers go from where to where: one LineString per origin, destination
    and basis (or, with ``by_basis=False``, per origin and destination with the worst basis),
    with how many transfers and subjects it carries."""
    f = filters or Filters()
    key = ("geo.flow_frame", f, by_basis)
    with bulk():
        return assessment.derived(key, lambda: _flow_frame(assessment, f, by_basis)).copy()


def _flow_frame(assessment: Assessment, filters: Filters, by_basis: bool) -> gpd.GeoDataFrame:
    groups: dict[tuple[str, str, str], list[tuple[str, Hit, str]]] = defaultdict(list)
    country_of = _CountryOf()
    for subject, origin, h in _hits(assessment, filters):
        if h.verdict is None:
            continue  # inside the origin: no transfer
        basis = h.verdict.basis
        pair = (country_of[origin], country_of[h.country])
        groups[(*pair, basis if by_basis else "")].append((subject, h, basis))
    rows = []
    for (origin, destination, grouped), ts in sorted(groups.items()):
        bases = {basis for _, _, basis in ts}
        basis = grouped or next(b for b in BASIS_ORDER if b in bases)
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
                "subjects": len({subject for subject, _, _ in ts}),
                "systems": ", ".join(sorted({h.system_label for _, h, _ in ts})),
                "kinds": ", ".join(sorted({h.kind for _, h, _ in ts})),
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


def legend(kind: str = "countries") -> pd.DataFrame:
    """Return the colour legend, worst first: of country statuses (``countries``) or of the
    arcs' legal bases (``arcs``)."""
    order = STATUS_ORDER if kind == "countries" else BASIS_ORDER
    return pd.DataFrame(
        [
            {
                "status": s,
                "meaning": STATUS_LABELS[s],
                "colour": "#{:02x}{:02x}{:02x}".format(*STATUS_COLOURS[s]),
            }
            for s in order
        ]
    )


def view(
    codes: list[str] | set[str] | frozenset[str],
    *,
    width_px: int = 900,
    height_px: int = 560,
    core: bool = False,
) -> dict[str, float]:
    """Answer the map view (``latitude``, ``longitude``, ``zoom``) that fits the label points
    of these countries or blocs (the whole world when none is known). ``core``: leave out
    points far from the median (a bloc's overseas territories)."""
    points = [p for c in codes for code in places.expand(c) if (p := point_of(code)) is not None]
    if core and points:
        mid_lon = sorted(p[0] for p in points)[len(points) // 2]
        mid_lat = sorted(p[1] for p in points)[len(points) // 2]
        points = [p for p in points if abs(p[0] - mid_lon) <= 40 and abs(p[1] - mid_lat) <= 30]
    if not points:
        return {"latitude": 25.0, "longitude": 10.0, "zoom": 0.9}
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    stretch = width_px / height_px * 1.5  # Mercator stretches latitudes away from the equator
    span = max(max(lons) - min(lons), (max(lats) - min(lats)) * stretch, 8.0) * 1.45
    zoom = max(0.5, min(6.0, math.log2(360 * width_px / 512 / span)))
    return {
        "latitude": round((max(lats) + min(lats)) / 2, 3),
        "longitude": round((max(lons) + min(lons)) / 2, 3),
        "zoom": round(zoom, 2),
    }
