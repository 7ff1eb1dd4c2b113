"""Browser suite: a real ``streamlit run reports/app.py`` server and Debian's chromium.

Module-scoped: one simulated lab, one server on a free port (healthy when ``/_stcore/health``
answers ``ok``) and one browser per test module. The server's output is printed when the module
ends, so a failing test shows what the server said. Never runs ``playwright install``: the
browser is ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import free_port, new_lab, served_prototype, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def e2e_lab(tmp_path_factory: pytest.TempPathFactory):
    """A lab with simulated pilot data (12 stores, 2,000 sessions)."""
    from sample_data.generate import generate_sample

    root = tmp_path_factory.mktemp("e2e") / "pilot"
    lab = new_lab(root, locale="en")
    generate_sample(lab, stores=12, sessions=2000, seed=7, effects={"task_success_rate": 0.08})
    return lab


@pytest.fixture(scope="module")
def dashboard_server(e2e_lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m streamlit run reports/app.py`` for ``e2e_lab``; yields its base URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = dict(os.environ, STORELAB_LAB=str(e2e_lab.root), PYTHONPATH=str(ROOT))
    from reports.serve import dashboard_command

    cmd = dashboard_command(port)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"\n--- streamlit server output ({' '.join(cmd[3:5])}) ---")
        print(log_path.read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="module")
def runtime_lab(tmp_path_factory: pytest.TempPathFactory):
    """A fresh lab with two prototypes: scan-and-discover (phone), personal-recommendation."""
    from prototypes.scaffold import new_prototype

    lab = new_lab(tmp_path_factory.mktemp("runtime") / "lab")
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    new_prototype(lab, "personal-recommendation", "personal-recommendation")
    return lab


@pytest.fixture(scope="module")
def runtime_server(runtime_lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The runtime for ``runtime_lab`` on a free port; yields its base URL."""
    with served_prototype(runtime_lab, "scan-and-discover", tmp_path_factory, "runtime") as url:
        yield url


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(chromium_browser) -> Iterator:
    """A fresh 1280×900 page; console errors are printed for failing tests."""
    context = chromium_browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    page.on("pageerror", lambda exc: print(f"page error: {exc}"))
    try:
        yield page
    finally:
        context.close()
