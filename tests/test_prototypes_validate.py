"""Validation: every kind of problem is reported with its message, spec path and line."""

from __future__ import annotations

import pytest

from errors import SpecError, StorelabError
from prototypes.check_files import MAX_ASSET_BYTES, MAX_MODULE_BYTES
from prototypes.library import load_prototype
from prototypes.problems import Problem
from prototypes.validate import MAX_SPEC_BYTES, validate_file
from tests.fixtures import MINI_PROTOTYPE  # noqa: E402

GOOD = MINI_PROTOTYPE


def write(tmp_path, text: str, name: str = "prototype.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def only(problems: list[Problem], kind: str) -> Problem:
    found = [p for p in problems if p.kind == kind]
    assert len(found) == 1, problems
    return found[0]


def check(tmp_path, text: str, kind: str) -> Problem:
    return only(validate_file(write(tmp_path, text)), kind)


def test_good_spec_is_valid(tmp_path):
    assert validate_file(write(tmp_path, GOOD)) == []
    proto = load_prototype(tmp_path / "prototype.yaml")
    assert proto.variant_names() == ["control", "treatment"]


def test_yaml_syntax_error_has_its_line(tmp_path):
    text = GOOD.replace("  - id: shop\n", "  - id: shop\n   bad: [oops\n")
    p = check(tmp_path, text, "yaml")
    assert "YAML syntax error" in p.message
    assert p.line in (line_of(text, "bad: [oops"), line_of(text, "bad: [oops") + 1)


def test_duplicate_yaml_key(tmp_path):
    text = GOOD.replace("phase: purchase\n", "phase: purchase\nphase: advice\n")
    p = check(tmp_path, text, "duplicate_key")
    assert p.line == line_of(text, "phase: advice") and p.path == "phase"
    assert "first on line 3" in p.message


def test_unknown_key_with_suggestion(tmp_path):
    text = GOOD.replace("target: shop}", "target: shop, lable: x}")
    p = check(tmp_path, text, "unknown_key")
    assert p.path == "screens[0].elements[1].lable"
    assert p.message == "unknown key 'lable' (did you mean 'label'?)"
    assert p.line == line_of(text, "lable: x")


def test_wrong_type(tmp_path):
    text = GOOD.replace("touchpoint: kiosk", "touchpoint: billboard")
    p = check(tmp_path, text, "type")
    assert p.path == "touchpoint" and p.line == 4
    assert "'kiosk', 'phone' or 'associate-tablet'" in p.message and "billboard" in p.message


def test_plain_string_where_a_translated_text_is_needed(tmp_path):
    text = GOOD.replace("text: {de: Laden, en: Shop}", "text: Laden")
    p = check(tmp_path, text, "type")
    assert p.path == "screens[1].elements[0].text" and p.line == line_of(text, "text: Laden")
    assert "text per language" in p.message and "plain string" in p.message


def test_missing_required_key(tmp_path):
    text = GOOD.replace("label: {de: Kasse, en: Checkout}, ", "")
    p = check(tmp_path, text, "missing_key")
    assert p.path == "screens[1].elements[1].label"
    assert p.message == "missing required key 'label'"
    assert p.line == line_of(text, "id: pay")


def test_unknown_element_type(tmp_path):
    text = GOOD.replace("{type: text, id: body", "{type: paragraf, id: body")
    p = check(tmp_path, text, "type")
    assert p.path == "screens[1].elements[0]" and p.line == line_of(text, "paragraf")
    assert "unknown element type 'paragraf'" in p.message and "product_card" in p.message


def test_link_to_a_missing_screen(tmp_path):
    text = GOOD.replace("target: done}", "target: dnoe}")
    problems = validate_file(write(tmp_path, text))
    p = [p for p in problems if p.kind == "broken_link"][0]
    assert p.path == "screens[1].elements[1].target" and p.line == line_of(text, "target: dnoe")
    assert "links to screen 'dnoe', which does not exist" in p.message
    assert "did you mean 'done'" in p.message


def test_unreachable_screen(tmp_path):
    text = GOOD.replace(
        "      - {type: button, id: pay, label: {de: Kasse, en: Checkout}, target: done}\n", ""
    )
    problems = validate_file(write(tmp_path, text))
    p = only(problems, "unreachable")
    assert p.path == "screens[2]" and p.line == line_of(text, "- id: done")
    assert "screen 'done' cannot be reached from the start screen 'start'" in p.message


def test_task_goal_unreachable(tmp_path):
    # the task starts on 'done', from where only 'start' and 'shop' can be reached ...
    text = GOOD.replace("start_screen: start", "start_screen: done").replace(
        "goal_screens: [done]", "goal_screens: [done2]"
    )
    p = [p for p in validate_file(write(tmp_path, text)) if p.kind == "task"][0]
    assert p.path == "tasks[0].goal_screens[0]" and "'done2', which does not exist" in p.message
    # ... and a goal that exists but lies behind a one-way door
    text = (
        GOOD.replace("target: start}", "target: done}")
        .replace(
            "start_screen: start\n    goal_screens: [done]",
            "start_screen: done\n    goal_screens: [shop]",
        )
        .replace("expected_path: [start, shop, done]", "expected_path: [done, shop]")
    )
    problems = validate_file(write(tmp_path, text))
    p = [p for p in problems if p.kind == "task"][0]
    assert p.path == "tasks[0].goal_screens" and p.line == line_of(text, "goal_screens: [shop]")
    assert "no goal screen (shop) can be reached from its start screen 'done'" in p.message


def test_expected_path_must_follow_links(tmp_path):
    text = GOOD.replace("expected_path: [start, shop, done]", "expected_path: [start, done]")
    p = check(tmp_path, text, "task")
    assert p.path == "tasks[0].expected_path[1]" and p.line == line_of(text, "expected_path:")
    assert "nothing on screen 'start' leads to 'done'" in p.message


def test_missing_translation(tmp_path):
    text = GOOD.replace("label: {de: Nochmal, en: Again}", "label: {de: Nochmal}")
    p = check(tmp_path, text, "translation")
    assert p.path == "screens[2].elements[1].label" and p.line == line_of(text, "Nochmal")
    assert "missing translation for 'en'" in p.message


def test_missing_translation_for_an_extra_locale(tmp_path):
    text = GOOD.replace("touchpoint: kiosk\n", "touchpoint: kiosk\nlocales: [de, en, fr]\n")
    problems = validate_file(write(tmp_path, text))
    assert problems and all(p.kind == "translation" for p in problems)
    title = [p for p in problems if p.path == "title"][0]
    assert title.line == 2 and "'fr'" in title.message
    assert any("built-in seq has no text in fr" in p.message for p in problems)


def _with_image(src: str) -> str:
    return GOOD.replace(
        "      - {type: text, id: body, text: {de: Laden, en: Shop}}\n",
        "      - {type: text, id: body, text: {de: Laden, en: Shop}}\n"
        f"      - {{type: image, id: pic, src: '{src}', alt: {{de: Bild, en: Picture}}}}\n",
    )


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("../outside.png", "is outside the prototype folder"),
        ("assets/missing.png", "image 'assets/missing.png' is missing"),
        ("https://cdn.example.com/a.png", "is a URL"),
        ("/etc/passwd.png", "is an absolute path"),
        ("assets/notes.txt", "is not an image file"),
    ],
)
def test_bad_image_paths(tmp_path, src, message):
    folder = tmp_path / "proto"
    folder.mkdir()
    (tmp_path / "outside.png").write_bytes(b"\x89PNG")
    text = _with_image(src)
    p = check(folder, text, "asset")
    assert p.path == "screens[1].elements[1].src" and p.line == line_of(text, "id: pic")
    assert message in p.message


