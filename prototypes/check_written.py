"""Checks on the spec as written: translations, duplicate ids, numbering, links, named files.

These look at each part where it is written (the base, every variant, every ``versions:``
entry), before any version or variant is resolved: every customer-facing text has each of the
prototype's ``locales``, ids are unique where events need them to be, versions are numbered
1, 2, 3 …, no variant is called ``control``, and images and custom screen modules are checked
(``prototypes.check_files``). When the whole spec could not be read, links are checked against
the screen ids that could (``CheckContext.screen_ids``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from feedback.catalogue import CATALOGUE
from prototypes.asks import Option
from prototypes.changes import Changes
from prototypes.check_files import asset_problems, custom_module_problems
from prototypes.custom_screen import CustomScreen
from prototypes.elements import Image, Screen
from prototypes.fields import LocalizedText
from prototypes.problems import Locator, Problem, join_path
from prototypes.spec import BASE_VARIANT, Prototype
from prototypes.tasks import QuestionSpec


@dataclass(frozen=True)
class CheckContext:
    """What the checks on a written part need besides the part itself."""

    where: Locator
    folder: Path
    """The prototype folder: image files and custom screen modules are looked up in it."""
    locales: tuple[str, ...]
    """The prototype's locales: every customer-facing text needs each of them."""
    screen_ids: frozenset[str] | None = None
    """When given, links are checked against these screens (the spec did not fully parse)."""


def written_problems(root: Any, prefix: str, ctx: CheckContext) -> list[Problem]:
    """Every problem in ``root`` (a prototype or a part of one, written at ``prefix``)."""
    problems: list[Problem] = []
    for path, obj in _walk(root, prefix):
        problems += _part_problems(obj, path, ctx)
        if isinstance(obj, Prototype):
            problems += _prototype_problems(obj, ctx.where)
    return problems


def broken_link_message(target: str, screen_ids: Iterable[str]) -> str:
    """What to say about a link to ``target``, which is not one of ``screen_ids``."""
    ids = list(screen_ids)
    hint = difflib.get_close_matches(target, ids, n=1)
    extra = f"; did you mean '{hint[0]}'?" if hint else ""
    return (
        f"links to screen '{target}', which does not exist "
        f"(screens: {', '.join(sorted(ids))}){extra}"
    )


def _walk(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every model and text in ``obj`` with its spec path."""
    if isinstance(obj, LocalizedText):
        yield path, obj
    elif isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), join_path(path, name))
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _walk(item, join_path(path, i))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk(value, join_path(path, key))


def _part_problems(obj: Any, path: str, ctx: CheckContext) -> list[Problem]:
    """The checks for one model or text, by its kind."""
    if isinstance(obj, LocalizedText):
        return _translation_problems(obj, path, ctx)
    if isinstance(obj, Image) and obj.src is not None:
        return asset_problems(obj.src, join_path(path, "src"), ctx.where, ctx.folder)
    if isinstance(obj, Screen):
        return _screen_problems(obj, path, ctx)
    if isinstance(obj, CustomScreen):
        return custom_module_problems(obj, path, ctx.where, ctx.folder)
    if isinstance(obj, QuestionSpec):
        return _built_in_text_problems(obj, path, ctx)
    if isinstance(obj, Option) and obj.image is not None:
        return asset_problems(obj.image, join_path(path, "image"), ctx.where, ctx.folder)
    if isinstance(obj, Changes | Prototype):
        return _duplicate_screens_and_tasks(obj, path, ctx.where)
    return []


def _translation_problems(text: LocalizedText, path: str, ctx: CheckContext) -> list[Problem]:
    missing = [loc for loc in ctx.locales if loc not in text]
    if not missing:
        return []
    return [
        ctx.where.problem(
            path,
            f"missing translation for {', '.join(repr(m) for m in missing)} "
            f"(this prototype's locales: {', '.join(ctx.locales)})",
            "translation",
        )
    ]


def _screen_problems(screen: Screen, path: str, ctx: CheckContext) -> list[Problem]:
    problems = _duplicates(
        [e.id for e in screen.elements],
        f"{path}.elements",
        f"element id '{{id}}' is used twice on screen '{screen.id}' (first at {{first}}); "
        "events name elements by id, so ids must be unique per screen",
        ctx.where,
    )
    if ctx.screen_ids is not None:
        for sub, target in _screen_link_paths(screen):
            if target not in ctx.screen_ids:
                problems.append(
                    ctx.where.problem(
                        f"{path}.{sub}",
                        broken_link_message(target, ctx.screen_ids),
                        "broken_link",
                    )
                )
    return problems


def _screen_link_paths(screen: Screen) -> Iterator[tuple[str, str]]:
    """(spec path below the screen, target screen) for every link of the screen."""
    for j, el in enumerate(screen.elements):
        for _, target, sub in el.link_targets():
            yield f"elements[{j}].{sub}", target
    if screen.custom is not None:
        for k, target in enumerate(screen.custom.targets):
            yield f"custom.targets[{k}]", target


def _built_in_text_problems(question: QuestionSpec, path: str, ctx: CheckContext) -> list[Problem]:
    """A built-in wording must exist in every locale unless the spec rewords it."""
    for item in CATALOGUE.instrument(question.instrument).items:
        text = question.text or item.text
        missing = [loc for loc in ctx.locales if loc not in text]
        if missing and question.text is None:
            return [
                ctx.where.problem(
                    path,
                    f"the built-in {question.instrument} has no text in "
                    f"{', '.join(missing)}; available: de, en",
                    "translation",
                )
            ]
    return []


def _duplicate_screens_and_tasks(
    obj: Changes | Prototype, path: str, where: Locator
) -> list[Problem]:
    problems = _duplicates(
        [s.id for s in obj.screens],
        f"{path}.screens" if path else "screens",
        "screen id '{id}' is used twice (first at {first})",
        where,
    )
    problems += _duplicates(
        [t.id for t in obj.tasks],
        f"{path}.tasks" if path else "tasks",
        "task id '{id}' is used twice (first at {first})",
        where,
    )
    return problems


def _prototype_problems(proto: Prototype, where: Locator) -> list[Problem]:
    """Locales listed twice, versions out of order, a variant named like the base."""
    problems = _duplicates(
        list(proto.locales), "locales", "locale '{id}' is listed twice", where, field=None
    )
    for i, entry in enumerate(proto.versions):
        if entry.version != i + 1:
            problems.append(
                where.problem(
                    f"versions[{i}].version",
                    f"versions are numbered 1, 2, 3 … in order: expected {i + 1}, "
                    f"got {entry.version}",
                    "version",
                )
            )
    names = list(proto.variants)
    for entry in proto.versions:
        names += list(entry.variants or {})
    if BASE_VARIANT in names:
        problems.append(
            where.problem(
                f"variants.{BASE_VARIANT}",
                f"'{BASE_VARIANT}' is the name of the base; give the variant "
                "another name (e.g. treatment)",
                "variant",
            )
        )
    return problems


def _duplicates(
    ids: list[str], list_path: str, template: str, where: Locator, field: str | None = "id"
) -> list[Problem]:
    """A problem for each id that repeats an earlier one in the list at ``list_path``."""
    problems = []
    first: dict[str, str] = {}
    for i, value in enumerate(ids):
        item_path = f"{list_path}[{i}]"
        if value in first:
            path = f"{item_path}.{field}" if field else item_path
            problems.append(
                where.problem(path, template.format(id=value, first=first[value]), "duplicate_id")
            )
        else:
            first[value] = item_path
    return problems


__all__ = ["CheckContext", "broken_link_message", "written_problems"]
