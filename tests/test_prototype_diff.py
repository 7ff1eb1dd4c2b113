"""``storelab prototype diff ID OLD NEW`` and the identical-arms check of ``experiment new``:
what changed between two versions or a variant and its base, by content, not file names."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from errors import InvalidInputError
from prototypes.commands import app
from prototypes.diff import view_diff
from prototypes.library import comparison_for, load_lab_prototype
from prototypes.scaffold import add_version, new_prototype
from tests.fixtures import MINI_PROTOTYPE, write_prototype


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_diff_of_a_variant_names_screens_elements_texts_and_tasks(lab) -> None:
    new_prototype(lab, "cc", "click-and-collect")
    result = run("diff", "cc", "1", "1:treatment", "--lab", str(lab.root))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cc: version 1 → version 1, variant treatment"
    assert "  screen cart changed: 'checkout' changed, 'other-delivery' added" in lines
    store = lab.stores_csv.read_text(encoding="utf-8").splitlines()[1].split(",")[1]
    assert f"    cart/checkout: label “Zur Kasse” → “Heute in {store} abholen”" in lines
    assert "    cart/checkout: target: delivery → slot" in lines
    assert any("task:order-pickup: expected_path: cart, delivery, slot" in x for x in lines)

    new_prototype(lab, "sg", "scan-and-go")
    data = json.loads(
        run("diff", "sg", "1", "1:treatment", "--json", "--lab", str(lab.root)).stdout
    )
    assert data["same"] is False and data["id"] == "sg"
    assert [(s["screen"], s["change"]) for s in data["screens"]] == [
        ("cart", "changed"),
        ("pay", "removed"),
    ]
    assert data["screens"][0]["elements_added"] == ["sheet"]


def test_a_new_version_is_the_same_until_it_changes_something(lab) -> None:
    new_prototype(lab, "sg", "scan-and-go")
    spec = lab.prototypes_dir / "sg" / "prototype.yaml"
    add_version(spec)
    result = run("diff", "sg", "1", "2", "--lab", str(lab.root))
    assert result.exit_code == 0
    assert result.output.strip() == (
        "sg: version 1 → version 2: the same (nothing a customer sees or is asked differs)."
    )
    assert json.loads(run("diff", "sg", "1", "2", "--json", "--lab", str(lab.root)).stdout)["same"]
    with pytest.raises(InvalidInputError, match="Version 2 of sg is the same as version 1"):
        comparison_for(lab, "sg")

    # a changed text is a change: the versions differ, and experiment new may compare them
    with spec.open("a", encoding="utf-8") as f:
        f.write(
            "    elements:\n"
            "      - screen: start\n"
            "        replace: begin\n"
            "        element: {type: button, id: begin, target: scan,"
            " label: {de: Los geht's, en: Let's go}}\n"
        )
    proto = load_lab_prototype(lab, "sg")
    diff = view_diff(proto.resolve(1), proto.resolve(2))
    assert not diff.empty
    assert diff.lines("de") == [
        "screen start changed: 'begin' changed",
        "  start/begin: label “Einkauf starten” → “Los geht's”",
    ]
    assert comparison_for(lab, "sg").what == "version 2 of sg against version 1"


def test_a_variant_that_changes_nothing_is_refused_naming_where_to_change_it(lab) -> None:
    text = MINI_PROTOTYPE.replace("id: mini", "id: p")
    text = text[: text.index("variants:")] + "variants:\n  treatment:\n    note: Bigger\n"
    write_prototype(lab, "p", text)
    with pytest.raises(InvalidInputError) as caught:
        comparison_for(lab, "p")
    message = str(caught.value)
    assert "The treatment variant of p is the same as its base" in message
    assert "'variants: treatment:'" in message and "\n" not in message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("x", "2", "'x' is not a version: write a number like 2, or 1:treatment"),
        ("1", "7", "has no version 7"),
        ("1", "1:nope", "has no variant 'nope'"),
    ],
)
def test_diff_of_something_that_does_not_exist_is_one_line(lab, old, new, message) -> None:
    new_prototype(lab, "sg", "scan-and-go")
    result = run("diff", "sg", old, new, "--lab", str(lab.root))
    text = result.output + str(result.exception or "")
    assert result.exit_code != 0 and message in text
