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
# Added for issue 16 (legal data v2), from shared/reference/legal-audit-2026-12.md section 3.
NEW_V2 = ["MY", "HK", "TH", "TW", "EG", "QA", "BH", "OM", "KW", "JO", "RS", "UA", "GE", "UY", "PE"]
NEW_V2 += ["EC", "PA", "CR", "KZ", "UZ", "RW", "TZ", "UG", "MU", "GH", "MA", "TN", "DZ", "JE", "GG"]
NEW_V2 += ["PK", "CI", "IM", "LK", "BD", "SN"]


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


def test_at_least_sixty_regimes():
    assert len(legal_data().regimes) >= 60
    assert len(REGIME_FILES) == len(legal_data().regimes)


@pytest.mark.parametrize("regime_id", NEW_V2)
def test_new_regimes_carry_full_provenance(regime_id):
    regime = legal_data().regime(regime_id)
    assert regime.applies_to == [regime_id]
    assert regime.retrieved.isoformat() == "2026-12-02"
    keys = {s.id: s for s in regime.sources}
    facts = regime_facts(regime)
    assert facts, "a regime with no fact would answer no_basis for every transfer"
    for fact in facts:
        source = keys[fact.source]
        assert source.url or source.citation
        assert fact.as_of is not None or getattr(fact, "start", None) is not None
        assert fact.confidence in ("high", "medium", "low")
        assert fact.review_date(regime.retrieved) <= regime.retrieved
    # Either a rule decides (adequacy, safeguard, unrestricted) or a trigger names the gap.
    assert regime.review_triggers or regime.unrestricted is not None
    for trigger in regime.review_triggers:
        assert len(trigger.missing) > 20, trigger.id
    if regime.confidence != "high":
        assert regime.unconfirmed, f"{regime_id}: say what could not be confirmed"


def test_dated_facts_end_after_they_start():
    for regime in legal_data().regimes:
        spans = [(regime.start, regime.until)]
        spans += [
            (getattr(f, "start", None), getattr(f, "until", None)) for f in regime_facts(regime)
        ]
        for start, until in spans:
            if start is not None and until is not None:
                assert start < until, regime.id


@pytest.mark.parametrize("origin", REQUIRED + NEW_V2)
def test_required_origins_are_covered(origin):
    assert legal_data().regimes_for(origin), origin


def test_every_iso_country_is_known():
    rows = legal_data().coverage()
    assert len(rows) == len(pycountry.countries) == 249
    assert {r.code for r in rows} == {c.alpha_2 for c in pycountry.countries}
    assert {r.code for r in rows if not r.regimes} >= {"KP"}  # no legal data for it yet


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


def test_stale_lists_facts_checked_over_a_year_before():
    from datetime import date

    data = legal_data()
    rows = data.stale(date(2026, 12, 2))
    assert rows and all(r["checked"] < "2025-12-02" for r in rows)
    assert [r["checked"] for r in rows] == sorted(r["checked"] for r in rows)
    keys = {(r["regime"], r["fact"]) for r in rows}
    assert ("IN", "in-spdi-rule-7") not in keys  # re-checked on 2026-12-02
    assert any(r["regime"] == "CO" for r in rows)  # the SIC country list, as of 2018
    everything = data.stale(date(2100, 1, 1))
    assert len(everything) == sum(len(regime_facts(r)) for r in data.regimes)
    assert data.stale(date(2000, 1, 1)) == []
    leap = [(r["regime"], r["fact"]) for r in data.stale(date(2028, 2, 29))]
    assert leap == [(r["regime"], r["fact"]) for r in data.stale(date(2028, 2, 28))]
