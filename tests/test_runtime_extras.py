"""Runtime pieces around the app: QR sheet, launching, custom screens, tap parsing, theme."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from lab import InvalidInputError, Lab
from prototypes.runtime import launch
from prototypes.runtime.custom import ScreenAPI, load_screen_function
from prototypes.runtime.session import CustomerSession, RunContext
from prototypes.runtime.taps import parse_taps
from prototypes.runtime.theme import page_css
from prototypes.scaffold import new_prototype
from prototypes.spec import load_prototype

ROOT = Path(__file__).resolve().parents[1]


def test_qr_sheet_has_one_code_per_store(lab: Lab) -> None:
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    out = launch.write_qr_sheet(
        lab,
        "scan-and-discover",
        ["S01", "S02"],
        base_url="https://pilot.example.org",
        out=lab.root / "qr.html",
    )
    text = out.read_text(encoding="utf-8")
    assert text.count("<svg") == 2
    assert "Scannen &amp; mitmachen – 1 Minute, anonym" in text
    assert "storelab Hamburg" in text and "Berlin" in text
    assert (
        "https://pilot.example.org/?prototype=scan-and-discover&amp;store=S02&amp;device=phone"
        in text
    )
    assert "@page" in text and "A4" in text
    default = launch.write_qr_sheet(lab, "scan-and-discover", ["S01"])
    assert default == lab.reports_dir / "qr-scan-and-discover.html" and default.is_file()


def test_qr_sheet_and_run_refuse_unknown_input(lab: Lab) -> None:
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    with pytest.raises(InvalidInputError, match="S77 is not in"):
        launch.write_qr_sheet(lab, "scan-and-discover", ["S01", "S77"])
    with pytest.raises(InvalidInputError, match="no prototype 'nope'"):
        launch.write_qr_sheet(lab, "nope", ["S01"])
    with pytest.raises(InvalidInputError, match="no prototype 'nope'"):
        launch.run_prototype(lab, "nope")
    with pytest.raises(InvalidInputError, match="S77"):
        launch.run_prototype(lab, "scan-and-discover", store="S77")
    with pytest.raises(InvalidInputError, match="kiosk or phone"):
        launch.run_prototype(lab, "scan-and-discover", device="tv")
    with pytest.raises(InvalidInputError, match="no variant 'blue'"):
        launch.run_prototype(lab, "scan-and-discover", variant="blue")
    with pytest.raises(InvalidInputError, match="no version 9"):
        launch.run_prototype(lab, "scan-and-discover", version=9)


def test_streamlit_command_and_urls() -> None:
    cmd = launch.streamlit_command(8600)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[4].endswith("prototypes/runtime/app.py")
    for flag, value in (
        ("--server.headless", "true"),
        ("--server.port", "8600"),
        ("--browser.gatherUsageStats", "false"),
    ):
        assert cmd[cmd.index(flag) + 1] == value
    url = launch.prototype_url(
        "http://h:1/", "p", "S01", "kiosk", variant="treatment", preview=True
    )
    assert url == "http://h:1/?prototype=p&store=S01&device=kiosk&variant=treatment&preview=1"


def test_launch_imports_stay_light() -> None:
    import subprocess

    code = (
        "import sys; import prototypes.runtime.launch; "
        "print(sorted(m for m in ('streamlit','segno','duckdb','pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def test_parse_taps_keeps_only_unacknowledged() -> None:
    raw = '[{"seq": 1, "x": 0.1}, {"seq": 2, "x": 0.2}, {"seq": 3, "x": 0.3}]'
    fresh, ack = parse_taps(raw, 1)
    assert [t["seq"] for t in fresh] == [2, 3] and ack == 3
    assert parse_taps("not json", 4) == ([], 4)
    assert parse_taps(None, 2) == ([], 2)


def test_page_css_sizes_touch_targets_per_device() -> None:
    assert "--sl-touch: 52px" in page_css("phone") and "--sl-width: 440px" in page_css("phone")
    assert "--sl-touch: 72px" in page_css("kiosk")
    assert "stToolbar" in page_css("kiosk")  # Streamlit chrome hidden
    assert "stSidebar'], [data-testid='stSidebarCollapsedControl'] { display: none" in page_css(
        "kiosk"
    )
    assert "display: none !important; }" in page_css("phone", preview=True)


# --- custom screens -----------------------------------------------------------------------------


class FakeRenderer:
    """What ScreenAPI needs from the renderer, without Streamlit."""

    def __init__(self, session: CustomerSession, folder: Path) -> None:
        self.session = session
        self.locale = session.locale
        self.device = session.ctx.device
        self.folder = folder
        self.preview = False
        self.drawn: list[str] = []

    def raw(self, text):
        return text.get(self.locale) if isinstance(text, dict) else str(text)

    def html(self, markup: str) -> None:
        self.drawn.append(markup)


def test_custom_screen_api_emits_through_the_session_only(lab: Lab, tmp_path: Path) -> None:
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    folder = lab.prototypes_dir / "scan-and-discover"
    shutil.copy(ROOT / "docs" / "custom-screens-example.py", folder / "screens.py")
    proto = load_prototype(folder)
    view = proto.resolve()
    session = CustomerSession(
        ctx=RunContext(proto.id, 1, "control", "control", "S03", "kiosk", preview=True),
        view=view,
        locale="en",
    )
    session.start(True)
    fn = load_screen_function(folder, "screens.py", "render")
    assert callable(fn)
    api = ScreenAPI(FakeRenderer(session, folder), "product")
    assert (api.locale, api.device, api.screen) == ("en", "kiosk", "product")
    api.heading({"de": "Hallo", "en": "Hello"})
    api.emit("answer", element="style-sporty", question="custom.style", value=0)
    with pytest.raises(ValueError, match="cannot emit 'session_end'"):
        api.emit("session_end")
    out = []
    session.flush(out.append)
    answer = out[-1]
    assert (answer.type, answer.screen, answer.question, answer.store_id) == (
        "answer",
        "product",
        "custom.style",
        "S03",
    )
    assert answer.props == {"custom": True, "preview": True}
    with pytest.raises(ValueError, match="inside"):
        load_screen_function(folder, "../../storelab.toml", "render")
    with pytest.raises(AttributeError, match="no function 'nope'"):
        load_screen_function(folder, "screens.py", "nope")
