"""Entry point of `salespipe dashboard`: the sales page and the pipeline page.

Each page is its own script (dashboard/app.py, dashboard/pipeline.py) and also runs alone,
which is how the AppTest tests load them.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.i18n import normalize_lang, t

HERE = Path(__file__).resolve().parent

# Streamlit forgets a widget's value on a page that does not draw it; both pages draw the
# language switch, and writing the value back keeps the choice across a page switch.
if "lang" in st.session_state:
    st.session_state["lang"] = st.session_state["lang"]
lang = normalize_lang(st.session_state.get("lang") or st.query_params.get("lang"))

page = st.navigation([
    st.Page(HERE / "app.py", title=t("nav_sales", lang), icon=":material/monitoring:",
            default=True),
    st.Page(HERE / "pipeline.py", title=t("nav_pipeline", lang),
            icon=":material/account_tree:", url_path="pipeline"),
])
page.run()