def test_image_inside_the_folder_is_fine_and_too_large_is_not(tmp_path):
    (tmp_path / "assets").mkdir()
    image = tmp_path / "assets" / "jacket.png"
    image.write_bytes(b"\x89PNG")
    text = _with_image("assets/jacket.png")
    assert validate_file(write(tmp_path, text)) == []
    with image.open("r+b") as fh:
        fh.truncate(MAX_ASSET_BYTES + 1)
    p = check(tmp_path, text, "too_large")
    assert "at most 5 MB" in p.message and p.line == line_of(text, "id: pic")


def test_spec_too_large(tmp_path):
    text = GOOD + "# " + "x" * MAX_SPEC_BYTES + "\n"
    p = check(tmp_path, text, "too_large")
    assert p.line == 1 and "at most 1 MB" in p.message


def test_duplicate_element_id(tmp_path):
    text = GOOD.replace("{type: text, id: body", "{type: text, id: pay")
    p = check(tmp_path, text, "duplicate_id")
    assert p.path == "screens[1].elements[1].id" and p.line == line_of(text, "id: pay", 2)
    assert "element id 'pay' is used twice on screen 'shop'" in p.message


def test_duplicate_element_id_added_by_a_variant(tmp_path):
    text = GOOD.replace("element: {type: text, id: hint", "element: {type: text, id: pay")
    p = check(tmp_path, text, "duplicate_id")
    assert p.path == "variants.treatment.elements[0].element.id"
    assert p.line == line_of(text, "screen: shop, after: body")
    assert "(in version 1, variant treatment)" in p.message


