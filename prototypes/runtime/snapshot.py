"""``storelab prototype snapshot``: every screen of one version, rendered by the real runtime.

Starts the runtime (``launch.run_prototype``) on a free loopback port, unless a running one is
given, and drives Debian's headless chromium (Playwright, ``executable_path``; never a
downloaded browser) through the team preview: consent, the first mission, then the preview's
"Jump to screen" for each screen. A screen is shot whole, the preview's own chrome (side
panel, id labels, visible hotspots) hidden for the shot, so the picture is what a customer saw
in a task and taps (page shares, ``prototypes.snapshots``) line up with it. The boxes of the
screen's keyed elements (``st-key-el_<kind>__<screen>__<element>``: every tappable element and
field) are read in the same frame. Files and frame:
``prototypes.snapshots``. The preview's events carry ``props.preview`` and never count.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from errors import InvalidInputError
from lab import Lab, lab_stores
from prototypes.library import load_lab_prototype
from prototypes.runtime.custom import UNAVAILABLE
from prototypes.runtime.launch import prototype_url, run_prototype
from prototypes.snapshots import (
    PAGE_FRAME_JS,
    VIEWPORTS,
    Box,
    ScreenShot,
    SnapshotManifest,
    check_device,
    snapshot_dir,
    write_manifest,
)
from prototypes.spec import BASE_VARIANT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
START_TIMEOUT_S = 90.0
STEP_TIMEOUT_MS = 15_000
MAX_PAGE_HEIGHT = 12_000  # CSS px: a screen longer than this is shot down to here
SHOT_STYLE_ID = "sl-snapshot-style"
# For the shot only: what a customer's page does not show (the preview's panel and labels), and
# the task bar, which floats at the bottom of the viewport wherever the page is scrolled (in a
# picture of the whole page it would cover the page's end; taps on it are never mapped).
SHOT_CSS = (
    "[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'], .st-key-sl_taskbar, "
    "[data-testid='stExpandSidebarButton'], .sl-pv-id, "
    "[data-testid='stElementContainer']:has(.sl-pv-id) { display: none !important; } "
    "[class*='st-key-el_spot__'] button { opacity: 0 !important; outline: none !important; } "
    "[data-testid='stMainBlockContainer'] { box-shadow: none !important; }"
)
BOXES_JS = (
    """
