"""What a lawyer must act on, most severe first, each with evidence and sources."""

import streamlit as st

import app_support as ui

m, as_of = ui.current()
st.title("Findings")
findings = m.findings(as_of=as_of)
severities = st.multiselect(
    "Severity", ["high", "medium", "low"], default=["high", "medium", "low"], key="finding-severity"
)
rules = sorted({f.rule for f in findings})
rule = st.selectbox("Rule", ["(all)", *rules], key="finding-rule")
names = m.display_names()
about = sorted({f.subject for f in findings}, key=lambda s: names.get(s, s).lower())
subject = st.selectbox(
    "Subject", ["(all)", *about], key="finding-subject", format_func=lambda s: names.get(s, s)
)
shown = [
    f
    for f in findings
    if f.severity in severities and rule in ("(all)", f.rule) and subject in ("(all)", f.subject)
]
st.caption(f"{len(shown)} of {len(findings)} findings as of {as_of}, most severe first")
ui.finding_list(shown, m)