def test_variant_change_names_a_missing_element(tmp_path):
    text = GOOD.replace("after: body", "after: bdoy")
    p = check(tmp_path, text, "variant")
    assert p.path == "variants.treatment.elements[0].after"
    assert "screen 'shop' has no element 'bdoy'" in p.message
    assert p.line == line_of(text, "after: bdoy")


def test_versions_must_be_numbered_in_order(tmp_path):
    text = GOOD + "versions:\n  - {version: 1}\n  - {version: 3, note: skipped}\n"
    p = check(tmp_path, text, "version")
    assert p.path == "versions[1].version" and p.line == line_of(text, "version: 3")
    assert "expected 2, got 3" in p.message


def test_seq_needs_a_task_and_a_real_one(tmp_path):
    text = GOOD.replace("{instrument: seq, after_task: buy}", "{instrument: seq}")
    p = check(tmp_path, text, "invalid")
    assert p.path == "questions[0]" and "after_task" in p.message
    assert p.line == line_of(text, "{instrument: seq}")
    text = GOOD.replace("after_task: buy", "after_task: sell")
    p = check(tmp_path, text, "question")
    assert p.path == "questions[0].after_task" and "there is no task 'sell'" in p.message


def test_control_is_reserved(tmp_path):
    text = GOOD.replace("  treatment:\n", "  control:\n")
    p = check(tmp_path, text, "variant")
    assert p.path == "variants.control" and p.line == line_of(text, "control:")


