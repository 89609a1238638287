from __future__ import annotations

import pytest

from residency import UnknownSubjectError
from residency.query import KINDS, path_text


def _places(result, kind):
    return sorted({loc.country for loc in result.by_kind(kind)})


def test_where_a_client_lives(small):
    acme = small.where("client:acme")
    assert acme.origin == "DE"
    assert _places(acme, "stored") == ["DE", "US"]  # gcp europe-west3, aws eu-central-1, US
    assert _places(acme, "processed") == ["US"]  # vendors + sub-processors
    assert _places(acme, "accessed") == ["BR", "IN"]  # s-002 from BR, s-001 from IN
    assert _places(acme, "trained") == ["US"]  # Slack global models
    assert acme.countries == ["BR", "DE", "IN", "US"]


def test_staff_access_respects_explicit_systems(small):
    acme = small.where("client:acme")
    zendesk_access = [loc for loc in acme.by_kind("accessed") if loc.system == "Zendesk"]
    assert [loc.recipient for loc in zendesk_access] == ["staff:s-002"]


def test_trained_location_covers_only_the_system_data(small):
    trained = small.where("client:acme").by_kind("trained")
    assert [loc.data for loc in trained] == [("messages", "files")]
    assert str(trained[0].since) == "2023-10-01" and trained[0].until is None


def test_every_path_is_a_real_walk_in_the_graph(demo):
    G = demo.graph
    for subject in demo.subjects():
        for loc in demo.where(subject).locations:
            assert loc.path[0] == subject
            assert loc.path[-1] == f"country:{loc.country}"
            for u, v in zip(loc.path, loc.path[1:], strict=False):
                assert G.has_edge(u, v) or G.has_edge(v, u), (loc, u, v)


def test_path_text_names_edge_kinds(small):
    loc = next(x for x in small.where("client:acme").by_kind("accessed") if x.country == "BR")
    text = path_text(small.graph, loc.path)
    assert "-uses->" in text and "<-accesses-" in text and "-works_from-> country:BR" in text


def test_where_a_staff_members_own_data_lives(small):
    result = small.where("staff:s-002")
    assert result.origin == "BR"
    assert {loc.system for loc in result.locations} == {"Google Workspace"}
    assert all(loc.data == ("employment_records",) for loc in result.locations)


def test_where_a_system_lives(small):
    result = small.where("system:slack")
    assert _places(result, "accessed") == ["BR", "CA-QC", "IN"]
    assert "US" in result.countries


def test_what_lives_in_a_country_includes_subdivisions(small):
    assert small.what_lives_in("CA").subjects == ["client:globex"]
    assert small.what_lives_in("CA-QC").staff == ["staff:s-003"]
    india = small.what_lives_in("IN")
    assert india.subjects == ["client:acme", "client:globex"]
    assert india.categories == ["contact_details", "files", "messages"]


def test_unknown_subjects_get_a_suggestion(small):
    with pytest.raises(UnknownSubjectError, match="did you mean client:acme"):
        small.where("client:acmee")
    with pytest.raises(UnknownSubjectError, match="expected client:<id>"):
        small.where("acme")
    with pytest.raises(UnknownSubjectError, match="unknown code"):
        small.what_lives_in("XX")


def test_frames_are_sorted_and_typed(small):
    frame = small.where("client:acme").to_frame()
    assert list(frame.columns[:3]) == ["subject", "kind", "country"]
    assert set(frame["kind"]) <= set(KINDS)
    assert frame["country"].tolist() == sorted(frame["country"].tolist())
    assert "<table" in small.where("client:acme")._repr_html_()


def test_locations_table_covers_every_subject(small):
    frame = small.locations()
    assert {"client:acme", "client:globex", "staff:s-001"} <= set(frame["subject"])


def test_frame_evidence_lines_up_with_rows(small):
    frame = small.where("client:acme").to_frame(graph=small.graph)
    for path, evidence in zip(frame["path"], frame["evidence"], strict=True):
        nodes = path.split(" -> ")
        assert evidence.startswith(nodes[0]) and evidence.endswith(nodes[-1])
        assert all(n in evidence for n in nodes)
