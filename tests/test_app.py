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


AGENCY = ROOT / "tests" / "data" / "agency"  # a small test organisation (inventory + CSVs)


@pytest.fixture
def at(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)  # pages are resolved from the repository root, as `streamlit run`
    monkeypatch.setenv("RESIDENCY_DB", str(tmp_path / "store.db"))  # uploads are kept here
    monkeypatch.delenv("RESIDENCY_APP_INVENTORY", raising=False)
    monkeypatch.delenv("RESIDENCY_APP_STORED", raising=False)
    import app_support

    app_support.server_choice.clear()  # what the server shows is per server: a fresh one
    return AppTest.from_file(APP, default_timeout=60)


@pytest.fixture
def agency(at, monkeypatch):
    """The app as `residency app --inventory tests/data/agency` starts it."""
    monkeypatch.setenv("RESIDENCY_APP_INVENTORY", str(AGENCY))
    return at


def _deck(at) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def _arcs(at) -> list:
    return next(layer["data"] for layer in _deck(at)["layers"] if layer["id"] == "arcs")


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
    assert at.toggle(key="map-arcs").value is False  # the demo has too many to start with
    at.toggle(key="map-arcs").set_value(True).run()
    deck = _deck(at)
    assert deck["mapStyle"] == "__MAP_STYLE__"  # pydeck's "no base map"
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert set(layers) == {"world", "countries", "dots", "arcs"}
    assert layers["world"]["data"] == "app/static/countries.geojson"
    assert layers["countries"]["data"]["features"]
    assert layers["arcs"]["data"]
    urls = re.findall(r"https?://[^\"' ]+", at.get("deck_gl_json_chart")[0].proto.json)
    assert urls == [], urls


def test_map_colours_a_country_by_its_worst_finding_and_draws_origins(agency):
    from residency.geo import STATUS_COLOURS

    at = agency.run()
    assert not at.exception
    layers = {layer["id"]: layer for layer in _deck(at)["layers"]}
    fills = {
        f["name"].split("\n")[0]: f["properties"]["fill"][:3]
        for f in layers["countries"]["data"]["features"]
    }
    china = next(v for k, v in fills.items() if k.endswith("(CN)"))
    assert china == list(STATUS_COLOURS["medium"])  # a countries-of-concern finding, not blue
    germany = next(v for k, v in fills.items() if k.endswith("(DE)"))  # origin only
    assert germany == list(STATUS_COLOURS["origin"])
    legend = " ".join(md.value for md in at.markdown)
    assert "the most severe finding that names the country" in legend
    assert "width by the number of subjects" in legend


def test_map_at_agency_scale_controls(agency):
    at = agency.run()
    deck = _deck(at)
    assert at.toggle(key="map-arcs").value is True  # a few arcs: shown from the start
    arcs = next(layer for layer in deck["layers"] if layer["id"] == "arcs")
    pairs = [(a["source"], a["target"]) for a in arcs["data"]]
    assert len(pairs) == len({(tuple(s), tuple(t)) for s, t in pairs})  # one per route pair
    assert deck["views"][0]["controller"]["scrollZoom"] is False  # the wheel scrolls the page
    assert deck["views"][0]["controller"]["dragPan"] is True
    world = next(layer for layer in deck["layers"] if layer["id"] == "world")
    assert world["pickable"] is True  # names on hover everywhere
    tooltip = at.get("deck_gl_json_chart")[0].proto.tooltip
    assert '"transform": "none"' in tooltip or '"transform":"none"' in tooltip
    metrics = {m.label: int(m.value) for m in at.metric}
    at.selectbox(key="map-subject").set_value("client:vellacott").run()
    narrowed = {m.label: int(m.value) for m in at.metric}
    assert narrowed["High-severity findings"] < metrics["High-severity findings"]
    labels = at.selectbox(key="map-subject").options
    assert "Vellacott Health Inc (client:vellacott)" in labels
    at.toggle(key="map-arcs").set_value(False).run()
    assert "arcs" not in {layer["id"] for layer in _deck(at)["layers"]}
    at.radio(key="map-view").set_value("Europe").run()
    europe = _deck(at)["initialViewState"]
    assert 40 < europe["latitude"] < 60 and europe["zoom"] > 2
    at.toggle(key="map-wheel").set_value(True).run()
    assert _deck(at)["views"][0]["controller"]["scrollZoom"] is True


