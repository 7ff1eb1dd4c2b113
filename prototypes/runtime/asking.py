"""The runtime's questions of a prototype's own (``prototypes.asks``), with big tappable controls.

Ratings and open text use the standard scale and comment box (``phases.question``); this module
draws the rest, each answer a call of ``CustomerSession`` (``choose``, ``recall``,
``first_click``):

- single choice: one big button per option, a tap answers; multiple choice: big toggles and
  "send";
- preference test: the two designs (a screen of the prototype, shown small and inert, or an
  image) each with its "I prefer this one" button;
- five-second test: after "show the page", the screen is shown for ``seconds`` (a fragment
  reruns the page when the server's clock says so), then only the question and a text box;
- first-click test: the screen, inert; the browser's first tap on it (``taps.py``) is the
  answer with its position and the element it hit (in ``AppTest`` a button's click).

Keys of the runtime's own controls start with ``sl_`` (the tap capture ignores them); the
screens a question shows sit in containers keyed ``ask_…``.
"""

from __future__ import annotations

import html
import time

import streamlit as st

from prototypes.runtime.render import Renderer
from prototypes.runtime.session import CustomerSession
from prototypes.runtime.texts import tr
from prototypes.runtime.visit import current_session

DRAWN_HERE = ("single_choice", "multiple_choice", "preference", "five_second", "first_click")

# the screens a question shows cannot be used: taps do not reach their controls
_INERT = (
    "<style>.st-key-{key} button, .st-key-{key} input, .st-key-{key} textarea "
    "{{ pointer-events: none !important; }}</style>"
)
_FRAME = (
    "<style>.st-key-{key} {{ border: 1px solid #d0d5dd; border-radius: 16px; padding: .8rem; "
    "background: #fff; box-shadow: 0 1px 3px rgba(16,24,40,.08); }}</style>"
)
_SMALL = (
    "<style>.st-key-{key} {{ zoom: .62; border: 1px solid #d0d5dd; border-radius: 16px; "
    "padding: .6rem; background: #fff; }}</style>"
)


def ask_custom(session: CustomerSession, r: Renderer) -> bool:
    """Draw the current question if it is one of ``DRAWN_HERE`` (True), else nothing."""
    q = session.question
    if q is None or q.custom is None or q.instrument not in DRAWN_HERE:
        return False
    draw = {
        "single_choice": _single,
        "multiple_choice": _multiple,
        "preference": _preference,
        "five_second": _five_second,
        "first_click": _first_click,
    }[q.instrument]
    draw(session, r, q.custom)
    return True


def _single(session: CustomerSession, r: Renderer, spec) -> None:
    with st.container(key="sl_options"):
        for o in spec.options:
            st.button(
                r.plain(o.label),
                key=f"sl_opt_{o.id}",
                type="secondary",
                width="stretch",
                on_click=session.choose,
                args=([o.id],),
            )


def _selection_key(spec) -> str:
    return f"q:{spec.id}"


def _toggle(option: str, key: str) -> None:
    session = current_session()
    chosen = [c for c in session.selections.get(key, "").split(",") if c]
    chosen = [c for c in chosen if c != option] if option in chosen else [*chosen, option]
    session.selections[key] = ",".join(chosen)


def _send_choices(key: str) -> None:
    session = current_session()
    session.choose([c for c in session.selections.pop(key, "").split(",") if c])


def _multiple(session: CustomerSession, r: Renderer, spec) -> None:
    key = _selection_key(spec)
    chosen = set(session.selections.get(key, "").split(","))
    r.html(f'<p class="sl-text muted">{tr("pick_any", session.locale)}</p>')
    with st.container(key="sl_options"):
        for o in spec.options:
            on = o.id in chosen
            st.button(
                ("✓ " if on else "") + r.plain(o.label),
                key=f"sl_opt_{o.id}",
                type="primary" if on else "secondary",
                width="stretch",
                on_click=_toggle,
                args=(o.id, key),
            )
    st.button(
        tr("send", session.locale),
        key="sl_send_choices",
        type="primary",
        width="stretch",
        on_click=_send_choices,
        args=(key,),
    )


def _design(session: CustomerSession, r: Renderer, option, container: str) -> None:
    """One design of a preference test: its screen, small and inert, or its image."""
    if option.screen is not None and option.screen in session.view.screens:
        r.render_screen(session.view.screens[option.screen], container=container)
        r.html(_SMALL.format(key=container) + _INERT.format(key=container))
    elif option.image is not None:
        r.html(f'<div class="sl-pref-img">{r.image_file(option.image, r.t(option.label))}</div>')


def _preference(session: CustomerSession, r: Renderer, spec) -> None:
    for o in spec.options:
        r.html(f'<div class="sl-eyebrow" style="margin-top:.6rem">{r.t(o.label)}</div>')
        _design(session, r, o, f"ask_pref_{o.id}")
        st.button(
            f"{tr('prefer', session.locale)} · {r.plain(o.label)}",
            key=f"sl_pref_{o.id}",
            type="primary",
            width="stretch",
            on_click=session.choose,
            args=([o.id],),
        )


def _send_recall() -> None:
    current_session().recall(st.session_state.pop("sl_recall", "") or "")


def _show_now(key: str) -> None:
    current_session().selections[key] = f"shown:{time.monotonic()}"


@st.fragment(run_every=0.5)
def _hide_when_due(due: float) -> None:
    """Rerun the page once the screen has been shown long enough (the server's clock)."""
    if time.monotonic() >= due:
        st.rerun()


def _five_second(session: CustomerSession, r: Renderer, spec) -> None:
    loc, n, key = session.locale, spec.shown_seconds, _selection_key(spec)
    state = session.selections.get(key, "")
    if not state.startswith("shown:"):  # first say what comes, then show it when they are ready
        r.html(f'<p class="sl-text">{html.escape(tr("look_seconds", loc).format(n=n))}</p>')
        st.button(
            tr("look_start", loc), key="sl_fs_start", type="primary", width="stretch",
            on_click=_show_now, args=(key,),
        )  # fmt: skip
        return
    due = float(state.removeprefix("shown:")) + n
    screen = session.view.screens.get(spec.screen)
    if time.monotonic() < due and screen is not None:  # shown, inert, until it is due
        r.render_screen(screen, container="ask_fs_show")
        r.html(_INERT.format(key="ask_fs_show") + _FRAME.format(key="ask_fs_show"))
        _hide_when_due(due)
        return
    r.html(f'<div class="sl-question-text">{r.t(spec.text)}</div>')
    st.text_area(
        r.plain(spec.text),
        key="sl_recall",
        placeholder=tr("recall_ph", loc),
        label_visibility="collapsed",
        height=120,
    )
    st.button(
        tr("send", loc), key="sl_send_recall", type="primary", width="stretch",
        on_click=_send_recall,
    )  # fmt: skip


def _first_click(session: CustomerSession, r: Renderer, spec) -> None:
    r.html(f'<p class="sl-text muted">{tr("first_click_hint", session.locale)}</p>')
    screen = session.view.screens.get(spec.screen)
    if screen is not None:
        r.render_screen(screen, container="ask_fc", only_inside=True)
        r.html(_INERT.format(key="ask_fc") + _FRAME.format(key="ask_fc"))


__all__ = ["DRAWN_HERE", "ask_custom"]
