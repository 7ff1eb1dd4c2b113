"""Closed by default: a customer link shows one prototype in one store and nothing else.

The gallery, the team preview and a chosen variant or version need the lab's token; ids in a
link are checked against their patterns and the prototype is found only inside the lab; a link
that does not work names no prototype and no store. Run with AppTest (no browser).
"""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import pytest

from lab import Lab, read_stores, write_stores_csv
from prototypes.scaffold import new_prototype
from tests.fixtures import (
    MINI_PROTOTYPE,
    ROOT,
    app_test,
    click,
    keys,
    new_lab,
    session,
    spool_events,
    write_prototype,
)

BROKEN_DE = "Dieser Link funktioniert leider nicht"
BROKEN_EN = "Sorry, this link does not work"
TEAM_DETAIL = "For the team"


def page_text(at) -> str:
    """Everything the page shows as text (markdown, titles, alerts, widget labels)."""
    parts = [str(m.value) for m in at.markdown]
    for kind in ("title", "header", "subheader", "caption", "info", "error", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [b.label for b in at.button] + [t.label for t in at.text_input]
    parts += [s.label + " " + " ".join(map(str, s.options)) for s in at.selectbox]
    return "\n".join(parts)


@pytest.fixture
def two(tmp_path: Path, monkeypatch) -> Lab:
    """A lab with two prototypes (so a link without one would once show the gallery)."""
    monkeypatch.delenv("STORELAB_LAB", raising=False)
    lab = new_lab(tmp_path / "pilot", name="Geheimlabor Nord")
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    new_prototype(lab, "easy-returns", "easy-returns")
    return lab


def token(lab: Lab) -> str:
    return lab.config.dashboard.token


def shows_nothing_of_the_lab(at, lab: Lab) -> bool:
    text = page_text(at)
    secrets = [
        lab.config.lab.name,
        "scan-and-discover",
        "easy-returns",
        "treatment",
        "Hamburg",  # a store's city
        "S02",
        "play?prototype=",
        token(lab),
    ]
    return not [s for s in secrets if s in text]


# --- the gallery and the preview need the token ------------------------------------------------


def test_play_without_a_prototype_shows_no_gallery_without_the_token(two: Lab, monkeypatch):
    at = app_test(two, monkeypatch)
    assert shows_nothing_of_the_lab(at, two), page_text(at)
    assert BROKEN_DE in page_text(at) and BROKEN_EN in page_text(at)
    assert "sl_gallery_store" not in [s.key for s in at.selectbox]


def test_the_team_gets_the_gallery_with_the_token(two: Lab, monkeypatch):
    at = app_test(two, monkeypatch, token=token(two))
    text = page_text(at)
    for pid in ("scan-and-discover", "easy-returns"):
        assert f"play?prototype={pid}&amp;store=S01&amp;device=phone" in text
        assert f"play?prototype={pid}&amp;store=S01&amp;device=kiosk" in text
    assert "information" in text and "after-sales" in text  # the phases
    assert f"preview=1&amp;token={token(two)}" in text  # the team's preview link opens as such
    assert "device=phone&amp;token" not in text  # customer links carry no token


def test_gallery_page_asks_for_the_token(two: Lab, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STORELAB_LAB", str(two.root))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from prototypes.runtime.gallery import gallery_page
        gallery_page()
        """
    )
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Access token"]
    assert shows_nothing_of_the_lab(at, two), page_text(at)
    at.text_input(key="token_entry").input(token(two)).run()
    assert "scan-and-discover" in page_text(at) and two.config.lab.name in page_text(at)


def test_customer_link_works_without_the_token(two: Lab, monkeypatch):
    at = app_test(two, monkeypatch, prototype="scan-and-discover", store="S02")
    assert "sl_consent_yes" in keys(at) and "sl_pv_restart" not in keys(at)
    text = page_text(at)
    assert "easy-returns" not in text and "token" not in text.lower()
    click(at, "sl_consent_yes")
    events = spool_events(two)
    assert {e["store_id"] for e in events} == {"S02"}
    assert not any((e.get("props") or {}).get("preview") for e in events)


@pytest.mark.parametrize(
    "team_only",
    [{"preview": "1"}, {"variant": "treatment"}, {"version": "1"}],
    ids=["preview", "variant", "version"],
)
def test_preview_variant_and_version_need_the_token(two: Lab, monkeypatch, team_only):
    at = app_test(two, monkeypatch, prototype="scan-and-discover", store="S01", **team_only)
    assert [t.label for t in at.text_input] == ["Access token"]
    assert "sl_consent_yes" not in keys(at) and "sl_pv_restart" not in keys(at)
    assert shows_nothing_of_the_lab(at, two), page_text(at)
    assert not spool_events(two)
    at.text_input(key="token_entry").input(token(two)).run()  # the team types it
    assert not at.exception
    assert "sl_consent_yes" in keys(at)
    if "preview" in team_only:
        assert "sl_pv_restart" in keys(at)


def test_a_wrong_token_opens_nothing(two: Lab, monkeypatch):
    at = app_test(two, monkeypatch, prototype="scan-and-discover", preview="1", token="x" * 32)
    assert "sl_pv_restart" not in keys(at)
    assert any("does not match" in e.value for e in at.error)
    at = app_test(two, monkeypatch, token="x" * 32)
    assert shows_nothing_of_the_lab(at, two), page_text(at)


def test_a_rotated_token_locks_an_open_preview_out(two: Lab, monkeypatch):
    from lab import rotate_token

    at = app_test(two, monkeypatch, prototype="scan-and-discover", preview="1", token=token(two))
    assert "sl_pv_restart" in keys(at)
    rotate_token(two)
    at.run()
    assert "sl_pv_restart" not in keys(at)
    assert [t.label for t in at.text_input] == ["Access token"]


# --- error pages list nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"prototype": "nope", "store": "S01"},
        {"prototype": "scan-and-discover", "store": "S99"},
        {"prototype": "Scan_And_Discover", "store": "S01"},
        {"prototype": "scan-and-discover", "store": "S01<script>"},
        {"prototype": "scan-and-discover", "store": "../S01"},
        {"prototype": "scan-and-discover", "store": "S01", "lang": "en", "device": "tv"},
    ],
    ids=["unknown-prototype", "unknown-store", "bad-prototype-id", "bad-store", "store-path", "ok"],
)
def test_error_pages_list_no_ids(two: Lab, monkeypatch, params):
    at = app_test(two, monkeypatch, **params)
    if params.get("device") == "tv":  # a bad device or language is ignored, not an error
        assert "sl_consent_yes" in keys(at)
        return
    text = page_text(at)
    assert BROKEN_DE in text and BROKEN_EN in text
    assert TEAM_DETAIL not in text
    assert shows_nothing_of_the_lab(at, two), text
    assert "S03" not in text and "S01" not in text
    assert "sl_consent_yes" not in keys(at) and not spool_events(two)


def test_the_team_sees_why_a_link_does_not_work(two: Lab, monkeypatch):
    from prototypes.library import unknown_prototype_message

    at = app_test(two, monkeypatch, prototype="nope", token=token(two))
    text = page_text(at)
    assert BROKEN_DE in text and TEAM_DETAIL in text
    assert html.escape(unknown_prototype_message(two, "nope")) in text
    at = app_test(two, monkeypatch, prototype="scan-and-discover", store="S99", token=token(two))
    assert "S99" in page_text(at) and "S01, S02" in page_text(at)


def test_a_customer_link_without_a_store_is_not_counted_for_some_store(two: Lab, monkeypatch):
    """A link that names no store in a lab of several: the customer gets the broken-link page
    and nothing is recorded (it used to count for S01); the team's preview takes the first
    store, and a lab of one store needs no store in the link."""
    at = app_test(two, monkeypatch, prototype="scan-and-discover")
    text = page_text(at)
    assert BROKEN_DE in text and TEAM_DETAIL not in text
    assert "sl_consent_yes" not in keys(at) and not spool_events(two)
    at = app_test(two, monkeypatch, prototype="scan-and-discover", team="1")
    assert "sl_consent_yes" in keys(at) and session(at).ctx.store_id == "S01"

    write_stores_csv(two.stores_csv, [read_stores(two.stores_csv)[1]])  # only S02 is left
    at = app_test(two, monkeypatch, prototype="scan-and-discover")
    assert session(at).ctx.store_id == "S02"
    click(at, "sl_consent_yes")
    assert {e["store_id"] for e in spool_events(two)} == {"S02"}


def test_a_spec_with_problems_is_a_broken_link_for_customers(lab: Lab, monkeypatch):
    write_prototype(lab, "mini", MINI_PROTOTYPE.replace("target: shop", "target: nowhere"))
    at = app_test(lab, monkeypatch, prototype="mini", store="S01")
    assert BROKEN_EN in page_text(at) and "nowhere" not in page_text(at)
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", token=token(lab))
    assert "nowhere" in page_text(at)


# --- a prototype from outside the lab is never loaded -----------------------------------------

MARKER_MODULE = """\
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("the module ran")


def render(api):
    api.heading({"de": "Fremd", "en": "Foreign"})
"""


def foreign_prototype(tmp_path: Path) -> Path:
    """Another lab's prototype whose start screen is custom code that marks its import."""
    other = new_lab(tmp_path / "other-lab")
    text = MINI_PROTOTYPE.replace(
        "  - id: start\n    elements:\n"
        "      - {type: heading, id: head, text: {de: Start, en: Start}}\n"
        "      - {type: button, id: go, label: {de: Weiter, en: Next}, target: shop}\n",
        "  - id: start\n    custom: {module: evil.py, function: render, targets: [shop]}\n",
    )
    assert "evil.py" in text
    spec = write_prototype(other, "evil", text)
    (spec.parent / "evil.py").write_text(MARKER_MODULE, encoding="utf-8")
    return spec.parent


@pytest.mark.parametrize("with_token", [False, True], ids=["customer", "team"])
def test_path_traversal_in_the_link_loads_nothing(
    tmp_path: Path, lab: Lab, monkeypatch, with_token: bool
):
    folder = foreign_prototype(tmp_path)
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    relative = "../../other-lab/prototypes/evil"
    assert (lab.prototypes_dir / relative / "prototype.yaml").resolve().is_file()
    extra = {"token": token(lab)} if with_token else {}
    for pid in (relative, str(folder), f"{relative}/prototype.yaml"):
        at = app_test(lab, monkeypatch, prototype=pid, store="S01", **extra)
        assert "sl_consent_yes" not in keys(at), pid
        assert BROKEN_DE in page_text(at) and "Foreign" not in page_text(at)
        assert "sl_session" not in at.session_state
    assert not (folder / "IMPORTED").exists()
    assert not spool_events(lab)


def test_prototype_run_refuses_a_path_as_id(tmp_path: Path, lab: Lab):
    from typer.testing import CliRunner

    from cli import app

    folder = foreign_prototype(tmp_path)
    for pid in ("../../other-lab/prototypes/evil", str(folder)):
        result = CliRunner().invoke(app, ["prototype", "run", pid, "--lab", str(lab.root)])
        assert result.exit_code == 1, result.output
        assert "is not a prototype id" in result.output
    assert not (folder / "IMPORTED").exists()


# --- what `prototype run` prints and serves ----------------------------------------------------


class FakeServer:
    pid = 4242

    def __init__(self, cmd, env, **_kwargs) -> None:
        self.env = env
        FakeServer.last = self


def test_run_prints_customer_links_without_the_token_and_team_links_with_it(
    lab: Lab, monkeypatch, capsys
):
    from prototypes.runtime import launch

    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    monkeypatch.setattr(launch.subprocess, "Popen", FakeServer)
    launch.run_prototype(lab, "scan-and-discover", "S02", variant="treatment", preview=True)
    lines = capsys.readouterr().out.splitlines()
    secret = token(lab)
    customer = [x for x in lines if x.split()[0] in ("phone", "kiosk")]
    assert len(customer) == 3 and not [x for x in customer if secret in x or "variant" in x]
    team = [x for x in lines if x.split()[0] in ("preview", "gallery")]
    assert len(team) == 2 and all(f"token={secret}" in x for x in team)
    env = FakeServer.last.env
    assert env[launch.RUN_VARIANT_ENV] == "treatment" and launch.RUN_VERSION_ENV not in env


def test_a_server_started_with_a_variant_shows_it_on_customer_links(lab: Lab, monkeypatch):
    from prototypes.runtime.launch import RUN_VARIANT_ENV

    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    monkeypatch.setenv(RUN_VARIANT_ENV, "treatment")
    at = app_test(lab, monkeypatch, prototype="scan-and-discover", store="S01")
    assert "sl_consent_yes" in keys(at)  # no token asked: the team chose it at the terminal
    assert at.session_state["sl_session"].ctx.view_variant == "treatment"
