"""The team preview's side panel (``?preview=1``): where the session is, what the task expects,
and switches for version, variant and screen. Events of a preview carry ``props.preview``.
"""

from __future__ import annotations

import html
from typing import Any

import streamlit as st

from feedback.events import CONTEXT_VARIABLES
from prototypes.personas import ANONYMOUS
from prototypes.runtime.session import CustomerSession
from prototypes.runtime.visit import (
    CONTEXT,
    DEFAULTS,
    PARAMS,
    current_session,
    new_session,
    restart,
)
from prototypes.spec import Prototype


def preview_panel(session: CustomerSession, proto: Prototype) -> None:
    """Team preview: where you are, what the task expects, switch version/variant, restart."""
    ctx = session.ctx
    view = session.view
    with st.sidebar:
        st.markdown("### 🧪 Team preview")
        st.markdown(
            f'<div class="sl-pv-box"><b>{html.escape(ctx.prototype_id)}</b><br>'
            f"version <code>{ctx.version}</code> · variant <code>"
            f"{html.escape(ctx.view_variant)}</code><br>"
            f"events: variant <code>{html.escape(ctx.variant)}</code>, experiment "
            f"<code>{html.escape(ctx.experiment_id or '–')}</code> ({ctx.assignment})<br>"
            f"store <code>{html.escape(ctx.store_id)}</code> · device <code>{ctx.device}</code><br>"
            f"persona <code>{html.escape(session.profile.persona or ANONYMOUS)}</code> · "
            f"journey <code>{html.escape(session.journey_id[:8])}</code><br>"
            f"phase <code>{session.phase}</code> · screen <code>"
            f"{html.escape(session.screen or '–')}</code><br>"
            "<small>Events carry <code>props.preview = true</code>.</small></div>",
            unsafe_allow_html=True,
        )
        screen = view.screens.get(session.screen or "")
        if screen is not None:
            st.markdown(_elements_box(screen), unsafe_allow_html=True)
        for box in _task_boxes(session):
            st.markdown(box, unsafe_allow_html=True)
        versions = proto.version_numbers
        st.selectbox(
            "Version",
            versions,
            index=versions.index(ctx.version),
            key="sl_pv_version",
            on_change=_pv_switch,
        )
        variants = proto.variant_names(ctx.version)
        st.selectbox(
            "Variant",
            variants,
            index=variants.index(ctx.view_variant) if ctx.view_variant in variants else 0,
            key="sl_pv_variant",
            on_change=_pv_switch,
        )
        st.selectbox(
            "Jump to screen",
            list(view.screens),
            index=None,
            key="sl_pv_jump",
            on_change=_pv_jump,
            placeholder="screen …",
        )
        _profile_switches(session)
        st.button("↺ Restart", key="sl_pv_restart", width="stretch", on_click=restart)


# --- persona and context (issue 15) -----------------------------------------------------------


def _profile_switches(session: CustomerSession) -> None:
    """Switch the persona and each context variable: a new session under that profile."""
    view = session.base_view or session.view
    if view.personas:
        names = [ANONYMOUS, *view.personas]
        current = session.profile.persona or ANONYMOUS
        st.selectbox(
            "Persona",
            names,
            index=names.index(current) if current in names else 0,
            format_func=lambda p: p if p == ANONYMOUS else f"{view.personas[p].name} ({p})",
            key="sl_pv_persona",
            on_change=_pv_profile,
        )
    for name, variable in view.context.items():
        value = session.profile.context.get(name, variable.default)
        st.selectbox(
            name.replace("_", " ").capitalize(),
            variable.values,
            index=variable.values.index(value) if value in variable.values else 0,
            key=f"sl_pv_ctx_{name}",
            on_change=_pv_profile,
        )


def _pv_profile() -> None:
    params = st.session_state[PARAMS]
    persona = st.session_state.get("sl_pv_persona")
    params["persona"] = None if persona in (None, ANONYMOUS) else persona
    for name in CONTEXT_VARIABLES:
        if f"sl_pv_ctx_{name}" in st.session_state:
            params[name] = st.session_state[f"sl_pv_ctx_{name}"]
    for name in ("persona", *CONTEXT_VARIABLES):
        if params.get(name):
            st.query_params[name] = params[name]
        elif name in st.query_params:
            del st.query_params[name]
    params["_raw"] = {k: st.query_params.get(k) for k in DEFAULTS}
    ctx = st.session_state.get(CONTEXT)
    if ctx is not None:
        new_session(ctx[0], ctx[1], params)


def _target(el: Any) -> str | None:
    links = list(el.link_targets())
    return ", ".join(t for _, t, _ in links) if links else None


def _pv_switch() -> None:
    params = st.session_state[PARAMS]
    params["version"] = st.session_state.get("sl_pv_version")
    params["variant"] = st.session_state.get("sl_pv_variant") or "auto"
    st.query_params["version"] = str(params["version"])
    st.query_params["variant"] = params["variant"]
    params["_raw"] = {k: st.query_params.get(k) for k in DEFAULTS}
    ctx = st.session_state.get(CONTEXT)
    if ctx is not None:
        new_session(ctx[0], ctx[1], params)


def _pv_jump() -> None:
    target = st.session_state.get("sl_pv_jump")
    session = current_session()
    if target:
        if session.phase not in ("screen", "browse"):
            session.phase = "screen" if session.consent else "browse"
        session.show(target)
    st.session_state["sl_pv_jump"] = None


def _elements_box(screen: Any) -> str:
    """The screen's elements (and custom function) with their ids and link targets."""
    ids = "".join(
        f"<div><code>{html.escape(e.id)}</code> {e.type}"
        + (f" → <code>{html.escape(t)}</code>" if (t := _target(e)) else "")
        + "</div>"
        for e in screen.elements
    )
    if screen.custom is not None:
        c = screen.custom
        ids = (
            f"<div><code>{html.escape(c.module)}:{html.escape(c.function)}</code> custom"
            + (f" → <code>{html.escape(', '.join(c.targets))}</code>" if c.targets else "")
            + "</div>"
            + ids
        )
    return f'<div class="sl-pv-box"><b>Elements</b>{ids}</div>'


def _task_boxes(session: CustomerSession) -> list[str]:
    """Per task its expected path (the steps taken so far in bold) and its goal."""
    task = session.task if session.task_active else None
    boxes = []
    for t in session.view.tasks:
        active = task is not None and t.id == task.id
        path = " → ".join(
            f"<b>{html.escape(s)}</b>" if s in session.path and active else html.escape(s)
            for s in t.expected_path
        )
        boxes.append(
            f'<div class="sl-pv-box">{"▶ " if active else ""}<b>Task '
            f"{html.escape(t.id)}</b><br>"
            f"path: {path}<br>goal: <code>{html.escape(', '.join(t.goal_screens))}</code>"
            "</div>"
        )
    return boxes


__all__ = ["preview_panel"]
