"""Element renderers: every element type of ``prototypes.spec`` drawn as a retail app would.

Static parts (cards, prices, availability, maps, the scan viewfinder, notifications, ratings,
details) are HTML built here from escaped spec text; pictures are drawn locally (placeholder
tiles, SVG maps), never fetched. Everything that navigates or can be chosen is a keyed Streamlit
button, so ``AppTest`` can click it and the browser tap capture (``taps.py``) can name it: keys
look like ``el_<kind>__<screen>__<element>`` and ``CustomerSession.key_elements`` maps them
back to element ids. Whole cards are tappable through an invisible button laid over them
(``el_wrap__`` / ``el_hit__`` keys, see ``style.css``); hotspots are invisible buttons placed on
the screen by their ``area``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from prototypes.runtime.custom import render_custom_screen
from prototypes.runtime.render_handover import HandoverElements
from prototypes.runtime.render_journeys import JourneyElements, stars
from prototypes.runtime.session import CustomerSession
from prototypes.runtime.texts import in_locale, ui

PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")
KEY_RE = re.compile(r"[^a-zA-Z0-9_-]")
CURRENCY = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "SEK": "kr", "DKK": "kr", "PLN": "zł"}


def widget_key(kind: str, screen: str, element: str) -> str:
    """A widget key the browser shows as the class ``st-key-<key>`` (same characters)."""
    return KEY_RE.sub("-", f"el_{kind}__{screen}__{element}")


@dataclass
class Renderer(JourneyElements, HandoverElements):
    """Draws the elements of one screen for one session (the journey elements of issue 15:
    ``render_journeys.JourneyElements``; handover elements: ``render_handover``)."""

    session: CustomerSession
    locale: str
    device: str = "phone"
    preview: bool = False
    folder: Path | None = None
    """The prototype folder (image files, custom screens)."""
    store: dict[str, str] = field(default_factory=dict)
    """The current store's row (name, city, …) for ``{{store.name}}`` left in texts."""
    persona: dict[str, str] = field(default_factory=dict)  # {{persona.name}}, … (personas.py)
    screen_id: str = ""
    hotspot_css: list[str] = field(default_factory=list)

    # --- text helpers ------------------------------------------------------------------------

    def t(self, text: Any) -> str:
        """A spec text in the session's language, placeholders filled, HTML-escaped."""
        return html.escape(self.plain(text))

    def plain(self, text: Any) -> str:
        """A spec text in the session's language (else the prototype's first), placeholders
        filled, not escaped: for widget labels, which Streamlit escapes itself."""
        locales = self.session.view.locales
        return self.fill(in_locale(text, self.locale, locales[0] if locales else None))

    def fill(self, value: str) -> str:
        """``{{store.name}}``, ``{{store.city}}``, ``{{store.id}}`` filled from the store row."""

        def sub(m: re.Match[str]) -> str:
            scope, name = m.group(1), m.group(2)
            if scope == "store":
                key = {"id": "store_id"}.get(name, name)
                return self.store.get(key, m.group(0))
            return self.persona.get(name, "") if scope == "persona" else m.group(0)

        return PLACEHOLDER_RE.sub(sub, value)

    def money(self, amount: float, currency: str = "EUR") -> str:
        symbol = CURRENCY.get(currency, currency)
        if self.locale == "de":
            num = f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
            return f"{num}\u00a0{symbol}"
        return f"{symbol}{amount:,.2f}" if len(symbol) == 1 else f"{symbol}\u00a0{amount:,.2f}"

    def km(self, value: float) -> str:
        text = f"{value:.1f}"
        if self.locale == "de":
            text = text.replace(".", ",")
        return f"{text}\u00a0km"

    # --- drawing primitives ------------------------------------------------------------------

    def html(self, markup: str) -> None:
        """Raw HTML (one line, so markdown leaves it alone)."""
        st.markdown(markup.replace("\n", " "), unsafe_allow_html=True)

    def key(self, kind: str, element: str) -> str:
        k = widget_key(kind, self.screen_id, element)
        self.session.key_elements[k] = element
        return k

    def label(self, el: Any) -> None:
        if self.preview:
            self.html(f'<span class="sl-pv-id">#{html.escape(el.id)} · {el.type}</span>')

    def nav_button(
        self,
        label: str,
        element_id: str,
        target: str,
        *,
        kind: str = "btn",
        style: str = "primary",
        icon: str | None = None,
    ) -> None:
        key = self.key(kind, element_id)
        st.button(
            label,
            key=key,
            type={"primary": "primary", "secondary": "secondary", "link": "tertiary"}.get(
                style, "primary"
            ),
            width="stretch",
            icon=icon,
            on_click=self.session.navigate,
            args=(element_id, target, key),
        )

    def tappable(self, markup: str, element_id: str, target: str | None, label: str) -> None:
        """HTML that, with a target, is one big invisible button (the whole card taps)."""
        if target is None:
            self.html(markup)
            return
        with st.container(key=self.key("wrap", element_id)):
            self.html(markup)
            key = self.key("hit", element_id)
            st.button(
                label or element_id,
                key=key,
                on_click=self.session.navigate,
                args=(element_id, target, key),
            )

    # --- the screen ---------------------------------------------------------------------------

    def render_screen(
        self, screen: Any, container: str = "proto_screen", *, only_inside: bool = False
    ) -> None:
        """All elements of a screen, inside the ``proto_screen`` container the taps refer to
        (a question's screens: another key, ``only_inside`` taps: runtime/asking.py)."""
        self.screen_id, self.hotspot_css = screen.id, []
        strict = ' data-sl-inside="1"' if only_inside else ""
        with st.container(key=container):
            shown = html.escape(self.session.ctx.view_variant)  # which variant (browser tests)
            self.html(f'<div data-sl-screen="{html.escape(screen.id)}" data-sl-variant="{shown}"'
                      f"{strict} hidden></div>")  # fmt: skip
            if self.preview:
                self.html(f'<span class="sl-pv-id">screen: {html.escape(screen.id)}</span>')
            custom = getattr(screen, "custom", None)
            if custom is not None:
                render_custom_screen(self, screen, custom)
            for el in screen.elements:
                self.render_element(el)
            if self.hotspot_css:
                self.html("<style>" + " ".join(self.hotspot_css) + "</style>")

    def render_element(self, el: Any) -> None:
        draw: Callable[[Any], None] | None = getattr(self, f"_el_{el.type}", None)
        self.label(el)
        if draw is None:  # an element type this runtime does not know yet: say so, don't crash
            self.html(f'<div class="sl-text muted">[{html.escape(el.type)}]</div>')
            return
        draw(el)

    # --- elements -----------------------------------------------------------------------------

    def _el_heading(self, el: Any) -> None:
        tag = {1: "h1", 2: "h2", 3: "h3"}[el.level]
        self.html(f'<{tag} class="sl-{tag}">{self.t(el.text)}</{tag}>')

    def _el_text(self, el: Any) -> None:
        self.html(f'<p class="sl-text {el.style}">{self.t(el.text)}</p>')

    def tile(self, placeholder: Any, extra: str = "", badge: str = "") -> str:
        if placeholder is None:
            return (
                f'<div class="sl-tile {extra}" style="background:#e9ecef">'
                f'<span class="sl-emoji">🛍️</span>{badge}</div>'
            )
        colour = html.escape(placeholder.colour)
        return (
            f'<div class="sl-tile {extra}" style="background:{colour}">'
            f'<span class="sl-emoji">{html.escape(placeholder.icon)}</span>{badge}</div>'
        )

    def _el_image(self, el: Any) -> None:
        alt = self.t(el.alt) if el.alt else ""
        if el.placeholder is not None:
            markup = self.tile(el.placeholder)
        else:
            markup = self.image_file(el.src, alt)
        caption = (
            f'<div class="sl-caption">{alt}</div>' if alt and el.placeholder is not None else ""
        )
        self.html(f"<div>{markup}{caption}</div>")

    def image_file(self, src: str, alt: str) -> str:
        """A picture from the prototype folder, inlined; never a URL."""
        path = (self.folder / src).resolve() if self.folder else None
        ok = (
            path is not None
            and "://" not in src
            and self.folder is not None
            and path.is_relative_to(self.folder.resolve())
            and path.is_file()
        )
        if not ok:
            return (
                '<div class="sl-tile" style="background:#e9ecef"><span class="sl-emoji">🖼️</span>'
                f'</div><div class="sl-caption">{html.escape(src)}</div>'
            )
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        data = base64.b64encode(path.read_bytes()).decode()
        return f'<img class="sl-img" alt="{alt}" src="data:{mime};base64,{data}">'

    def price_html(self, price: float | None, was: float | None, currency: str) -> str:
        if price is None:
            return ""
        sale = was is not None and was > price
        was_html = f'<span class="sl-was">{self.money(was, currency)}</span>' if sale else ""
        return (
            f'<div class="sl-pricerow"><span class="sl-now{" sale" if sale else ""}">'
            f"{self.money(price, currency)}</span>{was_html}</div>"
        )

    def _el_product_card(self, el: Any) -> None:
        p = el.product
        badge = f'<span class="sl-badge">{self.t(p.badge)}</span>' if p.badge else ""
        meta = " · ".join(
            x for x in (self.t(p.colour) if p.colour else "", p.size and html.escape(p.size)) if x
        )
        chevron = '<span class="sl-chev">›</span>' if p.target else ""
        markup = (
            f'<div class="sl-card sl-product">{self.tile(p.image, badge=badge)}'
            f'<div class="sl-card-body">'
            f"{f'<div class=sl-brand>{html.escape(p.brand)}</div>' if p.brand else ''}"
            '<div style="display:flex;align-items:center;gap:.5rem"><div class="sl-name">'
            f"{self.t(p.name)}</div>{chevron}</div>"
            f"{f'<div class=sl-meta>{meta}</div>' if meta else ''}"
            f"{self.price_html(p.price, p.was, p.currency)}</div></div>"
        )
        self.tappable(markup, el.id, p.target, self.plain(p.name))

    def _el_product_grid(self, el: Any) -> None:
        if el.title:
            self.html(f'<div class="sl-grid-title">{self.t(el.title)}</div>')
        with st.container(key=self.key("grid", el.id)):
            for item in el.items:
                eid = f"{el.id}.{item.id}"
                badge = f'<span class="sl-badge">{self.t(item.badge)}</span>' if item.badge else ""
                if (
                    not badge
                    and item.was is not None
                    and item.price is not None
                    and item.was > item.price
                ):
                    pct = round(100 * (1 - item.price / item.was))
                    badge = f'<span class="sl-badge offer">−{pct}\u202f%</span>'
                meta = html.escape(item.brand) if item.brand else ""
                markup = (
                    f'<div class="sl-card sl-item">{self.tile(item.image, "small", badge)}'
                    f'<div class="sl-card-body">'
                    f"{f'<div class=sl-brand>{meta}</div>' if meta else ''}"
                    f'<div class="sl-name">{self.t(item.name)}</div>'
                    f"{self.price_html(item.price, item.was, item.currency)}</div></div>"
                )
                self.tappable(markup, eid, item.target, self.plain(item.name))

    def _el_picker(self, el: Any) -> None:
        chosen = self.session.selections.get(el.id, el.selected)
        current = next((o for o in el.options if o.value == chosen), None)
        shown = ""
        if current is not None:
            name = self.t(current.label) if current.label else html.escape(current.value)
            shown = f" <span>· {name}</span>"
        self.html(f'<div class="sl-label">{self.t(el.label)}{shown}</div>')
        kind = "swatch" if el.kind == "colour" and any(o.swatch for o in el.options) else "chips"
        css = []
        with st.container(key=self.key(kind, el.id), horizontal=True):
            for opt in el.options:
                eid = f"{el.id}.{opt.value}"
                key = self.key("opt", eid)
                st.button(
                    self.plain(opt.label) if opt.label else opt.value,
                    key=key,
                    type="primary" if opt.value == chosen else "secondary",
                    disabled=not opt.available,
                    on_click=self._choose,
                    args=(el.id, opt.value, key),
                )
                if kind == "swatch" and opt.swatch:
                    colour = html.escape(opt.swatch)
                    css.append(f".st-key-{key} button {{ background: {colour} !important; }}")
        if css:
            self.html("<style>" + " ".join(css) + "</style>")

    def _choose(self, element_id: str, value: str, key: str) -> None:
        self.session.selections[element_id] = value
        self.session.tap(f"{element_id}.{value}", key=key)

    def _el_store_availability(self, el: Any) -> None:
        rows = []
        highlight = {v for v in self.session.selections.values()}
        for s in el.stores:
            stock = html.escape(s.stock)
            here = s.distance_km == 0
            dist = (
                ui("here", self.locale)
                if here
                else (self.km(s.distance_km) if s.distance_km is not None else "")
            )
            sizes = "".join(
                f'<span class="sl-size{" hl" if z in highlight else ""}">{html.escape(z)}</span>'
                for z in s.sizes
            )
            note = f" · {self.t(s.note)}" if s.note else ""
            rows.append(
                f'<div class="sl-row"><div class="sl-pin">{"📍" if here else "🏬"}</div><div '
                'class="sl-row-main">'
                f'<div class="sl-row-name">{self.t(s.name)}</div>'
                f'<div class="sl-row-sub">{dist}{note}</div>'
                f"{f'<div class=sl-sizes>{sizes}</div>' if sizes else ''}</div>"
                f'<span class="sl-stock {stock}">{ui(s.stock, self.locale)}</span></div>'
            )
        if el.online is not None:
            delivery = self.t(el.online.delivery) if el.online.delivery else ""
            rows.append(
                f'<div class="sl-row"><div class="sl-pin">🚚</div><div class="sl-row-main">'
                f'<div class="sl-row-name">{ui("online", self.locale)}</div>'
                f'<div class="sl-row-sub">{delivery}</div></div>'
                f'<span class="sl-stock {html.escape(el.online.stock)}">'
                f"{ui(el.online.stock, self.locale)}</span></div>"
            )
        title = f'<div class="sl-avail-head">{self.t(el.title)}</div>' if el.title else ""
        self.html(f'<div class="sl-card sl-avail">{title}{"".join(rows)}</div>')

    def _el_price(self, el: Any) -> None:
        struck = el.offer is not None and el.offer.amount is not None
        was = ""
        if el.was is not None and el.was > el.amount:
            was = f'<span class="sl-price-amount struck">{self.money(el.was, el.currency)}</span>'
        main = (
            '<div class="sl-price-main"><span '
            f'class="sl-price-amount{" struck" if struck else ""}">'
            f"{self.money(el.amount, el.currency)}</span>{was}"
            f'<span class="sl-price-tax">{ui("vat", self.locale)}</span></div>'
        )
        offer = ""
        if el.offer is not None:
            o = el.offer
            tag = ui("personal" if o.personal else "offer", self.locale)
            amount = (
                f'<div class="sl-offer-amount">{self.money(o.amount, el.currency)}</div>'
                if o.amount is not None
                else ""
            )
            code = (
                f'<span class="sl-code">{ui("code", self.locale)}: {html.escape(o.code)}</span>'
                if o.code
                else ""
            )
            offer = (
                '<div class="sl-offer"><div class="sl-offer-icon">'
                f"{'🎁' if o.personal else '🏷️'}</div>"
                f'<div class="sl-offer-main"><div class="sl-offer-tag">{tag}</div>'
                f'<div class="sl-offer-text">{self.t(o.text)}</div>{code}</div>{amount}</div>'
            )
        self.html(f'<div class="sl-price">{main}{offer}</div>')

    def _el_map(self, el: Any) -> None:
        dist = (
            f'<span class="sl-dist">{self.km(el.distance_km)}</span>'
            if el.distance_km is not None
            else ""
        )
        self.html(
            f'<div class="sl-card sl-map">{map_svg(el.address, self.locale)}'
            f'<div class="sl-map-foot"><div class="sl-pin">📍</div><div class="sl-row-main">'
            f'<div class="sl-row-name">{self.t(el.label)}</div>'
            f'<div class="sl-row-sub">{self.t(el.address)}</div></div>{dist}</div></div>'
        )

    def _el_pickup_slots(self, el: Any) -> None:
        chosen = self.session.selections.get(el.id)
        self.html(f'<div class="sl-label">{self.t(el.label)}</div>')
        with st.container(key=self.key("slots", el.id), horizontal=True):
            for slot in el.slots:
                eid = f"{el.id}.{slot.id}"
                key = self.key("opt", eid)
                st.button(
                    self.plain(slot.label),
                    key=key,
                    type="primary" if slot.id == chosen else "secondary",
                    disabled=not slot.available,
                    icon=":material/schedule:",
                    on_click=self._choose,
                    args=(el.id, slot.id, key),
                )

    def _el_field(self, el: Any) -> None:
        label = self.plain(el.label) + (" *" if el.required else "")
        placeholder = self.plain(el.placeholder) if el.placeholder else None
        key = self.key("field", el.id)
        callback, args = self._filled, (el.id, key)
        if el.kind in ("text", "email", "phone"):
            st.text_input(label, key=key, placeholder=placeholder, on_change=callback, args=args)
        elif el.kind == "number":
            st.number_input(
                label, key=key, value=None, placeholder=placeholder, on_change=callback, args=args
            )
        elif el.kind == "textarea":
            st.text_area(label, key=key, placeholder=placeholder, on_change=callback, args=args)
        elif el.kind == "checkbox":
            st.checkbox(label, key=key, on_change=callback, args=args)
        else:
            options = [o.value for o in el.options]
            labels = {o.value: self.plain(o.label) for o in el.options}
            st.selectbox(
                label,
                options,
                index=None,
                key=key,
                placeholder=placeholder or "…",
                format_func=lambda v: labels.get(v, v),
                on_change=callback,
                args=args,
            )

    def _filled(self, element_id: str, key: str) -> None:
        # Prototypes never keep what was typed: only that the field was filled.
        value = st.session_state.get(key)
        self.session.tap(element_id, key=key, filled=value not in (None, "", False))

    def _el_scan(self, el: Any) -> None:
        digits = "4 006381 333931"
        markup = (
            '<div class="sl-scan">'
            f'<div class="sl-scan-top">● {ui("camera", self.locale)}</div>'
            '<div class="sl-scan-frame"><i></i><i></i><i></i><i></i>'
            '<div class="sl-barcode"><div class="sl-bars"></div><div class="sl-digits">'
            f"{digits}</div></div>"
            '<div class="sl-laser"></div></div>'
            f'<div class="sl-scan-hint">{ui("scan_hint", self.locale)}</div></div>'
        )
        self.tappable(markup, el.id, el.target, self.plain(el.label))
        icon = ":material/barcode_scanner:"
        self.nav_button(self.plain(el.label), el.id, el.target, kind="scanbtn", icon=icon)

    def _el_banner(self, el: Any) -> None:
        icon = (
            html.escape(el.icon)
            if el.icon
            else {"success": "✓", "warning": "!", "offer": "%"}.get(el.tone, "🔔")
        )
        title = f'<div class="sl-banner-title">{self.t(el.title)}</div>' if el.title else ""
        markup = (
            f'<div class="sl-banner {el.tone}"><div class="sl-banner-icon">{icon}</div>'
            f'<div class="sl-banner-main"><div class="sl-banner-top"><span>storelab</span>'
            f"<span>{ui('now', self.locale)}</span></div>{title}"
            f'<div class="sl-banner-text">{self.t(el.text)}</div></div></div>'
        )
        self.tappable(markup, el.id, el.target, self.plain(el.title or el.text))

    def _el_rating(self, el: Any) -> None:
        score = f"{el.stars:.1f}".replace(".", "," if self.locale == "de" else ".")
        count = f"{el.count:,}".replace(",", "." if self.locale == "de" else ",")
        head = (
            f'<div class="sl-rating-head">{stars(el.stars)}<span class="sl-rating-score">'
            f"{score}</span>"
            f'<span class="sl-rating-count">{count} {ui("ratings", self.locale)}</span></div>'
        )
        if not el.reviews:
            self.html(f'<div class="sl-rating">{head}</div>')
            return
        reviews = "".join(
            f'<div class="sl-review">{stars(r.stars)}<div class="sl-review-text">'
            f"{self.t(r.text)}</div>"
            f'<div class="sl-review-author">{html.escape(r.author)}</div></div>'
            for r in el.reviews
        )
        self.html(f'<div class="sl-card sl-rating-card">{head}{reviews}</div>')

    def _el_details(self, el: Any) -> None:
        parts = []
        for i, item in enumerate(el.items):
            value = self.t(item.value)
            if len(self.plain(item.value)) > 40:
                parts.append(
                    f"<details{' open' if i == 0 else ''}><summary>{self.t(item.label)}</summary>"
                    f"<div>{value}</div></details>"
                )
            else:
                parts.append(
                    f'<div class="sl-fact"><span>{self.t(item.label)}</span><span>'
                    f"{value}</span></div>"
                )
        title = f'<div class="sl-details-title">{self.t(el.title)}</div>' if el.title else ""
        self.html(f'<div class="sl-card sl-details">{title}{"".join(parts)}</div>')

    def _el_button(self, el: Any) -> None:
        self.nav_button(self.plain(el.label), el.id, el.target, style=el.style)

    def _el_hotspot(self, el: Any) -> None:
        key = self.key("spot", el.id)
        a = el.area
        self.hotspot_css.append(
            f".st-key-{key} {{ left: {a.x * 100:.2f}%; top: {a.y * 100:.2f}%; "
            f"width: {a.w * 100:.2f}%; height: {a.h * 100:.2f}%; }}"
        )
        if self.preview:
            self.hotspot_css.append(
                f".st-key-{key} button {{ opacity: .35 !important; outline: 2px dashed #7048e8; }}"
            )
        st.button(
            self.plain(el.label) if el.label else el.id,
            key=key,
            on_click=self.session.navigate,
            args=(el.id, el.target, key),
        )


