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

from reports.app_pages import _shared  # noqa: E402

PAGES = Path(__file__).resolve().parent / "app_pages"


def prototype_pages() -> list:
    """ROOM FOR THE PROTOTYPES GALLERY — owned by ``prototypes.runtime``, not by reports.

    When ``prototypes.runtime.gallery`` exists and has ``render()`` (a Streamlit page function
    that lists the lab's prototypes and links to their previews), it appears here as the
    "Prototypes" page. Until then the navigation simply has no such page.
    """
    try:
        from prototypes.runtime import gallery
    except ModuleNotFoundError as exc:
        if exc.name in ("prototypes.runtime.gallery", "prototypes.runtime", "prototypes"):
            return []
        raise
    except ImportError:
        return []
    render = getattr(gallery, "render", None)
    if render is None:
        return []
    return [st.Page(render, title="Prototypes", icon=":material/touch_app:", url_path="prototypes")]


def main() -> None:
    st.set_page_config(page_title="storelab · analyst", page_icon="🧪", layout="wide")
    lab = _shared.current_lab()
    if not _shared.authorised(lab):
        st.navigation([st.Page(_shared.sign_in_page, title="Sign in")], position="hidden").run()
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
        ],
    }
    gallery = prototype_pages()  # the Prototypes gallery (prototypes.runtime) goes here
    if gallery:
        pages["Prototypes"] = gallery
    st.navigation(pages, position="top").run()


main()