(screen) => {"""
    + PAGE_FRAME_JS
    + """
  const pg = slPage(window), W = window.innerWidth, H = pg.height, out = {};
  const prefix = 'st-key-el_';
  for (const node of document.querySelectorAll('[class*="st-key-el_"]')) {
    for (const c of node.classList) {
      if (!c.startsWith(prefix)) continue;
      const rest = c.slice(prefix.length), at = rest.indexOf('__' + screen + '__');
      if (at <= 0 || rest.slice(0, at).includes('__')) continue;
      const element = rest.slice(at + screen.length + 4);
      const rect = node.getBoundingClientRect();
      if (rect.width <= 0 || rect.height <= 0) continue;
      const r = {left: rect.left, right: rect.right,
                 top: rect.top + pg.top, bottom: rect.bottom + pg.top};
      const b = out[element];
      const x0 = Math.min(r.left, b ? b[0] : r.left), y0 = Math.min(r.top, b ? b[1] : r.top);
      const x1 = Math.max(r.right, b ? b[2] : r.right);
      const y1 = Math.max(r.bottom, b ? b[3] : r.bottom);
      out[element] = [x0, y0, x1, y1];
    }
  }
  return {W, H, boxes: Object.entries(out).map(([e, b]) =>
    ({element: e, x: b[0] / W, y: b[1] / H, w: (b[2] - b[0]) / W, h: (b[3] - b[1]) / H}))};
}
"""
)
PAGE_HEIGHT_JS = "() => {" + PAGE_FRAME_JS + " return Math.ceil(slPage(window).height); }"


@dataclass(frozen=True)
class SnapshotRequest:
    """What to render: one prototype version on one device in one variant's layout (None:
    current / its touchpoint / the base)."""

    prototype_id: str
    version: int | None = None
    device: str | None = None
    variant: str | None = None


def take_snapshots(
    lab: Lab,
    request: SnapshotRequest,
    *,
    progress: Callable[[str], None] = lambda _line: None,
    base_url: str | None = None,
    browser: Any = None,
) -> SnapshotManifest:
    """Render every screen of the version into PNGs plus ``manifest.json``; return the manifest.

    ``base_url``: a runtime already serving this lab (else one is started and stopped here);
    ``browser``: a Playwright chromium already launched (else Debian's is launched here).
    A screen that fails is listed in ``manifest.failed`` with its reason; the others are kept.
    """
    proto = load_lab_prototype(lab, request.prototype_id)
    version = proto.current_version if request.version is None else request.version
    if version not in proto.version_numbers:
        raise InvalidInputError(
            f"Prototype {proto.id!r} has no version {version}; "
            f"versions: {', '.join(map(str, proto.version_numbers))}."
        )
    device = check_device(request.device or ("kiosk" if proto.touchpoint == "kiosk" else "phone"))
    view = proto.resolve(version, request.variant)  # an unknown variant: one clear error
    screens = list(view.screens)
    sync_playwright = _playwright() if browser is None else None
    folder = snapshot_dir(lab, proto.id, version, device, view.variant)
    folder.mkdir(parents=True, exist_ok=True)
    store = next(iter(lab_stores(lab)), "S01")
    width, height = VIEWPORTS[device]
    with _runtime(lab, proto.id, base_url) as url:
        link = prototype_url(
            url,
            proto.id,
            store,
            device,
            variant=view.variant,
            version=version,
            preview=True,
            token=lab.config.dashboard.token,
        )
        progress(
            f"Rendering {len(screens)} screen(s) of {proto.id} v{version}"
            f"{'' if view.variant == BASE_VARIANT else f' ({view.variant})'} on {device} …"
        )
        if browser is not None:
            shots, failed = _render(browser, link, screens, folder, (width, height), progress)
        else:
            with sync_playwright() as pw:
                own = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    shots, failed = _render(own, link, screens, folder, (width, height), progress)
                finally:
                    own.close()
    manifest = SnapshotManifest(
        proto.id, version, device, width, height, "page", shots, failed, view.variant
    )
    write_manifest(folder, manifest)
    return manifest


def _render(
    browser: Any,
    link: str,
    screens: list[str],
    folder: Path,
    size: tuple[int, int],
    progress: Callable[[str], None],
) -> tuple[tuple[ScreenShot, ...], dict[str, str]]:
    """Open the preview link in a fresh page of ``browser`` and shoot every screen."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        try:
            _open(page, link)
        except Exception as exc:  # noqa: BLE001 - one line, not a browser traceback
            raise InvalidInputError(
                f"Could not open the prototype in the runtime: {_one_line(exc)}"
            ) from exc
        return render_screens(screens, lambda s: _shoot(page, s, folder), progress=progress)
    finally:
        page.close()


def render_screens(
    screens: list[str],
    shoot: Callable[[str], ScreenShot],
    *,
    progress: Callable[[str], None] = lambda _line: None,
) -> tuple[tuple[ScreenShot, ...], dict[str, str]]:
    """Shoot each screen in turn; one that fails is kept with its reason, the rest go on."""
    shots: list[ScreenShot] = []
    failed: dict[str, str] = {}
    for i, screen in enumerate(screens, 1):
        try:
            shot = shoot(screen)
        except Exception as exc:  # noqa: BLE001 - one broken screen must not lose the others
            failed[screen] = _one_line(exc)
            progress(f"  [{i}/{len(screens)}] {screen}: failed: {failed[screen]}")
            continue
        shots.append(shot)
        progress(f"  [{i}/{len(screens)}] {screen}: {len(shot.boxes)} element box(es)")
    return tuple(shots), failed


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _playwright() -> Any:
    """Playwright's sync API, or one clear line when it or Debian's chromium is missing."""
    if not Path(CHROMIUM).exists():
        raise InvalidInputError(
            f"Snapshots need headless chromium at {CHROMIUM}: install it with "
            "`apt-get install chromium` (storelab never downloads a browser)."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise InvalidInputError(
            "Snapshots need the Python package playwright (pip install playwright); "
            "it drives the system's chromium, no `playwright install` needed."
        ) from exc
    return sync_playwright


class _runtime:
    """The runtime at ``base_url``, or one started on a free loopback port for this run."""

    def __init__(self, lab: Lab, prototype_id: str, base_url: str | None) -> None:
        self.lab, self.prototype_id, self.base_url = lab, prototype_id, base_url
        self.proc: subprocess.Popen | None = None
        self.log: Any = None

    def __enter__(self) -> str:
        if self.base_url:
            return self.base_url
        port = _free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = run_prototype(
            self.lab, self.prototype_id, port=port, quiet=True, output=self.log
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                tail = " ".join(self.log.read().split()[-30:])
                self._stop()
                raise InvalidInputError(f"The runtime did not start on {url}: {tail}")
            time.sleep(0.3)
        return url

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                self.proc.kill()
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:  # noqa: S310
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


def _settle(page: Any) -> None:
    """Until Streamlit has finished its rerun (no running indicator), plus a short paint."""
    page.wait_for_selector("[data-testid='stMainBlockContainer']", timeout=STEP_TIMEOUT_MS)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")",
        timeout=STEP_TIMEOUT_MS,
    )
    page.wait_for_timeout(400)


def _open(page: Any, link: str) -> None:
    """Open the preview link and get past consent and the first mission card (when asked)."""
    page.goto(link)
    _settle(page)
    for key in ("sl_consent_yes", "sl_start_task"):
        button = page.locator(f".st-key-{key} button").first
        try:
            button.wait_for(state="visible", timeout=8_000)
        except Exception:  # noqa: BLE001 - a prototype without that step
            continue
        button.evaluate("b => b.click()")  # on a phone the preview panel lies over it
        _settle(page)
    page.locator(".st-key-sl_pv_jump").first.wait_for(state="visible", timeout=STEP_TIMEOUT_MS)


def _jump(page: Any, screen: str) -> None:
    """The preview's "Jump to screen" picker, then wait for the screen's marker."""
    box = page.locator(".st-key-sl_pv_jump input[role='combobox']").first
    box.click()
    box.fill(screen)
    page.get_by_role("option", name=screen, exact=True).first.click()
    page.locator(f"[data-sl-screen='{screen}']").first.wait_for(
        state="attached", timeout=STEP_TIMEOUT_MS
    )
    _settle(page)


def _shoot(page: Any, screen: str, folder: Path) -> ScreenShot:
    """Jump to the screen, hide the preview's chrome, shoot the whole page, read the boxes.

    The picture is the page frame's page: as tall as the content. A screen taller than the
    viewport is shot by growing the viewport to the page's height (the runtime's section
    scrolls, so a "full page" screenshot would stop at the viewport), which comes back for the
    next screen; a shorter one is clipped to its content.
    """
    _jump(page, screen)
    viewport = dict(page.viewport_size)
    page.evaluate(
        "([id, css]) => { const s = document.createElement('style'); s.id = id; "
        "s.textContent = css; document.head.appendChild(s); }",
        [SHOT_STYLE_ID, SHOT_CSS],
    )
    try:
        _scroll_to_top(page)
        broken = page.evaluate(
            "(texts) => [...document.querySelectorAll('.st-key-proto_screen .sl-banner-title')]"
            ".some(e => texts.includes(e.textContent.trim()))",
            list(UNAVAILABLE.values()),
        )
        if broken:
            raise RuntimeError("its custom function failed (the runtime shows 'not available')")
        height = min(int(page.evaluate(PAGE_HEIGHT_JS)), MAX_PAGE_HEIGHT)
        if height > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": height})
            _scroll_to_top(page)
        found = page.evaluate(BOXES_JS, screen)
        height = min(height, int(page.evaluate(PAGE_HEIGHT_JS)))
        image = f"{screen}.png"
        clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height}
        page.screenshot(path=str(folder / image), clip=clip)
    finally:
        page.evaluate(f"() => document.getElementById('{SHOT_STYLE_ID}')?.remove()")
        if page.viewport_size != viewport:
            page.set_viewport_size(viewport)
    boxes = tuple(Box.from_dict(b) for b in found["boxes"])
    return ScreenShot(screen, image, boxes, height=height)


def _scroll_to_top(page: Any) -> None:
    page.evaluate(
        '() => document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"]\').forEach(e => e.scrollTo(0, 0))'
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(300)


__all__ = ["CHROMIUM", "SnapshotRequest", "render_screens", "take_snapshots"]
