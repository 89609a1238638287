"""World map: what lives where, and every transfer coloured by its legal basis."""

import streamlit as st

import app_support as ui
from residency import geo

m, as_of = ui.current()
st.title("What data lives where")
assessment = m.assessment(as_of=as_of)
chosen = ui.filters(m, key="map")
countries = geo.country_frame(assessment, chosen)
flows = geo.flow_frame(assessment, chosen, by_basis=False)
shown_findings = geo.findings(assessment, chosen)

cols = st.columns(4)
cols[0].metric("Countries holding data", int((countries["subjects"] > 0).sum()))
cols[1].metric("Cross-border transfers", sum(int(n) for n in flows["transfers"]))
cols[2].metric("Transfers with no basis", int(countries["basis_no_basis"].sum()))
cols[3].metric("High-severity findings", sum(f.severity == "high" for f in shown_findings))

colour_by = st.radio(
    "Colour countries by",
    ["worst finding or legal status", "number of subjects"],
    horizontal=True,
    key="colour_by",
)
ui.world_map(
    assessment,
    chosen,
    key="map",
    colour_by="status" if colour_by == "worst finding or legal status" else "subjects",
)
st.caption(
    "Arcs run from the data's origin to where it is stored, processed, accessed or "
    "trained on; hover a country or an arc for details. Country shapes: Natural Earth "
    "(public domain)."
)

st.subheader("Countries")
first = ["code", "name", "status_label", "reason", "subjects", "origin_of", "findings"]
table = geo.worst_first(countries).drop(columns="geometry")
st.dataframe(
    table[[*first, *[c for c in table.columns if c not in first]]],
    hide_index=True,
    width="stretch",
)
