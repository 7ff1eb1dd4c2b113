"""Variants and versions: changes on top of the base, and how they are applied.

``versions:`` entries (``VersionSpec``) and variants (``VariantSpec``) hold the same kinds of
``Changes``: screens to replace, add or remove, single elements to change (``ElementChange``),
tasks, questions. ``Draft`` is the working copy a version or variant is resolved in;
``apply_changes`` applies one entry to it and records, instead of raising, every change that
names something missing, so the validator can report them all with their spec paths.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, model_validator

from prototypes.asks import AnyQuestionSpec
from prototypes.elements import Element, Screen
from prototypes.fields import Id, LocalizedText, SpecModel
from prototypes.tasks import Task


class ElementChange(SpecModel):
    """Change one element of a screen: ``replace``, ``remove``, or insert ``before``/``after``."""

    screen: Id
    replace: Id | None = None
    remove: Id | None = None
    before: Id | None = None
    after: Id | None = None
    element: Element | None = None

    @model_validator(mode="after")
    def _one_operation(self) -> ElementChange:
        ops = [k for k in ("replace", "remove", "before", "after") if getattr(self, k) is not None]
        if len(ops) != 1:
            raise ValueError(
                "say exactly one of 'replace', 'remove', 'before' or 'after' (an element id)"
            )
        if ops[0] == "remove" and self.element is not None:
            raise ValueError("'remove' takes no 'element'")
        if ops[0] != "remove" and self.element is None:
            raise ValueError(f"'{ops[0]}' needs the new 'element'")
        return self

    @property
    def operation(self) -> tuple[str, str]:
        """(operation, element id) of this change."""
        for k in ("replace", "remove", "before", "after"):
            if getattr(self, k) is not None:
                return k, getattr(self, k)
        raise AssertionError("validated: exactly one operation")


class Changes(SpecModel):
    """Changes on top of what came before; what is not mentioned stays as it was.

    ``screens`` replace the screen with the same id (keeping its place) or are added at the end;
    ``elements`` change single elements; ``tasks`` replace by id or are added; ``questions``
    replaces the whole question list.
    """

    note: str | None = None
    title: LocalizedText | None = None
    start_screen: Id | None = None
    screens: list[Screen] = Field(default_factory=list)
    remove_screens: list[Id] = Field(default_factory=list)
    elements: list[ElementChange] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    remove_tasks: list[Id] = Field(default_factory=list)
    questions: list[AnyQuestionSpec] | None = None


class VariantSpec(Changes):
    """A variant (e.g. ``treatment``): changes to the resolved version it runs on."""


class VersionSpec(Changes):
    """One entry of ``versions:``. Version 1 is the base; version n+1 starts as a copy of n.

    ``mode: override`` (default) changes the previous version; ``mode: full`` is a complete
    snapshot: its screens, tasks, questions and variants replace those before it.
    """

    version: int = Field(ge=1)
    date: dt.date | None = None
    mode: Literal["override", "full"] = "override"
    variants: dict[Id, VariantSpec] | None = None


# --- applying changes -------------------------------------------------------------------------


def origin_key(kind: str, *ids: str) -> str:
    """Key of ``Draft.origins``: ``screen:<id>``, ``element:<screen>/<id>``, ``task:<id>``,
    ``variant:<name>``."""
    return f"{kind}:" + "/".join(ids)


@dataclass
class Draft:
    """Working copy while changes are applied, with the spec path each part came from and
    (spec path, message, kind) for every change that could not be applied."""

    title: dict[str, str]
    start_screen: str | None
    start_origin: str
    screens: dict[str, Screen]
    tasks: dict[str, Task]
    questions: list[AnyQuestionSpec]
    questions_origin: str
    variants: dict[str, VariantSpec]
    origins: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    def set_screen(self, screen: Screen, path: str) -> None:
        """Put ``screen`` in (replacing the one with its id, in place) as written at ``path``."""
        self.screens[screen.id] = screen
        self.origins[origin_key("screen", screen.id)] = path
        for j, el in enumerate(screen.elements):
            self.origins[origin_key("element", screen.id, el.id)] = f"{path}.elements[{j}]"

    def set_task(self, task: Task, path: str) -> None:
        """Put ``task`` in (replacing the one with its id, in place) as written at ``path``."""
        self.tasks[task.id] = task
        self.origins[origin_key("task", task.id)] = path


def apply_changes(draft: Draft, changes: Changes, prefix: str) -> None:
    """Apply one variant's or version's changes (written at ``prefix``) to the draft in place."""
    full = isinstance(changes, VersionSpec) and changes.mode == "full"
    if full:
        draft.screens.clear()
        draft.tasks.clear()
    if changes.title is not None:
        draft.title = dict(changes.title)
    if changes.start_screen is not None:
        draft.start_screen = changes.start_screen
        draft.start_origin = f"{prefix}.start_screen"
    for i, sid in enumerate(changes.remove_screens):
        if draft.screens.pop(sid, None) is None:
            draft.problems.append(
                (
                    f"{prefix}.remove_screens[{i}]",
                    f"there is no screen '{sid}' to remove",
                    "variant",
                )
            )
    for i, screen in enumerate(changes.screens):
        draft.set_screen(screen, f"{prefix}.screens[{i}]")
    for i, change in enumerate(changes.elements):
        _apply_element_change(draft, change, f"{prefix}.elements[{i}]")
    for i, tid in enumerate(changes.remove_tasks):
        if draft.tasks.pop(tid, None) is None:
            draft.problems.append(
                (f"{prefix}.remove_tasks[{i}]", f"there is no task '{tid}' to remove", "variant")
            )
    for i, task in enumerate(changes.tasks):
        draft.set_task(task, f"{prefix}.tasks[{i}]")
    if changes.questions is not None:
        draft.questions = list(changes.questions)
        draft.questions_origin = f"{prefix}.questions"
    if isinstance(changes, VersionSpec) and changes.variants is not None:
        if full:
            draft.variants.clear()
        for name, variant in changes.variants.items():
            draft.variants[name] = variant
            draft.origins[origin_key("variant", name)] = f"{prefix}.variants.{name}"


def _apply_element_change(draft: Draft, change: ElementChange, path: str) -> None:
    screen = draft.screens.get(change.screen)
    if screen is None:
        draft.problems.append(
            (f"{path}.screen", f"there is no screen '{change.screen}'", "variant")
        )
        return
    op, target_id = change.operation
    ids = [e.id for e in screen.elements]
    if target_id not in ids:
        draft.problems.append(
            (
                f"{path}.{op}",
                f"screen '{change.screen}' has no element '{target_id}' "
                f"(elements: {', '.join(ids)})",
                "variant",
            )
        )
        return
    at = ids.index(target_id)
    new_id = change.element.id if change.element is not None else None
    if new_id is not None and new_id in ids and not (op == "replace" and new_id == target_id):
        draft.problems.append(
            (
                f"{path}.element.id",
                f"element id '{new_id}' already exists on screen '{change.screen}'; "
                "events name elements by id, so ids must be unique per screen",
                "duplicate_id",
            )
        )
        return
    elements = list(screen.elements)
    if op == "replace":
        elements[at] = change.element
    elif op == "remove":
        del elements[at]
    elif op == "before":
        elements.insert(at, change.element)
    else:
        elements.insert(at + 1, change.element)
    draft.screens[screen.id] = screen.model_copy(update={"elements": elements})
    if change.element is not None:
        draft.origins[origin_key("element", screen.id, change.element.id)] = f"{path}.element"


__all__ = [
    "Changes",
    "Draft",
    "ElementChange",
    "VariantSpec",
    "VersionSpec",
    "apply_changes",
    "origin_key",
]
