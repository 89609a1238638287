"""What to do first: the plan's actions, and the combined effect of the ones you tick."""

from datetime import date

import streamlit as st

import app_support as ui
from residency import ResidencyError
from residency.datamap import DataMap
from residency.plan import Plan


@st.cache_data(show_spinner="Judging each candidate action with what-if...", max_entries=8)
def plan_of(_m: DataMap, inventory_hash: str, as_of: date) -> Plan:
    """Return the plan, made once per inventory and date."""
    return _m.plan(as_of=as_of)


AUTOMATIC = 2000  # subjects up to which the plan is made on opening the page

m, as_of = ui.current()
st.title("What to do")
if len(m.subjects()) > AUTOMATIC and not st.session_state.get("plan-wanted"):
    st.info(
        "Making the plan judges up to 40 candidate changes with what-if: for an "
        "organisation of this size that takes minutes (docs/plan.md)."
    )
    if not st.button("Make the plan", key="plan-make"):
        st.stop()
    st.session_state["plan-wanted"] = True
plan = plan_of(m, m.inventory.content_hash(), as_of)
before = plan.before
st.caption(
    f"Findings as of {as_of}: {before['high']} high, {before['medium']} medium, "
    f"{before['low']} low. Each action below is a what-if change judged on its own; "
    "tick actions to see what they do together. Nothing is saved."
)
if not plan.actions:
    st.success("No action resolves a finding: nothing to do, or nothing the plan can change.")
ticked = []
for rank, action in enumerate(plan.actions, 1):
    fixed = ", ".join(f"{n} {s}" for s, n in action.resolves.items() if n) or "none"
    new = ", ".join(f"{n} {s}" for s, n in action.introduces.items() if n)
    label = f"{rank}. {action.title}"
    if st.checkbox(label, value=rank <= 3, key=f"plan-{action.change}"):
        ticked.extend(action.changes)
    st.caption(
        f"resolves {fixed} for {len(action.subjects)} subjects"
        + (f"; introduces {new}" if new else "")
        + f"; {action.transfers_improved} transfers improve · `{action.change}`"
    )
    with st.expander("How, and the evidence"):
        if action.how:
            st.write(action.how)
        st.code("\n".join(action.evidence), language=None)

st.subheader("Together")
if ticked:
    try:
        result = m.what_if(ticked, as_of=as_of)
    except ResidencyError as exc:
        st.error(str(exc))
    else:
        counts = result.counts()
        cols = st.columns(4)
        cols[0].metric("Findings fixed", counts["findings"]["fixed"])
        cols[1].metric("Findings new", counts["findings"]["new"])
        cols[2].metric("Transfers changed", sum(counts["transfers"].values()))
        cols[3].metric("Findings that remain", len(result.remaining))
        st.dataframe(result.to_frame(), hide_index=True, width="stretch")
else:
    st.caption("Tick actions above to see their combined effect.")
if plan.no_effect or plan.not_evaluated:
    with st.expander("Judged without effect, or not judged"):
        st.write("\n".join(f"- {x}" for x in [*plan.no_effect, *plan.not_evaluated]))
