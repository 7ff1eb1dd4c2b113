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

prototypes = _shared.prototypes_or_stop(lab)
_shared.choice_from_url("prototype", prototypes, "history_prototype")
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
