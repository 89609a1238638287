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
shown = [f for f in findings if f.severity in severities and rule in ("(all)", f.rule)]
st.caption(f"{len(shown)} of {len(findings)} findings as of {as_of}, most severe first")
ui.finding_list(shown, m)
