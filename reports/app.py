"""storelab analyst dashboard: ``streamlit run reports/app.py`` with ``STORELAB_LAB`` set.

``storelab dashboard`` starts it. No data is shown until the lab's access token is given (typed,
or ``?token=`` in the link). Pages live in ``reports/app_pages/`` (not ``pages/``, which
Streamlit would also discover on its own).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `streamlit run` puts only reports/ on the path
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from prototypes.runtime.access import authorised  # noqa: E402
from reports.app_pages import _shared  # noqa: E402

PAGES = Path(__file__).resolve().parent / "app_pages"


def play_page():
    """The customer-facing prototype page: a customer link needs no token, the rest does
    (``prototypes.runtime.play`` asks for it)."""
    from prototypes.runtime.play import play_page as render

    return st.Page(render, title="Play", icon=":material/smartphone:", url_path="play")


def gallery_page():
    """The team's gallery of the lab's prototypes with "try it" links to the play page."""
    from prototypes.runtime.gallery import gallery_page as render

    return st.Page(render, title="Prototypes", icon=":material/touch_app:", url_path="prototypes")


def main() -> None:
    st.set_page_config(page_title="storelab · analyst", page_icon="🧪", layout="wide")
    lab = _shared.current_lab()
    if not authorised(lab):
        # Customers reach /play from the QR code or kiosk; everything else needs the token.
        sign_in = st.Page(_shared.sign_in_page, title="Sign in", default=True)
        st.navigation([sign_in, play_page()], position="hidden").run()
        return
    pages = {
        "Analysis": [
            st.Page(
                PAGES / "overview.py",
                title="Overview",
                icon=":material/dashboard:",
                url_path="overview",
                default=True,
            ),
            st.Page(
                PAGES / "experiment.py",
                title="Experiment",
                icon=":material/science:",
                url_path="experiment",
            ),
            st.Page(
                PAGES / "usability.py",
                title="Usability",
                icon=":material/route:",
                url_path="usability",
            ),
            st.Page(
                PAGES / "history.py",
                title="History",
                icon=":material/history:",
                url_path="history",
            ),
            st.Page(
                PAGES / "health.py",
                title="Pilot health",
                icon=":material/monitor_heart:",
                url_path="health",
            ),
            st.Page(
                PAGES / "tapmaps.py",
                title="Tap maps",
                icon=":material/touch_app:",
                url_path="tapmaps",
            ),
            st.Page(
                PAGES / "comments.py",
                title="Comments",
                icon=":material/forum:",
                url_path="comments",
            ),
        ],
    }
    pages["Prototypes"] = [gallery_page(), play_page()]
    st.navigation(pages, position="top").run()


main()
