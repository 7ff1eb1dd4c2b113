"""Iteration history: two hand-made versions of "mini" with events; the spec diff names the
changed screen and element, and the change in that screen's numbers sits next to it."""

from __future__ import annotations

import json

import pytest
from test_usability import _run, _session
from typer.testing import CliRunner

from cli import app as cli_app
from insights.history import HistoryRow, IterationHistory, iteration_history
from prototypes.diff import spec_diff
from tests.fixtures import MINI_PROTOTYPE, write_jsonl, write_prototype

# v2 relabels the shop's checkout button and adds a hint: the shop is where v1 lost people
V2 = """\
versions:
  - {version: 1, note: First pilot}
  - version: 2
    note: Clearer checkout
    elements:
      - {screen: shop, replace: pay, element: {type: button, id: pay, label: {de: Jetzt kaufen, en: Buy now}, target: done}}
      - {screen: shop, after: body, element: {type: text, id: tip, text: {de: Hier bezahlen, en: Pay here}}}
"""  # noqa: E501
SUCCESS = ((21, "task_success", None), [(1, "start"), (11, "shop"), (21, "done")])
GIVE_UP = ((31, "task_abandon", None), [(1, "start"), (11, "shop")])


def _rows(version: int, runs) -> list[dict]:
    rows = []
    for end, screens, misclicks in runs:
        for e in _session([tuple(s) for s in _run(end, screens, misclicks=misclicks)]):
            rows.append(e | {"prototype_version": version})
    return rows


@pytest.fixture
def history_lab(lab):
    from feedback.ingest import ingest

    write_prototype(lab, text=MINI_PROTOTYPE + V2)
    # v1: 1 of 4 succeeds, 3 give up on shop with 2 misclicks there each
    v1 = [(*SUCCESS, ())] + [(*GIVE_UP, [(12, "shop"), (13, "shop")])] * 3
    # v2: 3 of 4 succeed, 1 gives up on shop without a misclick
    v2 = [(*SUCCESS, ())] * 3 + [(*GIVE_UP, ())]
    write_jsonl(lab.spool_dir / "h.jsonl", _rows(1, v1) + _rows(2, v2))
    assert ingest(lab).rejected == 0
    return lab


def test_spec_diff_names_the_changed_screen_and_elements(history_lab) -> None:
    from prototypes.library import load_lab_prototype

    proto = load_lab_prototype(history_lab, "mini")
    (diff,) = spec_diff(proto.resolve(1), proto.resolve(2))
    assert (diff.screen, diff.change) == ("shop", "changed")
    assert diff.elements_changed == ("pay",) and diff.elements_added == ("tip",)
    assert diff.describe() == "shop changed: 'pay' changed, 'tip' added"
    assert spec_diff(proto.resolve(2), proto.resolve(2)) == ()


def test_the_metric_change_sits_next_to_the_spec_change(history_lab) -> None:
    history = iteration_history(history_lab, "mini")
    assert history.versions == (1, 2) and history.sessions == {1: 4, 2: 4}
    shop = history.screen("shop")
    assert shop.changes[2].elements_changed == ("pay",)
    assert shop.numbers[1]["drop_off_rate"] == pytest.approx(3 / 4)
    assert shop.numbers[2]["drop_off_rate"] == pytest.approx(1 / 4)
    assert shop.deltas[2]["drop_off_rate"] == pytest.approx(-0.5)
    assert shop.deltas[2]["misclicks"] == -6
    assert 2 not in history.screen("start").changes  # unchanged screens carry no spec change
    (task,) = history.tasks
    assert task.deltas[2]["success"] == pytest.approx(0.5)
    back = IterationHistory.from_dict(json.loads(json.dumps(history.to_dict())))
    assert back == history and isinstance(back.screens[0], HistoryRow)


def test_cli_json_and_text(history_lab) -> None:
    runner = CliRunner()
    lab = str(history_lab.root)
    out = runner.invoke(cli_app, ["report", "history", "mini", "--lab", lab, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["diffs"]["2"][0]["describe"] == "shop changed: 'pay' changed, 'tip' added"
    shop = next(r for r in d["screens"] if r["name"] == "shop")
    assert shop["changes"]["2"]["screen"] == "shop" and shop["deltas"]["2"]["misclicks"] == -6
    text = runner.invoke(
        cli_app, ["report", "history", "mini", "--lab", lab], env={"COLUMNS": "220"}
    ).output
    assert "Δ spec: shop changed: 'pay' changed, 'tip' added" in text
    assert "drop_off_rate 25% (-50.0 pp)" in text
    page = history_lab.root / "out" / "h.html"
    out = runner.invoke(cli_app, ["report", "history", "mini", "--lab", lab, "--html", str(page)])
    assert out.exit_code == 0, out.output
    html = page.read_text(encoding="utf-8")
    assert "Δ spec: shop changed: &#x27;pay&#x27; changed, &#x27;tip&#x27; added" in html
    assert "drop_off_rate 25% (-50.0 pp)" in html and 'id="history"' in html
    bad = runner.invoke(cli_app, ["report", "history", "nope", "--lab", lab])
    assert bad.exit_code != 0 and "Traceback" not in bad.output and "nope" in bad.output


def test_dashboard_history_page_preselects_the_prototype(history_lab, monkeypatch) -> None:

    from tests.test_reports_app import all_text, dashboard_page

    write_prototype(history_lab, "alpha")  # sorts first: the query param must pick "mini"
    at = dashboard_page(history_lab, monkeypatch, "history", prototype="mini")
    assert not at.exception, at.exception
    assert at.selectbox(key="history_prototype").value == "mini"
    text = all_text(at)
    assert "History" in text and "shop changed: 'pay' changed, 'tip' added" in text
    screens = next(m.value for m in at.markdown if "<td>shop</td>" in str(m.value))
    shop_v2 = screens.split("<td>shop</td>", 1)[1].split("</tr>", 1)[0].split("<td>")[2]
    assert shop_v2.startswith("Δ spec: shop changed") and "(-50.0 pp)" in shop_v2
