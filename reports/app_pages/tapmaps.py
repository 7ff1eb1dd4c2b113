"""Tap maps page: where customers tapped and misclicked on each screen of a prototype version.

Pickers: prototype, version, device, screen (or all), and filters variant and store. Each map
is ``reports.tapmaps.tapmap_figure`` over the screen's snapshot (``storelab prototype
snapshot``); without one it is drawn on a blank frame and the page says how to take it. Data is
cached per lab, database version and filter (``insights.tapmaps``: SQL, then small grids).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from errors import StorelabError
from insights.tapmaps import TapFilter, TapMapReport, TapOptions, build_tap_maps, tap_options
from lab import Lab
from prototypes.library import list_prototype_ids
from reports import data
from reports.app_pages import _shared
from reports.figures import PLOTLY_CONFIG
from reports.tapmaps import caption, tapmap_figure

ALL = "all"

lab = _shared.current_lab()
_shared.style()


def _snapshots_version(root: str) -> int:
    """Changes whenever a snapshot manifest is written (a new snapshot shows at once)."""
    return sum(p.stat().st_mtime_ns for p in Path(root, "snapshots").glob("*/*/*/manifest.json"))


@st.cache_data(ttl=_shared.CACHE_TTL_S, show_spinner=False)
def _options(root: str, db: int, prototype: str) -> TapOptions:
    return tap_options(Lab(Path(root)), prototype)


@st.cache_data(ttl=_shared.CACHE_TTL_S, show_spinner="Drawing the tap maps…")
def _maps(root: str, db: int, shots: int, flt: TapFilter) -> TapMapReport:
    return build_tap_maps(Lab(Path(root)), flt)


st.title("Tap maps")
st.caption(
    "Where customers tapped (blue) and misclicked (orange) on each screen, over the screen as "
    "the runtime drew it; the shaded area is the density, the star its hot spot. Positions "
    "are shares of the screen, so phone and kiosk maps read the same way. Team previews and "
    "“try it” sessions are left out."
)

prototypes = list_prototype_ids(lab)
if not prototypes:
    st.info("The lab has no prototype yet (`storelab prototype new`).")
    st.stop()

root, db = str(lab.root), data.db_version(lab)
row = st.columns(4)
prototype = row[0].selectbox("Prototype", prototypes, key="tm_prototype")
with _shared.friendly_errors():
    options = _options(root, db, prototype)
if not options.versions:
    st.info(f"No taps with a position for {prototype} yet: they come from the browser runtime.")
    st.stop()
version = row[1].selectbox(
    "Version", options.versions, index=len(options.versions) - 1, key="tm_version"
)
devices = options.devices.get(version, ())
device = row[2].selectbox("Device", devices, key="tm_device")
screens = options.screens.get((version, device), ())
screen = row[3].selectbox("Screen", (ALL, *screens), key="tm_screen")
row = st.columns(4)
variant = row[0].selectbox("Variant", (ALL, *options.variants.get(version, ())), key="tm_variant")
store = row[1].selectbox("Store", (ALL, *options.stores.get(version, ())), key="tm_store")
show_boxes = row[2].toggle("Element boxes", value=True, key="tm_boxes")

flt = TapFilter(
    prototype,
    version,
    None if variant == ALL else variant,
    None if store == ALL else store,
    device,
    None if screen == ALL else screen,
)
try:
    report = _maps(root, db, _snapshots_version(root), flt)
except StorelabError as exc:
    st.info(str(exc))
    st.stop()

for hint in report.snapshot_hints():
    st.warning(hint, icon=":material/photo_camera:")
if not report.maps:
    st.info("No taps with a position under this filter.")
    st.stop()

per_row = 3 if device != "kiosk" else 1
width = 380 if device != "kiosk" else 900
for start in range(0, len(report.maps), per_row):
    cols = st.columns(per_row)
    for col, m in zip(cols, report.maps[start : start + per_row], strict=False):
        with col:
            st.markdown(f"**{m.screen}** · {m.taps:,} taps · {m.misclicks:,} misclicks")
            st.plotly_chart(
                tapmap_figure(m, width=width, boxes=show_boxes),
                key=f"tm_fig_{m.device}_{m.screen}",
                theme=None,
                config=PLOTLY_CONFIG,
            )
            st.caption(caption(m))
