"""The prototype runtime: one Streamlit app that lets pilot customers tap through any spec.

``storelab prototype run ID`` starts it (``prototypes.runtime.launch.run_prototype``) with
``STORELAB_LAB`` set. URL parameters, read once per visit into ``st.session_state``:
``prototype``, ``store`` (S01), ``variant`` (auto), ``device`` (kiosk|phone; default from the
prototype's touchpoint), ``version`` (current), ``lang`` (de|en; default the lab's locale),
``preview`` (1 = team preview with a side panel). Pages: ``play`` (default) and ``gallery``;
navigation and all Streamlit chrome are hidden.

The customer's flow: welcome + consent → per task a mission card → the prototype's screens (a
task bar shows the mission and "I give up"; reaching a goal shows "Done – continue") → the
questions after that task → the questionnaires at the end → a thank-you screen. Kiosks reset
after 90 s without a tap (``session_end`` reason ``idle_timeout``). ``play_page`` and
``gallery_page`` are plain functions, so another app (the analyst dashboard) can mount them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from errors import InvalidInputError, StorelabError

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `streamlit run` puts only this folder on the path
    sys.path.insert(0, str(REPO_ROOT))

import html  # noqa: E402
from typing import Any  # noqa: E402

import streamlit as st  # noqa: E402

from prototypes.runtime import theme  # noqa: E402
from prototypes.runtime.render import Renderer  # noqa: E402
from prototypes.runtime.session import CustomerSession, resolve_run, shared_sink  # noqa: E402
from prototypes.runtime.taps import tap_capture  # noqa: E402

PARAMS = "sl_params"
SESSION = "sl_session"
STANDALONE = "sl_standalone"
DEFAULTS: dict[str, Any] = {
    "prototype": None,
    "store": "S01",
    "variant": "auto",
    "device": None,
    "version": None,
    "lang": None,
    "preview": False,
}
T: dict[str, dict[str, str]] = {
    "welcome_eyebrow": {"de": "Neu im Test", "en": "Now in testing"},
    "welcome_fallback": {
        "de": "Helfen Sie uns, eine neue Idee für Ihren Einkauf auszuprobieren.",
        "en": "Help us try out a new idea for your shopping.",
    },
    "fact_time": {"de": "Dauert etwa 2 Minuten", "en": "Takes about 2 minutes"},
    "fact_anon": {
        "de": "Anonym – keine personenbezogenen Daten",
        "en": "Anonymous – no personal data",
    },
    "fact_tap": {
        "de": "Einfach tippen – es gibt kein Richtig oder Falsch",
        "en": "Just tap – there is no right or wrong",
    },
    "consent_small": {
        "de": "Wir speichern nur, was Sie antippen und antworten – ohne Namen, ohne Fotos, "
        "ohne Standort. Sie können jederzeit aufhören.",
        "en": "We only record what you tap and answer – no names, no photos, no location. "
        "You can stop at any time.",
    },
    "yes": {"de": "Los geht's", "en": "Let's start"},
    "no": {"de": "Nein, danke", "en": "No, thanks"},
    "declined_title": {"de": "Kein Problem!", "en": "No problem!"},
    "declined_text": {
        "de": "Es wird nichts aufgezeichnet. Sie können sich trotzdem umsehen.",
        "en": "Nothing is recorded. You are welcome to look around anyway.",
    },
    "look_around": {"de": "Trotzdem umsehen", "en": "Look around anyway"},
    "mission": {"de": "Ihre Aufgabe", "en": "Your task"},
    "of": {"de": "von", "en": "of"},
    "mission_hint": {
        "de": "Tippen Sie sich durch, als wären Sie gerade im Laden. Wenn Sie nicht "
        "weiterkommen, tippen Sie unten auf „Aufgeben“ – auch das hilft uns.",
        "en": "Tap through as if you were in the store right now. If you get stuck, tap "
        "“Give up” at the bottom – that helps us too.",
    },
    "start_task": {"de": "Aufgabe starten", "en": "Start task"},
    "done_chip": {"de": "Aufgabe geschafft", "en": "Task done"},
    "give_up": {"de": "Aufgeben", "en": "Give up"},
    "continue": {"de": "Weiter", "en": "Continue"},
    "great": {"de": "Geschafft!", "en": "Done!"},
    "great_text": {"de": "Sie haben es gefunden.", "en": "You found it."},
    "explore": {"de": "Schauen Sie sich in Ruhe um", "en": "Take a look around"},
    "finish": {"de": "Fertig", "en": "Done"},
    "exit": {"de": "Beenden", "en": "Exit"},
    "question": {"de": "Frage", "en": "Question"},
    "skip": {"de": "Überspringen", "en": "Skip"},
    "send": {"de": "Absenden", "en": "Send"},
    "comment_ph": {"de": "Ihre Anmerkung …", "en": "Your comment …"},
    "thanks_title": {"de": "Vielen Dank!", "en": "Thank you!"},
    "thanks_text": {
        "de": "Ihre Antworten helfen uns, das Einkaufen bei uns besser zu machen.",
        "en": "Your answers help us make shopping with us better.",
    },
    "restart": {"de": "Neu starten", "en": "Start again"},
    "restart_kiosk": {
        "de": "Die Seite startet gleich für die nächste Person neu.",
        "en": "This screen restarts for the next person in a moment.",
    },
    "no_prototype": {"de": "Kein Prototyp gewählt", "en": "No prototype selected"},
    "unknown_store": {"de": "Unbekannte Filiale", "en": "Unknown store"},
}


def tr(key: str, locale: str) -> str:
    texts = T[key]
    return texts.get(locale, texts["en"])


# --- lab, prototype, stores (cached) ----------------------------------------------------------


def current_lab():
    """The lab from ``STORELAB_LAB`` (or the folder walk), raising ``StorelabError``."""
    from lab import find_lab

    return find_lab()


@st.cache_resource(show_spinner=False, max_entries=32)
def _load(path: str, mtime_ns: int):
    from prototypes.spec import load_prototype

    return load_prototype(path)


def load_lab_prototype(lab, prototype_id: str):
    """The prototype from the lab, re-read when its file changes (team preview while editing)."""

    path = lab.prototypes_dir / prototype_id / "prototype.yaml"
    if not path.is_file():
        known = ", ".join(list_prototype_ids(lab)) or "none yet"
        raise InvalidInputError(
            f"There is no prototype {prototype_id!r} in this lab (known: {known})."
        )
    return _load(str(path), path.stat().st_mtime_ns)


def list_prototype_ids(lab) -> list[str]:
    if not lab.prototypes_dir.is_dir():
        return []
    return sorted(p.parent.name for p in lab.prototypes_dir.glob("*/prototype.yaml"))


@st.cache_data(show_spinner=False, ttl=60)
def _stores(path: str, mtime_ns: int) -> dict[str, dict[str, str]]:
    from lab import read_stores

    return {
        s.store_id: {"store_id": s.store_id, "name": s.name, "city": s.city}
        for s in read_stores(path)
    }


def lab_stores(lab) -> dict[str, dict[str, str]]:
    """store_id -> {store_id, name, city}; empty when the lab has no readable stores.csv."""

    path = lab.stores_csv
    if not path.is_file():
        return {}
    try:
        return _stores(str(path), path.stat().st_mtime_ns)
    except StorelabError:
        return {}


# --- parameters and the session ---------------------------------------------------------------


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


def device_for(params: dict[str, Any], proto) -> str:
    if params.get("device"):
        return params["device"]
    return "kiosk" if proto is not None and proto.touchpoint == "kiosk" else "phone"


def new_session(lab, proto, params: dict[str, Any], locale: str | None = None) -> CustomerSession:
    """A fresh anonymous customer session (new id, variant assigned for it)."""
    import uuid

    sid = uuid.uuid4()
    device = device_for(params, proto)
    ctx = resolve_run(
        lab,
        proto,
        store_id=params["store"],
        device=device,
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


def _session() -> CustomerSession:
    return st.session_state[SESSION]


def reset_for_next_customer() -> None:
    """Idle timeout or 'start again': end the session (once) and show the welcome screen."""
    session = st.session_state.get(SESSION)
    ctx = st.session_state.get("sl_ctx")
    if session is None or ctx is None:
        return
    if session.started and not session.ended:
        session.end("idle_timeout")
    lab, proto, params = ctx
    session.flush(shared_sink(str(lab.spool_dir)).emit)
    new_session(lab, proto, params)


def on_idle() -> None:
    session = st.session_state.get(SESSION)
    if session is not None and session.phase != "welcome":
        reset_for_next_customer()


# --- chrome -----------------------------------------------------------------------------------


def _set_locale(locale: str) -> None:
    _session().locale = locale


def top_bar(session: CustomerSession, title: str, store: dict[str, str]) -> None:
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
    if total <= 1:
        return ""
    bars = "".join(f'<i class="{"on" if i < done else ""}"></i>' for i in range(total))
    return f'<div class="sl-steps">{bars}</div>'


# --- phases -----------------------------------------------------------------------------------


def welcome(session: CustomerSession, r: Renderer, store: dict[str, str]) -> None:
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


def _hero_icon(view) -> str:
    for screen in view.screens.values():
        for el in screen.elements:
            ph = getattr(el, "placeholder", None) or getattr(
                getattr(el, "product", None), "image", None
            )
            if ph is not None:
                return html.escape(ph.icon)
    return "🛍️"


def declined(session: CustomerSession, r: Renderer) -> None:
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
    loc = session.locale
    q = session.question
    if q is None:
        return
    n, total = session.question_index + 1, len(session.questions)
    done = ""
    if session.question_index == 0 and session.last_outcome == "success" and q.after_task:
        done = f'<span class="sl-done">✓ {tr("done_chip", loc)}</span>'
    count = f" {n} {tr('of', loc)} {total}" if total > 1 else ""
    r.html(
        f'<div class="sl-question">{done}{steps(n - 1, total)}'
        f'<div class="sl-eyebrow">{tr("question", loc)}{count}</div>'
        f'<div class="sl-question-text">{html.escape(r.raw(q.text))}</div></div>'
    )
    if q.scale is None:
        st.text_area(
            r.raw(q.text),
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
                f'<div class="sl-anchors"><span>{low} = {html.escape(r.raw(q.anchors[0]))}</span>'
                f'<span style="text-align:right">{high} = '
                f"{html.escape(r.raw(q.anchors[1]))}</span></div>"
            )
    st.button(
        tr("skip", loc), key="sl_skip", type="tertiary", width="stretch", on_click=session.answer
    )


def _send_comment() -> None:
    text = st.session_state.pop("sl_comment", "") or ""
    _session().answer(text=text)


def thanks(session: CustomerSession, r: Renderer) -> None:
    loc = session.locale
    r.html(
        '<div class="sl-thanks"><div class="sl-thanks-icon">💚</div>'
        f'<div class="sl-thanks-title">{tr("thanks_title", loc)}</div>'
        f'<div class="sl-thanks-text">{tr("thanks_text", loc)}</div></div>'
    )
    st.button(
        tr("restart", loc), key="sl_restart", type="secondary", width="stretch", on_click=_restart
    )
    if session.ctx.device == "kiosk":
        r.html(f'<p class="sl-text muted" style="text-align:center">{tr("restart_kiosk", loc)}</p>')


def _restart() -> None:
    ctx = st.session_state.get("sl_ctx")
    if ctx is not None:
        new_session(*ctx)


# --- preview panel ----------------------------------------------------------------------------


def preview_panel(session: CustomerSession, proto, params: dict[str, Any]) -> None:
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
            f"phase <code>{session.phase}</code> · screen <code>"
            f"{html.escape(session.screen or '–')}</code><br>"
            "<small>Events carry <code>props.preview = true</code>.</small></div>",
            unsafe_allow_html=True,
        )
        screen = view.screens.get(session.screen or "")
        if screen is not None:
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
            st.markdown(
                f'<div class="sl-pv-box"><b>Elements</b>{ids}</div>', unsafe_allow_html=True
            )
        task = session.task if session.task_active else None
        for t in view.tasks:
            active = task is not None and t.id == task.id
            path = " → ".join(
                f"<b>{html.escape(s)}</b>" if s in session.path and active else html.escape(s)
                for s in t.expected_path
            )
            st.markdown(
                f'<div class="sl-pv-box">{"▶ " if active else ""}<b>Task '
                f"{html.escape(t.id)}</b><br>"
                f"path: {path}<br>goal: <code>{html.escape(', '.join(t.goal_screens))}</code>"
                "</div>",
                unsafe_allow_html=True,
            )
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
        st.button("↺ Restart", key="sl_pv_restart", width="stretch", on_click=_restart)


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
    ctx = st.session_state.get("sl_ctx")
    if ctx is not None:
        new_session(ctx[0], ctx[1], params)


def _pv_jump() -> None:
    target = st.session_state.get("sl_pv_jump")
    session = _session()
    if target:
        if session.phase not in ("screen", "browse"):
            session.phase = "screen" if session.consent else "browse"
        session.show(target)
    st.session_state["sl_pv_jump"] = None


# --- pages ------------------------------------------------------------------------------------


def _problem(title: str, text: str) -> None:
    st.markdown(theme.page_css("phone"), unsafe_allow_html=True)
    st.markdown(
        f'<div class="sl-thanks"><div class="sl-thanks-icon" style="background:#fdecec">⚠️</div>'
        f'<div class="sl-thanks-title">{html.escape(title)}</div>'
        f'<div class="sl-thanks-text">{html.escape(text)}</div></div>',
        unsafe_allow_html=True,
    )


def play_page() -> None:
    """The prototype as a customer sees it (parameters from the URL / session state)."""

    params = read_params()
    try:
        lab = current_lab()
    except StorelabError as exc:
        _problem("storelab", str(exc))
        return
    if not params["prototype"]:
        ids = list_prototype_ids(lab)
        if len(ids) == 1:
            params["prototype"] = ids[0]
        else:
            from prototypes.runtime.gallery import gallery_page

            gallery_page()
            return
    try:
        proto = load_lab_prototype(lab, params["prototype"])
    except StorelabError as exc:
        _problem(tr("no_prototype", "en"), str(exc))
        return
    stores = lab_stores(lab)
    if stores and params["store"] not in stores:
        _problem(
            tr("unknown_store", "de") + " / " + tr("unknown_store", "en"),
            f"{params['store']}: " + ", ".join(stores),
        )
        return
    session: CustomerSession | None = st.session_state.get(SESSION)
    if session is None or session.ctx.prototype_id != proto.id:
        try:
            session = new_session(lab, proto, params)
        except StorelabError as exc:
            _problem(proto.id, str(exc))
            return
    st.session_state["sl_ctx"] = (lab, proto, params)
    sink = shared_sink(str(lab.spool_dir))
    session.check_time_limit()
    session.flush(sink.emit)

    device = session.ctx.device
    st.markdown(theme.page_css(device, preview=session.ctx.preview), unsafe_allow_html=True)
    tap_capture(
        on_taps=lambda taps: _session().browser_taps(taps),
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
        preview_panel(session, proto, params)
    title = r.raw(session.view.title)
    if session.phase in ("screen", "browse") and session.screen in session.view.screens:
        screen_title = session.view.screens[session.screen].title
        if screen_title:
            title = r.raw(screen_title)
    top_bar(session, title, store)
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
    session.flush(sink.emit)


def gallery_page() -> None:
    """The lab's prototypes with links to try them (see ``prototypes.runtime.gallery``)."""
    from prototypes.runtime.gallery import gallery_page as page

    page()


def main() -> None:
    """Entry of ``streamlit run prototypes/runtime/app.py``."""
    st.session_state[STANDALONE] = True
    params = read_params()
    device = params.get("device") or "phone"
    st.set_page_config(
        page_title="storelab",
        page_icon="🛍️",
        layout="wide",
        initial_sidebar_state="expanded" if params.get("preview") else "collapsed",
    )
    del device
    pages = [
        st.Page(play_page, title="Play", url_path="play", default=True),
        st.Page(gallery_page, title="Gallery", url_path="gallery"),
    ]
    st.navigation(pages, position="hidden").run()


if __name__ == "__main__":
    main()
