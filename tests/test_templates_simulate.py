"""Every built-in template goes the whole way a team takes it: it validates, scaffolds with
``storelab prototype new --template``, gets a first experiment, and the pilot simulator
simulates both arms of it with contract events."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from experiments.spec import load_experiment
from feedback.events import Event
from prototypes.commands import app
from prototypes.library import load_lab_prototype
from prototypes.templates import template_ids, template_path
from prototypes.validate import validate_file
from sample_data.simulate import simulate_pilot
from tests.fixtures import new_test_experiment


@pytest.mark.parametrize("template", template_ids())
def test_template_validates_scaffolds_and_simulates(lab, template: str) -> None:
    assert validate_file(template_path(template)) == []
    runner = CliRunner()
    made = runner.invoke(app, ["new", "pilot", "--template", template, "--lab", str(lab.root)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["validate", "pilot", "--lab", str(lab.root)])
    assert checked.exit_code == 0 and "pilot is valid" in checked.output, checked.output

    new_test_experiment(lab, "first", "pilot", "session")
    spec = load_experiment(lab, "first")
    result = simulate_pilot(lab, spec, sessions=240, seed=3, mc_sessions=2_000)
    rows = [
        json.loads(line)
        for f in result.files
        for line in f.read_text(encoding="utf-8").splitlines()
        if line
    ]
    for row in rows[:50]:
        Event.model_validate(row)
    sessions = {(r["variant"], r["session_id"]) for r in rows}
    per_arm = Counter(variant for variant, _ in sessions)
    assert set(per_arm) == {"control", "treatment"} and min(per_arm.values()) > 60
    proto = load_lab_prototype(lab, "pilot")
    for variant, view_variant in (("control", None), ("treatment", "treatment")):
        view = proto.resolve(None, view_variant)
        won = {r["task"] for r in rows if r["variant"] == variant and r["type"] == "task_success"}
        assert won == {t.id for t in view.tasks}, (variant, won)
        seen = {r["screen"] for r in rows if r["variant"] == variant and r["type"] == "screen_view"}
        assert {s for t in view.tasks for s in t.expected_path} <= seen
