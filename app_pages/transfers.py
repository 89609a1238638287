"""The transfer register by route, and one subject's transfers with their legal basis."""

import streamlit as st

import app_support as ui

m, as_of = ui.current()
st.title("Cross-border transfers")
routes = m.routes(as_of=as_of).readable_frame()
bases = sorted(set(routes["basis"]))
chosen = st.multiselect("Basis", bases, default=bases, key="transfer-bases")
shown = routes[routes["basis"].isin(chosen)]
st.caption(
    f"The register: {len(shown)} of {len(routes)} routes as of {as_of}, one row per origin "
    "regime, destination, recipient, kind, basis and instrument (the id, last, is the "
    "route's id in the export)."
)
st.dataframe(shown, hide_index=True, width="stretch")
names = m.display_names()
subject = st.selectbox(
    "One subject's transfers",
    ["(choose a subject)", *m.subjects()],
    key="transfer-subject",
    format_func=lambda s: names.get(s, s),
)
if subject != "(choose a subject)":
    frame = m.transfers(subject, as_of=as_of).readable_frame(names)
    st.caption(f"{len(frame)} transfers of {names.get(subject, subject)}'s data as of {as_of}")
    st.dataframe(frame, hide_index=True, width="stretch")
cols = st.columns(2)
cols[0].download_button(
    "Download the register by route (CSV)",
    lambda: ui.download(m, as_of, "csv"),  # the same file as the CLI's, made on click
    file_name="transfer-routes.csv",
    mime="text/csv",
    key="routes-csv",
)
if subject != "(choose a subject)":
    cols[1].download_button(
        f"Download the transfers of {names.get(subject, subject)} (CSV)",
        lambda: m.transfers(subject, as_of=as_of).to_csv().encode("utf-8"),
        file_name="transfers.csv",
        mime="text/csv",
        key="transfers-csv",
    )
