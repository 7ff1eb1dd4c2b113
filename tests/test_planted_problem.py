"""A planted usability problem: its drop-off, misclicks and comments, found in the events by SQL.

The simulator plants a known problem on one screen (``sample_data.problem``); these tests read
it back from the ingested events, as the iteration reports will, and check the truth it
records is exact.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from errors import InvalidInputError
from sample_data.generate import generate_sample
from sample_data.problem import PROBLEMS_FILE, PlantedProblem, parse_problem, read_problems
from tests.fixtures import sample_cli

PROBLEM = PlantedProblem("reserve", x=0.62, y=0.38, variant="treatment", drop=0.3,
                         misclicks=1.2, theme="payment", comment_share=0.25)  # fmt: skip

# per variant and screen of the reserve task: task runs that reached the screen, those that
# ended there without success, misclicks there and their mean position. Screen views and
# misclicks carry no task (as the runtime writes them): they belong to the run whose time
# window holds them (reserve is the last task, so a run lasts from its start to its end).
_SCREENS = """
WITH runs AS (
    SELECT session_id, min(ts) FILTER (WHERE type = 'task_start') AS t0,
           min(ts) FILTER (WHERE type <> 'task_start') AS t1
    FROM events WHERE task = 'reserve' GROUP BY ALL),
inside AS (
    SELECT e.* FROM events e JOIN runs r USING (session_id)
    WHERE e.ts >= r.t0 AND (r.t1 IS NULL OR e.ts <= r.t1)),
arrive AS (
    SELECT variant, screen, count(DISTINCT session_id) AS n FROM inside
    WHERE type = 'screen_view' GROUP BY ALL),
ends AS (
    SELECT variant, screen, count(*) AS left_there FROM events
    WHERE type IN ('task_abandon', 'task_fail') AND task = 'reserve' GROUP BY ALL),
mis AS (
    SELECT variant, screen, count(*) AS m, avg(x) AS mx, avg(y) AS my FROM inside
    WHERE type = 'misclick' GROUP BY ALL)
SELECT variant, screen, n, coalesce(left_there, 0), coalesce(m, 0), mx, my
FROM arrive LEFT JOIN ends USING (variant, screen) LEFT JOIN mis USING (variant, screen)
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from tests.fixtures import new_lab

    lab = new_lab(tmp_path_factory.mktemp("planted") / "lab")
    summary = generate_sample(lab, stores=12, sessions=6000, seed=11, icc=0.0, problem=PROBLEM)
    return lab, summary


