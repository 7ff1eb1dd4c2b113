"""History page: v1 → v2 → v3 of one prototype side by side (``insights.history``).

The same rows and words as ``storelab report history`` (``reports.history_view``). ``?prototype=``
preselects the prototype (the experiment scorecard links here with it).
"""

from __future__ import annotations

import streamlit as st

from reports.app_pages import _shared
from reports.history_view import HISTORY_CSS, SCREEN_COLUMNS, TASK_COLUMNS, history_table_html

lab = _shared.current_lab()
_shared.style()
st.markdown(f"<style>{HISTORY_CSS}</style>", unsafe_allow_html=True)
st.title("History")

prototypes = _shared.prototype_ids(lab)
if not prototypes:
    st.info("No prototypes in this lab yet: `storelab prototype new ID --template T`.")
    st.stop()

# ?prototype= is read once per value into the picker's state, as the experiment page does
wanted = st.query_params.get("prototype")
if wanted and wanted != st.session_state.get("history_from_url"):
    st.session_state["history_from_url"] = wanted
    if wanted in prototypes:
        st.session_state["history_prototype"] = wanted
if st.session_state.get("history_prototype") not in prototypes:
    st.session_state["history_prototype"] = prototypes[0]
prototype = st.selectbox("Prototype", prototypes, key="history_prototype")

with _shared.friendly_errors():
    history = _shared.history(lab, prototype)

st.caption(
    "Each version's usability numbers per task and per screen; in brackets the change from "
    "the version before; “Δ spec” is what changed in the prototype spec for that version."
)
cols = st.columns(len(history.versions))
for col, v in zip(cols, history.versions, strict=True):
    score = history.scores[v]
    col.metric(
        f"v{v} usability",
        "–" if score is None else f"{score:.0f}",
        border=True,
        help=f"{history.sessions[v]:,} customer sessions",
    )
    changes = history.diffs.get(v, ())
    col.caption(
        "; ".join(d.describe() for d in changes)
        or ("first version" if v == history.versions[0] else "no screen changed")
    )

for title, rows, metrics in (
    ("Tasks", history.tasks, TASK_COLUMNS),
    ("Screens", history.screens, SCREEN_COLUMNS),
):
    st.subheader(title)
    st.markdown(
        f'<div class="sl">{history_table_html(history, title, rows, metrics)}</div>',
        unsafe_allow_html=True,
    )
