"""The ``play`` page: the prototype as a customer sees it, for the parameters in the URL.

``play_page`` is a plain page function, so the analyst dashboard can mount it as well. It finds
the lab, the prototype and the store, keeps one ``CustomerSession`` per visit, writes its events
to the process's spool sink after every run, and draws the phase the session is in
(``phases.show_phase``).

Closed by default: a customer link (prototype and store) shows that prototype in that store and
nothing else. The team's parameters (preview, variant, version) and a link without a prototype
(the gallery) need the lab's token (``access``). Every id is checked against its pattern before
it is looked up, and the prototype is found only through ``prototypes.library``. A link that
does not work says so in German and English and names no id (``phases.broken_link``); the team
also sees why.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from errors import StorelabError
from lab import Lab
from prototypes.library import list_prototype_ids
from prototypes.runtime import theme
from prototypes.runtime.access import authorised, sign_in
from prototypes.runtime.context import cached_prototype, current_lab, store_rows
from prototypes.runtime.gallery import gallery_page
from prototypes.runtime.phases import broken_link, show_phase, top_bar
from prototypes.runtime.preview import preview_panel
from prototypes.runtime.render import Renderer
from prototypes.runtime.session import CustomerSession, shared_sink
from prototypes.runtime.taps import tap_capture
from prototypes.runtime.visit import (
    CONTEXT,
    SESSION,
    current_session,
    is_team_visit,
    link_problem,
    new_session,
    on_idle,
    profile_problems,
    read_params,
    resolve_store,
    team_params,
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
        persona=session.profile.placeholders(session.view.personas),
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
    (the link does not work, the token is needed, or the team's gallery)."""
    try:
        lab = current_lab()
    except StorelabError:
        broken_link(locale=params["lang"])
        return None
    team = authorised(lab)
    if team_params(params) and not team:
        sign_in(lab, "storelab · team preview", TEAM_LINK)
        return None
    if not params["prototype"] and team:
        ids = list_prototype_ids(lab)
        if len(ids) != 1:
            gallery_page()
            return None
        params["prototype"] = ids[0]
    why = _why_not(lab, params, team)
    if why is not None:
        broken_link(why if team else None, params["lang"])
        return None
    proto = cached_prototype(lab, params["prototype"])
    session: CustomerSession | None = st.session_state.get(SESSION)
    if session is None or session.ctx.prototype_id != proto.id:
        try:
            session = new_session(lab, proto, params)
        except StorelabError as exc:
            broken_link(str(exc) if team else None, params["lang"])
            return None
    return lab, proto, store_rows(lab), session


def _why_not(lab: Lab, params: dict[str, Any], team: bool) -> str | None:
    """Why this link cannot be played (for the team's eyes), or None: a malformed id, no
    prototype, one that does not load, a store that is not the lab's or none where it cannot
    be told (``resolve_store``)."""
    if not params["prototype"]:
        return "The link names no prototype (?prototype=ID&store=S01)."
    malformed = link_problem(params)
    if malformed is not None:
        return malformed
    try:
        proto = cached_prototype(lab, params["prototype"])
    except StorelabError as exc:
        return str(exc)
    unknown = profile_problems(proto, params)
    if unknown:
        return "The link's " + "; ".join(unknown) + "."
    stores = store_rows(lab)
    no_store = resolve_store(params, stores, team or is_team_visit(lab, params))
    if no_store is not None:
        return no_store
    if stores and params["store"] not in stores:
        return f"Store {params['store']!r} is not in {lab.stores_csv}: " + ", ".join(stores)
    return None


TEAM_LINK = (
    "This link opens the team preview, or a version or variant of a prototype chosen by hand. "
    "Enter the lab's access token (`[dashboard] token` in `storelab.toml`), or open the link "
    "that `storelab prototype run --preview` printed."
)


def _title(session: CustomerSession, r: Renderer) -> str:
    """The top bar's title: the screen's own title on a prototype screen, else the prototype's."""
    title = r.plain(session.view.title)
    if session.phase in ("screen", "browse") and session.screen in session.view.screens:
        screen_title = session.view.screens[session.screen].title
        if screen_title:
            title = r.plain(screen_title)
    return title


__all__ = ["play_page"]
