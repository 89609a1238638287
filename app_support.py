"""The app's only Streamlit-aware helpers: cached loading, the shared sidebar, the map.

Everything that decides something about data lives in the ``residency`` library; this
module only caches, chooses widgets and turns library frames into a pydeck map.
"""

from __future__ import annotations

import math
import os
from datetime import date
from typing import Any

import pydeck as pdk
import streamlit as st

import residency
from residency import ResidencyError, geo
from residency.datamap import DataMap, open_map
from residency.inventory import read_upload
from residency.jurisdictions import legal_data
from residency.store import Store
from residency.vocabulary import KINDS

WORLD_URL = "app/static/countries.geojson"  # served by Streamlit's static file serving
UPLOAD_KEY = "uploaded_inventory"  # an upload the store could not keep: this session only
INVENTORY_ENV = "RESIDENCY_APP_INVENTORY"  # set by `residency app --inventory PATH`
STORED_ENV = "RESIDENCY_APP_STORED"  # set by `residency app --stored NAME` (store: RESIDENCY_DB)
DEMO = ("demo", "")


@st.cache_resource(show_spinner="Loading the demo organisation...")
def demo_map() -> DataMap:
    """Return the built-in demo organisation (loaded once per server)."""
    return residency.load()


@st.cache_resource(show_spinner="Validating the inventory...", max_entries=8)
def uploaded_map(name: str, content: bytes) -> DataMap:
    """Return the map of an uploaded inventory (raises InventoryError; errors are not cached)."""
    return DataMap.from_inventory(read_upload(name, content))


@st.cache_resource(show_spinner="Loading the inventory...", max_entries=4)
def inventory_map(path: str) -> DataMap:
    """Return the map of the inventory file or folder the app was started on."""
    return open_map(path)


@st.cache_resource(show_spinner="Loading the stored inventory...", max_entries=8)
def stored_map(db_url: str, name: str, content_hash: str) -> DataMap:
    """Return the map of an organisation kept in the store (one per stored version)."""
    return open_map(stored=name, db=db_url)


@st.cache_data(show_spinner="Writing the export...", max_entries=8)
def export_bytes(_m: DataMap, inventory_hash: str, as_of: date, fmt: str) -> bytes:
    """Return the export (``json``) or the register by route (``csv``), made once per
    inventory, date and format: the same text ``residency export`` writes."""
    return _m.export_text(as_of=as_of, fmt=fmt).encode("utf-8")


def download(m: DataMap, as_of: date, fmt: str) -> bytes:
    """Return the bytes of a download of ``m`` (cached by the inventory's content hash)."""
    return export_bytes(m, m.inventory.content_hash(), as_of, fmt)


@st.cache_resource
def server_choice(inventory: str, stored: str) -> dict[str, tuple[str, str]]:
    """Return what this server shows, shared by every browser session and reload: the
    organisation it was started on (or the demo), until an upload or "Back to the demo"."""
    if inventory:
        return {"source": ("inventory", inventory)}
    if stored:
        return {"source": ("stored", stored)}
    return {"source": DEMO}


def _choice() -> dict[str, tuple[str, str]]:
    return server_choice(os.environ.get(INVENTORY_ENV, ""), os.environ.get(STORED_ENV, ""))


def choose(kind: str, value: str = "") -> None:
    """Make ``demo``, ``inventory`` PATH or ``stored`` NAME what this server shows."""
    _choice()["source"] = (kind, value)
    st.session_state.pop(UPLOAD_KEY, None)


def keep_upload(m: DataMap, file_name: str, content: bytes) -> str:
    """Keep a valid upload in the store and show it from now on (this server, every reload).

    Returns where it was kept; if the store refuses it, it stays in this session only.
    """
    try:
        store = Store()
        store.import_inventory(m.inventory, source=f"upload: {file_name}")
    except ResidencyError as exc:
        st.session_state[UPLOAD_KEY] = (file_name, content)
        return f"only in this browser session (the store refused it: {exc})"
    choose("stored", m.name)
    return f"in the store {store.shown_url} as {m.name!r}"


def stored_names() -> list[str]:
    """Return the organisations kept in this server's store (none if it cannot be opened)."""
    try:
        return [r.name for r in Store().names()]
    except ResidencyError:
        return []


def source() -> tuple[str, str]:
    """Return what this session shows: ``(kind, value)`` with kind demo, inventory, stored or
    upload."""
    if st.session_state.get(UPLOAD_KEY):
        return ("upload", st.session_state[UPLOAD_KEY][0])
    return _choice()["source"]


