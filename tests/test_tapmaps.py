"""Tap maps: density and hot spot on hand-placed points, the SQL's filters, the CLI's errors,
the snapshot manifest and the figure / HTML a report embeds (the browser test is in tests/e2e)."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
from typer.testing import CliRunner

from insights.tapmaps import (
    BINS,
    TapFilter,
    TapMapReport,
    build_tap_maps,
    cell_of,
    grid_from_points,
    hot_spot,
    screen_map,
)
from prototypes.snapshots import Box, ScreenShot, SnapshotManifest, snapshot_dir, write_manifest
from tests.fixtures import make_event, new_lab, write_jsonl

# --- density and hot spot on hand-placed points -----------------------------------------------


def test_cells_match_the_sql_binning_at_the_edges() -> None:
    assert cell_of(0.0) == 0
    assert cell_of(1.0) == BINS - 1  # x = 1 is on the screen: the last cell, not outside
    assert cell_of(0.5) == BINS // 2
    assert cell_of(0.0199) == 0 and cell_of(0.02) == 1


def test_empty_screen_has_no_hot_spot() -> None:
    assert hot_spot(grid_from_points([])) is None


def test_hot_spot_is_the_cluster_not_the_scatter() -> None:
    cluster = [(0.30 + dx, 0.60 + dy) for dx in (-0.01, 0, 0.01) for dy in (-0.01, 0, 0.01)]
    scatter = [(0.9, 0.1), (0.1, 0.9), (0.7, 0.3), (0.5, 0.95), (0.05, 0.05)]
    spot = hot_spot(grid_from_points(cluster * 3 + scatter))
    assert spot is not None
    assert abs(spot.x - 0.30) < 0.006 and abs(spot.y - 0.60) < 0.006
    assert spot.share == pytest.approx(27 / 32, abs=0.01)


def test_hot_spot_between_two_cells_is_not_snapped_to_a_cell_centre() -> None:
    # 0.41 lies on a cell border (cells are 0.02 wide): an argmax alone would say 0.41 ± 0.01
    points = [(0.405, 0.7), (0.415, 0.7)] * 20
    spot = hot_spot(grid_from_points(points))
    assert abs(spot.x - 0.41) < 0.003 and abs(spot.y - 0.71) < 0.003  # 0.7 is cell 35: 0.71


def test_a_planted_misclick_cluster_is_found_within_a_few_percent() -> None:
    """As the simulator plants it: normal around (x, y), sd 0.03, clipped, among everything
    else on the screen (taps on two buttons, misclicks scattered over the screen)."""
    rng = np.random.default_rng(14)
    planted = (0.5, 0.42)
    cluster = np.clip(rng.normal(planted, 0.03, size=(150, 2)), 0, 1)
    scattered = rng.uniform(0, 1, size=(400, 2))
    buttons = np.clip(rng.normal((0.5, 0.88), (0.15, 0.01), size=(900, 2)), 0, 1)
    cells = [("misclick", cell_of(x), cell_of(y), 1) for x, y in np.vstack([cluster, scattered])]
    cells += [("tap", cell_of(x), cell_of(y), 1) for x, y in buttons]
    m = screen_map("phone", "reserve", cells, [])
    assert m.misclicks == 550 and m.taps == 900
    assert abs(m.misclick_hot_spot.x - planted[0]) < 0.02
    assert abs(m.misclick_hot_spot.y - planted[1]) < 0.02


def test_a_cluster_at_the_edge_of_the_screen_stays_at_the_edge() -> None:
    rng = np.random.default_rng(3)
    cluster = np.clip(rng.normal((0.03, 0.95), 0.02, size=(200, 2)), 0, 1)
    spot = hot_spot(grid_from_points(cluster.tolist() + rng.uniform(0, 1, (100, 2)).tolist()))
    assert abs(spot.x - 0.03) < 0.02 and abs(spot.y - 0.95) < 0.02


def test_the_element_under_the_hot_spot_is_the_smallest_box_holding_it() -> None:
    m = screen_map("phone", "s", [("tap", cell_of(0.2), cell_of(0.5), 10)], [])
    boxes = (Box("card", 0.0, 0.4, 1.0, 0.3), Box("buy", 0.1, 0.45, 0.3, 0.1))
    from dataclasses import replace

    assert replace(m, boxes=boxes).element_at(m.hot_spot) == "buy"
    assert replace(m, boxes=boxes[:1]).element_at(m.hot_spot) == "card"
    assert m.element_at(m.hot_spot) is None


def test_a_report_round_trips_through_its_dict() -> None:
    m = screen_map(
        "kiosk", "home", [("tap", 3, 4, 2), ("misclick", 40, 9, 1)], [("tap", 0.07, 0.09)]
    )
    report = TapMapReport(TapFilter("p", 2, device="kiosk"), 2, (m,), ("phone",))
    again = TapMapReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


# --- the SQL: which taps count ------------------------------------------------------------------


@pytest.fixture
def tap_lab(tmp_path):
    """scan-and-discover with version 2, and taps placed per version/variant/store/device."""
    from feedback.ingest import ingest
    from prototypes.library import prototype_file
    from prototypes.scaffold import add_version, new_prototype

    lab = new_lab(tmp_path / "lab", locale="en")
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    add_version(prototype_file(lab, "scan-and-discover"))
    rows = []

    def taps(n, *, version=1, variant="control", store="S01", device="phone", kind="tap",
             screen="scan", x=0.5, y=0.5, props=None):  # fmt: skip
        sid = str(uuid.uuid4())
        for _ in range(n):
            rows.append(
                make_event(
                    session_id=sid, prototype_version=version, variant=variant, store_id=store,
                    device=device, type=kind, screen=screen, x=x, y=y, props=props or {},
                )
            )  # fmt: skip

    taps(5)  # the baseline: v1, control, S01, phone, scan
    taps(3, kind="misclick", x=0.1, y=0.9)
    taps(2, version=2)
    taps(4, variant="treatment")
    taps(6, store="S02")
    taps(7, device="kiosk")
    taps(8, screen="product")
    taps(9, props={"preview": True})  # the team's preview: never counted
    taps(1, x=None, y=None)  # a tap without a browser position: nothing to draw
    write_jsonl(lab.spool_dir / "taps.jsonl", rows)
    ingest(lab)
    return lab


def _count(report: TapMapReport) -> dict[tuple[str, str], tuple[int, int]]:
    return {(m.device, m.screen): (m.taps, m.misclicks) for m in report.maps}


def test_the_current_version_without_team_sessions_or_unplaced_taps(tap_lab) -> None:
    report = build_tap_maps(tap_lab, TapFilter("scan-and-discover", version=1))
    assert report.version == 1
    assert _count(report) == {
        ("phone", "scan"): (5 + 4 + 6, 3),
        ("kiosk", "scan"): (7, 0),
        ("phone", "product"): (8, 0),
    }
    assert _count(build_tap_maps(tap_lab, TapFilter("scan-and-discover"))) == {
        ("phone", "scan"): (2, 0)  # the current version is 2
    }


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (dict(variant="treatment"), {("phone", "scan"): (4, 0)}),
        (dict(store="S02"), {("phone", "scan"): (6, 0)}),
        (dict(device="kiosk"), {("kiosk", "scan"): (7, 0)}),
        (dict(screen="product"), {("phone", "product"): (8, 0)}),
        (dict(store="S09"), {}),
    ],
)
def test_each_filter(tap_lab, flt, expected) -> None:
    report = build_tap_maps(tap_lab, TapFilter("scan-and-discover", version=1, **flt))
    assert _count(report) == expected


def test_points_and_hot_spot_come_from_the_placed_taps(tap_lab) -> None:
    m = build_tap_maps(tap_lab, TapFilter("scan-and-discover", version=1, store="S01")).get(
        "scan", "phone"
    )
    assert sorted({(p.kind, p.x, p.y) for p in m.points}) == [
        ("misclick", 0.1, 0.9),
        ("tap", 0.5, 0.5),
    ]
    assert (m.hot_spot.x, m.hot_spot.y) == pytest.approx((0.51, 0.51), abs=0.001)  # cell centre
    assert (m.misclick_hot_spot.x, m.misclick_hot_spot.y) == pytest.approx((0.11, 0.91), abs=1e-3)


# --- the command line -----------------------------------------------------------------------------


def _cli(*args: str):
    from cli import app

    return CliRunner().invoke(app, list(args))


def test_report_tapmap_json(tap_lab) -> None:
    res = _cli("report", "tapmap", "scan-and-discover", "--version", "1", "--screen", "scan",
               "--device", "phone", "--lab", str(tap_lab.root), "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    (screen,) = data["screens"]
    assert (screen["screen"], screen["taps"], screen["misclicks"]) == ("scan", 15, 3)
    assert screen["image"] is None and data["missing_snapshots"] == ["phone"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "tapmap", "nope"], "no prototype"),
        (["report", "tapmap", "scan-and-discover", "--version", "7"], "has no version 7"),
        (["report", "tapmap", "scan-and-discover", "--device", "tablet"], "phone or kiosk"),
        (["prototype", "snapshot", "nope"], "no prototype"),
        (["prototype", "snapshot", "scan-and-discover", "--version", "7"], "has no version 7"),
        (["prototype", "snapshot", "scan-and-discover", "--device", "tablet"], "phone or kiosk"),
    ],
)
def test_cli_errors_are_one_line(tap_lab, args, message) -> None:
    res = _cli(*args, "--lab", str(tap_lab.root))
    assert res.exit_code == 1, res.output
    assert message in res.stderr.lower() or message in res.stderr
    assert "Traceback" not in res.output and len(res.stderr.strip().splitlines()) == 1


def test_snapshot_without_chromium_says_how_to_get_it(tap_lab, monkeypatch) -> None:
    import prototypes.runtime.snapshot as snap

    monkeypatch.setattr(snap, "CHROMIUM", "/nonexistent/chromium")
    res = _cli("prototype", "snapshot", "scan-and-discover", "--lab", str(tap_lab.root))
    assert res.exit_code == 1
    assert "apt-get install chromium" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_screen_that_fails_is_listed_and_the_others_kept() -> None:
    from prototypes.runtime.snapshot import render_screens

    lines = []

    def shoot(screen: str) -> ScreenShot:
        if screen == "broken":
            raise TimeoutError("Locator.click: Timeout 15000ms exceeded.\nCall log: …")
        return ScreenShot(screen, f"{screen}.png", (Box("b", 0, 0, 0.5, 0.1),))

    shots, failed = render_screens(["a", "broken", "c"], shoot, progress=lines.append)
    assert [s.screen for s in shots] == ["a", "c"]
    assert failed == {"broken": "TimeoutError: Locator.click: Timeout 15000ms exceeded."}
    assert len(lines) == 3 and "broken: failed" in lines[1]


# --- snapshots joined to the maps, and what a report embeds ------------------------------------

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)


def test_a_snapshot_gives_the_map_its_picture_boxes_and_element(tap_lab) -> None:
    folder = snapshot_dir(tap_lab, "scan-and-discover", 1, "phone")
    folder.mkdir(parents=True)
    (folder / "scan.png").write_bytes(PNG_1x1)
    shot = ScreenShot("scan", "scan.png", (Box("scanner", 0.4, 0.45, 0.2, 0.1),))
    write_manifest(folder, SnapshotManifest("scan-and-discover", 1, "phone", 390, 844, "viewport",
                                            (shot,)))  # fmt: skip
    report = build_tap_maps(tap_lab, TapFilter("scan-and-discover", version=1, store="S01"))
    m = report.get("scan", "phone")
    assert m.image == str(folder / "scan.png") and (m.width, m.height) == (390, 844)
    assert m.summary()["hot_spot_element"] == "scanner"
    assert report.missing_snapshots == ("kiosk",)  # kiosk taps, no kiosk snapshot
    blank = next(m for m in report.maps if m.device == "kiosk")
    assert blank.image is None and (blank.width, blank.height) == (1920, 1080)  # its shape

    from reports.tapmaps import tapmap_figure, tapmap_html

    fig = tapmap_figure(m)
    assert fig.layout.images[0].source.startswith("data:image/png;base64,")
    assert list(fig.layout.yaxis.range) == [1, 0]  # y runs down, as on the screen
    page = tapmap_html(m)
    assert 'data-screen="scan"' in page and ";base64,iVBORw0KGgo" in page  # the PNG inlined
    assert "on scanner" in page
    assert "<script src=" not in page  # plotly.js is the page's, loaded once


def test_a_variant_is_drawn_on_its_own_layout_and_a_long_page_makes_a_tall_map(tap_lab) -> None:
    """A variant may move elements: its map takes the variant's snapshot when there is one, and
    says when it falls back to the control layout. A screen longer than the viewport keeps the
    picture's aspect (taps are shares of the whole page)."""
    from reports.tapmaps import tapmap_figure, tapmaps_html

    base = snapshot_dir(tap_lab, "scan-and-discover", 1, "phone")
    own = snapshot_dir(tap_lab, "scan-and-discover", 1, "phone", "treatment")
    assert own == base / "variants" / "treatment"
    for folder, variant, top, height in (
        (base, "control", 0.45, 844),
        (own, "treatment", 0.7, 1688),
    ):
        folder.mkdir(parents=True)
        (folder / "scan.png").write_bytes(PNG_1x1)
        shot = ScreenShot("scan", "scan.png", (Box("scanner", 0.4, top, 0.2, 0.1),), height)
        write_manifest(folder, SnapshotManifest("scan-and-discover", 1, "phone", 390, 844,
                                                variant=variant, screens=(shot,)))  # fmt: skip

    treated = build_tap_maps(tap_lab, TapFilter("scan-and-discover", 1, variant="treatment"))
    m = treated.get("scan", "phone")
    assert m.image == str(own / "scan.png") and m.boxes[0].y == 0.7
    assert (m.width, m.height) == (390, 1688) and treated.base_layout == ()
    fig = tapmap_figure(m)
    assert fig.layout.height == round(fig.layout.width * 1688 / 390)  # the whole page, tall
    control = build_tap_maps(tap_lab, TapFilter("scan-and-discover", 1, variant="control"))
    assert control.get("scan", "phone").image == str(base / "scan.png")

    (own / "manifest.json").unlink()  # the variant never snapshotted: drawn on the base, said so
    fallback = build_tap_maps(tap_lab, TapFilter("scan-and-discover", 1, variant="treatment"))
    assert fallback.get("scan", "phone").image == str(base / "scan.png")
    assert fallback.base_layout == ("phone",)
    hint = next(h for h in fallback.snapshot_hints() if "variant treatment" in h)
    assert "--device phone --variant treatment" in hint
    assert "<code>storelab prototype snapshot" in tapmaps_html(fallback)
    assert fallback.summary()["drawn_on_base_layout"] == ["phone"]