def test_every_problem_is_reported_at_once_in_line_order(tmp_path):
    text = (
        GOOD.replace("touchpoint: kiosk", "touchpoint: kiosk\ncolor: red")
        .replace("label: {de: Weiter, en: Next}", "label: {de: Weiter}")
        .replace("expected_path: [start, shop, done]", "expected_path: [start, done]")
    )
    path = write(tmp_path, text)
    problems = validate_file(path)
    assert [p.kind for p in problems] == ["unknown_key", "translation"]  # structure first
    fixed = text.replace("\ncolor: red", "")
    path.write_text(fixed, encoding="utf-8")
    problems = validate_file(path)
    assert [p.kind for p in problems] == ["translation", "task"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    with pytest.raises(SpecError) as info:
        load_prototype(path)
    err = info.value
    assert isinstance(err, StorelabError) and err.exit_code == 1
    lines = str(err).splitlines()
    assert lines[0].endswith("has 2 problems:")
    assert lines[1] == (
        f"{path}:{line_of(fixed, 'Weiter')}: screens[0].elements[1].label: "
        "missing translation for 'en' (this prototype's locales: de, en)"
    )
    assert lines[2].startswith(f"{path}:{line_of(fixed, 'expected_path')}: tasks[0].expected_path")


def test_structure_errors_still_report_translations_and_links_of_valid_parts(tmp_path):
    text = (
        GOOD.replace("phase: purchase", "phase: buying")
        .replace("label: {de: Nochmal, en: Again}", "label: {de: Nochmal}")
        .replace("target: done}", "target: nowhere}")
    )
    kinds = {p.kind for p in validate_file(write(tmp_path, text))}
    assert kinds == {"type", "translation", "broken_link"}


def test_missing_file_and_non_mapping(tmp_path):
    assert validate_file(tmp_path / "nope.yaml")[0].kind == "missing_file"
    p = check(tmp_path, "- just\n- a list\n", "type")
    assert "a spec is a mapping" in p.message and p.line == 1


# --- custom screens ---------------------------------------------------------------------------

ADVISOR_PY = "def render(api):\n    api.button('Done', target='done')\n"


def _with_custom(
    module: str = "advisor.py", function: str = "render", targets: str = "[done]"
) -> str:
    """GOOD plus a custom screen 'advisor' (start → advisor → done) the task goes through."""
    return (
        GOOD.replace(
            "      - {type: button, id: go, label: {de: Weiter, en: Next}, target: shop}\n",
            "      - {type: button, id: go, label: {de: Weiter, en: Next}, target: shop}\n"
            "      - {type: button, id: ask, label: {de: Beraten, en: Advise}, target: advisor}\n",
        )
        .replace(
            "  - id: done\n",
            "  - id: advisor\n"
            "    title: {de: Berater, en: Advisor}\n"
            "    custom:\n"
            f"      module: {module}\n"
            f"      function: {function}\n"
            f"      targets: {targets}\n"
            "  - id: done\n",
        )
        .replace("expected_path: [start, shop, done]", "expected_path: [start, advisor, done]")
    )


def _custom_folder(tmp_path, source: str = ADVISOR_PY):
    folder = tmp_path / "proto"
    folder.mkdir(parents=True)
    (folder / "advisor.py").write_text(source, encoding="utf-8")
    return folder


def test_custom_screen_is_valid_and_its_targets_are_links(tmp_path):
    folder = _custom_folder(tmp_path)
    text = _with_custom()
    assert validate_file(write(folder, text)) == []
    view = load_prototype(folder).resolve()
    advisor = view.screens["advisor"]
    assert advisor.elements == [] and advisor.custom.module == "advisor.py"
    assert view.links("advisor") == [("custom.done", "done")]
    assert "advisor" in view.reachable()


def test_validation_never_runs_the_custom_module(tmp_path):
    marker = tmp_path / "ran.txt"
    source = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n\n" + ADVISOR_PY
    folder = _custom_folder(tmp_path, source)
    assert validate_file(write(folder, _with_custom())) == []
    assert not marker.exists()


def test_screen_needs_elements_or_custom(tmp_path):
    text = GOOD.replace(
        "      - {type: banner, id: ok, text: {de: Fertig, en: Done}, tone: success}\n"
        "      - {type: button, id: again, label: {de: Nochmal, en: Again}, target: start}\n",
        "",
    ).replace("  - id: done\n    elements:\n", "  - id: done\n    elements: []\n")
    p = check(tmp_path, text, "invalid")
    assert p.path == "screens[2].elements" and p.line == line_of(text, "elements: []")
    assert "at least one element, or 'custom: {module: …}'" in p.message


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("missing.py", "custom screen module 'missing.py' is missing"),
        ("../outside.py", "leaves the prototype folder ('..')"),
        ("sub/../../outside.py", "leaves the prototype folder ('..')"),
        ("/tmp/advisor.py", "is an absolute path"),
        ("https://example.com/a.py", "is a URL"),
        ("notes.txt", "is not a Python file"),
    ],
)
def test_bad_custom_module_paths(tmp_path, module, message):
    folder = _custom_folder(tmp_path)
    (tmp_path / "outside.py").write_text(ADVISOR_PY, encoding="utf-8")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    text = _with_custom(module=f"'{module}'")
    p = check(folder, text, "asset")
    assert p.path == "screens[2].custom.module" and p.line == line_of(text, "module: ")
    assert message in p.message