def _load(kind: str, value: str) -> DataMap:
    if kind == "upload":
        return uploaded_map(*st.session_state[UPLOAD_KEY])
    if kind == "inventory":
        return inventory_map(value)
    if kind == "stored":
        store = Store()
        snapshot = store.snapshot(value)  # NAME, NAME@N or NAME@DATE; raises if none
        return stored_map(store.url, value, snapshot.content_hash)
    return demo_map()


CAPTIONS = {
    "demo": "Built-in demo organisation (fictional)",
    "inventory": "Inventory {value}",
    "stored": "Stored inventory, {store}",
    "upload": "Uploaded {value}, this browser session only",
}


def current() -> tuple[DataMap, date]:
    """Draw the shared sidebar and return the map in use and the as-of date."""
    residency.serving()  # one process serves every page and holds the maps
    kind, value = source()
    try:
        m = _load(kind, value)
    except ResidencyError as exc:  # the file or store changed since the server started
        st.error(f"Cannot open {value}: {exc}. Showing the demo organisation instead.")
        kind, m = "demo", demo_map()
    with st.sidebar:
        st.markdown(f"**{m.name}**")
        store = Store().shown_url if kind == "stored" else ""
        st.caption(CAPTIONS[kind].format(value=value, store=store))
        as_of = date_picker()
        disclaimer()
    return m, as_of


def _date_span() -> tuple[date, date]:
    data = legal_data()
    return date(data.earliest.year, 1, 1), date(data.as_of.year + 5, 12, 31)


def _typed_date() -> None:
    """Apply the date typed in the text box (on Enter), or say why it cannot be used."""
    first, last = _date_span()
    text = str(st.session_state.get("as_of_text", "")).strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        st.session_state["as_of_problem"] = f"{text!r} is not a date: type it as YYYY-MM-DD"
        return
    if not first <= day <= last:
        st.session_state["as_of_problem"] = f"{day} is outside {first} to {last}"
        return
    st.session_state.pop("as_of_problem", None)
    st.session_state["as_of"] = day


def _picked_date() -> None:
    st.session_state["as_of_text"] = st.session_state["as_of"].isoformat()
    st.session_state.pop("as_of_problem", None)


def date_picker() -> date:
    """Draw the "Law as of" picker over every date the legal data covers, and a box where a
    typed date applies on Enter; return the date."""
    first, last = _date_span()
    if "as_of" not in st.session_state:
        st.session_state["as_of"] = min(max(date.today(), first), last)
    if "as_of_text" not in st.session_state:
        st.session_state["as_of_text"] = st.session_state["as_of"].isoformat()
    as_of = st.date_input(
        "Law as of",
        min_value=first,
        max_value=last,
        format="YYYY-MM-DD",
        key="as_of",
        on_change=_picked_date,
        help=f"Adequacy decisions and safeguards in force on this date ({first} to {last}).",
    )
    st.text_input(
        "or type a date and press Enter",
        key="as_of_text",
        on_change=_typed_date,
        placeholder="YYYY-MM-DD",
    )
    if st.session_state.get("as_of_problem"):
        st.error(st.session_state["as_of_problem"])
    note = legal_data().date_note(as_of)
    if note:
        st.warning(note)
    return as_of


def disclaimer() -> None:
    """Show the not-legal-advice note with the legal data's date."""
    st.caption(
        f"Not legal advice. Legal data as of {legal_data().as_of}; every fact has its "
        "source and date in data/jurisdictions."
    )


def filters(m: DataMap, *, key: str) -> geo.Filters:
    """Draw the map filters (subjects and systems by name) and return them."""
    cols = st.columns(4)
    names = m.display_names()
    subjects = ["(all)", *m.subjects("client"), *m.subjects("staff")]
    subject = cols[0].selectbox(
        "Subject", subjects, key=f"{key}-subject", format_func=lambda s: names.get(s, s)
    )
    category = cols[1].selectbox("Data category", ["(all)", *m.categories()], key=f"{key}-category")
    systems = sorted(m.systems().values())
    system = cols[2].selectbox("System", ["(all)", *systems], key=f"{key}-system")
    kinds = cols[3].multiselect("Kind", list(KINDS), default=list(KINDS), key=f"{key}-kinds")
    return geo.Filters(
        subject=None if subject == "(all)" else subject,
        category=None if category == "(all)" else category,
        system=None if system == "(all)" else system,
        kinds=tuple(kinds),
    )


