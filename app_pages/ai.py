"""AI-training exposure, and what changes if you opt out or move a system."""

import streamlit as st

import app_support as ui
from residency import ResidencyError
from residency.whatif import SYNTAX

m, as_of = ui.current()
st.title("AI training & what-if")
exposure = m.ai_exposure(as_of=as_of).to_frame()
st.subheader("Whose data trains which vendor's models")
if exposure.empty:
    st.info("No system in this inventory trains AI models on customer data.")
else:
    summary = m.ai_exposure(as_of=as_of).systems_frame()
    st.dataframe(summary, hide_index=True, width="stretch")
    with st.expander("Every subject and system"):
        st.dataframe(exposure, hide_index=True, width="stretch")

st.subheader("What if...")
names = m.systems()
trained = sorted(set(exposure["system_id"])) if not exposure.empty else []
opt_out = st.multiselect(
    "Opt out of AI training of",
    trained,
    key="whatif-optout",
    format_func=lambda s: names.get(s, s),
)
move_system = st.selectbox(
    "Move the hosting of",
    ["(none)", *names],
    key="whatif-move-system",
    format_func=lambda s: names.get(s, s),
)
move_to = st.text_input(
    "to (a cloud region such as aws/eu-central-1, or a country code)",
    value="aws/eu-central-1",
    key="whatif-move-to",
)
other = st.text_area(
    "Other changes, one per line, as on the command line",
    key="whatif-other",
    help="One of: " + "; ".join(SYNTAX.values()),
    placeholder="add-safeguard:slack=UK IDTA\nstop-access:CN=*\noffboard:figma",
)
changes = [f"opt-out:{s}" for s in opt_out]
if move_system != "(none)":
    changes.append(f"move:{move_system}={move_to}")
changes += [line.strip() for line in other.splitlines() if line.strip()]
if changes:
    try:
        result = m.what_if(changes, as_of=as_of)
    except ResidencyError as exc:  # a change naming something unknown: say so
        st.error(str(exc))
    else:
        st.markdown("**" + "; ".join(result.changes) + "** — nothing is saved.")
        counts = result.counts()
        cols = st.columns(5)
        cols[0].metric("Findings fixed", counts["findings"]["fixed"])
        cols[1].metric("Findings new", counts["findings"]["new"])
        cols[2].metric("Findings changed", counts["findings"]["changed"])
        cols[3].metric("Transfers changed", sum(counts["transfers"].values()))
        cols[4].metric("Locations changed", sum(counts["locations"].values()))
        st.caption(f"{len(result.remaining)} findings remain.")
        st.dataframe(result.to_frame(), hide_index=True, width="stretch")
else:
    st.caption("Choose a change above to see what disappears, appears and remains.")