def _rows(lab, sql: str, *args) -> list[tuple]:
    from feedback.store import connect

    with connect(lab, read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


def test_the_planted_screen_loses_the_planted_share_of_its_arrivals(planted):
    lab, summary = planted
    rows = {(v, s): (n, left) for v, s, n, left, *_ in _rows(lab, _SCREENS)}
    n_p, left_p = rows[("treatment", "reserve")]
    n_0, left_0 = rows[("control", "reserve")]
    rate_p, rate_0 = left_p / n_p, left_0 / n_0
    # the problem makes `drop` of those who would have gone on leave there: r0 + drop (1 - r0)
    assert (rate_p - rate_0) / (1 - rate_0) == pytest.approx(PROBLEM.drop, abs=0.04)
    # and nowhere else: the reserve task's first screen loses as many in both variants
    n_a, left_a = rows[("treatment", "availability")]
    n_c, left_c = rows[("control", "availability")]
    assert left_a / n_a == pytest.approx(left_c / n_c, abs=0.03)
    truth = summary["problem"]["planted"]
    assert set(truth) == {"treatment"}
    assert truth["treatment"]["task_visits"] == n_p  # every run that reached it, counted


def test_misclicks_cluster_at_the_planted_position(planted):
    lab, summary = planted
    rows = {(v, s): (n, m, mx, my) for v, s, n, _, m, mx, my in _rows(lab, _SCREENS)}
    n_p, m_p, mx, my = rows[("treatment", "reserve")]
    n_0, m_0, _, _ = rows[("control", "reserve")]
    assert m_p / n_p - m_0 / n_0 == pytest.approx(PROBLEM.misclicks, abs=0.12)
    # the ordinary misclicks (uniform) are a few percent of them: the mean is the planted spot
    assert mx == pytest.approx(PROBLEM.x, abs=0.02) and my == pytest.approx(PROBLEM.y, abs=0.02)
    # the truth's count: what is there beyond the ordinary rate (the control's, per arrival)
    planted_count = summary["problem"]["planted"]["treatment"]["misclicks"]
    assert planted_count == pytest.approx(m_p - m_0 / n_0 * n_p, rel=0.03)


def test_planted_misclicks_look_like_the_runtime_s(planted):
    lab, _ = planted
    rows = _rows(
        lab,
        """SELECT DISTINCT element IS NULL, props::VARCHAR, x BETWEEN 0 AND 1,
        y BETWEEN 0 AND 1, device FROM events WHERE type = 'misclick' AND screen = 'reserve'""",
    )
    assert {r[:4] for r in rows} == {(True, "{}", True, True)}


def test_planted_comments_are_counted_exactly(planted):
    lab, summary = planted
    truth = summary["problem"]
    assert truth["theme"] == "payment" and truth["comments_planted"] > 100
    pattern = "|".join(truth["keywords"])
    ((on_theme,),) = _rows(lab, "SELECT count(*) FROM events WHERE type = 'comment' "
                                "AND regexp_matches(lower(text), ?)", pattern)  # fmt: skip
    assert on_theme == truth["comments_on_theme"] == truth["comments_planted"]
    sql = "SELECT variant, count(*) FROM events WHERE type = 'comment' AND list_contains(?, text)"
    by_variant = dict(_rows(lab, sql + " GROUP BY ALL", truth["texts"]))
    assert by_variant == {"treatment": truth["planted"]["treatment"]["comments"]}


def test_the_truth_is_kept_in_the_lab(planted):
    lab, summary = planted
    truth = json.loads(lab.truth_path.read_text(encoding="utf-8"))
    assert truth["problem"] == summary["problem"]
    record = read_problems(lab.root)[summary["experiment"]]
    assert record["prototype"] == "scan-and-discover" and record["screen"] == "reserve"
    assert record["planted"] == summary["problem"]["planted"]
    assert (lab.root / PROBLEMS_FILE).is_file()
    # the truth's means include the problem: the treatment loses task success
    assert summary["true_effects"]["task_success_rate"]["treatment"] < -0.03


def test_cli_plants_a_problem_and_says_what_it_wrote(lab):
    args = ["sample", "generate", "--lab", str(lab.root), "--sessions", "400"]
    result = CliRunner().invoke(sample_cli(), [*args, "--problem", "reserve@0.3,0.7",
                                         "--problem-theme", "waiting", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    problem = json.loads(result.stdout)["problem"]
    assert (problem["screen"], problem["x"], problem["y"]) == ("reserve", 0.3, 0.7)
    assert set(problem["planted"]) == {"control", "treatment"}  # no variant named: every one
    assert problem["comments_planted"] == problem["comments_on_theme"] > 0
    text = CliRunner().invoke(sample_cli(), [*args, "--seed", "8", "--problem", "reserve"])
    assert text.exit_code == 0, text.output
    assert "Planted problem on screen reserve" in text.output and "left there" in text.output


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--problem", "checkout"], "screens that can have a problem: availability, product"),
        (["--problem", "done"], "no variant chosen passes that screen"),  # a goal: nobody leaves
        (["--problem", "reserve@1.5,0.2"], "x, y must be in 0..1"),
        (["--problem", "reserve@a,b"], "X and Y must be numbers"),
        (["--problem", "reserve", "--problem-theme", "weather"], "theme 'weather' unknown"),
        (["--problem", "reserve", "--problem-variant", "v9"], "variants are control, treatment"),
        (["--problem-drop", "0.5"], "--problem-* options need --problem"),
    ],
)
def test_cli_bad_problems_are_one_line(lab, extra, says):
    result = CliRunner().invoke(
        sample_cli(), ["sample", "generate", "--lab", str(lab.root), "--sessions", "50", *extra]
    )
    assert result.exit_code == 1
    assert says in result.output and "Traceback" not in result.output


def test_parse_problem():
    p = parse_problem("reserve@0.72,0.18", drop=0.5, theme=None)
    assert (p.screen, p.x, p.y, p.drop, p.theme) == ("reserve", 0.72, 0.18, 0.5, "usability")
    with pytest.raises(InvalidInputError, match="SCREEN@X,Y"):
        parse_problem("re serve")
