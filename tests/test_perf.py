"""The collector and big maps: what a serving process freezes, and that nothing leaks."""

from __future__ import annotations

import gc
import weakref

import pytest

import residency
from residency import _perf, datamap, geo

AS_OF = "2026-11-26"


def _map_and_everything_derived() -> residency.DataMap:
    m = residency.load()
    a = m.assessment(as_of=AS_OF)
    assert a.results and a.transfers and a.routes and a.findings
    m.routes(as_of=AS_OF).readable_frame()
    geo.country_frame(a)
    geo.flow_frame(a, by_basis=True)
    m.export(as_of=AS_OF)
    return m


def test_a_map_and_its_assessment_hold_no_reference_cycles() -> None:
    """What keep() freezes must be freed by reference counting alone when dropped:
    a cycle in it would stay in memory for as long as the serving process runs."""
    _map_and_everything_derived()  # first use: imports and caches made once per process
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable is kept, to see
    try:
        m = _map_and_everything_derived()
        del m
        gc.collect()
        kinds = sorted({type(o).__qualname__ for o in gc.garbage})
        assert not gc.garbage, f"reference cycles left behind: {kinds}"
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_serving_process_freezes_the_assessments_a_map_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.unfreeze()
    m = residency.load()
    m.assessment(as_of=AS_OF)
    assert gc.get_freeze_count() == 0  # a plain process (a notebook): nothing frozen
    monkeypatch.setattr(_perf, "_serving", True)
    m.assessment(as_of="2026-01-15")
    assert gc.get_freeze_count() > 0


def test_an_assessment_a_serving_map_drops_is_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_perf, "_serving", True)
    monkeypatch.setattr(datamap, "MAX_ASSESSMENTS", 1)
    m = residency.load()
    first = weakref.ref(m.assessment(as_of="2026-01-15"))
    assert gc.get_freeze_count() > 0 and first() is not None
    m.assessment(as_of=AS_OF)  # the first is dropped to make room
    assert first() is None


class _Loop:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_cycle_frozen_beside_a_dropped_assessment_is_collected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_perf, "_serving", True)
    monkeypatch.setattr(datamap, "MAX_ASSESSMENTS", 1)
    m = residency.load()
    loop = _Loop()
    seen = weakref.ref(loop)
    m.assessment(as_of="2026-01-15")  # alive then: frozen with the assessment
    del loop
    gc.collect()
    assert seen() is not None  # frozen garbage: the collector skips it
    m.assessment(as_of=AS_OF)  # the first assessment is dropped, and with it the freeze
    assert seen() is None
