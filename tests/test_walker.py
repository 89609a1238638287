"""The walk that shares work between subjects answers exactly what the plain path answers.

``routes.Walker`` remembers judged reaches, staff access and routes across subjects; the
plain path (``query.where`` for the locations, ``rules.Context.verdict`` for each) does no
such sharing. Both must give the same places, paths, data and verdicts for every subject.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from residency import _perf
from residency.datamap import DataMap, load
from residency.findings import assess_all
from residency.inventory import parse_inventory_text
from residency.query import where
from residency.rules import in_origin

AS_OF = "2026-11-26"
SMALL = Path(__file__).parent / "data" / "passing_small.yaml"


def _compare(m: DataMap) -> int:
    a = assess_all(m.graph, as_of=m.assessment(as_of=AS_OF).as_of)
    ctx = a.context
    assert ctx is not None
    checked = 0
    for subject, sm in a.subject_maps.items():
        walked = sorted(
            (
                (*u.prefix, *h.tail),
                h.kind,
                h.country,
                h.system_label,
                h.recipient,
                h.recipient_type,
                h.data,
                h.detail,
                id(h.verdict),
            )
            for u, h in sm.pairs()
        )
        plain = []
        for loc in where(m.graph, subject).locations:
            verdict = None
            if not in_origin(sm.origin, loc.country):
                hop, system = loc.path[-2], next(n for n in loc.path if n.startswith("system:"))
                verdict = ctx.verdict(sm.origin, loc.kind, loc.country, hop, system, loc.data)
            plain.append(
                (
                    loc.path,
                    loc.kind,
                    loc.country,
                    loc.system,
                    loc.recipient,
                    loc.recipient_type,
                    loc.data,
                    loc.detail,
                    id(verdict),
                )
            )
        assert walked == sorted(plain), subject
        checked += len(walked)
    return checked


# One person reaches a client's data in two systems holding different categories: under
# the origin's regime, one category needs review and the other does not, so the person's
# access is judged once per set of categories judged, never once per person.
CATEGORIES = """
organisation: {name: Test Org, country: GB}
staff:
  - {id: p-1, country: DE, type: contractor, clients: [kr]}
clients:
  - id: kr
    name: KR Client
    country: KR
    data: [government_id, messages]
    systems: [ids, chat]
systems:
  - id: ids
    name: Ids
    vendor: Ids Co
    vendor_country: KR
    hosting: [{country: KR}]
    data: [government_id]
  - id: chat
    name: Chat
    vendor: Chat Co
    vendor_country: KR
    hosting: [{country: KR}]
    data: [messages]
"""


@pytest.mark.parametrize("source", ["demo", "small", "categories"])
def test_walker_answers_what_where_and_verdict_answer(source: str) -> None:
    if source == "categories":
        m = DataMap.from_inventory(parse_inventory_text(CATEGORIES))
        bases = {t.location.system: t.basis for t in m.transfers(as_of=AS_OF)}
        assert bases == {"Ids": "needs_review", "Chat": "adequacy"}
    else:
        m = load() if source == "demo" else load(SMALL)
    assert _compare(m) > 0


@pytest.mark.parametrize("source", ["demo", "small", "categories"])
def test_an_assessments_locations_and_transfers_are_the_plain_paths(source: str) -> None:
    """``Assessment.results`` and ``.transfers`` are read off the walk: they must equal
    ``query.where`` and ``rules.assess_with`` for every subject, in the same order."""
    from residency.findings import _transfer_order
    from residency.rules import assess_with

    if source == "categories":
        m = DataMap.from_inventory(parse_inventory_text(CATEGORIES))
    else:
        m = load() if source == "demo" else load(SMALL)
    a = assess_all(m.graph, as_of=m.assessment(as_of=AS_OF).as_of)
    assert a.context is not None
    plain = {s: where(m.graph, s) for s in a.subject_maps}
    assert a.results == plain
    judged = [t for r in plain.values() for t in assess_with(a.context, r)]
    judged.sort(key=_transfer_order)
    assert [(t.location, t.origin, t.verdict) for t in a.transfers] == [
        (t.location, t.origin, t.verdict) for t in judged
    ]
    assert a.transfers


def test_subjects_alike_share_their_routes_and_register_counts_each() -> None:
    m = load()
    a = m.assessment(as_of=AS_OF)
    staff = [sm for name, sm in a.subject_maps.items() if name.startswith("staff:")]
    origins = {sm.origin for sm in staff}
    assert any(
        len({id(sm.routes) for sm in staff if sm.origin == o})
        < len([sm for sm in staff if sm.origin == o])
        for o in origins
    ), "staff of one origin should share one routes dict"
    for route in a.routes:  # each subject taking a route is listed once, shared dict or not
        takers = sorted(s for s, sm in a.subject_maps.items() if route.key in sm.routes)
        assert list(route.subjects) == takers


def test_bulk_freezes_only_in_a_one_shot_process(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.unfreeze()
    with _perf.bulk():
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == 0  # a long-running process (the app): nothing frozen
    monkeypatch.setattr(_perf, "_one_shot", True)
    try:
        with _perf.bulk():
            kept.append([0])
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


def test_a_readdressed_finding_is_the_finding_judged_alone() -> None:
    """Staff alike share one finding's texts (``findings.Readdressed``); each must read,
    compare and hash exactly as the finding its subject gets when judged by itself."""
    from residency.findings import Readdressed

    m = load()
    whole = assess_all(m.graph, as_of=m.assessment(as_of=AS_OF).as_of)
    shared = [f for f in whole.findings if isinstance(f, Readdressed)]
    assert len(shared) > 20
    for f in shared[:: max(1, len(shared) // 25)]:
        alone = assess_all(m.graph, as_of=whole.as_of, subject=f.subject)
        twin = next(g for g in alone.findings if g.key == f.key)
        assert not isinstance(twin, Readdressed)
        assert f.as_dict() == twin.as_dict() and f.id == twin.id
        assert f == twin and twin == f and hash(f) == hash(twin)
        assert f.explanation.startswith(m.display_name(f.subject))
        assert all(e.startswith((f.subject, "... and")) for e in f.evidence)
        assert f != f.template and f.template.subject != f.subject


def test_a_readdressed_finding_never_takes_its_templates_remembered_id() -> None:
    """A finding's id is remembered once asked for; a finding re-addressed from it after
    that must still have its own subject's id."""
    from residency.findings import Readdressed

    m = load()
    found = m.assessment(as_of=AS_OF).findings
    f = next(f for f in found if isinstance(f, Readdressed))
    template = f.template
    assert template.id != f.id  # the template's id, now remembered
    again = Readdressed.of(template, f.subject, f._named, f._cut)
    assert again.id == f.id and again.as_dict() == f.as_dict()
