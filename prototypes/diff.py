"""What changed between two resolved views of a prototype (two versions, or a variant and its
base): pure, over ``PrototypeView`` content, never file names.

``spec_diff`` gives the screens and elements that differ (``ScreenDiff``; the iteration history
of ``insights.history`` shows them next to the metrics). ``view_diff`` gives everything
``storelab prototype diff`` shows and ``experiment new`` checks before comparing two arms:
title, start screen, screens, elements with the fields that changed (texts with their old and
new wording), tasks and questions. ``SpecDiff.empty`` means the two arms are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prototypes.spec import PrototypeView


@dataclass(frozen=True)
class ScreenDiff:
    """How one screen changed from one version to the next (``change``: added | removed |
    changed); for a changed screen the element ids added, removed or changed and whether its
    title changed."""

    screen: str
    change: str
    elements_added: tuple[str, ...] = ()
    elements_removed: tuple[str, ...] = ()
    elements_changed: tuple[str, ...] = ()
    title_changed: bool = False

    def describe(self) -> str:
        """One line, e.g. ``reserve changed: button 'go' changed, 'hint' added``."""
        if self.change != "changed":
            return f"{self.screen} {self.change}"
        parts = [f"{e!r} changed" for e in self.elements_changed]
        parts += [f"{e!r} added" for e in self.elements_added]
        parts += [f"{e!r} removed" for e in self.elements_removed]
        if self.title_changed:
            parts.append("title changed")
        return f"{self.screen} changed: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return {
            "screen": self.screen,
            "change": self.change,
            "elements_added": list(self.elements_added),
            "elements_removed": list(self.elements_removed),
            "elements_changed": list(self.elements_changed),
            "title_changed": self.title_changed,
            "describe": self.describe(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> ScreenDiff:
        return cls(
            d["screen"],
            d["change"],
            tuple(d["elements_added"]),
            tuple(d["elements_removed"]),
            tuple(d["elements_changed"]),
            d["title_changed"],
        )


def spec_diff(old: PrototypeView, new: PrototypeView) -> tuple[ScreenDiff, ...]:
    """Screens and elements that differ between two resolved versions (pure; spec order of the
    new version, removed screens last)."""
    out = []
    for sid, screen in new.screens.items():
        before = old.screens.get(sid)
        if before is None:
            out.append(ScreenDiff(sid, "added"))
            continue
        was = {e.id: e.model_dump() for e in before.elements}
        now = {e.id: e.model_dump() for e in screen.elements}
        diff = ScreenDiff(
            sid,
            "changed",
            elements_added=tuple(e for e in now if e not in was),
            elements_removed=tuple(e for e in was if e not in now),
            elements_changed=tuple(e for e in now if e in was and was[e] != now[e]),
            title_changed=before.title != screen.title or before.custom != screen.custom,
        )
        if diff != ScreenDiff(sid, "changed"):  # something in it changed
            out.append(diff)
    out += [ScreenDiff(sid, "removed") for sid in old.screens if sid not in new.screens]
    return tuple(out)


# --- the whole diff: ``prototype diff`` and identical arms ------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field of an element or task that changed; a text shows its old and new wording."""

    where: str
    """``screen/element`` or ``task:<id>``."""
    field: str
    old: Any
    new: Any

    @property
    def is_text(self) -> bool:
        """True for a text per language (``{de: …, en: …}``)."""
        return all(
            isinstance(v, dict) and v and all(isinstance(t, str) for t in v.values())
            for v in (self.old, self.new)
        )

    def describe(self, locale: str | None = None) -> str:
        """``cart/basket: checkout “Zur Kasse” → “Bezahlen”``, ``… target: pay → exit``."""
        what = f"{self.where}: {self.field}"
        if self.old is None or self.new is None:
            return f"{what} {'added' if self.old is None else 'removed'}"
        if self.is_text:
            lang = locale if locale in self.old and locale in self.new else next(iter(self.new))
            return f"{what} “{self.old.get(lang, '')}” → “{self.new.get(lang, '')}”"
        if all(isinstance(v, str | int | float) for v in (self.old, self.new)):
            return f"{what}: {self.old} → {self.new}"
        if all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in (self.old, self.new)
        ):
            return f"{what}: {', '.join(self.old)} → {', '.join(self.new)}"
        return f"{what} changed"

    def to_dict(self) -> dict:
        return {"where": self.where, "field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class SpecDiff:
    """Everything that differs between two views (``old`` and ``new`` name them)."""

    old: str
    new: str
    title_changed: bool = False
    start_screen: tuple[str, str] | None = None
    screens: tuple[ScreenDiff, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    tasks_added: tuple[str, ...] = ()
    tasks_removed: tuple[str, ...] = ()
    questions: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    """(old, new) question ids when the questions differ."""

    @property
    def empty(self) -> bool:
        """True when the two views show and ask exactly the same."""
        return not (
            self.title_changed
            or self.start_screen
            or self.screens
            or self.fields
            or self.tasks_added
            or self.tasks_removed
            or self.questions
        )

    def lines(self, locale: str | None = None) -> list[str]:
        """What changed, one line each, for the terminal."""
        out = []
        if self.title_changed:
            out.append("title changed")
        if self.start_screen:
            out.append(f"start screen: {self.start_screen[0]} → {self.start_screen[1]}")
        for d in self.screens:
            out.append(f"screen {d.describe()}")
            prefix = f"{d.screen}/"
            out += [f"  {f.describe(locale)}" for f in self.fields if f.where.startswith(prefix)]
        out += [f.describe(locale) for f in self.fields if f.where.startswith("task:")]
        out += [f"task {t} added" for t in self.tasks_added]
        out += [f"task {t} removed" for t in self.tasks_removed]
        if self.questions:
            was, now = self.questions
            out.append(f"questions: {', '.join(was) or '–'} → {', '.join(now) or '–'}")
        return out

    def to_dict(self) -> dict:
        return {
            "old": self.old,
            "new": self.new,
            "same": self.empty,
            "title_changed": self.title_changed,
            "start_screen": list(self.start_screen) if self.start_screen else None,
            "screens": [d.to_dict() for d in self.screens],
            "fields": [f.to_dict() for f in self.fields],
            "tasks_added": list(self.tasks_added),
            "tasks_removed": list(self.tasks_removed),
            "questions": [list(q) for q in self.questions] if self.questions else None,
        }


def label(view: PrototypeView) -> str:
    """``version 2`` or ``version 1, variant treatment``."""
    if view.variant == "control":
        return f"version {view.version}"
    return f"version {view.version}, variant {view.variant}"


def _field_changes(where: str, old: dict, new: dict) -> list[FieldChange]:
    keys = list(dict.fromkeys([*new, *old]))
    return [FieldChange(where, k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def view_diff(old: PrototypeView, new: PrototypeView) -> SpecDiff:
    """Everything that differs between two resolved views (pure)."""
    screens = spec_diff(old, new)
    fields: list[FieldChange] = []
    for d in screens:
        if d.change != "changed":
            continue
        was = {e.id: e.model_dump(exclude_none=True) for e in old.screens[d.screen].elements}
        now = {e.id: e.model_dump(exclude_none=True) for e in new.screens[d.screen].elements}
        for eid in d.elements_changed:
            fields += _field_changes(f"{d.screen}/{eid}", was[eid], now[eid])
    old_tasks = {t.id: t.model_dump(exclude_none=True) for t in old.tasks}
    new_tasks = {t.id: t.model_dump(exclude_none=True) for t in new.tasks}
    for tid, task in new_tasks.items():
        if tid in old_tasks and old_tasks[tid] != task:
            fields += _field_changes(f"task:{tid}", old_tasks[tid], task)
    was_q = tuple(f"{q.id}@{q.after_task or 'end'}" for q in old.questions)
    now_q = tuple(f"{q.id}@{q.after_task or 'end'}" for q in new.questions)
    texts_q = [q.text for q in old.questions] != [q.text for q in new.questions]
    return SpecDiff(
        old=label(old),
        new=label(new),
        title_changed=old.title != new.title,
        start_screen=(old.start_screen, new.start_screen)
        if old.start_screen != new.start_screen
        else None,
        screens=screens,
        fields=tuple(fields),
        tasks_added=tuple(t for t in new_tasks if t not in old_tasks),
        tasks_removed=tuple(t for t in old_tasks if t not in new_tasks),
        questions=(was_q, now_q) if was_q != now_q or texts_q else None,
    )


__all__ = ["FieldChange", "ScreenDiff", "SpecDiff", "label", "spec_diff", "view_diff"]