def _rgb(status: str, alpha: int = 255) -> list[int]:
    return [*geo.STATUS_COLOURS[status], alpha]


# Shown in the map's top-left corner, never past its edges (deck.gl would follow the cursor).
TOOLTIP_STYLE = {
    "transform": "none",
    "top": "8px",
    "left": "8px",
    "maxWidth": "min(420px, 60%)",
    "whiteSpace": "pre-line",
    "fontSize": "13px",
    "backgroundColor": "rgba(33, 37, 41, 0.92)",
    "color": "#f8f9fa",
}


def _country_text(row: dict[str, Any]) -> str:
    lines = [f"{row['name']} ({row['code']})", f"{row['status_label']}: {row['reason']}"]
    if row["subjects"]:
        lines.append(f"data of {row['subjects']} subjects; {row['transfers']} transfers in")
    if row["worst_basis"]:
        lines.append(f"worst basis into it: {geo.STATUS_LABELS[row['worst_basis']]}")
    if row["origin_of"]:
        lines.append(f"origin of {row['origin_of']} subjects' data")
    lines.append(f"{row['findings']} findings name it")
    return "\n".join(lines)


def deck(
    countries: Any,
    flows: Any,
    *,
    colour_by: str = "status",
    height: int = 560,
    arcs: bool = True,
    view: dict[str, float] | None = None,
    wheel_zoom: bool = False,
) -> pdk.Deck:
    """Build the offline map: grey world (its names on hover), countries holding data,
    one arc per origin and destination (width by subjects, colour by the worst basis)."""
    most = max([int(v) for v in countries["subjects"]] or [1])
    features, points = [], []
    for row in countries.to_dict("records"):
        if colour_by == "status" or not row["subjects"]:
            fill = _rgb(row["status"])
        else:
            fill = [33, 113, 181, 60 + int(180 * row["subjects"] / most)]
        text = _country_text(row)  # "name": what the tooltip shows, for every layer
        features.append(
            {
                "type": "Feature",
                "geometry": geo.geometry_json(row["code"]),  # rows are shipped countries
                "properties": {"fill": fill},
                "name": text,
            }
        )
        points.append(
            {"position": list(geo.point_of(row["code"]) or (0, 0)), "fill": fill, "name": text}
        )
    widest = max([int(v) for v in flows["subjects"]] or [1])
    arc_rows = [
        {
            # The arc's ends are its line's: the label points of both countries, read
            # without going through shapely.
            "source": list(geo.point_of(r["origin"]) or (0, 0)),
            "target": list(geo.point_of(r["destination"]) or (0, 0)),
            "colour": _rgb(r["basis"], 120),
            "width": round(1 + 3 * math.sqrt(r["subjects"] / widest), 2),
            "name": (
                f"{r['origin']} → {r['destination']}: data of {r['subjects']} subjects, "
                f"{r['transfers']} transfers\nworst basis: {r['basis_label']}\n"
                f"systems: {r['systems']}"
            ),
        }
        for r in flows.to_dict("records")
    ]
    dots = pdk.Layer(
        "ScatterplotLayer",
        points,
        id="dots",
        get_position="position",
        get_fill_color="fill",
        get_line_color=[60, 60, 60, 200],
        stroked=True,
        line_width_min_pixels=0.5,
        get_radius=30000,
        radius_min_pixels=4,
        radius_max_pixels=8,
        pickable=True,
        # Drawn over the arcs that end here: hovering a country's label point shows the
        # country, not an arc.
        parameters={"depthCompare": "always"},
    )
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            WORLD_URL,
            id="world",
            stroked=False,
            filled=True,
            get_fill_color=[*geo.NO_DATA_COLOUR, 255],
            pickable=True,  # its features' "name": country labels on hover
        ),
        pdk.Layer(
            "GeoJsonLayer",
            {"type": "FeatureCollection", "features": features},
            id="countries",
            stroked=True,
            filled=True,
            get_fill_color="properties.fill",
            get_line_color=[60, 60, 60, 200],
            line_width_min_pixels=0.6,
            pickable=True,
        ),
    ]
    if arcs:
        layers.append(
            pdk.Layer(
                "ArcLayer",
                arc_rows,
                id="arcs",
                get_source_position="source",
                get_target_position="target",
                get_source_color="colour",
                get_target_color="colour",
                get_width="width",
                get_height=0.4,  # flatter arcs: the countries stay visible under them
                width_units="pixels",
                pickable=True,
            )
        )
    layers.append(dots)
    shown = view or geo.view([])
    controller = {"scrollZoom": wheel_zoom, "dragPan": True, "doubleClickZoom": True}
    # map_provider=None and no map_style: no third-party base map is ever requested.
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(**shown, min_zoom=0.5, max_zoom=8),
        views=[pdk.View("MapView", controller=controller)],
        map_provider=None,
        tooltip={"text": "{name}", "style": TOOLTIP_STYLE},
        height=height,
    )


