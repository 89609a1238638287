"""Ids come from natural keys: the order of an inventory's lists never changes an answer."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import networkx as nx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency import query
from residency.datamap import DataMap, load
from residency.inventory import parse_inventory_text

DATA = Path(__file__).parent / "data"
DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
AS_OF = "2026-11-26"


def _export(m: DataMap) -> list[str]:
    text = m.export_text(as_of=AS_OF)
    return [line for line in text.splitlines() if '"generated_at"' not in line]


def _shuffled(doc: dict, draw) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(doc))  # a deep copy
    for key in ("staff", "clients", "systems"):
        if doc.get(key):
            doc[key] = draw(st.permutations(doc[key]))
    for system in doc.get("systems", []):
        for key in ("hosting", "subprocessors"):
            if system.get(key):
                system[key] = draw(st.permutations(system[key]))
    return doc


SMALL = yaml.safe_load((DATA / "passing_small.yaml").read_text(encoding="utf-8"))
SMALL_EXPORT = _export(DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(SMALL))))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_shuffling_yaml_lists_gives_the_same_export(data):
    doc = _shuffled(SMALL, data.draw)
    m = DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc, sort_keys=False)))
    assert _export(m) == SMALL_EXPORT


DEMO_EXPORT = _export(load())


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_shuffling_the_demo_files_gives_the_same_export(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("shuffled")
    for name in ("staff.csv", "clients.csv"):
        with (DEMO / name).open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(
            [rows[0], *data.draw(st.permutations(rows[1:]))]
        )
        (folder / name).write_text(out.getvalue(), encoding="utf-8")
    doc = yaml.safe_load((DEMO / "inventory.yaml").read_text(encoding="utf-8"))
    (folder / "inventory.yaml").write_text(
        yaml.safe_dump(_shuffled(doc, data.draw), sort_keys=False), encoding="utf-8"
    )
    assert _export(load(folder)) == DEMO_EXPORT


def test_reordering_subprocessors_keeps_every_transfer_id(small):
    doc = yaml.safe_load(yaml.safe_dump(SMALL))
    slack = next(s for s in doc["systems"] if s["id"] == "slack")
    slack["subprocessors"].reverse()
    other = DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))
    before = {t.id: t.basis for t in small.transfers(as_of=AS_OF)}
    after = {t.id: t.basis for t in other.transfers(as_of=AS_OF)}
    assert before == after


def test_what_if_leaves_untouched_transfers_alone(demo):
    result = demo.what_if(["remove-subprocessor:slack=Amazon Web Services, Inc."], as_of=AS_OF)
    gone = [d for d in result.transfers if d.change == "disappears"]
    new = [d for d in result.transfers if d.change == "appears"]
    assert gone and all("Amazon Web Services" in d.before for d in gone)
    assert not new  # nothing else was touched, so nothing reappears under another id


def test_a_changed_copy_of_the_graph_answers_for_itself(demo):
    G = demo.graph
    assert "US" in query.where(G, "client:kestrelwood").countries
    H = G.copy()
    slack = [n for n in H if n == "system:slack" or n.endswith(":slack") or ":slack:" in n]
    H.remove_nodes_from(slack)
    answer = query.where(H, "client:kestrelwood")
    assert not any(loc.system == "Slack" for loc in answer.locations)
    assert any(loc.system == "Slack" for loc in query.where(G, "client:kestrelwood").locations)


def test_an_edited_graph_is_forgotten_on_request():
    m = load(DATA / "passing_small.yaml")
    G: nx.DiGraph = m.graph
    before = query.where(G, "client:globex").countries
    G.remove_edge("subprocessor:slack:zendesk", "country:US")
    G.add_node("country:JP", kind="country", label="Japan", code="JP")
    G.add_edge("subprocessor:slack:zendesk", "country:JP", kind="located_in", field="test")
    query.forget(G)
    assert "JP" in query.where(G, "client:globex").countries
    assert "JP" not in before


def test_node_ids_are_natural_keys(small):
    nodes = set(small.graph)
    assert "subprocessor:slack:amazon-web-services" in nodes
    assert "hosting:gworkspace:gcp/europe-west3" in nodes
    assert "hosting:gworkspace:US" in nodes


def test_copying_the_demo_folder_keeps_the_export(tmp_path):
    shutil.copytree(DEMO, tmp_path / "demo")
    assert _export(load(tmp_path / "demo")) == DEMO_EXPORT


def test_subjects_alike_get_the_findings_they_would_get_alone(demo):
    from residency.findings import assess_all

    everyone = demo.assessment(as_of=AS_OF)
    staff = demo.subjects("staff")[:12]
    for subject in staff:
        alone = assess_all(demo.graph, as_of=everyone.as_of, subject=subject)
        mine = [f for f in everyone.findings if f.subject == subject]
        assert [f.as_dict() for f in mine] == [f.as_dict() for f in alone.findings], subject
