"""Drawing a journey that moves between devices: the code a device hands over, the keypad.

``HandoverElements`` is a part of ``render.Renderer`` (its ``_el_handover`` and
``_el_code_entry``): the ``handover`` element asks ``prototypes.handover.issue_code`` for a
code once per session and element, and shows it in big digits with a QR code of the receiving
device's link (``?journey=CODE``) — the code carries the session's experiment arm; the
``code_entry`` element is a big keypad whose "OK" claims the code and continues the journey
here, in the journey's arm (``CustomerSession.take_arm``, ``receive``). A code that does not
work says why in the customer's language (``prototypes.handover.MESSAGES``), never more; after
``MAX_ATTEMPTS`` wrong codes the keypad is locked for the session.
"""

from __future__ import annotations

import html
import time
from typing import Any

import streamlit as st

from errors import HandoverCodeError
from prototypes.handover import MAX_ATTEMPTS, MESSAGES, claim_code, issue_code
from prototypes.runtime.handoff import ENTRY_DEVICES
from prototypes.runtime.launch import prototype_url
from prototypes.runtime.session import CustomerSession
from prototypes.runtime.visit import CONTEXT

DEVICE_OF = {spec: device for device, spec in ENTRY_DEVICES.items()}
"""The spec's device name (``handover.to``) -> the ``device=`` of the receiving link."""
TEXT = {
    "code": {"de": "Ihr Code", "en": "Your code"},
    "hint": {
        "de": "Am {device} eingeben oder den QR-Code scannen. Gültig 10 Minuten.",
        "en": "Enter it at the {device} or scan the QR code. Valid for 10 minutes.",
    },
    "kiosk": {"de": "Kiosk", "en": "kiosk"},
    "phone": {"de": "Handy", "en": "phone"},
    "associate-tablet": {"de": "Tablet der Beratung", "en": "associate's tablet"},
    "enter": {"de": "Code vom Handy eingeben", "en": "Enter the code from your phone"},
    "ok": {"de": "Weiter", "en": "Continue"},
    "offline": {
        "de": "Die Übergabe geht gerade nicht. Bitte fragen Sie im Laden.",
        "en": "Handing over does not work right now. Please ask in the store.",
    },
    "handed": {"de": "Weiter am anderen Gerät", "en": "Continue on the other device"},
}


def _tx(key: str, locale: str) -> str:
    return TEXT[key]["en" if locale == "en" else "de"]


def receiving_link(session: CustomerSession, to: str, code: str) -> str:
    """The link the QR code holds: this prototype and store on the device ``to``, the code."""
    base = ""
    try:
        url = st.context.url or ""
        base = url.split("?")[0].rsplit("/", 1)[0] if "://" in url else ""
    except Exception:  # noqa: BLE001 - outside a browser (AppTest) there is no URL
        base = ""
    link = prototype_url(base or "", session.ctx.prototype_id, session.ctx.store_id,
                         DEVICE_OF.get(to, to))  # fmt: skip
    return f"{link}&journey={code}&lang={session.locale}"


def qr_svg(text: str) -> str:
    """An inline SVG QR code of ``text`` (segno, drawn here, nothing fetched)."""
    import segno

    return segno.make(text, error="m").svg_inline(border=2, dark="#101828", omitsize=True)


