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


def test_the_maps_frames_are_made_once_per_assessment_and_handed_out_as_copies(small):
    from residency import geo

    assessment = small.assessment(as_of="2026-11-26")
    first = geo.country_frame(assessment)
    first.loc[:, "subjects"] = -1  # a caller's change never reaches the next answer
    again = geo.country_frame(assessment)
    assert (again["subjects"] > 0).any() and not (again["subjects"] == -1).any()
    assert again.equals(geo.country_frame(assessment))
    flows = geo.flow_frame(assessment)
    flows.loc[:, "transfers"] = 0
    assert (geo.flow_frame(assessment)["transfers"] > 0).all()
    listed = geo.transfers(assessment)
    listed.clear()
    assert geo.transfers(assessment)
    # A filter is part of the question: another filter, another answer.
    one = sorted(assessment.subject_maps)[0]
    only = geo.Filters(subject=one)
    assert {t.location.subject for t in geo.transfers(assessment, only)} <= {one}
    assert geo.country_frame(assessment, only)["subjects"].max() == 1


def test_the_register_tables_follow_the_list_they_are_asked_of(small):
    routes = small.routes(as_of="2026-11-26")
    full = routes.to_csv()
    assert small.routes(as_of="2026-11-26").to_csv() == full
    dropped = routes.pop(0)  # an edited list answers for itself, never from the memo
    assert dropped.id not in routes.to_csv() and dropped.id in full
    assert len(routes.to_frame()) == len(routes)
    fresh = small.routes(as_of="2026-11-26")  # and the next list is whole again
    assert fresh.to_csv() == full and len(fresh.to_frame()) == len(fresh)
    fresh.labels[next(iter(fresh.labels))] = "Renamed Ltd"
    assert "Renamed Ltd" in fresh.to_csv() or not any(r.subjects for r in fresh)
    assert "Renamed Ltd" not in small.routes(as_of="2026-11-26").to_csv()


def test_the_register_table_holds_exactly_the_csvs_cells(demo):
    import io

    import pandas as pd

    routes = demo.routes(as_of="2026-11-26")
    parsed = pd.read_csv(io.StringIO(routes.to_csv()), dtype=str, keep_default_na=False)
    assert routes.to_frame().equals(parsed)
    assert len(parsed) == len(routes) > 100
