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