def _chip(colour: str, meaning: str) -> str:
    return (
        f"<span style='display:inline-block;width:.9em;height:.9em;background:{colour};"
        f"border:1px solid #555;margin:0 .3em 0 .8em'></span>{meaning}"
    )


def _chips(kind: str) -> str:
    return " ".join(_chip(row.colour, row.meaning) for row in geo.legend(kind).itertuples())


def legend(*, arcs: bool = True, colour_by: str = "status") -> None:
    """Show what the map's colours mean: countries, then arcs."""
    no_data = _chip("#{:02x}{:02x}{:02x}".format(*geo.NO_DATA_COLOUR), "none of the data")
    if colour_by == "status":
        text = f"{geo.COUNTRY_LEGEND}<br>{_chips('countries')} {no_data}"
    else:
        text = f"Country colour: the darker the blue, the more subjects' data it holds. {no_data}"
    if arcs:
        text += f"<br>{geo.ARC_LEGEND}<br>{_chips('arcs')}"
    st.markdown(f"<div style='font-size:.85em'>{text}</div>", unsafe_allow_html=True)


VIEWS = ("Fit the data", "Europe", "Whole world")
MANY_ARCS = 40  # more origin -> destination pairs than this: arcs start switched off


def world_map(
    assessment: Any,
    chosen: geo.Filters,
    *,
    key: str,
    height: int = 560,
    colour_by: str = "status",
) -> Any:
    """Draw the map of what passes the filters, its view and arc controls and its legend;
    return the country frame."""
    countries = geo.country_frame(assessment, chosen)
    flows = geo.flow_frame(assessment, chosen, by_basis=False)
    cols = st.columns([2, 1, 1])
    where = cols[0].radio("View", VIEWS, horizontal=True, key=f"{key}-view")
    arcs = cols[1].toggle(
        "Arcs",
        value=len(flows) <= MANY_ARCS,  # at agency scale the countries speak first
        key=f"{key}-arcs",
        help=f"{len(flows)} origin → destination pairs; off by default above {MANY_ARCS}.",
    )
    wheel = cols[2].toggle(
        "Zoom with the wheel",
        value=False,
        key=f"{key}-wheel",
        help="Off: the mouse wheel scrolls the page. Drag to pan, double-click to zoom.",
    )
    if where == "Fit the data":
        view = geo.view(set(countries["code"]), height_px=height)
    elif where == "Europe":
        view = geo.view(geo.EUROPE, height_px=height, core=True)
    else:
        view = geo.view([])
    st.pydeck_chart(
        deck(
            countries,
            flows,
            colour_by=colour_by,
            height=height,
            arcs=arcs,
            view=view,
            wheel_zoom=wheel,
        ),
        height=height,
        key=f"{key}-deck",
    )
    legend(arcs=arcs, colour_by=colour_by)
    return countries


SEVERITY_MARKS = {"high": "🔴", "medium": "🟠", "low": "🟡"}


def finding_list(findings: list[Any], m: DataMap, *, limit: int = 200) -> None:
    """Show findings as expanders (title, subject by name, countries), with evidence and sources."""
    for f in findings[:limit]:
        label = (
            f"{SEVERITY_MARKS[f.severity]} {f.severity} · {f.title} · "
            f"{m.display_name(f.subject)} · {' '.join(f.countries)}"
        )
        with st.expander(label):
            st.caption(f"rule {f.rule} · id {f.id}")
            st.write(f.explanation)
            st.markdown("**Evidence**")
            st.code("\n".join(f.evidence), language=None, wrap_lines=True)
            if f.sources:
                st.markdown("**Legal sources**")
                for s in f.sources:
                    cite = s.citation or s.title
                    st.markdown(
                        f"- {s.regime}: {cite}"
                        + (f" ({s.url})" if s.url else "")
                        + f" — confidence {s.confidence}"
                    )
    if len(findings) > limit:
        st.info(f"{len(findings) - limit} more: narrow the filters, or download the export.")