def test_map_filters_narrow_the_map(at):
    at.run()
    at.toggle(key="map-arcs").set_value(True).run()
    everything = len(_arcs(at))
    at.selectbox(key="map-subject").set_value("client:fennwerk").run()
    assert not at.exception
    one = len(_arcs(at))
    assert 0 < one < everything
    at.multiselect(key="map-kinds").set_value(["stored"]).run()
    assert len(_arcs(at)) <= one
    at.radio(key="colour_by").set_value("number of subjects").run()
    assert not at.exception


def test_where_page_shows_the_residency_clause_and_the_findings(agency):
    at = _page(agency, "app_pages/where.py")
    at.selectbox(key="where-subject").set_value("client:corrmore").run()
    assert not at.exception
    clause = at.error[0].value
    assert "European Economic Area (EEA)" in clause
    assert "Outside it: GB, IN, US" in clause
    frame = at.dataframe[0].value
    outside = set(frame.loc[frame["residency_clause"] == "outside", "country"])
    assert outside == {"GB", "IN", "US"}
    assert set(frame.loc[frame["residency_clause"] == "within", "country"]) <= {"DE", "IE"}
    titles = [e.label for e in at.expander]
    assert any("residency limit breached" in t and "Corrmore Ltd" in t for t in titles)
    assert all("Corrmore Ltd (client:corrmore)" in t for t in titles)
    at.selectbox(key="where-subject").set_value("client:vellacott").run()
    assert not at.error  # no clause, nothing outside it
    assert any("country of concern" in e.label for e in at.expander)


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
    assert list(register.columns[:5]) == [
        "subjects",
        "from → to",
        "basis",
        "instrument",
        "TIA required",
    ]
    assert register.columns[-1] == "id"  # the hash id last
    assert "adequacy decision" in set(register["basis"])  # the basis as a label
    assert len(at.dataframe) == 1  # no subject chosen: the register only
    at.selectbox(key="transfer-subject").set_value("client:kestrelwood").run()
    assert not at.exception
    transfers = at.dataframe[1].value
    assert list(transfers.columns[:5]) == [
        "subject",
        "from → to",
        "basis",
        "instrument",
        "TIA required",
    ]
    assert transfers.columns[-1] == "id"
    assert {s.split(" (")[-1] for s in transfers["subject"]} == {"client:kestrelwood)"}
    assert all("→" in v for v in transfers["from → to"])


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
    """Pages (and the app's support module) call the library's public API only: no graph
    library or store, no private names, no reading the graph's nodes and no slicing ids."""
    import ast

    files = [*(ROOT / "app_pages").glob("*.py"), ROOT / "app_support.py", ROOT / "app.py"]
    for path in files:
        text = path.read_text()
        assert "import networkx" not in text and "sqlmodel" not in text, path
        for node in ast.walk(ast.parse(text)):
            where = f"{path.name} line {getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("residency"):
                assert "._" not in f".{node.module}", f"{where}: private module {node.module}"
                assert not any(a.name.startswith("_") for a in node.names), where
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                assert node.value.attr != "graph", f"{where}: reads graph.{node.attr}"
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
                lower = node.slice.lower
                assert not isinstance(lower, ast.Constant), f"{where}: slices a node id"


def test_upload_a_bad_inventory_lists_every_problem_and_keeps_the_demo(at):
    at = _page(at, "app_pages/inventory.py")
    bad = (ROOT / "tests" / "data" / "passing_small.yaml").read_text()
    bad = bad.replace("country: IN", "country: XX").replace("us-east-1", "us-east-9")
    at.file_uploader(key="upload").set_value(("bad.yaml", bad.encode(), "application/yaml")).run()
    assert not at.exception
    assert "3 problems" in at.error[0].value
    listed = at.code[0].value.splitlines()  # one line per problem, as `residency check` prints
    assert len(listed) == 3
    assert any("bad.yaml line" in line and "staff[s-001].country" in line for line in listed)
    assert at.code[0].proto.wrap_lines  # long messages wrap: readable in full
    assert "uploaded_inventory" not in at.session_state  # nothing kept from a failed upload
    assert "Quillmoor" in at.sidebar.markdown[0].value
    assert not at.get("download_button")  # no export of another organisation under it
    assert "still shows Quillmoor" in at.info[0].value


