"""The customer's journey as pages: chrome, the phases of a visit and the problem page.

``show_phase`` draws the phase the ``CustomerSession`` is in: welcome + consent → per task a
mission card → the prototype's screens (a task bar shows the mission and "give up"; reaching a
goal shows "done – continue") → the questions → thanks; ``declined`` after "no thanks".
Everything here draws; the state changes are the session's methods, called by the buttons.
"""

from __future__ import annotations

import html

import streamlit as st

from prototypes.runtime import theme
from prototypes.runtime.asking import ask_custom
from prototypes.runtime.render import Renderer, first_placeholder
from prototypes.runtime.session import CustomerSession
from prototypes.runtime.texts import tr
from prototypes.runtime.visit import current_session, reset_for_next_customer, restart
from prototypes.spec import PrototypeView

# --- chrome -----------------------------------------------------------------------------------


def _set_locale(locale: str) -> None:
    current_session().locale = locale


def top_bar(session: CustomerSession, title: str, store: dict[str, str]) -> None:
    """The brand bar: the title, the store and the language buttons."""
    with st.container(key="sl_top", horizontal=True):
        sub = html.escape(store.get("name") or session.ctx.store_id)
        st.markdown(
            '<div class="sl-brandbar"><div class="sl-logo">s</div><div class="sl-brandtext">'
            f'<span class="sl-brandname">{html.escape(title)}</span>'
            f'<span class="sl-brandsub">{sub}</span></div></div>',
            unsafe_allow_html=True,
        )
        if len(session.view.locales) > 1:
            for loc in session.view.locales:
                st.button(
                    loc.upper(),
                    key=f"sl_lang_{loc}",
                    type="primary" if loc == session.locale else "secondary",
                    on_click=_set_locale,
                    args=(loc,),
                )


def steps(done: int, total: int) -> str:
    """Progress bars for ``total`` steps, ``done`` of them filled (nothing for one step)."""
    if total <= 1:
        return ""
    bars = "".join(f'<i class="{"on" if i < done else ""}"></i>' for i in range(total))
    return f'<div class="sl-steps">{bars}</div>'


# --- phases -----------------------------------------------------------------------------------


def welcome(session: CustomerSession, r: Renderer, store: dict[str, str]) -> None:
    """What the prototype is about, what is recorded, and the consent buttons."""
    loc = session.locale
    view = session.view
    city = store.get("city")
    eyebrow = tr("welcome_eyebrow", loc) + (f" · {html.escape(city)}" if city else "")
    text = r.t(view.description) if view.description else tr("welcome_fallback", loc)
    icon = _hero_icon(view)
    r.html(
        f'<div class="sl-hero"><div class="sl-hero-icon">{icon}</div>'
        f'<div class="sl-eyebrow">{eyebrow}</div>'
        f'<div class="sl-hero-title">{r.t(view.title)}</div>'
        f'<div class="sl-hero-text">{text}</div></div>'
    )
    r.html(
        '<div class="sl-facts">'
        f"<div><b>⏱</b>{tr('fact_time', loc)}</div>"
        f"<div><b>🔒</b>{tr('fact_anon', loc)}</div>"
        f"<div><b>👆</b>{tr('fact_tap', loc)}</div></div>"
    )
    st.button(
        tr("yes", loc),
        key="sl_consent_yes",
        type="primary",
        width="stretch",
        on_click=session.start,
        args=(True,),
    )
    st.button(
        tr("no", loc),
        key="sl_consent_no",
        type="tertiary",
        width="stretch",
        on_click=session.start,
        args=(False,),
    )
    r.html(f'<p class="sl-text muted" style="text-align:center">{tr("consent_small", loc)}</p>')


def _hero_icon(view: PrototypeView) -> str:
    picture = first_placeholder(view)
    return html.escape(picture.icon) if picture is not None else "🛍️"


def declined(session: CustomerSession, r: Renderer) -> None:
    """After "no thanks": nothing is recorded; looking around is still possible."""
    loc = session.locale
    r.html(
        '<div class="sl-thanks"><div class="sl-thanks-icon">👋</div>'
        f'<div class="sl-thanks-title">{tr("declined_title", loc)}</div>'
        f'<div class="sl-thanks-text">{tr("declined_text", loc)}</div></div>'
    )
    st.button(
        tr("look_around", loc),
        key="sl_browse",
        type="secondary",
        width="stretch",
        on_click=session.browse,
    )
    if session.ctx.device == "kiosk":
        r.html(f'<p class="sl-text muted" style="text-align:center">{tr("restart_kiosk", loc)}</p>')


