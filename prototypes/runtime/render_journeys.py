"""Renderers of the journey elements (issue 15): cart, payment sheet, order tracking, review
list, store map and staff note.

``JourneyElements`` is a mixin of ``render.Renderer`` (which finds ``_el_<type>`` by name): it
uses the renderer's text helpers (``t``, ``plain``, ``fill``, ``money``, ``km``), its keyed
buttons (``key``, ``nav_button``, ``tappable``, ``_choose``) and its session. Every control is a
keyed Streamlit button, so AppTest clicks it and the browser's tap capture names it:

- a cart line's steppers tap ``<cart>.<line>.less`` / ``.more`` (props: the new quantity);
- a payment method taps ``<sheet>.<method>``, the pay button ``<sheet>`` (and goes on);
- a review filter taps ``<list>.stars-<n>`` (or ``.all``), "helpful" ``<list>.<review>.helpful``;
- a store row taps ``<map>.<store>`` (and goes to its ``target`` when it has one);
- tracking cards and staff notes with a ``target`` go there like a button.

Quantities and "helpful" marks live in ``CustomerSession.counts``; choices in ``selections``.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

import streamlit as st

TEXTS: dict[str, dict[str, str]] = {
    "cart": {"de": "Warenkorb", "en": "Basket"},
    "items": {"de": "Artikel", "en": "items"},
    "total": {"de": "Summe", "en": "Total"},
    "removed": {"de": "entfernt", "en": "removed"},
    "each": {"de": "je", "en": "each"},
    "pay_to": {"de": "Bezahlen an", "en": "Pay"},
    "method": {"de": "Zahlungsart", "en": "Payment method"},
    "order": {"de": "Bestellung", "en": "Order"},
    "pickup_code": {"de": "Abholcode", "en": "Pickup code"},
    "all": {"de": "Alle", "en": "All"},
    "verified": {"de": "Verifizierter Kauf", "en": "Verified purchase"},
    "helpful": {"de": "Hilfreich", "en": "Helpful"},
    "staff_only": {"de": "Nur für Mitarbeitende", "en": "Staff only"},
    "chosen": {"de": "gewählt", "en": "chosen"},
    "in_stock": {"de": "Vorrätig", "en": "In stock"},
    "low": {"de": "Nur wenige", "en": "Few left"},
    "out_of_stock": {"de": "Ausverkauft", "en": "Sold out"},
    "you": {"de": "Sie", "en": "You"},
    "ratings": {"de": "Bewertungen", "en": "ratings"},
}


def jt(key: str, locale: str) -> str:
    """A text the journey elements add, in ``locale`` (English when there is none)."""
    return TEXTS[key].get(locale, TEXTS[key]["en"])


def stars(value: float) -> str:
    """Five stars, filled to ``value`` (0–5)."""
    pct = max(0.0, min(100.0, value / 5 * 100))
    return (
        f'<span class="sl-stars" aria-label="{value} / 5">★★★★★'
        f'<b style="width:{pct:.0f}%">★★★★★</b></span>'
    )


class JourneyElements:
    """``_el_cart`` … ``_el_staff_note`` for ``render.Renderer`` (see the module docstring)."""

    session: Any
    locale: str

    # --- cart ---------------------------------------------------------------------------------

    def _quantity(self, el: Any, line: Any) -> int:
        return self.session.counts.get(f"{el.id}.{line.id}", line.quantity)

    def _step(self, element_id: str, default: int, change: int, key: str) -> None:
        quantity = max(0, min(99, self.session.counts.get(element_id, default) + change))
        self.session.counts[element_id] = quantity
        self.session.tap(f"{element_id}.{'more' if change > 0 else 'less'}", key=key,
                         quantity=quantity)  # fmt: skip

    def _el_cart(self, el: Any) -> None:
        count = sum(self._quantity(el, line) for line in el.lines)
        title = self.t(el.title) if el.title else jt("cart", self.locale)
        self.html(
            f'<div class="sl-cart-head"><span>{title}</span>'
            f'<span class="sl-cart-count">{count} {jt("items", self.locale)}</span></div>'
        )
        total = 0.0
        for line in el.lines:
            quantity = self._quantity(el, line)
            total += quantity * line.price
            self._cart_line(el, line, quantity)
        self.html(
            f'<div class="sl-cart-total"><span>{jt("total", self.locale)}</span>'
            f"<span>{self.money(total, el.currency)}</span></div>"
        )
        if el.target is not None:
            self.nav_button(self.plain(el.checkout), el.id, el.target)

    def _cart_line(self, el: Any, line: Any, quantity: int) -> None:
        line_id = f"{el.id}.{line.id}"
        detail = f'<div class="sl-row-sub">{self.t(line.detail)}</div>' if line.detail else ""
        gone = f' <span class="sl-gone">{jt("removed", self.locale)}</span>' if not quantity else ""
        each = f"{jt('each', self.locale)} {self.money(line.price, el.currency)}"
        with st.container(key=self.key("cartline", line_id)):
            self.html(
                f'<div class="sl-cartline{" zero" if not quantity else ""}">'
                f'<div class="sl-pin">{html.escape(line.icon or "🛍️")}</div>'
                f'<div class="sl-row-main"><div class="sl-row-name">{self.t(line.name)}{gone}'
                f'</div>{detail}<div class="sl-row-sub">{each}</div></div>'
                f'<div class="sl-cartline-sum">{self.money(quantity * line.price, el.currency)}'
                "</div></div>"
            )
            with st.container(
                key=self.key("stepper", line_id),
                horizontal=True,
                horizontal_alignment="right",
                vertical_alignment="center",
            ):
                for sign, change in (("−", -1), ("+", 1)):
                    word = "less" if change < 0 else "more"
                    key = self.key("step", f"{line_id}.{word}")
                    st.button(
                        sign,
                        key=key,
                        disabled=(change < 0 and quantity == 0) or (change > 0 and quantity >= 99),
                        on_click=self._step,
                        args=(line_id, line.quantity, change, key),
                    )
                    if change < 0:
                        self.html(f'<div class="sl-qty">{quantity}</div>')

    # --- payment sheet -----------------------------------------------------------------------

    def _el_payment_sheet(self, el: Any) -> None:
        usable = [m.id for m in el.methods if m.available]
        chosen = self.session.selections.get(el.id, el.selected or usable[0])
        shop = html.escape(self.fill("{{store.name}}"))
        self.html(
            '<div class="sl-paysheet"><div class="sl-paysheet-grip"></div>'
            f'<div class="sl-row-sub">{jt("pay_to", self.locale)} {shop}</div>'
            f'<div class="sl-paysheet-amount">{self.money(el.amount, el.currency)}</div>'
            f'<div class="sl-label">{jt("method", self.locale)}</div></div>'
        )
        with st.container(key=self.key("methods", el.id)):
            for method in el.methods:
                key = self.key("opt", f"{el.id}.{method.id}")
                st.button(
                    f"{method.icon or '💳'}  {self.plain(method.label)}",
                    key=key,
                    type="primary" if method.id == chosen else "secondary",
                    disabled=not method.available,
                    width="stretch",
                    on_click=self._choose,
                    args=(el.id, method.id, key),
                )
        self.nav_button(self.plain(el.pay), el.id, el.target, icon=":material/lock:")
        if el.note:
            self.html(f'<p class="sl-text muted">{self.t(el.note)}</p>')

    # --- order tracking ----------------------------------------------------------------------

    def _el_order_tracking(self, el: Any) -> None:
        done = [s.done for s in el.steps]
        current = done.count(True) - 1
        rows = []
        for i, step in enumerate(el.steps):
            state = "done" if step.done else "todo"
            if i == current:
                state += " now"
            when = f'<div class="sl-row-sub">{self.t(step.time)}</div>' if step.time else ""
            rows.append(
                f'<li class="sl-step {state}"><span class="sl-step-dot">{"✓" if step.done else ""}'
                f'</span><div class="sl-row-main"><div class="sl-row-name">{self.t(step.label)}'
                f"</div>{when}</div></li>"
            )
        eta = f'<div class="sl-track-eta">{self.t(el.eta)}</div>' if el.eta else ""
        code = (
            f'<div class="sl-track-code"><span>{jt("pickup_code", self.locale)}</span>'
            f"<b>{html.escape(el.pickup_code)}</b></div>"
            if el.pickup_code
            else ""
        )
        markup = (
            f'<div class="sl-card sl-track"><div class="sl-track-head">'
            f'<span class="sl-row-sub">{jt("order", self.locale)}</span>'
            f"<b>{html.escape(el.order)}</b></div>{eta}"
            f'<ol class="sl-steps">{"".join(rows)}</ol>{code}</div>'
        )
        self.tappable(markup, el.id, el.target, f"{jt('order', self.locale)} {el.order}")

    # --- review list -------------------------------------------------------------------------

    def _el_review_list(self, el: Any) -> None:
        score = f"{el.stars:.1f}".replace(".", "," if self.locale == "de" else ".")
        count = f"{el.count:,}".replace(",", "." if self.locale == "de" else ",")
        highlight = (
            f'<div class="sl-review-hl">💬 {self.t(el.highlight)}</div>' if el.highlight else ""
        )
        self.html(
            f'<div class="sl-rating-head sl-reviews-head">{stars(el.stars)}'
            f'<span class="sl-rating-score">{score}</span><span class="sl-rating-count">{count} '
            f"{jt('ratings', self.locale)}</span></div>{highlight}"
        )
        chosen = self.session.selections.get(el.id, "all")
        if el.filters:
            values = [
                "all",
                *(f"stars-{n}" for n in sorted({r.stars for r in el.reviews}, reverse=True)),
            ]
            with st.container(key=self.key("chips", el.id), horizontal=True):
                for value in values:
                    key = self.key("opt", f"{el.id}.{value}")
                    label = jt("all", self.locale) if value == "all" else f"{value[-1]} ★"
                    st.button(label, key=key, type="primary" if value == chosen else "secondary",
                              on_click=self._choose, args=(el.id, value, key))  # fmt: skip
        shown = [r for r in el.reviews if chosen == "all" or f"stars-{r.stars}" == chosen]
        for review in shown:
            self._review(el, review)
        if el.target is not None:
            self.nav_button(self.plain(el.write), el.id, el.target, style="secondary",
                            icon=":material/rate_review:")  # fmt: skip

    def _review(self, el: Any, review: Any) -> None:
        review_id = f"{el.id}.{review.id}"
        marked = self.session.counts.get(f"{review_id}.helpful", 0)
        verified = (
            f'<span class="sl-verified">✓ {jt("verified", self.locale)}</span>'
            if review.verified
            else ""
        )
        with st.container(key=self.key("review", review_id)):
            self.html(
                f'<div class="sl-review"><div class="sl-review-top">{stars(review.stars)}'
                f'<span class="sl-review-author">{html.escape(review.author)}</span></div>'
                f'{verified}<div class="sl-review-text">{self.t(review.text)}</div></div>'
            )
            key = self.key("helpful", review_id)
            st.button(
                f"👍 {jt('helpful', self.locale)} ({review.helpful + marked})",
                key=key,
                type="primary" if marked else "secondary",
                disabled=bool(marked),
                on_click=self._helpful,
                args=(review_id, key),
            )

    def _helpful(self, review_id: str, key: str) -> None:
        self.session.counts[f"{review_id}.helpful"] = 1
        self.session.tap(f"{review_id}.helpful", key=key)

    # --- store map ---------------------------------------------------------------------------

    def _el_store_map(self, el: Any) -> None:
        if el.title:
            self.html(f'<div class="sl-grid-title">{self.t(el.title)}</div>')
        addresses = [self.fill(s.address) for s in el.stores]
        chosen = self.session.selections.get(el.id)
        svg = stores_svg(addresses, self.locale)
        self.html(f'<div class="sl-card sl-map sl-storemap">{svg}</div>')
        for number, store in enumerate(el.stores, 1):
            eid = f"{el.id}.{store.id}"
            dist = (
                f'<span class="sl-dist">{self.km(store.distance_km)}</span>'
                if store.distance_km is not None
                else ""
            )
            hours = f" · {self.t(store.hours)}" if store.hours else ""
            stock = (
                f'<span class="sl-stock {store.stock}">{jt(store.stock, self.locale)}</span>'
                if store.stock
                else ""
            )
            picked = " picked" if chosen == store.id else ""
            markup = (
                f'<div class="sl-card sl-maprow{picked}"><div class="sl-mapnum">{number}</div>'
                f'<div class="sl-row-main"><div class="sl-row-name">{self.t(store.name)}</div>'
                f'<div class="sl-row-sub">{self.t(store.address)}{hours}</div>{stock}</div>'
                f"{dist}{'<span class=sl-chev>›</span>' if store.target else ''}</div>"
            )
            label = self.plain(store.name)
            if store.target is not None:
                self.tappable(markup, eid, store.target, label)
                continue
            with st.container(key=self.key("wrap", eid)):
                self.html(markup)
                key = self.key("hit", eid)
                st.button(label, key=key, on_click=self._choose, args=(el.id, store.id, key))

    # --- staff note --------------------------------------------------------------------------

    def _el_staff_note(self, el: Any) -> None:
        initials = "".join(part[0] for part in el.author.split()[:2]).upper()
        avatar = html.escape(el.icon) if el.icon else html.escape(initials)
        role = f'<div class="sl-row-sub">{self.t(el.role)}</div>' if el.role else ""
        tag = (
            f'<span class="sl-staff-tag">🔒 {jt("staff_only", self.locale)}</span>'
            if el.audience == "staff"
            else ""
        )
        self.html(
            f'<div class="sl-staff {el.audience}">{tag}<div class="sl-staff-head">'
            f'<div class="sl-staff-avatar">{avatar}</div><div class="sl-row-main">'
            f'<div class="sl-row-name">{html.escape(el.author)}</div>{role}</div></div>'
            f'<div class="sl-staff-text">{self.t(el.text)}</div></div>'
        )
        if el.target is not None:
            self.nav_button(self.plain(el.action), el.id, el.target, style="secondary")


def stores_svg(addresses: list[str], locale: str) -> str:
    """A small street map drawn locally with you and a numbered pin per store.

    Positions derive from the addresses, so a store keeps its place from run to run.
    """
    h = hashlib.sha256("|".join(addresses).encode()).digest()
    river_y = 40 + h[0] % 60
    streets = [
        f'<line x1="{20 + i * 75 + h[6 + i] % 20}" y1="0" x2="{i * 75 - 5}" y2="220" />'
        for i in range(6)
    ] + [f'<line x1="0" y1="{30 + j * 70}" x2="440" y2="{42 + j * 70}" />' for j in range(3)]
    # pins and you stay in the middle band, which a wide kiosk still shows when it crops
    you_x, you_y = 200 + h[1] % 40, 88 + h[2] % 20
    pins = []
    width = 360 / len(addresses)
    for number, address in enumerate(addresses, 1):
        d = hashlib.sha256(address.encode()).digest()
        # one column per store, so pins never hide each other; the height varies
        x = round(40 + (number - 0.5) * width + (d[0] % 21 - 10))
        y = 108 + d[1] % 45
        pins.append(
            f'<g transform="translate({x},{y})"><path d="M0,0 C-12,-15 -14,-20 -14,-26 '
            'A14,14 0 1 1 14,-26 C14,-20 12,-15 0,0Z" fill="#e8590c" stroke="#fff" '
            f'stroke-width="2.5"/><text x="0" y="-21" text-anchor="middle" font-size="13" '
            f'font-weight="800" fill="#fff" font-family="sans-serif">{number}</text></g>'
        )
    you = html.escape(jt("you", locale))
    return (
        '<svg viewBox="0 0 440 220" preserveAspectRatio="xMidYMid slice" '
        'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="map">'
        '<rect width="440" height="220" fill="#eef1ec"/>'
        f'<path d="M0,{river_y} C120,{river_y - 30} 260,{river_y + 40} 440,{river_y - 10}" '
        'stroke="#b7d7f0" stroke-width="16" fill="none"/>'
        f'<g stroke="#ffffff" stroke-width="9" stroke-linecap="round">{"".join(streets)}</g>'
        f'<circle cx="{you_x}" cy="{you_y}" r="13" fill="#1f6fb2" opacity=".18"/>'
        f'<circle cx="{you_x}" cy="{you_y}" r="7" fill="#1f6fb2" stroke="#fff" stroke-width="3"/>'
        f'<text x="{you_x + 14}" y="{you_y + 22}" font-size="12" font-weight="700" '
        f'fill="#1f6fb2" font-family="sans-serif">{you}</text>{"".join(pins)}</svg>'
    )


__all__ = ["TEXTS", "JourneyElements", "jt", "stars", "stores_svg"]
