"""Where does one client's, staff member's or system's data live, with the evidence."""

import streamlit as st

import app_support as ui
from residency import geo

m, as_of = ui.current()
st.title("Where does it live?")
names = m.display_names()
subject = st.selectbox(
    "Client, staff member or system",
    m.subjects(),
    key="where-subject",
    format_func=lambda s: names.get(s, s),
)
result = m.where(subject)
st.markdown(
    f"**{result.display}**, origin **{result.origin}**: data reaches "
    f"{len(result.countries)} countries: {', '.join(result.countries)}"
)
if result.residency:
    clause = f"Contractual residency clause: {result.residency_text}."
    outside = result.outside_residency
    if outside:
        st.error(
            f"{clause} Outside it: {', '.join(outside)} (marked **outside** in the table).",
        )
    else:
        st.success(f"{clause} Every place the data reaches is within it.")

assessment = m.assessment(as_of=as_of)
if subject.startswith("system:"):
    chosen = geo.Filters(system=result.label)  # every subject's data in this system
else:
    chosen = geo.Filters(subject=subject)
ui.world_map(assessment, chosen, key="where", height=420)

frame = result.to_frame(graph=m.graph)
st.dataframe(frame.drop(columns=["path", "subject"]), hide_index=True, width="stretch")
st.caption(
    "Evidence: the walk through the graph from the subject to the place, with each "
    "edge's kind. Every edge comes from an inventory line (docs/architecture.md)."
)
findings = m.findings(as_of=as_of, subject=subject)
st.subheader(f"Findings about {result.label}")
if findings:
    st.caption(f"{len(findings)} findings as of {as_of}, most severe first")
    ui.finding_list(findings, m)
else:
    st.caption(f"No findings as of {as_of}.")
