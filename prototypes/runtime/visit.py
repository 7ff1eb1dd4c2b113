"""One visit's state in ``st.session_state``: the URL parameters and the customer session.

The URL is read once per visit (again only when the URL itself changes) into
``st.session_state[PARAMS]``; the ``CustomerSession`` lives in ``st.session_state[SESSION]``
and the lab, prototype and parameters it was made from in ``st.session_state[CONTEXT]``, so
that widget callbacks (restart, idle timeout, the preview's switches) can start the next one.
"""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from lab import Lab
from prototypes.runtime.session import CustomerSession, resolve_run, shared_sink
from prototypes.spec import Prototype

PARAMS = "sl_params"
SESSION = "sl_session"
CONTEXT = "sl_ctx"
DEFAULTS: dict[str, Any] = {
    "prototype": None,
    "store": "S01",
    "variant": "auto",
    "device": None,
    "version": None,
    "lang": None,
    "preview": False,
}


def read_params() -> dict[str, Any]:
    """URL parameters, read once per visit (again only when the URL itself changes)."""
    raw = {k: st.query_params.get(k) for k in DEFAULTS}
    stored = st.session_state.get(PARAMS)
    if stored is not None and stored.get("_raw") == raw:
        return stored
    params = dict(DEFAULTS)
    for name, value in raw.items():
        if value in (None, ""):
            continue
        if name == "version":
            try:
                params["version"] = int(value)
            except ValueError:
                params["version"] = None
        elif name == "preview":
            params["preview"] = str(value).lower() in ("1", "true", "yes")
        elif name == "device":
            params["device"] = value if value in ("kiosk", "phone", "web") else None
        elif name == "lang":
            params["lang"] = value if value in ("de", "en") else None
        else:
            params[name] = value
    params["_raw"] = raw
    st.session_state[PARAMS] = params
    st.session_state.pop(SESSION, None)
    return params


def device_for(params: dict[str, Any], proto: Prototype | None) -> str:
    """The device the URL names, else the prototype's touchpoint (kiosk, else phone)."""
    if params.get("device"):
        return params["device"]
    return "kiosk" if proto is not None and proto.touchpoint == "kiosk" else "phone"


def new_session(
    lab: Lab, proto: Prototype, params: dict[str, Any], locale: str | None = None
) -> CustomerSession:
    """A fresh anonymous customer session (new id, variant assigned for it)."""
    sid = uuid.uuid4()
    ctx = resolve_run(
        lab,
        proto,
        store_id=params["store"],
        device=device_for(params, proto),
        session_id=sid,
        variant=params["variant"] or "auto",
        version=params["version"],
        preview=bool(params["preview"]),
    )
    view = proto.resolve(ctx.version, ctx.view_variant)
    lang = locale or params.get("lang") or lab.config.lab.locale
    if lang not in view.locales:
        lang = view.locales[0]
    # What the previous customer typed or chose must not be visible to the next one.
    for key in [k for k in st.session_state if str(k).startswith(("el_", "sl_comment"))]:
        del st.session_state[key]
    session = CustomerSession(ctx=ctx, view=view, locale=lang, session_id=sid)
    st.session_state[SESSION] = session
    return session


def current_session() -> CustomerSession:
    """The session of this visit (widget callbacks run after ``play_page`` made one)."""
    return st.session_state[SESSION]


def restart() -> None:
    """'Start again' (and the preview's restart): a new session on the same prototype."""
    ctx = st.session_state.get(CONTEXT)
    if ctx is not None:
        new_session(*ctx)


def reset_for_next_customer() -> None:
    """Idle timeout or 'exit': end the session (once) and show the welcome screen."""
    session = st.session_state.get(SESSION)
    ctx = st.session_state.get(CONTEXT)
    if session is None or ctx is None:
        return
    if session.started and not session.ended:
        session.end("idle_timeout")
    lab, proto, params = ctx
    session.flush(shared_sink(lab).emit)
    new_session(lab, proto, params)


def on_idle() -> None:
    """The browser saw no tap for the idle time: reset unless the welcome screen is showing."""
    session = st.session_state.get(SESSION)
    if session is not None and session.phase != "welcome":
        reset_for_next_customer()


__all__ = [
    "CONTEXT",
    "DEFAULTS",
    "PARAMS",
    "SESSION",
    "current_session",
    "device_for",
    "new_session",
    "on_idle",
    "read_params",
    "reset_for_next_customer",
    "restart",
]
