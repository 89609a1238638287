from __future__ import annotations

from residency.datamap import MAX_ASSESSMENTS


def test_assessments_are_cached_per_date_and_bounded(small):
    first = small.assessment(as_of="2026-11-26")
    assert small.assessment(as_of="2026-11-26") is first
    days = [f"2025-01-{day:02d}" for day in range(1, MAX_ASSESSMENTS + 1)]
    kept = {day: small.assessment(as_of=day) for day in days}
    for day in days:  # the newest MAX_ASSESSMENTS dates are still answered from the cache
        assert small.assessment(as_of=day) is kept[day]
    again = small.assessment(as_of="2026-11-26")  # the oldest was dropped: judged anew
    assert again is not first
    assert [f.id for f in again.findings] == [f.id for f in first.findings]
