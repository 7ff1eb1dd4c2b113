"""Prototype spec: templates load and resolve, views follow links, scaffolding and versions."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from errors import InvalidInputError, SpecError, StorelabError
from feedback.catalogue import CATALOGUE
from prototypes.library import load_prototype
from prototypes.scaffold import ANSWERS_FILE, add_version, new_prototype
from prototypes.spec import BASE_VARIANT, PHASES, TOUCHPOINTS, Prototype
from prototypes.templates import list_templates, template_ids, template_path
from prototypes.validate import validate_file
from tests.fixtures import MINI_PROTOTYPE, new_lab

REQUIRED_TEMPLATES = {
    "scan-and-discover",
    "wishlist-alert",
    "click-and-collect",
    "reserve-and-try",
    "endless-aisle",
    "personal-recommendation",
    "easy-returns",
    "feedback-kiosk",
    # issue 15: the journeys the seed articles centre on
    "scan-and-go",
    "associate-tablet",
    "order-follow-up",
    "poster-to-app",
    "personal-greeting",
}
EVENT_QUESTION_IDS = {
    "seq",
    *(f"sus.q{i}" for i in range(1, 11)),
    "umux_lite.q1",
    "umux_lite.q2",
    "nps",
    "csat",
    "ces",
    "comment",
}
ALL_TEMPLATES = template_ids()


def _walk_expected_path(view, task) -> None:
    """The expected path starts at the task start, ends on a goal, and follows real links."""
    path = task.expected_path
    assert path[0] == task.start_screen
    assert path[-1] in task.goal_screens
    for a, b in zip(path, path[1:], strict=False):
        targets = {target for _, target in view.links(a)}
        assert b in targets, f"{view.id} {view.variant}: no link {a} -> {b}"


# --- templates --------------------------------------------------------------------------------


def test_list_templates_shows_phase_touchpoint_journey_break_and_variants():
    rows = list_templates()
    assert {r["id"] for r in rows} >= REQUIRED_TEMPLATES
    assert len(rows) >= 13
    for row in rows:
        assert set(row) == {"id", "title", "phase", "touchpoint", "journey_break", "variants",
                            "variant_notes", "tasks"}  # fmt: skip
        proto = load_prototype(template_path(row["id"]))
        assert row["phase"] in PHASES and row["touchpoint"] in TOUCHPOINTS
        assert row["title"] == proto.title["en"]
        assert row["journey_break"] == proto.journey_break["en"]
        assert set(proto.journey_break) == {"de", "en"}
        # every template has an A/B variant to compare with its base
        assert row["variants"] == proto.variant_names() and len(row["variants"]) >= 2
        assert row["variant_notes"] == {n: v.note for n, v in proto.variants.items()}
        assert all(row["variant_notes"].values()), "say what each variant changes"
        assert row["tasks"] == [t.id for t in proto.tasks]
    # listed along the customer journey
    positions = [PHASES.index(r["phase"]) for r in rows]
    assert positions == sorted(positions)
    touchpoints = {r["touchpoint"] for r in rows}
    assert touchpoints == set(TOUCHPOINTS)


def test_unknown_template_names_the_valid_ones():
    with pytest.raises(InvalidInputError, match="scan-and-discover"):
        template_path("scan-and-disco")


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_template_is_a_complete_valid_prototype(template):
    path = template_path(template)
    assert validate_file(path) == []
    proto = load_prototype(path)
    assert proto.id == template
    assert proto.locales == ["de", "en"]
    base = proto.resolve()
    assert 4 <= len(base.screens) <= 8
    assert base.tasks, "every template needs a task"
    instruments = {q.instrument for q in base.questions}
    assert "seq" in instruments and "comment" in instruments
    assert instruments & {"sus", "umux_lite", "nps", "csat", "ces"}
    task_ids = {t.id for t in base.tasks}
    assert all(q.after_task in task_ids for q in base.questions if q.instrument == "seq")
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert "lorem" not in text.lower()


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_template_resolves_for_every_version_and_variant(template):
    proto = load_prototype(template_path(template))
    for version in proto.version_numbers:
        for variant in proto.variant_names(version):
            view = proto.resolve(version=version, variant=variant)
            assert view.version == version and view.variant == variant
            assert view.start_screen in view.screens
            assert view.reachable() == set(view.screens)
            for task in view.tasks:
                _walk_expected_path(view, task)
            for q in view.questions:
                # a standard instrument's item id, or a question of the template's own
                assert q.id in EVENT_QUESTION_IDS or q.custom is not None
                assert set(q.text) == {"de", "en"}
            for screen in view.screens.values():
                ids = [e.id for e in screen.elements]
                assert len(ids) == len(set(ids))


def test_scan_and_discover_treatment_shows_nearby_sizes_on_the_product_screen():
    proto = load_prototype(template_path("scan-and-discover"))
    assert proto.variant_names() == [BASE_VARIANT, "treatment"]
    control = proto.resolve()
    treatment = proto.resolve(variant="treatment")
    control_ids = [e.id for e in control.screens["product"].elements]
    treatment_ids = [e.id for e in treatment.screens["product"].elements]
    assert "nearby-sizes" not in control_ids
    assert treatment_ids.index("nearby-sizes") == treatment_ids.index("size") + 1
    assert len(treatment.task("find-size").expected_path) < len(
        control.task("find-size").expected_path
    )
    # the base is untouched by resolving a variant
    assert [e.id for e in proto.resolve().screens["product"].elements] == control_ids


# --- view API ---------------------------------------------------------------------------------


def test_view_exposes_the_interface_contract():
    view = load_prototype(template_path("scan-and-discover")).resolve()
    assert view.id == "scan-and-discover" and view.version == 1 and view.variant == "control"
    assert view.title == {"de": "Scannen und entdecken", "en": "Scan and discover"}
    assert view.start_screen == "scan"
    assert list(view.screens)[:2] == ["scan", "product"]
    assert view.links("scan") == [("scanner", "product")]
    task = view.tasks[0]
    assert (task.id, task.start_screen, task.goal_screens) == (
        "find-size",
        "scan",
        ["availability"],
    )
    assert task.expected_path == ["scan", "product", "availability"]
    assert set(task.prompt) == {"de", "en"}
    seq = view.questions[0]
    assert (seq.id, seq.after_task, seq.scale) == ("seq", "find-size", (1, 7))
    assert [q.id for q in view.questions_after(None)] == [
        "umux_lite.q1",
        "umux_lite.q2",
        "csat",
        "comment",
    ]
    comment = view.questions[-1]
    assert comment.scale is None


def test_product_grid_items_are_links_named_grid_dot_item():
    view = load_prototype(template_path("easy-returns")).resolve()
    assert ("items.nordkap", "reason") in view.links("order")


def test_instruments_expand_to_the_event_question_ids():
    sus = CATALOGUE.instruments["sus"]
    assert [i.id for i in sus.items] == [f"sus.q{i}" for i in range(1, 11)]
    assert sus.scale == (1, 5)
    assert sus.items[0].text["de"] == "Ich denke, dass ich das System gerne häufig benutzen würde."
    assert sus.items[1].text["en"] == "I found the system unnecessarily complex."
    assert [i.id for i in CATALOGUE.instruments["umux_lite"].items] == [
        "umux_lite.q1",
        "umux_lite.q2",
    ]
    assert CATALOGUE.instruments["umux_lite"].scale == (1, 7)
    assert CATALOGUE.instruments["nps"].scale == (0, 10)
    assert CATALOGUE.instruments["csat"].scale == (1, 5)
    assert CATALOGUE.instruments["ces"].scale == (1, 7)
    assert CATALOGUE.instruments["seq"].scale == (1, 7)
    for inst in CATALOGUE.instruments.values():
        for item in inst.items:
            assert item.text["de"] and item.text["en"] and item.text["de"] != item.text["en"]


def test_reworded_nps_keeps_its_question_id():
    view = load_prototype(template_path("feedback-kiosk")).resolve()
    nps = next(q for q in view.questions if q.id == "nps")
    assert "{{store.name}}" in nps.text["de"] and nps.scale == (0, 10)


def test_resolve_rejects_unknown_version_and_variant():
    proto = load_prototype(template_path("scan-and-discover"))
    with pytest.raises(InvalidInputError, match="versions: 1"):
        proto.resolve(version=7)
    with pytest.raises(InvalidInputError, match="control, treatment"):
        proto.resolve(variant="nope")


def test_models_are_frozen():
    proto = load_prototype(template_path("scan-and-discover"))
    with pytest.raises(ValueError):
        proto.id = "other"
    with pytest.raises(ValueError):
        proto.screens[0].id = "other"


def _mini(extra: str = "") -> Prototype:
    """MINI_PROTOTYPE without its variant, plus ``extra`` top-level keys."""
    base = MINI_PROTOTYPE[: MINI_PROTOTYPE.index("variants:")]
    return Prototype.model_validate(yaml.safe_load(base + textwrap.dedent(extra)))


def test_element_changes_replace_remove_insert():
    proto = _mini(
        """\
        variants:
          layout:
            elements:
              - {screen: start, before: head, element: {type: text, id: pre, text: {de: x, en: x}}}
              - {screen: start, after: go, element: {type: text, id: post, text: {de: y, en: y}}}
              - {screen: start, remove: head}
              - screen: shop
                replace: body
                element: {type: heading, id: body, text: {de: Neu, en: New}}
        """
    )
    view = proto.resolve(variant="layout")
    assert [e.id for e in view.screens["start"].elements] == ["pre", "go", "post"]
    assert view.screens["shop"].element("body").type == "heading"
    assert [e.id for e in proto.resolve().screens["start"].elements] == ["head", "go"]


def test_sus_expands_to_ten_questions_at_the_end():
    text = MINI_PROTOTYPE.replace("- {instrument: nps}", "- {instrument: sus}")
    view = Prototype.model_validate(yaml.safe_load(text)).resolve()
    assert [q.id for q in view.questions] == ["seq", *(f"sus.q{i}" for i in range(1, 11))]
    assert all(q.after_task is None and q.scale == (1, 5) for q in view.questions[1:])


def test_versions_chain_and_full_snapshots():
    proto = _mini(
        """\
        versions:
          - {version: 1, note: base}
          - version: 2
            note: new start
            screens:
              - id: c
                elements:
                  - {type: button, id: go, label: {de: Los, en: Go}, target: start}
            start_screen: c
          - version: 3
            mode: full
            note: rebuilt
            screens:
              - id: z
                elements: [{type: text, id: t, text: {de: Z, en: Z}}]
            questions: []
        """
    )
    assert proto.current_version == 3 and proto.version_numbers == [1, 2, 3]
    assert list(proto.resolve(1).screens) == ["start", "shop", "done"]
    v2 = proto.resolve(2)
    assert list(v2.screens) == ["start", "shop", "done", "c"] and v2.start_screen == "c"
    assert v2.questions == proto.resolve(1).questions
    v3 = proto.resolve()
    assert v3.version == 3 and list(v3.screens) == ["z"] and v3.questions == []


# --- scaffold ---------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_scaffold_every_template_then_validate(lab, template):
    path = new_prototype(lab, f"my-{template}", template)
    assert path == lab.prototypes_dir / f"my-{template}" / "prototype.yaml"
    assert validate_file(path) == []
    text = path.read_text(encoding="utf-8")
    # {{persona.…}} stays: the runtime fills it for each session's persona
    assert "{{" not in re.sub(r"\{\{persona\.[a-z_]+\}\}", "", text), "every placeholder is filled"
    proto = load_prototype(path)
    assert proto.id == f"my-{template}"
    template_text = template_path(template).read_text(encoding="utf-8")
    if "{{store.name}}" in template_text:
        first_store = (lab.stores_csv.read_text(encoding="utf-8").splitlines()[1]).split(",")[1]
        assert first_store in text
    answers = yaml.safe_load((path.parent / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert answers["template"] == template
    assert re.fullmatch(r"[0-9a-f]{64}", answers["template_sha256"])
    assert answers["template_version"] == 1
    assert answers["answers"]["id"] == f"my-{template}"
    assert answers["storelab_version"] and answers["created"]


def test_scaffold_keeps_comments_and_applies_locale_and_title(lab):
    path = new_prototype(lab, "scan-pos", "scan-and-discover", locale="en", title='Scan: "now"')
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Scan and discover")
    proto = load_prototype(path)
    assert proto.locales == ["en", "de"]
    assert proto.title == {"en": 'Scan: "now"', "de": 'Scan: "now"'}


def test_scaffold_fills_placeholders_from_stores_csv_with_quotes(tmp_path):
    lab = new_lab(tmp_path / "lab")
    lab.stores_csv.write_text(
        "store_id,name,city,region,format,size_sqm\n"
        'S07,"Kaufhaus ""Am Markt"": Mitte",Köln,West,city,1200\n',
        encoding="utf-8",
    )
    path = new_prototype(lab, "kiosk", "feedback-kiosk")
    view = load_prototype(path).resolve()
    assert 'Kaufhaus "Am Markt": Mitte' in view.screens["welcome"].element("intro").text["de"]


@pytest.mark.parametrize(
    ("pid", "template", "message"),
    [
        ("Scan_POS", "scan-and-discover", "not a valid prototype id"),
        (
            "scan-pos",
            "no-such-template",
            "Templates: wishlist-alert, personal-greeting, scan-and-discover",
        ),
        ("scan-pos", "../lab", "There is no template"),
    ],
)
def test_scaffold_rejects_bad_input(lab, pid, template, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        new_prototype(lab, pid, template)
    assert not (lab.prototypes_dir / pid).exists()


def test_scaffold_refuses_an_existing_id_and_unknown_locale(lab):
    new_prototype(lab, "scan-pos", "scan-and-discover")
    with pytest.raises(InvalidInputError, match="already exists"):
        new_prototype(lab, "scan-pos", "easy-returns")
    with pytest.raises(InvalidInputError, match="not 'fr'"):
        new_prototype(lab, "other", "easy-returns", locale="fr")


# --- versions ---------------------------------------------------------------------------------


def test_version_bump_keeps_v1_and_starts_v2_equal(lab):
    path = new_prototype(lab, "scan-pos", "scan-and-discover")
    assert add_version(path, note="Sizes first") == 2
    proto = load_prototype(path)
    assert proto.version_numbers == [1, 2] and proto.current_version == 2
    v1, v2 = proto.resolve(version=1), proto.resolve()
    assert v2.version == 2 and v1.version == 1
    assert v1.screens == v2.screens and v1.tasks == v2.tasks and v1.questions == v2.questions
    assert proto.versions[-1].note == "Sizes first"
    # edit version 2 only: v1 stays as it was
    text = path.read_text(encoding="utf-8") + textwrap.indent(
        textwrap.dedent(
            """\
            elements:
              - screen: scan
                replace: title
                element: {type: heading, id: title, text: {de: Jetzt scannen, en: Scan now}}
            """
        ),
        "    ",
    )
    path.write_text(text, encoding="utf-8")
    proto = load_prototype(path)
    assert proto.resolve(1).screens["scan"].element("title").text["en"] == "More about this item"
    assert proto.resolve(2).screens["scan"].element("title").text["en"] == "Scan now"
    assert proto.resolve(1, "treatment").screens["scan"] == proto.resolve(1).screens["scan"]
    assert add_version(path) == 3
    assert load_prototype(path).resolve(3).screens == load_prototype(path).resolve(2).screens


def test_version_bump_without_versions_list_and_with_versions_not_last(tmp_path):
    spec = tmp_path / "p" / "prototype.yaml"
    spec.parent.mkdir()
    spec.write_text(MINI_PROTOTYPE, encoding="utf-8")
    assert add_version(spec.parent, note="second") == 2
    assert load_prototype(spec).version_numbers == [1, 2]
    # versions in the middle of the file, followed by other keys and a comment
    moved = MINI_PROTOTYPE.replace(
        "tasks:",
        "versions:\n  - version: 1\n    note: base  # first\n\n# tasks below\ntasks:",
    )
    spec.write_text(moved, encoding="utf-8")
    assert add_version(spec, note="x") == 2
    text = spec.read_text(encoding="utf-8")
    assert "note: base  # first\n  - version: 2\n" in text
    assert "# tasks below" in text
    assert load_prototype(spec).resolve(2).tasks == load_prototype(spec).resolve(1).tasks


def test_version_bump_refuses_an_invalid_spec(tmp_path):
    spec = tmp_path / "prototype.yaml"
    spec.write_text(MINI_PROTOTYPE.replace("target: shop}", "target: nowhere}"), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        add_version(spec)
    assert isinstance(info.value, StorelabError) and info.value.exit_code == 1
    assert "nowhere" in str(info.value)
    assert "versions" not in spec.read_text(encoding="utf-8")


def test_load_prototype_accepts_a_folder(tmp_path):
    folder = tmp_path / "mini"
    folder.mkdir()
    (folder / "prototype.yaml").write_text(MINI_PROTOTYPE, encoding="utf-8")
    proto = load_prototype(folder)
    assert proto.path == (folder / "prototype.yaml").resolve()
    assert isinstance(proto.path, Path)