def test_custom_module_too_large(tmp_path):
    folder = _custom_folder(tmp_path, ADVISOR_PY + "#" * MAX_MODULE_BYTES + "\n")
    text = _with_custom()
    p = check(folder, text, "too_large")
    assert p.path == "screens[2].custom.module" and p.line == line_of(text, "module: advisor.py")
    assert "at most 256 kB" in p.message


def test_custom_function_must_exist_in_the_module(tmp_path):
    folder = _custom_folder(tmp_path)
    text = _with_custom(function="draw")
    p = check(folder, text, "custom")
    assert p.path == "screens[2].custom.function" and p.line == line_of(text, "function: draw")
    assert "'advisor.py' has no top-level function 'draw' (defined there: render)" in p.message


def test_custom_module_with_a_syntax_error(tmp_path):
    folder = _custom_folder(tmp_path, "def render(api)\n    pass\n")
    text = _with_custom()
    p = check(folder, text, "custom")
    assert p.path == "screens[2].custom.module" and p.line == line_of(text, "module: advisor.py")
    assert "'advisor.py' line 1: Python syntax error" in p.message


def test_custom_function_name_must_be_an_identifier(tmp_path):
    folder = _custom_folder(tmp_path)
    text = _with_custom(function="size-advisor")
    p = check(folder, text, "invalid")
    assert p.path == "screens[2].custom.function"
    assert p.line == line_of(text, "function: size-advisor")
    assert "'size-advisor' is not a Python function name" in p.message


def test_custom_targets_must_be_screens(tmp_path):
    folder = _custom_folder(tmp_path)
    text = _with_custom(targets="[done, dnoe]")
    p = check(folder, text, "broken_link")
    assert p.path == "screens[2].custom.targets[1]" and p.line == line_of(text, "targets: [")
    assert "links to screen 'dnoe', which does not exist" in p.message
    assert "did you mean 'done'" in p.message


def test_unknown_key_in_custom(tmp_path):
    folder = _custom_folder(tmp_path)
    text = _with_custom().replace("      function: render\n", "      funtion: render\n")
    p = check(folder, text, "unknown_key")
    assert p.path == "screens[2].custom.funtion" and p.line == line_of(text, "funtion: render")
    assert p.message == "unknown key 'funtion' (did you mean 'function'?)"


def test_variant_may_replace_a_screen_by_a_custom_one(tmp_path):
    folder = _custom_folder(tmp_path)
    variant = (
        "  treatment:\n"
        "    screens:\n"
        "      - id: shop\n"
        "        custom: {module: advisor.py, targets: [done]}\n"
    )
    text = GOOD.replace(GOOD[GOOD.index("  treatment:\n") :], variant)
    assert validate_file(write(folder, text)) == []
    view = load_prototype(folder).resolve(None, "treatment")
    assert view.screens["shop"].custom.function == "render"
    assert view.links("shop") == [("custom.done", "done")]
    # a variant that removes a custom screen's target breaks that link in the variant only
    text = _with_custom() + "    remove_screens: [done]\n"
    problems = validate_file(write(_custom_folder(tmp_path / "v"), text))
    p = [p for p in problems if p.path == "screens[2].custom.targets[0]"][0]
    assert p.kind == "broken_link" and p.line == line_of(text, "targets: [done]")
    assert p.message.endswith("(in version 1, variant treatment)")
