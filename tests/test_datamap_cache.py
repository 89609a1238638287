from __future__ import annotations

from residency.datamap import MAX_ASSESSMENTS


def test_assessments_are_cached_per_date_and_bounded(small):
    first = small.assessment(as_of="2026-11-26")
    assert small.assessment(as_of="2026-11-26") is first
    for day in range(1, MAX_ASSESSMENTS + 2):
        small.assessment(as_of=f"2025-01-{day:02d}")
    assert len(small._assessments) == MAX_ASSESSMENTS
