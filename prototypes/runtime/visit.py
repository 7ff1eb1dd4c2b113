"""One visit's state in ``st.session_state``: the URL parameters and the customer session.

The URL is read once per visit (again only when the URL itself changes) into
``st.session_state[PARAMS]``; the ``CustomerSession`` lives in ``st.session_state[SESSION]``
and the lab, prototype and parameters it was made from in ``st.session_state[CONTEXT]``, so
that widget callbacks (restart, idle timeout, the preview's switches) can start the next one.

A customer link names a prototype and a store (and maybe device and language); ``link_problem``
checks every id against its pattern before anything is looked up. ``preview``, ``variant`` and
``version`` are the team's (``team_params``: they need the token). The variant and version a
``storelab prototype run --variant/--version`` server shows come from its environment
(``launch.RUN_VARIANT_ENV``, ``RUN_VERSION_ENV``), so the links it prints stay customer links.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import streamlit as st

from errors import HandoverCodeError
from feedback.events import CONTEXT_VARIABLES
from lab import Lab
from prototypes.handover import claim_code
from prototypes.library import is_prototype_id
from prototypes.personas import personalise, profile_from
from prototypes.runtime.access import TOKEN_KEY, token_matches
from prototypes.runtime.launch import RUN_VARIANT_ENV, RUN_VERSION_ENV
from prototypes.runtime.session import CustomerSession, resolve_run, shared_sink
from prototypes.spec import Prototype

PARAMS = "sl_params"
SESSION = "sl_session"
CONTEXT = "sl_ctx"
DEFAULTS: dict[str, Any] = {
    "prototype": None,
    "store": None,  # the link's; ``resolve_store`` decides when it names none
    "variant": "auto",
    "device": None,
    "version": None,
    "lang": None,
    "preview": False,
    "team": False,
    "token": None,
    # personas, context and handover (issue 15): ?persona=anna&weather=rain&journey=CODE
    "persona": None,
    **dict.fromkeys(CONTEXT_VARIABLES),
    "journey": None,
}
DEFAULT_STORE = "S01"
STORE_ID_RE = re.compile(r"\w[\w.-]{0,63}")
VARIANT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
VERSION_RE = re.compile(r"[1-9][0-9]{0,5}")


def _server_defaults() -> dict[str, Any]:
    """The variant and version this server was started with (``prototype run``), if any."""
    out: dict[str, Any] = {}
    variant = os.environ.get(RUN_VARIANT_ENV, "")
    if variant:
        out["variant"] = variant
    version = os.environ.get(RUN_VERSION_ENV, "")
    if VERSION_RE.fullmatch(version):
        out["version"] = int(version)
    return out


def read_params() -> dict[str, Any]:
    """URL parameters, read once per visit (again only when the URL itself changes)."""
    raw = {k: st.query_params.get(k) for k in DEFAULTS}
    stored = st.session_state.get(PARAMS)
    if stored is not None and stored.get("_raw") == raw:
        return stored
    params = {**DEFAULTS, **_server_defaults()}
    for name, value in raw.items():
        if value in (None, ""):
            continue
        if name == "version":
            params["version"] = int(value) if VERSION_RE.fullmatch(value) else None
        elif name in ("preview", "team"):
            params[name] = str(value).lower() in ("1", "true", "yes")
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


def team_params(params: dict[str, Any]) -> list[str]:
    """The URL parameters of this visit that only the team may give: a preview, a chosen
    variant or version (customers get what the lab's experiment assigns)."""
    raw = params["_raw"]
    asked = []
    if params["preview"]:
        asked.append("preview")
    if raw.get("variant") not in (None, "", "auto"):
        asked.append("variant")
    if raw.get("version") not in (None, ""):
        asked.append("version")
    return asked


def link_problem(params: dict[str, Any]) -> str | None:
    """What is malformed in the link's ids, checked before any lookup; None when nothing is.

    The wording is for the team (the customer's page names no id).
    """
    prototype = params["prototype"]
    if prototype is not None and not is_prototype_id(prototype):
        return f"{prototype!r} is not a prototype id (lowercase letters, digits and dashes)."
    if params["store"] is not None and not STORE_ID_RE.fullmatch(params["store"]):
        return f"{params['store']!r} is not a store id (letters, digits, '.', '-', '_')."
    variant = params["variant"] or "auto"
    if variant != "auto" and not VARIANT_RE.fullmatch(variant):
        return f"{variant!r} is not a variant name (letters, digits, '-', '_')."
    if params["_raw"].get("version") not in (None, "") and params["version"] is None:
        return f"{params['_raw']['version']!r} is not a version number."
    for name in ("persona", *CONTEXT_VARIABLES):
        if params.get(name) and not VARIANT_RE.fullmatch(params[name]):
            return f"{params[name]!r} is not a {name} (letters, digits, '-', '_')."
    return None


def resolve_store(params: dict[str, Any], stores: dict[str, Any], team: bool) -> str | None:
    """Set the visit's store when the link names none; why not, when it cannot be known.

    A link without ``store`` is fine where there is only one answer: a lab with one store (or
    no stores.csv: the scaffold's ``DEFAULT_STORE``), or the team's preview (its events never
    count; the first store). A customer's link in a lab of several stores is refused rather
    than counted for a store the customer is not in.
    """
    if params["store"] is not None:
        return None
    if team or len(stores) <= 1:
        params["store"] = next(iter(stores), DEFAULT_STORE)
        return None
    return (
        "The link names no store, and the lab has several: add &store=ID (one of "
        + ", ".join(stores)
        + "), as `storelab prototype qr` and `prototype run` links do."
    )


def profile_problems(proto: Prototype, params: dict[str, Any]) -> list[str]:
    """Persona or context values of the link that the prototype does not declare."""
    return profile_from(
        proto, params.get("persona"), {k: params.get(k) for k in CONTEXT_VARIABLES}
    )[1]


def device_for(params: dict[str, Any], proto: Prototype | None) -> str:
    """The device the URL names, else the prototype's touchpoint (kiosk, else phone)."""
    if params.get("device"):
        return params["device"]
    return "kiosk" if proto is not None and proto.touchpoint == "kiosk" else "phone"


def is_team_visit(lab: Lab, params: dict[str, Any]) -> bool:
    """Whether the team opened this visit: a gallery link (``team=1``), the lab's dashboard token
    in the URL (``token=``), or the dashboard that mounts this page, signed in with it."""
    if params.get("team"):
        return True
    return token_matches(lab, params.get("token")) or token_matches(
        lab, st.session_state.get(TOKEN_KEY)
    )


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
        team=is_team_visit(lab, params),
    )
    view = proto.resolve(ctx.version, ctx.view_variant)
    lang = locale or params.get("lang") or lab.config.lab.locale
    if lang not in view.locales:
        lang = view.locales[0]
    # What the previous customer typed or chose must not be visible to the next one.
    for key in [k for k in st.session_state if str(k).startswith(("el_", "sl_comment"))]:
        del st.session_state[key]
    context = {k: params.get(k) for k in CONTEXT_VARIABLES}
    profile, _ = profile_from(view, params.get("persona"), context)
    session = CustomerSession(ctx=ctx, view=personalise(view, profile), locale=lang,
                              session_id=sid, profile=profile, base_view=view)  # fmt: skip
    if params.get("journey"):
        # A ?journey=CODE link (the QR code of another device): taken once, at the first
        # session; the next customer on this device starts fresh.
        code, params["journey"] = params["journey"], None
        try:
            session.pending = claim_code(
                lab, code, prototype_id=proto.id, store_id=ctx.store_id, locale=lang
            )
            session.locale = (
                session.pending.locale if session.pending.locale in view.locales else lang
            )
            session.take_arm(lab, proto, session.pending)  # before any event: all in its arm
        except HandoverCodeError as exc:
            session.code_error = exc.reason
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
    """Idle timeout or 'exit': abandon the running task and end the session (each once, in
    that order; ``CustomerSession.time_out``) and show the welcome screen."""
    session = st.session_state.get(SESSION)
    ctx = st.session_state.get(CONTEXT)
    if session is None or ctx is None:
        return
    if session.started and not session.ended:
        session.time_out()
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
    "link_problem",
    "profile_problems",
    "is_team_visit",
    "new_session",
    "on_idle",
    "read_params",
    "reset_for_next_customer",
    "restart",
    "team_params",
]
