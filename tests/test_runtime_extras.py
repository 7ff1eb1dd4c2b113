"""Runtime pieces around the app: QR sheet, launching, custom screens, tap parsing, theme."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from errors import InvalidInputError
from lab import Lab
from prototypes.library import load_prototype
from prototypes.runtime import launch
from prototypes.runtime.custom import ScreenAPI, load_screen_function
from prototypes.runtime.session import CustomerSession, RunContext
from prototypes.runtime.taps import parse_taps
from prototypes.runtime.theme import page_css
from prototypes.scaffold import new_prototype

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
    # The code must scale to the printed size, not be cropped to it (seen in a screenshot).
    assert text.count("viewBox=") == 2
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
        "http://h:1/", "p", "S01", "kiosk", variant="treatment", preview=True, token="t-1"
    )
    assert url == (
        "http://h:1/?prototype=p&store=S01&device=kiosk&variant=treatment&preview=1&token=t-1"
    )


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

    def plain(self, text):
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
    # with targets (as the runtime passes custom.targets), only those screens can be reached
    limited = ScreenAPI(FakeRenderer(session, folder), "product", targets=["availability"])
    with pytest.raises(ValueError, match="not in custom.targets"):
        limited.go("details")
    with pytest.raises(ValueError, match="no screen 'nowhere'"):
        limited.go("nowhere")
    assert not hasattr(limited, "sink") and not hasattr(limited, "lab")


ADVISOR_BUTTON = """\
      - type: button
        id: to-size-advisor
        label: {de: "Welche Größe passt mir?", en: "Which size fits me?"}
        target: size-advisor
        style: secondary
"""
ADVISOR_SCREEN = """\
  - id: size-advisor
    title: {de: "Größenberater", en: "Size advisor"}
    custom: {module: size_advisor.py, function: render, targets: [availability]}

"""


def with_size_advisor(lab: Lab, pid: str = "sd") -> Path:
    """scan-and-discover plus the example size advisor: product → size-advisor → availability,
    and the task find-size goes through it. Returns the prototype folder."""
    new_prototype(lab, pid, "scan-and-discover")
    folder = lab.prototypes_dir / pid
    shutil.copy(ROOT / "docs" / "custom-screens-example.py", folder / "size_advisor.py")
    spec = folder / "prototype.yaml"
    text = spec.read_text(encoding="utf-8")
    anchor = "        target: matching\n        style: secondary\n"
    text = text.replace(anchor, anchor + ADVISOR_BUTTON, 1)
    text = text.replace("  - id: details\n", ADVISOR_SCREEN + "  - id: details\n", 1)
    old_path = "expected_path: [scan, product, availability]"
    assert old_path in text
    text = text.replace(old_path, "expected_path: [scan, product, size-advisor, availability]", 1)
    spec.write_text(text, encoding="utf-8")
    return folder


def test_yaml_custom_screen_runs_in_the_app_and_records_events(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from prototypes.runtime.render import widget_key

    folder = with_size_advisor(lab)
    view = load_prototype(folder).resolve()
    assert view.screens["size-advisor"].elements == []
    assert ("custom.availability", "availability") in view.links("size-advisor")

    monkeypatch.setenv("STORELAB_LAB", str(lab.root))
    at = AppTest.from_file(str(ROOT / "prototypes" / "runtime" / "app.py"), default_timeout=60)
    for key, value in {"prototype": "sd", "store": "S01", "device": "kiosk", "lang": "en"}.items():
        at.query_params[key] = value
    at.run()

    def click(key: str) -> None:
        present = [b.key for b in at.button]
        assert key in present, f"no button {key!r}; buttons: {present}"
        at.button(key=key).click().run()
        assert not at.exception, at.exception

    def screen() -> str:
        return at.session_state["sl_session"].screen

    click("sl_consent_yes")
    click("sl_start_task")
    click(widget_key("scanbtn", "scan", "scanner"))
    assert screen() == "product"
    click(widget_key("btn", "product", "to-size-advisor"))
    assert screen() == "size-advisor"
    page = " ".join(m.value for m in at.markdown)
    assert "sl-banner warning" not in page  # the function ran without an error card
    for answer in ("height-medium", "fit-regular", "layers-thin"):
        click(widget_key("btn", "size-advisor", answer))
        assert screen() == "size-advisor"
    page = " ".join(m.value for m in at.markdown)
    assert "Size M" in page or "Größe M" in page
    click(widget_key("btn", "size-advisor", "custom.availability"))
    assert screen() == "availability"
    assert at.session_state["sl_session"].awaiting_next  # the task goal counts
    click("sl_next")

    rows = []
    for path in sorted(lab.spool_dir.glob("*.jsonl*")):
        rows += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    on_advisor = [r for r in rows if r["screen"] == "size-advisor"]
    views = [r for r in rows if r["type"] == "screen_view"]
    assert [r["screen"] for r in views] == ["scan", "product", "size-advisor", "availability"]
    taps = [(r["element"], r["props"].get("target")) for r in on_advisor if r["type"] == "tap"]
    assert taps == [
        ("height-medium", None),
        ("fit-regular", None),
        ("layers-thin", None),
        ("custom.availability", "availability"),
    ]
    answers = [(r["question"], r["value"], r["props"]) for r in on_advisor if r["type"] == "answer"]
    assert answers == [
        ("size-advisor.height", 1, {"custom": True}),
        ("size-advisor.fit", 1, {"custom": True}),
        ("size-advisor.layers", 0, {"custom": True}),
    ]
    assert all(r["store_id"] == "S01" and r["prototype_id"] == "sd" for r in on_advisor)
    assert [r["type"] for r in rows].count("task_success") == 1


def test_simulator_walks_through_a_custom_screen(lab: Lab, tmp_path: Path) -> None:
    from sample_data.design import arm_from_view, make_design
    from sample_data.simulate import simulate_pilot

    proto = load_prototype(with_size_advisor(lab))
    views = {"control": proto.resolve(None, None), "treatment": proto.resolve(None, "treatment")}
    task = arm_from_view("control", 1, views["control"]).tasks[0]
    assert task.path == ["scan", "product", "size-advisor", "availability"]
    assert task.forward == ["scanner", "to-size-advisor", "custom.availability"]
    design = make_design(views, {"control": 1, "treatment": 1}, ["S01", "S02"], "session")
    res = simulate_pilot(tmp_path / "spool", design, sessions=200, seed=4, mc_sessions=2000)
    rows = [
        json.loads(line)
        for f in res.files
        for line in f.read_text(encoding="utf-8").splitlines()
        if line
    ]
    assert any(r["type"] == "screen_view" and r["screen"] == "size-advisor" for r in rows)
    assert any(
        r["type"] == "tap"
        and r["screen"] == "size-advisor"
        and r["element"] == "custom.availability"
        for r in rows
    )
