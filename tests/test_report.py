"""The review pack: one self-contained HTML file, parsed as a reader's browser would."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest

from residency.records import needs_record
from residency.report import build_report

AS_OF = date(2026, 12, 2)
SECTIONS = ("cover", "map", "plan", "findings", "register", "sources")


class Page(HTMLParser):
    """Every element's id, every src and href, and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []  # outside <style> and <script>
        self.code = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.tags.append(tag)
        self.code = tag in ("style", "script")
        if "id" in found:
            self.ids.append(found["id"])
        if "href" in found:
            self.hrefs.append(found["href"])
        if "src" in found:
            self.srcs.append(found["src"])

    def handle_endtag(self, tag):
        self.code = False

    def handle_data(self, data):
        if not self.code:
            self.text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def pack(demo):
    text = build_report(demo, as_of=AS_OF, generated_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    return text, parse(text)


def legal_urls() -> set[str]:
    """Every URL of a legal source in data/jurisdictions: the only links that may leave."""
    from residency.jurisdictions import legal_data

    data = legal_data()
    found = {s.url for r in data.regimes for s in r.sources if s.url}
    return found | {s.url for p in data.principles.values() for s in p.sources if s.url}


def test_every_section_is_there(pack):
    text, page = pack
    for section in SECTIONS:
        assert section in page.ids, section
    assert "Not legal advice" in text
    assert "Quillmoor Creative Ltd" in text
    assert "{" not in "".join(page.text)  # every template was filled in


def test_the_cover_names_hash_and_dates(demo, pack):
    from residency.jurisdictions import legal_data

    text, _ = pack
    assert demo.inventory.content_hash() in text
    assert f"Legal data as of</dt><dd>{legal_data().as_of}" in text
    assert '<time id="generated" datetime="2026-12-02T09:00:00+00:00">' in text


def test_nothing_is_fetched_and_only_legal_sources_link_out(demo, pack):
    _, page = pack
    assert "link" not in page.tags
    assert all(src.startswith("data:image/png;base64,") for src in page.srcs)
    allowed = legal_urls()
    outside = [h for h in page.hrefs if not h.startswith("#")]
    assert outside, "the legal sources are linked"
    assert set(outside) <= allowed
    internal = {h[1:] for h in page.hrefs if h.startswith("#")}
    assert internal <= set(page.ids), internal - set(page.ids)


def test_the_map_is_a_png_with_colour(pack):
    from io import BytesIO

    from PIL import Image

    _, page = pack
    (src,) = page.srcs
    image = Image.open(BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    assert image.size == (1200, 620)
    colours = {c for _, c in image.getcolors(maxcolors=1 << 20)}
    assert (215, 48, 39) in colours  # no legal basis: the demo has some
    assert len(colours) > 20


def test_every_route_is_in_the_register_and_every_source_listed(demo, pack):
    from residency.export import source_id

    _, page = pack
    a = demo.assessment(as_of=AS_OF)
    ids = set(page.ids)
    assert {r.id for r in a.routes} <= ids
    assert {source_id(s) for r in a.routes for s in r.sources} <= ids
    assert {source_id(s) for f in a.findings for s in f.sources} <= ids
    assert any(needs_record(r) for r in a.routes)


def test_every_plan_action_and_finding_group_is_shown(demo, pack):
    import html

    text, _ = pack
    for action in demo.plan(as_of=AS_OF).actions:
        assert html.escape(action.title) in text
    for group in demo.finding_groups(as_of=AS_OF):
        assert html.escape(group.summary) in text


def test_same_inventory_and_date_give_the_same_page_but_the_time(small):
    one = build_report(small, as_of=AS_OF, generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    two = build_report(small, as_of=AS_OF, generated_at=datetime(2026, 6, 30, 23, tzinfo=UTC))
    assert one != two

    def strip(text: str) -> str:
        start = text.index('<time id="generated"')
        return text[:start] + text[text.index("</time>", start) :]

    assert strip(one) == strip(two)


def test_inventory_text_is_escaped(tmp_path):
    import residency

    from .conftest import DATA

    source = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    assert "name: Tiny Agency" in source
    path = tmp_path / "inventory.yaml"
    path.write_text(source.replace("name: Tiny Agency", 'name: "<script>x()</script> & Co"'))
    text = build_report(residency.load(path), as_of=AS_OF)
    assert "<script>x()" not in text
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; Co" in text


def test_every_route_that_needs_one_has_an_assessment_record(demo, pack):
    _, page = pack
    a = demo.assessment(as_of=AS_OF)
    records = {i[2:] for i in page.ids if i.startswith("a-r-")}
    assert records == {r.id for r in a.routes if needs_record(r)}
    assert "assessments" in page.ids


def test_each_record_has_six_steps_and_marks_what_is_open(demo, pack):
    from residency.jurisdictions import legal_data
    from residency.records import TO_COMPLETE, route_records

    text, _ = pack
    records = route_records(demo.assessment(as_of=AS_OF), legal_data())
    for record in records:
        assert [s.number for s in record.steps] == [1, 2, 3, 4, 5, 6]
        assert record.open_items > 0  # the law of public access is never in the data
    opened = sum(r.open_items for r in records)
    assert text.count(f'<span class="todo">{TO_COMPLETE}</span>') == opened + 1  # + the intro


def small_records():
    import residency
    from residency.jurisdictions import legal_data
    from residency.records import route_records

    from .conftest import DATA

    m = residency.load(DATA / "report_small.yaml")
    a = m.assessment(as_of=AS_OF)
    return m, {r.id: r for r in a.routes}, route_records(a, legal_data())


def answers(record, number):
    return {i.question: i.answer for i in record.steps[number - 1].items}


def test_a_safeguard_record_names_the_instrument_its_procedure_and_the_recipient():
    _, routes, records = small_records()
    (record,) = [
        r
        for r in records
        if routes[r.route].recipient == "Pipe Inc." and routes[r.route].kind == "processed"
    ]
    route = routes[record.route]
    assert route.basis == "safeguard"
    one = answers(record, 1)
    assert one["Data categories"] == "contact_details"
    assert one["Data subjects"].startswith("1 (1 client): client:anka")
    assert (
        one["Onward transfers (sub-processors recorded in the inventory)"] == "Mailcloud Ltd (IE)"
    )
    assert one["Controller or processor role under the contract"] is None
    two = answers(record, 2)
    assert two["Instrument the transfer rests on"].startswith("TR KVKK Standard Contract (")
    assert two["Transfer impact (risk) assessment required by the legal data"] == "no"
    assert "EU-US DPF" in answers(record, 4)["Certifications recorded for the recipient"]
    five = answers(record, 5)
    # The notification duty is the legal data's own note on the safeguard, not the code's.
    from residency.jurisdictions import legal_data

    note = next(
        s.note
        for s in legal_data().regime("TR").safeguards
        if s.name == "TR KVKK Standard Contract"
    )
    assert five["Recorded under TR for the instrument"] == note
    assert "five business days" in note
    assert answers(record, 6)["Proposed re-evaluation date"].startswith("2027-12-02: ")
    assert record.review_by == date(2027, 12, 2)


def test_a_record_without_basis_asks_for_the_instrument_and_lists_the_accepted_ones():
    _, routes, records = small_records()
    (record,) = [
        r
        for r in records
        if routes[r.route].recipient == "Drop Co." and routes[r.route].kind == "processed"
    ]
    assert record.basis == "no_basis"
    two = answers(record, 2)
    assert two["Instrument chosen, or derogation relied on"] is None
    assert two["Recorded for the recipient but not accepted under TR"] == "EU SCC 2021"
    assert "TR KVKK Standard Contract" in two["Instrument the transfer rests on"]
    five = answers(record, 5)
    assert "five business days" in five["If TR KVKK Standard Contract is chosen (TR)"]
    three = answers(record, 3)
    (public,) = [q for q in three if q.startswith("Laws and practice of public authorities")]
    assert three[public] is None


def test_the_record_of_a_destination_without_regime_data_leaves_its_law_open(tmp_path):
    import residency
    from residency.jurisdictions import legal_data
    from residency.records import route_records

    from .conftest import DATA

    data = legal_data()
    missing = next(c for c in ("BV", "HM", "TF", "GS") if not data.regimes_for(c, AS_OF))
    text = (DATA / "report_small.yaml").read_text(encoding="utf-8")
    hosted = "- {country: US}\n    data: [files]"
    assert hosted in text
    path = tmp_path / "inventory.yaml"
    path.write_text(text.replace(hosted, hosted.replace("US", missing)), encoding="utf-8")
    a = residency.load(path).assessment(as_of=AS_OF)
    routes = {r.id: r for r in a.routes}
    (record,) = [r for r in route_records(a, data) if routes[r.route].destination == missing]
    assert answers(record, 3)[f"Data protection law of {missing}"] is None


def test_a_small_map_per_subject_on_request(small):
    from residency import UnknownSubjectError

    plain = parse(build_report(small, as_of=AS_OF))
    text = build_report(small, as_of=AS_OF, subjects=["client:acme", "client:globex"])
    page = parse(text)
    assert len(plain.srcs) == 1
    assert len(page.srcs) == 3 and len(set(page.srcs)) == 3  # two different small maps
    assert "Acme GmbH (client:acme)" in text
    with pytest.raises(UnknownSubjectError, match="client:acmee"):
        build_report(small, as_of=AS_OF, subjects=["client:acmee"])


def test_purpose_is_a_sub_processors_recorded_purpose_and_open_otherwise():
    _, routes, records = small_records()
    by_recipient = {(routes[r.route].recipient, routes[r.route].kind): r for r in records}
    purpose = "Purpose, as recorded in the inventory"
    assert answers(by_recipient[("Mailcloud Ltd", "processed")], 1)[purpose] == "email delivery"
    assert answers(by_recipient[("Pipe Inc.", "processed")], 1)[purpose] is None


def test_destination_facts_are_those_for_the_routes_origins(demo):
    """EU-GDPR records the US adequacy twice (EU origins; Iceland, Liechtenstein, Norway):
    a route carrying only EU-origin data shows the one that applies to it."""
    from residency import places
    from residency.jurisdictions import legal_data
    from residency.records import route_records

    a = demo.assessment(as_of=AS_OF)
    eu = places.expand("EU", AS_OF)
    routes = {r.id: r for r in a.routes}
    records = [
        rec
        for rec in route_records(a, legal_data())
        if routes[rec.route].regimes == ("EU-GDPR",)
        and routes[rec.route].destination == "US"
        and all(a.subject_maps[s].origin in eu for s in routes[rec.route].subjects)
    ]
    assert records
    for rec in records:
        found = [i for i in rec.steps[2].items if i.question == "EU-GDPR adequacy recorded for US"]
        assert len(found) == 1, found
