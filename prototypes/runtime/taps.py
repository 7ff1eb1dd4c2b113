"""Tap, misclick and idle capture in the browser: a JS-only ``st.components.v2`` component.

One document-level ``pointerdown`` listener (installed once per page, guarded by a flag on
``window``) records every tap on a prototype screen: its position (page frame, below),
whether it hit something tappable, the widget key of the element it hit (Streamlit puts
``st-key-<key>`` on keyed elements) and the screen id the page showed. Taps are buffered in JS
with a sequence number and the whole unacknowledged buffer is sent as one JSON list, so two
taps between reruns cannot collapse into one; Python acknowledges the highest sequence it has
seen through ``data.ack`` and the buffer drops those.

The same component runs the idle timer: when ``data.idle_ms`` > 0 and nothing was tapped or
typed for that long, it sends an ``idle`` trigger once (``visit.on_idle``: a running task ends
with ``task_abandon``, the session with ``idle_timeout``, and the welcome screen comes back for
the next customer). ``idle_ms`` comes from ``CustomerSession.idle_timeout_s``.

Taps on the runtime's own chrome (keys starting ``sl_``: language, task bar, questionnaire)
are not sent, nor, where the screen's marker says ``data-sl-inside`` (a first-click test),
taps outside the screen's container; hits become x/y for the element's ``tap`` event, misses
become ``misclick`` events (``CustomerSession.browser_taps``). Without a browser (``AppTest``)
nothing is sent and taps are still recorded by the buttons' callbacks, only without x/y.

The page frame (``prototypes.snapshots``): x is a share of the viewport's width; y is the tap's
distance from the top of the page (scroll offset included) as a share of the content's height,
so a tap after scrolling a long screen lands on its element, and the same element has the same
y on phones of different heights. A tap below the content (the empty rest of a tall screen)
counts as y = 1. The snapshots (``runtime.snapshot``) shoot the whole page in the same frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from prototypes.snapshots import PAGE_FRAME_JS

COMPONENT_NAME = "storelab_tap_capture"
STATE_KEY = "sl_taps"
ACK_KEY = "sl_tap_ack"
HIT_SELECTOR = (
    "button, a, input, textarea, select, summary, label, [role=button], [role=option], "
    "[role=combobox], [role=checkbox], [role=listbox], [role=slider], [data-baseweb=select]"
)

JS = (
    PAGE_FRAME_JS
    + """
export default function (component) {
  const { setTriggerValue, data } = component;
  const w = window;
  const S = (w.__storelabTaps = w.__storelabTaps || { buf: [], seq: 0, last: Date.now() });
  const d = data || {};
  S.send = setTriggerValue;
  S.buf = S.buf.filter((t) => t.seq > (d.ack || 0));
  S.idleMs = d.idle_ms || 0;
  if (d.epoch !== S.epoch) { S.epoch = d.epoch; S.last = Date.now(); S.idleSent = false; }
  if (S.installed) return;
  S.installed = true;
  const poke = () => { S.last = Date.now(); S.idleSent = false; };
  document.addEventListener('pointerdown', (ev) => {
    poke();
    const t = ev.target instanceof Element ? ev.target : null;
    if (!t) return;
    if (t.closest('[class*="st-key-sl_"]') || t.closest('[data-testid="stSidebar"]')) return;
    const screen = document.querySelector('[data-sl-screen]');
    if (!screen) return;
    if (screen.dataset.slInside) {  // a first-click test: only taps on the screen shown count
      const host = screen.closest('[class*="st-key-"]');
      if (!host || !host.contains(t)) return;
    }
    let key = null;
    const keyed = t.closest('[class*="st-key-el_"]');
    if (keyed) {
      for (const c of keyed.classList) { if (c.startsWith('st-key-el_')) { key = c.slice(7); } }
    }
    const hit = t.closest(HIT_SELECTOR) !== null;
    const pg = slPage(w);
    S.seq += 1;
    S.buf.push({
      seq: S.seq,
      x: Math.round((ev.clientX / w.innerWidth) * 10000) / 10000,
      y: Math.min(1, Math.round(((ev.clientY + pg.top) / pg.height) * 10000) / 10000),
      hit, key, screen: screen.dataset.slScreen,
    });
    S.send('tap', JSON.stringify(S.buf));
  }, true);
  document.addEventListener('keydown', poke, true);
  setInterval(() => {
    if (S.idleMs > 0 && !S.idleSent && Date.now() - S.last >= S.idleMs) {
      S.idleSent = true;
      S.send('idle', String(Date.now()));
    }
  }, 1000);
}
"""
)

_COMPONENT: Any = None


def _component() -> Any:
    global _COMPONENT
    if _COMPONENT is None:
        js = JS.replace("HIT_SELECTOR", json.dumps(HIT_SELECTOR))
        _COMPONENT = st.components.v2.component(COMPONENT_NAME, js=js)
    return _COMPONENT


def parse_taps(raw: Any, ack: int) -> tuple[list[dict[str, Any]], int]:
    """The taps in a trigger payload that are newer than ``ack``, and the new ack."""
    if not raw:
        return [], ack
    try:
        taps = json.loads(raw) if isinstance(raw, str) else list(raw)
    except (TypeError, ValueError):
        return [], ack
    fresh = [t for t in taps if isinstance(t, dict) and int(t.get("seq", 0)) > ack]
    new_ack = max([ack, *(int(t.get("seq", 0)) for t in fresh)])
    return fresh, new_ack


def tap_capture(
    *,
    on_taps: Callable[[list[dict[str, Any]]], None],
    on_idle: Callable[[], None],
    idle_s: int | None,
    epoch: str,
) -> None:
    """Mount the capture component (invisible). ``on_taps`` gets new taps, ``on_idle`` fires
    after ``idle_s`` seconds without a tap (None: no idle timer); ``epoch`` restarts the timer
    whenever it changes (a new customer, another phase)."""

    def taps_changed() -> None:
        value = st.session_state.get(STATE_KEY) or {}
        raw = value.get("tap") if hasattr(value, "get") else None
        fresh, ack = parse_taps(raw, st.session_state.get(ACK_KEY, 0))
        st.session_state[ACK_KEY] = ack
        if fresh:
            on_taps(fresh)

    def idle_changed() -> None:
        value = st.session_state.get(STATE_KEY) or {}
        if hasattr(value, "get") and value.get("idle"):
            on_idle()

    _component()(
        key=STATE_KEY,
        data={
            "ack": st.session_state.get(ACK_KEY, 0),
            "idle_ms": int(idle_s * 1000) if idle_s else 0,
            "epoch": epoch,
        },
        on_tap_change=taps_changed,
        on_idle_change=idle_changed,
    )


__all__ = ["JS", "parse_taps", "tap_capture"]