def mission(session: CustomerSession, r: Renderer) -> None:
    """The card with the next task's mission and "start task"."""
    loc = session.locale
    task = session.task
    if task is None:
        return
    n, total = session.task_index + 1, len(session.tasks)
    done = (
        f'<span class="sl-done">✓ {tr("done_chip", loc)}</span>'
        if session.last_outcome == "success"
        else ""
    )
    count = f" · {n} {tr('of', loc)} {total}" if total > 1 else ""
    r.html(
        f'<div class="sl-mission">{done}{steps(n - 1, total)}'
        f'<div class="sl-eyebrow">{tr("mission", loc)}{count}</div>'
        f'<div class="sl-mission-text">{r.t(task.prompt)}</div>'
        f'<p class="sl-text muted">{tr("mission_hint", loc)}</p></div>'
    )
    st.button(
        tr("start_task", loc),
        key="sl_start_task",
        type="primary",
        width="stretch",
        icon=":material/play_arrow:",
        on_click=session.start_task,
    )


def prototype_screen(session: CustomerSession, r: Renderer) -> None:
    """The current prototype screen and the task bar below it."""
    loc = session.locale
    screen = (
        session.view.screens.get(session.screen or "")
        or session.view.screens[session.view.start_screen]
    )
    r.render_screen(screen)
    with st.container(key="sl_taskbar", horizontal=True):
        if session.phase == "browse":
            st.markdown(
                f'<div class="sl-taskchip"><small>{tr("explore", loc)}</small></div>',
                unsafe_allow_html=True,
            )
            st.button(
                tr("exit", loc), key="sl_exit", type="secondary", on_click=reset_for_next_customer
            )
        elif session.handed_over:  # the task went on to another device (issue 15)
            st.markdown(
                f'<div class="sl-taskchip"><small>✓ {tr("handed_over", loc)}</small>'
                f"<span>{tr('handed_over_text', loc)}</span></div>",
                unsafe_allow_html=True,
            )
            st.button(
                tr("finish", loc), key="sl_handed", type="primary", on_click=session.done_here
            )
        elif session.awaiting_next:
            st.markdown(
                f'<div class="sl-taskchip"><small>✓ {tr("great", loc)}</small>'
                f"<span>{tr('great_text', loc)}</span></div>",
                unsafe_allow_html=True,
            )
            st.button(tr("continue", loc), key="sl_next", type="primary", on_click=session.proceed)
        elif session.task_active and session.task is not None:
            n, total = session.task_index + 1, len(session.tasks)
            count = f" {n}/{total}" if total > 1 else ""
            st.markdown(
                f'<div class="sl-taskchip"><small>{tr("mission", loc)}{count}</small>'
                f"<span>{r.t(session.task.prompt)}</span></div>",
                unsafe_allow_html=True,
            )
            st.button(
                tr("give_up", loc),
                key="sl_give_up",
                type="secondary",
                on_click=session.finish_task,
                args=("abandon",),
            )
        else:
            st.markdown(
                f'<div class="sl-taskchip"><small>{tr("explore", loc)}</small></div>',
                unsafe_allow_html=True,
            )
            st.button(
                tr("finish", loc), key="sl_done", type="primary", on_click=session.done_exploring
            )
    if session.awaiting_next:
        r.html(
            "<style>.st-key-sl_taskbar { background: #eefaf1 !important; } "
            ".st-key-sl_taskbar .sl-taskchip small { color: #1e7b3c !important; }</style>"
        )


