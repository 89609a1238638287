"""Every cross-border transfer with its legal basis, instrument and sources."""

import streamlit as st

import app_support as ui

m, as_of = ui.current()
st.title("Cross-border transfers")
transfers = m.transfers(as_of=as_of)
frame = transfers.to_frame()
bases = sorted(set(frame["basis"]))
chosen = st.multiselect("Basis", bases, default=bases, key="transfer-bases")
subject = st.selectbox("Subject", ["(all)", *sorted(set(frame["subject"]))], key="transfer-subject")
shown = frame[frame["basis"].isin(chosen)]
if subject != "(all)":
    shown = shown[shown["subject"] == subject]
st.caption(f"{len(shown)} of {len(frame)} transfers as of {as_of}")
st.dataframe(shown, hide_index=True, width="stretch")
cols = st.columns(2)
cols[0].download_button(
    "Download the register by route (CSV)",
    m.export_text(as_of=as_of, fmt="csv").encode("utf-8"),  # the same file as the CLI's
    file_name="transfer-routes.csv",
    mime="text/csv",
    key="routes-csv",
)
cols[1].download_button(
    "Download every transfer (CSV)",
    transfers.to_csv().encode("utf-8"),
    file_name="transfers.csv",
    mime="text/csv",
    key="transfers-csv",
)
