"""The legal data follows docs/jurisdiction-data.md: every fact sourced and dated."""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest

from residency.jurisdictions import check_regime_file, legal_data, regime_facts

ROOT = Path(__file__).resolve().parent.parent
REGIME_FILES = sorted((ROOT / "data" / "jurisdictions" / "regimes").glob("*.yaml"))
REQUIRED = [
    "DE",
    "FR",
    "IE",
    "NO",
    "GB",
    "CH",
    "US",
    "CA",
    "CA-QC",
    "BR",
    "CN",
    "RU",
    "IN",
    "JP",
    "KR",
    "SG",
    "AU",
    "NZ",
    "ZA",
    "NG",
    "KE",
    "TR",
    "SA",
    "AE",
    "IL",
    "AR",
    "MX",
    "CO",
    "CL",
    "VN",
    "ID",
    "PH",
]


def test_all_legal_data_loads_and_cross_checks():
    data = legal_data()
    assert data.regimes and data.instruments
    assert data.content_hash.startswith("sha256:")


@pytest.mark.parametrize("path", REGIME_FILES, ids=[p.stem for p in REGIME_FILES])
def test_each_regime_file_follows_the_format(path):
    assert check_regime_file(str(path)) == []
    assert path.stem == legal_data().regime(path.stem).id


@pytest.mark.parametrize("regime", legal_data().regimes, ids=lambda r: r.id)
def test_every_fact_has_a_source_and_a_date(regime):
    keys = {s.id: s for s in regime.sources}
    for fact in regime_facts(regime):
        assert fact.source in keys
        assert fact.as_of is not None or getattr(fact, "start", None) is not None
    for source in regime.sources:
        assert source.url or source.citation, source.id
    assert regime.retrieved >= regime.as_of


@pytest.mark.parametrize("origin", REQUIRED)
def test_required_origins_are_covered(origin):
    assert legal_data().regimes_for(origin), origin


def test_every_iso_country_is_known():
    rows = legal_data().coverage()
    assert len(rows) == len(pycountry.countries) == 249
    assert {r["code"] for r in rows} == {c.alpha_2 for c in pycountry.countries}


def test_low_confidence_is_explained():
    for regime in legal_data().regimes:
        for fact in regime_facts(regime):
            if fact.confidence == "low":
                assert fact.note, f"{regime.id}: a low-confidence fact needs a note"
        if regime.confidence == "low":
            assert regime.unconfirmed or regime.notes, regime.id


def test_instrument_names_and_aliases_are_unique():
    seen = {}
    for inst in legal_data().instruments:
        for name in [inst.name, *inst.aliases]:
            key = "".join(ch for ch in name.lower() if ch.isalnum())
            assert seen.setdefault(key, inst.name) == inst.name, name


def test_principles_are_sourced_and_dated():
    own = legal_data().principles["own_staff"]
    assert own.sources and all(s.url or s.citation for s in own.sources)
    assert own.retrieved >= own.as_of
