"""The ``play`` page: the prototype as a customer sees it, for the parameters in the URL.

``play_page`` is a plain page function, so the analyst dashboard can mount it as well. It finds
the lab, the prototype (none chosen and several in the lab: the gallery instead) and the store,
keeps one ``CustomerSession`` per visit, writes its events to the process's spool sink after
every run, and draws the phase the session is in (``phases.show_phase``).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from errors import StorelabError
from lab import Lab
from prototypes.library import list_prototype_ids
from prototypes.runtime import theme
from prototypes.runtime.context import cached_prototype, current_lab, store_rows
from prototypes.runtime.gallery import gallery_page
from prototypes.runtime.phases import problem, show_phase, top_bar
from prototypes.runtime.preview import preview_panel
from prototypes.runtime.render import Renderer
from prototypes.runtime.session import CustomerSession, shared_sink
from prototypes.runtime.taps import tap_capture
from prototypes.runtime.texts import tr
from prototypes.runtime.visit import (
    CONTEXT,
    SESSION,
    current_session,
    new_session,
    on_idle,
    read_params,
)
from prototypes.spec import Prototype


def play_page() -> None:
    """The prototype as a customer sees it (parameters from the URL / session state)."""
    params = read_params()
    visit = _open_visit(params)
    if visit is None:
        return
    lab, proto, stores, session = visit
    st.session_state[CONTEXT] = (lab, proto, params)
    sink = shared_sink(lab)
    session.check_time_limit()
    session.flush(sink.emit)

    device = session.ctx.device
    st.markdown(theme.page_css(device, preview=session.ctx.preview), unsafe_allow_html=True)
    tap_capture(
        on_taps=lambda taps: current_session().browser_taps(taps),
        on_idle=on_idle,
        idle_s=session.idle_timeout_s(),
        epoch=f"{session.session_id}:{session.phase}",
    )
    store = stores.get(session.ctx.store_id, {"store_id": session.ctx.store_id})
    r = Renderer(
        session=session,
        locale=session.locale,
        device=device,
        preview=session.ctx.preview,
        folder=proto.path.parent if proto.path else None,
        store=store,
    )
    if session.ctx.preview:
        preview_panel(session, proto)
    top_bar(session, _title(session, r), store)
    show_phase(session, r, store)
    session.flush(sink.emit)


def _open_visit(
    params: dict[str, Any],
) -> tuple[Lab, Prototype, dict[str, dict[str, str]], CustomerSession] | None:
    """Lab, prototype, stores and this visit's session; None when a page already said why not
    (a problem page, or the gallery when no prototype is chosen)."""
    try:
        lab = current_lab()
    except StorelabError as exc:
        problem("storelab", str(exc))
        return None
    if not params["prototype"]:
        ids = list_prototype_ids(lab)
        if len(ids) != 1:
            gallery_page()
            return None
        params["prototype"] = ids[0]
    try:
        proto = cached_prototype(lab, params["prototype"])
    except StorelabError as exc:
        problem(tr("no_prototype", "en"), str(exc))
        return None
    stores = store_rows(lab)
    if stores and params["store"] not in stores:
        problem(
            tr("unknown_store", "de") + " / " + tr("unknown_store", "en"),
            f"{params['store']}: " + ", ".join(stores),
        )
        return None
    session: CustomerSession | None = st.session_state.get(SESSION)
    if session is None or session.ctx.prototype_id != proto.id:
        try:
            session = new_session(lab, proto, params)
        except StorelabError as exc:
            problem(proto.id, str(exc))
            return None
    return lab, proto, stores, session


def _title(session: CustomerSession, r: Renderer) -> str:
    """The top bar's title: the screen's own title on a prototype screen, else the prototype's."""
    title = r.plain(session.view.title)
    if session.phase in ("screen", "browse") and session.screen in session.view.screens:
        screen_title = session.view.screens[session.screen].title
        if screen_title:
            title = r.plain(screen_title)
    return title


__all__ = ["play_page"]
