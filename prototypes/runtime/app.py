"""The prototype runtime: one Streamlit app that lets pilot customers tap through any spec.

``storelab prototype run ID`` starts it (``prototypes.runtime.launch.run_prototype``) with
``STORELAB_LAB`` set. URL parameters, read once per visit into ``st.session_state``
(``visit.read_params``): ``prototype``, ``store`` (S01), ``device`` (kiosk|phone; default from
the prototype's touchpoint), ``lang`` (de|en; default the lab's locale): a customer link. The
team's, which need the lab's token (``?token=`` or typed; ``access``): ``variant`` (auto),
``version`` (current), ``preview`` (1 = team preview with a side panel). ``team`` (1 = the team
is trying it: the gallery's links) and the lab's token mark a team session; preview and team
sessions never count in an analysis. Pages: ``play`` (default, ``play.play_page``) and
``gallery`` (``gallery.gallery_page``, the team's); navigation and all Streamlit chrome are
hidden.

The customer's flow: welcome + consent → per task a mission card → the prototype's screens (a
task bar shows the mission and "I give up"; reaching a goal shows "Done – continue") → the
questions after that task → the questionnaires at the end → a thank-you screen (``phases``).
Without a tap for the idle time (kiosk: the prototype's ``kiosk: {idle_timeout_s}``, else the
lab's ``[kiosk] idle_timeout_s``, 90 s; phone: 300 s) a running task ends with ``task_abandon``
(reason ``idle``), the session with ``session_end`` (``idle_timeout``), and the welcome screen
comes back. This script
only wires the pages together; the analyst dashboard mounts the same page functions.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `streamlit run` puts only this folder on the path
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from prototypes.runtime.context import STANDALONE  # noqa: E402
from prototypes.runtime.gallery import gallery_page  # noqa: E402
from prototypes.runtime.play import play_page  # noqa: E402
from prototypes.runtime.visit import read_params  # noqa: E402


def main() -> None:
    """Entry of ``streamlit run prototypes/runtime/app.py``."""
    st.session_state[STANDALONE] = True
    params = read_params()
    st.set_page_config(
        page_title="storelab",
        page_icon="🛍️",
        layout="wide",
        initial_sidebar_state="expanded" if params.get("preview") else "collapsed",
    )
    pages = [
        st.Page(play_page, title="Play", url_path="play", default=True),
        st.Page(gallery_page, title="Gallery", url_path="gallery"),
    ]
    st.navigation(pages, position="hidden").run()


if __name__ == "__main__":
    main()