def first_placeholder(view: Any) -> Any:
    """The first placeholder picture of a view (an image's or a product's), else None.

    The welcome card and the gallery show its icon (and colour) for the prototype.
    """
    for screen in view.screens.values():
        for el in screen.elements:
            picture = getattr(el, "placeholder", None) or getattr(
                getattr(el, "product", None), "image", None
            )
            if picture is not None:
                return picture
    return None


def map_svg(address: str, locale: str) -> str:
    """A small street map drawn locally: blocks, a river, a park, you and the store, a route.

    The layout is derived from the address, so each store gets its own (stable) map.
    """
    h = hashlib.sha256(address.encode()).digest()
    river_y = 40 + h[0] % 60
    park_x = 30 + h[1] % 180
    store_x, store_y = 250 + h[2] % 110, 50 + h[3] % 90
    you_x, you_y = 60 + h[4] % 60, 150 + h[5] % 40
    streets = []
    for i in range(6):
        x = 20 + i * 75 + h[6 + i] % 20
        streets.append(f'<line x1="{x}" y1="0" x2="{x - 25}" y2="220" />')
    for j in range(3):
        y = 30 + j * 70 + h[12 + j] % 20
        streets.append(f'<line x1="0" y1="{y}" x2="440" y2="{y + 12}" />')
    route = (
        f"M{you_x},{you_y} L{you_x + 40},{you_y - 8} "
        f"L{store_x - 30},{store_y + 40} L{store_x},{store_y + 8}"
    )
    you = html.escape(ui("you", locale))
    return (
        '<svg viewBox="0 0 440 220" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="map">'
        '<rect width="440" height="220" fill="#eef1ec"/>'
        f'<rect x="{park_x}" y="{river_y + 30}" width="90" height="55" rx="8" fill="#cfe8c4"/>'
        f'<path d="M0,{river_y} C120,{river_y - 30} 260,{river_y + 40} 440,{river_y - 10}" '
        'stroke="#b7d7f0" stroke-width="16" fill="none"/>'
        f'<g stroke="#ffffff" stroke-width="9" stroke-linecap="round">{"".join(streets)}</g>'
        f'<path d="{route}" stroke="#123b6d" stroke-width="4" stroke-dasharray="2 8" '
        'stroke-linecap="round" fill="none"/>'
        f'<circle cx="{you_x}" cy="{you_y}" r="13" fill="#1f6fb2" opacity=".18"/>'
        f'<circle cx="{you_x}" cy="{you_y}" r="7" fill="#1f6fb2" stroke="#fff" stroke-width="3"/>'
        f'<text x="{you_x + 14}" y="{you_y + 22}" font-size="12" font-weight="700" '
        f'fill="#1f6fb2" font-family="sans-serif">{you}</text>'
        f'<g transform="translate({store_x},{store_y})">'
        '<path d="M0,0 C-14,-18 -16,-24 -16,-30 A16,16 0 1 1 16,-30 C16,-24 14,-18 0,0Z" '
        'fill="#e8590c" stroke="#fff" stroke-width="2.5"/>'
        '<circle cx="0" cy="-30" r="6" fill="#fff"/></g>'
        "</svg>"
    )


__all__ = ["Renderer", "first_placeholder", "map_svg", "widget_key"]
