"""Streamlit AppTest: every page runs, controls work, the map stays offline."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = [
    "app_pages/map.py",
    "app_pages/where.py",
    "app_pages/transfers.py",
    "app_pages/plan.py",
    "app_pages/findings.py",
    "app_pages/ai.py",
    "app_pages/inventory.py",
]


@pytest.fixture
def at(monkeypatch):
    monkeypatch.chdir(ROOT)  # pages are resolved from the repository root, as `streamlit run`
    return AppTest.from_file(APP, default_timeout=60)


def _deck(at) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def _page(at, page: str):
    at.run()
    at.switch_page(page)
    return at.run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_error(at, page):
    at = _page(at, page)
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Not legal advice" in captions


def test_map_draws_countries_and_arcs_without_a_base_map(at):
    at.run()
    assert not at.exception
    deck = _deck(at)
    assert deck["mapStyle"] == "__MAP_STYLE__"  # pydeck's "no base map"
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert set(layers) == {"world", "countries", "dots", "arcs"}
    assert layers["world"]["data"] == "app/static/countries.geojson"
    assert layers["countries"]["data"]["features"]
    assert layers["arcs"]["data"]
    urls = re.findall(r"https?://[^\"' ]+", at.get("deck_gl_json_chart")[0].proto.json)
    assert urls == [], urls


def test_map_filters_narrow_the_map(at):
    at.run()
    everything = len(_deck(at)["layers"][3]["data"])
    at.selectbox(key="map-subject").set_value("client:fennwerk").run()
    assert not at.exception
    one = len(_deck(at)["layers"][3]["data"])
    assert 0 < one < everything
    at.multiselect(key="map-kinds").set_value(["stored"]).run()
    assert len(_deck(at)["layers"][3]["data"]) <= one
    at.radio(key="colour_by").set_value("number of subjects").run()
    assert not at.exception


def test_where_page_shows_evidence(at):
    at = _page(at, "app_pages/where.py")
    at.selectbox(key="where-subject").set_value("client:kestrelwood").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert "evidence" in frame.columns
    assert frame["evidence"].str.contains("client:kestrelwood -uses->").all()


def test_as_of_date_changes_the_bases(at):
    at = _page(at, "app_pages/transfers.py")
    today = at.dataframe[0].value["basis"].value_counts().to_dict()
    at.sidebar.date_input(key="as_of").set_value(date(2022, 1, 1)).run()
    assert not at.exception
    before_dpf = at.dataframe[0].value["basis"].value_counts().to_dict()
    assert today != before_dpf


def test_transfers_page_lists_routes_then_one_subjects_transfers(at):
    at = _page(at, "app_pages/transfers.py")
    register = at.dataframe[0].value
    assert {"destination", "recipient", "basis", "subject_count"} <= set(register.columns)
    assert len(at.dataframe) == 1  # no subject chosen: the register only
    at.selectbox(key="transfer-subject").set_value("client:kestrelwood").run()
    assert not at.exception
    transfers = at.dataframe[1].value
    assert set(transfers["subject"]) == {"client:kestrelwood"}


def test_findings_filters(at):
    at = _page(at, "app_pages/findings.py")
    total = len(at.expander)
    at.multiselect(key="finding-severity").set_value(["high"]).run()
    assert not at.exception
    assert 0 < len(at.expander) <= total
    assert all(e.label.startswith("🔴 high") for e in at.expander)


def test_what_if_panel(at):
    at = _page(at, "app_pages/ai.py")
    at.multiselect(key="whatif-optout").set_value(["slack"]).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Findings fixed"]) > 0
    at.selectbox(key="whatif-move-system").set_value("slack").run()
    at.text_input(key="whatif-move-to").set_value("nowhere/none").run()
    assert not at.exception
    assert "unknown cloud provider" in at.error[0].value


def test_what_if_offers_every_change_type(at):
    at = _page(at, "app_pages/ai.py")
    at.text_area(key="whatif-other").set_value("move:slack=DE").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Transfers changed"]) > 0  # findings may stay while transfers change
    at.text_area(key="whatif-other").set_value("add-safeguard:nosuch=UK IDTA").run()
    assert "unknown system 'nosuch'" in at.error[0].value


def test_what_to_do_lists_actions_and_their_combined_effect(at):
    at = _page(at, "app_pages/plan.py")
    assert not at.exception
    boxes = [c for c in at.checkbox if c.key.startswith("plan-")]
    assert boxes and boxes[0].label.startswith("1. Opt out of Slack")
    fixed = int({m.label: m.value for m in at.metric}["Findings fixed"])
    assert fixed > 0  # the first three are ticked
    keys = [b.key for b in boxes]
    for key in keys:
        at.checkbox(key=key).uncheck()
    at.run()
    assert not at.metric
    at.checkbox(key=keys[0]).check()
    at.run()
    assert 0 < int({m.label: m.value for m in at.metric}["Findings fixed"]) < fixed


def test_an_uploaded_inventory_is_used_everywhere(at):
    at.session_state["uploaded_inventory"] = (
        "small.yaml",
        (ROOT / "tests" / "data" / "passing_small.yaml").read_bytes(),
    )
    at.run()
    assert not at.exception
    assert "Tiny Agency" in at.sidebar.markdown[0].value
    at.switch_page("app_pages/inventory.py").run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")]


def test_streamlit_config_is_private_and_local():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["headless"] is True


def test_no_page_uses_material_icons_or_remote_assets():
    for path in [ROOT / "app.py", ROOT / "app_support.py", *(ROOT / "app_pages").glob("*.py")]:
        text = path.read_text()
        assert ":material/" not in text, path
        assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", text), path


def test_pages_hold_no_data_logic():
    """Pages never reach into the graph library or the store directly."""
    for path in (ROOT / "app_pages").glob("*.py"):
        text = path.read_text()
        assert "import networkx" not in text and "sqlmodel" not in text, path


def test_upload_a_bad_inventory_lists_every_problem_and_keeps_the_demo(at):
    at = _page(at, "app_pages/inventory.py")
    bad = (ROOT / "tests" / "data" / "passing_small.yaml").read_text()
    bad = bad.replace("country: IN", "country: XX").replace("us-east-1", "us-east-9")
    at.file_uploader(key="upload").set_value(("bad.yaml", bad.encode(), "application/yaml")).run()
    assert not at.exception
    assert "3 problems" in at.error[0].value
    problems = at.dataframe[0].value
    assert list(problems.columns) == ["file", "line or row", "field", "problem"]
    assert "staff[s-001].country" in set(problems["field"])
    assert "uploaded_inventory" not in at.session_state  # nothing kept from a failed upload
    assert "Quillmoor" in at.sidebar.markdown[0].value


def test_upload_a_good_inventory(at):
    at = _page(at, "app_pages/inventory.py")
    good = (ROOT / "tests" / "data" / "passing_small.yaml").read_bytes()
    at.file_uploader(key="upload").set_value(("small.yaml", good, "application/yaml")).run()
    assert not at.exception
    assert "is valid" in at.success[0].value
    at.switch_page("app_pages/map.py").run()
    assert "Tiny Agency" in at.sidebar.markdown[0].value