def question(session: CustomerSession, r: Renderer) -> None:
    """The current question: a scale of buttons or a comment box, and "skip"."""
    loc = session.locale
    q = session.question
    if q is None:
        return
    n, total = session.question_index + 1, len(session.questions)
    done = ""
    if session.question_index == 0 and session.last_outcome == "success" and q.after_task:
        done = f'<span class="sl-done">✓ {tr("done_chip", loc)}</span>'
    count = f" {n} {tr('of', loc)} {total}" if total > 1 else ""
    text = "" if q.instrument == "five_second" else html.escape(r.plain(q.text))
    r.html(
        f'<div class="sl-question">{done}{steps(n - 1, total)}'
        f'<div class="sl-eyebrow">{tr("question", loc)}{count}</div>'
        f'<div class="sl-question-text">{text}</div></div>'
    )
    if ask_custom(session, r):
        pass  # a question of the prototype's own (runtime/asking.py)
    elif q.scale is None:
        st.text_area(
            r.plain(q.text),
            key="sl_comment",
            placeholder=tr("comment_ph", loc),
            label_visibility="collapsed",
            height=140,
        )
        st.button(
            tr("send", loc), key="sl_send", type="primary", width="stretch", on_click=_send_comment
        )
    else:
        low, high = q.scale
        wide = high - low >= 10
        with st.container(key="sl_scale_nps" if wide else "sl_scale", horizontal=not wide):
            for v in range(low, high + 1):
                st.button(
                    str(v),
                    key=f"sl_scale_{v}",
                    type="secondary",
                    on_click=session.answer,
                    args=(v,),
                )
        if q.anchors:
            r.html(
                f'<div class="sl-anchors"><span>{low} = {html.escape(r.plain(q.anchors[0]))}</span>'
                f'<span style="text-align:right">{high} = '
                f"{html.escape(r.plain(q.anchors[1]))}</span></div>"
            )
    st.button(
        tr("skip", loc), key="sl_skip", type="tertiary", width="stretch", on_click=session.answer
    )


def _send_comment() -> None:
    text = st.session_state.pop("sl_comment", "") or ""
    current_session().answer(text=text)


def thanks(session: CustomerSession, r: Renderer) -> None:
    """The thank-you page with "start again" (kiosks restart by themselves)."""
    loc = session.locale
    r.html(
        '<div class="sl-thanks"><div class="sl-thanks-icon">💚</div>'
        f'<div class="sl-thanks-title">{tr("thanks_title", loc)}</div>'
        f'<div class="sl-thanks-text">{tr("thanks_text", loc)}</div></div>'
    )
    st.button(
        tr("restart", loc), key="sl_restart", type="secondary", width="stretch", on_click=restart
    )
    if session.ctx.device == "kiosk":
        r.html(f'<p class="sl-text muted" style="text-align:center">{tr("restart_kiosk", loc)}</p>')


def show_phase(session: CustomerSession, r: Renderer, store: dict[str, str]) -> None:
    """Draw the page of the phase the session is in."""
    phase = session.phase
    if phase == "welcome":
        welcome(session, r, store)
    elif phase == "declined":
        declined(session, r)
    elif phase == "mission":
        mission(session, r)
    elif phase in ("screen", "browse"):
        prototype_screen(session, r)
    elif phase == "question":
        question(session, r)
    else:
        thanks(session, r)


# --- when something is wrong ------------------------------------------------------------------


def broken_link(detail: str | None = None, locale: str | None = None) -> None:
    """The page for any link that does not work (no such prototype or store, a malformed id, a
    spec with problems, no lab): one short message in German and English that names no id, so
    it tells nobody what exists. ``detail`` is for the team only (the caller checked the token).
    """
    first, second = ("en", "de") if locale == "en" else ("de", "en")
    st.markdown(theme.page_css("phone"), unsafe_allow_html=True)
    other = f"<b>{tr('link_title', second)}</b><br>{tr('link_text', second)}"
    st.markdown(
        '<div class="sl-thanks" data-sl-problem="link">'
        '<div class="sl-thanks-icon" style="background:#fdecec">⚠️</div>'
        f'<div class="sl-thanks-title">{tr("link_title", first)}</div>'
        f'<div class="sl-thanks-text">{tr("link_text", first)}</div>'
        f'<div class="sl-thanks-text" lang="{second}" style="margin-top:1.2rem;opacity:.75">'
        f"{other}</div></div>",
        unsafe_allow_html=True,
    )
    if detail:
        st.markdown(
            '<div data-sl-problem="detail" style="margin:1rem 0;padding:.8rem 1rem;'
            "border:1px dashed #d0d5dd;border-radius:12px;font-size:.9rem;color:#475467;"
            f'white-space:pre-wrap"><b>For the team</b><br>{html.escape(detail)}</div>',
            unsafe_allow_html=True,
        )


__all__ = ["broken_link", "show_phase", "steps", "top_bar"]
