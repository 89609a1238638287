"""Upload an inventory (validated, then kept in the store) and download the export."""

import streamlit as st

import app_support as ui
from residency import InventoryError, ResidencyError

st.title("Inventory & export")
st.markdown(
    "Upload an inventory: one YAML file, or a zip of a folder with `inventory.yaml`, "
    "`staff.csv` and `clients.csv` (format: docs/inventory.md). A valid inventory is kept "
    "in this server's store (a new snapshot of its organisation; earlier ones stay) "
    "and shown on every page, after a reload too, until you go back to the demo."
)
SHOWN_PROBLEMS = 200  # a list of a million problems would stall the page, not help
upload = st.file_uploader("Inventory", type=["yaml", "yml", "zip"], key="upload")
failed = False
if upload is None:
    st.session_state.pop("kept-upload", None)  # the same file chosen again is kept again
else:
    content = upload.getvalue()
    try:
        uploaded = ui.uploaded_map(upload.name, content)
    except InventoryError as exc:
        failed = True
        count = len(exc.problems)
        st.error(
            f"{upload.name}: {count:,} problem{'s' if count != 1 else ''}: fix them and "
            "upload again. Nothing was changed."
        )
        st.code("\n".join(exc.summary_lines(SHOWN_PROBLEMS)), language=None, wrap_lines=True)
        if count > SHOWN_PROBLEMS:
            st.caption(f"`residency check` lists all {count:,}.")
    except ResidencyError as exc:
        failed = True
        st.error(f"{upload.name}: {str(exc)[:2000]}")
    else:
        if st.session_state.get("kept-upload") != (upload.name, len(content), uploaded.name):
            where = ui.keep_upload(uploaded, upload.name, content)
            st.session_state["kept-upload"] = (upload.name, len(content), uploaded.name)
            st.success(f"{upload.name} is valid and now in use on every page; kept {where}.")

kind, value = ui.source()
stored = ui.stored_names()
if stored:
    cols = st.columns([3, 1])
    pick = cols[0].selectbox("Or open an organisation kept in the store", stored, key="open-stored")
    if cols[1].button("Open", key="open-stored-button") and (kind, value) != ("stored", pick):
        ui.choose("stored", pick)
        st.rerun()
if kind != "demo" and st.button("Back to the demo organisation", key="back-to-demo"):
    ui.choose("demo")
    st.rerun()

m, as_of = ui.current()
if failed:  # never offer another organisation's export under a failed upload
    st.info(
        f"The app still shows {m.name}. Fix the problems above and upload again: "
        "the export is offered for a valid inventory only."
    )
    st.stop()
summary = m.summary()
st.subheader(summary.organisation)
st.write(
    f"{summary.staff} staff in {summary.staff_countries} countries, "
    f"{summary.clients} clients in {summary.client_countries} countries, "
    f"{summary.systems} systems, {summary.subprocessors} sub-processors."
)
for warning in m.inventory.warnings:
    st.warning(warning)

st.subheader(f"Export for legal review: {m.name}")
cols = st.columns(3)
cols[0].download_button(
    "JSON export (schema residency-export/2)",
    lambda: ui.download(m, as_of, "json"),  # made on click: tens of MB for a large map
    file_name="residency-export.json",
    mime="application/json",
    key="export-json",
)
cols[1].download_button(
    "Transfer register by route (CSV)",
    lambda: ui.download(m, as_of, "csv"),
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
