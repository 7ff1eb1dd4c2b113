"""Checks on personas, context and handover as written: every ``when`` names declared things.

A ``when`` condition may only name a declared persona (or ``anonymous``), a segment some
persona has, and a declared context variable with one of its values; a screen's ``otherwise``
and every ``entry_screens`` screen must exist, and an entry screen needs a ``code_entry``
keypad. Each problem is reported at the line of the condition, like every other spec problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from feedback.events import CONTEXT_PROP, PERSONA_PROP
from prototypes.elements import CodeEntry, Screen
from prototypes.personas import ANONYMOUS
from prototypes.problems import Locator, Problem, join_path
from prototypes.spec import Prototype


def profile_problems(proto: Prototype, where: Locator) -> list[Problem]:
    """Every ``when``, ``otherwise`` and entry screen of ``proto`` that names something the
    spec does not declare."""
    problems: list[Problem] = []
    screens: dict[str, Screen] = {}
    for path, obj in _models(proto, ""):
        if isinstance(obj, Screen):
            screens.setdefault(obj.id, obj)
        when = getattr(obj, "when", None)
        if when:
            for key, values in when.items():
                message = _condition_problem(proto, key, values)
                if message:
                    problems.append(where.problem(join_path(join_path(path, "when"), key),
                                                  message, "invalid"))  # fmt: skip
    for path, obj in _models(proto, ""):
        if isinstance(obj, Screen) and obj.otherwise and obj.otherwise not in screens:
            problems.append(
                where.problem(
                    join_path(path, "otherwise"), _no_screen(obj.otherwise, screens), "broken_link"
                )  # fmt: skip
            )
    for device, screen_id in proto.entry_screens.items():
        path = join_path("entry_screens", device)
        screen = screens.get(screen_id)
        if screen is None:
            problems.append(where.problem(path, _no_screen(screen_id, screens), "broken_link"))
        elif not any(isinstance(e, CodeEntry) for e in screen.elements):
            problems.append(
                where.problem(
                    path,
                    f"entry screen '{screen_id}' has no code_entry element: the {device} needs "
                    "the keypad to enter the code the other device shows",
                    "invalid",
                )
            )
    return problems


def _condition_problem(proto: Prototype, key: str, values: list[str]) -> str | None:
    """What is wrong with one condition (None when nothing is)."""
    if key == PERSONA_PROP:
        allowed, what = [ANONYMOUS, *proto.personas], "persona"
    elif key == f"{PERSONA_PROP}.segment":
        allowed = sorted({p.segment for p in proto.personas.values()})
        what = "segment"
        if not allowed:
            return "the spec declares no personas, so no segment can match (add 'personas:')"
    else:
        name = key.removeprefix(f"{CONTEXT_PROP}.")
        variable = proto.context.get(name)
        if variable is None:
            declared = ", ".join(proto.context) or "none"
            return (
                f"unknown context variable '{name}' (declared under 'context:': {declared})"
                + _hint(name, list(proto.context))
            )
        allowed, what = list(variable.values), f"value of {name}"
    for value in values:
        if value not in allowed:
            return f"unknown {what} '{value}' (allowed: {', '.join(allowed)})" + _hint(
                value, allowed
            )
    return None


def _hint(value: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _no_screen(target: str, screens: dict[str, Screen]) -> str:
    return (
        f"names screen '{target}', which does not exist (screens: {', '.join(sorted(screens))})"
        + _hint(target, list(screens))
    )


def _models(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every model inside ``obj`` with its spec path (base, variants and versions alike)."""
    if isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            if name not in ("personas", "context"):
                yield from _models(getattr(obj, name), join_path(path, name))
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _models(item, join_path(path, i))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _models(value, join_path(path, key))


__all__ = ["profile_problems"]