def test_upload_a_good_inventory_survives_a_reload_until_back_to_the_demo(at, tmp_path):
    at = _page(at, "app_pages/inventory.py")
    good = (ROOT / "tests" / "data" / "passing_small.yaml").read_bytes()
    at.file_uploader(key="upload").set_value(("small.yaml", good, "application/yaml")).run()
    assert not at.exception
    assert "is valid" in at.success[0].value and "store" in at.success[0].value
    from residency.store import Store

    assert [r.name for r in Store(tmp_path / "store.db").names()] == ["Tiny Agency"]
    at.switch_page("app_pages/map.py").run()
    assert "Tiny Agency" in at.sidebar.markdown[0].value
    reloaded = AppTest.from_file(APP, default_timeout=60).run()  # a new browser session
    assert "Tiny Agency" in reloaded.sidebar.markdown[0].value
    reloaded.switch_page("app_pages/inventory.py").run()
    reloaded.button(key="back-to-demo").click().run()
    assert not reloaded.exception
    assert "Quillmoor" in reloaded.sidebar.markdown[0].value
    again = AppTest.from_file(APP, default_timeout=60).run()  # "Back to the demo" sticks
    assert "Quillmoor" in again.sidebar.markdown[0].value


def test_app_opens_on_the_inventory_it_was_started_on(agency):
    at = agency.run()
    assert not at.exception
    assert "Harbour & Pine Studio" in at.sidebar.markdown[0].value
    assert "tests/data/agency" in at.sidebar.caption[0].value
    at.switch_page("app_pages/inventory.py").run()
    assert "Export for legal review: Harbour & Pine Studio" in [s.value for s in at.subheader]


def test_app_opens_on_a_stored_organisation(at, monkeypatch, tmp_path):
    from residency.inventory import read_inventory
    from residency.store import Store

    Store(tmp_path / "store.db").import_inventory(read_inventory(AGENCY))
    monkeypatch.setenv("RESIDENCY_APP_STORED", "Harbour & Pine Studio")
    at.run()
    assert not at.exception
    assert "Harbour & Pine Studio" in at.sidebar.markdown[0].value
    assert "Stored inventory" in at.sidebar.caption[0].value


def test_findings_by_subject_name(agency):
    at = _page(agency, "app_pages/findings.py")
    labels = at.selectbox(key="finding-subject").options
    assert "Corrmore Ltd (client:corrmore)" in labels
    at.selectbox(key="finding-subject").set_value("client:vellacott").run()
    assert not at.exception
    assert at.expander and all("Vellacott Health Inc" in e.label for e in at.expander)


def test_open_a_stored_organisation_from_the_page(at, tmp_path):
    from residency.inventory import read_inventory
    from residency.store import Store

    Store(tmp_path / "store.db").import_inventory(read_inventory(AGENCY))
    at = _page(at, "app_pages/inventory.py")
    assert at.selectbox(key="open-stored").options == ["Harbour & Pine Studio"]
    at.button(key="open-stored-button").click().run()
    assert not at.exception
    assert "Harbour & Pine Studio" in at.sidebar.markdown[0].value
    assert "Harbour & Pine Studio" in AppTest.from_file(APP).run().sidebar.markdown[0].value


def test_date_picker_covers_the_legal_data(at):
    from residency.jurisdictions import legal_data

    at.run()
    picker = at.sidebar.date_input(key="as_of")
    assert picker.min == date(2000, 1, 1) <= legal_data().earliest
    assert picker.max > legal_data().as_of
    picker.set_value(date(2000, 3, 1)).run()
    assert not at.exception
    assert "before the earliest rule" in at.sidebar.warning[0].value
    assert at.sidebar.text_input(key="as_of_text").value == "2000-03-01"  # the two agree


def test_a_typed_date_applies(at):
    at = _page(at, "app_pages/transfers.py")
    today = at.dataframe[0].value["basis"].value_counts().to_dict()
    at.sidebar.text_input(key="as_of_text").input("2022-01-01").run()  # Enter
    assert not at.exception
    assert at.sidebar.date_input(key="as_of").value == date(2022, 1, 1)
    assert at.dataframe[0].value["basis"].value_counts().to_dict() != today
    at.sidebar.text_input(key="as_of_text").input("1 March").run()
    assert "is not a date" in at.sidebar.error[0].value
    assert at.sidebar.date_input(key="as_of").value == date(2022, 1, 1)  # unchanged
