"""Where does one client's, staff member's or system's data live, with the evidence."""

import streamlit as st

import app_support as ui
from residency import geo

m, as_of = ui.current()
st.title("Where does it live?")
subject = st.selectbox(
    "Client, staff member or system",
    m.subjects(),
    key="where-subject",
    format_func=lambda s: f"{m.graph.nodes[s]['label']} ({s})",
)
result = m.where(subject)
st.markdown(
    f"**{result.label}**, origin **{result.origin}**: data reaches "
    f"{len(result.countries)} countries: {', '.join(result.countries)}"
)

assessment = m.assessment(as_of=as_of)
if subject.startswith("system:"):
    chosen = geo.Filters(system=result.label)  # every subject's data in this system
else:
    chosen = geo.Filters(subject=subject)
st.pydeck_chart(
    ui.deck(
        geo.country_frame(assessment, chosen),
        geo.flow_frame(assessment, chosen, by_basis=False),
        height=420,
    ),
    height=420,
)
ui.legend()

frame = result.to_frame(graph=m.graph)
st.dataframe(frame.drop(columns=["path", "subject"]), hide_index=True, width="stretch")
st.caption(
    "Evidence: the walk through the graph from the subject to the place, with each "
    "edge's kind. Every edge comes from an inventory line (docs/architecture.md)."
)
