"""A prototype's own questions and goals: spec, validation, runtime events, metrics, reports.

Issue 15: single and multiple choice, rating, open text, preference, five-second and
first-click tests, and goals; each is validated with a clear message, asked by the runtime,
written as events, analysed as ``question:``/``goal:`` metrics and in the usability report.
"""

from __future__ import annotations

import json

import pytest

from errors import InvalidInputError
from feedback.custom_measures import custom_metric, custom_name_problem, recalled
from prototypes.library import load_prototype
from prototypes.validate import validate_file
from tests.fixtures import ASKS_PROTOTYPE


def problems_of(tmp_path, text: str) -> list:
    path = tmp_path / "prototype.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_file(path)


def one_problem(tmp_path, text: str):
    found = problems_of(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def test_the_asks_prototype_is_valid(tmp_path):
    assert problems_of(tmp_path, ASKS_PROTOTYPE) == []
    proto = load_prototype(tmp_path / "prototype.yaml")
    view = proto.resolve()
    kinds = [q.instrument for q in view.questions]
    assert kinds == ["single_choice", "multiple_choice", "rating", "open_text", "preference",
                     "five_second", "first_click"]  # fmt: skip
    assert view.questions_after("buy")[0].id == "found"
    assert view.goals_reached(screen="done") == ["reserved"]
    assert view.goals_reached(element="help") == ["helped"]
    assert view.goals_reached(element="pay") == ["checkout"]


BAD = [
    # (what is changed, the words the one problem must say, its spec path)
    (("      - {id: b, label: {de: Ansicht B, en: View B}, screen: shop-b}\n",
      "      - {id: b, label: {de: Ansicht B, en: View B}, screen: shop-b}\n"
      "      - {id: c, label: {de: C, en: C}, screen: done}\n"),
     "compares exactly two designs", "questions[4]"),
    (("      - {id: partly, label: {de: Teilweise, en: Partly}}\n"
      '      - {id: "no", label: {de: Nein, en: "No"}}\n', ""),
     "needs at least two options", "questions[0]"),
    (("    expect: {de: [preis, jacke, euro], en: [price, jacket, euro]}\n", ""),
     "needs what customers should remember", "questions[5]"),
    (("    target: pay\n", "    target: pyy\n"),
     "screen 'shop' has no element 'pyy'; did you mean 'pay'?",
     "questions[6].target"),
    (("    type: rating\n", "    type: rating\n    options: [{id: a, label: {de: A, en: A}}]\n"),
     "a rating question does not use 'options' (it uses anchors, scale)", "questions[2]"),
    (("    type: single_choice\n", "    type: single_chioce\n"),
     "'single_choice'", "questions[0].type"),
    (("  reserved: {screen: done}\n", "  reserved: {screen: done, element: pay}\n"),
     "give exactly one of 'screen: <screen id>' or 'element: <element id>'", "goals.reserved"),
    (("  reserved: {screen: done}\n", "  reserved: {screen: dnoe}\n"),
     "links to screen 'dnoe', which does not exist", "goals.reserved.screen"),
    (("  helped: {element: help}\n", "  helped: {element: hlep}\n"),
     "goal 'helped': no screen has an element 'hlep'", "goals.helped.element"),
    (('      - {id: "no", label: {de: Nein, en: "No"}}\n',
      '      - {id: "yes", label: {de: Nein, en: "No"}}\n'),
     "option id 'yes' is used twice", "questions[0]"),
    (("  - id: found\n", "  - id: nps\n"),
     "question id 'nps' is a standard instrument's", "questions[0].id"),
    (("    seconds: 5\n", "    seconds: 60\n"),
     "seconds must be between 1 and 30, not 60", "questions[5]"),
    (("      - {id: b, label: {de: Ansicht B, en: View B}, screen: shop-b}\n",
      "      - {id: b, label: {de: Ansicht B, en: View B}}\n"),
     "option 'b': a design to compare needs either screen: or image:", "questions[4]"),
    (("    screen: shop\n    target: pay\n", "    target: pay\n"),
     "a first_click test needs the screen it shows", "questions[6]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "words", "path"), BAD, ids=[b[2] + ":" + b[1][:24] for b in BAD]
)
def test_bad_questions_and_goals_are_one_clear_problem(tmp_path, change, words, path):
    old, new = change
    assert old in ASKS_PROTOTYPE, old
    p = one_problem(tmp_path, ASKS_PROTOTYPE.replace(old, new, 1))
    assert words in p.message, p
    assert p.path == path, p
    assert p.line > 1  # on the entry's own line, not the top of the file


def test_experiment_names_are_checked(tmp_path):
    assert custom_name_problem("goal:Reserved") is not None
    assert custom_name_problem("question:found.yes") is None
    assert custom_metric("goal:reserved").kind == "proportion"
    assert custom_metric("question:stars").kind == "mean"
    assert custom_metric("question:layout.b").kind == "proportion"


@pytest.mark.parametrize(
    ("text", "keywords", "expected"),
    [
        ("Die Winterjacke für 129 Euro", ["jacke"], True),
        ("Größe und Preis", ["groesse"], True),
        ("der PREIS!", ["preis"], True),
        ("I saw the price", ["price tag"], False),
        ("the price tag", ["price tag"], True),
        ("49,99", ["49"], True),
        ("149", ["49"], False),
        ("nichts", ["preis", "jacke"], False),
        ("", ["preis"], False),
    ],
)
def test_five_second_keyword_match(text, keywords, expected):
    assert recalled(text, keywords) is expected


def test_unknown_goal_in_an_experiment_is_refused_clearly(tmp_path):
    from experiments.spec import parse_experiment
    from prototypes.measures import check_experiment_measures, defined_measures
    from tests.fixtures import new_lab, write_prototype

    lab = new_lab(tmp_path / "lab")
    write_prototype(lab, "asks", ASKS_PROTOTYPE)
    defined = defined_measures(load_prototype(lab.prototypes_dir / "asks"))
    assert {"goal:reserved", "goal:helped", "question:found.yes", "question:stars",
            "question:layout.b", "question:recall.recalled",
            "question:where.pay"} <= set(defined)  # fmt: skip
    spec = parse_experiment(experiment_raw(["goal:reservd", "question:layout.c"]), "x.yaml")
    with pytest.raises(InvalidInputError) as err:
        check_experiment_measures(lab, spec)
    text = str(err.value)
    assert (
        "goal:reservd: prototype asks has no goal 'reservd' (its goals: reserved, helped, checkout)"
        in text
    )
    assert (
        "question:layout.c: no such answer; 'layout' has question:layout.a, question:layout.b"
        in text
    )
    with pytest.raises(InvalidInputError, match="write goal:<name>"):
        parse_experiment(experiment_raw(["goal:Bad Name"]), "x.yaml")


def experiment_raw(secondary: list[str], primary: str = "goal:reserved") -> dict:
    return {
        "id": "asks-test", "hypothesis": "The hint helps.", "prototype": "asks",
        "unit": "session", "variants": {"control": {"version": 1},
                                        "treatment": {"version": 1, "variant": "treatment"}},
        "allocation": {"control": 0.5, "treatment": 0.5}, "stores": [],
        "start": "2026-11-02", "end": "2026-11-29", "primary_metric": primary,
        "secondary_metrics": secondary, "guardrails": [],
    }  # fmt: skip


def test_cli_lists_a_prototypes_metrics_and_refuses_unknown_ones(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from cli import app
    from tests.fixtures import new_lab, write_prototype

    lab = new_lab(tmp_path / "lab")
    write_prototype(lab, "asks", ASKS_PROTOTYPE)
    runner = CliRunner()
    out = runner.invoke(app, ["prototype", "metrics", "asks", "--lab", str(lab.root)])
    assert out.exit_code == 0, out.output
    assert "goal:reserved" in out.output and "question:layout.b" in out.output
    assert "question:stars " in out.output and "mean answer to 'stars'" in out.output
    (lab.experiments_dir / "asks-test.yaml").write_text(
        yaml.safe_dump(experiment_raw(["question:stars"], primary="goal:reservd")),
        encoding="utf-8",
    )
    out = runner.invoke(app, ["experiment", "analyze", "asks-test", "--lab", str(lab.root)])
    assert out.exit_code == 1
    assert "goal:reservd: prototype asks has no goal 'reservd'" in out.output
    assert "Traceback" not in out.output
    # --all refuses it the same way, in its place, and goes on
    assert runner.invoke(app, ["feedback", "ingest", "--lab", str(lab.root)]).exit_code == 0
    out = runner.invoke(app, ["experiment", "analyze", "--all", "--json", "--lab", str(lab.root)])
    assert out.exit_code == 0, out.output
    [entry] = json.loads(out.output)
    assert "goal:reservd: prototype asks has no goal 'reservd'" in entry["error"]
