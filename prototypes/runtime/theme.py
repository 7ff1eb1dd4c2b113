"""The runtime's look: brand colours and device sizes as CSS variables, plus ``style.css``.

Phone: a centred column about 420 px wide, touch targets of at least 52 px. Kiosk: a 1080p
landscape layout with larger type and 72 px targets. ``page_css`` returns one ``<style>`` block;
``play.py`` injects it once per run. Streamlit's own chrome (toolbar, menu, header, footer,
navigation) is hidden there too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STYLE_FILE = Path(__file__).with_name("style.css")
BRAND = "#123b6d"
"""Brand colour (deep navy) – buttons, links, the logo."""
BRAND_2 = "#1f6fb2"
ACCENT = "#e8590c"
"""Offers, badges, the mission card's edge."""
FONT = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Noto Sans", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"'
)

_COMMON = {
    "--sl-brand": BRAND,
    "--sl-brand-2": BRAND_2,
    "--sl-brand-soft": "#e8f0fa",
    "--sl-accent": ACCENT,
    "--sl-ink": "#101828",
    "--sl-ink-2": "#344054",
    "--sl-muted": "#667085",
    "--sl-faint": "#98a2b3",
    "--sl-line": "#e4e7ec",
    "--sl-page": "#f2f4f7",
    "--sl-surface": "#ffffff",
    "--sl-font": FONT,
    "--sl-shadow": "0 1px 2px rgba(16,24,40,.04), 0 8px 24px -12px rgba(16,24,40,.18)",
}
DEVICES: dict[str, dict[str, str]] = {
    "phone": {
        "--sl-width": "440px",
        "--sl-pad-x": "1.1rem",
        "--sl-pad-top": "0.9rem",
        "--sl-gap": "0.85rem",
        "--sl-touch": "52px",
        "--sl-button-font": "1.02rem",
        "--sl-radius": "20px",
        "--sl-radius-sm": "14px",
        "--sl-h1": "1.7rem",
        "--sl-h2": "1.3rem",
        "--sl-h3": "1.1rem",
        "--sl-q": "1.35rem",
        "--sl-price": "1.9rem",
        "--sl-emoji": "5.5rem",
        "--sl-product-cols": "1fr",
        "--sl-product-ratio": "4 / 3",
        "--sl-grid-cols": "2",
        "--sl-scan-ratio": "5 / 4",
        "--sl-scan-max": "100%",
        "--sl-scan-frame": "72%",
        "--sl-touch-sm": "44px",
        "--sl-hero-pad": "1.5rem 1.35rem",
        "--sl-scale-h": "54px",
        "--sl-scale-font": "1.1rem",
        "--sl-scale-gap": "0.4rem",
        "--sl-nps-cols": "6",
        "html-font": "16px",
    },
    "kiosk": {
        "--sl-width": "1480px",
        "--sl-pad-x": "3rem",
        "--sl-pad-top": "1.4rem",
        "--sl-gap": "1.1rem",
        "--sl-touch": "72px",
        "--sl-button-font": "1.2rem",
        "--sl-radius": "26px",
        "--sl-radius-sm": "18px",
        "--sl-h1": "2.4rem",
        "--sl-h2": "1.7rem",
        "--sl-h3": "1.3rem",
        "--sl-q": "2rem",
        "--sl-price": "2.4rem",
        "--sl-emoji": "8rem",
        "--sl-product-cols": "minmax(0, 1.1fr) minmax(0, 1fr)",
        "--sl-product-ratio": "auto",
        "--sl-grid-cols": "4",
        "--sl-scan-ratio": "16 / 9",
        "--sl-scan-max": "820px",
        "--sl-scan-frame": "58%",
        "--sl-touch-sm": "56px",
        "--sl-hero-pad": "2.4rem 2.6rem",
        "--sl-scale-h": "96px",
        "--sl-scale-font": "1.7rem",
        "--sl-scale-gap": "0.8rem",
        "--sl-nps-cols": "11",
        "html-font": "19px",
    },
}
DEVICES["web"] = DEVICES["phone"]


@cache
def _read_style(mtime_ns: int) -> str:
    return STYLE_FILE.read_text(encoding="utf-8")


def _stylesheet(page: bool = True) -> str:
    """style.css; without the whole-page part (chrome, layout, buttons) when ``page`` is False."""
    text = _read_style(STYLE_FILE.stat().st_mtime_ns)
    if page:
        return text
    head, _, rest = text.partition("/*PAGE-START")
    _, _, tail = rest.partition("/*PAGE-END*/")
    return head + tail


def css_variables(device: str, brand: str | None = None) -> str:
    """``:root { --sl-…: … }`` for a device (kiosk, phone, web)."""
    values = {**_COMMON, **DEVICES.get(device, DEVICES["phone"])}
    if brand:
        values["--sl-brand"] = brand
    font = values.pop("html-font")
    body = "; ".join(f"{k}: {v}" for k, v in values.items())
    return f":root {{ {body}; }} html {{ font-size: {font} !important; }}"


def page_css(device: str, *, preview: bool = False, brand: str | None = None) -> str:
    """The whole ``<style>`` block for a runtime page."""
    extra = ""
    if not preview:
        extra = (
            "[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] "
            "{ display: none !important; }"
        )
    else:
        extra = (
            "[data-testid='stMainBlockContainer'] { box-shadow: 0 0 0 1px var(--sl-line), "
            "0 20px 60px -30px rgba(16,24,40,.35); }"
        )
    if device != "kiosk":
        extra += (
            "@media (min-width: 520px) { [data-testid='stMainBlockContainer'] "
            "{ margin: 1.2rem auto; min-height: calc(100vh - 2.4rem); border-radius: 28px; "
            "box-shadow: 0 0 0 1px var(--sl-line), 0 30px 60px -30px rgba(16,24,40,.35); } }"
        )
    return f"<style>{css_variables(device, brand)}\n{_stylesheet()}\n{extra}</style>"


def gallery_css(standalone: bool) -> str:
    """Styles for the gallery: the card styles only when mounted in another app (the analyst
    dashboard keeps its own chrome); the whole page look when the runtime serves it."""
    values = {**_COMMON, **DEVICES["phone"], "--sl-width": "1200px", "--sl-pad-x": "2rem"}
    values.pop("html-font")
    body = "; ".join(f"{k}: {v}" for k, v in values.items())
    page = (
        "[data-testid='stMainBlockContainer'] { background: transparent; padding-bottom: 3rem; }"
        if standalone
        else ""
    )
    return f"<style>.sl-scope, :root {{ {body}; }}\n{_stylesheet(standalone)}\n{page}</style>"
