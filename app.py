"""residency in the browser: a thin Streamlit layer over the library (see app_pages/)."""

import streamlit as st

st.set_page_config(page_title="residency: what data lives where", page_icon="🗺️", layout="wide")

pages = [
    st.Page("app_pages/map.py", title="World map", default=True),
    st.Page("app_pages/where.py", title="Where does it live?"),
    st.Page("app_pages/transfers.py", title="Transfers"),
    st.Page("app_pages/plan.py", title="What to do"),
    st.Page("app_pages/findings.py", title="Findings"),
    st.Page("app_pages/ai.py", title="AI training & what-if"),
    st.Page("app_pages/inventory.py", title="Inventory & export"),
]
st.navigation(pages).run()
