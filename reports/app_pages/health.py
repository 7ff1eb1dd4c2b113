"""Pilot health page: the table of ``storelab pilot status``, with silent stores flagged.

Not cached: "now" moves on, and the health is a few SQL reductions on a short read-only
connection (``experiments.pilot.health.pilot_health``).
"""

from __future__ import annotations

import streamlit as st

from experiments.pilot.health import pilot_health
from reports import health as view
from reports.app_pages import _shared

FLAGGED_ROW = "background-color: #fee2e2; color: #991b1b; font-weight: 600"

lab = _shared.current_lab()
_shared.style()

head, action = st.columns([3, 1], vertical_alignment="bottom")
head.title("Pilot health")
action.button("Refresh", key="health_refresh", icon=":material/refresh:", width="stretch")

with _shared.friendly_errors():
    health = pilot_health(lab)

head.caption(f"As of {view.when(health)}. {view.headline(health)}")

watched = [s for s in health.stores if s.watched]
cols = st.columns(4)
cols[0].metric("Watched stores", len(watched), border=True)
cols[1].metric("Flagged", len(health.flags), border=True)
cols[2].metric("Sessions today", f"{sum(s.sessions_today for s in health.stores):,}", border=True)
cols[3].metric(
    "Rejected lines",
    f"{health.rejected_total:,}",
    border=True,
    help="Invalid lines kept with their reason in the table rejected_events (all time).",
)

if health.ok:
    st.success("All watched stores are sending data.", icon=":material/check_circle:")
for flag in health.flags:
    st.error(flag.message, icon=":material/warning:")

rows = view.table_rows(health)
if rows:
    import pandas as pd

    flagged = {s.store_id for s in health.stores if s.flag}
    frame = pd.DataFrame(rows, columns=list(view.COLUMNS))
    styled = frame.style.apply(
        lambda row: [FLAGGED_ROW if row["Store"] in flagged else ""] * len(row), axis=1
    )
    height = 38 + 35 * len(rows)  # every row visible: a flagged store must not hide below
    st.dataframe(styled, key="health_table", hide_index=True, width="stretch", height=height)
else:
    st.info("No store has sent events in the last 7 days and no running experiment lists one.")

st.subheader("Sample ratio so far")
if not health.srm:
    st.caption("No experiment is running today.")
for ok, text in view.srm_lines(health):
    (st.markdown if ok else st.error)(("✓ " if ok else "") + text)

st.subheader("Rejected lines")
summary = view.rejected_line(health)
st.caption(f"{summary[:1].upper()}{summary[1:]}. Store: the raw line's store_id (unknown: none).")
if health.rejected:
    st.dataframe(
        [{"Source file": r.source, "Store": r.store_id, "Lines": r.lines} for r in health.rejected],
        key="health_rejected",
        hide_index=True,
    )