def test_a_variant_name_never_becomes_a_path(tap_lab) -> None:
    from errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="not a variant name"):
        snapshot_dir(tap_lab, "scan-and-discover", 1, "phone", "../../etc")


def test_report_tapmap_writes_a_self_contained_html(tap_lab, tmp_path) -> None:
    out = tmp_path / "maps.html"
    res = _cli("report", "tapmap", "scan-and-discover", "--version", "1", "--out", str(out),
               "--lab", str(tap_lab.root))  # fmt: skip
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert text.count('class="sl-tapmap"') == 3 and "Plotly" in text
    assert "no snapshot" in res.stdout


def test_the_pickers_offer_what_has_taps(tap_lab) -> None:
    from insights.tapmaps import tap_options

    opts = tap_options(tap_lab, "scan-and-discover")
    assert opts.versions == (1, 2)
    assert opts.devices[1] == ("phone", "kiosk")  # most taps first
    assert opts.screens[(1, "phone")] == ("product", "scan")
    assert opts.variants[1] == ("control", "treatment") and opts.stores[1] == ("S01", "S02")


def test_the_dashboard_page_draws_a_map_per_screen_and_filters(tap_lab, monkeypatch) -> None:
    from tests.test_reports_app import dashboard_page

    at = dashboard_page(tap_lab, monkeypatch, "tapmaps")
    assert not at.exception
    assert at.selectbox(key="tm_version").value == 2  # the newest version first
    assert len(at.get("plotly_chart")) == 1
    at.selectbox(key="tm_version").set_value(1).run()
    assert at.selectbox(key="tm_device").value == "phone"  # most taps
    assert len(at.get("plotly_chart")) == 2  # scan and product
    assert any("No snapshot of version 1 on phone" in w.value for w in at.warning)
    at.selectbox(key="tm_store").set_value("S02").run()
    assert [m.value for m in at.markdown if "taps" in m.value] == [
        "**scan** · 6 taps · 0 misclicks"
    ]
