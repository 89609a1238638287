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
marks = {"high": "🔴", "medium": "🟠", "low": "🟡"}
for f in shown[:200]:
    with st.expander(
        f"{marks[f.severity]} {f.severity} · {f.rule} · {f.subject} · {' '.join(f.countries)}"
    ):
        st.write(f.explanation)
        st.markdown("**Evidence**")
        st.code("\n".join(f.evidence), language=None)
        if f.sources:
            st.markdown("**Legal sources**")
            for s in f.sources:
                cite = s.citation or s.title
                st.markdown(
                    f"- {s.regime}: {cite}"
                    + (f" ({s.url})" if s.url else "")
                    + f" — confidence {s.confidence}"
                )
if len(shown) > 200:
    st.info(f"{len(shown) - 200} more: narrow the filters, or download the export.")
