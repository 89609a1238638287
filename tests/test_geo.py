from __future__ import annotations

import hashlib
from itertools import pairwise
from pathlib import Path

import yaml

from residency import geo

ROOT = Path(__file__).resolve().parent.parent
GEOJSON = ROOT / "data" / "jurisdictions" / "countries.geojson"
SMALL_STATES = ["SG", "LU", "MT", "BH", "HK", "MC", "VA", "SM", "LI", "AD", "MO", "TV", "NR", "GI"]
TODAY = "2026-11-26"


def test_shipped_geometry_matches_its_provenance_record():
    record = yaml.safe_load((GEOJSON.parent / "countries.source.yaml").read_text())
    digest = hashlib.sha256(GEOJSON.read_bytes()).hexdigest()
    assert digest in str(record)
    assert GEOJSON.stat().st_size < 1_500_000
    assert record["natural_earth"]["version"] == "5.1.1"


def test_countries_keep_small_states_and_iso_codes():
    world = geo.countries()
    assert 240 <= len(world) <= 250
    codes = set(world["code"])
    assert set(SMALL_STATES) <= codes
    assert {"FR", "NO", "DE", "US", "CN", "IN", "BR"} <= codes  # no "-99" codes
    assert world.geometry.is_valid.all()


def test_label_points_are_used_for_arcs():
    lon, lat = geo.point_of("FR")
    assert -5 < lon < 8 and 42 < lat < 51  # mainland France, not the Atlantic
    assert geo.point_of("CA-QC") == geo.point_of("CA")


def test_country_frame_metrics(demo):
    a = demo.assessment(as_of=TODAY)
    frame = geo.country_frame(a)
    us = frame.set_index("code").loc["US"]
    assert us["subjects"] > 10 and us["transfers"] > 0
    assert us["status"] in geo.STATUS_ORDER
    assert frame.crs.to_epsg() == 4326
    one = geo.country_frame(a, geo.Filters(subject="client:fennwerk"))
    assert len(one) < len(frame) and one["subjects"].max() == 1


def test_flow_frame_lines(demo):
    a = demo.assessment(as_of=TODAY)
    flows = geo.flow_frame(a)
    assert (flows.geometry.geom_type == "LineString").all()
    assert set(flows["basis"]) <= set(geo.BASIS_ORDER)
    worst = geo.flow_frame(a, by_basis=False)
    assert len(worst) <= len(flows)
    assert not worst.duplicated(["origin", "destination"]).any()
    stored = geo.flow_frame(a, geo.Filters(kinds=("stored",)))
    assert stored["kinds"].eq("stored").all()


def test_legend_lists_every_status():
    assert list(geo.legend()["status"]) == list(geo.STATUS_ORDER)
    assert list(geo.legend("arcs")["status"]) == list(geo.BASIS_ORDER)


def test_legend_colours_can_be_told_apart():
    """Every colour a reader must tell apart differs clearly, greys by lightness."""
    colours = {s: geo.STATUS_COLOURS[s] for s in geo.STATUS_ORDER}
    colours["no data"] = geo.NO_DATA_COLOUR
    seen = list(colours.items())
    for i, (a, ca) in enumerate(seen):
        for b, cb in seen[i + 1 :]:
            assert sum(abs(x - y) for x, y in zip(ca, cb, strict=True)) >= 60, (a, b)
    greys = [geo.STATUS_COLOURS["own_staff"], geo.STATUS_COLOURS["origin"], geo.NO_DATA_COLOUR]
    lightness = sorted(sum(c) / 3 for c in greys)
    assert all(b - a >= 50 for a, b in pairwise(lightness))
    # no red-green pair: the palette's hues are red-orange-yellow and blues (ColorBrewer RdYlBu)
    assert all(c[1] <= max(c[0], c[2]) for c in colours.values())


def _frames_from_rows(a, f):
    """The frames' counts made the slow way, from Location and Transfer objects."""
    from collections import Counter, defaultdict

    from residency import places

    countries = defaultdict(lambda: [set(), set(), set(), Counter()])
    for loc in geo.locations(a, f):
        row = countries[places.country_of(loc.country)]
        row[0].add(loc.subject)
        row[1].update(loc.data)
        row[2].add(loc.system)
    flows = defaultdict(lambda: [0, set(), set(), set()])
    for t in geo.transfers(a, f):
        countries[places.country_of(t.location.country)][3][t.basis] += 1
        pair = (places.country_of(t.origin), places.country_of(t.location.country), t.basis)
        flow = flows[pair]
        flow[0] += 1
        flow[1].add(t.location.subject)
        flow[2].add(t.location.system)
        flow[3].add(t.location.kind)
    return countries, flows


def test_frames_count_what_locations_and_transfers_list(demo):
    a = demo.assessment(as_of=TODAY)
    for f in (
        geo.Filters(),
        geo.Filters(subject="client:fennwerk"),
        geo.Filters(category="messages"),
        geo.Filters(kinds=("accessed", "trained")),
        geo.Filters(system="Slack"),
    ):
        countries, flows = _frames_from_rows(a, f)
        frame = geo.country_frame(a, f).set_index("code")
        shown = {c for c in countries if c in frame.index}
        assert shown and shown <= set(frame.index)
        for code in shown:
            subjects, categories, systems, bases = countries[code]
            row = frame.loc[code]
            assert row["subjects"] == len(subjects), (f, code)
            assert row["categories"] == ", ".join(sorted(categories))
            assert row["systems"] == ", ".join(sorted(systems))
            assert row["transfers"] == sum(bases.values())
            for basis in geo.BASIS_ORDER:
                assert row[f"basis_{basis}"] == bases.get(basis, 0)
        lines = geo.flow_frame(a, f)
        drawn = {k: v for k, v in flows.items() if k[0] != k[1]}
        assert len(lines) == len(drawn)
        for r in lines.to_dict("records"):
            n, subjects, systems, kinds = drawn[(r["origin"], r["destination"], r["basis"])]
            assert r["transfers"] == n and r["subjects"] == len(subjects)
            assert r["systems"] == ", ".join(sorted(systems))
            assert r["kinds"] == ", ".join(sorted(kinds))


def test_geometry_json_is_the_frames_geometry():
    import json

    world = geo.countries()
    for code, shape in zip(world["code"], world.geometry, strict=True):
        assert json.dumps(geo.geometry_json(code)) == json.dumps(shape.__geo_interface__), code
    assert geo.geometry_json("XX") is None
