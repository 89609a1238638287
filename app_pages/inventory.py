"""Upload an inventory (validated, never stored) and download the export."""

import streamlit as st

import app_support as ui
from residency import InventoryError
from residency._errors import ResidencyError

st.title("Inventory & export")
st.markdown(
    "Upload an inventory: one YAML file, or a zip of a folder with `inventory.yaml`, "
    "`staff.csv` and `clients.csv` (format: docs/inventory.md). It is validated and "
    "kept only in this browser session; nothing is stored."
)
SHOWN_PROBLEMS = 200  # a table of a million rows would stall the page, not help
upload = st.file_uploader("Inventory", type=["yaml", "yml", "zip"], key="upload")
if upload is not None:
    content = upload.getvalue()
    try:
        ui.uploaded_map(upload.name, content)
    except InventoryError as exc:
        count = len(exc.problems)
        st.error(f"{count:,} problem{'s' if count != 1 else ''}: fix them and upload again.")
        shown = exc.problems[:SHOWN_PROBLEMS]
        st.dataframe(
            [
                {"file": p.file, "line or row": p.line, "field": p.field, "problem": p.message}
                for p in shown
            ],
            hide_index=True,
            width="stretch",
        )
        if count > len(shown):
            st.caption(f"... and {count - len(shown):,} more; `residency check` lists them all.")
    except ResidencyError as exc:
        st.error(str(exc)[:2000])
    else:
        st.session_state[ui.UPLOAD_KEY] = (upload.name, content)
        st.success(f"{upload.name} is valid and now in use on every page.")
if st.session_state.get(ui.UPLOAD_KEY) and st.button("Back to the demo organisation"):
    del st.session_state[ui.UPLOAD_KEY]

m, as_of = ui.current()
summary = m.summary()
st.subheader(summary["organisation"])
st.write(
    f"{summary['staff']} staff in {summary['staff_countries']} countries, "
    f"{summary['clients']} clients in {summary['client_countries']} countries, "
    f"{summary['systems']} systems, {summary['subprocessors']} sub-processors."
)
for warning in m.inventory.warnings:
    st.warning(warning)

st.subheader("Export for legal review")
cols = st.columns(3)
cols[0].download_button(
    "JSON export (schema residency-export/2)",
    ui.download(m, as_of, "json"),
    file_name="residency-export.json",
    mime="application/json",
    key="export-json",
)
cols[1].download_button(
    "Transfer register by route (CSV)",
    ui.download(m, as_of, "csv"),
    file_name="transfer-routes.csv",
    mime="text/csv",
    key="export-csv",
)
cols[2].download_button(
    "Review pack (one offline HTML file)",
    lambda: m.report_html(as_of=as_of),  # made on click: it runs the plan
    file_name="review.html",
    mime="text/html",
    key="export-html",
)
ui.disclaimer()