class HandoverElements:
    """The handover elements of ``render.Renderer`` (which provides ``session``, ``html``,
    ``t``, ``key``, ``locale``)."""

    session: CustomerSession
    locale: str

    def _el_handover(self, el: Any) -> None:
        session = self.session
        handoff = session.issued.get(el.id)
        if handoff is not None and handoff.expires_at <= time.time():
            handoff = None  # expired while the phone waited: show a fresh one
        if handoff is None:
            lab = st.session_state[CONTEXT][0] if CONTEXT in st.session_state else None
            try:
                task = session.task.id if session.task is not None else None
                if session.handed_over and session.task_index > 0:
                    task = session.tasks[session.task_index - 1].id
                handoff = issue_code(
                    lab,
                    journey=session.journey_id,
                    prototype_id=session.ctx.prototype_id,
                    store_id=session.ctx.store_id,
                    to=el.to,
                    target=el.target,
                    task=task,
                    persona=session.profile.persona,
                    context=dict(session.profile.context),
                    locale=session.locale,
                    experiment_id=session.ctx.experiment_id,
                    variant=session.ctx.variant if session.ctx.experiment_id else None,
                    version=session.ctx.version,
                )
            except (OSError, HandoverCodeError, AttributeError):
                self.html(f'<div class="sl-text muted">{_tx("offline", self.locale)}</div>')
                return
            session.issued[el.id] = handoff
        code = handoff.code
        device = _tx(el.to, self.locale)
        text = self.t(el.text) if el.text else html.escape(_tx("handed", self.locale))
        hint = html.escape(_tx("hint", self.locale).format(device=device))
        self.html(
            f'<div class="sl-card" data-sl-handover="{html.escape(el.id)}" '
            'style="text-align:center;padding:1.2rem">'
            f'<div class="sl-text">{text}</div>'
            f'<div class="sl-eyebrow">{_tx("code", self.locale)}</div>'
            f'<div data-sl-code="{code}" style="font-size:2.6rem;font-weight:800;'
            f'letter-spacing:.3rem;font-variant-numeric:tabular-nums">{code[:3]} {code[3:]}</div>'
            f'<div style="width:180px;margin:.6rem auto">'
            f"{qr_svg(receiving_link(session, el.to, code))}</div>"
            f'<div class="sl-text muted">{hint}</div></div>'
        )

    def _el_code_entry(self, el: Any) -> None:
        session, loc = self.session, self.locale
        typed = session.selections.get(el.id, "")
        label = self.t(el.label) if el.label else html.escape(_tx("enter", loc))
        shown = " ".join((typed + "······")[:6])
        error = ""
        if session.code_error:
            lang = "en" if loc == "en" else "de"
            error = (
                f'<div data-sl-code-error="{session.code_error}" class="sl-text strong" '
                f'style="color:#b42318;text-align:center">'
                f"{html.escape(MESSAGES[session.code_error][lang])}</div>"
            )
        self.html(
            f'<div class="sl-text strong" style="text-align:center">{label}</div>'
            f'<div data-sl-typed="{typed}" style="text-align:center;font-size:2.4rem;'
            f'font-weight:800;letter-spacing:.2rem">{shown}</div>{error}'
        )
        if session.code_error == "locked":
            return
        self.html(  # big keys: a kiosk is tapped standing, at arm's length
            '<style>[class*="st-key-el_kp"] button {min-height: 4.6rem;} '
            '[class*="st-key-el_kp"] button p {font-size: 1.7rem; font-weight: 700;}</style>'
        )
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        for row in range(4):
            cols = st.columns(3)
            for col, k in zip(cols, keys[row * 3 : row * 3 + 3], strict=True):
                kind = {"⌫": "kpdel", "OK": "kpok"}.get(k, f"kp{k}")
                label_k = _tx("ok", loc) if k == "OK" else k
                col.button(
                    label_k,
                    key=self.key(kind, el.id),
                    type="primary" if k == "OK" else "secondary",
                    width="stretch",
                    on_click=_press,
                    args=(session, el.id, k),
                )


def _press(session: CustomerSession, element_id: str, key: str) -> None:
    """A keypad key: a digit, delete, or OK (claim the code; a wrong one says why)."""
    session.last_activity = time.monotonic()
    typed = session.selections.get(element_id, "")
    if key == "⌫":
        session.selections[element_id] = typed[:-1]
    elif key != "OK":
        session.selections[element_id] = (typed + key)[:6]
        session.code_error = None
    else:
        _claim(session, element_id, typed)


def _claim(session: CustomerSession, element_id: str, typed: str) -> None:
    if session.code_attempts >= MAX_ATTEMPTS:
        session.code_error = "locked"
        return
    lab = st.session_state[CONTEXT][0]
    try:
        handoff = claim_code(lab, typed, prototype_id=session.ctx.prototype_id,
                             store_id=session.ctx.store_id, locale=session.locale)  # fmt: skip
    except HandoverCodeError as exc:
        session.code_attempts += exc.reason != "format"
        session.code_error = "locked" if session.code_attempts >= MAX_ATTEMPTS else exc.reason
        session.selections[element_id] = ""
        session.tap(element_id, code="rejected", reason=exc.reason)  # no "handover" key here
        return
    session.code_error = None
    session.selections.pop(element_id, None)
    session.take_arm(lab, st.session_state[CONTEXT][1], handoff)  # the journey's arm first
    session.receive(handoff, element_id=element_id)


__all__ = ["HandoverElements", "qr_svg", "receiving_link"]
