"""The gallery: every prototype in the lab with its facts and "try it" links per store.

``gallery_page()`` is a plain Streamlit page function (the analyst dashboard mounts it too). It
is the team's: without the lab's token it asks for it and shows nothing else. Links go to the
runtime's ``play`` page: relative (``play?prototype=…``) when the runtime serves the gallery
itself, or below ``$STORELAB_PLAY_URL`` when another app mounts it. Phone and kiosk links are
customer links; the preview link carries the token (it is the team's, and the team has it).
"""

from __future__ import annotations

import html
import os
from urllib.parse import urlencode

import streamlit as st

from errors import StorelabError
from experiments.assignment import experiment_for
from lab import Lab
from prototypes.library import list_prototype_ids
from prototypes.runtime import theme
from prototypes.runtime.access import authorised, given_token, sign_in
from prototypes.runtime.context import STANDALONE, cached_prototype, current_lab, store_rows
from prototypes.runtime.render import first_placeholder

PLAY_URL_ENV = "STORELAB_PLAY_URL"


def play_url(
    prototype_id: str,
    store: str,
    device: str,
    *,
    preview: bool = False,
    token: str | None = None,
    base: str | None = None,
) -> str:
    """The link to play a prototype: ``<base>play?prototype=…&store=…&device=…&team=1``.

    ``team=1``: whoever opens the gallery is the team, and team sessions never count in an
    analysis (customers reach the play page by QR code or kiosk link, without it). A preview
    link works only with the lab's ``token``.
    """
    root = base if base is not None else os.environ.get(PLAY_URL_ENV, "")
    if root and not root.endswith("/"):
        root += "/"
    query = {"prototype": prototype_id, "store": store, "device": device, "team": "1"}
    if preview:
        query["preview"] = "1"
        if token:
            query["token"] = token
    return f"{root}play?{urlencode(query)}"


def _summary(lab: Lab, prototype_id: str) -> dict:
    try:
        proto = cached_prototype(lab, prototype_id)
    except StorelabError as exc:
        return {"id": prototype_id, "error": str(exc).splitlines()[0]}
    view = proto.resolve()
    picture = first_placeholder(view)
    icon, colour = (picture.icon, picture.colour) if picture is not None else ("🛍️", "#e8f0fa")
    exp = experiment_for(lab, proto.id)
    return {
        "id": proto.id,
        "title": dict(proto.title),
        "description": dict(proto.description) if proto.description else None,
        "phase": proto.phase,
        "touchpoint": proto.touchpoint,
        "versions": proto.version_numbers,
        "variants": proto.variant_names(),
        "screens": len(view.screens),
        "tasks": len(view.tasks),
        "icon": icon,
        "colour": colour,
        "experiment": f"{exp.id} ({exp.unit})" if exp else None,
    }


def gallery_page() -> None:
    """The lab's prototypes as cards; pick a pilot store, then open phone, kiosk or preview."""
    standalone = bool(st.session_state.get(STANDALONE))
    st.markdown(theme.gallery_css(standalone), unsafe_allow_html=True)
    try:
        lab = current_lab()
    except StorelabError as exc:
        st.error(str(exc))
        return
    if not authorised(lab):
        sign_in(lab, "storelab · prototypes", GALLERY_SIGN_IN)
        return
    locale = lab.config.lab.locale
    st.markdown(
        '<div class="sl-scope"><div class="sl-eyebrow">storelab · prototypes</div>'
        f'<h1 class="sl-h1">{html.escape(lab.config.lab.name)}</h1>'
        '<p class="sl-text">Every prototype in this lab. Pick a pilot store and open it the way '
        "customers will: on a phone (QR code) or on the kiosk, or as a team preview.</p></div>",
        unsafe_allow_html=True,
    )
    ids = list_prototype_ids(lab)
    if not ids:
        st.info(
            "No prototypes yet. Create one with `storelab prototype new ID --template "
            "scan-and-discover`."
        )
        return
    stores = store_rows(lab)
    store_ids = list(stores) or ["S01"]
    store = st.selectbox(
        "Pilot store",
        store_ids,
        key="sl_gallery_store",
        format_func=lambda s: f"{s} · {stores[s]['name']}" if s in stores else s,
    )
    cols = st.columns(3, gap="medium")
    for i, pid in enumerate(ids):
        info = _summary(lab, pid)
        with cols[i % 3]:
            st.markdown(_card(info, store, locale, given_token()), unsafe_allow_html=True)


GALLERY_SIGN_IN = (
    "The gallery shows the lab's prototypes to the team. Enter the lab's access token "
    "(`[dashboard] token` in `storelab.toml`), or open the gallery link that `storelab "
    "prototype run` printed. Customers need no token: they open a prototype's own link."
)


def _card(info: dict, store: str, locale: str, token: str) -> str:
    pid = html.escape(info["id"])
    if "error" in info:
        return (
            f'<div class="sl-scope sl-gal"><div class="sl-gal-title">{pid}</div>'
            f'<div class="sl-gal-desc">⚠️ {html.escape(info["error"])}</div></div>'
        )

    def loc(text: dict | None) -> str:
        if not text:
            return ""
        return html.escape(text.get(locale) or next(iter(text.values())))

    tags = [
        f'<span class="sl-tag phase">{html.escape(info["phase"])}</span>',
        f'<span class="sl-tag">{html.escape(info["touchpoint"])}</span>',
        f'<span class="sl-tag">v{", v".join(map(str, info["versions"]))}</span>',
        *(f'<span class="sl-tag">{html.escape(v)}</span>' for v in info["variants"]),
    ]
    if info["experiment"]:
        tags.append(f'<span class="sl-tag">🧪 {html.escape(info["experiment"])}</span>')
    links = "".join(
        f'<a href="{html.escape(play_url(info["id"], store, dev, preview=pv, token=token))}" '
        f'target="_blank">{label}</a>'
        for label, dev, pv in (
            ("📱 Phone", "phone", False),
            ("🖥️ Kiosk", "kiosk", False),
            (
                "👁 Preview",
                info["touchpoint"] if info["touchpoint"] in ("kiosk", "phone") else "phone",
                True,
            ),
        )
    )
    return (
        f'<div class="sl-scope sl-gal"><div class="sl-gal-head">'
        f'<div class="sl-tile" style="background:{html.escape(info["colour"])}"><span '
        f'class="sl-emoji">{html.escape(info["icon"])}</span></div>'
        f'<div><div class="sl-gal-title">{loc(info["title"])}</div><div class="sl-gal-id">{pid} · '
        f"{info['screens']} screens · {info['tasks']} tasks</div></div></div>"
        f'<div class="sl-gal-desc">{loc(info["description"])}</div>'
        f'<div class="sl-tags">{"".join(tags)}</div>'
        f'<div class="sl-links"><div class="sl-linkrow"><b>Try it</b>'
        f"{links}</div></div></div>"
    )


__all__ = ["gallery_page", "play_url"]
