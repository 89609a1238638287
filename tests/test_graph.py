from __future__ import annotations

from residency.graph import EDGE_KINDS, NODE_KINDS, build_graph, training_window
from residency.model import AiTraining


def test_every_node_and_edge_has_a_documented_kind(demo):
    G = demo.graph
    assert {k for _, k in G.nodes(data="kind")} <= set(NODE_KINDS)
    assert {k for _, _, k in G.edges(data="kind")} <= set(EDGE_KINDS)
    assert all("field" in attrs for _, _, attrs in G.edges(data=True))


def test_node_ids_follow_the_convention(small):
    G = small.graph
    for node in [
        "client:acme",
        "staff:s-001",
        "system:slack",
        "country:DE",
        "country:CA-QC",
        "hosting:slack:aws/us-east-1",
        "subprocessor:slack:zendesk",
        "vendor:slack",
        "training:slack",
        "entity:Lumen Talent Pvt Ltd",
        "category:messages",
        "organisation",
    ]:
        assert node in G, node


def test_edges_point_back_to_the_inventory(small):
    G = small.graph
    edge = G.edges["client:acme", "system:zendesk"]
    assert (edge["kind"], edge["field"]) == ("uses", "clients.systems")
    assert edge["origin"].endswith("passing_small.yaml line 19")
    assert G.edges["staff:s-001", "system:slack"]["field"] == "staff.systems"
    assert G.edges["staff:s-002", "system:zendesk"]["field"].startswith("staff.clients (default")


def test_subdivision_is_part_of_its_country(small):
    assert small.graph.edges["country:CA-QC", "country:CA"]["kind"] == "part_of"


def test_client_data_in_a_system_is_the_overlap_of_categories(small):
    G = small.graph
    assert G.edges["client:acme", "system:zendesk"]["data"] == ["contact_details"]
    assert G.edges["client:acme", "system:slack"]["data"] == ["messages", "files"]


def test_explicit_systems_limit_staff_access(small):
    G = small.graph
    assert not G.has_edge("staff:s-001", "system:zendesk")  # systems: [slack, gworkspace]
    assert G.has_edge("staff:s-002", "system:zendesk")  # default: all of acme's systems


def test_subprocessors_inherit_the_system_safeguards(small):
    assert small.graph.nodes["subprocessor:slack:amazon-web-services"]["safeguards"] == [
        "EU SCC 2021"
    ]


def test_graph_records_the_organisation(small):
    assert small.graph.graph["name"] == "Tiny Agency"
    assert small.graph.graph["country"] == "GB"


def test_rebuilding_gives_the_same_graph(small):
    again = build_graph(small.inventory)
    assert sorted(again.nodes) == sorted(small.graph.nodes)
    assert sorted(again.edges) == sorted(small.graph.edges)


def _ai(**kw):
    return AiTraining(uses_customer_data=True, **kw)


def test_training_window():
    from datetime import date

    d = date.fromisoformat
    assert training_window(_ai(default="opt-out", since=d("2023-10-01"))) == (d("2023-10-01"), None)
    assert training_window(
        _ai(default="opt-out", since=d("2023-10-01"), opted_out=d("2024-05-20"))
    ) == (d("2023-10-01"), d("2024-05-20"))
    # opted out before the vendor started: never exposed
    assert (
        training_window(_ai(default="opt-out", since=d("2023-10-01"), opted_out=d("2023-01-01")))
        is None
    )
    assert training_window(_ai(default="opt-in", since=d("2023-10-01"))) is None
    assert training_window(
        _ai(default="opt-in", since=d("2023-10-01"), opted_in=d("2024-01-01"))
    ) == (d("2024-01-01"), None)
    assert training_window(AiTraining(uses_customer_data=False)) is None
