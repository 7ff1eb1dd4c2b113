"""The usability report finds the simulator's planted problem (sample_data.problem): the
planted screen comes first among the screens to rework, with the counts the events hold."""

from __future__ import annotations

import pytest

from insights.usability import UsabilityQuery, usability_report
from sample_data.generate import generate_sample
from sample_data.problem import PlantedProblem

PROBLEM = PlantedProblem("reserve", x=0.62, y=0.38, drop=0.3, misclicks=1.2)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from tests.fixtures import new_lab

    lab = new_lab(tmp_path_factory.mktemp("usab-planted") / "lab")
    summary = generate_sample(lab, stores=12, sessions=3000, seed=5, problem=PROBLEM)
    return lab, summary


def _count(lab, sql: str) -> int:
    from feedback.store import connect

    with connect(lab) as con:
        return con.execute(sql).fetchone()[0]


def test_the_planted_screen_is_the_first_to_rework(planted) -> None:
    lab, summary = planted
    report = usability_report(lab, "scan-and-discover", UsabilityQuery())
    first = report.rework[0]
    assert first.screen == "reserve"
    assert "reserve" in first.evidence()
    # its misclicks are every misclick the events hold on that screen, the planted ones included
    planted = sum(v["misclicks"] for v in summary["problem"]["planted"].values())
    on_screen = _count(lab, "SELECT count(*) FROM events WHERE type = 'misclick' "
                            "AND screen = 'reserve'")  # fmt: skip
    assert first.misclicks == on_screen >= planted
    # and its failures are the reserve runs whose last screen was reserve
    left = sum(v["left_there"] for v in summary["problem"]["planted"].values())
    screens = {s.screen: s for s in report.task("reserve").screens}
    assert screens["reserve"].drop_offs == first.failures >= left


def test_the_tap_map_finds_the_planted_misclick_cluster(planted) -> None:
    """The misclick hot spot of the planted screen sits within a few per cent of the planted
    position, on every device the pilot ran on."""
    from insights.tapmaps import TapFilter, build_tap_maps

    lab, _summary = planted
    maps = build_tap_maps(lab, TapFilter("scan-and-discover", screen="reserve")).maps
    assert maps
    for screen_map in maps:
        spot = screen_map.misclick_hot_spot
        assert spot is not None, screen_map.device
        assert abs(spot.x - PROBLEM.x) < 0.03 and abs(spot.y - PROBLEM.y) < 0.03, spot


def test_the_codebook_counts_exactly_the_planted_comments(tmp_path) -> None:
    """Two pilots alike but for a planted payment problem: the codebook's checkout theme counts
    exactly the planted comments more (the problem draws from a random stream of its own, so
    every other comment is the same in both)."""
    from insights.comments import CommentFilter, analyse_comments
    from tests.fixtures import new_lab

    payment = PlantedProblem("reserve", x=0.62, y=0.38, theme="payment", comment_share=0.3)
    counts, planted = [], {}
    for name, problem in (("plain", None), ("planted", payment)):
        lab = new_lab(tmp_path / name)
        summary = generate_sample(lab, stores=6, sessions=800, seed=9, problem=problem)
        report = analyse_comments(lab, CommentFilter("scan-and-discover"))
        by_variant = report.counts_by("variant")
        counts.append({v: themes.get("checkout", 0) for v, themes in by_variant.items()})
        if problem:
            planted = {v: p["comments"] for v, p in summary["problem"]["planted"].items()}
    plain, with_problem = counts
    assert sum(planted.values()) > 0
    for variant, n in planted.items():
        assert with_problem.get(variant, 0) - plain.get(variant, 0) == n, variant
