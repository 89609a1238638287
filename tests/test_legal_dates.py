"""Legal data on past and future dates (issue 16), table-driven and by property.

Each row is one question: origin, destination, data, what the recipient holds, and the
as-of date, with the expected basis, the regime that decides it and the source it must
rest on. The source is checked against the deciding judgement's own sources (regime and
source key), so a right basis for the wrong reason fails; every source a row names must
exist in the legal data with a citation or URL. Rows are one-client inventories built by
tests/rules_helpers.py (the data stored at the destination), so they do not depend on
the demo or on who the organisation's staff are.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency import places
from residency.datamap import DataMap
from residency.inventory import parse_inventory_text
from residency.jurisdictions import legal_data, regime_facts
from tests.rules_helpers import scenario

TODAY = "2026-12-02"
PS = ("EU-US Privacy Shield",)
SCC = ("EU SCC 2021",)

# (id, origin, destination, data, as_of, safeguards, certifications,
#  basis, deciding regime, source key, text the judgement's note or missing fact contains)
ROWS = [
    # The United Kingdom in the EU (until 31 Jan 2020), inside Union law (to 31 Dec 2020),
    # the TCA bridge (to 28 June 2021), the adequacy decisions (to 27 Dec 2031).
    ("de-gb-2019", "DE", "GB", "contact_details", "2019-06-01", (), (),
     "free_flow", "EU-GDPR", "withdrawal-agreement", "member state"),
    ("de-gb-transition", "DE", "GB", "contact_details", "2020-06-01", (), (),
     "free_flow", "EU-GDPR", "withdrawal-agreement", "transition"),
    ("de-gb-tca-bridge", "DE", "GB", "contact_details", "2021-03-01", (), (),
     "free_flow", "EU-GDPR", "tca-bridge", "bridge"),
    ("de-gb-bridge-last-day", "DE", "GB", "contact_details", "2021-06-27", (), (),
     "free_flow", "EU-GDPR", "tca-bridge", None),
    ("de-gb-adequacy-2021", "DE", "GB", "contact_details", "2021-06-28", (), (),
     "adequacy", "EU-GDPR", "eu-2021-1772", None),
    ("de-gb-renewal-last-day", "DE", "GB", "contact_details", "2031-12-26", (), (),
     "adequacy", "EU-GDPR", "uk-renewal", None),
    ("de-gb-adequacy-ended", "DE", "GB", "contact_details", "2031-12-27", (), (),
     "no_basis", "EU-GDPR", "eu-2021-914", "Safeguards this regime accepts"),
    # GB-origin data: the GDPR governs it until 2021 (EU member, then Union law).
    ("gb-de-2019", "GB", "DE", "contact_details", "2019-06-01", (), (),
     "free_flow", "EU-GDPR", "eea-jcd-154-2018", None),
    ("gb-de-transition", "GB", "DE", "contact_details", "2020-12-31", (), (),
     "free_flow", "EU-GDPR", "eea-jcd-154-2018", None),
    ("gb-de-uk-gdpr", "GB", "DE", "contact_details", "2021-01-01", (), (),
     "adequacy", "UK-GDPR", "dpa-2018-sch21", None),
    ("gb-us-privacy-shield-2019", "GB", "US", "contact_details", "2019-06-01", (), PS,
     "adequacy", "EU-GDPR", "eu-2016-1250", None),
    # EEA EFTA states: Privacy Shield from 8 July 2017; BCR with the GDPR on 20 July 2018;
    # Brazil's decision for EU origins only; other EU instruments at medium confidence.
    ("no-us-privacy-shield-before", "NO", "US", "contact_details", "2017-01-01", (), PS,
     "no_basis", "EU-GDPR", "eu-2021-914", None),
    ("de-us-privacy-shield-2017", "DE", "US", "contact_details", "2017-01-01", (), PS,
     "adequacy", "EU-GDPR", "eu-2016-1250", None),
    ("no-us-privacy-shield-eea", "NO", "US", "contact_details", "2017-08-01", (), PS,
     "adequacy", "EU-GDPR", "eu-2017-144-eea", "8 July 2017"),
    ("no-us-bcr-before-eea-gdpr", "NO", "US", "contact_details", "2018-06-01", ("BCR",), (),
     "no_basis", "EU-GDPR", "eea-jcd-154-2018", None),
    ("no-us-bcr-eea-gdpr", "NO", "US", "contact_details", "2018-08-01", ("BCR",), (),
     "safeguard", "EU-GDPR", "eea-jcd-154-2018", "20 July 2018"),
    ("no-jp-adequacy", "NO", "JP", "contact_details", TODAY, (), (),
     "adequacy", "EU-GDPR", "eu-2019-419", "not in the project's reference"),
    ("no-us-scc", "NO", "US", "contact_details", TODAY, SCC, (),
     "safeguard", "EU-GDPR", "eu-2021-914", "not in the project's reference"),
    ("no-br-eu-only", "NO", "BR", "contact_details", TODAY, (), (),
     "no_basis", "EU-GDPR", "eu-2021-914", None),
    ("de-br-adequacy", "DE", "BR", "contact_details", TODAY, (), (),
     "adequacy", "EU-GDPR", "eu-2026-179", None),
    # Switzerland: the old FADP until 1 Sept 2023 (its adequacy list is not in the data).
    ("ch-de-old-fadp", "CH", "DE", "contact_details", "2020-06-01", (), (),
     "needs_review", "CH-FADP-1992", "dpo-annex1-foj", "old FADP"),
    ("ch-us-old-fadp-scc", "CH", "US", "contact_details", "2022-06-01", SCC, (),
     "safeguard", "CH-FADP-1992", "fdpic-scc-2021", None),
    ("ch-de-revised-fadp", "CH", "DE", "contact_details", "2023-09-01", (), (),
     "adequacy", "CH-FADP", "dpo-annex1-prighter", None),
    ("ch-us-before-swiss-dpf", "CH", "US", "contact_details", "2024-09-14", (), ("Swiss-US DPF",),
     "no_basis", "CH-FADP", "fadp", None),
    ("ch-us-swiss-dpf", "CH", "US", "contact_details", "2024-09-15", (), ("Swiss-US DPF",),
     "adequacy", "CH-FADP", "swiss-us-dpf", None),
    # No law in force yet: no transfer rule on that date, never no_basis.
    ("br-before-lgpd", "BR", "US", "contact_details", "2020-09-17", (), (),
     "unrestricted", "none", None, "no transfer rule of BR"),
    ("br-lgpd", "BR", "US", "contact_details", "2020-09-18", (), (),
     "no_basis", "BR", "anpd-res-19", None),
    ("sa-before-pdpl", "SA", "US", "contact_details", "2023-09-13", (), (),
     "unrestricted", "none", None, "no transfer rule of SA"),
    ("sa-exemption-review", "SA", "US", "contact_details", TODAY, SCC, (),
     "needs_review", "SA", "hourani-transfer-rules", "exemption"),
    ("cn-before-pipl", "CN", "US", "contact_details", "2021-10-31", (), (),
     "unrestricted", "none", None, "no transfer rule of CN"),
    ("cn-pipl", "CN", "US", "contact_details", "2021-11-01", (), (),
     "needs_review", "CN", "pipl", None),
    ("cn-2024-provisions", "CN", "US", "contact_details", "2024-03-22", (), (),
     "needs_review", "CN", "wilmerhale-2024", None),
    # Chile: Law 19.628 until 30 Nov 2026, Law 21.719 from 1 Dec 2026.
    ("cl-old-law", "CL", "US", "contact_details", "2026-11-30", (), (),
     "unrestricted", "CL", "law-21719-ontier", None),
    ("cl-law-21719", "CL", "US", "contact_details", "2026-12-01", (), (),
     "needs_review", "CL", "law-21719-ontier", "Law 21.71"),
    # Vietnam: nothing before Decree 13, Decree 13 (1 July 2023), then the 2026 law.
    ("vn-before-decree-13", "VN", "US", "contact_details", "2023-06-30", (), (),
     "unrestricted", "none", None, "no transfer rule of VN"),
    ("vn-decree-13", "VN", "US", "contact_details", "2024-06-01", (), (),
     "needs_review", "VN", "dpa-decree-13", "Decree 13"),
    ("vn-decree-356", "VN", "US", "contact_details", TODAY, (), (),
     "needs_review", "VN", "cdlaf-decree-356", "60 days"),
    # India: SPDI Rules r.7 from 11 Apr 2011 until DPDP s.44(2) (about 13 May 2027).
    ("in-before-spdi", "IN", "US", "health_data", "2010-06-01", (), (),
     "unrestricted", "IN", "spdi-rules", None),
    ("in-spdi-rule-7", "IN", "US", "health_data", TODAY, (), (),
     "needs_review", "IN", "spdi-rules", "SPDI"),
    ("in-after-s44-2", "IN", "US", "health_data", "2028-01-01", (), (),
     "unrestricted", "IN", "spdi-rules", None),
]  # fmt: skip


@cache
def _map(origin: str, destination: str, data: str, safeguards: tuple, certifications: tuple):
    doc = scenario(
        origin,
        destination,
        data=(data,),
        safeguards=safeguards,
        certifications=certifications,
    )
    return DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))


def _transfer(origin, destination, data, as_of, safeguards=(), certifications=()):
    m = _map(origin, destination, data, tuple(safeguards), tuple(certifications))
    found = [t for t in m.transfers("client:c", as_of=as_of) if t.location.country == destination]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("origin", "destination", "data", "as_of", "safeguards", "certs", "basis", "regime", "source",
     "says"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)  # fmt: skip
def test_basis_on_the_date(
    origin, destination, data, as_of, safeguards, certs, basis, regime, source, says
):
    t = _transfer(origin, destination, data, as_of, safeguards, certs)
    assert t.basis == basis, (t.deciding, t.notes)
    assert t.deciding.regime == regime
    refs = {(s.regime, s.id) for s in t.deciding.sources}
    if source is None:
        assert not t.deciding.sources  # no law in force: nothing to cite
    else:
        assert (regime, source) in refs, refs
        assert refs <= {(s.regime, s.id) for s in t.sources}
    if says is not None:
        text = " ".join(filter(None, (t.deciding.note, t.deciding.missing)))
        assert says in text, text


def test_every_row_names_a_real_source():
    data = legal_data()
    for row in ROWS:
        regime, source = row[8], row[9]
        if source is not None:
            found = data.regime(regime).source(source)
            assert found.url or found.citation, row[0]


def test_eea_efta_entries_without_an_incorporation_date_are_medium():
    # Where the reference gives no date an EU instrument reached IS, LI and NO, the
    # EFTA entry keeps the EU date at medium confidence with a note; never a made-up date.
    eu = legal_data().regime("EU-GDPR")
    efta = [f for f in [*eu.adequacy, *eu.safeguards] if f.origins == ["IS", "LI", "NO"]]
    assert len(efta) >= 15
    for fact in efta:
        twin = [
            f
            for f in [*eu.adequacy, *eu.safeguards]
            if f.origins == ["EU"]
            and getattr(f, "destination", None) == getattr(fact, "destination", None)
            and getattr(f, "name", None) == getattr(fact, "name", None)
            and f.until == fact.until
        ]
        if fact.start == (twin[0].start if twin else None):
            assert fact.confidence in ("medium", "low"), fact
            assert "reference" in (fact.note or "") or fact.source == "dpf-eea-practice", fact
        else:  # a sourced EEA date (Privacy Shield 2017-07-08, BCR 2018-07-20)
            assert fact.source in ("eu-2017-144-eea", "eea-jcd-154-2018"), fact


def test_gb_membership_of_the_eu_is_dated():
    eu = places.bloc_members()["EU"]
    (gb,) = [m for m in eu if m.code == "GB"]
    assert (gb.until, gb.law_until) == (date(2020, 2, 1), date(2021, 1, 1))
    assert "GB" in places.expand("EU", date(2020, 1, 31), law=False)
    assert "GB" not in places.expand("EU", date(2020, 2, 1), law=False)
    assert "GB" in places.expand("EEA", date(2020, 12, 31))
    assert "GB" not in places.expand("EEA", date(2021, 1, 1))
    assert "GB" not in places.expand("EU")  # today
    data = legal_data()
    assert [r.id for r in data.regimes_for("GB", as_of=date(2020, 12, 31))] == ["EU-GDPR"]
    assert [r.id for r in data.regimes_for("GB", as_of=date(2021, 1, 1))] == ["UK-GDPR"]


def test_a_contract_naming_the_eu_follows_membership():
    doc = scenario("DE", "GB", residency=("EU",))
    m = DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))
    rules = {d: {f.rule for f in m.findings(as_of=d)} for d in ("2019-06-01", "2020-06-01")}
    assert "residency.contract_breach" not in rules["2019-06-01"]  # GB was a member
    assert "residency.contract_breach" in rules["2020-06-01"]  # no longer a member


def test_blocs_are_part_of_the_legal_data_hash(monkeypatch, tmp_path):
    import shutil

    from residency import _resources, jurisdictions

    root = tmp_path / "data"
    shutil.copytree(_resources.data_root() / "jurisdictions", root / "jurisdictions")
    before = legal_data().content_hash
    blocs = root / "jurisdictions" / "blocs.yaml"
    blocs.write_text(blocs.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    monkeypatch.setattr(jurisdictions, "data_root", lambda: root)
    jurisdictions.legal_data.cache_clear()
    try:
        assert jurisdictions.legal_data().content_hash != before
    finally:
        jurisdictions.legal_data.cache_clear()


@pytest.mark.parametrize(
    ("day", "rule"),
    [
        ("2015-06-01", None),
        ("2020-01-01", "RU:ru-primary-database-2015"),
        ("2025-06-30", "RU:ru-primary-database-2015"),
        ("2025-07-01", "RU:ru-foreign-database-ban-2025"),
        (TODAY, "RU:ru-foreign-database-ban-2025"),
    ],
)
def test_russian_localisation_texts_by_date(day, rule):
    m = _map("RU", "DE", "contact_details", (), ())
    found = {f.legal_rule for f in m.findings(as_of=day) if f.rule.startswith("localisation.")}
    assert found == ({rule} if rule else set())
    if rule:
        (f,) = [f for f in m.findings(as_of=day) if f.legal_rule == rule]
        assert ("RU", "b1-localisation-2025") in {(s.regime, s.id) for s in f.sources}


# Properties. Origins with dated facts, destinations inside and outside their areas, and
# what a recipient may hold.
ORIGINS = ["DE", "NO", "GB", "CH", "BR", "SA", "CN", "VN", "IN", "CL", "RU", "US", "MY", "EG"]
DESTINATIONS = ["US", "GB", "DE", "JP", "CN", "IN", "BR", "CH", "SG"]
HELD = [((), ()), (SCC, ()), (("BCR",), ()), ((), ("EU-US DPF",)), ((), PS)]
DATA = ["contact_details", "health_data", "payroll_data"]
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2032, 12, 31))
QUESTIONS = st.tuples(
    st.sampled_from(ORIGINS),
    st.sampled_from(DESTINATIONS),
    st.sampled_from(DATA),
    st.sampled_from(HELD),
).filter(lambda q: q[0] != q[1])


@cache
def _change_days(origin: str) -> frozenset[date]:
    """Every day a fact that can bear on data of ``origin`` starts or ends."""
    data = legal_data()
    days: set[date] = set()
    for regime in data.regimes_for(origin):  # every regime that ever governed it
        days |= {d for d in (regime.start, regime.until) if d}
        for fact in regime_facts(regime):
            days |= {d for d in (getattr(fact, "start", None), getattr(fact, "until", None)) if d}
    for members in places.bloc_members().values():
        for m in members:
            days |= {d for d in (m.start, m.until, m.law_until) if d}
    return frozenset(days)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUESTIONS, DAYS)
def test_a_date_before_a_regime_starts_never_yields_no_basis(question, day):
    origin, destination, data, (safeguards, certs) = question
    t = _transfer(origin, destination, data, day.isoformat(), safeguards, certs)
    started = {r.id for r in legal_data().regimes_for(origin, as_of=day)}
    for regime in legal_data().regimes_for(origin):
        if regime.start is not None and day < regime.start:
            # Not yet in force: it gives no answer at all, so never no_basis.
            assert regime.id not in {j.regime for j in t.judgements}
    if not started:
        assert t.basis != "no_basis", (origin, destination, day)
        assert t.deciding.regime == "none"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUESTIONS, DAYS, st.integers(min_value=1, max_value=900))
def test_moving_the_date_keeps_a_basis_whose_facts_do_not_change_between(question, day, step):
    origin, destination, data, (safeguards, certs) = question
    later = min(day + timedelta(days=step), date(2032, 12, 31))
    changes = [c for c in _change_days(origin) if day < c <= later]
    first = _transfer(origin, destination, data, day.isoformat(), safeguards, certs)
    second = _transfer(origin, destination, data, later.isoformat(), safeguards, certs)
    if not changes:
        assert first.basis == second.basis, (origin, destination, day, later)
        assert first.deciding.regime == second.deciding.regime
        assert {s.id for s in first.sources} == {s.id for s in second.sources}


def test_a_dated_bloc_member_carries_its_source_date_and_confidence():
    from residency.places import BlocDataError, _member

    dated = {"code": "GB", "until": date(2020, 2, 1), "source": "OJ L 29, 31.1.2020"}
    with pytest.raises(BlocDataError, match="a dated member needs as_of, confidence"):
        _member("EU", dated)
    full = {**dated, "as_of": date(2020, 1, 31), "confidence": "high"}
    assert _member("EU", full).until == date(2020, 2, 1)
